"""Headless Chromium runs: one error, naming what was asked, when the browser is missing,
cannot start or runs out of time."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from critmin.browser import HEADLESS, find_browser, last_line, run_chromium
from critmin.errors import CritminError, InvalidInput


def script(folder: Path, body: str) -> str:
    path = folder / "fake-chromium"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_run_gets_the_headless_flags_then_its_own(tmp_path: Path) -> None:
    done = run_chromium(["--dump-dom", "page.html"], 30, "draw the chart",
                        script(tmp_path, 'echo "$@"; echo last words >&2'))
    assert done.stdout.split() == [*HEADLESS, "--dump-dom", "page.html"]
    assert last_line(done) == "last words"


def test_a_run_out_of_time_says_what_it_was_doing(tmp_path: Path) -> None:
    with pytest.raises(CritminError, match=r"^Chromium did not print the PDF within 0.5 s$"):
        run_chromium([], 0.5, "print the PDF", script(tmp_path, "exec sleep 10"))


def test_a_browser_that_cannot_start_is_one_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-chromium")
    with pytest.raises(CritminError, match="could not draw the chart") as raised:
        run_chromium([], 5, "draw the chart", missing)
    assert missing in str(raised.value)


def test_no_output_is_said(tmp_path: Path) -> None:
    assert last_line(run_chromium([], 30, "draw", script(tmp_path, "true"))) == "no output"


def test_a_bad_browser_variable_names_its_value(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.setenv("CRITMIN_CHROMIUM", str(tmp_path / "nowhere"))
    with pytest.raises(InvalidInput, match=r"nowhere.*is not an executable"):
        find_browser()
    monkeypatch.setenv("CRITMIN_CHROMIUM", script(tmp_path, "true"))
    assert find_browser() == str(tmp_path / "fake-chromium")
