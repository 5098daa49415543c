"""Scenarios on the bundled data: restrictions, events, agreements, supply-at-risk, and the
command line (JSON keys, bad input)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin.store import get_store


def china_shipments(importers: list[str], mineral: str, year: int, stage: str = "headline"
                    ) -> pd.Series:
    rows = critmin.partners(importers, mineral, year)
    rows = rows[(rows["exporter"] == "CHN") & (rows["stage"] == stage)]
    return rows.set_index("importer")["qty_basis_t"]


def test_first_order_loss_is_what_china_ships_on_the_basis() -> None:
    result = critmin.restrict("China", "rare-earths", 2023, cascade=False)
    rows = result.countries.set_index("country")
    shipped = china_shipments(["JPN", "USA", "DEU"], "rare-earths", 2023)
    for country, tonnes in shipped.items():
        assert rows.loc[country, "first_order_loss_t"] == pytest.approx(tonnes)
        assert rows.loc[country, "loss_t"] == pytest.approx(tonnes)
    assert result.balance["initial_shock_t"] == pytest.approx(
        critmin.network("rare-earths", 2023).network.exports[
            critmin.network("rare-earths", 2023).network.index(["CHN"])[0]])


def test_the_cascade_conserves_tonnes_and_reaches_transit_hubs_customers() -> None:
    first = critmin.restrict("CHN", "rare-earths", 2023, cascade=False)
    full = critmin.restrict("CHN", "rare-earths", 2023)
    assert abs(full.balance["residual_t"]) < 1e-6 * full.balance["initial_shock_t"]
    assert full.converged and full.rounds > 1
    deu_first = first.countries.set_index("country").loc["DEU", "loss_t"]
    deu_full = full.countries.set_index("country").loc["DEU", "loss_t"]
    assert deu_full > deu_first  # Germany also loses what hubs no longer pass on
    shares = full.countries["loss_share"].dropna()
    assert ((shares >= 0) & (shares <= 1 + 1e-9)).all()


def test_the_restrictor_keeps_its_cut_and_no_country_loses_more_than_it_uses() -> None:
    result = critmin.restrict("COD", "cobalt", 2023)
    b = result.balance
    parts = (b["lost_t"] + b["stock_drawn_t"] + b["rerouted_t"] + b["unattributed_t"]
             + b["covered_by_withheld_t"])
    assert parts == pytest.approx(b["initial_shock_t"], rel=1e-9)
    rows = result.countries.set_index("country")
    assert rows.loc["COD", "loss_t"] == 0
    assert rows.loc["COD", "retained_t"] + b["covered_by_withheld_t"] == pytest.approx(
        b["initial_shock_t"], rel=1e-9)
    countries = rows.drop(index="unattributed", errors="ignore")
    assert (countries["loss_t"] <= countries["supply_t"].clip(lower=0) * (1 + 1e-9)).all()
    # a re-exporter passes its loss on: what it withholds is its customers' loss, not its own
    hubs = countries[countries["note"].str.startswith("a re-exporter")]
    assert not hubs.empty and (hubs["passed_on_t"] > hubs["loss_t"]).all()
    assert "passed on" in result.summary() and "keeps" in result.summary()


def test_with_substitution_losses_rise_with_the_cut_and_are_never_negative() -> None:
    losses = [critmin.restrict("CHN", "graphite", 2023, cut=cut, spare_capacity=0.2)
              .countries.set_index("country")["loss_t"] for cut in (0.8, 0.9, 1.0)]
    table = pd.concat(losses, axis=1).fillna(0.0)
    assert (table >= 0).all().all()
    assert (table.diff(axis=1).iloc[:, 1:] >= -1e-6).all().all()
    assert table.loc["DEU"].is_monotonic_increasing and table.loc["DEU"].iloc[0] > 0


def test_a_zero_cut_changes_nothing() -> None:
    result = critmin.restrict("CHN", "graphite", 2023, cut=0)
    assert result.countries.empty or not result.countries["loss_t"].any()
    assert result.balance["initial_shock_t"] == 0


def test_a_group_target_is_reported_per_member_and_as_one() -> None:
    result = critmin.restrict("CHN", "rare-earths", 2024, stage="product", targets="G7")
    rows = result.countries.set_index("country")
    members = ["CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"]
    present = [m for m in members if m in rows.index]
    assert rows.loc["G7", "loss_t"] == pytest.approx(rows.loc[present, "loss_t"].sum())
    assert rows.loc["G7", "supply_t"] == pytest.approx(rows.loc[present, "supply_t"].sum())
    assert rows.loc["CHN", "first_order_loss_t"] == 0  # not a target, and the supplier


def test_an_event_runs_as_its_observed_annual_cut_on_its_stage() -> None:
    flows = get_store().table("flows")
    ore = flows[(flows["exporter"] == "IDN") & (flows["hs6"] == "260400")]
    by_year = ore.groupby("year")["qty_t"].sum()
    observed = 1 - by_year[2020] / by_year[2019]  # the ban took effect on 2020-01-01
    result = critmin.restrict(event="idn-ni-ban-2020", year=2019)
    assert (result.stage, result.suppliers) == ("ore", ["IDN"])
    assert result.cut == pytest.approx(observed)
    assert 0.5 < result.cut < 1 and "observed in trade" in result.notes[0]
    assert critmin.restrict(event="idn-ni-ban-2020", year=2019, cut=1.0).cut == 1.0
    result = critmin.restrict(event="idn-ni-ban-2020", year=2019, cut=1.0)
    shipped = critmin.partners("CHN", "nickel", 2019)
    ore = shipped[(shipped["exporter"] == "IDN") & (shipped["stage"] == "ore")]
    rows = result.countries.set_index("country")
    assert rows.loc["CHN", "first_order_loss_t"] == pytest.approx(ore["qty_basis_t"].sum())
    assert result.event is not None and result.event["kind"] == "ban"


def test_an_event_without_a_documented_cut_uses_its_kinds_median() -> None:
    result = critmin.restrict(event="chn-w-te-bi-mo-in-2025", mineral="tungsten", year=2023)
    cuts = critmin.events().query("kind == 'licence'")["cut"].dropna()
    assert result.cut == pytest.approx(float(np.median(cuts)))
    assert any("median" in n for n in result.notes)


def test_by_products_follow_their_host() -> None:
    result = critmin.restrict("IDN", "nickel", 2023, cut=0.5, production=True,
                              by_products=True)
    cobalt = next(b for b in result.by_products if b.mineral == "cobalt")
    produced = critmin.network("cobalt", 2023).network
    idn = produced.production[produced.index(["IDN"])[0]]
    assert cobalt.host == "nickel"
    assert cobalt.balance["initial_shock_t"] >= 0.5 * idn - 1e-6
    assert abs(cobalt.balance["residual_t"]) < 1e-6 * cobalt.balance["initial_shock_t"]


def test_a_pact_lowers_exposure_and_says_when_it_cannot_be_delivered() -> None:
    deal = critmin.pact("IND", "CHL", "lithium", volume=200, year=2023)
    assert deal.exposure_after <= deal.exposure_before
    assert deal.after["china_share"] < deal.before["china_share"]
    assert deal.after["imports_t"] == pytest.approx(deal.before["imports_t"] + 200)
    russia = critmin.pact("IND", "RUS", "lithium", volume=1000, year=2023)
    assert not russia.feasible
    # feasibility is weighed against the exportable surplus (output minus own use), not
    # against production or exports: most of Russia's lithium exports are re-exports
    assert any("exportable surplus" in w for w in russia.warnings)
    assert russia.delivered_t <= russia.feasibility["supplier_exports_to_others_t"] + 1e-9


def test_a_pact_from_the_registry_carries_its_status() -> None:
    # rare earths need a stage: the headline adds up compounds and metals
    deal = critmin.pact(agreement="ind-rus-cm-2026", mineral="rare-earths", share=0.2,
                        year=2023, stage="intermediate")
    assert (deal.importer, deal.supplier) == ("IND", "RUS")
    assert deal.agreement is not None and deal.agreement["status"] == "reported"
    assert any("not signed" in n for n in deal.notes)


def test_supply_at_risk_is_reproducible_and_agrees_with_the_analytic_mean() -> None:
    a = critmin.supply_at_risk("cobalt", 2023, draws=20_000, seed=5)
    b = critmin.supply_at_risk("cobalt", 2023, draws=20_000, seed=5)
    pd.testing.assert_frame_equal(a.countries, b.countries)
    rows = a.countries.dropna(subset=["expected_loss_share_analytic"])
    rows = rows[rows["expected_loss_share_analytic"] > 0.002]
    assert len(rows) > 10
    assert rows["expected_loss_share"].to_numpy() == pytest.approx(
        rows["expected_loss_share_analytic"].to_numpy(), rel=0.1, abs=0.001)
    drc = a.suppliers.set_index("country").loc["COD"]
    assert drc["probability"] > a.suppliers["probability"].median()
    # yearly odds, not exposure shares: the export-weighted mean is a few percent
    weights = a.suppliers["exports_t"] / a.suppliers["exports_t"].sum()
    assert 0.005 < float((a.suppliers["probability"] * weights).sum()) < 0.1


def test_supply_at_risk_of_a_group_counts_members_together() -> None:
    r = critmin.supply_at_risk("rare-earths", 2023, draws=1000, seed=2, countries=["EU27"])
    rows = r.countries.set_index("country")
    members = [c for c in rows.index if c != "EU27"]
    assert len(members) > 20
    assert rows.loc["EU27", "supply_t"] == pytest.approx(rows.loc[members, "supply_t"].sum())
    # what members ship each other is not lost by the group: its expected loss is the
    # expected cut of what it imports from outside
    g = critmin.network("rare-earths", 2023).network
    inside = g.mask(members).astype(bool)
    outside = g.flows[:, inside].sum(axis=1) * ~inside
    p = pd.Series(g.countries.astype(str)).map(
        r.suppliers.set_index("country")["probability"]).fillna(0.0).to_numpy()
    expected = float((p * outside).sum()) * r.magnitude["mean"]
    assert rows.loc["EU27", "expected_loss_t"] == pytest.approx(expected, rel=0.25)


def test_registries_are_listed() -> None:
    assert {"chn-ga-ge-2023", "chn-graphite-2023", "chn-sb-2024", "chn-ree-2025-04",
            "idn-ni-ban-2020"} <= set(critmin.events()["id"])
    row = critmin.agreements().set_index("id").loc["ind-rus-cm-2026"]
    assert row["status"] == "reported" and set(row["minerals"]) == {"lithium", "rare-earths"}
    hosts = get_store().table("byproducts")
    assert hosts["share"].dropna().between(0, 1).all()


def test_cli_json_keys(cli) -> None:
    restrict = cli("restrict", "--supplier", "CHN", "-m", "graphite", "-y", "2023", "--json")
    assert restrict.code == 0, restrict.stderr
    body = restrict.json()
    assert {"countries", "rounds"} <= set(body)
    assert {"country", "supply_t", "loss_t", "loss_share_first_order", "loss_share",
            "rerouted_t"} <= set(body["countries"][0])
    deal = cli("pact", "--importer", "IND", "--supplier", "CHL", "-m", "lithium",
               "--volume", "100", "-y", "2023", "--json")
    assert deal.code == 0, deal.stderr
    assert {"before", "after", "exposure_before", "exposure_after", "feasible",
            "warnings"} <= set(deal.json())
    risk = cli("supply-at-risk", "-m", "cobalt", "-y", "2023", "--draws", "500", "--seed",
               "3", "--json")
    assert risk.code == 0, risk.stderr
    out = risk.json()
    assert out["draws"] == 500 and out["seed"] == 3
    assert {"expected_loss_share", "var95_share", "es95_share"} <= set(out["countries"][0])


@pytest.mark.parametrize(("args", "text"), [
    (["restrict", "--supplier", "Chna", "-m", "graphite"], "China"),
    (["restrict", "--supplier", "CHN", "-m", "graphite", "--cut", "1.5"], "at most 1"),
    (["restrict", "--supplier", "CHN", "-m", "germanium", "-y", "2023"], "years with trade"),
    (["restrict", "--supplier", "CHN", "-m", "gallium", "-y", "2023"], "no trade of gallium"),
    (["restrict", "--event", "chn-ga-ge-2032"], "chn-ga-ge-2023"),
    (["restrict", "--supplier", "CHN", "-m", "graphite", "--stage", "refind"], "refined"),
    (["pact", "--importer", "IND", "--supplier", "RUS", "-m", "lithium", "--volume", "-5"],
     "at least 0"),
    (["pact", "--importer", "IND", "--supplier", "RUS", "-m", "lithium"], "volume"),
    (["pact", "--importer", "IND", "--supplier", "RUS", "-m", "lithium", "--volume", "5",
      "--mode", "steal"], "redirect"),
    (["supply-at-risk", "-m", "cobalt", "--probability", "CHN:0.5"], "COUNTRY=P"),
    (["supply-at-risk", "-m", "cobalt", "--draws", "5"], "at least 100"),
])
def test_bad_scenario_input_exits_2(cli, args: list[str], text: str) -> None:
    res = cli(*args)
    assert res.code == 2, res.stderr
    assert text in res.stderr and "Traceback" not in res.stderr


def test_the_india_russia_example_quotes_critmins_own_output() -> None:
    """docs/examples/india_russia.md: the figures it quotes are what critmin computes."""
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "examples" / "india_russia.md").read_text()

    def pct(value: float) -> str:
        return f"{value * 100:.1f} %"

    metals = critmin.restrict("CHN", "rare-earths", 2024, stage="refined")
    row = metals.countries.set_index("country").loc["IND"]
    magnets = critmin.restrict("CHN", "rare-earths", 2024, stage="product")
    new = critmin.pact("IND", "RUS", "rare-earths", volume=300, mode="new", year=2024,
                       stage="refined")
    lithium = critmin.pact("IND", "RUS", "lithium", volume=200, year=2024)
    chile = critmin.pact("IND", "CHL", "lithium", volume=200, year=2024)
    quoted = [
        pct(row["loss_share_first_order"]), pct(row["loss_share"]),
        pct(magnets.countries.set_index("country").loc["IND", "loss_share"]),
        f"{pct(new.exposure_before)} → {pct(new.exposure_after)}",
        f"{pct(new.before['china_share'])} → {pct(new.after['china_share'])}",
        f"{pct(lithium.exposure_before)} → {pct(lithium.exposure_after)}",
        pct(chile.exposure_after),
    ]
    for figure in quoted:
        assert figure in text, figure
    assert kind_defaults_in(text)


def kind_defaults_in(text: str) -> bool:
    """The licence default the methods quote is the catalog's."""
    from pathlib import Path

    from critmin.whatif.registries import kind_defaults

    methods = (Path(__file__).parents[1] / "docs" / "methods.md").read_text()
    defaults = kind_defaults()
    return (f"licence {defaults['licence']:.3f}" in methods
            and f"quota {defaults['quota']:.3f}" in methods and "0.57" in text)


def test_a_group_importer_is_served_as_one() -> None:
    deal = critmin.pact("EU27", "CHL", "lithium", volume=100, year=2023)
    assert deal.importer == "EU27"
    assert deal.after["imports_t"] == pytest.approx(deal.before["imports_t"] + 100)
    members = critmin.risk("EU27", "lithium", 2023, as_group=True)
    eu = members.set_index("country").loc["EU27"]
    assert deal.before["imports_t"] == pytest.approx(eu["imports_basis_t"])
