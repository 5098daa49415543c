"""Argument checks at the Python API's boundary: convert what is meant, refuse the rest.

Every public function runs its arguments through these, so a numpy integer works like an
int, a single name like a list of one, and a wrong type gets critmin's own error naming the
argument, the value and what is expected, never a TypeError from deep inside pandas or
DuckDB. Numbers must be numbers: text such as ``"2022"`` is refused, not guessed at (the
command line and the REST API parse their text into numbers before calling). Names must be
visible: a zero-width or bidirectional control character is refused and shown.

>>> import numpy as np
>>> as_year(np.int64(2022)), as_names("India", "countries"), as_int(3.0, "top", minimum=1)
(2022, ['India'], 3)
>>> as_year("2022")
Traceback (most recent call last):
critmin.errors.InvalidInput: year must be an integer, not the text '2022'
>>> as_name("In\u200bdia", "country")
Traceback (most recent call last):
critmin.errors.InvalidInput: country 'In\\u200bdia' contains U+200B ZERO WIDTH SPACE at position 2 (after 'In'), an invisible character; type it without it
"""

from __future__ import annotations

import math
import numbers
import os
import unicodedata
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from critmin.errors import InvalidInput

YEAR_MIN = 1950
"""Earliest year critmin accepts in data or queries (before any source critmin reads)."""


def year_max() -> int:
    """Latest year critmin accepts: the current calendar year (data cannot be from the future)."""
    return date.today().year


def shown(value: Any) -> str:
    """``value`` as an error message shows it: text said to be text (so that ``'2022'`` is
    not read as a number), long values cut."""
    if isinstance(value, str):
        text = f"the text {visible_repr(value)}"
    elif isinstance(value, bool) or value is None:
        text = repr(value)
    else:
        text = f"{type(value).__name__} {value!r}"
    return text if len(text) <= 80 else text[:77] + "..."


def _integer(value: Any, what: str) -> int:
    if not isinstance(value, bool) and isinstance(value, numbers.Integral):
        return int(value)
    if (not isinstance(value, bool) and isinstance(value, numbers.Real)
            and math.isfinite(float(value)) and float(value).is_integer()):
        return int(float(value))
    raise InvalidInput(f"{what} must be an integer, not {shown(value)}")


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
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(f"{what} must be a number, not {shown(value)}")
    number = float(value)
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


def as_bool(value: Any, what: str) -> bool:
    """``value`` if it is True or False (a numpy bool too); 0, 1 or text are refused."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise InvalidInput(f"{what} must be True or False, not {shown(value)}")


def as_path(value: Any, what: str) -> Path:
    """A file path given as text or a path object."""
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        path = Path(value)
        if str(path).strip():
            return path
    raise InvalidInput(f"{what} must be a file path, not {shown(value)}")


def as_choice(value: Any, what: str, choices: Iterable[str]) -> str:
    """One of ``choices`` (exactly), with the nearest ones suggested otherwise."""
    from critmin.errors import nearest

    options = list(choices)
    if isinstance(value, str) and value in options:
        return value
    near = nearest(value, options) if isinstance(value, str) else []
    raise InvalidInput(f"{what} must be one of {', '.join(map(repr, options))}, not "
                       f"{shown(value)}", suggestions=near)


def as_mapping(value: Any, what: str) -> dict[Any, Any]:
    """None (empty) or a mapping, as a dict."""
    from collections.abc import Mapping

    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    raise InvalidInput(f"{what} must be a mapping of names to values, not {shown(value)}")


def as_callable(value: Any, what: str) -> Any:
    """None or a function (a callback)."""
    if value is None or callable(value):
        return value
    raise InvalidInput(f"{what} must be a function or None, not {shown(value)}")


def as_paths(values: Any, what: str) -> list[Path]:
    """A list of file paths (one path alone is a list of one)."""
    if isinstance(values, str | os.PathLike):
        return [as_path(values, what)]
    if isinstance(values, bytes | dict) or not isinstance(values, Iterable):
        raise InvalidInput(f"{what} must be a list of file paths, not {shown(values)}")
    return [as_path(v, what) for v in values]


INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
"""Unicode categories of characters that show as nothing, or move the text around them:
controls, format characters (zero-width spaces and joiners, bidirectional controls, the
byte order mark), private-use, surrogate and unassigned code points, line separators."""


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in INVISIBLE


def visible_repr(text: str) -> str:
    """``text`` quoted, with every invisible character written as its code (``\\u200b``)."""
    return "'" + "".join(_code(c) if _invisible(c) else c for c in text) + "'"


def _code(char: str) -> str:
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"


def visible(text: str, what: str) -> str:
    """``text`` if it holds no invisible character; otherwise InvalidInput naming the first
    one, its code and its position (counted from 0).

    >>> visible("Côte d'Ivoire", "country")
    "Côte d'Ivoire"
    """
    for position, char in enumerate(text):
        if _invisible(char):
            name = unicodedata.name(char, "") or (
                "a control character" if unicodedata.category(char) == "Cc" else
                f"an unnamed character of category {unicodedata.category(char)}")
            before = f" (after {text[:position][-12:]!r})" if position else " (first)"
            raise InvalidInput(
                f"{what} {visible_repr(text)} contains U+{ord(char):04X} {name} at position "
                f"{position}{before}, an invisible character; type it without it")
    return text


def as_name(value: Any, what: str) -> str:
    """One name or code as text (an integer code such as a BACI code is accepted), with no
    invisible character."""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        text = str(int(value))
    else:
        raise InvalidInput(f"{what} must be a name or code, not {shown(value)}")
    if not text:
        raise InvalidInput(f"{what} must not be empty")
    return visible(text, what)


def as_names(values: Any, what: str) -> list[str] | None:
    """None (no filter), one name, or an iterable of names, as a list of names."""
    if values is None:
        return None
    if isinstance(values, str | numbers.Integral) and not isinstance(values, bool):
        return [as_name(values, what)]
    if isinstance(values, bytes | dict) or not isinstance(values, Iterable):
        raise InvalidInput(f"{what} must be a name or a list of names, not {shown(values)}")
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
        raise InvalidInput(f"years must be a year or a list of years, not {shown(values)}")
    years = sorted({as_year(v) for v in values})
    if not years:
        raise InvalidInput("years is an empty list; give at least one, or None for all")
    return years
