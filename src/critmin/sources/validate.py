"""Validation at the door, in one place for every reader: the checks each column declares
in ``catalog/schema.csv`` (its ``check`` field), applied to Arrow data in the canonical
schema. Every rejected row is counted under the first check it fails, with examples.

Checks: ``year`` (within critmin's accepted range), ``country`` (a known ISO3),
``mineral`` (a known slug), ``hs6`` (six digits, and a known product unless any code is
accepted), ``nonneg`` (present, finite, not negative), ``nonneg_or_missing`` (missing, or
finite and not negative), ``fraction`` (within [0, 1]).

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


@dataclass(frozen=True)
class Known:
    """The reference sets a row is checked against."""

    countries: frozenset[str]
    products: frozenset[str] | None = None
    """Accepted HS-6 codes; None accepts any six-digit code."""
    minerals: frozenset[str] = frozenset()


def _mask(array: Any) -> np.ndarray:
    return np.asarray(pc.fill_null(array, True).to_numpy(zero_copy_only=False), dtype=bool)


def _failures(check: str, column: pa.ChunkedArray, name: str, known: Known
              ) -> list[tuple[str, np.ndarray]]:
    """(reason, failing rows) pairs of one check, in the order they are tested."""
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
        if not col.check or col.name not in data.column_names:
            continue
        for reason, failing in _failures(col.check, data.column(col.name), col.name, known):
            new = failing & ~bad
            if new.any():
                cov.drop(reason, int(new.sum()), _examples(data, col.name, new))
                bad |= new
    return data.filter(pa.array(~bad)) if bad.any() else data
