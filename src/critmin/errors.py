"""One exception hierarchy for critmin.

Every error a user can cause is a :class:`CritminError`. The CLI prints it as one line on
stderr with exit code 2; the REST API returns :meth:`CritminError.to_dict` as its one JSON
error shape.

>>> err = NotFound("unknown country 'Inida'", suggestions=["India (IND)"])
>>> str(err)
"unknown country 'Inida'; did you mean India (IND)?"
>>> err.to_dict()["error"]["code"]
'not_found'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


class CritminError(Exception):
    """Base class of every error critmin raises on purpose."""

    code = "critmin_error"

    def __init__(self, message: str, *, suggestions: Sequence[str] = (),
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = [str(s) for s in suggestions]
        self.details = dict(details or {})

    def __str__(self) -> str:
        if not self.suggestions:
            return self.message
        return f"{self.message}; did you mean {_or_list(self.suggestions)}?"

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape shared by the CLI and the REST API."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "suggestions": self.suggestions,
            }
        }


class InvalidInput(CritminError):
    """A value given by the user is not acceptable (bad year, bad option, bad file)."""

    code = "invalid_input"


class NotFound(InvalidInput):
    """A name (country, mineral, table, HS code) does not resolve to anything known."""

    code = "not_found"


class Ambiguous(InvalidInput):
    """A name matches several entities; the suggestions list the candidates."""

    code = "ambiguous"

    def __str__(self) -> str:
        return f"{self.message}; candidates: {', '.join(self.suggestions)}"


class DataError(CritminError):
    """The data on disk is missing, damaged or cannot be parsed."""

    code = "data_error"


class SolverError(CritminError):
    """The solver found no answer it can vouch for (it failed, or stopped at a limit before
    finding any mix that keeps the constraints)."""

    code = "solver_error"


class Busy(CritminError):
    """Another process holds the store's write lock for longer than we may wait."""

    code = "busy"


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
    keys = difflib.get_close_matches(str(value).casefold(), list(by_key), n=n, cutoff=cutoff)
    return [by_key[k] for k in keys]
