"""New domestic output at a stage replacing a country's imports at that stage.

Pure: a network in, the network with the new output and what it displaced out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from critmin.scenarios.network import Network

DISPLACE = ("pro-rata", "china-first")
"""How new output displaces imports: every supplier in proportion to what it ships, or the
restricting suppliers first (``china-first``: the ``against`` suppliers of the what-if,
China by default), then the others pro rata."""


@dataclass(frozen=True)
class Displacement:
    """The network with the new output, and what it took."""

    network: Network
    output_t: float
    """The new domestic output (tonnes on the basis)."""
    displaced_t: float
    """The imports it replaces: the output, capped at the country's imports."""
    surplus_t: float
    """Output beyond the country's imports (not counted as exports)."""
    displaced_from: np.ndarray
    """Tonnes displaced from each supplier, in the network's order."""


def displace(net: Network, country: int, output_t: float, first: np.ndarray | None = None
             ) -> Displacement:
    """``net`` with ``output_t`` of new output in ``country`` (its position) replacing its
    imports, capped at them: pro rata across its suppliers, or first those ``first`` marks
    (1.0) pro rata among them, then the rest. The country's production rises by what is
    displaced, so its supply is unchanged; output beyond its imports is the surplus.

    Examples
    --------
    >>> net = Network.of(["A", "B", "C"], [[0, 0, 6], [0, 0, 2], [0, 0, 0]], [10, 2, 0])
    >>> d = displace(net, 2, 4.0)
    >>> d.network.flows[:, 2].tolist(), d.displaced_t, d.surplus_t
    ([3.0, 1.0, 0.0], 4.0, 0.0)
    >>> displace(net, 2, 4.0, np.array([1.0, 0, 0])).network.flows[:, 2].tolist()
    [2.0, 2.0, 0.0]
    """
    if output_t < 0:
        raise ValueError("output must be non-negative")
    q = net.flows.copy()
    p = net.production.copy()
    column = q[:, country].copy()
    imports = float(column.sum())
    displaced = min(float(output_t), imports)
    cut = np.zeros(net.size)
    left = displaced
    if first is not None:
        prior = column * np.asarray(first, dtype=float)
        total = float(prior.sum())
        take = min(left, total)
        if total > 0:
            cut += prior * (take / total)
        left -= take
    rest = column - cut
    if left > 0 and rest.sum() > 0:
        cut += rest * (left / float(rest.sum()))
    q[:, country] = np.maximum(column - cut, 0.0)
    p[country] += displaced
    return Displacement(network=net.with_flows(q, p), output_t=float(output_t),
                        displaced_t=displaced, surplus_t=float(output_t) - displaced,
                        displaced_from=cut)
