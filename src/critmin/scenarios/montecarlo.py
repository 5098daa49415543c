"""Supply-at-risk: many random disruption scenarios at once.

Each supplier j restricts with probability p_j; a restriction is a full ban with probability
``ban_share`` and otherwise a partial cut drawn uniformly in [low, high]. Each draw's loss is
the first-order loss (one matrix product for a whole chunk of draws) or, when asked, the
cascade. A first-order loss is capped at the importer's supply (a transit hub cannot lose
more than it uses); the cascade caps every loss at the country's use itself, passing the rest
on (what no country takes is unattributed, and not in any importer's loss). Draws are made
in fixed chunks from one seeded generator, so a seed gives the same numbers whatever the
machine; memory stays bounded by the chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from critmin.scenarios.cascade import Params, run, share_of
from critmin.scenarios.network import Network

CHUNK = 4096
"""Draws per chunk (fixed: part of what makes a seed reproducible)."""


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
    shares = np.empty((draws, len(rows)), dtype=np.float32)
    total = np.zeros(len(rows))
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
        shares[start:start + k] = share_of(loss, supply[None, :])
    tail = max(1, int(np.ceil(0.05 * draws)))
    ordered = np.partition(shares, draws - tail, axis=0)
    worst = ordered[draws - tail:]
    expected = probability * magnitude.mean
    into = expected @ q if inside is None else rows @ (expected @ q) - expected @ inside
    analytic = share_of(into, supply)
    analytic[bound > 0] = np.nan  # where the cap binds the expectation is not linear
    return Risk(
        supply_t=supply, expected_loss_t=total / draws,
        expected_loss_share=shares.mean(axis=0, dtype=np.float64),
        expected_loss_share_analytic=analytic,
        var95_share=worst.min(axis=0).astype(float),
        es95_share=worst.mean(axis=0, dtype=np.float64),
        p_loss_over_10=np.where(supply > 0, (shares > 0.1).mean(axis=0, dtype=np.float64),
                                np.nan),
        capped_share=bound / draws,
    )
