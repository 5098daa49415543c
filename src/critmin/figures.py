"""The figures critmin draws (plotly), shared by the notebooks, the dashboard and the
reports. Each takes a result object or a table of the Python API and returns a
``plotly.graph_objects.Figure``; none reads data itself.

>>> import pandas as pd
>>> frame = pd.DataFrame({"country": ["IND", "DEU"], "import_reliance": [1.0, 0.5]})
>>> fig = world_map(frame, "import_reliance", "lithium", 2023)
>>> list(fig.data[0].locations), list(fig.data[0].z)
(['IND', 'DEU'], [1.0, 0.5])
"""

from __future__ import annotations

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
    """A figure as plain JSON (``data`` and ``layout``), as the dashboard draws it."""
    import json

    return json.loads(fig.to_json())


def _go() -> Any:
    import plotly.graph_objects as go

    return go


def _layout(fig: Any, title: str, **kw: Any) -> Any:
    # one assignment: update_layout's path handling costs ten times more per figure
    fig.layout = {"title": {"text": title, "x": 0.01}, "template": TEMPLATE,
                  "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, **kw}
    return fig


def _named(codes: pd.Series, names: Mapping[str, str] | None) -> list[str]:
    if names is None:
        return [str(c) for c in codes]
    return [f"{names.get(str(c), c)} ({c})" for c in codes]


def world_map(frame: pd.DataFrame, metric: str, mineral: str, year: int,
              stage: str = "headline", names: Mapping[str, str] | None = None) -> Any:
    """A choropleth of one metric per country (ISO3 in ``country``), for one mineral and year.

    Countries without a figure (withheld, no trade) are left blank: the map shows only what
    the data carries.
    """
    go = _go()
    title, meaning, fmt = MAP_METRICS[metric]
    data = frame.loc[frame[metric].notna(), ["country", metric]]
    scale = [0.0, 1.0] if fmt.endswith("%") else [None, None]
    fig = go.Figure(go.Choropleth(
        locations=data["country"].astype(str).tolist(), z=data[metric].astype(float).tolist(),
        locationmode="ISO-3", colorscale="YlOrRd", zmin=scale[0], zmax=scale[1],
        text=_named(data["country"], names), marker_line_color="#ffffff",
        marker_line_width=0.4,
        colorbar={"title": {"text": title.split("'")[0][:18]}, "tickformat": fmt},
        hovertemplate=f"%{{text}}<br>{title}: %{{z:{fmt}}}<extra></extra>"))
    stage_text = "" if stage == "headline" else f", {stage} stage"
    _layout(fig, f"{title}: {mineral}, {year}{stage_text}",
            geo={"showframe": False, "showcoastlines": False, "projection_type": "natural earth",
                 "showcountries": True, "countrycolor": "#cccccc", "showland": True,
                 "landcolor": "#f2f2f2"},
            annotations=[{"text": f"{meaning}; blank: no figure (see the country's reasons)",
                          "showarrow": False, "x": 0, "y": -0.02, "xref": "paper",
                          "yref": "paper", "font": {"size": 11, "color": "#666"}}])
    return fig


def dependence_figure(profile: CountryProfile) -> Any:
    """Import reliance and China's share of imports per mineral, the country's own critical
    list first; minerals whose reliance is withheld show no bar."""
    go = _go()
    m = profile.minerals
    m = m[m["import_reliance"].notna() | m["china_share"].notna()].head(30).iloc[::-1]
    labels = [f"{'★ ' if own else ''}{name}" for name, own in zip(m["mineral"], m["own_list"],
                                                                  strict=True)]
    fig = go.Figure([
        go.Bar(y=labels, x=m["import_reliance"], orientation="h", name="import reliance",
               hovertemplate="%{y}: %{x:.0%} import reliance<extra></extra>"),
        go.Bar(y=labels, x=m["china_share"], orientation="h", name="China's share of imports",
               hovertemplate="%{y}: %{x:.0%} of imports from China<extra></extra>"),
    ])
    return _layout(fig, f"{profile.name}: dependence per mineral, {profile.year} "
                        "(★ on its own critical list)",
                   barmode="group", xaxis={"tickformat": ".0%", "range": [0, 1.05]},
                   height=max(320, 26 * len(m) + 120), legend={"orientation": "h", "y": -0.08})


def stage_figure(stages: pd.DataFrame, title: str) -> Any:
    """Import reliance per mineral and supply-chain stage as a heat map (blank where the
    stage has no reliance figure)."""
    go = _go()
    order = ["ore", "intermediate", "refined", "alloy", "scrap", "product"]
    table = stages.pivot_table(index="mineral", columns="stage", values="import_reliance",
                               aggfunc="first")
    table = table[[s for s in order if s in table.columns]]
    fig = go.Figure(go.Heatmap(
        z=table.to_numpy(dtype=float), x=list(table.columns), y=list(table.index),
        colorscale="YlOrRd", zmin=0, zmax=1, colorbar={"tickformat": ".0%"},
        hovertemplate="%{y}, %{x}: %{z:.0%} import reliance<extra></extra>"))
    return _layout(fig, title, height=max(300, 22 * len(table) + 120))


def suppliers_figure(suppliers: pd.DataFrame, title: str, top: int = 6) -> Any:
    """Each mineral's imports split by supplier (shares of tonnes), largest suppliers named
    and the rest grouped."""
    go = _go()
    s = suppliers.sort_values(["mineral", "share"], ascending=[True, False])
    s = s.assign(rank=s.groupby("mineral").cumcount())
    named = s[s["rank"] < top]
    rest = s[s["rank"] >= top].groupby("mineral", as_index=False)["share"].sum()
    traces = [go.Bar(x=g["mineral"], y=g["share"], text=g["supplier"].astype(str),
                     textposition="inside", name=f"supplier {n + 1}", showlegend=False,
                     hovertemplate="%{text}: %{y:.0%} of %{x} imports<extra></extra>")
              for n, (_, g) in enumerate(named.groupby("rank"))]
    if not rest.empty:
        traces.append(go.Bar(x=rest["mineral"], y=rest["share"], name="others",
                             marker_color="#cccccc", showlegend=False,
                             hovertemplate="others: %{y:.0%} of %{x} imports<extra></extra>"))
    fig = go.Figure(traces)
    return _layout(fig, title, barmode="stack", yaxis={"tickformat": ".0%"})


def origin_figure(profile: CountryProfile) -> Any:
    """China's share of imports as traded and once re-exporters are traced back to their
    sources (origin-adjusted), per mineral."""
    go = _go()
    m = profile.minerals.dropna(subset=["china_share"]).head(25)
    fig = go.Figure([
        go.Bar(x=m["mineral"], y=m["china_share"], name="direct (as traded)"),
        go.Bar(x=m["mineral"], y=m["china_share_origin"], name="by origin (via re-exporters)"),
    ])
    return _layout(fig, f"{profile.name}: China's share of imports, direct and by origin, "
                        f"{profile.year}", barmode="group", yaxis={"tickformat": ".0%"})


def trend_figure(rows: pd.DataFrame, title: str, metric: str = "import_reliance") -> Any:
    """One line per mineral of a cube metric over the years."""
    go = _go()
    label, _, fmt = MAP_METRICS.get(metric, (metric, "", ".2f"))
    fig = go.Figure([go.Scatter(x=g["year"], y=g[metric], mode="lines", name=str(m),
                                hovertemplate=f"{m} %{{x}}: %{{y:{fmt}}}<extra></extra>")
                     for m, g in rows.sort_values("year").groupby("mineral", observed=True)])
    top = float(rows[metric].max()) if rows[metric].notna().any() else 1.0
    span = [0.0, max(1.05, top * 1.05)] if fmt.endswith("%") else None
    return _layout(fig, title, yaxis={"title": {"text": label}, "tickformat": fmt, "range": span},
                   xaxis={"title": {"text": "year"}})


def concentration_figure(profile: MineralProfile) -> Any:
    """World production concentration over time: HHI, top-3 share and China's share, at the
    mine and (where reported) the refining stage."""
    go = _go()
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
    fig = go.Figure([go.Scatter(x=c["year"], y=c[col], mode="lines", name=name,
                                line={"dash": dash.get(col, "solid")},
                                yaxis="y2" if col.endswith("hhi") else "y",
                                hovertemplate=f"{name} %{{x}}: %{{y:"
                                              f"{'.3f' if col.endswith('hhi') else '.1%'}}}"
                                              "<extra></extra>")
                     for col, name in series if col in c and c[col].notna().any()])
    # the legend under the plot: beside it, six labels leave a phone no room for the lines
    return _layout(fig, f"{profile.name}: concentration of world production",
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
    go = _go()
    p = profile.producers.head(top).iloc[::-1]
    fig = go.Figure(go.Bar(y=p["name"].fillna(p["country"]), x=p["share"], orientation="h",
                           customdata=p["production_t"],
                           hovertemplate=("%{y}: %{x:.1%} (%{customdata:,.0f} t)"
                                          "<extra></extra>")))
    world = float(profile.producers["production_t"].sum())
    return _layout(fig, f"{profile.name}: shares of world production, {profile.year} "
                        f"(world {world:,.0f} t {profile.basis})",
                   xaxis={"tickformat": ".0%", "title": {"text": "share of world production"}},
                   height=max(300, 24 * len(p) + 100))


def sankey_figure(flows: pd.DataFrame, title: str, names: Mapping[str, str] | None = None,
                  top: int = 25) -> Any:
    """Mine → refined stage → importers: the largest bilateral flows per stage
    (``exporter``, ``importer``, ``stage``, ``qty_basis_t``), one column per stage."""
    go = _go()
    f = flows[flows["qty_basis_t"] > 0].sort_values("qty_basis_t", ascending=False).head(top)
    labels: list[str] = []
    index: dict[tuple[str, str], int] = {}

    def node(code: str, column: str) -> int:
        key = (code, column)
        if key not in index:
            index[key] = len(labels)
            labels.append(f"{names.get(code, code) if names else code} ({column})")
        return index[key]

    src = [node(str(e), f"{s} exporter") for e, s in zip(f["exporter"], f["stage"], strict=True)]
    dst = [node(str(i), "importer") for i in f["importer"]]
    fig = go.Figure(go.Sankey(
        node={"label": labels, "pad": 12, "thickness": 14},
        link={"source": src, "target": dst, "value": f["qty_basis_t"].astype(float).tolist(),
              "hovertemplate": "%{source.label} → %{target.label}: %{value:,.0f} t"
                               "<extra></extra>"}))
    return _layout(fig, title, height=520)


def flow_map(flows: pd.DataFrame, title: str, top: int = 20) -> Any:
    """The largest bilateral flows as lines between country centroids, width by tonnes."""
    go = _go()
    f = flows[flows["qty_basis_t"] > 0].sort_values("qty_basis_t", ascending=False).head(top)
    biggest = float(f["qty_basis_t"].max()) if len(f) else 1.0
    traces = [go.Scattergeo(
        locations=[str(e), str(i)], locationmode="ISO-3", mode="lines",
        line={"width": 1 + 7 * float(q) / biggest, "color": "#c0392b"}, opacity=0.6,
        hoverinfo="text", text=f"{e} → {i}: {q:,.0f} t", showlegend=False)
        for e, i, q in zip(f["exporter"], f["importer"], f["qty_basis_t"], strict=True)]
    ends = sorted(set(f["exporter"].astype(str)) | set(f["importer"].astype(str)))
    traces.append(go.Scattergeo(locations=ends, locationmode="ISO-3", mode="markers+text",
                                text=ends, textposition="top center", showlegend=False,
                                marker={"size": 5, "color": "#333"}))
    fig = go.Figure(traces)
    return _layout(fig, title, geo={"projection_type": "natural earth", "showland": True,
                                    "landcolor": "#f2f2f2", "showcountries": True,
                                    "countrycolor": "#dddddd"})


def restriction_map(result: Restriction, names: Mapping[str, str] | None = None) -> Any:
    """Each country's final loss as a share of its supply after a restriction."""
    go = _go()
    c = result.countries.dropna(subset=["loss_share"])
    c = c[c["country"].astype(str).str.len() == 3]
    fig = go.Figure(go.Choropleth(
        locations=c["country"].astype(str).tolist(), z=c["loss_share"].clip(0, 1).tolist(),
        locationmode="ISO-3", colorscale="Reds", zmin=0, zmax=1,
        text=_named(c["country"], names), colorbar={"tickformat": ".0%"},
        customdata=c[["loss_t", "loss_share_first_order"]].to_numpy(),
        hovertemplate=("%{text}<br>loss %{z:.1%} of supply (%{customdata[0]:,.0f} t)<br>"
                       "first order %{customdata[1]:.1%}<extra></extra>")))
    who = ", ".join(result.suppliers)
    return _layout(fig, f"Loss of {result.mineral} supply if {who} cut {result.cut:.0%} "
                        f"({result.year})",
                   geo={"projection_type": "natural earth", "showframe": False})


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
