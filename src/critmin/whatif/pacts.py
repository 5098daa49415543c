"""Supply agreements on real data: what a supplier delivering an importer a volume of a
mineral changes in the importer's metrics and in its loss under a restriction, and whether
the supplier can deliver it today (its production, exports and reserves).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from critmin import cache, checks, resolve, schema
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
            f"{self.against['cut']:.0%} of exports: {format_share(self.exposure_before)} of supply "
            f"today, {format_share(self.exposure_after)} with the agreement",
            f"China's share of {a}'s imports: {format_share(self.before['china_share'])} -> "
            f"{format_share(self.after['china_share'])}",
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
            "exposure_before": json_float(self.exposure_before),
            "exposure_after": json_float(self.exposure_after), "against": self.against,
            "feasible": self.feasible, "warnings": self.warnings,
            "feasibility": self.feasibility, "notes": self.notes, "agreement": self.agreement,
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
        As in :func:`critmin.restrict`.

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
        info, importer, supplier, mineral, notes = agreement_inputs(agreement, importer,
                                                                    supplier, mineral)
    if importer is None or supplier is None or mineral is None:
        raise InvalidInput("give an importer, a supplier and a mineral (or an agreement)")
    if mode not in pact_mod.MODES:
        raise InvalidInput(f"unknown mode {mode!r}", suggestions=list(pact_mod.MODES))
    if (volume is None) == (share is None):
        raise InvalidInput("give either a volume in tonnes or a share of the importer's imports")
    net = network(mineral, year, stage)
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

    def view(n: Network) -> tuple[dict[str, float | None], float]:
        joined = collapse(n, members, label) if one else n
        where = joined.size - 1 if one else int(joined.index([label])[0])
        stats = {k: json_float(v[where]) for k, v in importer_metrics(joined).items()}
        outcome = engine.run(joined, cut_value * joined.mask(
            [c for c in cutters.iso3 if c not in imp.iso3]), None, None, params)
        return stats, float(outcome.loss_share[0, where])

    before, exposure_before = view(g)
    after, exposure_after = view(deal.network)
    before["exposure"] = json_float(exposure_before)
    after["exposure"] = json_float(exposure_after)
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
    rows = cache.load(get_store(), "cube", years=[net.year], minerals=[net.mineral],
                        countries=[b])
    value = float(rows["production_t"].fillna(0.0).sum()) if len(rows) else 0.0
    return value, f"production (at the mineral's production stage; none is reported at the {net.stage} stage)"


def _feasibility(net: MineralNetwork, b: str, deal: pact_mod.Agreement, mode: str,
                 p: float, measured: str) -> tuple[list[str], bool]:
    """Warnings when the supplier cannot deliver the volume today, and whether it can."""
    unit = f"t {net.basis}"
    v = deal.volume_t
    x_others = deal.supplier_exports_to_others_t
    name = label_of([b])
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
