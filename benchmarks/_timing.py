"""Whole-process timing with peak memory, via /usr/bin/time -v (GNU time)."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path


def run_timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``cmd`` once; return (wall seconds, peak RSS MB, stdout)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.run(
            ["/usr/bin/time", "-v", "-o", report.name, *cmd],
            capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-800:]}")
        text = Path(report.name).read_text()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    assert wall is not None, text
    hours, minutes, seconds = wall.groups()
    elapsed = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    assert rss is not None, text
    return elapsed, int(rss.group(1)) / 1024, proc.stdout


def median_of(runs: int, cmd: list[str], env: dict[str, str] | None = None,
              before: object = None) -> dict[str, float]:
    """Median wall time and peak memory of ``runs`` runs (``before()`` runs before each)."""
    walls, mems = [], []
    for _ in range(runs):
        if callable(before):
            before()
        wall, mem, _out = run_timed(cmd, env)
        walls.append(wall)
        mems.append(mem)
    return {"runs": runs, "wall_s_median": round(statistics.median(walls), 3),
            "wall_s_all": [round(w, 3) for w in walls], "peak_mb_median": round(statistics.median(mems), 1)}


RESULTS = Path(__file__).parent / "results"


def save(name: str, result: dict) -> None:
    """Write ``results/<name>.json`` and print it."""
    import json

    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    (RESULTS / f"{name}.json").write_text(text)
    print(text, end="")
