"""Concentration: one vectorised mechanism for producers, exporters and suppliers.

>>> import pandas as pd
>>> frame = pd.DataFrame({"m": ["x"] * 3, "who": ["A", "B", "C"], "q": [60.0, 30.0, 10.0]})
>>> row = concentration(frame, ["m"], "who", "q").iloc[0]
>>> round(float(row["hhi"]), 3), row["top"], float(row["top_share"])
(0.46, 'A', 0.6)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from critmin.metrics.groups import Groups, order_codes

CHINA = "CHN"


def concentration(frame: pd.DataFrame, by: list[str], who: str, qty: str,
                  named: str = CHINA, unlisted: pd.DataFrame | None = None) -> pd.DataFrame:
    """Concentration of ``qty`` across ``who`` within each group ``by``.

    Returns one row per group: ``total``, ``n`` (entities with a positive quantity),
    ``hhi`` = Σ s², ``top3_share``, ``top`` and ``top_share`` (the largest entity, the first
    by name among equals), and ``named_share`` (the share of entity ``named``, China by
    default; 0 when absent). Rows with a missing or non-positive quantity do not count.
    Groups whose total is not positive are left out. ``unlisted`` (``by`` + ``qty``): a
    quantity per group that no listed entity holds ("other countries"), added to the total
    and so to the denominator of every share, never an entity of its own (its HHI part,
    spread over unknown entities, is left out).

    >>> frame = pd.DataFrame({"m": ["x"] * 2, "who": ["A", "B"], "q": [60.0, 30.0]})
    >>> rest = pd.DataFrame({"m": ["x"], "q": [10.0]})
    >>> float(concentration(frame, ["m"], "who", "q", unlisted=rest).iloc[0]["top_share"])
    0.6
    """
    data = frame.loc[(frame[qty] > 0).to_numpy(), [*by, who, qty]]
    entities = Groups(data, [*by, who])
    if entities.n < len(data):  # an entity on several rows: its rows summed first
        data = entities.keys().assign(**{qty: entities.sum(data[qty])})
    groups = Groups(data, by)
    extra = None
    if unlisted is not None and not unlisted.empty:
        keys = groups.keys()
        rest = unlisted.groupby(by, as_index=False, observed=True)[qty].sum()
        for col in by:  # merge on plain values whatever the dtypes
            keys[col] = keys[col].astype(str)
            rest[col] = rest[col].astype(str)
        extra = keys.merge(rest, on=by, how="left")[qty].fillna(0.0).to_numpy(np.float64)
    stats = group_concentration(groups, data[who], data[qty].to_numpy(np.float64), named,
                                extra)
    return pd.concat([groups.keys(), stats], axis=1)


def group_concentration(groups: Groups, who: pd.Series, qty: np.ndarray,
                        named: str = CHINA, extra: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`concentration` per group of ``groups``, whose rows hold one entity ``who``
    each, in the order of the groups (NaN statistics and ``n`` 0 for a group with no
    positive quantity; ``extra``: an unlisted quantity per group, added to its total)."""
    positive = qty > 0
    q = np.where(positive, qty, 0.0)
    total = groups.sum(q)
    if extra is not None:
        total = total + np.where(total > 0, extra, 0.0)
    valid = total > 0
    share = q / np.where(valid, total, np.nan)[groups.ids]
    rank = order_codes(who)
    names = _ordered_values(who)
    named_code = names.get_indexer(pd.Index([named]))[0] if len(names) else -1  # -1: absent
    # the three largest shares, each taken out in turn (the first by name among equals)
    left = positive & valid[groups.ids]
    top3 = np.zeros(groups.n)
    for k in range(3):
        best = groups.max(share, left)
        at_best = left & (share == best[groups.ids])
        pick = groups.min(rank, at_best)
        taken = at_best & (rank == pick[groups.ids])
        if k == 0:
            top_rank, top_share = np.where(valid, pick, -1), best
        top3 += np.where(np.isfinite(best), best, 0.0)
        left &= ~taken
    top: Any = (pd.Categorical.from_codes(top_rank, dtype=who.dtype)
                if isinstance(who.dtype, pd.CategoricalDtype)
                else names.take(top_rank, allow_fill=True, fill_value=None))
    nan = np.float64(np.nan)
    return pd.DataFrame({
        "total": total, "n": groups.count(positive),
        "hhi": np.where(valid, groups.sum(share * share), nan),
        "top3_share": np.where(valid, top3, nan),
        "named_share": np.where(valid, groups.sum(np.where(rank == named_code, share, 0.0)),
                                nan),
        "top": top, "top_share": np.where(valid, top_share, nan),
    })


def _ordered_values(column: pd.Series) -> pd.Index:
    """The values :func:`order_codes` numbers, in the order of their codes."""
    values: pd.Index = (pd.Index(column.cat.categories)
                        if isinstance(column.dtype, pd.CategoricalDtype)
                        else pd.Index(pd.factorize(column, sort=True)[1]))
    return values
