"""A country group (G7, EU27, BRICS…) as one importer in the headline cube.

Pure functions: frames in, frames out. The cube's inputs come from
:func:`critmin.inputs.read_cube_inputs` and the membership from
:func:`critmin.query.group_membership`; nothing here opens the store.
"""

from __future__ import annotations

import pandas as pd

from critmin import schema
from critmin.metrics import cube as cube_mod
from critmin.metrics.geopolrisk import characterisation_factor

WORLD_COLUMNS = ("world_production_t", "n_producers", "hhi", "top3_share",
                 "china_production_share", "top_producer", "top_producer_share", "refined_t",
                 "n_refiners", "refining_hhi", "refining_top3_share", "refining_china_share",
                 "top_refiner", "top_refiner_share", "refining_measure",
                 "processed_exports_t", "n_processed_exporters", "processed_exports_hhi",
                 "processed_exports_top3_share", "processed_exports_china_share",
                 "top_processed_exporter", "top_processed_exporter_share")
"""Cube columns that describe the world, not the importer (the same for a group)."""


def group_cube(inputs: cube_mod.CubeInputs, group: str, members: pd.DataFrame) -> pd.DataFrame:
    """The headline cube of a country group as one importer: members' trade with each other
    left out, their production summed, membership by year.

    World columns (producer and processing concentration) are the world's, as for any
    country; GeoPolRisk is recomputed from them.

    Parameters
    ----------
    inputs : CubeInputs
        The cube's inputs for the years and minerals wanted.
    group : str
        The group's name, which becomes the importer's ``country``.
    members : pandas.DataFrame
        ``year``, ``iso3``: the members in each year.

    Returns
    -------
    pandas.DataFrame
        One row per (year, mineral) with the group as ``country``, the cube's columns.

    See Also
    --------
    critmin.query.risk : ``risk("G7", "cobalt", as_group=True)`` reads the inputs and the
        membership and calls this.
    """
    pairs = inputs.pairs
    inside = members[["year", "iso3"]].assign(member=True).astype({"year": "int16"})

    def flag(frame: pd.DataFrame, col: str) -> pd.Series:
        hit = frame[["year", col]].astype({"year": "int16", col: str}).merge(
            inside.rename(columns={"iso3": col}), how="left")["member"]
        return hit.astype("boolean").fillna(False).astype(bool).set_axis(frame.index)

    pairs = pairs.astype({"importer": str, "exporter": str})
    imp, exp = flag(pairs, "importer"), flag(pairs, "exporter")
    pairs = pairs[~(imp & exp)].copy()
    pairs.loc[imp[~(imp & exp)].to_numpy(), "importer"] = group
    pairs.loc[exp[~(imp & exp)].to_numpy(), "exporter"] = group
    production = inputs.production.copy()
    production.loc[flag(production, "country").to_numpy(), "country"] = group
    production = production.groupby(cube_mod.STAGE_KEY, as_index=False)[
        ["qty_t"]].sum()
    grouped = cube_mod.CubeInputs(**{**inputs.__dict__, "pairs": pairs,
                                     "production": production})
    rows = cube_mod.compute_cube(grouped)
    rows = rows[rows["country"] == group].drop(columns=list(WORLD_COLUMNS))
    stages = cube_mod.compute_stages(grouped)
    rows = cube_mod.main_answer(rows, stages[stages["country"] == group])
    world = cube_mod.compute_cube(inputs)[["year", "mineral", *WORLD_COLUMNS]].drop_duplicates(
        ["year", "mineral"])
    rows = rows.merge(world, on=["year", "mineral"], how="left")
    rows["score"] = rows["hhi"] * rows["wta"]
    rows["cf"] = characterisation_factor(rows["score"], rows["price_usd_per_kg"])
    return schema.select("cube", rows.reset_index(drop=True))
