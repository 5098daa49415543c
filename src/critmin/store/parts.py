"""Which Parquet files make up a stored table: the snapshot's file, and the imported files by
year whose rows replace the snapshot's rows of those years. Every engine (DuckDB's views,
Spark's readers) reads a table from exactly these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from critmin import schema
from critmin.errors import DataError
from critmin.store import user

SNAPSHOT_HINT = ("reinstall critmin (`pip install --force-reinstall critmin`) or rebuild the "
                 "snapshot with `critmin data build`")


class TableParts(Protocol):
    """What an engine needs of a store: the files of each table."""

    def parquet_parts(self, table: str) -> tuple[Path | None, dict[int, Path]]:
        """The snapshot's file of ``table`` (None for a user table) and its imported files
        by year."""
        ...


def snapshot_file(snapshot: Path, manifest: dict[str, Any], table: str) -> Path:
    """The snapshot's Parquet file of ``table`` (a bare name inside the snapshot)."""
    try:
        name = Path(manifest["tables"][table]["file"]).name
    except KeyError:
        raise DataError(f"table {table!r} is missing from the snapshot manifest; "
                        f"{SNAPSHOT_HINT}") from None
    return snapshot / name


def parquet_parts(snapshot: Path, manifest: dict[str, Any], user_manifest: dict[str, Any],
                  table: str) -> tuple[Path | None, dict[int, Path]]:
    """The snapshot's file of ``table`` (None for a table only imports fill,
    :data:`~critmin.schema.USER_TABLES`) and the imported files by year."""
    imported = user.year_files(user_manifest, table)
    if table in schema.USER_TABLES:
        return None, imported
    return snapshot_file(snapshot, manifest, table), imported
