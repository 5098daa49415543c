"""The scenario engine on hand-computed networks, and its invariants as property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.scenarios import montecarlo
from critmin.scenarios.cascade import Outcome, Params, run
from critmin.scenarios.network import Network, collapse, importer_metrics
from critmin.scenarios.pact import apply

# A mines 20 t and ships B 10 t and C 10 t; B re-exports 5 t to C.
# Supplies: A 0, B 5, C 15.
CHAIN = Network.of(["A", "B", "C"], [[0, 10, 10], [0, 0, 5], [0, 0, 0]], [20, 0, 0])


def test_first_order_loss_is_the_withheld_flow_over_supply() -> None:
    out = run(CHAIN, [0.5, 0, 0], params=Params(cascade=False))
    assert out.first_order_loss_t[0].tolist() == [0.0, 5.0, 5.0]
    assert out.loss_t[0].tolist() == [0.0, 5.0, 5.0]
    assert out.loss_share[0, 1:].tolist() == pytest.approx([1.0, 1 / 3])
    assert np.isnan(out.loss_share[0, 0])  # A's supply is 0: no share


def test_targets_limit_the_restriction() -> None:
    out = run(CHAIN, [1.0, 0, 0], targets=[0, 0, 1], params=Params(cascade=False))
    assert out.loss_t[0].tolist() == [0.0, 0.0, 10.0]


def test_a_re_exporter_passes_its_loss_on_before_absorbing_any() -> None:
    # B re-exports half of what it imports (an entrepôt): its 5 t deficit all goes on to C
    out = run(CHAIN, [0.5, 0, 0])
    assert out.hub.tolist() == [False, True, False]
    assert out.withheld_share[0].tolist() == pytest.approx([0.0, 1.0, 0.0])
    assert out.loss_t[0].tolist() == pytest.approx([0.0, 0.0, 10.0])
    assert out.first_round[0].tolist() == [0, 1, 1]
    assert out.passed_on_t[0, 1] == pytest.approx(5.0)
    assert out.retained_t[0].tolist() == pytest.approx([10.0, 0.0, 0.0])
    assert out.balance_residual_t[0] == pytest.approx(0.0, abs=1e-9)


def test_cascade_splits_the_deficit_between_use_and_exports() -> None:
    # B imports 10 t and exports 4 t (no re-exporter): it lacks 5 t, uses 6 of its 10, so it
    # absorbs 6/10 of the deficit (3 t) and passes 2 t on to C
    net = Network.of(["A", "B", "C"], [[0, 10, 10], [0, 0, 4], [0, 0, 0]], [20, 0, 0])
    out = run(net, [0.5, 0, 0])
    assert not out.hub.any()
    assert out.withheld_share[0].tolist() == pytest.approx([0.0, 0.5, 0.0])
    assert out.loss_t[0].tolist() == pytest.approx([0.0, 3.0, 7.0])
    assert out.passed_on_t[0, 1] == pytest.approx(2.0)
    assert out.balance_residual_t[0] == pytest.approx(0.0, abs=1e-9)


def test_a_hub_that_absorbs_nothing_passes_everything_on() -> None:
    out = run(CHAIN, [0.5, 0, 0], params=Params(absorb=0.0))
    assert out.loss_t[0].tolist() == pytest.approx([0.0, 0.0, 10.0])
    assert out.withheld_share[0, 1] == pytest.approx(1.0)


def test_stocks_are_drawn_first() -> None:
    # stocks: B 1 t, C 3 t. B: 5 lost, 1 from stock, 4 short, all passed on (a re-exporter).
    # C: 5 + 4 lost, 3 from stock, 6 lost.
    out = run(CHAIN, [0.5, 0, 0], params=Params(stock_buffer=0.2))
    assert out.stock_drawn_t[0].tolist() == pytest.approx([0.0, 1.0, 3.0])
    assert out.loss_t[0].tolist() == pytest.approx([0.0, 0.0, 6.0])
    assert out.balance_residual_t[0] == pytest.approx(0.0, abs=1e-9)


def test_a_chain_is_hit_round_by_round() -> None:
    # S -> A -> B -> C: each passes on what it cannot absorb; C is hit in round 3
    net = Network.of(["S", "A", "B", "C"],
                     [[0, 8, 0, 0], [0, 0, 4, 0], [0, 0, 0, 2], [0, 0, 0, 0]], [8, 0, 0, 0])
    out = run(net, [1.0, 0, 0, 0])
    assert out.first_round[0].tolist() == [0, 1, 2, 3]
    assert out.loss_share[0, 1:].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert out.loss_t[0].sum() == pytest.approx(8.0)


def test_substitution_is_capped_by_spare_capacity() -> None:
    # S and R each ship A 10 t; R has 50 t of production and may add 10 % of it
    net = Network.of(["S", "R", "A"], [[0, 0, 10], [0, 0, 10], [0, 0, 0]], [10, 50, 0])
    out = run(net, [1.0, 0, 0], params=Params(spare_capacity=0.1))
    assert out.rerouted_t[0].tolist() == pytest.approx([0.0, 0.0, 5.0])
    assert out.loss_t[0, 2] == pytest.approx(5.0)
    assert out.balance_residual_t[0] == pytest.approx(0.0, abs=1e-9)


def test_substitution_is_rationed_pro_rata() -> None:
    # R can add 10 t; A and B each lack 10 t and ask R for all of it: each gets 5 t
    net = Network.of(["S", "R", "A", "B"],
                     [[0, 0, 10, 10], [0, 0, 5, 15], [0, 0, 0, 0], [0, 0, 0, 0]],
                     [20, 40, 0, 0])
    out = run(net, [1.0, 0, 0, 0], params=Params(spare_capacity=0.25))
    assert out.rerouted_t[0, 2:].tolist() == pytest.approx([5.0, 5.0])


def test_a_production_shock_is_passed_on_like_a_restriction() -> None:
    # A loses half its output (10 t); it uses nothing itself, so all of it reaches B and C
    out = run(CHAIN, np.zeros(3), production_loss=[10, 0, 0])
    assert out.initial_shock_t[0] == pytest.approx(10.0)
    assert out.withheld_share[0, 0] == pytest.approx(0.5)
    assert out.loss_t[0].sum() == pytest.approx(10.0)


def test_importer_metrics_follow_the_cube_definitions() -> None:
    net = Network.of(["CHN", "R", "A"], [[0, 0, 6], [0, 0, 2], [0, 0, 0]], [10, 2, 2],
                     risk=[0.5, 0.1, 0.3])
    m = {k: v[2] for k, v in importer_metrics(net).items()}
    assert m["china_share"] == pytest.approx(0.75)
    assert m["import_hhi"] == pytest.approx(0.75**2 + 0.25**2)
    assert m["import_reliance"] == pytest.approx(8 / 10)
    assert m["wta"] == pytest.approx((0.5 * 6 + 0.1 * 2) / 10)
    assert m["score"] == pytest.approx(((10 / 14) ** 2 + (2 / 14) ** 2 * 2) * m["wta"])


def test_a_group_is_one_importer_without_trade_between_members() -> None:
    net = Network.of(["A", "B", "C"], [[0, 1, 2], [3, 0, 4], [5, 6, 0]], [1, 1, 1])
    g = collapse(net, np.array([0, 1]), "AB")
    assert g.supply[-1] == pytest.approx(net.supply[:2].sum())


def test_a_pact_redirects_pro_rata_and_stops_at_what_is_exported() -> None:
    net = Network.of(["A", "B", "C", "D"],
                     [[0, 0, 0, 0], [2, 0, 6, 2], [0, 0, 0, 0], [0, 0, 0, 0]], [0, 10, 0, 0])
    deal = apply(net, np.array([0]), 1, 4.0)
    assert deal.network.flows[1].tolist() == pytest.approx([6.0, 0.0, 3.0, 1.0])
    too_much = apply(net, np.array([0]), 1, 20.0)
    assert too_much.delivered_t == pytest.approx(8.0)
    new = apply(net, np.array([0]), 1, 20.0, mode="new")
    assert new.network.production[1] == 30.0 and new.network.flows[1, 0] == 22.0



def test_substitution_never_covers_a_deficit_already_passed_on() -> None:
    # E stops its 1 t to F, F's whole supply, which F re-exported to D. F passes its deficit
    # on, so D is short too; D's own partners then offer substitution, which D used to take
    # on top of the share it had already withheld from A, ending with a negative loss
    # (found by the conservation property test below)
    net = Network.of(["A", "B", "C", "D", "E", "F"],
                     [[0, 0, 0, 2, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0],
                      [74, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0]],
                     [0.25, 0, 2, 0, 0, 0])
    out = run(net, [0, 0, 0, 0, 1.0, 0], targets=[0, 0, 0, 0, 0, 1],
              params=Params(spare_capacity=0.2))
    assert (out.loss_t >= 0).all()
    assert out.loss_t[0, 3] == 0.0
    assert out.balance_residual_t[0] == pytest.approx(0.0, abs=1e-12)
    assert out.rerouted_t[0].sum() + out.loss_t[0].sum() == pytest.approx(1.0)

def test_the_restrictor_keeps_what_it_withholds_and_covers_what_comes_back() -> None:
    # R ships A 10 t and buys 4 t back from A. R bans: A lacks 10 t, uses 6 of its 10, so
    # it absorbs 6 t and passes 4 t on, all to R, which covers them from the 10 t it kept
    net = Network.of(["R", "A"], [[0, 10], [4, 0]], [20, 0])
    out = run(net, [1.0, 0])
    assert out.loss_t[0].tolist() == pytest.approx([0.0, 6.0])
    assert out.offset_t[0].tolist() == pytest.approx([4.0, 0.0])
    assert out.retained_t[0].tolist() == pytest.approx([6.0, 0.0])
    assert out.initial_shock_t[0] == pytest.approx(10.0)
    assert out.balance_residual_t[0] == pytest.approx(0.0, abs=1e-12)


def test_a_partial_restrictor_hit_back_beyond_what_it_keeps_loses_like_anyone() -> None:
    # R withholds 1 t of the 10 t it ships A; A passes on 1 x 8/10 = 0.8 t to R... R kept
    # 1 t, so the 0.8 t coming back costs it nothing; with the two restricting each other
    # both keep what they withhold first
    net = Network.of(["R", "A"], [[0, 10], [8, 0]], [20, 0])
    out = run(net, [0.1, 0])
    assert out.loss_t[0, 0] == 0.0
    assert out.offset_t[0, 0] + out.retained_t[0, 0] == pytest.approx(1.0)
    both = run(net, [0.5, 0.5])
    assert (both.loss_t[0] <= both.use_t[0] + 1e-12).all()
    assert both.balance_residual_t[0] == pytest.approx(0.0, abs=1e-12)


def test_loss_circling_between_re_exporters_is_unattributed_until_it_settles() -> None:
    # S ships A 5 t; A (no use of its own) re-exports to B and C; B (no use) sends all back
    # to A. The ban's 5 t end at C, the only user, but circle A -> B -> A on the way
    net = Network.of(["S", "A", "B", "C"],
                     [[0, 5, 0, 0], [0, 0, 10, 5], [0, 10, 0, 0], [0, 0, 0, 0]], [5, 0, 0, 0])
    settled = run(net, [1.0, 0, 0, 0])
    assert settled.converged[0]
    assert settled.loss_t[0].tolist() == pytest.approx([0.0, 0.0, 0.0, 5.0], abs=1e-6)
    cut_short = run(net, [1.0, 0, 0, 0], params=Params(max_rounds=3))
    assert not cut_short.converged[0]
    assert cut_short.loss_t[0, :3].tolist() == [0.0, 0.0, 0.0]  # no use: never charged
    assert cut_short.unattributed_t[0].sum() > 0
    assert cut_short.loss_t[0, 3] + cut_short.unattributed_t[0].sum() == pytest.approx(5.0)


def test_substitution_follows_the_current_deficit_and_never_makes_a_loss_negative() -> None:
    # R has 4 t of spare capacity; A is short 10 t. With more of S's supply cut, A's deficit
    # grows and R's 4 t stay the most it gets: A's loss rises with the cut, never below 0
    net = Network.of(["S", "R", "A"], [[0, 0, 10], [0, 0, 10], [0, 0, 0]], [10, 40, 0])
    out = run(net, np.array([[0.2, 0, 0], [0.5, 0, 0], [1.0, 0, 0]]),
              params=Params(spare_capacity=0.1))
    assert out.rerouted_t[:, 2].tolist() == pytest.approx([2.0, 4.0, 4.0])
    assert out.loss_t[:, 2].tolist() == pytest.approx([0.0, 1.0, 6.0])


# -- invariants --------------------------------------------------------------------------------

@st.composite
def networks(draw: st.DrawFn) -> Network:
    n = draw(st.integers(2, 6))
    cell = st.one_of(st.just(0.0), st.floats(0.1, 100.0))
    flows = [[draw(cell) for _ in range(n)] for _ in range(n)]
    production = [draw(st.one_of(st.just(0.0), st.floats(0.0, 200.0))) for _ in range(n)]
    return Network.of([f"C{i}" for i in range(n)], flows, production)


PARAMS = st.builds(Params, stock_buffer=st.sampled_from([0.0, 0.1, 0.5]),
                   absorb=st.sampled_from([None, 0.0, 0.3, 1.0]),
                   spare_capacity=st.sampled_from([0.0, 0.2]), cascade=st.booleans())


def shock_scale(out: Outcome) -> float:
    """Tolerances are relative to the largest shock of a batch (at least 1 t)."""
    return max(1.0, float(out.initial_shock_t.max()))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(net=networks(), params=PARAMS, cut=st.floats(0.0, 1.0), data=st.data())
def test_tonnes_are_conserved_and_no_one_loses_more_than_it_uses(
        net: Network, params: Params, cut: float, data: st.DataObject) -> None:
    supplier = data.draw(st.integers(0, net.size - 1))
    targets = data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=net.size,
                                 max_size=net.size))
    phi = np.zeros(net.size)
    phi[supplier] = cut
    out = run(net, phi, targets, params=params)
    scale = shock_scale(out)
    # initial shock = loss + stocks + substituted + unattributed + covered by withheld tonnes
    assert abs(out.balance_residual_t[0]) <= 1e-9 * scale
    for part in (out.loss_t, out.stock_drawn_t, out.rerouted_t, out.unattributed_t,
                 out.passed_on_t, out.retained_t, out.offset_t):
        assert (part >= 0).all()
    assert (out.loss_t <= out.use_t + 1e-12 * scale).all()
    # the restrictor keeps what it withholds and is charged nothing for its own cut
    assert out.loss_t[0, supplier] == 0.0
    assert out.retained_t[0, supplier] + out.offset_t[0, supplier] == pytest.approx(
        cut * (net.flows[supplier] @ np.asarray(targets)), rel=1e-12, abs=1e-12)
    assert ((out.withheld_share >= 0) & (out.withheld_share <= 1)).all()
    # a loss circulating among countries that use none of it (pure transit: no supply of
    # their own) only settles in the limit, and the outcome says so
    transit = (net.supply <= 0) & (net.flows.sum(axis=1) > 0)
    assert out.converged.all() or transit.any()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(net=networks(), data=st.data())
def test_several_restrictors_are_never_charged_more_than_they_use(
        net: Network, data: st.DataObject) -> None:
    phi = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=net.size,
                                      max_size=net.size)))
    out = run(net, phi, params=Params(spare_capacity=0.2))
    scale = shock_scale(out)
    assert abs(out.balance_residual_t[0]) <= 1e-9 * scale
    assert (out.loss_t >= 0).all() and (out.loss_t <= out.use_t + 1e-12 * scale).all()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(net=networks(), params=PARAMS)
def test_a_cut_of_zero_changes_nothing(net: Network, params: Params) -> None:
    out = run(net, np.zeros(net.size), params=params)
    assert not out.loss_t.any() and not out.passed_on_t.any() and not out.rerouted_t.any()
    assert not out.unattributed_t.any() and not out.retained_t.any()


@settings(max_examples=200, deadline=None, derandomize=True)
@given(net=networks(), cuts=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=4),
       absorb=st.sampled_from([None, 0.0, 0.5]), stock=st.sampled_from([0.0, 0.2]),
       spare=st.sampled_from([0.0, 0.1, 0.5]), supplier=st.integers(0, 5))
def test_losses_grow_with_the_cut(net: Network, cuts: list[float], absorb: float | None,
                                  stock: float, spare: float, supplier: int) -> None:
    # the scenarios of a batch step through the same rounds, and the round map is monotone,
    # so no country's loss falls as the cut rises: with or without substitution, and even
    # where a cycle of re-exporters has not settled
    cuts = sorted(cuts)
    phi = np.zeros((len(cuts), net.size))
    phi[:, supplier % net.size] = cuts
    out = run(net, phi, params=Params(absorb=absorb, stock_buffer=stock,
                                      spare_capacity=spare))
    tolerance = 1e-9 * shock_scale(out)
    assert (np.diff(out.loss_t, axis=0) >= -tolerance).all()
    assert (np.diff(out.loss_t + out.unattributed_t, axis=0).sum(axis=1) >= -tolerance).all()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(net=networks(), data=st.data(), spare=st.sampled_from([0.0, 0.2]))
def test_the_order_of_countries_does_not_change_a_result(net: Network, data: st.DataObject,
                                                         spare: float) -> None:
    order = np.array(data.draw(st.permutations(range(net.size))))
    shuffled = Network.of(list(net.countries[order]), net.flows[np.ix_(order, order)],
                          net.production[order])
    phi = np.zeros(net.size)
    phi[0] = 0.7
    a = run(net, phi, params=Params(spare_capacity=spare))
    b = run(shuffled, phi[order], params=Params(spare_capacity=spare))
    tolerance = 1e-9 * shock_scale(a)
    for field in ("loss_t", "passed_on_t", "rerouted_t", "unattributed_t", "retained_t"):
        assert getattr(b, field)[0] == pytest.approx(getattr(a, field)[0][order],
                                                     abs=tolerance), field


def test_monte_carlo_converges_to_the_analytic_expected_loss() -> None:
    rng = np.random.default_rng(3)
    n = 8
    flows = rng.uniform(0, 10, (n, n)) * (rng.random((n, n)) < 0.6)
    net = Network.of([f"C{i}" for i in range(n)], flows, rng.uniform(0, 30, n))
    prob = rng.uniform(0.05, 0.5, n)
    shape = montecarlo.Magnitude(0.4, 0.2, 0.8)
    risk = montecarlo.supply_at_risk(net, prob, shape, 200_000, seed=11)
    ok = np.isfinite(risk.expected_loss_share_analytic)
    assert risk.expected_loss_share[ok] == pytest.approx(
        risk.expected_loss_share_analytic[ok], rel=0.02, abs=1e-4)
    assert (risk.es95_share[ok] >= risk.var95_share[ok] - 1e-6).all()
    again = montecarlo.supply_at_risk(net, prob, shape, 200_000, seed=11)
    assert np.array_equal(again.var95_share, risk.var95_share, equal_nan=True)


def test_a_group_row_in_the_monte_carlo_is_its_members_together() -> None:
    net = Network.of(["S", "A", "B"], [[0, 4, 6], [0, 0, 0], [0, 0, 0]], [10, 4, 4])
    rows = np.array([[0.0, 1.0, 1.0]])
    risk = montecarlo.supply_at_risk(net, np.array([1.0, 0, 0]),
                                     montecarlo.Magnitude(1.0, 0.5, 0.5), 200, 0,
                                     aggregate=rows)
    assert risk.expected_loss_share.tolist() == pytest.approx([10 / 18])
