"""Values of the what-if results, written for people (summaries) and for JSON."""

from __future__ import annotations

from typing import Any

import numpy as np


def format_tonnes(value: float) -> str:
    """Tonnes with thousands separators; two significant digits below 100."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2g}"


def format_share(value: float | None) -> str:
    """A share as a percentage with one decimal; a dash for none."""
    return "–" if value is None or not np.isfinite(value) else f"{value:.1%}"


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
