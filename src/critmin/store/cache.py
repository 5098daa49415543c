"""The cached metrics cube: computed once per data fingerprint, read back as Parquet."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from critmin.errors import InvalidInput
from critmin.store import paths
from critmin.store.db import Store

if TYPE_CHECKING:
    from critmin.metrics.cube import CubeInputs

MODES = {None: "default", "default": "default", "geopolrisk-py": "geopolrisk-py"}


def incomplete_year(store: Store) -> int | None:
    """The newest trade year if the source has it only in part (from row counts per year)."""
    from critmin.metrics.cube import latest_incomplete_year

    return latest_incomplete_year(pd.Series(store.rows_by_year("flows")))


def cube_inputs(store: Store, compat: bool, years: list[int] | None = None,
                minerals: list[str] | None = None) -> CubeInputs:
    """Read the canonical tables the cube needs, for some years and minerals or all."""
    from critmin.metrics.cube import CubeInputs

    def subset(frame: pd.DataFrame) -> pd.DataFrame:
        if years is not None and "year" in frame.columns:
            frame = frame[frame["year"].isin(years)]
        if minerals is not None and "mineral" in frame.columns:
            frame = frame[frame["mineral"].isin(minerals)]
        return frame.reset_index(drop=True)

    links = subset(store.table("product_minerals"))
    hs6 = None if minerals is None else sorted(set(links["hs6"]))
    flows = store.table("flows") if years is None and hs6 is None else store.flows(hs6, years)
    return CubeInputs(
        flows=flows,
        product_minerals=links,
        production=subset(store.table("production")),
        governance=subset(store.table("governance")),
        incomplete_year=incomplete_year(store),
        gpr_governance=subset(store.table("gpr_governance")) if compat else None,
        gpr_hs_map=subset(store.table("gpr_hs_map")) if compat else None,
        gpr_production=subset(store.table("gpr_production")) if compat else None,
        countries=store.table("countries") if compat else None,
    )


def cube_path(store: Store, mode: str) -> Path:
    """Where the cube of this data and mode is cached."""
    return paths.cache_dir() / f"cube-{store.fingerprint}-{mode}.parquet"


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cube-", suffix=".parquet", dir=path.parent)
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False, compression="zstd")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_cube(store: Store, compat: str | None = None, years: list[int] | None = None,
              minerals: list[str] | None = None, refresh: bool = False) -> pd.DataFrame:
    """The cube for the store's current data.

    The whole cube is computed once per data fingerprint and cached (stale files are
    removed). A request for some years or minerals reads the cached cube when there is one,
    and otherwise computes just those rows (every metric is per mineral and year, so a
    subset computes the same numbers as the whole).
    """
    from critmin.metrics import cube as cube_mod

    if compat not in MODES:
        raise InvalidInput(f"unknown compat mode {compat!r}", suggestions=["geopolrisk-py"])
    mode = MODES[compat]
    path = cube_path(store, mode)
    whole = years is None and minerals is None
    if path.exists() and not refresh:
        frame = pd.read_parquet(path)
        if years is not None:
            frame = frame[frame["year"].isin(years)]
        if minerals is not None:
            frame = frame[frame["mineral"].isin(minerals)]
        return frame.reset_index(drop=True)
    inputs = cube_inputs(store, compat=mode != "default", years=years, minerals=minerals)
    default = cube_mod.compute_cube(inputs)
    frame = default if mode == "default" else cube_mod.compute_compat_cube(inputs, default)
    if whole:
        for stale in path.parent.glob(f"cube-*-{mode}.parquet"):
            stale.unlink(missing_ok=True)
        _write(frame, path)
    return frame
