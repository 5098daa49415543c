"""Headless Chromium, the one program that prints PDF reports and draws PNG or SVG charts:
where to find it, and one run of it with a time limit and one kind of error.

>>> run_chromium(["--version"], 5, "report the version", browser="/nonexistent/chromium")
Traceback (most recent call last):
...
critmin.errors.CritminError: Chromium (/nonexistent/chromium) could not report the version: ...
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from critmin.errors import CritminError, InvalidInput

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executables tried, in order, for PDFs and images (or the CRITMIN_CHROMIUM variable)."""
HEADLESS = ("--headless", "--no-sandbox", "--disable-gpu")
"""Flags every run starts with: no window, no sandbox (containers), no GPU."""


def find_browser() -> str:
    """The Chromium executable for PDFs and images: CRITMIN_CHROMIUM, else the first of
    :data:`BROWSERS` on PATH."""
    given = os.environ.get("CRITMIN_CHROMIUM")
    if given:
        if shutil.which(given) is None:
            raise InvalidInput(f"CRITMIN_CHROMIUM={given!r} is not an executable; point it at "
                               "Chromium, or unset it to use the first of "
                               f"{', '.join(BROWSERS)} on PATH")
        return given
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise InvalidInput("PDF reports and PNG or SVG charts need headless Chromium, and none is "
                       "on PATH; set CRITMIN_CHROMIUM to its executable or install it "
                       "(Debian: apt-get install chromium), or write .html instead")


def run_chromium(args: Sequence[str], timeout: float, what: str,
                 browser: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium (``browser``, else :func:`find_browser`) with ``args`` after
    the :data:`HEADLESS` flags, for at most ``timeout`` seconds, and return the finished
    run (its stdout and stderr as text); ``what`` says what it was asked to do
    ("print the PDF"), for the error raised when it cannot start or runs out of time.

    Whether the run produced what was asked is for the caller to check: Chromium's exit
    code says little (it exits 0 on pages that failed to load)."""
    program = browser or find_browser()
    try:
        return subprocess.run([program, *HEADLESS, *args], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CritminError(f"Chromium did not {what} within {timeout:g} s") from None
    except OSError as exc:
        raise CritminError(f"Chromium ({program}) could not {what}: "
                           f"{exc.strerror or exc}") from None


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    """The last line Chromium wrote to stderr, or "no output": the likeliest cause of a
    failed run, for an error message."""
    return ((done.stderr or "").strip().splitlines()[-1:] or ["no output"])[0]
