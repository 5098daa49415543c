"""The terminal views: columns kept by meaning, text given the room there is, notes wrapped at
word boundaries, one way of writing numbers, small rows folded into "others"."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

import critmin
from critmin import cli as cli_mod
from critmin import numbers, present, resolve, schema

Terminal = Callable[..., tuple[str, str]]

SCIENTIFIC = re.compile(r"\de[+-]\d")
CURSOR = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
"""The cursor moves of the spinner shown while a command computes."""
PACT = ["pact", "--importer", "IND", "--supplier", "RUS", "-m", "rare-earths", "--stage",
        "refined", "--volume", "300", "--mode", "new", "-y", "2024"]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], Terminal]:
    """Run a command as in a terminal of a given width: (stdout, stderr)."""

    def at(width: int) -> Terminal:
        out, err = io.StringIO(), io.StringIO()

        def console(stderr: bool = True, width_: int | None = None) -> Console:
            return Console(file=err if stderr else out, width=width, force_terminal=True,
                           color_system=None, markup=False, highlight=False, emoji=False)

        monkeypatch.setattr(cli_mod, "_console", console)
        monkeypatch.setattr(cli_mod.Output, "fmt", property(lambda self: (
            "json" if self.as_json else "csv" if self.as_csv else None)))

        def run(*args: str) -> tuple[str, str]:
            out.seek(0), out.truncate(), err.seek(0), err.truncate()
            res = CliRunner().invoke(cli_mod.app, list(args), env={"COLUMNS": str(width)})
            assert res.exit_code == 0, (res.output, err.getvalue(), res.exception)
            return out.getvalue(), CURSOR.sub("", err.getvalue())

        return run

    return at


def _header(out: str) -> str:
    """The heading rows of a rendered table (above its first rule of ━ and ╇)."""
    lines = out.splitlines()
    end = next(i for i, line in enumerate(lines) if "╇" in line)
    return "\n".join(lines[:end])


def _shown(width: int, frame: pd.DataFrame) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    console = Console(file=out, width=width, color_system=None, markup=False, highlight=False)
    cli_mod.table(frame, console=console)
    return out.getvalue(), err.getvalue()


def test_profile_keeps_china_share_and_suppliers_at_80_columns(terminal) -> None:
    out, err = terminal(80)("profile", "India")
    head = _header(out)
    for name in ("mineral", "answer", "china_", "share", "top_suppliers"):
        assert name in head
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "left out to fit the terminal" in err
    left = err.split("left out to fit the terminal:")[1].split("(use")[0].replace(",", " ")
    assert "china_share" not in left.split() and "top_suppliers" not in left.split()
    wide, _ = terminal(120)("profile", "India")
    assert "score" in _header(wide)


@pytest.mark.parametrize("width", [80, 120])
def test_risk_and_stages_keep_china_share(terminal, width: int) -> None:
    run = terminal(width)
    for command in (["risk", "-c", "IND"], ["stages", "-c", "IND"]):
        out, _ = run(*command)
        head = _header(out)
        assert "china_" in head and "share" in head, command
        assert max(len(line) for line in out.splitlines()) <= width


def test_columns_follow_the_schema_order_everywhere() -> None:
    assert schema.order("profile", cli_mod.PROFILE_VIEW)[:5] == [
        "mineral", "answer", "china_share", "top_suppliers", "score"]
    assert schema.order("cube", ["score", "top_supplier", "china_share", "import_reliance",
                                 "mineral", "country", "year", "flags"]) == [
        "year", "country", "mineral", "import_reliance", "china_share", "top_supplier",
        "score", "flags"]
    frame = critmin.profile("IND").minerals
    ordered = schema.order("profile", frame.columns)
    assert list(present.flat(frame).columns) == ordered
    assert list(present.records(frame)[0]) == ordered
    assert set(ordered) == set(frame.columns)  # ordered, none removed
    assert list(present.flat(frame, order=False).columns) == list(frame.columns)


def test_empty_columns_go_first_and_text_is_not_cut_with_room() -> None:
    reason = "why the reliance is withheld, spelled out at some length for the reader"
    frame = pd.DataFrame({"mineral": ["lithium", "cobalt"], "answer": ["yes", "no"],
                          "china_share": [float("nan")] * 2, "reason": [reason, "short"],
                          "production_t": [1234.5, 2.0]})
    frame.attrs.update({"table": "profile", "units": schema.units("profile")})
    out, _ = _shown(120, frame)
    assert "china_share" not in out and "china_" not in out  # no value: not shown
    assert reason in out and "…" not in out
    assert "production_" in out  # a detail with data stays while there is room
    narrow, _ = _shown(60, frame)
    assert "…" in narrow and "production_" in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 60


def test_text_columns_share_the_slack_in_proportion() -> None:
    need = {"a": 60, "b": 30, "c": 10}
    least = {"a": 12, "b": 12, "c": 10}
    width = cli_mod._fit(need, least, 70)
    assert sum(width.values()) == 70
    assert width["c"] == 10 and width["a"] > width["b"] > 12
    assert cli_mod._fit(need, least, 200) == need


def test_notes_wrap_at_word_boundaries_with_a_hanging_indent(monkeypatch) -> None:
    note = ("• Reliance withheld: world trade of the content exceeds what is produced: "
            "Selenium, Palladium, Platinum, Rhodium; 1,234 t withheld, 85.8 % of supply.")
    text = cli_mod.wrapped(note, 40)
    lines = text.splitlines()
    assert len(lines) > 2 and all(len(line) <= 40 for line in lines)
    assert all(line.startswith("  ") for line in lines[1:])
    assert " ".join(line.strip() for line in lines) == note  # no word cut
    assert not any(line.rstrip().endswith(("1,234", "85.8")) for line in lines)
    err = io.StringIO()
    monkeypatch.setattr(cli_mod, "_console", lambda stderr=True, width=None: Console(
        file=err, width=40, force_terminal=True, color_system=None, markup=False))
    cli_mod.say(note)
    assert err.getvalue().rstrip("\n") == text


def test_profile_notes_are_wrapped_in_a_terminal(terminal) -> None:
    _, err = terminal(80)("profile", "India")
    assert [line for line in err.splitlines() if len(line) > 80] == []
    flowing = " ".join(err.split())
    for note in critmin.profile("IND").notes:  # every word whole: the text reads the same
        assert " ".join(f"• {note}".split()) in flowing


@pytest.mark.parametrize("command", [
    ["profile", "India"], ["risk", "-c", "IND"], ["restrict", "--supplier", "CHN", "-m",
                                                  "graphite"],
    PACT,
    ["supply-at-risk", "-m", "cobalt", "--draws", "500"],
    ["suppliers", "--importer", "IND", "-m", "lithium"],
])
def test_no_scientific_notation_in_terminal_views(terminal, command: list[str]) -> None:
    out, err = terminal(120)(*command)
    assert not SCIENTIFIC.search(out), command
    assert not SCIENTIFIC.search(err), command


def test_a_share_reads_the_same_in_the_table_and_the_summary(terminal) -> None:
    out, err = terminal(120)("restrict", "--supplier", "CHN", "-m", "graphite")
    result = critmin.restrict("CHN", "graphite")
    row = result.countries.set_index("country").loc["JPN"]
    share = numbers.share(row["loss_share"])
    assert share.endswith(" %") and share in out
    assert f"Japan {share} of supply" in err
    first = numbers.share(row["loss_share_first_order"])
    assert first in out and f"({first} first order)" in err
    pact_out, pact_err = terminal(120)(*PACT)
    deal = critmin.pact("IND", "RUS", "rare-earths", volume=300, mode="new", year=2024,
                        stage="refined")
    china = numbers.share(deal.before["china_share"])
    assert china in pact_out and f"imports: {china} ->" in pact_err


def test_tonnes_are_never_in_scientific_notation() -> None:
    assert numbers.fmt(4e-06, "t (basis)") == "<0.01"
    assert numbers.tonnes(965.4) == "965 t"
    assert numbers.fmt(1234567.8, "t") == "1,234,568"
    assert numbers.fmt(0.25, "0-1") == "0.250" and numbers.fmt(0.000123, "") == "0.000123"
    assert numbers.fmt(3.0, "") == "3" and numbers.number(99.95) == "100"


def test_small_rows_fold_into_others_and_sum_to_them(terminal) -> None:
    result = critmin.restrict("CHN", "graphite")
    frame = result.countries
    folded = present.fold(frame, cli_mod.SCENARIO_FOLD)
    others = folded.iloc[-1]
    assert re.fullmatch(r"others \(\d+ rows\)", others["country"])
    kept = set(folded["country"].iloc[:-1])
    gone = frame[~frame["country"].isin(kept)]
    assert len(gone) == int(others["country"].split("(")[1].split()[0]) > 1
    for col in ("loss_t", "first_order_loss_t", "supply_t"):
        values = gone[col]
        if (values < 0).any() and (values > 0).any():  # net exporters' negative supply
            assert pd.isna(others[col])  # is not netted against importers'
        else:
            assert others[col] == pytest.approx(values.sum())
    totals = frame[cli_mod.SCENARIO_FOLD].abs().sum()
    assert (gone[cli_mod.SCENARIO_FOLD].abs() < present.SHOWN_FLOOR * totals).all(axis=None)
    assert pd.isna(others["loss_share"])
    run = terminal(120)
    out, _ = run("restrict", "--supplier", "CHN", "-m", "graphite")
    assert others["country"] in out
    every, _ = run("restrict", "--supplier", "CHN", "-m", "graphite", "--all")
    assert "others (" not in every and len(every.splitlines()) > len(out.splitlines())


def test_a_first_order_loss_above_all_supply_is_explained() -> None:
    result = critmin.restrict("CHN", "tungsten", 2023)
    hit = result.countries
    over = hit[(hit["loss_share_first_order"] > 1) & (hit["loss_t"] > 0)]
    summary = result.summary()
    listed = summary.split("largest losses:")[1].splitlines()[0]
    names = resolve.country_names()
    named = [c for c in over["country"] if names.get(c, c) in listed]
    if not named:
        pytest.skip("no country of the summary loses more than its supply first order")
    assert "first-order loss above 100 % of supply" in summary
    assert "net supply (production + imports - exports)" in summary
    assert "exports again" in summary


def test_a_pivot_by_year_leaves_out_the_oldest_years_first(terminal) -> None:
    out, err = terminal(80)("risk", "-c", "IND", "-m", "graphite", "-m", "rare-earths",
                            "-y", "2015-2024", "--pivot", "year")
    head = _header(out)
    assert "2024" in head and "2023" in head and "2015" not in head
    assert "columns left out to fit the terminal: 2015" in " ".join(err.split())
    # the values sit right-aligned like every number, the break mark after them
    row = next(line for line in out.splitlines() if "graphite" in line)
    assert re.search(r"│\s+\d+\.\d %¦? │", row)
