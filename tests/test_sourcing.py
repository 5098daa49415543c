"""The sourcing optimiser: small cases against exhaustive search and a second solver, its
invariants, the real-data API and the command line."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

import critmin
from critmin.errors import InvalidInput
from critmin.figures import frontier_figure
from critmin.optimiser.model import Sourcing, Weights, bounds, build_model, infeasible
from critmin.optimiser.result import mix_metrics
from critmin.optimiser.solve import solve


def objective(inp: Sourcing, shares: np.ndarray, w: Weights) -> float:
    return mix_metrics(inp, shares, w, None)["objective"]


def three(cap: list[float], max_share: float = 1.0) -> Sourcing:
    return Sourcing(np.array(["A", "B", "C"]), np.array([0.2, 0.5, 0.8]),
                    np.array([30.0, 10.0, 20.0]), np.array(cap), 100.0, max_share=max_share,
                    reference_price=20.0)


@pytest.mark.parametrize("weights", [Weights(), Weights(1, 0, 1), Weights(0, 1, 0),
                                     Weights(1, 2, 0.5)])
def test_three_suppliers_match_an_exhaustive_search(weights: Weights) -> None:
    inp = three([60.0, 50.0, 80.0], max_share=0.55)
    lower, upper = bounds(inp)
    best = np.inf
    grid = np.linspace(0, 1, 201)
    for a, b in itertools.product(grid, grid):
        s = np.array([a, b, 1 - a - b])
        if (s >= lower - 1e-12).all() and (s <= upper + 1e-12).all():
            best = min(best, objective(inp, s, weights))
    found = solve(build_model(inp, weights))
    assert found.optimal
    value = objective(inp, found.shares, weights)
    assert value <= best + 1e-9
    assert value >= best - 1e-3  # the grid's step


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 8), seed=st.integers(0, 10_000))
def test_highs_agrees_with_scipy(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    inp = Sourcing(np.array([f"S{i}" for i in range(n)]), rng.uniform(0, 1, n),
                   rng.uniform(1, 50, n), rng.uniform(10, 60, n), 100.0,
                   max_share=float(rng.uniform(0.3, 1.0)), reference_price=20.0)
    w = Weights(float(rng.uniform(0, 2)), float(rng.uniform(0.1, 2)), float(rng.uniform(0, 2)))
    if infeasible(inp) is not None:
        return
    lower, upper = bounds(inp)
    ref = minimize(lambda s: objective(inp, s, w), np.clip(np.full(n, 1 / n), lower, upper),
                   method="SLSQP", bounds=list(zip(lower, upper, strict=True)),
                   constraints=[{"type": "eq", "fun": lambda s: s.sum() - 1}],
                   options={"ftol": 1e-12, "maxiter": 500})
    found = solve(build_model(inp, w))
    assert found.optimal
    assert objective(inp, found.shares, w) <= objective(inp, ref.x, w) + 1e-6


@st.composite
def requests(draw: st.DrawFn) -> tuple[Sourcing, np.ndarray]:
    n = draw(st.integers(2, 7))
    floats = st.floats(0.0, 1.0)
    today = np.array([draw(st.floats(0.0, 50.0)) for _ in range(n)])
    if today.sum() == 0:
        today[0] = 1.0
    extra = np.array([draw(st.floats(0.0, 80.0)) for _ in range(n)])
    inp = Sourcing(np.array([f"S{i}" for i in range(n)]),
                   np.array([draw(floats) for _ in range(n)]),
                   np.array([draw(st.floats(1.0, 100.0)) for _ in range(n)]),
                   today + extra, float(today.sum()),
                   max_share=draw(st.sampled_from([1.0, 0.6, 0.4])), reference_price=10.0)
    return inp, today / today.sum()


@settings(max_examples=120, deadline=None)
@given(req=requests(), w=st.builds(Weights, st.floats(0, 2), st.floats(0, 2), st.floats(0, 2)))
def test_the_optimum_keeps_every_constraint_and_beats_todays_mix(
        req: tuple[Sourcing, np.ndarray], w: Weights) -> None:
    inp, today = req
    if infeasible(inp) is not None:
        return
    found = solve(build_model(inp, w))
    assert found.optimal
    s = found.shares
    lower, upper = bounds(inp)
    assert s.sum() == pytest.approx(1.0, abs=1e-9)
    assert (s >= lower - 1e-7).all() and (s <= upper + 1e-7).all()
    assert (s * inp.demand_t <= inp.cap_t + 1e-6 * inp.demand_t).all()
    if (today <= upper + 1e-12).all():  # today's mix is allowed: the optimum is no worse
        assert objective(inp, s, w) <= objective(inp, today, w) + 1e-7


@settings(max_examples=80, deadline=None)
@given(req=requests(), data=st.data())
def test_excluding_a_supplier_never_improves_the_objective(
        req: tuple[Sourcing, np.ndarray], data: st.DataObject) -> None:
    inp, _ = req
    if infeasible(inp) is not None:
        return
    j = data.draw(st.integers(0, len(inp.suppliers) - 1))
    excluded = np.zeros(len(inp.suppliers), dtype=bool)
    excluded[j] = True
    without = Sourcing(inp.suppliers, inp.risk, inp.price, inp.cap_t, inp.demand_t,
                       inp.max_share, excluded=excluded, reference_price=inp.reference_price)
    w = Weights()
    full = solve(build_model(inp, w))
    if infeasible(without) is not None:
        return
    less = solve(build_model(without, w))
    assert less.shares[j] == pytest.approx(0.0, abs=1e-9)
    assert objective(without, less.shares, w) >= objective(inp, full.shares, w) - 1e-7


def test_infeasible_requests_name_the_binding_constraint() -> None:
    assert "caps add up to 60.0 t, below the demand of 100.0 t" in infeasible(
        three([10.0, 20.0, 30.0]))
    assert "share cap of 30%" in infeasible(three([60.0, 60.0, 60.0], max_share=0.3))
    required = Sourcing(np.array(["A", "B"]), np.array([0.1, 0.2]), np.array([1.0, 1.0]),
                        np.array([50.0, 80.0]), 100.0, required_t=np.array([70.0, 0.0]))
    assert "A is required for 70.0 t but can ship at most 50.0 t" in infeasible(required)


def test_the_real_optimum_for_india_lithium() -> None:
    today = critmin.optimise("IND", "lithium", 2023)
    shares = today.portfolio.set_index("supplier")
    # today's mix is a candidate only where it keeps within the caps (re-exports are not)
    if (shares["today_t"] <= shares["cap_t"] + 1e-6).all():
        assert today.after["objective"] <= today.before["objective"] + 1e-9
    assert (shares["tonnes"] <= shares["cap_t"] + 1e-6).all()
    assert shares["tonnes"].sum() == pytest.approx(today.demand_t)
    # without China, four suppliers have a surplus worth a quarter of India's imports or
    # more (re-exports are not capacity): the share cap is 0.35, not 0.25
    capped = critmin.optimise("IND", "lithium", 2023, max_share=0.35, exclude="CHN",
                              require={"AUS": 30})
    rows = capped.portfolio.set_index("supplier")
    assert rows["share"].max() <= 0.35 + 1e-7
    assert "CHN" not in rows.index or rows.loc["CHN", "tonnes"] == pytest.approx(0, abs=1e-6)
    assert rows.loc["AUS", "tonnes"] >= 30 - 1e-6
    assert capped.after["objective"] >= today.after["objective"] - 1e-9


def test_origin_adjusted_risk_sees_china_behind_re_exporters() -> None:
    # with governance risk, a re-exporter of Chinese material looks safer than China itself
    plain = critmin.optimise("IND", "lithium", 2023, origin_adjusted=False,
                             risk_measure="governance")
    adjusted = critmin.optimise("IND", "lithium", 2023, risk_measure="governance")
    assert adjusted.after["china_origin_share"] < plain.after["china_origin_share"]


def test_candidates_rank_producers_above_re_exporters() -> None:
    ranked = critmin.suppliers("IND", "lithium", 2023).set_index("supplier")
    assert ranked.loc["CHL", "rank"] < 5
    # re-exporters have no surplus of their own: they are no longer candidates at all
    assert "JPN" not in ranked.index and "SGP" not in ranked.index
    assert ranked.loc["RUS", "cap_t"] == pytest.approx(27.0)  # its mine output, not exports
    assert ranked.loc["CHN", "china_origin_share"] == 1.0


def test_the_frontier_trades_risk_for_cost() -> None:
    # no concentration term: the ends are the least-risk and the least-cost mixes (with caps
    # at surpluses the mix is mostly set by the caps, and concentration would tilt the ends)
    f = critmin.frontier("IND", "lithium", 2023, points=6, concentration=0.0)
    t = f.table
    assert len(t) == 6 and (t["status"] == "optimal").all()
    assert t["unit_cost_usd_per_kg"].iloc[-1] <= t["unit_cost_usd_per_kg"].iloc[0]
    assert t["risk"].iloc[-1] >= t["risk"].iloc[0]
    assert frontier_figure(f).data[0].x is not None


def test_cli_optimise_json(cli) -> None:
    res = cli("optimise", "--importer", "IND", "-m", "lithium", "-y", "2023",
              "--max-share", "0.3", "--json")
    assert res.code == 0, res.stderr
    body = res.json()
    # caps at suppliers' surpluses leave some of a fraction of a tonne, on which HiGHS fails;
    # the exact optimum from the KKT conditions is then reported as a fallback, and says so
    assert body["status"] == "fallback: exact kkt optimum (highs failed: solve error)"
    assert {"supplier", "tonnes", "share", "cap_t"} <= set(body["portfolio"][0])
    for side in ("before", "after"):
        assert {"risk", "hhi", "unit_cost_usd_per_kg", "china_share"} <= set(body[side])
    assert "Running HiGHS" not in res.stdout + res.stderr


@pytest.mark.parametrize(("args", "text"), [
    (["optimise", "--importer", "IND", "-m", "lithium", "--demand", "0"], "above 0"),
    (["optimise", "--importer", "IND", "-m", "lithium", "--min-lot", "1e9"],
     "above the demand"),
    (["optimise", "--importer", "IND", "-m", "lithium", "--max-suppliers", "0"],
     "max_suppliers must be at least 1, not 0"),
    (["optimise", "--importer", "IND", "-m", "lithium", "--min-lot", "-5"],
     "min_lot_t must be above 0 t, not -5"),
    (["optimise", "--importer", "IND", "-m", "lithium", "--require", "AUS:1e9"],
     "required for"),
    (["optimise", "--importer", "IND", "-m", "lithium", "--exclude", "Atlantis"], "unknown"),
    (["optimise", "--importer", "IND", "-m", "lithium", "--weights", "risk=1,luck=2"], "luck"),
    (["optimise", "--importer", "IND", "-m", "lithium", "--require", "AUS"], "COUNTRY:TONNES"),
    (["suppliers", "--importer", "Inida", "-m", "lithium"], "India"),
])
def test_bad_sourcing_input_exits_2(cli, args: list[str], text: str) -> None:
    res = cli(*args)
    assert res.code == 2, res.stderr
    assert text in res.stderr and "Traceback" not in res.stderr


def test_every_supplier_excluded_is_refused() -> None:
    codes = list(critmin.suppliers("NOR", "cobalt", 2023, redirectable=0)["supplier"])
    with pytest.raises(critmin.InvalidInput, match="every supplier"):
        critmin.optimise("NOR", "cobalt", 2023, exclude=codes, redirectable=0)


def test_a_ban_in_force_is_never_in_the_mix() -> None:
    # China's ban on antimony exports to the USA took effect on 2024-12-03
    mix = critmin.optimise("USA", "antimony", 2024)
    assert mix.parameters["bans_in_force"] == {"CHN": "chn-us-ban-2024"}
    row = mix.portfolio.set_index("supplier")
    assert "CHN" not in row.index or row.loc["CHN", "tonnes"] == 0
    assert mix.after["china_share"] <= mix.before["china_share"] + 1e-9
    assert any("CHN excluded" in n for n in mix.notes)
    # the year before, nothing is banned
    assert critmin.optimise("USA", "antimony", 2023).parameters["bans_in_force"] == {}
    with pytest.raises(critmin.InvalidInput, match="cannot be required"):
        critmin.optimise("USA", "antimony", 2024, require={"CHN": 1.0})


def test_a_suppliers_risk_is_its_yearly_odds_of_a_restriction() -> None:
    odds = critmin.hazards("antimony", 2024).suppliers.set_index("country")["probability"]
    mix = critmin.optimise("USA", "antimony", 2024, origin_adjusted=False)
    rows = mix.portfolio.set_index("supplier")
    assert mix.parameters["risk_measure"] == "odds"
    for supplier in ("MMR", "TJK", "CHN"):
        assert rows.loc[supplier, "risk"] == pytest.approx(odds[supplier])
    gov = critmin.optimise("USA", "antimony", 2024, origin_adjusted=False,
                           risk_measure="governance").portfolio.set_index("supplier")
    risk = critmin.network("antimony", 2024).network
    where = dict(zip(risk.countries, risk.risk, strict=True))
    assert gov.loc["MMR", "risk"] == pytest.approx(where["MMR"])
    with pytest.raises(InvalidInput, match="risk_measure"):
        critmin.optimise("USA", "antimony", 2024, risk_measure="wgi")
