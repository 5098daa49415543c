"""Reports: a country's or a mineral's page as one standalone HTML file (plotly.js, map
geometry and data embedded, so it opens with no network) and as PDF printed by headless
Chromium.

>>> html = report_html("India", 2022)
>>> "India" in html and "PlotlyGeoAssets" in html and "<script src=" not in html
True
"""

from __future__ import annotations

import html as escape
import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from critmin import __version__, files, numbers, resolve
from critmin.browser import find_browser, last_line, run_chromium
from critmin.errors import CritminError, InvalidInput, NotFound
from critmin.figures import figure
from critmin.pages import SOURCES, Page, country_page, mineral_page

if TYPE_CHECKING:
    from critmin.brief import Brief, CompanyBrief

VENDOR = Path(__file__).resolve().parent / "web" / "static" / "vendor"
PDF_TIMEOUT = 120
"""Seconds Chromium has to print one PDF."""

TABLE_COLUMNS = {
    "minerals": ["mineral", "own_list", "answer", "reliance_status", "china_share",
                 "china_share_origin", "top_supplier", "top_supplier_share", "score",
                 "production_t", "imports_t", "exports_t", "reserves_t"],
    "suppliers": ["mineral", "supplier", "supplier_name", "share", "qty_basis_t"],
    "producers": ["country", "name", "production_t", "share"],
    "exporters": ["exporter", "name", "qty_basis_t", "value_kusd", "share"],
    "flows": ["exporter", "importer", "qty_basis_t", "value_kusd"],
    "reserves": ["country", "qty_t", "year", "source"],
    "selected_minerals": ["mineral", "answer", "import_reliance", "china_share",
                          *[f"china_share_{y}" for y in range(1990, 2100)], "top_supplier",
                          "top_supplier_share", "score", "imports_basis_t", "reliance_status"],
    "alternatives": ["mineral", "rank", "supplier", "supplier_name", "independent_t", "cap_t",
                     "exports_to_importer_t", "production_t", "governance_risk"],
    "agreements": ["agreement", "supplier", "mineral", "stage", "volume_t", "delivered_t",
                   "china_share_before", "china_share_after", "loss_if_china_cuts_before",
                   "loss_if_china_cuts_after", "feasible"],
    # a company's brief
    "materials": ["mineral", "qty_basis_t", "n_suppliers", "top_supplier",
                  "top_supplier_share", "hhi", "china_share", "china_share_traced",
                  "controlled_share", "score", "cf", "score_compat", "cf_compat"],
    "supplier_mix": ["mineral", "supplier_country", "supplier_name", "qty_basis_t",
                     "value_usd", "share"],
    "export_controls": ["mineral", "supplier_country", "event", "title", "stage", "targets",
                        "qty_basis_t", "share"],
}
"""The columns a report prints per table (all columns go to the dashboard's downloads)."""

GLOSSARY = {
    "answer": "the headline reliance with China's share, or, where the data cannot carry "
              "the headline, the principal stage it covers, named (e.g. \"refined: 100 % "
              "imported, China 99 %\"); \"net exporter (exports n× supply)\" below -100 %",
    "reserves_t": "reserves on the mineral's basis, the newest USGS Mineral Commodity "
                  "Summaries estimate",
    "import_reliance": "(imports - exports) / (production + imports - exports), tonnes on the "
                       "mineral's basis; withheld with a reason where the data cannot carry it",
    "china_share": "China's share of the import tonnes",
    "china_share_origin": "the same once re-exporters are traced one step back to their "
                          "sources",
    "top_supplier_share": "the largest supplier's share of the import tonnes",
    "score": "GeoPolRisk: HHI of world production x import-share-weighted governance risk "
             "of the suppliers (geopolrisk-py definition)",
    "share": "share of the total in the table's year",
    "qty_basis_t": "tonnes of the mineral's basis (content), not gross product weight",
}


def subject_page(subject: str, year: int | None = None) -> Page:
    """The page of a country or, failing that, of a mineral named ``subject``."""
    try:
        resolve.country(subject)
    except NotFound as country_error:
        try:
            resolve.mineral(subject)
        except NotFound as mineral_error:
            raise NotFound(
                f"{subject!r} is neither a country nor a mineral critmin knows",
                suggestions=[*country_error.suggestions, *mineral_error.suggestions]) from None
        return mineral_page(subject, year)
    return country_page(subject, year)


def _format(column: str, value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, int | float) and (numbers.is_tonnes(unit) or "/" in unit
                                           or unit == "count"):
        return numbers.fmt(value, unit)  # tonnes, ratios and counts by the number policy
    if isinstance(value, int) and column != "rank" and not column.startswith("year"):
        value = float(value)
    if isinstance(value, float):
        if unit == "share" or column.endswith("share") or column in ("import_reliance",
                                                                      "china_share_origin"):
            return numbers.share(value)
        if column == "score" or unit == "0-1":
            return f"{value:.3f}"
        return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _table(name: str, frame: pd.DataFrame, explain: str = "") -> str:
    """Every row of ``frame`` as an HTML table (its header repeated on each printed page)."""
    cols = [c for c in TABLE_COLUMNS.get(name, list(frame.columns)) if c in frame.columns]
    units = frame.attrs.get("units", {})
    numeric = {c for c in cols if frame[c].dtype.kind in "fiu"}
    head = "".join(f"<th{' class=num' if c in numeric else ''}>"
                   f"{escape.escape(str(c).replace('_', ' '))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if c in numeric else ''}>"
                         f"{escape.escape(_format(str(c), row[c], units.get(c, '')))}</td>"
                         for c in cols) + "</tr>"
        for row in frame[cols].to_dict("records"))
    said = f"<p class='explain'>{escape.escape(explain)}</p>" if explain else ""
    title = name.replace("_", " ").capitalize()
    rows = f"{len(frame):,} row{'' if len(frame) == 1 else 's'}"
    return (f"<section class='table'><h3>{escape.escape(title)} ({rows})</h3>"
            f"{said}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            "</section>")


STYLE = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1000px;
color:#222;line-height:1.45}
h1{margin-bottom:0}.sub{color:#555;margin-top:.2em}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}
th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left}td.num,th.num{text-align:right}
th{background:#f4f4f4}.figure{break-inside:avoid;page-break-inside:avoid;margin:1.5em 0}
thead{display:table-header-group}tr{break-inside:avoid;page-break-inside:avoid}
h2,h3{break-after:avoid;page-break-after:avoid}
.explain{color:#444;font-size:13px;margin:.2em 0 0}.notes li,.sources li{font-size:13px}
.findings li{margin:.35em 0}.findings{font-size:14px}
dl{font-size:13px}dt{font-weight:bold}dd{margin:0 0 .4em 1.5em}
@media print{body{margin:0;max-width:none}}
"""

PRINT_WIDTH = 690
"""Width of a printed figure in CSS pixels (A4 and Letter less their margins)."""


def _page_style(paper: str | None) -> str:
    if paper is None:
        return ""
    return (f"@page{{size:{paper};margin:13mm 12mm}}"
            "body{max-width:none;margin:0;font-size:13px}h1{font-size:22px}"
            "h2{font-size:17px;margin-top:1.2em}h3{font-size:14px}"
            "table{font-size:10.5px}th,td{padding:2px 5px}")


def _figure(n: int, fig: Any, explain: str, width: int | None) -> str:
    if fig is None:
        return f"<p class='explain'>{escape.escape(explain)}</p>"
    if isinstance(fig, dict):  # a plain spec (the country page's)
        fig = figure(fig)
    if width is not None:
        fig.update_layout(width=width)
    spec = fig.to_json()
    return (f"<div class='figure'><div id='fig{n}'></div>"
            f"<p class='explain'>{escape.escape(explain)}</p></div>"
            f"<script>(function(f){{Plotly.newPlot('fig{n}', f.data, f.layout, "
            f"{{displayModeBar: false, responsive: {'false' if width else 'true'}}});}})"
            f"({spec});</script>")


def _document(title: str, heading: str, sub: str, sections: list[tuple[str, str]],
              paper: str | None = None) -> str:
    plotly_js = (VENDOR / "plotly" / "plotly.min.js").read_text("utf-8")
    world = (VENDOR / "topojson" / "world_110m.json").read_text("utf-8")
    body = "".join(f"<h2>{escape.escape(h)}</h2>{content}" for h, content in sections
                   if content)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape.escape(title)}</title>
<style>{STYLE}{_page_style(paper)}</style>
<script>window.PlotlyGeoAssets={{topojson:{{"world_110m":{world}}}}};</script>
<script>{plotly_js}</script>
</head><body>
<h1>{escape.escape(heading)}</h1>
<p class="sub">{sub}</p>
{body}
</body></html>
"""


def _list(items: list[str], css: str, tag: str = "ul") -> str:
    inner = "".join(f"<li>{escape.escape(i)}</li>" for i in items if i)
    return f"<{tag} class='{css}'>{inner}</{tag}>" if inner else ""


def _glossary(entries: dict[str, str] = GLOSSARY) -> str:
    return "<dl>" + "".join(f"<dt>{escape.escape(k.replace('_', ' '))}</dt>"
                            f"<dd>{escape.escape(v)}</dd>" for k, v in entries.items()
                            ) + "</dl>"


TABLE_EXPLAIN = {
    "minerals": "The selected minerals: the figures the findings state.",
    "china_share_by_year": "China's share of the import tonnes per year.",
    "suppliers": "Every supplier of the selected minerals in the year, largest first.",
    "alternatives": "Candidate suppliers other than China, ranked by the tonnes they could "
                    "ship that do not come from China (independent t), within today's "
                    "exports and their exportable surplus (critmin suppliers).",
    "agreements": "Documented agreements with the country as importer, each run as a pact "
                  "of a tenth of its current imports of the mineral (critmin pact).",
    "materials": "Each material bought in the year: the figures the findings state "
                 "(critmin company).",
    "supplier_mix": "Every supplier country of each material, largest share first.",
    "export_controls": "Purchases from a supplier country with a documented export control "
                       "in force on the mineral (critmin events).",
}


def brief_sections(brief: Brief | CompanyBrief, width: int | None = PRINT_WIDTH
                   ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A brief's (a country's or a company's) HTML sections: (findings, charts, tables) and
    (caveats, sources)."""
    from critmin.brief import CompanyBrief

    figs = "".join(_figure(n, fig, explain, width)
                   for n, (fig, explain) in enumerate(brief.figures(width or 1000).values()))
    tables = "".join(_table(name if name != "minerals" else "selected_minerals", frame,
                            TABLE_EXPLAIN.get(name, ""))
                     for name, frame in brief.tables().items())
    first = [("Key findings", _list(brief.findings, "findings", "ol")
              + f"<p class='explain'>{escape.escape(brief.selection)}</p>"),
             ("Charts", figs), ("Tables", tables)]
    glossary, sources = ((brief.glossary, brief.sources) if isinstance(brief, CompanyBrief)
                         else (GLOSSARY, SOURCES))
    last = [("What each figure means", _glossary(glossary)),
            ("Caveats: what the data cannot show", _list(brief.notes, "notes")),
            ("Data sources", _list(sources, "sources"))]
    return first, last


def brief_html(brief: Brief | CompanyBrief, paper: str | None = "A4") -> str:
    """A country's or a company's brief as one self-contained HTML document, laid out for
    ``paper``."""
    from critmin.brief import CompanyBrief

    names = ", ".join(brief.label(m) for m in brief.minerals)
    first, last = brief_sections(brief, PRINT_WIDTH if paper else None)
    if isinstance(brief, CompanyBrief):
        sub = (f"Company briefing pack, purchases of {brief.year}; materials: "
               f"{escape.escape(names)}. Made by critmin {__version__} on "
               f"{date.today().isoformat()}.")
        return _document(f"critmin brief: {brief.name}, {brief.year}",
                         f"{brief.name}: critical minerals briefing, {brief.year}", sub,
                         [*first, *last], paper)
    sub = (f"Briefing pack, data year {brief.year}; minerals: {escape.escape(names)}. Made by "
           f"critmin {__version__} on {date.today().isoformat()}.")
    return _document(f"critmin brief: {brief.name}, {brief.year}",
                     f"{brief.name}: critical minerals briefing, {brief.year}", sub,
                     [*first, *last], paper)


def report_html(subject: str, year: int | None = None, paper: str | None = None) -> str:
    """A standalone HTML report of a country or mineral: key findings (a country's), figures
    (interactive), complete tables, the meaning of each figure, then what the data cannot
    show and the data sources. Opens with no network."""
    page = subject_page(subject, year)
    if page.kind != "country":
        return render(page, paper=paper)
    from critmin.brief import build

    return render(page, build(page.subject, year=page.year), paper)


def render(page: Page, brief: Brief | None = None, paper: str | None = None) -> str:
    """``page`` as one self-contained HTML document; a country's ``brief`` gives its
    findings first, its charts of the minerals that matter and its complete tables."""
    width = PRINT_WIDTH if paper else None
    kind = "Country" if page.kind == "country" else "Mineral"
    sub = (f"{kind} report, data year {page.year}; made by critmin {__version__} on "
           f"{date.today().isoformat()}.")
    skip = {"trend", "china_trend", "suppliers"} if brief is not None else set()
    figs = [(name, fig) for name, fig in page.figures.items() if name not in skip]
    start = 100 if brief is not None else 0
    more = "".join(_figure(start + n, fig, page.explanations.get(name, ""), width)
                   for n, (name, fig) in enumerate(figs))
    tables = "".join(_table(k, v) for k, v in page.tables.items()
                     if k in TABLE_COLUMNS and not v.empty
                     and not (brief is not None and k == "suppliers"))
    notes = list(page.notes)
    sections: list[tuple[str, str]]
    if brief is not None:
        first, last = brief_sections(brief, width)
        first[1] = ("Charts", first[1][1] + more)
        first[2] = ("Tables", first[2][1] + tables)
        caveats = _list(list(dict.fromkeys([*brief.notes, *notes])), "notes")
        sections = [*first, last[0], ("What the data cannot show", caveats), last[2]]
    else:
        sections = [("Figures", more), ("Tables", tables),
                    ("What each figure means", _glossary()),
                    ("What the data cannot show",
                     _list(notes, "notes") or "<ul class='notes'><li>No caveats.</li></ul>"),
                    ("Data sources", _list(page.sources, "sources"))]
    return _document(f"critmin report: {page.title}", page.title, sub, sections, paper)


def write_report(subject: str, out: Path, year: int | None = None, force: bool = False,
                 paper: str = "a4") -> Path:
    """Write the report of ``subject`` to ``out`` (.html or .pdf, laid out for ``paper``:
    ``a4`` or ``letter``), atomically; an existing file is replaced only with ``force``."""
    from critmin.brief import PAPERS
    from critmin.checks import as_bool, as_path
    from critmin.present import check_destination

    out = check_destination(as_path(out, "out"), table=False, force=as_bool(force, "force"))
    suffix = out.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise InvalidInput(f"reports are .html or .pdf, not {out.suffix or out.name!r}",
                           suggestions=[str(out.with_suffix(".html")),
                                        str(out.with_suffix(".pdf"))])
    size = PAPERS.get(str(paper).strip().lower())
    if size is None:
        raise InvalidInput(f"unknown paper {paper!r}; use a4 or letter", suggestions=list(PAPERS))
    browser = find_browser() if suffix == ".pdf" else ""
    text = report_html(subject, year, size if suffix == ".pdf" else None)
    with files.atomic_write(out) as tmp:
        if suffix == ".html":
            tmp.write_text(text, "utf-8")
        else:
            print_pdf(browser, text, tmp)
    return out


def print_pdf(browser: str, text: str, dest: Path) -> None:
    """Print the HTML document ``text`` to the PDF ``dest`` with the Chromium ``browser``
    (the paper size is the document's CSS ``@page`` size, Letter when it names none)."""
    with files.temp_folder(dest.parent) as folder:
        source = folder / "report.html"
        source.write_text(text, "utf-8")
        pdf = folder / "report.pdf"
        done = run_chromium(["--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
                             "--virtual-time-budget=20000", f"--user-data-dir={folder / 'profile'}",
                             f"--print-to-pdf={pdf}", source.as_uri()],
                            PDF_TIMEOUT, "print the PDF", browser)
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise CritminError(f"Chromium could not print the PDF: {last_line(done)}")
        shutil.move(str(pdf), dest)
