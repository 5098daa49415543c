"""Hostile input files: crafted or damaged zip archives, numbers that overflow or are absurd,
columns named twice. Each is refused with critmin's own error, or its rows are dropped and
counted, quickly, and a refused import leaves the store as it was."""

from __future__ import annotations

import io
import json
import math
import struct
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

import critmin
from critmin import files
from critmin.errors import DataError
from critmin.ingest import import_source, known_for
from critmin.sources import validate
from critmin.store import get_store

MEMBER = "BACI_HS92_Y2023_V202501.csv"
GOOD = ["t,i,j,k,v,q", "2023,156,699,282520,100.5,10.2", "2023,842,156,261100,20,4"]


def body(rows: int = 2_000) -> str:
    """A BACI trade CSV of ``rows`` distinct, valid rows (values vary, so it compresses
    like real data rather than to nothing)."""
    lines = ["t,i,j,k,v,q"] + [
        f"2023,{[156, 842, 36, 76, 710][n % 5]},699,{[282520, 261100][n // 5 % 2]},"
        f"{(n * 7919) % 100_003 / 7:.3f},{(n * 104_729) % 9_973 / 3:.2f}" for n in range(rows)]
    return "\n".join(lines) + "\n"


def write_zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def end_record(data: bytes | bytearray) -> int:
    return bytes(data).rfind(b"PK\x05\x06")


def listed_again(path: Path, times: int) -> Path:
    """The archive's one central-directory entry listed ``times`` times (all pointing to the
    same data): every listing inflates the whole member again."""
    data = path.read_bytes()
    end = end_record(data)
    size, offset = struct.unpack("<II", data[end + 12:end + 20])
    record = bytearray(data[end:])
    record[8:12] = struct.pack("<HH", times, times)
    record[12:16] = struct.pack("<I", size * times)
    path.write_bytes(data[:offset] + data[offset:offset + size] * times + bytes(record))
    return path


def patched(path: Path, change: Callable[[bytearray, int, int], None]) -> Path:
    """``path`` with ``change(data, local header, central header)`` applied to its bytes."""
    data = bytearray(path.read_bytes())
    change(data, data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02"))
    path.write_bytes(bytes(data))
    return path


def user_state(home: Path) -> tuple[bytes | None, set[str]]:
    folder = home / "imports"
    manifest = folder / "manifest.json"
    names = {p.name for p in folder.glob("*") if not p.name.startswith(".")} \
        if folder.exists() else set()
    return (manifest.read_bytes() if manifest.exists() else None), names


@pytest.fixture
def warm() -> None:
    """The store and its reference sets opened, so that a timing counts the import alone."""
    known_for("flows")


@pytest.fixture
def refused(critmin_home: Path, warm: None) -> Iterator[Callable[..., DataError]]:
    """Import files expecting a refusal: returns the error, checks it took well under a
    second of work and that the store (with one earlier import in it) did not change."""
    def check(*paths: Path, kind: str = "baci") -> DataError:
        start = time.process_time()  # this process's work, whatever else the machine runs
        with pytest.raises(DataError) as caught:
            import_source(kind, list(paths))
        assert time.process_time() - start < 1.0
        assert user_state(critmin_home) == before
        return caught.value

    seed = critmin_home.parent / f"{critmin_home.name}-seed.csv"
    seed.write_text("t,i,j,k,v,q\n2021,36,156,282520,6,2\n")
    critmin.import_baci(seed)
    before = user_state(critmin_home)
    yield check
    assert get_store().rows_by_year("flows")[2021] == 1


# -- zip archives -----------------------------------------------------------------------------

def test_a_member_listed_300_times_is_refused_at_once(tmp_path: Path, refused) -> None:
    archive = listed_again(write_zip(tmp_path / "same.zip", {MEMBER: body()}), 300)
    assert len(zipfile.ZipFile(archive).infolist()) == 300
    err = refused(archive)
    assert str(err) == (f"same.zip: lists {MEMBER!r} 300 times; each name may appear once "
                        "in a zip archive (refused as a crafted archive)")


def test_a_zip_of_2000_members_is_refused_at_once(tmp_path: Path, refused) -> None:
    archive = write_zip(tmp_path / "many.zip",
                        {f"m{n:04d}.csv": "t,i,j,k,v,q\n2023,156,699,282520,1,1\n"
                         for n in range(2_000)})
    err = refused(archive)
    assert str(err) == "many.zip: lists 2,000 entries; at most 1,000 are read from one zip archive"


def test_the_entry_count_is_read_before_the_listing(tmp_path: Path, refused) -> None:
    """A zip64 end record declaring the count: the listing is never parsed."""
    archive = tmp_path / "z64.zip"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 5)  # write zip64 end records
        write_zip(archive, {f"{n}.csv": "" for n in range(1_001)})
    patched(archive, lambda d, _l, _c: d.__setitem__(
        slice(end_record(d) + 8, end_record(d) + 12), b"\xff" * 4))
    assert files._listed_entries(archive) == 1_001
    assert "lists 1,001 entries" in str(refused(archive))


def test_names_repeated_under_different_data_are_refused(tmp_path: Path, refused) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf, pytest.warns(UserWarning, match="Duplicate"):
        zf.writestr(MEMBER, body(10))
        zf.writestr(MEMBER, body(20))
    assert f"lists {MEMBER!r} 2 times" in str(refused(archive))


def test_entries_sharing_their_data_are_refused(tmp_path: Path, refused) -> None:
    """Two names pointing at one member's data (an overlapping zip bomb)."""
    archive = write_zip(tmp_path / "overlap.zip", {MEMBER: body(20_000)})
    data = archive.read_bytes()
    end = end_record(data)
    size, offset = struct.unpack("<II", data[end + 12:end + 20])
    entry = data[offset:offset + size]
    other = entry.replace(MEMBER.encode(), MEMBER.replace("2023", "2022").encode())
    record = bytearray(data[end:])
    record[8:12] = struct.pack("<HH", 2, 2)
    record[12:16] = struct.pack("<I", size * 2)
    archive.write_bytes(data[:offset + size] + other + bytes(record))
    assert len(zipfile.ZipFile(archive).infolist()) == 2
    err = refused(archive)
    assert "entries share their data" in str(err) or "zip bomb" in str(err)


def test_a_declared_size_that_lies_is_a_data_error(tmp_path: Path, refused) -> None:
    archive = write_zip(tmp_path / "lying.zip", {MEMBER: body()})

    def smaller(data: bytearray, local: int, central: int) -> None:
        data[local + 22:local + 26] = struct.pack("<I", 100)
        data[central + 24:central + 28] = struct.pack("<I", 100)

    patched(archive, smaller)
    err = refused(archive)
    assert str(err).startswith(f"lying.zip:{MEMBER}: damaged zip member")
    assert "CRC" in str(err)


def test_a_size_beyond_the_ratio_is_refused_before_reading(tmp_path: Path, refused) -> None:
    archive = write_zip(tmp_path / "inflated.zip", {MEMBER: body()})

    def larger(data: bytearray, local: int, central: int) -> None:
        data[local + 22:local + 26] = struct.pack("<I", 4_000_000_000)
        data[central + 24:central + 28] = struct.pack("<I", 4_000_000_000)

    patched(archive, larger)
    err = refused(archive)
    assert "declares 4,000,000,000 bytes" in str(err) and "zip bomb" in str(err)


def test_the_total_size_is_capped(tmp_path: Path, refused, monkeypatch: pytest.MonkeyPatch
                                  ) -> None:
    archive = write_zip(tmp_path / "big.zip", {MEMBER: body(), "b.csv": body()})
    declared = sum(i.file_size for i in zipfile.ZipFile(archive).infolist())
    monkeypatch.setattr(files, "MAX_ZIP_BYTES", declared - 1)
    assert str(refused(archive)) == (
        f"big.zip: its CSV members declare {declared:,} bytes in total; at most "
        f"{declared - 1:,} are read from one zip archive")


def test_an_encrypted_member_is_a_data_error(tmp_path: Path, refused) -> None:
    archive = write_zip(tmp_path / "secret.zip", {MEMBER: body()})

    def encrypt(data: bytearray, local: int, central: int) -> None:
        data[local + 6] |= 0x1  # general-purpose flag bit 0: encrypted
        data[central + 8] |= 0x1

    patched(archive, encrypt)
    assert str(refused(archive)) == (f"secret.zip:{MEMBER}: the member is encrypted; extract "
                                     "it with its password and import the CSV file")


def test_an_unknown_compression_method_is_a_data_error(tmp_path: Path, refused) -> None:
    archive = write_zip(tmp_path / "deflate64.zip", {MEMBER: body()})

    def method(data: bytearray, local: int, central: int) -> None:
        data[local + 8:local + 10] = struct.pack("<H", 9)
        data[central + 10:central + 12] = struct.pack("<H", 9)

    patched(archive, method)
    assert "compressed with zip method 9" in str(refused(archive))


def test_a_corrupt_member_is_a_data_error(tmp_path: Path, refused) -> None:
    archive = write_zip(tmp_path / "corrupt.zip", {MEMBER: body()})

    def scramble(data: bytearray, local: int, central: int) -> None:
        start = local + 30 + len(MEMBER) + 200
        data[start:start + 200] = bytes(b ^ 0xFF for b in data[start:start + 200])

    patched(archive, scramble)
    err = refused(archive)
    assert str(err).startswith(f"corrupt.zip:{MEMBER}: damaged zip member")


def test_a_corrupt_listing_is_a_data_error(tmp_path: Path, refused) -> None:
    archive = write_zip(tmp_path / "listing.zip", {MEMBER: body()})
    patched(archive, lambda d, _l, c: d.__setitem__(slice(c, c + 4), b"XXXX"))
    assert str(refused(archive)).startswith("listing.zip: not a readable zip archive")


def test_a_member_never_inflates_beyond_what_it_declares() -> None:
    stream = io.BufferedReader(files._MemberStream(io.BytesIO(b"x" * 100), 10, "a.zip:b.csv"))
    with pytest.raises(DataError, match=r"a.zip:b.csv: inflates beyond the 10 bytes"):
        stream.read()


def test_members_are_read_from_one_open_archive(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    members = {f"BACI_HS92_Y{2000 + n}_V202501.csv":
               f"t,i,j,k,v,q\n{2000 + n},156,699,282520,{n + 1},1\n" for n in range(20)}
    archive = write_zip(tmp_path / "release.zip", members)
    opened: list[object] = []
    real = zipfile.ZipFile.__init__

    def counting(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        opened.append(args[0])
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting)
    report = critmin.import_baci(archive)
    assert report.years == list(range(2000, 2020)) and report.coverage["rows_kept"] == 20
    assert len(opened) == 1


def test_a_zip_of_999_members_reads_in_linear_time(tmp_path: Path, warm: None) -> None:
    def timed(count: int) -> float:
        archive = write_zip(tmp_path / f"r{count}.zip", {
            f"m{n:04d}.csv": f"t,i,j,k,v,q\n2023,156,699,282520,{n + 1},{count}\n"
            for n in range(count)})
        start = time.process_time()  # this process's work, whatever else the machine runs
        report = critmin.import_baci(archive)
        assert report.coverage["rows_read"] == count
        return time.process_time() - start

    small, large = timed(111), timed(999)
    # 9 times the members; reopening the archive for each member made it 30 to 60 times
    assert large < 15 * small + 1.0


# -- numbers ----------------------------------------------------------------------------------

def import_lines(tmp_path: Path, lines: list[str]) -> dict[str, object]:
    path = tmp_path / "BACI_HS92_Y2023_V202501.csv"
    path.write_text("\n".join(lines) + "\n")
    return critmin.import_baci(path).coverage


def test_a_20_digit_integer_drops_its_row_only(tmp_path: Path) -> None:
    big = "12345678901234567890"
    cov = import_lines(tmp_path, [*GOOD, f"{big},842,699,261100,20,4",
                                  f"2023,{big},699,261100,20,4",
                                  f"2023,36,699,{big},20,4",
                                  f"2023,36,156,261100,20,{big}",
                                  f"2023,76,156,261100,{big},1"])
    assert cov["rows_read"] == 7 and cov["rows_kept"] == 2
    assert cov["dropped"] == {"malformed line": 3,
                              "implausible value (above 1e10 kUSD)": 1,
                              "implausible quantity (above 1e10 t)": 1}
    assert any(big in e for e in cov["examples"]["malformed line"])
    assert cov["examples"]["implausible quantity (above 1e10 t)"] == ["1.2345678901234567e+19"]


def test_absurd_magnitudes_are_dropped_and_counted(tmp_path: Path) -> None:
    cov = import_lines(tmp_path, [*GOOD, "2023,842,699,261100,20,1e308",
                                  "2023,36,699,261100,20,1e308", "2023,76,699,261100,20,1e308",
                                  "2023,36,156,261100,1e11,1"])
    assert cov["dropped"] == {"implausible quantity (above 1e10 t)": 3,
                              "implausible value (above 1e10 kUSD)": 1}
    assert cov["examples"]["implausible quantity (above 1e10 t)"] == ["1e+308"]
    flows = get_store().flows(years=[2023])
    assert len(flows) == 2
    assert math.isfinite(flows["qty_t"].sum()) and math.isfinite(flows["value_kusd"].sum())


def test_a_bound_itself_is_kept(tmp_path: Path) -> None:
    cov = import_lines(tmp_path, [*GOOD, "2023,36,699,261100,1e10,1e10"])
    assert cov["rows_kept"] == 3 and cov["dropped"] == {}


def test_non_finite_values_are_dropped(tmp_path: Path) -> None:
    cov = import_lines(tmp_path, [*GOOD, "2023,842,699,261100,inf,4",
                                  "2023,36,699,261100,NaN,4", "2023,76,699,261100,20,-inf",
                                  "2023,36,156,261100,20,Infinity", "2023,76,156,261100,1e400,1"])
    assert cov["dropped"] == {"non-finite value": 3, "non-finite quantity": 2}
    assert cov["rows_kept"] == 2


def test_the_bounds_leave_every_bundled_row() -> None:
    store = get_store()
    assert store.flows()["qty_t"].max() < validate.PLAUSIBLE_MAX["t"] / 10
    assert store.flows()["value_kusd"].max() < validate.PLAUSIBLE_MAX["kUSD"] / 10
    assert store.table("production")["qty_t"].max() < validate.PLAUSIBLE_MAX["t"] / 2


def test_purchases_are_bounded_in_tonnes_and_in_their_currency(tmp_path: Path) -> None:
    rows = pd.DataFrame({
        "period": "2024", "supplier_name": "Acme", "reference": [f"PO-{n}" for n in range(5)],
        "material": "lithium", "supplier_country": "CHL",
        "quantity": ["2e13", "2e13", "9e9", "inf", "1"],
        "quantity_unit": ["kg", "lb", "t", "t", "t"],
        "value": ["", "", "", "", "2e16"], "currency": ["", "", "", "", "IRR"],
        "usd_rate": ["", "", "", "", "0.000024"]})
    path = tmp_path / "purchases.csv"
    rows.to_csv(path, index=False)
    cov = import_source("purchases", [path]).coverage
    assert cov["dropped"] == {"implausible quantity (above 1e10 t)": 1,
                              "non-finite quantity": 1,
                              "implausible value (above 1e16 in its currency)": 1}
    assert cov["rows_kept"] == 2  # 2e13 lb is 9.1e9 t


def test_a_code_file_with_absurd_codes_adds_only_real_ones(tmp_path: Path) -> None:
    """Codes of a release's country file beyond five digits are left out (a code table is
    an array indexed by code), and its header is matched like any other."""
    archive = write_zip(tmp_path / "codes.zip", {
        MEMBER: "t,i,j,k,v,q\n2023,9999,699,282520,1,1\n2023,123456789012,699,282520,2,1\n",
        "country_codes_V202501.csv": "Country_Code,country_name,country_iso2,COUNTRY_ISO3\n"
                                     "9999,India,IN,IND\n123456789012,X,X,CHN\n"
                                     "99999999999999999999999,Y,Y,USA\n"})
    cov = critmin.import_baci(archive).coverage
    assert cov["rows_kept"] == 1 and cov["dropped"] == {"unknown country code": 1}
    assert get_store().flows(years=[2023])["exporter"].tolist() == ["IND"]


# -- columns ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "column", "at"), [
    ("t,i,j,k,v,q,t", "t", "1, 7"),
    ("t,i,j,k,v,q,Q", "q", "6, 7"),
    ('t,i,j,k,v," q ",q', "q", "6, 7"),
])
def test_a_column_named_twice_is_refused(tmp_path: Path, refused, header: str, column: str,
                                         at: str) -> None:
    path = tmp_path / "twice.csv"
    path.write_text(header + "\n2023,156,699,282520,100.5,10.2,9\n")
    assert str(refused(path)) == (f"twice.csv: column {column!r} appears 2 times "
                                  f"(columns {at}); each column may appear once")


def test_a_zip_member_with_a_column_named_twice_is_refused(tmp_path: Path, refused) -> None:
    archive = write_zip(tmp_path / "r.zip", {MEMBER: "t,i,j,k,v,q,k\n2023,156,699,282520,1,1,2\n"})
    assert f"r.zip:{MEMBER}: column 'k' appears 2 times" in str(refused(archive))


def test_a_purchase_column_named_twice_is_refused(tmp_path: Path, refused) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text("period,supplier_name,reference,material,supplier_country,quantity,"
                    "quantity_unit,Quantity\n2024,Acme,PO-1,lithium,CHL,1,t,2\n")
    assert str(refused(path, kind="purchases")) == (
        "purchases.csv: column 'quantity' appears 2 times (columns 6, 8); each column may "
        "appear once")


# -- command line -----------------------------------------------------------------------------

HOSTILE = {
    "same.zip": lambda p: listed_again(write_zip(p, {MEMBER: body()}), 300),
    "many.zip": lambda p: write_zip(p, {f"{n}.csv": "t,i,j,k,v,q\n" for n in range(2_000)}),
    "secret.zip": lambda p: patched(write_zip(p, {MEMBER: body()}), lambda d, lo, c: (
        d.__setitem__(lo + 6, d[lo + 6] | 1), d.__setitem__(c + 8, d[c + 8] | 1))),
    "lying.zip": lambda p: patched(write_zip(p, {MEMBER: body()}), lambda d, lo, c: (
        d.__setitem__(slice(lo + 22, lo + 26), struct.pack("<I", 100)),
        d.__setitem__(slice(c + 24, c + 28), struct.pack("<I", 100)))),
    "corrupt.zip": lambda p: patched(write_zip(p, {MEMBER: body()}), lambda d, lo, _c: (
        d.__setitem__(slice(lo + 300, lo + 500), bytes(200)))),
    "twice.csv": lambda p: p.write_text("t,i,j,k,v,q,t\n2023,156,699,282520,1,1,1\n") and p,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_cli_refuses_hostile_files_with_exit_2(cli, tmp_path: Path, critmin_home: Path,
                                               name: str) -> None:
    path = HOSTILE[name](tmp_path / name)
    res = cli("data", "import", "baci", str(path), "--json")
    assert res.code == 2, res.stderr
    assert res.stdout == ""
    assert res.stderr.startswith(f"error: {name}")
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr
    assert user_state(critmin_home) == (None, set())


def test_cli_reports_absurd_rows_as_dropped(cli, tmp_path: Path) -> None:
    path = tmp_path / "absurd.csv"
    path.write_text("\n".join([*GOOD, "2023,842,699,261100,20,1e308",
                               "12345678901234567890,36,699,261100,20,4",
                               "2023,76,699,261100,inf,4"]) + "\n")
    res = cli("data", "import", "baci", str(path), "--json")
    assert res.code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["rows_kept"] == 2
    assert payload["dropped"] == {"malformed line": 1, "non-finite value": 1,
                                  "implausible quantity (above 1e10 t)": 1}
