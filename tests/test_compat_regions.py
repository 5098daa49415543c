"""geopolrisk-py's region rule (compat mode group factors) against a hand-computed case, the
single-country rule, and geopolrisk-py 2.0.1's own numbers for its EU region."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import critmin
from critmin import compute, lcia
from critmin.metrics.geopolrisk import CF_COPPER, compat_geopolrisk, compat_region_geopolrisk
from critmin.store import get_store

DATA = Path(__file__).parent / "data" / "regions"


def small_case() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # region {AAA, BBB}; CCC has a WGI row (risk 0.8), DDD has none (0.5 by the method)
    trade = pd.DataFrame({
        "year": [2022] * 4, "exporter": ["CCC", "DDD", "BBB", "CCC"],
        "importer": ["AAA", "AAA", "AAA", "BBB"], "mineral": ["cobalt"] * 4,
        "value_kusd": [40.0, 10.0, 30.0, 20.0], "qty_t": [4.0, 2.0, 3.0, 1.0]})
    governance = pd.DataFrame({"year": [2022] * 3, "country": ["AAA", "BBB", "CCC"],
                               "risk": [0.1, 0.2, 0.8], "raw": ["value"] * 3})
    production = pd.DataFrame({"year": [2022] * 3, "mineral": ["cobalt"] * 3, "row": [0, 1, 2],
                               "baci_code": [1.0, 3.0, 5.0], "qty_reported": [5.0, 10.0, 5.0],
                               "wmd_unit": ["metr. t"] * 3})
    return trade, governance, production


def members(*iso3: str) -> pd.DataFrame:
    codes = {"AAA": 1, "BBB": 2, "CCC": 3}
    return pd.DataFrame({"group": "R", "year": 2022, "country": list(iso3),
                         "baci_code": [codes[c] for c in iso3]})


def test_the_region_rule_by_hand() -> None:
    trade, governance, production = small_case()
    row = compat_region_geopolrisk(trade, governance, production, members("AAA", "BBB")).iloc[0]
    # numerator: CCC 0.8*4 + DDD 0.5*2 + BBB (a member) 0*3 + CCC 0.8*1 = 5.0
    # quantity 4+2+3+1 = 10 t, the 3 t between members included; value 100 kUSD
    # production: AAA 5 t + BBB none = 5 t; world HHI (25+100+25)/20^2 = 0.375
    assert row["numerator"] == pytest.approx(5.0)
    assert row["total_t"] == pytest.approx(10.0)
    assert row["gpr_production"] == pytest.approx(5.0)
    assert row["wta"] == pytest.approx(5.0 / 15.0)
    assert row["hhi"] == pytest.approx(0.375)
    assert row["price_usd_per_kg"] == pytest.approx(10.0)
    assert row["score"] == pytest.approx(0.375 / 3.0)
    assert row["cf"] == pytest.approx(0.125 * 10.0 / CF_COPPER)


def test_a_region_of_one_country_is_that_country() -> None:
    trade, governance, production = small_case()
    region = compat_region_geopolrisk(trade, governance, production, members("AAA")).iloc[0]
    keys = pd.DataFrame({"year": [2022], "country": ["AAA"], "mineral": ["cobalt"],
                         "baci_code": [1]})
    country = compat_geopolrisk(trade, governance, production, keys).iloc[0]
    for column in ("numerator", "total_t", "gpr_production", "wta", "score", "cf"):
        assert region[column] == pytest.approx(country[column], rel=1e-12), column
    # 3 t from BBB count at BBB's risk when BBB is not a member
    assert region["numerator"] == pytest.approx(0.8 * 4 + 0.5 * 2 + 0.2 * 3)


def test_a_group_of_one_country_is_the_compat_cubes_row() -> None:
    one = pd.DataFrame({"group": ["only-IND"], "year": [2022], "iso3": ["IND"]})
    rows = compute.compat_groups(get_store(), one, [2022], ["cobalt", "lithium", "nickel"])
    cube = critmin.risk("IND", ["cobalt", "lithium", "nickel"], 2022, compat="geopolrisk-py")
    got = rows.set_index("mineral")
    for r in cube.itertuples():
        for column in ("cf", "wta", "price_usd_per_kg", "imports_t", "production_t"):
            assert got.loc[r.mineral, column] == pytest.approx(getattr(r, column), rel=1e-12)


def test_eu27_matches_geopolrisk_pys_own_eu_region() -> None:
    reference = pd.read_csv(DATA / "geopolrisk_py_2.0.1_eu.csv")
    names = get_store().table("gpr_hs_map")[["reference_id", "mineral"]].drop_duplicates()
    reference = reference.merge(names, left_on="material", right_on="reference_id",
                                validate="m:1")
    # aluminium and rare earths included: geopolrisk-py 2.0.1 computes both for its EU
    assert {"aluminium", "rare-earths"} <= set(reference["mineral"])
    table = lcia.characterisation_factors("EU27", sorted(set(reference["mineral"])),
                                          sorted(set(reference["year"])),
                                          compat="geopolrisk-py")
    both = reference.merge(table, on=["year", "mineral"], suffixes=("_ref", ""),
                           validate="1:1")
    assert len(both) == len(reference)
    for ours, theirs in [("cf", "cf_ref"), ("score", "score_ref"), ("hhi", "hhi_ref"),
                         ("wta", "wta"), ("price_usd_per_kg", "price")]:
        assert both[ours].to_numpy() == pytest.approx(both[theirs].to_numpy(), rel=1e-9), ours


def test_the_region_rule_differs_from_the_default() -> None:
    default = lcia.characterisation_factors("EU27", "cobalt", 2022).iloc[0]
    peer = lcia.characterisation_factors("EU27", "cobalt", 2022, compat="geopolrisk-py").iloc[0]
    assert peer["method"] == "critmin|GeoPolRisk|EU27|2022|geopolrisk-py"
    assert default["cf"] != pytest.approx(peer["cf"], rel=1e-3)


def test_risk_as_group_in_compat_mode_is_the_region_rule() -> None:
    reference = pd.read_csv(DATA / "geopolrisk_py_2.0.1_eu.csv")
    names = get_store().table("gpr_hs_map")[["reference_id", "mineral"]].drop_duplicates()
    reference = reference.merge(names, left_on="material", right_on="reference_id",
                                validate="m:1")
    rows = reference[reference["mineral"].isin(["cobalt", "lithium"])
                     & (reference["year"] == 2022)]
    assert len(rows) == 2
    got = critmin.risk("EU27", ["cobalt", "lithium"], 2022, compat="geopolrisk-py",
                       as_group=True)
    eu = got[got["country"] == "EU27"].merge(rows, on=["year", "mineral"],
                                             suffixes=("", "_ref"), validate="1:1")
    assert len(eu) == 2
    assert eu["cf"].to_numpy() == pytest.approx(eu["cf_ref"].to_numpy(), rel=1e-9)
    assert eu["score"].to_numpy() == pytest.approx(eu["score_ref"].to_numpy(), rel=1e-9)
    # the members' own rows are there too, as without as_group
    plain = critmin.risk("EU27", ["cobalt", "lithium"], 2022, compat="geopolrisk-py")
    assert len(got) == len(plain) + 2 and list(got.columns) == list(plain.columns)
