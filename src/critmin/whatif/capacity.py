"""Capacity that exists: each country's exportable surplus at a stage (output minus own use,
re-exports excluded), the registry of documented capacity projects, and the capacity paths
a pact in ``new`` mode runs on.

Output at a stage comes from the bundled production sources (mine output at the mineral's
production stage, refinery or other stage output where a source reports it, as in the cube
and the stage table); where no source reports the stage, or a source withholds the
country's figure, the output is unknown and a net exporter's surplus is withheld, not zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin import cache, catalog, checks, numbers, resolve, schema
from critmin.errors import InvalidInput, NotFound, nearest
from critmin.scenarios import surplus as calc
from critmin.store import get_store
from critmin.trade_network import HEADLINE, MineralNetwork, label_of, network
from critmin.whatif.formatting import json_float

PATH_YEARS = 15
"""Years a capacity path is followed from its start (or from the trade year)."""


# -- output and surplus on a network ---------------------------------------------------------

def primary_output(net: MineralNetwork) -> np.ndarray:
    """Each country's production of the mineral at its production stage (mine output for
    most), in the network's order; 0 where no source lists it."""
    rows = cache.load(get_store(), "cube", years=[net.year], minerals=[net.mineral])
    made = rows.groupby("country")["production_t"].sum(min_count=1).dropna()
    countries = pd.Series(net.network.countries.astype(str))
    return countries.map(made).fillna(0.0).to_numpy(float, copy=True)


def stage_output(net: MineralNetwork) -> np.ndarray:
    """Each country's output at the network's stage, in the network's order, on its basis;
    NaN where no source reports it (no country reports the stage, or the source withholds
    the country's figure). At a stage some source reports, a country it does not list
    produces nothing."""
    store = get_store()
    countries = pd.Series(net.network.countries.astype(str))
    minerals = store.table("minerals").set_index("mineral")
    if net.stage == HEADLINE:
        rows = cache.load(store, "cube", years=[net.year], minerals=[net.mineral])
        stage = str(minerals.loc[net.mineral, "production_stage"])
    else:
        rows = cache.load(store, "stages", years=[net.year], minerals=[net.mineral])
        rows = rows[rows["stage"] == net.stage]
        stage = net.stage
    made = rows.groupby("country")["production_t"].sum(min_count=1).dropna()
    if made.empty:
        return np.full(len(countries), np.nan)
    output = countries.map(made).fillna(0.0).to_numpy(float, copy=True)
    withheld = store.table("production_withheld")
    hidden = withheld[(withheld["year"] == net.year) & (withheld["mineral"] == net.mineral)
                      & (withheld["stage"] == stage)]["country"]
    output[countries.isin(set(hidden)).to_numpy() & (output <= 0)] = np.nan
    return output


def trade_at_output_stage(net: MineralNetwork) -> bool:
    """Whether the network's trade includes the stage of its output: False for a headline
    whose production stage has no trade in the data (lithium: mine output, chemicals
    traded), where own use cannot be told."""
    if net.stage != HEADLINE:
        return True
    stage = str(get_store().table("minerals").set_index("mineral").loc[net.mineral,
                                                                        "production_stage"])
    return stage in stages_with_trade(net.mineral, net.year)


def network_surplus(net: MineralNetwork) -> pd.DataFrame:
    """Output, imports, exports, own use, exportable surplus and re-exports of every
    country of the network (tonnes on the basis; NaN: output not reported)."""
    g = net.network
    output = stage_output(net)
    imports, exports = g.imports, g.exports
    covered = trade_at_output_stage(net)
    surplus = calc.exportable_surplus(output, imports, exports, trade_at_output_stage=covered)
    use = (calc.own_use(output, imports, exports) if covered
           else np.full(len(output), np.nan))
    # where the stage's output is not reported, what a country exports of its own material
    # is at most its net exports and its primary production
    bound = np.where(np.isnan(surplus),
                     np.minimum(np.maximum(exports - imports, 0.0), primary_output(net)),
                     surplus)
    return pd.DataFrame({
        "country": g.countries.astype(str), "output_t": output, "imports_t": imports,
        "exports_t": exports, "own_use_t": use,
        "surplus_t": surplus,
        # exports beyond its own output can only be other countries' material
        "re_exports_t": np.maximum(exports - output, 0.0),
        "bound_t": bound,
    })


def balance_of(net: MineralNetwork, country: str) -> dict[str, float]:
    """One country's row of :func:`network_surplus` as plain floats (NaN: not known)."""
    table = network_surplus(net)
    rows = table[table["country"] == country].drop(columns="country")
    if rows.empty:
        raise InvalidInput(f"{label_of([country])} recorded no trade or production of "
                           f"{net.mineral} in {net.year}")
    return {str(k): float(v) for k, v in rows.iloc[0].to_dict().items()}


def describe(country: str, row: Mapping[str, float], net: MineralNetwork) -> str:
    """What a country's surplus is made of, in words."""
    unit = f"t {net.basis}"
    where = (f"the {net.stage} stage" if net.stage != HEADLINE
             else "the mineral's production stage")
    name = label_of([country])

    def t(value: float) -> str:
        return numbers.tonnes(value, unit)

    if np.isnan(row["output_t"]):
        if np.isnan(row["surplus_t"]):
            return (f"{name}'s output at {where} is not reported (withheld, not zero), so its "
                    f"own exports cannot be told from re-exports: at most its net exports "
                    f"({t(row['exports_t'])} out - {t(row['imports_t'])} in) and its "
                    f"production of the mineral, {t(row['bound_t'])}")
        return (f"{name} is a net importer at {where} ({t(row['imports_t'])} in, "
                f"{t(row['exports_t'])} out; output not reported): no exportable surplus")
    if np.isnan(row["own_use_t"]):
        text = (f"{name}: output {t(row['output_t'])} at {where}, whose own trade "
                "is not in the data (own use not known): surplus = its exports up to its output, "
                f"{t(row['surplus_t'])}")
    else:
        text = (f"{name}: output {t(row['output_t'])} at {where} - own use "
                f"{t(row['own_use_t'])} (output + imports - exports) = surplus "
                f"{t(row['surplus_t'])}")
    if row["re_exports_t"] > 0.05:
        text += (f"; {t(row['re_exports_t'])} of its exports are beyond its output "
                 "(re-exports, excluded)")
    return text


# -- the public data function ----------------------------------------------------------------

@dataclass
class Surplus:
    """A country's exportable surplus of a mineral at a stage, and what it is made of."""

    country: str
    mineral: str
    year: int
    stage: str
    basis: str
    output_t: float | None
    """None: not reported at the stage (withheld, not zero)."""
    imports_t: float
    exports_t: float
    own_use_t: float | None
    surplus_t: float | None
    re_exports_t: float | None
    made_of: str

    def summary(self) -> str:
        """One line for people."""
        return self.made_of

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {k: (json_float(v) if isinstance(v, float) else v) for k, v in vars(self).items()}


def surplus(country: str, mineral: str, year: int | None = None, stage: str | None = None
            ) -> Surplus:
    """A country's exportable surplus of a mineral at a stage: its output minus its own use
    (apparent consumption, output + imports - exports), never its re-exports.

    Parameters
    ----------
    country : str
    mineral : str
    year : int, optional
        Default: the latest complete year.
    stage : str, optional
        As in :func:`critmin.network`; default the headline stages, whose output is the
        mineral's production (mine output for most).

    Returns
    -------
    Surplus
        ``surplus_t`` None where the output is not reported and the country is a net
        exporter (withheld, not zero).

    Examples
    --------
    >>> s = critmin.surplus("RUS", "lithium", 2024)
    >>> bool(s.surplus_t <= s.output_t < s.exports_t)
    True
    """
    net = network(mineral, year, stage)
    code = resolve.country(checks.as_name(country, "country"))
    row = balance_of(net, code)

    def value(key: str) -> float | None:
        return None if np.isnan(row[key]) else row[key]

    return Surplus(
        country=code, mineral=net.mineral, year=net.year, stage=net.stage, basis=net.basis,
        output_t=value("output_t"), imports_t=row["imports_t"],
        exports_t=row["exports_t"], own_use_t=value("own_use_t"),
        surplus_t=value("surplus_t"), re_exports_t=value("re_exports_t"),
        made_of=describe(code, row, net),
    )


# -- documented projects and capacity paths ---------------------------------------------------

def projects(country: str | None = None, mineral: str | None = None,
             stage: str | None = None) -> pd.DataFrame:
    """Documented capacity projects (``catalog/projects.csv``): planned, building or
    producing capacity by country, mineral and stage, with its source.

    Parameters
    ----------
    country, mineral, stage : str, optional
        Keep only these.

    Returns
    -------
    pandas.DataFrame
        One row per project; ``capacity_t`` is the capacity on the mineral's basis
        (``capacity`` x ``content_factor``; empty where not published).

    Examples
    --------
    >>> p = critmin.projects("RUS", "lithium").set_index("id")
    >>> int(p.loc["rus-polar-lithium-kolmozerskoye", "start_year"])
    2026
    """
    table = catalog.load("projects")
    table["capacity_t"] = table["capacity"] * table["content_factor"]
    if country is not None:
        table = table[table["country"] == resolve.country(checks.as_name(country, "country"))]
    if mineral is not None:
        table = table[table["mineral"] == resolve.mineral(checks.as_name(mineral, "mineral"))]
    if stage is not None:
        table = table[table["stage"] == checks.as_name(stage, "stage")]
    return schema.select("projects", table.reset_index(drop=True))


def project_label(row: Mapping[str, Any], unit: str) -> str:
    """A project in a few words: id, capacity on the basis, start, status."""
    size = ("capacity not published" if pd.isna(row["capacity_t"])
            else f"{float(row['capacity_t']):,.0f} {unit}")
    start = ("start not published" if pd.isna(row["start_year"])
             else f"from {int(row['start_year'])}")
    return f"{row['id']} ({size}, {start}, {row['status']})"


@dataclass(frozen=True)
class Path:
    """New capacity year by year, and where it comes from."""

    capacity_t: float
    start: int
    ramp_years: int
    source: str
    project: str | None = None


def project_path(project_id: str, supplier: str, net: MineralNetwork) -> Path:
    """The capacity path of a documented project, checked against the pact: the same
    country, mineral and stage (for a headline network, its traded stage or its production
    stage)."""
    mineral = net.mineral
    stages = [net.stage]
    if net.stage == HEADLINE:
        minerals = get_store().table("minerals").set_index("mineral")
        stages = [*stages_with_trade(mineral, net.year),
                  str(minerals.loc[mineral, "production_stage"])]
    stage = " or ".join(dict.fromkeys(stages))
    table = projects()
    name = checks.as_name(project_id, "project")
    rows = table.set_index("id")
    if name not in rows.index:
        raise NotFound(f"unknown project {name!r}",
                       suggestions=nearest(name, rows.index) or list(rows.index[:3]))
    row = rows.loc[name]
    fits = table[(table["country"] == supplier) & (table["mineral"] == mineral)
                 & table["stage"].isin(stages)]["id"].tolist()
    if (row["country"], row["mineral"]) != (supplier, mineral) or row["stage"] not in stages:
        raise InvalidInput(
            f"project {name} is {row['mineral']} at the {row['stage']} stage in "
            f"{row['country']}, not {mineral} at the {stage} stage in {supplier}",
            suggestions=fits)
    if pd.isna(row["capacity_t"]) or pd.isna(row["start_year"]):
        missing = "capacity" if pd.isna(row["capacity_t"]) else "start year"
        raise InvalidInput(f"project {name} publishes no {missing} ({row['status']}; "
                           f"{row['source']}): give --capacity and --start instead")
    ramp = 0 if pd.isna(row["ramp_years"]) else int(row["ramp_years"])
    return Path(float(row["capacity_t"]), int(row["start_year"]), ramp,
                f"project {name}: {row['capacity']:,.0f} {row['unit']} x {row['content_factor']}"
                f" ({row['factor_source']}); {row['status']}; {row['source']}", name)


def given_path(capacity: float, start: int | None, ramp: int | None, year: int) -> Path:
    """A capacity path given by the user: tonnes a year on the basis, first year, ramp."""
    tonnes = checks.as_float(capacity, "capacity", 0.0)
    first = year + 1 if start is None else checks.as_int(start, "start", minimum=1900,
                                                         maximum=2200)
    years = 0 if ramp is None else checks.as_int(ramp, "ramp", minimum=0, maximum=50)
    return Path(tonnes, first, years, "capacity given by the user")


def delivery(path: Path, output: float, imports: float, exports: float, volume_t: float,
             year: int) -> dict[str, Any]:
    """Year by year: new capacity, what the supplier could export with it, and the first
    year that reaches the volume."""
    first = min(path.start, year + 1)
    years = np.arange(first, max(path.start, year) + path.ramp_years + PATH_YEARS)
    new = calc.capacity_path(path.capacity_t, path.start, path.ramp_years, years)
    can = calc.deliverable(new, output, imports, exports)
    return {
        "source": path.source, "project": path.project, "capacity_t": path.capacity_t,
        "start": path.start, "ramp_years": path.ramp_years,
        "deliverable_from": calc.first_year(years, can, volume_t),
        "full_capacity_deliverable_t": float(can[-1]),
        "path": [{"year": int(y), "new_capacity_t": float(c), "deliverable_t": float(d)}
                 for y, c, d in zip(years, new, can, strict=True)],
    }


def stages_with_trade(mineral: str, year: int) -> list[str]:
    """Stages of a mineral with trade in the year, upstream first."""
    links = cache.load(get_store(), "partners", years=[year], minerals=[mineral])
    traded = set(links.loc[links["qty_basis_t"] > 0, "stage"])
    return [s for s in schema.STAGES if s in traded]


def require_one_stage(net: MineralNetwork) -> None:
    """Refuse a volume on a headline network that adds up several stages (rare-earth
    compounds and metals): tonnes of one are not tonnes of the other, and a supplier's
    capacity exists at one stage."""
    if net.stage != HEADLINE:
        return
    stages = stages_with_trade(net.mineral, net.year)
    mixed = [s for s in stages if s in schema.HEADLINE_STAGES]
    if len(mixed) > 1:
        raise InvalidInput(
            f"the {net.mineral} headline network adds up several stages ({', '.join(mixed)}):"
            " a volume is tonnes at one stage, and so is a supplier's capacity; "
            f"give a stage (stages with trade in {net.year}: {', '.join(stages)})",
            suggestions=stages)
