"""Each documented event's status, and what a restriction run from an event does with it:
never-in-force measures cut nothing unless run as announced, lifted or suspended ones cut
only in the years they were in force."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import pytest

import critmin
from critmin.errors import CritminError
from critmin.event_rules import in_force_in, never_in_force
from critmin.store import get_store
from critmin.whatif.registries import EVENT_STATUSES, event_status, kind_defaults

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

SUSPENDED_BEFORE_EFFECT = {"chn-ree-2025-10", "chn-li-graphite-anode-2025",
                           "chn-superhard-2025"}
"""MOFCOM/GAC Announcements No. 57, 58 and 55 of 2025, due on 8 Nov 2025 and suspended by
Announcement No. 70 of 2025 on 7 Nov 2025."""


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return get_store().table("events")


def test_every_event_has_a_valid_status_with_a_date_and_a_source(events: pd.DataFrame) -> None:
    assert set(events["status"]) <= set(EVENT_STATUSES), set(events["status"])
    assert events["status_date"].map(lambda d: bool(ISO_DATE.match(str(d)))).all()
    assert (events["status_date"] <= date.today().isoformat()).all()
    assert (events["status_date"] >= events["announced"].fillna("")).all()
    assert events["status_source"].str.match(r"^https?://\S+$").all()


def test_no_event_ends_before_it_takes_effect(events: pd.DataFrame) -> None:
    dated = events.dropna(subset=["ended", "effective"])
    early = dated[dated["ended"] < dated["effective"]]
    assert early.empty, early[["id", "effective", "ended"]]
    never = never_in_force(events)
    assert events.loc[never, "ended"].isna().all()
    stopped = events[events["status"].isin(["lifted", "suspended"]) & ~never]
    assert stopped["ended"].notna().all()
    assert (stopped["ended"] == stopped["status_date"]).all()
    assert events.loc[events["status"] == "in force", "ended"].isna().all()


def test_the_october_2025_controls_never_took_effect_and_the_us_ban_was_suspended(
        events: pd.DataFrame) -> None:
    table = events.set_index("id")
    never = never_in_force(events).set_axis(events["id"])
    assert set(never[never].index) == SUSPENDED_BEFORE_EFFECT
    assert table.loc[sorted(SUSPENDED_BEFORE_EFFECT), "status_date"].eq("2025-11-07").all()
    ban = table.loc["chn-us-ban-2024"]
    assert (ban["status"], ban["status_date"]) == ("suspended", "2025-11-09")
    in_force = [in_force_in(events, y).set_axis(events["id"])["chn-us-ban-2024"]
                for y in (2023, 2024, 2025, 2026)]
    assert in_force == [False, True, True, False]


def test_status_rules_on_a_hand_made_table() -> None:
    table = pd.DataFrame({
        "id": ["announced-only", "suspended-first", "lifted", "open"],
        "status": ["announced", "suspended", "lifted", "in force"],
        "status_date": ["2026-03-01", "2025-11-07", "2017-01-12", "2020-01-01"],
        "announced": ["2026-03-01", "2025-10-09", "2014-01-11", "2019-09-02"],
        "effective": ["2027-01-01", "2025-11-08", "2014-01-12", "2020-01-01"],
        "ended": [None, None, "2017-01-12", None],
    }).set_index("id", drop=False)
    assert never_in_force(table).tolist() == [True, True, False, False]
    assert in_force_in(table, 2016).tolist() == [False, False, True, False]
    assert in_force_in(table, 2018).tolist() == [False, False, False, False]
    assert in_force_in(table, 2027).tolist() == [False, False, False, True]
    applies, note = event_status(table.loc["announced-only"], 2023)
    assert not applies
    assert note == ("announced-only was announced on 2026-03-01 and has not taken effect "
                    "(status as of 2026-03-01): it cuts nothing; pass as_announced=True / "
                    "--as-announced to run it as announced")
    assert event_status(table.loc["announced-only"], 2023, as_announced=True)[0]
    assert event_status(table.loc["lifted"], 2013) == (
        False, "lifted was in force from 2014-01-12 until it was lifted on 2017-01-12, not in "
               "2013: it cuts nothing; pass as_announced=True / --as-announced to run it as "
               "announced")
    assert event_status(table.loc["open"], 2013) == (True, None)


def test_a_control_suspended_before_it_took_effect_cuts_nothing_unless_run_as_announced(
        ) -> None:
    result = critmin.restrict(event="chn-ree-2025-10", year=2023)
    assert result.cut == 0
    assert result.balance["initial_shock_t"] == 0 and result.balance["lost_t"] == 0
    assert result.countries.empty or not result.countries["loss_t"].any()
    assert result.notes[0] == (
        "chn-ree-2025-10 was suspended on 2025-11-07 before it took effect: it cuts nothing; "
        "pass as_announced=True / --as-announced to run it as announced")
    announced = critmin.restrict(event="chn-ree-2025-10", year=2023, as_announced=True)
    assert announced.cut == pytest.approx(kind_defaults()["licence"])
    assert announced.balance["initial_shock_t"] > 0
    assert announced.notes[0] == ("chn-ree-2025-10 was suspended on 2025-11-07 before it took "
                                  "effect: run as announced")
    assert any("median" in n for n in announced.notes)


def test_a_given_cut_does_not_override_the_status() -> None:
    result = critmin.restrict(event="chn-li-graphite-anode-2025", mineral="graphite",
                              year=2023, cut=0.5)
    assert result.cut == 0 and result.balance["initial_shock_t"] == 0
    given = critmin.restrict(event="chn-li-graphite-anode-2025", mineral="graphite",
                             year=2023, cut=0.5, as_announced=True)
    assert given.cut == 0.5 and given.balance["initial_shock_t"] > 0


def test_a_suspended_ban_cuts_only_in_the_years_it_was_in_force() -> None:
    before = critmin.restrict(event="chn-us-ban-2024", mineral="antimony", year=2023)
    assert before.cut == 0 and before.balance["initial_shock_t"] == 0
    assert before.notes[0].startswith("chn-us-ban-2024 was in force from 2024-12-03 until it "
                                      "was suspended on 2025-11-09, not in 2023: it cuts "
                                      "nothing")
    during = critmin.restrict(event="chn-us-ban-2024", mineral="antimony", year=2024,
                              cascade=False)
    assert during.cut == 1 and during.targets == ["USA"]
    shipped = critmin.partners("USA", "antimony", 2024)
    shipped = shipped[(shipped["exporter"] == "CHN") & (shipped["stage"] == "headline")]
    usa = during.countries.set_index("country").loc["USA"]
    assert usa["first_order_loss_t"] == pytest.approx(shipped["qty_basis_t"].sum())
    assert usa["first_order_loss_t"] > 0
    as_announced = critmin.restrict(event="chn-us-ban-2024", mineral="antimony", year=2023,
                                    as_announced=True)
    assert as_announced.cut == 1 and as_announced.balance["initial_shock_t"] > 0


def test_every_documented_event_runs_or_says_why_not(events: pd.DataFrame) -> None:
    """Each event and mineral on a year the data has: the latest year it was in force for a
    lifted or suspended event, otherwise the default year."""
    from critmin import years

    store = get_store()
    data_years = sorted(store.rows_by_year("flows"))
    default = years.default_year(store)
    failures = []
    for _, event in events.iterrows():
        one = events[events["id"] == event["id"]]
        lived = [y for y in data_years if bool(in_force_in(one, y).iloc[0])]
        stopped = event["status"] in ("lifted", "suspended")
        year = lived[-1] if stopped and lived else default
        for mineral in event["minerals"]:
            try:
                result = critmin.restrict(event=event["id"], mineral=mineral, year=year)
            except CritminError as exc:
                assert str(exc), (event["id"], mineral)
                continue
            if bool(never_in_force(one).iloc[0]) or (stopped and not lived):
                ok = result.cut == 0 and "it cuts nothing" in result.notes[0]
            else:
                ok = 0 < result.cut <= 1 and result.balance["initial_shock_t"] >= 0
            if not ok:
                failures.append((event["id"], mineral, year, result.cut, result.notes[:1]))
    assert not failures, failures


def test_the_command_line_runs_an_event_as_announced_and_lists_statuses(
        cli: Callable[..., Any]) -> None:
    plain = cli("restrict", "--event", "chn-ree-2025-10", "-y", "2023", "--json")
    assert plain.code == 0, plain.stderr
    body = plain.json()
    assert body["cut"] == 0 and body["notes"][0].startswith(
        "chn-ree-2025-10 was suspended on 2025-11-07 before it took effect")
    announced = cli("restrict", "--event", "chn-ree-2025-10", "-y", "2023", "--as-announced",
                    "--json")
    assert announced.code == 0, announced.stderr
    assert announced.json()["cut"] == pytest.approx(kind_defaults()["licence"])
    listed = cli("events", "--json")
    assert listed.code == 0, listed.stderr
    rows = {r["id"]: r for r in listed.json()}
    assert rows["chn-ree-2025-10"]["status"] == "suspended"
    assert rows["idn-ni-ban-2020"]["status"] == "in force"
