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

from critmin import files, numbers
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


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its columns in the order of their meaning for its table
    (``attrs["table"]``; :func:`critmin.schema.order`), every column kept."""
    from critmin import schema

    table = frame.attrs.get("table")
    if table is None:
        return frame
    cols = schema.order(table, map(str, frame.columns))
    if cols == list(map(str, frame.columns)):
        return frame
    out = frame[cols]
    out.attrs = dict(frame.attrs)
    return out


def flat(frame: pd.DataFrame, order: bool = True) -> pd.DataFrame:
    """``frame`` with list cells joined by ';' (for CSV, TSV and Excel), its columns in the
    order of their meaning (``order``)."""
    out = (ordered(frame) if order else frame).copy()
    for col in [c for c in out.columns if pd.api.types.is_object_dtype(out[c])]:
        out[col] = out[col].map(flat_text)
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame, order: bool = True) -> list[dict[str, Any]]:
    """JSON-ready rows at full float precision: NaN as None, list-text columns and list
    cells as lists; fields in the order of their meaning (``order``)."""
    out = (ordered(frame) if order else frame).copy()
    for col in [c for c in LIST_TEXT_COLUMNS if c in out.columns]:
        out[col] = out[col].fillna("").astype(str).map(lambda s: [f for f in s.split(";") if f])
    for col in [c for c in out.columns if pd.api.types.is_object_dtype(out[c])]:
        out[col] = out[col].map(as_list)
    out = out.astype(object).where(out.notna(), None)
    rows = out.to_dict(orient="records")
    return [{str(k): _json_value(v) for k, v in row.items()} for row in rows]


SHOWN_FLOOR = 0.001
"""Terminal views fold rows below this share of the total of every measure of the table
(a restriction's losses, a candidate's tonnes, a supplier's share of the mix…) into one
"others" row (:func:`fold`); ``--all`` and every file or JSON output keep each row."""


def fold(frame: pd.DataFrame, measures: Sequence[str], floor: float = SHOWN_FLOOR,
         keep: pd.Series | None = None) -> pd.DataFrame:
    """``frame`` with the rows below ``floor`` of the total of every one of ``measures``
    folded into one last row, ``others (N rows)`` in the first text column, holding the
    sum of each tonnes column whose values share a sign (other cells empty). Rows where ``keep`` is true stay; fewer
    than two small rows are left as they are.

    >>> f = pd.DataFrame({"country": ["A", "B", "C"], "loss_t": [1000.0, 0.2, 0.3]})
    >>> f.attrs["units"] = {"loss_t": "t (basis)"}
    >>> fold(f, ["loss_t"]).to_dict("list")
    {'country': ['A', 'others (2 rows)'], 'loss_t': [1000.0, 0.5]}
    """
    measured = [m for m in measures if m in frame.columns]
    if not measured or len(frame) < 2:
        return frame
    values = frame[measured].astype(float).abs().fillna(0.0)
    small = (values < floor * values.sum()).all(axis=1)
    if keep is not None:
        small &= ~keep.reindex(frame.index, fill_value=False).astype(bool)
    if int(small.sum()) < 2:
        return frame
    units = frame.attrs.get("units", {})
    label = next((c for c in frame.columns if frame[c].dtype.kind not in "fiucmMb"), None)
    rest = frame[small]
    row: dict[str, Any] = {}
    for col in frame.columns:
        if col == label:
            row[col] = f"others ({len(rest):,} rows)"
        elif col in measured or numbers.is_tonnes(str(units.get(col, ""))):
            # a sum of tonnes of one sign (a net exporter's negative supply is not added to
            # an importer's: such a column is left empty on the others row)
            tonnes = rest[col].astype(float)
            mixed = bool((tonnes < 0).any() and (tonnes > 0).any())
            row[col] = math.nan if mixed else float(tonnes.sum(min_count=1))
        else:
            row[col] = math.nan if frame[col].dtype.kind in "fiu" else None
    out = pd.concat([frame[~small], pd.DataFrame([row])], ignore_index=True)
    for col in frame.columns:  # numbers stay numbers, integers integers (the others row empty)
        if frame[col].dtype.kind in "iu" or str(frame[col].dtype).startswith("Int"):
            out[col] = out[col].astype("Int64")
        elif frame[col].dtype.kind == "f":
            out[col] = out[col].astype(float)
    out.attrs = dict(frame.attrs)
    return out


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


EXCEL_WIDTH = (6, 48)
"""Narrowest and widest Excel column, in characters."""
EXCEL_FIT_ROWS = 2000
"""Rows read to fit a column's width (the rest of a long table is assumed alike)."""
EXCEL_CHART_ROWS = 15
"""Rows charted on the first sheet (its leading rows, in the table's order)."""


def excel_number_format(unit: str, values: pd.Series) -> str | None:
    """The Excel number format of a numeric column of ``unit`` (None: Excel's own).
    Only the display changes: cells keep the full value; the rules are
    :func:`critmin.numbers.excel_format`'s, the terminal's.

    >>> import pandas as pd
    >>> excel_number_format("share", pd.Series([0.5]))
    '0.0 %'
    >>> excel_number_format("t (basis)", pd.Series([73.98300000000002, 12000.0]))
    '#,##0'
    >>> excel_number_format("kUSD", pd.Series([0.4, 2.5]))
    '#,##0.0'
    >>> excel_number_format("", pd.Series([1.5])) is None
    True
    >>> excel_number_format("t basis per t product", pd.Series([0.05])) is None
    True
    """
    return numbers.excel_format(unit, values)


def _identity_columns(frame: pd.DataFrame) -> int:
    """How many leading columns name a row (text, or the year): frozen with the header."""
    count = 0
    for col in list(frame.columns)[:3]:
        if str(col) != "year" and frame[col].dtype.kind in "fiucmMb":
            break
        count += 1
    return count if count < len(frame.columns) else 0


def _shown_width(value: Any, number_format: str | None) -> int:
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        if number_format is not None and number_format.endswith("%"):
            return len(numbers.share(value))
        decimals = {"#,##0": 0, "#,##0.0": 1, "#,##0.00": 2, "0.000": 3}.get(number_format or "")
        return len(f"{value:,.{decimals}f}") if decimals is not None else len(f"{value:.6g}")
    return len(str(value)) if value is not None else 0


def _format_sheet(sheet: Any, frame: pd.DataFrame, units: Mapping[str, str]) -> dict[str, str]:
    """Bold frozen header, identity columns frozen, autofilter, fitted widths and number
    formats by unit; returns the number format of each formatted column."""
    from openpyxl.styles import Font  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    formats: dict[str, str] = {}
    rows = len(frame)
    for i, col in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        number_format = None
        if frame[col].dtype.kind in "fiu":
            number_format = excel_number_format(units.get(str(col), ""), frame[col])
        if number_format is not None:
            formats[str(col)] = number_format
            for (cell,) in sheet.iter_rows(min_row=2, max_row=rows + 1, min_col=i, max_col=i):
                cell.number_format = number_format
        head = sheet.cell(row=1, column=i)
        head.font = Font(bold=True)
        sample = frame[col].iloc[:EXCEL_FIT_ROWS].tolist()
        widest = max([len(str(col)), *(_shown_width(v, number_format) for v in sample)])
        sheet.column_dimensions[letter].width = min(max(widest + 2, EXCEL_WIDTH[0]),
                                                    EXCEL_WIDTH[1])
    if len(frame.columns):
        sheet.freeze_panes = sheet.cell(row=2, column=_identity_columns(frame) + 1)
        sheet.auto_filter.ref = (f"A1:{get_column_letter(len(frame.columns))}"
                                 f"{rows + 1}")
    return formats


def _chart_measure(frame: pd.DataFrame, units: Mapping[str, str]) -> str | None:
    """The column charted on a sheet: the score, else the first share, else None."""
    numeric = [str(c) for c in frame.columns if frame[c].dtype.kind in "fiu"
               and str(c) != "year" and frame[c].notna().any()]
    for col in numeric:
        if col == "score":
            return col
    for col in numeric:
        if units.get(col) == "share":
            return col
    return None


def _chart(sheet: Any, frame: pd.DataFrame, units: Mapping[str, str],
           number_format: Mapping[str, str]) -> None:
    """A native bar chart of the sheet's main measure for its leading rows, beside the
    table (nothing when the sheet has no measure or no label column); a frame whose
    ``attrs["chart"]`` is ``lines`` (one row per series, one column per year) gets a line
    per row instead."""
    from openpyxl.chart import BarChart, Reference  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter

    if frame.attrs.get("chart") == "lines":
        _lines(sheet, frame, units, number_format)
        return

    measure = _chart_measure(frame, units)
    labels = [i for i, c in enumerate(frame.columns, start=1)
              if c != "year" and frame[c].dtype.kind not in "fiucmMb"]
    if measure is None or not labels or len(frame) < 2:
        return
    value_col = list(map(str, frame.columns)).index(measure) + 1
    named = _identity_columns(frame)  # the last naming column tells rows apart
    label_col = named if named in labels else labels[0]
    last = min(len(frame), EXCEL_CHART_ROWS) + 1
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = f"{measure}: first {last - 1} rows"
    chart.legend = None
    chart.y_axis.title = f"{measure} [{units[measure]}]" if units.get(measure) else measure
    chart.y_axis.numFmt = number_format.get(measure, "General")
    chart.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
    chart.x_axis.delete = chart.y_axis.delete = False  # some readers hide unstated axes
    chart.add_data(Reference(sheet, min_col=value_col, min_row=1, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=label_col, min_row=2, max_row=last))
    chart.height = max(7.5, 0.55 * (last - 1) + 2)
    chart.width = 16
    sheet.add_chart(chart, f"{get_column_letter(len(frame.columns) + 2)}2")


def _lines(sheet: Any, frame: pd.DataFrame, units: Mapping[str, str],
           number_format: Mapping[str, str]) -> None:
    """A native line chart with one line per row (named by the first column) across the
    numeric columns (the years)."""
    from openpyxl.chart import LineChart, Reference

    numeric = [i for i, c in enumerate(frame.columns, start=1) if frame[c].dtype.kind in "fiu"]
    if not numeric or frame.empty:
        return
    first, last = numeric[0], numeric[-1]
    measure = str(frame.columns[first - 1])
    chart = LineChart()
    chart.title = str(frame.attrs.get("chart_title", "by year"))
    chart.y_axis.numFmt = number_format.get(measure, "General")
    chart.y_axis.title = units.get(measure, "")
    chart.x_axis.delete = chart.y_axis.delete = False
    for row in range(2, len(frame) + 2):
        data = Reference(sheet, min_col=first - 1, max_col=last, min_row=row, max_row=row)
        chart.add_data(data, from_rows=True, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=first, max_col=last, min_row=1, max_row=1))
    chart.height, chart.width = 9, 18
    sheet.add_chart(chart, f"A{len(frame) + 4}")


def _sources() -> list[tuple[str, str]]:
    """What the result was computed from: the data fingerprint, critmin's version and the
    snapshot's sources (left out when the store cannot be read)."""
    from critmin import __version__
    from critmin.errors import CritminError
    from critmin.store import get_store

    out = [("critmin version", __version__)]
    try:
        store = get_store()
        out.append(("data fingerprint", store.fingerprint))
        manifest = store.manifest
    except (CritminError, OSError, KeyError):
        return out
    package = manifest.get("package") or {}
    if package.get("name"):
        out.append(("snapshot built from", f"{package['name']} {package.get('version', '')}"
                    .strip()))
    for source in manifest.get("sources") or []:
        parts = [source.get("name", source.get("id", "")), source.get("version", ""),
                 f"licence: {source['licence']}" if source.get("licence") else "",
                 source.get("url", "")]
        out.append((f"source {source.get('id', '')}".strip(), "; ".join(p for p in parts if p)))
    return out


def _notes_sheet(sheet: Any, notes: Sequence[str], units: list[dict[str, str]]) -> None:
    """The notes, then the sources and the units, on one sheet: ``note`` heads column A
    (read back with pandas, every row of column A is a note or a section's heading)."""
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    sheet.append(["note", "value"])
    for note in notes:
        sheet.append([note])
    if notes:
        sheet.append([])
    sheet.append(["sources"])
    sheet.cell(row=sheet.max_row, column=1).font = bold
    for name, value in _sources():
        sheet.append([name, value])
    if units:
        sheet.append([])
        sheet.append(["units (sheet: column)"])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        for u in units:
            sheet.append([f"{u['sheet']}: {u['column']}", u["unit"]])
    for cell in sheet[1]:
        cell.font = bold
    sheet.column_dimensions["A"].width = 100
    sheet.column_dimensions["B"].width = 60
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=2, max_col=2):
        for cell in row:
            cell.alignment = wrap
    sheet.freeze_panes = "A2"


def _excel(sheets: Mapping[str, pd.DataFrame], path: Path, notes: Sequence[str],
           chart_all: bool = False, order: bool = True) -> None:
    """A formatted workbook: one sheet per table (number formats by unit over the full
    values, fitted widths, bold frozen header, autofilter, a chart of the first sheet's
    main measure, or of every sheet's with ``chart_all``), the units, and the notes with
    the sources and data fingerprint."""
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
        for i, (name, frame) in enumerate(sheets.items()):
            frame = ordered(frame) if order else frame
            flat(frame, order=False).to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            frame_units = frame.attrs.get("units", {})
            formats = _format_sheet(sheet, frame, frame_units)
            if i == 0 or chart_all:
                _chart(sheet, frame, frame_units, formats)
        if len(sheets) > 1 or units:
            table = pd.DataFrame(units, columns=["sheet", "column", "unit"])
            table.to_excel(writer, sheet_name="units", index=False)
            _format_sheet(writer.sheets["units"], table, {})
        _notes_sheet(writer.book.create_sheet("notes"), notes, units)


def write(out: Path, frame: pd.DataFrame, *, sheets: Mapping[str, pd.DataFrame] | None = None,
          notes: Sequence[str] = (), payload: Any = None, force: bool = False,
          order: bool = True) -> Path:
    """Write a result to ``out`` in the format of its extension, atomically.

    ``frame`` is the main table (CSV, Parquet, JSON Lines, the first Excel sheet);
    ``sheets`` all tables of a multi-table result (Excel sheets); ``payload`` the whole
    result as JSON (for .json; default: the frame's records). An existing file is replaced
    only with ``force``. Columns come in the order of their meaning (``order``; False keeps
    the frame's, e.g. the order the user named them in).
    """
    import json

    out = check_destination(out, force=force)
    fmt = output_format(out)
    if order:
        frame = ordered(frame)
    with files.atomic_write(out) as tmp:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False, compression="zstd")
        elif fmt == "csv":
            flat(frame, order=False).to_csv(tmp, index=False)
        elif fmt == "jsonl":
            with tmp.open("w", encoding="utf-8") as fh:
                for row in records(frame, order=False):
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif fmt == "json":
            body = records(frame, order=False) if payload is None else payload
            tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", "utf-8")
        else:
            _excel(sheets or {"data": frame}, tmp, notes, order=order)
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
