"""Export restrictions: the first-order loss and the cascade through the trade network.

The shock: suppliers withhold a fraction of their exports (optionally only to some target
importers), and countries may lose part of their own production. First order, importer c
loses what is withheld from it. In the cascade (the mass-conserving structure of Marchand
et al. 2016, ERL 11:095009, with the export-restriction channel of Burkholz & Schweitzer
2019, ERL 14:114013) each round, from the current state of every country:

1. its import loss (what its suppliers withhold from it, directly or by passing theirs on)
   plus any production it lost;
2. a restricting supplier keeps the tonnes it withholds: they first cover its own import
   loss (when the cascade comes back to it through other countries), and the rest raises its
   supply, so it is never charged a loss from its own cut;
3. stocks, then substitution: suppliers that neither restrict nor lost production have spare
   capacity (a share of their production); each first meets its own current deficit, and
   offers the rest to short importers in proportion to their existing trade with it, rationed
   pro rata. It is recomputed from the current deficits each round, so it only ever covers
   a deficit that exists;
4. the remaining deficit is split between consumption and exports. A re-exporter (an
   entrepôt, as in the cube: production under 10 % of its exports, exports at least half its
   imports) absorbs nothing while it has exports to cut; another country absorbs a share
   (in proportion to its use and exports, or the ``absorb`` parameter). No country absorbs
   more than its own use (apparent supply, clipped at 0): the rest is passed on, by
   withholding the same share of all its exports.

The round map is monotone (a larger withheld share, or a larger cut by a single restricting
supplier, never lowers any deficit), so the rounds, run for every scenario of a batch
together from nothing withheld, rise to the least fixed point, and every loss is
non-negative and non-decreasing in the cut. (With several restricting suppliers, a larger cut
by one also covers more of what comes back to it, so what it passes on can fall.) Every array
carries a leading batch axis, so that many scenarios (the Monte Carlo draws) run at once as
matrix products.

Accounting, exact in every scenario (``Outcome.balance_residual_t`` is rounding only)::

    initial shock = consumption loss + drawn from stocks + substituted + unattributed
                    + covered by the restrictor's withheld tonnes

where "unattributed" is what no country absorbs: loss still moving between countries that
pass everything on when the rounds stop (a cycle of re-exporters settles only in the limit),
or a deficit beyond a country's use and exports. A restricting supplier's supply rises by
``retained_t`` = what it withholds - what covers its own import loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from critmin.metrics.cube import ENTREPOT_PRODUCTION_SHARE, ENTREPOT_THROUGHPUT, ROUNDING
from critmin.scenarios.network import Network


@dataclass(frozen=True)
class Params:
    """How countries respond to a shock.

    stock_buffer
        Accessible stocks as a share of each country's apparent supply (default 0).
    absorb
        Share of a deficit absorbed by domestic consumption; None (default) splits it in
        proportion to domestic use and exports (A/(A + X), Marchand et al. 2016), so a
        country that mostly exports passes on most of it and a pure importer none. A
        re-exporter (entrepôt) absorbs nothing while it has exports to cut, whatever this is.
    spare_capacity
        Substitution: suppliers not restricting and not losing production may raise output
        by up to this share of their production, first for their own deficit, then for short
        importers in proportion to existing trade, rationed pro rata (default 0: off).
    cascade
        False: first order only (every country absorbs its loss).
    tolerance, max_rounds
        The rounds stop when no country's passed-on tonnes move by more than ``tolerance``
        times the scenario's initial shock (relative, so that a small shock is passed on as
        a large one is) in any scenario of the batch, or after ``max_rounds``.
    """

    stock_buffer: float = 0.0
    absorb: float | None = None
    spare_capacity: float = 0.0
    cascade: bool = True
    tolerance: float = 1e-9
    max_rounds: int = 200


@dataclass(frozen=True)
class Outcome:
    """Per scenario (axis 0) and country (axis 1), tonnes on the network's basis."""

    supply_t: np.ndarray
    first_order_loss_t: np.ndarray
    loss_t: np.ndarray
    """What the country's own consumption goes without (at most its use)."""
    stock_drawn_t: np.ndarray
    rerouted_t: np.ndarray
    withheld_share: np.ndarray
    passed_on_t: np.ndarray
    """Tonnes of its exports the country withholds to pass its deficit on."""
    unattributed_t: np.ndarray
    """Deficit left with a country that can neither absorb nor pass it on (see the module)."""
    retained_t: np.ndarray
    """What a restricting supplier keeps of the tonnes it withholds (its supply rises by it)."""
    offset_t: np.ndarray
    """A restricting supplier's import loss covered by the tonnes it withholds."""
    hub: np.ndarray
    """Per country (n,): a re-exporter, which passes its loss on before absorbing any."""
    first_round: np.ndarray
    """Round in which each country was first hit (1: first order; 0: never)."""
    initial_shock_t: np.ndarray
    """Per scenario: tonnes withheld by the restricting suppliers plus production lost."""
    rounds: np.ndarray
    converged: np.ndarray

    @property
    def use_t(self) -> np.ndarray:
        """Each country's own use: apparent supply clipped at 0."""
        out: np.ndarray = np.clip(self.supply_t, 0.0, None)
        return out

    @property
    def loss_share(self) -> np.ndarray:
        """Loss over supply (NaN where supply is not positive)."""
        return share_of(self.loss_t, self.supply_t)

    @property
    def balance_residual_t(self) -> np.ndarray:
        """Per scenario: initial shock - consumption loss - drawn from stocks - substituted -
        unattributed - covered by withheld tonnes (0 up to rounding)."""
        out: np.ndarray = self.initial_shock_t - (
            self.loss_t.sum(axis=1) + self.stock_drawn_t.sum(axis=1)
            + self.rerouted_t.sum(axis=1) + self.unattributed_t.sum(axis=1)
            + self.offset_t.sum(axis=1))
        return out


def share_of(tonnes: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """tonnes / supply where supply > 0, else NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(supply > 0, tonnes / np.where(supply > 0, supply, 1.0), np.nan)
        return out


def re_exporters(net: Network) -> np.ndarray:
    """Countries whose exports are mostly other countries' material (the cube's entrepôts:
    production under 10 % of exports, exports at least half of imports)."""
    x, m, p = net.exports, net.imports, net.production
    out: np.ndarray = ((x > 0) & (m > 0) & (p < ENTREPOT_PRODUCTION_SHARE * x * (1 - ROUNDING))
                       & (x >= ENTREPOT_THROUGHPUT * m * (1 - ROUNDING)))
    return out


def run(net: Network, cut: npt.ArrayLike, targets: npt.ArrayLike | None = None,
        production_loss: npt.ArrayLike | None = None, params: Params | None = None) -> Outcome:
    """The outcome of restrictions on ``net``.

    Parameters
    ----------
    net : Network
    cut : array (k, n) or (n,)
        Share of each supplier's exports withheld, per scenario, in [0, 1].
    targets : array (n,), optional
        1 for importers the restriction applies to (default: all).
    production_loss : array (k, n) or (n,), optional
        Tonnes of production each country loses (a production shock, a by-product's host).
    params : Params, optional

    Returns
    -------
    Outcome

    Examples
    --------
    A supplies B 10 t and C 10 t; B passes 5 t on to C. A withholds half of everything:

    >>> from critmin.scenarios.network import Network
    >>> net = Network.of(["A", "B", "C"], [[0, 10, 10], [0, 0, 5], [0, 0, 0]], [20, 0, 0])
    >>> out = run(net, [0.5, 0, 0], params=Params(cascade=False))
    >>> out.loss_t.round(6).tolist(), out.retained_t.round(6).tolist()
    ([[0.0, 5.0, 5.0]], [[10.0, 0.0, 0.0]])
    """
    p = params or Params()
    q = net.flows
    n = net.size
    phi = np.atleast_2d(np.asarray(cut, dtype=float))
    k = phi.shape[0]
    t = np.ones(n) if targets is None else np.asarray(targets, dtype=float)
    dp = (np.zeros((k, n)) if production_loss is None
          else np.broadcast_to(np.atleast_2d(np.asarray(production_loss, dtype=float)),
                               (k, n)).copy())
    supply = np.broadcast_to(net.supply, (k, n))
    withheld = phi * (q @ t)  # what each restricting supplier keeps back
    exports_after = q.sum(axis=1) - withheld  # X' before any passing on
    initial = withheld.sum(axis=1) + dp.sum(axis=1)
    first_order = (phi @ q) * t + dp
    scale = max(float(np.abs(initial).max(initial=0.0)), 1.0)
    eps = 1e-12 * scale
    use = np.clip(supply, 0.0, None)
    stocks = p.stock_buffer * use
    hub = re_exporters(net)
    if not p.cascade:
        absorb = np.ones((k, n))
    elif p.absorb is None:
        used = np.clip(supply - dp, 0.0, None)
        total = used + exports_after
        absorb = np.where(total > 0, used / np.where(total > 0, total, 1.0), 1.0)
    else:
        absorb = np.full((k, n), float(p.absorb))
    if p.cascade:
        absorb = np.where(hub, 0.0, absorb)
    capacity = p.spare_capacity * np.broadcast_to(net.production, (k, n))
    may_substitute = (phi == 0) & (dp == 0) & (capacity > 0)
    substitute = p.spare_capacity > 0 and bool(may_substitute.any())

    def state(h: np.ndarray) -> tuple[np.ndarray, ...]:
        keep = 1.0 - h
        lost = (h @ q) + t * ((phi * keep) @ q) + dp  # import loss + own production loss
        offset = np.minimum(withheld, np.clip(lost, 0.0, None))
        gross = np.clip(lost - offset, 0.0, None)
        drawn = np.minimum(stocks, gross)
        short = gross - drawn
        rerouted = (_substitute(q, short, capacity, may_substitute) if substitute
                    else np.zeros_like(short))
        deficit = np.clip(short - rerouted, 0.0, None)
        return lost, offset, drawn, rerouted, deficit

    def passing(deficit: np.ndarray) -> np.ndarray:
        # a country never absorbs more than it uses: the rest of its deficit is passed on
        out: np.ndarray = np.clip(np.minimum(np.maximum((1.0 - absorb) * deficit, deficit - use),
                                             exports_after), 0.0, None)
        return out

    h = np.zeros((k, n))
    first_round = np.zeros((k, n), dtype=np.int32)
    rounds = np.ones(k, dtype=np.int32)
    converged = np.ones(k, dtype=bool)
    lost, offset, drawn, rerouted, deficit = state(h)
    first_round[lost > eps] = 1
    if p.cascade:
        for step in range(2, p.max_rounds + 2):
            wanted = np.where(exports_after > eps, passing(deficit)
                              / np.where(exports_after > eps, exports_after, 1.0), 0.0)
            new = np.minimum(np.maximum(h, wanted), 1.0)
            # every scenario steps on until all have settled: the same number of rounds for
            # each keeps a batch monotone in the cut even where a cycle settles only slowly
            moved = (np.abs(new - h) * exports_after).max(axis=1) > p.tolerance * initial
            if not moved.any():
                break
            h = new
            rounds[moved] = step
            lost, offset, drawn, rerouted, deficit = state(h)
            first_round[(first_round == 0) & (lost > eps)] = step
        else:
            converged = ~moved
    passed = h * exports_after
    # consumption takes what the split leaves it at the current deficit (at most its use);
    # what neither it nor its exports carry stays unattributed
    loss = np.minimum(np.clip(deficit - passing(deficit), 0.0, None), use)
    loss = np.minimum(loss, np.clip(deficit - passed, 0.0, None))
    loss = np.where(loss <= eps, 0.0, loss)
    unattributed = np.clip(deficit - passed - loss, 0.0, None)
    return Outcome(
        supply_t=np.array(supply), first_order_loss_t=first_order, loss_t=loss,
        stock_drawn_t=drawn, rerouted_t=rerouted, withheld_share=h, passed_on_t=passed,
        unattributed_t=unattributed, retained_t=withheld - offset, offset_t=offset, hub=hub,
        first_round=first_round, initial_shock_t=initial, rounds=rounds, converged=converged,
    )


def _substitute(q: np.ndarray, short: np.ndarray, capacity: np.ndarray,
                may: np.ndarray) -> np.ndarray:
    """Tonnes each short country receives from spare capacity: a supplier that may
    substitute first meets its own deficit; short importers ask the rest of theirs of those
    suppliers in proportion to their existing trade with them, each supplier's deliveries
    rationed pro rata to the capacity it has left. Eligibility does not depend on the round,
    and what a supplier offers falls as its own deficit grows, so a larger shock never lowers
    anyone's remaining deficit."""
    own = np.where(may, np.minimum(capacity, short), 0.0)
    left = np.where(may, capacity - own, 0.0)
    rest = short - own
    trade = q[None, :, :] * may[:, :, None]  # (k, supplier, importer)
    with_them = trade.sum(axis=1)
    weights = np.divide(trade, with_them[:, None, :], out=np.zeros_like(trade),
                        where=with_them[:, None, :] > 0)
    requests = weights * rest[:, None, :]
    asked = requests.sum(axis=2)
    rationed = np.minimum(1.0, np.divide(left, asked, out=np.ones_like(asked),
                                         where=asked > left))
    out: np.ndarray = own + (requests * rationed[:, :, None]).sum(axis=1)
    return out
