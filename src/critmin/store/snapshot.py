"""Writing canonical tables as Parquet (zstd) with a manifest, atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import schema
from critmin.sources.bundle import sha256_of

MANIFEST = "manifest.json"


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


def write_snapshot(tables: dict[str, pd.DataFrame], out_dir: Path,
                   manifest: dict[str, Any]) -> dict[str, Any]:
    """Write every table and the manifest into ``out_dir``, replacing it as a whole.

    The files are written to a sibling temporary folder first, so a failure leaves the
    previous snapshot untouched.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".snapshot-", dir=out_dir.parent))
    try:
        entries: dict[str, Any] = {}
        for name in schema.SNAPSHOT_TABLES:
            frame = tables[name]
            path = tmp / f"{name}.parquet"
            write_parquet(name, frame, path)
            entries[name] = {"file": path.name, "sha256": sha256_of(path), **describe(name, frame)}
        full = {**manifest, "tables": entries}
        (tmp / MANIFEST).write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n", "utf-8")
        keep = {p.name for p in out_dir.glob("*")} - {f"{n}.parquet" for n in entries} - {MANIFEST}
        for name in keep:  # files that are not snapshot files (e.g. __init__.py) stay
            src = out_dir / name
            if src.is_file():
                shutil.copy2(src, tmp / name)
        backup = out_dir.with_name(out_dir.name + ".old")
        if out_dir.exists():
            os.replace(out_dir, backup)
        os.replace(tmp, out_dir)
        out_dir.chmod(0o755)
        shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return full
