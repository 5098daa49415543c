"""Bilateral agreements: supplier B ships importer A a volume of a mineral, redirected from
B's other customers pro rata or from new capacity.

Pure: a network in, the network with the agreement and the feasibility figures out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from critmin.scenarios.network import Network

MODES = ("redirect", "new")


@dataclass(frozen=True)
class Agreement:
    """The network with the agreement, and what it took."""

    network: Network
    volume_t: float
    """The volume asked for."""
    delivered_t: float
    """The volume the scenario ships (less than asked when B cannot redirect that much)."""
    supplier_production_t: float
    supplier_exports_t: float
    supplier_exports_to_importer_t: float
    supplier_exports_to_others_t: float


def apply(net: Network, importer: np.ndarray, supplier: int, volume_t: float,
          mode: str = "redirect") -> Agreement:
    """``net`` with ``volume_t`` more from ``supplier`` to the ``importer`` countries (their
    positions; several for a group, shared in proportion to their imports).

    ``redirect``: B's exports to every other customer fall pro rata by the volume, capped at
    what B exports to them. ``new``: B's production and exports rise by the volume.

    Examples
    --------
    >>> net = Network.of(["A", "B", "C"], [[0, 0, 0], [2, 0, 8], [0, 0, 0]], [0, 10, 0])
    >>> deal = apply(net, np.array([0]), 1, 4.0)
    >>> deal.network.flows[1].tolist()   # B ships A 2 + 4, C 8 - 4
    [6.0, 0.0, 4.0]
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    q = net.flows.copy()
    p = net.production.copy()
    members = np.asarray(importer, dtype=int)
    others = np.ones(net.size, dtype=bool)
    others[members] = False
    others[supplier] = False
    imports = net.imports[members]
    weights = (imports / imports.sum() if imports.sum() > 0
               else np.full(len(members), 1.0 / max(len(members), 1)))
    to_others = float(q[supplier, others].sum())
    to_importer = float(q[supplier, members].sum())
    exports = float(q[supplier].sum())
    if mode == "redirect":
        delivered = min(volume_t, to_others)
        if to_others > 0:
            q[supplier, others] *= 1.0 - delivered / to_others
    else:
        delivered = volume_t
        p[supplier] += volume_t
    q[supplier, members] += delivered * weights
    return Agreement(
        network=net.with_flows(q, p), volume_t=float(volume_t), delivered_t=float(delivered),
        supplier_production_t=float(net.production[supplier]), supplier_exports_t=exports,
        supplier_exports_to_importer_t=to_importer, supplier_exports_to_others_t=to_others,
    )
