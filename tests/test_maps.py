"""Maps that read right: the whole world centred on Greenwich, China drawn apart on maps of
China's share, titles and colour bars that name the measure, blank producers explained,
flow lines that stay on the map with labels that do not collide and a width legend, and
restriction maps that name their target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin import figures, pages


@pytest.fixture(scope="module")
def share_map() -> object:
    return figures.figure(pages.world_page("rare-earths", "china_share", 2023).figures["map"])


def test_every_map_is_centred_on_greenwich(share_map: object) -> None:
    flows = pd.DataFrame({"exporter": ["CHN"], "importer": ["DEU"], "qty_basis_t": [1.0]})
    for fig in (share_map, figures.flow_map(flows, "flows")):
        geo = fig.layout.geo
        assert geo.projection.rotation.lon == 0
        assert geo.projection.type == "natural earth"
        assert tuple(geo.lonaxis.range) == (-180, 180)


def test_china_is_itself_not_a_zero_share(share_map: object) -> None:
    shares, china = share_map.data
    assert "CHN" not in shares.locations and len(shares.locations) > 100
    assert list(china.locations) == ["CHN"] and china.showlegend
    assert china.name == "China itself (no share)" and china.showscale is False
    assert shares.colorbar.title.text == "China's share of imports"
    title = share_map.layout.title.text
    assert title.startswith("China's share of imports (share of import tonnes)")
    assert title.endswith("rare-earths, primary-supply stages, 2023")
    # a map of another metric keeps China as a country like any other
    reliance = figures.world_map(pd.DataFrame({"country": ["CHN", "DEU"],
                                               "import_reliance": [0.2, 1.0]}),
                                 "import_reliance", "lithium", 2023)
    assert list(reliance.data[0].locations) == ["CHN", "DEU"] and len(reliance.data) == 1


def test_blank_producers_are_named_with_the_reason() -> None:
    fig = figures.figure(pages.world_page("lithium", "import_reliance", 2023).figures["map"])
    note = fig.layout.annotations[0].text.replace("<br>", " ")
    assert "Blank producers: Australia, Chile, China" in note
    assert "253090" in note  # the missing ore code is why they have no reliance
    shown = set(fig.data[0].locations)
    assert not {"AUS", "CHL", "CHN"} & shown


def test_world_page_and_api_default_to_china_share() -> None:
    import inspect

    from critmin.api import app

    assert inspect.signature(pages.world_page).parameters["metric"].default == "china_share"
    assert '= "china_share",' in inspect.getsource(app)
    script = (critmin.__path__[0] + "/web/static/app.js")
    with open(script, encoding="utf-8") as f:
        text = f.read()
    assert 'params.get("mineral") || "rare-earths"' in text
    assert 'params.get("metric") || "china_share"' in text


def test_arcs_never_jump_across_the_map() -> None:
    where = figures.centroids()
    assert {"CHN", "USA", "CHL", "AUS", "DEU", "SGP"} <= set(where)
    # Chile to China, the USA to China and Australia to Japan all cross the Pacific
    pairs = [("CHL", "CHN"), ("USA", "CHN"), ("AUS", "JPN"), ("AUS", "USA"), ("DEU", "CHN")]
    for a, b in pairs:
        lon, lat = figures.arc(where[a], where[b])
        assert np.abs(np.diff(lon)).max() < 180, (a, b)
        assert (lon[0], lat[0]) == pytest.approx(where[a])
        assert (lon[-1], lat[-1]) == pytest.approx(where[b])
        assert max(abs(x) for x in lat) <= 90
    flows = pd.DataFrame({"exporter": ["CHL", "AUS", "CHN"], "importer": ["CHN", "CHN", "JPN"],
                          "qty_basis_t": [100.0, 80.0, 10.0]})
    fig = figures.flow_map(flows, "flows")
    for trace in fig.data:
        if trace.mode == "lines" and len(trace.lon) > 2:
            assert np.abs(np.diff(np.asarray(trace.lon, dtype=float))).max() < 180


def test_flow_map_has_a_width_legend_and_china_in_its_colour() -> None:
    flows = pd.DataFrame({"exporter": ["CHN", "AUS", "MMR"], "importer": ["JPN", "CHN", "CHN"],
                          "qty_basis_t": [90_000.0, 30_000.0, 5_000.0]})
    fig = figures.flow_map(flows, "flows", basis="REO")
    widths = [t for t in fig.data if t.legendgroup == "width" and t.showlegend]
    assert [t.name for t in widths] == ["90,000 t REO", "30,000 t REO", "9,000 t REO"]
    assert [round(t.line.width, 2) for t in widths] == [8.0, 3.33, 1.7]
    lines = [t for t in fig.data if t.mode == "lines" and not t.showlegend]
    assert lines[0].line.color == figures.CHINA_COLOUR  # China to Japan, the largest
    assert lines[1].line.color != figures.CHINA_COLOUR


def test_close_labels_do_not_collide() -> None:
    # Myanmar and Laos, the Netherlands and Germany sit close: the smaller goes unlabelled
    flows = pd.DataFrame({"exporter": ["MMR", "LAO", "NLD", "DEU"],
                          "importer": ["USA", "USA", "BRA", "BRA"],
                          "qty_basis_t": [50.0, 10.0, 40.0, 20.0]})
    fig = figures.flow_map(flows, "flows")
    ends = next(t for t in fig.data if t.mode == "markers+text")
    labels = [x for x in ends.text if x]
    assert "MMR" in labels and "LAO" not in labels
    assert "NLD" in labels and "DEU" not in labels
    assert {"USA", "BRA"} <= set(labels)
    assert len(ends.hovertext) == 6  # every end keeps its hover text


def test_restriction_map_names_supplier_cut_stage_year_and_target() -> None:
    names = pages.names()
    result = critmin.restrict("CHN", "rare-earths", 2023, cut=0.5, targets=["USA", "JPN"],
                              stage="refined")
    title = figures.restriction_map(result, names).layout.title.text
    assert title == ("Loss of rare-earths supply if China cuts 50% of exports to "
                     "United States, Japan (refined stage, 2023)")
    every = critmin.restrict("CHN", "rare-earths", 2023, cut=1.0)
    title = figures.restriction_map(every, names).layout.title.text
    assert title == ("Loss of rare-earths supply if China cuts 100% of exports "
                     "(primary-supply stages, 2023)")
