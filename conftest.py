"""Test tiers, and doctests of ``src/critmin`` run with ``critmin`` imported and a private
data folder.

Every test belongs to the fast tier unless it is marked with one of the slower tiers of
:data:`TIERS`. ``python -m pytest`` runs every tier (CI does); ``python -m pytest --fast`` runs
the fast tier only: in-process unit and property tests, on the tiny fixture snapshot and on
the bundled reference tables, never the whole bundled cube. ``-m cli``, ``-m "not spark"``
and the like choose tiers as usual.

The tier of a test is declared here, by module and, within a module, by test-name prefix, so
that a test file holds tests and not bookkeeping; a test that uses the ``cli`` fixture is in
the ``cli`` tier wherever it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TIERS = {
    "cli": "runs the critmin command line in subprocesses",
    "concurrency": "several processes or threads against one store, kills at random moments",
    "browser": "the dashboard in headless Chromium through Playwright",
    "fuzz": "generated requests and files: schemathesis on the REST API, fuzzed imports",
    "spark": "the cube's aggregation on Apache Spark in local mode (needs Java)",
    "build": "builds the snapshot from its pinned sources (downloads the wheel once)",
    "bundled": "computes on the whole bundled data (the cube of every year is cached once)",
}
"""The slower tiers, each a marker."""

MODULE_TIERS = {
    "test_api.py": "bundled",
    "test_api_fuzz.py": "fuzz",
    "test_backtest.py": "bundled",
    "test_cache_batches.py": "bundled",
    "test_cli.py": "cli",
    "test_dashboard.py": "browser",
    "test_docs.py": "bundled",
    "test_event_status.py": "bundled",
    "test_geopolrisk_compat.py": "bundled",
    "test_output.py": "cli",
    "test_release_import.py": "concurrency",
    "test_rest_api.py": "bundled",
    "test_sourcing.py": "bundled",
    "test_spark.py": "spark",
    "test_validation_usgs.py": "bundled",
    "test_answers.py": "bundled",
    "test_charts.py": "bundled",
    "test_brief.py": "bundled",
    "test_brief_company.py": "bundled",
    "test_brief_api.py": "bundled",
    "test_lcia.py": "bundled",
    "test_country_figures.py": "bundled",
    "test_page_figures.py": "bundled",
    "test_compat_regions.py": "bundled",
    "test_value_chain.py": "bundled",
    "test_whatif.py": "bundled",
    "test_terminal_views.py": "bundled",
    "test_hazards.py": "bundled",
    "test_saved_scenarios.py": "bundled",
    "test_saved_scenarios_api.py": "bundled",
    # doctests of modules whose examples compute on the bundled data
    "query.py": "bundled",
    "profiles.py": "bundled",
    "saved.py": "bundled",
    "hazards.py": "bundled",
    "pages.py": "bundled",
    "reports.py": "bundled",
    "charts.py": "bundled",
    "brief.py": "bundled",
    "app.py": "bundled",
    "coverage.py": "bundled",
    "lcia.py": "bundled",
    "goods.py": "bundled",
    "series.py": "bundled",
    "views.py": "bundled",
    "compare.py": "bundled",
    "test_compare.py": "bundled",
}
"""Tier of every test of a module (test files, and doctests by source file name)."""

TEST_TIERS = {
    "test_store.py": {"test_concurrent_": "concurrency", "test_same_year_imported_": "concurrency",
                      "test_readers_never_fail_": "concurrency",
                      "test_interrupted_import_": "cli"},
    "test_validation.py": {"test_fuzzed_": "fuzz"},
    "test_import_hardening.py": {"test_a_zip_of_999_": "fuzz"},
    "test_trade_checks.py": {"test_built_": "build"},
    "test_snapshot.py": {"test_flow_": "build", "test_every_baci_code_": "build",
                         "test_rebuild_": "build"},
    "test_timeline.py": {"test_bundled_": "bundled"},
    "test_groups_arith.py": {"test_bundled_": "bundled"},
    "test_time_axis.py": {"test_bundled_": "bundled"},
    "test_coverage.py": {"test_bundled_": "bundled"},
    "test_api_types.py": {"test_bundled_": "bundled"},
    "test_dead_ends.py": {"test_cli_": "cli", "test_bundled_": "bundled"},
    "test_montecarlo_memory.py": {"test_bundled_": "bundled"},
    "test_optimiser_mip.py": {"test_bundled_": "bundled"},
    "test_server_safety.py": {"test_server_": "concurrency", "test_imports_": "concurrency"},
    "test_embodied.py": {"test_bundled_": "bundled", "test_release_": "bundled"},
}
"""Tiers of single tests within a module, by test-name prefix."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast", action="store_true",
                     help="run the fast tier only (no " + ", ".join(TIERS) + " tests)")


def pytest_configure(config: pytest.Config) -> None:
    for tier, meaning in TIERS.items():
        config.addinivalue_line("markers", f"{tier}: {meaning}")
    config.critmin_tiers = tuple(TIERS)  # type: ignore[attr-defined]


def tier_of(item: pytest.Item) -> str | None:
    """The slower tier ``item`` belongs to, or None for the fast tier."""
    name = Path(str(item.fspath)).name
    for prefix, tier in TEST_TIERS.get(name, {}).items():
        if item.name.startswith(prefix):
            return tier
    if "cli" in getattr(item, "fixturenames", ()):
        return "cli"
    return MODULE_TIERS.get(name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    fast, slow = [], []
    for item in items:
        tier = tier_of(item)
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))
        (slow if tier is not None else fast).append(item)
    if config.getoption("--fast"):
        config.hook.pytest_deselected(items=slow)
        items[:] = fast


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
