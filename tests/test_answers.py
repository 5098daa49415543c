"""What the main rows answer on the bundled data: no false "no domestic production", basket
codes that drive nothing, processing shares near the published ones, an answer for most
listed minerals, reserves with their source."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin.schema import STAGES
from critmin.store import get_store

NO_PRODUCTION = "net importer (no domestic production)"


@pytest.fixture(scope="module")
def cube() -> pd.DataFrame:
    return critmin.cube()


def test_no_domestic_production_is_never_contradicted_by_a_source(cube: pd.DataFrame) -> None:
    store = get_store()
    stage_of = store.table("minerals").set_index("mineral")["production_stage"]
    rank = {s: i for i, s in enumerate(STAGES)}
    output = pd.concat([
        store.table("production").query("qty_t > 0")[["year", "country", "mineral", "stage"]],
        store.table("production_withheld")[["year", "country", "mineral", "stage"]]])
    at_or_after = (output["stage"].map(rank)
                   >= output["mineral"].map(stage_of).fillna("ore").map(rank))
    made = output[at_or_after.to_numpy()][["year", "country", "mineral"]].drop_duplicates()
    claimed = cube[cube["reliance_status"] == NO_PRODUCTION][["year", "country", "mineral"]]
    contradicted = claimed.merge(made.astype({"year": claimed["year"].dtype}))
    assert contradicted.empty, contradicted.head(10).to_string()


def test_a_withheld_figure_is_not_a_zero(cube: pd.DataFrame) -> None:
    row = cube.query("year == 2024 and country == 'USA' and mineral == 'silicon'").iloc[0]
    assert row["reliance_status"] == "production in another source"
    assert "withheld figure (W)" in row["reason"]
    assert np.isnan(row["import_reliance"])


def test_a_basket_code_drives_no_supplier_and_no_reliance(cube: pd.DataFrame) -> None:
    row = cube.query("year == 2024 and country == 'IND' and mineral == 'gallium'").iloc[0]
    assert row["reliance_status"] == "basket code only"
    assert "811291" in row["reason"]
    assert np.isnan(row["import_reliance"]) and np.isnan(row["china_share"])
    assert row["top_supplier"] is None or pd.isna(row["top_supplier"])
    pairs = critmin.partners("IND", "gallium", 2024)
    assert pairs[pairs["stage"].isin(["headline", "refined"])].empty
    # a mineral with a code of its own keeps its suppliers
    assert cube.query("year == 2024 and country == 'IND' and mineral == 'bismuth'")[
        "china_share"].iloc[0] > 0.5


def test_processing_shares_are_refinery_output_or_published(cube: pd.DataFrame) -> None:
    world = cube.drop_duplicates(["year", "mineral"]).set_index(["year", "mineral"])
    published = get_store().table("processing_shares").query("country == 'CHN'").set_index(
        ["year", "mineral"])["share"]
    for (year, mineral), share in published.items():
        row = world.loc[(year, mineral)]
        measured = row["refining_china_share"]
        if row["refining_measure"].startswith("published share"):
            assert measured == pytest.approx(share)
        else:  # refinery output of another source: within a few points of the IEA's
            assert abs(measured - share) < 0.05, (year, mineral, measured, share)
    assert world.loc[(2023, "cobalt"), "refining_china_share"] == pytest.approx(0.797, abs=1e-3)
    assert world.loc[(2023, "nickel"), "top_refiner"] == "IDN"
    # USGS's "Other countries" stays in the denominator: China 12.4 of 27.6 Mt in 2024
    assert world.loc[(2024, "copper"), "refining_china_share"] == pytest.approx(0.449, abs=2e-3)
    assert world.loc[(2024, "copper"), "refined_t"] == pytest.approx(27.6e6, rel=1e-3)


@pytest.mark.parametrize("iso3", ["IND", "USA", "DEU", "AUS"])
def test_most_listed_minerals_get_an_answer(iso3: str) -> None:
    rows = critmin.profile(iso3, 2024).minerals
    listed = rows[rows["own_list"]]
    answered = listed["answer"].fillna("").ne("")
    headline = listed["import_reliance"].notna()
    assert answered.sum() > 1.5 * headline.sum()
    assert answered.mean() >= 0.6, listed.loc[~answered, ["mineral", "reliance_status"]]


def test_the_answer_names_its_stage_and_says_net_exporter(cube: pd.DataFrame) -> None:
    india = cube.query("year == 2024 and country == 'IND'").set_index("mineral")
    assert india.loc["baryte", "answer"].startswith("net exporter (exports ")
    assert india.loc["aluminium", "answer"].startswith("refined: net exporter")
    assert india.loc["aluminium", "answer_stage"] == "refined"


def test_reserves_with_their_source() -> None:
    ree = critmin.mineral("rare-earths", 2024)
    russia = ree.reserves.set_index("country").loc["RUS"]
    assert russia["qty_t"] == 3_800_000 and russia["source"] == "usgs-mcs2026"
    assert any("Reserves: USGS Mineral Commodity Summaries 2026" in n for n in ree.notes)
    profile = critmin.profile("RUS", 2024, show_all=True).minerals.set_index("mineral")
    assert profile.loc["rare-earths", "reserves_t"] == 3_800_000


def test_a_stage_without_six_digit_rows_gets_the_interval_of_the_top_flows() -> None:
    stages = critmin.stages(years=[2023], minerals=["nickel"])
    russia = stages.query("country == 'RUS' and stage == 'refined'").iloc[0]
    assert "750210" in russia["coverage"]  # refined nickel has no six-digit rows in 2023
    assert russia["reliance_low"] <= russia["reliance_high"] <= 0
    assert russia["reliance_interval"].endswith("%")
    row = critmin.risk("RUS", "nickel", 2023).iloc[0]
    assert row["answer"] == "refined: net exporter (bounds)"
    # where the six-digit data carries the stage, no interval is shown
    carried = critmin.stages(years=[2024], minerals=["nickel"]).query("stage == 'refined'")
    assert carried["reliance_interval"].eq("").all()
