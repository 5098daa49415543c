"""Writing the canonical snapshot: Parquet (zstd) per table plus a manifest.

A build writes into a folder that is either empty, new, or an earlier snapshot (it has a
critmin manifest); it replaces only the files it writes and the files the earlier manifest
named, and never removes anything else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import files, schema
from critmin.errors import InvalidInput
from critmin.files import sha256_of

MANIFEST = "manifest.json"
PACKAGE_FILES = {"__init__.py", "__pycache__"}
"""Files that may sit beside a snapshot in the package's data folder."""


def to_arrow(table: str, frame: pd.DataFrame) -> Any:
    """``frame`` as an Arrow table in the declared schema of ``table``."""
    import pyarrow as pa

    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    return schema.conform(table, arrow)


def write_parquet(table: str, frame: pd.DataFrame, path: Path) -> None:
    """Write one canonical table to ``path`` (zstd, units in the field metadata)."""
    import pyarrow.parquet as pq

    pq.write_table(to_arrow(table, frame), path, compression="zstd", compression_level=9)


def describe(table: str, frame: pd.DataFrame) -> dict[str, Any]:
    """Manifest entry of a table: rows, columns with units, years covered."""
    entry: dict[str, Any] = {
        "rows": len(frame),
        "columns": [
            {"name": c.name, "dtype": c.dtype, "unit": c.unit, "description": c.description}
            for c in schema.table_columns(table)
        ],
    }
    if "year" in frame.columns and len(frame):
        entry["years"] = [int(frame["year"].min()), int(frame["year"].max())]
        entry["rows_by_year"] = {
            str(k): int(v) for k, v in frame["year"].value_counts().sort_index().items()
        }
    return entry


def _earlier_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The critmin manifest already in ``out_dir``; refuses a folder with other content."""
    if not out_dir.exists():
        return None
    if not out_dir.is_dir():
        raise InvalidInput(f"{out_dir} is a file, not a folder")
    entries = {p.name for p in out_dir.iterdir()} - PACKAGE_FILES
    if not entries:
        return None
    try:
        earlier: dict[str, Any] = json.loads((out_dir / MANIFEST).read_text("utf-8"))
        if isinstance(earlier.get("tables"), dict) and "snapshot" in earlier:
            return earlier
    except (OSError, ValueError):
        pass
    raise InvalidInput(
        f"{out_dir} is not empty and holds no critmin snapshot; give an empty or new folder"
    )


def write_snapshot(tables: dict[str, pd.DataFrame], out_dir: Path,
                   manifest: dict[str, Any]) -> dict[str, Any]:
    """Write every table and the manifest into ``out_dir``.

    Each file is written under a temporary name and renamed into place, the manifest last,
    so a failure midway leaves the earlier manifest pointing at whole files.
    """
    earlier = _earlier_manifest(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    for name in schema.SNAPSHOT_TABLES:
        frame = tables[name]
        path = out_dir / f"{name}.parquet"
        with files.atomic_write(path, mode=0o644) as tmp:
            write_parquet(name, frame, tmp)
        entries[name] = {"file": path.name, "sha256": sha256_of(path),
                         "bytes": path.stat().st_size, **describe(name, frame)}
    full = {**manifest, "tables": entries}
    with files.atomic_write(out_dir / MANIFEST, mode=0o644) as tmp:
        tmp.write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n", "utf-8")
    if earlier is not None:
        written = {e["file"] for e in entries.values()}
        for old in earlier["tables"].values():
            name = Path(str(old.get("file", ""))).name
            if name.endswith(".parquet") and name not in written:
                (out_dir / name).unlink(missing_ok=True)
    os.chmod(out_dir, 0o755)
    return full
