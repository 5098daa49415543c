"""Minimum lots, a most number of suppliers and shortfalls: the mixed-integer optimiser
against hand-computed optima and exhaustive search over supplier sets, the best mix when
the demand cannot be met, and solver failures said as such."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import critmin
from critmin.errors import SolverError
from critmin.optimiser import mip
from critmin.optimiser.mip import MIP_GAP, deliverable, solve_mixed
from critmin.optimiser.model import Model, Sourcing, Weights, build_model
from critmin.optimiser.result import mix_metrics
from critmin.optimiser.solve import Solution, solve


def four(min_lot_t: float = 0.0, max_suppliers: int | None = None,
         cap: tuple[float, ...] = (60.0, 50.0, 40.0, 30.0), demand: float = 100.0
         ) -> Sourcing:
    return Sourcing(np.array(["A", "B", "C", "D"]), np.array([0.1, 0.2, 0.3, 0.4]),
                    np.full(4, 10.0), np.array(cap), demand, reference_price=10.0,
                    min_lot_t=min_lot_t, max_suppliers=max_suppliers)


@pytest.mark.parametrize(("lot", "most", "tonnes", "objective"), [
    # two suppliers: A and B, with s_A - s_B = (0.2 - 0.1) / 2 from the KKT conditions;
    # risk 0.1·0.525 + 0.2·0.475, HHI 0.525² + 0.475²
    (0.0, 2, [52.5, 47.5, 0.0, 0.0], 0.64875),
    # three suppliers in lots of 30 t: C would take 28.3 t freely, so it takes its lot and A
    # and B split the 70 t left 37.5 / 32.5; risk 0.1925, HHI 0.33625
    (30.0, 3, [37.5, 32.5, 30.0, 0.0], 0.52875),
    # a lot of 30 t alone: D (17.5 t freely) leaves, and the three others are as above
    (30.0, None, [37.5, 32.5, 30.0, 0.0], 0.52875),
])
def test_a_hand_computed_optimum(lot: float, most: int | None, tonnes: list[float],
                                 objective: float) -> None:
    inp = four(lot, most)
    found = solve(build_model(inp, Weights()))
    assert found.optimal and found.status == "Optimal"
    assert found.gap is not None and found.gap <= MIP_GAP
    assert (found.shares * inp.demand_t) == pytest.approx(tonnes, abs=1e-6)
    assert mix_metrics(inp, found.shares, Weights(), None)["objective"] == pytest.approx(
        objective, abs=1e-9)


def best_over_sets(model: Model) -> float:
    """The least objective over every set of at most max_count suppliers, each set a
    continuous programme with the lot as each member's lower bound (inf when none is
    feasible)."""
    n = len(model.linear)
    best = np.inf
    for k in range(1, (model.max_count or n) + 1):
        for members in itertools.combinations(range(n), k):
            on = np.zeros(n, dtype=bool)
            on[list(members)] = True
            if ((model.lower > 0) & ~on).any():
                continue
            lo = np.where(on, np.maximum(model.lower, model.lot), 0.0)
            up = np.where(on, model.upper, 0.0)
            if (lo > up + 1e-12).any() or up.sum() < 1 - 1e-12 or lo.sum() > 1 + 1e-12:
                continue
            found = solve(Model(model.linear, model.hessian_diagonal, lo, up))
            if found.optimal:
                best = min(best, found.objective)
    return best


@st.composite
def integer_requests(draw: st.DrawFn) -> tuple[Sourcing, Weights]:
    n = draw(st.integers(2, 6))
    unit = st.floats(0.0, 1.0)
    inp = Sourcing(np.array([f"S{i}" for i in range(n)]),
                   np.array([draw(unit) for _ in range(n)]),
                   np.array([draw(st.floats(1.0, 100.0)) for _ in range(n)]),
                   np.array([draw(st.floats(5.0, 90.0)) for _ in range(n)]), 100.0,
                   max_share=draw(st.sampled_from([1.0, 0.7, 0.45])), reference_price=20.0,
                   min_lot_t=draw(st.sampled_from([0.0, 5.0, 20.0, 35.0])),
                   max_suppliers=draw(st.one_of(st.none(), st.integers(1, n))))
    if inp.min_lot_t == 0 and inp.max_suppliers is None:
        inp = Sourcing(inp.suppliers, inp.risk, inp.price, inp.cap_t, inp.demand_t,
                       inp.max_share, reference_price=inp.reference_price, min_lot_t=10.0)
    w = Weights(draw(unit), draw(st.sampled_from([0.0, 0.3, 1.0, 2.0])), draw(unit))
    if w.risk == w.concentration == w.cost == 0:
        w = Weights()
    return inp, w


@settings(max_examples=150, deadline=None)
@given(req=integer_requests())
def test_the_mixed_integer_optimum_is_the_best_over_supplier_sets(
        req: tuple[Sourcing, Weights]) -> None:
    inp, w = req
    model = build_model(inp, w)
    best = best_over_sets(model)
    found = solve(model)
    most = deliverable(model)
    if not np.isfinite(best):  # no set of suppliers meets the demand
        assert not found.usable
        assert most.optimal and most.objective < 1 - 1e-9
        return
    assert found.optimal, found.status
    assert most.objective == pytest.approx(1.0, abs=1e-7)
    tonnes = found.shares * inp.demand_t
    assert tonnes.sum() == pytest.approx(inp.demand_t, rel=1e-9)
    used = tonnes > 1e-9 * inp.demand_t
    assert (tonnes[used] >= inp.min_lot_t - 1e-6).all()
    assert (tonnes <= np.minimum(inp.cap_t, inp.max_share * inp.demand_t) + 1e-6).all()
    if inp.max_suppliers is not None:
        assert used.sum() <= inp.max_suppliers
    # the rounds stop within MIP_GAP of the bound: never worse than the best set by more
    assert found.objective <= best + MIP_GAP * abs(best) + 1e-8
    assert found.objective >= best - 1e-8  # and it is a feasible mix, so no better


def test_with_only_caps_binding_the_most_deliverable_is_the_sum_of_caps() -> None:
    inp = four(cap=(20.0, 15.0, 10.0, 5.0))
    model = build_model(inp, Weights())
    assert deliverable(model).objective * inp.demand_t == pytest.approx(50.0)
    # in lots of 12 t, D (5 t) cannot take part; at most two suppliers: A and B
    lots = build_model(four(12.0, 2, cap=(20.0, 15.0, 10.0, 5.0)), Weights())
    assert deliverable(lots).objective * inp.demand_t == pytest.approx(35.0)
    # a knapsack: two suppliers of 70 t cannot deliver 100 t in lots of 60 t
    pair = build_model(four(60.0, cap=(70.0, 70.0, 0.0, 0.0)), Weights())
    assert deliverable(pair).objective * inp.demand_t == pytest.approx(70.0)
    assert not solve(pair).usable


def test_a_time_limit_of_zero_fails_and_says_so() -> None:
    found = solve_mixed(build_model(four(30.0, 3), Weights()), time_limit_s=0.0)
    assert not found.usable and not found.optimal
    assert found.status == "solver failed: the time limit came before any mix was found"
    assert "optimal" not in found.status.lower()


def _mocked(kind: str, text: str, with_mix: bool) -> Any:
    def run(self: Any, seconds: float) -> tuple[str, str, np.ndarray, np.ndarray, float]:
        shares = np.array([0.5, 0.5, 0.0, 0.0]) if with_mix else np.zeros(4)
        # HiGHS's bound is on the conditioned objective: (f - 0.1) / 2 for these four, so
        # 0.2 is a bound of 0.5
        return kind, text, shares, (shares > 0).astype(float), 0.2
    return run


@pytest.mark.parametrize(("kind", "text", "with_mix", "status"), [
    ("failed", "Solve error", False, "solver failed: Solve error"),
    ("limit", "Time limit reached", False,
     "solver failed: the time limit came before any mix was found"),
    ("stopped", "Time limit reached", True, "time limit: best mix found (gap "),
])
def test_highs_statuses_other_than_optimal_are_labelled(
        monkeypatch: pytest.MonkeyPatch, kind: str, text: str, with_mix: bool,
        status: str) -> None:
    monkeypatch.setattr(mip._Milp, "run", _mocked(kind, text, with_mix))
    found = solve_mixed(build_model(four(30.0, 2), Weights()))
    assert found.status.startswith(status)
    assert not found.optimal
    assert found.usable == with_mix
    if with_mix:  # the best mix of A and B (0.64875, above) against HiGHS's bound (0.5)
        assert found.gap == pytest.approx((0.64875 - 0.5) / 0.64875)


def test_a_failed_qp_is_never_called_optimal(monkeypatch: pytest.MonkeyPatch) -> None:
    from critmin.optimiser import solve as solve_module

    real = solve_module._highspy()

    class Failing:  # HiGHS as it is, except that every solve ends in "Solve error"
        def __init__(self) -> None:
            self._highs = real.Highs()

        def __getattr__(self, name: str) -> Any:
            return getattr(self._highs, name)

        def getModelStatus(self) -> Any:  # noqa: N802 (HiGHS's own name)
            return real.HighsModelStatus.kSolveError

    class Module:
        Highs = Failing

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(solve_module, "_highspy", lambda: Module())
    # the exact KKT optimum exists: it is taken, and the status says HiGHS failed
    fallback = solve(build_model(four(), Weights()))
    assert fallback.status == "fallback: exact KKT optimum (HiGHS failed: Solve error)"
    # mixed quadratic weights have no such optimum: the failure stands
    mixed = Model(np.array([0.1, 0.2]), np.array([0.0, 2.0]), np.zeros(2), np.ones(2))
    failed = solve(mixed)
    assert failed.status == "Solve error" and not failed.usable


def test_bundled_solver_failure_is_an_error_not_a_mix(monkeypatch: pytest.MonkeyPatch) -> None:
    import critmin.sourcing

    def failed(model: Model, *args: Any) -> Solution:
        return Solution(np.zeros(len(model.linear)), np.nan, "Solve error", optimal=False)

    monkeypatch.setattr(critmin.sourcing, "solve", failed)
    with pytest.raises(SolverError, match=r"the solver found no mix \(Solve error\)"):
        critmin.optimise("IND", "lithium", 2023)


def test_bundled_india_lithium_in_lots_from_few_suppliers() -> None:
    p = critmin.optimise("IND", "lithium", 2023, min_lot_t=50, max_suppliers=4)
    used = p.portfolio[p.portfolio["tonnes"] > 0]
    assert p.status == "optimal" and p.mip_gap is not None and p.mip_gap <= MIP_GAP
    assert 1 <= len(used) <= 4
    assert (used["tonnes"] >= 50 - 1e-6).all()
    assert (used["tonnes"] <= used["cap_t"] + 1e-6).all()
    assert used["tonnes"].sum() == pytest.approx(p.demand_t)
    assert p.shortfall_t == 0 and p.binding == []
    # the constraints cost something: never better than the mix without them
    free = critmin.optimise("IND", "lithium", 2023)
    assert p.after["objective"] >= free.after["objective"] - 1e-9


def test_bundled_india_lithium_without_china_beyond_the_others_caps() -> None:
    p = critmin.optimise("IND", "lithium", 2023, demand=20_000, exclude="CHN")
    rows = p.portfolio.set_index("supplier")
    out = set(p.parameters["exclude"])
    assert "CHN" in out
    eligible = rows[~rows.index.isin(out)]
    assert p.status == "infeasible: shortfall"
    # only the caps bind: every eligible supplier ships its cap, and that is the most
    assert eligible["tonnes"].to_numpy() == pytest.approx(eligible["cap_t"].to_numpy(),
                                                          abs=1e-5)
    assert p.delivered_t == pytest.approx(eligible["cap_t"].sum(), rel=1e-8)
    assert p.shortfall_t == pytest.approx(p.demand_t - p.delivered_t)
    assert p.shortfall_t > 0
    assert rows.loc["CHN", "tonnes"] == 0
    binding = {b["constraint"]: b for b in p.binding}
    assert binding["caps"]["added_t"] is None
    assert binding["exclude:CHN"]["added_t"] == pytest.approx(
        min(rows.loc["CHN", "cap_t"], p.shortfall_t), rel=1e-6)
    body = p.to_dict()
    assert body["shortfall_t"] == p.shortfall_t and body["binding"] == p.binding


def test_bundled_share_cap_binds_with_the_exclusion() -> None:
    p = critmin.optimise("IND", "lithium", 2023, demand=3000, exclude="CHN", max_share=0.3)
    rows = p.portfolio.set_index("supplier")
    assert p.status.startswith("infeasible: shortfall")
    assert rows["tonnes"].max() <= 900 + 1e-5
    eligible = rows[~rows.index.isin(p.parameters["exclude"])]
    assert p.delivered_t == pytest.approx(np.minimum(eligible["cap_t"], 900).sum(), rel=1e-8)
    binding = {b["constraint"]: b for b in p.binding}
    assert binding["max_share"]["added_t"] > 0
    assert "max share 30% per supplier" in binding["max_share"]["detail"]


def test_the_command_line_answers_a_shortfall_with_exit_0(cli) -> None:
    args = ["optimise", "--importer", "IND", "-m", "lithium", "-y", "2023",
            "--exclude", "CHN", "--demand", "20000"]
    res = cli(*args, "--json")
    assert res.code == 0, res.stderr
    body = res.json()
    assert body["status"] == "infeasible: shortfall"
    assert body["shortfall_t"] == pytest.approx(20_000 - body["delivered_t"])
    assert body["binding"][0]["constraint"] == "caps"
    text = cli(*args)
    assert text.code == 0
    assert "shortfall:" in text.stderr and "CHN excluded: lifting it would add" in text.stderr
    lots = cli("optimise", "--importer", "IND", "-m", "lithium", "-y", "2023",
               "--min-lot", "50", "--max-suppliers", "4", "--json")
    assert lots.code == 0, lots.stderr
    mix = [r for r in lots.json()["portfolio"] if r["tonnes"] > 0]
    assert len(mix) <= 4 and min(r["tonnes"] for r in mix) >= 50 - 1e-6


def test_bundled_frontier_refuses_a_shortfall_and_keeps_lots() -> None:
    with pytest.raises(critmin.InvalidInput, match="the optimiser gives the best mix"):
        critmin.frontier("IND", "lithium", 2023, points=3, demand=20_000, exclude="CHN")
    f = critmin.frontier("IND", "lithium", 2023, points=3, max_suppliers=3)
    assert (f.table["suppliers"] <= 3).all() and (f.table["status"] == "optimal").all()


def test_bundled_api_takes_lots_and_checks_them() -> None:
    from fastapi.testclient import TestClient

    from critmin.api import create_app

    base = {"importer": "IND", "mineral": "lithium", "year": 2023}
    with TestClient(create_app(), base_url="http://localhost") as client:
        res = client.post("/api/v1/optimise", json={**base, "min_lot_t": 50,
                                                   "max_suppliers": 4})
        assert res.status_code == 200, res.text
        mix = [r for r in res.json()["portfolio"] if r["tonnes"] > 0]
        assert len(mix) <= 4 and min(r["tonnes"] for r in mix) >= 50 - 1e-6
        for field, value in (("max_suppliers", 0), ("min_lot_t", -5), ("max_suppliers", 2.5)):
            bad = client.post("/api/v1/optimise", json={**base, field: value})
            assert bad.status_code == 422
            err = bad.json()["error"]
            assert err["details"]["errors"][0]["where"] == f"body.{field}"
            assert f"(got {value!r})" in err["message"]
        short = client.post("/api/v1/optimise", json={**base, "demand": 20_000,
                                                     "exclude": ["CHN"], "frontier_points": 3})
        assert short.status_code == 200, short.text
        assert short.json()["shortfall_t"] > 0 and "frontier" not in short.json()


def test_bundled_time_limit_bounds_the_whole_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the limit has passed, the constraints behind a shortfall are listed as not
    assessed instead of each getting a fresh limit; the mix is still found."""
    from critmin import sourcing

    calls: list[float] = []

    def left(self: sourcing._Clock) -> float:  # the whole limit once, then nothing
        calls.append(self.limit_s)
        return self.limit_s if len(calls) == 1 else 0.0

    monkeypatch.setattr(sourcing._Clock, "left", left)
    p = critmin.optimise("IND", "lithium", 2023, demand=3000, exclude="CHN", max_share=0.3)
    binding = {b["constraint"]: b for b in p.binding}
    assert p.status.startswith("infeasible: shortfall") and p.shortfall_t > 0
    assert {"caps", "max_share", "exclude:CHN"} <= set(binding)
    for name in set(binding) - {"caps"}:
        assert binding[name]["added_t"] is None
        assert binding[name]["detail"].endswith("not assessed (the time limit was reached)")
    assert len(calls) >= 3
