"""The engine factory: the top of the store package, the one module that knows every engine
and the store they read, so that none of them imports another."""

from __future__ import annotations

from critmin.errors import InvalidInput, nearest
from critmin.store.db import Store, get_store
from critmin.store.engine import ENGINES, Engine


def get_engine(name: str | None = None, master: str | None = None, store: Store | None = None
               ) -> Engine:
    """The aggregation engine called ``name`` over a store's flows.

    Parameters
    ----------
    name : str, optional
        ``"duckdb"`` (the default) or ``"spark"`` (needs pyspark and a Java runtime). Both
        give the same numbers, so the cube's cache does not depend on the engine.
    master : str, optional
        For ``"spark"``: the Spark master URL (``local[4]``, ``spark://host:7077``, ``yarn``…;
        default ``$CRITMIN_SPARK_MASTER``, else ``local[*]``).
    store : Store, optional
        The store whose flows are aggregated (default: the current one).

    Returns
    -------
    Engine
        An engine; Spark starts only at its first query.

    Examples
    --------
    >>> from critmin.store import get_engine
    >>> get_engine().name
    'duckdb'
    >>> get_engine("sparkk")
    Traceback (most recent call last):
    critmin.errors.InvalidInput: unknown engine 'sparkk'; did you mean spark?
    """
    chosen = (name or "duckdb").strip().lower()
    if chosen not in ENGINES:
        raise InvalidInput(f"unknown engine {name!r}",
                           suggestions=nearest(chosen, ENGINES) or list(ENGINES))
    if master is not None and chosen != "spark":
        raise InvalidInput(f"a Spark master ({master!r}) needs the spark engine, not {chosen!r}")
    if store is None:
        store = get_store()
    if chosen == "spark":
        from critmin.store.spark import SparkEngine

        return SparkEngine(store, master)
    return store.engine()
