"""Supply agreements on real data: what a supplier delivering an importer a volume of a
mineral changes in the importer's metrics and in its loss under a restriction, and whether
the supplier can deliver it today (its production, exports and reserves).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin import cache, checks, numbers, resolve, schema
from critmin.coverage import Coverage, of_suppliers
from critmin.errors import InvalidInput
from critmin.scenarios import cascade as engine
from critmin.scenarios import pact as pact_mod
from critmin.scenarios.network import Network, collapse, importer_metrics
from critmin.store import get_store
from critmin.trade_network import (
    HEADLINE,
    MineralNetwork,
    label_of,
    network,
    required_parties,
)
from critmin.whatif import capacity as cap
from critmin.whatif.formatting import format_share, format_tonnes, json_float
from critmin.whatif.registries import agreement_inputs
from critmin.whatif.restrictions import cascade_params


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
    surplus: dict[str, Any] | None = None
    """The supplier's exportable surplus at the stage and what it is made of."""
    capacity: dict[str, Any] | None = None
    """``new`` mode with a capacity path: the path year by year and the first year the
    supplier could deliver the volume (``deliverable_from``, None: never within the path)."""
    coverage: Coverage | None = None
    """Share of the supplier's known output the network's exports represent."""

    def verdict(self) -> str:
        """Whether and from what the supplier can deliver, in a few words."""
        if self.capacity is not None:
            year = self.capacity["deliverable_from"]
            return (f"deliverable from {year} with the capacity path" if year is not None
                    else "NOT deliverable within the capacity path")
        if not self.feasible:
            return ("NOT feasible from existing surplus, and no capacity path given"
                    if self.mode == "new" else "NOT feasible today")
        known = self.surplus is None or self.surplus["surplus_t"] is not None
        within = ("within the supplier's exportable surplus" if known else
                  "only if the supplier's exports are its own material: its output at the "
                  "stage is not reported")
        return (f"feasible with today's trade ({within})" if self.mode == "redirect"
                else f"feasible from existing surplus ({within})")

    def summary(self) -> str:
        """A few lines for people."""
        names = resolve.country_names()
        a = str(names.get(self.importer, self.importer))
        b = str(names.get(self.supplier, self.supplier))
        who = label_of(self.against["suppliers"])
        lines = [
            f"{b} supplies {a} {format_tonnes(self.delivered_t)} t {self.basis} of "
            f"{self.mineral} a year ({self.mode}; {self.year} trade)",
            f"{a}'s loss if {who} cut{'s' if len(self.against['suppliers']) == 1 else ''} "
            f"{format_share(self.against['cut'])} of exports: "
            f"{format_share(self.exposure_before)} of supply today, "
            f"{format_share(self.exposure_after)} with the agreement",
            f"China's share of {a}'s imports: {format_share(self.before['china_share'])} -> "
            f"{format_share(self.after['china_share'])}",
            self.verdict(),
        ]
        if self.surplus is not None:
            lines.append(f"capacity: {self.surplus['made_of']}")
        if self.coverage is not None:
            lines.append(self.coverage.line(b))
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "importer": self.importer, "supplier": self.supplier, "mineral": self.mineral,
            "year": self.year, "stage": self.stage, "basis": self.basis, "mode": self.mode,
            "volume_t": self.volume_t, "delivered_t": self.delivered_t,
            "before": self.before, "after": self.after,
            "exposure_before": json_float(self.exposure_before),
            "exposure_after": json_float(self.exposure_after), "against": self.against,
            "feasible": self.feasible, "warnings": self.warnings,
            "feasibility": self.feasibility, "notes": self.notes, "agreement": self.agreement,
            "verdict": self.verdict(), "surplus": self.surplus, "capacity": self.capacity,
            "coverage": None if self.coverage is None else self.coverage.to_dict(),
        }


METRIC_UNITS = {"imports_t": "t (basis)", "exports_t": "t (basis)", "supply_t": "t (basis)",
                "import_reliance": "share", "china_share": "share", "import_hhi": "0-1",
                "top_supplier_share": "share", "wta": "0-1", "score": "0-1",
                "exposure": "share"}


def pact(importer: str | None = None, supplier: str | None = None, mineral: str | None = None,
         volume: float | None = None, share: float | None = None, mode: str = "redirect",
         against: Sequence[str] | str = "CHN", against_cut: float = 1.0,
         year: int | None = None, stage: str | None = None, agreement: str | None = None,
         cascade: bool = True, stock_buffer: float = 0.0,
         spare_capacity: float = 0.0, capacity: float | None = None,
         start: int | None = None, ramp: int | None = None,
         project: str | None = None) -> Pact:
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
        capacity: the supplier's production rises by the volume). Either is feasible only
        within the supplier's exportable surplus at the stage (output minus own use,
        re-exports excluded; :func:`critmin.surplus`), or in ``new`` mode once a capacity
        path delivers the volume.
    against : str or list of str
        The restriction the exposure is measured against: these suppliers cut
        ``against_cut`` of their exports (default: China cuts all).
    agreement : str, optional
        An agreements-registry id: importer, supplier and minerals come from it.
    year, stage, cascade, stock_buffer, spare_capacity
        As in :func:`critmin.restrict`. A mineral whose headline network mixes stages (rare
        earths: compounds and metals) needs a stage.
    capacity, start, ramp : optional
        ``new`` mode: a capacity path, ``capacity`` tonnes a year on the basis, output from
        year ``start`` (default the year after the trade year) rising in a straight line to
        full capacity in its ``ramp``-th year (default: full from the start).
    project : str, optional
        ``new`` mode: or a documented project's path (:func:`critmin.projects`).

    Returns
    -------
    Pact

    Examples
    --------
    >>> p = critmin.pact("IND", "CHL", "lithium", volume=200, year=2023)
    >>> bool(p.exposure_after < p.exposure_before)
    True
    """
    info = None
    notes: list[str] = []
    if agreement is not None:
        info, importer, supplier, mineral, notes = agreement_inputs(agreement, importer,
                                                                    supplier, mineral)
    if importer is None or supplier is None or mineral is None:
        raise InvalidInput("give an importer, a supplier and a mineral (or an agreement)")
    if mode not in pact_mod.MODES:
        raise InvalidInput(f"unknown mode {mode!r}", suggestions=list(pact_mod.MODES))
    if (volume is None) == (share is None):
        raise InvalidInput("give either a volume in tonnes or a share of the importer's imports")
    net = network(mineral, year, stage)
    cap.require_one_stage(net)
    g = net.network
    imp = required_parties(importer, net.year, "importer")
    sup = required_parties(supplier, net.year, "supplier")
    if sup.groups or len(sup.iso3) != 1:
        raise InvalidInput("the supplier of an agreement is one country, not a group")
    b = sup.iso3[0]
    if b in imp.iso3:
        raise InvalidInput(f"{b} cannot be both importer and supplier")
    members = g.index(imp.iso3)
    if not len(members):
        raise InvalidInput(f"{label_of(imp.iso3)} recorded no trade or production of "
                           f"{net.mineral} in {net.year}")
    if b not in set(g.countries):
        raise InvalidInput(f"{label_of([b])} recorded no trade or production of {net.mineral} in "
                           f"{net.year}: it cannot be a supplier in the data")
    path = _capacity_path(mode, capacity, start, ramp, project, b, net)
    cover = of_suppliers(net, [b])
    if mode == "redirect":
        cover.require(f"an agreement redirecting exports of {label_of([b])}")
    label = next(iter(imp.groups)) if imp.groups else imp.iso3[0]
    imports_now = float(g.imports[members].sum())
    if volume is not None:
        tonnes = checks.as_float(volume, "volume", 0.0)
    else:
        tonnes = checks.as_fraction(share, "share") * imports_now
    at = int(g.index([b])[0])
    deal = pact_mod.apply(g, members, at, tonnes, mode)
    params = cascade_params(cascade, stock_buffer, spare_capacity, None)
    cutters = required_parties(against, net.year, "against")
    cut_value = checks.as_fraction(against_cut, "against_cut")
    one = len(members) > 1 or bool(imp.groups)
    cutting = [c for c in cutters.iso3 if c not in imp.iso3]

    def view(n: Network) -> tuple[dict[str, float | None], float]:
        return importer_view(n, members, label, one, cutting, cut_value, params)

    before, exposure_before = view(g)
    after, exposure_after = view(deal.network)
    before["exposure"] = json_float(exposure_before)
    after["exposure"] = json_float(exposure_after)
    production, _ = _supplier_production(net, b, deal)
    balance = cap.balance_of(net, b)
    made_of = cap.describe(b, balance, net)
    delivery = (None if path is None else cap.delivery(
        path, balance["output_t"], balance["imports_t"], balance["exports_t"], tonnes,
        net.year))
    warnings, feasible = _feasibility(net, b, deal, mode, balance, made_of, delivery)
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
        **{f"supplier_{k}": json_float(balance[k]) for k in (
            "output_t", "own_use_t", "surplus_t", "re_exports_t")},
    }
    return Pact(
        importer=label, supplier=b, mineral=net.mineral, year=net.year, stage=net.stage,
        basis=net.basis, mode=mode, volume_t=tonnes, delivered_t=deal.delivered_t,
        before=before, after=after, exposure_before=exposure_before,
        exposure_after=exposure_after,
        against={"suppliers": cutters.iso3, "cut": cut_value, "cascade": params.cascade},
        feasible=feasible, warnings=warnings, feasibility=feasibility, metrics=metrics,
        notes=notes + ([delivery["note"]] if delivery and "note" in delivery else [])
        + list(net.notes), agreement=info,
        surplus={"surplus_t": json_float(balance["surplus_t"]),
                 "bound_t": json_float(balance["bound_t"]), "made_of": made_of,
                 "output_reported": not np.isnan(balance["output_t"])},
        capacity=delivery, coverage=cover,
    )


def importer_view(n: Network, members: np.ndarray, label: str, one: bool,
                  cutters: Sequence[str], cut: float, params: engine.Params
                  ) -> tuple[dict[str, float | None], float]:
    """The importer's metrics on ``n`` and its loss if ``cutters`` withhold ``cut`` of their
    exports (its exposure, a share of its supply); ``one``: the ``members`` (positions) are
    served as one importer ``label``."""
    joined = collapse(n, members, label) if one else n
    where = joined.size - 1 if one else int(joined.index([label])[0])
    stats = {k: json_float(v[where]) for k, v in importer_metrics(joined).items()}
    outcome = engine.run(joined, cut * joined.mask(list(cutters)), None, None, params)
    return stats, float(outcome.loss_share[0, where])


def _capacity_path(mode: str, capacity: float | None, start: int | None, ramp: int | None,
                   project: str | None, b: str, net: MineralNetwork) -> cap.Path | None:
    """The capacity path of a ``new`` pact, from a project or given; None without one."""
    given = capacity is not None or start is not None or ramp is not None
    if (given or project is not None) and mode != "new":
        raise InvalidInput("a capacity path (capacity, start, ramp or project) is for mode "
                           "'new'")
    if project is not None:
        if given:
            raise InvalidInput("give either a project or a capacity path, not both")
        return cap.project_path(project, b, net)
    if not given:
        return None
    if capacity is None:
        raise InvalidInput("a capacity path needs a capacity (tonnes a year on the basis)")
    return cap.given_path(capacity, start, ramp, net.year)


def _supplier_production(net: MineralNetwork, b: str, deal: pact_mod.Agreement
                         ) -> tuple[float, str]:
    """The supplier's production to weigh the volume against, and what it measures: the
    stage's production, or the mineral's where no source reports the stage."""
    if net.stage == HEADLINE or net.network.production.sum() > 0:
        return deal.supplier_production_t, "production"
    rows = cache.load(get_store(), "cube", years=[net.year], minerals=[net.mineral],
                        countries=[b])
    value = float(rows["production_t"].fillna(0.0).sum()) if len(rows) else 0.0
    return value, f"production (at the mineral's production stage; none is reported at the {net.stage} stage)"


def _feasibility(net: MineralNetwork, b: str, deal: pact_mod.Agreement, mode: str,
                 balance: dict[str, float], made_of: str, delivery: dict[str, Any] | None
                 ) -> tuple[list[str], bool]:
    """Warnings when the supplier cannot deliver the volume, and whether it can: today's
    trade and exportable surplus (re-exports are not capacity), or a capacity path."""
    unit = f"t {net.basis}"
    v = deal.volume_t
    x_others = deal.supplier_exports_to_others_t
    name = label_of([b])
    surplus = balance["surplus_t"]
    warnings = []
    if mode == "redirect" and v > x_others + 1e-9:
        warnings.append(f"{name} exports only {numbers.tonnes(x_others, unit)} to other "
                        f"customers in {net.year}; it can redirect at most that "
                        f"({numbers.tonnes(v, unit)} asked): 'after' ships "
                        f"{numbers.tonnes(deal.delivered_t, unit)}")
    if np.isnan(surplus):
        surplus = balance["bound_t"]
        warnings.append(f"{made_of}: {numbers.tonnes(v, unit)} "
                        + ("is within that bound only if its exports are its own material"
                           if v <= surplus + 1e-9 else "is beyond it"))
    elif v > surplus + 1e-9:
        warnings.append(f"the volume ({numbers.tonnes(v, unit)}) is beyond {name}'s "
                        f"exportable surplus of {numbers.tonnes(surplus, unit)} in {net.year} "
                        "(output minus own use; "
                        "re-exports are not capacity)")
    within = bool(v <= surplus + 1e-9)
    feasible = within and (mode == "new" or v <= x_others + 1e-9)
    if mode == "new":
        feasible = _new_capacity(net, b, v, within, delivery, warnings)
    re_exports = balance["re_exports_t"]
    if re_exports > 0.5 * deal.supplier_exports_t > 0:
        warnings.append(f"{name} exports {numbers.tonnes(deal.supplier_exports_t, unit)}, of "
                        f"which {numbers.tonnes(re_exports, unit)} beyond its own output: what it "
                        "ships is mostly "
                        "other countries' material (a transit hub)")
    return warnings, feasible


def _new_capacity(net: MineralNetwork, b: str, v: float, within: bool,
                  delivery: dict[str, Any] | None, warnings: list[str]) -> bool:
    """``new`` mode: deliverable from a capacity path, or from the existing surplus."""
    unit = f"t {net.basis}"
    name = label_of([b])
    where = "" if net.stage == HEADLINE else f" at the {net.stage} stage"
    if delivery is None:
        known = cap.projects(b, net.mineral, None if net.stage == HEADLINE else net.stage)
        listed = "; ".join(cap.project_label(r, unit) for r in known.to_dict("records"))  # type: ignore[arg-type]  # column names are str
        warnings.append(
            f"'new' adds {numbers.tonnes(v, unit)} of capacity with no capacity path: nothing "
            "says when "
            f"{name} could deliver it; give capacity, start and ramp, or a project. Documented "
            f"projects in {name}{where}: {listed or 'none'}")
        return within
    year = delivery["deliverable_from"]
    if year is None:
        warnings.append(
            f"the capacity path ({delivery['source']}) never lets {name} export "
            f"{numbers.tonnes(v, unit)}: at full capacity, after its own use (new capacity first "
            "replaces its net imports), it could export "
            f"{numbers.tonnes(delivery['full_capacity_deliverable_t'], unit)}")
        return False
    delivery["note"] = (f"{name} could deliver {numbers.tonnes(v, unit)} a year from {year} "
                        f"({delivery['source']}); the 'after' figures put that capacity on "
                        "today's trade")
    return True


def _reserves(country: str, mineral: str, year: int) -> float | None:
    table = get_store().table("reserves")
    rows = table[(table["country"] == country) & (table["mineral"] == mineral)
                 & table["qty_t"].notna()]
    if rows.empty:
        return None
    rows = rows[rows["year"] <= max(year, int(rows["year"].min()))]
    return float(rows.sort_values("year")["qty_t"].iloc[-1])
