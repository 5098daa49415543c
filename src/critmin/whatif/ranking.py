"""Minerals ranked by one importer's annual expected loss (Monte Carlo supply-at-risk with
the yearly odds of :mod:`critmin.whatif.hazards`), and the rank correlation of that ranking
with a published one (docs/methods.md, "Ranking against published assessments").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from critmin import resolve
from critmin.errors import CritminError
from critmin.store import get_store
from critmin.whatif.at_risk import supply_at_risk


def list_minerals(name: str) -> list[str]:
    """critmin minerals of a critical-minerals list in the ``critical_lists`` table."""
    table = get_store().table("critical_lists")
    rows = table[table["list"] == name]
    return sorted({m for ms in rows["minerals"] for m in ms})


def expected_loss_ranking(country: str = "USA", minerals: Sequence[str] | None = None,
                          year: int | None = None, draws: int = 2000, seed: int = 0,
                          odds: str = "hazard") -> pd.DataFrame:
    """Minerals ranked by ``country``'s annual expected loss share.

    Default minerals: those of the USGS 2025 list. A mineral without a figure (no trade in
    the year, no positive supply) is kept with the reason and no rank. Columns: mineral,
    year, expected_loss_share, p_loss_over_10, rank (1 = largest loss), note.
    """
    code = resolve.country(country)
    wanted = list(minerals) if minerals is not None else list_minerals("usgs-2025")
    rows: list[tuple[str, float, float, float, str]] = []
    for mineral in wanted:  # one network per mineral: a loop over minerals, not countries
        try:
            run = supply_at_risk(mineral, year, draws=draws, seed=seed, countries=[code],
                                 odds=odds)
        except CritminError as exc:
            rows.append((mineral, np.nan, np.nan, np.nan, str(exc).split(";")[0]))
            continue
        row = run.countries[run.countries["country"] == code].iloc[0].to_dict()
        rows.append((mineral, float(run.year), float(row["expected_loss_share"]),
                     float(row["p_loss_over_10"]), str(row["note"])))
    frame = pd.DataFrame(rows, columns=["mineral", "year", "expected_loss_share",
                                        "p_loss_over_10", "note"])
    frame["rank"] = frame["expected_loss_share"].rank(ascending=False, method="min")
    return frame.sort_values(["rank", "mineral"], na_position="last").reset_index(drop=True)


def spearman(a: pd.Series, b: pd.Series) -> float:
    """Spearman rank correlation (average ranks for ties): Pearson's r of the ranks.

    >>> spearman(pd.Series([1, 2, 3, 4]), pd.Series([10, 20, 30, 40]))
    1.0
    """
    return float(a.rank().corr(b.rank()))


def against_published(ranking: pd.DataFrame, published: pd.DataFrame,
                      listed: Sequence[str]) -> tuple[pd.DataFrame, float]:
    """critmin's ranking beside a published top-k ranking, and their Spearman correlation.

    ``published`` has columns rank and mineral (several names may map to one critmin
    mineral: the best rank counts). Minerals of ``listed`` with a critmin figure that the
    top-k does not name share the rank after it (a tie). Returns the table (mineral,
    critmin_rank, published_rank, expected_loss_share) and rho.
    """
    best = published.groupby("mineral")["rank"].min()
    after = float(published["rank"].max()) + 1
    figured = ranking.dropna(subset=["rank"])
    figured = figured[figured["mineral"].isin(list(listed))]
    table = pd.DataFrame({
        "mineral": figured["mineral"].to_numpy(),
        "critmin_rank": figured["expected_loss_share"].rank(ascending=False,
                                                            method="min").to_numpy(),
        "published_rank": figured["mineral"].map(best).fillna(after).to_numpy(),
        "expected_loss_share": figured["expected_loss_share"].to_numpy()})
    rho = spearman(-table["expected_loss_share"], table["published_rank"])
    return table.sort_values("critmin_rank").reset_index(drop=True), rho
