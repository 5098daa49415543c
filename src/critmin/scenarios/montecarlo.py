"""Supply-at-risk: many random disruption scenarios at once.

Each supplier j restricts with probability p_j; a restriction is a full ban with probability
``ban_share`` and otherwise a partial cut drawn uniformly in [low, high]. Each draw's loss is
the first-order loss (one matrix product for a whole chunk of draws) or, when asked, the
cascade. A first-order loss is capped at the importer's supply (a transit hub cannot lose
more than it uses); the cascade caps every loss at the country's use itself, passing the rest
on (what no country takes is unattributed, and not in any importer's loss). Draws are made
in fixed chunks from one seeded generator, so a seed gives the same numbers whatever the
machine. Every statistic is gathered chunk by chunk, so memory does not grow with the number
of draws: the mean, the probability of losing more than 10 % and the expected loss as running
sums, the 95th percentile and the expected shortfall exactly up to :data:`EXACT_DRAWS` draws
and from a histogram of the loss shares above it (within 1/:data:`BINS` of supply).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from critmin.scenarios.cascade import Params, run, share_of
from critmin.scenarios.network import Network

CHUNK = 4096
"""Draws per chunk (fixed: part of what makes a seed reproducible)."""

TAIL = 0.05
"""Share of draws in the tail: the 95th percentile and the expected shortfall."""

EXACT_DRAWS = 1_000_000
"""Up to this many draws the tail statistics are exact, from the worst 5 % of draws kept per
importer (at most 2 × 50,000 float32 values, 400 kB an importer); above it they come from a
histogram of :data:`BINS` bins. A fixed count, so the method depends on ``draws`` only."""

BINS = 2**14
"""Bins of the loss-share histogram above :data:`EXACT_DRAWS` draws: bin 0 holds shares
≤ 0, bin i the shares in ((i − 1)/BINS, i/BINS] (a power of two, so that a float32 share
falls in its bin exactly), each with its count and exact sum (16 bytes a bin, 262 kB an
importer). The 95th percentile is the mean of the bin holding it, and the expected shortfall
takes that bin's share of the tail at the bin's mean, so both are within 1/BINS (6.1e-5 of
supply) of the exact values; the expected shortfall is never above them."""


@dataclass(frozen=True)
class Magnitude:
    """How much a disrupting supplier withholds."""

    ban_share: float
    low: float
    high: float

    @property
    def mean(self) -> float:
        """Expected share withheld when a supplier disrupts."""
        return self.ban_share + (1.0 - self.ban_share) * (self.low + self.high) / 2.0


@dataclass(frozen=True)
class Risk:
    """Per importer (axis 0 of each array)."""

    supply_t: np.ndarray
    expected_loss_t: np.ndarray
    expected_loss_share: np.ndarray
    expected_loss_share_analytic: np.ndarray
    var95_share: np.ndarray
    es95_share: np.ndarray
    p_loss_over_10: np.ndarray
    capped_share: np.ndarray
    """Share of draws in which the importer would lose more than its supply (a re-exporter:
    imports exceed supply); the loss is capped at its supply and the analytic expectation
    is not given."""


def supply_at_risk(net: Network, probability: np.ndarray, magnitude: Magnitude, draws: int,
                   seed: int, params: Params | None = None,
                   aggregate: np.ndarray | None = None) -> Risk:
    """Loss statistics per importer over ``draws`` random scenarios.

    ``params`` None: first order (no stocks, no cascade); otherwise each chunk runs
    :func:`critmin.scenarios.cascade.run`. ``aggregate`` (r x n, 0/1) reports r importers
    made of countries (a group as one: what its members lose from outside suppliers, over
    their supply); default every country.

    The mean, the probability of losing more than 10 % and the expected loss are exact. The
    95th percentile (the smallest of the worst 5 % of draws) and the expected shortfall (their
    mean) are exact up to :data:`EXACT_DRAWS` draws; above it they come from a histogram of
    each importer's loss share in :data:`BINS` bins of width 1/BINS (6.1e-5 of supply) with
    the exact count and sum of the draws in each bin: the 95th percentile is the mean of the
    bin holding it and the expected shortfall counts that bin's part of the tail at the bin's
    mean, so each is within 1/BINS of the exact value (the expected shortfall never above
    it), and memory is the same whatever the number of draws.

    Examples
    --------
    One supplier that always bans: every draw loses everything it supplies.

    >>> net = Network.of(["A", "B"], [[0, 4], [0, 0]], [4, 4])
    >>> r = supply_at_risk(net, np.array([1.0, 0.0]), Magnitude(1.0, 0.5, 0.5), 100, 1)
    >>> r.expected_loss_share.round(6).tolist()
    [nan, 0.5]
    """
    q = net.flows
    rows = np.eye(net.size) if aggregate is None else np.asarray(aggregate, dtype=float)
    supply = rows @ net.supply
    usable = np.clip(supply, 0.0, None)
    # what a member supplies its own group is not lost by the group
    inside = None if aggregate is None else rows.T * (q @ rows.T)
    suppliers = np.flatnonzero((probability > 0) & (q.sum(axis=1) > 0))
    rng = np.random.default_rng(seed)
    tail = max(1, int(np.ceil(TAIL * draws)))
    worst: _Worst | _Histogram = (_Worst(len(rows), tail) if draws <= EXACT_DRAWS
                                  else _Histogram(len(rows), tail))
    total = np.zeros(len(rows))
    share_total = np.zeros(len(rows))
    over_10 = np.zeros(len(rows), dtype=np.int64)
    bound = np.zeros(len(rows), dtype=np.int64)
    for start in range(0, draws, CHUNK):
        k = min(CHUNK, draws - start)
        hit = rng.random((k, len(suppliers))) < probability[suppliers]
        ban = rng.random((k, len(suppliers))) < magnitude.ban_share
        part = rng.uniform(magnitude.low, magnitude.high, (k, len(suppliers)))
        phi = np.zeros((k, net.size))
        phi[:, suppliers] = hit * np.where(ban, 1.0, part)
        if params is not None:
            loss = run(net, phi, params=params).loss_t
            loss = loss if aggregate is None else loss @ rows.T
        elif inside is None:
            loss = phi @ q
        else:
            loss = (phi @ q) @ rows.T - phi @ inside
        over = loss > usable + 1e-9
        bound += over.sum(axis=0)
        loss = np.where(over, usable, loss)  # a re-exporter cannot lose more than it uses
        total += loss.sum(axis=0)
        shares = share_of(loss, supply[None, :]).astype(np.float32)
        share_total += shares.sum(axis=0, dtype=np.float64)
        over_10 += (shares > 0.1).sum(axis=0)
        worst.add(shares)
    var95, es95 = worst.tail_statistics()
    positive = supply > 0
    expected = probability * magnitude.mean
    into = expected @ q if inside is None else rows @ (expected @ q) - expected @ inside
    analytic = share_of(into, supply)
    analytic[bound > 0] = np.nan  # where the cap binds the expectation is not linear
    return Risk(
        supply_t=supply, expected_loss_t=total / draws,
        expected_loss_share=share_total / draws,
        expected_loss_share_analytic=analytic,
        var95_share=np.where(positive, var95, np.nan),
        es95_share=np.where(positive, es95, np.nan),
        p_loss_over_10=np.where(positive, over_10 / draws, np.nan),
        capped_share=bound / draws,
    )


class _Worst:
    """The largest ``tail`` loss shares of each importer so far, exactly.

    A buffer of ``tail`` and as many again (at least a chunk) per importer, which starts at
    -inf: draws go into the first part, and whenever it is full the buffer is sorted, which
    moves the largest ``tail`` so far into the last part and leaves only draws that can no
    longer be among them in the first part, to be overwritten."""

    def __init__(self, importers: int, tail: int) -> None:
        self.tail = tail
        self.kept = np.full((importers, tail + max(tail, CHUNK)), -np.inf, dtype=np.float32)
        self.filled = 0

    def add(self, shares: np.ndarray) -> None:
        """Keep the draws ``shares`` (draws x importers) among the candidates."""
        k = len(shares)
        if self.filled + k > self.kept.shape[1] - self.tail:
            self._sort()
        self.kept[:, self.filled:self.filled + k] = shares.T
        self.filled += k

    def _sort(self) -> None:
        self.kept.sort(axis=1)  # many equal shares (no loss, one ban) make a partition slow
        self.filled = 0

    def tail_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """95th percentile (the smallest of the worst ``tail``) and expected shortfall (their
        mean) per importer."""
        self._sort()
        worst = self.kept[:, -self.tail:]
        return worst.min(axis=1).astype(float), worst.mean(axis=1, dtype=np.float64)


class _Histogram:
    """Count and exact sum of each importer's loss shares in each of :data:`BINS` + 1 bins
    (memory independent of the number of draws)."""

    def __init__(self, importers: int, tail: int) -> None:
        self.tail = tail
        self.count = np.zeros((importers, BINS + 1), dtype=np.int64)
        self.total = np.zeros((importers, BINS + 1))
        self.offset = np.arange(importers) * (BINS + 1)

    def add(self, shares: np.ndarray) -> None:
        """Count the draws ``shares`` (draws x importers)."""
        # float32 times a power of two is exact: a share on a bin edge stays in the bin below
        edge = np.ceil(shares * np.float32(BINS))
        np.nan_to_num(edge, copy=False, nan=0.0)  # an importer without supply has no shares
        where = (np.clip(edge, 0, BINS).astype(np.intp) + self.offset).ravel()
        np.add.at(self.count.reshape(-1), where, 1)
        np.add.at(self.total.reshape(-1), where, shares.ravel().astype(np.float64))

    def tail_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """95th percentile (the mean of the bin holding the ``tail``-th largest share) and
        expected shortfall (the bins above that one, plus what the tail takes of it at its
        mean)."""
        tail, rows = self.tail, np.arange(len(self.count))
        at_or_above = np.cumsum(self.count[:, ::-1], axis=1)[:, ::-1]
        at = (at_or_above >= tail).sum(axis=1) - 1  # the highest bin that completes the tail
        count = self.count[rows, at]
        need = tail - (at_or_above[rows, at] - count)
        del at_or_above
        mean = self.total[rows, at] / np.maximum(count, 1)
        from_top = np.cumsum(self.total[:, ::-1], axis=1)  # bins BINS, BINS - 1, ...
        higher = np.where(at < BINS, from_top[rows, np.maximum(BINS - at - 1, 0)], 0.0)
        return mean, (higher + need * mean) / tail
