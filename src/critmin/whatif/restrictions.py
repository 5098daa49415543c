"""Export restrictions on real data: what a supplier withholding exports of a mineral (or
losing production) does to every country's supply, first order and through the cascade, and
to the minerals recovered from it as by-products.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, numbers, resolve, schema
from critmin.coverage import Coverage, of_suppliers
from critmin.errors import InvalidInput
from critmin.present import records
from critmin.scenarios import byproducts as coupling
from critmin.scenarios import cascade as engine
from critmin.store import get_store
from critmin.trade_network import (
    HEADLINE,
    MineralNetwork,
    Parties,
    label_of,
    network,
    parties,
    required_parties,
)
from critmin.whatif.registries import event_cut, event_inputs

NEGLIGIBLE = 1e-4
"""A by-product loss below this share of the companion's world production is not run."""

UNATTRIBUTED = "unattributed"
"""The ``country`` of the row holding loss that no country absorbs."""

UNATTRIBUTED_SHARE = 1e-6
"""Unattributed tonnes at or below this share of the shock (the bound the mass balance is
checked to) get no row; the balance gives them all the same."""


@dataclass
class Restriction:
    """What a restriction does to every country's supply of one mineral."""

    mineral: str
    year: int
    stage: str
    basis: str
    suppliers: list[str]
    cut: float
    targets: list[str] | None
    shock: str
    """``exports`` (the suppliers withhold exports) or ``production`` (they lose output)."""
    parameters: dict[str, Any]
    countries: pd.DataFrame
    """One row per country (and per group named): supply, first-order and final loss, stock
    drawn, tonnes re-routed, withheld share of its exports, first round hit."""
    rounds: int
    converged: bool
    balance: dict[str, float]
    notes: list[str]
    event: dict[str, Any] | None = None
    by_products: list[Restriction] = field(default_factory=list)
    host: str | None = None
    """For a by-product result: the host mineral whose shortfall caused it."""
    coverage: Coverage | None = None
    """Share of the suppliers' known output the network's exports represent."""

    def summary(self) -> str:
        """A few lines for people."""
        who = label_of(self.suppliers)
        where = "" if self.targets is None else f" to {label_of(self.targets)}"
        stage = "headline stages" if self.stage == HEADLINE else f"{self.stage} stage"
        t, pct = numbers.tonnes, numbers.share
        shock = t(self.balance["initial_shock_t"], f"t {self.basis}")
        if self.host is not None:
            head = f"{self.mineral} recovered from {self.host}: {shock} of production lost"
        elif self.shock == "production":
            one = len(self.suppliers) == 1
            head = (f"{who} lose{'s' if one else ''} {pct(self.cut)} of "
                    f"{'its' if one else 'their'} {self.mineral} production ({stage}, "
                    f"{self.year}): {shock}")
        else:
            head = (f"{who} withhold{'s' if len(self.suppliers) == 1 else ''} {pct(self.cut)} "
                    f"of {self.mineral} exports{where} ({stage}, {self.year}): {shock} withheld")
        hit = self.countries.dropna(subset=["loss_share"])
        hit = hit[(hit["loss_t"] > 0) & (hit["country"] != UNATTRIBUTED)]
        hit = hit.sort_values("loss_t", ascending=False).head(5)
        names = resolve.country_names()
        worst = "; ".join(
            f"{names.get(c, c)} {pct(s)} of supply ({pct(f)} first order)"
            for c, s, f in zip(hit["country"], hit["loss_share"], hit["loss_share_first_order"],
                               strict=True))
        lines = [head, f"largest losses: {worst}" if worst else "no country loses supply"]
        over = hit[hit["loss_share_first_order"] > 1]
        if len(over):
            lines.append(above_supply_note(
                {str(names.get(c, c)): float(f) for c, f in zip(
                    over["country"], over["loss_share_first_order"], strict=True)},
                who, "first-order loss"))
        b = self.balance
        lines.append(f"cascade: {self.rounds} round(s){'' if self.converged else ', not converged'}; "
                     f"consumption loss {t(b['lost_t'])}, from stocks "
                     f"{t(b['stock_drawn_t'])}, substituted {t(b['rerouted_t'])}"
                     + (f", unattributed {t(b['unattributed_t'])}"
                        if b.get("unattributed_t", 0.0) >= 0.5 else "")
                     + f"; passed on {t(b['passed_on_t'])} (not counted as loss)")
        if b.get("retained_t", 0.0) > 0:
            covered = b.get("covered_by_withheld_t", 0.0)
            s = "s" if len(self.suppliers) == 1 else ""
            lines.append(f"{who} keep{s} {t(b['retained_t'])} of what "
                         f"{'it' if s else 'they'} withhold{s}"
                         + (f" ({t(covered)} more cover the loss the cascade brings back)"
                            if covered >= 0.5 else ""))
        if self.coverage is not None:
            lines.append(self.coverage.line(who))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "mineral": self.mineral, "year": self.year, "stage": self.stage,
            "basis": self.basis, "suppliers": self.suppliers, "cut": self.cut,
            "coverage": None if self.coverage is None else self.coverage.to_dict(),
            "targets": self.targets, "shock": self.shock, "host": self.host,
            "parameters": self.parameters, "rounds": self.rounds, "converged": self.converged,
            "balance": self.balance, "countries": records(self.countries),
            "units": self.countries.attrs.get("units", {}), "notes": self.notes,
            "event": self.event, "by_products": [b.to_dict() for b in self.by_products],
        }


def above_supply_note(shares: Mapping[str, float], who: str, what: str) -> str:
    """Why a loss exceeds 100 % of a country's supply: supply is net of exports
    (P + M - X), so a country that exports again part of what it imports or produces can
    receive more from the restricting suppliers than it keeps. ``shares``: country -> loss
    share.

    >>> above_supply_note({"South Korea": 1.111}, "China", "first-order loss")[:60]
    'first-order loss above 100 % of supply (South Korea 111.1 %)'
    """
    listed = ", ".join(f"{name} {numbers.share(x)}" for name, x in shares.items())
    one = len(shares) == 1
    return (f"{what} above 100 % of supply ({listed}): what {who} ships "
            f"{'it' if one else 'each of them'} exceeds its net supply (production + imports "
            f"- exports), because {'it' if one else 'each'} exports again part of what it "
            "imports or produces; the cascade passes the excess on to its customers")


def cascade_params(cascade: bool, stock_buffer: Any, spare_capacity: Any, absorb: Any
                   ) -> engine.Params:
    """How countries respond to a shock, from the user's options, checked."""
    return engine.Params(
        stock_buffer=checks.as_float(stock_buffer, "stock_buffer", 0.0, 100.0),
        spare_capacity=checks.as_fraction(spare_capacity, "spare_capacity"),
        absorb=None if absorb is None else checks.as_fraction(absorb, "absorb"),
        cascade=checks.as_bool(cascade, "cascade"),
    )


def _table(net: MineralNetwork, out: engine.Outcome, groups: Mapping[str, list[str]],
           keep_all: bool = False) -> pd.DataFrame:
    """The per-country rows of one scenario (row 0 of ``out``), groups added as one."""
    frame = pd.DataFrame({
        "country": net.network.countries.astype(str),
        "supply_t": out.supply_t[0], "first_order_loss_t": out.first_order_loss_t[0],
        "loss_t": out.loss_t[0], "stock_drawn_t": out.stock_drawn_t[0],
        "rerouted_t": out.rerouted_t[0], "withheld_share": out.withheld_share[0],
        "passed_on_t": out.passed_on_t[0], "retained_t": out.retained_t[0],
        "first_round": out.first_round[0],
    })
    index = {c: n for n, c in enumerate(frame["country"])}
    sums = ["supply_t", "first_order_loss_t", "loss_t", "stock_drawn_t", "rerouted_t",
            "passed_on_t", "retained_t"]
    rows = []
    for label, members in groups.items():
        at = [index[m] for m in members if m in index]
        part = frame.iloc[at]
        hit = part.loc[part["first_round"] > 0, "first_round"]
        rows.append({"country": label, **part[sums].sum().to_dict(),
                     "withheld_share": np.nan,
                     "first_round": int(hit.min()) if len(hit) else 0})
    if rows:
        frame = pd.concat([pd.DataFrame(rows), frame], ignore_index=True)
    frame["loss_share"] = engine.share_of(frame["loss_t"].to_numpy(), frame["supply_t"]
                                           .to_numpy())
    frame["loss_share_first_order"] = engine.share_of(frame["first_order_loss_t"].to_numpy(),
                                                       frame["supply_t"].to_numpy())
    hub = frame["country"].isin(set(net.network.countries[out.hub].astype(str)))
    frame["note"] = np.select(
        [hub & (frame["passed_on_t"] > 0), frame["supply_t"] <= 0,
         frame["loss_share_first_order"] > 1],
        ["a re-exporter: passes its loss on to its customers before absorbing any",
         "no positive supply (exports exceed production plus imports): no share",
         "first-order loss exceeds its own supply: a transit hub, whose excess the cascade "
         "passes on"], default="")
    frame["first_round"] = frame["first_round"].astype("Int32")
    if not keep_all:
        relevant = (frame["first_order_loss_t"] > 0) | (frame["loss_t"] > 0) | (
            frame["passed_on_t"] > 0) | (frame["retained_t"] > 0) | frame["country"].isin(
            list(groups))
        frame = frame[relevant]
    is_group = frame["country"].isin(list(groups))
    frame = frame.assign(_g=~is_group).sort_values(["_g", "loss_t"], ascending=[True, False])
    frame = frame.drop(columns="_g").reset_index(drop=True)
    left = _unattributed_row(net, out)
    if not left.empty:
        frame = pd.concat([frame, left], ignore_index=True)
    return schema.select("scenario", frame)


def _unattributed_row(net: MineralNetwork, out: engine.Outcome) -> pd.DataFrame:
    """The loss no country absorbs, as one row after the countries (none when nil)."""
    left = out.unattributed_t[0]
    scale = max(1.0, float(out.initial_shock_t[0]))
    if left.sum() <= UNATTRIBUTED_SHARE * scale:
        return pd.DataFrame()
    where = np.argsort(-left)[:3]
    known = resolve.country_names()
    codes = [str(net.network.countries[i]) for i in where if left[i] > 0]
    names = ", ".join(known.get(c, c) for c in codes)
    return pd.DataFrame([{
        "country": UNATTRIBUTED, "supply_t": np.nan, "first_order_loss_t": 0.0,
        "loss_share_first_order": np.nan, "loss_t": float(left.sum()), "loss_share": np.nan,
        "stock_drawn_t": 0.0, "rerouted_t": 0.0, "withheld_share": np.nan,
        "passed_on_t": 0.0, "retained_t": 0.0, "first_round": pd.NA,
        "note": (f"loss no country can take: beyond the use of countries that cannot pass it "
                 f"on (first order, or still moving between re-exporters when the rounds "
                 f"stopped), mostly at {names}; not any country's consumption loss"),
    }]).astype({"first_round": "Int32"})


def _balance(out: engine.Outcome) -> dict[str, float]:
    """initial shock = lost + from stocks + substituted + unattributed + covered by withheld
    (``residual_t`` is rounding); passed on and retained are shown beside it."""
    return {
        "initial_shock_t": float(out.initial_shock_t[0]), "lost_t": float(out.loss_t[0].sum()),
        "stock_drawn_t": float(out.stock_drawn_t[0].sum()),
        "rerouted_t": float(out.rerouted_t[0].sum()),
        "unattributed_t": float(out.unattributed_t[0].sum()),
        "covered_by_withheld_t": float(out.offset_t[0].sum()),
        "residual_t": float(out.balance_residual_t[0]),
        "passed_on_t": float(out.passed_on_t[0].sum()),
        "retained_t": float(out.retained_t[0].sum()),
    }


def restrict(supplier: Sequence[str] | str | None = None, mineral: str | None = None,
             year: int | None = None, cut: float | None = None,
             targets: Sequence[str] | str | None = None, stage: str | None = None,
             cascade: bool = True, stock_buffer: float = 0.0, spare_capacity: float = 0.0,
             absorb: float | None = None, production: bool = False, by_products: bool = False,
             event: str | None = None, as_announced: bool = False) -> Restriction:
    """What happens when a supplier restricts exports of a mineral (or loses production).

    Parameters
    ----------
    supplier : str or list of str
        The restricting country or countries (names, ISO3, groups).
    mineral : str
        The mineral (for an event: one of its minerals; default its first).
    year : int, optional
        The trade year the restriction is applied to (default: the latest complete year).
    cut : float, optional
        Share of the supplier's exports withheld, in [0, 1] (default 1; for an event its
        documented cut or its kind's default).
    targets : str or list of str, optional
        Importers the restriction applies to (countries or groups); default every importer.
    stage : str, optional
        Restrict one stage only (``ore``, ``refined``, ``product``…); default the headline
        stages together.
    cascade : bool
        Let hit countries pass their loss on by withholding their own exports (default).
    stock_buffer : float
        Accessible stocks, as a share of each country's apparent supply (default 0).
    spare_capacity : float
        Substitution: other suppliers may raise exports by up to this share of their
        production (default 0).
    absorb : float, optional
        Share of a deficit absorbed by consumption (default: in proportion to domestic use
        and exports).
    production : bool
        The supplier loses ``cut`` of its production instead of withholding exports.
    by_products : bool
        Also run the minerals recovered from this one (``byproducts`` registry).
    event : str, optional
        A documented export-control event (``critmin.events()``): supplier, stage, targets
        and cut come from it. An event that never took effect (announced, or suspended
        before its effective date) cuts nothing, and one lifted or suspended after it took
        effect cuts only on the years it was in force; a note says so.
    as_announced : bool
        Run such an event as announced all the same (default False).

    Returns
    -------
    Restriction
        ``countries`` per country and group, ``summary()``, ``to_dict()``.

    Examples
    --------
    >>> r = critmin.restrict("CHN", "graphite", 2023, cut=0.5, targets="USA", cascade=False)
    >>> row = r.countries.set_index("country").loc["USA"]
    >>> bool(abs(row["loss_t"] - row["first_order_loss_t"]) < 1e-9)
    True
    """
    production = checks.as_bool(production, "production")
    by_products = checks.as_bool(by_products, "by_products")
    as_announced = checks.as_bool(as_announced, "as_announced")
    checks.as_bool(cascade, "cascade")
    info = None
    if event is not None:
        info, supplier, mineral, stage, targets = event_inputs(
            event, supplier, mineral, stage, targets)
    if supplier is None or mineral is None:
        raise InvalidInput("give a supplier and a mineral (or an event)")
    net = network(mineral, year, stage)
    if info is not None:
        cut_value = event_cut(info, net.year, cut, bool(as_announced))
    else:
        cut_value = 1.0 if cut is None else checks.as_fraction(cut, "cut")
    params = cascade_params(cascade, stock_buffer, spare_capacity, absorb)
    sup = required_parties(supplier, net.year, "supplier")
    tgt = parties(targets, net.year, "targets")
    cover = of_suppliers(net, sup.iso3)
    if not production:
        cover.require(f"an export restriction by {label_of(sup.iso3)}")
    result = _restrict(net, sup, tgt, cut_value, params, production)
    result.coverage = cover
    if info is not None:
        result.event = info["event"]
        result.notes = info["notes"] + result.notes
    if by_products:
        result.by_products = _companions(result, net, params)
    return result


def _restrict(net: MineralNetwork, sup: Parties, tgt: Parties | None, cut_value: float,
              params: engine.Params, production: bool) -> Restriction:
    g = net.network
    mask = g.mask(sup.iso3)
    notes = list(net.notes)
    absent = [c for c in sup.iso3 if c not in set(g.countries)]
    if absent and len(absent) == len(sup.iso3):
        notes.append(f"{label_of(sup.iso3)} recorded no trade or production of {net.mineral} "
                     f"in {net.year}: nothing to restrict")
    target_mask = None if tgt is None else g.mask(tgt.iso3)
    if production:
        out = engine.run(g, np.zeros(g.size), target_mask, cut_value * mask * g.production,
                          params)
    else:
        out = engine.run(g, cut_value * mask, target_mask, None, params)
    if not out.converged[0]:
        notes.append(f"the cascade did not settle within {params.max_rounds} rounds")
    residual = float(out.balance_residual_t[0])
    if abs(residual) > 1e-6 * max(1.0, float(out.initial_shock_t[0])):
        notes.append(f"mass balance off by {residual:,.3f} t: a defect, please report it")
    groups = dict(tgt.groups) if tgt is not None else {}
    frame = _table(net, out, groups)
    return Restriction(
        mineral=net.mineral, year=net.year, stage=net.stage, basis=net.basis,
        suppliers=sup.iso3, cut=cut_value, targets=None if tgt is None else tgt.iso3,
        shock="production" if production else "exports",
        parameters={"stock_buffer": params.stock_buffer, "spare_capacity": params.spare_capacity,
                    "absorb": params.absorb, "cascade": params.cascade,
                    "tolerance": params.tolerance, "max_rounds": params.max_rounds},
        countries=frame, rounds=int(out.rounds[0]), converged=bool(out.converged[0]),
        balance=_balance(out), notes=notes,
    )


def _companions(host: Restriction, host_net: MineralNetwork, params: engine.Params
                ) -> list[Restriction]:
    """The restriction's effect on minerals recovered from its mineral; what cannot be run
    is said in the host's notes."""
    table = get_store().table("byproducts")
    rows = table[table["host"] == host.mineral]
    if rows.empty:
        host.notes.append(f"no mineral is recorded as a by-product of {host.mineral}")
        return []
    g = host_net.network
    shares = pd.Series(0.0, index=g.countries.astype(str))
    shares.update(host.countries.set_index("country")["loss_share"].dropna())
    cut = g.mask(host.suppliers) * host.cut if host.shock == "production" else np.zeros(g.size)
    drop = pd.Series(coupling.host_drop(shares.to_numpy(), cut), index=shares.index)
    out: list[Restriction] = []
    for companion in sorted(set(rows["companion"])):
        mine = rows[rows["companion"] == companion]
        if mine["share"].isna().all():
            host.notes.append(f"{companion}: its dependence on {host.mineral} is not "
                              "quantified (byproducts registry): not coupled")
            continue
        try:
            net = network(companion, host.year)
        except InvalidInput as exc:
            host.notes.append(f"{companion}: {exc}")
            continue
        c = net.network
        codes = list(c.countries.astype(str))
        dependence = dependence_of(table, companion, host.mineral, codes)
        lost = coupling.companion_loss(drop.reindex(codes).fillna(0.0).to_numpy(),
                                       c.production, dependence)
        if lost.sum() <= NEGLIGIBLE * c.production.sum():
            host.notes.append(f"{companion}: no production depending on {host.mineral} is lost "
                              f"(under {NEGLIGIBLE:.2%} of world production)")
            continue
        result = engine.run(c, np.zeros(c.size), None, lost, params)
        item = Restriction(
            mineral=companion, year=net.year, stage=net.stage, basis=net.basis,
            suppliers=host.suppliers, cut=host.cut, targets=host.targets, shock="production",
            parameters=host.parameters, countries=_table(net, result, {}),
            rounds=int(result.rounds[0]), converged=bool(result.converged[0]),
            balance=_balance(result),
            notes=[*net.notes, _dependence_note(table, companion, host.mineral)],
            host=host.mineral)
        out.append(item)
    return out


def dependence_of(table: pd.DataFrame, companion: str, host: str, countries: list[str]
                  ) -> np.ndarray:
    """Per country, the share of the companion's production that depends on the host (NaN:
    not quantified). A country with its own rows for the companion uses only those."""
    mine = table[table["companion"] == companion]
    own = mine[mine["country"].notna() & (mine["country"] != "")]
    world = mine[(mine["country"].isna() | (mine["country"] == "")) & (mine["host"] == host)]
    default = float(world["share"].iloc[0]) if len(world) and world["share"].notna().any() \
        else np.nan
    out = np.full(len(countries), default)
    for n, country in enumerate(countries):
        rows = own[own["country"] == country]
        if len(rows):
            match = rows[rows["host"] == host]
            out[n] = float(match["share"].iloc[0]) if len(match) else 0.0
    return out


def _dependence_note(table: pd.DataFrame, companion: str, host: str) -> str:
    rows = table[(table["companion"] == companion) & (table["host"] == host)]
    parts = [f"{c if isinstance(c, str) and c else 'elsewhere'} {numbers.share(s)}"
             for c, s in zip(rows["country"], rows["share"], strict=True) if pd.notna(s)]
    source = "; ".join(sorted(set(rows["source"])))
    return (f"{companion} production depending on {host}: {', '.join(parts) or 'none'} "
            f"({source})")
