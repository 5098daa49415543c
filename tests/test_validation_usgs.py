"""critmin's U.S. import reliance against USGS net import reliance, 2021-2024 (MCS 2026).

USGS is a reference to explain against, not a target to fit. Each USGS figure (the
``us_salient`` table) is, for critmin's headline ``import_reliance``:

- ``agrees``: within :data:`NEAR` of USGS's figure; within :data:`NEAR` of the right side of a
  USGS bound (">50": at least 0.35; "<25": at most 0.40); at most :data:`NEAR` where USGS
  writes E (net exporter). A 100 % for a country with no domestic production is compared like
  any other figure;
- ``withheld``: critmin shows no figure and says why (``reliance_status`` and ``reason`` of the
  row; for a mineral-year without a cube row, those of the country's profile);
- ``explained``: differs, and is listed with its checked reason in
  ``tests/data/usgs_nir_differences.csv``;
- ``silent``: no figure and no reason: only where critmin has no row at all for the
  mineral-year (neither trade nor production of it in the data, and not on the USA's lists,
  so the profile has none either);
- ``no reference``: USGS gives no figure (NA).

The counts per year are also in docs/methods.md ("Validation against USGS net import
reliance"), read back here so that the page cannot drift from the data.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

import critmin
from critmin.store import get_store

ROOT = Path(__file__).resolve().parent.parent
DIFFERENCES = ROOT / "tests" / "data" / "usgs_nir_differences.csv"
METHODS = ROOT / "docs" / "methods.md"
SECTION = "## Validation against USGS net import reliance"
YEARS = [2021, 2022, 2023, 2024]
NEAR = 0.15
"""|critmin - USGS| within which two figures agree, and the slack on USGS's bounds (shares)."""
ROUNDING = 0.01
"""USGS publishes whole percentages: a reason that accounts for a USGS figure reproduces it
within this (shares)."""
VERDICTS = ["agrees", "withheld", "explained", "silent", "no reference"]
DOC_COLUMNS = {"agrees": "agree", "withheld": "withheld", "explained": "explained differences",
               "silent": "silent", "no reference": "no USGS figure"}


def usgs_as_written(value: float, flag: str) -> str:
    """A USGS figure as the MCS prints it: "76", ">50", "<25", "E", "NA"."""
    if flag == "net exporter":
        return "E"
    if math.isnan(value):
        return "NA"
    return f"{flag if flag in ('<', '>') else ''}{value:.0f}"


def verdict(ours: float, usgs: float, flag: str, said_why: bool) -> str:
    """How a figure of critmin (``ours``, a share or NaN) stands against USGS's."""
    if flag != "net exporter" and math.isnan(usgs):
        return "no reference"
    if math.isnan(ours):
        return "withheld" if said_why else "silent"
    if flag == "net exporter":
        near = ours <= NEAR
    elif flag == "<":
        near = ours <= usgs + NEAR
    elif flag == ">":
        near = ours >= usgs - NEAR
    else:
        near = abs(ours - usgs) <= NEAR
    return "agrees" if near else "differs"


@pytest.fixture(scope="module")
def salient() -> pd.DataFrame:
    return get_store().table("us_salient")


@pytest.fixture(scope="module")
def explained() -> pd.DataFrame:
    return pd.read_csv(DIFFERENCES, dtype={"critmin": float, "usgs": str},
                       keep_default_na=False)


@pytest.fixture(scope="module")
def comparison(salient: pd.DataFrame, explained: pd.DataFrame) -> pd.DataFrame:
    """One row per USGS figure, with critmin's headline, its answer and the verdict."""
    nir = salient[salient["statistic"].str.contains("Net import reliance")
                  & salient["year"].isin(YEARS) & (salient["mineral"] != "")]
    cols = ["year", "mineral", "import_reliance", "answer_stage", "answer_reliance",
            "reliance_status", "reason"]
    ours = critmin.risk("USA", years=YEARS)[cols]
    # a mineral-year with no cube row (neither trade nor production of it in the data) is in
    # the country's profile, with the reason it has no figure, when it is on the USA's lists
    profiles = pd.concat([critmin.profile("USA", y, show_all=True).minerals.assign(year=y)
                          for y in YEARS])[["year", "mineral", "reliance_status", "reason"]]
    out = nir.merge(ours, on=["year", "mineral"], how="left", indicator="in_cube").merge(
        profiles, on=["year", "mineral"], how="left", suffixes=("", "_profile"))
    out["in_cube"] = out["in_cube"] == "both"
    for col in ("reliance_status", "reason"):
        out[col] = out[col].fillna(out[f"{col}_profile"]).fillna("").astype(str)
    out["usgs"] = out["value"] / 100
    out["usgs_as_written"] = [usgs_as_written(v, f) for v, f in zip(out["value"], out["flag"],
                                                                     strict=True)]
    said_why = (out["reliance_status"] != "") & (out["reason"] != "")
    out["verdict"] = [verdict(o, u, f, s) for o, u, f, s in zip(
        out["import_reliance"], out["usgs"], out["flag"], said_why, strict=True)]
    listed = set(zip(explained["year"], explained["mineral"], explained["commodity"],
                     explained["usgs"], strict=True))
    keys = zip(out["year"], out["mineral"], out["commodity"], out["usgs_as_written"],
               strict=True)
    out["listed"] = [k in listed for k in keys]
    out.loc[(out["verdict"] == "differs") & out["listed"], "verdict"] = "explained"
    out["answer_verdict"] = [verdict(o, u, f, True) for o, u, f in zip(
        out["answer_reliance"].astype(float), out["usgs"], out["flag"], strict=True)]
    return out


def counts(comparison: pd.DataFrame) -> pd.DataFrame:
    """USGS figures per year and verdict, as the docs table lays them out."""
    table = pd.crosstab(comparison["year"], comparison["verdict"]).reindex(
        columns=VERDICTS, fill_value=0)
    table.insert(0, "figures", comparison.groupby("year").size())
    return table.rename(columns={**DOC_COLUMNS, "figures": "USGS figures"})


def documented_tables() -> list[pd.DataFrame]:
    """The Markdown tables of the docs section, in order, as text."""
    text = METHODS.read_text()
    assert text.count(SECTION + "\n") == 1, f"docs/methods.md needs one section {SECTION!r}"
    body = text.split(SECTION + "\n", 1)[1].split("\n## ", 1)[0]
    tables = []
    for block in re.findall(r"((?:^\|.*\|\n)+)", body, flags=re.MULTILINE):
        rows = [[c.strip() for c in line.strip().strip("|").split("|")]
                for line in block.strip().splitlines()]
        tables.append(pd.DataFrame(rows[2:], columns=rows[0]))
    return tables


def test_every_difference_is_explained_and_every_explanation_still_holds(
        comparison: pd.DataFrame, explained: pd.DataFrame) -> None:
    differs = comparison[comparison["verdict"] == "differs"]
    assert differs.empty, "unexplained differences:\n" + differs[
        ["year", "mineral", "commodity", "import_reliance", "usgs_as_written",
         "reliance_status"]].to_string()
    shown = comparison[comparison["verdict"] == "explained"]
    found = set(zip(shown["year"], shown["mineral"], shown["commodity"],
                    shown["usgs_as_written"], strict=True))
    gone = explained[[k not in found for k in zip(
        explained["year"], explained["mineral"], explained["commodity"], explained["usgs"],
        strict=True)]]
    assert gone.empty, "listed but no longer a difference:\n" + gone.to_string()
    # a cube row never leaves its figure unexplained
    assert not comparison.loc[comparison["in_cube"], "verdict"].eq("silent").any()
    # the table says what critmin shows now, in percent
    ours = shown.set_index(["year", "mineral", "commodity"])["import_reliance"] * 100
    listed = explained.set_index(["year", "mineral", "commodity"])["critmin"]
    stale = (ours.reindex(listed.index) - listed).abs() > 0.5
    assert not stale.any(), pd.concat([ours.rename("now"), listed], axis=1)[stale].to_string()
    assert explained["explanation"].str.len().min() > 80
    assert explained["category"].ne("").all()


def test_secondary_production_accounts_for_the_whole_gap(explained: pd.DataFrame,
                                                         salient: pd.DataFrame) -> None:
    """Where the reason is USGS's secondary production, USGS's own salient statistics give
    back its figure as 1 - secondary production / apparent consumption, so nothing else
    separates critmin's primary-only 100 % from it."""
    secondary = explained[explained["category"] == "secondary production"]
    assert len(secondary) > 0
    rows = salient.set_index(["year", "mineral", "detail"])["value"]
    for row in secondary.itertuples():
        produced = rows[(row.year, row.mineral, row.usgs_secondary_row)]
        consumed = rows[(row.year, row.mineral, row.usgs_consumption_row)]
        assert row.critmin == 100, row
        assert abs(1 - produced / consumed - float(row.usgs) / 100) <= ROUNDING, row
        assert f"{produced:,.0f}" in row.explanation and f"{consumed:,.0f}" in row.explanation


def test_the_counts_in_the_docs_are_the_counts_of_the_data(comparison: pd.DataFrame,
                                                          explained: pd.DataFrame) -> None:
    per_year, by_reason, withheld = documented_tables()[:3]
    expected = counts(comparison)
    assert per_year["year"].astype(int).tolist() == YEARS
    documented = per_year.set_index(per_year["year"].astype(int))[expected.columns]
    assert documented.astype(int).equals(expected.astype(int)), expected.to_string()
    reasons = pd.DataFrame({
        "USGS figures": explained.groupby("category").size().astype(str),
        "minerals (years)": explained.groupby("category").apply(
            lambda g: ", ".join(f"{m} ({', '.join(str(y) for y in sorted(rows['year']))})"
                                for m, rows in g.groupby("mineral")), include_groups=False)})
    documented = by_reason.set_index("reason")[reasons.columns].sort_index()
    assert documented.equals(reasons.sort_index()), reasons.to_string()
    statuses = comparison.loc[comparison["verdict"] == "withheld", "reliance_status"].str.replace(
        r" \(.*\)$", "", regex=True).value_counts()
    assert withheld.set_index("status")["USGS figures"].astype(int).to_dict() == \
        statuses.to_dict(), statuses.to_string()
    silent = comparison[comparison["verdict"] == "silent"]
    listing = ", ".join(f"{m} ({', '.join(str(y) for y in sorted(rows['year']))})"
                        for m, rows in silent.groupby("mineral"))
    assert (f"- Silent: {listing}: " if listing else "- Silent: none.") in METHODS.read_text()


def test_agreement_is_the_rule_where_critmin_shows_a_figure(comparison: pd.DataFrame) -> None:
    shown = comparison[comparison["verdict"].isin(["agrees", "explained"])]
    assert len(shown) >= 60
    assert (shown["verdict"] == "agrees").mean() >= 0.85
    # the opposite signs a domain expert found: withheld with a reason
    for mineral in ("nickel", "zinc", "antimony"):
        rows = comparison[comparison["mineral"] == mineral]
        assert (rows["verdict"] == "withheld").all(), mineral
        assert rows["reason"].str.contains("no rows").all(), mineral


def test_the_answer_where_the_headline_is_withheld(comparison: pd.DataFrame,
                                                 record_property: pytest.RecordProperty
                                                 ) -> None:
    """How many USGS figures the main row's answer (the principal stage's reliance where the
    headline is withheld) covers, and how many of those are near USGS's: reported, not a
    condition (a stage's reliance is not USGS's headline measure)."""
    answered = comparison[comparison["answer_reliance"].notna()]
    headline = answered["answer_stage"] == "headline"
    # where the headline shows a figure, the answer is that figure
    assert (answered.loc[headline, "answer_reliance"]
            == answered.loc[headline, "import_reliance"]).all()
    assert comparison["import_reliance"].notna().sum() == headline.sum()
    report = pd.DataFrame({
        "USGS figures": comparison.groupby("year").size(),
        "headline shown": comparison[comparison["import_reliance"].notna()].groupby(
            "year").size(),
        "answer shown": answered.groupby("year").size(),
        "answer near USGS": answered[answered["answer_verdict"] == "agrees"].groupby(
            "year").size(),
    }).fillna(0).astype(int)
    record_property("usgs_answer_coverage", report.to_dict())
    print("\nUSGS net import reliance figures covered by the answer column\n"
          + report.to_string())
