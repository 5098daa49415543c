"""The back-test of the documented events: its windows and comparison checked by hand on a
few rows, its figures on the bundled data against the store's flows and the stages and
partners outputs, the command line, and the docs table against the command's output."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import critmin
from critmin.errors import NotFound
from critmin.store import get_store
from critmin.whatif.backtest import Backtest, compare, event_codes, plan, summarise, windows
from critmin.whatif.formatting import format_tonnes

METHODS = Path(__file__).parents[1] / "docs" / "methods.md"

# -- hand-computed cases ------------------------------------------------------------------------


def registry(**events: dict[str, object]) -> pd.DataFrame:
    """A small events registry: every event a ban by S of mineral m, naming the three codes
    of :data:`CODES`, unless told."""
    rows = []
    for name, fields in events.items():
        row = {"id": name, "supplier": "S", "minerals": ["m"],
               "hs6": ["000001", "000002", "000003"],
               "targets": [], "kind": "ban", "announced": "2020-12-01",
               "effective": "2021-03-01", "ended": None, "status": "in force",
               "status_date": "2021-03-01", "cut": 1.0}
        rows.append({**row, **fields})
    return pd.DataFrame(rows)


CODES = pd.DataFrame({"hs6": ["000001", "000002", "000003"], "mineral": ["m"] * 3,
                      "stage": ["ore", "refined", "refined"]})
"""Catalog links: two codes of m at the refined stage, one at the ore stage."""

NO_CORRESPONDENCE = pd.DataFrame({"hs17": pd.Series(dtype=str),
                                  "hs92": pd.Series(dtype=str),
                                  "relation": pd.Series(dtype=str)})


def shipments(rows: list[tuple[int, str, str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["year", "exporter", "importer", "hs6", "qty_basis_t"])
    return frame.assign(mineral="m")


# 2020 (before): S ships A 60 t of 000001 and 10 t of 000003, B 40 t of 000002; 2022
# (after): A 15 t of 000001, B 30 t of 000002, and 000003 has no rows at all. T's shipments
# are not the supplier's.
SHIPPED = shipments([
    (2020, "S", "A", "000001", 60.0), (2020, "S", "A", "000003", 10.0),
    (2020, "S", "B", "000002", 40.0), (2020, "T", "A", "000001", 500.0),
    (2022, "S", "A", "000001", 15.0), (2022, "S", "B", "000002", 30.0),
    (2022, "T", "A", "000001", 900.0),
])
PRESENT = pd.DataFrame({"year": [2020, 2020, 2020, 2022, 2022],
                        "hs6": ["000001", "000002", "000003", "000001", "000002"],
                        "complete": [True, True, True, True, False]})
YEARS = [2019, 2020, 2021, 2022]


def run(events: pd.DataFrame, shipped: pd.DataFrame = SHIPPED,
        present: pd.DataFrame = PRESENT, top: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    plans = plan(events, YEARS, {"licence": 0.6})
    codes = event_codes(events, CODES, NO_CORRESPONDENCE)
    return compare(plans, codes, shipped, present, top)


def test_windows_are_the_full_years_on_either_side() -> None:
    w = windows(pd.Series(["2023-12-01", "2020-01-01", "2014-01-12", None, "2025-02-04",
                              "1995-06-01"]), range(1995, 2025))
    assert w["before_year"].tolist() == [2022, 2019, 2013, pd.NA, 2024, 1994]
    assert w["after_year"].tolist() == [2024, 2020, 2015, pd.NA, 2026, 1996]
    assert w["missing"].tolist() == ["", "", "", "no effective date documented",
                                     "no trade data after 2024", "no trade data before 1995"]
    assert w["before_in_data"].tolist() == [True, True, True, False, True, False]


def test_a_ban_is_compared_by_hand() -> None:
    rows, importers = run(registry(ban={}))
    got = rows.set_index("stage")
    # every code together: 000003 has no rows in 2022, so 60 + 40 = 100 t before, 45 t after
    assert got.loc["all", "exports_before_t"] == 100.0
    assert got.loc["all", "exports_after_t"] == 45.0
    assert got.loc["all", "observed_change"] == pytest.approx(-0.55)
    assert got.loc["all", "predicted_change"] == -1.0
    assert got.loc["all", "error"] == pytest.approx(0.45)
    assert got.loc["ore", "observed_change"] == pytest.approx(15 / 60 - 1)
    assert got.loc["refined", "observed_change"] == pytest.approx(30 / 40 - 1)
    assert list(rows["stage"]) == ["all", "ore", "refined"]
    note = got.loc["all", "note"]
    assert "000003 left out: no rows in 2022" in note
    assert "2022 is incomplete in the source for 000002" in note
    assert got.loc["all", "codes"] == "000001, 000002"
    assert got.loc["all", "missing"] == ""
    shares = importers.set_index("importer")
    assert list(importers["importer"]) == ["A", "B"]  # largest in the year before first
    assert shares.loc["A", "imports_before_t"] == 60.0
    assert shares.loc["A", "observed_change"] == pytest.approx(-0.75)
    assert shares.loc["B", "observed_change"] == pytest.approx(-0.25)
    assert (importers["predicted_change"] == -1.0).all()


def test_a_targeted_measure_predicts_the_targets_share_of_the_cut() -> None:
    rows, importers = run(registry(t={"targets": ["B"], "kind": "licence", "cut": 0.5}))
    row = rows.set_index("stage").loc["all"]
    assert row["target_share_before"] == pytest.approx(40 / 100)
    assert row["predicted_change"] == pytest.approx(-0.5 * 0.4)
    assert row["targets_observed_change"] == pytest.approx(30 / 40 - 1)
    assert row["targets_predicted_change"] == -0.5
    assert "the cut on the 40.0 % of exports that went to B in 2020" in row["note"]
    predicted = importers.set_index("importer")["predicted_change"]
    assert predicted["A"] == 0.0 and predicted["B"] == -0.5


def test_an_undocumented_cut_takes_its_kinds_default_and_one_never_in_force_none() -> None:
    rows, _ = run(registry(
        lic={"kind": "licence", "cut": np.nan},
        off={"status": "suspended", "status_date": "2021-02-27", "cut": 0.9}))
    got = rows[rows["stage"] == "all"].set_index("event")
    assert got.loc["lic", "predicted_change"] == -0.6
    assert "no cut documented: a licence stands for 60.0 %" in got.loc["lic", "note"]
    assert got.loc["off", "predicted_change"] == 0.0
    assert "suspended on 2021-02-27, before it took effect" in got.loc["off", "note"]


def test_every_missing_side_says_why() -> None:
    rows, importers = run(registry(
        undated={"effective": None},
        late={"effective": "2022-06-01"},
        uncoded={"hs6": []},
        foreign={"hs6": ["999999"]},
        absent={"hs6": ["000003"]},
        idle={"supplier": "U"},
    ))
    got = rows[rows["stage"] == "all"].set_index("event")
    assert got.loc["undated", "missing"] == "no effective date documented"
    assert got.loc["late", "missing"] == "no trade data after 2022"
    assert got.loc["uncoded", "missing"] == "the measure names no HS code"
    assert got.loc["foreign", "missing"] == "none of its codes (999999) carries m in critmin's catalog"
    assert got.loc["absent", "missing"] == "no rows of its codes (000003) in 2022"
    assert got.loc["idle", "missing"] == "U exported none of its codes in 2020"
    assert all(note.startswith(why) for note, why in zip(got["note"], got["missing"],
                                                         strict=True))
    assert got["observed_change"].isna().all()
    assert importers.empty
    scores = summarise(rows)
    assert scores["compared"] == 0 and np.isnan(scores["mae"])
    assert sum(len(v) for v in scores["lacking"].values()) == len(got)


def test_the_summary_scores_the_all_rows_only() -> None:
    rows, _ = run(registry(ban={}, half={"kind": "licence", "cut": 0.5},
                           late={"effective": "2022-06-01"}))
    scores = summarise(rows)
    # ban: -0.55 against -1 (error 0.45); half: -0.55 against -0.5 (error -0.05)
    assert scores["compared"] == 2 and scores["pairs"] == 3
    assert scores["mae"] == pytest.approx((0.45 + 0.05) / 2)
    assert scores["mean_error"] == pytest.approx((0.45 - 0.05) / 2)
    assert scores["lacking"] == {"no trade data after 2022": ["late (m)"]}
    assert scores["events_lacking"] == ["late"]


@settings(max_examples=50, deadline=None)
@given(before=st.floats(0.001, 1e7), after=st.floats(0.0, 1e7), cut=st.floats(0.0, 1.0),
       scale=st.floats(0.01, 100.0))
def test_observed_change_is_the_ratio_whatever_the_scale(before: float, after: float,
                                                        cut: float, scale: float) -> None:
    events = registry(e={"cut": cut, "kind": "quota", "hs6": ["000001"]})
    one = shipments([(2020, "S", "A", "000001", before), (2022, "S", "A", "000001", after)])
    present = pd.DataFrame({"year": [2020, 2022], "hs6": ["000001"] * 2,
                            "complete": [True, True]})
    row = run(events, one, present)[0].iloc[0]
    assert row["observed_change"] == pytest.approx(after / before - 1, rel=1e-9, abs=1e-12)
    assert row["error"] == pytest.approx(row["observed_change"] + cut, rel=1e-9, abs=1e-12)
    scaled = run(events, one.assign(qty_basis_t=one["qty_basis_t"] * scale), present)[0]
    assert scaled.iloc[0]["observed_change"] == pytest.approx(row["observed_change"],
                                                              rel=1e-9, abs=1e-12)


def test_the_order_of_the_rows_read_changes_nothing() -> None:
    events = registry(ban={}, t={"targets": ["B"], "cut": 0.5})
    rows, importers = run(events)
    again, again_importers = run(events.iloc[::-1], SHIPPED.sample(frac=1, random_state=3),
                                 PRESENT.iloc[::-1])
    pd.testing.assert_frame_equal(rows, again)
    pd.testing.assert_frame_equal(importers, again_importers)


# -- the bundled data ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result() -> Backtest:
    return critmin.backtest()


def china_graphite_250410(years: list[int]) -> pd.Series:
    """China's exports of natural graphite in powder or flakes (HS 250410), tonnes: the
    catalog reads the code as graphite in full (content 1, allocation 1, no low-value rule)."""
    links = get_store().table("product_minerals").set_index(["hs6", "mineral"])
    link = links.loc[("250410", "graphite")]
    assert link["content_factor"] == 1 and link["allocation_share"] == 1
    assert pd.isna(link["low_value_usd_per_kg"]) and pd.isna(link["low_value_ratio"])
    flows = get_store().flows(hs6=["250410"], years=years, exporter="CHN")
    return flows.groupby("year", observed=True)["qty_t"].sum()


def test_chinas_graphite_exports_fell_far_less_than_the_registrys_cut(
        result: Backtest) -> None:
    rows = result.events.set_index(["event", "mineral", "stage"])
    row = rows.loc[("chn-graphite-2023", "graphite", "all")]
    # effective 2023-12-01: the last full year before is 2022, the first full year after 2024
    assert (row["before_year"], row["after_year"]) == (2022, 2024)
    tonnes = china_graphite_250410([2022, 2024])
    assert row["exports_before_t"] == pytest.approx(tonnes[2022])
    assert row["exports_after_t"] == pytest.approx(tonnes[2024])
    observed = tonnes[2024] / tonnes[2022] - 1
    assert row["observed_change"] == pytest.approx(observed)
    assert row["predicted_change"] == pytest.approx(-0.73)
    # the data records a fall of about a third, not the registry's 73 %
    assert -0.40 < observed < -0.25
    assert row["error"] == pytest.approx(observed + 0.73)
    assert "380190 left out: no rows in 2022 or 2024" in row["note"]
    assert "2024 is incomplete in the source for 250410" in row["note"]
    # the whole ore stage (250410 and 250490, stages output) from 2023 to 2024: about -13.5 %
    ore = critmin.stages("CHN", "graphite", [2023, 2024], stage="ore").set_index("year")
    whole = ore.loc[2024, "exports_basis_t"] / ore.loc[2023, "exports_basis_t"] - 1
    assert -0.15 < whole < -0.12
    assert (tonnes <= ore["exports_basis_t"].reindex(tonnes.index).fillna(np.inf)).all()


def test_a_code_that_is_the_whole_stage_gives_the_stages_outputs_tonnes(
        result: Backtest) -> None:
    row = result.events.set_index(["event", "mineral"]).loc[("idn-ni-ban-2020", "nickel")]
    assert row["codes"] == "260400" and row["stage"] == "all"
    ore = critmin.stages("IDN", "nickel", [2019, 2020], stage="ore").set_index("year")
    assert row["exports_before_t"] == pytest.approx(ore.loc[2019, "exports_basis_t"])
    assert row["exports_after_t"] == pytest.approx(ore.loc[2020, "exports_basis_t"])
    china = result.importers.set_index(["event", "importer"]).loc[("idn-ni-ban-2020", "CHN")]
    partners = critmin.partners("CHN", "nickel", [2019, 2020])
    partners = partners[(partners["exporter"] == "IDN") & (partners["stage"] == "ore")]
    shipped = partners.set_index("year")["qty_basis_t"]
    assert china["imports_before_t"] == pytest.approx(shipped[2019])
    assert china["imports_after_t"] == pytest.approx(shipped[2020])


def test_the_indonesian_ore_bans_are_observed_as_bans(result: Backtest) -> None:
    scored = result.compared().set_index(["event", "mineral"])
    for key in [("idn-ore-ban-2014", "nickel"), ("idn-ore-ban-2014", "bauxite"),
                ("idn-bauxite-ban-2023", "bauxite")]:
        assert scored.loc[key, "predicted_change"] == -1.0
        assert scored.loc[key, "observed_change"] < -0.99


def test_each_event_and_mineral_has_one_scored_row_and_a_reason_when_unscored(
        result: Backtest) -> None:
    registry_pairs = critmin.events().explode("minerals")
    pairs = result.events[result.events["stage"] == "all"]
    assert len(pairs) == len(registry_pairs)
    assert set(zip(pairs["event"], pairs["mineral"], strict=True)) == set(
        zip(registry_pairs["id"], registry_pairs["minerals"], strict=True))
    unscored = pairs[pairs["observed_change"].isna()]
    assert (unscored["note"] != "").all()
    scores = result.scores
    assert scores["compared"] == len(result.compared()) == len(pairs) - len(unscored)
    assert sum(len(v) for v in scores["lacking"].values()) == len(unscored)
    last = max(get_store().rows_by_year("flows"))
    notes = pairs.set_index(["event", "mineral"])["note"]
    assert notes[("chn-sb-2024", "antimony")].startswith(f"no trade data after {last}")
    assert notes[("nam-crm-ore-ban-2023", "lithium")].startswith("no effective date")
    assert notes[("mys-ree-raw-ban-2024", "rare-earths")].startswith(
        "the measure names no HS code")
    errors = result.compared()["error"]
    assert scores["mae"] == pytest.approx(errors.abs().mean())
    assert result.events.attrs["units"]["exports_before_t"] == "t (basis)"


def test_an_unknown_event_suggests_the_nearest() -> None:
    with pytest.raises(NotFound, match="did you mean chn-graphite-2023"):
        critmin.backtest("chn-grafite-2023")


# -- the command line and the docs ----------------------------------------------------------


def test_cli_backtest_json_and_bad_input(cli) -> None:
    res = cli("backtest", "--event", "idn-ni-ban-2020", "--json")
    assert res.code == 0, res.stderr
    body = res.json()
    assert {"events", "importers", "summary", "units", "notes"} <= set(body)
    assert {"event", "mineral", "stage", "before_year", "after_year", "exports_before_t",
            "exports_after_t", "predicted_change", "observed_change", "error",
            "note"} <= set(body["events"][0])
    assert {"event", "mineral", "importer", "imports_before_t", "imports_after_t",
            "observed_change", "predicted_change"} <= set(body["importers"][0])
    bad = cli("backtest", "--event", "idn-ni-ban-2002")
    assert bad.code == 2 and "did you mean idn-ni-ban-2020" in bad.stderr
    assert "Traceback" not in bad.stderr
    top = cli("backtest", "--top", "0")
    assert top.code == 2 and "top must be at least 1" in top.stderr


def _pct(value: float) -> str:
    return f"{value * 100:+.1f} %"


def docs_rows(body: dict) -> list[str]:
    """The docs table's rows, from the command's JSON."""
    rows = [r for r in body["events"] if r["stage"] == "all"
            and r["observed_change"] is not None and r["predicted_change"] is not None]
    return [f"| {r['event']} | {r['mineral']} | {r['before_year']}→{r['after_year']} | "
            f"{format_tonnes(r['exports_before_t'])} | {format_tonnes(r['exports_after_t'])} | "
            f"{_pct(r['predicted_change'])} | {_pct(r['observed_change'])} | "
            f"{r['error'] * 100:+.1f} |" for r in rows]


def docs_summary(body: dict) -> list[str]:
    s = body["summary"]
    lines = [f"Mean absolute error over the {s['compared']} event-mineral pairs "
             f"({s['events_compared']} events) with data on both sides: "
             f"{s['mae'] * 100:.1f} points; mean error {s['mean_error'] * 100:+.1f} points."]
    lines += [f"| {why} | {len(pairs)} | "
              f"{', '.join(dict.fromkeys(p.split(' (')[0] for p in pairs))} |"
              for why, pairs in s["lacking"].items()]
    return lines


def test_the_docs_table_is_the_commands_output(cli) -> None:
    res = cli("backtest", "--json")
    assert res.code == 0, res.stderr
    body = res.json()
    text = METHODS.read_text(encoding="utf-8")
    section = text[text.index("#### Back-test of the documented events"):]
    section = section[:section.index("\n### ")]
    table = [line for line in section.splitlines() if re.match(r"\| [a-z]{3}-", line)]
    assert table == docs_rows(body)
    assert len(table) == body["summary"]["compared"]
    flowing = " ".join(section.split())
    for line in docs_summary(body):
        assert " ".join(line.split()) in flowing, line
    # the figures and facts the reading of the table quotes
    ore = critmin.stages("CHN", "graphite", [2023, 2024], stage="ore").set_index("year")
    whole = ore.loc[2024, "exports_basis_t"] / ore.loc[2023, "exports_basis_t"] - 1
    assert f"changed by {whole * 100:.1f} % from 2023 to 2024" in flowing
    gallium = [r for r in body["events"] if r["event"] == "chn-ga-ge-2023"
               and r["stage"] == "all"]
    assert {r["codes"] for r in gallium} == {"811291"}
    assert all(r["observed_change"] > 0 for r in gallium)
    nickel = next(r for r in body["events"] if r["event"] == "idn-ni-ban-2020")
    assert f"left {(1 + nickel['observed_change']) * 100:.0f} % of" in flowing
