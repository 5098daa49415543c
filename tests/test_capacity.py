"""Capacity that exists: exportable surplus (output minus own use, re-exports excluded),
capacity paths and the projects registry, and how pacts and the optimiser use them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin.errors import InvalidInput, NotFound
from critmin.scenarios.surplus import (
    capacity_path,
    deliverable,
    exportable_surplus,
    first_year,
    own_use,
)
from critmin.schema import STAGES

# -- the pure functions, by hand ------------------------------------------------------------


def test_an_exporter_keeps_what_it_uses_itself() -> None:
    # output 100, imports 10, exports 60: own use 100 + 10 - 60 = 50, surplus 100 - 50 = 50
    assert own_use([100.0], [10.0], [60.0]).tolist() == [50.0]
    assert exportable_surplus([100.0], [10.0], [60.0]).tolist() == [50.0]


def test_a_re_exporter_has_at_most_its_output() -> None:
    # output 27, imports 119, exports 342: 315 t of its exports are other countries'
    assert exportable_surplus([27.0], [119.0], [342.0]).tolist() == [27.0]
    # with 90 % of its supply from the restricting country, 10 % of the 315 t re-exported
    assert exportable_surplus([27.0], [119.0], [342.0], restricted_share=[0.9]).tolist() == \
        pytest.approx([27.0 + 31.5])


def test_a_net_importer_has_none_and_unknown_output_is_withheld() -> None:
    # output 40, imports 90, exports 30: own use 100 > output: nothing to export
    out = exportable_surplus([40.0, np.nan, np.nan], [90.0, 65.0, 5.0], [30.0, 0.0, 40.0])
    assert out[0] == 0.0
    assert out[1] == 0.0  # a net importer, whatever its unreported output
    assert np.isnan(out[2])  # a net exporter whose output is not reported: withheld, not 0


def test_a_capacity_path_ramps_and_serves_own_use_first() -> None:
    # output from 2027, full capacity in its fourth year (2030)
    years = np.arange(2026, 2032)
    new = capacity_path(1000.0, 2027, 4, years)
    assert new.tolist() == [0.0, 250.0, 500.0, 750.0, 1000.0, 1000.0]
    # a net importer of 100 t a year exports what the new capacity leaves after its imports
    can = deliverable(new, np.nan, 100.0, 0.0)
    assert can.tolist() == [0.0, 150.0, 400.0, 650.0, 900.0, 900.0]
    assert first_year(years, can, 400.0) == 2028
    assert first_year(years, can, 950.0) is None
    assert capacity_path(1000.0, 2027, 0, [2026, 2027]).tolist() == [0.0, 1000.0]


# -- real data -----------------------------------------------------------------------------


def test_russias_lithium_surplus_is_its_mine_output_not_its_exports() -> None:
    s = critmin.surplus("RUS", "lithium", 2024)
    assert s.output_t == pytest.approx(27.0)  # World Mining Data, t Li2O
    assert s.exports_t > 10 * s.output_t
    assert s.surplus_t == pytest.approx(s.output_t)
    assert s.re_exports_t == pytest.approx(s.exports_t - s.output_t)
    assert "re-exports, excluded" in s.made_of


def test_withheld_output_is_not_zero() -> None:
    metals = critmin.surplus("RUS", "rare-earths", 2024, stage="refined")
    assert metals.output_t is None and metals.surplus_t == 0.0  # a net importer of metals
    compounds = critmin.surplus("RUS", "rare-earths", 2024, stage="intermediate")
    assert compounds.output_t is None and compounds.surplus_t is None
    assert "withheld, not zero" in compounds.made_of


@pytest.mark.parametrize("volume", [100, 300])
def test_lithium_from_russia_is_not_feasible_from_re_exports(volume: float) -> None:
    for mode in ("redirect", "new"):
        deal = critmin.pact("IND", "RUS", "lithium", volume=volume, year=2024, mode=mode)
        assert not deal.feasible
        assert deal.feasibility["supplier_surplus_t"] == pytest.approx(27.0)
        assert any("re-exports are not capacity" in w for w in deal.warnings)
        assert deal.verdict().startswith("NOT")


def test_rare_earths_without_a_stage_are_refused(cli) -> None:
    with pytest.raises(InvalidInput, match="several stages") as err:
        critmin.pact("IND", "RUS", "rare-earths", volume=300, mode="new", year=2024)
    assert "intermediate, refined, product" in str(err.value)
    res = cli("pact", "--importer", "IND", "--supplier", "RUS", "-m", "rare-earths",
              "--volume", "300", "--mode", "new", "-y", "2024")
    assert res.code == 2
    assert "give a stage" in res.stderr and "Traceback" not in res.stderr


def test_new_capacity_says_when_russia_could_deliver_metals_and_magnets() -> None:
    metals = critmin.pact("IND", "RUS", "rare-earths", volume=300, mode="new", year=2024,
                          stage="refined", project="rus-rem-2030-target")
    assert metals.feasible and metals.capacity is not None
    assert metals.capacity["deliverable_from"] == 2030
    assert metals.verdict() == "deliverable from 2030 with the capacity path"
    # Russia's planned magnet line (1,000 t of magnets, 350 t REO) is less than the magnets
    # it imports (992 t REO): it never has 300 t REO to spare
    magnets = critmin.pact("IND", "RUS", "rare-earths", volume=300, mode="new", year=2024,
                           stage="product", project="rus-rosatom-ndfeb-magnets")
    assert not magnets.feasible and magnets.capacity is not None
    assert magnets.capacity["deliverable_from"] is None
    assert any("never lets Russia export" in w for w in magnets.warnings)
    # without a path: not feasible from existing surplus, and the documented projects named
    plain = critmin.pact("IND", "RUS", "rare-earths", volume=300, mode="new", year=2024,
                         stage="refined")
    assert not plain.feasible and plain.capacity is None
    assert any("rus-rem-2030-target" in w for w in plain.warnings)


def test_a_given_capacity_path_by_hand() -> None:
    deal = critmin.pact("IND", "RUS", "rare-earths", volume=300, mode="new", year=2024,
                        stage="refined", capacity=1000, start=2027, ramp=3)
    s = critmin.surplus("RUS", "rare-earths", 2024, stage="refined")
    net_imports = s.imports_t - s.exports_t
    # 333 t in 2027, 667 t in 2028, full in 2029; Russia's net metal imports come first
    assert 1000 / 3 - net_imports < 300 < 2000 / 3 - net_imports
    assert deal.capacity is not None and deal.capacity["deliverable_from"] == 2028
    with pytest.raises(InvalidInput, match="mode 'new'"):
        critmin.pact("IND", "RUS", "rare-earths", volume=300, year=2024, stage="refined",
                     capacity=1000)
    with pytest.raises(InvalidInput, match="not lithium"):
        critmin.pact("IND", "RUS", "lithium", volume=300, mode="new", year=2024,
                     project="rus-rem-2030-target")
    with pytest.raises(NotFound, match="unknown project"):
        critmin.pact("IND", "RUS", "lithium", volume=300, mode="new", year=2024,
                     project="polar-lithum")


def test_the_optimiser_puts_nothing_on_re_exports() -> None:
    mix = critmin.optimise("IND", "lithium", 2023)
    rows = mix.portfolio.set_index("supplier")
    # no supplier ships more than its exportable surplus (production share 0 by default)
    assert (rows["tonnes"] <= rows["surplus_t"].fillna(np.inf) + 1e-6).all()
    # pure re-exporters (no output of their own) get nothing, whatever they ship today
    hubs = rows[(rows["surplus_t"] == 0) & (rows["today_t"] > 0)]
    assert {"NLD", "BEL"} <= set(hubs.index)
    assert hubs["tonnes"].abs().max() < 1e-6
    assert rows.loc["RUS", "tonnes"] <= 27.0 + 1e-6
    assert any("re-exports" in n and "are not capacity" in n for n in mix.notes)


def test_the_projects_registry_is_sourced_and_checked() -> None:
    table = critmin.projects()
    assert table["id"].is_unique
    assert table["source"].notna().all() and table["status"].notna().all()
    assert set(table["stage"]) <= set(STAGES)
    known = set(critmin.minerals()["mineral"])
    assert set(table["mineral"]) <= known
    countries = set(critmin.countries()["iso3"])
    assert set(table["country"]) <= countries
    sized = table[table["capacity"].notna()]
    assert sized["content_factor"].between(0, 2).all() and (sized["capacity"] > 0).all()
    assert sized["unit"].notna().all() and sized["factor_source"].notna().all()
    assert (table["ramp_years"].dropna() >= 0).all()
    row = table.set_index("id").loc["ind-repm-scheme-2025"]
    assert row["capacity"] == 6000 and pd.isna(row["start_year"])
