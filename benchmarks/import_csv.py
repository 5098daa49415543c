"""Import throughput and peak memory of whole processes: a 20 M-row synthetic BACI release
(4 years x 5 M rows, every HS code), imported keeping the catalog's products (the default)
and keeping every product.

Target: >= 300,000 rows/s and <= 1.5 GB peak on a 2-core machine.
Usage: python benchmarks/import_csv.py [--rows-per-year 5000000] [--runs 1]
       (writes results/import_csv.json; generates the files with synthetic_baci.py)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import RESULTS, median_of, save


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows-per-year", type=int, default=5_000_000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--data", type=Path, help="use these generated files instead")
    args = ap.parse_args()
    exe = shutil.which("critmin") or str(Path(sys.executable).parent / "critmin")
    data = args.data or Path(tempfile.mkdtemp(prefix="critmin-syn-"))
    files = sorted(data.glob("BACI_HS92_Y*.csv"))
    if not files:
        subprocess.run([sys.executable, str(Path(__file__).parent / "synthetic_baci.py"),
                        "--out", str(data), "--years", "2019-2022",
                        "--rows-per-year", str(args.rows_per_year), "--seed", "7"], check=True)
        files = sorted(data.glob("BACI_HS92_Y*.csv"))
    rows = args.rows_per_year * len(files)
    home = Path(tempfile.mkdtemp(prefix="critmin-bench-"))
    env = {"CRITMIN_HOME": str(home)}

    def fresh() -> None:
        shutil.rmtree(home, ignore_errors=True)

    results = {}
    for products in ("catalog", "all"):
        cmd = [exe, "data", "import", "baci", *map(str, files), "--products", products, "--json"]
        timing = median_of(args.runs, cmd, env, before=fresh)
        timing["rows_per_s"] = round(rows / timing["wall_s_median"])
        results[f"products_{products}"] = timing
    before = json.loads((RESULTS / "before_f292291.json").read_text())["import_20m_rows"]
    after = results["products_catalog"]
    report = {
        "rows": rows, "files": [f.name for f in files], "results": results, "before": before,
        "ratios": {"time_before_over_after": round(before["wall_s"] / after["wall_s_median"], 1),
                   "memory_before_over_after": round(before["peak_mb"] / after["peak_mb_median"], 1)},
        "targets": {"rows_per_s": 300_000, "peak_mb": 1536},
    }
    save("import_csv", report)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
