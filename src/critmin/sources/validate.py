"""Validation at the door, in one place for every reader: the checks each column declares
in ``catalog/schema.csv`` (its ``check`` field), applied to Arrow data in the canonical
schema. Every rejected row is counted under the first check it fails, with examples.

Checks: ``year`` (within critmin's accepted range), ``period`` (a year ``2024`` or a month
``2024-03`` within that range), ``country`` (a known ISO3), ``mineral`` (a known slug),
``hs6`` (six digits, and a known product unless any code is accepted), ``material`` (a
known mineral slug or an ``hs6``), ``nonneg`` (present, finite, not negative), ``fraction``
(within [0, 1]), ``mass_unit`` (one of :data:`MASS_UNITS`), ``currency`` (an ISO 4217 code:
three capital letters). ``<check>_or_missing`` accepts a missing value and applies the
check to the others. A key column without a check must be present.

A checked number is also refused above a physical bound (:data:`PLAUSIBLE_MAX` by unit,
:data:`PLAUSIBLE_MAX_IN_CURRENCY` for an amount in a stated currency), so one absurd row can
neither overflow a sum to infinity nor swamp every figure it enters.

>>> import pyarrow as pa
>>> from critmin.sources.coverage import Coverage
>>> data = pa.table({"year": [2023, 3000], "country": ["IND", "IND"], "wgi_pv": [0.1, 0.2],
...                  "risk": [0.5, 0.4]})
>>> cov = Coverage("demo", rows_read=2)
>>> validate("governance", data, Known(frozenset({"IND"})), cov).num_rows, cov.dropped
(1, {'year out of range (1950-2026)': 1})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from critmin import schema
from critmin.checks import YEAR_MIN, year_max
from critmin.sources.coverage import Coverage

NOUNS = {"qty_t": "quantity", "value_kusd": "value", "risk": "risk"}
"""How a numeric column is named in a drop reason ("negative quantity")."""

MASS_UNITS = {"t": 1.0, "kg": 1e-3, "g": 1e-6, "lb": 0.45359237e-3}
"""Mass units a user table may state its quantities in, in tonnes per unit."""

OR_MISSING = "_or_missing"

PLAUSIBLE_MAX = {"t": 1e10, "kUSD": 1e10, "USD": 1e13}
"""Largest plausible value of one row (a year of one flow, one country's production, one
purchase), by unit. 1e10 t is half of everything the world mines in a year, all materials
and fuels together (2.0e10 t in 2024 by the bundled World Mining Data), and 2.6 times the
largest quantity in the bundled data (China's steam coal, 3.9e9 t in 2024; the largest flow,
Australia's iron ore to China, is 7.6e8 t). 1e13 USD (1e10 kUSD) is about 40 % of the
world's merchandise trade in a year (WTO: 2.4e13 USD in 2023) and 85 times the largest flow
in the bundled data (Canada's crude oil to the United States, 1.2e11 USD in 2022). A
quantity in another mass unit is converted to tonnes first (:data:`MASS_UNITS`). Stocks
(reserves) are not bounded."""
PLAUSIBLE_MAX_IN_CURRENCY = 1e16
"""Largest plausible amount in a stated currency (a purchase's value), which is not
converted: 1e10 USD in the currency with the most units per US dollar (the Iranian rial,
about a million), so generous on purpose in any other."""


@dataclass(frozen=True)
class Known:
    """The reference sets a row is checked against."""

    countries: frozenset[str]
    products: frozenset[str] | None = None
    """Accepted HS-6 codes; None accepts any six-digit code."""
    minerals: frozenset[str] = frozenset()


def _mask(array: Any) -> np.ndarray:
    return np.asarray(pc.fill_null(array, True).to_numpy(zero_copy_only=False), dtype=bool)


def _present(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), dtype=bool)


def _matches(column: pa.ChunkedArray, pattern: str) -> Any:
    return pc.match_substring_regex(column.cast(pa.string()), pattern)


def _failures(check: str, column: pa.ChunkedArray, name: str, known: Known
              ) -> list[tuple[str, np.ndarray]]:
    """(reason, failing rows) pairs of one check, in the order they are tested."""
    if check.endswith(OR_MISSING):
        present = _present(column)
        return [(reason, rows & present) for reason, rows in
                _failures(check.removesuffix(OR_MISSING), column, name, known)]
    if check == "period":
        text = column.cast(pa.string())
        malformed = pc.invert(_matches(text, r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$"))
        year = pc.cast(pc.utf8_slice_codeunits(pc.if_else(malformed, "0000", text), 0, 4),
                       pa.int32())
        first, last = YEAR_MIN, year_max()
        outside = pc.or_(pc.less(year, first), pc.greater(year, last))
        return [("malformed period (not YYYY or YYYY-MM)", _mask(malformed)),
                (f"period out of range ({first}-{last})", _mask(outside))]
    if check == "material":
        text = column.cast(pa.string())
        mineral = pc.is_in(text, pa.array(sorted(known.minerals), pa.string()))
        code = _matches(text, r"^[0-9]{6}$")
        if known.products is not None:
            code = pc.and_(code, pc.is_in(text, pa.array(sorted(known.products), pa.string())))
        return [("unknown material (neither a mineral nor a product)",
                 _mask(pc.invert(pc.or_(mineral, code))))]
    if check == "mass_unit":
        unknown = pc.invert(pc.is_in(column.cast(pa.string()), pa.array(list(MASS_UNITS))))
        return [(f"unknown {name} (not {', '.join(MASS_UNITS)})", _mask(unknown))]
    if check == "currency":
        return [(f"malformed {name} (not an ISO 4217 code)",
                 _mask(pc.invert(_matches(column, r"^[A-Z]{3}$"))))]
    if check == "year":
        first, last = YEAR_MIN, year_max()
        outside = pc.or_(pc.less(column, first), pc.greater(column, last))
        return [(f"year out of range ({first}-{last})", _mask(outside))]
    if check in ("country", "mineral"):
        allowed = known.countries if check == "country" else known.minerals
        unknown = pc.invert(pc.is_in(column.cast(pa.string()), pa.array(sorted(allowed))))
        return [(f"unknown {check} code" if check == "country" else "unknown mineral",
                 _mask(unknown))]
    if check == "hs6":
        text = column.cast(pa.string())
        bad = pc.invert(pc.match_substring_regex(text, r"^[0-9]{6}$"))
        if known.products is not None:
            bad = pc.or_(bad, pc.invert(pc.is_in(text, pa.array(sorted(known.products)))))
        return [("unknown product", _mask(bad))]
    noun = NOUNS.get(name, name)
    values = column.cast(pa.float64())
    out = []
    if check == "nonneg":
        out.append((f"missing {noun}", _mask(pc.is_null(values))))
    infinite = pc.or_(pc.is_nan(values), pc.is_inf(values))
    out.append((f"non-finite {noun}", np.asarray(
        pc.fill_null(infinite, False).to_numpy(zero_copy_only=False), dtype=bool)))
    negative = np.asarray(pc.fill_null(pc.less(values, 0.0), False).to_numpy(
        zero_copy_only=False), dtype=bool)
    out.append((f"negative {noun}", negative))
    if check == "fraction":
        above = np.asarray(pc.fill_null(pc.greater(values, 1.0), False).to_numpy(
            zero_copy_only=False), dtype=bool)
        out.append((f"{noun} above 1", above))
    return out


def _bound_text(bound: float) -> str:
    return f"{bound:.0e}".replace("e+", "e")


def _implausible(table: str, col: schema.Column, data: pa.Table
                 ) -> list[tuple[str, np.ndarray]]:
    """Rows of a checked number above its physical bound (in tonnes for a mass given in a
    unit column, in any currency for an amount given with a currency column)."""
    noun = NOUNS.get(col.name, col.name)
    values = pc.cast(data.column(col.name), pa.float64())
    if col.unit in PLAUSIBLE_MAX:
        bound, unit = PLAUSIBLE_MAX[col.unit], col.unit
    else:
        ref = next((c for c in schema.table_columns(table) if c.name == col.unit), None)
        if ref is None or ref.name not in data.column_names:
            return []
        kind = ref.check.removesuffix(OR_MISSING)
        if kind == "mass_unit":
            bound, unit = PLAUSIBLE_MAX["t"], "t"
            stated = data.column(ref.name).cast(pa.string())
            tonnes = pa.scalar(None, pa.float64())
            for name, factor in MASS_UNITS.items():
                tonnes = pc.if_else(pc.equal(stated, name), pc.multiply(values, factor), tonnes)
            values = tonnes
        elif kind == "currency":
            bound, unit = PLAUSIBLE_MAX_IN_CURRENCY, "in its currency"
        else:
            return []
    above = np.asarray(pc.fill_null(pc.greater(values, bound), False).to_numpy(
        zero_copy_only=False), dtype=bool)
    return [(f"implausible {noun} (above {_bound_text(bound)} {unit})", above)]


def _examples(data: pa.Table, name: str, rows: np.ndarray) -> list[str]:
    source = f"src_{name}" if f"src_{name}" in data.column_names else name
    picked = data.column(source).take(pa.array(np.flatnonzero(rows)[:20]))
    seen: list[str] = []
    for value in picked.to_pylist():
        text = str(value)
        if text not in seen:
            seen.append(text)
    return seen[:5]


def validate(table: str, data: pa.Table, known: Known, cov: Coverage) -> pa.Table:
    """The rows of ``data`` that pass every declared check of ``table``; each other row is
    counted in ``cov`` under the first check it fails (examples from a ``src_<column>``
    column when the reader keeps the source's own code)."""
    bad = np.zeros(data.num_rows, dtype=bool)
    for col in schema.table_columns(table):
        if col.name not in data.column_names:
            continue
        if col.check:
            found = _failures(col.check, data.column(col.name), col.name, known)
            if col.dtype.startswith(("float", "int")):
                found += _implausible(table, col, data)
        elif col.key is not None:
            found = [(f"missing {col.name}", ~_present(data.column(col.name)))]
        else:
            continue
        for reason, failing in found:
            new = failing & ~bad
            if new.any():
                cov.drop(reason, int(new.sum()), _examples(data, col.name, new))
                bad |= new
    return data.filter(pa.array(~bad)) if bad.any() else data
