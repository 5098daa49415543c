"""CEPII BACI bilateral trade: release CSV files (plain or zipped, streamed) and the bundled
SQLite.

Both paths end in :func:`to_flows`, which turns raw text rows ``t,i,j,k,v,q`` into
canonical flows plus the source's own country codes, and :func:`critmin.sources.validate
.validate`, so the snapshot build and ``critmin data import baci`` keep and drop the same
rows for the same reasons. Release files are read in blocks: memory stays bounded whatever
their size. A zip archive is opened once and its listing checked before any row is read
(:class:`critmin.files.ZipArchive`: entries, repeated names, encryption, declared sizes);
a member that inflates beyond what it declares or is damaged stops the import.
"""

from __future__ import annotations

import sqlite3
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from critmin.errors import DataError
from critmin.files import ZipArchive, check_input_file, column_names
from critmin.sources.coverage import Coverage
from critmin.sources.validate import Known, validate

RAW_COLUMNS = ("t", "i", "j", "k", "v", "q")
MISSING_TEXT = ("", "NA", "None", "nan", "NaN")
BLOCK_BYTES = 16 << 20
"""Bytes of CSV parsed at a time."""
HEADER_BYTES = 1 << 16
"""Bytes read to find a CSV's header line."""
INTEGER_DIGITS = 18
"""Most digits of a year or a code: 18 always fit a 64-bit integer, so a longer number is a
malformed cell, never an overflow."""
INTEGER = rf"^\s*[0-9]{{1,{INTEGER_DIGITS}}}\s*$"
NUMBER = r"^\s*[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))\s*$"
MAX_CODE = 99_999
"""Largest country code a release's code file may add (BACI's codes have three digits)."""

Progress = Callable[[str, int], None]
"""Called with (what is being read, rows read so far in it)."""


@dataclass
class Member:
    """One CSV inside the inputs: its display name, header and how to open it."""

    name: str
    header: list[str]
    open: Callable[[], IO[bytes]]


def _header(stream: IO[bytes], name: str) -> list[str]:
    line = stream.readline(HEADER_BYTES)
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name}: not a UTF-8 text CSV file") from None
    return [h.strip().strip('"').strip().lower() for h in text.strip().split(",")]


def members(paths: Sequence[Path], archives: ExitStack) -> Iterator[Member]:
    """The CSV files among the inputs, each with its header; a zip archive is opened once
    (kept open by ``archives``) and refused as a whole when its listing is out of bounds."""
    for path in paths:
        path = check_input_file(path)
        if zipfile.is_zipfile(path):
            archive = archives.enter_context(ZipArchive(path, ".csv"))
            for info in archive.members:
                def opener(a: ZipArchive = archive, i: zipfile.ZipInfo = info) -> IO[bytes]:
                    return a.open(i)

                name = f"{path.name}:{info.filename}"
                with archive.open(info, HEADER_BYTES) as stream:
                    header = _header(stream, name)
                yield Member(name, header, opener)
        else:
            def plain(p: Path = path) -> IO[bytes]:
                return p.open("rb")

            with plain() as stream:
                header = _header(stream, path.name)
            yield Member(path.name, header, plain)


def kind_of(header: list[str]) -> str:
    """What a BACI CSV holds, from its header: trade, countries, products or unknown."""
    cols = set(header)
    if set(RAW_COLUMNS) <= cols:
        return "trade"
    if {"country_code", "country_iso3"} <= cols:
        return "countries"
    if {"code", "description"} <= cols:
        return "products"
    return "unknown"


def read_csv_text(member: Member, cov: Coverage) -> Iterator[pa.Table]:
    """The trade rows of one CSV as text columns t..q, in blocks; rows with the wrong number
    of fields are counted as malformed (with their line)."""
    import pyarrow.csv as pacsv

    def on_invalid(row: Any) -> str:
        where = f"line {row.number}: " if row.number is not None else ""
        cov.drop("malformed line", 1, [f"{member.name} {where}{row.text!r}"[:120]])
        cov.rows_read += 1
        return "skip"

    names = member.header
    with member.open() as stream:
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=1,
                                               block_size=BLOCK_BYTES, use_threads=False),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                    include_columns=list(RAW_COLUMNS)),
            )
            for batch in reader:
                yield pa.Table.from_batches([batch])
        except pa.ArrowInvalid as exc:
            message = str(exc).splitlines()[0]
            if "UTF8" in message or "utf8" in message.lower():
                raise DataError(f"{member.name}: not a UTF-8 text CSV file") from None
            raise DataError(f"{member.name}: cannot be parsed as CSV ({message})") from None


def code_series(country_codes: pd.DataFrame) -> pd.Series:
    """BACI code -> ISO3, from critmin's ``country_codes`` table."""
    return pd.Series(
        country_codes["iso3"].to_numpy(), index=country_codes["baci_code"].astype("int64")
    )


def code_map(country_codes: pd.DataFrame, extra: pd.DataFrame | None,
             countries: pd.DataFrame) -> pd.Series:
    """BACI code -> ISO3, from critmin's table, extended by a release's own code file.

    A code the release adds is accepted when its ISO3 is a known country.
    """
    mapping = code_series(country_codes)
    if extra is not None and len(extra):
        codes = pd.to_numeric(extra["country_code"], errors="coerce").astype("float64")
        iso3 = extra["country_iso3"].astype(str).str.strip().str.upper()
        ok = codes.between(0, MAX_CODE) & iso3.isin(set(countries["iso3"]))
        added = pd.Series(iso3[ok].to_numpy(), index=codes[ok].astype("int64"))
        mapping = pd.concat([mapping, added[~added.index.isin(mapping.index)]])
    return mapping


class CodeLookup:
    """Vectorised BACI code -> ISO3 (dictionary-encoded; unknown codes become null)."""

    def __init__(self, codes: pd.Series) -> None:
        self.names = pa.array(sorted(set(codes.to_numpy())))
        position = {name: n for n, name in enumerate(self.names.to_pylist())}
        self.table = np.full(int(codes.index.max()) + 1, -1, dtype=np.int32)
        self.table[codes.index.to_numpy()] = [position[v] for v in codes.to_numpy()]

    def __call__(self, raw: np.ndarray) -> pa.DictionaryArray:
        inside = (raw >= 0) & (raw < len(self.table))
        index = np.where(inside, self.table[np.clip(raw, 0, len(self.table) - 1)], -1)
        return pa.DictionaryArray.from_arrays(pa.array(index, mask=index < 0), self.names)


def _parsed(text: pa.ChunkedArray, pattern: str, kind: pa.DataType) -> tuple[Any, np.ndarray]:
    """``text`` as numbers, and which rows parsed. Clean blocks take one cast; a block with
    a bad cell is checked cell by cell against ``pattern``."""
    clean_block = pa.types.is_floating(kind) or (
        pc.all(pc.utf8_is_digit(text)).as_py()
        and (pc.max(pc.utf8_length(text)).as_py() or 0) <= INTEGER_DIGITS)
    if clean_block:
        try:
            return pc.cast(text, kind), np.ones(len(text), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    ok = pc.match_substring_regex(text, pattern)
    clean = pc.if_else(ok, pc.utf8_trim_whitespace(text), pa.scalar(None, pa.string()))
    return pc.cast(clean, kind), np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)


def to_flows(raw: pa.Table, codes: CodeLookup, known: Known, cov: Coverage,
             first_seq: int, name: str) -> pa.Table:
    """Canonical flows (plus ``src_exporter``, ``src_importer``, ``seq``) from text rows
    t..q; malformed, repeated-header and invalid rows are counted in ``cov`` and left out."""
    cov.rows_read += raw.num_rows
    t_text = raw.column("t")
    header = np.asarray(pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(t_text)), "t")
                        .to_numpy(zero_copy_only=False), dtype=bool)
    t, t_ok = _parsed(t_text, INTEGER, pa.int64())
    i, i_ok = _parsed(raw.column("i"), INTEGER, pa.int64())
    j, j_ok = _parsed(raw.column("j"), INTEGER, pa.int64())
    k, k_ok = _parsed(raw.column("k"), INTEGER, pa.int64())
    v, v_ok = _parsed(raw.column("v"), NUMBER, pa.float64())
    q_text = raw.column("q")
    missing = pc.is_in(pc.utf8_trim_whitespace(q_text), pa.array(MISSING_TEXT))
    q, q_ok = _parsed(pc.if_else(missing, pa.scalar("0"), q_text), NUMBER, pa.float64())
    q = pc.if_else(missing, pa.scalar(None, pa.float64()), q)
    q_missing = np.asarray(missing.to_numpy(zero_copy_only=False), dtype=bool)
    malformed = ~(t_ok & i_ok & j_ok & k_ok & v_ok & (q_ok | q_missing)) & ~header
    seq = np.arange(first_seq, first_seq + raw.num_rows, dtype=np.int64)
    if header.any():
        cov.drop("repeated header line", int(header.sum()), [f"{name}: {'{'}t,i,j,k,v,q{'}'}"])
    if malformed.any():
        rows = np.flatnonzero(malformed)[:3]
        cov.drop("malformed line", int(malformed.sum()), [
            f"{name} row {s + 1 - first_seq}: " + ",".join(str(raw.column(c)[int(r)]) for c in RAW_COLUMNS)
            for r, s in zip(rows, seq[rows], strict=True)])
    keep = pa.array(~(malformed | header))
    i_raw = np.asarray(pc.fill_null(i, -1).to_numpy(zero_copy_only=False))
    j_raw = np.asarray(pc.fill_null(j, -1).to_numpy(zero_copy_only=False))
    year = pc.cast(pc.if_else(pc.and_(pc.greater_equal(t, -32768), pc.less_equal(t, 32767)),
                              t, -32768), pa.int16())
    hs6 = pc.utf8_lpad(pc.cast(k, pa.string()), 6, "0")
    flows = pa.table({
        "year": year, "exporter": codes(i_raw), "importer": codes(j_raw), "hs6": hs6,
        "value_kusd": v, "qty_t": q, "src_year": t, "src_exporter": i, "src_importer": j,
        "seq": seq,
    }).filter(keep)
    flows = validate("flows", flows, known, cov)
    cov.note("missing quantity (kept with value only)", flows.column("qty_t").null_count)
    return flows


def read_release(paths: Sequence[Path], country_codes: pd.DataFrame, countries: pd.DataFrame,
                 known: Known, cov: Coverage, progress: Progress | None = None
                 ) -> Iterator[pa.Table]:
    """Validated flows from BACI release files (trade CSVs ``t,i,j,k,v,q``, plain or zipped,
    one or many years; BACI's country code file, when given, extends the code map).

    Raises :class:`DataError` when a file holds no recognisable BACI table.
    """
    with ExitStack() as archives:
        found: dict[str, list[Member]] = {"trade": [], "countries": [], "products": []}
        for path in paths:
            kinds = [m for m in members([Path(path)], archives) if kind_of(m.header) != "unknown"]
            if not kinds:
                raise DataError(
                    f"{Path(path).name}: no BACI table found (expected a CSV with columns "
                    "t,i,j,k,v,q, or BACI's country_codes / product_codes files)"
                )
            for member in kinds:
                column_names(member.header, member.name)
                found[kind_of(member.header)].append(member)
        if not found["trade"]:
            raise DataError("no BACI trade file among the inputs (CSV with columns t,i,j,k,v,q)")
        extra = None
        if found["countries"]:
            extra = pd.concat([_code_file(m) for m in found["countries"]], ignore_index=True)
        lookup = CodeLookup(code_map(country_codes, extra, countries))
        seq = 0
        for member in found["trade"]:
            read = 0
            for block in read_csv_text(member, cov):
                out = to_flows(block, lookup, known, cov, seq, member.name)
                seq += block.num_rows
                read += block.num_rows
                if progress is not None:
                    progress(member.name, read)
                yield out


def _code_file(member: Member) -> pd.DataFrame:
    """A release's country code file, as text."""
    with member.open() as stream:
        try:
            frame = pd.read_csv(stream, dtype=str, keep_default_na=False)
        except (UnicodeDecodeError, ValueError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"{member.name}: cannot be parsed as CSV ({message})") from None
    if len(frame.columns) != len(member.header):
        raise DataError(f"{member.name}: cannot be parsed as CSV (its header has "
                        f"{len(member.header)} columns, read as {len(frame.columns)})")
    frame.columns = pd.Index(member.header)
    return frame


def read_baci_sqlite(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``baci_trade`` table of the bundled ``baci.db`` (as text rows t..q) and the
    release's country code table."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        rows = pd.read_sql_query("SELECT t, i, j, k, v, q FROM baci_trade", con)
        codes = pd.read_sql_query(
            "SELECT country_code, country_name, country_iso2, country_iso3 "
            "FROM country_codes_V202401b",
            con,
        )
    text = pd.DataFrame({c: rows[c].astype(str).where(rows[c].notna(), "") for c in RAW_COLUMNS})
    text["q"] = text["q"].replace({"nan": "", "None": ""})
    return text, codes


def read_frame_text(rows: pd.DataFrame, lookup: CodeLookup, known: Known, cov: Coverage,
                    name: str, block: int = 1_000_000) -> Iterator[pa.Table]:
    """Validated flows from an in-memory frame of text rows t..q (the bundled SQLite)."""
    for start in range(0, len(rows), block):
        part = pa.Table.from_pandas(rows.iloc[start:start + block], preserve_index=False)
        yield to_flows(part.cast(pa.schema([(c, pa.string()) for c in RAW_COLUMNS])),
                       lookup, known, cov, start, name)
