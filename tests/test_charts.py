"""Charts as files (critmin.charts, `critmin chart`, GET /api/v1/chart/{kind}): the
dashboard's figures with their source inside, as standalone HTML, and as PNG and SVG drawn
by headless Chromium (those tests are skipped where no Chromium is installed)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from critmin import charts
from critmin.errors import InvalidInput

BROWSER = os.environ.get("CRITMIN_CHROMIUM") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
if BROWSER is None and os.environ.get("CI"):
    raise RuntimeError("CI needs Debian's chromium for the browser tests (.ci/run installs it)")
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no chromium on PATH")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a_chart_names_its_source_year_and_unit_inside_the_figure() -> None:
    fig = charts.chart("trend", "India", ["lithium", "graphite"], 2023)
    caption = fig.layout.annotations[-1].text
    assert "Source: CEPII BACI" in caption and "2014-2023" in caption
    assert "share of import tonnes" in caption
    assert fig.layout.title.text == "India: China's share of imports, 2014-2023"
    assert {t.name for t in fig.data} == {"lithium", "graphite"}
    # the caption sits between the title and the plot, inside the figure's margin
    assert fig.layout.margin.t >= 46 + 14


def test_a_country_chart_without_minerals_shows_those_that_matter() -> None:
    from critmin.brief import select_minerals
    from critmin.profiles import profile

    fig = charts.chart("suppliers", "India", year=2023)
    shown = {str(x) for trace in fig.data for x in trace.x}
    assert shown == set(select_minerals(profile("India", 2023).minerals))
    assert {"rare-earths", "lithium", "graphite"} <= shown


def test_html_is_standalone(tmp_path: Path) -> None:
    out = charts.export(charts.chart("producers", "lithium", year=2022), tmp_path / "p.html")
    text = out.read_text("utf-8")
    assert "<script src=" not in text and "Plotly.newPlot" in text
    assert "Lithium: shares of world production, 2022" in text
    assert "Source: World Mining Data" in text


def test_bad_kind_format_and_size_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown chart kind 'bogus'; use one of dependence"):
        charts.chart("bogus", "India")
    with pytest.raises(InvalidInput, match=r"charts are \.png, \.svg or \.html, not '\.gif'"):
        charts.output_format(tmp_path / "x.gif")
    with pytest.raises(InvalidInput, match="a producers chart is a mineral's"):
        charts.chart("producers", "lithium", ["cobalt"])
    with pytest.raises(InvalidInput, match="width must be at most 4000"):
        charts.render(charts.chart("producers", "lithium", year=2022), "html", 5000, 400)


def test_a_missing_browser_names_critmin_chromium(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMIN_CHROMIUM", str(tmp_path / "no-such-browser"))
    fig = charts.chart("producers", "lithium", year=2022)
    with pytest.raises(InvalidInput, match=r"CRITMIN_CHROMIUM=.*is not an executable"):
        charts.export(fig, tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()
    monkeypatch.delenv("CRITMIN_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InvalidInput, match="set CRITMIN_CHROMIUM"):
        charts.export(fig, tmp_path / "p.png")


@needs_browser
def test_png_has_the_requested_size(tmp_path: Path) -> None:
    fig = charts.chart("dependence", "India", ["lithium", "rare-earths"], 2023, width=640)
    out = charts.export(fig, tmp_path / "d.png", width=640, height=420)
    assert png_size(out.read_bytes()) == (640, 420)


@needs_browser
def test_svg_parses_and_holds_the_title(tmp_path: Path) -> None:
    fig = charts.chart("producers", "lithium", year=2022)
    out = charts.export(fig, tmp_path / "p.svg", width=900, height=500)
    root = ET.fromstring(out.read_bytes())
    assert root.tag.endswith("svg") and root.get("width") == "900"
    text = " ".join(t for t in root.itertext())
    assert "Lithium: shares of world production, 2022 (world 345,849 t Li2O)" in text
    assert "Source: World Mining Data" in text


@needs_browser
def test_cli_writes_a_png(cli, tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    done = cli("chart", "map", "lithium", "--metric", "china_share", "-y", "2022",
               "--out", str(out), "--width", "800", "--height", "500")
    assert done.code == 0, done.stderr
    assert png_size(out.read_bytes()) == (800, 500)
    bad = cli("chart", "bogus", "India", "--out", str(tmp_path / "x.png"))
    assert bad.code == 2 and "unknown chart kind 'bogus'" in bad.stderr


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from critmin.api import create_app

    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


@needs_browser
def test_api_returns_a_png(client) -> None:
    res = client.get("/api/v1/chart/dependence",
                     params={"subject": "IND", "mineral": ["lithium", "graphite"],
                             "year": 2023, "width": 500, "height": 300})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "image/png"
    assert png_size(res.content) == (500, 300)


def test_api_html_and_errors(client) -> None:
    res = client.get("/api/v1/chart/producers",
                     params={"subject": "lithium", "year": 2022, "format": "html"})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert "<script src=" not in res.text and "Lithium: shares of world production, 2022" in res.text
    bad = client.get("/api/v1/chart/bogus", params={"subject": "IND"})
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "invalid_input" and "unknown chart kind 'bogus'" in error["message"]
    fmt = client.get("/api/v1/chart/dependence", params={"subject": "IND", "format": "gif"})
    assert fmt.status_code == 422 and re.search("format", fmt.json()["error"]["message"])
