"""USGS Mineral Commodity Summaries reader: hand-checked values from the real data releases.

Every expected number below was read by eye from MCS2025_World_Data.csv or
MCS2026_Commodities_Data.csv and converted by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from critmin import catalog
from critmin.resolve import Index, country_index
from critmin.sources import usgs_mcs
from critmin.sources.coverage import Coverage


def _data_folder() -> Path:
    """$CRITMIN_USGS_MCS, else the repository's source-data/usgs-mcs."""
    if "CRITMIN_USGS_MCS" in os.environ:
        return Path(os.environ["CRITMIN_USGS_MCS"])
    return Path(__file__).resolve().parents[1] / "source-data" / "usgs-mcs"


DATA = _data_folder()
WORLD_2025 = DATA / "MCS2025_World_Data.csv"
COMMODITIES_2026 = DATA / "MCS2026_Commodities_Data.csv"

needs_data = pytest.mark.skipif(
    not (WORLD_2025.exists() and COMMODITIES_2026.exists()),
    reason=f"USGS MCS data releases not found in {DATA}")

KEY = ["year", "country", "mineral", "stage", "source"]


# -- fixtures (module scope: the files are read once) -----------------------------------------


@pytest.fixture(autouse=True)
def critmin_home(tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data folder, as in conftest, but without the session's cubes: the reader
    needs only the catalog, never the store."""
    home = tmp_path_factory.mktemp("critmin-home")
    monkeypatch.setenv("CRITMIN_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def countries() -> Index:
    return country_index(catalog.load_countries())


@pytest.fixture(scope="module")
def series_map() -> pd.DataFrame:
    return usgs_mcs.load_series_map()


@pytest.fixture(scope="module")
def world2025() -> pd.DataFrame:
    return usgs_mcs.read_world_2025(WORLD_2025)


@pytest.fixture(scope="module")
def commodities2026() -> pd.DataFrame:
    return usgs_mcs.read_commodities_2026(COMMODITIES_2026)


@pytest.fixture(scope="module")
def produced(series_map: pd.DataFrame, world2025: pd.DataFrame,
             commodities2026: pd.DataFrame, countries: Index) -> tuple[pd.DataFrame, Coverage]:
    return usgs_mcs.production(series_map, world2025, commodities2026, countries)


@pytest.fixture(scope="module")
def reserved(series_map: pd.DataFrame, world2025: pd.DataFrame,
             commodities2026: pd.DataFrame, countries: Index) -> tuple[pd.DataFrame, Coverage]:
    return usgs_mcs.reserves(series_map, world2025, commodities2026, countries)


def one(frame: pd.DataFrame, **match: object) -> pd.Series:
    rows = frame
    for col, value in match.items():
        rows = rows[rows[col] == value]
    assert len(rows) == 1, f"{len(rows)} rows for {match}"
    return rows.iloc[0]


def none(frame: pd.DataFrame, **match: object) -> bool:
    rows = frame
    for col, value in match.items():
        rows = rows[rows[col] == value]
    return rows.empty


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "flag"),
    [
        ("1,234", 1234.0, ""), ("123e", 123.0, "estimated"), (">95", 95.0, ">"),
        ("<1", 1.0, "<"), (">17,000,000", 17_000_000.0, ">"), ("1.5", 1.5, ""),
        ("12\xa0", 12.0, ""), (" 3,100 ", 3100.0, ""),
        ("W", None, "withheld"), ("NA", None, "not available"), ("na", None, "not available"),
        ("--", None, "zero"), ("—", None, "zero"), ("", None, "empty"), (None, None, "empty"),
        ("E", None, "net exporter"), ("XX", None, "not applicable"),
        ("s", None, "less than 1/2 unit"), ("Large", None, "qualitative"),
        ("Moderate to large", None, "qualitative"), ("500–16,000", None, "range"),
        ("10,000 - 15,000", None, "range"), ("?1", None, "sign lost"), ("abc", None, "unparsed"),
    ],
)
def test_parse_value(text: str | None, value: float | None, flag: str) -> None:
    assert usgs_mcs.parse_value(text) == (value, flag)


def test_parse_values_is_vectorised() -> None:
    out = usgs_mcs.parse_values(pd.Series([">95", "W", "2,500"], index=[7, 8, 9]))
    assert list(out.index) == [7, 8, 9]
    assert out["value"].dtype == np.float64
    assert out["value"].iloc[0] == 95.0 and np.isnan(out["value"].iloc[1])
    assert list(out["flag"]) == [">", "withheld", ""]


def test_reader_tolerates_bom_cp1252_and_stray_spaces(tmp_path: Path) -> None:
    # a UTF-8 BOM in front of cp1252 text, a space inside a header, non-breaking spaces
    text = ('SOURCE,COMMODITY,COUNTRY,TYPE,UNIT_MEAS,PROD_2023,PROD_EST_ 2024,PROD_NOTES,'
            'RESERVES_2024,RESERVE_NOTES\n'
            'MCS2025,Manganese,C\u00f4te d\u2019Ivoire ,"Mine production, manganese content",'
            'thousand metric tons,"1,000",1200e,,,\n'
            'MCS2025,Abrasives,United\xa0States and Canada,"Plant capacity",metric tons,,,,,\n')
    path = tmp_path / "world.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    frame = usgs_mcs.read_world_2025(path)
    assert list(frame.columns[:7]) == ["source", "commodity", "country", "type", "unit_meas",
                                       "prod_2023", "prod_est_2024"]
    assert frame["country"].tolist() == ["Côte d’Ivoire", "United States and Canada"]
    place = usgs_mcs.resolve_countries(frame["country"], country_index(catalog.load_countries()))
    assert place["iso3"].iloc[0] == "CIV"  # the USGS-only spelling, via the alias table
    assert pd.isna(place["iso3"].iloc[1])


@needs_data
def test_real_files_are_read_with_normalised_text(world2025: pd.DataFrame,
                                                  commodities2026: pd.DataFrame) -> None:
    assert "prod_est_2024" in world2025.columns and "source" in world2025.columns
    assert len(world2025) == 1250 and len(commodities2026) == 8886
    assert not world2025["country"].str.contains("\xa0|^ | $", regex=True).any()
    assert "United States and Canada" in set(world2025["country"])
    assert "Salient Statistics—United States" in set(commodities2026["section"])


# -- the series map ----------------------------------------------------------------------------


def test_series_map_is_consistent(series_map: pd.DataFrame) -> None:
    assert list(series_map.columns) == usgs_mcs.SERIES_COLUMNS
    slugs = set(catalog.load_minerals()["mineral"])
    assert set(series_map["mineral"]) - {""} <= slugs
    assert set(series_map["stage"]) <= {"", "ore", "intermediate", "refined", "alloy"}
    assert set(series_map["release"]) == {"mcs2025", "mcs2026"}
    # a series without a factor always says why; a factor always has its mineral and stage
    unconverted = series_map[series_map["factor"].isna()]
    assert unconverted["note"].ne("").all()
    converted = series_map[series_map["factor"].notna()]
    assert converted["mineral"].ne("").all() and converted["stage"].ne("").all()
    assert (converted["factor"] > 0).all()

    def factor(release: str, commodity: str, series: str) -> float:
        return float(one(series_map, release=release, commodity=commodity,
                         series=series)["factor"])

    assert factor("mcs2025", "Lithium", "Mine production, lithium content") == 2.153
    assert factor("mcs2026", "Niobium (Columbium)", "Mine production") == 1.4305
    assert factor("mcs2026", "Tantalum", "Mine production") == 1.2211
    assert factor("mcs2026", "Helium", "Helium Production") == 169.0
    assert factor("mcs2026", "Palladium", "Mine production: Palladium") == 0.001
    assert factor("mcs2026", "Alumina", "Alumina, refinery production") == 529.0
    chromite = one(series_map, release="mcs2026", commodity="Chromium",
                   series="Mine production")
    assert chromite["mineral"] == "chromium" and np.isnan(chromite["factor"])
    assert chromite["note"].startswith("different basis")
    cement = one(series_map, release="mcs2026", commodity="Cement", series="Cement production")
    assert cement["mineral"] == "" and cement["note"].startswith("commodity not modelled")


# -- production --------------------------------------------------------------------------------


@needs_data
def test_production_hand_checked_values(produced: tuple[pd.DataFrame, Coverage]) -> None:
    prod, _ = produced
    # China rare earths, REO: MCS2026 2024 "270,000" (estimated), MCS2025 2023 255000
    row = one(prod, country="CHN", mineral="rare-earths", stage="ore", year=2024)
    assert row["source"] == "usgs-mcs2026" and row["qty_t"] == 270_000.0
    assert row["data_source"] == "e" and row["unit_reported"] == "metric tons"
    assert one(prod, country="CHN", mineral="rare-earths", year=2023)["qty_t"] == 255_000.0
    # DR Congo cobalt: MCS2026 2024 "226,000" revises MCS2025's estimate of 220000
    row = one(prod, country="COD", mineral="cobalt", stage="ore", year=2024)
    assert (row["source"], row["qty_t"]) == ("usgs-mcs2026", 226_000.0)
    assert one(prod, country="COD", mineral="cobalt", year=2023)["qty_t"] == 175_000.0
    # Chile lithium 2024: "48,900" t Li (reported) -> Li2O
    row = one(prod, country="CHL", mineral="lithium", year=2024)
    assert row["qty_reported"] == 48_900.0 and row["data_source"] == "r"
    assert row["qty_t"] == pytest.approx(48_900 * 2.153)
    assert one(prod, country="CHL", mineral="lithium", year=2023)["qty_t"] == pytest.approx(
        41_400 * 2.153)
    # China refined copper: 12,400 thousand t (2024), 12000 (2023, MCS2025)
    assert one(prod, country="CHN", mineral="copper", stage="refined",
               year=2024)["qty_t"] == 12_400_000.0
    assert one(prod, country="CHN", mineral="copper", stage="refined",
               year=2023)["qty_t"] == 12_000_000.0
    # China alumina 2024: 85,500 thousand dry t Al2O3 -> aluminium (Al content), intermediate
    assert one(prod, country="CHN", mineral="aluminium", stage="intermediate",
               year=2024)["qty_t"] == pytest.approx(85_500 * 1000 * 0.529)
    # Brazil niobium 2024: 104,000 t Nb -> Nb2O5
    assert one(prod, country="BRA", mineral="niobium", year=2024)["qty_t"] == pytest.approx(
        104_000 * 1.4305)
    # China titanium sponge 2024: 256,000 t Ti -> TiO2 equivalent, stage refined
    assert one(prod, country="CHN", mineral="titanium", stage="refined",
               year=2024)["qty_t"] == pytest.approx(256_000 * 1.6685)


@needs_data
def test_series_of_one_mineral_and_stage_are_summed(
        produced: tuple[pd.DataFrame, Coverage]) -> None:
    prod, cov = produced
    # South Africa 2023 (MCS2025): ilmenite 1260 + rutile 100 thousand t TiO2 (the file says
    # "metric tons", but the figures are thousand metric tons)
    row = one(prod, country="ZAF", mineral="titanium", stage="ore", year=2023)
    assert row["qty_t"] == 1_360_000.0 and " + " in row["series"]
    # China silicon 2024 (MCS2026): ferrosilicon 3,100 + silicon metal 4,800 thousand t Si
    row = one(prod, country="CHN", mineral="silicon", stage="refined", year=2024)
    assert row["qty_t"] == 7_900_000.0 and row["series"] == "Ferrosilicon + Silicon metal"
    # United States helium 2023: 64 (from natural gas) + 18 (Cliffside Field) million m3
    row = one(prod, country="USA", mineral="helium", year=2023)
    assert row["qty_reported"] == 82.0 and row["qty_t"] == pytest.approx(82 * 169)
    assert cov.merged > 0
    assert any(k.startswith("rows summed") for k in cov.notes)


@needs_data
def test_production_keys_countries_and_minerals(produced: tuple[pd.DataFrame, Coverage],
                                                commodities2026: pd.DataFrame) -> None:
    prod, _ = produced
    assert list(prod.columns) == usgs_mcs.PRODUCTION_COLUMNS
    assert prod["year"].dtype == np.int16
    assert prod["qty_t"].dtype == np.float64 and prod["qty_reported"].dtype == np.float64
    assert not prod.duplicated(KEY).any()
    # the newer release wins: one row per (year, country, mineral, stage) across releases
    assert not prod.duplicated(["year", "country", "mineral", "stage"]).any()
    iso3 = set(catalog.load_countries()["iso3"])
    assert set(prod["country"]) <= iso3
    assert set(prod["mineral"]) <= set(catalog.load_minerals()["mineral"])
    assert set(prod["stage"]) <= {"ore", "intermediate", "refined", "alloy"}
    assert set(prod["source"]) == {"usgs-mcs2025", "usgs-mcs2026"}
    assert set(prod["data_source"]) <= {"e", "r"}
    assert (prod["qty_t"] > 0).all()  # zeros ("—") and withheld values are left out
    assert set(prod.loc[prod["source"].eq("usgs-mcs2026"), "year"]) == {2024, 2025}
    assert set(prod.loc[prod["source"].eq("usgs-mcs2025"), "year"]) == {2023, 2024}
    # both releases give 2024 for DR Congo cobalt; only MCS2026's remains
    assert none(prod, country="COD", mineral="cobalt", year=2024, source="usgs-mcs2025")
    # MCS2025 2024 values survive only where MCS2026 has no value for the key
    old = prod[prod["source"].eq("usgs-mcs2025") & prod["year"].eq(2024)]
    new = prod[prod["source"].eq("usgs-mcs2026") & prod["year"].eq(2024)]
    assert old.merge(new, on=["year", "country", "mineral", "stage"]).empty
    assert len(old) < 0.05 * len(new)


@needs_data
def test_withheld_and_aggregates_never_enter(produced: tuple[pd.DataFrame, Coverage],
                                             world2025: pd.DataFrame,
                                             commodities2026: pd.DataFrame) -> None:
    prod, cov = produced
    # U.S. lithium is withheld in both releases ("W for 23-24"; "W"): no row, never a 0
    assert none(prod, country="USA", mineral="lithium")
    assert none(prod, country="USA", mineral="bauxite")
    withheld = commodities2026[commodities2026["section"].str.startswith("World")
                               & commodities2026["value"].eq("W")]
    assert len(withheld) > 0
    assert cov.dropped["withheld (W)"] >= len(withheld[withheld["statistics"].eq("Production")])
    assert cov.dropped["aggregate: world total"] > 0
    assert cov.dropped["aggregate: other countries"] > 0
    assert cov.dropped["aggregate: group of countries"] > 0
    # the different basis and not-modelled commodities are out, with their reasons
    assert none(prod, mineral="chromium") and none(prod, mineral="phosphate-rock")
    assert none(prod, mineral="strontium") and none(prod, mineral="beryllium")
    # MCS2026 chromite: 9 countries x 2 years of gross ore, none convertible to Cr2O3
    assert cov.dropped["different basis"] >= 18 and cov.examples["different basis"]
    assert cov.dropped["commodity not modelled"] > 0
    assert cov.dropped["superseded by MCS2026"] > 0
    assert "series not in usgs_series.csv" not in cov.dropped  # every series is mapped


@needs_data
def test_production_coverage_adds_up(produced: tuple[pd.DataFrame, Coverage],
                                     world2025: pd.DataFrame,
                                     commodities2026: pd.DataFrame) -> None:
    prod, cov = produced
    world_prod = (commodities2026["section"].str.startswith("World")
                  & commodities2026["statistics"].eq("Production"))
    # one observation per MCS2025 row and year column, one per MCS2026 production row
    assert cov.rows_read == 2 * len(world2025) + int(world_prod.sum())
    assert cov.rows_read == cov.rows_kept + cov.rows_dropped + cov.merged
    assert cov.rows_kept == len(prod)
    assert all(count > 0 for count in cov.dropped.values())


@needs_data
def test_world_totals(series_map: pd.DataFrame, world2025: pd.DataFrame,
                      commodities2026: pd.DataFrame,
                      produced: tuple[pd.DataFrame, Coverage]) -> None:
    totals = usgs_mcs.world_totals(series_map, world2025, commodities2026)
    assert list(totals.columns) == usgs_mcs.WORLD_TOTAL_COLUMNS
    assert not totals.duplicated(["year", "mineral", "stage", "source"]).any()
    # "World total (rounded)" copper refinery 2024: 27,600 thousand t (MCS2026)
    assert one(totals, year=2024, mineral="copper", stage="refined",
               source="usgs-mcs2026")["qty_t"] == 27_600_000.0
    # MCS2025 titanium 2023: the combined "ilmenite and rutile" total (9430), not the parts
    # added to it (8840 + 590 + 9430)
    assert one(totals, year=2023, mineral="titanium", stage="ore",
               source="usgs-mcs2025")["qty_t"] == 9_430_000.0
    # countries never exceed the world total by much (rounding): rare earths 2025
    prod, _ = produced
    listed = prod[(prod["mineral"] == "rare-earths") & (prod["year"] == 2025)]["qty_t"].sum()
    world = one(totals, year=2025, mineral="rare-earths", source="usgs-mcs2026")["qty_t"]
    assert listed <= world * 1.02


# -- reserves ----------------------------------------------------------------------------------


@needs_data
def test_reserves(reserved: tuple[pd.DataFrame, Coverage]) -> None:
    res, cov = reserved
    assert list(res.columns)[:8] == ["year", "country", "mineral", "qty_t", "qty_reported",
                                     "unit_reported", "source", "note"]
    assert res["year"].dtype == np.int16
    assert not res.duplicated(["year", "country", "mineral", "source"]).any()
    # Chile lithium reserves 2025: "9,200,000" t Li -> Li2O
    row = one(res, country="CHL", mineral="lithium", year=2025)
    assert row["qty_t"] == pytest.approx(9_200_000 * 2.153)
    # China rare earths reserves 2024 (MCS2025): 44000000 t REO
    assert one(res, country="CHN", mineral="rare-earths", year=2024)["qty_t"] == 44_000_000.0
    # MCS2026 chromium: the Cr2O3 content series is kept, the ore series is shadowed
    row = one(res, country="ZAF", mineral="chromium", year=2025)
    assert row["qty_t"] == 110_000 * 1000.0 and row["series"] == "Reserves: Cr2O3 content"
    # MCS2025 iron reserves are in million metric tons (RESERVE_NOTES): Australia 27000
    assert one(res, country="AUS", mineral="iron", year=2024)["qty_t"] == 27_000 * 1e6
    # MCS2026 vanadium reserves say "metric tons" but are thousand metric tons, as MCS2025
    # notes for its own: Australia 10,000 (2025) against 8500 thousand t (2024)
    assert one(res, country="AUS", mineral="vanadium", year=2025)["qty_t"] == 10_000 * 1000.0
    assert one(res, country="AUS", mineral="vanadium", year=2024)["qty_t"] == 8_500 * 1000.0
    # zircon reserves are ZrO2 content: kept, without a basis quantity, with the reason
    row = one(res, country="AUS", mineral="zirconium", year=2025)
    assert np.isnan(row["qty_t"]) and row["note"].startswith("different basis")
    # the MCS2025 "reserves" of magnesium metal and indium are capacities: left out
    assert none(res, mineral="magnesium") and none(res, mineral="indium")
    assert cov.dropped["not reserves"] > 0
    assert set(res["country"]) <= set(catalog.load_countries()["iso3"])
    assert cov.rows_read == cov.rows_kept + cov.rows_dropped + cov.merged
    assert cov.rows_kept == len(res)


# -- U.S. salient statistics and the critical-mineral flag ---------------------------------------


@needs_data
def test_us_net_import_reliance(commodities2026: pd.DataFrame,
                                series_map: pd.DataFrame) -> None:
    salient = usgs_mcs.us_salient(commodities2026, series_map)
    assert list(salient.columns) == usgs_mcs.SALIENT_COLUMNS
    assert len(salient) == commodities2026["section"].str.startswith("Salient").sum()
    assert salient["year"].dtype == np.int16
    assert set(salient["year"]) == {2021, 2022, 2023, 2024, 2025}
    nir = salient[salient["statistic"].eq("Net import reliance")]

    def reliance(commodity: str, year: int, detail: str | None = None) -> pd.Series:
        rows = nir[nir["commodity"].eq(commodity) & nir["year"].eq(year)]
        if detail is not None:
            rows = rows[rows["detail"].str.endswith(detail)]
        return one(rows)

    row = reliance("Lithium", 2024)  # ">50"
    assert (row["value"], row["flag"], row["mineral"]) == (50.0, ">", "lithium")
    assert (reliance("Lithium", 2021)["value"], reliance("Lithium", 2021)["flag"]) == (25.0, ">")
    row = reliance("Cobalt", 2024)  # "74"
    assert (row["value"], row["flag"], row["mineral"]) == (74.0, "", "cobalt")
    assert reliance("Cobalt", 2025)["value"] == 79.0
    assert reliance("Gallium", 2024)["value"] == 100.0
    row = reliance("Beryllium", 2024)  # "E": net exporter, no number
    assert np.isnan(row["value"]) and row["flag"] == "net exporter"
    assert reliance("Beryllium", 2021)["value"] == 11.0
    row = reliance("Rare Earths", 2022, "Compounds and metals")  # ">95"
    assert (row["value"], row["flag"], row["mineral"]) == (95.0, ">", "rare-earths")
    assert reliance("Rare Earths", 2024, "Mineral concentrates")["flag"] == "net exporter"
    # withheld stays withheld
    withheld = salient[salient["flag"].eq("withheld")]
    assert len(withheld) > 0 and withheld["value"].isna().all()


@needs_data
def test_critical_2025(commodities2026: pd.DataFrame, series_map: pd.DataFrame) -> None:
    crit = usgs_mcs.critical_2025(commodities2026, series_map).set_index("commodity")
    assert crit["is_critical"].dtype == bool
    assert crit.index.is_unique
    assert bool(crit.loc["Lithium", "is_critical"]) and crit.loc["Lithium", "mineral"] == "lithium"
    assert bool(crit.loc["Copper", "is_critical"]) and not bool(crit.loc["Gold", "is_critical"])
    # "Yttrium" in the flag column and "Yes" in Notes: a shifted row, reported
    assert bool(crit.loc["Yttrium", "is_critical"])
    assert "shifted" in crit.loc["Yttrium", "note"]
    # two blank flags among the Wollastonite rows, the others say No
    assert not bool(crit.loc["Wollastonite", "is_critical"])
    assert "blank" in crit.loc["Wollastonite", "note"]
    assert crit.loc["Cobalt", "note"] == ""
