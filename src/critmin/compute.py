"""The metrics cube from the store: inputs, the engine's aggregation, the metrics, the cache.

The whole cube (and the partner table beside it) is computed once and cached as Parquet,
keyed by the data's fingerprint, critmin's version, the declared output schema and the
metric parameters, so that new data, new code or a changed constant never serves old
numbers. The cache is best effort: an unreadable file is recomputed, an unwritable folder
is skipped. A request for some years or minerals reads only those rows of the cache, or,
with no cache, computes only them (every metric is per mineral and year, so a subset
computes the same numbers as the whole).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from critmin import schema
from critmin.errors import DataError, InvalidInput
from critmin.store import Store, paths
from critmin.store.engine import Engine

MODES = {None: "default", "default": "default", "geopolrisk-py": "geopolrisk-py"}
OUTPUTS = {"default": ("cube", "stages", "partners"), "geopolrisk-py": ("cube_compat",)}
"""The cached outputs of each mode (declared tables of the schema)."""
KEYS = {"cube": ["year", "country", "mineral"], "cube_compat": ["year", "country", "mineral"],
        "stages": ["year", "country", "mineral", "stage"],
        "partners": ["year", "importer", "mineral", "stage", "exporter"]}
"""Each output's row key, its sort order."""

Progress = Callable[[str], None]


def mode_of(compat: str | None) -> str:
    """The cube mode named by ``compat`` (None or "default", or "geopolrisk-py")."""
    if compat not in MODES:
        raise InvalidInput(f"unknown compat mode {compat!r}", suggestions=["geopolrisk-py"])
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


def cache_key(store: Store, mode: str) -> str:
    """Fingerprint of the data, critmin's version, the output schema and the parameters."""
    from critmin import __version__

    text = json.dumps([store.fingerprint, __version__, schema.digest(), parameters(), mode],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cache_path(store: Store, output: str, mode: str) -> Path:
    """Where ``output`` of this data, code and mode is cached."""
    return paths.cache_dir() / f"{output}-{cache_key(store, mode)}.parquet"


def default_production(production: pd.DataFrame, defaults: pd.DataFrame) -> pd.DataFrame:
    """One source per (mineral, stage): the documented default where sources overlap
    (``production_defaults``), World Mining Data before USGS otherwise. USGS releases count
    as one source (each year from the newest release that has it)."""
    family = production["source"].where(~production["source"].str.startswith("usgs"), "usgs")
    frame = production.assign(family=family)
    chosen = defaults[["mineral", "stage", "source"]].rename(columns={"source": "chosen"})
    frame = frame.merge(chosen, on=["mineral", "stage"], how="left")
    first = frame.groupby(["mineral", "stage"])["family"].transform(
        lambda s: "wmd" if (s == "wmd").any() else "usgs")
    keep = frame["family"] == frame["chosen"].fillna(first)
    return frame.loc[keep, production.columns].reset_index(drop=True)


def coverage(presence: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Per (year, mineral, stage): the stage's principal codes with no rows with a quantity
    that year (text, empty when all are there), and how many principal codes it has."""
    principal = links[links["principal"]][["hs6", "mineral", "stage"]].drop_duplicates()
    years = pd.DataFrame({"year": sorted(presence["year"].unique())})
    grid = principal.merge(years, how="cross")
    have = presence[presence["n_rows_with_qty"] > 0][["year", "hs6"]].assign(have=True)
    grid = grid.merge(have, on=["year", "hs6"], how="left")
    grid["gone"] = np.where(grid["have"].isna(), grid["hs6"], "")
    out = grid.sort_values("hs6").groupby(["year", "mineral", "stage"], as_index=False).agg(
        missing=("gone", lambda s: ", ".join(v for v in s if v)),
        n_principal=("hs6", "size"))
    out["year"] = out["year"].astype("int16")
    return out


def cube_inputs(store: Store, years: list[int], minerals: list[str] | None = None,
                engine: Engine | None = None) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """The cube's inputs for some years and minerals (None: all), and the engine's pairs
    and links (``engine``: the store's DuckDB engine unless given)."""
    from critmin import years as years_mod
    from critmin.metrics import cube as cube_mod

    def subset(frame: pd.DataFrame) -> pd.DataFrame:
        if "year" in frame.columns:
            frame = frame[frame["year"].isin(years)]
        if minerals is not None and "mineral" in frame.columns:
            frame = frame[frame["mineral"].isin(minerals)]
        return frame.reset_index(drop=True)

    engine = engine if engine is not None else store.engine()
    links = subset(store.table("product_minerals"))
    pairs = engine.aggregate(links, years)
    # the default source is chosen on every year, so a subset of years sees the same one
    production = subset(default_production(store.table("production"),
                                           store.table("production_defaults")))
    mineral_table = store.table("minerals")
    gaps = store.table("reporting_gaps")
    last = gaps["last_year"].fillna(max(years)).astype(int)
    mirror = pd.DataFrame(
        [(y, c) for c, a, b in zip(gaps["country"], gaps["first_year"], last, strict=True)
         for y in range(int(a), int(b) + 1)], columns=["year", "country"])
    descriptions = store.table("products").set_index("hs6")["description"]
    names = {str(h): short_name(d) for h, d in descriptions.items()}
    inputs = cube_mod.CubeInputs(
        pairs=pairs, production=production, governance=subset(store.table("governance")),
        incomplete_year=years_mod.incomplete_year(store),
        coverage=coverage(engine.presence(years), links),
        production_stage=mineral_table.set_index("mineral")["production_stage"],
        mirror=mirror, names=names,
    )
    return inputs, pairs, links


def short_name(description: str) -> str:
    """A product description cut to its first clause, for reasons."""
    text = str(description).split(";")[0].strip()
    return text[:40].rstrip() + ("…" if len(text) > 40 else "")


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
    from critmin.metrics import cube as cube_mod

    say = progress or (lambda _msg: None)
    all_years = sorted(store.rows_by_year("flows") | store.rows_by_year("production"))
    wanted = years if years is not None else all_years
    say("aggregating flows")
    engine = engine if engine is not None else store.engine()
    inputs, _pairs, _links = cube_inputs(store, wanted, minerals, engine)
    del _pairs, _links
    say("computing metrics")
    inputs = cube_mod.harmonise(inputs)
    lines = cube_mod.headline_lines(inputs)
    default = schema.select("cube", cube_mod.compute_cube(inputs, lines))
    if mode == "default":
        yield "cube", default
        del default
        say("computing stages")
        yield "stages", schema.select("stages", cube_mod.compute_stages(inputs))
        say("computing partners")
        yield "partners", schema.select("partners", cube_mod.partners(inputs.pairs, lines))
        return
    del lines
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
    compat = cube_mod.compute_compat_cube(
        gpr_pairs, sorted(set(hs_map["mineral"])),
        gpr_governance[gpr_governance["year"].isin(wanted)],
        gpr_production.reset_index(drop=True), store.table("countries"), default)
    yield "cube_compat", schema.select("cube_compat", compat)


WORLD_COLUMNS = ("world_production_t", "n_producers", "hhi", "top3_share",
                 "china_production_share", "top_producer", "top_producer_share", "refined_t",
                 "n_refiners", "refining_hhi", "refining_top3_share", "refining_china_share",
                 "top_refiner", "top_refiner_share", "refining_measure")
"""Cube columns that describe the world, not the importer (the same for a group)."""


def group_cube(store: Store, group: str, members: pd.DataFrame, years: list[int],
               minerals: list[str] | None = None) -> pd.DataFrame:
    """The headline cube of a country group as one importer: members' trade with each other
    left out, their production summed, membership by year (``members``: year, iso3).

    World columns (producer and processing concentration) are the world's, as for any
    country; GeoPolRisk is recomputed from them.
    """
    from critmin.metrics import cube as cube_mod
    from critmin.metrics.geopolrisk import characterisation_factor

    inputs, pairs, _links = cube_inputs(store, years, minerals)
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
    production = production.groupby(["year", "country", "mineral", "stage"], as_index=False)[
        ["qty_t"]].sum()
    grouped = cube_mod.CubeInputs(**{**inputs.__dict__, "pairs": pairs,
                                     "production": production})
    rows = cube_mod.compute_cube(grouped)
    rows = rows[rows["country"] == group].drop(columns=list(WORLD_COLUMNS))
    world = cube_mod.compute_cube(inputs)[["year", "mineral", *WORLD_COLUMNS]].drop_duplicates(
        ["year", "mineral"])
    rows = rows.merge(world, on=["year", "mineral"], how="left")
    rows["score"] = rows["hhi"] * rows["wta"]
    rows["cf"] = characterisation_factor(rows["score"], rows["price_usd_per_kg"])
    return schema.select("cube", rows.reset_index(drop=True))


BATCH_ROWS = 3_000_000
"""Flow rows per batch of years when the whole cache is computed: every metric is per year,
so the years are computed a batch at a time and written as they come, and memory stays
bounded whatever the number of years."""


def year_batches(store: Store, years: list[int], rows: int | None = None) -> list[list[int]]:
    """``years`` in consecutive batches of about ``rows`` stored flow rows each (default
    :data:`BATCH_ROWS`; a year with more is a batch of its own)."""
    rows = BATCH_ROWS if rows is None else rows
    per_year = store.rows_by_year("flows")
    batches: list[list[int]] = []
    size = 0
    for year in years:
        n = per_year.get(year, 0)
        if not batches or size + n > rows:
            batches.append([])
            size = 0
        batches[-1].append(year)
        size += n
    return batches


class _ParquetSink:
    """The cache file of output ``name``, written a frame at a time in slices of a million
    rows (so that the Arrow copy stays small), in the output's declared Arrow schema (so that
    every batch has the same types, whatever its missing values), renamed into place only
    when complete."""

    SLICE = 1_000_000

    def __init__(self, name: str, path: Path, stack: ExitStack) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from critmin import files

        declared = schema.arrow_schema(name)
        keys = [f.name for f in declared if not pa.types.is_floating(f.type)]
        self.name = name
        self.writer = stack.enter_context(pq.ParquetWriter(
            stack.enter_context(files.atomic_write(path)), declared, compression="zstd",
            use_dictionary=keys))

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa

        for start in range(0, len(frame), self.SLICE):
            part = pa.Table.from_pandas(frame.iloc[start:start + self.SLICE],
                                        preserve_index=False)
            self.writer.write_table(schema.conform(self.name, part))


def _fill_cache(store: Store, mode: str, progress: Progress | None,
                engine: Engine | None) -> dict[str, pd.DataFrame]:
    """Compute every output of ``mode`` for all years, a batch of years at a time, and write
    each batch to the cache as it comes; returns the outputs in memory instead when the
    cache folder cannot be written."""
    from critmin import files

    say = progress or (lambda _msg: None)
    years = sorted(store.rows_by_year("flows") | store.rows_by_year("production"))
    batches = year_batches(store, years)
    folder = paths.cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files.remove_leftovers(folder, min_age_s=3600)
        # one output is written while the next is computed (Parquet's encoder releases the
        # GIL); at most one waits, so memory stays bounded. The pool closes (its last write
        # done) before the files do.
        with ExitStack() as stack, ThreadPoolExecutor(max_workers=1) as pool:
            sinks: dict[str, _ParquetSink] = {}
            writing: Future[None] | None = None
            for n, batch in enumerate(batches, 1):
                if len(batches) > 1:
                    say(f"years {batch[0]}-{batch[-1]} (batch {n} of {len(batches)})")
                for name, frame in outputs(store, mode, batch, progress=progress,
                                           engine=engine):
                    if name not in sinks:
                        sinks[name] = _ParquetSink(name, cache_path(store, name, mode),
                                                   stack)
                    if writing is not None:
                        writing.result()
                    writing = pool.submit(sinks[name].write, frame)
                    del frame
            say("writing the cache")
            if writing is not None:
                writing.result()
    except OSError:  # the cache is optional: a read-only or full disk costs recomputation
        return compute(store, mode, progress=progress, engine=engine)
    for name in OUTPUTS[mode]:
        keep = cache_path(store, name, mode)
        for stale in folder.glob(f"{name}-*.parquet"):
            if stale != keep:
                stale.unlink(missing_ok=True)
    return {}


_RECENT: dict[tuple[Any, ...], dict[str, pd.DataFrame]] = {}
"""The last subset computed, by (cache key, mode, years, minerals): a profile asks for the
cube, the stages and the partners of one year, computed once."""


def _computed(store: Store, mode: str, years: list[int] | None, minerals: list[str] | None,
              progress: Progress | None, engine: Engine | None = None
              ) -> dict[str, pd.DataFrame]:
    key = (cache_key(store, mode), mode, tuple(years or ()), tuple(minerals or ()))
    found = _RECENT.get(key)
    if found is None:
        found = compute(store, mode, years, minerals, progress, engine)
        _RECENT.clear()
        _RECENT[key] = found
    return found


def load(store: Store, output: str, compat: str | None = None,
         years: list[int] | None = None, minerals: list[str] | None = None,
         countries: list[str] | None = None, progress: Progress | None = None,
         engine: Engine | None = None) -> pd.DataFrame:
    """Rows of a cached output (``cube``, ``partners``, ``cube_compat``) for the store's
    current data, filtered; computed (by ``engine``, DuckDB unless given) and cached first
    when the whole output is asked for. The cache does not depend on the engine."""
    mode = mode_of(compat)
    if output not in OUTPUTS[mode]:
        raise InvalidInput(f"{output!r} is not an output of the {mode} mode")
    path = cache_path(store, output, mode)
    key = "importer" if output == "partners" else "country"
    where: dict[str, list[Any] | None] = {"year": years, "mineral": minerals, key: countries}
    whole = years is None and minerals is None
    memo = (cache_key(store, mode), mode, (), ())
    if whole and not path.exists() and memo not in _RECENT:
        unwritten = _fill_cache(store, mode, progress, engine)
        if unwritten:  # kept for the next call, as the cache cannot hold them
            _RECENT.clear()
            _RECENT[memo] = unwritten
    if path.exists():
        try:
            frame = _in_stage_order(store.read_parquet(path, where, order=KEYS[output]))
            frame.attrs["units"] = schema.units(output)
            return frame
        except DataError:
            path.unlink(missing_ok=True)  # damaged cache: computed again below
    if whole and output in _RECENT.get(memo, {}):
        frame = _RECENT[memo][output]
    else:
        frame = _computed(store, mode, None if whole else years, None if whole else minerals,
                          progress, engine)[output]
    from critmin.metrics.cube import plain

    if countries is not None:
        frame = frame[frame[key].isin(countries)]
    frame = _in_stage_order(plain(frame.reset_index(drop=True)))
    frame.attrs["units"] = schema.units(output)
    return frame


def _in_stage_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of a table with a ``stage`` column with stages upstream first."""
    if "stage" not in frame.columns or frame.empty:
        return frame
    rank = {s: n for n, s in enumerate((*schema.STAGES, "headline"))}
    keys = [c for c in ("year", "country", "importer", "mineral") if c in frame.columns]
    order = frame.assign(_rank=frame["stage"].map(rank)).sort_values(
        [*keys, "_rank"], kind="stable").index
    out = frame.loc[order].reset_index(drop=True)
    out.attrs = frame.attrs
    return out


def cached_file(store: Store, output: str, compat: str | None = None,
                progress: Progress | None = None, engine: Engine | None = None) -> Path:
    """The cache file of a whole output, computing it first if needed (for streaming
    exports; by ``engine``, DuckDB unless given); raises when the cache folder cannot be
    written."""
    mode = mode_of(compat)
    path = cache_path(store, output, mode)
    if not path.exists():
        _fill_cache(store, mode, progress, engine)
    if not path.exists():
        raise DataError(f"cannot write the cache folder {path.parent}")
    return path
