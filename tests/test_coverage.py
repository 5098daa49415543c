"""The coverage every scenario result carries (:mod:`critmin.coverage`): the share of the
suppliers' known output that the trade network's exports represent.

Tests on a hand-made network first; ``test_bundled_`` tests compute on the bundled data.
"""

from __future__ import annotations

import pytest

import critmin
from critmin import cache
from critmin.coverage import MIN_COVERAGE, Coverage, measure, of_suppliers
from critmin.errors import InvalidInput
from critmin.scenarios.network import Network
from critmin.store import get_store

SMALL = Network.of(["A", "B", "C"], [[0, 30, 10], [1, 0, 0], [0, 0, 0]], [200, 0, 50])
"""A exports 40 t (30 to B, 10 to C) of its 200 t output; B re-exports 1 t and produces
nothing known; C produces 50 t and exports none."""


def test_coverage_is_exports_over_known_output() -> None:
    one = measure(SMALL, SMALL.production, ["A"])
    assert (one.exports_t, one.output_t, one.share, one.status) == (40.0, 200.0, 0.2, "known")
    # B's output is unknown: listed, and left out of both sums (its 1 t is not counted)
    both = measure(SMALL, SMALL.production, ["B", "A"])
    assert (both.exports_t, both.output_t, both.share, both.unknown) == (40.0, 200.0, 0.2,
                                                                           ("B",))
    # every exporter or producer: (40 + 0) / (200 + 50)
    world = measure(SMALL, SMALL.production)
    assert world.suppliers == ("A", "B", "C")
    assert world.share == pytest.approx(40 / 250)
    assert "16.0 % of the known output of A, B, C (40.0 of 250 t; output unknown for B)" in (
        world.line())


def test_unknown_output_is_withheld_never_full_coverage() -> None:
    hub = measure(SMALL, SMALL.production, ["B"])
    assert hub.share is None and hub.output_t is None and hub.status == "unknown"
    assert hub.to_dict()["share"] is None and hub.to_dict()["status"] == "unknown"
    assert hub.line("B").startswith("coverage unknown")
    assert hub.require("a restriction") is hub  # unknown is not refused
    absent = measure(SMALL, SMALL.production, ["ZZZ"])
    assert absent.suppliers == () and absent.share is None


def test_below_the_minimum_a_result_is_refused_with_the_figures() -> None:
    assert MIN_COVERAGE == 0.01
    low = Coverage(("AUS",), 341.0, 204_200.0, ())
    assert low.status == "below threshold"
    with pytest.raises(InvalidInput, match=r"exports of AUS are 0\.2 % of its known output "
                       r"\(341 of 204,200 t\), under the 1\.0 % minimum") as caught:
        low.require("an export restriction by Australia")
    assert caught.value.details["share"] == pytest.approx(341 / 204_200)
    edge = Coverage(("X",), 1.0, 100.0, ())
    assert edge.require("x") is edge  # exactly 1 % is analysed


# -- the bundled data ------------------------------------------------------------------------

def test_bundled_china_rare_earth_output_by_the_refined_network() -> None:
    net = critmin.network("rare-earths", 2023, "refined")
    china = int(net.network.index(["CHN"])[0])
    mined = cache.load(get_store(), "cube", years=[2023], minerals=["rare-earths"],
                       countries=["CHN"])["production_t"].sum()
    c = of_suppliers(net, ["CHN"])
    # no source reports refined rare-earth output: the production stage's is used, and said
    assert net.network.production.sum() == 0 and "production-stage output" in c.measured
    assert c.output_t == pytest.approx(mined) == pytest.approx(255_000.0)
    assert c.exports_t == pytest.approx(net.network.exports[china])
    assert 0.04 < c.share < 0.05  # China exports under 5 % of its output as metal
    headline = of_suppliers(critmin.network("rare-earths", 2023), ["CHN"])
    assert headline.measured == "output" and 0.17 < headline.share < 0.20


def test_bundled_every_result_carries_its_coverage() -> None:
    cut = critmin.restrict("CHN", "rare-earths", 2023, cascade=False)
    assert cut.coverage is not None
    assert cut.to_dict()["coverage"]["share"] == pytest.approx(
        of_suppliers(critmin.network("rare-earths", 2023), ["CHN"]).share)
    assert "coverage: the network's exports are 18." in cut.summary()

    deal = critmin.pact("IND", "CHL", "lithium", volume=200, year=2023)
    assert deal.to_dict()["coverage"]["suppliers"] == ["CHL"]
    assert deal.coverage is not None and deal.coverage.share is not None
    assert deal.coverage.share > 0.5 and "coverage:" in deal.summary()

    risk = critmin.supply_at_risk("cobalt", 2023, draws=200, seed=1)
    world = of_suppliers(critmin.network("cobalt", 2023))
    assert risk.to_dict()["coverage"]["share"] == pytest.approx(world.share)
    assert "coverage:" in risk.summary()

    mix = critmin.optimise("IND", "lithium", 2023)
    used = mix.portfolio.loc[mix.portfolio["tonnes"] > 1e-9 * mix.demand_t, "supplier"]
    assert mix.coverage is not None and set(mix.coverage.suppliers) == set(used)
    assert mix.to_dict()["coverage"]["status"] == "known" and "coverage:" in mix.summary()


def test_bundled_a_supplier_whose_exports_the_data_lacks_is_refused() -> None:
    # Australia's spodumene concentrate has no rows in 2023: the network shows 0.2 % of its
    # lithium output leaving it
    with pytest.raises(InvalidInput, match=r"exports of AUS are 0\.2 % of its known output"):
        critmin.restrict("AUS", "lithium", 2023)
    with pytest.raises(InvalidInput, match=r"under the 1\.0 % minimum"):
        critmin.pact("IND", "AUS", "lithium", volume=200, year=2023)
    # a loss of production, or new capacity, does not rest on the recorded exports
    lost = critmin.restrict("AUS", "lithium", 2023, production=True, cascade=False)
    assert lost.coverage is not None and lost.coverage.status == "below threshold"
    new = critmin.pact("IND", "AUS", "lithium", volume=200, year=2023, mode="new")
    assert new.to_dict()["coverage"]["status"] == "below threshold"


def test_bundled_a_transit_hub_has_coverage_unknown() -> None:
    hub = critmin.restrict("NLD", "lithium", 2023, cascade=False)
    assert hub.coverage is not None and hub.coverage.share is None
    assert hub.to_dict()["coverage"]["status"] == "unknown"
    assert "coverage unknown" in hub.summary()
