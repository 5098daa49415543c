"""The mineral and world pages' figures as plain specs: what plotly itself would send for them
(valid properties, the same values and colours), built without plotly's figure classes."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pandas as pd
import pytest

from critmin import figures, pages
from test_country_figures import decoded


def sent_by_plotly(spec: dict[str, Any]) -> Any:
    """``spec`` as plotly sends it once its figure class has validated every property (an
    unknown one raises) and dropped the unset ones."""
    return decoded(figures.as_json(figures.figure(spec)))


@pytest.fixture(scope="module")
def rare_earths() -> pages.Page:
    return pages.mineral_page("rare-earths", 2023)


@pytest.fixture(scope="module")
def lithium() -> pages.Page:
    return pages.mineral_page("lithium", 2022)


def test_mineral_page_figures_are_plain_specs(rare_earths: pages.Page) -> None:
    assert set(rare_earths.figures) == {"concentration", "producers", "sankey", "flows"}
    assert all(isinstance(f, dict) for f in rare_earths.figures.values())


@pytest.mark.parametrize("name", ["concentration", "producers", "sankey", "flows"])
def test_mineral_spec_is_what_plotly_sends_for_it(name: str, rare_earths: pages.Page,
                                                  lithium: pages.Page) -> None:
    for page in (rare_earths, lithium):
        spec = page.figures[name]
        validated = sent_by_plotly(spec)
        assert figures.as_json(spec) == validated, (page.subject, name)
        assert validated["data"], (page.subject, name)


@pytest.mark.parametrize(("mineral", "metric", "stage"), [
    ("rare-earths", "china_share", None), ("lithium", "import_reliance", None),
    ("cobalt", "score", None), ("nickel", "top_supplier_share", None),
    ("graphite", "china_share_origin", None), ("copper", "china_share", "refined")])
def test_world_map_spec_is_what_plotly_sends_for_it(mineral: str, metric: str,
                                                    stage: str | None) -> None:
    spec = pages.world_page(mineral, metric, 2022, stage).figures["map"]
    assert isinstance(spec, dict)
    assert figures.as_json(spec) == sent_by_plotly(spec)


def test_world_map_spec_by_hand() -> None:
    frame = pd.DataFrame({"country": ["CHN", "DEU", "FRA"], "china_share": [0.1, 0.4, None],
                          "score": [0.2, 0.05, None]})
    shares = figures.world_map_spec(frame, "china_share", "lithium", 2022, names={"DEU":
                                                                                   "Germany"})
    own, china = shares["data"]
    # China has no share of its own imports: drawn apart, grey, in the legend
    assert own["locations"] == ["DEU"] and own["z"] == [0.4] and own["text"] == ["Germany (DEU)"]
    assert (own["zmin"], own["zmax"]) == (0.0, 1.0)
    assert china["locations"] == ["CHN"] and china["showlegend"] is True
    assert {c for _, c in china["colorscale"]} == {figures.SELF_COLOUR}
    assert shares["layout"]["title"]["text"] == ("China's share of imports (share of import "
                                                 "tonnes):<br>lithium, primary-supply stages, "
                                                 "2022")
    # a score is no share: no fixed 0-1 range, and China keeps its own colour
    scores = figures.world_map_spec(frame, "score", "lithium", 2022)
    assert len(scores["data"]) == 1 and "zmin" not in scores["data"][0]
    assert scores["data"][0]["locations"] == ["CHN", "DEU"]


def test_map_colours_are_plotlys_ylorrd() -> None:
    # plotly.js's own "YlOrRd" runs the other way: the spec writes plotly.py's scale out
    go = figures._go()
    sent = figures.as_json(go.Figure(go.Choropleth(locations=["DEU"], z=[0.5],
                                                   colorscale="YlOrRd")))["data"][0]
    assert sent["colorscale"] == figures.YLORRD
    frame = pd.DataFrame({"country": ["DEU"], "import_reliance": [0.5]})
    spec = figures.world_map_spec(frame, "import_reliance", "lithium", 2022)
    assert spec["data"][0]["colorscale"] == figures.YLORRD


def test_flow_map_spec_legend_by_hand() -> None:
    flows = pd.DataFrame({"exporter": ["CHN", "AUS"], "importer": ["JPN", "CHN"],
                          "qty_basis_t": [90_000.0, 30_000.0]})
    spec = figures.flow_map_spec(flows, "flows", basis="REO")
    assert figures.as_json(spec) == sent_by_plotly(spec)
    widths = [t for t in spec["data"] if t.get("legendgroup") == "width"]
    # 90,000 t, then 30,000 t and 9,000 t: widths 1 + 7 * share of the largest
    assert [t["name"] for t in widths] == ["90,000 t REO", "30,000 t REO", "9,000 t REO"]
    assert [round(t["line"]["width"], 2) for t in widths] == [8.0, 3.33, 1.7]
    assert [("legendgrouptitle" in t) for t in widths] == [True, False, False]
    lines = [t for t in spec["data"] if t["mode"] == "lines" and not t["showlegend"]]
    assert lines[0]["text"] == "CHN → JPN: 90,000 t REO"
    assert lines[0]["line"]["color"] == figures.CHINA_COLOUR


def test_producers_spec_by_hand(rare_earths: pages.Page) -> None:
    spec = rare_earths.figures["producers"]
    (bars,) = spec["data"]
    top = rare_earths.tables["producers"].head(12)
    # the largest producer on top: plotly draws horizontal bars bottom-up
    assert bars["x"][-1] == pytest.approx(float(top["share"].iloc[0]))
    assert bars["customdata"][::-1] == pytest.approx(top["production_t"].tolist())
    assert spec["layout"]["height"] == max(300, 24 * len(top) + 100)


@pytest.mark.parametrize("path", ["/api/v1/figures/mineral/rare-earths?year=2023",
                                  "/api/v1/figures/world?mineral=lithium&metric=score"
                                  "&year=2022"])
def test_page_request_does_not_load_plotly_figure_classes(path: str) -> None:
    code = ("import sys; from fastapi.testclient import TestClient; "
            "from critmin.api.app import create_app; "
            "client = TestClient(create_app(), base_url='http://localhost'); "
            f"answer = client.get({path!r}); "
            "assert answer.status_code == 200, answer.text[:300]; "
            "assert answer.json()['figures']; "
            "print('plotly.graph_objects' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
