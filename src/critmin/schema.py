"""Every table's columns, dtypes, units and descriptions, declared once in ``catalog/schema.csv``.

Input tables (the canonical snapshot) and output tables (the cube, profiles, partners…) are
declared the same way. Readers produce frames in these schemas, the store writes them, the
manifest publishes them, and every output frame carries its units from here; nothing else
spells a unit. An output column declared without dtype, unit or description takes them from
the first earlier declaration of the same column name, so each meaning is written once.

>>> units("cube")["imports_basis_t"]
't (basis)'
>>> public_columns("partners")[:3]
['year', 'importer', 'exporter']
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    "production",
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
)
"""Tables of the canonical snapshot, in build order."""

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
    priority: int
    description: str


def _text() -> str:
    return resources.files("critmin.catalog").joinpath("schema.csv").read_text("utf-8")


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
            check=row["check"], priority=int(row["priority"] or DEFAULT_PRIORITY),
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


def digest() -> str:
    """A hash of every declaration: part of the key of any cached output."""
    return hashlib.sha256(_text().encode()).hexdigest()[:16]


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
