"""The store under concurrency, damage and hostile manifests (on the tiny fixture snapshot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import critmin
from critmin.errors import DataError, InvalidInput
from critmin.store import get_store, paths

pytestmark = pytest.mark.usefixtures("tiny_store")

CLI = [sys.executable, "-c", "from critmin.cli import main; main()"]


def baci_file(folder: Path, year: int, rows: int = 3, name: str | None = None) -> Path:
    """A small valid BACI file of one year (China -> India lithium carbonate and more)."""
    lines = ["t,i,j,k,v,q"]
    partners = [36, 156, 276, 392, 410, 643, 842]
    for n in range(rows):
        lines.append(f"{year},{partners[n % 7]},699,283691,{10 + n},{1 + n}")
    path = folder / (name or f"baci_{year}_{rows}.csv")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False, **kwargs)  # type: ignore[call-overload]


def stored_years() -> dict[int, int]:
    return {y: n for y, n in get_store().rows_by_year("flows").items()}


# -- concurrency -------------------------------------------------------------------------------

def test_concurrent_imports_of_different_years_all_land(tmp_path: Path) -> None:
    years = [2015, 2016, 2017, 2018, 2019, 2020]
    files = [baci_file(tmp_path, y, rows=4) for y in years]
    procs = [subprocess.Popen([*CLI, "data", "import", "baci", str(f), "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ}) for f in files]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [o[1] for o in outs]
    store = get_store()
    assert sorted(store.status()["tables"]["flows"]["imported_years"]) == years
    for year in years:
        assert store.rows_by_year("flows")[year] == 4
        assert len(store.flows(years=[year])) == 4
    assert len(store.user_manifest["imports"]) == 6


def test_same_year_imported_concurrently_keeps_one_whole_import(tmp_path: Path) -> None:
    small = baci_file(tmp_path, 2021, rows=3)
    large = baci_file(tmp_path, 2021, rows=7)
    procs = [subprocess.Popen([*CLI, "data", "import", "baci", str(f)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for f in (small, large)]
    for p in procs:
        p.communicate(timeout=300)
        assert p.returncode == 0
    assert len(get_store().flows(years=[2021])) in (3, 7)  # one or the other, never a mix


def test_readers_never_fail_during_imports(tmp_path: Path) -> None:
    files = [baci_file(tmp_path, 2022, rows=r, name=f"f{r}.csv") for r in range(2, 8)]
    reader = (
        "import critmin, sys\n"
        "from critmin.store import db\n"
        "for _ in range(15):\n"
        "    db.release_stores()\n"
        "    rows = critmin.risk('IND', 'lithium', 2022)\n"
        "    assert len(rows) == 1, rows\n"
    )
    readers = [subprocess.Popen([sys.executable, "-c", reader], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for f in files:
        assert run("data", "import", "baci", str(f)).returncode == 0
    for r in readers:
        _, err = r.communicate(timeout=300)
        assert r.returncode == 0, err


def test_a_lease_keeps_replaced_files_until_released(tmp_path: Path) -> None:
    critmin.import_baci(baci_file(tmp_path, 2022, rows=3))
    holder = get_store()
    assert len(holder.flows(years=[2022])) == 3  # holds a lease on this generation
    first = {p.name for p in paths.imports_dir().glob("flows-*")}
    # another process replaces 2022: the files this reader uses stay on disk
    assert run("data", "import", "baci", str(baci_file(tmp_path, 2022, rows=5))).returncode == 0
    assert first <= {p.name for p in paths.imports_dir().glob("flows-*")}
    assert len(holder.flows(years=[2022])) == 3  # the old reader still reads its state
    holder.close()
    assert run("data", "import", "baci", str(baci_file(tmp_path, 2023, rows=2))).returncode == 0
    assert not first & {p.name for p in paths.imports_dir().glob("flows-*")}


# -- damage ------------------------------------------------------------------------------------

def test_truncated_import_file_is_named_and_reset_recovers(tmp_path: Path) -> None:
    critmin.import_baci(baci_file(tmp_path, 2022))
    data = next(paths.imports_dir().glob("flows-2022-*.parquet"))
    data.write_bytes(data.read_bytes()[:100])
    status = run("data", "status", "--json")
    assert status.returncode == 1
    damaged = json.loads(status.stdout)["damaged"]
    assert len(damaged) == 1 and data.name in damaged[0] and "truncated" in damaged[0]
    query = run("risk", "-c", "IND", "--json")
    assert query.returncode == 2
    assert "critmin data reset" in query.stderr and len(query.stderr.strip().splitlines()) == 1
    assert run("data", "reset", "--yes").returncode == 0
    assert run("data", "status").returncode == 0
    assert run("risk", "-c", "IND", "--json").returncode == 0


def test_verify_reads_every_byte(tmp_path: Path) -> None:
    critmin.import_baci(baci_file(tmp_path, 2022))
    data = next(paths.imports_dir().glob("flows-2022-*.parquet"))
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, same framing, different content
    data.write_bytes(bytes(raw))
    assert critmin.status()["damaged"] == []
    deep = critmin.status(verify=True)["damaged"]
    assert len(deep) == 1 and "sha256" in deep[0]


def test_truncated_manifest_still_resets(tmp_path: Path) -> None:
    critmin.import_baci(baci_file(tmp_path, 2022))
    manifest = paths.imports_dir() / "manifest.json"
    manifest.write_text(manifest.read_text()[:40])
    res = run("risk", "--json")
    assert res.returncode == 2 and "critmin data reset" in res.stderr
    assert "Traceback" not in res.stderr
    assert run("data", "reset", "--yes").returncode == 0
    assert critmin.status()["tables"]["flows"]["source"] == "snapshot"
    assert not list(paths.imports_dir().glob("flows-*"))


def test_manifest_paths_outside_the_store_are_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    critmin.import_baci(baci_file(tmp_path, 2022))
    manifest_path = paths.imports_dir() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    part = manifest["tables"]["flows"]["years"]["2022"]
    part["file"] = os.path.relpath(victim, paths.imports_dir())
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="not one critmin writes"):
        critmin.risk("IND")
    assert run("data", "reset", "--yes").returncode == 0
    assert victim.read_text() == "precious"


def test_damaged_cache_is_rebuilt_and_an_unwritable_cache_is_skipped() -> None:
    first = critmin.risk("IND", "lithium", 2022)
    critmin.cube()
    cached = next(paths.cache_dir().glob("cube-*.parquet"))
    cached.write_bytes(b"PAR1 not really")
    again = critmin.risk("IND", "lithium", 2022)
    assert again.equals(first)
    # a cache folder that cannot be created: queries still work, nothing cached
    for f in paths.cache_dir().iterdir():
        f.unlink()
    paths.cache_dir().rmdir()
    paths.cache_dir().write_text("not a folder")
    assert critmin.cube().shape[0] > 0
    assert critmin.risk("IND", "lithium", 2022).equals(first)


def test_leftovers_of_killed_runs_are_cleaned(tmp_path: Path) -> None:
    folder = paths.imports_dir()
    folder.mkdir(parents=True)
    (folder / ".critmin-tmp-dead.parquet").write_text("half")
    (folder / ".critmin-tmp-deaddir").mkdir()
    (folder / ".critmin-tmp-deaddir" / "staged-2022.parquet").write_text("half")
    critmin.import_baci(baci_file(tmp_path, 2022))
    assert not list(folder.glob(".critmin-tmp-*"))


def test_interrupted_import_exits_130_and_changes_nothing(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w") as fh:
        fh.write("t,i,j,k,v,q\n")
        row = "2022,156,699,283691,1.5,2.5\n"
        for _ in range(40):
            fh.write(row * 50_000)
    proc = subprocess.Popen([*CLI, "data", "import", "baci", str(big)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(2)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted; nothing was changed"
    assert "Traceback" not in err
    assert get_store().status()["tables"]["flows"]["source"] == "snapshot"
    assert not list(paths.imports_dir().glob(".critmin-tmp-*"))


# -- the snapshot build's output folder --------------------------------------------------------

def test_build_refuses_a_folder_that_is_not_a_snapshot(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "notes").mkdir(parents=True)
    (project / "notes" / "draft.txt").write_text("mine")
    res = run("data", "build", "--out", str(project))
    assert res.returncode == 2
    assert "not empty" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert (project / "notes" / "draft.txt").read_text() == "mine"


def test_snapshot_writer_touches_only_its_own_files(tmp_path: Path) -> None:
    from fixture_store import build

    out = build(tmp_path / "snap")
    (out / "mine").mkdir()
    (out / "mine" / "keep.txt").write_text("mine")
    build(out)  # rebuilding over an earlier snapshot
    assert (out / "mine" / "keep.txt").read_text() == "mine"
    assert (out / "manifest.json").exists()


def test_exports_refuse_the_store(tmp_path: Path) -> None:
    critmin.import_baci(baci_file(tmp_path, 2022))
    target = next(paths.imports_dir().glob("flows-2022-*.parquet"))
    with pytest.raises(InvalidInput, match="inside critmin's data folder"):
        critmin.export_table("flows", target)
    with pytest.raises(InvalidInput, match="inside critmin's data folder"):
        critmin.export_table("flows", paths.snapshot_dir() / "flows.parquet")
    assert len(get_store().flows(years=[2022])) == 3
