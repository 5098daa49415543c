"""BGS World Mineral Statistics: refinery output read as production, and the processing
concentration it gives against the figures BGS itself publishes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import critmin
from critmin.sources import bgs_wms

COLUMNS = ["country_iso3_code", "bgs_commodity_trans", "bgs_sub_commodity_trans", "year",
           "quantity", "units", "concat_figure_notes_text"]


def _file(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "bgs.csv"
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
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
])
def test_processing_concentration_is_refinery_output(mineral: str, top: str,
                                                     china: float) -> None:
    row = critmin.mineral(mineral, year=2023).concentration.set_index("year").loc[2023]
    assert row["refining_measure"] == "refinery production"
    assert row["top_refiner"] == top
    assert row["refining_china_share"] == pytest.approx(china, abs=0.001)
