"""Reading a solution: tonnes per supplier and the mix's metrics."""

from __future__ import annotations

import numpy as np

from critmin.optimiser.model import Sourcing, Weights


def mix_metrics(inp: Sourcing, shares: np.ndarray, weights: Weights,
                china: int | None, china_origin: np.ndarray | None = None) -> dict[str, float]:
    """Governance risk, concentration (HHI), unit cost, China's share (direct, and through
    re-exporters when ``china_origin`` gives each supplier's China share) and the objective
    of a mix of shares.

    >>> inp = Sourcing(np.array(["A", "B"]), np.array([0.2, 0.6]), np.array([2.0, 4.0]),
    ...                np.array([10.0, 10.0]), 10.0, reference_price=3.0)
    >>> mix_metrics(inp, np.array([0.5, 0.5]), Weights(), None)["unit_cost_usd_per_kg"]
    3.0
    """
    price = np.nan_to_num(inp.price, nan=0.0)
    risk = float(inp.risk @ shares)
    hhi = float(shares @ shares)
    cost = float(price @ shares)
    relative = cost / inp.reference_price if inp.reference_price > 0 else cost
    direct = float(shares[china]) if china is not None else 0.0
    return {
        "risk": risk, "hhi": hhi, "unit_cost_usd_per_kg": cost, "china_share": direct,
        "china_origin_share": (float(np.nan_to_num(china_origin) @ shares)
                               if china_origin is not None else direct),
        "objective": weights.risk * risk + weights.concentration * hhi + weights.cost * relative,
    }


def read_result(inp: Sourcing, shares: np.ndarray) -> dict[str, np.ndarray]:
    """Tonnes and shares per supplier, with each supplier's cap."""
    return {"supplier": inp.suppliers, "tonnes": shares * inp.demand_t, "share": shares,
            "cap_t": inp.cap_t}
