"""Minimum lots and a most number of suppliers: the sourcing programme as a mixed-integer
programme solved with HiGHS.

Each supplier j is in the mix or not (y_j ∈ {0, 1}); its share s_j is then

    lot · y_j ≤ s_j ≤ upper_j · y_j,      Σ y_j ≤ k,      Σ s_j = 1,

with lot the minimum lot over the demand and the supplier's own upper share (its cap and
the share cap) as the big-M, so the binary costs no looseness beyond what the caps allow.

HiGHS solves mixed-integer *linear* programmes, not mixed-integer quadratic ones, and the
concentration term ½ h Σ s_j² is quadratic. It is handled by outer approximation (Duran and
Grossmann 1986), which is exact for a convex objective such as this one:

1. a MILP in which each s_j² is replaced by z_j ≥ 2 a s_j − a² for a set of tangent points
   a. A tangent lies below the parabola, so the MILP's optimum, or HiGHS's bound on it, is
   a lower bound on the true optimum;
2. the suppliers it picks, with y fixed, leave a convex QP over their shares, solved exactly
   (:func:`critmin.optimiser.solve.solve`): a mix that keeps every constraint, an upper
   bound;
3. tangents at both solutions are added and the MILP is solved again, until the bounds meet
   within ``mip_gap`` (relative to the objective) or :data:`ABS_GAP`.

A tangent at the QP optimum of a set of suppliers makes the MILP value that set at its true
optimum, so a set is never picked twice unless it is the best: the rounds end. The other
routes were weighed: enumerating supplier sets is exact but grows as C(n, k) (C(60, 4) is
487,635 QPs for a lithium importer), and a fixed piecewise-linear objective has an error
that only many pieces keep small, with no bound to report. With no concentration weight
the MILP is the programme itself and one round suffices.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from critmin.optimiser.model import Model
from critmin.optimiser.solve import Solution, _highspy, _objective, solve

TIME_LIMIT_S = 30.0
"""Seconds one mixed-integer solve may take (default); past it the best mix found is
reported with its gap, or the solve fails when there is none."""
MIP_GAP = 1e-6
"""Relative gap between the best mix and the lower bound at which the rounds stop."""
ABS_GAP = 1e-9
"""Absolute gap (objective units, each term about 0-1) at which the rounds stop."""
MAX_ROUNDS = 60
"""Outer-approximation rounds at most (a handful suffice on real data)."""
TANGENTS = 6
"""Tangent points per supplier in the first round, evenly over [0, upper_j]."""
ON = 0.5
"""A binary above this is a supplier in the mix."""


@dataclass
class _Milp:
    """A HiGHS instance holding the MILP over [s, y, z] and what reads it back."""

    highs: Any
    n: int
    curved: np.ndarray
    """Suppliers with a quadratic term (a z column each, after the s and y columns)."""

    def run(self, seconds: float) -> tuple[str, str, np.ndarray, np.ndarray, float]:
        """What came of it (``optimal``; ``stopped``: a limit reached with a feasible mix in
        hand; ``limit``: a limit reached with none; ``infeasible``; ``failed``), HiGHS's
        status text, the shares, the binaries and HiGHS's bound on the objective."""
        hs = _highspy()
        h = self.highs
        h.setOptionValue("time_limit", max(seconds, 1e-3))
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        text = h.modelStatusToString(status)
        held = info.primal_solution_status == hs.SolutionStatus.kSolutionStatusFeasible
        limits = (hs.HighsModelStatus.kTimeLimit, hs.HighsModelStatus.kInterrupt,
                  hs.HighsModelStatus.kSolutionLimit, hs.HighsModelStatus.kIterationLimit)
        if status == hs.HighsModelStatus.kOptimal and held:
            kind = "optimal"
        elif status in limits:
            kind = "stopped" if held else "limit"
        elif status == hs.HighsModelStatus.kInfeasible:
            kind = "infeasible"
        else:
            kind = "failed"
        values = np.asarray(h.getSolution().col_value, dtype=float)
        n = self.n
        shares = values[:n] if len(values) >= 2 * n else np.zeros(n)
        binaries = values[n:2 * n] if len(values) >= 2 * n else np.zeros(n)
        return kind, text, shares, binaries, float(info.mip_dual_bound)

    def add_tangents(self, points: np.ndarray) -> None:
        """Cuts z_j ≥ 2 a_j s_j − a_j² at a_j = ``points[j]`` for every curved supplier."""
        j = self.curved
        if not len(j):
            return
        a = points[j]
        m = len(j)
        z = 2 * self.n + np.arange(m)
        index = np.column_stack([z, j]).ravel().astype(np.int32)
        value = np.column_stack([np.ones(m), -2.0 * a]).ravel()
        self.highs.addRows(m, -a**2, np.full(m, np.inf), 2 * m,
                           np.arange(0, 2 * m, 2, dtype=np.int32), index, value)


def _milp(linear: np.ndarray, curvature: np.ndarray, lower: np.ndarray, upper: np.ndarray,
          lot: float, max_count: int | None, total: tuple[float, float], mip_gap: float
          ) -> _Milp:
    """The MILP: minimise linear·s + ½ Σ curvature_j z_j with total[0] ≤ Σ s ≤ total[1],
    lot · y ≤ s ≤ upper · y, Σ y ≤ max_count, s ≥ lower (which puts y at 1)."""
    hs = _highspy()
    n = len(linear)
    curved = np.flatnonzero(curvature > 0)
    m = len(curved)
    lot_j = np.maximum(lot, lower)
    can = (upper > 0) & (upper >= lot_j - 1e-12)  # whether supplier j can be in the mix
    col_cost = np.concatenate([linear, np.zeros(n), 0.5 * curvature[curved]])
    col_lower = np.concatenate([lower, (lower > 0).astype(float), np.zeros(m)])
    col_upper = np.concatenate([np.where(can, upper, 0.0), can.astype(float),
                                upper[curved] ** 2])
    # rows: Σ s; s_j − upper_j y_j ≤ 0; s_j − lot_j y_j ≥ 0; Σ y ≤ k
    starts, index, value = [0], [], []
    rows_lower, rows_upper = [total[0]], [total[1]]
    index += list(range(n))
    value += [1.0] * n
    starts.append(len(index))
    for j in range(n):
        for bound, lo, up in ((upper[j], -np.inf, 0.0), (lot_j[j], 0.0, np.inf)):
            index += [j, n + j]
            value += [1.0, -float(bound)]
            starts.append(len(index))
            rows_lower.append(lo)
            rows_upper.append(up)
    if max_count is not None:
        index += list(range(n, 2 * n))
        value += [1.0] * n
        starts.append(len(index))
        rows_lower.append(-np.inf)
        rows_upper.append(float(max_count))
    lp = hs.HighsLp()
    lp.num_col_, lp.num_row_ = 2 * n + m, len(rows_lower)
    lp.col_cost_ = col_cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = np.array(rows_lower)
    lp.row_upper_ = np.array(rows_upper)
    lp.a_matrix_.format_ = hs.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=float)
    lp.integrality_ = ([hs.HighsVarType.kContinuous] * n + [hs.HighsVarType.kInteger] * n
                       + [hs.HighsVarType.kContinuous] * m)
    highs = hs.Highs()
    highs.silent()
    highs.setOptionValue("mip_rel_gap", mip_gap / 2)
    highs.setOptionValue("mip_abs_gap", ABS_GAP / 2)
    highs.passModel(lp)
    out = _Milp(highs, n, curved)
    for k in range(1, TANGENTS):
        out.add_tangents(upper * k / (TANGENTS - 1))
    return out


def solve_mixed(model: Model, time_limit_s: float = TIME_LIMIT_S, mip_gap: float = MIP_GAP
                ) -> Solution:
    """The optimal shares of a programme with a minimum lot or a most number of suppliers,
    by outer approximation (see the module's text); ``gap`` is the relative gap achieved.

    The objective is conditioned as in :func:`critmin.optimiser.solve.solve` (the least
    linear cost taken off, the whole scaled to a largest coefficient of 1).

    >>> m = Model(np.array([0.1, 0.2, 0.3]), np.full(3, 2.0), np.zeros(3), np.ones(3),
    ...           lot=0.0, max_count=2)
    >>> found = solve_mixed(m)
    >>> found.status, found.shares.round(6).tolist()
    ('Optimal', [0.525, 0.475, 0.0])
    """
    start = time.monotonic()
    n = len(model.linear)
    shift = float(model.linear.min()) if n else 0.0
    linear = model.linear.astype(float) - shift
    curvature = model.hessian_diagonal.astype(float)
    scale = max(float(np.abs(linear).max(initial=0.0)), float(curvature.max(initial=0.0)))
    scale = scale if scale > 0 else 1.0
    upper = model.upper.astype(float)
    milp = _milp(linear / scale, curvature / scale, model.lower.astype(float), upper,
                 model.lot, model.max_count, (1.0, 1.0), mip_gap)
    best: np.ndarray | None = None
    upper_bound, lower_bound = np.inf, -np.inf
    text, stopped = "", ""
    for _ in range(MAX_ROUNDS):
        left = time_limit_s - (time.monotonic() - start)
        if left <= 0:
            stopped = "time limit"
            break
        kind, text, shares, binaries, bound = milp.run(left)
        if kind == "infeasible":
            return Solution(np.zeros(n), np.nan, "Infeasible", optimal=False)
        if kind == "limit":
            stopped = "time limit"
            break
        if kind == "failed":
            return Solution(np.zeros(n), np.nan, f"solver failed: {text}", optimal=False)
        lower_bound = max(lower_bound, bound * scale + shift)
        on = binaries > ON
        fixed = Model(model.linear, model.hessian_diagonal,
                      np.where(on, np.maximum(model.lower, model.lot), 0.0),
                      np.where(on, upper, 0.0))
        exact = solve(fixed)
        if exact.optimal and exact.objective < upper_bound:
            best, upper_bound = exact.shares, exact.objective
        if kind == "stopped":
            stopped = "time limit"
            break
        if upper_bound - lower_bound <= max(ABS_GAP, mip_gap * abs(upper_bound)):
            break
        milp.add_tangents(np.clip(shares, 0.0, upper))
        if exact.optimal:
            milp.add_tangents(exact.shares)
    else:
        stopped = "round limit"
    if best is None:
        why = ("the time limit came before any mix was found" if stopped == "time limit"
               else f"no mix was found ({text})")
        return Solution(np.zeros(n), np.nan, f"solver failed: {why}", optimal=False)
    gap = max(upper_bound - lower_bound, 0.0) / max(abs(upper_bound), ABS_GAP)
    if not stopped:
        return Solution(best, _objective(model, best), "Optimal", optimal=True, gap=gap)
    return Solution(best, _objective(model, best),
                    f"{stopped}: best mix found (gap {gap:.2%})", optimal=False, gap=gap,
                    incumbent=True)


def deliverable(model: Model, time_limit_s: float = TIME_LIMIT_S) -> Solution:
    """The mix that delivers the most of the demand: the largest Σ s_j ≤ 1 within the
    bounds, the minimum lot and the most number of suppliers; ``objective`` is Σ s_j (1
    when the demand can be met).

    Without a lot or a count it is Σ upper_j up to 1; otherwise a MILP (a knapsack: two
    suppliers of 70 t each cannot deliver 100 t in lots of 60 t).

    >>> m = Model(np.zeros(2), np.zeros(2), np.zeros(2), np.full(2, 0.7), lot=0.6)
    >>> round(deliverable(m).objective, 6)
    0.7
    """
    n = len(model.linear)
    upper = model.upper.astype(float)
    if not model.mixed_integer:
        most = float(upper.sum())
        shares = upper * min(1.0, 1.0 / most) if most > 0 else upper
        return Solution(shares, float(shares.sum()), "Optimal", optimal=True)
    milp = _milp(-np.ones(n), np.zeros(n), model.lower.astype(float), upper, model.lot,
                 model.max_count, (0.0, 1.0), 0.0)
    kind, text, shares, _, bound = milp.run(time_limit_s)
    if kind not in ("optimal", "stopped"):
        why = "the time limit came before any mix was found" if kind == "limit" else text
        return Solution(np.zeros(n), np.nan, f"solver failed: {why}", optimal=False)
    shares = np.clip(shares, 0.0, upper)
    if kind == "optimal":
        return Solution(shares, float(shares.sum()), "Optimal", optimal=True, gap=0.0)
    gap = max(-bound - float(shares.sum()), 0.0)
    return Solution(shares, float(shares.sum()), f"time limit: most found (gap {gap:.2%})",
                    optimal=False, gap=gap, incumbent=True)


def without_integers(model: Model) -> Model:
    """``model`` with neither minimum lot nor most number of suppliers."""
    return replace(model, lot=0.0, max_count=None)
