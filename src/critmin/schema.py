"""Every table's columns, dtypes, units, keys, dimensions and descriptions, declared once in
``catalog/schema.csv``; the dimensions themselves in ``catalog/dimensions.csv``.

Input tables (the canonical snapshot), user tables (a company's purchase records) and output
tables (the cube, profiles, partners…) are declared the same way. Readers produce frames in
these schemas, the store writes them, the manifest publishes them, and every output frame
carries its units from here; nothing else spells a unit or a key. An output column declared
without dtype, unit or description takes them from the first earlier declaration of the same
column name, so each meaning is written once. A column's ``key`` is its position in the
table's row key (which is also the table's sort order); its ``dimension`` says what it is
(time, country, partner, mineral, stage, product…), whatever it is called.

>>> units("cube")["imports_basis_t"]
't (basis)'
>>> public_columns("partners")[:3]
['year', 'importer', 'exporter']
>>> key("partners")
['year', 'importer', 'mineral', 'stage', 'exporter']
>>> time_column("purchases"), grains("purchases"), str(parse_period("2024-03"))
('period', ('year', 'month'), '2024-03')
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd
    import pyarrow as pa

SNAPSHOT_TABLES = (
    "countries",
    "country_codes",
    "minerals",
    "products",
    "product_minerals",
    "flows",
    "superseded_flows",
    "heading_flows",
    "heading_totals",
    "production",
    "production_withheld",
    "production_other",
    "governance",
    "gpr_governance",
    "gpr_hs_map",
    "gpr_production",
    "hs_correspondence",
    "critical_lists",
    "lists",
    "production_defaults",
    "reserves",
    "us_salient",
    "reporting_gaps",
    "group_members",
    "events",
    "agreements",
    "byproducts",
    "processing_shares",
    "heading_contents",
)
"""Tables of the canonical snapshot, in build order."""

USER_TABLES = ("purchases",)
"""Tables only a user's imports fill (no snapshot rows): a company's own records, kept beside
the country tables and never mixed into them."""

STORED_TABLES = SNAPSHOT_TABLES + USER_TABLES
"""Every table the store serves."""

STAGES = ("ore", "intermediate", "refined", "alloy", "scrap", "product")
"""Supply-chain stages of traded products and production, upstream first."""

HEADLINE_STAGES = ("ore", "intermediate", "refined", "alloy")
"""Stages of primary supply that a headline import reliance adds up (scrap and downstream
products are shown per stage, not in the headline)."""

DEFAULT_PRIORITY = 3
"""Display priority of a column declared without one (1 = always shown)."""


@dataclass(frozen=True)
class Column:
    """One declared column."""

    table: str
    name: str
    dtype: str
    unit: str
    check: str
    key: int | None
    """Position in the table's row key (1 first), None when the column is not in it."""
    dimension: str
    """What the column is (a name of ``catalog/dimensions.csv``), empty when it is a value."""
    priority: int
    description: str


@dataclass(frozen=True)
class Dimension:
    """One declared dimension."""

    name: str
    reference: str
    """``table.column`` whose values the dimension takes, empty when it has no table."""
    grains: tuple[str, ...]
    """For time: the grains a time column may have (a year, a month)."""
    description: str


def _text(name: str = "schema.csv") -> str:
    return resources.files("critmin.catalog").joinpath(name).read_text("utf-8")


@cache
def columns() -> dict[str, tuple[Column, ...]]:
    """All declared columns, by table, in declaration order."""
    out: dict[str, list[Column]] = {}
    first: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(_text().splitlines()):
        known = first.setdefault(row["column"], row)
        col = Column(
            table=row["table"], name=row["column"],
            dtype=row["dtype"] or known["dtype"], unit=row["unit"] or known["unit"],
            check=row["check"], key=int(row["key"]) if row["key"] else None,
            dimension=row["dimension"], priority=int(row["priority"] or DEFAULT_PRIORITY),
            description=row["description"] or known["description"],
        )
        out.setdefault(col.table, []).append(col)
    return {table: tuple(cols) for table, cols in out.items()}


def table_columns(table: str) -> tuple[Column, ...]:
    """The declared columns of ``table``."""
    from critmin.errors import NotFound, nearest

    try:
        return columns()[table]
    except KeyError:
        raise NotFound(
            f"unknown table {table!r}", suggestions=nearest(table, columns())
        ) from None


def public_columns(table: str) -> list[str]:
    """Column names of ``table`` in declared order."""
    return [c.name for c in table_columns(table)]


def units(table: str) -> dict[str, str]:
    """Column -> unit, for the columns of ``table`` that have one."""
    return {c.name: c.unit for c in table_columns(table) if c.unit}


def priorities(table: str) -> dict[str, int]:
    """Column -> display priority (1 = always shown, larger = dropped first)."""
    return {c.name: c.priority for c in table_columns(table)}


def order(table: str | None, names: Iterable[str]) -> list[str]:
    """``names`` in the order of their meaning for ``table``: by declared priority (identity,
    then reliance or the answer, China's share, the top supplier, the risk score, then the
    details), the declared order within a priority; names the table does not declare keep
    their order, last. The terminal, JSON, CSV and Excel outputs all use this order.

    >>> order("scenario", ["note", "loss_t", "country", "loss_share", "extra"])
    ['country', 'loss_share', 'loss_t', 'note', 'extra']
    """
    names = list(names)
    declared = columns().get(table or "", ())
    rank = {c.name: (c.priority, i) for i, c in enumerate(declared)}
    last = (max((c.priority for c in declared), default=0) + 1, len(declared))
    ranked = sorted(enumerate(names), key=lambda item: (*rank.get(item[1], last), item[0]))
    return [name for _, name in ranked]


def key(table: str) -> list[str]:
    """The row key of ``table`` in key order (also its sort order); empty when none is declared.

    >>> key("flows")
    ['year', 'exporter', 'importer', 'hs6']
    """
    keyed = [c for c in table_columns(table) if c.key is not None]
    return [c.name for c in sorted(keyed, key=lambda c: c.key or 0)]


def value_columns(table: str) -> list[str]:
    """The columns of ``table`` outside its key, in declared order."""
    return [c.name for c in table_columns(table) if c.key is None]


def dimensions(table: str) -> dict[str, str]:
    """Column -> dimension, for the columns of ``table`` that are one.

    >>> dimensions("flows")
    {'year': 'time', 'exporter': 'partner', 'importer': 'country', 'hs6': 'product'}
    """
    return {c.name: c.dimension for c in table_columns(table) if c.dimension}


def column_of(table: str, dimension: str) -> str | None:
    """The column of ``table`` that is ``dimension`` (None when it has none).

    >>> column_of("partners", "country"), column_of("partners", "partner")
    ('importer', 'exporter')
    """
    if dimension not in declared_dimensions():
        from critmin.errors import NotFound, nearest

        raise NotFound(f"unknown dimension {dimension!r}",
                       suggestions=nearest(dimension, declared_dimensions()))
    found = [name for name, dim in dimensions(table).items() if dim == dimension]
    return found[0] if found else None


def time_column(table: str) -> str | None:
    """The time column of ``table`` (``year``, or ``period`` for a table kept by month)."""
    return column_of(table, "time")


@cache
def declared_dimensions() -> dict[str, Dimension]:
    """Every declared dimension, by name."""
    return {
        row["dimension"]: Dimension(
            name=row["dimension"], reference=row["reference"],
            grains=tuple(g for g in row["grains"].split(";") if g),
            description=row["description"])
        for row in csv.DictReader(_text("dimensions.csv").splitlines())
    }


GRAINS = ("year", "month")
"""Grains of a time key, coarsest first."""

PERIOD_CHECK = "period"
"""The check of a time column that holds a period (``2024`` or ``2024-03``), not a year."""

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2}))?$")


def grains(table: str) -> tuple[str, ...]:
    """The grains ``table``'s time key may take: ``("year",)`` for a year column, the time
    dimension's declared grains for a period column, ``()`` without a time column."""
    name = time_column(table)
    if name is None:
        return ()
    col = next(c for c in table_columns(table) if c.name == name)
    if col.check == PERIOD_CHECK:
        return declared_dimensions()["time"].grains
    return ("year",)


@dataclass(frozen=True)
class Period:
    """A year (``month`` None) or one month of it.

    >>> parse_period("2024-03").grain, parse_period(2024).grain
    ('month', 'year')
    """

    year: int
    month: int | None = None

    @property
    def grain(self) -> str:
        """``year`` or ``month``."""
        return "year" if self.month is None else "month"

    def __str__(self) -> str:
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"


def parse_period(value: str | int) -> Period:
    """A period from ``2024`` or ``"2024"`` (a year) or ``"2024-03"`` (a month).

    Raises :class:`~critmin.errors.InvalidInput` naming the value for anything else (a
    month outside 1-12, a year outside critmin's accepted range, another format).

    >>> parse_period("2024-13")
    Traceback (most recent call last):
    critmin.errors.InvalidInput: month 13 of period '2024-13' is not 1-12
    """
    from critmin.checks import YEAR_MIN, year_max
    from critmin.errors import InvalidInput

    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"a period is a year (2024) or a month (2024-03), not {value!r}")
    text = f"{value:04d}" if isinstance(value, int) else value.strip()
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise InvalidInput(f"a period is a year (2024) or a month (2024-03), not {value!r}")
    year = int(match["year"])
    if not YEAR_MIN <= year <= year_max():
        raise InvalidInput(f"year {year} of period {text!r} is outside "
                           f"{YEAR_MIN}-{year_max()}")
    month = int(match["month"]) if match["month"] else None
    if month is not None and not 1 <= month <= 12:
        raise InvalidInput(f"month {month} of period {text!r} is not 1-12")
    return Period(year, month)


def digest() -> str:
    """A hash of every declaration: part of the key of any cached output."""
    text = _text() + _text("dimensions.csv")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def select(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` reduced to the declared columns of output ``table``, in declared order,
    with ``attrs["units"]`` set. Raises when a declared column is missing (a bug)."""
    names = public_columns(table)
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise KeyError(f"output {table!r} lacks declared column(s) {missing}")
    out = frame.loc[:, names]
    out.attrs["units"] = units(table)
    out.attrs["table"] = table
    return out


def _arrow_type(dtype: str) -> pa.DataType:
    import pyarrow as pa

    simple = {
        "string": pa.string(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "Int32": pa.int32(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "list<string>": pa.list_(pa.string()),
    }
    return simple[dtype]


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of ``table``, with unit and description as field metadata."""
    import pyarrow as pa

    fields = [
        pa.field(
            c.name,
            _arrow_type(c.dtype),
            metadata={"unit": c.unit, "description": c.description},
        )
        for c in table_columns(table)
    ]
    return pa.schema(fields)


def conform(table: str, data: pa.Table) -> pa.Table:
    """Select and cast ``data`` to the declared schema of ``table`` (raises on a missing column)."""
    from critmin.errors import DataError

    schema = arrow_schema(table)
    missing = [f.name for f in schema if f.name not in data.column_names]
    if missing:
        raise DataError(f"table {table!r} lacks declared column(s) {', '.join(missing)}")
    return data.select(schema.names).cast(schema)
