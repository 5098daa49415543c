"""Briefing packs over the API (GET /api/v1/brief/{country}, /api/v1/company/{name}/brief):
the file `critmin brief` writes, offered under its name with its media type, built in a
temporary folder that is gone afterwards, cached per data version; errors in the API's one
shape."""

from __future__ import annotations

import html
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import critmin

BROWSER = os.environ.get("CRITMIN_CHROMIUM") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no chromium on PATH")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PURCHASES = Path(__file__).parent / "data" / "company" / "company_a.xlsx"


@pytest.fixture
def client() -> Iterator[Any]:
    """An application of its own per test: its worker processes start in the test's data
    folder (a company's purchases are imported there)."""
    from fastapi.testclient import TestClient

    from critmin.api import create_app

    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


def leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("critmin-brief-*")}


def disposition(res: Any) -> str:
    return str(res.headers["content-disposition"])


def error_of(res: Any, status: int, code: str) -> dict[str, Any]:
    assert res.status_code == status, res.text
    body = res.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "suggestions"}
    assert body["error"]["code"] == code
    return dict(body["error"])


def test_country_brief_as_html_and_workbook(client: Any) -> None:
    before = leftovers()
    said = client.get("/api/v1/findings/India", params={"year": 2023}).json()
    res = client.get("/api/v1/brief/India", params={"year": 2023, "format": "html"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "text/html; charset=utf-8"
    assert disposition(res) == 'attachment; filename="india-2023-brief.html"'
    assert len(said["findings"]) >= 3
    for sentence in said["findings"]:  # the sentences of /findings, in the file
        assert html.escape(sentence) in res.text

    book_res = client.get("/api/v1/brief/IND", params={"year": 2023, "format": "xlsx",
                                                       "mineral": ["lithium", "graphite"]})
    assert book_res.status_code == 200, book_res.text
    assert book_res.headers["content-type"] == XLSX
    assert disposition(book_res) == 'attachment; filename="india-2023-brief.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(book_res.content))
    assert book.sheetnames[:5] == ["findings", "minerals", "suppliers", "trend_china_share",
                                   "trend_reliance"]
    assert "notes" in book.sheetnames
    minerals = book["minerals"]
    header = [c.value for c in minerals[1]]
    named = {row[header.index("mineral")] for row in minerals.iter_rows(min_row=2,
                                                                          values_only=True)}
    assert named == {"lithium", "graphite"}  # the two asked for, not the default selection
    assert leftovers() <= before  # every temporary folder removed


@needs_browser
def test_country_brief_as_pdf_is_cached(client: Any) -> None:
    res = client.get("/api/v1/brief/India", params={"year": 2022, "format": "pdf",
                                                    "mineral": "lithium"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/pdf"
    assert disposition(res) == 'attachment; filename="india-2022-brief.pdf"'
    assert res.content.startswith(b"%PDF")
    keys = [k for k in client.app.state.cache.items if "brief" in k]
    assert [k[1:] for k in keys] == [("brief", "country", "India", ("lithium",), 2022, "pdf",
                                      (), 1.0)]
    assert keys[0][0] == res.headers["x-critmin-data"]  # under the data it was built on
    again = client.get("/api/v1/brief/India", params={"year": 2022, "format": "pdf",
                                                      "mineral": "lithium"})
    assert again.content == res.content and disposition(again) == disposition(res)


def test_company_brief(client: Any) -> None:
    critmin.import_purchases(PURCHASES, company="Acme")
    res = client.get("/api/v1/company/Acme/brief", params={"format": "xlsx"})
    assert res.status_code == 200, res.text
    assert disposition(res) == 'attachment; filename="acme-2022-brief.xlsx"'  # latest year
    book = openpyxl.load_workbook(io.BytesIO(res.content))
    assert book.sheetnames[:4] == ["findings", "materials", "supplier_mix", "export_controls"]
    page = client.get("/api/v1/company/Acme/brief", params={"format": "html", "year": 2022})
    assert page.status_code == 200 and "idn-ni-ban-2020" in page.text
    assert "would lose" not in page.text
    cut = client.get("/api/v1/company/Acme/brief",
                     params={"format": "html", "year": 2022, "restrict": "CHN"})
    assert cut.status_code == 200 and "If China withheld all of its exports, Acme would lose" \
        in cut.text
    missing = error_of(client.get("/api/v1/company/Nobody/brief", params={"format": "html"}),
                       404, "not_found")
    assert "'Nobody'" in missing["message"]


def test_errors_have_the_one_shape(client: Any, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = error_of(client.get("/api/v1/brief/Inida", params={"format": "html"}),
                       404, "not_found")
    assert "'Inida'" in unknown["message"] and unknown["suggestions"] == ["India (IND)"]
    bad = error_of(client.get("/api/v1/brief/India", params={"format": "docx"}),
                   422, "invalid_input")
    assert "format" in bad["message"] and "'docx'" in bad["message"]
    mineral = error_of(client.get("/api/v1/brief/India",
                                  params={"format": "xlsx", "mineral": "unobtainium"}),
                       404, "not_found")
    assert "'unobtainium'" in mineral["message"]
    year = error_of(client.get("/api/v1/brief/India", params={"format": "html", "year": 1800}),
                    422, "invalid_input")
    assert "year" in year["message"]
    # no Chromium: said as the chart endpoint says it, before any work
    monkeypatch.setenv("CRITMIN_CHROMIUM", str(tmp_path / "no-such-browser"))
    pdf = error_of(client.get("/api/v1/brief/India", params={"format": "pdf"}),
                   422, "invalid_input")
    assert "CRITMIN_CHROMIUM" in pdf["message"]
    assert not any("brief" in k for k in client.app.state.cache.items)
