"""Staging an import: validated batches go to per-year Parquet files on disk as they arrive
(memory stays bounded whatever the input size), then each year is finalised in DuckDB
(out of core): duplicates dropped, rows of two source codes of one country merged, and the
result written in the canonical schema.

Staged columns: the canonical ``flows`` columns plus ``src_exporter``, ``src_importer`` (the
source's own codes) and ``seq`` (the row's position in the input, so "first kept" means the
first in the files as given).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from critmin import schema
from critmin.sources.bundle import sha256_of

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

MEMORY_LIMIT = "512MB"
"""DuckDB's memory limit while finalising an import (it spills to disk beyond it)."""
ROW_GROUP = 1_000_000
STAGED_EXTRA = ("src_exporter", "src_importer", "seq")


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

        years = batch.column("year").to_numpy()
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
        self.close()
        con = self._connect()
        try:
            staged = _literal(self.folder / f"staged-{year}.parquet")
            # the first row of each source key (the source's own codes), in input order
            con.sql(
                "CREATE TEMP TABLE firsts AS SELECT year, hs6, src_exporter, src_importer, "
                "arg_min(struct_pack(exporter := exporter, importer := importer, "
                "value_kusd := value_kusd, qty_t := qty_t), seq) AS f, count(*) AS n "
                f"FROM read_parquet({staged}) GROUP BY year, hs6, src_exporter, src_importer"
            )
            n, keys = con.sql("SELECT sum(n), count(*) FROM firsts").fetchall()[0]
            distinct = keys
            if (n or 0) > (keys or 0):  # rare: count the distinct rows of repeated keys only
                distinct = con.sql(
                    "SELECT count(*) FROM (SELECT DISTINCT s.year, s.hs6, s.src_exporter, "
                    "s.src_importer, s.value_kusd, s.qty_t FROM read_parquet("
                    f"{staged}) s SEMI JOIN (SELECT * FROM firsts WHERE n > 1) d "
                    "USING (year, hs6, src_exporter, src_importer))"
                ).fetchall()[0][0] + con.sql(
                    "SELECT count(*) FROM firsts WHERE n = 1").fetchall()[0][0]
            dropped = {
                "exact duplicate row": int(n or 0) - int(distinct or 0),
                "conflicting duplicate row (first kept)": int(distinct or 0) - int(keys or 0),
            }
            con.sql(
                "CREATE TEMP TABLE merged AS SELECT year, f.exporter AS exporter, "
                "f.importer AS importer, hs6, sum(f.value_kusd) AS value_kusd, "
                "CASE WHEN count(f.qty_t) = 0 THEN NULL ELSE sum(f.qty_t) END AS qty_t "
                "FROM firsts GROUP BY year, f.exporter, f.importer, hs6")
            rows = con.sql("SELECT count(*) FROM merged").fetchall()[0]
            merged = int(keys or 0) - int(rows[0] if rows else 0)
            source = "merged"
            if stored is not None:
                con.sql("CREATE TEMP VIEW stored AS SELECT year, exporter, importer, hs6, "
                        f"value_kusd, qty_t FROM read_parquet({_literal(stored)})")
                same, conflict = con.sql(
                    "SELECT count(*) FILTER (WHERE m.value_kusd = s.value_kusd AND "
                    "m.qty_t IS NOT DISTINCT FROM s.qty_t), count(*) FILTER (WHERE NOT ("
                    "m.value_kusd = s.value_kusd AND m.qty_t IS NOT DISTINCT FROM s.qty_t)) "
                    "FROM merged m JOIN stored s USING (year, exporter, importer, hs6)"
                ).fetchall()[0] or (0, 0)
                dropped["already stored (exact duplicate)"] = int(same or 0)
                dropped["conflicts with a stored row (stored kept)"] = int(conflict or 0)
                con.sql(
                    "CREATE TEMP VIEW combined AS SELECT * FROM stored UNION ALL "
                    "SELECT * FROM merged m WHERE NOT EXISTS (SELECT 1 FROM stored s WHERE "
                    "s.year = m.year AND s.exporter = m.exporter AND s.importer = m.importer "
                    "AND s.hs6 = m.hs6)")
                source = "combined"
            out = self.folder / f"final-{year}.parquet"
            total = self._write(con, source, out)
        finally:
            con.close()
        return FinalYear(year=year, path=out, rows=total, sha256=sha256_of(out),
                         bytes=out.stat().st_size,
                         dropped={k: v for k, v in dropped.items() if v}, merged=merged)

    def _write(self, con: Any, source: str, out: Path) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        target = schema.arrow_schema(self.table)
        reader = con.sql(
            f"SELECT {', '.join(target.names)} FROM {source} "  # source: a fixed view name
            "ORDER BY hs6, importer, exporter"
        ).to_arrow_reader(ROW_GROUP)
        total = 0
        with pq.ParquetWriter(out, target, compression="zstd", compression_level=6) as writer:
            for batch in reader:
                table = pa.Table.from_batches([batch]).cast(target)
                writer.write_table(table, row_group_size=ROW_GROUP)
                total += table.num_rows
        return total


def _literal(path: Path) -> str:
    """A file path as a SQL string literal (for statements that take no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"
