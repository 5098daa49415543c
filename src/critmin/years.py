"""Which years the data covers, which is the default, and which is incomplete: in one place.

The newest trade year of a BACI release lacks late reporters; it is flagged incomplete when
it has clearly fewer rows than the year before, and the default year is then the latest
production year before it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from critmin.checks import YEAR_MIN, as_year, year_max
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


YEAR_SPEC_HELP = "a year (2023), a range (2019-2024 or 2019:2024) or a list (2015,2019-2021)"
"""What a year option accepts, as error messages say it."""


def parse_year_spec(text: Any) -> list[int]:
    """The years a year option means, sorted and without repeats: one year, a range
    (``2019-2024`` or ``2019:2024``, both ends included), a comma-separated list, or a mix;
    a number or a list of numbers and texts works too. Nothing is checked against the data
    (see :func:`parse_years`) but that each is a year critmin can hold.

    >>> parse_year_spec("2015,2019-2021"), parse_year_spec("2019:2020"), parse_year_spec(2023)
    ([2015, 2019, 2020, 2021], [2019, 2020], [2023])
    >>> parse_year_spec("2024-2019")
    Traceback (most recent call last):
    critmin.errors.InvalidInput: year range '2024-2019' runs backwards; write 2019-2024
    """
    if isinstance(text, list | tuple):
        if not text:
            raise InvalidInput(f"no year given; give {YEAR_SPEC_HELP}")
        return sorted({y for item in text for y in parse_year_spec(item)})
    if not isinstance(text, str):
        return [as_year(text)]
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise InvalidInput(f"year {text!r} has an empty item; give {YEAR_SPEC_HELP}")
    years: set[int] = set()
    for item in items:
        ends = item.replace(":", "-").split("-")
        if len(ends) > 2 or not all(e.strip().isascii() and e.strip().isdigit() for e in ends):
            raise InvalidInput(f"cannot read year {item!r}"
                               + (f" in {text!r}" if item != text.strip() else "")
                               + f"; give {YEAR_SPEC_HELP}")
        first, last = int(ends[0]), int(ends[-1])
        if last < first:
            raise InvalidInput(f"year range {item!r} runs backwards; write {last}-{first}")
        lowest, highest = YEAR_MIN, year_max()
        outside = [y for y in (first, last) if not lowest <= y <= highest]
        if outside:
            raise InvalidInput(f"year {item!r}: {outside[0]} is outside {lowest}-{highest}")
        years.update(range(first, last + 1))
    return sorted(years)


def _spans(years: list[int]) -> str:
    """Years as runs: ``[1990, 1991, 1992, 2030]`` -> ``"1990-1992, 2030"``."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def parse_years(text: Any, store: Store) -> list[int]:
    """:func:`parse_year_spec`, each year checked against the years with data; an error
    names the offending value and the years the data has.

    >>> from critmin.store import get_store
    >>> parse_years("2022-2023", get_store())
    [2022, 2023]
    >>> parse_years("1990-1996", get_store())
    Traceback (most recent call last):
    critmin.errors.InvalidInput: year '1990-1996': no data for 1990-1994; years with data: 1995-2025
    """
    known = data_years(store)
    try:
        years = parse_year_spec(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{exc}; years with data: {known[0]}-{known[-1]}") from None
    missing = [y for y in years if y not in known]
    if missing:
        raise InvalidInput(f"year {_given(text)}: no data for {_spans(missing)}; years with "
                           f"data: {known[0]}-{known[-1]}")
    return years


def _given(text: Any) -> str:
    return repr(",".join(map(str, text)) if isinstance(text, list | tuple) else str(text))


def one_year(text: Any, command: str) -> int:
    """The single year of a year option, for a command that runs on one year: a range or
    list is refused, naming the command and what to do instead.

    >>> one_year("2023", "restrict")
    2023
    >>> one_year("2019-2021", "restrict")
    Traceback (most recent call last):
    critmin.errors.InvalidInput: restrict runs on one year, and year '2019-2021' gives 3 (2019-2021); run it once per year (risk, stages, profile and compare take several)
    """
    years = parse_year_spec(text)
    if len(years) > 1:
        raise InvalidInput(f"{command} runs on one year, and year {_given(text)} gives "
                           f"{len(years)} ({_spans(years)}); run it once per year (risk, stages, "
                           "profile and compare take several)")
    return years[0]
