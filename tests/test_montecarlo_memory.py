"""The Monte Carlo's tail statistics gathered chunk by chunk: exact up to
``montecarlo.EXACT_DRAWS`` draws, within one histogram bin above, and memory that does not grow
with the number of draws.

Tests on hand-made arrays and networks first; ``test_bundled_`` tests compute on the bundled
data.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from critmin.scenarios import montecarlo
from critmin.scenarios.cascade import Params
from critmin.scenarios.network import Network

WIDTH = 1 / montecarlo.BINS
SHAPE = montecarlo.Magnitude(0.4, 0.2, 0.8)
GROUPS = np.array([[1.0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 1, 1, 0, 0]])
PATHS: dict[str, dict[str, Any]] = {"first": {}, "cascade": {"params": Params()}, "group": {"aggregate": GROUPS},
         "cascade_group": {"params": Params(), "aggregate": GROUPS}}


def eight() -> tuple[Network, np.ndarray]:
    """Eight countries with random flows: two without positive supply, some re-exporters."""
    rng = np.random.default_rng(3)
    n = 8
    flows = rng.uniform(0, 10, (n, n)) * (rng.random((n, n)) < 0.6)
    net = Network.of([f"C{i}" for i in range(n)], flows, rng.uniform(0, 30, n))
    return net, rng.uniform(0.05, 0.5, n)


def exact_tail(shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95th percentile and expected shortfall of every column, from all draws at once."""
    tail = max(1, int(np.ceil(montecarlo.TAIL * len(shares))))
    worst = np.sort(shares, axis=0)[len(shares) - tail:]
    return worst.min(axis=0).astype(float), worst.mean(axis=0, dtype=np.float64)


def streamed(kind: type[montecarlo._Worst] | type[montecarlo._Histogram],
             shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tail = max(1, int(np.ceil(montecarlo.TAIL * len(shares))))
    stats = kind(shares.shape[1], tail)
    for start in range(0, len(shares), montecarlo.CHUNK):
        stats.add(shares[start:start + montecarlo.CHUNK])
    return stats.tail_statistics()


def loss_shares(seed: int, draws: int) -> np.ndarray:
    """Columns shaped like Monte Carlo losses: mostly no loss, a few atoms (one supplier's ban
    of the whole or a round share of supply, shares on bin edges), a continuous part."""
    rng = np.random.default_rng(seed)
    columns = [
        rng.random(draws),
        np.where(rng.random(draws) < 0.9, 0.0, rng.random(draws)),
        np.where(rng.random(draws) < 0.96, 0.0, 1.0),
        np.where(rng.random(draws) < 0.5, 0.25, rng.uniform(0.2, 0.3, draws)),
        rng.choice([0.0, 3 * WIDTH, 0.5, 0.5 + WIDTH / 3, 1.0], draws),
        rng.beta(0.3, 4.0, draws),
        np.full(draws, 0.75),
    ]
    return np.column_stack(columns).astype(np.float32)


@pytest.mark.parametrize("seed,draws", [(0, 100), (1, 5_000), (2, 40_000), (3, 123_457)])
def test_kept_worst_draws_give_the_exact_tail(seed: int, draws: int) -> None:
    shares = loss_shares(seed, draws)
    var, es = exact_tail(shares)
    got_var, got_es = streamed(montecarlo._Worst, shares)
    assert np.array_equal(got_var, var)
    assert got_es == pytest.approx(es, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed,draws", [(0, 100), (1, 5_000), (2, 40_000), (3, 123_457)])
def test_the_histogram_tail_is_within_one_bin_of_the_exact_one(seed: int, draws: int) -> None:
    shares = loss_shares(seed, draws)
    var, es = exact_tail(shares)
    got_var, got_es = streamed(montecarlo._Histogram, shares)
    assert np.abs(got_var - var).max() <= WIDTH
    assert np.abs(got_es - es).max() <= WIDTH
    assert (got_es <= es + 1e-12).all()  # the boundary bin's part of the tail at its mean
    assert (got_es >= got_var - 1e-12).all()
    # a share that is the same in every draw of its bin (no loss, a whole ban, a constant)
    # is exact
    for column in (2, 6):
        assert got_var[column] == var[column]
        assert got_es[column] == pytest.approx(es[column], rel=1e-12)


def test_a_share_on_a_bin_edge_stays_in_its_bin() -> None:
    edge = np.float32(0.5)  # 8192 / 2**14 exactly
    shares = np.column_stack([np.full(1000, edge), np.r_[np.full(950, edge),
                                                         np.full(50, edge + WIDTH / 2)]])
    counted = montecarlo._Histogram(2, 50)
    counted.add(shares.astype(np.float32))
    assert counted.count[0, montecarlo.BINS // 2] == 1000
    assert counted.count[1, montecarlo.BINS // 2 + 1] == 50
    var, es = counted.tail_statistics()
    assert var.tolist() == [0.5, pytest.approx(0.5 + WIDTH / 2)]
    assert es.tolist() == [0.5, pytest.approx(0.5 + WIDTH / 2)]


@pytest.mark.parametrize("path", PATHS)
def test_results_for_a_seed_are_those_of_every_draw_kept(path: str) -> None:
    expected = json.loads((Path(__file__).parent / "data" / "montecarlo_seed7.json")
                          .read_text())[path]
    net, prob = eight()
    risk = montecarlo.supply_at_risk(net, prob, SHAPE, 10_000, 7, **PATHS[path])
    for field, values in expected.items():
        want = np.array([np.nan if v is None else v for v in values])
        assert getattr(risk, field) == pytest.approx(want, rel=1e-9, abs=1e-12,
                                                     nan_ok=True), field
    assert np.array_equal(risk.var95_share, np.array(expected["var95_share"], dtype=float),
                          equal_nan=True)


@pytest.mark.parametrize("path", PATHS)
def test_above_the_exact_draws_only_the_tail_statistics_move_by_at_most_a_bin(
        path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    net, prob = eight()
    exact = montecarlo.supply_at_risk(net, prob, SHAPE, 30_000, 5, **PATHS[path])
    monkeypatch.setattr(montecarlo, "EXACT_DRAWS", 10_000)
    binned = montecarlo.supply_at_risk(net, prob, SHAPE, 30_000, 5, **PATHS[path])
    for field in ("supply_t", "expected_loss_t", "expected_loss_share",
                  "expected_loss_share_analytic", "p_loss_over_10", "capped_share"):
        assert np.array_equal(getattr(binned, field), getattr(exact, field),
                              equal_nan=True), field
    for field in ("var95_share", "es95_share"):
        a, b = getattr(binned, field), getattr(exact, field)
        assert np.array_equal(np.isnan(a), np.isnan(b)), field
        assert np.nanmax(np.abs(a - b)) <= WIDTH, field


# -- the bundled data ------------------------------------------------------------------------

def peak_mb(net: Network, prob: np.ndarray, draws: int) -> float:
    """Peak memory allocated during one first-order run (MB), the network loaded before."""
    tracemalloc.start()
    try:
        montecarlo.supply_at_risk(net, prob, SHAPE, draws, 1)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_bundled_memory_does_not_grow_with_the_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    from critmin.trade_network import network
    from critmin.whatif import at_risk

    cobalt = network("cobalt", 2023)
    net = cobalt.network
    odds = at_risk.probabilities(cobalt).set_index("country")["probability"]
    prob = pd.Series(net.countries.astype(str)).map(odds).fillna(0.0).to_numpy(float)
    assert net.size > 100
    # the largest exact run and a histogram run of twice as many draws
    largest_exact = peak_mb(net, prob, montecarlo.EXACT_DRAWS)
    binned = peak_mb(net, prob, 2 * montecarlo.EXACT_DRAWS)
    # every draw's share alone would be 4 bytes a draw and importer
    assert largest_exact < 0.2 * montecarlo.EXACT_DRAWS * net.size * 4 / 2**20
    assert binned < 1.5 * largest_exact and largest_exact < 1.5 * binned
    # the histogram takes as much memory for a tenth of the draws
    monkeypatch.setattr(montecarlo, "EXACT_DRAWS", 0)
    tenth = peak_mb(net, prob, 200_000)
    assert max(tenth, binned) < 1.5 * min(tenth, binned)
