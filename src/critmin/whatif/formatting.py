"""Values of the what-if results, written for people (summaries) and for JSON."""

from __future__ import annotations

from typing import Any

import numpy as np

from critmin import numbers


def format_tonnes(value: float) -> str:
    """Tonnes without their unit, by :mod:`critmin.numbers`' rules (thousands separators,
    never scientific notation, ``<0.01`` below a hundredth)."""
    return numbers.fmt(value, "t")


def format_share(value: float | None) -> str:
    """A share as per cent with one decimal (``85.8 %``); a dash for none."""
    return numbers.share(value)


def json_float(value: float) -> float | None:
    """A float for JSON: None where it is not finite."""
    return float(value) if value is not None and np.isfinite(value) else None


def json_value(value: Any) -> Any:
    """A registry cell for JSON: arrays as lists, NaN as None."""
    if isinstance(value, np.ndarray):
        return list(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
