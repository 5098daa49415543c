"""By-product coupling: a host mineral's shortfall cuts the production of the minerals
recovered from it (gallium from bauxite refining, cobalt from copper and nickel…), by their
documented dependence on that host (``catalog/byproducts.csv``)."""

from __future__ import annotations

import numpy as np


def host_drop(loss_share: np.ndarray, production_cut: np.ndarray) -> np.ndarray:
    """Share of each country's host processing lost: its host supply loss share, or the
    share of its host production cut when that is larger (missing counts as none).

    >>> host_drop(np.array([0.2, np.nan]), np.array([0.5, 0.0])).tolist()
    [0.5, 0.0]
    """
    supply_side = np.clip(np.nan_to_num(loss_share, nan=0.0), 0.0, 1.0)
    out: np.ndarray = np.maximum(supply_side, np.clip(production_cut, 0.0, 1.0))
    return out


def companion_loss(drop: np.ndarray, companion_production: np.ndarray,
                   dependence: np.ndarray) -> np.ndarray:
    """Tonnes of companion production lost per country: the host drop times the share of
    the companion's production that depends on the host there, times that production.

    >>> companion_loss(np.array([0.5, 1.0]), np.array([10.0, 4.0]), np.array([1.0, 0.0])).tolist()
    [5.0, 0.0]
    """
    out: np.ndarray = drop * np.nan_to_num(dependence, nan=0.0) * companion_production
    return out
