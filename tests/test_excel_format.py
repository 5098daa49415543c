"""Excel workbooks read well: number formats by unit over full values, fitted widths, a bold
frozen header, an autofilter, a chart, and the notes with the sources and data fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from critmin import present
from critmin.store import get_store

openpyxl = pytest.importorskip("openpyxl")


def _heads(sheet: Any) -> dict[str, int]:
    return {c.value: c.column for c in sheet[1]}


def _formats(sheet: Any, column: str) -> set[str]:
    col = _heads(sheet)[column]
    return {c.number_format for (c,) in sheet.iter_rows(min_row=2, min_col=col, max_col=col)
            if c.value is not None}


def _notes(book: Any) -> dict[str, Any]:
    rows = [[c.value for c in r] for r in book["notes"].iter_rows()]
    return {r[0]: r[1] for r in rows if r and r[0] is not None}


def test_a_small_table_is_formatted_by_unit_without_rounding(tmp_path: Path) -> None:
    frame = pd.DataFrame({"mineral": ["lithium", "cobalt", "nickel"],
                          "imports_t": [73.98300000000002, 1234567.891, 250.5],
                          "value_kusd": [0.25, 0.5, 1.75],
                          "china_share": [1.0, 0.123456, float("nan")],
                          "hhi": [0.5, 0.25, 0.125],
                          "n": [1, 2, 3]})
    frame.attrs["units"] = {"imports_t": "t (basis)", "value_kusd": "kUSD",
                            "china_share": "share", "hhi": "0-1"}
    out = present.write(tmp_path / "t.xlsx", frame, notes=["a note"])
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["data", "units", "notes"]
    sheet = book["data"]
    assert _formats(sheet, "china_share") == {"0.0 %"}
    assert _formats(sheet, "imports_t") == {"#,##0"}
    assert _formats(sheet, "value_kusd") == {"#,##0.0"}
    assert _formats(sheet, "hhi") == {"0.000"}
    assert _formats(sheet, "n") == {"General"}
    assert sheet["B2"].value == 73.98300000000002 and sheet["D2"].value == 1.0
    assert sheet["D3"].value == 0.123456
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref == "A1:F4"
    assert all(c.font.b for c in sheet[1])
    assert sheet.column_dimensions["B"].width == len("1,234,567") + 2
    assert sheet.column_dimensions["A"].width == len("lithium") + 2
    assert len(sheet._charts) == 1  # china_share, the first share, of the first rows
    notes = _notes(book)
    assert "a note" in notes and notes["data fingerprint"] == get_store().fingerprint
    assert notes["data: china_share"] == "share"
    assert pd.read_excel(out, sheet_name="data")["imports_t"].tolist() == frame["imports_t"].tolist()


def test_widths_are_capped_and_a_table_without_units_has_no_units_sheet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"year": [2023], "text": ["x" * 500], "v": [1.5]})
    book = openpyxl.load_workbook(present.write(tmp_path / "t.xlsx", frame))
    assert book.sheetnames == ["data", "notes"]
    sheet = book["data"]
    assert sheet.column_dimensions["B"].width == present.EXCEL_WIDTH[1]
    assert sheet.column_dimensions["A"].width == present.EXCEL_WIDTH[0]
    assert sheet.freeze_panes == "C2" and not sheet._charts
    assert _notes(book)["sources"] is None


def test_risk_workbook(cli, tmp_path: Path) -> None:
    out = tmp_path / "risk.xlsx"
    res = cli("risk", "-c", "IND", "-y", "2023", "--out", str(out))
    assert res.code == 0, res.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["data", "units", "notes"]
    sheet = book["data"]
    heads = _heads(sheet)
    assert list(heads)[:3] == ["year", "country", "mineral"]
    assert sheet.freeze_panes == "D2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(heads)).column_letter}{sheet.max_row}"
    assert _formats(sheet, "top_supplier_share") == {"0.0 %"}
    assert _formats(sheet, "imports_t") <= {"#,##0", "#,##0.0"}
    assert _formats(sheet, "score") == {"0.000"}
    assert _formats(sheet, "year") == {"General"}
    letter = sheet.cell(1, heads["mineral"]).column_letter
    assert 6 <= sheet.column_dimensions[letter].width <= 48
    assert len(sheet._charts) == 1
    notes = _notes(book)
    assert notes["data fingerprint"] == get_store().fingerprint
    assert notes["critmin version"] and notes["data: score"] == "0-1"
    assert any(str(k).startswith("source ") for k in notes)


def test_profile_workbook(cli, tmp_path: Path) -> None:
    out = tmp_path / "profile.xlsx"
    res = cli("profile", "India", "-y", "2023", "--out", str(out))
    assert res.code == 0, res.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["data", "stages", "suppliers", "units", "notes"]
    for name in ("data", "stages", "suppliers"):
        sheet = book[name]
        assert sheet.freeze_panes is not None and sheet.auto_filter.ref.startswith("A1:")
        assert all(c.font.b for c in sheet[1])
    assert _formats(book["suppliers"], "share") == {"0.0 %"}
    assert _formats(book["suppliers"], "value_kusd") <= {"#,##0", "#,##0.0"}
    assert book["data"].freeze_panes == "B2" and len(book["data"]._charts) == 1
    frame = pd.read_excel(out, sheet_name="suppliers")
    assert frame["share"].between(0, 1).all()  # fractions underneath the per-cent display


def test_exported_table_is_formatted_by_its_schema_units(cli, tmp_path: Path) -> None:
    out = tmp_path / "production.xlsx"
    res = cli("data", "export", "production", "--out", str(out))
    assert res.code == 0, res.stderr
    book = openpyxl.load_workbook(out)
    sheet = book["data"]
    assert _formats(sheet, "qty_t") <= {"#,##0", "#,##0.0"} and _formats(sheet, "qty_t")
    assert sheet.freeze_panes is not None and sheet.auto_filter.ref.startswith("A1:")
    assert _notes(book)["data: qty_t"] == "t"
