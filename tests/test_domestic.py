"""Domestic capacity (critmin.domestic): a hand-computed case on a small network, invariants
on real data, India's magnet scheme as a saved scenario, the CLI and the REST API."""

from __future__ import annotations

import json

import numpy as np
import pytest

import critmin
from critmin.errors import InvalidInput, NotFound
from critmin.scenarios import domestic as calc
from critmin.scenarios.network import Network
from critmin.trade_network import MineralNetwork
from critmin.whatif import capacity as cap
from critmin.whatif import domestic as mod
from critmin.whatif.saved import EXAMPLES
from test_rest_api import api_error, as_json, ok

# refined stage: China ships India 6 t, Russia 2 t; India refines 2 t itself
REFINED = Network.of(["CHN", "IND", "RUS"], [[0, 6, 0], [0, 0, 0], [0, 2, 0]], [10, 2, 2])
# one stage up: China ships India 3 t of compounds, India exports 1 t to Russia; India
# mines 5 t
UPSTREAM = Network.of(["CHN", "IND", "RUS"], [[0, 3, 0], [0, 0, 1], [0, 0, 0]], [0, 0, 0])
MINED = {"CHN": 50.0, "IND": 5.0, "RUS": 0.0}


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """critmin.domestic on the small network above (year 2024, basis REO)."""
    def fake(mineral: str, year: int | None = None, stage: str | None = None
             ) -> MineralNetwork:
        net = UPSTREAM if stage == "intermediate" else REFINED
        return MineralNetwork("rare-earths", 2024, stage or "headline", "REO", net)

    monkeypatch.setattr(mod, "network", fake)
    monkeypatch.setattr(cap, "stages_with_trade",
                        lambda mineral, year: ["intermediate", "refined"])
    monkeypatch.setattr(cap, "stage_output",
                        lambda net: np.full(net.network.size, np.nan))
    monkeypatch.setattr(cap, "primary_output", lambda net: np.array(
        [MINED[c] for c in net.network.countries]))


def test_a_hand_computed_case(small: None) -> None:
    d = critmin.domestic("IND", "rare-earths", stage="refined", capacity=4, cascade=False)
    # 4 t replace India's 8 t of imports pro rata: China 6 -> 3, Russia 2 -> 1; supply
    # stays 2 + 8 = 10 t, production 2 + 4 = 6 t
    assert (d.before["imports_t"], d.after["imports_t"]) == (8.0, 4.0)
    assert d.before["supply_t"] == d.after["supply_t"] == 10.0
    assert d.before["import_reliance"] == pytest.approx(0.8)
    assert d.after["import_reliance"] == pytest.approx(0.4)
    assert d.before["china_supply_share"] == pytest.approx(0.6)
    assert d.after["china_supply_share"] == pytest.approx(0.3)
    # first order, China cutting all: its shipments over India's supply
    assert d.exposure_before == pytest.approx(0.6)
    assert d.exposure_after == pytest.approx(0.3)
    assert (d.displaced_t, d.surplus_t) == (4.0, 0.0)
    taken = d.displaced_from.set_index("supplier")["displaced_t"]
    assert taken.to_dict() == pytest.approx({"CHN": 3.0, "RUS": 1.0})
    # feed: 4 t one stage up; India mines 5 t and exports 1 t of compounds: 4 t left
    assert d.feed["stages"] == ["intermediate"]
    assert d.feed["feed_t"] == 4.0
    assert d.feed["own_output_left_t"] == pytest.approx(4.0)
    assert d.feed["shortfall_t"] == pytest.approx(0.0)
    assert "moves upstream" not in d.conclusion()


def test_china_first_displaces_the_restricting_supplier(small: None) -> None:
    d = critmin.domestic("IND", "rare-earths", stage="refined", capacity=4, cascade=False,
                         displace="china-first")
    # China's 6 t go down by all 4 t: 2 t left, Russia keeps 2 t
    assert d.displaced_from.set_index("supplier")["after_t"].to_dict() == pytest.approx(
        {"CHN": 2.0, "RUS": 2.0})
    assert d.exposure_after == pytest.approx(0.2)


def test_capacity_beyond_imports_is_a_surplus_and_moves_dependence_up(small: None) -> None:
    d = critmin.domestic("IND", "rare-earths", stage="refined", capacity=10, cascade=False)
    assert d.after["imports_t"] == 0.0
    assert (d.displaced_t, d.surplus_t) == (8.0, 2.0)
    assert d.after["supply_t"] == 10.0  # the surplus is not counted as exports or supply
    assert d.exposure_after == 0.0
    assert any("2.0 t REO beyond its imports" in w for w in d.warnings)
    # 10 t of feed, 4 t from India's own output: 6 t to import, all of it from China today
    assert d.feed["shortfall_t"] == pytest.approx(6.0)
    assert d.feed["imports"][0]["china_share"] == 1.0
    assert d.conclusion().startswith("dependence moves upstream unless the feed is domestic")


def test_start_and_ramp_give_the_year_of_full_capacity(small: None) -> None:
    d = critmin.domestic("IND", "rare-earths", stage="refined", capacity=9, start=2027,
                         ramp=3, cascade=False)
    assert d.capacity["full_capacity_year"] == 2029
    assert [p["new_capacity_t"] for p in d.capacity["path"]] == [3.0, 6.0, 9.0]
    plain = critmin.domestic("IND", "rare-earths", stage="refined", capacity=9,
                             cascade=False)
    assert plain.capacity["full_capacity_year"] is None
    assert "full capacity on the 2024 trade flows" in plain.capacity["timing"]


def test_displacement_invariants_on_random_networks() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = 6
        flows = rng.uniform(0, 10, (n, n)) * (rng.uniform(size=(n, n)) < 0.6)
        net = Network.of([f"C{i}" for i in range(n)], flows, rng.uniform(0, 5, n))
        c = int(rng.integers(n))
        output = float(rng.uniform(0, 1.5 * net.imports[c] + 1))
        for first in (None, (rng.uniform(size=n) < 0.3).astype(float)):
            d = calc.displace(net, c, output, first)
            after = d.network
            assert d.displaced_t == pytest.approx(min(output, net.imports[c]))
            assert after.imports[c] == pytest.approx(net.imports[c] - d.displaced_t)
            assert after.supply[c] == pytest.approx(net.supply[c])
            assert (after.flows[:, c] <= net.flows[:, c] + 1e-12).all()
            others = np.arange(n) != c
            assert np.array_equal(after.flows[:, others], net.flows[:, others])


# -- real data -------------------------------------------------------------------------------

def test_real_invariants() -> None:
    base = critmin.domestic("IND", "rare-earths", stage="refined", capacity=400, year=2024)
    assert base.exposure_after <= base.exposure_before
    assert base.after["imports_t"] == pytest.approx(base.before["imports_t"] - 400)
    none = critmin.domestic("IND", "rare-earths", stage="refined", capacity=0, year=2024)
    assert none.after == none.before
    assert none.exposure_after == none.exposure_before
    imports = none.before["imports_t"]
    full = critmin.domestic("IND", "rare-earths", stage="refined", capacity=imports + 50,
                            year=2024)
    assert full.after["imports_t"] == pytest.approx(0.0, abs=1e-9)
    assert full.surplus_t == pytest.approx(50.0)


def test_the_magnet_scheme_example_runs() -> None:
    done = critmin.run_scenario(EXAMPLES / "india_magnet_scheme.json")
    d = done.result
    assert (done.scenario.kind, d.country, d.stage, d.year) == ("domestic", "IND", "product",
                                                               2024)
    # 6,000 t of magnets a year at 0.35 t REO per t (projects.csv)
    assert d.output_t == pytest.approx(2100.0)
    assert d.after["imports_t"] == pytest.approx(d.before["imports_t"] - 2100.0)
    assert d.exposure_after < d.exposure_before
    assert d.capacity["full_capacity_year"] is None
    assert "publishes no start year" in d.capacity["timing"]
    # the plant needs 2,100 t REO one stage up; India mines 2,500 t REO (2024) but exports
    # part of it as compounds, so part of the feed has to be imported
    assert d.feed["production_t"] == pytest.approx(2500.0)
    assert d.feed["shortfall_t"] == pytest.approx(
        2100.0 - (2500.0 - d.feed["upstream_exports_t"]))
    assert {"intermediate", "refined"} <= set(d.feed["stages"])
    assert "moves upstream" in d.conclusion()
    table = critmin.compare_scenarios([EXAMPLES / "india_magnet_scheme.json"])
    row = table.iloc[0]
    assert (row["kind"], row["country"]) == ("domestic", "IND")
    assert row["imports_before_t"] - row["imports_after_t"] == pytest.approx(2100.0)


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="either a capacity"):
        critmin.domestic("IND", "rare-earths", stage="refined")
    with pytest.raises(InvalidInput, match="china-first"):
        critmin.domestic("IND", "rare-earths", stage="refined", capacity=1,
                         displace="chinafirst")
    with pytest.raises(NotFound) as err:
        critmin.domestic("IND", "rare-earths", project="ind-repm")
    assert "ind-repm-scheme-2025" in err.value.suggestions
    with pytest.raises(InvalidInput, match="at the product stage, not refined"):
        critmin.domestic("IND", "rare-earths", project="ind-repm-scheme-2025",
                         stage="refined")
    with pytest.raises(InvalidInput, match="is rare-earths in IND"):
        critmin.domestic("RUS", "rare-earths", project="ind-repm-scheme-2025")


# -- CLI and API -----------------------------------------------------------------------------

def test_cli(cli) -> None:
    res = cli("domestic", "IND", "-m", "rare-earths", "--project", "ind-repm-scheme-2025",
              "-y", "2024", "--json")
    assert res.code == 0, res.stderr
    body = json.loads(res.stdout)
    assert body["output_t"] == pytest.approx(2100.0)
    for args in (["Inida", "-m", "rare-earths", "--capacity", "10"],
                 ["IND", "-m", "rare-earths", "--stage", "refined"],
                 ["IND", "-m", "rare-earths", "--stage", "refined", "--capacity", "5",
                  "--displace", "first"]):
        bad = cli("domestic", *args)
        assert bad.code == 2, bad.stderr
        assert "Traceback" not in bad.stderr
    assert "India (IND)" in cli("domestic", "Inida", "-m", "rare-earths", "--capacity",
                                "10").stderr


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from critmin.api import create_app

    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


def test_api(client) -> None:
    params = {"country": "IND", "mineral": "rare-earths", "stage": "refined",
              "capacity": 300, "year": 2024}
    body = ok(client.get("/api/v1/domestic", params=params))
    result = critmin.domestic(**params)
    assert body == as_json({**result.to_dict(), "summary": result.summary()})
    assert body["after"]["imports_t"] == pytest.approx(body["before"]["imports_t"] - 300)
    err = api_error(client.get("/api/v1/domestic", params={**params, "displace": "x"}), 422,
                    "invalid_input")
    assert "'x'" in err["message"]
    api_error(client.get("/api/v1/domestic", params={**params, "capacity": -1}), 422,
              "invalid_input")
    # the saved example runs by name, with no figure of its own
    run = ok(client.post("/api/v1/saved-scenarios/run", params={"figures": "true"},
                         json={"scenario": "india_magnet_scheme"}))
    assert run["result"]["output_t"] == pytest.approx(2100.0)
    assert "figure" not in run


def test_the_magnets_doc_quotes_the_computed_figures() -> None:
    from pathlib import Path

    doc = " ".join((Path(__file__).parents[1] / "docs" / "examples" / "india_magnets.md"
                    ).read_text("utf-8").split())
    d = critmin.run_scenario(EXAMPLES / "india_magnet_scheme.json").result
    b, a = d.before, d.after
    assert (f"| magnet imports (t REO) | {b['imports_t']:,.0f} | {a['imports_t']:,.0f} |"
            in doc)
    assert (f"| import reliance | {100 * b['import_reliance']:.1f} % | "
            f"{100 * a['import_reliance']:.1f} % |") in doc
    assert (f"| China's share of magnet supply | {100 * b['china_supply_share']:.1f} % | "
            f"{100 * a['china_supply_share']:.1f} % |") in doc
    assert (f"| {100 * d.exposure_before:.1f} % | {100 * d.exposure_after:.1f} % |") in doc
    assert f"at least {d.feed['shortfall_t']:,.0f} t REO a year would have to be imported" in doc
    assert " ".join(d.conclusion().split()) in doc


def test_new_output_at_the_first_stage_needs_no_feed(small: None) -> None:
    d = critmin.domestic("IND", "rare-earths", stage="ore", capacity=4, cascade=False)
    assert (d.feed["feed_t"], d.feed["shortfall_t"]) == (0.0, 0.0)
    assert d.feed["upstream_stages"] == []
    assert "needs no feed" in d.conclusion()
