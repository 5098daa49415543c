"""The cache of the cube's outputs: Parquet files keyed by what the numbers depend on.

The whole cube (and the partner table beside it) is computed once and cached as Parquet,
keyed by the data's fingerprint, critmin's version, the declared output schema and the
metric parameters, so that new data, new code or a changed constant never serves old
numbers. The cache is best effort: an unreadable file is recomputed, an unwritable folder
is skipped. A request for some years or minerals reads only those rows of the cache, or,
with no cache, computes only them (every metric is per mineral and year, so a subset
computes the same numbers as the whole) and keeps them in a file of that subset, which the
next command on the same data reads; the whole output, once computed, replaces them.

Every cache file has a record beside it (``<file>.json``: bytes, rows and sha256 as
written). A file that does not match its record, or has none (its writer was killed), is
damaged: it is discarded and computed again on the next read, and reported (and removed) by
``critmin data status``. A data folder that cannot be written keeps its cache in a private
folder of the system's temporary folder instead. Temporary files of writers that were killed
are removed when a process first uses the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import compute, schema
from critmin.errors import DataError, InvalidInput
from critmin.store import Store, paths
from critmin.store.engine import Engine


def cache_key(store: Store, mode: str) -> str:
    """Fingerprint of the data, critmin's version, the output schema and the parameters."""
    from critmin.version import __version__

    text = json.dumps(
        [store.fingerprint, __version__, schema.digest(), compute.parameters(), mode],
        sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cache_path(store: Store, output: str, mode: str) -> Path:
    """Where ``output`` of this data, code and mode is cached."""
    return _folder_or_default() / f"{output}-{cache_key(store, mode)}.parquet"


_FOLDERS: dict[Path, Path | None] = {}
"""The cache folder chosen for each user cache folder in this process."""

ORPHAN_AGE_S = 600
"""Age after which a temporary file in the cache folder is a leftover whatever its name (a
writer's own files are known by its process id, and removed at once when it is gone)."""


def folder() -> Path | None:
    """The folder the cache is written to: the user's (:func:`critmin.store.paths.cache_dir`)
    or, when that cannot be written (a read-only data folder), a private folder in the
    system's temporary folder; None when neither can be written. Leftovers of killed writers
    are removed the first time a process asks."""
    user = paths.cache_dir()
    if user in _FOLDERS:
        return _FOLDERS[user]
    from critmin import files

    chosen = user if _writable(user) else _private_temp()
    if chosen is not None:
        files.remove_leftovers(chosen, min_age_s=ORPHAN_AGE_S)
        for record in chosen.glob("*.parquet.json"):
            if not record.with_suffix("").exists():
                record.unlink(missing_ok=True)
    _FOLDERS[user] = chosen
    return chosen


def _folder_or_default() -> Path:
    return folder() or paths.cache_dir()


def scratch_folder() -> Path:
    """A folder for temporary files of one command (the cache folder when it can be
    written, else the system's temporary folder)."""
    return folder() or Path(tempfile.gettempdir())


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def _private_temp() -> Path | None:
    """``critmin-cache-<uid>`` in the system's temporary folder, if it is this user's alone."""
    path = Path(tempfile.gettempdir()) / f"critmin-cache-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.lstat()
    except OSError:
        return None
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
            or info.st_mode & 0o077 or not os.access(path, os.W_OK | os.X_OK)):
        return None
    return path


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def seal(path: Path) -> None:
    """Record the bytes, rows and sha256 of the cache file ``path`` beside it (after it is
    complete and in place), so that damage is seen before it is read."""
    import pyarrow.parquet as pq

    from critmin import files

    record = {"bytes": path.stat().st_size, "rows": pq.read_metadata(path).num_rows,
              "sha256": files.sha256_of(path)}
    with files.atomic_write(_record_path(path)) as tmp:
        tmp.write_text(json.dumps(record) + "\n", "utf-8")


_VERIFIED: set[tuple[str, int, int, int]] = set()
"""Cache files whose sha256 this process checked, by path, inode, size and mtime."""


def damage(path: Path, deep: bool = False) -> str | None:
    """Why the cache file ``path`` cannot be trusted, or None: it has no record, its size or
    framing differs from it, or (``deep``) its content differs from the recorded sha256 or
    row count."""
    import pyarrow.parquet as pq

    from critmin import files
    from critmin.store.user import parquet_problem

    try:
        record = json.loads(_record_path(path).read_text("utf-8"))
        size, rows, digest = int(record["bytes"]), int(record["rows"]), str(record["sha256"])
    except FileNotFoundError:
        if not path.exists():
            return "file is missing"
        return "no record of what was written (its writer was interrupted)"
    except (OSError, ValueError, KeyError, TypeError):
        return "its record is damaged"
    problem = parquet_problem(path, size)
    if problem is not None or not deep:
        return problem
    info = path.stat()
    state = (str(path), info.st_ino, info.st_size, info.st_mtime_ns)
    if state in _VERIFIED:
        return None
    if files.sha256_of(path) != digest:
        return "content differs from what was written (sha256)"
    try:
        if pq.read_metadata(path).num_rows != rows:
            return f"row count differs from the {rows:,} written"
    except (OSError, ValueError) as exc:
        return f"not readable as Parquet ({exc})"
    _VERIFIED.add(state)
    return None


def discard(path: Path) -> None:
    """Remove a cache file and its record (if the folder can be written)."""
    for gone in (path, _record_path(path)):
        with suppress(OSError):
            gone.unlink(missing_ok=True)


def _usable(path: Path, deep: bool = False) -> bool:
    """Whether ``path`` is a whole cache file by its record (size and framing; ``deep``: its
    sha256 too, once per process); a damaged one is discarded. Filtered reads check only
    the size, as reading the sha256 of the partners table costs a tenth of a second: damage
    the size does not show fails the read, which discards the file too."""
    if not path.exists():
        return False
    if damage(path, deep=deep) is None:
        return True
    discard(path)
    return False


def repair(deep: bool = False) -> list[str]:
    """Damaged files of the cache, each discarded (they are derived data: computed again
    when next needed); ``deep`` checks every file's sha256."""
    where = folder()
    if where is None or not where.is_dir():
        return []
    found = []
    for path in sorted(where.glob("*.parquet")):
        if path.name.startswith("."):
            continue
        problem = damage(path, deep)
        if problem is not None and path.exists():
            discard(path)
            found.append(f"cache {path.name}: {problem}; removed (derived data, computed "
                         "again when next needed)")
    return found


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
        self.path = path
        self.writer = stack.enter_context(pq.ParquetWriter(
            stack.enter_context(files.atomic_write(path)), declared, compression="zstd",
            use_dictionary=keys))

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa

        for start in range(0, len(frame), self.SLICE):
            part = pa.Table.from_pandas(frame.iloc[start:start + self.SLICE],
                                        preserve_index=False)
            self.writer.write_table(schema.conform(self.name, part))


def write_output(output: str, frame: pd.DataFrame, path: Path, sealed: bool = False) -> Path:
    """Write rows of ``output`` to ``path`` as its cache file holds them (the declared Arrow
    schema), so that the store reads them the same way; ``sealed``: with its record (a cache
    file)."""
    with ExitStack() as stack:
        _ParquetSink(output, path, stack).write(frame)
    if sealed:
        seal(path)
    return path


def _fill_cache(store: Store, mode: str, progress: compute.Progress | None,
                engine: Engine | None) -> dict[str, pd.DataFrame]:
    """Compute every output of ``mode`` for all years, a batch of years at a time, and write
    each batch to the cache as it comes; returns the outputs in memory instead when the
    cache folder cannot be written."""
    from critmin import files

    say = progress or (lambda _msg: None)
    years = sorted(store.rows_by_year("flows") | store.rows_by_year("production"))
    batches = year_batches(store, years)
    where = folder()
    try:
        if where is None:
            raise PermissionError("no cache folder can be written")
        where.mkdir(parents=True, exist_ok=True)  # removed since this process chose it
        files.remove_leftovers(where, min_age_s=ORPHAN_AGE_S)
        # one output is written while the next is computed (Parquet's encoder releases the
        # GIL); at most one waits, so memory stays bounded. The pool closes (its last write
        # done) before the files do.
        with ExitStack() as stack, ThreadPoolExecutor(max_workers=1) as pool:
            sinks: dict[str, _ParquetSink] = {}
            writing: Future[None] | None = None
            for n, batch in enumerate(batches, 1):
                if len(batches) > 1:
                    say(f"years {batch[0]}-{batch[-1]} (batch {n} of {len(batches)})")
                for name, frame in compute.outputs(store, mode, batch, progress=progress,
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
        for sink in sinks.values():
            seal(sink.path)
    except OSError:  # the cache is optional: a read-only or full disk costs recomputation
        return compute.compute(store, mode, progress=progress, engine=engine)
    for name in compute.OUTPUTS[mode]:
        keep = cache_path(store, name, mode)
        for stale in where.glob(f"{name}-*.parquet"):
            if stale != keep:
                discard(stale)
    return {}


_RECENT: dict[tuple[Any, ...], dict[str, pd.DataFrame]] = {}
"""The last subset computed, by (cache key, mode, years, minerals): a profile asks for the
cube, the stages and the partners of one year, computed once."""


def _computed(store: Store, mode: str, years: list[int] | None, minerals: list[str] | None,
              progress: compute.Progress | None, engine: Engine | None = None
              ) -> dict[str, pd.DataFrame]:
    key = (cache_key(store, mode), mode, tuple(years or ()), tuple(minerals or ()))
    found = _RECENT.get(key)
    if found is None:
        found = compute.compute(store, mode, years, minerals, progress, engine)
        _RECENT.clear()
        _RECENT[key] = found
    return found


SUBSETS_KEPT = 24
"""Subset files kept per output (the most recently used); the whole output replaces them."""


def _subset_files(store: Store, mode: str, years: list[int] | None,
                  minerals: list[str] | None, progress: compute.Progress | None,
                  engine: Engine | None) -> dict[str, Path] | None:
    """The cache files of one subset of years and minerals of every output of ``mode``,
    computed and written first when missing (so that the next command on the same data reads
    what this one computed); None when the cache folder cannot be written."""
    where = folder()
    if where is None:
        return None
    subset = json.dumps([sorted(years) if years is not None else None,
                         sorted(minerals) if minerals is not None else None])
    digest = hashlib.sha256(subset.encode()).hexdigest()[:12]
    key = cache_key(store, mode)
    found = {name: where / f"{name}-{key}-{digest}.parquet" for name in compute.OUTPUTS[mode]}
    if all([_usable(path) for path in found.values()]):
        for path in found.values():
            os.utime(path)  # recently used: kept longest
        return found
    try:
        where.mkdir(parents=True, exist_ok=True)
        frames = _computed(store, mode, years, minerals, progress, engine)
        for name, path in found.items():
            write_output(name, frames[name], path, sealed=True)
    except OSError:  # the cache is optional
        return None
    for name in compute.OUTPUTS[mode]:
        subsets = sorted(where.glob(f"{name}-*-*.parquet"), key=_mtime, reverse=True)
        ours = [p for p in subsets if p.name.startswith(f"{name}-{key}-")]
        for stale in [p for p in subsets if p not in ours] + ours[SUBSETS_KEPT:]:
            discard(stale)
    return found


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile by another process
        return 0.0


def _read(store: Store, output: str, path: Path, where: dict[str, list[Any] | None]
          ) -> pd.DataFrame:
    frame = _in_stage_order(store.read_parquet(path, where, order=compute.KEYS[output]))
    frame.attrs["units"] = schema.units(output)
    return frame


def load(store: Store, output: str, compat: str | None = None,
         years: list[int] | None = None, minerals: list[str] | None = None,
         countries: list[str] | None = None, progress: compute.Progress | None = None,
         engine: Engine | None = None) -> pd.DataFrame:
    """Rows of a cached output (``cube``, ``partners``, ``cube_compat``) for the store's
    current data, filtered; computed (by ``engine``, DuckDB unless given) and cached first
    when the whole output is asked for. The cache does not depend on the engine."""
    mode = compute.mode_of(compat)
    if output not in compute.OUTPUTS[mode]:
        raise InvalidInput(f"{output!r} is not an output of the {mode} mode")
    path = cache_path(store, output, mode)
    key = schema.column_of(output, "country") or "country"
    where: dict[str, list[Any] | None] = {"year": years, "mineral": minerals, key: countries}
    whole = years is None and minerals is None
    memo = (cache_key(store, mode), mode, (), ())
    for attempt in range(2):  # a damaged cache is discarded and computed again, once
        if not _usable(path) and whole and memo not in _RECENT:
            unwritten = _fill_cache(store, mode, progress, engine)
            if unwritten:  # kept for the next call, as the cache cannot hold them
                _RECENT.clear()
                _RECENT[memo] = unwritten
        if not path.exists():
            break
        try:
            return _read(store, output, path, where)
        except DataError:
            discard(path)
            if not whole or attempt:
                break
    subset = None if whole else _subset_files(store, mode, years, minerals, progress, engine)
    if subset is not None:
        try:
            return _read(store, output, subset[output], where)
        except DataError:
            discard(subset[output])  # damaged: computed again below
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
                progress: compute.Progress | None = None, engine: Engine | None = None) -> Path:
    """The cache file of a whole output, computing it first if needed (for streaming
    exports; by ``engine``, DuckDB unless given); raises when the cache folder cannot be
    written."""
    mode = compute.mode_of(compat)
    path = cache_path(store, output, mode)
    if not _usable(path, deep=True):  # missing, or damaged and discarded
        _fill_cache(store, mode, progress, engine)
    if not path.exists():
        raise DataError(f"cannot write the cache folder {path.parent} (nor a private folder "
                        f"in {tempfile.gettempdir()}); exports of {output} need one")
    return path
