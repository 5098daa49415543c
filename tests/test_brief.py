"""The briefing pack (critmin.brief, `critmin brief`) and the country report that shares its
path: findings from the numbers first, the minerals that matter, complete tables, caveats
last; A4 or Letter PDFs printed by headless Chromium (skipped where none is installed) and a
formatted workbook."""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

import pytest

from critmin import brief, query
from critmin.reports import brief_html, report_html

BROWSER = os.environ.get("CRITMIN_CHROMIUM") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
if BROWSER is None and os.environ.get("CI"):
    raise RuntimeError("CI needs Debian's chromium for the browser tests (.ci/run installs it)")
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no chromium on PATH")

A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)


@pytest.fixture(scope="module")
def india() -> brief.Brief:
    return brief.build("India", year=2023)


def media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height in points of every page's MediaBox."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]",
                       pdf)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


def section(text: str, heading: str) -> int:
    found = text.find(f"<h2>{heading}</h2>")
    assert found >= 0, heading
    return found


def test_the_minerals_that_matter_for_india(india: brief.Brief) -> None:
    table = india.table.set_index("mineral")
    # rare earths, lithium and graphite carry a figure in 2023, and are chosen
    for mineral in ("rare-earths", "lithium", "graphite"):
        assert mineral in india.minerals and table.loc[mineral, "china_share"] > 0
    # the risk ordering first: the eight highest scores on the own list lead the selection
    own = india.table[india.table["own_list"]]
    assert list(own["score"].head(8)) == sorted(own["score"].head(8), reverse=True)
    assert india.minerals[:2] == ["niobium", "bismuth"]


def test_every_number_of_a_china_finding_is_in_the_tables(india: brief.Brief) -> None:
    t = india.table.set_index("mineral")
    said = [f for f in india.findings if f.startswith("China supplied")]
    assert said, india.findings
    for sentence in said:
        share, name, year, change, then, then_year = re.match(
            r"China supplied (\d+) % of India's (.+) imports in (\d{4}), "
            r"(up|down) from (\d+) % in (\d{4})\.", sentence).groups()
        mineral = {india.label(m): m for m in india.minerals}[name]
        assert round(t.loc[mineral, "china_share"] * 100) == int(share)
        assert round(t.loc[mineral, f"china_share_{then_year}"] * 100) == int(then)
        assert (change == "up") == (t.loc[mineral, "china_share"]
                                    > t.loc[mineral, f"china_share_{then_year}"])
        assert year == "2023" and then_year == "2019"
    rare = next(f for f in said if "rare earths" in f)
    assert rare.startswith("China supplied 92 % of India's rare earths imports in 2023")


def test_flat_100_percent_lines_are_a_note_not_lines(india: brief.Brief) -> None:
    figures = india.figures()
    drawn = {t.name for t in figures["reliance_trend"][0].data}
    assert drawn.isdisjoint(india.always_full)
    assert {"lithium", "antimony"} <= set(india.always_full) and "graphite" in drawn
    assert "100 % imported in every year with a figure" in figures["reliance_trend"][1]
    china = {t.name for t in figures["china_trend"][0].data}
    assert china == set(india.minerals)


def test_findings_first_caveats_last_and_complete_tables(india: brief.Brief) -> None:
    text = brief_html(india)
    assert "<script src=" not in text
    assert "@page{size:A4" in text and "thead{display:table-header-group}" in text
    order = [section(text, h) for h in ("Key findings", "Charts", "Tables",
                                        "Caveats: what the data cannot show", "Data sources")]
    assert order == sorted(order)
    assert "more rows" not in text
    # every supplier of the selected minerals is a row of the suppliers table
    pairs = query.partners("IND", india.minerals, 2023)
    pairs = pairs[(pairs["stage"] == "headline") & pairs["share"].notna()]
    start = text.index("<h3>Suppliers (")
    body = text[start:text.index("</table>", start)]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>", body)
    assert sorted(rows) == sorted(zip(pairs["mineral"].astype(str),
                                      pairs["exporter"].astype(str), strict=True))
    assert ("lithium", "CHL") in rows and ("rare-earths", "CHN") in rows


def test_the_country_report_shares_the_brief(india: brief.Brief) -> None:
    text = report_html("India", 2023)
    assert "<title>critmin report: India, 2023</title>" in text
    order = [section(text, h) for h in ("Key findings", "Charts", "Tables",
                                        "What the data cannot show", "Data sources")]
    assert order == sorted(order)
    assert html.escape(india.findings[1]) in text and "more rows" not in text
    assert "rare-earths" in text[text.index("<h3>Suppliers ("):]


def test_workbook_sheets_formats_and_charts(india: brief.Brief, tmp_path: Path) -> None:
    import openpyxl

    out = brief.write("India", tmp_path / "india.xlsx", ["lithium", "rare-earths", "graphite"],
                      2023)[0]
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:5] == ["findings", "minerals", "suppliers", "trend_china_share",
                                   "trend_reliance"]
    assert book["findings"]["A2"].value.startswith("On its own critical-mineral list")
    minerals = book["minerals"]
    header = [c.value for c in minerals[1]]
    china = header.index("china_share") + 1
    assert minerals.cell(row=2, column=china).number_format == "0.0 %"  # numbers.PERCENT
    assert minerals.freeze_panes is not None and minerals.auto_filter.ref
    suppliers = book["suppliers"]
    share = [c.value for c in suppliers[1]].index("share") + 1
    assert suppliers.cell(row=2, column=share).number_format == "0.0 %"
    qty = [c.value for c in suppliers[1]].index("qty_basis_t") + 1
    assert suppliers.cell(row=2, column=qty).number_format.startswith("#,##0")
    for name in ("minerals", "suppliers", "trend_china_share"):
        assert book[name]._charts, name
    assert "notes" in book.sheetnames


@needs_browser
def test_pdf_is_a4_by_default_and_letter_when_asked(tmp_path: Path) -> None:
    a4, xlsx = brief.write("India", tmp_path / "india.pdf", ["lithium", "graphite"], 2023,
                           xlsx=tmp_path / "india.xlsx")
    boxes = media_boxes(a4.read_bytes())
    assert boxes and all(abs(w - A4[0]) < 2 and abs(h - A4[1]) < 2 for w, h in boxes)
    assert xlsx.stat().st_size > 0
    letter = brief.write("India", tmp_path / "letter.pdf", ["lithium"], 2023,
                         paper="letter")[0]
    boxes = media_boxes(letter.read_bytes())
    assert boxes and all(abs(w - LETTER[0]) < 2 and abs(h - LETTER[1]) < 2 for w, h in boxes)


def test_bad_paper_and_extension_are_refused(tmp_path: Path) -> None:
    from critmin.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown paper 'a3'; use a4 or letter"):
        brief.write("India", tmp_path / "b.pdf", paper="a3")
    with pytest.raises(InvalidInput, match=r"a brief is \.pdf, \.html or \.xlsx, not '\.docx'"):
        brief.write("India", tmp_path / "b.docx")
