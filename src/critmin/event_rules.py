"""When a documented export-control event applies: pure rules on the ``events`` table, shared
by the scenarios (restrictions, supply-at-risk, the back-test) and the sourcing optimiser.

>>> import pandas as pd
>>> table = pd.DataFrame({"status": ["in force"], "status_date": [None],
...                       "announced": ["2024-08-15"], "effective": ["2024-09-15"],
...                       "ended": [None]})
>>> in_force_in(table, 2024).tolist(), in_force_in(table, 2023).tolist()
([True], [False])
"""

from __future__ import annotations

import pandas as pd


def never_in_force(table: pd.DataFrame) -> pd.Series:
    """Per event, whether it never took effect: only announced, or suspended before its
    effective date (or without one).

    Examples
    --------
    >>> table = pd.DataFrame({"status": ["suspended", "suspended", "announced", "in force"],
    ...                       "status_date": ["2025-11-07", "2025-11-09", "2026-01-05", None],
    ...                       "effective": ["2025-11-08", "2024-12-03", "2026-06-01", None]})
    >>> never_in_force(table).tolist()
    [True, False, True, False]
    """
    effective = table["effective"]
    before = effective.isna() | (table["status_date"].fillna("") < effective.fillna(""))
    return (table["status"] == "announced") | ((table["status"] == "suspended") & before)


def in_force_in(table: pd.DataFrame, year: int) -> pd.Series:
    """Per event, whether it applied at some point in ``year``: it took effect (its effective
    date, or its announcement where none is documented) by the year's end and had not ended by
    its start (``ended`` is the first day it no longer applied). An event that never took
    effect applies in no year.

    Examples
    --------
    >>> table = pd.DataFrame({"status": ["lifted", "suspended"],
    ...                       "status_date": ["2015-01-01", "2025-11-07"],
    ...                       "announced": ["2010-07-08", "2025-10-09"],
    ...                       "effective": ["2010-07-01", "2025-11-08"],
    ...                       "ended": ["2015-01-01", None]})
    >>> in_force_in(table, 2014).tolist(), in_force_in(table, 2015).tolist()
    ([True, False], [False, False])
    """
    start, end = f"{year:04d}-01-01", f"{year:04d}-12-31"
    began = table["effective"].fillna(table["announced"]).fillna("9999")
    ended = table["ended"].fillna("9999")
    return ~never_in_force(table) & (began <= end) & (ended > start)
