"""The user's imported tables: year-partitioned Parquet files named by their content, and a
manifest that lists them.

Writers hold the store's lock (:func:`writing`) from reading the manifest to publishing the
next one in a single atomic rename; readers follow only the manifest and hold a lease on its
generation (:func:`open_generation`), so they always see one whole state, old or new.
Files of a replaced state are deleted only when no lease on an older generation is held.
The manifest is trusted only for bare file names of critmin's own pattern.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from critmin import files, schema
from critmin.errors import DataError
from critmin.store import lock, paths
from critmin.store.registry import release_stores

MANIFEST = "manifest.json"
FORMAT = 2
LOCK_FILE = ".lock"
LEASES = ".leases"
LOCK_TIMEOUT_S = float(os.environ.get("CRITMIN_LOCK_TIMEOUT", "3600"))
"""How long a writer waits for another writer (seconds; ``CRITMIN_LOCK_TIMEOUT``)."""

DATA_FILE = re.compile(r"^(?P<table>[a-z_]+)-(?P<year>\d{4})-(?P<digest>[0-9a-f]{16})\.parquet$")
RESET_HINT = "run `critmin data reset` to forget the imports (the bundled data stays)"
ACCESS_HINT = ("critmin needs to read its data folder: give yourself access, or set "
               "CRITMIN_HOME to another folder")


def empty_manifest() -> dict[str, Any]:
    """The manifest of a store with nothing imported."""
    return {"format": FORMAT, "generation": "", "tables": {}, "imports": []}


def data_file_name(table: str, year: int, digest: str) -> str:
    """The name of an imported table's file for one year."""
    return f"{table}-{year:04d}-{digest[:16]}.parquet"


def _check(manifest: Any) -> dict[str, Any]:
    """The manifest if its structure is what critmin writes; DataError otherwise."""
    def bad(why: str) -> DataError:
        return DataError(f"the import manifest {paths.imports_dir() / MANIFEST} is damaged "
                         f"({why}); {RESET_HINT}")

    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise bad("unknown format")
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not isinstance(manifest.get("imports"), list):
        raise bad("no tables")
    for table, entry in tables.items():
        if table not in schema.STORED_TABLES or not isinstance(entry, dict):
            raise bad(f"unknown table {table!r}")
        for year, part in entry.get("years", {}).items():
            name = part.get("file") if isinstance(part, dict) else None
            match = DATA_FILE.fullmatch(str(name))
            if match is None or match["table"] != table or int(match["year"]) != int(year):
                raise bad(f"file name {name!r} is not one critmin writes")
            if not isinstance(part.get("rows"), int) or not isinstance(part.get("bytes"), int):
                raise bad(f"no row count for {name}")
    return manifest


def read_manifest() -> dict[str, Any]:
    """The user manifest (empty when nothing was imported); DataError when damaged."""
    path = paths.imports_dir() / MANIFEST
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return empty_manifest()
    except NotADirectoryError:
        raise DataError(f"{paths.imports_dir()} is not a folder; {RESET_HINT}") from None
    except PermissionError:
        raise DataError(f"cannot read {path}: permission denied; {ACCESS_HINT}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}; {RESET_HINT}") from None
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        raise DataError(f"the import manifest {path} is damaged (not JSON); {RESET_HINT}") from None
    return _check(loaded)


def year_files(manifest: dict[str, Any], table: str) -> dict[int, Path]:
    """Year -> file of an imported table."""
    entry = manifest["tables"].get(table, {})
    return {int(y): paths.imports_dir() / p["file"] for y, p in entry.get("years", {}).items()}


def open_generation(attempts: int = 20) -> tuple[dict[str, Any], lock.Lease | None]:
    """The current manifest and a lease that keeps its files from being deleted."""
    for _ in range(attempts):
        manifest = read_manifest()
        generation = manifest["generation"]
        if not generation:
            return manifest, None
        lease = lock.Lease(paths.imports_dir() / LEASES / f"{generation}.lock")
        if read_manifest()["generation"] == generation:
            return manifest, lease
        lease.release()
    raise DataError("the imported data keeps changing under this reader; try again")


@contextmanager
def writing(waiting: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
    """Hold the store's write lock; yield the current manifest (empty if unreadable is not
    allowed: a damaged manifest raises, except for :func:`reset`). Leftovers of interrupted
    runs and unneeded files are removed on entry."""
    folder = paths.imports_dir()
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is not a folder; {RESET_HINT}")
    release_stores()
    with lock.exclusive(folder / LOCK_FILE, LOCK_TIMEOUT_S, waiting):
        files.remove_leftovers(folder)
        manifest = read_manifest()
        collect_garbage(manifest)
        yield manifest


def publish(manifest: dict[str, Any]) -> dict[str, Any]:
    """Write ``manifest`` as the next generation (call while holding :func:`writing`)."""
    folder = paths.imports_dir()
    manifest = {**manifest, "format": FORMAT, "generation": uuid.uuid4().hex}
    _check(manifest)
    with files.atomic_write(folder / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    collect_garbage(manifest)
    return manifest


def collect_garbage(manifest: dict[str, Any]) -> list[str]:
    """Delete data files the manifest does not name, if no reader holds an older lease."""
    folder = paths.imports_dir()
    leases = folder / LEASES
    current = manifest.get("generation", "")
    stale = [p for p in leases.glob("*.lock") if p.stem != current] if leases.is_dir() else []
    if not all([lock.unused(p) for p in stale]):
        return []
    keep = {p["file"] for e in manifest["tables"].values() for p in e.get("years", {}).values()}
    removed = []
    for entry in folder.iterdir():
        if DATA_FILE.fullmatch(entry.name) and entry.name not in keep:
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed


def reset(waiting: Callable[[], None] | None = None,
          notify: Callable[[str], None] | None = None) -> None:
    """Forget every import, whatever state the manifest is in (the snapshot is untouched).

    Something that stands where the imports folder or its manifest should be (a file where
    the folder belongs, a folder where the manifest belongs) is moved aside, never deleted,
    and ``notify`` is told where it went."""
    folder = paths.imports_dir()
    tell = notify or (lambda _msg: None)
    moved = _move_aside(folder, folder=True)
    if moved is not None:
        tell(f"{folder} was not a folder; moved it to {moved}")
    release_stores()
    with lock.exclusive(folder / LOCK_FILE, LOCK_TIMEOUT_S, waiting):
        files.remove_leftovers(folder)
        moved = _move_aside(folder / MANIFEST, folder=False)
        if moved is not None:
            tell(f"{folder / MANIFEST} was not a file; moved it to {moved}")
        publish(empty_manifest())


def _move_aside(path: Path, folder: bool) -> Path | None:
    """Rename ``path`` to a free name beside it if it is not what belongs there (a folder,
    or a regular file); the new name, or None when nothing was in the way."""
    import stat
    import time

    try:
        info = path.stat()  # a link to a folder (or file) is what belongs there
    except FileNotFoundError:
        if not path.is_symlink():
            return None
    else:
        if (stat.S_ISDIR if folder else stat.S_ISREG)(info.st_mode):
            return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(100):
        target = path.with_name(f"{path.name}.moved-{stamp}" + (f"-{n}" if n else ""))
        if not target.exists() and not target.is_symlink():
            os.rename(path, target)
            return target
    raise DataError(f"{path} is in the way and cannot be moved aside; remove it")


def verify(manifest: dict[str, Any], deep: bool = False) -> list[str]:
    """Problems with the imported files: missing, wrong size, not Parquet, wrong sha256
    (``deep``)."""
    from critmin.files import sha256_of

    problems = []
    for table, entry in manifest["tables"].items():
        for year, part in sorted(entry.get("years", {}).items()):
            path = paths.imports_dir() / part["file"]
            problem = parquet_problem(path, part["bytes"])
            if problem is None and deep and sha256_of(path) != part["sha256"]:
                problem = "content differs from its sha256"
            if problem:
                problems.append(f"imported {table} {year} ({path.name}): {problem}")
    return problems


def parquet_problem(path: Path, size: int | None) -> str | None:
    """Why ``path`` is not a whole Parquet file of ``size`` bytes, or None."""
    try:
        actual = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4)
            fh.seek(max(actual - 4, 0))
            tail = fh.read(4)
    except FileNotFoundError:
        return "file is missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if size is not None and actual != size:
        return f"truncated or changed ({actual:,} bytes, expected {size:,})"
    if head != b"PAR1" or tail != b"PAR1":
        return "not a whole Parquet file"
    return None
