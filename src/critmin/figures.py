"""The figures critmin draws (plotly), shared by the notebooks, the dashboard and the
reports. Each takes a result object or a table of the Python API and returns a
``plotly.graph_objects.Figure``; none reads data itself. The dashboard pages' figures
(country, mineral, world map) are also built as plain specs (``*_spec``: ``data`` and
``layout`` as dicts and lists, ready for JSON), which the dashboard sends without loading
plotly's validating figure classes.

>>> import pandas as pd
>>> frame = pd.DataFrame({"country": ["IND", "DEU"], "import_reliance": [1.0, 0.5]})
>>> fig = world_map(frame, "import_reliance", "lithium", 2023)
>>> list(fig.data[0].locations), list(fig.data[0].z)
(['IND', 'DEU'], [1.0, 0.5])
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from critmin.profiles import CountryProfile, MineralProfile
    from critmin.sourcing import Frontier, Portfolio
    from critmin.whatif.at_risk import SupplyAtRisk
    from critmin.whatif.pacts import Pact
    from critmin.whatif.restrictions import Restriction

TEMPLATE: dict[str, Any] = {"layout": {
    "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3",
                 "#FF6692", "#B6E880", "#FF97FF", "#FECB52"],
    "paper_bgcolor": "white", "plot_bgcolor": "white", "font": {"color": "#2a3f5f"},
    "xaxis": {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "automargin": True},
    "yaxis": {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "automargin": True},
    "geo": {"bgcolor": "white", "lakecolor": "white", "landcolor": "white",
            "showlakes": True, "showland": True, "subunitcolor": "#C8D4E3"},
    "hoverlabel": {"align": "left"}}}
"""The look of every figure: plotly's white theme, layout only (the full theme's per-trace
defaults make each figure several times slower to build and heavier to send)."""

MAP_METRICS: dict[str, tuple[str, str, str]] = {
    "import_reliance": ("Import reliance", "net imports / apparent supply", ".0%"),
    "china_share": ("China's share of imports", "share of import tonnes", ".0%"),
    "score": ("GeoPolRisk score", "HHI of world production x import-weighted governance risk",
              ".3f"),
    "top_supplier_share": ("Largest supplier's share", "share of import tonnes", ".0%"),
    "china_share_origin": ("China's share of imports by origin",
                           "re-exporters traced one step back", ".0%"),
}
"""Metrics a world map can show: column -> (title, meaning, number format)."""


def as_json(fig: Any) -> Any:
    """A figure (or a plain spec) as plain JSON (``data`` and ``layout``), as the dashboard
    draws it."""
    import json

    if isinstance(fig, dict):
        return json.loads(json.dumps(fig))
    return json.loads(fig.to_json())


def figure(spec: Mapping[str, Any]) -> Any:
    """A plain spec (``data`` and ``layout``) as a ``plotly.graph_objects.Figure``."""
    return _go().Figure(dict(spec))


def _go() -> Any:
    import plotly.graph_objects as go

    return go


def _spec(data: list[dict[str, Any]], title: str, **kw: Any) -> dict[str, Any]:
    """A plain figure: the ``data`` traces and the layout every figure shares (see
    :func:`_layout`), ``kw`` added to it."""
    return {"data": data, "layout": {"title": {"text": title, "x": 0.01}, "template": TEMPLATE,
                                     "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, **kw}}


def _values(column: Any) -> list[Any]:
    """A column as a JSON list: Python numbers and strings, a missing number as None (a gap,
    as plotly draws NaN)."""
    return [None if isinstance(v, float) and v != v else v for v in pd.Series(column).tolist()]


def _layout(fig: Any, title: str, **kw: Any) -> Any:
    # one assignment: update_layout's path handling costs ten times more per figure
    fig.layout = {"title": {"text": title, "x": 0.01}, "template": TEMPLATE,
                  "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, **kw}
    return fig


def _named(codes: pd.Series, names: Mapping[str, str] | None) -> list[str]:
    if names is None:
        return [str(c) for c in codes]
    return [f"{names.get(str(c), c)} ({c})" for c in codes]


GEO: dict[str, Any] = {
    "projection": {"type": "natural earth", "rotation": {"lon": 0}},
    "showframe": False, "showcoastlines": False, "showcountries": True,
    "countrycolor": "#cccccc", "showland": True, "landcolor": "#f2f2f2",
    "lonaxis": {"range": [-180, 180]}, "lataxis": {"range": [-58, 84]}}
"""Every map: the whole world centred on the Greenwich meridian (the Atlantic in the middle,
no country cut at the edge but those on the antimeridian), Antarctica left out."""

SELF_COLOUR = "#8c8c8c"
"""China on a map of China's share: the supplier itself, which has no share of its own."""

STAGE_WORDS = {"headline": "primary-supply stages"}
"""How a map title names a stage (others by their own name and "stage")."""


def _stage_words(stage: str) -> str:
    return STAGE_WORDS.get(stage, f"{stage} stage")


def _blank_note(frame: pd.DataFrame, metric: str, names: Mapping[str, str] | None,
                most: int = 5) -> str:
    """Which producers the map leaves blank and why: the largest producers with no figure,
    grouped by the reason the data gives."""
    if "production_t" not in frame.columns:
        return ""
    blank = frame[frame[metric].isna() & (frame["production_t"].fillna(0) > 0)]
    if metric in ("china_share", "china_share_origin"):
        blank = blank[blank["country"].astype(str) != "CHN"]
    if blank.empty:
        return ""
    if metric in ("china_share", "china_share_origin", "top_supplier_share"):
        why = pd.Series("no imports in the trade data", index=blank.index)
    else:
        status = (blank["reliance_status"].astype(str) if "reliance_status" in blank
                  else pd.Series("no figure", index=blank.index))
        reason = blank["reason"].astype(str) if "reason" in blank else status
        codes = reason.str.extract(r"(\d{6}(?:, \d{6})*) ha(?:s|ve) no rows")[0]
        why = status.where(codes.isna(), "no reliance: the principal trade code(s) "
                           + codes.fillna("") + " have no rows in the year's data")
    parts = []
    ordered = blank.assign(why=why).sort_values("production_t", ascending=False)
    for text, group in ordered.groupby("why", sort=False):
        who = [names.get(str(c), str(c)) if names else str(c) for c in group["country"]]
        more = "…" if len(who) > most else ""
        parts.append(f"{', '.join(who[:most])}{more} ({text})")
    return "Blank producers: " + "; ".join(parts)


def world_map(frame: pd.DataFrame, metric: str, mineral: str, year: int,
              stage: str = "headline", names: Mapping[str, str] | None = None) -> Any:
    """A choropleth of one metric per country (ISO3 in ``country``), for one mineral and year.

    Countries without a figure (withheld, no trade) are left blank, and the largest
    producers among them are named under the map with the reason. On a map of China's
    share, China is drawn apart in a neutral grey: a supplier has no share of its own
    imports from itself.

    >>> frame = pd.DataFrame({"country": ["CHN", "DEU"], "china_share": [0.0, 0.4]})
    >>> fig = world_map(frame, "china_share", "rare-earths", 2023)
    >>> list(fig.data[0].locations), fig.data[1].name
    (['DEU'], 'China itself (no share)')
    """
    return figure(world_map_spec(frame, metric, mineral, year, stage, names))


def world_map_spec(frame: pd.DataFrame, metric: str, mineral: str, year: int,
                   stage: str = "headline", names: Mapping[str, str] | None = None
                   ) -> dict[str, Any]:
    """:func:`world_map` as a plain spec."""
    title, meaning, fmt = MAP_METRICS[metric]
    china_map = metric in ("china_share", "china_share_origin")
    data = frame.loc[frame[metric].notna(), ["country", metric]]
    if china_map:
        data = data[data["country"].astype(str) != "CHN"]
    scale = {"zmin": 0.0, "zmax": 1.0} if fmt.endswith("%") else {}
    border = {"line": {"color": "#ffffff", "width": 0.4}}
    traces: list[dict[str, Any]] = [{
        "type": "choropleth", "locations": data["country"].astype(str).tolist(),
        "z": data[metric].astype(float).tolist(), "locationmode": "ISO-3",
        "colorscale": YLORRD, **scale, "text": _named(data["country"], names),
        "marker": border, "name": title, "showlegend": False,
        "colorbar": {"title": {"text": title, "side": "top"}, "tickformat": fmt,
                     "orientation": "h", "x": 0.5, "xanchor": "center", "y": 0,
                     "yanchor": "top", "len": 0.5, "thickness": 12},
        "hovertemplate": f"%{{text}}<br>{title}: %{{z:{fmt}}}<extra></extra>"}]
    if china_map and (frame["country"].astype(str) == "CHN").any():
        traces.append({
            "type": "choropleth", "locations": ["CHN"], "z": [0.0], "locationmode": "ISO-3",
            "showscale": False, "colorscale": [[0, SELF_COLOUR], [1, SELF_COLOUR]],
            "name": "China itself (no share)", "showlegend": True, "marker": border,
            "text": _named(pd.Series(["CHN"]), names),
            "hovertemplate": "%{text}: the supplier itself, no share<extra></extra>"})
    notes = [f"{title}: {meaning}. Blank: no figure (the country table gives the reason)."]
    blank = _blank_note(frame, metric, names)
    if blank:
        notes.append(blank)
    return _spec(traces, f"{title} ({meaning}):<br>{mineral}, {_stage_words(stage)}, {year}",
                 geo=GEO, height=560,
                 legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
                 annotations=[{"text": "<br>".join(_wrapped(n, 64) for n in notes),
                               "showarrow": False, "x": 0, "y": -0.17, "xref": "paper",
                               "yref": "paper", "xanchor": "left", "yanchor": "top",
                               "align": "left", "font": {"size": 11, "color": "#555"}}],
                 margin={"l": 10, "r": 10, "t": 95, "b": 90 + 15 * len(notes)})


def dependence_figure(profile: CountryProfile) -> Any:
    """Import reliance and China's share of imports per mineral, the country's own critical
    list first; minerals whose reliance is withheld show no bar."""
    return figure(dependence_spec(profile))


def dependence_spec(profile: CountryProfile) -> dict[str, Any]:
    """:func:`dependence_figure` as a plain spec."""
    m = profile.minerals
    m = m[m["import_reliance"].notna() | m["china_share"].notna()].head(30).iloc[::-1]
    labels = [f"{'★ ' if own else ''}{name}" for name, own in zip(m["mineral"], m["own_list"],
                                                                  strict=True)]
    return _spec([
        {"type": "bar", "y": labels, "x": _values(m["import_reliance"]), "orientation": "h",
         "name": "import reliance",
         "hovertemplate": "%{y}: %{x:.0%} import reliance<extra></extra>"},
        {"type": "bar", "y": labels, "x": _values(m["china_share"]), "orientation": "h",
         "name": "China's share of imports", "marker": {"color": CHINA_COLOUR},
         "hovertemplate": "%{y}: %{x:.0%} of imports from China<extra></extra>"},
    ], f"{profile.name}: dependence per mineral, {profile.year} (★ on its own critical list)",
        barmode="group", xaxis={"tickformat": ".0%", "range": [0, 1.05]},
        height=max(320, 26 * len(m) + 120), legend={"orientation": "h", "y": -0.08})


def stage_figure(stages: pd.DataFrame, title: str) -> Any:
    """Import reliance per mineral and supply-chain stage as a heat map (blank where the
    stage has no reliance figure)."""
    return figure(stage_spec(stages, title))


YLORRD = [[0.0, "rgb(255,255,204)"], [0.125, "rgb(255,237,160)"], [0.25, "rgb(254,217,118)"],
          [0.375, "rgb(254,178,76)"], [0.5, "rgb(253,141,60)"], [0.625, "rgb(252,78,42)"],
          [0.75, "rgb(227,26,28)"], [0.875, "rgb(189,0,38)"], [1.0, "rgb(128,0,38)"]]
"""plotly's ``YlOrRd`` colour scale (ColorBrewer, yellow for 0) written out, as plotly.py
sends it: plotly.js's own scale of that name runs the other way."""


def stage_spec(stages: pd.DataFrame, title: str) -> dict[str, Any]:
    """:func:`stage_figure` as a plain spec."""
    order = ["ore", "intermediate", "refined", "alloy", "scrap", "product"]
    table = stages.pivot_table(index="mineral", columns="stage", values="import_reliance",
                               aggfunc="first")
    table = table[[s for s in order if s in table.columns]]
    return _spec([{"type": "heatmap", "z": [_values(row) for row in table.to_numpy(dtype=float)],
                   "x": _values(table.columns), "y": _values(table.index),
                   "colorscale": YLORRD, "zmin": 0, "zmax": 1, "colorbar": {"tickformat": ".0%"},
                   "hovertemplate": "%{y}, %{x}: %{z:.0%} import reliance<extra></extra>"}],
                 title, height=max(300, 22 * len(table) + 120))


def suppliers_figure(suppliers: pd.DataFrame, title: str, top: int = 6) -> Any:
    """Each mineral's imports split by supplier (shares of tonnes), the ``top`` largest of
    each mineral named and the rest grouped. A supplier keeps one colour across the minerals
    (China always :data:`CHINA_COLOUR`; the next largest overall from
    :data:`COUNTRY_PALETTE`, the others grey-blue), with a legend entry per coloured one."""
    return figure(suppliers_spec(suppliers, title, top))


def suppliers_spec(suppliers: pd.DataFrame, title: str, top: int = 6) -> dict[str, Any]:
    """:func:`suppliers_figure` as a plain spec."""
    s = suppliers.sort_values(["mineral", "share"], ascending=[True, False])
    s = s.assign(rank=s.groupby("mineral").cumcount())
    named = s[s["rank"] < top]
    rest = s[s["rank"] >= top].groupby("mineral", as_index=False)["share"].sum()
    weight = named.groupby("supplier")["share"].sum().drop("CHN", errors="ignore")
    palette = dict(zip(weight.sort_values(ascending=False).index.astype(str), COUNTRY_PALETTE,
                       strict=False))
    minerals = list(dict.fromkeys(s["mineral"]))
    supplier = named["supplier"].astype(str)
    coloured = supplier.isin(["CHN", *palette])
    # one trace per coloured country; the other named suppliers, grey-blue, one trace per
    # rank (a trace per country would be dozens for a country's whole list)
    groups = [(code, named[supplier == code]) for code in ["CHN", *palette]]
    groups += [(None, g) for _, g in named[~coloured].groupby("rank")]
    traces = []
    for code, g in groups:
        if g.empty:
            continue
        codes = g["supplier"].astype(str).tolist()
        traces.append({
            "type": "bar", "x": _values(g["mineral"]), "y": _values(g["share"]),
            "name": code or "other suppliers", "legendgroup": code or "other",
            "showlegend": code is not None,
            "marker": {"color": CHINA_COLOUR if code == "CHN"
                       else palette.get(code or "", REST_COLOUR),
                       "line": {"color": "#ffffff", "width": 0.5}},
            "text": [c if v >= 0.04 else "" for c, v in zip(codes, g["share"], strict=True)],
            "customdata": codes, "textposition": "inside", "insidetextanchor": "middle",
            "textfont": {"size": 10},
            "hovertemplate": "%{customdata}: %{y:.1%} of %{x} imports<extra></extra>"})
    if not rest.empty:
        traces.append({"type": "bar", "x": _values(rest["mineral"]), "y": _values(rest["share"]),
                       "name": "others", "marker": {"color": "#d9d9d9"}, "showlegend": True,
                       "hovertemplate": "others: %{y:.1%} of %{x} imports<extra></extra>"})
    return _spec(traces, title, barmode="stack", yaxis={"tickformat": ".0%"},
                 xaxis={"categoryorder": "array", "categoryarray": minerals},
                 uniformtext={"minsize": 8, "mode": "hide"},
                 legend={"orientation": "h", "y": -0.2, "x": 0})


def origin_figure(profile: CountryProfile) -> Any:
    """China's share of imports as traded and once re-exporters are traced back to their
    sources (origin-adjusted), per mineral."""
    return figure(origin_spec(profile))


def origin_spec(profile: CountryProfile) -> dict[str, Any]:
    """:func:`origin_figure` as a plain spec."""
    m = profile.minerals.dropna(subset=["china_share"]).head(25)
    x = _values(m["mineral"])
    return _spec([
        {"type": "bar", "x": x, "y": _values(m["china_share"]), "name": "direct (as traded)"},
        {"type": "bar", "x": x, "y": _values(m["china_share_origin"]),
         "name": "by origin (via re-exporters)"},
    ], f"{profile.name}: China's share of imports, direct and by origin, {profile.year}",
        barmode="group", yaxis={"tickformat": ".0%"})


def trend_figure(rows: pd.DataFrame, title: str, metric: str = "import_reliance") -> Any:
    """One line per mineral of a cube metric over the years."""
    return figure(trend_spec(rows, title, metric))


def trend_spec(rows: pd.DataFrame, title: str, metric: str = "import_reliance"
               ) -> dict[str, Any]:
    """:func:`trend_figure` as a plain spec."""
    label, _, fmt = MAP_METRICS.get(metric, (metric, "", ".2f"))
    traces = [{"type": "scatter", "x": _values(g["year"]), "y": _values(g[metric]),
               "mode": "lines", "name": str(m),
               "hovertemplate": f"{m} %{{x}}: %{{y:{fmt}}}<extra></extra>"}
              for m, g in rows.sort_values("year").groupby("mineral", observed=True)]
    top = float(rows[metric].max()) if rows[metric].notna().any() else 1.0
    yaxis: dict[str, Any] = {"title": {"text": label}, "tickformat": fmt}
    if fmt.endswith("%"):
        yaxis["range"] = [0.0, max(1.05, top * 1.05)]
    return _spec(traces, title, yaxis=yaxis, xaxis={"title": {"text": "year"}})


def concentration_figure(profile: MineralProfile) -> Any:
    """World production concentration over time: HHI, top-3 share and China's share, at the
    mine and (where reported) the refining stage."""
    return figure(concentration_spec(profile))


def concentration_spec(profile: MineralProfile) -> dict[str, Any]:
    """:func:`concentration_figure` as a plain spec."""
    c = profile.concentration
    series = [("hhi", "HHI (mine)"), ("top3_share", "top-3 share (mine)"),
              ("china_production_share", "China share (mine)"),
              ("refining_hhi", "HHI (refinery output)"),
              ("refining_china_share", "China share (refinery output)"),
              ("processed_exports_china_share", "China share (processed exports, not refining)")]
    dash = {"refining_hhi": "dot", "refining_china_share": "dot",
            "processed_exports_china_share": "dash"}
    # shares on the left axis in per cent; the HHI (an index from 0 to 1, not a share) on
    # the right axis, in its own units
    traces = [{"type": "scatter", "x": _values(c["year"]), "y": _values(c[col]),
               "mode": "lines", "name": name, "line": {"dash": dash.get(col, "solid")},
               "yaxis": "y2" if col.endswith("hhi") else "y",
               "hovertemplate": f"{name} %{{x}}: %{{y:{'.3f' if col.endswith('hhi') else '.1%'}}}"
                                "<extra></extra>"}
              for col, name in series if col in c and c[col].notna().any()]
    # the legend under the plot: beside it, six labels leave a phone no room for the lines
    return _spec(traces, f"{profile.name}: concentration of world production",
                 yaxis={"tickformat": ".0%", "range": [0, 1.02],
                        "title": {"text": "share of world output"}},
                 yaxis2={"range": [0, 1.02], "overlaying": "y", "side": "right",
                         "tickformat": ".2f", "showgrid": False,
                         "title": {"text": "HHI (0–1)"}},
                 xaxis={"title": {"text": "year"}},
                 legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
                 height=520)


def producers_figure(profile: MineralProfile, top: int = 12) -> Any:
    """The largest producers' shares of world production in the profile's year."""
    return figure(producers_spec(profile, top))


def producers_spec(profile: MineralProfile, top: int = 12) -> dict[str, Any]:
    """:func:`producers_figure` as a plain spec."""
    p = profile.producers.head(top).iloc[::-1]
    world = float(profile.producers["production_t"].sum())
    return _spec([{"type": "bar", "y": _values(p["name"].fillna(p["country"])),
                   "x": _values(p["share"]), "orientation": "h",
                   "customdata": _values(p["production_t"]),
                   "hovertemplate": "%{y}: %{x:.1%} (%{customdata:,.0f} t)<extra></extra>"}],
                 f"{profile.name}: shares of world production, {profile.year} "
                 f"(world {world:,.0f} t {profile.basis})",
                 xaxis={"tickformat": ".0%", "title": {"text": "share of world production"}},
                 height=max(300, 24 * len(p) + 100))


CHINA_COLOUR = "#c0392b"
"""China's colour wherever a figure singles it out (value chain, flow maps); the dashboard
reads it from the figures it is sent."""
COUNTRY_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#9d755d", "#72b7b2")
"""Colours of the few largest countries other than China in a value chain."""
REST_COLOUR = "#8d9db6"
"""Grey-blue: every other country."""
NODE_COLOUR = "#c7c7c7"
"""Grey: nodes that are not one country (Other, the ore pool, balances, no data)."""


def _rgba(colour: str, alpha: float) -> str:
    code = colour.lstrip("#")
    red, green, blue = (int(code[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


def _tonnes(qty: float) -> str:
    """Tonnes in a few characters: 1.2 Mt, 363 kt, 4.5 kt, 850 t."""
    if qty >= 1e6:
        return f"{qty / 1e6:.1f} Mt"
    if qty >= 1e4:
        return f"{qty / 1e3:,.0f} kt"
    if qty >= 1e3:
        return f"{qty / 1e3:.1f} kt"
    return f"{qty:,.0f} t"


def sankey_figure(chain: pd.DataFrame, title: str, names: Mapping[str, str] | None = None,
                  basis: str = "") -> Any:
    """A mineral's value chain (:func:`critmin.query.value_chain`): mine output → ore
    traded → processing → use of the processed forms → imports of products, one column per
    stage, nodes by country with China in :data:`CHINA_COLOUR`, links in the colour of
    their source, tonnes of the basis on every node and link. A stage the data cannot fill
    is named under the figure with the reason."""
    return figure(sankey_spec(chain, title, names, basis))


def sankey_spec(chain: pd.DataFrame, title: str, names: Mapping[str, str] | None = None,
                basis: str = "") -> dict[str, Any]:
    """:func:`sankey_figure` as a plain spec."""
    from critmin.metrics import value_chain as vc

    nodes = vc.node_totals(chain)
    nodes = nodes[nodes["qty_t"] > 0].reset_index(drop=True)
    special = {vc.WORLD: "ore and concentrate traded", vc.BEYOND: "exports beyond output",
               vc.UNMATCHED: "not processed in the year", vc.UNTRACED: "source not traced",
               vc.OTHER: "Other", vc.NO_DATA: "no data"}
    countries = nodes[~nodes["country"].isin(vc.SPECIAL)]
    ranked = countries[countries["country"] != vc.CHINA].groupby("country")["qty_t"].max()
    palette = dict(zip(ranked.sort_values(ascending=False).index, COUNTRY_PALETTE,
                       strict=False))

    def colour(country: str) -> str:
        if country == vc.CHINA:
            return CHINA_COLOUR
        if country in vc.SPECIAL:
            return NODE_COLOUR
        return str(palette.get(country, REST_COLOUR))

    def label(stage: str, country: str) -> str:
        if country in special:
            return f"{stage}: no data" if country == vc.NO_DATA else special[country]
        return names.get(country, country) if names else country

    # a fixed column per stage, nodes stacked largest first and the rest at the bottom
    stages = [s for s in vc.STAGE_ORDER if s in set(nodes["stage"])]
    column = {s: i / max(len(stages) - 1, 1) for i, s in enumerate(stages)}
    nodes["rest"] = nodes["country"].isin(vc.SPECIAL)
    nodes = nodes.sort_values(["stage", "rest", "qty_t"], ascending=[True, True, False],
                              key=lambda c: c.map(stages.index) if c.name == "stage" else c)
    nodes = nodes.reset_index(drop=True)
    totals = nodes.groupby("stage")["qty_t"].sum()
    most = int(nodes.groupby("stage").size().max()) if len(nodes) else 0  # no stage with data
    missing = chain[chain["qty_t"].isna()]
    notes = [f"{vc.STAGE_TITLES[s]}: no data ({why})"
             for s, why in zip(missing["to_stage"], missing["source"], strict=True)]
    notes += [f"processing: no data ({why.split('processing: ')[-1]})"
              for why in chain.loc[chain["to_country"] == vc.NO_DATA, "source"].dropna()
              .drop_duplicates() if "processing: " in why]
    height = max(620, 30 * most + 320)
    margin = {"l": 10, "r": 10, "t": 80, "b": 20 + 16 * len(notes)}
    # nodes placed by hand, at plotly's own scale (its padding between nodes is the same
    # gap): about 26 px between small nodes, so that their labels do not overlap
    room = height - margin["t"] - margin["b"]
    pad = min(26.0, 0.45 * room / max(most - 1, 1))
    gap = pad / room
    counts = nodes.groupby("stage").size()
    per_tonne = float(((1 - gap * (counts - 1)) / totals).min())  # as d3-sankey scales
    within = nodes.groupby("stage").cumcount()
    before = nodes.groupby("stage")["qty_t"].cumsum() - nodes["qty_t"]
    y = ((before + nodes["qty_t"] / 2) * per_tonne + within * gap).clip(0.001, 0.999)
    x = nodes["stage"].map(column).clip(0.001, 0.999)
    index = {(s, c): i for i, (s, c) in enumerate(zip(nodes["stage"], nodes["country"],
                                                       strict=True))}
    links = chain.dropna(subset=["qty_t"])
    links = links[links["qty_t"] > 0]
    src = [index[k] for k in zip(links["from_stage"], links["from_country"], strict=True)]
    dst = [index[k] for k in zip(links["to_stage"], links["to_country"], strict=True)]
    unit = f"t {basis}".strip()
    sankey = {
        "type": "sankey", "arrangement": "snap", "valueformat": ",.0f",
        "valuesuffix": f" {unit}",
        "node": {"label": [f"{label(s, c)} · {_tonnes(q)}" for s, c, q in
                           zip(nodes["stage"], nodes["country"], nodes["qty_t"], strict=True)],
                 "color": [colour(c) for c in nodes["country"]],
                 "customdata": [vc.STAGE_TITLES[s] for s in nodes["stage"]],
                 "hovertemplate": "%{label}<br>%{customdata}<br>%{value}<extra></extra>",
                 "x": x.round(4).tolist(), "y": y.round(4).tolist(), "pad": pad,
                 "thickness": 14, "line": {"width": 0.5, "color": "#ffffff"}},
        "link": {"source": src, "target": dst, "value": links["qty_t"].astype(float).tolist(),
                 "color": [_rgba(colour(c), 0.4) for c in links["from_country"]],
                 "customdata": links["source"].astype(str).tolist(),
                 "hovertemplate": "%{source.label} → %{target.label}<br>%{value}<br>"
                                  "%{customdata}<extra></extra>"}}
    heads = [{"text": f"<b>{vc.STAGE_HEADS[s]}</b>", "x": column[s], "y": 1.0,
              "xref": "paper", "yref": "paper", "yanchor": "bottom", "showarrow": False,
              "xanchor": "left" if column[s] == 0 else "right" if column[s] == 1 else "center",
              "font": {"size": 11}} for s in stages]
    under = [{"text": "<br>".join(_wrapped(n, 110) for n in notes), "x": 0, "y": -0.02,
              "xref": "paper", "yref": "paper", "yanchor": "top", "showarrow": False,
              "align": "left", "xanchor": "left", "font": {"size": 11, "color": "#666"}}
             ] if notes else []
    return _spec([sankey], title, height=height, annotations=heads + under, margin=margin)


EXTRA_CENTROIDS: dict[str, tuple[float, float]] = {
    "SGP": (103.82, 1.35), "HKG": (114.17, 22.32), "MAC": (113.55, 22.16),
    "BHR": (50.56, 26.07), "MLT": (14.38, 35.94), "MUS": (57.55, -20.35)}
"""Lon/lat of traders too small for the 1:110m map the dashboard draws (their capitals)."""


def centroids() -> dict[str, tuple[float, float]]:
    """ISO3 -> (lon, lat) of each country's centroid, from the vendored world map (the
    points plotly itself places country markers on) and :data:`EXTRA_CENTROIDS`."""
    return dict(_centroid_table())


@functools.lru_cache(maxsize=1)
def _centroid_table() -> tuple[tuple[str, tuple[float, float]], ...]:
    import json
    from importlib import resources

    path = resources.files("critmin") / "web/static/vendor/topojson/world_110m.json"
    shapes = json.loads(path.read_text(encoding="utf-8"))["objects"]["countries"]
    found = {str(g["id"]): (float(g["properties"]["ct"][0]), float(g["properties"]["ct"][1]))
             for g in shapes["geometries"] if g.get("id") and "ct" in g.get("properties", {})}
    return tuple({**EXTRA_CENTROIDS, **found}.items())


def arc(start: tuple[float, float], end: tuple[float, float], points: int = 32
        ) -> tuple[list[float], list[float]]:
    """Lon and lat of a flow's line from ``start`` to ``end`` (lon, lat): the great circle
    where it stays on a map centred on the Greenwich meridian; where the great circle would
    cross the antimeridian (and leave the map at one edge to come back at the other), a
    curve bent towards the pole the other way round instead, so that no line runs off the
    map.

    >>> lon, lat = arc((-70.0, -30.0), (105.0, 35.0))
    >>> max(abs(a - b) for a, b in zip(lon, lon[1:])) < 180
    True
    """
    lon1, lat1, lon2, lat2 = np.radians([start[0], start[1], end[0], end[1]])
    a = np.array([np.cos(lat1) * np.cos(lon1), np.cos(lat1) * np.sin(lon1), np.sin(lat1)])
    b = np.array([np.cos(lat2) * np.cos(lon2), np.cos(lat2) * np.sin(lon2), np.sin(lat2)])
    angle = float(np.arccos(np.clip(a @ b, -1.0, 1.0)))
    t = np.linspace(0.0, 1.0, points)
    if angle < 1e-9:
        return [start[0]] * points, [start[1]] * points
    xyz = (np.sin((1 - t[:, None]) * angle) * a + np.sin(t[:, None] * angle) * b) / np.sin(
        angle)
    lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    lat = np.degrees(np.arcsin(np.clip(xyz[:, 2], -1.0, 1.0)))
    if np.abs(np.diff(lon)).max() > 180:
        span = abs(end[0] - start[0])
        lon = start[0] + t * (end[0] - start[0])
        middle = (start[1] + end[1]) / 2
        bend = min(25.0, 0.12 * span) * (1 if middle >= 0 else -1)
        lat = start[1] + t * (end[1] - start[1]) + bend * np.sin(np.pi * t)
    return [float(x) for x in lon], [float(y) for y in lat]


def _apart(points: pd.DataFrame, most: int, wide: float = 15.0, high: float = 6.0
           ) -> list[bool]:
    """Which points get a label: the largest first, each only where its label would not
    overlap one already placed (a box ``wide`` by ``high`` degrees, the size of a
    three-letter code on a world map a few hundred pixels wide; longitude shrunk by the
    cosine of the latitude, about as the projection does)."""
    placed: list[tuple[float, float]] = []
    keep = []
    for lon, lat in zip(points["lon"], points["lat"], strict=True):
        near = any(abs((lon - x) * np.cos(np.radians((lat + y) / 2))) < wide
                   and abs(lat - y) < high for x, y in placed)
        ok = not near and len(placed) < most
        if ok:
            placed.append((lon, lat))
        keep.append(ok)
    return keep


def _round_tonnes(qty: float) -> float:
    """``qty`` to two significant figures, for a legend."""
    if qty <= 0:
        return 0.0
    digits = int(np.floor(np.log10(qty))) - 1
    return float(round(qty, -digits))


def flow_map(flows: pd.DataFrame, title: str, top: int = 20,
             names: Mapping[str, str] | None = None, basis: str = "") -> Any:
    """The largest bilateral flows (``exporter``, ``importer``, ``qty_basis_t``) as great
    circles between country centroids, width by tonnes with three sample widths in the
    legend, flows from China in :data:`CHINA_COLOUR`. The largest ends are labelled, a
    label only where no larger one sits close by.

    >>> flows = pd.DataFrame({"exporter": ["CHN", "AUS"], "importer": ["JPN", "CHN"],
    ...                       "qty_basis_t": [100.0, 50.0]})
    >>> [t.name for t in flow_map(flows, "x").data if t.showlegend][:2]
    ['from China', 'from elsewhere']
    """
    return figure(flow_map_spec(flows, title, top, names, basis))


def flow_map_spec(flows: pd.DataFrame, title: str, top: int = 20,
                  names: Mapping[str, str] | None = None, basis: str = "") -> dict[str, Any]:
    """:func:`flow_map` as a plain spec."""
    where = centroids()
    f = flows[flows["qty_basis_t"] > 0].sort_values("qty_basis_t", ascending=False).head(top)
    f = f[f["exporter"].astype(str).isin(where) & f["importer"].astype(str).isin(where)]
    biggest = float(f["qty_basis_t"].max()) if len(f) else 1.0
    unit = f"t {basis}".strip()

    def width(qty: float) -> float:
        return 1 + 7 * qty / biggest

    def who(code: str) -> str:
        return names.get(code, code) if names else code

    traces: list[dict[str, Any]] = []
    for e, i, q in zip(f["exporter"].astype(str), f["importer"].astype(str),
                       f["qty_basis_t"].astype(float), strict=True):
        lon, lat = arc(where[e], where[i])
        traces.append({
            "type": "scattergeo", "lon": lon, "lat": lat, "mode": "lines", "showlegend": False,
            "line": {"width": width(q), "color": CHINA_COLOUR if e == "CHN" else "#3b6ea5"},
            "opacity": 0.6, "hoverinfo": "text", "legendgroup": "colour",
            "text": f"{who(e)} → {who(i)}: {q:,.0f} {unit}"})
    ends = pd.concat([f[["exporter", "qty_basis_t"]].set_axis(["country", "qty"], axis=1),
                      f[["importer", "qty_basis_t"]].set_axis(["country", "qty"], axis=1)])
    summed = ends.assign(country=ends["country"].astype(str)).groupby("country")["qty"].sum()
    ends = summed.sort_values(ascending=False).reset_index()
    ends["lon"] = [where[c][0] for c in ends["country"]]
    ends["lat"] = [where[c][1] for c in ends["country"]]
    shown = _apart(ends, most=10)
    traces.append({
        "type": "scattergeo", "lon": ends["lon"].tolist(), "lat": ends["lat"].tolist(),
        "mode": "markers+text",
        "text": [c if ok else "" for c, ok in zip(ends["country"], shown, strict=True)],
        "hovertext": [f"{who(c)}: {q:,.0f} {unit} in the flows shown"
                      for c, q in zip(ends["country"], ends["qty"], strict=True)],
        "hoverinfo": "text", "textposition": "top center", "textfont": {"size": 10},
        "showlegend": False, "marker": {"size": 5, "color": "#333"}})
    for name, colour in (("from China", CHINA_COLOUR), ("from elsewhere", "#3b6ea5")):
        traces.append({"type": "scattergeo", "lon": [0.0], "lat": [0.0], "mode": "lines",
                       "name": name, "line": {"width": 4, "color": colour},
                       "legendgroup": "colour", "showlegend": True, "hoverinfo": "skip"})
    for n, qty in enumerate(dict.fromkeys(_round_tonnes(biggest * k) for k in (1, 1 / 3, 1 / 10))):
        traces.append({
            "type": "scattergeo", "lon": [0.0], "lat": [0.0], "mode": "lines",
            "name": f"{qty:,.0f} {unit}", "line": {"width": width(qty), "color": "#777777"},
            "showlegend": True, "legendgroup": "width", "hoverinfo": "skip",
            **({"legendgrouptitle": {"text": "line width"}} if n == 0 else {})})
    return _spec(traces, title, geo=GEO, height=520,
                 legend={"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top"})


def restriction_map(result: Restriction, names: Mapping[str, str] | None = None) -> Any:
    """Each country's final loss as a share of its supply after a restriction; the title
    names the suppliers, the cut, the mineral, the stage, the year and the targets."""
    go = _go()
    c = result.countries.dropna(subset=["loss_share"])
    c = c[c["country"].astype(str).str.len() == 3]
    fig = go.Figure(go.Choropleth(
        locations=c["country"].astype(str).tolist(), z=c["loss_share"].clip(0, 1).tolist(),
        locationmode="ISO-3", colorscale="Reds", zmin=0, zmax=1,
        text=_named(c["country"], names),
        colorbar={"tickformat": ".0%", "title": {"text": "loss, share<br>of supply",
                                                  "side": "top"}},
        customdata=c[["loss_t", "loss_share_first_order"]].to_numpy(),
        hovertemplate=("%{text}<br>loss %{z:.1%} of supply (%{customdata[0]:,.0f} t)<br>"
                       "first order %{customdata[1]:.1%}<extra></extra>")))

    def listed(codes: list[str]) -> str:
        said = [names.get(x, x) if names else x for x in codes]
        return ", ".join(said) if len(said) <= 3 else f"{', '.join(said[:3])} and " \
                                                      f"{len(said) - 3} more"

    what = "production" if result.shock == "production" else "exports"
    to = f" to {listed(result.targets)}" if result.targets else ""
    return _layout(fig, f"Loss of {result.mineral} supply if {listed(result.suppliers)} "
                        f"cut{'s' if len(result.suppliers) == 1 else ''} {result.cut:.0%} "
                        f"of {what}{to} ({_stage_words(result.stage)}, {result.year})",
                   geo=GEO)


def pact_figure(result: Pact) -> Any:
    """The importer's metrics before and after an agreement."""
    go = _go()
    # shares only: the import HHI is an index, not a share, and stays in the table
    keys = [k for k in ("import_reliance", "china_share", "top_supplier_share")
            if result.before.get(k) is not None and result.after.get(k) is not None]
    exposure = [("loss if the rival cuts", result.exposure_before, result.exposure_after)]
    rows = [(k.replace("_", " "), result.before[k], result.after[k]) for k in keys] + [
        r for r in exposure if r[1] is not None and np.isfinite(r[1])]
    fig = go.Figure([
        go.Bar(x=[r[0] for r in rows], y=[r[1] for r in rows], name="before"),
        go.Bar(x=[r[0] for r in rows], y=[r[2] for r in rows], name="with the agreement"),
    ])
    return _layout(fig, f"{result.importer} with {result.supplier}: {result.mineral}, "
                        f"{result.mode} ({result.year})", barmode="group",
                   yaxis={"tickformat": ".0%", "title": {"text": "share"}})


def supply_at_risk_figure(result: SupplyAtRisk, top: int = 15) -> Any:
    """Expected loss and the 95th-percentile loss per importer (share of supply), for the
    importers with the largest expected loss in tonnes (a few tonnes' supply lost whole
    would otherwise head the chart)."""
    go = _go()
    c = result.countries.dropna(subset=["expected_loss_share"])
    c = c.sort_values("expected_loss_t", ascending=False, kind="stable").head(top)
    fig = go.Figure([
        go.Bar(x=c["country"], y=c["expected_loss_share"], name="expected loss"),
        go.Bar(x=c["country"], y=c["var95_share"], name="95th percentile (VaR)"),
    ])
    return _layout(fig, f"{result.mineral} supply at risk, {result.year} "
                        f"({result.draws:,} draws)", barmode="group",
                   yaxis={"tickformat": ".0%"})


def _wrapped(text: str, width: int = 18) -> str:
    """A label cut into lines of about ``width`` characters (a phone keeps room for bars)."""
    import textwrap

    return "<br>".join(textwrap.wrap(text.replace("_", " "), width)) or text


def scenario_outcomes_figure(outcomes: pd.DataFrame) -> Any:
    """One country's headline loss under each saved scenario (a row of
    :func:`critmin.whatif.saved.outcomes` each), as horizontal bars: loss share of supply;
    an agreement's bar is its loss with the agreement, its loss without it the hollow mark."""
    go = _go()
    t = outcomes.iloc[::-1]  # the first scenario on top
    labels = [_wrapped(str(s)) for s in t["scenario"]]
    share = t["loss_share"].astype(float)
    fig = go.Figure([
        go.Bar(y=labels, x=share, orientation="h", name="loss share",
               text=[f"{v:.1%}" if np.isfinite(v) else "n/a" for v in share],
               textposition="auto", customdata=t[["measure", "loss_t"]].to_numpy(),
               hovertemplate="%{customdata[0]}: %{x:.1%} of supply<br>"
                             "%{customdata[1]:,.0f} t<extra></extra>"),
        go.Scatter(y=labels, x=t["loss_share_without"].astype(float), mode="markers",
                   name="without the agreement",
                   marker={"symbol": "line-ns-open", "size": 18, "line": {"width": 3},
                           "color": "#EF553B"},
                   hovertemplate="without the agreement: %{x:.1%}<extra></extra>"),
    ])
    country = str(outcomes["country"].iloc[0]) if len(outcomes) else ""
    return _layout(fig, f"{country}: loss share of supply per scenario",
                   xaxis={"tickformat": ".0%", "rangemode": "tozero"},
                   legend={"orientation": "h", "y": -0.15},
                   height=max(260, 90 + 70 * len(outcomes)))


def portfolio_figure(result: Portfolio, names: Mapping[str, str] | None = None) -> Any:
    """The optimised supplier mix against today's, as shares of demand."""
    go = _go()
    p = result.portfolio
    p = p[(p["share"] > 0.001) | (p["today_share"] > 0.001)]
    who = _named(p["supplier"], names)
    fig = go.Figure([go.Bar(x=who, y=p["today_share"], name="today"),
                     go.Bar(x=who, y=p["share"], name="optimised")])
    return _layout(fig, f"{result.importer}: {result.mineral} sourcing, today and optimised "
                        f"({result.year})", barmode="group", yaxis={"tickformat": ".0%"})


def frontier_figure(frontier: Frontier) -> Any:
    """Governance risk against unit cost of the optimal mixes, one point per weight."""
    go = _go()
    t = frontier.table
    fig = go.Figure(go.Scatter(
        x=t["unit_cost_usd_per_kg"], y=t["risk"], mode="lines+markers",
        customdata=t[["cost_weight", "hhi", "china_share", "suppliers"]].to_numpy(),
        hovertemplate=("unit cost %{x:.2f} USD/kg<br>governance risk %{y:.3f}<br>"
                       "cost weight %{customdata[0]:.2f}<br>HHI %{customdata[1]:.3f}<br>"
                       "China %{customdata[2]:.1%}<br>%{customdata[3]} suppliers"
                       "<extra></extra>")))
    return _layout(fig, f"{frontier.importer}, {frontier.mineral} ({frontier.year}): "
                        "risk-cost frontier",
                   xaxis={"title": {"text": f"unit cost of the mix (USD per kg "
                                             f"{frontier.basis})"}},
                   yaxis={"title": {"text": "governance risk of the mix (0-1)"}})
