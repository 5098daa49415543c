"""A country's briefing pack: key findings in sentences generated from the numbers, then the
charts of the minerals that matter, complete tables that back every sentence, and the
caveats and sources last; as an A4 (or Letter) PDF printed by headless Chromium, standalone
HTML, or a formatted Excel workbook.

The minerals that matter are those on the country's own critical list with a figure: the
:data:`SELECT_TOP` highest GeoPolRisk scores (the profile's risk ordering), and any other
on the list whose imports come at least :data:`CHINA_HIGH` from China.

>>> b = build("India", year=2023)
>>> {"rare-earths", "lithium", "graphite"} <= set(b.minerals)
True
>>> b.findings[0].startswith("On its own critical-mineral list")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from critmin import numbers
from critmin.errors import CritminError, InvalidInput

SELECT_TOP = 8
"""Minerals of the country's own list taken by the risk ordering (GeoPolRisk score)."""
CHINA_HIGH = 0.5
"""China's share of imports above which a mineral of the own list is also taken."""
TREND_YEARS = 5
"""Years a finding compares China's share over (the brief's year and four before)."""
TREND_SPAN = 10
"""Years the trend charts and tables span."""
CHINA_SENTENCES = 4
"""Minerals whose China share a finding states (the largest shares)."""
ALTERNATIVES = 5
"""Alternative suppliers listed per mineral."""
PACT_SHARE = 0.1
"""The volume a documented agreement stands for in the brief: a share of the importer's
current imports of the mineral (agreements name minerals, not tonnes)."""
FULL = 0.999
"""An import reliance at or above this counts as 100 % imported."""
PAPERS = {"a4": "A4", "letter": "Letter"}


def select_minerals(minerals: pd.DataFrame, top: int = SELECT_TOP) -> list[str]:
    """The minerals that matter in a profile's ``minerals`` table (in its risk order): the
    ``top`` first with a figure on the country's own critical list (all minerals when it
    has none), and any other there with China's share of imports at least
    :data:`CHINA_HIGH`.

    >>> t = pd.DataFrame({"mineral": ["a", "b", "c", "d"], "own_list": [True] * 3 + [False],
    ...                   "score": [0.3, 0.2, float("nan"), 0.5],
    ...                   "china_share": [0.1, 0.0, 0.9, 0.9]})
    >>> select_minerals(t, top=1)
    ['a', 'c']
    """
    m = minerals[minerals["score"].notna() | minerals["china_share"].notna()]
    own = m[m["own_list"].astype(bool)]
    pool = own if not own.empty else m
    later = pool.iloc[top:]
    chosen = pd.concat([pool.head(top), later[later["china_share"] >= CHINA_HIGH]])
    return [str(x) for x in chosen["mineral"]]


def _pct(value: Any) -> str:
    """A share as the brief prints it: whole per cent, '<1 %' for a trace."""
    if value is None or not np.isfinite(value):
        return "–"
    if 0 < value < 0.005:
        return "<1 %"
    return f"{value * 100:.0f} %"


def _listing(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass
class Brief:
    """A country's briefing pack: findings and the tables and figures behind them."""

    country: str
    name: str
    year: int
    lists: list[str]
    minerals: list[str]
    """The minerals that matter (:func:`select_minerals`, or those asked for)."""
    findings: list[str]
    table: pd.DataFrame
    """One row per selected mineral: the figures the findings state."""
    suppliers: pd.DataFrame
    """Every supplier of the selected minerals in the year."""
    china_trend: pd.DataFrame
    """China's share of imports per mineral and year (long)."""
    reliance_trend: pd.DataFrame
    """Import reliance per mineral and year (long)."""
    always_full: list[str]
    """Selected minerals 100 % imported in every year with a figure."""
    alternatives: pd.DataFrame
    pacts: pd.DataFrame
    notes: list[str]
    selection: str
    """How the minerals were chosen, in words."""
    mineral_names: dict[str, str] = field(default_factory=dict)

    def label(self, mineral: str) -> str:
        """A mineral's name as a sentence says it ("rare earths")."""
        return self.mineral_names.get(mineral, mineral).lower()

    def trend_years(self) -> str:
        years = self.china_trend["year"]
        return f"{int(years.min())}-{int(years.max())}" if len(years) else str(self.year)

    def figures(self, width: int = 1000) -> dict[str, tuple[Any, str]]:
        """The brief's charts by name, each with what it shows in words (captions wrapped
        to ``width`` pixels)."""
        from critmin import figures
        from critmin.charts import TRADE, with_caption

        out: dict[str, tuple[Any, str]] = {}
        span = self.trend_years()
        names = [self.label(m) for m in self.minerals]
        china = self.china_trend.dropna(subset=["china_share"])
        if not china.empty:
            fig = figures.trend_figure(china, f"{self.name}: China's share of imports, {span}",
                                       "china_share")
            fig.update_layout(showlegend=True)
            out["china_trend"] = (with_caption(fig, f"Source: {TRADE}; {span}. Note: share "
                                                    "of import tonnes on the mineral's basis",
                                               width),
                                  f"China's share of {self.name}'s import tonnes of the "
                                  f"selected minerals ({_listing(names)}), {span}.")
        varying = self.reliance_trend[~self.reliance_trend["mineral"].isin(self.always_full)]
        varying = varying.dropna(subset=["import_reliance"])
        full = [self.label(m) for m in self.always_full]
        known = self.reliance_trend.dropna(subset=["import_reliance"])["year"]
        shown = f"{int(known.min())}-{int(known.max())}" if len(known) else span
        said = (f"{len(full)} mineral{'s' if len(full) != 1 else ''} 100 % imported "
                f"in every year with a figure, {shown}, not drawn: {_listing(full)}."
                if full else "")
        if not varying.empty:
            fig = figures.trend_figure(varying, f"{self.name}: import reliance, {shown}")
            lines = varying["mineral"].nunique()
            fig.update_layout(showlegend=True, height=min(460, 300 + 20 * lines))
            out["reliance_trend"] = (with_caption(fig, "Source: CEPII BACI trade; World "
                                                       "Mining Data and USGS production; "
                                                       f"{shown}. Note: net imports / "
                                                       "apparent supply", width),
                                     f"Import reliance of the selected minerals that were not "
                                     f"100 % imported throughout. {said}".strip())
        elif said:
            out["reliance_note"] = (None, said)
        if not self.suppliers.empty:
            fig = figures.suppliers_figure(
                self.suppliers, f"{self.name}: suppliers per mineral (share of import "
                                f"tonnes), {self.year}")
            fig.update_layout(height=420)
            fig.update_xaxes(categoryorder="array", categoryarray=self.minerals)
            out["suppliers"] = (with_caption(fig, f"Source: {TRADE}; {self.year}. Note: six "
                                                  "largest suppliers named, the rest grey",
                                             width),
                                "Each selected mineral's imports split by supplier; the "
                                "supplier table below lists every one.")
        return out

    def by_year(self, metric: str) -> pd.DataFrame:
        """``china_share`` or ``import_reliance`` per mineral (rows) and year (columns)."""
        long = self.china_trend if metric == "china_share" else self.reliance_trend
        wide = long.pivot_table(index="mineral", columns="year", values=metric,
                                aggfunc="first")
        wide = wide.reindex([m for m in self.minerals if m in wide.index])
        wide.columns = [str(c) for c in wide.columns]
        wide = wide.reset_index()
        wide.attrs["units"] = {c: "share" for c in wide.columns if c != "mineral"}
        wide.attrs["chart"] = "lines"
        label = "China's share of imports" if metric == "china_share" else "import reliance"
        wide.attrs["chart_title"] = f"{self.name}: {label} by year"
        return wide

    def tables(self) -> dict[str, pd.DataFrame]:
        """The brief's tables by name, in reading order (every row: none is cut)."""
        out = {"minerals": self.table}
        china = self.by_year("china_share")
        if len(china.columns) > 1:
            out["china_share_by_year"] = china
        out["suppliers"] = self.suppliers
        if not self.alternatives.empty:
            out["alternatives"] = self.alternatives
        if not self.pacts.empty:
            out["agreements"] = self.pacts
        return out

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The workbook's sheets: the findings, then one sheet per key table."""
        tables = self.tables()
        out = {"findings": pd.DataFrame({"finding": self.findings}),
               "minerals": self.table, "suppliers": self.suppliers,
               "trend_china_share": self.by_year("china_share"),
               "trend_reliance": self.by_year("import_reliance")}
        for name in ("alternatives", "agreements"):
            if name in tables:
                out[name] = tables[name]
        return out


def _names() -> dict[str, str]:
    from critmin.store import get_store

    t = get_store().table("minerals")
    return dict(zip(t["mineral"].astype(str), t["name"].astype(str), strict=True))


def _change(now: float, then: float, then_year: int) -> str:
    if not np.isfinite(then):
        return ""
    if abs(now - then) < 0.02:
        return f", about the same as in {then_year} ({_pct(then)})"
    return f", {'up' if now > then else 'down'} from {_pct(then)} in {then_year}"


def build(country: str, minerals: Sequence[str] | str | None = None,
          year: int | None = None) -> Brief:
    """A country's briefing pack.

    Parameters
    ----------
    country : str
    minerals : str or list of str, optional
        The minerals to brief on (default: :func:`select_minerals`).
    year : int, optional
        The latest complete year if None.

    Returns
    -------
    Brief

    Examples
    --------
    >>> b = build("India", ["lithium"], 2023)
    >>> b.minerals, list(b.suppliers["mineral"].unique())
    (['lithium'], ['lithium'])
    """
    from critmin import checks, query, resolve
    from critmin.profiles import profile

    p = profile(country, year, top=1)
    names = _names()
    if minerals is not None:
        asked = [resolve.mineral(m) for m in checks.as_names(minerals, "minerals") or []]
        chosen = list(dict.fromkeys(asked))
        selection = f"Minerals asked for: {_listing([names.get(m, m) for m in chosen])}."
    else:
        chosen = select_minerals(p.minerals)
        if not chosen:
            raise InvalidInput(f"{p.name} has no mineral with a figure in {p.year}; name "
                               "minerals with -m")
        own = "its own critical list" if p.minerals["own_list"].any() else "all minerals"
        selection = (f"Minerals that matter: on {own} ({', '.join(p.lists) or 'none'}), the "
                     f"{SELECT_TOP} highest GeoPolRisk scores in {p.year} and any other with "
                     f"China's share of imports at least {CHINA_HIGH:.0%}.")
    rows = p.minerals.set_index(p.minerals["mineral"].astype(str)).reindex(chosen)
    history = query.risk(countries=p.country, minerals=chosen)
    history = history[(history["year"] <= p.year) & (history["year"] > p.year - TREND_SPAN)]
    history = history.assign(mineral=history["mineral"].astype(str))
    china_trend = history[["year", "mineral", "china_share"]].reset_index(drop=True)
    china_trend.attrs["units"] = {"china_share": "share"}
    reliance_trend = history[["year", "mineral", "import_reliance"]].reset_index(drop=True)
    reliance_trend.attrs["units"] = {"import_reliance": "share"}
    known = reliance_trend.dropna(subset=["import_reliance"])
    lowest = known.groupby("mineral")["import_reliance"].min()
    always_full = [m for m in chosen if m in lowest.index and lowest[m] >= FULL]
    then_year = p.year - TREND_YEARS + 1
    then = china_trend[china_trend["year"] == then_year].set_index("mineral")["china_share"]

    table = pd.DataFrame({
        "mineral": chosen,
        "name": [names.get(m, m) for m in chosen],
        "own_list": rows["own_list"].fillna(False).astype(bool).to_numpy(),
        "answer": rows["answer"].to_numpy(),
        "import_reliance": rows["import_reliance"].to_numpy(float),
        "china_share": rows["china_share"].to_numpy(float),
        f"china_share_{then_year}": then.reindex(chosen).to_numpy(float),
        "top_supplier": rows["top_supplier"].to_numpy(),
        "top_supplier_share": rows["top_supplier_share"].to_numpy(float),
        "score": rows["score"].to_numpy(float),
        "imports_basis_t": rows["imports_basis_t"].to_numpy(float),
        "reliance_status": rows["reliance_status"].to_numpy(),
    })
    table.attrs["units"] = {"import_reliance": "share", "china_share": "share",
                            f"china_share_{then_year}": "share", "top_supplier_share": "share",
                            "score": "0-1", "imports_basis_t": "t (basis)"}
    suppliers = _suppliers(p.country, chosen, p.year)
    alternatives, alt_notes = _alternatives(p.country, chosen, p.year, table)
    pacts, pact_notes = _pacts(p, chosen)
    b = Brief(p.country, p.name, p.year, list(p.lists), chosen, [], table, suppliers,
              china_trend, reliance_trend, always_full, alternatives, pacts,
              [], selection, names)
    b.findings = _findings(b, then_year)
    b.notes = [*alt_notes, *pact_notes, *p.notes, *([p.year_note] if p.year_note else [])]
    return b


def _suppliers(country: str, minerals: list[str], year: int) -> pd.DataFrame:
    """Every supplier of the minerals in the year (headline stage), largest first."""
    from critmin import query
    from critmin.pages import names

    pairs = query.partners(country, minerals, year)
    pairs = pairs[(pairs["stage"] == "headline") & pairs["share"].notna()]
    order = {m: i for i, m in enumerate(minerals)}
    out = pd.DataFrame({
        "mineral": pairs["mineral"].astype(str).to_numpy(),
        "supplier": pairs["exporter"].astype(str).to_numpy(),
        "supplier_name": pairs["exporter"].astype(str).map(names()).to_numpy(),
        "qty_basis_t": pairs["qty_basis_t"].to_numpy(float),
        "value_kusd": pairs["value_kusd"].to_numpy(float),
        "share": pairs["share"].to_numpy(float),
    })
    out = out.assign(order=out["mineral"].map(order)).sort_values(
        ["order", "share", "supplier"], ascending=[True, False, True]).drop(columns="order")
    out = out.reset_index(drop=True)
    out.attrs["units"] = {"qty_basis_t": "t (basis)", "value_kusd": "kUSD", "share": "share"}
    return out


def _alternatives(country: str, minerals: list[str], year: int, table: pd.DataFrame
                  ) -> tuple[pd.DataFrame, list[str]]:
    """The leading candidate suppliers (:func:`critmin.sourcing.suppliers`) per mineral."""
    from critmin.pages import names
    from critmin.sourcing import suppliers

    frames, notes = [], []
    for mineral in minerals:
        try:
            s = suppliers(country, mineral, year)
        except CritminError as exc:
            notes.append(f"Alternative suppliers of {mineral} not ranked: {exc}")
            continue
        s = s[s["supplier"].astype(str) != "CHN"].head(ALTERNATIVES)
        frames.append(s.assign(mineral=mineral)[
            ["mineral", "rank", "supplier", "independent_t", "cap_t", "exports_to_importer_t",
             "production_t", "governance_risk"]])
    if not frames:
        return pd.DataFrame(), notes
    out = pd.concat(frames, ignore_index=True)
    out.insert(3, "supplier_name", out["supplier"].astype(str).map(names()))
    out.attrs["units"] = {"independent_t": "t (basis)", "cap_t": "t (basis)",
                          "exports_to_importer_t": "t (basis)", "production_t": "t (basis)",
                          "governance_risk": "0-1"}
    return out, notes


def _stage_for(p: Any, mineral: str) -> str | None:
    """The stage a pact on a mineral whose headline mixes stages is run at: the one with
    China's largest share of the country's imports."""
    s = p.stages
    s = s[(s["mineral"].astype(str) == mineral) & (s["stage"] != "headline")
          & (s["imports_basis_t"].fillna(0) > 0)]
    s = s.dropna(subset=["china_share"])
    return None if s.empty else str(s.sort_values("china_share").iloc[-1]["stage"])


def _pacts(p: Any, minerals: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Each documented agreement with the country as importer, run as a pact of
    :data:`PACT_SHARE` of its imports, per mineral of the agreement the brief covers."""
    from critmin.whatif.pacts import pact
    from critmin.whatif.registries import agreements

    a = agreements()
    a = a[(a["importer"].astype(str) == p.country) & a["supplier"].notna()]
    rows, notes = [], []
    for _, deal in a.iterrows():
        for mineral in [str(m) for m in (deal["minerals"] if deal["minerals"] is not None
                                         else []) if str(m) in minerals]:
            stage = None
            try:
                try:
                    r = pact(agreement=str(deal["id"]), mineral=mineral, share=PACT_SHARE,
                             year=p.year)
                except InvalidInput as exc:
                    # a headline that adds up several stages needs one: the most exposed
                    stage = _stage_for(p, mineral) if "give a stage" in str(exc) else None
                    if stage is None:
                        raise
                    r = pact(agreement=str(deal["id"]), mineral=mineral, share=PACT_SHARE,
                             year=p.year, stage=stage)
            except CritminError as exc:
                notes.append(f"Agreement {deal['id']} ({mineral}) not assessed: {exc}")
                continue
            rows.append({
                "agreement": str(deal["id"]), "status": str(deal["status"]),
                "announced": str(deal["announced"] or ""), "supplier": r.supplier,
                "mineral": mineral, "stage": r.stage, "volume_t": r.volume_t,
                "delivered_t": r.delivered_t,
                "basis": r.basis,
                "china_share_before": r.before.get("china_share"),
                "china_share_after": r.after.get("china_share"),
                "loss_if_china_cuts_before": r.exposure_before,
                "loss_if_china_cuts_after": r.exposure_after,
                "feasible": bool(r.feasible), "verdict": r.verdict()})
    out = pd.DataFrame(rows)
    out.attrs["units"] = {"volume_t": "t (basis)", "delivered_t": "t (basis)",
                          "china_share_before": "share",
                          "china_share_after": "share", "loss_if_china_cuts_before": "share",
                          "loss_if_china_cuts_after": "share"}
    return out, notes


def _findings(b: Brief, then_year: int) -> list[str]:
    """The key findings, each a sentence whose numbers are in the brief's tables."""
    from critmin.pages import names

    who = names()
    out = []
    ranked = b.table.dropna(subset=["score"])
    ranked = ranked[ranked["own_list"]] if ranked["own_list"].any() else ranked
    ranked = ranked.sort_values("score", ascending=False).head(3)
    if not ranked.empty:
        said = []
        for _, r in ranked.iterrows():
            top = (f"; largest supplier {who.get(str(r['top_supplier']), r['top_supplier'])} "
                   f"{_pct(r['top_supplier_share'])}" if pd.notna(r["top_supplier"]) and
                   r["top_supplier"] != "CHN" else "")
            said.append(f"{b.label(str(r['mineral']))} ({r['answer']}{top})")
        where = ("On its own critical-mineral list" if b.table["own_list"].any()
                 else "Among the minerals briefed")
        out.append(f"{where}, {b.name}'s highest supply risks in {b.year} (GeoPolRisk score) "
                   f"are {_listing(said)}.")
    china = b.table.dropna(subset=["china_share"]).sort_values("china_share",
                                                                ascending=False)
    china = china[china["china_share"] >= 0.1].head(CHINA_SENTENCES)
    for _, r in china.iterrows():
        m = str(r["mineral"])
        out.append(f"China supplied {_pct(r['china_share'])} of {b.name}'s {b.label(m)} "
                   f"imports in {b.year}"
                   f"{_change(r['china_share'], r[f'china_share_{then_year}'], then_year)}.")
    if b.always_full:
        years = b.reliance_trend.dropna(subset=["import_reliance"])["year"]
        out.append(f"{_listing([b.label(m) for m in b.always_full]).capitalize()} "
                   f"{'was' if len(b.always_full) == 1 else 'were'} 100 % imported in every "
                   f"year with a figure from {int(years.min())} to {int(years.max())}.")
    if not b.alternatives.empty:
        focus = [str(m) for m in china["mineral"]] or list(b.minerals[:3])
        for m in focus[:3]:
            alt = b.alternatives[b.alternatives["mineral"] == m].head(3)
            if alt.empty:
                continue
            said = [f"{who.get(str(s), s)} ({numbers.tonnes(float(q))}"
                    f"{f' {_basis(m)} a year' if n == 0 else ''})"
                    for n, (s, q) in enumerate(zip(alt["supplier"], alt["independent_t"],
                                                   strict=True))]
            out.append(f"Outside China, the suppliers that could ship {b.name} the most "
                       f"{b.label(m)} not sourced from China are {_listing(said)}, within "
                       "today's trade and their exportable surplus.")
    for _, r in b.pacts.iterrows():
        supplier = who.get(str(r["supplier"]), r["supplier"])
        stage = "" if r["stage"] == "headline" else f", {r['stage']} stage"
        volume = f"{numbers.tonnes(float(r['volume_t']))} {r['basis']}"
        if float(r["delivered_t"]) < float(r["volume_t"]) * 0.999:
            volume += (f", of which {supplier} could deliver "
                       f"{numbers.tonnes(float(r['delivered_t']))}")
        out.append(
            f"Agreement {r['agreement']} ({r['status']}, {r['announced']}): if {supplier} "
            f"supplied {PACT_SHARE * 100:.0f} % of {b.name}'s {b.label(str(r['mineral']))} "
            f"imports ({volume}{stage}), China's share of those imports would go from "
            f"{numbers.share(r['china_share_before'])} to {numbers.share(r['china_share_after'])} and "
            f"{b.name}'s loss if China cut all exports from "
            f"{numbers.share(r['loss_if_china_cuts_before'])} to "
            f"{numbers.share(r['loss_if_china_cuts_after'])} of supply; {r['verdict']}.")
    if not out:
        out.append(f"No mineral briefed has a figure for {b.name} in {b.year}.")
    return out


def _basis(mineral: str) -> str:
    from critmin.store import get_store

    t = get_store().table("minerals").set_index("mineral")
    return str(t["basis"].get(mineral, "")) if mineral in t.index else ""


COMPANY_COLUMNS = ["mineral", "qty_basis_t", "n_suppliers", "top_supplier",
                   "top_supplier_share", "hhi", "china_share", "china_share_traced",
                   "controlled_share", "loss_t", "loss_share", "score", "cf", "score_compat",
                   "cf_compat", "hhi_production", "wta", "price_usd_per_kg"]
"""The columns of a company brief's materials table (the workbook's; the printed table
leaves out the last three; the losses only with a restriction)."""
SAME_SCORE = 1e-6
"""Relative difference below which the default and geopolrisk-py scores count as equal."""
COMPANY_SOURCES = [
    "Purchases: the company's own purchase records, imported with critmin data import "
    "purchases (tonnes converted to each mineral's basis with critmin's content factors)",
    "GeoPolRisk company method: Koyamparambath et al.'s GeoPolRisk as geopolrisk-py 2.0.1 "
    "computes it for a company (its World Mining Data and WGI tables), beside critmin's "
    "default",
    "Export controls: critmin's events registry, each event with its own source",
]
"""Sources a company's brief adds to the country data's (:data:`critmin.pages.SOURCES`)."""


@dataclass
class CompanyBrief:
    """A company's briefing pack: findings from its purchase records and the tables and
    figure behind them, laid out as a country's :class:`Brief`."""

    company: str
    year: int
    minerals: list[str]
    """The materials briefed on, largest GeoPolRisk score first."""
    findings: list[str]
    table: pd.DataFrame
    """One row per material: the figures the findings state (critmin.company's)."""
    suppliers: pd.DataFrame
    """Every supplier country of each material, largest share first."""
    controls: pd.DataFrame
    """Purchases from a supplier country with a documented export control in force."""
    notes: list[str]
    selection: str
    mineral_names: dict[str, str] = field(default_factory=dict)
    restriction: dict[str, Any] | None = None
    """The restriction the losses are under (restricting countries and cut), if any."""

    @property
    def name(self) -> str:
        return self.company

    @property
    def sources(self) -> list[str]:
        from critmin.pages import SOURCES

        return [*COMPANY_SOURCES, *SOURCES]

    @property
    def glossary(self) -> dict[str, str]:
        """What each printed column means (the declared column descriptions)."""
        from critmin import schema

        said = {c.name: c.description for c in schema.table_columns("company_materials")}
        said["share"] = {c.name: c.description for c in
                         schema.table_columns("company_suppliers")}["share"]
        shown = [c for c in COMPANY_COLUMNS[1:-3] if c in self.table.columns]
        return {c: said[c] for c in [*shown, "share"] if said.get(c)}

    def label(self, mineral: str) -> str:
        """A mineral's name as a sentence says it ("rare earths")."""
        return self.mineral_names.get(mineral, mineral).lower()

    def figures(self, width: int = 1000) -> dict[str, tuple[Any, str]]:
        """The supplier bars (as the country brief's), with what they show in words."""
        from critmin import figures
        from critmin.charts import with_caption

        if self.suppliers.empty:
            return {}
        bars = self.suppliers.rename(columns={"supplier_country": "supplier"})
        fig = figures.suppliers_figure(
            bars, f"{self.name}: supplier countries per material (share of tonnes bought), "
                  f"{self.year}")
        fig.update_layout(height=420)
        fig.update_xaxes(categoryorder="array", categoryarray=self.minerals)
        caption = (f"Source: {self.name}'s purchase records; {self.year}. Note: six largest "
                   "supplier countries named, the rest grey")
        return {"suppliers": (with_caption(fig, caption, width),
                              "Each material's purchases split by supplier country; the "
                              "supplier mix table below lists every one.")}

    def tables(self) -> dict[str, pd.DataFrame]:
        """The brief's tables by name, in reading order (every row: none is cut)."""
        out = {"materials": self.table, "supplier_mix": self.suppliers}
        if not self.controls.empty:
            out["export_controls"] = self.controls
        return out

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The workbook's sheets: the findings, then one sheet per table."""
        return {"findings": pd.DataFrame({"finding": self.findings}), **self.tables()}


def _stored_years(name: str) -> list[int]:
    from critmin.checks import as_name
    from critmin.company_view import stored_purchases

    rows = stored_purchases()
    mine = rows[rows["company"] == as_name(name, "name")]
    return sorted({int(str(p)[:4]) for p in mine["period"]})


def build_company(name: str, minerals: Sequence[str] | str | None = None,
                  year: int | None = None, restrict: Sequence[str] | str | None = None,
                  cut: float = 1.0) -> CompanyBrief:
    """A company's briefing pack from its imported purchase records
    (:func:`critmin.company`): the materials with the highest GeoPolRisk score, China's
    share direct and traced through the supplier countries, purchases under an export
    control in force and the supplier concentration, in sentences, then the tables.

    Parameters
    ----------
    name : str
        The company, as imported (``critmin.companies()``).
    minerals : str or list of str, optional
        The materials to brief on (default: every one it bought in the year).
    year : int, optional
        The latest year of its records if None.
    restrict : str or list of str, optional
        Countries restricting exports (e.g. ``"CHN"``): the brief adds the loss the company
        inherits from its supplier countries (:func:`critmin.company`).
    cut : float
        Share of exports the restricting countries withhold (default 1).

    Returns
    -------
    CompanyBrief

    Examples
    --------
    >>> build_company("Unknown Co")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    critmin.errors.NotFound: no purchase records for company 'Unknown Co'
    """
    from critmin import checks, resolve
    from critmin.company_view import company
    from critmin.errors import NotFound, nearest
    from critmin.pages import names as country_names

    stored = _stored_years(name)
    view = company(name, year if year is not None or not stored else max(stored),
                   restrict=restrict, cut=cut)
    chosen_year = view.years[0]
    rows = view.materials[view.materials["year"] == chosen_year]
    bought = [str(m) for m in rows["mineral"]]
    labels = _names()
    if minerals is not None:
        asked = [resolve.mineral(m) for m in checks.as_names(minerals, "minerals") or []]
        for m in asked:
            if m not in bought:
                raise NotFound(f"{view.company!r} bought no {m} in {chosen_year}",
                               suggestions=nearest(m, bought) or bought)
        rows = rows[rows["mineral"].isin(asked)]
        selection = (f"Materials asked for: "
                     f"{_listing([labels.get(m, m) for m in dict.fromkeys(asked)])}.")
    else:
        selection = (f"Materials: every material {view.company} bought in {chosen_year} "
                     f"with a known mineral content ({len(rows)}), from its purchase records.")
    rows = rows.sort_values(["score", "qty_basis_t"], ascending=False, na_position="last")
    chosen = [str(m) for m in rows["mineral"]]
    columns = [c for c in COMPANY_COLUMNS if c in rows.columns
               and (view.restriction is not None or c not in ("loss_t", "loss_share"))]
    table = rows[columns].reset_index(drop=True)
    table = table.assign(mineral=table["mineral"].astype(str))
    units = dict(view.materials.attrs.get("units", {}))
    units["n_suppliers"] = "count"
    table.attrs["units"] = {c: u for c, u in units.items() if c in table.columns}
    who = country_names()
    order = {m: i for i, m in enumerate(chosen)}
    mix = view.suppliers[(view.suppliers["year"] == chosen_year)
                         & view.suppliers["mineral"].isin(chosen)]
    mix = mix.assign(mineral=mix["mineral"].astype(str), order=mix["mineral"].map(order))
    mix = mix.sort_values(["order", "share", "supplier_country"],
                          ascending=[True, False, True])
    suppliers = pd.DataFrame({
        "mineral": mix["mineral"].to_numpy(),
        "supplier_country": mix["supplier_country"].astype(str).to_numpy(),
        "supplier_name": mix["supplier_country"].astype(str).map(who).to_numpy(),
        "qty_basis_t": mix["qty_basis_t"].to_numpy(float),
        "value_usd": mix["value_usd"].to_numpy(float),
        "share": mix["share"].to_numpy(float)})
    suppliers.attrs["units"] = {"qty_basis_t": "t (basis)", "value_usd": "USD",
                                "share": "share"}
    controls = view.controls[(view.controls["year"] == chosen_year)
                             & view.controls["mineral"].isin(chosen)]
    controls = controls.drop(columns="year").reset_index(drop=True)
    controls.attrs["units"] = {"qty_basis_t": "t (basis)", "share": "share"}
    b = CompanyBrief(view.company, chosen_year, chosen, [], table, suppliers, controls, [],
                     selection, labels, view.restriction)
    b.findings = _company_findings(b)
    others = [str(y) for y in stored if y != chosen_year]
    b.notes = [
        *view.notes,
        "The figures describe the purchase records imported, not the company's whole "
        "supply; tonnes are on each mineral's basis (a product's tonnes times its content "
        "factor).",
        "China's traced share goes one step back: a supplier country's own imports from "
        "China over its production plus imports (a stated origin decides instead); ore "
        "mined elsewhere but refined in China is not traced further.",
        "A purchase counts as under an export control when its supplier country has a "
        "documented control in force on the mineral, whatever the stage of what was bought "
        "(the control's stage is in the export controls table).",
        *([f"{view.company} also has purchase records in {_listing(others)} "
           "(critmin brief --company NAME -y YEAR)."] if others else [])]
    return b


def _company_findings(b: CompanyBrief) -> list[str]:
    """The key findings of a company's brief, each a sentence whose numbers are in its
    tables (shares, tonnes and figures written by :mod:`critmin.numbers`)."""
    from critmin.pages import names

    who = names()
    t = b.table
    out: list[str] = []
    many = f"{len(t)} material{'s' if len(t) != 1 else ''}"
    ranked = t.dropna(subset=["score"]).sort_values("score", ascending=False).head(3)
    if len(ranked) == 1:
        r = ranked.iloc[0]
        out.append(f"{b.name} bought one material with a score in {b.year}, "
                   f"{b.label(str(r['mineral']))}: GeoPolRisk score "
                   f"{numbers.number(r['score'])}, characterisation factor "
                   f"{numbers.number(r['cf'])} eq. kg Cu/kg.")
    elif not ranked.empty:
        said = [f"{b.label(str(r['mineral']))} ({numbers.number(r['score'])}, "
                + (f"characterisation factor {numbers.number(r['cf'])} eq. kg Cu/kg)" if n == 0
                   else f"{numbers.number(r['cf'])})")
                for n, (_, r) in enumerate(ranked.iterrows())]
        out.append(f"Of the {many} {b.name} bought in {b.year}, the highest supply risks "
                   f"(GeoPolRisk score) are {_listing(said)}.")
    if not ranked.empty:
        both = ranked.dropna(subset=["score_compat"])
        differ = both[~np.isclose(both["score"], both["score_compat"], rtol=SAME_SCORE,
                                  atol=0.0)]
        if not both.empty and differ.empty:
            out.append("geopolrisk-py 2.0.1's company method gives the same score"
                       f"{'s' if len(both) > 1 else ''}.")
        elif not differ.empty:
            out.append("geopolrisk-py 2.0.1's company method gives " + _listing(
                [f"{b.label(str(r['mineral']))} {numbers.number(r['score_compat'])} "
                 f"(characterisation factor {numbers.number(r['cf_compat'])})"
                 for _, r in differ.iterrows()]) + ".")
    china = t[(t["china_share"].fillna(0) > 0) | (t["china_share_traced"].fillna(0) > 0)]
    china = china.sort_values(["china_share_traced", "china_share"], ascending=False)
    for _, r in china.head(CHINA_SENTENCES).iterrows():
        traced = (f"{numbers.share(r['china_share_traced'])} once each supplier country's "
                  "own imports from China are traced" if pd.notna(r["china_share_traced"])
                  else "no traced figure (no country data)")
        out.append(f"China supplied {numbers.share(r['china_share'])} of {b.name}'s "
                   f"{b.label(str(r['mineral']))} directly in {b.year}, and {traced}.")
    if china.empty and not t.empty:
        out.append(f"None of {b.name}'s purchases in {b.year} came from China, directly or "
                   "traced through its supplier countries' own imports.")
    controlled = t[t["controlled_share"] > 0].sort_values("controlled_share", ascending=False)
    for _, r in controlled.iterrows():
        m = str(r["mineral"])
        hit = b.controls[b.controls["mineral"] == m]
        where = hit.drop_duplicates("supplier_country")
        countries = _listing([who.get(c, c) for c in where["supplier_country"].astype(str)])
        events = _listing([f"{e}, {stage} stage" if stage else e for e, stage in dict.fromkeys(
            zip(hit["event"].astype(str), hit["stage"].astype(str), strict=True))])
        out.append(f"{numbers.share(r['controlled_share'])} of {b.name}'s {b.label(m)} "
                   f"({numbers.tonnes(where['qty_basis_t'].sum())}) was bought from "
                   f"{countries}, which {'has' if len(where) == 1 else 'have'} an export control "
                   f"in force on it ({events}); "
                   "whether the control touches these purchases depends on the form bought.")
    if controlled.empty and not t.empty:
        out.append(f"None of {b.name}'s purchases in {b.year} came from a supplier country "
                   "with a documented export control in force on the material.")
    if b.restriction is not None:
        out.append(_loss_finding(b, who))
    mixes = t.dropna(subset=["hhi"]).sort_values("hhi", ascending=False)
    if not mixes.empty:
        def mix(r: pd.Series) -> str:
            n = int(r["n_suppliers"])
            top = who.get(str(r["top_supplier"]), str(r["top_supplier"]))
            if n == 1:
                return f"{b.label(str(r['mineral']))}, 1: bought from {top} only"
            return (f"{b.label(str(r['mineral']))}, {numbers.number(r['hhi'])} with {n} "
                    f"supplier countries (largest {top}, "
                    f"{numbers.share(r['top_supplier_share'])})")

        text = ("Supplier concentration (HHI: the sum of the supplier countries' squared "
                "shares of the tonnes, 1 for a single supplier) is ")
        if len(mixes) > 1:
            text += f"highest for {mix(mixes.iloc[0])}, and lowest for {mix(mixes.iloc[-1])}"
        else:
            text += f"for its one material {mix(mixes.iloc[0])}"
        out.append(text + ".")
    if not out:
        out.append(f"No material {b.name} bought in {b.year} has a figure.")
    return out


def _loss_finding(b: CompanyBrief, who: dict[str, str]) -> str:
    """What the company would lose under the brief's restriction, material by material."""
    assert b.restriction is not None
    named = _listing([who.get(c, c) for c in b.restriction["suppliers"]])
    cut = float(b.restriction["cut"])
    withheld = "all" if cut >= 1 else numbers.share(cut)
    rows = b.table.dropna(subset=["loss_share"]).sort_values("loss_share", ascending=False)
    if rows.empty:
        return (f"No loss could be computed for {b.name} if {named} withheld {withheld} of "
                "their exports (see the notes).")
    parts = [f"{numbers.share(r['loss_share'])} of its {b.label(str(r['mineral']))} "
             f"({numbers.tonnes(r['loss_t'])})" for _, r in rows.iterrows()]
    their = "their" if len(b.restriction["suppliers"]) > 1 else "its"
    return (f"If {named} withheld {withheld} of {their} exports, {b.name} would lose {_listing(parts)}: what it buys from a restricting "
            "country, plus each other supplier country's own loss (critmin restrict) pro rata "
            "to what it buys there.")


def _targets(out: Path, xlsx: Path | None, paper: str, force: bool
             ) -> tuple[list[Path], str, str]:
    """The files a brief is written to (checked before any work), the paper's CSS name and
    the browser that prints a PDF (empty when none is asked for)."""
    from critmin.browser import find_browser
    from critmin.checks import as_bool, as_path
    from critmin.present import check_destination

    force = as_bool(force, "force")
    paper_key = str(paper).strip().lower()
    if paper_key not in PAPERS:
        raise InvalidInput(f"unknown paper {paper!r}; use a4 or letter",
                           suggestions=list(PAPERS))
    targets = [check_destination(as_path(out, "out"), table=False, force=force)]
    if xlsx is not None:
        targets.append(check_destination(as_path(xlsx, "xlsx"), table=False, force=force))
    for target in targets:
        if target.suffix.lower() not in (".pdf", ".html", ".xlsx"):
            raise InvalidInput(f"a brief is .pdf, .html or .xlsx, not "
                               f"{target.suffix or target.name!r}",
                               suggestions=[str(target.with_suffix(s))
                                            for s in (".pdf", ".xlsx")])
    if xlsx is not None and targets[1].suffix.lower() != ".xlsx":
        raise InvalidInput(f"--xlsx names the workbook: {targets[1].name} is not .xlsx")
    browser = find_browser() if any(t.suffix.lower() == ".pdf" for t in targets) else ""
    return targets, PAPERS[paper_key], browser


def _emit(b: Brief | CompanyBrief, targets: list[Path], paper: str, browser: str) -> None:
    """Write ``b`` to each target, atomically: the workbook, the HTML or its PDF print."""
    from critmin import files
    from critmin.present import _excel
    from critmin.reports import brief_html, print_pdf

    for target in targets:
        suffix = target.suffix.lower()
        with files.atomic_write(target) as tmp:
            if suffix == ".xlsx":
                _excel(b.sheets(), tmp, [b.selection, *b.notes], chart_all=True)
            elif suffix == ".html":
                tmp.write_text(brief_html(b, paper), "utf-8")
            else:
                print_pdf(browser, brief_html(b, paper), tmp)


def save(b: Brief | CompanyBrief, out: Path, paper: str = "a4", xlsx: Path | None = None,
         force: bool = False) -> list[Path]:
    """Write a brief already built (:func:`build`, :func:`build_company`) to ``out``
    (.pdf, .html or .xlsx) and, with ``xlsx``, the workbook too; as :func:`write`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [p.name for p in save(build("India", ["lithium"], 2023), Path(folder) / "b.html")]
    ['b.html']
    """
    targets, size, browser = _targets(out, xlsx, paper, force)
    _emit(b, targets, size, browser)
    return targets


def file_name(b: Brief | CompanyBrief, suffix: str) -> str:
    """The name a brief's file is offered under (plain ASCII, as a download header needs):
    the country's or company's name in lower case, accents dropped and every run of other
    characters a hyphen, then the year, ``brief`` and ``suffix``.

    >>> file_name(build("India", ["lithium"], 2023), "pdf")
    'india-2023-brief.pdf'
    """
    import re
    import unicodedata

    plain = unicodedata.normalize("NFKD", b.name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "critmin"
    return f"{stem}-{b.year}-brief.{suffix}"


def write(country: str, out: Path, minerals: Sequence[str] | str | None = None,
          year: int | None = None, paper: str = "a4", xlsx: Path | None = None,
          force: bool = False) -> list[Path]:
    """Write a country's brief to ``out`` (.pdf, .html or .xlsx) and, with ``xlsx``, the
    workbook too; atomically, an existing file replaced only with ``force``."""
    targets, size, browser = _targets(out, xlsx, paper, force)
    _emit(build(country, minerals, year), targets, size, browser)
    return targets


def write_company(name: str, out: Path, minerals: Sequence[str] | str | None = None,
                  year: int | None = None, paper: str = "a4", xlsx: Path | None = None,
                  force: bool = False, restrict: Sequence[str] | str | None = None,
                  cut: float = 1.0) -> list[Path]:
    """Write a company's brief (:func:`build_company`) to ``out`` (.pdf, .html or .xlsx)
    and, with ``xlsx``, the workbook too; atomically, an existing file replaced only with
    ``force``."""
    targets, size, browser = _targets(out, xlsx, paper, force)
    _emit(build_company(name, minerals, year, restrict, cut), targets, size, browser)
    return targets
