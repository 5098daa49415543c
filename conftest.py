"""Doctests of ``src/critmin`` run with ``critmin`` imported and a private data folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_critmin_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Doctests never touch the user's own critmin folder (tests set their own per test)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CRITMIN_HOME", str(tmp_path_factory.mktemp("doctest-home")))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace: dict) -> None:
    import critmin

    doctest_namespace["critmin"] = critmin
