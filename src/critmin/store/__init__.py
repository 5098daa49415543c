"""The only package that talks to the database (DuckDB over Parquet).

Its modules import only downwards: ``paths``, ``lock`` and ``registry`` at the bottom, then
``user`` (the imports), ``parts`` (a table's files), ``engine`` (the aggregation SQL),
``staging`` and ``snapshot`` (writing), ``spark``, ``db`` (the store), and ``factory`` (the
engine of a name) at the top.
"""

from critmin.store.db import Store, get_store
from critmin.store.factory import get_engine

__all__ = ["Store", "get_engine", "get_store"]
