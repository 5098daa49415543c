"""The price channel: a constant-elasticity partial equilibrium on one mineral's market."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.scenarios import price


def test_a_hand_computed_clearing() -> None:
    # s = 0.1, e_d = -0.5, e_s = 0.5: (p1/p0)^(e_s - e_d) = 1 / (1 - s), so p1/p0 = 1/0.9
    out = price.clear(0.1, -0.5, 0.5)
    assert float(out.price_change) == pytest.approx(1 / 0.9 - 1)
    assert float(out.demand_reduction) == pytest.approx(1 - 0.9**0.5)
    assert float(out.supply_response) == pytest.approx(0.9 * ((1 / 0.9) ** 0.5 - 1))
    assert float(out.price_change_linear) == pytest.approx(0.1)


def test_no_shock_no_change_and_spare_capacity_absorbs_a_small_one() -> None:
    assert float(price.clear(0.0, -0.3, 0.2).price_change) == 0.0
    out = price.clear(0.05, -0.3, 0.2, spare_share=0.08)
    assert float(out.price_change) == 0.0 and float(out.spare_used) == pytest.approx(0.05)
    assert float(price.clear(0.1, -0.3, 0.2, 0.08).price_change) == pytest.approx(
        float(price.clear(0.02, -0.3, 0.2).price_change))


def test_demand_reduction_and_supply_response_add_up_to_the_net_shock() -> None:
    rng = np.random.default_rng(7)
    s = rng.uniform(0, 0.9, 200)
    e_d = -rng.uniform(0.01, 2, 200)
    e_s = rng.uniform(0, 2, 200)
    k = rng.uniform(0, 0.3, 200)
    out = price.clear(s, e_d, e_s, k)
    np.testing.assert_allclose(out.demand_reduction + out.supply_response,
                               out.net_shock_share, atol=1e-12)
    assert (out.price_change >= 0).all() and (out.demand_reduction >= 0).all()


def test_the_price_rises_with_the_shock_and_falls_with_either_elasticity() -> None:
    shocks = np.linspace(0, 0.95, 50)
    p = price.clear(shocks, -0.3, 0.2).price_change
    assert (np.diff(p) > 0).all()
    assert (np.diff(price.clear(0.2, -np.linspace(0.05, 2, 20), 0.2).price_change) < 0).all()
    assert (np.diff(price.clear(0.2, -0.3, np.linspace(0, 2, 20)).price_change) < 0).all()


def test_the_band_brackets_the_central_value() -> None:
    band = price.Band.of(-0.3, 0.2, (-0.6, -0.1), (0.4, 0.1))
    assert band.demand == (-0.1, -0.3, -0.6) and band.supply == (0.1, 0.2, 0.4)
    out = price.clear_band(np.array([0.0, 0.05, 0.3]), band)
    high, central, low = out.price_change[:, 0], out.price_change[:, 1], out.price_change[:, 2]
    assert (high >= central).all() and (central >= low).all() and (low >= 0).all()
    assert out.price_change[0].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="outside its range"):
        price.Band.of(-0.3, 0.2, (-0.6, -0.4))


def test_each_importer_loses_the_common_share_of_its_use() -> None:
    use = np.array([100.0, 50.0, 0.0, -3.0])
    losses = price.importer_losses(price.clear(0.1, -0.5, 0.5).demand_reduction, use)
    np.testing.assert_allclose(losses, (1 - 0.9**0.5) * np.array([100, 50, 0, 0]))


def test_bad_parameters_are_refused() -> None:
    for args in [(0.1, 0.2, 0.2), (0.1, -0.2, -0.1), (1.5, -0.2, 0.1), (0.1, 0.0, 0.1)]:
        with pytest.raises(ValueError):
            price.clear(*args)
    assert np.isinf(price.clear(1.0, -0.2, 0.1).price_change)
