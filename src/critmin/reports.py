"""Reports: a country's or a mineral's page as one standalone HTML file (plotly.js, map
geometry and data embedded, so it opens with no network) and as PDF printed by headless
Chromium.

>>> html = report_html("India", 2022)
>>> "India" in html and "PlotlyGeoAssets" in html and "<script src=" not in html
True
"""

from __future__ import annotations

import html as escape
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import __version__, files, resolve
from critmin.errors import CritminError, InvalidInput, NotFound
from critmin.pages import Page, country_page, mineral_page

VENDOR = Path(__file__).resolve().parent / "web" / "static" / "vendor"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executables tried, in order, for the PDF (or the CRITMIN_CHROMIUM variable)."""
PDF_TIMEOUT = 120

TABLE_COLUMNS = {
    "minerals": ["mineral", "own_list", "answer", "reliance_status", "china_share",
                 "china_share_origin", "top_supplier", "top_supplier_share", "score",
                 "production_t", "imports_t", "exports_t", "reserves_t"],
    "suppliers": ["mineral", "supplier", "supplier_name", "share", "qty_basis_t"],
    "producers": ["country", "name", "production_t", "share"],
    "exporters": ["exporter", "name", "qty_basis_t", "value_kusd", "share"],
    "flows": ["exporter", "importer", "qty_basis_t", "value_kusd"],
    "reserves": ["country", "qty_t", "year", "source"],
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


def _format(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        if column.endswith("share") or column in ("import_reliance", "china_share_origin"):
            return f"{value:.1%}"
        if column == "score":
            return f"{value:.3f}"
        return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _table(name: str, frame: pd.DataFrame, rows: int = 40) -> str:
    cols = [c for c in TABLE_COLUMNS.get(name, list(frame.columns)) if c in frame.columns]
    head = "".join(f"<th>{escape.escape(c.replace('_', ' '))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape.escape(_format(c, row[c]))}</td>" for c in cols)
        + "</tr>" for _, row in frame.head(rows).iterrows())
    more = (f"<p class='more'>{len(frame) - rows:,} more rows in the dashboard's download."
            "</p>" if len(frame) > rows else "")
    return (f"<h3>{escape.escape(name.capitalize())}</h3><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{more}")


STYLE = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1000px;
color:#222;line-height:1.45}
h1{margin-bottom:0}.sub{color:#555;margin-top:.2em}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}
th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left}
th{background:#f4f4f4}.figure{page-break-inside:avoid;margin:1.5em 0}
.explain{color:#444;font-size:13px;margin:.2em 0 0}.notes li,.sources li{font-size:13px}
dl{font-size:13px}dt{font-weight:bold}dd{margin:0 0 .4em 1.5em}.more{color:#666;font-size:12px}
@media print{body{margin:0;max-width:none}}
"""


def report_html(subject: str, year: int | None = None) -> str:
    """A standalone HTML report of a country or mineral: figures (interactive), tables,
    notes, the meaning of each figure, data sources and year. Opens with no network."""
    page = subject_page(subject, year)
    return render(page)


def render(page: Page) -> str:
    """``page`` as one self-contained HTML document."""
    plotly_js = (VENDOR / "plotly" / "plotly.min.js").read_text("utf-8")
    world = (VENDOR / "topojson" / "world_110m.json").read_text("utf-8")
    parts = []
    for n, (name, fig) in enumerate(page.figures.items()):
        spec = fig.to_json()
        parts.append(
            f"<div class='figure'><div id='fig{n}'></div>"
            f"<p class='explain'>{escape.escape(page.explanations.get(name, ''))}</p></div>"
            f"<script>(function(f){{Plotly.newPlot('fig{n}', f.data, f.layout, "
            f"{{displayModeBar: false, responsive: true}});}})({spec});</script>")
    tables = "".join(_table(k, v) for k, v in page.tables.items()
                     if k in TABLE_COLUMNS and not v.empty)
    notes = "".join(f"<li>{escape.escape(n)}</li>" for n in page.notes if n)
    sources = "".join(f"<li>{escape.escape(s)}</li>" for s in page.sources)
    glossary = "".join(f"<dt>{escape.escape(k.replace('_', ' '))}</dt>"
                       f"<dd>{escape.escape(v)}</dd>" for k, v in GLOSSARY.items())
    kind = "Country" if page.kind == "country" else "Mineral"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>critmin report: {escape.escape(page.title)}</title>
<style>{STYLE}</style>
<script>window.PlotlyGeoAssets={{topojson:{{"world_110m":{world}}}}};</script>
<script>{plotly_js}</script>
</head><body>
<h1>{escape.escape(page.title)}</h1>
<p class="sub">{kind} report, data year {page.year}; made by critmin {__version__} on
{date.today().isoformat()}.</p>
<h2>What the data cannot show</h2><ul class="notes">{notes or "<li>No caveats.</li>"}</ul>
<h2>Figures</h2>{"".join(parts)}
<h2>Tables</h2>{tables}
<h2>What each figure means</h2><dl>{glossary}</dl>
<h2>Data sources</h2><ul class="sources">{sources}</ul>
</body></html>
"""


def find_browser() -> str:
    """The Chromium executable for PDFs: CRITMIN_CHROMIUM, else the first of
    :data:`BROWSERS` on PATH."""
    given = os.environ.get("CRITMIN_CHROMIUM")
    if given:
        if shutil.which(given) is None:
            raise InvalidInput(f"CRITMIN_CHROMIUM={given!r} is not an executable")
        return given
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise InvalidInput("PDF reports need headless Chromium, and none is on PATH; install it "
                       "(Debian: apt-get install chromium) or write .html instead")


def write_report(subject: str, out: Path, year: int | None = None, force: bool = False
                 ) -> Path:
    """Write the report of ``subject`` to ``out`` (.html or .pdf), atomically; an existing
    file is replaced only with ``force``."""
    from critmin.checks import as_bool, as_path
    from critmin.present import check_destination

    out = check_destination(as_path(out, "out"), table=False, force=as_bool(force, "force"))
    suffix = out.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise InvalidInput(f"reports are .html or .pdf, not {out.suffix or out.name!r}",
                           suggestions=[str(out.with_suffix(".html")),
                                        str(out.with_suffix(".pdf"))])
    browser = find_browser() if suffix == ".pdf" else ""
    text = report_html(subject, year)
    with files.atomic_write(out) as tmp:
        if suffix == ".html":
            tmp.write_text(text, "utf-8")
        else:
            _print_pdf(browser, text, tmp)
    return out


def _print_pdf(browser: str, text: str, dest: Path) -> None:
    with files.temp_folder(dest.parent) as folder:
        source = folder / "report.html"
        source.write_text(text, "utf-8")
        pdf = folder / "report.pdf"
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu",
                   "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
                   "--virtual-time-budget=20000", f"--user-data-dir={folder / 'profile'}",
                   f"--print-to-pdf={pdf}", source.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=PDF_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise CritminError(f"Chromium did not print the PDF within {PDF_TIMEOUT} s"
                               ) from None
        if not pdf.exists() or pdf.stat().st_size == 0:
            last = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise CritminError(f"Chromium could not print the PDF: {last[0]}")
        shutil.move(str(pdf), dest)
