"""What-if scenarios on real data: export restrictions with their cascade, documented
export-control events, bilateral agreements, and Monte Carlo supply-at-risk.

This module reads the data (the cube's flows on each mineral's basis, production,
governance, the events, agreements and by-product registries), runs the pure functions of
:mod:`critmin.scenarios` and shapes their arrays into tables with units and a short text.

>>> r = critmin.restrict("China", "rare-earths", 2023)
>>> round(float(r.countries.set_index("country").loc["JPN", "loss_share"]), 2)
0.63
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, compute, resolve, schema
from critmin.errors import InvalidInput, NotFound, nearest
from critmin.metrics.geopolrisk import MISSING_RISK
from critmin.present import records
from critmin.scenarios import byproducts as coupling
from critmin.scenarios import cascade as engine
from critmin.scenarios import montecarlo
from critmin.scenarios import pact as pact_mod
from critmin.scenarios.network import Network, collapse, importer_metrics
from critmin.store import Store, get_store

HEADLINE = "headline"
"""The network of a mineral's headline stages (primary supply at and after its production
stage), as in the cube."""

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

NEGLIGIBLE = 1e-4
"""A by-product loss below this share of the companion's world production is not run."""


# -- the network ---------------------------------------------------------------------------

@dataclass(frozen=True)
class MineralNetwork:
    """A mineral's network for one year and stage, with what a reader needs to know."""

    mineral: str
    year: int
    stage: str
    basis: str
    network: Network
    notes: tuple[str, ...] = ()
    export_price: np.ndarray | None = None
    """Unit value of each country's exports, USD per kg on the basis (NaN: none)."""


def _stage(stage: str | None) -> str:
    if stage is None:
        return HEADLINE
    name = checks.as_name(stage, "stage")
    known = (*schema.STAGES, HEADLINE)
    if name not in known:
        raise NotFound(f"unknown stage {name!r}", suggestions=nearest(name, known) or list(known))
    return name


def network(mineral: str, year: int | None = None, stage: str | None = None) -> MineralNetwork:
    """A mineral's trade network: flows between every pair of countries on the mineral's
    basis, and production.

    Parameters
    ----------
    mineral : str
    year : int, optional
        Default: the latest complete year.
    stage : str, optional
        ``ore``, ``intermediate``, ``refined``, ``alloy``, ``scrap`` or ``product``; default
        the headline stages together (as in the cube).

    Returns
    -------
    MineralNetwork

    Examples
    --------
    >>> net = critmin.network("lithium", 2023).network
    >>> bool(net.flows.shape[0] == net.size > 100)
    True
    """
    from critmin.years import check_year

    store = get_store()
    slug = resolve.mineral(checks.as_name(mineral, "mineral"))
    return _network(store.fingerprint, slug, check_year(store, year), _stage(stage))


@lru_cache(maxsize=16)
def _network(fingerprint: str, mineral: str, year: int, stage: str) -> MineralNetwork:
    store = get_store()
    links = compute.load(store, "partners", years=[year], minerals=[mineral])
    links = links[(links["stage"] == stage) & (links["qty_basis_t"] > 0)]
    if links.empty:
        raise InvalidInput(_no_trade(store, mineral, year, stage))
    notes: list[str] = []
    if stage == HEADLINE:
        rows = compute.load(store, "cube", years=[year], minerals=[mineral])
        production = rows.set_index("country")["production_t"]
    else:
        rows = compute.load(store, "stages", years=[year], minerals=[mineral])
        production = rows[rows["stage"] == stage].set_index("country")["production_t"]
        if production.notna().sum() == 0:
            notes.append(f"no production is reported at the {stage} stage: each country's "
                         "supply is its net imports, so exporters' loss shares are withheld")
    production = production.fillna(0.0)
    production = production[production > 0]
    countries = sorted(set(links["exporter"]) | set(links["importer"]) | set(production.index))
    where = {c: n for n, c in enumerate(countries)}
    flows = np.zeros((len(countries), len(countries)))
    np.add.at(flows, (links["exporter"].map(where).to_numpy(), links["importer"].map(where)
                      .to_numpy()), links["qty_basis_t"].to_numpy(float))
    table = store.table("governance")
    gov = table[table["year"] == year].set_index("country")["risk"]
    risk = pd.Series(countries).map(gov).fillna(MISSING_RISK).to_numpy(float)
    net = Network.of(countries, flows, production.reindex(countries).fillna(0.0), risk)
    basis = str(store.table("minerals").set_index("mineral").loc[mineral, "basis"])
    sold = links.groupby("exporter")[["value_kusd", "qty_basis_t"]].sum()
    price = (sold["value_kusd"] / sold["qty_basis_t"]).reindex(countries).to_numpy(float)
    return MineralNetwork(mineral, year, stage, basis, net, tuple(notes), price)


def _no_trade(store: Store, mineral: str, year: int, stage: str) -> str:
    links = compute.load(store, "partners", minerals=[mineral])
    years = sorted(set(links.loc[(links["stage"] == stage) & (links["qty_basis_t"] > 0),
                                 "year"]))
    where = "" if stage == HEADLINE else f" at the {stage} stage"
    if not years:
        return f"no trade of {mineral}{where} in the data for any year"
    span = f"{years[0]}-{years[-1]}" if len(years) > 2 else ", ".join(map(str, years))
    return f"no trade of {mineral}{where} recorded in {year}; years with trade: {span}"


# -- countries and groups ----------------------------------------------------------------------

@dataclass(frozen=True)
class Parties:
    """Countries named by the user, groups expanded to their members in the year."""

    iso3: list[str]
    groups: dict[str, list[str]] = field(default_factory=dict)


def parties(values: Sequence[str] | str | None, year: int, what: str) -> Parties | None:
    """ISO3 codes of countries and groups (members in ``year``)."""
    from critmin.query import group_membership

    names = checks.as_names(values, what)
    if names is None:
        return None
    codes: list[str] = []
    groups: dict[str, list[str]] = {}
    for name in names:
        if resolve.group_members(name):
            label, members = group_membership(name, [year])
            groups[label] = list(members["iso3"])
            codes.extend(groups[label])
        else:
            codes.append(resolve.country(name))
    return Parties(list(dict.fromkeys(codes)), groups)


def _names() -> pd.Series:
    return get_store().table("countries").set_index("iso3")["name"]


def _label(codes: Sequence[str], groups: Mapping[str, list[str]] | None = None) -> str:
    names = _names()
    grouped = {m for ms in (groups or {}).values() for m in ms}
    parts = list(groups or {}) + [str(names.get(c, c)) for c in codes if c not in grouped]
    return ", ".join(parts) if len(parts) <= 3 else f"{', '.join(parts[:3])} and {len(parts) - 3} more"


# -- restrictions ------------------------------------------------------------------------------

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

    def summary(self) -> str:
        """A few lines for people."""
        who = _label(self.suppliers)
        where = "" if self.targets is None else f" to {_label(self.targets)}"
        stage = "headline stages" if self.stage == HEADLINE else f"{self.stage} stage"
        if self.host is not None:
            head = (f"{self.mineral} recovered from {self.host}: "
                    f"{self.balance['initial_shock_t']:,.1f} t {self.basis} of production lost")
        elif self.shock == "production":
            one = len(self.suppliers) == 1
            head = (f"{who} lose{'s' if one else ''} {self.cut:.0%} of "
                    f"{'its' if one else 'their'} {self.mineral} production ({stage}, "
                    f"{self.year}): "
                    f"{self.balance['initial_shock_t']:,.0f} t {self.basis}")
        else:
            head = (f"{who} withhold{'s' if len(self.suppliers) == 1 else ''} {self.cut:.0%} of "
                    f"{self.mineral} exports{where} ({stage}, {self.year}): "
                    f"{self.balance['initial_shock_t']:,.0f} t {self.basis} withheld")
        hit = self.countries.dropna(subset=["loss_share"])
        hit = hit[hit["loss_t"] > 0].sort_values("loss_t", ascending=False).head(5)
        names = _names()
        worst = "; ".join(
            f"{names.get(c, c)} {s:.0%} of supply ({f:.0%} first order)"
            for c, s, f in zip(hit["country"], hit["loss_share"], hit["loss_share_first_order"],
                               strict=True))
        lines = [head, f"largest losses: {worst}" if worst else "no country loses supply"]
        lines.append(f"cascade: {self.rounds} round(s){'' if self.converged else ', not converged'}; "
                     f"lost {self.balance['lost_t']:,.0f} t, from stocks "
                     f"{self.balance['stock_drawn_t']:,.0f} t, substituted "
                     f"{self.balance['rerouted_t']:,.0f} t")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "mineral": self.mineral, "year": self.year, "stage": self.stage,
            "basis": self.basis, "suppliers": self.suppliers, "cut": self.cut,
            "targets": self.targets, "shock": self.shock, "host": self.host,
            "parameters": self.parameters, "rounds": self.rounds, "converged": self.converged,
            "balance": self.balance, "countries": records(self.countries),
            "units": self.countries.attrs.get("units", {}), "notes": self.notes,
            "event": self.event, "by_products": [b.to_dict() for b in self.by_products],
        }


def _params(cascade: bool, stock_buffer: Any, spare_capacity: Any, absorb: Any
            ) -> engine.Params:
    return engine.Params(
        stock_buffer=checks.as_float(stock_buffer, "stock_buffer", 0.0, 100.0),
        spare_capacity=checks.as_fraction(spare_capacity, "spare_capacity"),
        absorb=None if absorb is None else checks.as_fraction(absorb, "absorb"),
        cascade=bool(cascade),
    )


def _table(net: MineralNetwork, out: engine.Outcome, groups: Mapping[str, list[str]],
           keep_all: bool = False) -> pd.DataFrame:
    """The per-country rows of one scenario (row 0 of ``out``), groups added as one."""
    frame = pd.DataFrame({
        "country": net.network.countries.astype(str),
        "supply_t": out.supply_t[0], "first_order_loss_t": out.first_order_loss_t[0],
        "loss_t": out.loss_t[0], "stock_drawn_t": out.stock_drawn_t[0],
        "rerouted_t": out.rerouted_t[0], "withheld_share": out.withheld_share[0],
        "passed_on_t": out.passed_on_t[0], "first_round": out.first_round[0],
    })
    index = {c: n for n, c in enumerate(frame["country"])}
    sums = ["supply_t", "first_order_loss_t", "loss_t", "stock_drawn_t", "rerouted_t",
            "passed_on_t"]
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
    frame["note"] = np.select(
        [frame["supply_t"] <= 0, frame["loss_share_first_order"] > 1],
        ["no positive supply (exports exceed production plus imports): no share",
         "first-order loss exceeds its own supply: a transit hub, whose excess the cascade "
         "passes on"], default="")
    frame["first_round"] = frame["first_round"].astype("Int32")
    if not keep_all:
        relevant = (frame["first_order_loss_t"] > 0) | (frame["loss_t"] > 0) | (
            frame["passed_on_t"] > 0) | frame["country"].isin(list(groups))
        frame = frame[relevant]
    is_group = frame["country"].isin(list(groups))
    frame = frame.assign(_g=~is_group).sort_values(["_g", "loss_t"], ascending=[True, False])
    return schema.select("scenario", frame.reset_index(drop=True))


def _balance(out: engine.Outcome) -> dict[str, float]:
    return {
        "initial_shock_t": float(out.initial_shock_t[0]), "lost_t": float(out.loss_t[0].sum()),
        "stock_drawn_t": float(out.stock_drawn_t[0].sum()),
        "rerouted_t": float(out.rerouted_t[0].sum()),
        "residual_t": float(out.balance_residual_t[0]),
    }


def restrict(supplier: Sequence[str] | str | None = None, mineral: str | None = None,
             year: int | None = None, cut: float | None = None,
             targets: Sequence[str] | str | None = None, stage: str | None = None,
             cascade: bool = True, stock_buffer: float = 0.0, spare_capacity: float = 0.0,
             absorb: float | None = None, production: bool = False, by_products: bool = False,
             event: str | None = None) -> Restriction:
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
        and cut come from it.

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
    info = None
    if event is not None:
        info, supplier, mineral, stage, targets, cut = _from_event(
            event, supplier, mineral, stage, targets, cut)
    if supplier is None or mineral is None:
        raise InvalidInput("give a supplier and a mineral (or an event)")
    net = network(mineral, year, stage)
    cut_value = 1.0 if cut is None else checks.as_fraction(cut, "cut")
    params = _params(cascade, stock_buffer, spare_capacity, absorb)
    sup = parties(supplier, net.year, "supplier")
    tgt = parties(targets, net.year, "targets")
    assert sup is not None
    result = _restrict(net, sup, tgt, cut_value, params, production)
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
        notes.append(f"{_label(sup.iso3)} recorded no trade or production of {net.mineral} "
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
    parts = [f"{c if isinstance(c, str) and c else 'elsewhere'} {s:.0%}"
             for c, s in zip(rows["country"], rows["share"], strict=True) if pd.notna(s)]
    source = "; ".join(sorted(set(rows["source"])))
    return (f"{companion} production depending on {host}: {', '.join(parts) or 'none'} "
            f"({source})")


# -- events --------------------------------------------------------------------------------------

def events() -> pd.DataFrame:
    """Documented export-control events (China's gallium, germanium, graphite, antimony and
    rare-earth controls, Indonesia's ore bans…).

    Returns
    -------
    pandas.DataFrame
        One row per event: supplier, minerals, codes, stages, targets, kind, dates, the
        documented cut and its basis, source.

    Examples
    --------
    >>> critmin.events().set_index("id").loc["idn-ni-ban-2020", "kind"]
    'ban'
    """
    return schema.select("events", get_store().table("events"))


def kind_defaults() -> dict[str, float]:
    """The cut a kind of measure stands for when an event documents none: 1 for a ban,
    otherwise the median of the catalog's documented cuts of that kind."""
    table = get_store().table("events")
    documented = table.dropna(subset=["cut"])
    medians = documented.groupby("kind")["cut"].median()
    out = {str(k): float(v) for k, v in medians.items()}
    out["ban"] = 1.0
    return out


def _from_event(event_id: str, supplier: Any, mineral: Any, stage: Any, targets: Any,
                cut: Any) -> tuple[dict[str, Any], Any, str, str | None, Any, float]:
    table = get_store().table("events").set_index("id")
    name = checks.as_name(event_id, "event")
    if name not in table.index:
        raise NotFound(f"unknown event {name!r}",
                       suggestions=nearest(name, table.index) or list(table.index[:3]))
    if supplier is not None or targets is not None or stage is not None:
        raise InvalidInput("an event sets the supplier, targets and stage; give only the "
                           "year, the mineral (one of the event's), the cut and the response")
    row = table.loc[name]
    covered = list(row["minerals"])
    notes = []
    if mineral is None:
        chosen = covered[0]
        if len(covered) > 1:
            notes.append(f"the event also covers {', '.join(covered[1:])}: choose one with "
                         "the mineral argument")
    else:
        chosen = resolve.mineral(checks.as_name(mineral, "mineral"))
        if chosen not in covered:
            raise InvalidInput(f"event {name} covers {', '.join(covered)}, not {chosen}",
                               suggestions=covered)
    stages = [s for s in row["stage"] if s in schema.STAGES]
    stage_used = stages[0] if len(stages) == 1 else None
    if cut is None:
        documented = float(np.nan if pd.isna(row["cut"]) else row["cut"])
        defaults = kind_defaults()
        kind = str(row["kind"])
        if np.isfinite(documented):
            cut = documented
            notes.append(f"cut {cut:.0%}: {row['cut_basis']}")
        elif kind in defaults:
            cut = defaults[kind]
            notes.append(f"no cut documented for this event: a {row['kind']} stands for "
                         f"{cut:.0%}, the median of the catalog's documented {row['kind']} cuts")
        else:
            raise InvalidInput(f"event {name} ({row['kind']}) documents no cut and the catalog "
                               "has no default for its kind; give one with cut")
    if pd.notna(row["ended"]) and row["ended"]:
        notes.append(f"the measure stopped applying on {row['ended']} (see the event's notes)")
    if len(stages) > 1:
        notes.append(f"the event covers the {', '.join(stages)} stages: run on the headline "
                     "network (primary supply at and after the production stage)")
    info = {"event": {"id": name, **{str(k): _plain(v) for k, v in row.items()}},
            "notes": notes}
    return info, row["supplier"], chosen, stage_used, (list(row["targets"]) or None), cut


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return list(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def agreements() -> pd.DataFrame:
    """Critical-mineral agreements and partnerships (India-Russia 2026, the Minerals
    Security Partnership, the EU's strategic partnerships…).

    Returns
    -------
    pandas.DataFrame
        One row per agreement: parties, the supplying and importing side where there is one,
        minerals, stage, status (reported, proposed, signed, in force), dates, source.

    Examples
    --------
    >>> critmin.agreements().set_index("id").loc["ind-rus-cm-2026", "status"]
    'reported'
    """
    return schema.select("agreements", get_store().table("agreements"))


# -- agreements as scenarios ------------------------------------------------------------------

@dataclass
class Pact:
    """An agreement's effect on the importer: metrics and exposure before and after."""

    importer: str
    supplier: str
    mineral: str
    year: int
    stage: str
    basis: str
    mode: str
    volume_t: float
    delivered_t: float
    before: dict[str, float | None]
    after: dict[str, float | None]
    exposure_before: float
    exposure_after: float
    against: dict[str, Any]
    feasible: bool
    warnings: list[str]
    feasibility: dict[str, float | None]
    metrics: pd.DataFrame
    notes: list[str]
    agreement: dict[str, Any] | None = None

    def summary(self) -> str:
        """A few lines for people."""
        names = _names()
        a = str(names.get(self.importer, self.importer))
        b = str(names.get(self.supplier, self.supplier))
        who = _label(self.against["suppliers"])
        lines = [
            f"{b} supplies {a} {_tonnes(self.delivered_t)} t {self.basis} of {self.mineral} a year "
            f"({self.mode}; {self.year} trade)",
            f"{a}'s loss if {who} cut{'s' if len(self.against['suppliers']) == 1 else ''} "
            f"{self.against['cut']:.0%} of exports: {_pct(self.exposure_before)} of supply "
            f"today, {_pct(self.exposure_after)} with the agreement",
            f"China's share of {a}'s imports: {_pct(self.before['china_share'])} -> "
            f"{_pct(self.after['china_share'])}",
            ("NOT feasible today" if not self.feasible
             else "feasible today" if self.mode == "redirect"
             else "within the supplier's output, with new capacity"),
        ]
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "importer": self.importer, "supplier": self.supplier, "mineral": self.mineral,
            "year": self.year, "stage": self.stage, "basis": self.basis, "mode": self.mode,
            "volume_t": self.volume_t, "delivered_t": self.delivered_t,
            "before": self.before, "after": self.after,
            "exposure_before": _num(self.exposure_before),
            "exposure_after": _num(self.exposure_after), "against": self.against,
            "feasible": self.feasible, "warnings": self.warnings,
            "feasibility": self.feasibility, "notes": self.notes, "agreement": self.agreement,
        }


def _tonnes(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2g}"


def _pct(value: float | None) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.1%}"


def _num(value: float) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


METRIC_UNITS = {"imports_t": "t (basis)", "exports_t": "t (basis)", "supply_t": "t (basis)",
                "import_reliance": "share", "china_share": "share", "import_hhi": "0-1",
                "top_supplier_share": "share", "wta": "0-1", "score": "0-1",
                "exposure": "share"}


def pact(importer: str | None = None, supplier: str | None = None, mineral: str | None = None,
         volume: float | None = None, share: float | None = None, mode: str = "redirect",
         against: Sequence[str] | str = "CHN", against_cut: float = 1.0,
         year: int | None = None, stage: str | None = None, agreement: str | None = None,
         cascade: bool = True, stock_buffer: float = 0.0,
         spare_capacity: float = 0.0) -> Pact:
    """What a supply agreement would change for the importer, and whether the supplier can
    deliver it today.

    Parameters
    ----------
    importer : str
        The importing country or group (a group is served as one importer, the volume shared
        among members in proportion to their imports).
    supplier : str
        The supplying country.
    mineral : str
    volume : float, optional
        Tonnes a year on the mineral's basis.
    share : float, optional
        Or: the volume as a share of the importer's current imports.
    mode : str
        ``redirect`` (from the supplier's other customers, pro rata) or ``new`` (new
        capacity: the supplier's production rises by the volume).
    against : str or list of str
        The restriction the exposure is measured against: these suppliers cut
        ``against_cut`` of their exports (default: China cuts all).
    agreement : str, optional
        An agreements-registry id: importer, supplier and minerals come from it.
    year, stage, cascade, stock_buffer, spare_capacity
        As in :func:`restrict`.

    Returns
    -------
    Pact

    Examples
    --------
    >>> p = critmin.pact("IND", "AUS", "lithium", volume=200, year=2023)
    >>> bool(p.exposure_after < p.exposure_before)
    True
    """
    info = None
    notes: list[str] = []
    if agreement is not None:
        info, importer, supplier, mineral, notes = _from_agreement(agreement, importer,
                                                                   supplier, mineral)
    if importer is None or supplier is None or mineral is None:
        raise InvalidInput("give an importer, a supplier and a mineral (or an agreement)")
    if mode not in pact_mod.MODES:
        raise InvalidInput(f"unknown mode {mode!r}", suggestions=list(pact_mod.MODES))
    if (volume is None) == (share is None):
        raise InvalidInput("give either a volume in tonnes or a share of the importer's imports")
    net = network(mineral, year, stage)
    g = net.network
    imp = parties(importer, net.year, "importer")
    sup = parties(supplier, net.year, "supplier")
    assert imp is not None and sup is not None
    if sup.groups or len(sup.iso3) != 1:
        raise InvalidInput("the supplier of an agreement is one country, not a group")
    b = sup.iso3[0]
    if b in imp.iso3:
        raise InvalidInput(f"{b} cannot be both importer and supplier")
    members = g.index(imp.iso3)
    if not len(members):
        raise InvalidInput(f"{_label(imp.iso3)} recorded no trade or production of "
                           f"{net.mineral} in {net.year}")
    if b not in set(g.countries):
        raise InvalidInput(f"{_label([b])} recorded no trade or production of {net.mineral} in "
                           f"{net.year}: it cannot be a supplier in the data")
    label = next(iter(imp.groups)) if imp.groups else imp.iso3[0]
    imports_now = float(g.imports[members].sum())
    if volume is not None:
        tonnes = checks.as_float(volume, "volume", 0.0)
    else:
        tonnes = checks.as_fraction(share, "share") * imports_now
    at = int(g.index([b])[0])
    deal = pact_mod.apply(g, members, at, tonnes, mode)
    params = _params(cascade, stock_buffer, spare_capacity, None)
    cutters = parties(against, net.year, "against")
    assert cutters is not None
    cut_value = checks.as_fraction(against_cut, "against_cut")
    one = len(members) > 1 or bool(imp.groups)

    def view(n: Network) -> tuple[dict[str, float | None], float]:
        joined = collapse(n, members, label) if one else n
        where = joined.size - 1 if one else int(joined.index([label])[0])
        stats = {k: _num(v[where]) for k, v in importer_metrics(joined).items()}
        outcome = engine.run(joined, cut_value * joined.mask(
            [c for c in cutters.iso3 if c not in imp.iso3]), None, None, params)
        return stats, float(outcome.loss_share[0, where])

    before, exposure_before = view(g)
    after, exposure_after = view(deal.network)
    before["exposure"], after["exposure"] = _num(exposure_before), _num(exposure_after)
    production, measured = _supplier_production(net, b, deal)
    warnings, feasible = _feasibility(net, b, deal, mode, production, measured)
    if b in cutters.iso3:
        warnings.append(f"the supplier {b} is also the restricting country: its deliveries "
                        "are cut with the rest")
    metrics = pd.DataFrame({"metric": list(before), "before": list(before.values()),
                            "after": [after[k] for k in before]})
    metrics["unit"] = metrics["metric"].map(METRIC_UNITS).fillna("")
    metrics = schema.select("pact_metrics", metrics)
    reserves = _reserves(b, net.mineral, net.year)
    feasibility: dict[str, float | None] = {
        "volume_t": tonnes, "delivered_t": deal.delivered_t,
        "supplier_production_t": production,
        "supplier_exports_t": deal.supplier_exports_t,
        "supplier_exports_to_importer_t": deal.supplier_exports_to_importer_t,
        "supplier_exports_to_others_t": deal.supplier_exports_to_others_t,
        "importer_imports_t": imports_now, "supplier_reserves_t": reserves,
    }
    return Pact(
        importer=label, supplier=b, mineral=net.mineral, year=net.year, stage=net.stage,
        basis=net.basis, mode=mode, volume_t=tonnes, delivered_t=deal.delivered_t,
        before=before, after=after, exposure_before=exposure_before,
        exposure_after=exposure_after,
        against={"suppliers": cutters.iso3, "cut": cut_value, "cascade": params.cascade},
        feasible=feasible, warnings=warnings, feasibility=feasibility, metrics=metrics,
        notes=notes + list(net.notes), agreement=info,
    )


def _supplier_production(net: MineralNetwork, b: str, deal: pact_mod.Agreement
                         ) -> tuple[float, str]:
    """The supplier's production to weigh the volume against, and what it measures: the
    stage's production, or the mineral's where no source reports the stage."""
    if net.stage == HEADLINE or net.network.production.sum() > 0:
        return deal.supplier_production_t, "production"
    rows = compute.load(get_store(), "cube", years=[net.year], minerals=[net.mineral],
                        countries=[b])
    value = float(rows["production_t"].fillna(0.0).sum()) if len(rows) else 0.0
    return value, f"production (at the mineral's production stage; none is reported at the {net.stage} stage)"


def _feasibility(net: MineralNetwork, b: str, deal: pact_mod.Agreement, mode: str,
                 p: float, measured: str) -> tuple[list[str], bool]:
    """Warnings when the supplier cannot deliver the volume today, and whether it can."""
    unit = f"t {net.basis}"
    v = deal.volume_t
    x_others = deal.supplier_exports_to_others_t
    name = _label([b])
    warnings = []
    feasible = True
    if mode == "redirect" and v > x_others + 1e-9:
        feasible = False
        warnings.append(f"{name} exports only {x_others:,.1f} {unit} to other customers in "
                        f"{net.year}; it can redirect at most that ({v:,.1f} {unit} asked): "
                        f"'after' ships {deal.delivered_t:,.1f} {unit}")
    if v > p + 1e-9:
        if p <= 0:
            warnings.append(f"{name} reports no {net.mineral} {measured} in {net.year}: it "
                            f"cannot supply {v:,.1f} {unit} from its own output today")
        else:
            warnings.append(f"the volume is {v / p:.1f} times {name}'s {net.year} {measured} "
                            f"({p:,.1f} {unit})")
        if mode == "new" or p <= 0:
            feasible = False
    exports = deal.supplier_exports_t
    if mode == "new":
        stage = "" if net.stage == HEADLINE else f" at the {net.stage} stage"
        warnings.append(f"'new' assumes {v:,.1f} {unit} of new capacity: {name} exports "
                        f"{exports:,.1f} {unit}{stage} today; its {measured} of {p:,.1f} {unit} "
                        "would have to feed it")
    if exports > 0 and p < 0.1 * exports:
        warnings.append(f"{name} produces {p:,.1f} {unit} but exports {exports:,.1f}: what it "
                        "ships is mostly other countries' material (a transit hub)")
    return warnings, feasible


def _reserves(country: str, mineral: str, year: int) -> float | None:
    table = get_store().table("reserves")
    rows = table[(table["country"] == country) & (table["mineral"] == mineral)
                 & table["qty_t"].notna()]
    if rows.empty:
        return None
    rows = rows[rows["year"] <= max(year, int(rows["year"].min()))]
    return float(rows.sort_values("year")["qty_t"].iloc[-1])


def _from_agreement(agreement_id: str, importer: Any, supplier: Any, mineral: Any
                    ) -> tuple[dict[str, Any], str, str, str, list[str]]:
    table = get_store().table("agreements").set_index("id")
    name = checks.as_name(agreement_id, "agreement")
    if name not in table.index:
        raise NotFound(f"unknown agreement {name!r}",
                       suggestions=nearest(name, table.index) or list(table.index[:3]))
    row = table.loc[name]
    notes = [f"agreement {name} ({row['status']}): {row['title']}"]
    if row["status"] in ("reported", "proposed"):
        notes.append(f"status '{row['status']}': not signed; the volume is an assumption")
    imp = importer or (row["importer"] if pd.notna(row["importer"]) else None)
    sup = supplier or (row["supplier"] if pd.notna(row["supplier"]) else None)
    if imp is None or sup is None:
        raise InvalidInput(f"agreement {name} names no supplying and importing side "
                           f"(parties {', '.join(row['parties'])}): give importer and supplier")
    covered = list(row["minerals"])
    if mineral is None:
        if not covered:
            raise InvalidInput(f"agreement {name} names no mineral: give one")
        mineral = covered[0]
        if len(covered) > 1:
            notes.append(f"the agreement also covers {', '.join(covered[1:])}: choose one with "
                         "the mineral argument")
    info = {"id": name, **{str(k): _plain(v) for k, v in row.items()}}
    return info, str(imp), str(sup), str(mineral), notes


# -- supply-at-risk ----------------------------------------------------------------------------

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
        names = _names()
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
    start, end = date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat()
    began = table["effective"].fillna(table["announced"]).fillna("9999")
    ended = table["ended"].fillna("9999")
    covers = table["minerals"].map(lambda ms: mineral in list(ms))
    return table[covers & (began <= end) & (ended >= start)][["supplier", "id", "targets"]]


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
        As in :func:`restrict`.
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
        raise InvalidInput(f"{_label(wanted.iso3)} recorded no trade of this mineral")
    return np.vstack(rows), labels
