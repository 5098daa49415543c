"""Importing a whole (synthetic) BACI release: every yearly file of the zip, and an import
killed at random moments leaves the store in the old state or the new one, never between.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CLI, reset_caches

GENERATOR = Path(__file__).resolve().parent.parent / "benchmarks" / "synthetic_baci.py"
YEARS = (2019, 2021)


def make_release(folder: Path, seed: int) -> Path:
    """A small synthetic release (three years, all products), zipped as CEPII ships it."""
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(folder),
                    "--years", f"{YEARS[0]}-{YEARS[1]}", "--rows-per-year", "60000",
                    "--products", "all", "--seed", str(seed), "--zip"],
                   check=True, capture_output=True)
    return next(folder.glob("BACI_HS92_*.zip"))


def state() -> dict[int, tuple[int, float]]:
    """Per imported year: rows and total value in the store, as a new process sees them."""
    code = ("import json\n"
            "from critmin.store import get_store\n"
            "f = get_store().flows()\n"
            "g = f.groupby('year')['value_kusd'].agg(['size', 'sum'])\n"
            "print(json.dumps({int(y): [int(r['size']), round(float(r['sum']), 3)]"
            " for y, r in g.iterrows()}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return {int(k): (v[0], v[1]) for k, v in json.loads(out).items()
            if YEARS[0] <= int(k) <= YEARS[1]}


def run_import(archive: Path) -> dict[str, object]:
    out = subprocess.run([*CLI, "data", "import", "baci", str(archive), "--json"],
                         capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out))


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("releases")
    return make_release(base / "a", 7), make_release(base / "b", 8)


def test_a_release_zip_imports_every_year(releases: tuple[Path, Path]) -> None:
    report = run_import(releases[0])
    assert report["rows_read"] == 3 * 60_000
    now = state()
    assert sorted(now) == list(range(YEARS[0], YEARS[1] + 1))
    assert sum(rows for rows, _ in now.values()) == report["rows_kept"]
    # the catalog's products only (the default): a small share of every product
    assert 0 < int(report["rows_kept"]) < 0.3 * int(report["rows_read"])


def test_an_import_killed_at_random_moments_leaves_old_or_new(
        releases: tuple[Path, Path]) -> None:
    old_release, new_release = releases
    run_import(new_release)
    new = state()
    run_import(old_release)
    old = state()
    assert old != new
    started = time.perf_counter()
    run_import(new_release)
    duration = time.perf_counter() - started
    run_import(old_release)
    rng = random.Random(12)
    seen = []
    for _ in range(6):
        delay = rng.uniform(0.05, duration)
        proc = subprocess.Popen([*CLI, "data", "import", "baci", str(new_release)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        reset_caches()
        now = state()
        assert now in (old, new), f"killed after {delay:.2f} s: a mixed state"
        seen.append("new" if now == new else "old")
        if now == new:
            run_import(old_release)
    assert "old" in seen  # at least one kill landed before the switch
    # the next import cleans what the killed ones left and succeeds
    run_import(new_release)
    assert state() == new
    status = subprocess.run([*CLI, "data", "status", "--verify", "--json"],
                            capture_output=True, text=True, check=True).stdout
    assert json.loads(status)["damaged"] == []
