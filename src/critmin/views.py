"""Views of long tables: one measure pivoted wide, one column per year or per country.

>>> rows = pd.DataFrame({"year": [2023, 2024, 2023, 2024], "country": ["IND"] * 4,
...                      "mineral": ["graphite", "graphite", "lithium", "lithium"],
...                      "china_share": [0.51, 0.17, 0.3, 0.4]})
>>> pivot(rows, "year", "china_share")
    country   mineral  2023  2024
0     IND  graphite  0.51  0.17
1     IND   lithium  0.30  0.40
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from critmin import checks
from critmin.errors import InvalidInput, nearest

IDENTITY = ("year", "country", "mineral", "stage", "group")
"""Columns that identify a row of a long table (those present), in the order a pivot keeps."""

PIVOTS = ("year", "country", "mineral", "group")
"""What a table can be pivoted by."""

BREAK_MARK = "¦"
"""What the terminal shows after a pivot cell whose series breaks there."""


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` that hold numbers (a measure can be one of them)."""
    return [c for c in frame.columns if c not in IDENTITY and frame[c].dtype.kind in "fiu"]


def pivot(frame: pd.DataFrame, by: str, measure: str,
          keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Long rows turned wide: one column per value of ``by`` holding ``measure``, one row per
    value of the other identity columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long rows, one per (year, country, mineral[, stage]) as :func:`critmin.risk`,
        :func:`critmin.stages` and the multi-year profile give them.
    by : str
        ``year``, ``country`` or ``mineral``: what becomes the columns.
    measure : str
        A numeric column of ``frame`` (``china_share``, ``import_reliance``, ``score``…).
    keys : list of str, optional
        The identity columns (default: those of :data:`IDENTITY` in ``frame``).

    Returns
    -------
    pandas.DataFrame
        The remaining identity columns, then one column per value of ``by`` (named as text,
        in order). ``attrs["units"]`` gives each new column the measure's unit;
        ``attrs["pivot"]`` holds ``by`` and ``measure``. Where ``frame`` has a
        ``series_break`` column (:func:`critmin.series.with_breaks`), ``attrs["breaks"]``
        lists each break as (row position, column, text), and a ``series_break`` column
        names them per row ("2024: …").

    Examples
    --------
    >>> import critmin
    >>> rows = critmin.risk("IND", ["graphite", "lithium"], [2022, 2023])
    >>> wide = pivot(rows, "year", "china_share")
    >>> list(wide.columns), wide.attrs["units"]["2023"]
    (['country', 'mineral', '2022', '2023'], 'share')
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"frame must be a table of long rows, not {checks.shown(frame)}")
    by = checks.as_choice(by, "pivot", [p for p in PIVOTS if p in frame.columns] or PIVOTS)
    measure = checks.as_name(measure, "measure")
    numbers = numeric_columns(frame)
    if measure not in numbers:
        what = "not numeric" if measure in frame.columns else "not a column of this table"
        raise InvalidInput(f"measure {measure!r} is {what}; a numeric column is needed",
                           suggestions=nearest(measure, numbers) or numbers[:5])
    identity = list(checks.as_names(keys, "keys") or [c for c in IDENTITY if c in frame])
    if by not in identity:
        identity.append(by)
    rows = [c for c in identity if c != by]
    doubled = frame.duplicated(identity)
    if doubled.any():
        first = frame.loc[doubled, identity].iloc[0].tolist()
        raise InvalidInput(f"the table has several rows of {dict(zip(identity, first, strict=True))}; "
                           f"give the identity columns (keys) that tell them apart")
    labels = frame[by].astype(str)
    order = list(dict.fromkeys(labels.loc[frame[by].sort_values(kind="stable").index]))
    if not rows:
        raise InvalidInput(f"nothing is left to name the rows once {by!r} becomes the columns")
    wide = frame.assign(_column=labels).pivot(index=rows, columns="_column", values=measure)
    wide = wide.reindex(columns=order).reset_index()
    wide.columns.name = None
    unit = frame.attrs.get("units", {}).get(measure, "")
    wide.attrs = {"units": {c: unit for c in order} if unit else {},
                  "pivot": {"by": by, "measure": measure,
                            # the terminal leaves out the oldest years first, else the last
                            "drop_order": order if by == "year" else order[::-1]},
                  "breaks": []}
    if "series_break" in frame.columns:
        _mark_breaks(frame, wide, rows, by, labels)
    return wide


def _mark_breaks(frame: pd.DataFrame, wide: pd.DataFrame, rows: list[str], by: str,
                 labels: pd.Series) -> None:
    """Record the long rows' series breaks on the wide table: ``attrs["breaks"]`` and a
    ``series_break`` column (plus ``controls_since`` where the long rows have it)."""
    position = pd.Series(range(len(wide)), index=pd.MultiIndex.from_frame(wide[rows])
                         if len(rows) > 1 else pd.Index(wide[rows[0]]))
    extra = [c for c in ("series_break", "controls_since") if c in frame.columns]
    for column in extra:
        text = frame[column].astype("string").fillna("")
        hit = frame[text != ""]
        keys = (list(hit[rows].itertuples(index=False, name=None)) if len(rows) > 1
                else hit[rows[0]].tolist())
        spots = position.loc[keys].to_numpy() if keys else np.array([], dtype="int64")
        notes = (labels.loc[hit.index] + ": " + text.loc[hit.index]).to_numpy()
        if column == "series_break":
            wide.attrs["breaks"] = [(int(p), str(c), str(t)) for p, c, t in zip(
                spots, labels.loc[hit.index], text.loc[hit.index], strict=True)]
        joined = pd.Series(notes, index=spots, dtype="string").groupby(level=0).agg("; ".join)
        wide[column] = pd.Series("", index=wide.index, dtype="string")
        wide.loc[joined.index, column] = joined.to_numpy()
    if by != "year":  # a break is about one year to the next: said per row, not per cell
        wide.attrs["breaks"] = []
