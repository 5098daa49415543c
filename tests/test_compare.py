"""Groups side by side (``critmin compare``): each group read as one importer, its China
share, reliance and top supplier per mineral, checked against the partner shares."""

from __future__ import annotations

import pandas as pd
import pytest

import critmin
from critmin.compare import compare, compare_long
from critmin.errors import InvalidInput, NotFound
from critmin.query import group_membership

MINERALS = ["rare-earths", "lithium", "graphite", "cobalt"]


def china_share_outside(group: str, mineral: str, year: int) -> float:
    """China's share of what the group's members buy from outside the group, from the
    partner table (the shares behind the cube's china_share)."""
    _, members = group_membership(group, [year])
    inside = set(members["iso3"])
    rows = critmin.partners(sorted(inside), mineral, year)
    bought = rows[(rows["stage"] == "headline") & ~rows["exporter"].isin(inside)]
    return float(bought.loc[bought["exporter"] == "CHN", "qty_basis_t"].sum()
                 / bought["qty_basis_t"].sum())


def test_four_minerals_side_by_side_in_one_call() -> None:
    wide = compare(["G7", "BRICS-CHN"], MINERALS, 2023)
    assert wide["mineral"].tolist() == MINERALS  # in the order asked
    assert list(wide.columns) == [
        "year", "mineral", "G7 china_share", "G7 import_reliance", "G7 top_supplier",
        "G7 top_supplier_share", "BRICS-CHN china_share", "BRICS-CHN import_reliance",
        "BRICS-CHN top_supplier", "BRICS-CHN top_supplier_share"]
    for group in ("G7", "BRICS-CHN"):
        shares = wide[f"{group} china_share"]
        assert ((shares > 0) & (shares < 1)).all(), group
    assert wide.attrs["units"]["G7 china_share"] == "share"


def test_brics_without_china_counts_china_as_an_outside_supplier() -> None:
    _, members = group_membership("BRICS-CHN", [2023])
    assert "CHN" not in set(members["iso3"])
    assert {"BRA", "IND", "RUS", "ZAF"} <= set(members["iso3"])
    rows = compare_long(["BRICS-CHN"], "rare-earths", 2023).iloc[0]
    assert rows["top_supplier"] == "CHN"
    assert rows["china_share"] == pytest.approx(china_share_outside("BRICS-CHN",
                                                                    "rare-earths", 2023))
    assert rows["china_share"] > 0.5


@pytest.mark.parametrize("mineral", MINERALS)
def test_each_groups_china_share_is_what_the_members_buy_from_outside(mineral: str) -> None:
    rows = compare_long(["G7", "BRICS-CHN"], mineral, 2023).set_index("group")
    for group in ("G7", "BRICS-CHN"):
        assert rows.loc[group, "china_share"] == pytest.approx(
            china_share_outside(group, mineral, 2023), rel=1e-9)


def test_plain_countries_and_inline_groups_compare_too() -> None:
    wide = compare(["Quad=USA,JPN,IND,AUS", "IND"], "graphite", 2023)
    india = critmin.risk("IND", "graphite", 2023).iloc[0]
    assert wide.at[0, "IND china_share"] == india["china_share"]
    assert wide.at[0, "IND import_reliance"] == india["import_reliance"]
    assert 0 < wide.at[0, "Quad china_share"] < 1


def test_years_give_one_row_per_mineral_and_year() -> None:
    wide = compare(["G7", "BRICS-CHN"], ["graphite", "cobalt"], [2022, 2023])
    assert list(zip(wide["year"], wide["mineral"], strict=True)) == [
        (2022, "graphite"), (2022, "cobalt"), (2023, "graphite"), (2023, "cobalt")]
    assert compare(["G7"], "graphite")["year"].tolist() == [critmin.default_year()]


@pytest.mark.parametrize(("groups", "error", "message"), [
    (["G7", "G7"], InvalidInput, "G7 is given twice"),
    (["G7", "BRICZ"], NotFound, "BRICZ"),
    ([], InvalidInput, "empty list"),
])
def test_bad_groups_are_refused(groups: list[str], error: type, message: str) -> None:
    with pytest.raises(error) as err:
        compare(groups, "graphite", 2023)
    assert message in str(err.value)


def test_cli_compare_in_one_command(cli) -> None:
    res = cli("compare", "G7", "BRICS-CHN", "-m", "rare-earths,lithium,graphite,cobalt",
              "--json")
    assert res.code == 0, res.stderr
    rows = pd.DataFrame(res.json())
    assert rows["mineral"].tolist() == MINERALS
    assert rows["BRICS-CHN china_share"].between(0, 1, inclusive="neither").all()
    assert rows["G7 china_share"].between(0, 1, inclusive="neither").all()
    repeated = cli("compare", "G7", "BRICS-CHN", "-m", "graphite", "-m", "cobalt", "--csv")
    assert repeated.code == 0, repeated.stderr
    assert repeated.stdout.splitlines()[0].startswith("year,mineral,G7 china_share")
    pivoted = cli("compare", "G7", "BRICS-CHN", "-m", "graphite", "-y", "2022-2023",
                  "--pivot", "year", "--json").json()
    assert [(r["mineral"], r["group"]) for r in pivoted] == [("graphite", "BRICS-CHN"),
                                                             ("graphite", "G7")]
    bad = cli("compare", "G7", "BRICS-CHN", "-m", "graphite", "-y", "2024-2019")
    assert bad.code == 2 and "runs backwards" in bad.stderr


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from critmin.api import create_app

    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


def test_api_compare(client) -> None:
    res = client.get("/api/v1/compare", params={"groups": "G7,BRICS-CHN",
                                                "minerals": ",".join(MINERALS)})
    assert res.status_code == 200
    body = res.json()
    assert body["groups"] == ["G7", "BRICS-CHN"]
    assert [r["mineral"] for r in body["rows"]] == MINERALS
    python = compare(["G7", "BRICS-CHN"], MINERALS)
    assert [r["BRICS-CHN china_share"] for r in body["rows"]] == pytest.approx(
        python["BRICS-CHN china_share"].tolist())
    inline = client.get("/api/v1/compare", params={"groups": ["G7", "Quad=USA,JPN,IND,AUS"],
                                                   "minerals": "graphite",
                                                   "year": "2022-2023"})
    assert inline.status_code == 200
    assert [r["year"] for r in inline.json()["rows"]] == [2022, 2023]
    assert "Quad china_share" in inline.json()["rows"][0]


@pytest.mark.parametrize(("params", "message"), [
    ({"minerals": "graphite"}, "query.groups"),
    ({"groups": "G7", "minerals": "graphite", "year": "2030"}, "years with data"),
    ({"groups": "G7,BRICZ", "minerals": "graphite"}, "BRICZ"),
    ({"groups": "G7", "minerals": "unobtainium"}, "unobtainium"),
])
def test_api_compare_errors_have_the_one_shape(client, params: dict[str, str],
                                               message: str) -> None:
    res = client.get("/api/v1/compare", params=params)
    assert res.status_code in (404, 422)
    error = res.json()["error"]
    assert set(error) == {"code", "message", "details", "suggestions"}
    assert message in error["message"]
