"""Export restrictions: the first-order loss and the cascade through the trade network.

The shock: suppliers withhold a fraction of their exports (optionally only to some target
importers), and countries may lose part of their own production. First order, importer c
loses what is withheld from it. In the cascade (the mass-conserving structure of Marchand
et al. 2016, ERL 11:095009, with the export-restriction channel of Burkholz & Schweitzer
2019, ERL 14:114013) each round a country meets its deficit first from accessible stocks,
then from other suppliers' spare capacity when substitution is on, then absorbs a share in
its own consumption and passes the rest on by withholding the same share of all its exports.
A country's withheld share never decreases between rounds and is capped at 1; the rounds run
to the least fixed point. Every array carries a leading batch axis, so that many scenarios
(the Monte Carlo draws) run at once as matrix products.

Accounting, exact in every scenario: initial shock = lost + drawn from stocks + substituted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from critmin.scenarios.network import Network


@dataclass(frozen=True)
class Params:
    """How countries respond to a shock.

    stock_buffer
        Accessible stocks as a share of each country's apparent supply (default 0).
    absorb
        Share of a deficit absorbed by domestic consumption; None (default) splits it in
        proportion to domestic use and exports (A/(A + X), Marchand et al. 2016), so a
        transit hub passes on almost all of it and a pure importer none.
    spare_capacity
        Substitution: suppliers not restricting and not short raise exports by up to this
        share of their production, to short importers in proportion to existing trade,
        rationed pro rata (default 0: off).
    cascade
        False: first order only (every country absorbs its loss).
    tolerance, max_rounds
        The rounds stop when no country's passed-on tonnes move by more than ``tolerance``
        times the scenario's initial shock (relative, so that a small shock is passed on as
        a large one is), or after ``max_rounds``.
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
    stock_drawn_t: np.ndarray
    rerouted_t: np.ndarray
    withheld_share: np.ndarray
    passed_on_t: np.ndarray
    first_round: np.ndarray
    """Round in which each country was first hit (1: first order; 0: never)."""
    initial_shock_t: np.ndarray
    """Per scenario: tonnes withheld by the restricting suppliers plus production lost."""
    rounds: np.ndarray
    converged: np.ndarray

    @property
    def loss_share(self) -> np.ndarray:
        """Loss over supply (NaN where supply is not positive)."""
        return share_of(self.loss_t, self.supply_t)

    @property
    def balance_residual_t(self) -> np.ndarray:
        """Per scenario: initial shock - lost - drawn from stocks - substituted (0 up to
        rounding)."""
        out: np.ndarray = self.initial_shock_t - (
            self.loss_t.sum(axis=1) + self.stock_drawn_t.sum(axis=1) + self.rerouted_t.sum(axis=1))
        return out


def share_of(tonnes: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """tonnes / supply where supply > 0, else NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(supply > 0, tonnes / np.where(supply > 0, supply, 1.0), np.nan)
        return out


def run(net: Network, cut: np.ndarray, targets: np.ndarray | None = None,
        production_loss: np.ndarray | None = None, params: Params | None = None) -> Outcome:
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
    >>> out.loss_t.round(6).tolist()
    [[0.0, 5.0, 5.0]]
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
    to_targets = q @ t  # each supplier's exports to the targets
    withheld_initial = phi * to_targets
    exports_after = q.sum(axis=1) - withheld_initial  # X' before any passing on
    initial = withheld_initial.sum(axis=1) + dp.sum(axis=1)
    first_order = (phi @ q) * t + dp
    scale = max(float(np.abs(initial).max(initial=0.0)), 1.0)
    eps = 1e-12 * scale
    consumption = np.clip(supply, 0.0, None)
    stocks = p.stock_buffer * consumption
    if p.absorb is None:
        used = np.clip(supply - dp, 0.0, None)
        total = used + exports_after
        absorb = np.where(total > 0, used / np.where(total > 0, total, 1.0), 1.0)
    else:
        absorb = np.full((k, n), float(p.absorb))
    capacity = p.spare_capacity * net.production
    may_substitute = ((phi == 0) & (dp == 0)) if p.spare_capacity > 0 else None

    def state(h: np.ndarray) -> tuple[np.ndarray, ...]:
        keep = 1.0 - h
        lost = (h @ q) + t * ((phi * keep) @ q) + dp  # import loss + own production loss
        drawn = np.minimum(stocks, np.clip(lost, 0.0, None))
        short = lost - drawn
        rerouted = (_substitute(q, short, lost, capacity, may_substitute, eps)
                    if may_substitute is not None else np.zeros_like(short))
        return lost, drawn, rerouted, np.clip(short - rerouted, 0.0, None)

    h = np.zeros((k, n))
    first_round = np.zeros((k, n), dtype=np.int32)
    rounds = np.ones(k, dtype=np.int32)
    converged = np.ones(k, dtype=bool)
    lost, drawn, rerouted, deficit = state(h)
    first_round[lost > eps] = 1
    if p.cascade:
        active = np.ones(k, dtype=bool)
        for step in range(2, p.max_rounds + 2):
            # a country never absorbs more than it uses: the rest of its deficit is passed on
            passing = np.minimum(np.maximum((1.0 - absorb) * deficit, deficit - consumption),
                                 exports_after)
            wanted = np.where(exports_after > eps,
                              passing / np.where(exports_after > eps, exports_after, 1.0), 0.0)
            new = np.minimum(np.maximum(h, wanted), 1.0)
            moved = (np.abs(new - h) * exports_after).max(axis=1) > p.tolerance * initial
            active &= moved
            if not active.any():
                break
            h = np.where(active[:, None], new, h)
            rounds[active] = step
            lost, drawn, rerouted, deficit = state(h)
            first_round[(first_round == 0) & (lost > eps)] = step
        else:
            converged = ~active
    passed = h * exports_after
    # a withheld share never falls, but substitution can still grow after it was set: a
    # country takes no more substitute supply than the deficit it has not passed on, so no
    # loss is negative (what it does not take stays with its suppliers)
    rerouted = np.minimum(rerouted, np.clip(lost - drawn - passed, 0.0, None))
    loss = lost - drawn - rerouted - passed
    loss = np.where(np.abs(loss) <= eps, 0.0, loss)
    return Outcome(
        supply_t=np.array(supply), first_order_loss_t=first_order, loss_t=loss,
        stock_drawn_t=drawn, rerouted_t=rerouted, withheld_share=h, passed_on_t=passed,
        first_round=first_round, initial_shock_t=initial, rounds=rounds, converged=converged,
    )


def _substitute(q: np.ndarray, short: np.ndarray, lost: np.ndarray, capacity: np.ndarray,
                may: np.ndarray, eps: float) -> np.ndarray:
    """Tonnes each short importer receives from suppliers' spare capacity: requests in
    proportion to its existing trade with suppliers that are neither restricting nor short,
    each supplier's deliveries rationed pro rata to its capacity."""
    eligible = may & (lost <= eps) & (capacity > 0)  # (k, n) suppliers
    trade = q[None, :, :] * eligible[:, :, None]  # (k, supplier, importer)
    with_them = trade.sum(axis=1)
    weights = np.divide(trade, with_them[:, None, :], out=np.zeros_like(trade),
                        where=with_them[:, None, :] > 0)
    requests = weights * np.clip(short, 0.0, None)[:, None, :]
    asked = requests.sum(axis=2)
    rationed = np.minimum(1.0, np.divide(capacity, asked, out=np.ones_like(asked),
                                         where=asked > capacity))
    out: np.ndarray = (requests * rationed[:, :, None]).sum(axis=1)
    return out
