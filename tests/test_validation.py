"""Validation at the door: what the importer keeps, drops and counts, on hostile input."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import critmin
from critmin.errors import CritminError, DataError, InvalidInput
from critmin.store import get_store, paths

pytestmark = pytest.mark.usefixtures("tiny_store")


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def stored(year: int) -> pd.DataFrame:
    return get_store().flows(years=[year]).astype({"exporter": str, "importer": str, "hs6": str})


@pytest.mark.parametrize("year", ["67559", "40000", "1800", "3000", "0", "-5", "1949"])
def test_years_outside_the_range_are_dropped(tmp_path: Path, year: str) -> None:
    default = critmin.default_year()
    f = write(tmp_path / "y.csv", ["t,i,j,k,v,q", f"{year},156,699,283691,1,1",
                                   "2021,156,699,283691,2,2"])
    report = critmin.import_baci(f)
    dropped = report.coverage["dropped"]
    reason = "malformed line" if year.startswith("-") else next(
        k for k in dropped if k.startswith("year out of range"))
    assert dropped[reason] == 1
    assert report.years == [2021]
    assert len(stored(2021)) == 1 and len(stored(2023)) == 6  # 2023 untouched
    assert critmin.default_year() == default
    if not year.startswith("-"):
        assert report.coverage["examples"][reason] == [year]


@pytest.mark.parametrize(("v", "q", "reason"), [
    ("inf", "1", "non-finite value"), ("1e400", "1", "non-finite value"),
    ("1", "1e400", "non-finite quantity"), ("nan", "1", "non-finite value"),
    ("-3", "1", "negative value"), ("1", "-2", "negative quantity"), ("", "1", "malformed line"),
])
def test_non_finite_and_negative_values_are_dropped(tmp_path: Path, v: str, q: str,
                                                    reason: str) -> None:
    f = write(tmp_path / "v.csv", ["t,i,j,k,v,q", f"2021,156,699,283691,{v},{q}",
                                   "2021,842,699,283691,5,5"])
    report = critmin.import_baci(f)
    assert report.coverage["dropped"] == {reason: 1}
    rows = stored(2021)
    assert rows["value_kusd"].tolist() == [5.0]
    row = critmin.risk("IND", "lithium", 2021).iloc[0]
    assert row["imports_kusd"] == 5.0  # never Infinity


def test_duplicates_and_the_same_file_twice_are_never_summed(tmp_path: Path) -> None:
    lines = ["t,i,j,k,v,q", "2021,156,699,283691,10,2", "2021,156,699,283691,10,2",
             "2021,156,699,283691,99,9", "2021,842,699,283691,5,1"]
    f = write(tmp_path / "d.csv", lines)
    report = critmin.import_baci([f, f])
    cov = report.coverage
    assert cov["dropped"] == {"exact duplicate row": 5,
                              "conflicting duplicate row (first kept)": 1}
    rows = stored(2021).sort_values("exporter")
    assert rows["value_kusd"].tolist() == [10.0, 5.0]  # first kept, not doubled
    assert cov["rows_kept"] == len(rows) == 2
    assert cov["rows_read"] == cov["rows_kept"] + cov["rows_dropped"] + cov["rows_merged"]


def test_two_codes_of_one_country_are_merged_and_counted(tmp_path: Path) -> None:
    # 276 and 280 (Fed. Rep. of Germany) are both Germany
    f = write(tmp_path / "m.csv", ["t,i,j,k,v,q", "2021,276,699,283691,10,2",
                                   "2021,280,699,283691,4,1"])
    cov = critmin.import_baci(f).coverage
    assert cov["rows_merged"] == 1 and cov["rows_kept"] == 1
    assert stored(2021)[["value_kusd", "qty_t"]].values.tolist() == [[14.0, 3.0]]


def test_append_adds_and_says_what_it_replaced(tmp_path: Path) -> None:
    first = critmin.import_baci(write(tmp_path / "a.csv", ["t,i,j,k,v,q",
                                                            "2022,156,699,283691,1,1"]))
    assert first.replaced[2022] == {"from": "snapshot", "rows_before": 9, "rows_after": 1}
    more = write(tmp_path / "b.csv", ["t,i,j,k,v,q", "2022,842,699,283691,2,2",
                                      "2022,156,699,283691,1,1", "2022,156,699,283691,3,3"])
    added = critmin.import_baci(more, append=True)
    assert added.replaced[2022] == {"from": "import", "rows_before": 1, "rows_after": 2}
    assert added.coverage["rows_kept"] == 1
    assert added.coverage["dropped"] == {"conflicting duplicate row (first kept)": 1,
                                         "already stored (exact duplicate)": 1}
    assert len(stored(2022)) == 2
    # appending to a year only the snapshot has keeps the snapshot's rows
    snap = critmin.import_baci(write(tmp_path / "c.csv", ["t,i,j,k,v,q",
                                                          "2023,842,699,283691,2,2"]),
                               append=True)
    assert snap.replaced[2023] == {"from": "snapshot", "rows_before": 6, "rows_after": 7}
    assert len(stored(2023)) == 7


def test_a_string_path_is_one_file(tmp_path: Path) -> None:
    f = write(tmp_path / "one.csv", ["t,i,j,k,v,q", "2021,156,699,283691,1,1"])
    assert critmin.import_baci(str(f)).files == [str(f)]
    with pytest.raises(InvalidInput):
        critmin.import_baci([1, 2])  # type: ignore[list-item]


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInput, match="not a regular file"):
        critmin.import_baci(fifo)
    with pytest.raises(InvalidInput, match="is a folder"):
        critmin.import_baci(tmp_path)


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open("BACI_HS92_Y2021_V202501.csv", "w") as member:
        member.write(b"t,i,j,k,v,q\n")
        zeros = b"0" * (1 << 20)
        for _ in range(64):
            member.write(zeros)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(DataError, match="zip bomb"):
        critmin.import_baci(bomb)
    assert not (paths.imports_dir() / "manifest.json").exists()


def test_imported_rows_are_what_the_report_counts(tmp_path: Path) -> None:
    lines = ["t,i,j,k,v,q"] + [f"{2015 + n % 3},{[156, 842, 36][n % 3]},699,283691,{n + 1},{n}"
                               for n in range(30)] + ["2016,999,699,283691,1,1"]
    report = critmin.import_baci(write(tmp_path / "c.csv", lines))
    total = sum(len(stored(y)) for y in report.years)
    assert report.coverage["rows_kept"] == total
    assert get_store().rows_by_year("flows")[2015] == len(stored(2015))


CELL = st.one_of(
    st.integers(-10, 10**7).map(str), st.sampled_from(
        ["", "NA", "nan", "inf", "-inf", "1e400", "2021", "156", "699", "283691", "[/]",
         "t", "é", "1,5", '"', "0x10", " 12 ", "1e5", "2021.0"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r,"),
            max_size=6),
)
ROW = st.one_of(
    st.tuples(st.sampled_from(["2020", "2021", "1800", "99999", "x"]),
              st.sampled_from(["156", "842", "699", "36", "280", "276", "1", "-4"]),
              st.sampled_from(["699", "156", "842", "0"]),
              st.sampled_from(["283691", "282520", "284690", "10121", "1234567"]),
              CELL, CELL).map(",".join),
    st.lists(CELL, min_size=0, max_size=8).map(",".join),
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=25))
def test_fuzzed_csv_is_rejected_cleanly_or_every_kept_row_is_valid(tmp_path: Path,
                                                                   rows: list[str]) -> None:
    from critmin.checks import YEAR_MIN, year_max
    from critmin.ingest import reset_imports

    reset_imports()
    before = get_store().rows_by_year("flows")
    f = tmp_path / "fuzz.csv"
    f.write_text("\n".join(["t,i,j,k,v,q", *rows]) + "\n", "utf-8")
    try:
        report = critmin.import_baci(f)
    except CritminError:
        assert get_store().rows_by_year("flows") == before  # unchanged
        return
    cov = report.coverage
    assert cov["rows_read"] == cov["rows_kept"] + cov["rows_dropped"] + cov["rows_merged"]
    frame = get_store().flows(years=report.years)
    assert len(frame) == sum(r["rows_after"] for r in report.replaced.values())
    assert frame["year"].between(YEAR_MIN, year_max()).all()
    assert frame["hs6"].astype(str).str.fullmatch(r"\d{6}").all()
    assert (frame["value_kusd"] >= 0).all() and frame["value_kusd"].map(pd.notna).all()
    q = frame["qty_t"].dropna()
    assert (q >= 0).all() and q.map(lambda x: x < float("inf")).all()
    known = set(get_store().table("countries")["iso3"])
    assert set(frame["exporter"].astype(str)) | set(frame["importer"].astype(str)) <= known
