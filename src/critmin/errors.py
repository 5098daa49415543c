"""One exception hierarchy for critmin.

Every error a user can cause is a :class:`CritminError`; the CLI turns it into one line
on stderr and exit code 2, the API into one JSON error shape.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class CritminError(Exception):
    """Base class of every error critmin raises on purpose."""

    code = "critmin_error"

    def __init__(self, message: str, *, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = list(suggestions)

    def __str__(self) -> str:
        if not self.suggestions:
            return self.message
        return f"{self.message}; did you mean {_or_list(self.suggestions)}?"

    def to_dict(self) -> dict[str, object]:
        """The JSON error shape shared by the CLI (``--json``) and the REST API."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "suggestions": self.suggestions,
            }
        }


class InvalidInput(CritminError):
    """A value given by the user is not acceptable (bad year, bad option, bad file)."""

    code = "invalid_input"


class NotFound(InvalidInput):
    """A name (country, mineral, table, HS code) does not resolve to anything known."""

    code = "not_found"


class DataError(CritminError):
    """The data on disk is missing, corrupt or cannot be parsed."""

    code = "data_error"


def _or_list(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def nearest(value: str, choices: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The choices closest to ``value`` (case-insensitive), best first.

    >>> nearest("Inida", ["India", "Indonesia", "Chile"])
    ['India']
    """
    by_key: dict[str, str] = {}
    for choice in choices:
        by_key.setdefault(choice.casefold(), choice)
    keys = difflib.get_close_matches(value.casefold(), list(by_key), n=n, cutoff=cutoff)
    return [by_key[k] for k in keys]
