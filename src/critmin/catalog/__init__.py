"""Curated reference data (countries, BACI codes, minerals, products, critical-mineral
lists, groups, export-control events, agreements, by-product hosts, product contents) as CSV
files, and the one loader that reads them in their declared schema.

These files are inputs of the snapshot build; at run time critmin reads the snapshot's
copies, so a build is the one place a catalog change takes effect.

>>> load("lists").set_index("list").loc["india-2023", "n_critical"]
np.int32(30)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from critmin import schema
from critmin.errors import DataError

FILES = {
    "countries": "countries.csv",
    "country_codes": "baci_codes.csv",
    "minerals": "minerals.csv",
    "product_minerals": "products.csv",
    "hs_correspondence": "hs_correspondence.csv",
    "critical_lists": "critical_lists.csv",
    "lists": "lists.csv",
    "production_defaults": "production_defaults.csv",
    "reporting_gaps": "reporting_gaps.csv",
    "group_members": "group_members.csv",
    "events": "events.csv",
    "agreements": "agreements.csv",
    "byproducts": "byproducts.csv",
    "product_contents": "product_contents.csv",
    "processing_shares": "processing_shares.csv",
    "heading_contents": "heading_contents.csv",
}
"""Catalog tables and their files."""

RUNTIME_FILES = {
    "projects": "projects.csv",
    "product_names": "product_names.csv",
    "lcia_flows": "lcia_flows.csv",
    "goods_contents": "goods_contents.csv",
}
"""Catalog tables read from the installed package when used, not copied into the snapshot:
announcements that change faster than the data (capacity projects), and the product names
a mineral may be asked for by (magnets, lithium carbonate), which name codes of the
snapshot's product table; the elementary flows GeoPolRisk factors are exported on, and the
sourced mineral contents of downstream goods (magnets, vehicles), which apply to whichever
flows are in the store."""


def _split(values: pd.Series) -> pd.Series:
    return values.fillna("").map(lambda s: [p.strip() for p in str(s).split(";") if p.strip()])


def load(table: str, folder: Path | None = None) -> pd.DataFrame:
    """A catalog table in its declared dtypes (``';'``-separated text becomes lists).

    ``folder`` reads the table's file from another folder (a test fixture).
    """
    name = FILES[table] if table in FILES else RUNTIME_FILES[table]
    try:
        if folder is not None:
            text = (Path(folder) / name).read_text("utf-8")
        else:
            text = resources.files("critmin.catalog").joinpath(name).read_text("utf-8")
    except FileNotFoundError:
        raise DataError(f"catalog file {name} is missing") from None
    from io import StringIO

    frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    for col in schema.table_columns(table):
        if col.name not in frame.columns:
            frame[col.name] = pd.NA
        values = frame[col.name]
        if col.dtype == "list<string>":
            frame[col.name] = _split(values)
        elif col.dtype == "bool":
            frame[col.name] = values.fillna("false").str.strip().str.lower().eq("true")
        elif col.dtype == "float64":
            frame[col.name] = pd.to_numeric(values, errors="raise").astype("float64")
        elif col.dtype.lower() in ("int16", "int32", "int64"):
            numbers = pd.to_numeric(values, errors="raise")
            nullable = col.dtype[0] == "I" or bool(numbers.isna().any())
            dtype = col.dtype.capitalize() if nullable else col.dtype
            frame[col.name] = numbers.astype(dtype)  # type: ignore[call-overload]  # a dtype name
        elif col.name in ("hs6", "hs17", "hs92"):
            frame[col.name] = values.str.zfill(6)
    return frame


def load_countries() -> pd.DataFrame:
    """countries.csv: one row per ISO3 entity, aliases and groups as lists."""
    frame = load("countries")
    frame["iso2"] = frame["iso2"].fillna("")
    return frame


def load_country_codes() -> pd.DataFrame:
    """baci_codes.csv: every BACI country code and the ISO3 its trade is attributed to."""
    frame = load("country_codes")
    frame["rule"] = frame["rule"].fillna("")
    return frame


def load_minerals() -> pd.DataFrame:
    """minerals.csv: one row per mineral."""
    frame = load("minerals")
    return frame.fillna({"category": "", "basis_note": "", "wmd_table": "", "wmd_unit": ""})


def load_product_minerals() -> pd.DataFrame:
    """products.csv: one row per (HS code, mineral) with stage, factor and allocation."""
    frame = load("product_minerals")
    frame["allocation_share"] = frame["allocation_share"].fillna(1.0)
    return frame
