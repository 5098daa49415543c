"""The sourcing programme over supply shares s_j = x_j / D:

    minimise   w_risk · Σ g_j s_j  +  w_concentration · Σ s_j²  +  w_cost · Σ (p_j / p̄) s_j
    subject to Σ s_j = 1,   lower_j ≤ s_j ≤ upper_j

with g_j the supplier's governance risk (0-1), p_j its export unit value and p̄ the unit
value of today's mix (so the cost term is 1 for today's prices), upper_j = min(cap_j / D,
max_share) (0 for an excluded supplier) and lower_j = required_j / D. Shares keep the
programme well scaled whatever the tonnage; the Hessian is 2·w_concentration·I.

A minimum lot L (tonnes) and a most number of suppliers k make it a mixed-integer
programme: each supplier is in the mix or not (y_j ∈ {0, 1}), with L/D · y_j ≤ s_j ≤
upper_j · y_j and Σ y_j ≤ k (:mod:`critmin.optimiser.mip`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Weights:
    """How much each term counts (each term is about 0-1 for a realistic mix)."""

    risk: float = 1.0
    concentration: float = 1.0
    cost: float = 0.0


@dataclass(frozen=True)
class Sourcing:
    """What the programme is built from, one entry per candidate supplier."""

    suppliers: np.ndarray
    risk: np.ndarray
    """Governance risk g_j, 0-1."""
    price: np.ndarray
    """Export unit value p_j, USD per kg on the mineral's basis."""
    cap_t: np.ndarray
    """Tonnes each supplier could ship the importer."""
    demand_t: float
    max_share: float = 1.0
    required_t: np.ndarray | None = None
    """Minimum tonnes per supplier (required partners), 0 elsewhere."""
    excluded: np.ndarray | None = None
    """True for suppliers left out."""
    reference_price: float = 1.0
    """p̄: the unit value the cost term is measured against (today's mix)."""
    min_lot_t: float = 0.0
    """Least tonnes a supplier in the mix ships (0: any amount)."""
    max_suppliers: int | None = None
    """Most suppliers in the mix (None: any number)."""


@dataclass(frozen=True)
class Model:
    """The quadratic programme: minimise c·s + ½ s·diag(h)·s, Σ s = 1, lower ≤ s ≤ upper;
    with ``lot`` > 0 or ``max_count`` set, each s_j is 0 or in [lot, upper_j] and at most
    ``max_count`` are above 0."""

    linear: np.ndarray
    hessian_diagonal: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    lot: float = 0.0
    """Least share of a supplier in the mix (its minimum lot over the demand)."""
    max_count: int | None = None
    """Most suppliers in the mix."""

    @property
    def mixed_integer(self) -> bool:
        """Whether the programme has a minimum lot or a most number of suppliers."""
        return self.lot > 0 or self.max_count is not None


def bounds(inp: Sourcing) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper share of each supplier."""
    d = inp.demand_t
    upper = np.minimum(inp.cap_t / d, inp.max_share)
    if inp.excluded is not None:
        upper = np.where(inp.excluded, 0.0, upper)
    lower = np.zeros_like(upper) if inp.required_t is None else inp.required_t / d
    return lower, np.clip(upper, 0.0, None)


def build_model(inp: Sourcing, weights: Weights) -> Model:
    """The programme for ``inp`` and ``weights``.

    >>> inp = Sourcing(np.array(["A", "B"]), np.array([0.2, 0.6]), np.array([1.0, 1.0]),
    ...                np.array([10.0, 10.0]), 10.0)
    >>> m = build_model(inp, Weights())
    >>> m.linear.tolist(), m.hessian_diagonal.tolist(), m.upper.tolist()
    ([0.2, 0.6], [2.0, 2.0], [1.0, 1.0])
    """
    lower, upper = bounds(inp)
    cost = inp.price / inp.reference_price if inp.reference_price > 0 else inp.price
    linear = weights.risk * inp.risk + weights.cost * np.nan_to_num(cost, nan=0.0)
    hessian = np.full(len(inp.suppliers), 2.0 * weights.concentration)
    return Model(linear, hessian, lower, upper, inp.min_lot_t / inp.demand_t, inp.max_suppliers)


def contradiction(inp: Sourcing, unit: str = "t") -> str | None:
    """Why the request contradicts itself whatever the supply (a required partner that may
    not or cannot ship its volume, required volumes above the demand, more required
    partners than suppliers allowed), or None. Unlike a shortfall, no mix answers it."""
    lower, upper = bounds(inp)
    d = inp.demand_t
    names = inp.suppliers
    over = np.flatnonzero(lower > upper + 1e-12)
    if len(over):
        j = over[0]
        why = "is excluded" if inp.excluded is not None and inp.excluded[j] else (
            f"can ship at most {min(inp.cap_t[j], inp.max_share * d):,.1f} {unit} "
            f"(its cap{' and the share cap' if inp.max_share < 1 else ''})")
        return (f"{names[j]} is required for {lower[j] * d:,.1f} {unit} but {why}: lower the "
                "required volume or raise the redirectable fraction")
    if lower.sum() > 1 + 1e-9:
        return (f"the required volumes add up to {lower.sum() * d:,.1f} {unit}, above the "
                f"demand of {d:,.1f} {unit}")
    short = np.flatnonzero((lower > 0) & (upper < inp.min_lot_t / d - 1e-12))
    if len(short):
        j = short[0]
        return (f"{names[j]} is required but can ship at most {upper[j] * d:,.1f} {unit}, "
                f"below the minimum lot of {inp.min_lot_t:,.1f} {unit}: lower the minimum lot")
    needed = int(np.sum(lower > 0))
    if inp.max_suppliers is not None and needed > inp.max_suppliers:
        return (f"{needed} partners are required but the mix may have at most "
                f"{inp.max_suppliers} suppliers: raise the most number of suppliers")
    return None


def infeasible(inp: Sourcing, unit: str = "t") -> str | None:
    """Why no mix can meet the request (naming the binding constraint), or None; with a
    minimum lot or a most number of suppliers only the reasons that hold without them
    (whether the demand can then be met is a mixed-integer question:
    :func:`critmin.optimiser.mip.deliverable`)."""
    said = contradiction(inp, unit)
    if said is not None:
        return said
    _, upper = bounds(inp)
    d = inp.demand_t
    if upper.sum() < 1 - 1e-9:
        total = upper.sum() * d
        caps = np.minimum(inp.cap_t, np.inf)
        if inp.excluded is not None:
            caps = np.where(inp.excluded, 0.0, caps)
        if caps.sum() < d - 1e-9:
            return (f"the suppliers' caps add up to {caps.sum():,.1f} {unit}, below the demand "
                    f"of {d:,.1f} {unit}: raise the redirectable fraction or the production "
                    "share, or lower the demand")
        return (f"with a share cap of {inp.max_share:.0%} the suppliers can ship at most "
                f"{total:,.1f} {unit}, below the demand of {d:,.1f} {unit} "
                f"({int(np.sum(upper > 0))} suppliers can ship anything): raise the share cap "
                "or the redirectable fraction")
    return None
