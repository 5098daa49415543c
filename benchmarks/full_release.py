"""A full-size BACI release on one machine: import throughput and peak memory, then the whole
metrics cube (every year, catalog products) on DuckDB and on Spark in local mode, at three
sizes (1x, 4x, 16x rows) to show how time grows with rows.

The releases are synthetic (``synthetic_baci.py``: BACI's layout and code lists, 5,674 HS-6
codes, heavy-tailed values, missing quantities at BACI's rate), zipped as CEPII ships them:
16x is the full size, about 250 M rows over 1995-2024; 4x and 1x have a quarter and a
sixteenth of the rows per year. Each step is a whole `critmin` process: wall clock, and peak
resident memory of its whole process tree (the Python process and, for Spark, its Java child,
summed; sampled every 0.2 s) beside GNU time's peak of its largest single process:

1. ``critmin data import baci RELEASE.zip`` (catalog products, the default) into an empty
   store;
2. ``critmin data export cube --out cube.parquet`` with an empty cache (cube, stages and
   partners computed for every year), with ``--engine duckdb`` and ``--engine spark``
   (``--spark-master local[2]``);
3. the two engines' cube, stages and partner tables compared (largest absolute and relative
   difference of every numeric column; texts and missing values must be identical).

Targets: import <= 4 GB peak; the DuckDB cube of the full release <= 60 s and <= 4 GB.
Usage: python benchmarks/full_release.py [--data DIR] [--sizes 1,4,16] [--no-spark] [--merge]
       (writes results/full_release.json and the figure docs/scaling.svg; generates missing
       releases under --data)
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _timing import run_tree_timed, save

FIGURE = Path(__file__).parent.parent / "docs" / "scaling.svg"
TARGET_S = 60.0
ROWS_PER_YEAR = 8_300_000
YEARS = "1995-2024"


def release(data: Path, size: int) -> Path:
    """The zipped synthetic release of ``size`` (16 = full), generated when missing."""
    folder = data / f"x{size}"
    found = sorted(folder.glob("BACI_HS92_*.zip"))
    if found:
        return found[0]
    subprocess.run([sys.executable, str(Path(__file__).parent / "synthetic_baci.py"),
                    "--out", str(folder), "--years", YEARS, "--scale", str(size / 16),
                    "--rows-per-year", str(ROWS_PER_YEAR), "--products", "all", "--seed", "7",
                    "--zip"], check=True)
    return sorted(folder.glob("BACI_HS92_*.zip"))[0]


def table_diff(a: Path, b: Path) -> dict[str, float]:
    """The largest absolute and relative differences between two tables of the same rows,
    over numeric columns (inf when their shapes, columns, texts or missing values differ)."""
    import numpy as np
    import pandas as pd

    x, y = pd.read_parquet(a), pd.read_parquet(b)
    worst = {"abs": 0.0, "rel": 0.0}
    if x.shape != y.shape or list(x.columns) != list(y.columns):
        return {"abs": float("inf"), "rel": float("inf")}
    for col in x.columns:
        if pd.api.types.is_numeric_dtype(x[col]) and not pd.api.types.is_bool_dtype(x[col]):
            u, v = x[col].to_numpy(float), y[col].to_numpy(float)
            if not np.array_equal(np.isnan(u), np.isnan(v)):
                return {"abs": float("inf"), "rel": float("inf")}
            both = ~np.isnan(u)
            gap = np.abs(u[both] - v[both])
            worst["abs"] = max(worst["abs"], float(gap.max(initial=0.0)))
            scale = np.maximum(np.abs(u[both]), np.abs(v[both]))
            rel = np.divide(gap, scale, out=np.zeros_like(gap), where=scale > 0)
            worst["rel"] = max(worst["rel"], float(rel.max(initial=0.0)))
        elif not x[col].astype(str).equals(y[col].astype(str)):
            return {"abs": float("inf"), "rel": float("inf")}
    return worst


SERIES = {"import": ("import", "#7f7f7f"), "cube_duckdb": ("DuckDB cube", "#1f77b4"),
          "cube_spark": ("Spark cube (local[2])", "#d62728")}


def scaling_svg(sizes: dict[str, dict[str, Any]]) -> str:
    """Wall time against rows read, one line per step, as a small standalone SVG."""
    points = sorted((int(k[1:]), v) for k, v in sizes.items())
    if not points:
        return ""
    width, height, left, bottom, top, right = 560, 310, 60, 50, 20, 170
    span = max((v[k]["wall_s"] for _, v in points for k in SERIES if k in v), default=1.0)
    top_s = 60.0 * (int(span // 60) + 1)
    xs = [p[0] for p in points]
    lo, hi = math.log(min(xs)), math.log(max(xs)) if len(xs) > 1 else math.log(min(xs)) + 1

    def x(size: int) -> float:
        return left + (width - left - right) * (math.log(size) - lo) / ((hi - lo) or 1.0)

    def y(seconds: float) -> float:
        return height - bottom - (height - bottom - top) * seconds / top_s

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for tick in range(0, int(top_s) + 1, 60):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f'{tick}</text>')
    target = y(TARGET_S)
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{target:.1f}" y2="{target:.1f}" '
                 'stroke="#1f77b4" stroke-dasharray="4 4"/>')
    parts.append(f'<text x="{width - right - 4}" y="{target - 5:.1f}" text-anchor="end" '
                 f'fill="#1f77b4">DuckDB cube target, {TARGET_S:g} s</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 4}" '
                 'text-anchor="middle">rows read (log scale)</text>')
    for size, v in points:
        parts.append(f'<text x="{x(size):.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle">{size}× ({v["rows_read"] / 1e6:.0f} M rows)</text>')
    parts.append(f'<text x="14" y="{(height - bottom + top) / 2:.0f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {(height - bottom + top) / 2:.0f})">'
                 'wall time (s)</text>')
    for n, (key, (label, colour)) in enumerate(SERIES.items()):
        line = [(x(size), y(v[key]["wall_s"])) for size, v in points if key in v]
        if not line:
            continue
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in line)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>'
                  for a, b in line]
        ly = top + 18 * n + 6
        parts.append(f'<line x1="{width - right + 12}" x2="{width - right + 32}" y1="{ly}" '
                     f'y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{width - right + 38}" y="{ly + 4}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "critmin-releases")
    ap.add_argument("--sizes", default="1,4,16")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--merge", action="store_true",
                    help="keep the other sizes of results/full_release.json")
    ap.add_argument("--figure-only", action="store_true",
                    help="only redraw docs/scaling.svg from results/full_release.json")
    args = ap.parse_args()
    from _timing import RESULTS

    if args.figure_only:
        FIGURE.write_text(scaling_svg(json.loads((RESULTS / "full_release.json").read_text())[
            "sizes"]))
        return
    exe = shutil.which("critmin") or str(Path(sys.executable).parent / "critmin")
    engines = ["duckdb"] if args.no_spark else ["duckdb", "spark"]
    results: dict[str, dict[str, object]] = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        archive = release(args.data, size)
        home = Path(tempfile.mkdtemp(prefix="critmin-bench-"))
        env = {"CRITMIN_HOME": str(home)}
        wall, largest, peak, out = run_tree_timed(
            [exe, "data", "import", "baci", str(archive), "--json"], env)
        report = json.loads(out)
        rows_read = int(report.get("rows_read", 0))
        step: dict[str, object] = {
            "release": archive.name, "zip_mb": round(archive.stat().st_size / 2**20),
            "rows_read": rows_read, "rows_kept": report.get("rows_kept"),
            "import": {"wall_s": round(wall, 1), "peak_mb": round(peak),
                       "largest_process_mb": round(largest),
                       "rows_per_s": round(rows_read / wall) if wall else None},
        }
        outputs = Path(tempfile.mkdtemp(prefix="critmin-cubes-"))  # exports stay out of the store
        for engine in engines:
            shutil.rmtree(home / "cache", ignore_errors=True)
            cmd = [exe, "data", "export", "cube", "--out", str(outputs / "cube.parquet"),
                   "--engine", engine]
            if engine == "spark":
                cmd += ["--spark-master", "local[2]"]
            wall, largest, peak, _ = run_tree_timed(cmd, env)
            step[f"cube_{engine}"] = {"wall_s": round(wall, 1), "peak_mb": round(peak),
                                      "largest_process_mb": round(largest)}
            shutil.copytree(home / "cache", outputs / engine)  # cube, stages and partners
            print(size, engine, step[f"cube_{engine}"], flush=True)
        if len(engines) == 2:
            step["differences"] = {
                table.name.split("-")[0]: table_diff(table, outputs / "spark" / table.name)
                for table in sorted((outputs / "duckdb").glob("*.parquet"))}
        results[f"x{size}"] = step
        print(size, step, flush=True)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(outputs, ignore_errors=True)
    previous = RESULTS / "full_release.json"
    if args.merge and previous.exists():  # sizes measured in an earlier run are kept
        results = {**json.loads(previous.read_text())["sizes"], **results}
    save("full_release", {
        "what": "synthetic BACI releases (1995-2024, 5,674 HS-6 codes); import with catalog "
                "products, then the whole cube with an empty cache; whole processes",
        "sizes": results,
        "targets": {"import_peak_mb": 4096, "cube_duckdb_full_wall_s": TARGET_S,
                    "cube_duckdb_full_peak_mb": 4096},
    })
    FIGURE.write_text(scaling_svg(results))
    print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()
