"""Hand-computed concentration and cube metrics, and properties of the concentration."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from critmin.metrics.concentration import concentration
from critmin.metrics.cube import CubeInputs, compute_cube
from critmin.metrics.geopolrisk import CF_COPPER
from critmin.metrics.groups import Groups
from critmin.store.engine import DuckDBEngine
from critmin.years import latest_incomplete_year

# -- concentration -----------------------------------------------------------------------------


def test_concentration_hand_computed() -> None:
    frame = pd.DataFrame({
        "m": ["x"] * 6 + ["y"] * 2,
        "who": ["A", "B", "CHN", "D", "A", "E", "A", "B"],
        "q": [30.0, 20.0, 25.0, 10.0, 10.0, 0.0, 5.0, np.nan],
    })
    out = concentration(frame, ["m"], "who", "q").set_index("m")
    # x: A 40, CHN 25, B 20, D 10 (E has 0: not counted) -> total 95
    s = np.array([40, 25, 20, 10]) / 95
    assert out.loc["x", "total"] == 95
    assert out.loc["x", "n"] == 4
    assert out.loc["x", "hhi"] == pytest.approx((s ** 2).sum(), rel=1e-12)
    assert out.loc["x", "top3_share"] == pytest.approx(85 / 95, rel=1e-12)
    assert out.loc["x", "top"] == "A"
    assert out.loc["x", "top_share"] == pytest.approx(40 / 95, rel=1e-12)
    assert out.loc["x", "named_share"] == pytest.approx(25 / 95, rel=1e-12)
    # y: only A counts (B's quantity is missing), no China
    assert out.loc["y", "hhi"] == 1.0 and out.loc["y", "n"] == 1
    assert out.loc["y", "named_share"] == 0.0
    assert out.loc["y", "top"] == "A"


def test_concentration_named_and_empty_groups() -> None:
    frame = pd.DataFrame({"m": ["x", "x", "z"], "who": ["USA", "CAN", "USA"], "q": [1.0, 3.0, 0.0]})
    out = concentration(frame, ["m"], "who", "q", named="USA")
    assert list(out["m"]) == ["x"]  # a group with no positive quantity is left out
    assert out["named_share"].iloc[0] == 0.25
    assert out["hhi"].iloc[0] == pytest.approx(0.625)


def test_concentration_ties_broken_by_name() -> None:
    frame = pd.DataFrame({"m": ["x"] * 2, "who": ["B", "A"], "q": [5.0, 5.0]})
    out = concentration(frame, ["m"], "who", "q")
    assert out["top"].iloc[0] == "A" and out["hhi"].iloc[0] == 0.5


entities = st.sampled_from(["CHN", "AUS", "CHL", "USA", "ARG", "ZWE", "BRA"])
rows_strategy = st.lists(
    st.tuples(st.sampled_from(["g1", "g2"]), entities, st.integers(min_value=0, max_value=10_000)),
    min_size=1, max_size=40,
)


def frame_of(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["m", "who", "q"]).astype({"q": "float64"})


@given(rows_strategy)
def test_hhi_bounds_and_shares_sum_to_one(rows: list[tuple[str, str, int]]) -> None:
    frame = frame_of(rows)
    out = concentration(frame, ["m"], "who", "q")
    for row in out.itertuples(index=False):
        assert 1.0 / row.n - 1e-12 <= row.hhi <= 1.0 + 1e-12
        assert row.top_share - 1e-12 <= row.top3_share <= 1.0 + 1e-12
        assert row.hhi <= row.top_share + 1e-12
        assert 0.0 <= row.named_share <= 1.0
    positive = frame[frame["q"] > 0]
    assert set(out["m"]) == set(positive["m"])
    per_entity = positive.groupby(["m", "who"], as_index=False)["q"].sum()
    s = pd.Series(Groups(per_entity, ["m"]).share(per_entity["q"]))
    sums = s.groupby(per_entity["m"]).sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-12)
    assert (out.set_index("m")["n"] == per_entity.groupby("m").size()).all()


@given(rows_strategy, st.randoms(use_true_random=False))
def test_concentration_independent_of_row_order(rows, rng) -> None:
    frame = frame_of(rows)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    a = concentration(frame, ["m"], "who", "q").sort_values("m").reset_index(drop=True)
    b = concentration(frame_of(shuffled), ["m"], "who", "q").sort_values("m").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


@given(rows_strategy, st.lists(st.tuples(st.sampled_from(["g1", "g2"]), entities), max_size=10))
def test_zero_quantity_rows_change_nothing(rows, zeros) -> None:
    a = concentration(frame_of(rows), ["m"], "who", "q").sort_values("m").reset_index(drop=True)
    extra = rows + [(m, w, 0) for m, w in zeros]
    b = concentration(frame_of(extra), ["m"], "who", "q").sort_values("m").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


# -- the cube on a tiny hand-built world ----------------------------------------------------------

Y = 2020


def cube_of(flows: pd.DataFrame, product_minerals: pd.DataFrame, production: pd.DataFrame,
            governance: pd.DataFrame, incomplete_year: int | None = None) -> pd.DataFrame:
    """The cube of hand-built tables, through the real aggregation engine."""
    years = sorted(int(y) for y in flows["year"].unique())
    pairs = DuckDBEngine.over_frame(flows).aggregate(product_minerals, years)
    return compute_cube(CubeInputs(pairs, production, governance, incomplete_year))


def tiny_inputs(**overrides) -> dict:
    links = pd.DataFrame({
        "hs6": ["000001", "000002", "000003"],
        "mineral": ["m1", "m1", "m2"],
        "stage": ["ore", "refined", "ore"],
        "content_factor": [0.5, 1.0, np.nan],  # 000003 has no content factor
    })
    flows = pd.DataFrame(
        [
            # exporter, importer, hs6, value kUSD, gross t
            ("CHN", "AAA", "000001", 100.0, 100.0),  # basis 50
            ("BBB", "AAA", "000002", 40.0, 20.0),  # basis 20
            ("CHN", "AAA", "000002", 10.0, np.nan),  # value only: no tonnes
            ("DDD", "AAA", "000002", 5.0, 10.0),  # basis 10, exporter without governance
            ("AAA", "BBB", "000001", 30.0, 10.0),  # basis 5
            ("CHN", "AAA", "000003", 10.0, 5.0),  # m2, unfactored
        ],
        columns=["exporter", "importer", "hs6", "value_kusd", "qty_t"],
    ).assign(year=Y)
    production = pd.DataFrame(
        [("CHN", "m1", 600.0), ("BBB", "m1", 300.0), ("AAA", "m1", 100.0),
         ("CHN", "m2", 50.0), ("AAA", "m2", 10.0), ("AAA", "m3", 7.0)],
        columns=["country", "mineral", "qty_t"],
    ).assign(year=Y, stage="ore")
    governance = pd.DataFrame(
        [("CHN", 0.6), ("BBB", 0.2), ("AAA", np.nan)], columns=["country", "risk"]
    ).assign(year=Y)
    args = dict(flows=flows, product_minerals=links, production=production, governance=governance)
    args.update(overrides)
    return args


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    return cube_of(**tiny_inputs()).set_index(["country", "mineral"])


def flags(cube: pd.DataFrame, key: tuple[str, str]) -> set[str]:
    return set(str(cube.loc[key, "flags"]).split(";")) - {""}


def test_cube_rows(tiny: pd.DataFrame) -> None:
    assert sorted(tiny.index) == sorted([
        ("AAA", "m1"), ("BBB", "m1"), ("CHN", "m1"), ("DDD", "m1"),
        ("AAA", "m2"), ("CHN", "m2"), ("AAA", "m3"),
    ])
    assert (tiny["year"] == Y).all()


def test_cube_trade_and_reliance(tiny: pd.DataFrame) -> None:
    a = tiny.loc[("AAA", "m1")]
    assert a["imports_t"] == 130.0
    assert a["imports_basis_t"] == 80.0
    assert a["imports_kusd"] == 155.0
    assert a["exports_t"] == 10.0 and a["exports_basis_t"] == 5.0
    assert a["production_t"] == 100.0
    assert a["apparent_supply_t"] == 175.0
    assert a["import_reliance"] == pytest.approx(75 / 175, rel=1e-12)
    assert a["reliance_status"] == "net importer"
    assert a["n_suppliers"] == 3


def test_cube_net_exporter(tiny: pd.DataFrame) -> None:
    b = tiny.loc[("BBB", "m1")]
    # M = 5, X = 20, P = 300
    assert b["import_reliance"] == pytest.approx(-15 / 285, rel=1e-12)
    assert b["import_reliance"] < 0
    assert b["reliance_status"] == "net exporter"
    chn = tiny.loc[("CHN", "m1")]
    assert chn["imports_basis_t"] == 0.0 and chn["exports_basis_t"] == 50.0
    assert chn["import_reliance"] == pytest.approx(-50 / 550, rel=1e-12)
    assert chn["reliance_status"] == "net exporter"
    assert chn["wta"] == 0.0


def test_cube_geopolrisk(tiny: pd.DataFrame) -> None:
    a = tiny.loc[("AAA", "m1")]
    numerator = 0.6 * 50 + 0.2 * 20 + 0.5 * 10  # DDD has no governance: 0.5
    assert a["numerator"] == pytest.approx(numerator, rel=1e-12)
    assert a["wta"] == pytest.approx(numerator / (80 + 100), rel=1e-12)
    hhi = 0.6 ** 2 + 0.3 ** 2 + 0.1 ** 2
    assert a["hhi"] == pytest.approx(hhi, rel=1e-12)
    assert a["score"] == pytest.approx(hhi * numerator / 180, rel=1e-12)
    price = 145.0 / 130.0  # the value-only row is left out of the price
    assert a["price_usd_per_kg"] == pytest.approx(price, rel=1e-12)
    assert a["cf"] == pytest.approx(hhi * numerator / 180 * price / 0.409412948, rel=1e-12)
    assert CF_COPPER == 0.409412948
    assert a["missing_governance_share"] == pytest.approx(10 / 80, rel=1e-12)
    assert "missing_governance" in flags(tiny, ("AAA", "m1"))


def test_cube_missing_governance_of_a_listed_country(tiny: pd.DataFrame) -> None:
    # AAA's governance row is NaN: BBB's only supplier counts at 0.5, and is flagged
    b = tiny.loc[("BBB", "m1")]
    assert b["numerator"] == pytest.approx(0.5 * 5, rel=1e-12)
    assert b["wta"] == pytest.approx(2.5 / (5 + 300), rel=1e-12)
    assert b["missing_governance_share"] == 1.0
    assert "missing_governance" in flags(tiny, ("BBB", "m1"))


def test_cube_suppliers_and_single_supplier(tiny: pd.DataFrame) -> None:
    a = tiny.loc[("AAA", "m1")]
    assert a["china_share"] == pytest.approx(50 / 80, rel=1e-12)
    assert a["top_supplier"] == "CHN"
    assert a["top_supplier_share"] == pytest.approx(0.625, rel=1e-12)
    assert a["import_hhi"] == pytest.approx((50 / 80) ** 2 + (20 / 80) ** 2 + (10 / 80) ** 2)
    assert not a["single_supplier"]
    assert "single_supplier" not in flags(tiny, ("AAA", "m1"))
    b = tiny.loc[("BBB", "m1")]
    assert b["top_supplier"] == "AAA" and b["top_supplier_share"] == 1.0
    assert b["china_share"] == 0.0
    assert b["single_supplier"]
    assert "single_supplier" in flags(tiny, ("BBB", "m1"))


def test_cube_single_supplier_threshold() -> None:
    # CHN 66 of 100 > 0.65 -> flagged; 65 of 100 -> not
    links = pd.DataFrame({"hs6": ["000001"], "mineral": ["m1"], "stage": ["ore"],
                          "content_factor": [1.0]})
    prod = pd.DataFrame({"year": [Y], "country": ["CHN"], "mineral": ["m1"], "qty_t": [1.0],
                         "stage": ["ore"]})
    gov = pd.DataFrame({"year": [Y], "country": ["CHN"], "risk": [0.5]})
    for chn, flagged in [(66.0, True), (65.0, False)]:
        flows = pd.DataFrame({"year": [Y, Y], "exporter": ["CHN", "AUS"], "importer": ["JPN"] * 2,
                              "hs6": ["000001"] * 2, "value_kusd": [1.0, 1.0],
                              "qty_t": [chn, 100.0 - chn]})
        cube = cube_of(flows, links, prod, gov).set_index(["country", "mineral"])
        assert bool(cube.loc[("JPN", "m1"), "single_supplier"]) is flagged
        assert ("single_supplier" in flags(cube, ("JPN", "m1"))) is flagged


def test_cube_mixed_bases(tiny: pd.DataFrame) -> None:
    a = tiny.loc[("AAA", "m2")]
    assert "mixed_bases" in flags(tiny, ("AAA", "m2"))
    assert math.isnan(a["import_reliance"])
    assert a["reliance_status"] == "not comparable: mixed bases"
    assert a["unfactored_kusd"] == 10.0
    assert a["imports_basis_t"] == 5.0  # counted at gross weight
    assert "mixed_bases" not in flags(tiny, ("AAA", "m1"))


def test_cube_no_trade_data(tiny: pd.DataFrame) -> None:
    a = tiny.loc[("AAA", "m3")]
    assert flags(tiny, ("AAA", "m3")) == {"no_trade_data"}
    assert a["production_t"] == 7.0
    assert a["hhi"] == 1.0
    for col in ["imports_t", "imports_basis_t", "wta", "score", "cf", "import_reliance"]:
        assert math.isnan(a[col]), col
    assert a["reliance_status"] == "no trade recorded"


def test_cube_no_production_data() -> None:
    inputs = tiny_inputs()
    no_m2 = inputs["production"][inputs["production"]["mineral"] != "m2"]
    cube = cube_of(**tiny_inputs(production=no_m2)).set_index(["country", "mineral"])
    assert "no_production_data" in flags(cube, ("AAA", "m2"))
    assert math.isnan(cube.loc[("AAA", "m2"), "production_t"])
    assert math.isnan(cube.loc[("AAA", "m2"), "hhi"])
    assert cube.loc[("AAA", "m2"), "reliance_status"] == "no production data"


def test_cube_independent_of_row_order() -> None:
    inputs = tiny_inputs()
    shuffled = tiny_inputs(
        flows=inputs["flows"].sample(frac=1, random_state=3).reset_index(drop=True),
        production=inputs["production"].sample(frac=1, random_state=4).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(cube_of(**inputs), cube_of(**shuffled),
                                  check_exact=False, rtol=1e-12)


def test_cube_zero_quantity_flow_changes_no_share() -> None:
    inputs = tiny_inputs()
    extra = pd.DataFrame({"year": [Y], "exporter": ["EEE"], "importer": ["AAA"],
                          "hs6": ["000001"], "value_kusd": [0.0], "qty_t": [0.0]})
    cube = cube_of(**tiny_inputs(flows=pd.concat([inputs["flows"], extra], ignore_index=True)))
    base = cube_of(**inputs)
    key = ["country", "mineral"]
    a = base.set_index(key).loc[("AAA", "m1")]
    b = cube.set_index(key).loc[("AAA", "m1")]
    for col in ["import_hhi", "china_share", "top_supplier_share", "n_suppliers", "wta", "score",
                "price_usd_per_kg", "import_reliance"]:
        assert b[col] == pytest.approx(a[col], rel=1e-12), col


def test_latest_year_incomplete_flag() -> None:
    assert latest_incomplete_year(pd.Series({2022: 100, 2023: 94})) == 2023
    assert latest_incomplete_year(pd.Series({2022: 100, 2023: 95})) is None
    assert latest_incomplete_year(pd.Series({2023: 5})) is None
    cube = cube_of(**tiny_inputs(incomplete_year=Y))
    assert cube["flags"].str.contains("latest_year_incomplete").all()
    assert not cube_of(**tiny_inputs())["flags"].str.contains("latest_year_incomplete").any()


def test_no_exports_is_never_a_re_export_hub() -> None:
    inputs = tiny_inputs()
    # FFF imports m1 with value but no quantity, produces nothing, exports nothing
    extra = pd.DataFrame({"year": [Y], "exporter": ["CHN"], "importer": ["FFF"],
                          "hs6": ["000002"], "value_kusd": [3.0], "qty_t": [np.nan]})
    cube = cube_of(**tiny_inputs(flows=pd.concat([inputs["flows"], extra], ignore_index=True)))
    fff = cube.set_index(["country", "mineral"]).loc[("FFF", "m1")]
    assert fff["exports_basis_t"] == 0.0
    assert "exports_exceed_supply" not in str(fff["flags"])
    assert not fff["reliance_status"].startswith("exports exceed supply")


def test_main_answer_falls_back_to_the_stage_the_data_covers() -> None:
    from critmin.metrics.cube import main_answer

    key = {"year": [2024] * 3, "country": ["IND"] * 3}
    cube = pd.DataFrame({**key, "mineral": ["lithium", "rare-earths", "baryte"],
                         "import_reliance": [1.0, np.nan, -107.5],
                         "china_share": [0.26, 0.8, 0.7], "exports_basis_t": [0.0, 10.0, 1800.0],
                         "apparent_supply_t": [10.0, 50.0, 16.6]})
    stages = pd.DataFrame({
        "year": [2024] * 3, "country": ["IND"] * 3, "mineral": ["rare-earths"] * 3,
        "stage": ["ore", "intermediate", "refined"],
        "import_reliance": [np.nan, 0.5, 1.0], "china_share": [0.1, 0.66, 0.99],
        "imports_kusd": [5.0, 300.0, 200.0], "exports_basis_t": [0.0, 1.0, 0.0],
        "apparent_supply_t": [1.0, 2.0, 3.0], "reliance_status": [""] * 3})
    out = main_answer(cube, stages).set_index("mineral")
    assert out.loc["lithium", "answer"] == "100 % imported, China 26 %"
    # the stage with a reliance and the largest imports by value, named as that stage
    assert out.loc["rare-earths", "answer"] == "intermediate: 50 % imported, China 66 %"
    assert out.loc["rare-earths", "answer_stage"] == "intermediate"
    assert out.loc["baryte", "answer"] == "net exporter (exports 108× supply)"
    assert out.loc["baryte", "answer_reliance"] == -107.5
    # no stage with a reliance: China's share of what is imported most, no percentage
    no_reliance = stages.assign(import_reliance=np.nan, reliance_status="no production data")
    out = main_answer(cube, no_reliance).set_index("mineral")
    assert out.loc["rare-earths", "answer"] == "intermediate: China 66 % of imports"
    assert math.isnan(out.loc["rare-earths", "answer_reliance"])


def test_unlisted_output_stays_in_every_share_denominator() -> None:
    listed = pd.DataFrame({"year": [2024] * 2, "who": ["CHN", "CHL"], "q": [45.0, 45.0]})
    other = pd.DataFrame({"year": [2024], "q": [10.0]})
    row = concentration(listed, ["year"], "who", "q", unlisted=other).iloc[0]
    assert row["total"] == pytest.approx(100.0)
    assert row["named_share"] == pytest.approx(0.45)
    assert row["hhi"] == pytest.approx(0.45 ** 2 * 2)  # the unlisted part is no entity
    assert row["n"] == 2
