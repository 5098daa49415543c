"""The only package that talks to the database (DuckDB over Parquet)."""

from critmin.store.db import Store, get_store

__all__ = ["Store", "get_store"]
