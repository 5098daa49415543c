"""British Geological Survey, World Mineral Statistics: smelter and refinery output by
country, the processing stage that no other bundled source reports for most metals.

The files are BGS's per-commodity extracts of its ``world-mineral-statistics`` collection
(one row per country, commodity, sub-commodity and year). Read here (:data:`SERIES`):

- ``cobalt, refined`` (tonnes of cobalt) -> cobalt, refined stage;
- ``nickel, smelter/refinery`` (tonnes of nickel) -> nickel, refined stage;
- ``copper, refined`` (tonnes of copper, primary and secondary, electrolytic or fire
  refined) -> copper, refined stage;
- ``copper, smelter`` (tonnes of copper in blister and anode made from concentrates, the
  product of HS 740200) -> copper, intermediate stage: the catalog's intermediate stage of
  copper is the smelter's output, between mine and refinery (Zambia's figure includes
  leach cathodes, as BGS notes);
- ``gallium, primary``, ``germanium metal``, ``magnesium metal, primary`` (tonnes of metal)
  -> gallium, germanium and magnesium, refined stage.

Left out: ferro-alloys by type (ferrochromium, ferromanganese, silicomanganese, ferrosilicon,
ferronickel…). China and South Africa, the largest producers, report their ferro-alloys
only as one aggregate "Ferro-alloys" line (China 34.7 Mt in 2023, South Africa 3.2 Mt), so
country shares of a single type would leave them out and name smaller producers as the
leaders. The mine-output series of the files are not read: World
Mining Data and USGS give mine output already.

A blank quantity is nil or not known, never zero; a row under a sub-commodity (nickel
sulfate, in tonnes of product) is on another basis; former countries (Soviet Union,
Yugoslavia…) are not countries of the catalog: each is left out with a counted reason. The
Republic of the Congo, coded COD (the DR Congo) in the extract, is recoded COG (:data:`RECODED`).
Quantities in kilograms are converted to tonnes (:data:`UNITS`). The years are those the
other production sources cover (2018 on).

Source: British Geological Survey, World Mineral Statistics. Contains British Geological
Survey materials © UKRI; Open Government Licence v3.0.

>>> SERIES["cobalt, refined"]
('cobalt', 'refined')
>>> SERIES["copper, smelter"]
('copper', 'intermediate')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from critmin.sources.coverage import Coverage

SERIES = {"cobalt, refined": ("cobalt", "refined"),
          "nickel, smelter/refinery": ("nickel", "refined"),
          "copper, refined": ("copper", "refined"),
          "copper, smelter": ("copper", "intermediate"),
          "gallium, primary": ("gallium", "refined"),
          "germanium metal": ("germanium", "refined"),
          "magnesium metal, primary": ("magnesium", "refined")}
"""BGS commodity -> critmin (mineral, stage)."""
UNITS = {"tonnes (metric)": 1.0, "tonnes (metal content)": 1.0,
         "kilograms (metric)": 0.001, "kilograms (metal content)": 0.001}
"""BGS unit -> tonnes of the mineral's production basis (metal content). BGS gives small
outputs (platinum-group metals) in kilograms."""
RECODED = {("COD", "CG"): "COG"}
"""(ISO3, ISO2) of the extract -> the country's ISO3: the extract gives the Republic of the
Congo (ISO2 CG, "Congo") the DR Congo's ISO3 code, which would add its refined copper to the
DR Congo's."""
FIRST_YEAR = 2018
"""The first year kept, as for World Mining Data."""
SOURCE = "bgs-wms"


def production(paths: list[Path], countries: frozenset[str]) -> tuple[pd.DataFrame, Coverage]:
    """Smelter and refinery output rows of the production table, from the BGS files.

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
    codes = pd.Series(list(zip(raw["country_iso3_code"], raw["country_iso2_code"],
                               strict=True)), index=raw.index, dtype=object)
    recoded = codes.map(RECODED)
    country = recoded.fillna(raw["country_iso3_code"])
    quantity = pd.to_numeric(raw["quantity"], errors="coerce")
    factor = raw["units"].map(UNITS)
    reasons = np.select(
        [year.isna(), year < FIRST_YEAR, raw["bgs_sub_commodity_trans"] != "",
         quantity.isna(), factor.isna(), ~country.isin(countries)],
        ["year not readable", f"before {FIRST_YEAR}",
         "sub-commodity on another basis (e.g. nickel sulfate, tonnes of product)",
         "blank quantity (nil or not available: never zero)",
         "unit neither tonnes nor kilograms",
         "not a country of the catalog (a former country)"], default="")
    for reason, count in pd.Series(reasons[reasons != ""]).value_counts().items():
        cov.drop(str(reason), int(count))
    keep = reasons == ""
    cov.note("Republic of the Congo coded COD (DR Congo) in the extract: recoded COG",
             int(recoded[keep].notna().sum()))
    kept = raw[keep]
    mineral_stage = kept["bgs_commodity_trans"].map(SERIES)
    rows = pd.DataFrame({
        "year": year[keep].astype("int16").to_numpy(),
        "country": country[keep].to_numpy(),
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
