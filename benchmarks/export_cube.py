"""Whole-cube output: time and peak memory of whole processes, against the figures measured
before the output rework (``results/before_f292291.json``).

Target: the full cube as JSON Lines / CSV / Parquet in <= 3 s and <= 500 MB (cube cached).
Usage: python benchmarks/export_cube.py [--runs 3]   (writes results/export_cube.json)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import RESULTS, median_of, save


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    exe = shutil.which("critmin") or str(Path(sys.executable).parent / "critmin")
    home = Path(tempfile.mkdtemp(prefix="critmin-bench-"))
    out = Path(tempfile.mkdtemp(prefix="critmin-out-"))
    env = {"CRITMIN_HOME": str(home)}

    def no_cache() -> None:
        shutil.rmtree(home / "cache", ignore_errors=True)

    results: dict[str, object] = {}
    results["cube_cold_jsonl"] = median_of(
        args.runs, [exe, "data", "export", "cube", "--out", str(out / "cube.jsonl")], env,
        before=no_cache)
    for name, cmd in {
        "risk_json_stdout": ["sh", "-c", f"{exe} risk --json > {out / 'risk.json'}"],
        "risk_csv_stdout": ["sh", "-c", f"{exe} risk --csv > {out / 'risk.csv'}"],
        "export_jsonl": [exe, "data", "export", "cube", "--out", str(out / "cube.jsonl")],
        "export_csv": [exe, "data", "export", "cube", "--out", str(out / "cube.csv")],
        "export_parquet": [exe, "data", "export", "cube", "--out", str(out / "cube.parquet")],
    }.items():
        results[name] = median_of(args.runs, cmd, env)
    sizes = {p.name: round(p.stat().st_size / 2**20, 1) for p in out.iterdir()}
    before = json.loads((RESULTS / "before_f292291.json").read_text())
    ratios = {
        "risk_json_time_before_over_after": round(
            before["risk_json_whole_cube"]["wall_s"]
            / results["risk_json_stdout"]["wall_s_median"], 1),  # type: ignore[index]
        "risk_json_memory_before_over_after": round(
            before["risk_json_whole_cube"]["peak_mb"]
            / results["risk_json_stdout"]["peak_mb_median"], 1),  # type: ignore[index]
    }
    report = {"results": results, "output_mb": sizes, "before": before, "ratios": ratios,
              "targets": {"wall_s": 3.0, "peak_mb": 500}}
    save("export_cube", report)
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
