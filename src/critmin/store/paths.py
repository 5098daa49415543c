"""Where data lives: the read-only snapshot in the package, and the user's data folder."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "CRITMIN_HOME"
ENV_SNAPSHOT = "CRITMIN_SNAPSHOT"


def snapshot_dir() -> Path:
    """The snapshot folder: the package's (read-only at run time), or ``$CRITMIN_SNAPSHOT``
    (another build, e.g. a small test fixture)."""
    env = os.environ.get(ENV_SNAPSHOT)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "data"


def user_dir() -> Path:
    """The user's data folder: ``$CRITMIN_HOME`` or the platform's user data directory."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("critmin", appauthor=False))


def imports_dir() -> Path:
    """Imported tables: year-partitioned Parquet files and their manifest."""
    return user_dir() / "imports"


def cache_dir() -> Path:
    """Derived data (the metrics cube, downloads); safe to delete."""
    return user_dir() / "cache"
