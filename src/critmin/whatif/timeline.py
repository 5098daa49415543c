"""Restrictions over time on real data: a restriction (or a documented event) that starts and
lifts, stocks that run down, new capacity that ramps up, and the world price, year by year
on a base year's network; and the price channel of a one-year restriction.

The computation is :mod:`critmin.scenarios.timeline` and :mod:`critmin.scenarios.price`;
this module reads the network and the events registry, checks the user's inputs and shapes
the arrays into tables with units and a short text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, resolve, schema
from critmin.errors import InvalidInput, NotFound, nearest
from critmin.event_rules import never_in_force
from critmin.numbers import change, share, tonnes
from critmin.present import records
from critmin.scenarios import cascade as engine
from critmin.scenarios import price as market
from critmin.scenarios import timeline as steps
from critmin.trade_network import (
    HEADLINE,
    MineralNetwork,
    label_of,
    network,
    parties,
    required_parties,
)
from critmin.whatif.registries import AS_ANNOUNCED, event_cut, event_inputs
from critmin.whatif.restrictions import Restriction, cascade_params

HORIZON = 5
"""Years after the first one a timeline runs when no last year is given."""

LAST_YEAR = 2100
"""Latest year a timeline may reach."""

PRICE_OFF = ("price channel off: give demand_elasticity and supply_elasticity (published "
             "values by mineral and horizon: docs/methods.md, 'Price channel')")


# -- inputs --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewSupply:
    """New capacity: ``tonnes`` a year at full output (on the mineral's basis) from
    ``country``, producing from ``start`` and reaching full output after ``ramp_years``."""

    country: str
    tonnes: float
    start: int
    ramp_years: int = 1
    project: str | None = None
    """The documented project it comes from (``critmin.projects()``), if any."""
    mineral: str | None = None

    @classmethod
    def of(cls, value: Any) -> NewSupply:
        """From a NewSupply, a mapping (country, tonnes, start, ramp_years) or the text
        ``COUNTRY=TONNES@START[+RAMP]``.

        >>> NewSupply.of("USA=20000@2026+3")
        NewSupply(country='USA', tonnes=20000.0, start=2026, ramp_years=3, project=None, ...)
        """
        if isinstance(value, NewSupply):
            item = value
        elif isinstance(value, Mapping):
            unknown = set(value) - {"country", "tonnes", "start", "ramp_years"}
            if unknown:
                raise InvalidInput(f"new_supply: unknown key(s) {sorted(unknown)}; give "
                                   "country, tonnes, start and ramp_years")
            try:
                item = cls(str(value["country"]), value["tonnes"], value["start"],
                           value.get("ramp_years", 1))
            except KeyError as exc:
                raise InvalidInput(f"new_supply: missing {exc.args[0]!r}") from None
        elif isinstance(value, str) and "=" not in value:
            return cls.from_project(value)
        elif isinstance(value, str):
            name, sep, rest = value.partition("=")
            tonnes, at, when = rest.partition("@")
            start, plus, ramp_text = when.partition("+")
            if not (sep and at and name.strip()):
                raise InvalidInput(f"new supply {value!r}: write COUNTRY=TONNES@START[+RAMP], "
                                   "e.g. USA=20000@2026+3")
            try:
                item = cls(name.strip(), float(tonnes), int(start),
                           int(ramp_text) if plus else 1)
            except ValueError:
                raise InvalidInput(f"new supply {value!r}: write COUNTRY=TONNES@START[+RAMP], "
                                   "e.g. USA=20000@2026+3") from None
        else:
            raise InvalidInput(f"new_supply: {value!r} is not a capacity")
        return cls(item.country, checks.as_float(item.tonnes, "new supply tonnes", 0.0),
                   checks.as_int(item.start, "new supply start", checks.YEAR_MIN, LAST_YEAR),
                   checks.as_int(item.ramp_years, "new supply ramp_years", 1, 100),
                   item.project, item.mineral)


    @classmethod
    def from_project(cls, project_id: str) -> NewSupply:
        """A documented project's capacity (``critmin.projects()``): its country, capacity on
        the mineral's basis, start year and ramp (full output from the start year where no
        ramp is published)."""
        from critmin.whatif.capacity import projects

        table = projects().set_index("id")
        name = checks.as_name(project_id, "project")
        if name not in table.index:
            raise NotFound(f"unknown project {name!r} (or write COUNTRY=TONNES@START[+RAMP])",
                           suggestions=nearest(name, table.index) or list(table.index[:3]))
        row = table.loc[name]
        if pd.isna(row["capacity_t"]) or pd.isna(row["start_year"]):
            raise InvalidInput(f"project {name} publishes no capacity or start year: write "
                               "COUNTRY=TONNES@START[+RAMP] instead")
        ramp = 1 if pd.isna(row["ramp_years"]) else max(int(row["ramp_years"]), 1)
        return cls(str(row["country"]), float(row["capacity_t"]), int(row["start_year"]), ramp,
                   name, str(row["mineral"]))


def _period_shares(years: np.ndarray, began: str, ended: str | None) -> np.ndarray:
    """Share of each year's days from ``began`` (inclusive) to ``ended`` (exclusive)."""
    start = np.datetime64(began, "D")
    stop = np.datetime64(ended, "D") if ended else np.datetime64(f"{LAST_YEAR + 1}-01-01", "D")
    first = np.array([np.datetime64(f"{y}-01-01", "D") for y in years])
    after = np.array([np.datetime64(f"{y + 1}-01-01", "D") for y in years])
    days = (np.minimum(after, stop) - np.maximum(first, start)).astype(float)
    out: np.ndarray = np.clip(days / (after - first).astype(float), 0.0, 1.0)
    return out


def _iso(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return None
    return str(value)


def _year_shares(years: np.ndarray, start: int | None, end: int | None) -> np.ndarray:
    first = years[0] if start is None else start
    last = LAST_YEAR if end is None else end
    return ((years >= first) & (years <= last)).astype(float)


# -- the result ----------------------------------------------------------------------------------

@dataclass
class Timeline:
    """A restriction stepped through the years."""

    mineral: str
    base_year: int
    stage: str
    basis: str
    suppliers: list[str]
    cut: float
    targets: list[str] | None
    period: dict[str, Any]
    """How the restriction runs: start and end (dates or years) and where they come from."""
    parameters: dict[str, Any]
    years: pd.DataFrame
    """One row per year: in force, withheld, lost, stocks, new supply, price."""
    countries: pd.DataFrame
    """One row per year and country hit (and, with the price channel, every consumer)."""
    notes: list[str]
    event: dict[str, Any] | None = None
    new_supply: list[NewSupply] = field(default_factory=list)

    @property
    def priced(self) -> bool:
        """Whether the price channel ran."""
        return bool(self.years["price_change"].notna().any())

    def summary(self) -> str:
        """A few lines for people."""
        who = label_of(self.suppliers)
        where = "" if self.targets is None else f" to {label_of(self.targets)}"
        stage = "headline stages" if self.stage == HEADLINE else f"{self.stage} stage"
        y = self.years
        span = f"{int(y['year'].iloc[0])}-{int(y['year'].iloc[-1])}"
        lines = [f"{who} withhold{'s' if len(self.suppliers) == 1 else ''} {share(self.cut)} of "
                 f"{self.mineral} exports{where} ({stage}; {self.base_year} network; "
                 f"{self.period['text']}), {span}"]
        names = resolve.country_names()
        for row in y.to_dict("records"):
            text = (f"{row['year']}: in force {share(row['in_force_share'])} of the year; withheld "
                    f"{tonnes(row['withheld_t'])}, lost {tonnes(row['lost_t'])}, from stocks "
                    f"{tonnes(row['stock_drawn_t'])}, new supply "
                    f"{tonnes(row['new_supply_used_t'])}")
            if pd.notna(row["price_change"]):
                text += (f"; price {change(row['price_change'])} ({change(row['price_change_low'])} "
                         f"to {change(row['price_change_high'])})")
            lines.append(text)
        c = self.countries
        total = c.groupby("country")["loss_t"].sum().sort_values(ascending=False)
        total = total[total > 0].head(5)
        if len(total):
            lines.append("largest losses over the horizon: " + "; ".join(
                f"{names.get(k, k)} {tonnes(v)}" for k, v in total.items()))
        empty = c[(c["stock_left_t"] <= 0) & (c["stock_drawn_t"] > 0)]
        if len(empty):
            first = empty.groupby("country").agg(year=("year", "min"),
                                                 supply_t=("supply_t", "first"))
            first = first.sort_values(["year", "supply_t"], ascending=[True, False]).head(5)
            lines.append("stocks run out (largest users first): " + "; ".join(
                f"{names.get(k, k)} in {v}" for k, v in first["year"].items()))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "mineral": self.mineral, "base_year": self.base_year, "stage": self.stage,
            "basis": self.basis, "suppliers": self.suppliers, "cut": self.cut,
            "targets": self.targets, "period": self.period, "parameters": self.parameters,
            "new_supply": [vars(n) for n in self.new_supply],
            "years": records(self.years), "countries": records(self.countries),
            "units": {"years": self.years.attrs.get("units", {}),
                      "countries": self.countries.attrs.get("units", {})},
            "notes": self.notes, "event": self.event,
        }


# -- the scenario --------------------------------------------------------------------------------

def _band_ranges(demand_range: Any, supply_range: Any) -> None:
    """Refuse ranges that are not pairs (before any work)."""
    for what, value in (("demand_range", demand_range), ("supply_range", supply_range)):
        if value is not None and not (isinstance(value, tuple | list) and len(value) == 2):
            raise InvalidInput(f"{what} takes two numbers (low, high), not "
                               f"{checks.shown(value)}")


def _band(demand_elasticity: Any, supply_elasticity: Any, demand_range: Any, supply_range: Any
          ) -> market.Band | None:
    _band_ranges(demand_range, supply_range)
    if demand_elasticity is None and supply_elasticity is None:
        if demand_range is not None or supply_range is not None:
            raise InvalidInput("demand_range and supply_range need demand_elasticity and "
                               "supply_elasticity")
        return None
    if demand_elasticity is None or supply_elasticity is None:
        raise InvalidInput("the price channel needs both demand_elasticity (< 0) and "
                           "supply_elasticity (>= 0)")
    d = checks.as_float(demand_elasticity, "demand_elasticity", maximum=0.0)
    s = checks.as_float(supply_elasticity, "supply_elasticity", minimum=0.0)
    if d == 0:
        raise InvalidInput("demand_elasticity must be negative, not 0")

    def pair(value: Any, what: str, lo: float | None, hi: float | None) -> tuple[float, float] | None:
        if value is None:
            return None
        items = list(value)
        if len(items) != 2:
            raise InvalidInput(f"{what} takes two numbers (low, high), not {value!r}")
        a, b = (checks.as_float(v, what, lo, hi) for v in items)
        return a, b

    dr = pair(demand_range, "demand_range", None, 0.0)
    if dr is not None and 0.0 in dr:
        raise InvalidInput("demand_range must be negative at both ends")
    sr = pair(supply_range, "supply_range", 0.0, None)
    try:
        return market.Band.of(d, s, dr, sr)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _parameters(band: market.Band | None, price_spare: float) -> dict[str, Any]:
    if band is None:
        return {"price_channel": False}
    return {"price_channel": True,
            "demand_elasticity": {"low": band.demand[0], "central": band.demand[1],
                                  "high": band.demand[2]},
            "supply_elasticity": {"low": band.supply[0], "central": band.supply[1],
                                  "high": band.supply[2]},
            "price_spare_share": price_spare,
            "formula": "ln(p1/p0) = -ln(1 - max(s - k, 0)) / (e_s - e_d)"}


def timeline(supplier: Sequence[str] | str | None = None, mineral: str | None = None,
             start: int | None = None, end: int | None = None, first: int | None = None,
             last: int | None = None, year: int | None = None, cut: float | None = None,
             targets: Sequence[str] | str | None = None, stage: str | None = None,
             event: str | None = None, as_announced: bool = False, stock_years: float = 0.0,
             stocks: Mapping[str, float] | None = None,
             stock_tonnes: Mapping[str, float] | None = None,
             new_supply: Sequence[Any] | None = None, cascade: bool = True,
             spare_capacity: float = 0.0, absorb: float | None = None,
             demand_elasticity: float | None = None, supply_elasticity: float | None = None,
             demand_range: tuple[float, float] | None = None,
             supply_range: tuple[float, float] | None = None,
             price_spare: float = 0.0) -> Timeline:
    """A restriction stepped through the years: when it starts and lifts, how stocks run
    down, what new capacity adds, and (with elasticities) the world price.

    Every year runs on the base year's network (its flows and production stand for each
    year's trade before the shock).

    Parameters
    ----------
    supplier, mineral, cut, targets, stage
        As :func:`critmin.restrict` (or from ``event``).
    start, end : int, optional
        First and last year the restriction is in force (whole years; default: from the
        first year of the horizon, never lifted).
    first, last : int, optional
        The horizon (default: the restriction's first year, or the base year, and five
        years after).
    year : int, optional
        The base year whose network every year runs on (default: the latest complete year).
    event : str, optional
        A documented event (``critmin.events()``): supplier, stage, targets, cut, and the
        share of each year it is in force from its effective and end dates. ``end`` may
        set a year after which it is lifted (a what-if); ``start`` may not be given.
    as_announced : bool
        Run an event that never took effect from its announced dates all the same.
    stock_years : float
        Every country's stock, in years of its use (apparent supply), default 0.
    stocks : mapping, optional
        Stock in years of use per country (overrides ``stock_years`` for it).
    stock_tonnes : mapping, optional
        Stock in tonnes on the mineral's basis per country (overrides both).
    new_supply : list, optional
        New capacity: :class:`NewSupply`, mappings (country, tonnes, start, ramp_years),
        ``"COUNTRY=TONNES@START[+RAMP]"`` or a documented project's id
        (``critmin.projects()``).
    cascade, spare_capacity, absorb
        The cascade's response, as :func:`critmin.restrict`.
    demand_elasticity, supply_elasticity : float, optional
        The price channel's elasticities (both, or neither: no defaults, see
        ``docs/methods.md``); demand < 0, supply >= 0.
    demand_range, supply_range : (float, float), optional
        Low and high elasticities for the sensitivity band (default: the central value).
    price_spare : float
        Spare capacity ready at the old price, as a share of the market's use (default 0;
        the cascade's ``spare_capacity`` already re-routes supply, so do not count it twice).

    Returns
    -------
    Timeline
        ``years`` and ``countries`` tables, ``summary()``, ``to_dict()``.

    Examples
    --------
    >>> t = critmin.timeline("CHN", "graphite", start=2024, end=2025, first=2024, last=2026,
    ...                      year=2023, cascade=False)
    >>> t.years.set_index("year")["lost_t"].gt(0).tolist()
    [True, True, False]
    """
    as_announced = checks.as_bool(as_announced, "as_announced")
    checks.as_bool(cascade, "cascade")
    stocks = checks.as_mapping(stocks, "stocks")
    stock_tonnes = checks.as_mapping(stock_tonnes, "stock_tonnes")
    _band_ranges(demand_range, supply_range)
    info = None
    if event is not None:
        if start is not None:
            raise InvalidInput("an event sets its own start: give end (a year it is lifted "
                               "after) or leave it out")
        info, supplier, mineral, stage, targets = event_inputs(
            event, supplier, mineral, stage, targets)
    if supplier is None or mineral is None:
        raise InvalidInput("give a supplier and a mineral (or an event)")
    net = network(mineral, year, stage)
    base = net.year
    s0 = None if start is None else checks.as_int(start, "start", checks.YEAR_MIN, LAST_YEAR)
    e0 = None if end is None else checks.as_int(end, "end", checks.YEAR_MIN, LAST_YEAR)
    notes: list[str] = list(net.notes)
    began: str | None = None
    ended: str | None = None
    period: dict[str, Any]
    if info is not None:
        row = info["row"]
        began = _iso(row["effective"]) or _iso(row["announced"])
        ended = _iso(row["ended"])
        never = bool(never_in_force(row.to_frame().T).iloc[0])
        if never and not as_announced:
            notes.append(f"{row.name} never took effect (status {row['status']} as of "
                         f"{row['status_date']}): it cuts nothing; {AS_ANNOUNCED} to run it "
                         "from its announced dates")
            began = None
        elif never:
            ended = None
            notes.append(f"{row.name} never took effect: run as announced from {began}")
        if e0 is not None:
            lift = f"{e0 + 1}-01-01"
            ended = lift if ended is None else min(ended, lift)
    f0 = (checks.as_int(first, "first", checks.YEAR_MIN, LAST_YEAR) if first is not None
          else s0 if s0 is not None else int(began[:4]) if began else base)
    l0 = (checks.as_int(last, "last", checks.YEAR_MIN, LAST_YEAR) if last is not None
          else f0 + HORIZON)
    if l0 < f0:
        raise InvalidInput(f"the horizon ends ({l0}) before it starts ({f0})")
    years = np.arange(f0, l0 + 1)
    if info is not None:
        in_force = (_period_shares(years, began, ended) if began
                    else np.zeros(len(years)))
        cut_value = event_cut(info, int(began[:4]) if began else base, cut, True) if began \
            else 0.0
        info["notes"] = [n for n in info["notes"] if not n.endswith("run as announced")]
        notes = info["notes"] + notes
        period = {"from": began, "until": ended, "source": f"event {info['event']['id']}",
                  "text": (f"in force from {began}" + (f" until {ended}" if ended else "")
                           if began else "never in force")}
    else:
        cut_value = 1.0 if cut is None else checks.as_fraction(cut, "cut")
        in_force = _year_shares(years, s0, e0)
        period = {"from": s0 if s0 is not None else int(years[0]), "until": e0,
                  "source": "given",
                  "text": f"in force {s0 if s0 is not None else years[0]}-"
                          f"{e0 if e0 is not None else 'on'}"}
    if base > years[0]:
        notes.append(f"the base year ({base}) is after the first year ({years[0]}): its "
                     "network stands for the earlier years too")
    params = cascade_params(cascade, 0.0, spare_capacity, absorb)
    sup = required_parties(supplier, base, "supplier")
    tgt = parties(targets, base, "targets")
    band = _band(demand_elasticity, supply_elasticity, demand_range, supply_range)
    spare = checks.as_fraction(price_spare, "price_spare")
    capacities = [NewSupply.of(v) for v in (new_supply or [])]
    result = _run(net, sup.iso3, None if tgt is None else tgt.iso3, cut_value, years,
                  in_force, params, stock_years, stocks, stock_tonnes, capacities, band, spare,
                  notes)
    result.period = period
    if info is not None:
        result.event = info["event"]
    return result


def _stocks(net: MineralNetwork, stock_years: Any, stocks: Mapping[str, float] | None,
            stock_tonnes: Mapping[str, float] | None) -> tuple[np.ndarray, dict[str, Any]]:
    g = net.network
    use = np.clip(g.supply, 0.0, None)
    years = np.full(g.size, checks.as_float(stock_years, "stock_years", 0.0, 100.0))
    tonnes = years * use
    named: dict[str, Any] = {"stock_years": float(years[0]) if g.size else 0.0}
    for what, mapping, per_year in (("stocks", stocks, True), ("stock_tonnes", stock_tonnes,
                                                                 False)):
        if not mapping:
            continue
        given: dict[str, float] = {}
        for name, value in checks.as_mapping(mapping, what).items():
            code = resolve.country(checks.as_name(name, what))
            amount = checks.as_float(value, f"{what}[{code}]", 0.0)
            given[code] = amount
            at = g.index([code])
            if len(at):
                tonnes[at[0]] = amount * use[at[0]] if per_year else amount
        named[what] = given
    return tonnes, named


def _run(net: MineralNetwork, suppliers: list[str], targets: list[str] | None, cut: float,
         years: np.ndarray, in_force: np.ndarray, params: engine.Params, stock_years: Any,
         stocks: Mapping[str, float] | None, stock_tonnes: Mapping[str, float] | None,
         capacities: list[NewSupply], band: market.Band | None, spare: float,
         notes: list[str]) -> Timeline:
    g = net.network
    mask = g.mask(suppliers)
    if not mask.any():
        notes.append(f"{label_of(suppliers)} recorded no trade or production of {net.mineral} "
                     f"in {net.year}: nothing to restrict")
    cuts = steps.yearly_cuts(cut * mask[None, :], in_force[None, :])
    stock_t, stock_named = _stocks(net, stock_years, stocks, stock_tonnes)
    new = np.zeros((len(years), g.size))
    for item in capacities:
        if item.mineral is not None and item.mineral != net.mineral:
            raise InvalidInput(f"project {item.project} is {item.mineral}, not {net.mineral}")
        code = resolve.country(item.country)
        at = g.index([code])
        if not len(at):
            notes.append(f"new supply from {code}: not in the {net.mineral} network of "
                         f"{net.year}; left out")
            continue
        new[:, at[0]] += item.tonnes * steps.ramp(years, item.start, item.ramp_years)
    out = steps.run(g, years, cuts, None if targets is None else g.mask(targets), stock_t, new,
                    params)
    if not out.converged.all():
        notes.append(f"the cascade did not settle within {params.max_rounds} rounds in "
                     f"{', '.join(map(str, years[~out.converged]))}")
    residual = out.balance_residual_t
    if (np.abs(residual) > 1e-6 * np.maximum(1.0, out.initial_shock_t)).any():
        notes.append("mass balance off in some year: a defect, please report it")
    countries = g.countries.astype(str)
    horizon, n = out.loss_t.shape
    frame = pd.DataFrame({
        "year": np.repeat(years, n), "country": np.tile(countries, horizon),
        "supply_t": np.tile(out.supply_t, horizon), "withheld_share": out.cut.ravel(),
        "first_order_loss_t": out.first_order_loss_t.ravel(), "loss_t": out.loss_t.ravel(),
        "loss_share": out.loss_share.ravel(), "stock_drawn_t": out.stock_drawn_t.ravel(),
        "stock_left_t": out.stock_left_t.ravel(),
        "new_supply_used_t": out.new_supply_used_t.ravel(),
        "new_supply_t": out.new_supply_t.ravel(), "rerouted_t": out.rerouted_t.ravel(),
        "passed_on_t": out.passed_on_t.ravel(),
    })
    table = pd.DataFrame({
        "year": years, "in_force_share": in_force, "withheld_t": out.initial_shock_t,
        "lost_t": out.loss_t.sum(axis=1), "stock_drawn_t": out.stock_drawn_t.sum(axis=1),
        "stock_left_t": out.stock_left_t.sum(axis=1), "rerouted_t": out.rerouted_t.sum(axis=1),
        "new_supply_t": out.new_supply_t.sum(axis=1),
        "new_supply_used_t": out.new_supply_used_t.sum(axis=1), "settled_t": out.settled_t,
        "residual_t": residual,
    })
    nan = np.full(horizon, np.nan)
    if band is None:
        notes.append(PRICE_OFF)
        for col in ("price_loss_t", "price_loss_low_t", "price_loss_high_t"):
            frame[col] = np.nan
        for col in ("shock_share", "price_change", "price_change_low", "price_change_high",
                    "price_change_linear", "demand_reduction", "supply_response_t"):
            table[col] = nan
        priced = np.zeros(horizon * n, dtype=bool)
    else:
        p = steps.prices(out, 1.0 - mask, band, spare)
        c = p.clearing
        frame["price_loss_high_t"] = p.loss_t[:, 0, :].ravel()
        frame["price_loss_t"] = p.loss_t[:, 1, :].ravel()
        frame["price_loss_low_t"] = p.loss_t[:, 2, :].ravel()
        table["shock_share"] = c.shock_share[:, 1]
        table["price_change_high"] = c.price_change[:, 0]
        table["price_change"] = c.price_change[:, 1]
        table["price_change_low"] = c.price_change[:, 2]
        table["price_change_linear"] = c.price_change_linear[:, 1]
        table["demand_reduction"] = c.demand_reduction[:, 1]
        table["supply_response_t"] = c.supply_response[:, 1] * p.market_supply_t
        priced = frame["price_loss_t"].to_numpy() > 0
        notes.append(f"price channel: the market is the world outside {label_of(suppliers)} "
                     f"({p.market_supply_t:,.0f} t a year of use); every consumer in it gives "
                     "up the same share of its use at the new price (the network's loss shows "
                     "where the physical shortfall lands instead)")
    hit = ((frame[["first_order_loss_t", "loss_t", "stock_drawn_t", "new_supply_used_t",
                   "new_supply_t", "passed_on_t"]] > 0).any(axis=1).to_numpy()) | priced
    keep = frame["country"].isin(set(frame.loc[hit, "country"]))
    frame = frame[keep].sort_values(["year", "loss_t", "first_order_loss_t"],
                                    ascending=[True, False, False])
    return Timeline(
        mineral=net.mineral, base_year=net.year, stage=net.stage, basis=net.basis,
        suppliers=suppliers, cut=cut, targets=targets, period={},
        parameters={"spare_capacity": params.spare_capacity,
                    "absorb": params.absorb, "cascade": params.cascade, **stock_named,
                    "stock_rule": "drawn while short, never refilled",
                    **_parameters(band, spare)},
        years=schema.select("timeline_years", table.reset_index(drop=True)),
        countries=schema.select("timeline", frame.reset_index(drop=True)), notes=notes,
        new_supply=capacities,
    )


# -- the price channel of one restriction --------------------------------------------------------

@dataclass
class PriceEffect:
    """The world price and each consumer's loss after a one-year restriction."""

    mineral: str
    year: int
    suppliers: list[str]
    parameters: dict[str, Any]
    shock_share: float
    price_change: dict[str, float]
    """low (elastic end), central, high (inelastic end)."""
    countries: pd.DataFrame
    notes: list[str]

    def summary(self) -> str:
        """A few lines for people."""
        p = self.price_change
        names = resolve.country_names()
        top = self.countries.head(5)
        return "\n".join([
            f"{self.mineral}, {self.year}: the restriction leaves the market outside "
            f"{label_of(self.suppliers)} {share(self.shock_share)} short; price "
            f"{change(p['central'])} ({change(p['low'])} to {change(p['high'])})",
            "largest losses at that price: " + "; ".join(
                f"{names.get(c, c)} {tonnes(t)}" for c, t in zip(top["country"],
                                                                 top["price_loss_t"],
                                                                 strict=True))])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"mineral": self.mineral, "year": self.year, "suppliers": self.suppliers,
                "parameters": self.parameters, "shock_share": self.shock_share,
                "price_change": self.price_change, "countries": records(self.countries),
                "units": self.countries.attrs.get("units", {}), "notes": self.notes}


def price_effect(restriction: Restriction, demand_elasticity: float,
                 supply_elasticity: float, demand_range: tuple[float, float] | None = None,
                 supply_range: tuple[float, float] | None = None,
                 price_spare: float = 0.0) -> PriceEffect:
    """The price channel of a one-year restriction (:func:`critmin.restrict`): the market
    outside the restricting suppliers clears on the restriction's loss.

    Parameters
    ----------
    restriction : Restriction
    demand_elasticity, supply_elasticity, demand_range, supply_range, price_spare
        As :func:`timeline`.

    Returns
    -------
    PriceEffect

    Examples
    --------
    >>> r = critmin.restrict("CHN", "graphite", 2023, cut=0.5, cascade=False)
    >>> e = critmin.price_effect(r, -0.3, 0.2)
    >>> bool(e.price_change["high"] >= e.price_change["central"] >= e.price_change["low"] > 0)
    True
    """
    if not isinstance(restriction, Restriction):
        raise InvalidInput("price_effect takes the result of critmin.restrict")
    band = _band(demand_elasticity, supply_elasticity, demand_range, supply_range)
    if band is None:
        raise InvalidInput(PRICE_OFF)
    spare = checks.as_fraction(price_spare, "price_spare")
    net = network(restriction.mineral, restriction.year, restriction.stage)
    g = net.network
    codes = g.countries.astype(str)
    rows = restriction.countries[restriction.countries["country"].isin(set(codes))]
    loss = pd.Series(rows["loss_t"].to_numpy(float), index=rows["country"]).reindex(codes)
    use = np.clip(g.supply, 0.0, None)
    outside = 1.0 - g.mask(restriction.suppliers)
    lost = np.clip(loss.fillna(0.0).to_numpy(), 0.0, None)
    q0 = float((use * outside).sum())
    shock = min(float((lost * outside).sum()) / q0, 1.0) if q0 > 0 else 0.0
    out = market.clear_band(shock, band, spare)
    cut = market.importer_losses(out.demand_reduction, use * outside)
    frame = pd.DataFrame({
        "country": codes, "supply_t": g.supply, "loss_t": lost,
        "price_loss_t": cut[1], "price_loss_low_t": cut[2], "price_loss_high_t": cut[0],
    })
    frame["price_loss_share"] = engine.share_of(frame["price_loss_t"].to_numpy(),
                                                frame["supply_t"].to_numpy())
    frame = frame[(outside > 0) & (use > 0)].sort_values("price_loss_t", ascending=False)
    return PriceEffect(
        mineral=restriction.mineral, year=restriction.year, suppliers=restriction.suppliers,
        parameters=_parameters(band, spare), shock_share=shock,
        price_change={"low": float(out.price_change[2]), "central": float(out.price_change[1]),
                      "high": float(out.price_change[0])},
        countries=schema.select("price_effect", frame.reset_index(drop=True)),
        notes=[f"the market is the world outside {label_of(restriction.suppliers)} "
               f"({q0:,.0f} t a year of use)", *restriction.notes],
    )

