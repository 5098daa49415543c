"""Staging an import: validated batches go to per-year Parquet files on disk as they arrive
(memory stays bounded whatever the input size), then each year is finalised in DuckDB
(out of core): duplicates dropped, rows of two source codes of one country merged, and the
result written in the canonical schema. Any stored table with a declared key and time
column stages the same way (:class:`KeyRule`): trade flows, a company's purchases.

Staged columns: the table's canonical columns, ``seq`` (the row's position in the input, so
"first kept" means the first in the files as given) and, where the reader keeps a source's
own code of a key column, ``src_<column>`` (for flows: ``src_exporter``, ``src_importer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from critmin import schema
from critmin.errors import DataError
from critmin.files import sha256_of

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

MEMORY_LIMIT = "512MB"
"""DuckDB's memory limit while finalising an import (it spills to disk beyond it)."""
ROW_GROUP = 1_000_000


@dataclass
class FinalYear:
    """One finalised year: its file and what happened to its rows."""

    year: int
    path: Path
    rows: int
    sha256: str
    bytes: int
    dropped: dict[str, int] = field(default_factory=dict)
    merged: int = 0


def partition_years(table: str, batch: pa.Table) -> np.ndarray:
    """The year each row of ``batch`` is stored under: its time column's year (the year of
    a month for a table kept by period)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    time = schema.time_column(table)
    if time is None:
        raise DataError(f"table {table!r} has no time column to store it by year")
    column = batch.column(time)
    if pa.types.is_integer(column.type):
        return np.asarray(column.to_numpy())
    return np.asarray(pc.cast(pc.utf8_slice_codeunits(column, 0, 4), pa.int32()).to_numpy())


@dataclass(frozen=True)
class KeyRule:
    """How one import's rows are made unique, all from the table's declared key.

    Rows are first deduplicated on the *source key*: the key with each column the reader
    also keeps in the source's own code (``src_<column>``) replaced by that code; the first
    row of each source key is kept. Rows of two source codes that one canonical code stands
    for are then merged under the key: numeric values summed, text taking the first value
    in key order.
    """

    table: str
    key: tuple[str, ...]
    source_key: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[str, ...]
    numeric: frozenset[str]

    @classmethod
    def of(cls, table: str, staged: Sequence[str]) -> KeyRule:
        """The rule of ``table`` for staged files with columns ``staged``."""
        key = tuple(schema.key(table))
        if not key:
            raise DataError(f"table {table!r} declares no key to deduplicate its rows by")
        cols = schema.table_columns(table)
        return cls(
            table=table, key=key,
            source_key=tuple(f"src_{c}" if f"src_{c}" in staged else c for c in key),
            columns=tuple(c.name for c in cols),
            values=tuple(c.name for c in cols if c.key is None),
            numeric=frozenset(c.name for c in cols if c.dtype.lower().startswith(
                ("float", "int"))))

    @property
    def carried(self) -> tuple[str, ...]:
        """Columns kept from the first row of each source key."""
        return tuple(c for c in self.columns if c not in self.source_key)

    @property
    def compared(self) -> tuple[str, ...]:
        """What makes two staged rows the same row: the source key and the values."""
        return (*self.source_key, *self.values)

    @property
    def file_order(self) -> tuple[str, ...]:
        """Row order of a year's file: the key read from its last column, so that the rows
        of one product lie together (for flows: code, importer, exporter)."""
        time = schema.time_column(self.table)
        return tuple(reversed([c for c in self.key if c != time]))

    def merge_sql(self) -> str:
        """The rows of ``firsts`` under the canonical key."""
        keys = [c if c in self.source_key else f"f.{c} AS {c}" for c in self.key]
        if self.source_key == self.key:  # no source codes: nothing to merge
            rest = [f"f.{c} AS {c}" for c in self.values]
            return f"SELECT {', '.join(keys + rest)} FROM firsts"
        # sum() is NULL when every value is: a missing quantity stays missing
        rest = [f"sum(f.{c}) AS {c}" if c in self.numeric else f"min(f.{c}) AS {c}"
                for c in self.values]
        group = [c if c in self.source_key else f"f.{c}" for c in self.key]
        return f"SELECT {', '.join(keys + rest)} FROM firsts GROUP BY {', '.join(group)}"


class Staging:
    """Per-year staged Parquet files of one import, in ``folder``."""

    def __init__(self, folder: Path, table: str = "flows") -> None:
        self.folder = folder
        self.table = table
        self._writers: dict[int, pq.ParquetWriter] = {}
        self.rows: dict[int, int] = {}

    def add(self, batch: pa.Table) -> None:
        """Append validated rows (any years) to their years' staged files."""
        import numpy as np
        import pyarrow.parquet as pq

        years = partition_years(self.table, batch)
        for year in np.unique(years):
            part = batch.filter(years == year) if len(np.unique(years)) > 1 else batch
            writer = self._writers.get(int(year))
            if writer is None:
                writer = pq.ParquetWriter(self.folder / f"staged-{int(year)}.parquet",
                                          part.schema, compression="lz4")
                self._writers[int(year)] = writer
            writer.write_table(part, row_group_size=ROW_GROUP)
            self.rows[int(year)] = self.rows.get(int(year), 0) + part.num_rows

    def close(self) -> None:
        """Close the staged files (before finalising)."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def _connect(self) -> Any:
        import duckdb

        con = duckdb.connect()
        spill = self.folder / "spill"
        spill.mkdir(exist_ok=True)
        con.sql(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.sql(f"SET temp_directory = {_literal(spill)}")
        con.sql("SET preserve_insertion_order = false")
        return con

    def finalize(self, year: int, stored: Path | None = None) -> FinalYear:
        """The canonical file of one staged year; with ``stored`` (append), the rows already
        stored for that year are kept and new rows are added to them."""
        import pyarrow.parquet as pq

        self.close()
        rule = KeyRule.of(self.table, pq.read_schema(self.folder / f"staged-{year}.parquet").names)
        con = self._connect()
        try:
            staged = _literal(self.folder / f"staged-{year}.parquet")
            # the first row of each source key (the source's own codes), in input order
            con.sql(
                f"CREATE TEMP TABLE firsts AS SELECT {_names(rule.source_key)}, "
                f"arg_min(struct_pack({', '.join(f'{c} := {c}' for c in rule.carried)}), seq) "
                f"AS f, count(*) AS n FROM read_parquet({staged}) "
                f"GROUP BY {_names(rule.source_key)}"
            )
            n, keys = con.sql("SELECT sum(n), count(*) FROM firsts").fetchall()[0]
            distinct = keys
            if (n or 0) > (keys or 0):  # rare: count the distinct rows of repeated keys only
                distinct = con.sql(
                    f"SELECT count(*) FROM (SELECT DISTINCT {_names(rule.compared, 's.')} "
                    f"FROM read_parquet({staged}) s SEMI JOIN (SELECT * FROM firsts WHERE "
                    f"n > 1) d USING ({_names(rule.source_key)}))"
                ).fetchall()[0][0] + con.sql(
                    "SELECT count(*) FROM firsts WHERE n = 1").fetchall()[0][0]
            dropped = {
                "exact duplicate row": int(n or 0) - int(distinct or 0),
                "conflicting duplicate row (first kept)": int(distinct or 0) - int(keys or 0),
            }
            con.sql(f"CREATE TEMP TABLE merged AS {rule.merge_sql()}")
            rows = con.sql("SELECT count(*) FROM merged").fetchall()[0]
            merged = int(keys or 0) - int(rows[0] if rows else 0)
            source = "merged"
            if stored is not None:
                same = " AND ".join(f"m.{c} IS NOT DISTINCT FROM s.{c}" for c in rule.values)
                con.sql(f"CREATE TEMP VIEW stored AS SELECT {_names(rule.columns)} "
                        f"FROM read_parquet({_literal(stored)})")
                equal, conflict = con.sql(
                    f"SELECT count(*) FILTER (WHERE {same}), count(*) FILTER (WHERE NOT "
                    f"({same})) FROM merged m JOIN stored s USING ({_names(rule.key)})"
                ).fetchall()[0] or (0, 0)
                dropped["already stored (exact duplicate)"] = int(equal or 0)
                dropped["conflicts with a stored row (stored kept)"] = int(conflict or 0)
                match = " AND ".join(f"s.{c} = m.{c}" for c in rule.key)
                con.sql(
                    f"CREATE TEMP VIEW combined AS SELECT * FROM stored UNION ALL SELECT "
                    f"{_names(rule.columns, 'm.')} FROM merged m WHERE NOT EXISTS "
                    f"(SELECT 1 FROM stored s WHERE {match})")
                source = "combined"
            out = self.folder / f"final-{year}.parquet"
            total = self._write(con, source, out, rule)
        finally:
            con.close()
        return FinalYear(year=year, path=out, rows=total, sha256=sha256_of(out),
                         bytes=out.stat().st_size,
                         dropped={k: v for k, v in dropped.items() if v}, merged=merged)

    def _write(self, con: Any, source: str, out: Path, rule: KeyRule) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        target = schema.arrow_schema(self.table)
        reader = con.sql(
            f"SELECT {', '.join(target.names)} FROM {source} "  # source: a fixed view name
            f"ORDER BY {_names(rule.file_order)}"
        ).to_arrow_reader(ROW_GROUP)
        total = 0
        with pq.ParquetWriter(out, target, compression="zstd", compression_level=6) as writer:
            for batch in reader:
                table = pa.Table.from_batches([batch]).cast(target)
                writer.write_table(table, row_group_size=ROW_GROUP)
                total += table.num_rows
        return total


def _names(columns: Sequence[str], prefix: str = "") -> str:
    """Declared column names (never user text) as a SQL list."""
    return ", ".join(f"{prefix}{c}" for c in columns)


def _literal(path: Path) -> str:
    """A file path as a SQL string literal (for statements that take no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"
