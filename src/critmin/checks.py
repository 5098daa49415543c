"""Argument checks at the Python API's boundary: convert what is meant, refuse the rest.

Every public function runs its arguments through these, so a numpy integer works like an
int, a single name like a list of one, and a wrong type gets critmin's own error naming the
argument and the value, never a TypeError from deep inside pandas or DuckDB.

>>> import numpy as np
>>> as_year(np.int64(2022)), as_names("India", "countries"), as_int("3", "top", minimum=1)
(2022, ['India'], 3)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from datetime import date
from typing import Any

from critmin.errors import InvalidInput

YEAR_MIN = 1950
"""Earliest year critmin accepts in data or queries (before any source critmin reads)."""


def year_max() -> int:
    """Latest year critmin accepts: the current calendar year (data cannot be from the future)."""
    return date.today().year


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"{what} must be an integer, not {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        return int(float(value))
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise InvalidInput(f"{what} must be an integer, not {value!r}")


def as_int(value: Any, what: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int within [minimum, maximum]."""
    number = _integer(value, what)
    if minimum is not None and number < minimum:
        raise InvalidInput(f"{what} must be at least {minimum}, not {number}")
    if maximum is not None and number > maximum:
        raise InvalidInput(f"{what} must be at most {maximum}, not {number}")
    return number


def as_year(value: Any, what: str = "year") -> int:
    """A year within critmin's accepted range."""
    return as_int(value, what, YEAR_MIN, year_max())


def as_float(value: Any, what: str, minimum: float | None = None,
             maximum: float | None = None) -> float:
    """``value`` as a finite float within [minimum, maximum]."""
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"{what} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{what} must be a finite number, not {value!r}")
    if minimum is not None and number < minimum:
        raise InvalidInput(f"{what} must be at least {minimum:g}, not {number:g}")
    if maximum is not None and number > maximum:
        raise InvalidInput(f"{what} must be at most {maximum:g}, not {number:g}")
    return number


def as_fraction(value: Any, what: str) -> float:
    """A number in [0, 1]."""
    return as_float(value, what, 0.0, 1.0)


def as_name(value: Any, what: str) -> str:
    """One name or code as text (an integer code such as a BACI code is accepted)."""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        text = str(int(value))
    else:
        raise InvalidInput(f"{what} must be a name or code, not {value!r}")
    if not text:
        raise InvalidInput(f"{what} must not be empty")
    return text


def as_names(values: Any, what: str) -> list[str] | None:
    """None (no filter), one name, or an iterable of names, as a list of names."""
    if values is None:
        return None
    if isinstance(values, str | numbers.Integral) and not isinstance(values, bool):
        return [as_name(values, what)]
    if isinstance(values, bytes | dict) or not isinstance(values, Iterable):
        raise InvalidInput(f"{what} must be a name or a list of names, not {values!r}")
    names = [as_name(v, what) for v in values]
    if not names:
        raise InvalidInput(f"{what} is an empty list; give at least one, or None for all")
    return names


def as_years(values: Any) -> list[int] | None:
    """None (all years), one year, or an iterable of years."""
    if values is None:
        return None
    if isinstance(values, str | numbers.Number):
        return [as_year(values)]
    if isinstance(values, bytes | dict) or not isinstance(values, Iterable):
        raise InvalidInput(f"years must be a year or a list of years, not {values!r}")
    years = sorted({as_year(v) for v in values})
    if not years:
        raise InvalidInput("years is an empty list; give at least one, or None for all")
    return years
