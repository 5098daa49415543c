"""Serialising results: JSON-ready records, and files by extension (.csv, .parquet, .json,
.jsonl, .xlsx), written atomically with normal permissions, never inside the store.

Large cached outputs (the whole cube) are streamed from Parquet by the store's engine
without being built in memory (:func:`stream_cached`).

>>> import pandas as pd
>>> records(pd.DataFrame({"x": [1.5, float("nan")], "flags": ["a;b", ""]}))
[{'x': 1.5, 'flags': ['a', 'b']}, {'x': None, 'flags': []}]
"""

from __future__ import annotations

import math
import shutil
import stat
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from critmin import files
from critmin.errors import InvalidInput, nearest

FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json", ".jsonl": "jsonl",
           ".xlsx": "xlsx"}
LIST_TEXT_COLUMNS = ("flags",)
"""Text columns holding ';'-separated lists: lists in JSON, text elsewhere."""
EXCEL_MAX_ROWS = 1_048_575
"""Data rows an Excel sheet holds (1,048,576 rows including the header)."""


def as_list(value: Any) -> Any:
    """A sequence cell (list, tuple or the numpy array Parquet gives back) as a list."""
    import numpy as np

    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) if isinstance(v, np.str_) else v for v in list(value)]
    return value


def flat_text(value: Any) -> Any:
    """A sequence cell joined with ';' for CSV and Excel; other cells unchanged."""
    value = as_list(value)
    return ";".join(map(str, value)) if isinstance(value, list) else value


def flat(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with list cells joined by ';' (for CSV, TSV and Excel)."""
    out = frame.copy()
    for col in [c for c in out.columns if pd.api.types.is_object_dtype(out[c])]:
        out[col] = out[col].map(flat_text)
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows at full float precision: NaN as None, list-text columns and list
    cells as lists."""
    out = frame.copy()
    for col in [c for c in LIST_TEXT_COLUMNS if c in out.columns]:
        out[col] = out[col].fillna("").astype(str).map(lambda s: [f for f in s.split(";") if f])
    for col in [c for c in out.columns if pd.api.types.is_object_dtype(out[c])]:
        out[col] = out[col].map(as_list)
    out = out.astype(object).where(out.notna(), None)
    rows = out.to_dict(orient="records")
    return [{str(k): _json_value(v) for k, v in row.items()} for row in rows]


def output_format(out: Path) -> str:
    """The format named by ``out``'s extension."""
    fmt = FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        shown = Path(out).suffix or Path(out).name
        raise InvalidInput(f"unknown output format {shown!r}; use one of {', '.join(FORMATS)}",
                           suggestions=nearest(Path(out).suffix, FORMATS))
    return fmt


FILE_KINDS = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device",
              stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}
FORCE_HINT = "replace it with --force (force=True from Python)"


def check_destination(out: Path, table: bool = True, force: bool = False) -> Path:
    """``out`` if it can be written: its folder exists, it is not inside critmin's own data
    (the snapshot or the user store), it is a new file or (``force``) an existing regular
    file, never a pipe, device or folder, and (``table``) its extension names a table
    format.

    >>> import tempfile, pathlib
    >>> taken = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = taken.write_text("x")
    >>> check_destination(taken)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    critmin.errors.InvalidInput: ...t.csv already exists; replace it with --force (force=True from Python)
    >>> check_destination(taken, force=True) == taken
    True
    """
    from critmin.store import paths

    out = Path(out)
    if not out.parent.exists():
        raise InvalidInput(f"folder {out.parent} does not exist")
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder; give a file name")
    for folder in (paths.user_dir(), paths.snapshot_dir()):
        if files.inside(out, folder):
            raise InvalidInput(f"{out} is inside critmin's data folder {folder}; "
                               "write exports somewhere else")
    try:
        info = out.stat()
    except FileNotFoundError:  # a new file (or a dangling link, replaced by the file)
        info = None
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = FILE_KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise InvalidInput(f"{out} is {kind}; results are written to regular files only "
                           "(to feed a pipe, print with --csv or --json and redirect)")
    if table:
        output_format(out)
    if info is not None and not force:
        raise InvalidInput(f"{out} already exists; {FORCE_HINT}")
    return out


def _excel(sheets: Mapping[str, pd.DataFrame], path: Path, notes: Sequence[str]) -> None:
    try:
        import openpyxl  # type: ignore[import-untyped]  # noqa: F401  (no stubs; only checked)
    except ImportError:
        raise InvalidInput("Excel output needs openpyxl: pip install openpyxl") from None
    for name, frame in sheets.items():
        if len(frame) > EXCEL_MAX_ROWS:
            raise InvalidInput(
                f"{len(frame):,} rows in {name!r} exceed Excel's limit of {EXCEL_MAX_ROWS:,}; "
                "use .csv, .parquet or .jsonl")
    units = [{"sheet": s, "column": c, "unit": u}
             for s, f in sheets.items() for c, u in f.attrs.get("units", {}).items()]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            flat(frame).to_excel(writer, sheet_name=name[:31], index=False)
        if len(sheets) > 1 or units:
            pd.DataFrame(units, columns=["sheet", "column", "unit"]).to_excel(
                writer, sheet_name="units", index=False)
        if notes:
            pd.DataFrame({"note": list(notes)}).to_excel(writer, sheet_name="notes", index=False)


def write(out: Path, frame: pd.DataFrame, *, sheets: Mapping[str, pd.DataFrame] | None = None,
          notes: Sequence[str] = (), payload: Any = None, force: bool = False) -> Path:
    """Write a result to ``out`` in the format of its extension, atomically.

    ``frame`` is the main table (CSV, Parquet, JSON Lines, the first Excel sheet);
    ``sheets`` all tables of a multi-table result (Excel sheets); ``payload`` the whole
    result as JSON (for .json; default: the frame's records). An existing file is replaced
    only with ``force``.
    """
    import json

    out = check_destination(out, force=force)
    fmt = output_format(out)
    with files.atomic_write(out) as tmp:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False, compression="zstd")
        elif fmt == "csv":
            flat(frame).to_csv(tmp, index=False)
        elif fmt == "jsonl":
            with tmp.open("w", encoding="utf-8") as fh:
                for row in records(frame):
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif fmt == "json":
            body = records(frame) if payload is None else payload
            tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", "utf-8")
        else:
            _excel(sheets or {"data": frame}, tmp, notes)
    return out


def stream_cached(source: Path | str, where: Mapping[str, list[Any] | None],
                  columns: list[str], fmt: str, out: Path | None,
                  order: list[str] | None = None, force: bool = False) -> None:
    """Write rows of a cached Parquet output (or a stored table, by name) to ``out`` (or
    stdout when None) in ``fmt`` (csv, tsv, json, jsonl, parquet), streamed by the store's
    engine: memory stays small whatever the size. An existing ``out`` is replaced only with
    ``force``."""
    from critmin.store import get_store

    store = get_store()
    lists = list(LIST_TEXT_COLUMNS)
    if out is not None:
        with files.atomic_write(check_destination(out, force=force)) as tmp:
            store.copy(source, dict(where), columns, fmt, tmp, lists, order)
        return
    from critmin import cache

    with files.temp_folder(cache.scratch_folder()) as folder:
        tmp = folder / f"stream.{fmt}"
        store.copy(source, dict(where), columns, fmt, tmp, lists, order)
        _copy_to(tmp, sys.stdout)


def _copy_to(path: Path, stream: TextIO) -> None:
    stream.flush()
    buffer = stream.buffer
    with path.open("rb") as src:
        shutil.copyfileobj(src, buffer, 1 << 20)
    buffer.flush()
