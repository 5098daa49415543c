"""Curated reference data (countries, BACI codes, minerals, products) and its loaders.

These CSV files are inputs of the snapshot build; at run time critmin reads the
snapshot's copies, so a build is the one place a catalog change takes effect.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from critmin.errors import DataError


def _read(name: str, **kwargs: object) -> pd.DataFrame:
    path = resources.files("critmin.catalog").joinpath(name)
    try:
        with path.open("r", encoding="utf-8") as fh:
            frame: pd.DataFrame = pd.read_csv(  # type: ignore[call-overload]
                fh, keep_default_na=False, na_values=[""], **kwargs)
            return frame
    except FileNotFoundError:
        raise DataError(f"catalog file {name} is missing from the package") from None


def _split(values: pd.Series) -> pd.Series:
    return values.fillna("").map(lambda s: [p.strip() for p in str(s).split(";") if p.strip()])


def load_countries() -> pd.DataFrame:
    """countries.csv: one row per ISO3 entity, aliases and groups as lists."""
    frame = _read("countries.csv", dtype={"iso3": str, "iso2": str, "name": str})
    frame["aliases"] = _split(frame["aliases"])
    frame["groups"] = _split(frame["groups"])
    for col in ("iso_numeric", "baci_code"):
        frame[col] = frame[col].astype("Int32")
    frame["iso2"] = frame["iso2"].fillna("")
    return frame


def load_country_codes() -> pd.DataFrame:
    """baci_codes.csv: every BACI country code and the ISO3 its trade is attributed to."""
    frame = _read("baci_codes.csv", dtype={"iso3": str, "baci_name": str, "rule": str})
    frame["baci_code"] = frame["baci_code"].astype("int32")
    frame["rule"] = frame["rule"].fillna("")
    return frame


def load_minerals() -> pd.DataFrame:
    """minerals.csv: one row per World Mining Data commodity."""
    frame = _read("minerals.csv", dtype=str)
    frame["to_tonnes"] = frame["to_tonnes"].astype("float64")
    frame["aliases"] = _split(frame["aliases"])
    return frame.fillna({"category": "", "basis_note": ""})


def load_product_minerals() -> pd.DataFrame:
    """products.csv: one row per (HS code, mineral) with stage and content factor."""
    frame = _read("products.csv", dtype={"hs6": str, "mineral": str, "stage": str})
    frame["hs6"] = frame["hs6"].str.zfill(6)
    frame["content_factor"] = pd.to_numeric(frame["content_factor"], errors="coerce")
    frame["wmd_listed"] = frame["wmd_listed"].astype(str).str.lower().eq("true")
    return frame
