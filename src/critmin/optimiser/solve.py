"""Solving the sourcing programme with HiGHS (a convex QP; an LP when concentration has no
weight). HiGHS prints a banner on its first use in a process; it is kept off stdout, which
carries the data."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from critmin.optimiser.model import Model


@dataclass(frozen=True)
class Solution:
    """Shares per supplier, the objective value and HiGHS's status.

    ``optimal``: proven optimal (for a mixed-integer programme, within the gap asked for).
    ``incumbent``: not proven optimal, but a mix that keeps every constraint (a
    mixed-integer programme stopped at its time limit); ``gap`` then bounds how far from
    the optimum it may be, relative to its objective.
    """

    shares: np.ndarray
    objective: float
    status: str
    optimal: bool
    gap: float | None = None
    incumbent: bool = False

    @property
    def usable(self) -> bool:
        """Whether the shares are a mix that keeps every constraint."""
        return self.optimal or self.incumbent


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Route the process's stdout (file descriptor 1, where C code writes) to /dev/null."""
    sys.stdout.flush()
    libc = ctypes.CDLL(None)
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


@cache
def _highspy() -> Any:
    import importlib

    with _stdout_silenced():
        highspy: Any = importlib.import_module("highspy")
        highspy.Highs()  # the banner comes with the first instance
    return highspy


ITERATION_LIMIT = 10_000
"""QP iterations HiGHS may take (a few dozen suffice here); a guard against cycling."""


def solve(model: Model, time_limit_s: float | None = None, mip_gap: float | None = None
          ) -> Solution:
    """The optimal shares of ``model``; with a minimum lot or a most number of suppliers,
    of the mixed-integer programme (:func:`critmin.optimiser.mip.solve_mixed`, which takes
    ``time_limit_s`` and ``mip_gap``).

    The objective is conditioned before HiGHS sees it: the smallest linear cost is taken off
    every supplier (the shares add up to 1, so the optimum does not move) and the whole is
    scaled so that its largest coefficient is 1. HiGHS's active-set QP solver otherwise
    cycles without end when the quadratic term is tiny against the tolerances (e.g. a
    concentration weight of 1e-3 and equal risks).

    >>> from critmin.optimiser.model import Model
    >>> m = Model(np.array([0.5, 0.2, 0.3]), np.full(3, 2.0), np.zeros(3), np.ones(3))
    >>> solve(m).shares.round(6).tolist()
    [0.25, 0.4, 0.35]
    >>> tiny = Model(np.array([0.4, 0.4]), np.full(2, 1e-3), np.zeros(2), np.ones(2))
    >>> solve(tiny).shares.round(6).tolist()
    [0.5, 0.5]
    """
    if model.mixed_integer:
        from critmin.optimiser.mip import MIP_GAP, TIME_LIMIT_S, solve_mixed

        return solve_mixed(model, TIME_LIMIT_S if time_limit_s is None else time_limit_s,
                           MIP_GAP if mip_gap is None else mip_gap)
    hs = _highspy()
    n = len(model.linear)
    shift = float(model.linear.min()) if n else 0.0
    linear = model.linear.astype(float) - shift
    scale = max(float(np.abs(linear).max(initial=0.0)),
                float(model.hessian_diagonal.max(initial=0.0)))
    scale = scale if scale > 0 else 1.0
    lp = hs.HighsLp()
    lp.num_col_, lp.num_row_ = n, 1
    lp.col_cost_ = linear / scale
    lp.col_lower_ = model.lower.astype(float)
    lp.col_upper_ = model.upper.astype(float)
    lp.row_lower_ = lp.row_upper_ = np.array([1.0])
    lp.a_matrix_.format_ = hs.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(n + 1, dtype=np.int32)
    lp.a_matrix_.index_ = np.zeros(n, dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(n)
    whole = hs.HighsModel()
    whole.lp_ = lp
    if (model.hessian_diagonal > 0).any():
        hessian = hs.HighsHessian()
        hessian.dim_ = n
        hessian.format_ = hs.HessianFormat.kTriangular
        hessian.start_ = np.arange(n + 1, dtype=np.int32)
        hessian.index_ = np.arange(n, dtype=np.int32)
        hessian.value_ = model.hessian_diagonal.astype(float) / scale
        whole.hessian_ = hessian
    highs = hs.Highs()
    highs.silent()
    highs.setOptionValue("qp_iteration_limit", ITERATION_LIMIT)
    highs.passModel(whole)
    highs.run()
    status = highs.getModelStatus()
    text = highs.modelStatusToString(status)
    optimal = status == hs.HighsModelStatus.kOptimal
    shares = np.clip(np.asarray(highs.getSolution().col_value, dtype=float), 0.0, None)
    if optimal and shares.sum() > 0:
        shares = shares / shares.sum()  # remove the solver's last 1e-9
    objective = _objective(model, shares)
    exact = separable_optimum(model)
    if exact is not None and (not optimal or _objective(model, exact) < objective - 1e-12):
        # HiGHS failed, or stopped within its tolerances short of the optimum
        text = status_text(text, optimal, exact=True)
        shares, objective, optimal = exact, _objective(model, exact), True
    return Solution(shares, objective, text, optimal)


def status_text(highs: str, highs_optimal: bool, exact: bool) -> str:
    """What a solution's status says: HiGHS's own status, unless the exact KKT optimum was
    taken; then whether HiGHS failed (a fallback, with HiGHS's reason) or only stopped
    within its tolerances.

    >>> status_text("Optimal", True, exact=False)
    'Optimal'
    >>> status_text("Solve error", False, exact=True)
    'fallback: exact KKT optimum (HiGHS failed: Solve error)'
    >>> status_text("Optimal", True, exact=True)
    'Optimal (exact KKT optimum; HiGHS stopped within its tolerances)'
    """
    if not exact:
        return highs
    if not highs_optimal:
        return f"fallback: exact KKT optimum (HiGHS failed: {highs})"
    return "Optimal (exact KKT optimum; HiGHS stopped within its tolerances)"


def _objective(model: Model, shares: np.ndarray) -> float:
    return float(model.linear @ shares + 0.5 * model.hessian_diagonal @ shares**2)


def separable_optimum(model: Model) -> np.ndarray | None:
    """The exact optimum from the KKT conditions, or None when the bounds admit no mix or
    the quadratic weights are mixed (some zero, some not).

    The programme is separable with one equality: at the optimum every share is
    s_i(λ) = clip((λ - c_i) / h_i, l_i, u_i) for the λ where they add up to 1, found among
    the breakpoints c_i + h_i l_i and c_i + h_i u_i, where Σ s(λ) is piecewise linear. With
    no quadratic term (an LP) the cheapest suppliers are filled first. HiGHS's QP solver
    fails on some of these programmes (tiny bounds, a tiny quadratic term) and stops within
    its tolerances on others: :func:`solve` takes this solution whenever it is better.

    >>> m = Model(np.array([0.5, 0.2, 0.3]), np.full(3, 2.0), np.zeros(3), np.ones(3))
    >>> separable_optimum(m).round(6).tolist()
    [0.25, 0.4, 0.35]
    >>> lp = Model(np.array([0.5, 0.2, 0.3]), np.zeros(3), np.zeros(3), np.full(3, 0.6))
    >>> separable_optimum(lp).round(6).tolist()
    [0.0, 0.6, 0.4]
    """
    c, h = model.linear.astype(float), model.hessian_diagonal.astype(float)
    lo, up = model.lower.astype(float), model.upper.astype(float)
    if lo.sum() > 1 + 1e-12 or up.sum() < 1 - 1e-12 or (lo > up).any():
        return None
    if (h == 0).all():
        return _settle(lo.copy(), lo, up, c)
    if (h == 0).any():
        return None
    points = np.sort(np.concatenate([c + h * lo, c + h * up]))
    totals = np.clip((points[:, None] - c) / h, lo, up).sum(axis=1)
    k = int(np.searchsorted(totals, 1.0))
    if k == 0:
        lam = points[0]
    elif k >= len(points):
        lam = points[-1]
    else:
        t0, t1 = totals[k - 1], totals[k]
        lam = points[k] if t1 == t0 else points[k - 1] + (1.0 - t0) * (
            points[k] - points[k - 1]) / (t1 - t0)
    # λ carries rounding that (λ - c) / h magnifies when h is tiny: settle the last bit
    return _settle(np.clip((lam - c) / h, lo, up), lo, up, c)


def _settle(shares: np.ndarray, lo: np.ndarray, up: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``shares`` made to add up to 1 within the bounds: a shortfall filled cheapest supplier
    first, an excess taken from the dearest first."""
    gap = 1.0 - float(shares.sum())
    if gap == 0.0:
        return shares
    grow = gap > 0
    order = np.argsort(c if grow else -c, kind="stable")
    room = (up - shares if grow else shares - lo)[order]
    before = np.concatenate([[0.0], np.cumsum(room)[:-1]])
    step = np.clip(abs(gap) - before, 0.0, room)
    out = shares.copy()
    out[order] += step if grow else -step
    return out
