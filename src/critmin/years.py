"""Which years the data covers, which is the default, and which is incomplete: in one place.

The newest trade year of a BACI release lacks late reporters; it is flagged incomplete when
it has clearly fewer rows than the year before, and the default year is then the latest
production year before it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from critmin.checks import as_year
from critmin.errors import InvalidInput
from critmin.store import Store

INCOMPLETE_YEAR_RATIO = 0.95
"""The latest trade year is flagged incomplete when it has fewer rows than this share of the
year before (BACI's newest year lacks late reporters)."""


def latest_incomplete_year(rows_by_year: pd.Series) -> int | None:
    """The newest year if it has clearly fewer rows than the year before.

    >>> latest_incomplete_year(pd.Series({2022: 100, 2023: 94}))
    2023
    >>> latest_incomplete_year(pd.Series({2022: 100, 2023: 95})) is None
    True
    """
    counts = rows_by_year.sort_index()
    if len(counts) < 2:
        return None
    if counts.iloc[-1] < INCOMPLETE_YEAR_RATIO * counts.iloc[-2]:
        return int(counts.index[-1])
    return None


def incomplete_year(store: Store) -> int | None:
    """The newest trade year if the source has it only in part: the snapshot's (decided at
    build time on its main release), unless an import replaced that year; for an imported
    newest year, the row-count rule on the data served."""
    counts = pd.Series(store.rows_by_year("flows"), dtype="int64")
    imported = {int(y) for y in store.user_manifest["tables"].get("flows", {}).get("years", {})}
    newest = int(counts.index.max())
    if newest in imported:
        return latest_incomplete_year(counts)
    flagged = store.manifest.get("incomplete_year")
    return int(flagged) if flagged is not None and int(flagged) not in imported else None


def data_years(store: Store) -> list[int]:
    """Years with trade or production data."""
    spans = [store.rows_by_year(t) for t in ("flows", "production")]
    years = [y for span in spans for y in span]
    return list(range(min(years), max(years) + 1))


def default_year(store: Store) -> int:
    """The latest year with both trade and production data, unless its trade is flagged
    incomplete (then the year before)."""
    both = sorted(set(store.rows_by_year("production")) & set(store.rows_by_year("flows")))
    last = both[-1]
    if incomplete_year(store) == last and len(both) > 1:
        last = both[-2]
    return int(last)


def describe_default(store: Store) -> str:
    """The default-year rule as said to the user, e.g. "2023: latest complete year; 2024
    incomplete"."""
    year, partial = default_year(store), incomplete_year(store)
    text = f"{year}: latest complete year"
    return text + (f"; {partial} incomplete" if partial else "")


def stage_year(store: Store, mineral: str, stage: str | None, year: Any
               ) -> tuple[int, str | None]:
    """The year to read ``mineral`` at ``stage`` (None: the headline stages) and a note when
    it is not the default year: ``year`` if given (checked); else the default year, unless
    the stage has trade but none that year, then the stage's latest year with trade.

    >>> from critmin.store import get_store
    >>> year, note = stage_year(get_store(), "rare-earths", "product", None)
    >>> year, note.split(" (")[0]
    (2024, '2024: the latest year with product-stage trade of rare-earths')
    """
    if year is not None or stage is None:
        return check_year(store, year), None
    from critmin import cache

    default = default_year(store)
    links = cache.load(store, "partners", minerals=[mineral])
    traded = sorted({int(y) for y in links.loc[(links["stage"] == stage)
                                               & (links["qty_basis_t"] > 0), "year"]})
    if not traded or default in traded:
        return default, None
    latest = traded[-1]
    partial = f"; {latest}'s trade is incomplete" if latest == incomplete_year(store) else ""
    return latest, (f"{latest}: the latest year with {stage}-stage trade of {mineral} "
                    f"(none in {default}{partial})")


def check_year(store: Store, year: Any) -> int:
    """``year`` if the data has it; the default year for None."""
    if year is None:
        return default_year(store)
    value = as_year(year)
    known = data_years(store)
    if value not in known:
        raise InvalidInput(f"no data for year {value}; years with data: {known[0]}-{known[-1]}")
    return value
