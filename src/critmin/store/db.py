"""The store: DuckDB over the bundled Parquet snapshot plus the user's imports.

This module and its siblings are the only places that talk to the database. Imported
flows replace the snapshot's flows for the years they cover.
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
from critmin.store import paths, user
from critmin.store.snapshot import MANIFEST

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


class Store:
    """Read access to the canonical tables."""

    def __init__(self, snapshot: Path | None = None) -> None:
        self.snapshot = snapshot or paths.snapshot_dir()
        self._local = threading.local()

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The snapshot manifest."""
        path = self.snapshot / MANIFEST
        if not path.exists():
            raise DataError(
                f"no data snapshot in {self.snapshot}; run `critmin data build` to create it"
            )
        loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return loaded

    @cached_property
    def user_manifest(self) -> dict[str, Any]:
        """The user's import manifest (empty when nothing was imported)."""
        return user.read_manifest()

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever any table's content changes (snapshot or import)."""
        digest = hashlib.sha256()
        for name, entry in sorted(self.manifest["tables"].items()):
            digest.update(f"{name}:{entry['sha256']}".encode())
        for name, entry in sorted(self.user_manifest["tables"].items()):
            digest.update(f"user:{name}:{entry['sha256']}".encode())
        return digest.hexdigest()[:20]

    def _file(self, table: str) -> Path:
        try:
            return self.snapshot / self.manifest["tables"][table]["file"]
        except KeyError:
            raise DataError(f"table {table!r} is missing from the snapshot manifest") from None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A connection for the current thread, with one view per canonical table."""
        con: duckdb.DuckDBPyConnection | None = getattr(self._local, "con", None)
        if con is None:
            con = self._connect()
            self._local.con = con
        return con

    def _connect(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        con = duckdb.connect()
        for table in schema.SNAPSHOT_TABLES:
            if table != "flows":
                con.read_parquet(str(self._file(table))).create_view(table)
        snap = con.read_parquet(str(self._file("flows")))
        imported = self.user_manifest["tables"].get("flows")
        if imported:
            years = [int(y) for y in imported["rows_by_year"]]
            mine = con.read_parquet(str(user.imports_dir() / imported["file"]))
            hidden = duckdb.ColumnExpression("year").isin(
                *[duckdb.ConstantExpression(y) for y in years]
            )
            snap = mine.union(snap.filter(~hidden))
        snap.create_view("flows")
        return con

    def df(self, sql: str, params: list[Any] | None = None,
           categorical: bool = False) -> pd.DataFrame:
        """Run a query of this package and return a DataFrame (through Arrow: fast; string
        columns as categoricals when asked, for large tables)."""
        import pandas as pd
        import pyarrow as pa

        arrow = self.con.sql(sql, params=params or None).to_arrow_table()
        # int32 columns hold codes that may be missing (ISO numeric, BACI code): keep them
        # integers with pandas' missing value rather than turning them into floats
        return arrow.to_pandas(
            strings_to_categorical=categorical,
            types_mapper=lambda t: pd.Int32Dtype() if t == pa.int32() else None,
        )

    def table(self, name: str) -> pd.DataFrame:
        """A whole canonical table."""
        schema.table_columns(name)  # raises NotFound with suggestions
        return self.df(
            f"SELECT * FROM {name}", categorical=name == "flows"
        )

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
        by_year = {int(k): v for k, v in self.manifest["tables"][table].get("rows_by_year", {}).items()}
        imported = self.user_manifest["tables"].get(table)
        if imported:
            by_year.update({int(k): v for k, v in imported["rows_by_year"].items()})
        return by_year

    def status(self) -> dict[str, Any]:
        """Row counts, years and sources of every table, without opening the database."""
        tables: dict[str, Any] = {}
        imported = self.user_manifest["tables"]
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
                    "imported_years": sorted(int(k) for k in imported[name]["rows_by_year"]),
                }
            tables[name] = info
        return {
            "snapshot": str(self.snapshot),
            "user_data": str(user.imports_dir()),
            "fingerprint": self.fingerprint,
            "tables": tables,
            "sources": self.manifest["sources"],
            "package": self.manifest["package"],
            "imports": self.user_manifest["imports"],
            "unmapped_baci_codes": self.manifest.get("unmapped_baci_codes", []),
        }


_STORES: dict[tuple[str, str, float], Store] = {}


def get_store() -> Store:
    """The store for the current snapshot and user folder (re-opened after an import)."""
    manifest = user.imports_dir() / MANIFEST
    key = (
        str(paths.snapshot_dir()),
        str(paths.user_dir()),
        manifest.stat().st_mtime if manifest.exists() else 0.0,
    )
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = Store()
    return store
