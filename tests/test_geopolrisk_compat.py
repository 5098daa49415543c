"""compat="geopolrisk-py" reproduces every reference row of geopolrisk-py 2.0.1."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin.store import get_store

DATA = Path(__file__).parent / "data"
REFERENCES = ["geopolrisk_py_2.0.1_2018-2024.csv", "geopolrisk_py_2.0.1_2018-2020.csv"]
COLUMNS = {  # reference column -> critmin column
    "hhi": "hhi", "import_risk_wta": "wta", "geopolrisk_score": "score",
    "cf_eq_kg_cu_per_kg": "cf", "price_kusd_per_t": "price_usd_per_kg",
    "total_trade_t": "imports_t", "numerator": "numerator", "prod_qty": "production_t",
    "trade_value_kusd": "imports_kusd",
}


def matched(name: str) -> pd.DataFrame:
    ref = pd.read_csv(DATA / name)
    store = get_store()
    materials = store.table("gpr_hs_map")[["reference_id", "mineral"]].drop_duplicates()
    codes = store.table("country_codes")[["baci_code", "iso3"]]
    ref = ref.merge(materials, left_on="material", right_on="reference_id", how="left", validate="m:1")
    ref = ref.merge(codes, left_on="country_code", right_on="baci_code", how="left", validate="m:1")
    assert ref["mineral"].notna().all() and ref["iso3"].notna().all()
    cube = critmin.cube(compat="geopolrisk-py")
    out = ref.merge(cube, left_on=["year", "iso3", "mineral"],
                    right_on=["year", "country", "mineral"], how="left",
                    suffixes=("_ref", ""), validate="1:1")
    assert len(out) == len(ref)
    return out


@pytest.mark.parametrize("name", REFERENCES)
def test_reference_rows_reproduced(name: str) -> None:
    out = matched(name)
    assert len(out) == {"geopolrisk_py_2.0.1_2018-2024.csv": 840,
                        "geopolrisk_py_2.0.1_2018-2020.csv": 360}[name]
    assert out["hhi"].notna().all()
    for ref_col, col in COLUMNS.items():
        ref_values = out[ref_col if ref_col not in ("hhi", "numerator") else f"{ref_col}_ref"]
        mine = out[col].to_numpy(float)
        expected = ref_values.to_numpy(float)
        zeros = expected == 0
        assert (mine[zeros] == 0).all(), col  # zeros equal zeros
        np.testing.assert_allclose(mine[~zeros], expected[~zeros], rtol=1e-9, atol=0, err_msg=col)


def test_reference_hs_codes_match_the_map() -> None:
    ref = pd.read_csv(DATA / REFERENCES[0])
    hs = get_store().table("gpr_hs_map").groupby("reference_id")["hs6"].agg(set)
    for material, codes in ref.groupby("material")["hs_codes"].first().items():
        assert {c.zfill(6) for c in str(codes).split(";")} == hs[material], material


def test_compat_covers_every_reference_country_and_year() -> None:
    cube = critmin.risk(["IND", "FRA", "USA"], ["lithium", "germanium"], compat="geopolrisk-py")
    assert sorted(cube["year"].unique()) == list(range(2018, 2025))
    assert len(cube) == 3 * 2 * 7


def taiwan_case() -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    default = critmin.risk("JPN", "rare-earths", 2019).iloc[0]
    compat = critmin.risk("JPN", "rare-earths", 2019, compat="geopolrisk-py").iloc[0]
    store = get_store()
    codes = sorted(store.table("gpr_hs_map").query("mineral == 'rare-earths'")["hs6"])
    flows = store.flows(hs6=codes, years=[2019], importer="JPN").astype(
        {"exporter": str, "importer": str, "hs6": str})
    return default, compat, flows


def test_taiwan_governance_default_vs_compat() -> None:
    default, compat, flows = taiwan_case()
    twn = flows[flows["exporter"] == "TWN"]
    assert twn["qty_t"].sum() > 0  # Taiwan supplies Japan
    # default: Taiwan has a WGI value, nothing is missing
    assert default["missing_governance_share"] == 0.0
    assert "missing_governance" not in str(default["flags"])
    # compat: geopolrisk-py gives Taiwan 0.5 (it never matches its governance row)
    gg = get_store().table("gpr_governance")
    g = gg[gg["year"] == 2019].set_index("country")["risk"]
    risk = flows["exporter"].map(g)
    assert risk[flows["exporter"] == "TWN"].isna().all()
    q = flows["qty_t"].fillna(0.0)
    with_half = (q * risk.fillna(0.5)).sum()
    gov = get_store().table("governance")
    twn_wgi = gov[(gov["year"] == 2019) & (gov["country"] == "TWN")]["risk"].iloc[0]
    assert twn_wgi != pytest.approx(0.5)
    with_wgi = (q * risk.fillna(twn_wgi)).sum()
    assert compat["numerator"] == pytest.approx(with_half, rel=1e-9)
    assert compat["numerator"] != pytest.approx(with_wgi, rel=1e-6)
    assert compat["imports_t"] == pytest.approx(q.sum(), rel=1e-12)


def test_germanium_no_trade_default_vs_compat() -> None:
    default = critmin.risk(None, "germanium", 2019)
    assert len(default) > 0
    assert default["flags"].str.contains("no_trade_data").all()
    assert default["score"].isna().all() and default["wta"].isna().all()
    compat = critmin.risk(["IND", "JPN", "USA"], "germanium", 2019, compat="geopolrisk-py")
    assert len(compat) == 3
    assert (compat["score"] == 0).all() and (compat["wta"] == 0).all()
    assert (compat["imports_t"] == 0).all() and (compat["price_usd_per_kg"] == 0).all()
    jpn = compat.set_index("country").loc["JPN"]
    assert "no_trade_data" in str(jpn["flags"])


def test_default_differs_from_compat_on_hhi_basis() -> None:
    # compat adds gross trade tonnes to production; default uses content tonnes
    default = critmin.risk("IND", "lithium", 2020).iloc[0]
    compat = critmin.risk("IND", "lithium", 2020, compat="geopolrisk-py").iloc[0]
    assert default["imports_t"] == pytest.approx(compat["imports_t"], rel=1e-12)
    assert default["imports_basis_t"] < default["imports_t"]
    assert not math.isclose(default["wta"], compat["wta"], rel_tol=1e-6)
