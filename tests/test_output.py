"""Output that reads well at any size: formats, files, terminal fitting, escaping, basics."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

import critmin

pytestmark = pytest.mark.usefixtures("tiny_store")

OUTPUT_COMMANDS = [
    ["countries"], ["minerals"], ["profile", "IND", "-y", "2022"],
    ["mineral", "lithium", "-y", "2022"], ["risk", "-c", "IND"],
]


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_json_and_csv_together_are_refused_alike(cli, command: list[str]) -> None:
    res = cli(*command, "--json", "--csv")
    assert res.code == 2 and res.stdout == ""
    assert res.stderr.strip() == "error: choose one of --json and --csv"


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_piped_output_without_a_format_is_tsv(cli, command: list[str]) -> None:
    res = cli(*command)
    assert res.code == 0, res.stderr
    frame = pd.read_csv(io.StringIO(res.stdout), sep="\t")
    assert len(frame) >= 1 and len(frame.columns) >= 3
    assert "┃" not in res.stdout and "━" not in res.stdout


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json", ".jsonl", ".xlsx"])
@pytest.mark.parametrize("command", [["profile", "IND", "-y", "2022"], ["risk", "-c", "IND"],
                                     ["mineral", "REE", "-y", "2022"]])
def test_out_writes_each_format(cli, tmp_path: Path, suffix: str, command: list[str]) -> None:
    out = tmp_path / f"result{suffix}"
    res = cli(*command, "--out", str(out))
    assert res.code == 0, res.stderr
    assert res.stdout == "" and f"wrote {out}" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]
    mode = stat.S_IMODE(out.stat().st_mode)
    assert mode == 0o666 & ~current_umask(), oct(mode)
    if suffix == ".json":
        json.loads(out.read_text())
    elif suffix == ".jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert rows and all(isinstance(r, dict) for r in rows)
    elif suffix == ".xlsx":
        sheets = pd.read_excel(out, sheet_name=None)
        if command[0] == "profile":
            assert list(sheets) == ["data", "stages", "suppliers", "units", "notes"]
        assert len(next(iter(sheets.values()))) >= 1
    else:
        reader = pd.read_parquet if suffix == ".parquet" else pd.read_csv
        assert len(reader(out)) >= 1


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_out_replaces_an_existing_file_only_with_force(cli, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    out.write_text("old")
    refused = cli("risk", "-c", "IND", "--out", str(out))
    assert refused.code == 2 and "already exists" in refused.stderr and "--force" in refused.stderr
    assert out.read_text() == "old"
    assert cli("risk", "-c", "IND", "--out", str(out), "--force").code == 0
    assert out.read_text().startswith("year,country,mineral")


def test_bad_out_files_exit_2(cli, tmp_path: Path) -> None:
    res = cli("risk", "--out", str(tmp_path / "r.txt"))
    assert res.code == 2 and ".csv" in res.stderr
    res = cli("risk", "--out", str(tmp_path / "missing" / "r.csv"))
    assert res.code == 2 and "does not exist" in res.stderr
    assert not list(tmp_path.iterdir())


def test_excel_row_limit_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    from critmin import present

    monkeypatch.setattr(present, "EXCEL_MAX_ROWS", 5)
    with pytest.raises(critmin.InvalidInput, match="exceed Excel's limit of 5"):
        critmin.export_table("flows", tmp_path / "f.xlsx")
    assert not list(tmp_path.iterdir())


def test_json_output_is_json_with_list_flags(cli) -> None:
    res = cli("risk", "-c", "IND", "-m", "lithium", "--json")
    rows = res.json()
    assert [r["year"] for r in rows] == [2022, 2023]
    assert all(isinstance(r["flags"], list) for r in rows)
    assert rows[1]["flags"] == ["single_supplier", "latest_year_incomplete"]


def test_terminal_view_is_limited_and_says_so(cli) -> None:
    from critmin import cli as cli_mod

    assert cli_mod.TERMINAL_ROWS == 50
    res = cli("risk", "--limit", "2")
    assert res.code == 0 and len(res.stdout.strip().splitlines()) == 3  # header + 2 rows


def test_table_fits_80_columns_and_never_wraps_a_number(monkeypatch, capsys) -> None:
    from critmin import cli as cli_mod

    monkeypatch.setenv("COLUMNS", "80")
    p = critmin.profile("IND", 2022)
    cli_mod.table(p.minerals[cli_mod.PROFILE_VIEW], "India")
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "100 % imported, China" in out  # lithium's answer, whole, on one line
    assert "left out to fit the terminal" in err
    assert "mineral" in out and "answer" in out


def test_user_text_is_never_markup(cli) -> None:
    res = cli("profile", "[/]")
    assert res.code == 2 and "Traceback" not in res.stderr
    assert "'[/]'" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = cli("profile", "[bold]Inida")
    assert res.code == 2 and "[bold]Inida" in res.stderr


def test_markup_in_a_csv_row_is_reported_as_text(cli, tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("t,i,j,k,v,q\n2021,156,699,[/],1,1\n2021,156,699,283691,1,1\n")
    res = cli("data", "import", "baci", str(f))
    assert res.code == 0, res.stderr
    assert "[/]" in res.stderr and "Traceback" not in res.stderr


def test_ambiguous_names_list_the_candidates(cli) -> None:
    res = cli("profile", "Korea")
    assert res.code == 2
    assert "ambiguous" in res.stderr
    assert "South Korea (KOR)" in res.stderr and "North Korea (PRK)" in res.stderr
    with pytest.raises(critmin.Ambiguous):
        critmin.profile("Congo")


def test_version_help_and_default_year(cli) -> None:
    version = cli("--version")
    assert version.code == 0 and version.stdout.strip() == f"critmin {critmin.__version__}"
    short = cli("risk", "-h")
    assert short.code == 0 and "--country" in short.stdout and "<bool>" not in short.stdout
    assert "--install-completion" in cli("-h").stdout
    view = cli("profile", "IND", "--limit", "1")
    assert "year 2022: latest complete year; 2023 incomplete" in view.stderr


def test_usage_errors_are_one_line(cli) -> None:
    res = cli("risk", "--bogus")
    assert res.code == 2 and len(res.stderr.strip().splitlines()) == 1
    res = cli("risk", "--year", "abc")
    assert res.code == 2 and len(res.stderr.strip().splitlines()) == 1


def test_data_export_streams_the_cube(cli, tmp_path: Path) -> None:
    for suffix in (".csv", ".parquet", ".jsonl", ".json"):
        out = tmp_path / f"cube{suffix}"
        assert cli("data", "export", "cube", "--out", str(out)).code == 0
    cube = critmin.cube()
    assert len(pd.read_parquet(tmp_path / "cube.parquet")) == len(cube)
    assert len(pd.read_csv(tmp_path / "cube.csv")) == len(cube)
    assert len(json.loads((tmp_path / "cube.json").read_text())) == len(cube)
    partners = tmp_path / "partners.csv"
    assert cli("data", "export", "partners", "--out", str(partners)).code == 0
    assert set(pd.read_csv(partners).columns) >= {"importer", "exporter", "share"}
