"""critmin's U.S. import reliance against USGS net import reliance, 2021-2024 (MCS 2026).

USGS is a reference to explain against, not a target to fit: each figure is either withheld
with a reason, on the same side and near the USGS figure, or listed with its explanation in
``tests/data/usgs_nir_differences.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import critmin
from critmin.store import get_store

DIFFERENCES = Path(__file__).parent / "data" / "usgs_nir_differences.csv"
NEAR = 0.3
"""|critmin - USGS| within which two numeric figures agree (shares)."""
BOUND = 0.15
"""Slack on USGS's bounds (">50", "<25") and on "E" (net exporter: critmin at most 0.2)."""


def verdict(row: pd.Series) -> str:
    ours, usgs, flag = row["import_reliance"], row["usgs"], row["flag"]
    if math.isnan(ours):
        return "withheld" if row["reason"] or row["reliance_status"] else "silent"
    if flag == "net exporter":
        return "agrees" if ours <= 0.2 else "differs"
    if math.isnan(usgs):
        return "no reference"
    if row["reliance_status"] == "net importer (no domestic production)":
        return "agrees" if usgs > 0 else "differs"  # primary supply only: an upper bound
    if flag == "<":
        return "agrees" if ours <= usgs + BOUND else "differs"
    if flag == ">":
        return "agrees" if ours >= usgs - BOUND else "differs"
    return "agrees" if abs(ours - usgs) <= NEAR else "differs"


@pytest.fixture(scope="module")
def comparison() -> pd.DataFrame:
    salient = get_store().table("us_salient")
    nir = salient[salient["statistic"].str.contains("Net import reliance")
                  & salient["year"].between(2021, 2024) & (salient["mineral"] != "")]
    ours = critmin.risk("USA", years=[2021, 2022, 2023, 2024])
    out = nir.merge(ours[["year", "mineral", "import_reliance", "reliance_status", "reason"]],
                    on=["year", "mineral"], how="inner")
    out["usgs"] = out["value"] / 100
    out["verdict"] = out.apply(verdict, axis=1)
    return out


def test_every_usgs_figure_is_matched_withheld_or_explained(comparison: pd.DataFrame) -> None:
    explained = pd.read_csv(DIFFERENCES)
    differs = comparison[comparison["verdict"] == "differs"]
    keys = set(zip(differs["year"], differs["mineral"], strict=True))
    assert keys == set(zip(explained["year"], explained["mineral"], strict=True))
    assert (explained["explanation"].str.len() > 40).all()
    assert not (comparison["verdict"] == "silent").any()


def test_agreement_is_the_rule_where_critmin_shows_a_figure(comparison: pd.DataFrame) -> None:
    shown = comparison[comparison["verdict"].isin(["agrees", "differs"])]
    assert len(shown) >= 60
    assert (shown["verdict"] == "agrees").mean() >= 0.95
    # the opposite signs a domain expert found: now withheld with a reason
    for mineral in ("nickel", "zinc", "antimony"):
        rows = comparison[comparison["mineral"] == mineral]
        assert (rows["verdict"] == "withheld").all(), mineral
        assert rows["reason"].str.contains("no rows").all(), mineral
