"""Product names as entries (magnets, lithium carbonate: a mineral at a stage), the year a
stage defaults to, and the optimiser's command line and solver status."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from critmin import resolve
from critmin.errors import InvalidInput
from critmin.optimiser.model import Model
from critmin.optimiser.solve import solve, status_text
from critmin.query import risk, stages
from critmin.sourcing import SHOWN_FLOOR, optimise
from critmin.trade_network import network
from critmin.whatif.restrictions import restrict

Cli = Callable[..., Any]


@pytest.fixture(autouse=True)
def cubes(critmin_home: Path, session_cube_cache: Path) -> None:
    """The session's computed cubes in this test's home (they are not recomputed)."""
    cache = critmin_home / "cache"
    for cube in session_cube_cache.iterdir():
        if not (cache / cube.name).exists():
            (cache / cube.name).symlink_to(cube)


def test_product_names_resolve_to_a_mineral_and_stage() -> None:
    assert resolve.mineral_stage("magnets") == ("rare-earths", "product")
    assert resolve.mineral_stage("NdFeB magnets") == ("rare-earths", "product")
    assert resolve.mineral_stage("Spodumene") == ("lithium", "ore")
    assert resolve.mineral_stage("lithium hydroxide") == ("lithium", "intermediate")
    assert resolve.mineral_stage("cobalt hydroxide", "intermediate") == ("cobalt",
                                                                         "intermediate")
    assert resolve.mineral_stage("lithium") == ("lithium", None)


def test_every_product_name_names_codes_of_its_mineral_and_stage() -> None:
    from critmin.catalog import load

    products = load("product_minerals")
    pairs = set(zip(products["hs6"], products["mineral"], products["stage"], strict=True))
    for row in load("product_names").itertuples():
        assert (row.hs6, row.mineral, row.stage) in pairs, row.name


def test_a_conflicting_stage_is_refused() -> None:
    with pytest.raises(InvalidInput, match="product stage, not the ore stage"):
        resolve.mineral_stage("magnets", "ore")
    with pytest.raises(InvalidInput, match="intermediate stage"):
        restrict("CHN", "lithium carbonate", stage="refined")


def test_a_product_where_only_a_mineral_fits_names_the_mineral() -> None:
    with pytest.raises(InvalidInput, match=r"lithium at the intermediate stage") as caught:
        risk("India", "lithium carbonate", 2023)
    assert caught.value.suggestions == ["lithium"]


def test_restrict_and_stages_take_the_products_stage() -> None:
    run = restrict("CHL", "lithium carbonate", year=2023)
    assert (run.mineral, run.stage, run.year) == ("lithium", "intermediate", 2023)
    rows = stages("IND", "lithium carbonate", 2023)
    assert set(rows["stage"]) == {"intermediate"} and set(rows["mineral"]) == {"lithium"}


def test_magnets_with_no_year_take_the_stages_latest_year(cli: Cli) -> None:
    net = network("magnets")
    assert (net.mineral, net.stage, net.year) == ("rare-earths", "product", 2024)
    assert net.notes[0].startswith("2024: the latest year with product-stage trade")
    run = cli("restrict", "--supplier", "CHN", "-m", "magnets", "--limit", "2")
    assert run.code == 0, run.stderr
    assert "2024: the latest year with product-stage trade of rare-earths" in run.stderr
    assert "product stage, 2024" in run.stderr
    refused = cli("restrict", "--supplier", "CHN", "-m", "magnets", "-s", "ore")
    assert refused.code != 0 and "not the ore stage" in refused.stderr


def test_an_explicit_year_is_kept() -> None:
    with pytest.raises(InvalidInput, match="no trade"):
        network("magnets", 2023)


def test_optimise_takes_limit_and_all(cli: Cli) -> None:
    limited = cli("optimise", "--importer", "IND", "-m", "lithium", "--limit", "3", "--csv")
    assert limited.code == 0, limited.stderr
    assert len(limited.stdout.strip().splitlines()) == 1 + 3
    every = cli("optimise", "--importer", "IND", "-m", "lithium", "--all", "--csv")
    assert every.code == 0, every.stderr
    assert len(every.stdout.strip().splitlines()) > 1 + 3


def test_tiny_shares_leave_the_printed_mix_not_the_totals() -> None:
    result = optimise("IND", "lithium")
    shown, line = result.shown()
    p = result.portfolio
    small = (p["share"] < SHOWN_FLOOR) & (p["today_share"].fillna(0.0) < SHOWN_FLOOR)
    folded = int(small.sum()) >= 2  # one small row is shown as it is
    assert len(shown) == (len(p) - int(small.sum()) + 1 if folded else len(p))
    assert (line is None) == (not folded)
    if line is not None:
        assert line.startswith(f"others: {int(small.sum())} suppliers below 0.1 % each")
        others = shown.iloc[-1]
        assert others["supplier"] == f"others ({int(small.sum())} rows)"
        assert others["tonnes"] == pytest.approx(p.loc[small, "tonnes"].sum())
        assert others["today_t"] == pytest.approx(p.loc[small, "today_t"].sum())
    assert abs(p["tonnes"].sum() - result.demand_t) < 1e-6 * result.demand_t


def test_a_solver_failure_is_not_called_optimal() -> None:
    text = status_text("Solve error", False, exact=True)
    assert not text.lower().startswith("optimal") and "failed: Solve error" in text
    assert status_text("Optimal", True, exact=False) == "Optimal"
    m = Model(np.array([0.5, 0.2, 0.3]), np.full(3, 2.0), np.zeros(3), np.ones(3))
    assert solve(m).status == "Optimal"


def test_a_real_solver_failure_is_reported_as_a_fallback(cli: Cli) -> None:
    res = cli("optimise", "--importer", "IND", "-m", "lithium", "-y", "2023",
              "--max-share", "0.3", "--json")
    assert res.code == 0, res.stderr
    body = res.json()
    assert body["status"].startswith("fallback") and "highs failed" in body["status"]
    assert any(n.startswith("the QP solver failed") for n in body["notes"])
