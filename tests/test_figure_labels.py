"""Figures say what their axes hold: shares on per-cent axes, indices (HHI) on their own."""

from __future__ import annotations

import pytest

from critmin import figures, pages
from critmin.whatif.at_risk import supply_at_risk
from critmin.whatif.pacts import pact


@pytest.fixture(scope="module")
def rare_earths() -> pages.Page:
    return pages.mineral_page("rare-earths", 2023)


def test_hhi_is_not_drawn_on_the_share_axis(rare_earths: pages.Page) -> None:
    fig = figures.as_json(rare_earths.figures["concentration"])
    by_name = {t["name"]: t for t in fig["data"]}
    assert by_name["HHI (mine)"]["yaxis"] == "y2"
    assert by_name["China share (mine)"].get("yaxis", "y") == "y"
    assert fig["layout"]["yaxis"]["tickformat"] == ".0%"
    assert fig["layout"]["yaxis2"]["tickformat"] == ".2f"


def test_producers_title_names_the_world_total_not_a_share_in_tonnes(
        rare_earths: pages.Page) -> None:
    title = figures.as_json(rare_earths.figures["producers"])["layout"]["title"]["text"]
    assert title.startswith("Rare earths: shares of world production, 2023 (world ")
    assert title.endswith(" t REO)")


def test_pact_figure_draws_shares_only() -> None:
    result = pact("IND", "RUS", "rare-earths", volume=300, stage="refined", year=2024,
                  against=["CHN"])
    fig = figures.as_json(figures.pact_figure(result))
    assert "import hhi" not in fig["data"][0]["x"]


def test_supply_at_risk_figure_leads_with_the_largest_losses_in_tonnes() -> None:
    result = supply_at_risk("cobalt", 2023, draws=500, seed=0)
    fig = figures.as_json(figures.supply_at_risk_figure(result, top=5))
    shown = list(fig["data"][0]["x"])
    biggest = (result.countries.dropna(subset=["expected_loss_share"])
               .nlargest(5, "expected_loss_t")["country"].tolist())
    assert shown == biggest
