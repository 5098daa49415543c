"""Canonical table and column names, dtypes and units, declared once in ``catalog/schema.csv``.

Every reader produces frames in these schemas, the store writes them, and the manifest
publishes them; nothing else spells a column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

SNAPSHOT_TABLES = (
    "countries",
    "country_codes",
    "minerals",
    "products",
    "product_minerals",
    "flows",
    "production",
    "governance",
    "gpr_governance",
    "gpr_hs_map",
    "gpr_production",
)
"""Tables of the canonical snapshot, in build order."""

STAGES = ("ore", "intermediate", "refined")
"""Supply-chain stages of traded products, upstream first."""


@dataclass(frozen=True)
class Column:
    """One declared column."""

    table: str
    name: str
    dtype: str
    unit: str
    description: str


@cache
def columns() -> dict[str, tuple[Column, ...]]:
    """All declared columns, by table, in declaration order."""
    text = resources.files("critmin.catalog").joinpath("schema.csv").read_text("utf-8")
    out: dict[str, list[Column]] = {}
    for row in csv.DictReader(text.splitlines()):
        col = Column(row["table"], row["column"], row["dtype"], row["unit"], row["description"])
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


def _arrow_type(dtype: str) -> pa.DataType:
    import pyarrow as pa

    simple = {
        "string": pa.string(),
        "int16": pa.int16(),
        "int32": pa.int32(),
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
