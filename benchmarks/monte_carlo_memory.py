"""Memory and time of supply-at-risk against the number of draws.

Cobalt 2023 (every supplier and importer, first order, seed 1) at 100,000, 1,000,000 and
10,000,000 draws (the largest a call accepts), each in a fresh process: wall time of the whole
process and of the draws alone, the process's peak resident memory (GNU time), and the peak
before the draws (data loaded), so that the difference is what the draws themselves take.
``--limit-mb N`` gives the draws an address-space budget of N MB beyond what the loaded
process has mapped (a run that needs more fails with MemoryError, recorded as such).

Usage: python benchmarks/monte_carlo_memory.py LABEL [--draws N ...] [--limit-mb N]
(writes results/monte_carlo_memory_<LABEL>.json; run with ``PYTHONPATH`` pointing at the
code to measure)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from _timing import run_timed, save

MINERAL, YEAR, SEED = "cobalt", 2023, 1
DRAWS = (100_000, 1_000_000, 10_000_000)

SCRIPT = """
import json, resource, sys, time
import critmin
from critmin import whatif
mineral, year, draws, seed, limit_mb = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                         int(sys.argv[4]), int(sys.argv[5]))
whatif.supply_at_risk(mineral, year, draws=100, seed=seed)  # data loaded, code warmed
loaded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if limit_mb:
    with open("/proc/self/status") as status:
        mapped = next(int(line.split()[1]) for line in status if line.startswith("VmSize"))
    budget = (mapped + limit_mb * 1024) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
start = time.perf_counter()
try:
    r = whatif.supply_at_risk(mineral, year, draws=draws, seed=seed)
except MemoryError as err:
    print(json.dumps({"loaded_mb": loaded_mb, "error": f"MemoryError: {err}"}))
    sys.exit(0)
elapsed = time.perf_counter() - start
row = r.countries.set_index("country")
print(json.dumps({"loaded_mb": loaded_mb, "draws_s": elapsed,
                  "CHN": {k: float(row.loc["CHN", k]) for k in
                          ("expected_loss_share", "var95_share", "es95_share",
                           "p_loss_over_10")}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("label", help="names the results file, e.g. before or after")
    ap.add_argument("--draws", type=int, nargs="+", default=list(DRAWS))
    ap.add_argument("--limit-mb", type=int, default=0,
                    help="address-space budget of the draws in MB (0: none)")
    args = ap.parse_args()
    env = {"CRITMIN_HOME": tempfile.mkdtemp(prefix="critmin-bench-")}
    runs = []
    for draws in args.draws:
        cmd = [sys.executable, "-c", SCRIPT, MINERAL, str(YEAR), str(draws), str(SEED),
               str(args.limit_mb)]
        wall, peak, stdout = run_timed(cmd, env)
        inner = json.loads(stdout.splitlines()[-1])
        run = {"draws": draws, "process_wall_s": round(wall, 2),
               "process_peak_mb": round(peak, 1),
               "loaded_peak_mb": round(inner["loaded_mb"], 1),
               "draws_peak_mb": round(peak - inner["loaded_mb"], 1)}
        if "error" in inner:
            run["error"] = inner["error"]
        else:
            run["draws_s"] = round(inner["draws_s"], 2)
            run["CHN"] = inner["CHN"]
        runs.append(run)
        print(json.dumps(run), file=sys.stderr)
    save(f"monte_carlo_memory_{args.label}",
         {"mineral": MINERAL, "year": YEAR, "seed": SEED, "limit_mb": args.limit_mb,
          "runs": runs})


if __name__ == "__main__":
    main()
