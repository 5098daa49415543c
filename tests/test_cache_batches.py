"""The whole cube computed a batch of years at a time equals the cube computed at once, and
the cache stays optional."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from critmin import cache, compute
from critmin.metrics.cube import plain
from critmin.store import get_store, paths


class PerYear:
    """A stand-in store that only knows its flow rows per year."""

    def __init__(self, rows: dict[int, int]) -> None:
        self.rows = rows

    def rows_by_year(self, table: str) -> dict[int, int]:
        assert table == "flows"
        return self.rows


def test_year_batches_hold_about_the_budget() -> None:
    store = PerYear({2000: 40, 2001: 40, 2002: 30, 2003: 200, 2004: 10})
    years = [1999, 2000, 2001, 2002, 2003, 2004]  # 1999: production only
    batches = cache.year_batches(store, years, rows=100)  # type: ignore[arg-type]
    assert batches == [[1999, 2000, 2001], [2002], [2003], [2004]]
    assert cache.year_batches(store, years, rows=10**9) == [years]  # type: ignore[arg-type]
    assert cache.year_batches(store, [], rows=100) == []  # type: ignore[arg-type]


def test_batched_cache_equals_the_cache_computed_at_once(
        monkeypatch: pytest.MonkeyPatch, session_cube_cache: Path) -> None:
    store = get_store()
    shutil.rmtree(paths.cache_dir())
    years = sorted(store.rows_by_year("flows") | store.rows_by_year("production"))
    monkeypatch.setattr(cache, "BATCH_ROWS", 150_000)
    assert len(cache.year_batches(store, years)) >= 6
    steps: list[str] = []
    assert cache._fill_cache(store, "default", steps.append, None) == {}
    assert any(s.startswith("years ") and "batch 1 of" in s for s in steps)
    for name in compute.OUTPUTS["default"]:
        written = cache.cache_path(store, name, "default")
        batched = plain(pd.read_parquet(written))  # dictionaries differ from batch to batch
        whole = plain(pd.read_parquet(session_cube_cache / written.name))
        # DuckDB's parallel sums may add the same flows in another order: 1e-12
        pd.testing.assert_frame_equal(batched, whole, check_exact=False, rtol=1e-12)
    assert sorted(p.name for p in paths.cache_dir().iterdir()) == sorted(  # with records
        f"{cache.cache_path(store, n, 'default').name}{suffix}"
        for n in compute.OUTPUTS["default"] for suffix in ("", ".json"))


def test_unwritable_cache_folder_still_gives_every_output(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, session_cube_cache: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    names = {n: cache.cache_path(get_store(), n, "default").name
             for n in compute.OUTPUTS["default"]}
    monkeypatch.setattr(paths, "cache_dir", lambda: blocker / "cache")  # mkdir fails
    monkeypatch.setattr(cache, "_private_temp", lambda: None)  # nor a temporary one
    runs = []
    real = compute.outputs

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(args[2:3])
        return real(*args, **kwargs)

    monkeypatch.setattr(compute, "outputs", counted)
    store = get_store()
    for name in ("cube", "stages", "partners"):
        frame = cache.load(store, name)
        whole = pd.read_parquet(session_cube_cache / names[name])
        assert frame.shape == whole.shape and list(frame.columns) == list(whole.columns)
        numbers = whole.select_dtypes("float64").columns
        pd.testing.assert_frame_equal(frame[numbers].astype("float64"), whole[numbers],
                                      check_exact=False, rtol=1e-12)
    assert len(runs) == 1  # computed once, kept in memory for the next outputs
    assert not (blocker / "cache").exists()
