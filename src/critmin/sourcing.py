"""Diversified sourcing on real data: who else could supply an importer, the supplier mix that
minimises restriction risk, concentration and cost, and the risk-cost frontier.

>>> p = critmin.optimise("IND", "lithium", 2023)
>>> bool((p.portfolio["tonnes"] <= p.portfolio["cap_t"] + 1e-6).all())
True
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, numbers, present, resolve, schema
from critmin.coverage import Coverage, of_suppliers
from critmin.errors import InvalidInput, SolverError, nearest
from critmin.event_rules import in_force_in
from critmin.metrics.concentration import CHINA
from critmin.optimiser.mip import MIP_GAP, TIME_LIMIT_S, deliverable
from critmin.optimiser.model import Sourcing, Weights, build_model, contradiction, infeasible
from critmin.optimiser.result import mix_metrics, read_result
from critmin.optimiser.solve import Solution, solve
from critmin.present import records
from critmin.scenarios.network import collapse
from critmin.store import get_store
from critmin.trade_network import HEADLINE, MineralNetwork, network, required_parties
from critmin.whatif.capacity import network_surplus

REDIRECTABLE = 0.1
"""Default share of a supplier's exports to other customers that it could redirect."""

WEIGHT_NAMES = ("risk", "concentration", "cost")


# -- candidate suppliers ---------------------------------------------------------------------

@dataclass(frozen=True)
class Market:
    """An importer's view of a mineral's network: candidate suppliers and today's mix."""

    net: MineralNetwork
    importer: str
    frame: pd.DataFrame
    """One row per other country: production, imports, exports, exports to the importer and
    to others, exportable surplus (``surplus_t``: output minus own use, re-exports excluded;
    NaN where its output is not reported), governance risk, the governance risk embodied in its imported supply
    (``upstream_risk``: its suppliers' risks weighted by their share of its production plus
    imports), export unit value, China's share of its supply."""
    imports_t: float
    names: pd.Series


def market(importer: str, mineral: str, year: int | None = None, stage: str | None = None
           ) -> Market:
    """The importer (a country, or a group as one) and every other country of the network."""
    net = network(mineral, year, stage)
    who = required_parties(importer, net.year, "importer")
    g = net.network
    members = g.index(who.iso3)
    if not len(members):
        raise InvalidInput(f"{', '.join(who.iso3)} recorded no trade of {net.mineral} in "
                           f"{net.year}")
    label = next(iter(who.groups)) if who.groups else who.iso3[0]
    price = net.export_price if net.export_price is not None else np.full(g.size, np.nan)
    if len(members) > 1 or who.groups:
        weight = g.exports[members]
        group_price = (float(np.nansum(price[members] * weight) / weight.sum())
                       if weight.sum() > 0 else np.nan)
        price = np.append(np.delete(price, members), group_price)
        g = collapse(g, members, label)
    at = int(g.index([label])[0])
    q, p = g.flows, g.production
    supply_in = p + q.sum(axis=0)
    china = g.index([CHINA])
    from_china = q[china[0]] if len(china) else np.zeros(g.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        china_origin = np.where(supply_in > 0, from_china / supply_in, np.nan)
    if len(china):
        china_origin[china[0]] = 1.0
    to_importer = q[:, at]
    risk = g.risk if g.risk is not None else np.full(g.size, np.nan)
    odds = restriction_odds(net.mineral, net.year, list(g.countries.astype(str)))
    with np.errstate(divide="ignore", invalid="ignore"):
        upstream = np.where(supply_in > 0, (risk @ q) / supply_in, 0.0)
        upstream_odds = np.where(supply_in > 0, (odds @ q) / supply_in, 0.0)
    balance = network_surplus(net).set_index("country")
    codes = pd.Series(g.countries.astype(str))
    frame = pd.DataFrame({
        "supplier": codes, "production_t": p, "imports_t": q.sum(axis=0),
        "surplus_t": codes.map(balance["surplus_t"]).to_numpy(float),
        "surplus_bound_t": codes.map(balance["bound_t"]).fillna(0.0).to_numpy(float),
        "exports_t": q.sum(axis=1),
        "exports_to_importer_t": to_importer, "exports_to_others_t": q.sum(axis=1) - to_importer,
        "governance_risk": risk, "upstream_risk": upstream,
        "restriction_odds": odds, "upstream_odds": upstream_odds,
        "price_usd_per_kg": price, "china_origin_share": china_origin,
    }).drop(index=at).reset_index(drop=True)
    names = resolve.country_names()
    return Market(net, label, frame, float(to_importer.sum()), names)


def restriction_odds(mineral: str, year: int, countries: Sequence[str]) -> np.ndarray:
    """Each country's yearly odds of a new export restriction of ``mineral`` (the rates
    of :func:`critmin.hazards` with ``year``'s governance risk); a group collapsed into one
    importer, absent from the table, gets 0 (it is not a supplier)."""
    from critmin.whatif.hazards import hazards

    table = hazards(mineral, year).suppliers.set_index("country")["probability"]
    out: np.ndarray = pd.Series(list(countries)).map(table).fillna(0.0).to_numpy(float)
    return out


RISK_LABELS = {"odds": "yearly odds of a restriction", "governance": "governance risk"}
RISK_MEASURES = tuple(RISK_LABELS)
"""What a supplier's risk in the optimiser is: its yearly odds of a new export restriction
of the mineral (default) or its governance risk (WGI political stability, as GeoPolRisk)."""


def caps(m: Market, redirectable: float, production_share: float) -> np.ndarray:
    """Tonnes each supplier could ship: what it ships the importer now plus a redirectable
    share of its other exports, within its exportable surplus (output minus own use:
    re-exports are not capacity; where its output at the stage is not reported, its net
    exports up to its production of the mineral), plus a share of its production (new
    output)."""
    f = m.frame
    trade = (f["exports_to_importer_t"] + redirectable * f["exports_to_others_t"]).to_numpy(float)
    bound = f["surplus_bound_t"].to_numpy(float)
    new_output: np.ndarray = production_share * f["production_t"].to_numpy(float)
    return np.asarray(np.minimum(trade, bound) + new_output, dtype=float)


def cap_note(m: Market, cap: np.ndarray, redirectable: float) -> str:
    """What the caps are made of, in words."""
    f = m.frame
    trade = (f["exports_to_importer_t"] + redirectable * f["exports_to_others_t"]).to_numpy(float)
    cut = trade > cap + 1e-9
    withheld = f["surplus_t"].isna().to_numpy() & (trade > 0)
    unit = f"t {m.net.basis}"
    text = (f"caps: today's shipments plus {redirectable:.0%} of other exports, within each "
            "supplier's exportable surplus (its output minus its own use; re-exports, what it "
            f"exports beyond its output, are not capacity): {int(cut.sum())} suppliers capped below their "
            f"trade ({(trade - np.minimum(trade, cap))[cut].sum():,.1f} {unit} of re-exports "
            "or own use left out)")
    if withheld.any():
        text += (f"; {int(withheld.sum())} report no output at the stage (withheld, not zero): "
                 "capped at their net exports up to their production of the mineral")
    return text


def suppliers(importer: str, mineral: str, year: int | None = None, stage: str | None = None,
              redirectable: float = REDIRECTABLE, production_share: float = 0.0
              ) -> pd.DataFrame:
    """Candidate suppliers of a mineral to an importer, ranked by what they could really
    provide that does not come from China.

    Parameters
    ----------
    importer : str
        Country or group.
    mineral : str
    year, stage
        As in :func:`critmin.restrict`.
    redirectable : float
        Share of each supplier's exports to others it could redirect (default 0.1).
    production_share : float
        Share of its production it could add (default 0).

    Returns
    -------
    pandas.DataFrame
        One row per candidate: production, exports (to the importer and to others), the
        tonnes it could ship (``cap_t``), governance risk, export unit value, China's share
        of its own supply (for re-exporters: how much of what they sell is Chinese), the
        tonnes it could ship that are not Chinese (``independent_t``, the ranking), the
        change in the importer's import concentration if it took them, and a reason.

    Examples
    --------
    >>> s = critmin.suppliers("IND", "lithium", 2023)
    >>> s.iloc[0]["supplier"] in {"AUS", "CHL", "ARG"}
    True
    """
    m = market(importer, mineral, year, stage)
    r = checks.as_fraction(redirectable, "redirectable")
    ps = checks.as_fraction(production_share, "production_share")
    f = m.frame.copy()
    f["cap_t"] = caps(m, r, ps)
    f = f[f["cap_t"] > 0].copy()
    independent = 1.0 - f["china_origin_share"].fillna(0.0)
    f["independent_t"] = f["cap_t"] * independent
    today = f["exports_to_importer_t"].to_numpy(float)
    total = max(m.imports_t, 1e-12)
    s = today / total
    hhi_now = float((s**2).sum())
    # the importer moves a share delta of its imports to the candidate (the rest pro rata as
    # today): HHI(delta) = (1-delta)^2 H + 2 delta (1-delta) s + delta^2, least at
    # delta* = (H - s) / (1 + H - 2 s), within what the candidate could ship
    most = np.minimum(f["cap_t"].to_numpy(float) / total, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        best = np.clip((hhi_now - s) / (1 + hhi_now - 2 * s), 0.0, most)
    best = np.nan_to_num(best)
    hhi_then = (1 - best) ** 2 * hhi_now + 2 * best * (1 - best) * s + best**2
    f["hhi_change"] = hhi_then - hhi_now
    f = f.sort_values(["independent_t", "governance_risk"], ascending=[False, True])
    f["rank"] = np.arange(1, len(f) + 1)
    f["reason"] = _reasons(f, m)
    return schema.select("candidates", f.reset_index(drop=True))


def _reasons(f: pd.DataFrame, m: Market) -> list[str]:
    """Why each candidate ranks where it does, in words."""
    unit = f"t {m.net.basis}"
    importer = str(m.names.get(m.importer, m.importer))
    out = []
    columns = ["production_t", "exports_t", "exports_to_importer_t", "cap_t",
               "china_origin_share", "governance_risk", "hhi_change"]
    values = f[columns].to_numpy(float)
    for supplier, (made, sold, to_importer, cap, origin, risk, change) in zip(
            f["supplier"], values, strict=True):
        text = f"produces {numbers.tonnes(made, unit)}" if made > 0 else "produces none"
        parts = [f"{text}; exports {numbers.tonnes(sold)} ({numbers.tonnes(to_importer)} to "
                 f"{importer}); could ship {numbers.tonnes(cap)}"]
        if supplier == CHINA:
            parts.append("China itself")
        elif sold > 0 and made < 0.1 * sold:
            parts.append("a re-exporter" + (f": {numbers.share(origin)} of its supply comes "
                                            "from China"
                                            if np.isfinite(origin) and origin > 0 else ""))
        parts.append(f"governance risk {risk:.2f}")
        if change < -0.005:
            parts.append(f"could lower {importer}'s import concentration by {-change:.2f}")
        out.append("; ".join(parts))
    return out


# -- the optimiser ---------------------------------------------------------------------------

SHOWN_FLOOR = present.SHOWN_FLOOR
"""Suppliers below this share both of the optimised mix and of today's imports are folded
into one "others" row of the printed mix (:meth:`Portfolio.shown`); the portfolio table, the
totals and the metrics keep them."""


@dataclass
class Portfolio:
    """The optimised supplier mix against today's."""

    importer: str
    mineral: str
    year: int
    stage: str
    basis: str
    demand_t: float
    weights: dict[str, float]
    portfolio: pd.DataFrame
    """supplier, tonnes, share, cap_t, today's tonnes and share, governance risk, unit value."""
    before: dict[str, float]
    after: dict[str, float]
    status: str
    parameters: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    coverage: Coverage | None = None
    """Share of the mix's suppliers' known output the network's exports represent."""
    shortfall_t: float = 0.0
    """Demand no mix can meet within the constraints (status ``infeasible: shortfall``);
    the portfolio is then the best mix of what can be delivered."""
    binding: list[dict[str, Any]] = field(default_factory=list)
    """With a shortfall: the constraints that bind, each with ``constraint``, ``detail``
    and ``added_t``, the tonnes lifting it alone would add (None for the caps)."""
    mip_gap: float | None = None
    """With a minimum lot or a most number of suppliers: the relative gap between the mix's
    objective and the solver's bound on the optimum."""

    @property
    def delivered_t(self) -> float:
        """Tonnes the mix delivers: the demand less the shortfall."""
        return self.demand_t - self.shortfall_t

    def shortfall_lines(self) -> list[str]:
        """The shortfall and what binds, in words (none when the demand is met)."""
        if self.shortfall_t <= 0:
            return []
        unit = f"t {self.basis}"
        return [f"shortfall: {self.shortfall_t:,.1f} {unit} of the demand of "
                f"{self.demand_t:,.1f} {unit} cannot be met; the most any mix can deliver is "
                f"{self.delivered_t:,.1f} {unit} (the mix above, the least risky at that "
                "level; shares are of what it delivers)",
                "binding (lifting each alone, the others kept):",
                *[f"  - {b['detail']}" for b in self.binding]]

    def summary(self) -> str:
        """A few lines for people."""
        names = resolve.country_names()
        top = self.portfolio[self.portfolio["tonnes"] > 0.005 * self.demand_t].head(6)
        share, number = numbers.share, numbers.number
        mix = ", ".join(f"{names.get(s, s)} {share(x)}" for s, x in zip(top["supplier"],
                                                                        top["share"], strict=True))
        b, a = self.before, self.after
        gap = "" if self.mip_gap is None else f" (gap {self.mip_gap:.2g})"
        delivered = ("" if self.shortfall_t <= 0 else
                     f", {self.delivered_t:,.0f} t delivered, {self.shortfall_t:,.0f} t short")
        return "\n".join([
            f"{names.get(self.importer, self.importer)}: {numbers.tonnes(self.demand_t)} "
            f"{self.basis} of {self.mineral} ({self.year}){delivered}, status {self.status}{gap}",
            f"mix: {mix}",
            f"{RISK_LABELS[self.parameters.get('risk_measure', 'governance')]} "
            f"{number(b['risk'])} -> {number(a['risk'])}; concentration (HHI) "
            f"{number(b['hhi'])} -> {number(a['hhi'])}; unit cost "
            f"{b['unit_cost_usd_per_kg']:.2f} -> {a['unit_cost_usd_per_kg']:.2f} USD/kg; "
            f"China's share {share(b['china_share'])} -> {share(a['china_share'])} (with what "
            f"re-exporters buy from China {share(b['china_origin_share'])} -> "
            f"{share(a['china_origin_share'])})",
            *([] if self.coverage is None else [self.coverage.line("the mix's suppliers")]),
        ])

    def shown(self, floor: float = SHOWN_FLOOR) -> tuple[pd.DataFrame, str | None]:
        """The portfolio as printed, the suppliers below ``floor`` both of the optimised mix
        and of today's imports folded into one "others" row (:func:`present.fold`), and a
        line saying so (None when there are none)."""
        p = self.portfolio
        shown = present.fold(p, ["tonnes", "today_t"], floor)
        if len(shown) == len(p):
            return p, None
        small = len(p) - len(shown) + 1
        rest = shown.iloc[-1]
        return shown, (
            f"others: {small} suppliers below {numbers.share(floor)} each of the mix and of "
            f"today's imports, {numbers.tonnes(rest['tonnes'])} together "
            f"({numbers.share(rest['tonnes'] / self.demand_t)} of demand), "
            f"{numbers.tonnes(rest['today_t'])} today (every row: --all, --json, --csv or "
            "--out)")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "importer": self.importer, "mineral": self.mineral, "year": self.year,
            "stage": self.stage, "basis": self.basis, "demand_t": self.demand_t,
            "weights": self.weights, "status": self.status, "mip_gap": self.mip_gap,
            "delivered_t": self.delivered_t, "shortfall_t": self.shortfall_t,
            "binding": self.binding, "before": self.before,
            "after": self.after, "portfolio": records(self.portfolio),
            "parameters": self.parameters, "notes": self.notes,
            "coverage": None if self.coverage is None else self.coverage.to_dict(),
        }


def parse_weights(weights: Mapping[str, float] | Weights | None) -> Weights:
    """Weights from a mapping (``{"risk": 1, "cost": 0.5}``), checked."""
    if weights is None:
        return Weights()
    if isinstance(weights, Weights):
        return weights
    if not isinstance(weights, Mapping):
        raise InvalidInput(f"weights must map risk, concentration and cost to numbers, not "
                           f"{weights!r}")
    values = {}
    for key, value in weights.items():
        if key not in WEIGHT_NAMES:
            raise InvalidInput(f"unknown weight {key!r}",
                               suggestions=nearest(str(key), WEIGHT_NAMES) or list(WEIGHT_NAMES))
        values[key] = checks.as_float(value, f"weight {key}", 0.0)
    out = Weights(**values)
    if out.risk == out.concentration == out.cost == 0:
        raise InvalidInput("at least one weight must be positive")
    return out


@dataclass(frozen=True)
class Request:
    """A checked sourcing request on one market."""

    market: Market
    inputs: Sourcing
    today: np.ndarray
    china: int | None
    china_origin: np.ndarray
    parameters: dict[str, Any]


def _request(importer: str, mineral: str, year: int | None, stage: str | None,
             demand: float | None, max_share: float | None, exclude: Sequence[str] | None,
             require: Mapping[str, float] | None, redirectable: float,
             production_share: float, origin_adjusted: bool = True,
             risk_measure: str = "odds", min_lot_t: float | None = None,
             max_suppliers: int | None = None) -> Request:
    origin_adjusted = checks.as_bool(origin_adjusted, "origin_adjusted")
    lot = 0.0 if min_lot_t is None else checks.as_float(min_lot_t, "min_lot_t")
    if lot <= 0 and min_lot_t is not None:
        raise InvalidInput(f"min_lot_t must be above 0 t, not {lot:g} (leave it out for "
                           "no minimum lot)")
    most = (None if max_suppliers is None
            else checks.as_int(max_suppliers, "max_suppliers", minimum=1))
    measure = checks.as_name(risk_measure, "risk_measure")
    if measure not in RISK_MEASURES:
        raise InvalidInput(f"unknown risk_measure {measure!r}", suggestions=list(RISK_MEASURES))
    m = market(importer, mineral, year, stage)
    r = checks.as_fraction(redirectable, "redirectable")
    ps = checks.as_fraction(production_share, "production_share")
    share_cap = 1.0 if max_share is None else checks.as_fraction(max_share, "max_share")
    if share_cap == 0:
        raise InvalidInput("max_share must be above 0")
    f = m.frame
    cap = caps(m, r, ps)
    d = m.imports_t if demand is None else checks.as_float(demand, "demand", 0.0)
    if d <= 0:
        why = (f"{m.importer} imported no {m.net.mineral} in {m.net.year}: give a demand"
               if demand is None else "demand must be above 0 t")
        raise InvalidInput(why)
    if lot > d:
        raise InvalidInput(f"min_lot_t {lot:,.1f} t is above the demand of {d:,.1f} t")
    codes = list(f["supplier"])
    index = {c: n for n, c in enumerate(codes)}

    def position(name: str, what: str) -> int:
        code = resolve.country(checks.as_name(name, what))
        if code not in index:
            raise InvalidInput(f"{code} is not a supplier of {m.net.mineral} in {m.net.year} "
                               "(no exports or production in the data)")
        return index[code]

    excluded = np.zeros(len(codes), dtype=bool)
    for name in checks.as_names(exclude, "exclude") or []:
        excluded[position(name, "exclude")] = True
    bans = bans_in_force(m.importer, m.net.mineral, m.net.year,
                         None if m.net.stage == HEADLINE else m.net.stage)
    banned = {c: e for c, e in bans.items() if c in index}
    for code in banned:
        excluded[index[code]] = True
    required = np.zeros(len(codes))
    for name, tonnes in checks.as_mapping(require, "require").items():
        required[position(name, "require")] = checks.as_float(tonnes, f"required tonnes of "
                                                              f"{name}", 0.0)
    clash = [c for c in banned if required[index[c]] > 0]
    if clash:
        raise InvalidInput(f"{', '.join(clash)} cannot be required: its export ban to "
                           f"{m.importer} ({', '.join(banned[c] for c in clash)}) is in force "
                           f"in {m.net.year}")
    alive = ~excluded & (cap > 0)
    if not alive.any():
        raise InvalidInput("every supplier is excluded or has nothing to ship")
    today = f["exports_to_importer_t"].to_numpy(float)
    price = f["price_usd_per_kg"].to_numpy(float)
    world = np.nanmean(price) if np.isfinite(price).any() else 1.0
    price = np.where(np.isfinite(price), price, world)
    reference = float(price @ today / today.sum()) if today.sum() > 0 else float(world)
    own, upstream = (("restriction_odds", "upstream_odds") if measure == "odds"
                     else ("governance_risk", "upstream_risk"))
    risk = f[own].to_numpy(float)
    if origin_adjusted:  # the supplier restricts, or its own suppliers restrict it
        risk = 1.0 - (1.0 - risk) * (1.0 - f[upstream].to_numpy(float))
    inputs = Sourcing(
        suppliers=np.array(codes), risk=risk, price=price,
        cap_t=cap, demand_t=d, max_share=share_cap, required_t=required, excluded=excluded,
        reference_price=reference, min_lot_t=lot, max_suppliers=most)
    blocked = contradiction(inputs, f"t {m.net.basis}")
    if blocked is not None:
        raise InvalidInput(f"no supplier mix meets the request: {blocked}")
    china = index.get(CHINA)
    return Request(m, inputs, today, china, f["china_origin_share"].to_numpy(float), {
        "redirectable": r, "production_share": ps, "max_share": share_cap,
        "risk_measure": measure, "min_lot_t": lot or None, "max_suppliers": most,
        "exclude": [codes[j] for j in np.flatnonzero(excluded)],
        "bans_in_force": banned,
        "require": {codes[j]: float(required[j]) for j in np.flatnonzero(required)},
        "origin_adjusted": bool(origin_adjusted),
        "reference_price_usd_per_kg": reference})


def bans_in_force(importer: str, mineral: str, year: int, stage: str | None = None
                  ) -> dict[str, str]:
    """Suppliers whose documented export ban covers ``mineral`` (at ``stage``, any stage if
    None) to ``importer`` (or to everyone) in ``year``: supplier -> event id. A mix never
    counts on them (licences and quotas, which still let some trade through, are not bans).

    Examples
    --------
    >>> bans_in_force("USA", "antimony", 2024)
    {'CHN': 'chn-us-ban-2024'}
    >>> bans_in_force("USA", "antimony", 2023)
    {}
    """
    table = get_store().table("events")
    covers = (table["kind"].eq("ban")
              & table["minerals"].map(lambda ms: mineral in list(ms))
              & table["targets"].map(lambda ts: not len(ts) or importer in list(ts))
              & table["stage"].map(lambda ss: stage is None or stage in list(ss))
              & in_force_in(table, year))
    hit = table[covers.to_numpy()]
    return dict(zip(hit["supplier"].astype(str), hit["id"].astype(str), strict=True))


def optimise(importer: str, mineral: str, year: int | None = None, stage: str | None = None,
             demand: float | None = None, max_share: float | None = None,
             exclude: Sequence[str] | str | None = None,
             require: Mapping[str, float] | None = None, redirectable: float = REDIRECTABLE,
             production_share: float = 0.0,
             weights: Mapping[str, float] | Weights | None = None,
             origin_adjusted: bool = True, risk_measure: str = "odds",
             min_lot_t: float | None = None, max_suppliers: int | None = None,
             time_limit_s: float = TIME_LIMIT_S, mip_gap: float = MIP_GAP) -> Portfolio:
    """The supplier mix that minimises a weighted sum of governance risk, concentration and
    cost, within what each supplier could ship.

    When no mix meets the demand (the caps, the share cap, the exclusions, the minimum lot
    or the most number of suppliers leave too little), the answer is the mix that delivers
    the most, the least risky at that level, with status ``infeasible: shortfall``,
    ``shortfall_t`` and the ``binding`` constraints: each is measured by solving again with
    it alone lifted (the tonnes it would add), so that it holds with a minimum lot or a
    most number of suppliers too, where a linear programme's duals do not exist. The
    added tonnes do not add up: constraints can bind together.

    Parameters
    ----------
    importer : str
        Country or group (as one importer).
    mineral : str
    year, stage
        As in :func:`critmin.restrict`.
    demand : float, optional
        Tonnes on the mineral's basis (default: the importer's current imports).
    max_share : float, optional
        Largest share of the demand any one supplier may have.
    exclude : str or list of str, optional
        Suppliers left out.
    require : dict, optional
        Required partners and their minimum tonnes, e.g. ``{"AUS": 500}``.
    redirectable : float
        Share of each supplier's exports to others it could redirect (default 0.1); each
        supplier's cap is what it ships the importer now plus that share.
    production_share : float
        Share of a supplier's production it could add to its cap (default 0).
    weights : dict, optional
        ``risk`` (governance risk of the mix, 0-1), ``concentration`` (HHI of the mix, 0-1),
        ``cost`` (unit value of the mix over today's); default 1, 1, 0.
    origin_adjusted : bool
        A supplier's risk is the chance that it, or its own suppliers, restrict:
        ``1 - (1 - g_j)(1 - u_j)`` with ``u_j`` the risk embodied in its imported supply
        (default), so a re-exporter of Chinese material carries China's risk. False: its own
        risk only.
    risk_measure : str
        ``odds`` (default): a supplier's risk is its yearly odds of a new export restriction
        of the mineral (:func:`critmin.hazards`); ``governance``: its governance risk (WGI
        political stability, the GeoPolRisk input).
    min_lot_t : float, optional
        Least tonnes a supplier in the mix ships: each gets 0 or at least this (a required
        partner at least the larger of its required tonnes and the lot).
    max_suppliers : int, optional
        Most suppliers in the mix. With either, the programme is mixed-integer
        (:mod:`critmin.optimiser.mip`).
    time_limit_s : float
        Seconds each mixed-integer solve may take (default 30); past it the best mix found
        is returned with status ``time limit: best mix found (gap …)``, or
        :class:`critmin.SolverError` is raised when none was found.
    mip_gap : float
        Relative gap to the optimum at which a mixed-integer solve stops (default 1e-6).

    Returns
    -------
    Portfolio
        ``portfolio`` per supplier, ``before`` / ``after`` metrics, ``status``,
        ``shortfall_t`` and ``binding`` (with a shortfall), ``mip_gap``.

    Raises
    ------
    InvalidInput
        A request that contradicts itself (a required partner excluded or above its cap,
        required volumes above the demand, a minimum lot above the demand, …).
    SolverError
        HiGHS failed, or stopped at its time limit before finding any mix.

    Examples
    --------
    >>> p = critmin.optimise("IND", "lithium", 2023, max_share=0.4)
    >>> bool(p.portfolio["share"].max() <= 0.4 + 1e-9)
    True
    >>> lots = critmin.optimise("IND", "lithium", 2023, min_lot_t=50, max_suppliers=4)
    >>> bool((lots.portfolio.query("tonnes > 0")["tonnes"] >= 50 - 1e-6).all())
    True
    >>> short = critmin.optimise("IND", "lithium", 2023, demand=5e5, exclude="CHN")
    >>> short.status, short.shortfall_t > 0
    ('infeasible: shortfall', True)
    """
    w = parse_weights(weights)
    limit = checks.as_float(time_limit_s, "time_limit_s")
    if limit <= 0:
        raise InvalidInput(f"time_limit_s must be above 0 s, not {limit:g}")
    gap = checks.as_float(mip_gap, "mip_gap", 0.0, 0.5)
    req = _request(importer, mineral, year, stage, demand, max_share,
                   checks.as_names(exclude, "exclude"), require, redirectable, production_share,
                   origin_adjusted, risk_measure, min_lot_t, max_suppliers)
    m = req.market
    unit = f"t {m.net.basis}"
    inp = req.inputs
    clock = _Clock(limit)
    reach = _most(inp, clock.left())
    most = min(float(reach.objective), 1.0)
    shortfall, binding = 0.0, []
    if most < 1.0 - 1e-9:
        delivered = most * inp.demand_t
        if delivered <= 1e-9 * inp.demand_t:
            raise InvalidInput(f"no supplier mix delivers anything: {_nothing(inp, unit)}")
        shortfall = inp.demand_t - delivered
        binding = _binding(req, most, clock, unit)
        # the best mix of what can be delivered: the same programme with the delivered
        # tonnes as demand and the share cap in tonnes of the original demand
        inp = replace(inp, cap_t=np.minimum(inp.cap_t, inp.max_share * inp.demand_t),
                      demand_t=delivered * (1 - 1e-9), max_share=1.0)
    model = build_model(inp, w)
    if shortfall > 0 and not model.mixed_integer:
        # every supplier ships all it may: the one mix that delivers the most (the QP over
        # a single point only trips the solver)
        shares = model.upper / model.upper.sum()
        solution = Solution(shares, float(mix_metrics(inp, shares, w, None)["objective"]),
                            "Optimal", optimal=True)
    else:
        solution = solve(model, max(clock.left(), MIX_SHARE * limit), gap)
    if not solution.usable:
        raise SolverError(f"the solver found no mix ({solution.status})",
                          details={"status": solution.status})
    today_share = req.today / req.today.sum() if req.today.sum() > 0 else req.today
    frame = pd.DataFrame(read_result(inp, solution.shares))
    frame["cap_t"] = req.inputs.cap_t
    frame["today_t"] = req.today
    frame["today_share"] = today_share
    frame["risk"] = inp.risk
    frame["price_usd_per_kg"] = inp.price
    frame["surplus_t"] = m.frame["surplus_t"].to_numpy(float)
    keep = (frame["tonnes"] > 1e-9 * inp.demand_t) | (frame["today_t"] > 0)
    frame = frame[keep].sort_values("tonnes", ascending=False)
    chosen = frame.loc[frame["tonnes"] > 1e-9 * inp.demand_t, "supplier"].astype(str)
    cover = of_suppliers(m.net, list(chosen)).require(f"a supplier mix for {m.importer}")
    notes = [*m.net.notes, cap_note(m, req.inputs.cap_t, req.parameters["redirectable"])]
    if solution.status.startswith("fallback"):
        notes.append(f"the QP solver failed; the mix is the exact optimum from the optimality "
                     f"(KKT) conditions instead ({solution.status})")
    if solution.gap is not None:
        notes.append(_integer_note(inp, solution, unit))
    for supplier, event in req.parameters["bans_in_force"].items():
        notes.append(f"{supplier} excluded: its export ban to {m.importer} ({event}) is in force "
                     f"in {m.net.year}")
    if req.inputs.demand_t != m.imports_t:
        notes.append(f"demand {req.inputs.demand_t:,.1f} t against imports of "
                     f"{m.imports_t:,.1f} t today: 'before' describes today's mix")
    status = solution.status.lower()
    if shortfall > 0:
        status = "infeasible: shortfall" + ("" if status == "optimal" else f"; {status}")
        if not reach.optimal:  # the most deliverable is the best found, not proven
            status += f"; deliverable {reach.status.lower()}"
    return Portfolio(
        importer=m.importer, mineral=m.net.mineral, year=m.net.year, stage=m.net.stage,
        basis=m.net.basis, demand_t=req.inputs.demand_t, weights=vars(w).copy(),
        portfolio=schema.select("portfolio", frame.reset_index(drop=True)),
        before=mix_metrics(inp, today_share, w, req.china, req.china_origin),
        after=mix_metrics(inp, solution.shares, w, req.china, req.china_origin),
        status=status, parameters={**req.parameters, "time_limit_s": limit, "mip_gap": gap},
        notes=notes, coverage=cover, shortfall_t=shortfall, binding=binding,
        mip_gap=solution.gap)


MIX_SHARE = 0.1
"""The least share of the time limit the final mix's solve gets, even when working out the
most deliverable and what binds used the rest."""


@dataclass
class _Clock:
    """The time left of a request's limit."""

    limit_s: float
    start: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        """Seconds left (0 once the limit has passed)."""
        return max(self.limit_s - (time.monotonic() - self.start), 0.0)


def _deliverable(inp: Sourcing, time_limit_s: float) -> float:
    """The largest share of the demand any mix can deliver (1 when it can all be met)."""
    return min(float(_most(inp, time_limit_s).objective), 1.0)


def _most(inp: Sourcing, time_limit_s: float) -> Solution:
    """The mix that delivers the most of the demand (:func:`deliverable`), or SolverError."""
    most = deliverable(build_model(inp, Weights()), time_limit_s)
    if not most.usable:
        raise SolverError(f"the solver could not find how much can be delivered "
                          f"({most.status})", details={"status": most.status})
    return most


def _nothing(inp: Sourcing, unit: str) -> str:
    """Why nothing at all can be delivered (a minimum lot above every supplier's cap)."""
    eligible = (inp.cap_t > 0) if inp.excluded is None else (~inp.excluded & (inp.cap_t > 0))
    largest = float(np.minimum(inp.cap_t, inp.max_share * inp.demand_t)[eligible].max())
    return (f"the minimum lot of {inp.min_lot_t:,.1f} {unit} is above what any supplier can "
            f"ship (at most {largest:,.1f} {unit}): lower the minimum lot")


def _binding(req: Request, most: float, clock: _Clock, unit: str) -> list[dict[str, Any]]:
    """The constraints behind a shortfall: the caps (what the eligible suppliers could ship
    in all), then each other constraint that, lifted alone, would deliver more, with the
    tonnes it would add (by solving again without it, in the time left of the request; one
    reached after the limit is listed as not assessed)."""
    inp, p = req.inputs, req.parameters
    d = inp.demand_t
    codes = list(inp.suppliers)
    excluded = np.zeros(len(codes), dtype=bool) if inp.excluded is None else inp.excluded
    eligible = ~excluded & (inp.cap_t > 0)
    within = np.minimum(inp.cap_t, inp.max_share * d)[eligible].sum()
    caps = (f"caps of the {int(eligible.sum())} eligible suppliers: "
            f"{inp.cap_t[eligible].sum():,.1f} {unit} in total")
    if inp.max_share < 1:
        caps += f", {within:,.1f} {unit} within the share cap"
    caps += (f" (today's shipments plus {p['redirectable']:.0%} of other exports and "
             f"{p['production_share']:.0%} of production, within each supplier's surplus)")
    out: list[dict[str, Any]] = [{"constraint": "caps", "detail": caps, "added_t": None}]
    lifted: list[tuple[str, str, Sourcing]] = []
    if inp.max_share < 1:
        lifted.append(("max_share", f"max share {inp.max_share:.0%} per supplier "
                       f"({inp.max_share * d:,.1f} {unit} each)", replace(inp, max_share=1.0)))
    bans = p["bans_in_force"]
    for code in p["exclude"]:
        j = codes.index(code)
        if inp.cap_t[j] <= 0:
            continue
        back = excluded.copy()
        back[j] = False
        why = (f"{code} excluded by its export ban ({bans[code]})" if code in bans
               else f"{code} excluded")
        lifted.append((f"exclude:{code}", why, replace(inp, excluded=back)))
    if inp.max_suppliers is not None:
        lifted.append(("max_suppliers", f"max suppliers {inp.max_suppliers}",
                       replace(inp, max_suppliers=None)))
    if inp.min_lot_t > 0:
        lifted.append(("min_lot_t", f"minimum lot {inp.min_lot_t:,.1f} {unit}",
                       replace(inp, min_lot_t=0.0)))
    for name, detail, relaxed in lifted:
        if clock.left() <= 0:
            out.append({"constraint": name, "added_t": None,
                        "detail": f"{detail}: not assessed (the time limit was reached)"})
            continue
        added = (_deliverable(relaxed, clock.left()) - most) * d
        if added > 1e-9 * d:
            out.append({"constraint": name, "added_t": added,
                        "detail": f"{detail}: lifting it would add {_tonnes(added)} {unit}"})
    return out


def _tonnes(x: float) -> str:
    """Tonnes for a sentence: one decimal, or two significant digits below 0.05 t.

    >>> _tonnes(5014.418), _tonnes(0.000427)
    ('5,014.4', '0.00043')
    """
    return f"{x:,.1f}" if x >= 0.05 else f"{x:.2g}"


def _integer_note(inp: Sourcing, solution: Solution, unit: str) -> str:
    """What the mixed-integer solve was asked and achieved."""
    asked = [f"a minimum lot of {inp.min_lot_t:,.1f} {unit}"] if inp.min_lot_t > 0 else []
    if inp.max_suppliers is not None:
        asked.append(f"at most {inp.max_suppliers} suppliers")
    return (f"{' and '.join(asked)}: a mixed-integer programme (HiGHS, the concentration term "
            "by outer approximation), "
            f"{'solved' if solution.optimal else 'stopped'} with a relative gap of "
            f"{solution.gap or 0.0:.2g} to the optimum")


@dataclass
class Frontier:
    """Portfolios for a sweep of weights between governance risk and cost."""

    importer: str
    mineral: str
    year: int
    basis: str
    table: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {"importer": self.importer, "mineral": self.mineral, "year": self.year,
                "basis": self.basis, "points": records(self.table)}


def frontier(importer: str, mineral: str, year: int | None = None, stage: str | None = None,
             points: int = 20, concentration: float = 1.0, demand: float | None = None,
             max_share: float | None = None, exclude: Sequence[str] | str | None = None,
             require: Mapping[str, float] | None = None, redirectable: float = REDIRECTABLE,
             production_share: float = 0.0, origin_adjusted: bool = True,
             risk_measure: str = "odds", min_lot_t: float | None = None,
             max_suppliers: int | None = None, time_limit_s: float = TIME_LIMIT_S,
             mip_gap: float = MIP_GAP) -> Frontier:
    """The risk-cost frontier: optimal mixes as the weight moves from governance risk
    (``cost`` 0) to cost (``risk`` 0), with ``concentration`` fixed.

    Parameters
    ----------
    importer, mineral, year, stage
        As in :func:`optimise`.
    points : int
        Portfolios along the frontier (default 20).
    concentration : float
        Weight of concentration, the same at every point (default 1).
    demand, max_share, exclude, require, redirectable, production_share, origin_adjusted
        As in :func:`optimise`.
    risk_measure, min_lot_t, max_suppliers, time_limit_s, mip_gap
        As in :func:`optimise`; a demand that no mix can meet is refused here (the
        frontier of a shortfall is not drawn: :func:`optimise` gives its best mix).

    Returns
    -------
    Frontier
        ``table``: one row per point (weights, the mix's risk, HHI, unit cost, China's
        share).

    Examples
    --------
    >>> f = critmin.frontier("IND", "lithium", 2023, points=5)
    >>> cost = f.table["unit_cost_usd_per_kg"]
    >>> bool(cost.iloc[-1] <= cost.iloc[0])
    True
    """
    n = checks.as_int(points, "points", minimum=2, maximum=200)
    c = checks.as_float(concentration, "concentration", 0.0)
    limit = checks.as_float(time_limit_s, "time_limit_s")
    if limit <= 0:
        raise InvalidInput(f"time_limit_s must be above 0 s, not {limit:g}")
    gap = checks.as_float(mip_gap, "mip_gap", 0.0, 0.5)
    req = _request(importer, mineral, year, stage, demand, max_share,
                   checks.as_names(exclude, "exclude"), require, redirectable, production_share,
                   origin_adjusted, risk_measure, min_lot_t, max_suppliers)
    unit = f"t {req.market.net.basis}"
    most = _deliverable(req.inputs, limit)
    if most < 1.0 - 1e-9:
        why = infeasible(req.inputs, unit) or (
            f"the most any mix can deliver is {most * req.inputs.demand_t:,.1f} {unit}, below "
            f"the demand of {req.inputs.demand_t:,.1f} {unit}")
        raise InvalidInput(f"no supplier mix meets the request: {why} (the optimiser gives "
                           "the best mix and the shortfall)")
    rows = []
    for alpha in np.linspace(0.0, 1.0, n):
        w = Weights(risk=1.0 - alpha, concentration=c, cost=alpha)
        solution = solve(build_model(req.inputs, w), limit, gap)
        if not solution.usable:
            raise SolverError(f"the solver found no mix at cost weight {alpha:.2f} "
                              f"({solution.status})", details={"status": solution.status})
        metrics = mix_metrics(req.inputs, solution.shares, w, req.china, req.china_origin)
        rows.append({"cost_weight": alpha, "risk_weight": 1.0 - alpha, **metrics,
                     "suppliers": int((solution.shares > 0.005).sum()),
                     "status": solution.status.lower()})
    m = req.market
    table = schema.select("frontier", pd.DataFrame(rows))
    return Frontier(m.importer, m.net.mineral, m.net.year, m.net.basis, table)
