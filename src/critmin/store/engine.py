"""The cube's aggregation step behind a small engine seam.

Every metric of the cube starts from one aggregation of the bilateral flows: the sum, per
(year, exporter, importer, mineral, stage), of gross tonnes, basis tonnes (tonnes × the
product's content factor) and value. The step is written once, as SQL that DuckDB and Spark
SQL both accept, over three named relations:

- ``flows(year, exporter, importer, hs6, value_kusd, qty_t)``
- ``links(hs6, mineral, stage, content_factor)``: which products carry which mineral
- ``wanted_years(year)``: the years to aggregate

The metric functions after it (:mod:`critmin.metrics`) work on the aggregated frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

AGGREGATE_SQL = """
SELECT f.year AS year, f.exporter AS exporter, f.importer AS importer,
       l.mineral AS mineral, l.stage AS stage,
       SUM(f.qty_t) AS qty_t,
       SUM(f.qty_t * COALESCE(l.content_factor, 1.0)) AS qty_basis_t,
       SUM(f.value_kusd) AS value_kusd,
       SUM(CASE WHEN f.qty_t IS NULL THEN 0.0 ELSE f.value_kusd END) AS value_with_qty_kusd,
       SUM(CASE WHEN l.content_factor IS NULL AND f.qty_t IS NOT NULL
                THEN f.value_kusd ELSE 0.0 END) AS unfactored_kusd
FROM flows f
JOIN links l ON f.hs6 = l.hs6
WHERE f.year IN (SELECT year FROM wanted_years)
GROUP BY f.year, f.exporter, f.importer, l.mineral, l.stage
ORDER BY year, mineral, importer, exporter, stage
"""
"""The aggregation, in SQL that DuckDB and Spark SQL both accept."""

PAIR_COLUMNS = ("year", "exporter", "importer", "mineral", "stage", "qty_t", "qty_basis_t",
                "value_kusd", "value_with_qty_kusd", "unfactored_kusd")


class Engine(Protocol):
    """Runs :data:`AGGREGATE_SQL` over the store's flows."""

    name: str

    def aggregate(self, links: pd.DataFrame, years: list[int]) -> pd.DataFrame:
        """One row per (year, exporter, importer, mineral, stage) of :data:`PAIR_COLUMNS`."""
        ...


def _to_pandas(arrow: Any) -> pd.DataFrame:
    frame: pd.DataFrame = arrow.to_pandas()
    return frame


class DuckDBEngine:
    """The default engine: DuckDB over the store's ``flows`` view (or any flows frame)."""

    name = "duckdb"

    def __init__(self, con: Any) -> None:
        self.con = con

    @classmethod
    def over_frame(cls, flows: pd.DataFrame) -> DuckDBEngine:
        """An engine over an in-memory flows frame (tests, small user data)."""
        import duckdb

        con = duckdb.connect()
        con.register("flows", flows)
        return cls(con)

    def aggregate(self, links: pd.DataFrame, years: list[int]) -> pd.DataFrame:
        import pandas as pd

        con = self.con
        con.register("links", links[["hs6", "mineral", "stage", "content_factor"]])
        con.register("wanted_years", pd.DataFrame({"year": pd.Series(years, dtype="int64")}))
        try:
            return _to_pandas(con.sql(AGGREGATE_SQL).to_arrow_table())
        finally:
            con.unregister("links")
            con.unregister("wanted_years")
