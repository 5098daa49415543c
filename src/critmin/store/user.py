"""The user's imported data: a manifest and content-addressed Parquet files.

An import writes its Parquet file under a new name, then replaces ``manifest.json`` in one
atomic rename; readers only ever follow the manifest, so an import that fails midway
leaves the store exactly as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from critmin.errors import DataError
from critmin.sources.bundle import sha256_of
from critmin.store import paths
from critmin.store.snapshot import MANIFEST, describe, write_parquet


def imports_dir() -> Path:
    """Folder of imported tables."""
    return paths.user_dir() / "imports"


def read_manifest() -> dict[str, Any]:
    """The user manifest; empty when nothing was imported."""
    path = imports_dir() / MANIFEST
    if not path.exists():
        return {"tables": {}, "imports": []}
    try:
        loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"user data manifest {path} is unreadable: {exc}") from exc
    return loaded


def _write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_flows(new: pd.DataFrame, record: dict[str, Any]) -> dict[str, Any]:
    """Store imported flows: they replace earlier imported rows of the same years.

    Snapshot rows of those years are hidden by the store; other years are untouched.
    Returns the new manifest.
    """
    folder = imports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest()
    old = manifest["tables"].get("flows")
    frame = new
    if old:
        previous = pd.read_parquet(folder / old["file"])
        kept = previous[~previous["year"].isin(set(new["year"].unique()))]
        frame = pd.concat([kept, new], ignore_index=True)
    frame = frame.sort_values(["hs6", "year", "importer", "exporter"]).reset_index(drop=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".flows-", suffix=".parquet", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write_parquet("flows", frame, tmp)
        digest = sha256_of(tmp)
        final = folder / f"flows-{digest[:16]}.parquet"
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    manifest["tables"]["flows"] = {"file": final.name, "sha256": digest, **describe("flows", frame)}
    manifest["imports"].append(record)
    _write_json_atomic(folder / MANIFEST, manifest)
    if old and old["file"] != final.name:
        (folder / old["file"]).unlink(missing_ok=True)
    return manifest


def reset() -> None:
    """Forget every import (the snapshot is untouched)."""
    folder = imports_dir()
    manifest = read_manifest()
    if (folder / MANIFEST).exists():
        (folder / MANIFEST).unlink()
    for entry in manifest["tables"].values():
        (folder / entry["file"]).unlink(missing_ok=True)
