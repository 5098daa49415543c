"""Speed and memory of the scenario engine on the bundled data.

- restriction with cascade over all countries of one mineral-year, data loaded (target
  <= 50 ms): the engine alone (``scenarios.cascade.run``) and the whole ``critmin.restrict``
  call (tables and text included), for the mineral-years with the most countries;
- supply-at-risk with 100,000 draws over all suppliers and importers of one mineral-year
  (target <= 2 s and <= 1 GB): wall time of the draws and the process's peak memory.

Usage: python benchmarks/scenarios.py [--runs N]   (writes results/scenarios.json)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

from _timing import median_of, save

CASES = [("rare-earths", 2023), ("copper", 2023), ("lithium", 2023), ("cobalt", 2023)]

MONTE_CARLO = """
import json, sys, time
import critmin
from critmin import whatif
mineral, year, draws = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
critmin.network(mineral, year)  # data loaded before timing, as for the cascade
start = time.perf_counter()
whatif.supply_at_risk(mineral, year, draws=draws, seed=1)
print(json.dumps({"draws_s": time.perf_counter() - start}))
"""


def cascade_timings(runs: int) -> list[dict[str, object]]:
    import critmin
    from critmin.scenarios.cascade import run

    out = []
    for mineral, year in CASES:
        net = critmin.network(mineral, year).network
        china = net.mask(["CHN"])
        engine, whole = [], []
        for _ in range(runs):
            start = time.perf_counter()
            result = run(net, china)
            engine.append(time.perf_counter() - start)
            start = time.perf_counter()
            critmin.restrict("CHN", mineral, year)
            whole.append(time.perf_counter() - start)
        out.append({"mineral": mineral, "year": year, "countries": net.size,
                    "rounds": int(result.rounds[0]),
                    "engine_ms_median": round(statistics.median(engine) * 1000, 2),
                    "restrict_call_ms_median": round(statistics.median(whole) * 1000, 2)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--mc-runs", type=int, default=3)
    args = ap.parse_args()
    home = tempfile.mkdtemp(prefix="critmin-bench-")
    env = {"CRITMIN_HOME": home}
    import os

    os.environ["CRITMIN_HOME"] = home
    cascades = cascade_timings(args.runs)
    mc = []
    for mineral, year in CASES:
        cmd = [sys.executable, "-c", MONTE_CARLO, mineral, str(year), "100000"]
        timings = []
        for _ in range(args.mc_runs):
            from _timing import run_timed

            _wall, _mem, stdout = run_timed(cmd, env)
            timings.append(json.loads(stdout)["draws_s"])
        process = median_of(args.mc_runs, cmd, env)
        mc.append({"mineral": mineral, "year": year, "draws": 100_000,
                   "draws_s_median": round(statistics.median(timings), 3),
                   "process_peak_mb_median": process["peak_mb_median"],
                   "process_wall_s_median": process["wall_s_median"]})
    save("scenarios", {"cascade": cascades, "supply_at_risk": mc,
                       "targets": {"cascade_ms": 50, "supply_at_risk_s": 2.0,
                                   "supply_at_risk_mb": 1024}})


if __name__ == "__main__":
    main()
