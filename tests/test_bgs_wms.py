"""BGS World Mineral Statistics: smelter and refinery output read as production, and the
processing concentration it gives against the figures BGS itself publishes.

The expected numbers of the pinned files were read by eye from source-data/bgs-wms/*.csv:
2023, refined copper, China 12,988,000 t of 27,588,772 t (47.1 %); copper smelter China
11,833,000 t; primary gallium China 621 of 643 t (96.6 %); germanium metal China 200 of
211 t (94.8 %); primary magnesium China 805,000 of 860,858 t (93.5 %)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import critmin
from critmin import catalog
from critmin.schema import STAGES
from critmin.sources import bgs_wms, registry
from critmin.sources.coverage import Coverage
from critmin.sources.registry import SOURCE_FILES, source_file

COLUMNS = ["country_iso3_code", "bgs_commodity_trans", "bgs_sub_commodity_trans", "year",
           "quantity", "units", "concat_figure_notes_text", "country_iso2_code"]
SOURCE_DATA = Path(__file__).resolve().parents[1] / "source-data"
BGS_FILES = [key for key, source in registry.SOURCE_OF.items() if source == "bgs-wms"]
KEY = ["year", "country", "mineral", "stage"]


def _file(tmp_path: Path, rows: list[list[str]]) -> Path:
    """A BGS extract of ``rows`` (the ISO2 code, last, is blank unless given)."""
    path = tmp_path / "bgs.csv"
    padded = [row + [""] * (len(COLUMNS) - len(row)) for row in rows]
    pd.DataFrame(padded, columns=COLUMNS).to_csv(path, index=False)
    return path


def test_refinery_rows_are_kept_and_the_rest_counted_by_reason(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        ["CHN", "cobalt, refined", "", "2023-01-01 00:00:00", "140000", "tonnes (metric)", ""],
        ["FIN", "cobalt, refined", "", "2023-01-01 00:00:00", "10500", "tonnes (metric)",
         "Estimates."],
        ["COD", "cobalt, mine", "", "2023-01-01 00:00:00", "170000", "tonnes (metal content)",
         ""],  # mine output: not a refinery series here
        ["JPN", "cobalt, refined", "", "2023-01-01 00:00:00", "", "tonnes (metric)", ""],
        ["SUN", "cobalt, refined", "", "2019-01-01 00:00:00", "5", "tonnes (metric)", ""],
        ["CAN", "cobalt, refined", "", "2017-01-01 00:00:00", "4000", "tonnes (metric)", ""],
        ["CYP", "nickel, smelter/refinery", "Sulfate", "2023-01-01 00:00:00", "638",
         "tonnes (metric)", ""],
        ["IDN", "nickel, smelter/refinery", "", "2023-01-01 00:00:00", "1411000",
         "tonnes (metric)", ""],
    ])
    rows, cov = bgs_wms.production([path], frozenset({"CHN", "FIN", "JPN", "CAN", "CYP", "IDN"}))
    assert rows[["country", "mineral", "stage", "qty_t", "data_source"]].values.tolist() == [
        ["CHN", "cobalt", "refined", 140000.0, "r"], ["FIN", "cobalt", "refined", 10500.0, "e"],
        ["IDN", "nickel", "refined", 1411000.0, "r"]]
    assert (rows["source"] == "bgs-wms").all() and (rows["year"] == 2023).all()
    assert cov.rows_read == 7 and cov.rows_kept == 3
    assert cov.dropped == {
        "blank quantity (nil or not available: never zero)": 1,
        "not a country of the catalog (a former country)": 1,
        "before 2018": 1,
        "sub-commodity on another basis (e.g. nickel sulfate, tonnes of product)": 1}


@pytest.mark.parametrize(("mineral", "top", "china"), [
    ("cobalt", "CHN", 0.797),  # BGS 2023: refined cobalt 175,706 t, China 79.7 %
    ("nickel", "IDN", 0.285),  # BGS 2023: nickel smelter/refinery, Indonesia 41.4 %, China 28.5 %
    ("copper", "CHN", 0.471),  # BGS 2023: refined copper 27.6 Mt, China 47.1 %
    ("magnesium", "CHN", 0.935),  # BGS 2023: primary magnesium 860,858 t, China 93.5 %
])
def test_processing_concentration_is_refinery_output(mineral: str, top: str,
                                                     china: float) -> None:
    row = critmin.mineral(mineral, year=2023).concentration.set_index("year").loc[2023]
    assert row["refining_measure"] == "refinery production (bgs-wms)"
    assert row["top_refiner"] == top
    assert row["refining_china_share"] == pytest.approx(china, abs=0.001)


def test_each_processing_series_goes_to_its_stage(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        ["CHN", "copper, refined", "", "2023-01-01 00:00:00", "12988000", "tonnes (metric)", ""],
        ["CHN", "copper, smelter", "", "2023-01-01 00:00:00", "11833000", "tonnes (metric)", ""],
        ["CHN", "copper, mine", "", "2023-01-01 00:00:00", "1700000", "tonnes (metal content)",
         ""],  # mine output: World Mining Data's
        ["CHN", "gallium, primary", "", "2023-01-01 00:00:00", "621", "tonnes (metric)", ""],
        ["CHN", "germanium metal", "", "2023-01-01 00:00:00", "200", "tonnes (metric)", ""],
        ["CHN", "magnesium metal, primary", "", "2023-01-01 00:00:00", "805000",
         "tonnes (metric)", ""],
        ["CHN", "ferro-alloys", "Ferro-alloys", "2023-01-01 00:00:00", "34650000",
         "tonnes (metric)", ""],  # an aggregate of every type: not read
    ])
    rows, cov = bgs_wms.production([path], frozenset({"CHN"}))
    assert rows[["mineral", "stage", "qty_t", "series"]].values.tolist() == [
        ["copper", "intermediate", 11833000.0, "copper, smelter"],
        ["copper", "refined", 12988000.0, "copper, refined"],
        ["gallium", "refined", 621.0, "gallium, primary"],
        ["germanium", "refined", 200.0, "germanium metal"],
        ["magnesium", "refined", 805000.0, "magnesium metal, primary"]]
    assert cov.rows_read == 5 and cov.rows_kept == 5 and cov.dropped == {}


def test_kilograms_become_tonnes_and_other_units_are_dropped(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        ["CHN", "gallium, primary", "", "2022-01-01 00:00:00", "600000", "kilograms (metric)",
         ""],
        ["RUS", "gallium, primary", "", "2022-01-01 00:00:00", "14", "tonnes (metric)", ""],
        ["JPN", "gallium, primary", "", "2022-01-01 00:00:00", "3", "troy ounces", ""],
    ])
    rows, cov = bgs_wms.production([path], frozenset({"CHN", "RUS", "JPN"}))
    assert rows[["country", "qty_t", "qty_reported", "unit_reported"]].values.tolist() == [
        ["CHN", 600.0, 600000.0, "kilograms (metric)"], ["RUS", 14.0, 14.0, "tonnes (metric)"]]
    assert cov.dropped == {"unit neither tonnes nor kilograms": 1}


def test_republic_of_the_congo_is_not_added_to_the_dr_congo(tmp_path: Path) -> None:
    # the extract codes "Congo" (ISO2 CG) COD, the DR Congo's ISO3 code
    path = _file(tmp_path, [
        ["COD", "copper, refined", "", "2023-01-01 00:00:00", "2210000", "tonnes (metric)", "",
         "CD"],
        ["COD", "copper, refined", "", "2023-01-01 00:00:00", "8400", "tonnes (metric)", "",
         "CG"],
    ])
    rows, cov = bgs_wms.production([path], frozenset({"COD", "COG"}))
    assert rows[["country", "qty_t"]].values.tolist() == [["COD", 2210000.0], ["COG", 8400.0]]
    assert cov.merged == 0
    assert cov.notes == {
        "Republic of the Congo coded COD (DR Congo) in the extract: recoded COG": 1}


def test_every_series_has_a_catalog_mineral_stage_and_a_default_source() -> None:
    minerals = set(catalog.load("minerals")["mineral"])
    defaults = catalog.load("production_defaults").set_index(["mineral", "stage"])["source"]
    for mineral, stage in bgs_wms.SERIES.values():
        assert mineral in minerals and stage in STAGES
        # without a default row, World Mining Data or USGS would be chosen, and BGS's rows
        # of a stage no other source reports would be left out
        assert (mineral, stage) in defaults.index
    assert defaults[("copper", "refined")] == defaults[("magnesium", "refined")] == "bgs-wms"
    assert defaults[("gallium", "refined")] == defaults[("germanium", "refined")] == "wmd"


needs_files = pytest.mark.skipif(
    not all((SOURCE_DATA / SOURCE_FILES[key][0]).is_file() for key in BGS_FILES),
    reason=f"BGS World Mineral Statistics files not found in {SOURCE_DATA}")


@pytest.fixture(scope="module")
def pinned() -> tuple[pd.DataFrame, Coverage]:
    files = [source_file(SOURCE_DATA, key) for key in BGS_FILES]
    return bgs_wms.production(files, frozenset(catalog.load_countries()["iso3"]))


@needs_files
def test_pinned_files_china_2023(pinned: tuple[pd.DataFrame, Coverage]) -> None:
    tonnes = pinned[0].set_index(KEY)["qty_t"]
    assert tonnes[(2023, "CHN", "copper", "refined")] == 12_988_000
    assert tonnes[(2023, "CHN", "copper", "intermediate")] == 11_833_000
    assert tonnes[(2023, "COG", "copper", "refined")] == 8_400
    assert tonnes[(2023, "COD", "copper", "refined")] == 2_210_000


@needs_files
@pytest.mark.parametrize(("mineral", "stage", "world_t", "china"), [
    ("copper", "refined", 27_588_772, 0.471),
    ("copper", "intermediate", 21_533_889, 0.550),
    ("gallium", "refined", 643, 0.966),
    ("germanium", "refined", 211, 0.948),
    ("magnesium", "refined", 860_858, 0.935),
])
def test_pinned_files_world_total_and_china_share_2023(
        pinned: tuple[pd.DataFrame, Coverage], mineral: str, stage: str,
        world_t: float, china: float) -> None:
    rows = pinned[0]
    series = rows[(rows["year"] == 2023) & (rows["mineral"] == mineral)
                  & (rows["stage"] == stage)].set_index("country")["qty_t"]
    assert series.sum() == pytest.approx(world_t)
    assert series["CHN"] / series.sum() == pytest.approx(china, abs=0.0005)


@needs_files
def test_pinned_files_years_and_reasons(pinned: tuple[pd.DataFrame, Coverage]) -> None:
    rows, cov = pinned
    assert rows["year"].min() == 2018 and rows["year"].max() == 2023
    assert not rows.duplicated(KEY).any()
    assert cov.rows_read == cov.rows_kept + cov.rows_dropped + cov.merged
    assert cov.dropped == {
        "before 2018": 5851,
        "sub-commodity on another basis (e.g. nickel sulfate, tonnes of product)": 12,
        "not a country of the catalog (a former country)": 6,
        # Slovakia's copper smelter output of 2022: "Figures not available"
        "blank quantity (nil or not available: never zero)": 1}
