"""Yearly odds of a new export restriction, estimated from counted events.

The rate of new restrictions of country c in year t is Poisson, log-linear in the country's
governance risk g (0-1):

    n[c, t] ~ Poisson(exposure[c, t] · exp(a + b·g[c, t]))

fitted by maximum likelihood (Newton-Raphson on the whole country-year panel at once). The
countries' own records then move each country's rate away from the fitted line by
Gamma-Poisson (negative-binomial) empirical Bayes: a country multiplier u_c ~ Gamma(k, k)
(mean 1, variance 1/k = the dispersion, estimated by the method of moments), whose posterior
mean given n_c events against an expected E_c is ``(k + n_c) / (k + E_c)``. A country with
no event keeps a small positive rate (below the fitted line); an active restrictor gets a
rate close to its own frequency. The probability of at least one new restriction in a year
is ``1 − exp(−rate)``.

How long a restriction lasts: exponential, by maximum likelihood with right censoring (mean
= time observed / restrictions ended), with the Kaplan-Meier curve beside it as a check.

Arrays in, arrays out: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

JEFFREYS = 0.5
"""Pseudo-count of the Jeffreys prior Beta(1/2, 1/2) used for a mineral's share of
restrictions, so that a mineral never restricted in the record keeps a small share."""

COUNTRY_PRIOR_WEIGHT = 1.0
"""Weight, in restrictions, of the pooled mineral share in a country's own mineral share."""


@dataclass(frozen=True)
class PoissonFit:
    """Log-linear Poisson rate ``exp(intercept + slope·g)`` and the dispersion of country
    multipliers around it."""

    intercept: float
    slope: float
    slope_se: float
    dispersion: float
    events: int
    exposure_years: float
    iterations: int

    def rate(self, risk: np.ndarray) -> np.ndarray:
        """The fitted rate (events a year) at governance risk ``risk``."""
        return np.exp(self.intercept + self.slope * np.asarray(risk, dtype=float))


def fit_poisson(counts: np.ndarray, exposure: np.ndarray, risk: np.ndarray,
                tol: float = 1e-10, max_iter: int = 100) -> PoissonFit:
    """Maximum-likelihood fit of ``counts ~ Poisson(exposure · exp(a + b·risk))``.

    All arguments have the same shape (e.g. country × year); cells with zero exposure are
    ignored. Newton-Raphson from the pooled rate (slope 0). The dispersion is left 0: see
    :func:`dispersion`.

    Examples
    --------
    Two groups observed ten years each: risk 0 with 1 event, risk 1 with 4. The fit is
    saturated, so a = log(0.1) and b = log(4).

    >>> f = fit_poisson(np.array([1.0, 4.0]), np.array([10.0, 10.0]), np.array([0.0, 1.0]))
    >>> round(float(np.exp(f.intercept)), 6), round(float(np.exp(f.slope)), 6)
    (0.1, 4.0)
    """
    n = np.asarray(counts, dtype=float).ravel()
    t = np.asarray(exposure, dtype=float).ravel()
    g = np.asarray(risk, dtype=float).ravel()
    keep = t > 0
    n, t, g = n[keep], t[keep], g[keep]
    total = float(n.sum())
    if total <= 0:
        raise ValueError("no event counted: a rate cannot be fitted")
    x = np.column_stack([np.ones_like(g), g])
    beta = np.array([np.log(total / t.sum()), 0.0])
    iterations = 0
    info = np.eye(2)
    for iterations in range(1, max_iter + 1):  # noqa: B007 (iterations is reported)
        mu = t * np.exp(x @ beta)
        info = x.T @ (x * mu[:, None])
        step = np.linalg.solve(info, x.T @ (n - mu))
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    cov = np.linalg.inv(info)
    return PoissonFit(intercept=float(beta[0]), slope=float(beta[1]),
                      slope_se=float(np.sqrt(cov[1, 1])), dispersion=0.0,
                      events=round(total), exposure_years=float(t.sum()),
                      iterations=iterations)


def dispersion(counts: np.ndarray, expected: np.ndarray) -> float:
    """Method-of-moments variance 1/k of the country multipliers (0: none beyond Poisson).

    With n_c events per country and E_c expected from the fitted line,
    ``1/k = max(0, Σ[(n_c − E_c)² − n_c]) / Σ E_c²``.

    Examples
    --------
    >>> dispersion(np.array([4.0, 0.0]), np.array([2.0, 2.0]))
    0.5
    >>> dispersion(np.array([2.0, 2.0]), np.array([2.0, 2.0]))
    0.0
    """
    n = np.asarray(counts, dtype=float)
    e = np.asarray(expected, dtype=float)
    excess = float(np.sum((n - e) ** 2 - n))
    return max(0.0, excess) / float(np.sum(e * e))


def shrink(counts: np.ndarray, expected: np.ndarray, inverse_k: float) -> np.ndarray:
    """Posterior mean of each country's multiplier: ``(k + n_c) / (k + E_c)``; 1 without
    dispersion.

    Examples
    --------
    >>> shrink(np.array([4.0, 0.0]), np.array([2.0, 2.0]), 0.5).round(6).tolist()
    [1.5, 0.5]
    """
    n = np.asarray(counts, dtype=float)
    e = np.asarray(expected, dtype=float)
    if inverse_k <= 0:
        return np.ones_like(e)
    k = 1.0 / inverse_k
    return (k + n) / (k + e)


def annual_probability(rate: np.ndarray) -> np.ndarray:
    """Probability of at least one event in a year at Poisson ``rate`` a year.

    >>> annual_probability(np.array([0.0, np.log(2.0)])).round(6).tolist()
    [0.0, 0.5]
    """
    out: np.ndarray = -np.expm1(-np.asarray(rate, dtype=float))
    return out


def mineral_share(covers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of restrictions that cover each mineral: pooled and per country.

    ``covers`` is restrictions × minerals (0/1). Pooled over all countries with the Jeffreys
    prior, ``π_m = (k_m + 1/2) / (N + 1)``. Returns (π_m, k_m).

    >>> pi, k = mineral_share(np.array([[1, 0], [1, 1], [1, 0]]))
    >>> pi.round(4).tolist(), k.tolist()
    ([0.875, 0.375], [3.0, 1.0])
    """
    c = np.asarray(covers, dtype=float)
    k = c.sum(axis=0)
    return (k + JEFFREYS) / (c.shape[0] + 2 * JEFFREYS), k


def country_mineral_share(own: np.ndarray, restrictions: np.ndarray,
                          pooled: np.ndarray) -> np.ndarray:
    """A country's share of restrictions covering a mineral, shrunk to the pooled share:
    ``(k_cm + w·π_m) / (n_c + w)`` with w = :data:`COUNTRY_PRIOR_WEIGHT`. A country without
    restrictions gets the pooled share.

    ``own``: countries × minerals counts; ``restrictions``: per country; ``pooled``: per
    mineral.

    >>> country_mineral_share(np.array([[3.0], [0.0]]), np.array([3.0, 0.0]),
    ...                       np.array([0.5])).round(4).tolist()
    [[0.875], [0.5]]
    """
    w = COUNTRY_PRIOR_WEIGHT
    return (np.asarray(own, dtype=float) + w * pooled[None, :]) / (
        np.asarray(restrictions, dtype=float)[:, None] + w)


@dataclass(frozen=True)
class Duration:
    """How long a restriction stays in force (years)."""

    mean_years: float
    ended: int
    spells: int
    observed_years: float
    km_times: np.ndarray
    km_survival: np.ndarray

    def still_in_force(self, years: float = 1.0) -> float:
        """Probability a restriction in force is still in force ``years`` later
        (exponential: memoryless, whatever its age)."""
        if not np.isfinite(self.mean_years) or self.mean_years <= 0:
            return 1.0
        return float(np.exp(-years / self.mean_years))


def duration(years: np.ndarray, ended: np.ndarray) -> Duration:
    """Exponential mean duration with right censoring, and the Kaplan-Meier curve.

    ``years``: time each restriction was observed in force; ``ended``: whether it ended
    (False: still in force at the end of the record, censored). Mean = Σ years / Σ ended
    (infinite when none ended).

    Examples
    --------
    Three spells of 1, 2 and 3 years, the last still in force: 6 years observed, 2 ended.

    >>> d = duration(np.array([1.0, 2.0, 3.0]), np.array([True, True, False]))
    >>> d.mean_years, d.km_survival.round(4).tolist()
    (3.0, [0.6667, 0.3333])
    """
    t = np.asarray(years, dtype=float)
    e = np.asarray(ended, dtype=bool)
    done = int(e.sum())
    total = float(t.sum())
    mean = total / done if done else float("inf")
    times = np.unique(t[e])
    at_risk = (t[None, :] >= times[:, None]).sum(axis=1)
    deaths = ((t[None, :] == times[:, None]) & e[None, :]).sum(axis=1)
    survival = np.cumprod(1.0 - deaths / at_risk) if len(times) else np.array([])
    return Duration(mean_years=mean, ended=done, spells=len(t), observed_years=total,
                    km_times=times, km_survival=survival)
