"""Restrictions over several years: annual steps on one base year's network, with
restrictions that start and lift, stocks that run down, new capacity that ramps up and a
price that clears the world market outside the restricting suppliers.

Each year ``t`` of the horizon runs on the same network (the base year's flows and
production), in this order:

1. The restrictions in force cut each supplier's exports by ``cut x in_force[t]`` (the
   share of the year they apply; several restrictions on one supplier combine as
   ``1 - prod(1 - cut_r in_force_r)``), and the cascade (:func:`critmin.scenarios.cascade.run`,
   every year one row of its batch axis) gives each country's shortfall after passing loss
   on and after substitution from spare capacity.
2. New supply (a project's output, ``tonnes x ramp``) covers shortfalls, pro rata to each
   country's shortfall, up to what it produces that year; a producer that is itself
   restricting withholds the same share of its new output.
3. Each country's stock covers what is still short, and runs down: a stock is never refilled
   in the model (a conservative reading: refilling would compete with consumption for the
   same scarce supply).
4. What is left is the year's loss. Accounting, exact every year: tonnes withheld = lost +
   drawn from stocks + substituted + new supply used + what the cascade settles without a
   consumption loss (its own accounting, :attr:`Steps.settled_t`).
5. Optionally the price channel (:mod:`critmin.scenarios.price`) clears the market outside
   the restricting suppliers on the year's remaining shortfall.

Stocks cover a country's final shortfall: the cascade runs without them (its
``stock_buffer`` is 0), so a country with stocks still passes part of its loss on in the
cascade, and third countries' losses are an upper bound.

>>> from critmin.scenarios.network import Network
>>> net = Network.of(["A", "B", "C"], [[0, 10, 10], [0, 0, 0], [0, 0, 0]], [20, 0, 0])
>>> out = run(net, [2025, 2026], yearly_cuts([[1, 0, 0]], [[1, 0]]), stocks_t=[0, 5, 0])
>>> out.loss_t.tolist(), out.stock_left_t.tolist()
([[0.0, 5.0, 10.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from critmin.scenarios import cascade, price
from critmin.scenarios.network import Network


def yearly_cuts(cuts: object, in_force: object) -> np.ndarray:
    """Each supplier's effective cut per year, (T, n), from restrictions' cuts (R, n) and
    the share of each year each is in force (R, T).

    >>> yearly_cuts([[0.5, 0], [0.5, 0]], [[1, 1], [1, 0]]).tolist()
    [[0.75, 0.0], [0.5, 0.0]]
    """
    c = np.atleast_2d(np.asarray(cuts, dtype=float))
    f = np.atleast_2d(np.asarray(in_force, dtype=float))
    if c.shape[0] != f.shape[0]:
        raise ValueError("one row of in_force per restriction")
    if ((c < 0) | (c > 1)).any() or ((f < 0) | (f > 1)).any():
        raise ValueError("cuts and in_force must be in [0, 1]")
    kept = np.prod(1.0 - f[:, :, None] * c[:, None, :], axis=0)
    out: np.ndarray = 1.0 - kept
    return out


def ramp(years: object, start: int, ramp_years: int) -> np.ndarray:
    """Share of full output a new capacity produces each year: linear over ``ramp_years``
    from ``start`` (its first year of output).

    >>> ramp([2025, 2026, 2027, 2028], 2026, 2).tolist()
    [0.0, 0.5, 1.0, 1.0]
    """
    if ramp_years < 1:
        raise ValueError("ramp_years must be at least 1")
    y = np.asarray(years, dtype=float)
    out: np.ndarray = np.clip((y - start + 1.0) / ramp_years, 0.0, 1.0)
    return out


@dataclass(frozen=True)
class Steps:
    """Per year (axis 0) and country (axis 1), tonnes on the network's basis."""

    years: np.ndarray
    supply_t: np.ndarray
    """(n,) apparent supply of the base year (each year's consumption before the shock)."""
    cut: np.ndarray
    """(T, n) effective share of each supplier's exports withheld."""
    initial_shock_t: np.ndarray
    """(T,) tonnes withheld by the restricting suppliers."""
    first_order_loss_t: np.ndarray
    cascade_loss_t: np.ndarray
    """Short after the cascade and substitution, before new supply and stocks."""
    rerouted_t: np.ndarray
    passed_on_t: np.ndarray
    new_supply_t: np.ndarray
    """(T, n) new output of each producer (after its own restriction)."""
    new_supply_used_t: np.ndarray
    """(T, n) new output each country receives."""
    stock_drawn_t: np.ndarray
    stock_left_t: np.ndarray
    """(T, n) stock at the end of each year."""
    loss_t: np.ndarray
    settled_t: np.ndarray
    """(T,) what the cascade settles without any country's consumption losing it (its
    accounting: loss still moving between re-exporters when the rounds stop, or a
    restrictor's own import loss covered by the tonnes it withholds)."""
    rounds: np.ndarray
    converged: np.ndarray

    @property
    def loss_share(self) -> np.ndarray:
        """Loss over the base year's supply (NaN where supply is not positive)."""
        return cascade.share_of(self.loss_t, np.broadcast_to(self.supply_t, self.loss_t.shape))

    @property
    def balance_residual_t(self) -> np.ndarray:
        """(T,) withheld - lost - drawn - substituted - new supply used - settled in the
        cascade (0 up to rounding)."""
        out: np.ndarray = self.initial_shock_t - (
            self.loss_t.sum(axis=1) + self.stock_drawn_t.sum(axis=1)
            + self.rerouted_t.sum(axis=1) + self.new_supply_used_t.sum(axis=1)
            + self.settled_t)
        return out


def run(net: Network, years: object, cuts: object, targets: object | None = None,
        stocks_t: object | None = None, new_supply_t: object | None = None,
        params: cascade.Params | None = None) -> Steps:
    """Step a restriction through the years.

    Parameters
    ----------
    net : Network
        The base year's network, used for every year.
    years : array (T,)
    cuts : array (T, n)
        Effective share of each supplier's exports withheld each year (:func:`yearly_cuts`).
    targets : array (n,), optional
        1 for importers the restrictions apply to (default all).
    stocks_t : array (n,), optional
        Each country's stock at the start of the first year, tonnes (default none).
    new_supply_t : array (T, n), optional
        New output of each producer each year, tonnes (default none; :func:`ramp`).
    params : cascade.Params, optional
        The cascade's response (its ``stock_buffer`` must be 0: stocks are ``stocks_t``).

    Returns
    -------
    Steps
    """
    p = params or cascade.Params()
    if p.stock_buffer != 0:
        raise ValueError("stocks of a timeline are stocks_t, not the cascade's stock_buffer")
    y = np.asarray(years, dtype=int)
    n, horizon = net.size, len(y)
    phi = np.asarray(cuts, dtype=float).reshape(horizon, n)
    stock = np.zeros(n) if stocks_t is None else np.asarray(stocks_t, dtype=float).copy()
    new = (np.zeros((horizon, n)) if new_supply_t is None
           else np.asarray(new_supply_t, dtype=float).reshape(horizon, n))
    if (stock < 0).any() or (new < 0).any():
        raise ValueError("stocks and new supply must be non-negative")
    out = cascade.run(net, phi, None if targets is None else np.asarray(targets, dtype=float),
                      None, p)
    short = np.clip(out.loss_t, 0.0, None)
    available = (new * (1.0 - phi)).sum(axis=1)
    wanted = short.sum(axis=1)
    cover = np.divide(available, wanted, out=np.zeros(horizon), where=wanted > 0)
    used = short * np.minimum(cover, 1.0)[:, None]
    drawn = np.zeros((horizon, n))
    left = np.zeros((horizon, n))
    for t in range(horizon):  # stocks carry over: one step per year
        drawn[t] = np.minimum(stock, short[t] - used[t])
        stock = stock - drawn[t]
        left[t] = stock
    loss = out.loss_t - used - drawn
    settled = out.initial_shock_t - out.balance_residual_t - (
        out.loss_t.sum(axis=1) + out.stock_drawn_t.sum(axis=1) + out.rerouted_t.sum(axis=1))
    return Steps(
        years=y, supply_t=np.array(net.supply), cut=phi, initial_shock_t=out.initial_shock_t,
        first_order_loss_t=out.first_order_loss_t, cascade_loss_t=out.loss_t,
        rerouted_t=out.rerouted_t, passed_on_t=out.passed_on_t,
        new_supply_t=new * (1.0 - phi), new_supply_used_t=used, stock_drawn_t=drawn,
        stock_left_t=left, loss_t=np.where(np.abs(loss) < 1e-12, 0.0, loss),
        settled_t=settled, rounds=out.rounds, converged=out.converged,
    )


@dataclass(frozen=True)
class Prices:
    """The price channel per year (axis 0) and band point (axis 1: inelastic end, central,
    elastic end); ``loss_t`` adds the country axis."""

    market: np.ndarray
    """(n,) 1 for countries in the market (all but the restricting suppliers)."""
    market_supply_t: float
    clearing: price.Clearing
    loss_t: np.ndarray


def prices(steps: Steps, market: object, band: price.Band, spare_share: float = 0.0
           ) -> Prices:
    """Clear the market each year on its remaining shortfall: the shock is the market's
    loss over its consumption, and every country in it gives up the common demand
    reduction of its consumption.

    >>> from critmin.scenarios.network import Network
    >>> net = Network.of(["A", "B", "C"], [[0, 10, 10], [0, 0, 0], [0, 0, 0]], [20, 0, 0])
    >>> s = run(net, [2025], yearly_cuts([[0.5, 0, 0]], [[1]]), params=cascade.Params(cascade=False))
    >>> p = prices(s, [0, 1, 1], price.Band.of(-0.5, 0.5))
    >>> round(float(p.clearing.price_change[0, 1]), 4), p.loss_t[0, 1].round(4).tolist()
    (1.0, [0.0, 2.9289, 2.9289])
    """
    m = np.asarray(market, dtype=float)
    consumption = np.clip(steps.supply_t, 0.0, None) * m
    q0 = float(consumption.sum())
    lost = (np.clip(steps.loss_t, 0.0, None) * m).sum(axis=1)
    shock = np.clip(lost / q0, 0.0, 1.0) if q0 > 0 else np.zeros(len(steps.years))
    out = price.clear_band(shock, band, spare_share)
    return Prices(m, q0, out, price.importer_losses(out.demand_reduction, consumption))
