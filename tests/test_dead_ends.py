"""No dead ends: every state critmin can be left in has a way out, every "run X" it prints
works, and bad destinations and names are refused with a message that says why.

On the tiny fixture snapshot; tests named ``test_cli_`` run the command line in
subprocesses (the ``cli`` tier).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer.main

import critmin
from critmin import cache, files, resolve
from critmin.errors import DataError, InvalidInput
from critmin.store import get_store, lock, paths, user

pytestmark = pytest.mark.usefixtures("tiny_store")

CLI = [sys.executable, "-c", "from critmin.cli import main; main()"]


def baci_file(folder: Path, year: int = 2022) -> Path:
    """A small valid BACI file of one year."""
    path = folder / f"baci_{year}.csv"
    path.write_text(f"t,i,j,k,v,q\n{year},156,699,283691,10,1\n{year},36,699,283691,11,2\n",
                    "utf-8")
    return path


def run(*args: str, env: dict[str, str] | None = None, **kwargs: Any
        ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=full,
                          timeout=300, check=False, **kwargs)


def quiet(stderr: str) -> bool:
    """No traceback and no "Exception ignored" in ``stderr``."""
    return "Traceback" not in stderr and "Exception ignored" not in stderr


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Exceptions raised where nobody can catch them (in ``__del__``), collected."""
    found: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", found.append)
    yield found


def reopen() -> None:
    """Forget the open stores and name indexes, as a new process would."""
    from conftest import reset_caches

    reset_caches()
    cache._FOLDERS.clear()


# -- 1. a data folder that cannot be written ---------------------------------------------------

def test_a_lease_that_cannot_be_created_reads_without_one(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          unraisable: list[Any]) -> None:
    critmin.import_baci(baci_file(tmp_path))
    expected = critmin.risk("IND", "lithium", 2022)
    reopen()
    shutil.rmtree(paths.imports_dir() / user.LEASES, ignore_errors=True)

    def denied(path: Path) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(lock, "_open", denied)
    lease = lock.Lease(tmp_path / "nowhere" / "x.lock")
    assert not lease.held
    lease.release()
    del lease
    pd.testing.assert_frame_equal(critmin.risk("IND", "lithium", 2022), expected)
    assert get_store()._lease is None or not get_store()._lease.held
    reopen()
    gc.collect()
    assert unraisable == []


def _unprivileged() -> list[str]:
    """A command prefix that runs as a user who cannot write the test's files (root writes
    anywhere: it runs the command line as nobody)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: no user to read as")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_cli_a_read_only_data_folder_with_imports_is_read(fixture_snapshot: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="critmin-ro-"))
    try:
        os.chmod(root, 0o755)
        snapshot = root / "snapshot"
        shutil.copytree(fixture_snapshot, snapshot)
        home, tmp = root / "home", root / "tmp"
        tmp.mkdir(mode=0o777)
        os.chmod(tmp, 0o1777)
        env = {"CRITMIN_HOME": str(home), "CRITMIN_SNAPSHOT": str(snapshot), "TMPDIR": str(tmp)}
        imported = run("data", "import", "baci", str(baci_file(root)), env=env)
        assert imported.returncode == 0, imported.stderr
        shutil.rmtree(home / "imports" / ".leases", ignore_errors=True)
        shutil.rmtree(home / "cache", ignore_errors=True)
        for path in [home, *home.rglob("*")]:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
        as_reader = _unprivileged()
        for args in (["risk", "-c", "IND", "-m", "lithium", "-y", "2022", "--csv"],
                     ["risk", "--csv"], ["data", "status", "--verify"]):
            done = subprocess.run([*as_reader, *CLI, *args], capture_output=True, text=True,
                                  env={**os.environ, **env}, timeout=300, check=False)
            assert done.returncode == 0, (args, done.stderr)
            assert quiet(done.stderr), done.stderr
            assert "error" not in done.stderr.lower(), done.stderr
            if args[-1] == "--csv" and "-c" in args:
                rows = done.stdout.splitlines()
                assert len(rows) == 2 and "2022,IND,lithium," in rows[1]
        assert not (home / "imports" / ".leases").exists()  # nothing written
    finally:
        for path in [root, *root.rglob("*")]:
            if not path.is_symlink():
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
        shutil.rmtree(root, ignore_errors=True)


# -- 2. a damaged cube cache -------------------------------------------------------------------

def whole_cube_file() -> Path:
    (found,) = [p for p in paths.cache_dir().glob("cube-*.parquet") if p.name.count("-") == 1]
    return found


def flip_middle(path: Path) -> None:
    """Damage that keeps the size and the Parquet framing: only a checksum sees it."""
    data = bytearray(path.read_bytes())
    for n in range(len(data) // 3, len(data) // 3 + 64):
        data[n] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_finds_a_damaged_cube_cache_and_removes_it() -> None:
    critmin.cube()
    path = whole_cube_file()
    flip_middle(path)
    reopen()
    assert critmin.status()["cache_repaired"] == []  # size and framing are whole
    repaired = critmin.status(verify=True)["cache_repaired"]
    assert len(repaired) == 1 and path.name in repaired[0]
    assert "sha256" in repaired[0] and "removed" in repaired[0]
    assert not path.exists()
    assert critmin.status(verify=True)["cache_repaired"] == []


@pytest.mark.parametrize("damage", ["flip", "truncate", "no record", "unreadable"])
def test_a_damaged_cube_cache_is_rebuilt_on_every_read_path(damage: str, tmp_path: Path) -> None:
    whole = critmin.cube()
    page, total = critmin.query.risk_page()
    exported = critmin.export_table("cube", tmp_path / "before.csv").read_text()
    for attempt, read in enumerate([
            lambda: critmin.cube(),
            lambda: critmin.query.risk_page(),
            lambda: critmin.export_table("cube", tmp_path / "after.csv", force=True),
            lambda: critmin.query.risk_file(tmp_path / "risk.csv", "csv")]):
        path = whole_cube_file()
        if damage == "flip":
            flip_middle(path)
        elif damage == "truncate":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2] + b"PAR1")
        elif damage == "no record":
            path.with_name(path.name + ".json").unlink()
        else:  # damage the checks cannot see: the read fails, the cache is rebuilt once
            path.write_bytes(b"PAR1" + b"\0" * 4096 + b"PAR1")
            path.with_name(path.name + ".json").write_text(json.dumps(
                {"bytes": 4104, "rows": 0, "sha256": files.sha256_of(path)}))
        reopen()
        result = read()
        if attempt == 0:
            pd.testing.assert_frame_equal(result, whole)
        elif attempt == 1:
            pd.testing.assert_frame_equal(result[0], page)
            assert result[1] == total
        elif attempt == 2:
            assert result.read_text() == exported
        assert cache.damage(whole_cube_file(), deep=True) is None


def test_cli_risk_and_export_survive_a_damaged_cube_cache(tmp_path: Path) -> None:
    first = run("risk", "--csv")
    assert first.returncode == 0, first.stderr
    path = whole_cube_file()
    flip_middle(path)
    again = run("risk", "--csv")
    assert again.returncode == 0 and again.stdout == first.stdout, again.stderr
    flip_middle(whole_cube_file())
    exported = run("data", "export", "cube", "-o", str(tmp_path / "cube.csv"))
    assert exported.returncode == 0, exported.stderr
    flip_middle(whole_cube_file())
    status = run("data", "status", "--verify")
    assert status.returncode == 0 and "repaired: cache cube-" in status.stderr, status.stderr


# -- 3. every "run critmin data reset" works ---------------------------------------------------

def _imports_file(tmp_path: Path) -> None:
    folder = paths.imports_dir()
    shutil.rmtree(folder)
    folder.write_text("not a folder")


def _manifest_folder(tmp_path: Path) -> None:
    manifest = paths.imports_dir() / user.MANIFEST
    manifest.unlink()
    manifest.mkdir()


def _manifest_text(tmp_path: Path) -> None:
    (paths.imports_dir() / user.MANIFEST).write_text("{not json")


def _manifest_truncated(tmp_path: Path) -> None:
    manifest = paths.imports_dir() / user.MANIFEST
    manifest.write_bytes(manifest.read_bytes()[:40])


def _data_file_truncated(tmp_path: Path) -> None:
    (data,) = paths.imports_dir().glob("flows-*.parquet")
    data.write_bytes(data.read_bytes()[:100])


@pytest.mark.parametrize("breakage", [_imports_file, _manifest_folder, _manifest_text,
                                      _manifest_truncated, _data_file_truncated])
def test_following_every_reset_hint_resolves_its_state(breakage: Any, tmp_path: Path) -> None:
    critmin.import_baci(baci_file(tmp_path))
    breakage(tmp_path)
    reopen()
    with pytest.raises(DataError) as raised:
        critmin.risk("IND", "lithium", 2022)
    assert user.RESET_HINT in str(raised.value)
    notes: list[str] = []
    critmin.reset_imports(notify=notes.append)
    reopen()
    assert critmin.status()["damaged"] == [] and critmin.status()["imports"] == []
    assert len(critmin.risk("IND", "lithium", 2022)) == 1
    if breakage in (_imports_file, _manifest_folder):  # moved aside, never deleted
        assert len(notes) == 1 and "moved it to" in notes[0]
        assert Path(notes[0].rsplit("moved it to ", 1)[1]).exists()
    critmin.import_baci(baci_file(tmp_path))  # and imports work again
    assert critmin.status()["imports"]


def test_cli_data_reset_follows_its_own_hint(tmp_path: Path) -> None:
    paths.imports_dir().parent.mkdir(parents=True, exist_ok=True)
    paths.imports_dir().write_text("not a folder")
    broken = run("risk", "-c", "IND", "-m", "lithium", "-y", "2022")
    assert broken.returncode == 2 and "run `critmin data reset`" in broken.stderr
    for args in (["data", "import", "baci", str(baci_file(tmp_path))], ["data", "status"]):
        said = run(*args)
        assert said.returncode in (1, 2) and "critmin data reset" in said.stderr, said.stderr
        assert quiet(said.stderr)
    reset = run("data", "reset", "--yes")
    assert reset.returncode == 0 and "moved it to" in reset.stderr, reset.stderr
    assert run("risk", "-c", "IND", "-m", "lithium", "-y", "2022").returncode == 0
    assert run("data", "import", "baci", str(baci_file(tmp_path))).returncode == 0


# -- 4. leftovers of killed writers ------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from critmin import files
with files.atomic_write(Path(sys.argv[1])) as tmp:
    tmp.write_bytes(b"x" * 100_000)
    print(tmp, flush=True)
    time.sleep(120)
"""


def _writer(target: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], text=True,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_temporary_files_of_a_killed_writer_are_swept_at_the_next_start() -> None:
    folder = paths.cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    killed, orphan = _writer(folder / "cube-0123.parquet")
    alive, running = _writer(folder / "partners-0123.parquet")
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        assert orphan.exists() and running.exists()
        reopen()
        critmin.cube()  # the next start that uses the cache
        assert not orphan.exists()
        assert running.exists()  # a live writer's file stays
    finally:
        alive.kill()
        alive.wait()


# -- 5. outputs ----------------------------------------------------------------------------------

def test_exports_refuse_pipes_devices_and_existing_files(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInput, match="is a named pipe"):
        critmin.export_table("countries", fifo)
    with pytest.raises(InvalidInput, match="is a named pipe"):
        critmin.export_table("countries", fifo, force=True)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(InvalidInput, match="character device"):
        critmin.export_table("countries", "/dev/null")
    taken = tmp_path / "taken.csv"
    taken.write_text("keep me")
    with pytest.raises(InvalidInput, match="already exists; replace it with --force"):
        critmin.export_table("countries", taken)
    assert taken.read_text() == "keep me"
    assert critmin.export_table("countries", taken, force=True) == taken
    assert taken.read_text().startswith("iso3,")


def _commands(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_command_writing_a_file_takes_force() -> None:
    from critmin.cli import app

    with_out = {name: {o for p in command.params for o in p.opts}
                for name, command in _commands(typer.main.get_command(app))
                if any("--out" in p.opts for p in command.params)}
    assert "risk" in with_out and "data export" in with_out and "report" in with_out
    missing = [n for n, opts in with_out.items() if "--force" not in opts and n != "data build"]
    assert missing == []


def test_cli_outputs_refuse_fifos_and_existing_files_unless_forced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    taken = tmp_path / "taken.csv"
    taken.write_text("keep me")
    for args in (["countries"], ["risk", "-c", "IND", "-m", "lithium"],
                 ["data", "export", "countries"]):
        for target, says in ((fifo, "is a named pipe"), (taken, "already exists")):
            done = run(*args, "-o", str(target))
            assert done.returncode == 2 and says in done.stderr, (args, done.stderr)
        assert taken.read_text() == "keep me"
    forced = run("countries", "-o", str(taken), "--force")
    assert forced.returncode == 0 and taken.read_text().startswith("iso3,")


def test_cli_a_closed_stdout_ends_without_a_traceback() -> None:
    closed = run("risk", preexec_fn=lambda: os.close(1))
    assert closed.returncode == 1, closed.stderr
    assert closed.stderr.strip() == "error: standard output is closed; nothing was written"
    proc = subprocess.Popen([*CLI, "risk", "--csv"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, restore_signals=False)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first row (`| head -0`)
    assert proc.wait(timeout=300) in (0, -signal.SIGPIPE)
    assert quiet(proc.stderr.read())


# -- 7. invisible characters in names ------------------------------------------------------------

@pytest.mark.parametrize(("text", "shown"), [
    ("In\u200bdia", "'In\\u200bdia' contains U+200B ZERO WIDTH SPACE at position 2"),
    ("c\u00f6balt\u202e", "contains U+202E RIGHT-TO-LEFT OVERRIDE at position 6"),
    ("Chi\u200dna", "contains U+200D ZERO WIDTH JOINER at position 3"),
    ("\ufeffIndia", "contains U+FEFF ZERO WIDTH NO-BREAK SPACE at position 0"),
    ("India\u2066", "contains U+2066 LEFT-TO-RIGHT ISOLATE at position 5"),
])
def test_names_with_invisible_characters_are_refused_and_shown(text: str, shown: str) -> None:
    for call in (lambda: critmin.profile(text, 2022), lambda: critmin.risk(text),
                 lambda: critmin.network(text), lambda: resolve.country(text),
                 lambda: resolve.mineral(text)):
        with pytest.raises(InvalidInput) as raised:
            call()
        assert shown.split(" contains ")[-1] in str(raised.value)
        assert "\u200b" not in str(raised.value) and "\u202e" not in str(raised.value)
    with pytest.raises(InvalidInput) as raised:
        resolve.country(text)
    assert str(raised.value).startswith("country '") and shown in str(raised.value)
    assert resolve.mineral("l\u00efthium") == "lithium"  # accents are still welcome


def test_cli_an_invisible_character_in_a_name_exits_2_showing_it() -> None:
    done = run("profile", "In\u200bdia", "-y", "2022")
    assert done.returncode == 2
    assert "U+200B ZERO WIDTH SPACE at position 2" in done.stderr
    assert "'In\\u200bdia'" in done.stderr
