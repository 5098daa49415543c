"""A company's briefing pack (critmin.brief.build_company, `critmin brief --company`): its
findings state the numbers of critmin.company's tables, checked here against those tables and
against hand counts of the purchase file (tests/data/company/company_a.xlsx: cobalt 0.3 t
from China and 0.1 t from Finland; nickel 1.2 t from Indonesia, 0.8 t from the Philippines,
0.5 t from Australia, all in 2022), then written as HTML, PDF and workbook."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import critmin
from critmin import brief
from critmin import cli as cli_mod
from critmin.errors import InvalidInput, NotFound
from critmin.reports import brief_html

DATA = Path(__file__).parent / "data" / "company"
BROWSER = os.environ.get("CRITMIN_CHROMIUM") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no chromium on PATH")


@pytest.fixture
def acme() -> brief.CompanyBrief:
    critmin.import_purchases(DATA / "company_a.xlsx", company="Acme")
    return brief.build_company("Acme")


def finding(b: brief.CompanyBrief, start: str) -> str:
    said = [f for f in b.findings if f.startswith(start)]
    assert len(said) == 1, b.findings
    return said[0]


def test_findings_state_the_company_view_numbers(acme: brief.CompanyBrief) -> None:
    assert acme.year == 2022 and acme.name == "Acme"
    rows = critmin.company("Acme", 2022).materials.set_index("mineral")
    # the highest scores first, each as the view computes it (three significant digits)
    risks = finding(acme, "Of the 2 materials Acme bought in 2022")
    said = re.findall(r"(cobalt|nickel) \((\d\.\d+), ", risks)
    assert [m for m, _ in said] == list(rows["score"].sort_values(ascending=False).index)
    for mineral, score in said:
        assert float(score) == pytest.approx(rows.loc[mineral, "score"], rel=5e-3)
    assert acme.minerals == [m for m, _ in said]
    # China direct and traced: cobalt 0.3 of 0.4 t bought from China
    china = finding(acme, "China supplied")
    direct, mineral, traced = re.match(
        r"China supplied ([\d.]+) % of Acme's (\w+) directly in 2022, and ([\d.]+) % once",
        china).groups()
    assert mineral == "cobalt" and float(direct) == pytest.approx(0.3 / 0.4 * 100)
    assert float(direct) == pytest.approx(rows.loc["cobalt", "china_share"] * 100, abs=0.05)
    assert float(traced) == pytest.approx(rows.loc["cobalt", "china_share_traced"] * 100,
                                          abs=0.05)
    # under an export control in force: nickel from Indonesia, 1.2 of 2.5 t
    control = finding(acme, "48.0 % of Acme's nickel")
    assert "(1.2 t) was bought from Indonesia" in control and "idn-ni-ban-2020" in control
    assert rows.loc["nickel", "controlled_share"] == pytest.approx(1.2 / 2.5)
    # concentration: HHI recomputed from the supplier mix
    mix = critmin.company("Acme", 2022).suppliers
    hhi = (mix["share"] ** 2).groupby(mix["mineral"]).sum()
    assert hhi["cobalt"] == pytest.approx(0.75**2 + 0.25**2)
    assert hhi["nickel"] == pytest.approx(0.48**2 + 0.32**2 + 0.2**2)
    concentration = finding(acme, "Supplier concentration")
    high, low = re.search(r"highest for cobalt, ([\d.]+) with 2 supplier countries.*"
                          r"lowest for nickel, ([\d.]+) with 3", concentration).groups()
    assert float(high) == pytest.approx(hhi["cobalt"], abs=5e-4)
    assert float(low) == pytest.approx(hhi["nickel"], abs=5e-4)


def test_tables_are_the_company_views(acme: brief.CompanyBrief) -> None:
    view = critmin.company("Acme", 2022)
    table = acme.table.set_index("mineral")
    for column in ("qty_basis_t", "hhi", "china_share", "china_share_traced",
                   "controlled_share", "score", "cf", "score_compat", "cf_compat"):
        expected = view.materials.set_index("mineral")[column]
        assert table[column].to_dict() == pytest.approx(expected.to_dict(), nan_ok=True)
    assert table.loc["nickel", "qty_basis_t"] == pytest.approx(1.2 + 0.8 + 0.5)
    pairs = sorted(zip(acme.suppliers["mineral"], acme.suppliers["supplier_country"],
                       strict=True))
    assert pairs == [("cobalt", "CHN"), ("cobalt", "FIN"), ("nickel", "AUS"),
                     ("nickel", "IDN"), ("nickel", "PHL")]
    assert acme.suppliers.groupby("mineral")["share"].sum().tolist() == pytest.approx([1, 1])
    assert acme.controls["event"].tolist() == ["idn-ni-ban-2020"]


def test_html_findings_first_tables_then_caveats_and_sources(
        acme: brief.CompanyBrief, tmp_path: Path) -> None:
    out = brief.write_company("Acme", tmp_path / "acme.html")[0]
    text = out.read_text("utf-8")
    assert text == out.read_text("utf-8") and "<script src=" not in text
    order = [text.find(f"<h2>{h}</h2>") for h in (
        "Key findings", "Charts", "Tables", "What each figure means",
        "Caveats: what the data cannot show", "Data sources")]
    assert -1 not in order and order == sorted(order)
    assert "<h1>Acme: critical minerals briefing, 2022</h1>" in text
    for h in ("Materials (2 rows)", "Supplier mix (5 rows)", "Export controls (1 row)"):
        assert f"<h3>{h}</h3>" in text
    assert ">nan<" not in text.lower() and "purchase records" in text
    # the supplier mix table prints every supplier with its share
    start = text.index("<h3>Supplier mix (")
    body = text[start:text.index("</table>", start)]
    assert "<td>IDN</td><td>Indonesia</td><td class=num>1.2</td>" in body
    assert "48.0 %" in body
    assert brief_html(acme).count("<li>") >= len(acme.findings)


def test_workbook_sheets_and_formats(acme: brief.CompanyBrief, tmp_path: Path) -> None:
    import openpyxl

    out = brief.write_company("Acme", tmp_path / "acme.xlsx")[0]
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:4] == ["findings", "materials", "supplier_mix", "export_controls"]
    assert book["findings"]["A2"].value == acme.findings[0]
    sheet = book["materials"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=header.index("china_share") + 1).number_format == "0.0 %"


@needs_browser
def test_pdf_is_written(acme: brief.CompanyBrief, tmp_path: Path) -> None:
    pdf, xlsx = brief.write_company("Acme", tmp_path / "acme.pdf",
                                    xlsx=tmp_path / "acme.xlsx")
    assert pdf.read_bytes().startswith(b"%PDF") and xlsx.stat().st_size > 0


def test_unknown_company_material_and_year(tmp_path: Path) -> None:
    critmin.import_purchases(DATA / "company_a.xlsx", company="Acme")
    with pytest.raises(NotFound, match="no purchase records for company 'Acm'") as err:
        brief.build_company("Acm")
    assert err.value.suggestions == ["Acme"]
    with pytest.raises(NotFound, match="bought no lithium in 2022") as err:
        brief.build_company("Acme", ["lithium"])
    assert err.value.suggestions == ["cobalt", "nickel"]
    with pytest.raises(NotFound, match="no purchase records in 2019"):
        brief.build_company("Acme", year=2019)
    assert brief.build_company("Acme", "Nickel").minerals == ["nickel"]
    with pytest.raises(InvalidInput, match=r"not '\.docx'"):
        brief.write_company("Acme", tmp_path / "acme.docx")


def exit_code(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """``critmin ARGS`` through the command line's entry point, in this process."""
    monkeypatch.setattr(sys, "argv", ["critmin", *args])
    with pytest.raises(SystemExit) as done:
        cli_mod.main()
    return int(done.value.code or 0)


def test_cli_company_brief_and_its_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    critmin.import_purchases(DATA / "company_a.xlsx", company="Acme")
    out = tmp_path / "acme.html"
    res = CliRunner().invoke(cli_mod.app, ["brief", "--company", "Acme", "--out", str(out),
                                           "--xlsx", str(tmp_path / "acme.xlsx")])
    assert res.exit_code == 0, (res.output, res.exception)
    assert out.exists() and (tmp_path / "acme.xlsx").exists()
    capsys.readouterr()
    assert exit_code(monkeypatch, "brief", "India", "--company", "Acme", "--out",
                     str(tmp_path / "x.html")) == 2
    assert "name a COUNTRY or a --company, not both" in capsys.readouterr().err
    assert exit_code(monkeypatch, "brief", "--out", str(tmp_path / "x.html")) == 2
    assert "not neither" in capsys.readouterr().err
    assert exit_code(monkeypatch, "brief", "--company", "Acm", "--out",
                     str(tmp_path / "x.html")) == 2
    said = capsys.readouterr().err
    assert "no purchase records for company 'Acm'" in said and "Acme" in said
    assert not (tmp_path / "x.html").exists()


def test_a_restriction_adds_the_inherited_loss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    critmin.import_purchases(DATA / "company_a.xlsx", company="Acme")
    plain = brief.build_company("Acme")
    assert "loss_share" not in plain.table.columns
    assert not [f for f in plain.findings if f.startswith("If ")]
    b = brief.build_company("Acme", restrict="CHN")
    rows = critmin.company("Acme", 2022, restrict="CHN").materials.set_index("mineral")
    said = finding(b, "If China withheld all of its exports, Acme would lose")
    # cobalt: the 0.3 t bought in China is lost whole; Finland's own loss adds to it
    cobalt = re.search(r"([\d.]+) % of its cobalt \(([\d.]+) t\)", said)
    assert cobalt is not None
    assert float(cobalt.group(1)) == pytest.approx(rows.loc["cobalt", "loss_share"] * 100,
                                                   abs=0.05)
    assert rows.loc["cobalt", "loss_t"] >= 0.3 - 1e-12
    assert rows.loc["cobalt", "loss_share"] == pytest.approx(
        rows.loc["cobalt", "loss_t"] / rows.loc["cobalt", "qty_basis_t"])
    assert list(b.table["loss_share"]) == list(rows.loc[b.table["mineral"], "loss_share"])
    assert "loss_share" in b.glossary
    assert exit_code(monkeypatch, "brief", "India", "--restrict", "CHN", "--out",
                     str(tmp_path / "x.html")) == 2
    assert "--restrict works with --company" in capsys.readouterr().err
