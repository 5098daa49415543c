"""A full-size BACI release on one machine: import throughput and peak memory, then the whole
metrics cube (every year, catalog products) on DuckDB and on Spark in local mode, at three
sizes (1x, 4x, 16x rows) to show how time grows with rows.

The releases are synthetic (``synthetic_baci.py``: BACI's layout and code lists, 5,674 HS-6
codes, heavy-tailed values, missing quantities at BACI's rate), zipped as CEPII ships them:
16x is the full size, about 250 M rows over 1995-2024; 4x and 1x have a quarter and a
sixteenth of the rows per year. Each step is a whole `critmin` process measured with GNU time
(wall clock, peak resident memory of the process and its children):

1. ``critmin data import baci RELEASE.zip`` (catalog products, the default) into an empty
   store;
2. ``critmin data export cube --out cube.parquet`` with an empty cache (cube, stages and
   partners computed for every year), with ``--engine duckdb`` and ``--engine spark``
   (``--spark-master local[2]``);
3. the two cubes compared (largest absolute difference of every numeric column).

Targets: import <= 4 GB peak; the DuckDB cube of the full release <= 60 s and <= 4 GB.
Usage: python benchmarks/full_release.py [--data DIR] [--sizes 1,4,16] [--no-spark]
       (writes results/full_release.json; generates missing releases under --data)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import run_timed, save

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


def cube_diff(a: Path, b: Path) -> float:
    """The largest absolute difference between two cube files, over numeric columns."""
    import numpy as np
    import pandas as pd

    x, y = pd.read_parquet(a), pd.read_parquet(b)
    if x.shape != y.shape or list(x.columns) != list(y.columns):
        return float("inf")
    worst = 0.0
    for col in x.columns:
        if pd.api.types.is_numeric_dtype(x[col]) and not pd.api.types.is_bool_dtype(x[col]):
            u, v = x[col].to_numpy(float), y[col].to_numpy(float)
            both = ~(np.isnan(u) & np.isnan(v))
            if (np.isnan(u[both]) | np.isnan(v[both])).any():
                return float("inf")
            worst = max(worst, float(np.abs(u[both] - v[both]).max(initial=0.0)))
        elif not x[col].astype(str).equals(y[col].astype(str)):
            return float("inf")
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "critmin-releases")
    ap.add_argument("--sizes", default="1,4,16")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--merge", action="store_true",
                    help="keep the other sizes of results/full_release.json")
    args = ap.parse_args()
    exe = shutil.which("critmin") or str(Path(sys.executable).parent / "critmin")
    engines = ["duckdb"] if args.no_spark else ["duckdb", "spark"]
    results: dict[str, dict[str, object]] = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        archive = release(args.data, size)
        home = Path(tempfile.mkdtemp(prefix="critmin-bench-"))
        env = {"CRITMIN_HOME": str(home)}
        wall, peak, out = run_timed([exe, "data", "import", "baci", str(archive), "--json"], env)
        import json

        report = json.loads(out)
        rows_read = int(report.get("rows_read", 0))
        step: dict[str, object] = {
            "release": archive.name, "zip_mb": round(archive.stat().st_size / 2**20),
            "rows_read": rows_read, "rows_kept": report.get("rows_kept"),
            "import": {"wall_s": round(wall, 1), "peak_mb": round(peak),
                       "rows_per_s": round(rows_read / wall) if wall else None},
        }
        cubes = {}
        outputs = Path(tempfile.mkdtemp(prefix="critmin-cubes-"))  # exports stay out of the store
        for engine in engines:
            shutil.rmtree(home / "cache", ignore_errors=True)
            cubes[engine] = outputs / f"cube-{engine}.parquet"
            cmd = [exe, "data", "export", "cube", "--out", str(cubes[engine]),
                   "--engine", engine]
            if engine == "spark":
                cmd += ["--spark-master", "local[2]"]
            wall, peak, _ = run_timed(cmd, env)
            step[f"cube_{engine}"] = {"wall_s": round(wall, 1), "peak_mb": round(peak)}
            print(size, engine, step[f"cube_{engine}"], flush=True)
        if len(cubes) == 2:
            step["max_abs_difference"] = cube_diff(cubes["duckdb"], cubes["spark"])
        results[f"x{size}"] = step
        print(size, step, flush=True)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(outputs, ignore_errors=True)
    from _timing import RESULTS

    previous = RESULTS / "full_release.json"
    if args.merge and previous.exists():  # sizes measured in an earlier run are kept
        import json

        results = {**json.loads(previous.read_text())["sizes"], **results}
    save("full_release", {
        "what": "synthetic BACI releases (1995-2024, 5,674 HS-6 codes); import with catalog "
                "products, then the whole cube with an empty cache; whole processes",
        "sizes": results,
        "targets": {"import_peak_mb": 4096, "cube_duckdb_full_wall_s": 60,
                    "cube_duckdb_full_peak_mb": 4096},
    })


if __name__ == "__main__":
    main()
