"""Speed of the sourcing optimiser (targets: one solve over 200 suppliers <= 100 ms; a
20-point frontier <= 1 s), and its agreement with a second solver (scipy SLSQP).

- synthetic: 200 suppliers with random risks, prices and caps (seeded), the QP alone;
- real: India's lithium (2023) and rare-earth metals (2024), the whole `critmin.optimise`
  and `critmin.frontier` calls with the data loaded.

Usage: python benchmarks/optimise.py [--runs N]   (writes results/optimise.json)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
from _timing import save


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    os.environ["CRITMIN_HOME"] = tempfile.mkdtemp(prefix="critmin-bench-")
    from scipy.optimize import minimize

    import critmin
    from critmin.optimiser.model import Sourcing, Weights, bounds, build_model
    from critmin.optimiser.result import mix_metrics
    from critmin.optimiser.solve import solve

    rng = np.random.default_rng(42)
    n = 200
    inp = Sourcing(np.array([f"S{i}" for i in range(n)]), rng.uniform(0, 1, n),
                   rng.lognormal(3, 1, n), rng.lognormal(4, 1.5, n), 2000.0, max_share=0.2,
                   reference_price=20.0)
    w = Weights(1.0, 1.0, 0.5)
    model = build_model(inp, w)
    solve(model)  # the first call loads HiGHS
    synthetic = median_ms(lambda: solve(build_model(inp, w)), args.runs)
    found = solve(model)
    lower, upper = bounds(inp)
    start = time.perf_counter()
    ref = minimize(lambda s: mix_metrics(inp, s, w, None)["objective"], np.full(n, 1 / n),
                   method="SLSQP", bounds=list(zip(lower, upper, strict=True)),
                   constraints=[{"type": "eq", "fun": lambda s: s.sum() - 1}],
                   options={"ftol": 1e-12, "maxiter": 1000})
    scipy_ms = round((time.perf_counter() - start) * 1000, 1)
    ours = mix_metrics(inp, found.shares, w, None)["objective"]
    theirs = mix_metrics(inp, ref.x, w, None)["objective"]

    real = []
    for mineral, year, stage in [("lithium", 2023, None), ("rare-earths", 2024, "refined")]:
        critmin.optimise("IND", mineral, year, stage)  # data loaded before timing
        suppliers = len(critmin.suppliers("IND", mineral, year, stage))
        real.append({
            "importer": "IND", "mineral": mineral, "year": year, "stage": stage or "headline",
            "candidates": suppliers,
            "optimise_ms_median": median_ms(
                lambda m=mineral, y=year, s=stage: critmin.optimise("IND", m, y, s), args.runs),
            "frontier_20_ms_median": median_ms(
                lambda m=mineral, y=year, s=stage: critmin.frontier("IND", m, y, s, points=20),
                max(3, args.runs // 4)),
        })
    frontier_qp = median_ms(
        lambda: [solve(build_model(inp, Weights(1 - a, 1.0, a))) for a in np.linspace(0, 1, 20)],
        max(3, args.runs // 4))
    save("optimise", {
        "synthetic_200_suppliers": {"solve_ms_median": synthetic,
                                    "frontier_20_ms_median": frontier_qp,
                                    "objective_highs": ours, "objective_scipy_slsqp": theirs,
                                    "scipy_slsqp_ms": scipy_ms},
        "real": real, "targets": {"solve_ms": 100, "frontier_20_ms": 1000},
    })


if __name__ == "__main__":
    main()
