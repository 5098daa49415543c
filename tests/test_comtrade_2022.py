"""2022 tonnes of BACI's value-only HS17 extract from the UN Comtrade declarations of the
same flows: the importer's net weight first, else the exporter's, else none; checked per
code against BACI 2024."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from critmin import catalog
from critmin.sources import baci_hs17, comtrade
from critmin.sources.coverage import Coverage
from critmin.sources.registry import source_file
from critmin.sources.validate import Known

SOURCE_DATA = Path(__file__).resolve().parents[1] / "source-data"
HEADER = "year,reporter,partner,cmd,flow,value,netwgt,qty,qtyunit"
COUNTRIES = frozenset({"CAN", "USA", "AUS", "JPN", "RUS", "CHN", "TWN", "DEU", "MEX"})


def _gz(path: Path, lines: list[str]) -> Path:
    path.write_bytes(gzip.compress("\n".join([HEADER, *lines, ""]).encode()))
    return path


def _baci_2022(path: Path, rows: list[tuple[str, str, str, float]]) -> Path:
    """The 2022 extract's layout: exporter, importer, HS 2017 code, value in US dollars."""
    pd.DataFrame(rows, columns=["i", "j", "cmd", "value"]).to_csv(path, index=False)
    return path


def _read(tmp_path: Path, declarations: list[str], flows: list[tuple[str, str, str, float]],
          reference: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, Coverage, Coverage]:
    cov, cov_ct = Coverage("baci-hs17-2022"), Coverage("comtrade-2022")
    table, check = baci_hs17.read_2022(
        _baci_2022(tmp_path / "baci.csv", flows), _gz(tmp_path / "ct.csv.gz", declarations),
        reference, catalog.load_country_codes(), catalog.load("hs_correspondence"),
        Known(COUNTRIES), cov, cov_ct)
    assert cov_ct.rows_read == cov_ct.rows_kept + cov_ct.rows_dropped + cov_ct.merged
    frame = table.to_pandas().set_index(["src_exporter", "src_importer", "src_hs6"])
    return frame, check, cov, cov_ct


def _reference(hs6: str, value_kusd: float, qty_t: float) -> pd.DataFrame:
    return pd.DataFrame({"src_hs6": [hs6], "value_kusd": [value_kusd], "qty_t": [qty_t]})


def test_the_importer_declaration_comes_first_then_the_exporter_then_none(
        tmp_path: Path) -> None:
    frame, check, cov, cov_ct = _read(tmp_path, [
        # USA's imports from Canada: the total (1,000 USD, 41 t) and a breakdown of it
        "2022,842,124,750210,M,1000000.0,41000.0,41000.0,8",
        "2022,842,124,750210,M,600000.0,25000.0,25000.0,8",
        "2022,124,842,750210,X,990000.0,40000.0,40000.0,8",  # Canada's side: not used
        # Japan declares no weight; Australia's export declaration weighs the flow
        "2022,392,36,750210,M,450000.0,,0.0,-1",
        "2022,36,392,750210,X,440000.0,18000.0,18000.0,8",
        # China declares a zero weight for its imports from Russia: not a weight
        "2022,156,643,750210,M,300000.0,0.0,0.0,8",
        # Germany's exports to Taiwan (490, "Other Asia, nes"), BACI's S19
        "2022,276,490,750210,X,200000.0,8000.0,8000.0,8",
        # world totals and "Areas, nes": no country, no flow
        "2022,842,0,750210,M,9000000.0,400000.0,400000.0,8",
        "2022,842,899,750210,M,5000.0,200.0,200.0,8",
    ], [("CAN", "USA", "750210", 1_000_000.0), ("AUS", "JPN", "750210", 440_000.0),
        ("RUS", "CHN", "750210", 300_000.0), ("DEU", "S19", "750210", 200_000.0)],
        _reference("750210", 2_000.0, 70.0))
    assert frame.loc[("CAN", "USA", "750210"), "qty_t"] == 41.0  # the total, not a breakdown
    assert frame.loc[("AUS", "JPN", "750210"), "qty_t"] == 18.0
    assert pd.isna(frame.loc[("RUS", "CHN", "750210"), "qty_t"])
    assert frame.loc[("DEU", "S19", "750210"), ["importer", "qty_t"]].tolist() == ["TWN", 8.0]
    assert frame.loc[("CAN", "USA", "750210"), "value_kusd"] == 1_000.0  # BACI's value kept
    assert cov.notes["2022 quantity: the importer's declared net weight (UN Comtrade)"] == 1
    assert cov.notes["2022 quantity: the exporter's declared net weight (UN Comtrade)"] == 2
    assert cov.notes["missing quantity (kept with value only)"] == 1
    row = check.set_index("hs6").loc["750210"]
    assert row[["rows", "rows_importer", "rows_exporter", "rows_none"]].tolist() == [4, 1, 2, 1]
    assert row["t_2022"] == 67.0 and row["kept"] and row["reason"] == ""
    assert cov_ct.dropped == {
        "breakdown or repeat of a reported total (by customs procedure, transport mode or "
        "second partner)": 1,
        "reporter or partner is an aggregate, not a country": 2,
        "no net weight declared": 2,
    }
    assert cov_ct.examples["reporter or partner is an aggregate, not a country"] == [
        "0 World", "899 Areas, nes"]
    assert cov_ct.rows_kept == 4
    assert cov_ct.notes == {
        "export declarations not used (the importer declared the same flow's weight)": 1}


def test_partners_outside_baci_and_flows_nobody_declared(tmp_path: Path) -> None:
    frame, _, _, cov_ct = _read(tmp_path, [
        "2022,842,234,750210,M,7000.0,300.0,300.0,8",  # Faroe Islands: not a BACI country
        "2022,842,124,750210,M,1000000.0,41000.0,41000.0,8",
        "2022,842,36,750210,M,1000.0,40.0,40.0,8",  # Australia -> USA: no BACI 2022 flow
    ], [("CAN", "USA", "750210", 1_000_000.0), ("CHN", "JPN", "750210", 5_000.0)],
        _reference("750210", 2_000.0, 70.0))
    assert frame.loc[("CAN", "USA", "750210"), "qty_t"] == 41.0
    assert pd.isna(frame.loc[("CHN", "JPN", "750210"), "qty_t"])
    assert cov_ct.dropped == {"country code not in BACI's country table": 1,
                              "no 2022 BACI flow of this exporter, importer and code": 1}
    assert cov_ct.examples["country code not in BACI's country table"] == ["234"]


def test_hafnium_counts_in_811292_and_an_implausible_code_is_withheld(tmp_path: Path) -> None:
    frame, check, cov, cov_ct = _read(tmp_path, [
        # HS 2022 split hafnium (811231) out of 811292: HS 2017's 811292 holds both
        "2022,842,276,811292,M,500000.0,2000.0,2000.0,8",
        "2022,842,276,811231,M,300000.0,1000.0,1000.0,8",
        # helium and other rare gases declared 30 times 2024's tonnes (a unit mistake)
        "2022,484,842,280429,M,21900000.0,71921720.0,71921720.0,8",
    ], [("DEU", "USA", "811292", 800_000.0), ("USA", "MEX", "280429", 21_900_000.0)],
        pd.concat([_reference("811292", 900.0, 3.0),
                   _reference("280429", 210_000.0, 2_400.0)]).reset_index(drop=True))
    assert frame.loc[("DEU", "USA", "811292"), "qty_t"] == 3.0
    assert cov_ct.merged == 1
    assert pd.isna(frame.loc[("USA", "MEX", "280429"), "qty_t"])
    row = check.set_index("hs6").loc["280429"]
    assert not row["kept"] and row["ratio_t"] == pytest.approx(71_921.72 / 2_400)
    assert row["reason"].startswith("2022 world tonnes 29.97 times 2024's (beyond 2x)")
    assert cov.notes["2022 quantity withheld: its code fails the check against BACI 2024"] == 1
    assert cov_ct.dropped["code withheld by the check against BACI 2024"] == 1
    records = comtrade.check_records(check)
    assert [r["hs6"] for r in records if not r["kept"]] == ["280429"]


def test_2022_tonnes_of_the_pinned_files_are_within_2x_of_2024() -> None:
    cov24, cov22, cov_ct = Coverage("24"), Coverage("22"), Coverage("ct")
    correspondence = catalog.load("hs_correspondence")
    known = Known(countries=frozenset(catalog.load_countries()["iso3"]))
    y24 = baci_hs17.read_2024(source_file(SOURCE_DATA, "baci-hs17-2024"), correspondence,
                              known, cov24).to_pandas()
    y22, check = baci_hs17.read_2022(
        source_file(SOURCE_DATA, "baci-hs17-2022"), source_file(SOURCE_DATA, "comtrade-2022"),
        y24, catalog.load_country_codes(), correspondence, known, cov22, cov_ct)
    by_code = check.set_index("hs6")
    # refined nickel and copper cathodes: 0.69 Mt and 9.6 Mt, as in 2024 (0.73 Mt, 9.4 Mt)
    for hs6 in ("750210", "740311", "850511"):
        assert 0.5 < by_code.loc[hs6, "ratio_t"] < 2.0 and by_code.loc[hs6, "kept"], hs6
    assert 600e3 < by_code.loc["750210", "t_2022"] < 800e3
    withheld = set(by_code.index[~by_code["kept"]])
    assert "280429" in withheld  # rare gases: 3x 2024's tonnes at a third of the unit value
    assert withheld <= {"280429", "282200", "283691", "810320"}
    flows = y22.to_pandas()
    weighed = flows[flows["qty_t"].notna()]
    assert len(weighed) / len(flows) > 0.8
    assert (weighed["qty_t"] > 0).all()
    # Taiwan's declared partners' weights reach BACI's S19 rows
    assert weighed["src_importer"].eq("S19").sum() > 100
    world = weighed[weighed["src_hs6"] == "750210"]["qty_t"].sum()
    assert world == pytest.approx(by_code.loc["750210", "t_2022"])
