"""British Geological Survey, World Mineral Statistics: refinery output by country, the
processing stage no other bundled source reports for cobalt and nickel.

The files are BGS's per-commodity extracts of its ``world-mineral-statistics`` collection
(one row per country, commodity, sub-commodity and year). Read here:

- ``cobalt, refined`` (tonnes of cobalt) -> cobalt, refined stage;
- ``nickel, smelter/refinery`` (tonnes of nickel) -> nickel, refined stage.

A blank quantity is nil or not known, never zero; a row under a sub-commodity (nickel
sulfate, in tonnes of product) is on another basis; former countries (Soviet Union,
Yugoslavia…) are not countries of the catalog: each is left out with a counted reason. The
years are those the other production sources cover (2018 on).

Source: British Geological Survey, World Mineral Statistics. Contains British Geological
Survey materials © UKRI; Open Government Licence v3.0.

>>> SERIES["cobalt, refined"]
('cobalt', 'refined')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from critmin.sources.coverage import Coverage

SERIES = {"cobalt, refined": ("cobalt", "refined"),
          "nickel, smelter/refinery": ("nickel", "refined")}
"""BGS commodity -> critmin (mineral, stage)."""
UNITS = {"tonnes (metric)": 1.0, "tonnes (metal content)": 1.0}
"""BGS unit -> tonnes of the mineral's production basis (metal content)."""
FIRST_YEAR = 2018
"""The first year kept, as for World Mining Data."""
SOURCE = "bgs-wms"


def production(paths: list[Path], countries: frozenset[str]) -> tuple[pd.DataFrame, Coverage]:
    """Refinery output rows of the production table from the BGS files at ``paths``.

    Parameters
    ----------
    paths : list of Path
        BGS World Mineral Statistics extracts (CSV).
    countries : frozenset of str
        The catalog's ISO3 codes.

    Returns
    -------
    (pandas.DataFrame, Coverage)
        Production rows (year, country, mineral, stage, source, qty_t, qty_reported,
        data_source, unit_reported, series) and what was read, kept and left out.
    """
    cov = Coverage(source=SOURCE)
    raw = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths],
                    ignore_index=True)
    raw = raw[raw["bgs_commodity_trans"].isin(SERIES)]
    cov.rows_read = len(raw)
    year = pd.to_numeric(raw["year"].str[:4], errors="coerce")
    quantity = pd.to_numeric(raw["quantity"], errors="coerce")
    factor = raw["units"].map(UNITS)
    reasons = np.select(
        [year.isna(), year < FIRST_YEAR, raw["bgs_sub_commodity_trans"] != "",
         quantity.isna(), factor.isna(), ~raw["country_iso3_code"].isin(countries)],
        ["year not readable", f"before {FIRST_YEAR}",
         "sub-commodity on another basis (e.g. nickel sulfate, tonnes of product)",
         "blank quantity (nil or not available: never zero)", "unit not in tonnes",
         "not a country of the catalog (a former country)"], default="")
    for reason, count in pd.Series(reasons[reasons != ""]).value_counts().items():
        cov.drop(str(reason), int(count))
    keep = reasons == ""
    kept = raw[keep]
    mineral_stage = kept["bgs_commodity_trans"].map(SERIES)
    rows = pd.DataFrame({
        "year": year[keep].astype("int16").to_numpy(),
        "country": kept["country_iso3_code"].to_numpy(),
        "mineral": [m for m, _ in mineral_stage],
        "stage": [s for _, s in mineral_stage],
        "source": SOURCE,
        "qty_t": (quantity[keep] * factor[keep]).to_numpy(),
        "qty_reported": quantity[keep].to_numpy(),
        "data_source": np.where(kept["concat_figure_notes_text"].str.contains(
            "estimate", case=False), "e", "r"),
        "unit_reported": kept["units"].to_numpy(),
        "series": kept["bgs_commodity_trans"].to_numpy(),
    })
    key = ["year", "country", "mineral", "stage", "source"]
    merged = rows.groupby(key, as_index=False, sort=True).agg(
        qty_t=("qty_t", "sum"), qty_reported=("qty_reported", "sum"),
        data_source=("data_source", "min"), unit_reported=("unit_reported", "first"),
        series=("series", "first"))
    cov.merged = len(rows) - len(merged)
    cov.rows_kept = len(merged)
    return merged, cov
