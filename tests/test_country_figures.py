"""The country page's figures as plain specs: what plotly itself would send for them (valid
properties, the same values and colours), built without plotly's figure classes."""

from __future__ import annotations

import base64
import math
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from critmin import figures, pages


def decoded(value: Any) -> Any:
    """Plotly's JSON with its typed arrays (``dtype`` and base64 ``bdata``) as lists and
    NaN as None, the way the browser reads both."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            if "shape" in value:
                array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
            return decoded(array.tolist())
        return {k: decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decoded(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@pytest.fixture(scope="module")
def india() -> pages.Page:
    return pages.country_page("India", 2022)


def test_each_spec_is_what_plotly_sends_for_it(india: pages.Page) -> None:
    assert set(india.figures) == {"dependence", "stages", "suppliers", "origin", "trend",
                                  "china_trend"}
    for name, spec in india.figures.items():
        assert isinstance(spec, dict), name
        # plotly validates every property (an unknown one raises) and drops unset ones
        validated = decoded(figures.as_json(figures.figure(spec)))
        assert figures.as_json(spec) == validated, name
        assert validated["data"], name


def test_heat_map_colours_are_plotlys_ylorrd() -> None:
    heatmap = figures._go().Heatmap(z=[[0.5]], colorscale="YlOrRd")
    sent = figures.as_json(figures._go().Figure(heatmap))["data"][0]["colorscale"]
    assert sent == figures.YLORRD
    assert sent[0][1] == "rgb(255,255,204)"  # ColorBrewer's yellow at 0, red at 1


def test_dependence_spec_by_hand() -> None:
    minerals = pd.DataFrame({
        "mineral": ["lithium", "cobalt", "nickel"], "own_list": [True, True, False],
        "import_reliance": [1.0, np.nan, np.nan], "china_share": [0.5, np.nan, 0.25]})
    spec = figures.dependence_spec(SimpleNamespace(minerals=minerals, name="Testland",
                                                   year=2022))  # type: ignore[arg-type]
    reliance, china = spec["data"]
    # cobalt has neither figure and is left out; the list is drawn bottom-up
    assert reliance["y"] == china["y"] == ["nickel", "★ lithium"]
    assert reliance["x"] == [None, 1.0] and china["x"] == [0.25, 0.5]
    assert china["marker"]["color"] == figures.CHINA_COLOUR
    assert spec["layout"]["height"] == 320 and spec["layout"]["barmode"] == "group"
    assert spec["layout"]["title"]["text"] == ("Testland: dependence per mineral, 2022 "
                                               "(★ on its own critical list)")


def test_trend_spec_ranges_shares_only() -> None:
    rows = pd.DataFrame({"mineral": ["lithium", "lithium", "cobalt"], "year": [2021, 2020, 2020],
                         "china_share": [0.2, 1.2, np.nan], "score": [0.1, 0.3, 0.2]})
    shares = figures.trend_spec(rows, "t", "china_share")
    by_name = {t["name"]: t for t in shares["data"]}
    assert by_name["lithium"]["x"] == [2020, 2021] and by_name["lithium"]["y"] == [1.2, 0.2]
    assert by_name["cobalt"]["y"] == [None]
    assert shares["layout"]["yaxis"]["range"] == pytest.approx([0.0, 1.26])
    scores = figures.trend_spec(rows, "t", "score")
    assert "range" not in scores["layout"]["yaxis"]
    assert scores["layout"]["yaxis"]["tickformat"] == ".3f"


def test_country_page_json_does_not_load_plotly_figure_classes() -> None:
    code = ("import sys; from critmin.pages import country_page; "
            "country_page('India', 2022).to_dict(); "
            "print('plotly.graph_objects' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    assert done.stdout.strip() == "False"
