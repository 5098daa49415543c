"""A mineral's trade network for one year and stage: the dense exporter x importer matrix of
flows on the mineral's basis, and each country's production, as arrays.

Pure data: :mod:`critmin.trade_network` builds it from the store; the scenario functions
take it and return arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from critmin.metrics.concentration import CHINA


@dataclass(frozen=True)
class Network:
    """Flows ``flows[j, c]`` from exporter ``j`` to importer ``c`` (tonnes on the mineral's
    basis) and ``production[c]`` (tonnes, 0 where none is reported), over ``countries``.

    >>> net = Network.of(["A", "B"], [[0, 5], [1, 0]], [10, 0])
    >>> net.supply.tolist()   # P + M - X
    [6.0, 4.0]
    """

    countries: np.ndarray
    flows: np.ndarray
    production: np.ndarray
    risk: np.ndarray | None = None
    """Governance risk of each country (0-1), for the GeoPolRisk import risk."""

    @classmethod
    def of(cls, countries: list[str], flows: object, production: object,
           risk: object | None = None) -> Network:
        """A network from plain lists (checked: square, non-negative, finite)."""
        q = np.asarray(flows, dtype=float)
        p = np.asarray(production, dtype=float)
        n = len(countries)
        if q.shape != (n, n) or p.shape != (n,):
            raise ValueError(f"flows must be {n} x {n} and production {n} long")
        if not (np.isfinite(q).all() and np.isfinite(p).all()) or (q < 0).any() or (p < 0).any():
            raise ValueError("flows and production must be finite and non-negative")
        q = q.copy()
        np.fill_diagonal(q, 0.0)
        g = None if risk is None else np.asarray(risk, dtype=float)
        return cls(np.asarray(countries, dtype=object), q, p, g)

    @property
    def size(self) -> int:
        """Number of countries."""
        return len(self.countries)

    @property
    def imports(self) -> np.ndarray:
        """M_c: column sums."""
        out: np.ndarray = self.flows.sum(axis=0)
        return out

    @property
    def exports(self) -> np.ndarray:
        """X_j: row sums."""
        out: np.ndarray = self.flows.sum(axis=1)
        return out

    @property
    def supply(self) -> np.ndarray:
        """Apparent supply A_c = P_c + M_c - X_c."""
        out: np.ndarray = self.production + self.imports - self.exports
        return out

    def index(self, codes: list[str]) -> np.ndarray:
        """Positions of ``codes`` (ISO3) in the network; codes it lacks are left out."""
        where = {c: n for n, c in enumerate(self.countries)}
        return np.array([where[c] for c in codes if c in where], dtype=int)

    def mask(self, codes: list[str] | None) -> np.ndarray:
        """1.0 for ``codes`` (all countries when None), 0.0 elsewhere."""
        if codes is None:
            return np.ones(self.size)
        out = np.zeros(self.size)
        out[self.index(codes)] = 1.0
        return out

    def with_flows(self, flows: np.ndarray, production: np.ndarray | None = None) -> Network:
        """The same countries with other flows (and production)."""
        return replace(self, flows=flows,
                       production=self.production if production is None else production)


def collapse(net: Network, members: np.ndarray, label: str) -> Network:
    """The network with the ``members`` (positions) merged into one country ``label``:
    trade between members left out, their production summed, their governance risk the
    production-and-export-weighted mean (the group as one importer).

    >>> net = Network.of(["A", "B", "C"], [[0, 1, 2], [3, 0, 4], [5, 6, 0]], [1, 1, 1])
    >>> g = collapse(net, np.array([0, 1]), "AB")
    >>> g.countries.tolist(), g.flows.tolist()
    (['C', 'AB'], [[0.0, 11.0], [6.0, 0.0]])
    """
    n = net.size
    inside = np.zeros(n, dtype=bool)
    inside[members] = True
    keep = np.flatnonzero(~inside)
    merge = np.zeros((n, len(keep) + 1))
    merge[keep, np.arange(len(keep))] = 1.0
    merge[inside, -1] = 1.0
    flows = merge.T @ net.flows @ merge
    np.fill_diagonal(flows, 0.0)
    production = merge.T @ net.production
    risk = None
    if net.risk is not None:
        weight = net.production + net.exports
        inner = net.risk[inside]
        w = weight[inside]
        group_risk = float(inner @ w / w.sum()) if w.sum() > 0 else float(inner.mean())
        risk = np.append(net.risk[keep], group_risk)
    countries = np.append(net.countries[keep], label)
    return Network(countries, flows, production, risk)


def importer_metrics(net: Network) -> dict[str, np.ndarray]:
    """Per country: imports, exports, supply, net import reliance, China's share of imports,
    import-partner HHI, largest supplier's share, GeoPolRisk import risk (WTA) and score, on
    the network's basis (the cube's definitions)."""
    q, p = net.flows, net.production
    m, x = q.sum(axis=0), q.sum(axis=1)
    a = p + m - x
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(m > 0, q / m, np.nan)
        reliance = np.where(a > 0, (m - x) / a, np.nan)
        china = net.index([CHINA])
        china_share = shares[china[0]] if len(china) else np.where(m > 0, 0.0, np.nan)
        hhi = np.nansum(shares**2, axis=0)
        hhi = np.where(m > 0, hhi, np.nan)
        top = np.where(m > 0, np.nanmax(np.nan_to_num(shares, nan=0.0), axis=0), np.nan)
        world = p.sum()
        production_hhi = float(((p / world) ** 2).sum()) if world > 0 else np.nan
        if net.risk is not None:
            wta = np.where(m + p > 0, net.risk @ q / (m + p), np.nan)
        else:
            wta = np.full(net.size, np.nan)
    return {
        "imports_t": m, "exports_t": x, "supply_t": a, "import_reliance": reliance,
        "china_share": china_share, "import_hhi": hhi, "top_supplier_share": top,
        "wta": wta, "score": production_hhi * wta,
    }
