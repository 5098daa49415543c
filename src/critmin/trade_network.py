"""A mineral's trade network read from the store, and the countries a user names in it.

The what-if scenarios (:mod:`critmin.whatif`) and the sourcing optimiser
(:mod:`critmin.sourcing`) both start here: :func:`network` turns the cube's flows on a
mineral's basis, production and governance risk into the arrays their engines take (a
:mod:`critmin.scenarios.network` ``Network``); :func:`parties` expands the countries and
groups a user names into ISO3 codes, and :func:`label_of` names them back for people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from critmin import cache, checks, resolve, schema
from critmin.errors import Busy, InvalidInput, NotFound, nearest
from critmin.metrics.geopolrisk import MISSING_RISK
from critmin.scenarios.network import Network
from critmin.store import Store, get_store

HEADLINE = "headline"
"""The network of a mineral's headline stages (primary supply at and after its production
stage), as in the cube."""


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
    from critmin.years import stage_year

    slug, asked = resolve.mineral_stage(checks.as_name(mineral, "mineral"), stage)
    name = _stage(asked)
    for _ in range(3):
        store = get_store()
        try:
            chosen, note = stage_year(store, slug, None if name == HEADLINE else name, year)
            net = _network(store.fingerprint, slug, chosen, name)
            return net if note is None else replace(net, notes=(note, *net.notes))
        except _Moved:  # an import or reset between the two reads of the store: again
            continue
    raise Busy("the data changed three times while a network was read (imports under way); "
               "retry")


class _Moved(Exception):
    """The current store is no longer the one of the fingerprint asked for."""


@lru_cache(maxsize=16)
def _network(fingerprint: str, mineral: str, year: int, stage: str) -> MineralNetwork:
    # the network cached under a fingerprint is computed on that data, never on a newer
    # store (an exception is not cached)
    store = get_store()
    if store.fingerprint != fingerprint:
        raise _Moved
    links = cache.load(store, "partners", years=[year], minerals=[mineral])
    links = links[(links["stage"] == stage) & (links["qty_basis_t"] > 0)]
    if links.empty:
        raise InvalidInput(_no_trade(store, mineral, year, stage))
    notes: list[str] = []
    if stage == HEADLINE:
        rows = cache.load(store, "cube", years=[year], minerals=[mineral])
        production = rows.set_index("country")["production_t"]
    else:
        rows = cache.load(store, "stages", years=[year], minerals=[mineral])
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
    links = cache.load(store, "partners", minerals=[mineral])
    years = sorted(set(links.loc[(links["stage"] == stage) & (links["qty_basis_t"] > 0),
                                 "year"]))
    where = "" if stage == HEADLINE else f" at the {stage} stage"
    if not years:
        return f"no trade of {mineral}{where} in the data for any year{_why_no_trade(store, mineral, stage)}"
    span = f"{years[0]}-{years[-1]}" if len(years) > 2 else ", ".join(map(str, years))
    return f"no trade of {mineral}{where} recorded in {year}; years with trade: {span}"


def _why_no_trade(store: Store, mineral: str, stage: str) -> str:
    """Why a mineral (at a stage) has no trade network: its codes are not in the bundled
    trade, or are baskets shared with other minerals whose suppliers are not the mineral's."""
    from critmin.metrics.cube import BASKET_SHARE

    links = store.table("product_minerals")
    links = links[links["mineral"] == mineral]
    if stage != HEADLINE:
        links = links[links["stage"].astype(str) == stage]
    if links.empty:
        return f": the catalog maps no trade code to {mineral}{'' if stage == HEADLINE else ' at this stage'}"
    flows = store.table("flows")
    traded = set(flows.loc[flows["hs6"].isin(links["hs6"]) & (flows["qty_t"] > 0), "hs6"])
    absent = sorted(set(links["hs6"]) - traded)
    parts = []
    if absent:
        parts.append(f"{', '.join(absent)} {'is' if len(absent) == 1 else 'are'} not in the "
                     "bundled trade extract")
    baskets = links[links["hs6"].isin(traded) & links["allocation_share"].le(BASKET_SHARE)]
    if len(baskets):
        shares = ", ".join(f"{h} ({s:.0%} of its tonnes)" if s >= 0.005 else
                           f"{h} (under 1% of its tonnes)" for h, s in
                           zip(baskets["hs6"], baskets["allocation_share"], strict=True))
        parts.append(f"{shares} {'is a basket' if len(baskets) == 1 else 'are baskets'} "
                     f"shared with other minerals, whose exporters are not {mineral} suppliers")
    return (": " + "; ".join(parts)) if parts else ""


# -- countries and groups ----------------------------------------------------------------------

@dataclass(frozen=True)
class Parties:
    """Countries named by the user, groups expanded to their members in the year."""

    iso3: list[str]
    groups: dict[str, list[str]] = field(default_factory=dict)


def parties(values: Sequence[str] | str | None, year: int, what: str) -> Parties | None:
    """ISO3 codes of countries and groups (members in ``year``); None when ``values`` is
    None (no one named)."""
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


def required_parties(values: Sequence[str] | str | None, year: int, what: str) -> Parties:
    """As :func:`parties`, for an argument that must name at least one country or group."""
    named = parties(values, year, what)
    if named is None:
        raise InvalidInput(f"{what}: give a country or a group")
    return named


def label_of(codes: Sequence[str], groups: Mapping[str, list[str]] | None = None) -> str:
    """Countries for people: groups by their name, other countries by theirs, the first
    three and how many more."""
    names = resolve.country_names()
    grouped = {m for ms in (groups or {}).values() for m in ms}
    parts = list(groups or {}) + [str(names.get(c, c)) for c in codes if c not in grouped]
    return ", ".join(parts) if len(parts) <= 3 else f"{', '.join(parts[:3])} and {len(parts) - 3} more"
