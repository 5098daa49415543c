"""critmin vs geopolrisk-py 2.0.1 on the same GeoPolRisk batch, both as whole processes.

Batch: 12 materials x 10 importers x 2018-2024 (840 combinations). The peer runs in its own
throwaway virtual environment (benchmarks/peer/setup_peer.sh); critmin computes from an
empty cache (nothing precomputed). The script checks that the numbers agree (1e-9
relative), reports the speed ratio, and times critmin's full cube.

Usage: python benchmarks/geopolrisk_batch.py [--runs 3] [--peer-runs 1]
Writes benchmarks/results/geopolrisk_batch.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _timing import median_of, run_timed, save

HERE = Path(__file__).parent
MATERIALS = {  # geopolrisk-py name -> critmin slug
    "Lithium": "lithium", "Rare earth": "rare-earths", "Cobalt": "cobalt", "Nickel": "nickel",
    "Graphite": "graphite", "Tungsten": "tungsten", "Molybdenum": "molybdenum",
    "Niobium": "niobium", "Tantalum": "tantalum", "Germanium": "germanium",
    "Copper": "copper", "Zirconium": "zirconium",
}
COUNTRIES = {699: "IND", 643: "RUS", 156: "CHN", 842: "USA", 276: "DEU", 392: "JPN",
             410: "KOR", 251: "FRA", 76: "BRA", 36: "AUS"}
YEARS = list(range(2018, 2025))


def critmin_cmd() -> list[str]:
    exe = shutil.which("critmin") or str(Path(sys.executable).parent / "critmin")
    cmd = [exe, "risk", "--compat", "geopolrisk-py", "--json"]
    for iso3 in COUNTRIES.values():
        cmd += ["--country", iso3]
    for slug in MATERIALS.values():
        cmd += ["--mineral", slug]
    for year in YEARS:
        cmd += ["--year", str(year)]
    return cmd


def peer_rows(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    material = frame["Raw Material"]
    code = [dbid[len(m):-4] for dbid, m in zip(frame["DBID"], material, strict=True)]
    return pd.DataFrame({
        "mineral": material.map(MATERIALS), "country": pd.Series(code).astype(int).map(COUNTRIES),
        "year": frame["Year"].astype(int), "score": frame["GeoPolRisk Score"],
        "cf": frame["GeoPolRisk Characterization Factor [eq. Kg-Cu/Kg]"], "hhi": frame["HHI"],
        "wta": frame["Import Risk"], "price_usd_per_kg": frame["Price"],
    })


def agreement(peer: pd.DataFrame, mine: pd.DataFrame) -> dict[str, object]:
    merged = peer.merge(mine, on=["mineral", "country", "year"], suffixes=("_peer", ""), how="left")
    worst = 0.0
    for col in ("score", "cf", "hhi", "wta", "price_usd_per_kg"):
        a, b = merged[f"{col}_peer"].to_numpy(float), merged[col].to_numpy(float)
        rel = np.abs(a - b) / np.maximum(np.abs(a), 1e-300)
        rel[(a == 0) & (b == 0)] = 0.0
        worst = max(worst, float(np.nanmax(rel)))
    return {"rows_peer": len(peer), "rows_matched": int(merged["score"].notna().sum()),
            "max_relative_difference": worst, "agree_1e-9": worst <= 1e-9}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="critmin runs (median)")
    ap.add_argument("--peer-runs", type=int, default=1, help="peer runs (median)")
    args = ap.parse_args()
    venv = subprocess.run(["bash", str(HERE / "peer" / "setup_peer.sh")], capture_output=True,
                          text=True, check=True).stdout.strip().splitlines()[-1]
    work = Path(tempfile.mkdtemp(prefix="critmin-bench-"))
    home = work / "home"
    env = {"CRITMIN_HOME": str(home)}
    clear = lambda: shutil.rmtree(home, ignore_errors=True)  # noqa: E731

    peer_out = work / "peer.csv"
    peer_cmd = [f"{venv}/bin/python", str(HERE / "peer" / "run_peer.py"), "--years", "2018-2024",
                "--out", str(peer_out), "--timed-only"]
    peer = median_of(args.peer_runs, peer_cmd)
    mine = median_of(args.runs, critmin_cmd(), env, before=clear)
    clear()
    _wall, _mem, out = run_timed(critmin_cmd(), env)
    check = agreement(peer_rows(peer_out), pd.DataFrame(json.loads(out)))

    cube_code = ("import critmin; print(len(critmin.risk(years=list(range(2018, 2025)))))")
    cube_7y = median_of(args.runs, [sys.executable, "-c", cube_code], env, before=clear)
    all_code = "import critmin; print(len(critmin.cube()))"
    cube_all = median_of(args.runs, [sys.executable, "-c", all_code], env, before=clear)
    result = {
        "batch": "12 materials x 10 importers x 2018-2024 = 840 combinations, whole processes",
        "peer_geopolrisk_py_2_0_1": peer,
        "critmin_compat_cold_cache": mine,
        "speedup_wall": round(peer["wall_s_median"] / mine["wall_s_median"], 1),
        "memory_ratio": round(peer["peak_mb_median"] / mine["peak_mb_median"], 1),
        "agreement": check,
        "critmin_full_cube_2018_2024": cube_7y,
        "critmin_full_cube_all_years_1995_2024": cube_all,
        "targets": {"speedup": 50, "cube_s": 2.0, "cube_mb": 400},
    }
    save("geopolrisk_batch", result)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
