"""Time as an axis: year ranges and lists, long rows pivoted wide, and the series breaks
between years (where a figure's source, stage or coverage changes)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import critmin
from critmin.errors import InvalidInput
from critmin.series import series_breaks, with_breaks
from critmin.store import get_store
from critmin.views import BREAK_MARK, pivot
from critmin.years import one_year, parse_year_spec, parse_years

# -- the parser -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "years"), [
    ("2023", [2023]),
    (" 2023 ", [2023]),
    (2023, [2023]),
    ("2019-2024", [2019, 2020, 2021, 2022, 2023, 2024]),
    ("2019:2024", [2019, 2020, 2021, 2022, 2023, 2024]),
    ("2019,2021,2023", [2019, 2021, 2023]),
    ("2015,2019-2021", [2015, 2019, 2020, 2021]),
    ("2021,2019-2021, 2015", [2015, 2019, 2020, 2021]),
    ("2020-2020", [2020]),
    (["2019:2020", "2023"], [2019, 2020, 2023]),
])
def test_year_specs_are_read_as_sorted_years(text: object, years: list[int]) -> None:
    assert parse_year_spec(text) == years


@pytest.mark.parametrize(("text", "message"), [
    ("2024-2019", "year range '2024-2019' runs backwards; write 2019-2024"),
    ("2019-", "cannot read year '2019-'"),
    ("20x9", "cannot read year '20x9'"),
    ("2019-2020-2021", "cannot read year '2019-2020-2021'"),
    ("2019,,2021", "has an empty item"),
    ("", "has an empty item"),
    ("2019;2020", "cannot read year '2019;2020'"),
    ("２０２３", "cannot read year"),
    ("1900-1990", "1900 is outside 1950-"),
    ([], "no year given"),
])
def test_bad_year_specs_say_what_is_wrong(text: object, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_year_spec(text)
    assert message in str(err.value)


def test_years_are_checked_against_the_data() -> None:
    store = get_store()
    assert parse_years("2022:2024", store) == [2022, 2023, 2024]
    with pytest.raises(InvalidInput) as err:
        parse_years("1990-1996", store)
    assert str(err.value) == ("year '1990-1996': no data for 1990-1994; "
                              "years with data: 1995-2025")
    with pytest.raises(InvalidInput, match="years with data: 1995-2025"):
        parse_years("2019-20x", store)


def test_a_single_year_command_refuses_a_range() -> None:
    assert one_year("2023", "restrict") == 2023
    with pytest.raises(InvalidInput) as err:
        one_year("2019,2021", "restrict")
    assert "restrict runs on one year" in str(err.value)
    assert "'2019,2021' gives 2" in str(err.value)


# -- series breaks ----------------------------------------------------------------------------


def test_a_constructed_two_year_break_is_flagged() -> None:
    rows = pd.DataFrame({
        "year": [2023, 2024, 2023, 2024],
        "country": ["IND", "IND", "DEU", "DEU"],
        "mineral": ["cobalt"] * 4,
        "source": ["BGS", "USGS MCS", "BGS", "BGS"],
        "stage": ["ore", "refined", "ore", "ore"],
    })
    breaks = series_breaks(rows, {"source": "production source", "stage": "stage"},
                           keys=["country", "mineral"])
    assert breaks.tolist() == ["", "production source: BGS → USGS MCS; stage: ore → refined",
                               "", ""]


def test_breaks_follow_each_series_in_year_order_whatever_the_row_order() -> None:
    rows = pd.DataFrame({"year": [2024, 2022, 2023], "mineral": ["tin"] * 3,
                         "basis": ["Sn", "ore", "Sn"]})
    breaks = series_breaks(rows, {"basis": "basis"}, keys=["mineral"])
    assert breaks.tolist() == ["", "", "basis: ore → Sn"]


def test_bundled_graphite_2024_is_flagged_with_its_real_reasons() -> None:
    rows = with_breaks(critmin.risk("IND", "graphite", list(range(2019, 2025))), get_store())
    by_year = rows.set_index("year")
    # the reported drop: China's share of India's graphite imports, 2023 to 2024
    assert by_year.loc[2023, "china_share"] > 0.5 > 0.2 > by_year.loc[2024, "china_share"]
    assert (by_year.loc[2019:2023, "series_break"] == "").all()
    flag = by_year.loc[2024, "series_break"]
    assert "trade source: BACI HS92 → BACI HS92 with 250490" in flag
    assert "(9% of the tonnes) from BACI HS17 V202601" in flag
    assert "trade year: complete → newest, incomplete" in flag
    assert "production source" not in flag  # World Mining Data in both years
    assert by_year.loc[2024, "controls_since"] == (
        "CHN licence from 2023-12-01 (chn-graphite-2023)")
    # the share of the newer release's code, recomputed from the flows
    flows = get_store().table("flows")
    india = flows[(flows["importer"] == "IND") & (flows["year"] == 2024)
                  & flows["hs6"].isin(["250410", "250490"])]
    share = india.loc[india["hs6"] == "250490", "qty_t"].sum() / india["qty_t"].sum()
    assert f"({share:.0%} of the tonnes)" in flag


def test_bundled_stage_rows_break_per_stage() -> None:
    rows = with_breaks(critmin.stages("IND", ["graphite", "cobalt"], [2023, 2024]), get_store())
    rows = rows.set_index(["year", "mineral", "stage"])["series_break"]
    assert "250490 (9% of the tonnes)" in rows.loc[(2024, "graphite", "ore")]
    assert "282200" in rows.loc[(2024, "cobalt", "intermediate")]
    assert "production source: BGS → none" in rows.loc[(2024, "cobalt", "refined")]
    assert (rows.loc[2023] == "").all()


def test_bundled_pivot_marks_the_graphite_break() -> None:
    rows = with_breaks(critmin.risk("IND", "graphite", list(range(2019, 2025))), get_store())
    wide = pivot(rows, "year", "china_share")
    assert list(wide.columns) == ["country", "mineral", "2019", "2020", "2021", "2022", "2023",
                                  "2024", "series_break", "controls_since"]
    assert [(r, c) for r, c, _ in wide.attrs["breaks"]] == [(0, "2024")]
    assert wide.at[0, "series_break"].startswith("2024: trade source")


# -- pivot ------------------------------------------------------------------------------------


def long_rows() -> pd.DataFrame:
    rows = pd.DataFrame({
        "year": [2023, 2024, 2023, 2024, 2023],
        "country": ["IND", "IND", "IND", "IND", "DEU"],
        "mineral": ["graphite", "graphite", "lithium", "lithium", "graphite"],
        "china_share": [0.51, 0.17, 0.3, 0.4, 0.6],
        "top_supplier": ["CHN", "MDG", "CHL", "CHL", "CHN"],
    })
    rows.attrs["units"] = {"china_share": "share"}
    return rows


def test_pivot_by_year_has_one_column_per_year() -> None:
    wide = pivot(long_rows(), "year", "china_share")
    assert list(wide.columns) == ["country", "mineral", "2023", "2024"]
    assert wide.shape == (3, 4)
    assert wide.attrs["units"] == {"2023": "share", "2024": "share"}
    deu = wide[wide["country"] == "DEU"].iloc[0]
    assert deu["2023"] == 0.6 and math.isnan(deu["2024"])


def test_pivot_by_country_has_one_column_per_country() -> None:
    wide = pivot(long_rows(), "country", "china_share")
    assert list(wide.columns) == ["year", "mineral", "DEU", "IND"]
    assert wide.set_index(["year", "mineral"]).loc[(2023, "graphite"), "DEU"] == 0.6


@pytest.mark.parametrize(("by", "measure", "message"), [
    ("year", "chna_share", "did you mean china_share"),
    ("year", "top_supplier", "'top_supplier' is not numeric"),
    ("decade", "china_share", "pivot must be one of"),
])
def test_pivot_refuses_what_it_cannot_do(by: str, measure: str, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        pivot(long_rows(), by, measure)
    assert message in str(err.value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(2015, 2024), st.sampled_from(["IND", "DEU", "JPN"]),
                          st.sampled_from(["graphite", "cobalt"]),
                          st.floats(0, 1, allow_nan=False)),
                min_size=1, max_size=40),
       st.sampled_from(["year", "country", "mineral"]))
def test_every_pivot_cell_is_the_long_row_value(rows: list[tuple[int, str, str, float]],
                                                by: str) -> None:
    frame = pd.DataFrame(rows, columns=["year", "country", "mineral", "china_share"])
    frame = frame.drop_duplicates(["year", "country", "mineral"]).reset_index(drop=True)
    wide = pivot(frame, by, "china_share")
    rest = [c for c in ("year", "country", "mineral") if c != by]
    cells = wide.set_index(rest)
    assert cells.notna().to_numpy().sum() == len(frame)  # no cell made up, none lost
    for row in frame.itertuples(index=False):
        key = tuple(getattr(row, c) for c in rest)
        assert cells.loc[key, str(getattr(row, by))] == row.china_share


def test_bundled_pivot_equals_the_long_rows() -> None:
    rows = critmin.risk("IND", ["graphite", "lithium", "cobalt"], [2021, 2022, 2023])
    wide = pivot(rows, "year", "import_reliance").set_index(["country", "mineral"])
    for row in rows.itertuples(index=False):
        cell = wide.loc[(row.country, row.mineral), str(row.year)]
        assert (math.isnan(cell) and math.isnan(row.import_reliance)) or (
            cell == row.import_reliance)


# -- the command line and the REST API -------------------------------------------------------


def test_cli_pivot_marks_the_graphite_break(cli) -> None:
    res = cli("risk", "-c", "IND", "-m", "graphite", "-y", "2019-2024", "--pivot", "year")
    assert res.code == 0, res.stderr
    header, values = res.stdout.splitlines()  # piped: TSV
    assert header.split("\t")[:8] == ["country", "mineral", "2019", "2020", "2021", "2022",
                                      "2023", "2024"]
    assert "250490" in values.split("\t")[8]
    data = cli("risk", "-c", "IND", "-m", "graphite", "-y", "2023,2024", "--pivot", "year",
               "--json").json()
    assert isinstance(data, list) and len(data) == 1
    assert data[0]["2023"] > 0.5 and data[0]["2024"] < 0.2
    assert BREAK_MARK not in str(data)  # marks are for the terminal only


@pytest.mark.parametrize(("args", "message"), [
    (["risk", "-c", "IND", "-y", "2019-20x"], "cannot read year '2019-20x'"),
    (["risk", "-c", "IND", "-y", "1990-2000"], "no data for 1990-1994; years with data"),
    (["restrict", "--supplier", "CHN", "-m", "graphite", "-y", "2019-2021"],
     "runs on one year, and year '2019-2021' gives 3"),
    (["risk", "-c", "IND", "-y", "2023", "--pivot", "year", "--measure", "answer"],
     "'answer' is not numeric"),
])
def test_cli_bad_years_and_measures_exit_2(cli, args: list[str], message: str) -> None:
    res = cli(*args)
    assert res.code == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_cli_profile_over_years_gives_long_rows(cli) -> None:
    rows = cli("profile", "IND", "-y", "2023:2024", "--json").json()
    assert {r["year"] for r in rows} == {2023, 2024}
    graphite = {r["year"]: r for r in rows if r["mineral"] == "graphite"}
    assert graphite[2023]["series_break"] == ""
    assert "250490" in graphite[2024]["series_break"]


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from critmin.api import create_app

    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


def test_bundled_api_takes_year_ranges_and_pivots(client) -> None:
    body = client.get("/api/v1/risk", params={"country": "IND", "mineral": "graphite",
                                              "year": ["2019:2020", "2023"]})
    assert body.status_code == 200
    assert sorted(r["year"] for r in body.json()["rows"]) == [2019, 2020, 2023]
    wide = client.get("/api/v1/risk", params={"country": "IND", "mineral": "graphite",
                                              "year": "2019-2024", "pivot": "year"}).json()
    assert wide["rows"][0]["2023"] > 0.5 and wide["rows"][0]["2024"] < 0.2
    assert [(b["row"], b["column"]) for b in wide["breaks"]] == [(0, "2024")]
    whole = client.get("/api/v1/risk", params={"year": "2023", "pivot": "year"})
    assert whole.status_code == 422
    assert "pivot needs a country or a mineral" in whole.json()["error"]["message"]


@pytest.mark.parametrize(("params", "message"), [
    ({"year": "2024-2019"}, "runs backwards"),
    ({"year": "2019-2030"}, "years with data: 1995-2025"),
    ({"year": "2023", "pivot": "year", "measure": "answer"}, "'answer' is not numeric"),
])
def test_bundled_api_bad_years_have_the_one_error_shape(client, params: dict[str, str],
                                                       message: str) -> None:
    res = client.get("/api/v1/risk", params={"country": "IND", "mineral": "graphite", **params})
    assert res.status_code == 422
    error = res.json()["error"]
    assert set(error) == {"code", "message", "details", "suggestions"}
    assert error["code"] == "invalid_input" and message in error["message"]
