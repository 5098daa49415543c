"""Yearly odds of an export restriction: the estimator on hand-computed cases, its invariants,
and the odds on the events registry against the record (in sample and held out)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin.scenarios import hazard
from critmin.whatif.hazards import BACKTEST_SUPPLIERS, hazard_backtest, restrictions


def test_poisson_fit_is_exact_when_saturated() -> None:
    # risk 0: 2 events in 8 years; risk 1: 6 events in 4 years
    fit = hazard.fit_poisson(np.array([2.0, 6.0]), np.array([8.0, 4.0]),
                             np.array([0.0, 1.0]))
    assert np.exp(fit.intercept) == pytest.approx(0.25)
    assert np.exp(fit.slope) == pytest.approx(1.5 / 0.25)
    assert (fit.events, fit.exposure_years) == (8, 12.0)
    # the standard error of a log rate ratio is sqrt(1/n0 + 1/n1)
    assert fit.slope_se == pytest.approx(np.sqrt(1 / 2 + 1 / 6))


def test_poisson_fit_solves_the_score_equations() -> None:
    counts = np.array([[0, 1, 0], [2, 0, 1], [0, 0, 0], [1, 3, 2]], dtype=float)
    risk = np.array([[0.2, 0.2, 0.3], [0.5, 0.6, 0.6], [0.1, 0.1, 0.1], [0.9, 0.8, 0.9]])
    exposure = np.ones_like(counts)
    fit = hazard.fit_poisson(counts, exposure, risk)
    mu = exposure * fit.rate(risk)
    assert mu.sum() == pytest.approx(counts.sum())
    assert (risk * mu).sum() == pytest.approx((risk * counts).sum())
    assert fit.slope > 0  # the riskier rows restrict more often


def test_a_fit_without_events_is_refused() -> None:
    with pytest.raises(ValueError, match="no event"):
        hazard.fit_poisson(np.zeros(3), np.ones(3), np.array([0.1, 0.5, 0.9]))


def test_dispersion_and_shrinkage_by_hand() -> None:
    # n = (4, 0), E = (2, 2): ((4-2)^2 - 4 + (0-2)^2 - 0) / (4 + 4) = 0.5, so k = 2
    inverse_k = hazard.dispersion(np.array([4.0, 0.0]), np.array([2.0, 2.0]))
    assert inverse_k == pytest.approx(0.5)
    u = hazard.shrink(np.array([4.0, 0.0]), np.array([2.0, 2.0]), inverse_k)
    assert u.tolist() == pytest.approx([(2 + 4) / (2 + 2), (2 + 0) / (2 + 2)])
    # no excess variance: every country stays on the fitted line
    assert hazard.dispersion(np.array([1.0, 3.0]), np.array([2.0, 2.0])) == 0.0
    assert hazard.shrink(np.array([1.0, 3.0]), np.array([2.0, 2.0]), 0.0).tolist() == [1, 1]


def test_zero_event_countries_keep_a_small_rate_increasing_with_risk() -> None:
    line = np.array([0.001, 0.002, 0.004])  # fitted rates at rising governance risk
    years = 16
    u = hazard.shrink(np.zeros(3), line * years, inverse_k=50.0)
    rate = line * u
    assert (rate > 0).all() and (rate < line).all()
    assert np.all(np.diff(rate) > 0)
    p = hazard.annual_probability(rate)
    assert ((p > 0) & (p < 0.01)).all()


def test_annual_probability_is_one_minus_exp() -> None:
    rate = np.array([0.0, 0.1, 1.0, 50.0])
    p = hazard.annual_probability(rate)
    assert p.tolist() == pytest.approx([0.0, 1 - np.exp(-0.1), 1 - np.exp(-1.0), 1.0])
    assert ((p >= 0) & (p <= 1)).all()


def test_mineral_shares_by_hand() -> None:
    # four restrictions; the mineral is covered by the first two (country A's)
    covers = np.array([[1], [1], [0], [0]], dtype=float)
    pooled, k = hazard.mineral_share(covers)
    assert k.tolist() == [2.0]
    assert pooled[0] == pytest.approx((2 + 0.5) / (4 + 1))
    share = hazard.country_mineral_share(np.array([[2.0], [0.0], [0.0]]),
                                         np.array([2.0, 2.0, 0.0]), pooled)
    assert share[:, 0].tolist() == pytest.approx(
        [(2 + 0.5) / 3, (0 + 0.5) / 3, 0.5])


def test_duration_with_censoring_by_hand() -> None:
    # ended after 1 and 3 years; still in force after 2 and 6: 12 years observed, 2 ended
    d = hazard.duration(np.array([1.0, 2.0, 3.0, 6.0]), np.array([True, False, True, False]))
    assert d.mean_years == pytest.approx(6.0)
    assert d.still_in_force(1.0) == pytest.approx(np.exp(-1 / 6))
    # Kaplan-Meier: 3/4 survive year 1; of the 2 at risk at year 3, 1 ends
    assert d.km_times.tolist() == [1.0, 3.0]
    assert d.km_survival.tolist() == pytest.approx([0.75, 0.375])
    none_ended = hazard.duration(np.array([1.0, 2.0]), np.array([False, False]))
    assert none_ended.still_in_force() == 1.0


def test_restrictions_counted_from_the_registry() -> None:
    counted = restrictions()
    ids = ", ".join(counted["ids"])
    # measures suspended before they took effect are not counted
    for never in ("chn-ree-2025-10", "chn-li-graphite-anode-2025", "chn-superhard-2025"):
        assert never not in ids
    # one announcement's clauses are one restriction
    assert (counted["ids"] == "chn-us-ban-2024, chn-us-graphite-2024").sum() == 1
    # the DR Congo's quotas continue its suspension: not a new restriction
    assert "cod-co-quota-2025" not in ids
    drc = counted.set_index("ids").loc["cod-co-suspension-2025"]
    assert not drc["ended"]
    assert counted["supplier"].value_counts().to_dict() == {
        "CHN": 8, "IDN": 3, "ZWE": 1, "NAM": 1, "MYS": 1, "COD": 1}
    assert (counted["year"].min(), counted["year"].max()) == (2010, 2025)


def test_odds_on_the_registry_are_of_the_order_of_the_record() -> None:
    h = critmin.hazards()
    rows = h.suppliers.set_index("country")
    p = rows["probability"]
    assert p.between(0, 1).all() and (p > 0).all()
    # China: 8 restrictions in 16 years (0.5 a year) -> a rate between the line and that
    assert 0.2 < p["CHN"] < 1 - np.exp(-0.5)
    assert p["CHN"] > 100 * p["USA"]
    assert p["USA"] < 0.005
    # rates are the fitted line times the country multiplier
    assert rows["rate"].to_numpy() == pytest.approx(
        (rows["fitted_rate"] * rows["multiplier"]).to_numpy())
    zero = rows[rows["events"] == 0]
    assert (zero["rate"] < zero["fitted_rate"]).all()
    assert h.fit.slope > 0 and h.fit.dispersion > 0
    # with a positive slope, among countries without events the odds rise with risk
    # (up to the year's risk differing from the fitted years')
    ordered = zero.sort_values("governance_risk")
    rho = pd.Series(ordered["governance_risk"]).corr(ordered["probability"], method="spearman")
    assert rho > 0.75
    assert 5 < h.duration.mean_years < 15


def test_mineral_odds_scale_the_country_rate() -> None:
    any_mineral = critmin.hazards().suppliers.set_index("country")
    magnets = critmin.hazards("rare-earths", 2024).suppliers.set_index("country")
    assert magnets.loc["CHN", "mineral_events"] == 3
    assert magnets.loc["CHN", "rate"] < any_mineral.loc["CHN", "rate"]
    assert magnets.loc["CHN", "probability"] > 20 * magnets.loc["USA", "probability"]
    assert (magnets["mineral_share"] <= 1).all()


def test_supply_at_risk_uses_yearly_odds() -> None:
    hazard_run = critmin.supply_at_risk("cobalt", 2023, draws=5000, seed=3,
                                        countries=["EU27"])
    share_run = critmin.supply_at_risk("cobalt", 2023, draws=5000, seed=3,
                                       countries=["EU27"], odds="exposure-share")
    eu = hazard_run.countries.set_index("country").loc["EU27"]
    old = share_run.countries.set_index("country").loc["EU27"]
    assert eu["expected_loss_share"] < 0.2 < old["expected_loss_share"]
    assert eu["p_loss_over_10"] < 0.2
    assert any("annual" in n for n in hazard_run.notes)
    assert any("not yearly odds" in n for n in share_run.notes)
    with pytest.raises(critmin.InvalidInput, match="odds"):
        critmin.supply_at_risk("cobalt", 2023, draws=100, odds="trade-share")


def test_a_restriction_in_force_continues_with_the_duration_odds() -> None:
    run = critmin.supply_at_risk("nickel", 2023, draws=200, seed=1)
    idn = run.suppliers.set_index("country").loc["IDN"]
    assert "idn-ni-ban-2020" in idn["restricting"]
    stays = critmin.hazards().duration.still_in_force(1.0)
    fresh = hazard.annual_probability(np.array([idn["rate"]]))[0]
    assert idn["probability"] == pytest.approx(1 - (1 - fresh) * (1 - stays))


def test_backtest_in_sample_and_held_out() -> None:
    b = hazard_backtest(split=2019).set_index("country")
    assert len(b) == 12
    # in sample, the shrunk rates reproduce the active restrictors' counts within a factor 2
    active = b[b["events"] > 0]
    assert (active["predicted"] > active["events"] / 2).all()
    assert (active["predicted"] <= active["events"]).all()
    assert (b.loc[b["events"] == 0, "predicted"] < 0.05).all()
    # held out: 2 restrictions up to 2019 cannot tell countries apart; the 13 after were
    # not foreseen (the record's rate rose from 0.2 to over 2 a year)
    assert b["held_out_events"].sum() == 13
    assert b["held_out_predicted"].sum() < 1


# -- the figures docs/methods.md quotes ------------------------------------------------------

METHODS = Path(__file__).resolve().parents[1] / "docs" / "methods.md"
PUBLISHED = Path(__file__).resolve().parents[1] / "docs" / "tables" / "usgs_2025_top10.csv"


def odds_rows() -> list[str]:
    """The odds table of docs/methods.md, one markdown row per back-tested supplier."""
    h = critmin.hazards()
    rows = h.suppliers.set_index("country").loc[list(BACKTEST_SUPPLIERS)]
    rows = rows.sort_values(["probability", "events"], ascending=False)
    return [f"| {c} | {int(r.events)} | {r.governance_risk:.3f} | {r.fitted_rate:.4f} | "
            f"{r.multiplier:.2f} | {r.rate:.4f} | {r.probability:.2%} |"
            for c, r in rows.iterrows()]


def parameter_line() -> str:
    p = critmin.hazards().parameters
    return (f"a = {p['intercept']:.2f}, b = {p['slope']:+.2f} (standard error "
            f"{p['slope_se']:.2f}), 1/k = {p['dispersion']:.1f}; mean duration "
            f"{p['mean_duration_years']:.1f} years, still in force a year later with "
            f"probability {p['still_in_force_next_year']:.3f}")


def backtest_rows() -> list[str]:
    b = hazard_backtest(split=2019)
    return [f"| {r.country} | {r.events} | {r.predicted:.2f} | {r.held_out_events} | "
            f"{r.held_out_predicted:.3f} |" for r in b.itertuples()]


def ranking() -> tuple[pd.DataFrame, float]:
    from critmin.whatif.ranking import against_published, expected_loss_ranking, list_minerals

    listed = list_minerals("usgs-2025")
    ranked = expected_loss_ranking("USA", listed, draws=2000, seed=0)
    return against_published(ranked, pd.read_csv(PUBLISHED), listed)


def ranking_rows(table: pd.DataFrame) -> list[str]:
    return [f"| {r.mineral} | {int(r.critmin_rank)} | "
            f"{int(r.published_rank) if r.published_rank <= 10 else 'below 10'} | "
            f"{r.expected_loss_share:.2e} |" for r in table.itertuples()]


def test_methods_quotes_the_current_odds_and_back_test() -> None:
    text = METHODS.read_text(encoding="utf-8")
    for row in odds_rows() + backtest_rows():
        assert row in text, row
    assert parameter_line() in " ".join(text.split())


def test_methods_quotes_the_current_ranking_against_usgs() -> None:
    text = METHODS.read_text(encoding="utf-8")
    table, rho = ranking()
    for row in ranking_rows(table):
        assert row in text, row
    assert f"Spearman's ρ = {rho:+.2f} over {len(table)} minerals" in " ".join(text.split())
    # the yearly odds put rare earths among the USA's three largest annual losses
    assert table.set_index("mineral").loc["rare-earths", "critmin_rank"] <= 3


def test_methods_quotes_the_current_supply_at_risk_figures() -> None:
    text = " ".join(METHODS.read_text(encoding="utf-8").split())
    means = []
    for mineral in ("cobalt", "rare-earths"):
        s = critmin.supply_at_risk(mineral, 2023, draws=100, seed=1).suppliers
        means.append(float((s["probability"] * s["exports_t"]).sum() / s["exports_t"].sum()))
    assert (f"export-weighted mean probability is {means[0]:.3f} for cobalt and "
            f"{means[1]:.3f} for rare earths (2023)") in text
    eu = critmin.supply_at_risk("cobalt", 2023, draws=20_000, seed=1, countries=["EU27"])
    row = eu.countries.set_index("country").loc["EU27"]
    assert (f"annual expected loss of cobalt is {100 * row['expected_loss_share']:.1f} %, "
            f"with a {100 * row['p_loss_over_10']:.1f} % probability of losing more than "
            "10 %") in text


def test_the_india_russia_example_quotes_the_current_supply_at_risk() -> None:
    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "india_russia.md"
    text = example.read_text(encoding="utf-8")

    def pct(value: float) -> str:
        return f"{value * 100:.1f} %"

    for stage, who, label in (("product", ["IND", "RUS"], "magnets"),
                              ("refined", ["IND"], "metals")):
        run = critmin.supply_at_risk("rare-earths", 2024, stage=stage, draws=100_000, seed=7,
                                     countries=["IND", "RUS"])
        rows = run.countries.set_index("country")
        for code in who:
            r = rows.loc[code]
            name = {"IND": "India", "RUS": "Russia"}[code]
            line = (f"| {name}, {label} | {pct(r['expected_loss_share'])} | "
                    f"{pct(r['var95_share'])} | {pct(r['es95_share'])} | "
                    f"{pct(r['p_loss_over_10'])} |")
            assert line in text, line
    china = run.suppliers.set_index("country").loc["CHN", "probability"]
    assert f"China {pct(china)} a year" in text
