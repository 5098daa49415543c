"""Cold start of `critmin data status` (whole process) and the size of the bundled snapshot.

Targets: <= 1 s whole process on a 2-core machine; snapshot <= 40 MB.
Usage: python benchmarks/cold_start.py [--runs 5]   (writes benchmarks/results/cold_start.json)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import median_of, save

import critmin.store.paths as paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    exe = shutil.which("critmin") or str(Path(sys.executable).parent / "critmin")
    home = tempfile.mkdtemp(prefix="critmin-bench-")
    env = {"CRITMIN_HOME": home}
    status = median_of(args.runs, [exe, "data", "status", "--json"], env)
    profile_cold = median_of(
        args.runs, [exe, "profile", "IND", "--json"], env,
        before=lambda: shutil.rmtree(Path(home) / "cache", ignore_errors=True),
    )
    snapshot = paths.snapshot_dir()
    size = sum(p.stat().st_size for p in snapshot.glob("*") if p.is_file())
    result = {
        "data_status_json": status,
        "profile_IND_no_cache": profile_cold,
        "snapshot_bytes": size,
        "snapshot_mb": round(size / 2**20, 2),
        "targets": {"data_status_s": 1.0, "profile_s": 1.5, "snapshot_mb": 40},
    }
    save("cold_start", result)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
