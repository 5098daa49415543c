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
    elapsed, peak = _parse_time(text)
    return elapsed, peak, proc.stdout


def _tree_rss_mb(root: int) -> float:
    """Resident memory of process ``root`` and all its descendants, in MB (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        parents[pid] = int(fields.get("PPid", "0").split()[0])
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0) for pid in tree) / 1024


def run_tree_timed(cmd: list[str], env: dict[str, str] | None = None, every_s: float = 0.2
                   ) -> tuple[float, float, float, str]:
    """Run ``cmd`` once; return (wall seconds, peak RSS MB of its largest process, peak RSS
    MB of its whole process tree sampled every ``every_s``, stdout). GNU time's peak is the
    largest single process: a Python driver and its Java child count apart there."""
    import threading

    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", report.name, *cmd],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **(env or {})})
        peak = [0.0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(every_s):
                peak[0] = max(peak[0], _tree_rss_mb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = proc.communicate()
        done.set()
        sampler.join()
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-800:]}")
        text = Path(report.name).read_text()
    wall, single = _parse_time(text)
    return wall, single, max(peak[0], single), out


def _parse_time(text: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) from a GNU time -v report."""
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    assert wall is not None, text
    hours, minutes, seconds = wall.groups()
    elapsed = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    assert rss is not None, text
    return elapsed, int(rss.group(1)) / 1024


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
