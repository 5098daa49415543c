"""Importing BACI release files: kept and dropped rows, year replacement, all-or-nothing."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import pytest

import critmin
from critmin.errors import DataError, InvalidInput
from critmin.store import get_store
from critmin.store.paths import imports_dir

GOOD = "2023,156,699,282520,100.5,10.2"  # China -> India, lithium carbonate
LINES = [
    "t,i,j,k,v,q",
    GOOD,
    "2023,699,156,282520,50.0,          NA",  # missing quantity (BACI pads NA): kept, noted
    "2023,842,156,261100,20,4",  # USA -> China, tungsten ores
    "2023,999999,699,282520,1.0,1.0",  # unknown country code
    "2023,156,699,010121,3.0,1.0",  # unknown product (live horses)
    "2023,156,699,999999,3.0,1.0",  # unknown product
    "2023,156,699,282520,7.0,-1.0",  # negative quantity
    "2023,156,699",  # wrong column count
    "abc,156,699,282520,1.0,1.0",  # text in the year
]
PNG_GARBAGE = b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 100
# binary whose first line is ASCII: the header decodes, the body does not
BINARY_ASCII_HEAD = bytes(range(256)) * 8
DROPPED = {"malformed line": 2, "unknown country code": 1, "unknown product": 2,
           "negative quantity": 1}


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@pytest.fixture
def baci_csv(tmp_path: Path) -> Path:
    return write(tmp_path / "BACI_HS92_Y2023_V202501.csv", LINES)


def snapshot_rows_by_year() -> dict[int, int]:
    by_year = get_store().manifest["tables"]["flows"]["rows_by_year"]
    return {int(k): v for k, v in by_year.items()}


def user_state(home: Path) -> tuple[bytes | None, set[str]]:
    folder = home / "imports"
    manifest = folder / "manifest.json"
    # data files and the manifest (the lock file and leases are housekeeping)
    files = {p.name for p in folder.glob("*") if not p.name.startswith(".")} \
        if folder.exists() else set()
    return (manifest.read_bytes() if manifest.exists() else None), files


def test_import_keeps_and_drops_by_reason(baci_csv: Path) -> None:
    report = critmin.import_baci([baci_csv])
    cov = report.coverage
    assert report.years == [2023]
    assert cov["rows_read"] == len(LINES) - 1
    assert cov["rows_kept"] == 3
    assert cov["dropped"] == DROPPED
    assert cov["rows_dropped"] == sum(DROPPED.values())
    assert cov["notes"] == {"missing quantity (kept with value only)": 1}
    assert cov["examples"]["unknown country code"] == ["999999"]
    assert set(cov["examples"]["unknown product"]) == {"010121", "999999"}
    assert cov["examples"]["negative quantity"] == ["-1.0"]
    payload = report.to_dict()
    assert payload["files"] == [str(baci_csv)] and payload["years"] == [2023]


def test_malformed_line_example_names_its_line(baci_csv: Path) -> None:
    report = critmin.import_baci([baci_csv])
    examples = report.coverage["examples"]["malformed line"]
    wrong_count = [e for e in examples if "'2023,156,699'" in e]
    assert len(wrong_count) == 1
    assert "line None" not in wrong_count[0]
    assert "line 9" in wrong_count[0]


def test_imported_year_replaces_snapshot_year(baci_csv: Path) -> None:
    before = snapshot_rows_by_year()
    assert get_store().status()["tables"]["flows"]["rows"] == sum(before.values())
    critmin.import_baci([baci_csv])
    store = get_store()
    flows = store.status()["tables"]["flows"]
    assert flows["rows"] == sum(before.values()) - before[2023] + 3
    assert flows["source"] == "snapshot + import"
    assert flows["imported_years"] == [2023]
    assert flows["years"] == [1995, 2024]

    y2023 = store.flows(years=[2023]).astype({"exporter": str, "importer": str, "hs6": str})
    y2023 = y2023.sort_values(["exporter", "importer"]).reset_index(drop=True)
    assert y2023[["exporter", "importer", "hs6"]].values.tolist() == [
        ["CHN", "IND", "282520"], ["IND", "CHN", "282520"], ["USA", "CHN", "261100"]]
    assert y2023["value_kusd"].tolist() == [100.5, 50.0, 20.0]
    assert y2023["qty_t"][0] == 10.2 and math.isnan(y2023["qty_t"][1]) and y2023["qty_t"][2] == 4.0
    assert len(store.flows(years=[2022])) == before[2022]
    assert len(store.df("SELECT * FROM flows WHERE year = 2023")) == 3


def test_metrics_follow_the_import(baci_csv: Path) -> None:
    # the cached cube of the snapshot must not be reused after an import
    before = critmin.risk("IND", "lithium", 2023).iloc[0]
    assert before["imports_t"] > 100
    earlier = critmin.risk("IND", "lithium", 2022).iloc[0]["imports_t"]
    critmin.import_baci([baci_csv])
    row = critmin.risk("IND", "lithium", 2023).iloc[0]
    assert row["imports_t"] == pytest.approx(10.2)
    assert row["imports_kusd"] == pytest.approx(100.5)
    assert row["price_usd_per_kg"] == pytest.approx(100.5 / 10.2)
    assert row["china_share"] == 1.0
    assert row["top_supplier"] == "CHN"
    # other years unchanged
    assert critmin.risk("IND", "lithium", 2022).iloc[0]["imports_t"] == pytest.approx(earlier)


def test_second_import_replaces_first_of_same_year(tmp_path: Path, baci_csv: Path) -> None:
    critmin.import_baci([baci_csv])
    other = write(tmp_path / "again.csv", ["t,i,j,k,v,q", "2023,36,156,282520,5,1",
                                           "2021,36,156,282520,6,2"])
    report = critmin.import_baci([other])
    assert report.years == [2021, 2023]
    store = get_store()
    assert len(store.flows(years=[2023])) == 1
    assert len(store.flows(years=[2021])) == 1
    before = snapshot_rows_by_year()
    tables = store.status()["tables"]["flows"]
    assert tables["rows"] == sum(before.values()) - before[2023] - before[2021] + 2
    assert tables["imported_years"] == [2021, 2023]
    assert len(store.user_manifest["imports"]) == 2
    # one file per imported year; the first import's 2023 file is gone
    assert len(list(imports_dir().glob("flows-*.parquet"))) == 2


def test_zipped_input(tmp_path: Path) -> None:
    archive = tmp_path / "BACI_HS92_V202501.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Readme.txt", "not a table")
        zf.writestr("BACI_HS92_Y2023_V202501.csv", "\n".join(LINES) + "\n")
        zf.writestr("country_codes_V202501.csv",
                    "country_code,country_name,country_iso2,country_iso3\n699,India,IN,IND\n")
    report = critmin.import_baci([archive])
    assert report.coverage["rows_kept"] == 3
    assert report.coverage["dropped"] == DROPPED
    assert len(get_store().flows(years=[2023])) == 3


def test_garbage_file_raises_and_store_unchanged(tmp_path: Path, critmin_home: Path) -> None:
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(PNG_GARBAGE)
    with pytest.raises(DataError):
        critmin.import_baci([garbage])
    assert user_state(critmin_home) == (None, set())


def test_csv_without_baci_columns_raises(tmp_path: Path, critmin_home: Path) -> None:
    other = write(tmp_path / "other.csv", ["year,country,value", "2023,IND,1"])
    with pytest.raises(DataError, match="no BACI table"):
        critmin.import_baci([other])
    assert user_state(critmin_home) == (None, set())


def test_failed_import_leaves_previous_import(tmp_path: Path, baci_csv: Path,
                                              critmin_home: Path) -> None:
    critmin.import_baci([baci_csv])
    state = user_state(critmin_home)
    rows = get_store().status()["tables"]["flows"]["rows"]
    good = write(tmp_path / "good2021.csv", ["t,i,j,k,v,q", "2021,36,156,282520,6,2"])
    garbage = tmp_path / "bad.csv"
    garbage.write_bytes(PNG_GARBAGE)
    with pytest.raises(DataError):
        critmin.import_baci([good, garbage])  # all or nothing
    assert user_state(critmin_home) == state
    assert get_store().status()["tables"]["flows"]["rows"] == rows
    only_dropped = write(tmp_path / "dropped.csv", ["t,i,j,k,v,q", "2021,999999,156,282520,6,2"])
    with pytest.raises(DataError, match="every row was dropped"):
        critmin.import_baci([only_dropped])
    assert user_state(critmin_home) == state


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInput):
        critmin.import_baci([])
    with pytest.raises(InvalidInput, match="no such file"):
        critmin.import_baci(["/nonexistent/baci.csv"])


# -- command line ----------------------------------------------------------------------------

def test_cli_import_json(cli, baci_csv: Path) -> None:
    res = cli("data", "import", "baci", str(baci_csv), "--json")
    assert res.code == 0, res.stderr
    payload = json.loads(res.stdout)  # stdout is the JSON alone
    assert payload["years"] == [2023]
    assert payload["rows_kept"] == 3
    assert payload["dropped"] == DROPPED
    assert payload["notes"] == {"missing quantity (kept with value only)": 1}
    assert "Traceback" not in res.stderr
    status = cli("data", "status", "--json")
    assert status.code == 0
    flows = status.json()["tables"]["flows"]
    before = snapshot_rows_by_year()
    assert flows["rows"] == sum(before.values()) - before[2023] + 3
    assert flows["imported_years"] == [2023]


def test_cli_import_human_output(cli, baci_csv: Path) -> None:
    res = cli("data", "import", "baci", str(baci_csv))
    assert res.code == 0
    assert res.stdout == ""
    assert "kept 3" in res.stderr
    assert "dropped 2: unknown product" in res.stderr


@pytest.mark.parametrize("content", [
    PNG_GARBAGE,
    b"a,b,c\n1,2,3\n",
    BINARY_ASCII_HEAD,
])
def test_cli_import_unparseable_exits_2(cli, tmp_path: Path, critmin_home: Path,
                                       content: bytes) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    res = cli("data", "import", "baci", str(bad), "--json")
    assert res.code == 2
    assert res.stdout == ""
    assert res.stderr.startswith("error:")
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr
    assert user_state(critmin_home) == (None, set())


def test_cli_import_missing_file_exits_2(cli, tmp_path: Path) -> None:
    res = cli("data", "import", "baci", str(tmp_path / "nope.csv"))
    assert res.code == 2
    assert "no such file" in res.stderr


def test_reset_returns_to_the_snapshot(cli, baci_csv: Path) -> None:
    before = get_store().status()["tables"]["flows"]["rows"]
    critmin.import_baci([baci_csv])
    assert get_store().status()["tables"]["flows"]["rows"] != before
    res = cli("data", "reset", "--yes")
    assert res.code == 0
    status = get_store().status()["tables"]["flows"]
    assert status["rows"] == before and status["source"] == "snapshot"
