"""Yearly odds of a new export restriction per supplier, from the restrictions counted in the
events registry, with governance risk as a covariate, and how long restrictions last.

The pure estimator is :mod:`critmin.scenarios.hazard`; this module counts the restrictions,
builds the country-year panel (governance risk from the ``governance`` table) and shapes the
result. The method and its limits: docs/methods.md, "Yearly odds of a restriction".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, resolve, schema
from critmin.errors import InvalidInput
from critmin.event_rules import never_in_force
from critmin.metrics.geopolrisk import MISSING_RISK
from critmin.numbers import share
from critmin.present import records
from critmin.scenarios import hazard
from critmin.store import get_store

SINCE = 2010
"""First year of the record the rates are fitted on: the registry's earliest restriction
(China's rare-earth quota cut of 2010); earlier measures are not recorded."""

BACKTEST_SUPPLIERS = ("CHN", "IDN", "COD", "ZWE", "NAM", "MYS", "USA", "AUS", "CHL", "ZAF",
                      "RUS", "BRA")
"""Suppliers of the back-test: every country with a counted restriction and six large
producers without one."""


@dataclass
class Hazards:
    """Per supplier, the yearly odds of a new export restriction, and the model behind them."""

    year: int
    mineral: str | None
    since: int
    until: int
    fit: hazard.PoissonFit
    duration: hazard.Duration
    suppliers: pd.DataFrame
    restrictions: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def parameters(self) -> dict[str, float]:
        """The fitted model: log-rate intercept and slope per unit of governance risk (with
        its standard error), the dispersion 1/k of the country multipliers, the mean
        duration in years and the probability a restriction in force lasts another year."""
        return {"intercept": self.fit.intercept, "slope": self.fit.slope,
                "slope_se": self.fit.slope_se, "dispersion": self.fit.dispersion,
                "events": float(self.fit.events), "exposure_years": self.fit.exposure_years,
                "mean_duration_years": self.duration.mean_years,
                "still_in_force_next_year": self.duration.still_in_force(1.0)}

    def summary(self) -> str:
        """A few lines for people."""
        names = resolve.country_names()
        top = self.suppliers.head(5)
        lines = "; ".join(f"{names.get(c, c)} {share(p)}" for c, p in
                          zip(top["country"], top["probability"], strict=True))
        what = f"of {self.mineral}" if self.mineral else "of any mineral"
        return (f"yearly odds of a new export restriction {what} ({self.year}), fitted on "
                f"{self.fit.events} restrictions in {self.since}–{self.until}\n"
                f"highest: {lines}\n"
                f"mean duration {self.duration.mean_years:.1f} years "
                f"({self.duration.ended} of {self.duration.spells} ended)")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"year": self.year, "mineral": self.mineral, "since": self.since,
                "until": self.until, "parameters": self.parameters,
                "suppliers": records(self.suppliers),
                "restrictions": records(self.restrictions),
                "units": self.suppliers.attrs.get("units", {}), "notes": self.notes}


def restrictions(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The new restrictions the rates count, one row per supplier and start date.

    From the events registry: events that took effect (not those only announced or
    suspended before their effective date), started on their effective date (their
    announcement where none is documented). Events of one supplier starting the same day are
    one restriction (one announcement's clauses, e.g. China's ban on gallium, germanium and
    antimony to the USA and its graphite clause); an event that starts the day an earlier
    one of the same supplier on a shared mineral ends continues it (the DR Congo's cobalt
    quotas after its suspension) and is not a new restriction. Columns: supplier, start,
    year, minerals, ids, end (first day no longer in force; empty while in force), ended.
    """
    events = get_store().table("events") if table is None else table
    took = events[~never_in_force(events)].copy()
    took["start"] = took["effective"].fillna(took["announced"])
    took = took.dropna(subset=["start"])
    took["minerals"] = took["minerals"].map(lambda ms: sorted(set(ms)))
    later = took.merge(took, on="supplier", suffixes=("", "_prev"))
    shared = [bool(set(a) & set(b)) for a, b in
              zip(later["minerals"], later["minerals_prev"], strict=True)]
    follows = later[(later["start"] == later["ended_prev"]) & np.array(shared, dtype=bool)]
    continued = follows.set_index("id")["id_prev"]
    # a continued spell ends when its continuation ends (chains have one link)
    successor = pd.Series(continued.index, index=continued.to_numpy())
    ended = took.set_index("id")["ended"]
    took["end"] = took["id"].map(successor).map(ended).where(
        took["id"].isin(successor.index), took["ended"])
    new = took[~took["id"].isin(continued.index)]
    grouped = new.groupby(["supplier", "start"], as_index=False).agg(
        minerals=("minerals", lambda s: sorted(set().union(*s))),
        ids=("id", lambda s: ", ".join(sorted(s))),
        end=("end", lambda s: None if s.isna().any() else max(s)))
    grouped["year"] = grouped["start"].str[:4].astype(int)
    grouped["ended"] = grouped["end"].notna()
    return grouped.sort_values(["start", "supplier"]).reset_index(drop=True)[
        ["supplier", "start", "year", "minerals", "ids", "end", "ended"]]


def _risk_panel(countries: Sequence[str], years: Sequence[int]) -> np.ndarray:
    """Governance risk per country × year; a year after the last WGI year carries the last
    value forward, a missing value is :data:`MISSING_RISK`."""
    gov = get_store().table("governance").dropna(subset=["risk"])
    wide = gov.pivot_table(index="country", columns="year", values="risk")
    last = int(wide.columns.max())
    wide = wide.reindex(columns=range(int(wide.columns.min()), max(last, max(years)) + 1))
    wide = wide.ffill(axis=1)
    return wide.reindex(index=list(countries), columns=list(years)).fillna(
        MISSING_RISK).to_numpy(float)


def _fit(counted: pd.DataFrame, since: int, until: int
         ) -> tuple[list[str], np.ndarray, np.ndarray, hazard.PoissonFit, np.ndarray]:
    """The country-year panel and its fit: countries, counts (c × t), risk (c × t), the fit
    (with its dispersion) and each country's multiplier."""
    gov = get_store().table("governance")
    countries = sorted(set(gov.dropna(subset=["risk"])["country"]) | set(counted["supplier"]))
    years = list(range(since, until + 1))
    inside = counted[(counted["year"] >= since) & (counted["year"] <= until)]
    counts = pd.crosstab(inside["supplier"], inside["year"]).reindex(
        index=countries, columns=years, fill_value=0).to_numpy(float)
    risk = _risk_panel(countries, years)
    exposure = np.ones_like(counts)
    fit = hazard.fit_poisson(counts, exposure, risk)
    expected = (exposure * fit.rate(risk)).sum(axis=1)
    inverse_k = hazard.dispersion(counts.sum(axis=1), expected)
    fit = hazard.PoissonFit(fit.intercept, fit.slope, fit.slope_se, inverse_k, fit.events,
                            fit.exposure_years, fit.iterations)
    return countries, counts, risk, fit, hazard.shrink(counts.sum(axis=1), expected,
                                                      inverse_k)


def _duration(counted: pd.DataFrame, until: int) -> hazard.Duration:
    """Years each counted restriction was in force, censored at the end of ``until``."""
    start = pd.to_datetime(counted["start"])
    stop = pd.to_datetime(counted["end"]).fillna(pd.Timestamp(f"{until}-12-31"))
    years = ((stop - start).dt.days / 365.25).clip(lower=0).to_numpy(float)
    return hazard.duration(years, counted["end"].notna().to_numpy(bool))


def hazards(mineral: str | None = None, year: int | None = None, since: int = SINCE,
            until: int | None = None) -> Hazards:
    """Yearly odds that each supplier imposes a new export restriction.

    A Poisson rate per country-year, log-linear in governance risk, fitted by maximum
    likelihood on the restrictions counted in the events registry from ``since`` to
    ``until`` (default: the last year with a counted restriction), with Gamma-Poisson
    empirical-Bayes shrinkage of each country's rate towards the fitted line; annual
    probability = 1 − exp(−rate). With ``mineral``, the rate of restrictions covering it:
    the country rate times the country's share of restrictions covering the mineral (shrunk
    to the share over all countries).

    Parameters
    ----------
    mineral : str, optional
        A mineral; default: a new restriction of any mineral.
    year : int, optional
        The year whose governance risk sets the rates (default: the last year fitted; after
        the last WGI year, its value carries forward).
    since, until : int
        The years fitted.

    Returns
    -------
    Hazards

    Examples
    --------
    >>> h = critmin.hazards()
    >>> p = h.suppliers.set_index("country")["probability"]
    >>> bool(p["CHN"] > 5 * p["USA"]) and bool(0 < p["USA"] < 0.05)
    True
    """
    counted = restrictions()
    last = int(counted["year"].max())
    end = last if until is None else checks.as_int(until, "until", minimum=since)
    start = checks.as_int(since, "since", minimum=1990, maximum=end)
    when = end if year is None else checks.as_int(year, "year", minimum=1996, maximum=2100)
    slug = None if mineral is None else resolve.mineral(mineral)
    fitted = counted[counted["year"] <= end]
    if fitted[fitted["year"] >= start].empty:
        raise InvalidInput(f"no restriction counted in {start}–{end}; the registry's "
                           f"restrictions start in {int(counted['year'].min())}")
    countries, counts, _risk, fit, multiplier = _fit(fitted, start, end)
    now = _risk_panel(countries, [when])[:, 0]
    line = fit.rate(now)
    rate = line * multiplier
    frame = pd.DataFrame({
        "country": countries, "events": counts.sum(axis=1).astype(int),
        "exposure_years": float(counts.shape[1]), "governance_risk": now,
        "fitted_rate": line, "multiplier": multiplier, "country_rate": rate,
        "mineral_share": 1.0, "mineral_events": counts.sum(axis=1).astype(int)})
    notes = [f"{fit.events} new restrictions counted in {start}–{end} across "
             f"{int((counts.sum(axis=1) > 0).sum())} countries (events registry); the "
             "registry records documented high-impact measures only, not every licence or "
             "export tax, so these are odds of such measures"]
    inside = fitted[fitted["year"] >= start]
    if slug is not None:
        covers = np.array([[slug in ms] for ms in inside["minerals"]], dtype=float)
        pooled, _k = hazard.mineral_share(covers)
        own = pd.Series(covers[:, 0], index=inside["supplier"].to_numpy()).groupby(
            level=0).sum().reindex(countries, fill_value=0.0).to_numpy(float)
        share = hazard.country_mineral_share(own[:, None], counts.sum(axis=1), pooled)[:, 0]
        frame["mineral_share"] = share
        frame["mineral_events"] = own.astype(int)
        notes.append(f"{int(covers.sum())} of the {len(inside)} restrictions cover {slug}; "
                     f"pooled share {float(pooled[0]):.3f} (Jeffreys prior)")
    frame["rate"] = frame["country_rate"] * frame["mineral_share"]
    frame["probability"] = hazard.annual_probability(frame["rate"].to_numpy(float))
    frame = frame.sort_values(["probability", "country"], ascending=[False, True])
    spells = _duration(inside, end)
    notes.append(f"slope {fit.slope:+.2f} ± {fit.slope_se:.2f} per unit of governance risk; "
                 f"dispersion 1/k = {fit.dispersion:.2f}")
    return Hazards(year=when, mineral=slug, since=start, until=end, fit=fit, duration=spells,
                   suppliers=schema.select("hazards", frame.reset_index(drop=True)),
                   restrictions=inside.reset_index(drop=True), notes=notes)


def hazard_backtest(split: int = 2019, since: int = SINCE,
                    suppliers: Sequence[str] = BACKTEST_SUPPLIERS) -> pd.DataFrame:
    """Predicted against counted restrictions per supplier: in sample (fitted on the whole
    record) and held out (fitted on ``since``–``split``, compared with the years after).

    Columns: country, events (counted in the whole record), predicted (in sample, over the
    same years), per_year_observed, per_year_predicted, held_out_events (after ``split``),
    held_out_predicted (the rates fitted up to ``split`` with each later year's governance
    risk).
    """
    counted = restrictions()
    end = int(counted["year"].max())
    cut = checks.as_int(split, "split", minimum=since, maximum=end - 1)
    codes = [resolve.country(c) for c in suppliers]
    full_countries, full_counts, full_risk, full_fit, full_mult = _fit(counted, since, end)
    index = {c: i for i, c in enumerate(full_countries)}
    rows = np.array([index[c] for c in codes])
    in_sample = (full_fit.rate(full_risk[rows]) * full_mult[rows, None]).sum(axis=1)
    early = counted[counted["year"] <= cut]
    e_countries, _counts, _risk, e_fit, e_mult = _fit(early, since, cut)
    e_index = {c: i for i, c in enumerate(e_countries)}
    later_years = list(range(cut + 1, end + 1))
    later_risk = _risk_panel(codes, later_years)
    mult = np.array([e_mult[e_index[c]] if c in e_index else 1.0 for c in codes])
    held_pred = (e_fit.rate(later_risk) * mult[:, None]).sum(axis=1)
    years = end - since + 1
    later = counted[counted["year"] > cut]
    held_obs = later["supplier"].value_counts().reindex(codes, fill_value=0)
    frame = pd.DataFrame({
        "country": codes, "events": full_counts[rows].sum(axis=1).astype(int),
        "predicted": in_sample, "per_year_observed": full_counts[rows].sum(axis=1) / years,
        "per_year_predicted": in_sample / years,
        "held_out_events": held_obs.to_numpy(int), "held_out_predicted": held_pred})
    frame.attrs["since"], frame.attrs["split"], frame.attrs["until"] = since, cut, end
    return frame
