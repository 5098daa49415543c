"""A company's own purchase records, in the declared ``purchases`` columns.

One row per purchase: the period (a year ``2024`` or a month ``2024-03``), the buying
company and the purchase's reference (together its key), the supplier's name, the material
(a mineral slug or an HS-6 product code), the supplier's country and the material's origin,
the quantity with its mass unit, the value with its currency (and its rate to the US
dollar), and notes. Columns may come in any order (named in any case), each once; optional
ones (supplier name, origin, value, currency, rate, notes) may be left out. Files are read
by :func:`critmin.sources.purchase_files.purchase_frame` (critmin's template or
geopolrisk-py's, CSV or Excel, names resolved, wrong rows refused). Rows are validated
against the declared checks (:mod:`critmin.sources.validate`), and every dropped row is
counted.

>>> import pandas as pd
>>> from critmin.sources.coverage import Coverage
>>> from critmin.sources.validate import Known
>>> rows = pd.DataFrame({"period": ["2024-03", "2024-13"], "supplier_name": ["Acme", "Acme"],
...                      "reference": ["PO-1", "PO-2"], "material": ["lithium", "lithium"],
...                      "supplier_country": ["CHL", "CHL"], "quantity": ["12.5", "3"],
...                      "quantity_unit": ["t", "t"]})
>>> cov = Coverage("purchases")
>>> purchases_table(rows, Known(frozenset({"CHL"}), minerals=frozenset({"lithium"})),
...                 cov, company="Acme").column("period").to_pylist(), cov.dropped
(['2024-03'], {'malformed period (not YYYY or YYYY-MM)': 1})
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from critmin import schema
from critmin.errors import DataError, nearest
from critmin.sources.coverage import Coverage
from critmin.sources.purchase_files import purchase_frame
from critmin.sources.validate import Known, validate

TABLE = "purchases"
REQUIRED = ("period", "company", "reference", "material", "supplier_country",
            "quantity", "quantity_unit")
"""Columns every purchase file must have (the others may be left out)."""

RowsRead = Callable[[str, int], None]


def purchases_table(frame: pd.DataFrame, known: Known, cov: Coverage,
                    first_seq: int = 0, company: str | None = None) -> pa.Table:
    """The valid rows of ``frame`` (text or typed cells) in the declared ``purchases`` schema,
    plus ``seq`` (each row's position in the input); the others counted in ``cov``.
    ``company`` names the buying company of a frame without a ``company`` column."""
    declared = schema.public_columns(TABLE)
    if "company" not in frame.columns and company is not None:
        frame = frame.assign(company=company)
    unknown = [c for c in frame.columns if c not in declared]
    if unknown:
        raise DataError(f"unknown purchase column(s) {unknown}; the columns are {declared}",
                        suggestions=nearest(str(unknown[0]), declared))
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(f"purchase records lack column(s) {missing}")
    cov.rows_read += len(frame)
    out = {}
    for col in schema.table_columns(TABLE):
        values = frame[col.name] if col.name in frame.columns else pd.Series(
            [None] * len(frame), dtype=object)
        if col.dtype == "float64":
            out[col.name] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            text = values.astype("string").str.strip()
            out[col.name] = text.mask(text.eq("")).astype(object).where(text.notna(), None)
    typed = pd.DataFrame(out, index=range(len(frame)))
    data = pa.Table.from_pandas(typed, schema=schema.arrow_schema(TABLE), preserve_index=False)
    data = data.append_column("seq", pa.array(np.arange(first_seq, first_seq + len(frame),
                                                        dtype=np.int64)))
    return validate(TABLE, data, known, cov)


def read_purchases(files: Sequence[Path], known: Known, cov: Coverage,
                   progress: RowsRead | None = None) -> Iterator[pa.Table]:
    """Validated purchases from CSV or Excel files in critmin's template or geopolrisk-py's
    company template (:func:`~critmin.sources.purchase_files.purchase_frame`; the company of
    a file without a ``company`` column is named after the file). Every file is read and
    checked before the first batch is given, so one refused row anywhere imports nothing."""
    frames = [purchase_frame(Path(path)) for path in files]
    seq = 0
    for path, frame in zip(files, frames, strict=True):
        yield purchases_table(frame, known, cov, seq)
        seq += len(frame)
        if progress is not None:
            progress(Path(path).name, cov.rows_read)
