"""Net import reliance as an interval (critmin.metrics.bounds) and the HS 2022 top-200 extract
it reads (critmin.sources.baci_hs22_top).

The hand-computed case: heading 7502 in 2023, content 0.5-1.0 t Ni per t; listed flows
AUS->CHN 100 t, BRA->CHN 50 t, CHN->AUS 20 t; world 200 t, so a remainder of 30 t; refined
production CHN 400 t, AUS 300 t, BRA 100 t, IND 50 t (IND has no listed flow).

- CHN: M 150 x 0.5 = 75 to (150 + 30) x 1 = 180; X 20 x 0.5 = 10 to 20 + 30 = 50.
  Low (75 - 50) / (400 + 75 - 50) = 25/425; high (180 - 10) / (400 + 180 - 10) = 170/570.
- AUS: M 10 to 50; X 50 to 130. Low (10 - 130) / (300 + 10 - 130) = -120/180; high
  (50 - 50) / 300 = 0.
- BRA: M 0 to 30; X 25 to 80. Low -80 / 20 = -4; high (30 - 25) / (100 + 30 - 25) = 5/105.
- IND: M 0 to 30; X 0 to 30. Low -30 / 20 = -1.5; high 30 / 80 = 0.375.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin import catalog, schema
from critmin.errors import InvalidInput
from critmin.metrics import bounds, cube
from critmin.metrics.bounds import NARROW, reliance_bounds, reliance_label
from critmin.sources import baci_hs22_top, registry
from critmin.sources.validate import Known

SOURCE_DATA = Path(__file__).resolve().parents[1] / "source-data"
TOP200 = SOURCE_DATA / "baci-hs22-top200"
NICKEL = pd.DataFrame({"heading": ["7502"], "mineral": ["nickel"], "stage": ["refined"],
                       "content_low": [0.5], "content_high": [1.0]})


def _flows(rows: list[tuple[str, str, float]], year: int = 2023,
           heading: str = "7502") -> pd.DataFrame:
    return pd.DataFrame({"year": year, "exporter": [r[0] for r in rows],
                         "importer": [r[1] for r in rows], "heading": heading,
                         "qty_t": [r[2] for r in rows]})


def _totals(world_t: float, listed_t: float, year: int = 2023,
            heading: str = "7502") -> pd.DataFrame:
    return pd.DataFrame({"year": [year], "heading": [heading], "qty_t": [world_t],
                         "listed_qty_t": [listed_t]})


def _production(made: dict[str, float], mineral: str = "nickel",
                year: int = 2023) -> pd.DataFrame:
    return pd.DataFrame({"year": year, "country": list(made), "mineral": mineral,
                         "stage": "refined", "qty_t": list(made.values())})


FLOWS = _flows([("AUS", "CHN", 100.0), ("BRA", "CHN", 50.0), ("CHN", "AUS", 20.0)])
MADE = _production({"CHN": 400.0, "AUS": 300.0, "BRA": 100.0, "IND": 50.0})


@pytest.fixture(scope="module")
def case() -> pd.DataFrame:
    return reliance_bounds(FLOWS, _totals(200.0, 170.0), NICKEL, MADE).set_index("country")


def test_trade_bounds_are_listed_flows_and_the_remainder_at_the_content_bounds(
        case: pd.DataFrame) -> None:
    trade = ["imports_low_t", "imports_high_t", "exports_low_t", "exports_high_t"]
    assert case.loc[["CHN", "AUS", "BRA", "IND"], trade].values.tolist() == [
        [75.0, 180.0, 10.0, 50.0], [10.0, 50.0, 50.0, 130.0], [0.0, 30.0, 25.0, 80.0],
        [0.0, 30.0, 0.0, 30.0]]


def test_the_interval_is_reliance_at_its_two_corners(case: pd.DataFrame) -> None:
    expected = {"CHN": (25 / 425, 170 / 570), "AUS": (-120 / 180, 0.0),
                "BRA": (-4.0, 5 / 105), "IND": (-1.5, 0.375)}
    for country, (low, high) in expected.items():
        row = case.loc[country]
        assert row["reliance_low"] == pytest.approx(low)
        assert row["reliance_high"] == pytest.approx(high)
        assert row["interval_width"] == pytest.approx(high - low)
    assert case["reliance_label"].to_dict() == {
        "AUS": "-67 to 0 %", "BRA": "-400 to 5 %", "CHN": "6-30 %", "IND": "-150 to 38 %"}
    assert case["interval_status"].to_dict() == {
        "AUS": "net exporter", "BRA": "net importer or exporter", "CHN": "net importer",
        "IND": "net importer or exporter"}
    assert (case["mineral"] == "nickel").all() and (case["stage"] == "refined").all()
    assert case.attrs["units"]["imports_low_t"] == "t (basis)"


def test_an_end_where_supply_may_vanish_is_missing_and_says_so() -> None:
    out = reliance_bounds(FLOWS, _totals(200.0, 170.0), NICKEL,
                          _production({"CHN": 400.0, "BRA": 40.0, "AUS": 0.0})
                          ).set_index("country")
    # BRA: supply 40 + 0 - 80 < 0 at the low corner; 40 + 30 - 25 = 45 at the high one
    assert np.isnan(out.loc["BRA", "reliance_low"])
    assert out.loc["BRA", "reliance_high"] == pytest.approx(5 / 45)
    assert out.loc["BRA", "reliance_label"] == "≤ 11 %"
    assert out.loc["BRA", "interval_status"] == "exports may exceed supply"
    # AUS: no production, exports 50 at least, imports 50 at most: never a positive supply
    assert out.loc["AUS", ["reliance_low", "reliance_high"]].isna().all()
    assert out.loc["AUS", "interval_status"] == "exports exceed supply"


def test_no_production_and_absent_countries_are_withheld() -> None:
    out = reliance_bounds(FLOWS, _totals(200.0, 170.0), NICKEL,
                          _production({"CHN": 400.0, "NOR": 90.0}), absent=["NOR", "BRA"]
                          ).set_index("country")
    assert out.loc["AUS", "interval_status"] == "no production data"
    assert np.isnan(out.loc["AUS", "reliance_high"]) and out.loc["AUS", "imports_low_t"] == 10
    for country in ("NOR", "BRA"):
        assert out.loc[country, "interval_status"] == "not in the trade extract"
        assert out.loc[country, ["imports_low_t", "reliance_high"]].isna().all()
    assert out.loc["CHN", "reliance_low"] == pytest.approx(25 / 425)


def test_a_flow_without_quantity_counts_zero_low_and_its_value_high() -> None:
    flows = pd.DataFrame({"year": 2023, "exporter": ["AUS", "BRA", "CAN"],
                          "importer": ["CHN", "CHN", "USA"], "heading": "7502",
                          "qty_t": [100.0, None, 300.0], "value_usd": [2e6, 1e6, 6e6]})
    contents = NICKEL.assign(content_low=1.0)
    out = reliance_bounds(flows, _totals(420.0, 400.0), contents, MADE).set_index("country")
    # median unit value 20,000 USD/t: 1e6 USD holds at most 1e6 x 10 / 20,000 = 500 t
    assert out.loc["CHN", ["imports_low_t", "imports_high_t"]].tolist() == [100.0, 620.0]
    no_value = reliance_bounds(flows.drop(columns="value_usd"), _totals(420.0, 400.0),
                               contents, MADE).set_index("country")
    assert np.isnan(no_value.loc["CHN", "imports_high_t"])
    assert np.isnan(no_value.loc["BRA", "exports_high_t"])
    assert no_value.loc["CHN", "interval_status"] == "trade bound missing"
    # the low end stands: (100 - 20) / (400 + 100 - 20)
    assert no_value.loc["CHN", "reliance_low"] == pytest.approx(80 / 480)
    assert no_value.loc["CHN", "reliance_label"] == "≥ 17 %"


def test_a_mineral_stage_with_a_heading_missing_that_year_has_no_high_end() -> None:
    two = pd.concat([NICKEL, NICKEL.assign(heading="7501")], ignore_index=True)
    out = reliance_bounds(FLOWS, _totals(200.0, 170.0), two, MADE).set_index("country")
    assert out.loc["CHN", "imports_low_t"] == 75.0
    assert np.isnan(out.loc["CHN", "imports_high_t"])


def test_inputs_are_checked_with_the_offending_rows_named() -> None:
    with pytest.raises(InvalidInput,
                       match=r"2 rows sharing .*e\.g\. 2023 CHN nickel refined: keep one"):
        reliance_bounds(FLOWS, _totals(200.0, 170.0), NICKEL,
                        pd.concat([MADE, MADE.head(1)], ignore_index=True))
    with pytest.raises(InvalidInput, match=r"content_low <= content_high.*7502"):
        reliance_bounds(FLOWS, _totals(200.0, 170.0), NICKEL.assign(content_low=1.5), MADE)
    with pytest.raises(InvalidInput, match=r"production lacks column\(s\) \['qty_t'\]"):
        reliance_bounds(FLOWS, _totals(200.0, 170.0), NICKEL, MADE.drop(columns="qty_t"))


def test_the_label_shows_a_narrow_interval_as_its_midpoint() -> None:
    low = pd.Series([0.20, 0.20, 0.995, np.nan, 0.3, np.nan])
    high = low + pd.Series([NARROW - 1e-6, NARROW, 0.0, np.nan, np.nan, np.nan])
    high.iloc[3] = 0.4
    assert reliance_label(low, high).tolist() == ["25 %", "20-30 %", "100 %", "≤ 40 %",
                                                 "≥ 30 %", ""]


def test_constants_follow_the_cube_and_the_reader() -> None:
    assert bounds.ROUNDING == cube.ROUNDING
    assert bounds.UNIT_VALUE_RANGE == baci_hs22_top.UNIT_VALUE_RANGE
    assert schema.key("reliance_bounds") == bounds.KEY


trades = st.lists(st.tuples(st.sampled_from(["AUS", "BRA", "CHN"]),
                            st.sampled_from(["AUS", "BRA", "CHN"]),
                            st.floats(0, 1e4)), min_size=1, max_size=6)


@settings(max_examples=25)
@given(rows=trades, rest=st.floats(0, 1e4), low=st.floats(0.05, 1.0), spread=st.floats(0, 1),
       made=st.lists(st.floats(0, 1e5), min_size=3, max_size=3))
def test_low_never_exceeds_high(rows: list[tuple[str, str, float]], rest: float, low: float,
                                spread: float, made: list[float]) -> None:
    flows = _flows([r for r in rows if r[0] != r[1]] or [("AUS", "BRA", 1.0)])
    flows = flows.groupby(["year", "exporter", "importer", "heading"], as_index=False).sum()
    listed = float(flows["qty_t"].sum())
    contents = NICKEL.assign(content_low=low, content_high=min(1.0, low + spread))
    out = reliance_bounds(flows, _totals(listed + rest, listed), contents,
                          _production(dict(zip(["AUS", "BRA", "CHN"], made, strict=True))))
    assert (out["imports_low_t"] <= out["imports_high_t"] + 1e-9).all()
    assert (out["exports_low_t"] <= out["exports_high_t"] + 1e-9).all()
    both = out.dropna(subset=["reliance_low", "reliance_high"])
    assert (both["reliance_low"] <= both["reliance_high"] + 1e-9).all()
    assert (both["reliance_high"] <= 1 + 1e-9).all()
    shuffled = reliance_bounds(flows.iloc[::-1], _totals(listed + rest, listed), contents,
                               _production(dict(zip(["AUS", "BRA", "CHN"], made,
                                                    strict=True))))
    pd.testing.assert_frame_equal(out, shuffled)


@settings(max_examples=25)
@given(rows=trades, content=st.floats(0.05, 1.0),
       made=st.lists(st.floats(1, 1e5), min_size=3, max_size=3))
def test_without_remainder_or_content_range_the_interval_is_the_point(
        rows: list[tuple[str, str, float]], content: float, made: list[float]) -> None:
    flows = _flows([r for r in rows if r[0] != r[1]] or [("AUS", "BRA", 1.0)])
    flows = flows.groupby(["year", "exporter", "importer", "heading"], as_index=False).sum()
    listed = float(flows["qty_t"].sum())
    contents = NICKEL.assign(content_low=content, content_high=content)
    production = _production(dict(zip(["AUS", "BRA", "CHN"], made, strict=True)))
    out = reliance_bounds(flows, _totals(listed, listed), contents, production)
    out = out.set_index("country")
    for country, p in zip(["AUS", "BRA", "CHN"], made, strict=True):
        m = flows.loc[flows["importer"] == country, "qty_t"].sum() * content
        x = flows.loc[flows["exporter"] == country, "qty_t"].sum() * content
        supply = p + m - x
        row = out.loc[country]
        if supply > 1e-6 * (p + m + x):
            point = (m - x) / supply
            assert row["reliance_low"] == pytest.approx(point, rel=1e-9, abs=1e-12)
            assert row["reliance_high"] == pytest.approx(point, rel=1e-9, abs=1e-12)
            assert row["interval_width"] == pytest.approx(0.0, abs=1e-12)


# -- the real files ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def top() -> baci_hs22_top.TopFlows:
    known = Known(countries=frozenset(catalog.load_countries()["iso3"]))
    return baci_hs22_top.read_top_flows(TOP200 / "flows.json", known)


@pytest.fixture(scope="module")
def absent() -> list[str]:
    return baci_hs22_top.absent_countries(TOP200 / "countries.json", catalog.load_countries())


def test_the_extract_is_pinned_and_read_whole(top: baci_hs22_top.TopFlows) -> None:
    for key in ("baci-hs22-top200", "baci-hs22-top200-countries"):
        registry.source_file(SOURCE_DATA, key)  # raises unless the sha256 matches
    assert registry.reader("baci-hs22-top").tables == ("heading_flows", "heading_totals")
    assert len(top.flows) == 9600 and len(top.totals) == 48
    assert list(top.flows.columns) == schema.public_columns("heading_flows")
    assert list(top.totals.columns) == schema.public_columns("heading_totals")
    assert not top.flows.duplicated(schema.key("heading_flows")).any()
    assert top.coverage.rows_read == top.coverage.rows_kept == 9600
    assert sorted(top.coverage.notes.values()) == [10, 18]
    assert set(top.flows["heading"]) == set(baci_hs22_top.HEADINGS)
    nickel23 = top.totals.set_index(["year", "heading"]).loc[(2023, "7502")]
    assert nickel23[["value_usd", "qty_t", "pairs"]].tolist() == [13222948624.0, 567071.0, 1032]


def test_a_thousandfold_quantity_slip_is_read_as_missing(top: baci_hs22_top.TopFlows) -> None:
    flows = top.flows.set_index(["year", "exporter", "importer", "heading"])
    assert np.isnan(flows.loc[(2024, "ESP", "MEX", "7901"), "qty_t"])  # 5.0 Mt at 0.013 USD/kg
    zinc24 = top.totals.set_index(["year", "heading"]).loc[(2024, "7901")]
    assert zinc24["qty_t"] == 9333918 - 5017541  # the extract's total less the slip
    assert zinc24["qty_t"] - zinc24["listed_qty_t"] == 367281


def test_the_absent_countries_are_those_off_the_extracts_map(absent: list[str]) -> None:
    assert {"FRA", "NOR", "SGP", "HKG", "BHR", "MLT"} <= set(absent)
    assert not {"CHN", "USA", "DEU", "IND", "NLD", "TWN"} & set(absent)
    assert len(absent) == 77


def test_chinas_lower_bound_is_its_listed_tonnes_at_the_least_content(
        top: baci_hs22_top.TopFlows, absent: list[str]) -> None:
    contents = catalog.load("heading_contents")
    out = reliance_bounds(top.flows, top.totals, contents,
                          _production({"CHN": 970000.0}), absent)
    row = out.set_index(["year", "country", "mineral"]).loc[(2023, "CHN", "nickel")]
    listed = top.flows.query("year == 2023 and importer == 'CHN' and heading == '7502'")
    low = contents.set_index("heading").loc["7502", "content_low"]
    assert row["imports_low_t"] == pytest.approx(listed["qty_t"].sum() * low)
    assert row["imports_low_t"] == pytest.approx(76377 * 0.38)
    rest = top.totals.query("year == 2023 and heading == '7502'")
    assert row["imports_high_t"] == pytest.approx(
        listed["qty_t"].sum() + float((rest["qty_t"] - rest["listed_qty_t"]).iloc[0]))


def test_the_complete_2024_release_lies_within_the_bounds_among_covered_countries(
        top: baci_hs22_top.TopFlows, absent: list[str]) -> None:
    """HS 2017 refined nickel (750210) and copper cathodes (740311) of 2024, every pair, are
    parts of headings 7502 and 7403: each country's tonnes stay under its upper bound (gross,
    content 1), unless trade with a country off the extract's map is counted (the
    Netherlands' nickel from Norway)."""
    full = pd.read_parquet(SOURCE_DATA / "baci-hs17-extract"
                           / "baci_hs17_v202601_2024_30codes.parquet")
    full = full.replace({"exporter": baci_hs22_top.BACI_ISO3,
                         "importer": baci_hs22_top.BACI_ISO3})
    full = full[full["exporter"] != full["importer"]]
    gross = pd.DataFrame({"heading": ["7502", "7403"], "mineral": ["nickel", "copper"],
                          "stage": "refined", "content_low": 1.0, "content_high": 1.0})
    out = reliance_bounds(top.flows, top.totals, gross, _production({}), absent)
    out = out[out["year"] == 2024].set_index(["mineral", "country"])
    totals = top.totals.set_index(["year", "heading"])
    for code, mineral, heading in (("750210", "nickel", "7502"), ("740311", "copper", "7403")):
        rest = totals.loc[(2024, heading), "qty_t"] - totals.loc[(2024, heading), "listed_qty_t"]
        pairs = full[full["hs6"] == code]
        inside = pairs[~pairs["exporter"].isin(absent) & ~pairs["importer"].isin(absent)]
        for side, bound in (("importer", "imports_high_t"), ("exporter", "exports_high_t")):
            true = inside.groupby(side)["qty_t"].sum()
            high = out.loc[mineral, bound].reindex(true.index).fillna(rest)
            assert (true <= high + 1.0).all(), (code, side, true[true > high + 1.0])
    nickel = full[full["hs6"] == "750210"]
    into_nld = nickel.loc[nickel["importer"] == "NLD", "qty_t"].sum()
    assert into_nld > out.loc[("nickel", "NLD"), "imports_high_t"] + 5000


def test_the_share_of_world_trade_the_extract_cannot_see(absent: list[str]) -> None:
    full = pd.read_parquet(SOURCE_DATA / "baci-hs17-extract"
                           / "baci_hs17_v202601_2024_30codes.parquet")
    full = full[full["hs6"].isin(registry.BOUND_CHECK_CODES)]
    share = baci_hs22_top.outside_share(full, absent).round(3).to_dict()
    assert share == {"740311": 0.028, "750210": 0.238}


def test_heading_contents_are_sound_and_cited() -> None:
    contents = catalog.load("heading_contents")
    minerals = set(catalog.load_minerals()["mineral"])
    assert set(contents["mineral"]) <= minerals
    assert set(contents["stage"]) <= set(schema.STAGES)
    assert (contents["content_low"] > 0).all()
    assert (contents["content_low"] <= contents["content_high"]).all()
    assert (contents["content_high"] <= 1.0).all()
    assert set(contents["heading"]) <= set(baci_hs22_top.HEADINGS)
    assert "7202" not in set(contents["heading"])  # ferro-alloys: several minerals share it
    assert contents["source"].str.contains("HS 2022 Chapter").all()
    assert contents["source"].str.contains("Section XV Note 5").all()
    assert not contents.duplicated(schema.key("heading_contents")).any()
