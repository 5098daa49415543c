"""The price channel of a supply shock: a partial equilibrium on one mineral's world market.

The market is the world outside the restricting suppliers. Before the shock it clears at
price p0 with quantity Q0 (the market's apparent consumption). The shock withholds a share
``s`` of Q0; spare capacity ``k`` (a share of Q0, ready at the old price, as in the U.S.
Geological Survey's disruption model for the 2025 List of Critical Minerals, Open-File
Report 2025-1047) fills what it can first, leaving the net shock ``z = max(s - k, 0)``.
Demand and the remaining supply then respond with constant elasticities ``e_d < 0`` and
``e_s >= 0``:

    D(p) = Q0 (p/p0)^e_d,    S(p) = (1 - z) Q0 (p/p0)^e_s

and the new price solves D = S exactly:

    ln(p1/p0) = -ln(1 - z) / (e_s - e_d)

whose first-order (log-linear) form is the textbook ``dp/p ~ z / (e_s - e_d)``. Demand
falls by the share ``1 - (p1/p0)^e_d`` of Q0, and every consumer in the market, facing the
same price, cuts its use by that same share: the quantity each importer loses is its share
of the demand reduction. The supply response (``(1 - z)((p1/p0)^e_s - 1)`` of Q0) and the
demand reduction add up to the net shock, exactly.

Elasticities are inputs with no defaults: published values differ by mineral, horizon and
method (see ``docs/methods.md``, "Price channel"). A band of low and high elasticities gives
the sensitivity range; the price change is monotone in each elasticity, so the band's
inelastic end gives the highest price and its elastic end the lowest.

>>> out = clear(0.1, -0.5, 0.5)
>>> round(float(out.price_change), 6), round(float(out.demand_reduction), 6)
(0.111111, 0.051317)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clearing:
    """The market after the shock; arrays broadcast from the inputs.

    All shares are of the market's quantity before the shock (Q0).
    """

    shock_share: np.ndarray
    """Share of supply withheld (s)."""
    net_shock_share: np.ndarray
    """Left after spare capacity: max(s - k, 0) (z)."""
    price_change: np.ndarray
    """p1/p0 - 1 (inf where the whole market's supply is withheld)."""
    demand_reduction: np.ndarray
    """1 - (p1/p0)^e_d: the share of its use every consumer gives up."""
    supply_response: np.ndarray
    """(1 - z)((p1/p0)^e_s - 1): new supply drawn out by the price."""
    spare_used: np.ndarray
    """min(s, k): supply from spare capacity at the old price."""
    price_change_linear: np.ndarray
    """The first-order form z / (e_s - e_d), for comparison (the price uses the exact form)."""


def clear(shock_share: object, demand_elasticity: object, supply_elasticity: object,
          spare_share: object = 0.0) -> Clearing:
    """The market's new price and quantities after a share of its supply is withheld.

    Parameters
    ----------
    shock_share : float or array
        Share of the market's supply withheld, in [0, 1].
    demand_elasticity : float or array
        Price elasticity of demand, < 0.
    supply_elasticity : float or array
        Price elasticity of the remaining supply, >= 0.
    spare_share : float or array
        Spare capacity ready at the old price, as a share of the market's supply (default 0).

    Returns
    -------
    Clearing

    Examples
    --------
    No shock, no change; a larger shock, a larger price change:

    >>> clear([0.0, 0.1, 0.2], -0.3, 0.2).price_change.round(4).tolist()
    [0.0, 0.2346, 0.5625]
    """
    s = np.asarray(shock_share, dtype=float)
    e_d = np.asarray(demand_elasticity, dtype=float)
    e_s = np.asarray(supply_elasticity, dtype=float)
    k = np.asarray(spare_share, dtype=float)
    if np.any(~np.isfinite(s)) or np.any((s < 0) | (s > 1)):
        raise ValueError("shock_share must be in [0, 1]")
    if np.any(~np.isfinite(e_d)) or np.any(e_d >= 0):
        raise ValueError("demand_elasticity must be negative")
    if np.any(~np.isfinite(e_s)) or np.any(e_s < 0):
        raise ValueError("supply_elasticity must be non-negative")
    if np.any(~np.isfinite(k)) or np.any(k < 0):
        raise ValueError("spare_share must be non-negative")
    z = np.clip(s - k, 0.0, 1.0)
    spread = e_s - e_d  # > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(z < 1.0, -np.log1p(-np.where(z < 1.0, z, 0.0)) / spread, np.inf)
        ratio = np.exp(log_ratio)
        demand = np.where(np.isfinite(log_ratio), -np.expm1(e_d * log_ratio), 1.0)
        response = np.where(np.isfinite(log_ratio), (1.0 - z) * np.expm1(e_s * log_ratio), 0.0)
    out = Clearing(
        shock_share=np.broadcast_to(s, ratio.shape).copy(),
        net_shock_share=np.broadcast_to(z, ratio.shape).copy(),
        price_change=ratio - 1.0, demand_reduction=demand, supply_response=response,
        spare_used=np.broadcast_to(np.minimum(s, k), ratio.shape).copy(),
        price_change_linear=np.broadcast_to(z / spread, ratio.shape).copy(),
    )
    return out


@dataclass(frozen=True)
class Band:
    """Central elasticities and a low-high range for each (the sensitivity band).

    ``demand`` and ``supply`` are (low, central, high) in absolute terms of responsiveness:
    demand elasticities are negative, so its "low" end is the one closest to zero.
    """

    demand: tuple[float, float, float]
    supply: tuple[float, float, float]

    @classmethod
    def of(cls, demand_elasticity: float, supply_elasticity: float,
           demand_range: tuple[float, float] | None = None,
           supply_range: tuple[float, float] | None = None) -> Band:
        """A band from central values and optional ranges (each end in any order); a
        missing range is the central value alone.

        >>> Band.of(-0.3, 0.2, (-0.6, -0.1)).demand
        (-0.1, -0.3, -0.6)
        """
        d = float(demand_elasticity)
        s = float(supply_elasticity)
        dr = sorted(demand_range or (d, d), key=abs)
        sr = sorted(supply_range or (s, s))
        if not (abs(dr[0]) <= abs(d) <= abs(dr[1])):
            raise ValueError(f"demand_elasticity {d} lies outside its range {tuple(dr)}")
        if not (sr[0] <= s <= sr[1]):
            raise ValueError(f"supply_elasticity {s} lies outside its range {tuple(sr)}")
        return cls((float(dr[0]), d, float(dr[1])), (float(sr[0]), s, float(sr[1])))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Demand and supply elasticities as (3,) arrays ordered high price, central, low
        price: the inelastic end first."""
        return np.array(self.demand), np.array(self.supply)


def clear_band(shock_share: object, band: Band, spare_share: object = 0.0) -> Clearing:
    """:func:`clear` at the band's three points, on a new last axis: index 0 the inelastic
    end (highest price), 1 the central values, 2 the elastic end (lowest price).

    >>> out = clear_band(0.1, Band.of(-0.3, 0.2, (-0.1, -0.6), (0.1, 0.4)))
    >>> [round(float(v), 3) for v in out.price_change]
    [0.694, 0.235, 0.111]
    """
    e_d, e_s = band.arrays()
    s = np.asarray(shock_share, dtype=float)[..., None]
    k = np.asarray(spare_share, dtype=float)[..., None]
    return clear(s, e_d, e_s, k)


def importer_losses(demand_reduction: object, consumption: object) -> np.ndarray:
    """Tonnes each importer gives up at the new price: its use times the common reduction.

    ``demand_reduction`` (any shape ending in the band axis, or scalar) times
    ``consumption`` (n,) gives (..., n): negative use counts as none.

    >>> importer_losses(0.1, [100.0, 50.0, -5.0]).tolist()
    [10.0, 5.0, 0.0]
    """
    r = np.asarray(demand_reduction, dtype=float)
    c = np.clip(np.asarray(consumption, dtype=float), 0.0, None)
    out: np.ndarray = r[..., None] * c
    return out
