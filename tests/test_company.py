"""A company's view of its purchases: supplier mix, HHI and China's share on a hand-computed
case, GeoPolRisk in geopolrisk-py's company method against the library's own numbers
(tests/data/company, see its README), export controls in force, and the loss a company
inherits from its supplier countries under a restriction."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import critmin
from critmin.metrics import company as metric
from critmin.metrics.geopolrisk import CF_COPPER
from critmin.sources.purchase_files import purchase_frame
from critmin.store import get_store

DATA = Path(__file__).parent / "data" / "company"
REFERENCE = DATA / "geopolrisk_py_2.0.1_company.csv"
TOLERANCE = 1e-9


def two_suppliers() -> pd.DataFrame:
    """Acme buys 30 t of lithium from Chile (USD 300,000) and 10 t from China (USD 100,000)
    in 2023, in two rows each (quantities in t and kg)."""
    purchases = pd.DataFrame({
        "company": "Acme", "period": ["2023-01", "2023-02", "2023", "2023-06"],
        "material": "lithium", "supplier_country": ["CHL", "CHL", "CHN", "CHN"],
        "origin_country": None, "quantity": [20.0, 10_000.0, 4.0, 6.0],
        "quantity_unit": ["t", "kg", "t", "t"], "value": [200e3, 100e3, 40e3, 60e3],
        "currency": "USD", "usd_rate": 1.0})
    return metric.purchase_lines(purchases, pd.DataFrame(
        columns=["hs6", "mineral", "content_factor", "allocation_share"]))


def test_two_suppliers_shares_hhi_and_china_share_by_hand() -> None:
    lines = two_suppliers()
    mix = metric.supplier_mix(lines)
    assert mix["supplier_country"].tolist() == ["CHL", "CHN"]
    assert mix["qty_basis_t"].tolist() == [30.0, 10.0]
    assert mix["share"].tolist() == [0.75, 0.25]
    row = metric.concentration(mix).iloc[0]
    assert row["hhi"] == pytest.approx(0.75**2 + 0.25**2)  # 0.625
    assert row["china_share"] == 0.25 and row["top_supplier"] == "CHL"
    assert row["n_suppliers"] == 2
    # Chile's own supply: 100 t mined, 100 t imported of which half from China -> a quarter
    supply = pd.DataFrame({"year": [2023], "country": ["CHL"], "mineral": ["lithium"],
                           "production_t": [100.0], "imports_basis_t": [100.0],
                           "china_share": [0.5]})
    traced = metric.traced_china_share(lines, supply)["china_share_traced"].iloc[0]
    assert traced == pytest.approx(0.75 * 0.25 + 0.25 * 1.0)  # 0.4375
    # a stated origin decides: the Chilean rows said to be mined in Chile carry no China
    stated = lines.assign(origin_country=np.where(lines["supplier_country"] == "CHL", "CHL",
                                                  None))
    assert metric.traced_china_share(stated, supply)["china_share_traced"].iloc[0] == 0.25


def test_two_suppliers_geopolrisk_by_hand() -> None:
    lines = two_suppliers()
    governance = pd.DataFrame({"year": [2023, 2023], "country": ["CHL", "CHN"],
                               "risk": [0.3, 0.6]})
    world = pd.DataFrame({"year": [2023], "mineral": ["lithium"], "hhi": [0.4]})
    row = metric.geopolrisk(lines, governance, world).iloc[0]
    wta = (30 * 0.3 + 10 * 0.6) / 40  # 0.375
    assert row["wta"] == pytest.approx(wta)
    assert row["price_usd_per_kg"] == pytest.approx(400e3 / 40e3)  # 10 USD/kg
    assert row["score"] == pytest.approx(0.4 * wta)
    assert row["cf"] == pytest.approx(0.4 * wta * 10 / CF_COPPER)
    # a supplier without a WGI value counts at 0.5 in the default mode
    row = metric.geopolrisk(lines, governance.iloc[:1], world).iloc[0]
    assert row["wta"] == pytest.approx((30 * 0.3 + 10 * 0.5) / 40)


def reference_lines(name: str) -> pd.DataFrame:
    store = get_store()
    return metric.purchase_lines(purchase_frame(DATA / name), store.table("product_minerals"))


@pytest.mark.parametrize(("name", "reference", "groups"), [
    ("company_a.xlsx", REFERENCE, 2), ("company_b.xlsx", REFERENCE, 2),
    # geopolrisk-py's own example: the "Test" sheet of its Company data.xlsx, as it is
    ("geopolrisk_test_sheet.xlsx", DATA / "geopolrisk_py_2.0.1_test_sheet.csv", 1)])
def test_compat_scores_equal_geopolrisk_py_company_method(name: str, reference: Path,
                                                          groups: int) -> None:
    store = get_store()
    expected = pd.read_csv(reference)
    expected = expected[expected["file"] == name]
    got = metric.compat_company(reference_lines(name), store.table("gpr_governance"),
                                store.table("gpr_production"))
    got = got.set_index(["mineral", "year"])
    assert len(got) == len(expected) == groups
    for row in expected.itertuples():
        mine = got.loc[(str(row.metal).lower(), row.year)]
        for ours, theirs in [("hhi_production", "hhi"), ("wta", "wta"),
                             ("price_usd_per_kg", "price"), ("score", "score"),
                             ("cf", "cf")]:
            assert math.isclose(mine[ours], getattr(row, theirs), rel_tol=TOLERANCE), (
                row.metal, ours)


def test_compat_gives_no_score_where_geopolrisk_py_has_no_wgi_value() -> None:
    lines = two_suppliers().assign(year=2022)
    gov = pd.DataFrame({"year": [2022, 2022], "country": ["CHL", "CHN"],
                        "risk": [0.3, 0.5], "raw": ["value", "nan"]})
    production = pd.DataFrame({"mineral": "lithium", "year": 2022,
                               "qty_reported": [3.0, 1.0]})
    row = metric.compat_company(lines, gov, production).iloc[0]
    assert math.isnan(row["score"]) and row["hhi_production"] == pytest.approx(10 / 16)
    # a row without a value: the library's price (a sum with NaN) is NaN, so is its CF
    unpriced = lines.assign(value_usd=[200e3, np.nan, 40e3, 60e3])
    row = metric.compat_company(unpriced, gov.assign(raw="value"), production).iloc[0]
    assert row["score"] == pytest.approx(10 / 16 * (30 * 0.3 + 10 * 0.5) / 40)
    assert math.isnan(row["price_usd_per_kg"]) and math.isnan(row["cf"])
    default = metric.geopolrisk(unpriced, gov, pd.DataFrame(
        {"year": [2022], "mineral": ["lithium"], "hhi": [0.5]})).iloc[0]
    assert default["price_usd_per_kg"] == pytest.approx(300e3 / 30e3)  # the valued rows


def test_purchases_under_an_export_control_in_force() -> None:
    mix = metric.supplier_mix(reference_lines("company_a.xlsx"))
    hit = metric.controls_in_force(mix, get_store().table("events"))
    assert hit[["mineral", "supplier_country", "event"]].values.tolist() == [
        ["nickel", "IDN", "idn-ni-ban-2020"]]
    assert hit["share"].iloc[0] == pytest.approx(1200 / 2500)


def test_a_company_inherits_its_suppliers_losses_pro_rata() -> None:
    mix = pd.DataFrame({"company": "Acme", "year": 2023, "mineral": "gallium",
                        "supplier_country": ["CHN", "KOR", "JPN"],
                        "qty_basis_t": [10.0, 30.0, 60.0]})
    losses = pd.DataFrame({"year": 2023, "mineral": "gallium",
                           "country": ["KOR", "JPN", "USA", "CHN"],
                           "loss_share": [0.2, 0.05, 0.9, 0.0]})
    row = metric.inherited_loss(mix, losses, ["CHN"], cut=0.5).iloc[0]
    assert row["loss_t"] == pytest.approx(10 * 0.5 + 30 * 0.2 + 60 * 0.05)  # 14 t
    assert row["loss_share"] == pytest.approx(0.14)
    zero = metric.inherited_loss(mix, losses.assign(loss_share=0.0), ["CHN"], cut=0.0)
    assert zero["loss_t"].iloc[0] == 0.0


@given(st.lists(st.tuples(st.sampled_from(["CHL", "CHN", "AUS", "ARG", "ZWE"]),
                          st.floats(0.001, 1e6)), min_size=1, max_size=12))
def test_shares_sum_to_one_and_hhi_is_bounded(rows: list[tuple[str, float]]) -> None:
    lines = pd.DataFrame({"company": "Acme", "year": 2023, "mineral": "lithium",
                          "supplier_country": [c for c, _ in rows],
                          "qty_t": [q for _, q in rows], "qty_basis_t": [q for _, q in rows],
                          "value_usd": np.nan})
    mix = metric.supplier_mix(lines)
    assert mix["share"].sum() == pytest.approx(1.0)
    hhi = metric.concentration(mix)["hhi"].iloc[0]
    assert 1 / len(mix) - 1e-12 <= hhi <= 1 + 1e-12
    shuffled = metric.concentration(metric.supplier_mix(lines.iloc[::-1]))["hhi"].iloc[0]
    assert shuffled == pytest.approx(hhi)


def test_company_view_end_to_end() -> None:
    critmin.import_purchases(DATA / "company_a.xlsx", company="Acme")
    view = critmin.company("Acme", restrict="CHN")
    rows = view.materials.set_index("mineral")
    expected = pd.read_csv(REFERENCE).query("file == 'company_a.xlsx'").set_index("metal")
    for mineral, metal in [("cobalt", "Cobalt"), ("nickel", "Nickel")]:
        assert math.isclose(rows.loc[mineral, "score_compat"], expected.loc[metal, "score"],
                            rel_tol=TOLERANCE)
        assert math.isclose(rows.loc[mineral, "cf_compat"], expected.loc[metal, "cf"],
                            rel_tol=TOLERANCE)
    assert rows.loc["cobalt", "china_share"] == pytest.approx(0.75)
    assert rows.loc["cobalt", "hhi"] == pytest.approx(0.75**2 + 0.25**2)
    assert rows.loc["nickel", "controlled_share"] == pytest.approx(0.48)
    # nickel: each supplier country passes on its own loss share of China's restriction
    shares = critmin.restrict("CHN", "nickel", 2022).countries.set_index("country")[
        "loss_share"].fillna(0.0)
    tonnes = {"IDN": 1.2, "PHL": 0.8, "AUS": 0.5}
    by_hand = sum(t * shares.get(c, 0.0) for c, t in tonnes.items())
    assert rows.loc["nickel", "loss_t"] == pytest.approx(by_hand)
    assert rows.loc["cobalt", "loss_t"] >= 0.3  # all of what it buys from China
    assert view.to_dict()["restriction"] == {"suppliers": ["CHN"], "cut": 1.0}
    with pytest.raises(critmin.NotFound, match="did you mean Acme"):
        critmin.company("Acm")


def test_company_over_the_rest_api() -> None:
    from fastapi.testclient import TestClient

    from critmin.api import create_app

    critmin.import_purchases(DATA / "company_b.xlsx", company="Beta")
    with TestClient(create_app(), base_url="http://localhost") as client:
        answer = client.get("/api/v1/company/Beta", params={"year": 2021})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["company"] == "Beta" and body["years"] == [2021]
        rows = {r["mineral"]: r for r in body["materials"]}
        expected = pd.read_csv(REFERENCE).query("file == 'company_b.xlsx'").set_index("metal")
        assert math.isclose(rows["lithium"]["score_compat"], expected.loc["Lithium", "score"],
                            rel_tol=TOLERANCE)
        assert rows["nickel"]["n_suppliers"] == 2
        missing = client.get("/api/v1/company/Bet")
        assert missing.status_code == 404
        assert missing.json()["error"]["suggestions"] == ["Beta"]
        wrong = client.get("/api/v1/company/Beta", params={"cut": 2})
        assert wrong.status_code in (400, 422)


def test_company_optimise_proposes_a_mix_for_the_companys_volume() -> None:
    critmin.import_purchases(DATA / "company_a.xlsx", company="Acme")
    result = critmin.company_optimise("Acme", "Nickel", "DEU", max_share=0.5)
    assert result.year == 2022 and result.mineral == "nickel"
    assert result.today["share"].tolist() == pytest.approx([0.2, 0.48, 0.32])  # AUS IDN PHL
    assert result.today_hhi == pytest.approx(0.2**2 + 0.48**2 + 0.32**2)
    proposal = result.proposal
    assert proposal.demand_t == pytest.approx(2.5)  # the company's tonnes, not Germany's
    assert proposal.portfolio["tonnes"].sum() == pytest.approx(2.5, rel=1e-6)
    assert proposal.portfolio["share"].max() <= 0.5 + 1e-9
    assert (proposal.portfolio["tonnes"] <= proposal.portfolio["cap_t"] + 1e-6).all()
    assert proposal.after["hhi"] < result.today_hhi
    with pytest.raises(critmin.NotFound, match="no purchases of lithium"):
        critmin.company_optimise("Acme", "lithium", "DEU")
