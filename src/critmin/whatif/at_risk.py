"""Supply-at-risk on real data: each importer's loss over many random supplier
disruptions (Monte Carlo), with each supplier's yearly probability of restricting from its
governance risk and the restrictions in force, and the disruption magnitude from the events
catalog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, resolve, schema
from critmin.errors import InvalidInput
from critmin.event_rules import in_force_in
from critmin.metrics.geopolrisk import MISSING_RISK
from critmin.present import records
from critmin.scenarios import cascade as engine
from critmin.scenarios import montecarlo
from critmin.scenarios.network import Network
from critmin.store import get_store
from critmin.trade_network import (
    MineralNetwork,
    Parties,
    label_of,
    network,
    parties,
)

RESTRICTED_TRADE_SHARE = {"cobalt": 0.67, "rare-earths": 0.46}
BASE_RESTRICTED_TRADE_SHARE = 0.14
"""Share of a mineral's trade facing an export restriction (OECD Inventory of Export
Restrictions on Industrial Raw Materials, 2021-23: about 14 % of non-waste raw-material trade;
cobalt 67 %, rare earths 46 %). The default yearly probability that supplier j restricts is
this share scaled by j's governance risk over the trade-weighted mean risk of the mineral's
exporters, so that the trade-weighted mean probability equals the share."""

IN_FORCE_PROBABILITY = 0.5
"""Probability for a supplier with a documented restriction of the mineral in force during
the year (events catalog): as likely as not to tighten or enforce it in a year. From 2023 to
2025 China extended or tightened its licensing regimes seven times (the events catalog)."""


@dataclass
class SupplyAtRisk:
    """Loss statistics per importer over many random disruptions."""

    mineral: str
    year: int
    stage: str
    basis: str
    draws: int
    seed: int
    magnitude: dict[str, float]
    cascade: bool
    countries: pd.DataFrame
    suppliers: pd.DataFrame
    notes: list[str]

    def summary(self) -> str:
        """A few lines for people."""
        names = resolve.country_names()
        top = self.countries.dropna(subset=["expected_loss_share"]).head(5)
        worst = "; ".join(
            f"{names.get(c, c)} {e:.1%} expected, {v:.0%} at the 95th percentile"
            for c, e, v in zip(top["country"], top["expected_loss_share"], top["var95_share"],
                               strict=True))
        return (f"{self.mineral} ({self.year}), {self.draws:,} draws, seed {self.seed}"
                f"{', with cascade' if self.cascade else ', first order'}\n"
                f"most exposed: {worst}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "mineral": self.mineral, "year": self.year, "stage": self.stage,
            "basis": self.basis, "draws": self.draws, "seed": self.seed,
            "magnitude": self.magnitude, "cascade": self.cascade,
            "countries": records(self.countries), "suppliers": records(self.suppliers),
            "units": self.countries.attrs.get("units", {}), "notes": self.notes,
        }


def magnitude() -> montecarlo.Magnitude:
    """The disruption magnitude distribution, from the events catalog: the share of full
    bans among events with a documented cut, and the range of the documented partial cuts."""
    cuts = get_store().table("events")["cut"].dropna()
    partial = cuts[cuts < 1]
    return montecarlo.Magnitude(ban_share=float((cuts >= 1).mean()),
                                low=float(partial.min()), high=float(partial.max()))


def in_force(mineral: str, year: int) -> pd.DataFrame:
    """Events restricting ``mineral`` at some point in ``year`` (supplier, id)."""
    table = get_store().table("events")
    covers = table["minerals"].map(lambda ms: mineral in list(ms))
    return table[covers & in_force_in(table, year)][["supplier", "id", "targets"]]


def probabilities(net: MineralNetwork, given: Mapping[str, float] | None = None
                  ) -> pd.DataFrame:
    """Each supplier's yearly probability of restricting: governance risk scaled to the
    mineral's restricted-trade share, raised where a restriction is in force, or given."""
    g = net.network
    exports = g.exports
    risk = g.risk if g.risk is not None else np.full(g.size, MISSING_RISK)
    mean = float(risk @ exports / exports.sum()) if exports.sum() > 0 else MISSING_RISK
    base = RESTRICTED_TRADE_SHARE.get(net.mineral, BASE_RESTRICTED_TRADE_SHARE)
    prob = np.clip(base * risk / mean, 0.0, 1.0) if mean > 0 else np.full(g.size, base)
    frame = pd.DataFrame({"country": g.countries.astype(str), "exports_t": exports,
                          "governance_risk": risk, "probability": prob, "restricting": ""})
    active = in_force(net.mineral, net.year)
    untargeted = active[active["targets"].map(len) == 0]
    by_supplier = untargeted.groupby("supplier")["id"].agg(", ".join)
    hit = frame["country"].isin(by_supplier.index)
    frame.loc[hit, "restricting"] = frame.loc[hit, "country"].map(by_supplier)
    frame.loc[hit, "probability"] = np.maximum(frame.loc[hit, "probability"],
                                               IN_FORCE_PROBABILITY)
    for country, value in (given or {}).items():
        code = resolve.country(country)
        p = checks.as_fraction(value, f"probability of {code}")
        frame.loc[frame["country"] == code, "probability"] = p
    frame = frame[frame["exports_t"] > 0].sort_values("exports_t", ascending=False)
    return schema.select("supply_risk_suppliers", frame.reset_index(drop=True))


def supply_at_risk(mineral: str, year: int | None = None, stage: str | None = None,
                   draws: int = 10_000, seed: int = 0,
                   probability: Mapping[str, float] | None = None, cascade: bool = False,
                   countries: Sequence[str] | str | None = None) -> SupplyAtRisk:
    """Expected loss, 95th percentile and expected shortfall of each importer's supply under
    random supplier disruptions (Monte Carlo).

    Parameters
    ----------
    mineral : str
    year, stage
        As in :func:`critmin.restrict`.
    draws : int
        Number of random scenarios (default 10,000).
    seed : int
        Seed of the random generator: the same seed gives the same numbers.
    probability : dict, optional
        Yearly probability of restricting per supplier, overriding the default mapping.
    cascade : bool
        Run the cascade in every draw (slower) instead of the first-order loss.
    countries : str or list of str, optional
        Report only these importers (countries or groups; a group also as one importer).

    Returns
    -------
    SupplyAtRisk

    Examples
    --------
    >>> r = critmin.supply_at_risk("cobalt", 2023, draws=2000, seed=1)
    >>> row = r.countries.set_index("country").loc["CHN"]
    >>> bool(row["es95_share"] >= row["var95_share"] >= 0)
    True
    """
    net = network(mineral, year, stage)
    n_draws = checks.as_int(draws, "draws", minimum=100, maximum=10_000_000)
    seed_value = checks.as_int(seed, "seed", minimum=0)
    suppliers = probabilities(net, probability)
    g = net.network
    prob = pd.Series(0.0, index=g.countries.astype(str))
    prob.update(suppliers.set_index("country")["probability"])
    shape = magnitude()
    wanted = parties(countries, net.year, "countries")
    aggregate, labels = _aggregation(g, wanted)
    params = engine.Params() if cascade else None
    risk = montecarlo.supply_at_risk(g, prob.to_numpy(), shape, n_draws, seed_value, params,
                                     aggregate)
    frame = pd.DataFrame({
        "country": labels, "supply_t": risk.supply_t,
        "expected_loss_share": risk.expected_loss_share,
        "expected_loss_share_analytic": risk.expected_loss_share_analytic,
        "var95_share": risk.var95_share, "es95_share": risk.es95_share,
        "p_loss_over_10": risk.p_loss_over_10, "expected_loss_t": risk.expected_loss_t,
    })
    frame["note"] = np.select(
        [frame["supply_t"] <= 0, risk.capped_share > 0],
        ["no positive supply (exports exceed production plus imports)",
         pd.Series(risk.capped_share).map(
             lambda s: f"a re-exporter: in {s:.1%} of draws it would lose more than its "
             "supply; capped at its supply")],
        default="")
    if wanted is None:
        frame = frame[(frame["expected_loss_t"] > 0) | (frame["supply_t"] > 0)]
    frame = frame.sort_values("expected_loss_share", ascending=False, na_position="last")
    notes = [
        *net.notes,
        f"disruption: a ban with probability {shape.ban_share:.0%}, otherwise a cut drawn "
        f"uniformly in [{shape.low:.0%}, {shape.high:.0%}] (the events catalog)"]
    return SupplyAtRisk(
        mineral=net.mineral, year=net.year, stage=net.stage, basis=net.basis, draws=n_draws,
        seed=seed_value, magnitude={"ban_share": shape.ban_share, "low": shape.low,
                                    "high": shape.high, "mean": shape.mean},
        cascade=bool(cascade),
        countries=schema.select("supply_at_risk", frame.reset_index(drop=True)),
        suppliers=suppliers, notes=notes,
    )


def _aggregation(g: Network, wanted: Parties | None) -> tuple[np.ndarray | None, list[str]]:
    """Rows of importers to report (countries, and groups as one) as a 0/1 matrix."""
    if wanted is None:
        return None, list(g.countries.astype(str))
    rows, labels = [], []
    for label, members in wanted.groups.items():
        rows.append(g.mask(members))
        labels.append(label)
    for code in wanted.iso3:
        if code in set(g.countries):
            rows.append(g.mask([code]))
            labels.append(code)
    if not rows:
        raise InvalidInput(f"{label_of(wanted.iso3)} recorded no trade of this mineral")
    return np.vstack(rows), labels
