"""The metrics cube from the store: the modes, the parameters, the orchestration.

:func:`outputs` reads the cube's inputs (:mod:`critmin.inputs`), runs the metrics
(:mod:`critmin.metrics.cube`) and yields each output of a mode in its declared public
columns. Every metric is per mineral and year, so a subset of years or minerals computes the
same numbers as the whole. Caching the outputs is :mod:`critmin.cache`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from critmin import schema
from critmin.errors import InvalidInput
from critmin.store import Store
from critmin.store.engine import Engine

MODES = {None: "default", "default": "default", "geopolrisk-py": "geopolrisk-py"}
OUTPUTS = {"default": ("cube", "stages", "partners"), "geopolrisk-py": ("cube_compat",)}
"""The cached outputs of each mode (declared tables of the schema)."""
KEYS = {output: schema.key(output) for outputs in OUTPUTS.values() for output in outputs}
"""Each output's row key, its sort order (declared in the schema)."""

Progress = Callable[[str], None]


def mode_of(compat: str | None) -> str:
    """The cube mode named by ``compat`` (None or "default", or "geopolrisk-py")."""
    if not (compat is None or isinstance(compat, str)) or compat not in MODES:
        raise InvalidInput(f"unknown compat mode {compat!r}; give None or 'geopolrisk-py'",
                           suggestions=["geopolrisk-py"])
    return MODES[compat]


def parameters() -> dict[str, Any]:
    """Every constant the metrics depend on, read now (part of the cache key)."""
    from critmin import years
    from critmin.metrics import cube, geopolrisk

    return {
        "single_supplier_threshold": cube.SINGLE_SUPPLIER_THRESHOLD,
        "refining_stages": list(cube.REFINING_STAGES),
        "plausible_trade_ratio": cube.PLAUSIBLE_TRADE_RATIO,
        "rounding": cube.ROUNDING,
        "entrepot": [cube.ENTREPOT_PRODUCTION_SHARE, cube.ENTREPOT_THROUGHPUT],
        "headline_stages": list(schema.HEADLINE_STAGES),
        "flags": list(cube.FLAGS),
        "missing_risk": geopolrisk.MISSING_RISK,
        "cf_copper": geopolrisk.CF_COPPER,
        "incomplete_year_ratio": years.INCOMPLETE_YEAR_RATIO,
    }


def compute(store: Store, mode: str, years: list[int] | None = None,
            minerals: list[str] | None = None, progress: Progress | None = None,
            engine: Engine | None = None) -> dict[str, pd.DataFrame]:
    """The outputs of ``mode`` for some years and minerals (None: all), public columns only
    (``engine``: what aggregates the flows, the store's DuckDB engine unless given; every
    engine gives the same numbers)."""
    return dict(outputs(store, mode, years, minerals, progress, engine))


def outputs(store: Store, mode: str, years: list[int] | None = None,
            minerals: list[str] | None = None, progress: Progress | None = None,
            engine: Engine | None = None) -> Iterator[tuple[str, pd.DataFrame]]:
    """:func:`compute`'s outputs one at a time, as (name, frame): a caller that writes each
    and lets it go holds one output in memory, not all of them."""
    from critmin.inputs import read_cube_inputs
    from critmin.metrics import cube as cube_mod

    say = progress or (lambda _msg: None)
    all_years = sorted(store.rows_by_year("flows") | store.rows_by_year("production"))
    wanted = years if years is not None else all_years
    say("aggregating flows")
    engine = engine if engine is not None else store.engine()
    inputs = read_cube_inputs(store, wanted, minerals, engine)
    say("computing metrics")
    inputs = cube_mod.harmonise(inputs)
    lines = cube_mod.headline_lines(inputs)
    headline = cube_mod.compute_cube(inputs, lines)
    if mode == "default":
        say("computing stages")
        stages = cube_mod.compute_stages(inputs)
        yield "cube", schema.select("cube", cube_mod.main_answer(headline, stages))
        origins = cube_mod.traced_origins(lines, headline)
        del headline
        yield "stages", schema.select("stages", stages)
        del stages
        say("computing partners")
        yield "partners", schema.select("partners", cube_mod.partners(
            inputs.pairs, lines, inputs, origins))
        return
    del lines
    hs_map, gpr_pairs, gpr_governance, gpr_production = _compat_inputs(
        store, wanted, minerals, engine)
    compat = cube_mod.compute_compat_cube(
        gpr_pairs, sorted(set(hs_map["mineral"])), gpr_governance, gpr_production,
        store.table("countries"), headline)
    yield "cube_compat", schema.select("cube_compat", compat)


def _compat_inputs(store: Store, wanted: list[int], minerals: list[str] | None,
                   engine: Engine) -> tuple[pd.DataFrame, ...]:
    """geopolrisk-py's inputs: its HS map, the flows of its codes, WGI and production."""
    hs_map = store.table("gpr_hs_map")
    if minerals is not None:
        hs_map = hs_map[hs_map["mineral"].isin(minerals)]
    gpr_links = hs_map[["hs6", "mineral"]].drop_duplicates().assign(
        stage="ore", content_factor=1.0)
    gpr_pairs = engine.aggregate(gpr_links, wanted, flows="gpr_flows")
    gpr_production = store.table("gpr_production")
    gpr_production = gpr_production[gpr_production["year"].isin(wanted)]
    if minerals is not None:
        gpr_production = gpr_production[gpr_production["mineral"].isin(minerals)]
    gpr_governance = store.table("gpr_governance")
    return (hs_map, gpr_pairs, gpr_governance[gpr_governance["year"].isin(wanted)],
            gpr_production.reset_index(drop=True))


def compat_groups(store: Store, members: pd.DataFrame, years: list[int] | None = None,
                  minerals: list[str] | None = None, engine: Engine | None = None
                  ) -> pd.DataFrame:
    """geopolrisk-py's GeoPolRisk of country groups, its region rule
    (:func:`critmin.metrics.geopolrisk.compat_region_geopolrisk`): one row per (year, group,
    mineral) with the cube_compat mode's columns, ``country`` the group's name.

    ``members``: group, year, iso3, one row per member in each year; ``years`` None: the
    years geopolrisk-py has production for.
    """
    from critmin.metrics import cube as cube_mod
    from critmin.metrics.geopolrisk import compat_region_geopolrisk

    wanted = years if years is not None else sorted(
        int(y) for y in store.table("gpr_production")["year"].unique())
    engine = engine if engine is not None else store.engine()
    hs_map, pairs, governance, production = _compat_inputs(store, wanted, minerals, engine)
    production = production[production["mineral"].isin(set(hs_map["mineral"]))]
    codes = store.table("countries")[["iso3", "baci_code"]].dropna()
    known = members.merge(codes, on="iso3").rename(columns={"iso3": "country"})
    known = known[known["year"].isin(wanted)]
    trade = cube_mod.plain(pairs).astype({"year": "int64"})
    out = compat_region_geopolrisk(trade, governance, production, known)
    return out.rename(columns={"group": "country", "total_t": "imports_t",
                               "value_kusd": "imports_kusd", "gpr_production": "production_t"})
