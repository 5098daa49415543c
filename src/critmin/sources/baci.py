"""CEPII BACI bilateral trade: release CSV files (plain or zipped) and the bundled SQLite.

Both paths end in :func:`normalise_flows`, so the snapshot build and ``critmin data import
baci`` keep and drop exactly the same rows for the same reasons.
"""

from __future__ import annotations

import io
import sqlite3
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from critmin.errors import DataError, InvalidInput
from critmin.sources.coverage import Coverage

RAW_COLUMNS = ("t", "i", "j", "k", "v", "q")
FLOW_KEY = ["year", "exporter", "importer", "hs6"]
MISSING_TEXT = ["NA", "", "None", "nan", "NaN"]


@dataclass
class RawTrade:
    """BACI rows as read, before validation, plus any code tables found beside them."""

    rows: pd.DataFrame
    malformed: int
    malformed_examples: list[str]
    country_codes: pd.DataFrame | None = None
    product_codes: pd.DataFrame | None = None


def repair_text(text: str) -> str:
    """Undo UTF-8 read as Latin-1 ("TÃ¼rkiye" -> "Türkiye"); leave clean text alone."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def read_baci_sqlite(path: Path) -> RawTrade:
    """The ``baci_trade`` table of the bundled ``baci.db``."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        rows = pd.read_sql_query("SELECT t, i, j, k, v, q FROM baci_trade", con)
        codes = pd.read_sql_query(
            "SELECT country_code, country_name, country_iso2, country_iso3 "
            "FROM country_codes_V202401b",
            con,
        )
    return RawTrade(rows=rows, malformed=0, malformed_examples=[], country_codes=codes)


def _read_csv_bytes(data: bytes, name: str) -> tuple[pd.DataFrame, int, list[str]]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    bad: list[str] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        where = f"line {row.number}: " if row.number is not None else ""
        bad.append(f"{where}{row.text!r}"[:120])
        return "skip"

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: not a UTF-8 text CSV file (byte {exc.start})") from None
    header = text.split("\n", 1)[0].strip().lower()
    del text
    names = [h.strip().strip('"') for h in header.split(",")]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise DataError(f"{name}: cannot be parsed as CSV ({str(exc).splitlines()[0]})") from None
    return table.to_pandas(), len(bad), bad


def _classify(frame: pd.DataFrame) -> str:
    cols = {c.strip().lower() for c in frame.columns}
    if set(RAW_COLUMNS) <= cols:
        return "trade"
    if {"country_code", "country_iso3"} <= cols:
        return "countries"
    if {"code", "description"} <= cols:
        return "products"
    return "unknown"


def _members(path: Path) -> Iterable[tuple[str, bytes]]:
    if not path.exists():
        raise InvalidInput(f"no such file: {path}")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir() and info.filename.lower().endswith(".csv"):
                    yield f"{path.name}:{info.filename}", zf.read(info)
        return
    yield path.name, path.read_bytes()


def read_baci_files(paths: Sequence[Path]) -> RawTrade:
    """Read BACI release files: trade CSVs ``t,i,j,k,v,q`` (one or many years), plain or in
    zip archives, and BACI's country and product code files when given.

    Raises :class:`DataError` when a file holds no recognisable BACI table.
    """
    trade: list[pd.DataFrame] = []
    countries: list[pd.DataFrame] = []
    products: list[pd.DataFrame] = []
    malformed = 0
    examples: list[str] = []
    for path in paths:
        found = False
        for name, data in _members(Path(path)):
            frame, bad, bad_examples = _read_csv_bytes(data, name)
            frame.columns = [c.strip().lower() for c in frame.columns]
            kind = _classify(frame)
            if kind == "unknown":
                continue
            found = True
            if kind == "trade":
                trade.append(frame[list(RAW_COLUMNS)])
                malformed += bad
                examples.extend(f"{name} {e}" for e in bad_examples[:3])
            elif kind == "countries":
                countries.append(frame)
            else:
                products.append(frame)
        if not found:
            raise DataError(
                f"{Path(path).name}: no BACI table found (expected a CSV with columns "
                "t,i,j,k,v,q, or BACI's country_codes / product_codes files)"
            )
    if not trade:
        raise DataError("no BACI trade file among the inputs (CSV with columns t,i,j,k,v,q)")
    return RawTrade(
        rows=pd.concat(trade, ignore_index=True),
        malformed=malformed,
        malformed_examples=examples,
        country_codes=pd.concat(countries, ignore_index=True) if countries else None,
        product_codes=pd.concat(products, ignore_index=True) if products else None,
    )


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
        codes = pd.to_numeric(extra["country_code"], errors="coerce")
        iso3 = extra["country_iso3"].astype(str).str.strip().str.upper()
        ok = codes.notna() & iso3.isin(set(countries["iso3"]))
        added = pd.Series(iso3[ok].to_numpy(), index=codes[ok].astype("int64"))
        mapping = pd.concat([mapping, added[~added.index.isin(mapping.index)]])
    return mapping


def normalise_flows(raw: RawTrade, codes: pd.Series, hs_codes: Iterable[str],
                    source: str = "baci") -> tuple[pd.DataFrame, Coverage]:
    """Validate raw BACI rows into the canonical ``flows`` frame.

    Dropped, by reason: ``malformed line`` (unparseable year, code or value),
    ``unknown country code``, ``unknown product``, ``negative quantity``. Kept and
    noted: ``missing quantity`` (the value is still real trade) and ``duplicates merged``
    (two source codes attributed to one country, e.g. a historical aggregate).
    """
    cov = Coverage(source=source, rows_read=len(raw.rows) + raw.malformed)
    cov.drop("malformed line", raw.malformed, raw.malformed_examples)
    rows = raw.rows

    def text(col: str) -> pd.Series:
        return rows[col].astype("string").str.strip()

    def num(col: str) -> pd.Series:
        values = rows[col]
        if not pd.api.types.is_numeric_dtype(values):
            values = text(col).mask(text(col).isin(MISSING_TEXT))
        return pd.to_numeric(values, errors="coerce").astype("float64")

    t, i, j, k, v, q = (num(c) for c in RAW_COLUMNS)
    q_text = text("q")
    q_bad_text = (q.isna() & ~(q_text.isna() | q_text.isin(MISSING_TEXT))).to_numpy(bool)
    bad = t.isna() | i.isna() | j.isna() | k.isna() | v.isna() | q_bad_text
    bad |= (t % 1 != 0) | (i % 1 != 0) | (j % 1 != 0) | (k % 1 != 0)
    cov.drop(
        "malformed line",
        int(bad.sum()),
        [",".join(map(str, r)) for r in rows[bad].head(3).itertuples(index=False)],
    )
    keep = ~bad
    exporter = i.where(keep).map(codes)
    importer = j.where(keep).map(codes)
    unknown_country = keep & (exporter.isna() | importer.isna())
    unknown_codes = pd.concat([i[keep & exporter.isna()], j[keep & importer.isna()]])
    cov.drop(
        "unknown country code",
        int(unknown_country.sum()),
        [str(int(c)) for c in unknown_codes.drop_duplicates().head(5)],
    )
    keep &= ~unknown_country
    hs6 = k.where(keep).astype("Int64").astype(str).str.zfill(6)
    known = hs6.isin(set(hs_codes))
    unknown_product = keep & ~known
    cov.drop(
        "unknown product",
        int(unknown_product.sum()),
        list(hs6[unknown_product].drop_duplicates().head(5)),
    )
    keep &= known
    negative = keep & (q < 0)
    cov.drop("negative quantity", int(negative.sum()), [str(x) for x in q[negative].head(3)])
    keep &= ~negative
    cov.note("missing quantity (kept with value only)", int((keep & q.isna()).sum()))

    flows = pd.DataFrame(
        {
            "year": t[keep].astype("int16"),
            "exporter": exporter[keep].astype(str),
            "importer": importer[keep].astype(str),
            "hs6": hs6[keep],
            "value_kusd": v[keep].astype("float64"),
            "qty_t": q[keep].astype("float64"),
        }
    )
    before = len(flows)
    dup = flows.duplicated(FLOW_KEY, keep=False)
    if dup.any():
        merged = (
            flows[dup]
            .groupby(FLOW_KEY, as_index=False, sort=False)
            .agg(value_kusd=("value_kusd", "sum"), qty_t=("qty_t", lambda s: s.sum(min_count=1)))
        )
        flows = pd.concat([flows[~dup], merged], ignore_index=True)
        cov.note("duplicates merged", before - len(flows))
    flows = flows.sort_values(FLOW_KEY, kind="stable").reset_index(drop=True)
    cov.rows_kept = int(keep.sum())
    flows["qty_t"] = flows["qty_t"].astype("float64").where(flows["qty_t"].notna(), np.nan)
    return flows, cov
