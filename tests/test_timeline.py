"""Restrictions over time: annual steps with restrictions that start and lift, stocks that run
down, new capacity that ramps up, and the price channel; then one real case."""

from __future__ import annotations

import numpy as np
import pytest

import critmin
from critmin.errors import InvalidInput
from critmin.scenarios import cascade, price
from critmin.scenarios import timeline as steps
from critmin.scenarios.network import Network

FIRST_ORDER = cascade.Params(cascade=False)


def three() -> Network:
    """A ships 10 t to B and 10 t to C; B also mines 10 t. Use: A 0, B 20, C 10."""
    return Network.of(["A", "B", "C"], [[0, 10, 10], [0, 0, 0], [0, 0, 0]], [20, 10, 0])


def test_two_years_with_half_a_year_of_stock_by_hand() -> None:
    net = three()
    years = [2025, 2026]
    cuts = steps.yearly_cuts([[1, 0, 0]], [[1, 1]])
    out = steps.run(net, years, cuts, stocks_t=0.5 * np.clip(net.supply, 0, None),
                    params=FIRST_ORDER)
    # B holds 10 t (half a year of its 20 t) and covers 2025's 10 t shortfall; C holds 5 t
    # and covers half of its own; in 2026 both stocks are empty
    assert out.loss_t.tolist() == [[0.0, 0.0, 5.0], [0.0, 10.0, 10.0]]
    assert out.stock_drawn_t.tolist() == [[0.0, 10.0, 5.0], [0.0, 0.0, 0.0]]
    assert out.stock_left_t.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    np.testing.assert_allclose(out.loss_share, [[np.nan, 0.0, 0.5], [np.nan, 0.5, 1.0]])
    assert out.initial_shock_t.tolist() == [20.0, 20.0]
    np.testing.assert_allclose(out.balance_residual_t, 0.0, atol=1e-12)


def test_a_restriction_in_force_for_part_of_a_year_cuts_that_share() -> None:
    cuts = steps.yearly_cuts([[1, 0, 0]], [[0.25, 1.0]])
    out = steps.run(three(), [2025, 2026], cuts, params=FIRST_ORDER)
    assert out.loss_t[0].tolist() == [0.0, 2.5, 2.5]
    assert out.loss_t[1].tolist() == [0.0, 10.0, 10.0]


def test_new_capacity_ramps_up_and_covers_shortfalls_pro_rata() -> None:
    net = three()
    years = np.array([2025, 2026, 2027])
    new = np.zeros((3, 3))
    new[:, 2] = 4.0 * steps.ramp(years, 2026, 2)  # C: 0, 2, 4 t
    out = steps.run(net, years, steps.yearly_cuts([[1, 0, 0]], [[1, 1, 1]]), new_supply_t=new,
                    params=FIRST_ORDER)
    assert out.new_supply_t[:, 2].tolist() == [0.0, 2.0, 4.0]
    assert out.new_supply_used_t.tolist() == [[0, 0, 0], [0, 1, 1], [0, 2, 2]]
    assert out.loss_t[:, 1:].tolist() == [[10, 10], [9, 9], [8, 8]]
    np.testing.assert_allclose(out.balance_residual_t, 0.0, atol=1e-12)


def test_a_restricting_producer_withholds_its_new_output_too() -> None:
    new = np.zeros((1, 3))
    new[0, 0] = 8.0
    out = steps.run(three(), [2025], steps.yearly_cuts([[0.5, 0, 0]], [[1]]), new_supply_t=new,
                    params=FIRST_ORDER)
    assert out.new_supply_t[0, 0] == 4.0 and out.new_supply_used_t.sum() == 4.0


def random_network(rng: np.random.Generator, n: int) -> Network:
    flows = rng.uniform(0, 10, (n, n)) * (rng.uniform(size=(n, n)) < 0.5)
    return Network.of([f"C{i}" for i in range(n)], flows, rng.uniform(0, 30, n))


@pytest.mark.parametrize("seed", range(12))
def test_invariants_on_random_networks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    net = random_network(rng, 7)
    years = np.arange(2025, 2031)
    cut = np.zeros(7)
    cut[rng.integers(7)] = rng.uniform(0.2, 1)
    on = ((years >= 2026) & (years <= 2028)).astype(float)
    stocks = rng.uniform(0, 1, 7) * np.clip(net.supply, 0, None)
    new = np.zeros((len(years), 7))
    new[:, rng.integers(7)] = 5 * steps.ramp(years, 2027, 3)
    out = steps.run(net, years, steps.yearly_cuts([cut], [on]), stocks_t=stocks,
                    new_supply_t=new, params=cascade.Params(spare_capacity=0.1))
    assert (out.loss_t >= 0).all() and (out.stock_drawn_t >= 0).all()
    left = np.vstack([stocks, out.stock_left_t])
    assert (np.diff(left, axis=0) <= 1e-12).all()  # never refilled
    np.testing.assert_allclose(out.balance_residual_t, 0.0,
                               atol=1e-9 * max(1.0, out.initial_shock_t.max()))
    off = on == 0
    assert (out.loss_t[off] == 0).all() and (out.initial_shock_t[off] == 0).all()
    assert (out.stock_drawn_t[off] == 0).all()  # lifted: nothing more is drawn


def test_the_price_channel_clears_the_market_outside_the_restrictor() -> None:
    net = three()
    out = steps.run(net, [2025, 2026], steps.yearly_cuts([[0.5, 0, 0]], [[1, 0]]),
                    params=FIRST_ORDER)
    band = price.Band.of(-0.5, 0.5, (-0.25, -1.0), (0.25, 1.0))
    p = steps.prices(out, [0, 1, 1], band)
    # the market (B and C) uses 30 t and loses 10 t: s = 1/3, p1/p0 = 1.5 at the centre
    assert p.market_supply_t == 30.0
    assert p.clearing.price_change[0, 1] == pytest.approx(0.5)
    assert p.clearing.price_change[1].tolist() == [0.0, 0.0, 0.0]  # lifted: no change
    assert p.clearing.price_change[0, 0] >= 0.5 >= p.clearing.price_change[0, 2]
    reduction = 1 - 1.5**-0.5
    np.testing.assert_allclose(p.loss_t[0, 1], [0.0, 20 * reduction, 10 * reduction])


# -- on the bundled data -------------------------------------------------------------------------

def test_bundled_china_graphite_control_2023_to_2026() -> None:
    t = critmin.timeline(event="chn-graphite-2023", first=2023, last=2026, year=2023,
                         cascade=False, demand_elasticity=-0.3, supply_elasticity=0.2,
                         demand_range=(-0.1, -0.6), supply_range=(0.1, 0.4))
    years = t.years.set_index("year")
    # in force from 1 December 2023: 31 days of 2023, every day after
    assert years["in_force_share"].tolist() == pytest.approx([31 / 365, 1.0, 1.0, 1.0])
    assert t.period["from"] == "2023-12-01" and t.period["until"] is None
    lost = years["lost_t"]
    assert lost[2024] > 0 and lost[2024] == pytest.approx(lost[2026])
    withheld = years["withheld_t"]
    assert withheld[2023] == pytest.approx(31 / 365 * withheld[2024])
    assert 0 < lost[2023] < lost[2024]
    assert (years["residual_t"].abs() <= 1e-6 * years["withheld_t"]).all()
    rows = t.countries.set_index(["year", "country"])
    assert rows.loc[(2024, "JPN"), "loss_t"] > 0
    assert rows.loc[(2023, "JPN"), "first_order_loss_t"] == pytest.approx(
        31 / 365 * rows.loc[(2024, "JPN"), "first_order_loss_t"])
    assert (years["price_change_high"] >= years["price_change"]).all()
    assert (years["price_change"] >= years["price_change_low"]).all()
    assert years.loc[2024, "price_change"] > years.loc[2023, "price_change"] > 0
    payload = t.to_dict()
    assert payload["parameters"]["demand_elasticity"]["central"] == -0.3
    assert {"years", "countries", "notes", "period"} <= set(payload)


def test_bundled_stocks_run_down_and_lifting_ends_the_loss() -> None:
    t = critmin.timeline("CHN", "graphite", start=2024, end=2025, first=2024, last=2027,
                         year=2023, stock_years=0.5)
    years = t.years.set_index("year")
    left = years["stock_left_t"]
    assert (left.diff().dropna() <= 1e-6).all()
    assert years.loc[2026, "lost_t"] == 0 and years.loc[2027, "lost_t"] == 0
    assert years.loc[2025, "lost_t"] > years.loc[2024, "lost_t"] > 0  # stocks ran down
    assert t.parameters["price_channel"] is False


def test_bundled_new_supply_from_a_documented_project_or_numbers() -> None:
    t = critmin.timeline("CHN", "graphite", first=2024, last=2026, year=2023, cascade=False,
                         new_supply=["USA=10000@2025+2"])
    years = t.years.set_index("year")
    assert years["new_supply_t"].tolist() == [0.0, 5000.0, 10000.0]
    assert years.loc[2026, "new_supply_used_t"] == pytest.approx(10000.0)
    with pytest.raises(InvalidInput, match="lithium, not graphite"):
        critmin.timeline("CHN", "graphite", year=2023,
                         new_supply=["rus-polar-lithium-kolmozerskoye"])


def test_bundled_price_effect_of_a_one_year_restriction() -> None:
    r = critmin.restrict("CHN", "graphite", 2023, cut=0.5, cascade=False)
    e = critmin.price_effect(r, -0.3, 0.2, (-0.1, -0.6), (0.1, 0.4))
    assert e.price_change["high"] >= e.price_change["central"] >= e.price_change["low"] > 0
    rows = e.countries.set_index("country")
    assert "CHN" not in rows.index
    share = rows["price_loss_share"].dropna()
    assert np.allclose(share, share.iloc[0])  # every consumer gives up the same share


def test_bundled_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="both"):
        critmin.timeline("CHN", "graphite", year=2023, demand_elasticity=-0.3)
    with pytest.raises(InvalidInput, match="before it starts"):
        critmin.timeline("CHN", "graphite", year=2023, first=2026, last=2024)
    with pytest.raises(InvalidInput, match="its own start"):
        critmin.timeline(event="chn-graphite-2023", start=2024)


def test_the_command_line_explains_and_answers(cli) -> None:
    assert "never refilled" in " ".join(cli("timeline", "--help").stdout.split())
    res = cli("timeline", "--supplier", "CHN", "-m", "graphite", "-y", "2023", "--first", "2024",
              "--last", "2025", "--end", "2024", "--demand-elasticity", "-0.3",
              "--supply-elasticity", "0.2", "--json")
    assert res.code == 0, res.stderr
    body = res.json()
    assert isinstance(body, dict)
    assert [row["year"] for row in body["years"]] == [2024, 2025]
    assert body["years"][0]["price_change"] > 0 and body["years"][1]["lost_t"] == 0
    assert body["parameters"]["supply_elasticity"]["central"] == 0.2
    bad = cli("timeline", "--supplier", "CHN", "-m", "graphite", "--demand-elasticity", "-0.3")
    assert bad.code == 2 and "both" in bad.stderr
