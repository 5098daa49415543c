"""Diversified sourcing on real data: who else could supply an importer, the supplier mix that
minimises restriction risk, concentration and cost, and the risk-cost frontier.

>>> p = critmin.optimise("IND", "lithium", 2023)
>>> bool((p.portfolio["tonnes"] <= p.portfolio["cap_t"] + 1e-6).all())
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, numbers, present, resolve, schema
from critmin.coverage import Coverage, of_suppliers
from critmin.errors import InvalidInput, nearest
from critmin.event_rules import in_force_in
from critmin.metrics.concentration import CHINA
from critmin.optimiser.model import Sourcing, Weights, build_model, infeasible
from critmin.optimiser.result import mix_metrics, read_result
from critmin.optimiser.solve import solve
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

    def summary(self) -> str:
        """A few lines for people."""
        names = resolve.country_names()
        top = self.portfolio[self.portfolio["tonnes"] > 0.005 * self.demand_t].head(6)
        share, number = numbers.share, numbers.number
        mix = ", ".join(f"{names.get(s, s)} {share(x)}" for s, x in zip(top["supplier"],
                                                                        top["share"], strict=True))
        b, a = self.before, self.after
        return "\n".join([
            f"{names.get(self.importer, self.importer)}: {numbers.tonnes(self.demand_t)} "
            f"{self.basis} of {self.mineral} ({self.year}), status {self.status}",
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
            "weights": self.weights, "status": self.status, "before": self.before,
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
             risk_measure: str = "odds") -> Request:
    origin_adjusted = checks.as_bool(origin_adjusted, "origin_adjusted")
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
        reference_price=reference)
    blocked = infeasible(inputs, f"t {m.net.basis}")
    if blocked is not None:
        raise InvalidInput(f"no supplier mix meets the request: {blocked}")
    china = index.get(CHINA)
    return Request(m, inputs, today, china, f["china_origin_share"].to_numpy(float), {
        "redirectable": r, "production_share": ps, "max_share": share_cap,
        "risk_measure": measure,
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
             origin_adjusted: bool = True, risk_measure: str = "odds") -> Portfolio:
    """The supplier mix that minimises a weighted sum of governance risk, concentration and
    cost, within what each supplier could ship.

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
        Largest share any one supplier may have.
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

    Returns
    -------
    Portfolio
        ``portfolio`` per supplier, ``before`` / ``after`` metrics, ``status``.

    Examples
    --------
    >>> p = critmin.optimise("IND", "lithium", 2023, max_share=0.4)
    >>> bool(p.portfolio["share"].max() <= 0.4 + 1e-9)
    True
    """
    w = parse_weights(weights)
    req = _request(importer, mineral, year, stage, demand, max_share,
                   checks.as_names(exclude, "exclude"), require, redirectable, production_share,
                   origin_adjusted, risk_measure)
    inp = req.inputs
    solution = solve(build_model(inp, w))
    if not solution.optimal:
        raise InvalidInput(f"the solver found no optimal mix ({solution.status})")
    today_share = req.today / req.today.sum() if req.today.sum() > 0 else req.today
    frame = pd.DataFrame(read_result(inp, solution.shares))
    frame["today_t"] = req.today
    frame["today_share"] = today_share
    frame["risk"] = inp.risk
    frame["price_usd_per_kg"] = inp.price
    frame["surplus_t"] = req.market.frame["surplus_t"].to_numpy(float)
    keep = (frame["tonnes"] > 1e-9 * inp.demand_t) | (frame["today_t"] > 0)
    frame = frame[keep].sort_values("tonnes", ascending=False)
    m = req.market
    chosen = frame.loc[frame["tonnes"] > 1e-9 * inp.demand_t, "supplier"].astype(str)
    cover = of_suppliers(m.net, list(chosen)).require(f"a supplier mix for {m.importer}")
    notes = [*m.net.notes, cap_note(m, inp.cap_t, req.parameters["redirectable"])]
    if solution.status.startswith("fallback"):
        notes.append(f"the QP solver failed; the mix is the exact optimum from the optimality "
                     f"(KKT) conditions instead ({solution.status})")
    for supplier, event in req.parameters["bans_in_force"].items():
        notes.append(f"{supplier} excluded: its export ban to {m.importer} ({event}) is in force "
                     f"in {m.net.year}")
    if inp.demand_t != m.imports_t:
        notes.append(f"demand {inp.demand_t:,.1f} t against imports of {m.imports_t:,.1f} t "
                     "today: 'before' describes today's mix")
    return Portfolio(
        importer=m.importer, mineral=m.net.mineral, year=m.net.year, stage=m.net.stage,
        basis=m.net.basis, demand_t=inp.demand_t, weights=vars(w).copy(),
        portfolio=schema.select("portfolio", frame.reset_index(drop=True)),
        before=mix_metrics(inp, today_share, w, req.china, req.china_origin),
        after=mix_metrics(inp, solution.shares, w, req.china, req.china_origin),
        status=solution.status.lower(), parameters=req.parameters, notes=notes,
        coverage=cover)


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
             risk_measure: str = "odds") -> Frontier:
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
    req = _request(importer, mineral, year, stage, demand, max_share,
                   checks.as_names(exclude, "exclude"), require, redirectable, production_share,
                   origin_adjusted, risk_measure)
    rows = []
    for alpha in np.linspace(0.0, 1.0, n):
        w = Weights(risk=1.0 - alpha, concentration=c, cost=alpha)
        solution = solve(build_model(req.inputs, w))
        metrics = mix_metrics(req.inputs, solution.shares, w, req.china, req.china_origin)
        rows.append({"cost_weight": alpha, "risk_weight": 1.0 - alpha, **metrics,
                     "suppliers": int((solution.shares > 0.005).sum()),
                     "status": solution.status.lower()})
    m = req.market
    table = schema.select("frontier", pd.DataFrame(rows))
    return Frontier(m.importer, m.net.mineral, m.net.year, m.net.basis, table)
