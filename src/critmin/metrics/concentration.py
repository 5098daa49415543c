"""Shares and concentration: one vectorised mechanism for producers, exporters and suppliers.

>>> import pandas as pd
>>> frame = pd.DataFrame({"m": ["x"] * 3, "who": ["A", "B", "C"], "q": [60.0, 30.0, 10.0]})
>>> row = concentration(frame, ["m"], "who", "q").iloc[0]
>>> round(float(row["hhi"]), 3), row["top"], float(row["top_share"])
(0.46, 'A', 0.6)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHINA = "CHN"


def shares(frame: pd.DataFrame, by: list[str], qty: str) -> pd.Series:
    """Each row's share of its group's total of ``qty`` (NaN where the total is not positive)."""
    total = frame.groupby(by, sort=False, observed=True)[qty].transform("sum")
    return frame[qty] / total.where(total > 0)


def concentration(frame: pd.DataFrame, by: list[str], who: str, qty: str,
                  named: str = CHINA) -> pd.DataFrame:
    """Concentration of ``qty`` across ``who`` within each group ``by``.

    Returns one row per group: ``total``, ``n`` (entities with a positive quantity),
    ``hhi`` = Σ s², ``top3_share``, ``top`` and ``top_share`` (the largest entity), and
    ``named_share`` (the share of entity ``named``, China by default; 0 when absent).
    Rows with a missing or non-positive quantity do not count. Groups whose total is not
    positive are left out.
    """
    positive = frame.loc[frame[qty] > 0, [*by, who, qty]]
    data = positive.groupby([*by, who], sort=False, as_index=False, observed=True)[[qty]].sum()
    data["share"] = shares(data, by, qty)
    data = data[data["share"].notna()]
    data = data.sort_values([*by, "share", who], ascending=[True] * len(by) + [False, True])
    data["rank"] = data.groupby(by, sort=False, observed=True).cumcount()
    data["sq"] = data["share"] ** 2
    data["top3"] = np.where(data["rank"] < 3, data["share"], 0.0)
    data["is_named"] = np.where(data[who] == named, data["share"], 0.0)
    grouped = data.groupby(by, sort=False, observed=True)
    out = grouped.agg(
        total=(qty, "sum"), n=(who, "size"), hhi=("sq", "sum"), top3_share=("top3", "sum"),
        named_share=("is_named", "sum"),
    )
    first = data[data["rank"] == 0].set_index(by)
    out["top"] = first[who]
    out["top_share"] = first["share"]
    return out.reset_index()
