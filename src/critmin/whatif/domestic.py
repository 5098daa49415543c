"""Domestic capacity on real data: what new output of a mineral at one stage in a country
changes in its imports, reliance and exposure to a restriction at that stage, and the feed
the new plants need one stage up, with where it could come from.

New output replaces the country's imports at the stage (capped at them: output beyond its
imports is reported as a surplus, not counted as exports). The feed is the new output on the
mineral's basis (process losses are not counted: no sourced yield); it comes from the
country's own output upstream (its mine output, part of which it may already export) or from
imports at the upstream stages, where the restricting supplier's share is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, numbers, resolve, schema
from critmin.errors import InvalidInput, NotFound, nearest
from critmin.metrics.concentration import CHINA
from critmin.scenarios import domestic as calc
from critmin.scenarios.network import Network, importer_metrics
from critmin.scenarios.surplus import capacity_path
from critmin.store import get_store
from critmin.trade_network import HEADLINE, MineralNetwork, label_of, network, required_parties
from critmin.whatif import capacity as cap
from critmin.whatif.formatting import format_share, format_tonnes, json_float
from critmin.whatif.pacts import METRIC_UNITS, importer_view
from critmin.whatif.restrictions import cascade_params

UNITS = {**METRIC_UNITS, "china_supply_share": "share"}


@dataclass
class Domestic:
    """New domestic output's effect on the country at the stage, and the feed it needs."""

    country: str
    mineral: str
    year: int
    stage: str
    basis: str
    displace: str
    output_t: float
    """The new output at full capacity, tonnes a year on the basis."""
    displaced_t: float
    surplus_t: float
    before: dict[str, float | None]
    after: dict[str, float | None]
    exposure_before: float
    exposure_after: float
    against: dict[str, Any]
    capacity: dict[str, Any]
    """Where the output comes from (a project or given), start, ramp and year of full
    capacity (None: start not published or not given)."""
    feed: dict[str, Any]
    """The feed one stage up and where it could come from."""
    upstream: pd.DataFrame
    """The country's output and trade at each upstream stage with trade in the year."""
    displaced_from: pd.DataFrame
    metrics: pd.DataFrame
    warnings: list[str]
    notes: list[str]

    def conclusion(self) -> str:
        """Where the dependence goes, in one sentence."""
        f = self.feed
        unit = f"t {self.basis}"
        name = label_of([self.country])
        if self.output_t <= 0:
            return "no new output: nothing changes"
        if not f["upstream_stages"]:
            return (f"the new output is at the first stage of the chain ({self.stage}): it "
                    "needs no feed from another stage, so the dependence falls without moving "
                    "upstream")
        if f["shortfall_t"] <= 1e-9:
            return (f"{name}'s own output upstream, net of what it exports, could cover the "
                    f"{numbers.tonnes(f['feed_t'], unit)} of feed (if its other domestic users "
                    "give it up): the dependence falls unless the feed is imported")
        who = label_of(self.against["suppliers"])
        shares = "; ".join(f"{r['stage']}: {format_share(r['against_share'])}"
                           for r in f["imports"] if r["imports_t"] > 0)
        return (f"dependence moves upstream unless the feed is domestic: {name}'s output net "
                f"of its exports covers at most {numbers.tonnes(f['domestic_t'], unit)} of the "
                f"{numbers.tonnes(f['feed_t'], unit)} of feed, leaving "
                f"{numbers.tonnes(f['shortfall_t'], unit)} to import one stage up, where "
                f"{who}'s share of its imports is {shares or 'nil (no imports)'}")

    def summary(self) -> str:
        """A few lines for people."""
        names = resolve.country_names()
        a = str(names.get(self.country, self.country))
        who = label_of(self.against["suppliers"])
        b, c = self.before, self.after
        when = self.capacity["timing"]
        lines = [
            f"{a}: {format_tonnes(self.output_t)} t {self.basis} a year of new {self.mineral} "
            f"output at the {self.stage} stage ({self.capacity['source']}); {when}",
            f"imports at the stage: {format_tonnes(b['imports_t'] or 0.0)} -> "
            f"{format_tonnes(c['imports_t'] or 0.0)} t {self.basis} ({self.displace}); surplus "
            f"beyond imports {format_tonnes(self.surplus_t)} t",
            f"import reliance: {format_share(b['import_reliance'])} -> "
            f"{format_share(c['import_reliance'])}; China's share of supply: "
            f"{format_share(b['china_supply_share'])} -> "
            f"{format_share(c['china_supply_share'])}",
            f"loss if {who} cut{'s' if len(self.against['suppliers']) == 1 else ''} "
            f"{format_share(self.against['cut'])} of exports: "
            f"{format_share(self.exposure_before)} of supply today, "
            f"{format_share(self.exposure_after)} with the new output",
            f"feed one stage up: {format_tonnes(self.feed['feed_t'])} t {self.basis} "
            f"({self.feed['made_of']})",
            self.conclusion(),
        ]
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "country": self.country, "mineral": self.mineral, "year": self.year,
            "stage": self.stage, "basis": self.basis, "displace": self.displace,
            "output_t": self.output_t, "displaced_t": self.displaced_t,
            "surplus_t": self.surplus_t, "before": self.before, "after": self.after,
            "exposure_before": json_float(self.exposure_before),
            "exposure_after": json_float(self.exposure_after), "against": self.against,
            "capacity": self.capacity, "feed": self.feed,
            "upstream": [{k: (json_float(v) if isinstance(v, float) else v)
                          for k, v in r.items()}
                         for r in self.upstream.to_dict("records")],
            "displaced_from": [{k: (json_float(v) if isinstance(v, float) else v)
                                for k, v in r.items()}
                               for r in self.displaced_from.to_dict("records")],
            "conclusion": self.conclusion(), "warnings": self.warnings, "notes": self.notes,
        }


def domestic(country: str, mineral: str, stage: str | None = None,
             capacity: float | None = None, project: str | None = None,
             start: int | None = None, ramp: int | None = None, year: int | None = None,
             against: Sequence[str] | str = "CHN", against_cut: float = 1.0,
             displace: str = "pro-rata", cascade: bool = True, stock_buffer: float = 0.0,
             spare_capacity: float = 0.0) -> Domestic:
    """What new domestic output of a mineral at a stage would change for a country, and the
    feed it needs one stage up.

    Parameters
    ----------
    country : str
        One country.
    mineral : str
    stage : str, optional
        The stage of the new output (``refined``, ``product``...); default a project's stage,
        else the headline network (one traded stage).
    capacity : float, optional
        New output, tonnes a year on the mineral's basis.
    project : str, optional
        Or a documented project (:func:`critmin.projects`): its capacity x content factor.
    start, ramp : int, optional
        First year of output and years to full capacity (default a project's; none
        published: the comparison is at full capacity on the trade year's flows).
    year : int, optional
        The trade year (default the latest complete year).
    against, against_cut
        The restriction the exposure is measured against (default: China cuts all), as in
        :func:`critmin.pact`.
    displace : str
        ``pro-rata`` (every supplier in proportion to what it ships) or ``china-first`` (the
        ``against`` suppliers first, then the others pro rata).
    cascade, stock_buffer, spare_capacity
        As in :func:`critmin.restrict`.

    Returns
    -------
    Domestic

    Examples
    --------
    >>> d = critmin.domestic("IND", "rare-earths", project="ind-repm-scheme-2025", year=2024)
    >>> bool(d.exposure_after < d.exposure_before), d.stage
    (True, 'product')
    """
    if displace not in calc.DISPLACE:
        raise InvalidInput(f"unknown displacement {displace!r}",
                           suggestions=nearest(str(displace), calc.DISPLACE)
                           or list(calc.DISPLACE))
    code = resolve.country(checks.as_name(country, "country"))
    slug = resolve.mineral(checks.as_name(mineral, "mineral"))
    row = _project(project, code, slug, stage, capacity)
    if row is not None:
        stage = str(row["stage"])
    net = network(slug, year, stage)
    cap.require_one_stage(net)
    g = net.network
    if code not in set(g.countries):
        raise InvalidInput(f"{label_of([code])} recorded no trade or production of "
                           f"{net.mineral} at the {net.stage} stage in {net.year}")
    output, timing = _timing(row, capacity, start, ramp, net)
    at = int(g.index([code])[0])
    cutters = required_parties(against, net.year, "against")
    cutting = [c for c in cutters.iso3 if c != code]
    cut_value = checks.as_fraction(against_cut, "against_cut")
    first = g.mask(cutting) if displace == "china-first" else None
    moved = calc.displace(g, at, output, first)
    params = cascade_params(cascade, stock_buffer, spare_capacity, None)
    members = np.array([at])

    def view(n: Network) -> tuple[dict[str, float | None], float]:
        stats, loss = importer_view(n, members, code, False, cutting, cut_value, params)
        stats["china_supply_share"] = _china_supply_share(n, at)
        if not g.production.sum() > 0:  # the new output would be the stage's only one
            stats["score"] = None
        stats["exposure"] = json_float(loss)
        return stats, loss

    before, exposure_before = view(g)
    after, exposure_after = view(moved.network)
    unit = f"t {net.basis}"
    warnings = []
    if moved.surplus_t > 1e-9:
        warnings.append(
            f"the new output ({numbers.tonnes(output, unit)}) exceeds {label_of([code])}'s "
            f"imports at the {net.stage} stage ({numbers.tonnes(moved.displaced_t, unit)}): "
            f"{numbers.tonnes(moved.surplus_t, unit)} beyond its imports would have to find "
            "buyers abroad; it is not counted as exports")
    if code in cutters.iso3:
        warnings.append(f"{code} is also among the restricting countries: it is left out of "
                        "the restriction")
    upstream, feed = _feed(net, code, output, cutting)
    metrics = pd.DataFrame({"metric": list(before), "before": list(before.values()),
                            "after": [after[k] for k in before]})
    metrics["unit"] = metrics["metric"].map(UNITS).fillna("")
    metrics = schema.select("pact_metrics", metrics)
    names = g.countries.astype(str)
    shipped = g.flows[:, at]
    taken = pd.DataFrame({"supplier": names, "before_t": shipped,
                          "after_t": moved.network.flows[:, at],
                          "displaced_t": moved.displaced_from})
    taken = taken[taken["before_t"] > 0].sort_values("before_t", ascending=False)
    return Domestic(
        country=code, mineral=net.mineral, year=net.year, stage=net.stage, basis=net.basis,
        displace=displace, output_t=output, displaced_t=moved.displaced_t,
        surplus_t=moved.surplus_t, before=before, after=after,
        exposure_before=exposure_before, exposure_after=exposure_after,
        against={"suppliers": cutters.iso3, "cut": cut_value, "cascade": params.cascade},
        capacity=timing, feed=feed, upstream=upstream,
        displaced_from=taken.reset_index(drop=True), metrics=metrics,
        warnings=warnings, notes=[timing["timing"], *net.notes, *(
            [] if g.production.sum() > 0 else
            [f"no production is reported at the {net.stage} stage: the GeoPolRisk score "
             "(production concentration x import risk) is withheld after as before"])],
    )


def _china_supply_share(n: Network, at: int) -> float | None:
    """China's share of the country's apparent supply at the stage (its shipments to the
    country over the country's supply); None where the supply is not positive."""
    supply = float(n.supply[at])
    china = n.index([CHINA])
    if supply <= 0:
        return None
    return float(n.flows[china[0], at]) / supply if len(china) else 0.0


def _project(project: str | None, country: str, mineral: str, stage: str | None,
             capacity: float | None) -> pd.Series | None:
    """The documented project's row, checked against the what-if; None without one."""
    if (project is None) == (capacity is None):
        raise InvalidInput("give either a capacity (tonnes a year on the mineral's basis) or "
                           "a documented project (see critmin.projects())")
    if project is None:
        return None
    table = cap.projects().set_index("id")
    name = checks.as_name(project, "project")
    fits = table[(table["country"] == country) & (table["mineral"] == mineral)].index.tolist()
    if name not in table.index:
        raise NotFound(f"unknown project {name!r}", suggestions=list(dict.fromkeys(
            [*fits, *nearest(name, table.index)])) or list(table.index[:3]))
    row = table.loc[name]
    if (row["country"], row["mineral"]) != (country, mineral):
        raise InvalidInput(f"project {name} is {row['mineral']} in {row['country']}, not "
                           f"{mineral} in {country}", suggestions=fits)
    if stage is not None and checks.as_name(stage, "stage") != row["stage"]:
        raise InvalidInput(f"project {name} is at the {row['stage']} stage, not {stage}",
                           suggestions=[str(row["stage"])])
    if pd.isna(row["capacity_t"]):
        raise InvalidInput(f"project {name} publishes no capacity ({row['status']}; "
                           f"{row['source']}): give a capacity instead")
    return row.rename(name)


def _timing(row: pd.Series | None, capacity: float | None, start: int | None,
            ramp: int | None, net: MineralNetwork) -> tuple[float, dict[str, Any]]:
    """The new output at full capacity and when it comes: start, ramp, year of full
    capacity (from the user, else the project's; None when neither gives a start)."""
    if row is not None:
        output = float(row["capacity_t"])
        source = (f"project {row.name}: {row['capacity']:,.0f} {row['unit']} x "
                  f"{row['content_factor']} ({row['factor_source']}); {row['status']}; "
                  f"{row['source']}")
        start = start if start is not None or pd.isna(row["start_year"]) else int(
            row["start_year"])
        ramp = ramp if ramp is not None or pd.isna(row["ramp_years"]) else int(
            row["ramp_years"])
    else:
        output = checks.as_float(capacity, "capacity", 0.0)
        source = "capacity given by the user"
    years = 0 if ramp is None else checks.as_int(ramp, "ramp", minimum=0, maximum=50)
    out: dict[str, Any] = {"source": source, "project": None if row is None else row.name,
                           "capacity_t": output, "start": None, "ramp_years": ramp,
                           "full_capacity_year": None, "path": []}
    if start is None:
        why = ("the project publishes no start year" if row is not None
               else "no start year given")
        out["timing"] = (f"{why}: the comparison puts full capacity on the {net.year} trade "
                         "flows")
        return output, out
    first = checks.as_int(start, "start", minimum=1900, maximum=2200)
    full = first + max(years, 1) - 1
    span = np.arange(first, full + 1)
    out.update(start=first, ramp_years=years, full_capacity_year=full,
               path=[{"year": int(y), "new_capacity_t": float(c)} for y, c in
                     zip(span, capacity_path(output, first, years, span), strict=True)])
    out["timing"] = (f"output from {first}, full capacity from {full}; the comparison puts "
                     f"full capacity on the {net.year} trade flows")
    return output, out


def _plant_stage(net: MineralNetwork) -> str:
    """The stage of the new output in the stage order (a headline network's traded stage,
    else its production stage)."""
    if net.stage != HEADLINE:
        return net.stage
    traded = [s for s in cap.stages_with_trade(net.mineral, net.year)
              if s in schema.HEADLINE_STAGES]
    if traded:
        return traded[-1]
    minerals = get_store().table("minerals").set_index("mineral")
    return str(minerals.loc[net.mineral, "production_stage"])


def _feed(net: MineralNetwork, code: str, feed_t: float, cutting: list[str]
          ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The country's output and trade at each upstream stage with trade, and the feed: how
    much its own output net of exports could give, and what is left to import."""
    plant = _plant_stage(net)
    order = schema.STAGES.index(plant)
    ups = [s for s in schema.HEADLINE_STAGES if schema.STAGES.index(s) < order]
    if not ups:
        feed_t = 0.0
    traded = set(cap.stages_with_trade(net.mineral, net.year))
    rows = []
    for stage in [s for s in ups if s in traded]:
        up = network(net.mineral, net.year, stage)
        n = up.network
        where = n.index([code])
        if not len(where):
            rows.append({"stage": stage, "output_t": np.nan, "imports_t": 0.0,
                         "exports_t": 0.0, "china_share": np.nan, "against_share": np.nan})
            continue
        i = int(where[0])
        imports = float(n.imports[i])
        from_against = float(n.flows[n.index(cutting), i].sum()) if cutting else 0.0
        china = importer_metrics(n)["china_share"][i]
        rows.append({"stage": stage, "output_t": float(cap.stage_output(up)[i]),
                     "imports_t": imports, "exports_t": float(n.exports[i]),
                     "china_share": float(china),
                     "against_share": from_against / imports if imports > 0 else np.nan})
    table = pd.DataFrame(rows, columns=["stage", "output_t", "imports_t", "exports_t",
                                        "china_share", "against_share"])
    head = network(net.mineral, net.year) if net.stage != HEADLINE else net
    place = head.network.index([code])
    mined = float(cap.primary_output(head)[place[0]]) if len(place) else 0.0
    exported = float(table["exports_t"].sum())
    own = max(mined - exported, 0.0)
    domestic_t = min(own, feed_t)
    unit = f"t {net.basis}"
    skipped = [s for s in ups if s not in traded]
    made_of = (f"{label_of([code])} produced {numbers.tonnes(mined, unit)} of "
               f"{net.mineral} at its production stage in {net.year} and exported "
               f"{numbers.tonnes(exported, unit)} at the upstream stages: at most "
               f"{numbers.tonnes(own, unit)} is left at home")
    feed = {
        "feed_t": feed_t, "plant_stage": plant, "upstream_stages": ups,
        "stages": table["stage"].tolist(), "stages_without_trade": skipped,
        "production_t": mined, "upstream_exports_t": exported,
        "own_output_left_t": own, "domestic_t": domestic_t,
        "shortfall_t": max(feed_t - domestic_t, 0.0), "made_of": made_of,
        "imports": [{k: (json_float(v) if isinstance(v, float) else v) for k, v in r.items()}
                    for r in table.to_dict("records")],
        "note": "the feed is the new output on the mineral's basis: process losses are not "
                "counted (no sourced yield)",
    }
    return table, feed
