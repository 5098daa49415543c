"""The only package that talks to the database (DuckDB over Parquet)."""

from critmin.store.db import Store, get_store
from critmin.store.engine import get_engine

__all__ = ["Store", "get_engine", "get_store"]
