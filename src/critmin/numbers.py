"""How numbers are written for people, in one place: the terminal tables, the summary lines
of the what-ifs and the number formats of Excel workbooks follow these rules. Files for
scripts (CSV, TSV, JSON, Parquet) keep the raw numbers.

- Shares are per cent with one decimal and a space before the sign: ``85.8 %`` (``<0.1 %``
  for a positive share that would round to zero).
- Tonnes have thousands separators and fewer decimals the larger they are, never scientific
  notation: ``12,345``, ``96.5``, ``0.42``, and ``<0.01`` below a hundredth of a tonne.
- Other figures (scores, indices, rates) keep three significant digits without scientific
  notation: ``0.0123``, ``0.320``, ``12,346``; whole numbers stay whole (``3``).
- In sentences a figure carries its unit: ``965 t``, ``85.8 %``.

>>> share(0.858), share(4e-06), share(None), change(0.123), change(-0.05)
('85.8 %', '<0.1 %', '–', '+12.3 %', '-5.0 %')
>>> tonnes(12345.6), tonnes(96.46), tonnes(0.4237), tonnes(4e-06), tonnes(0.0)
('12,346 t', '96.5 t', '0.42 t', '<0.01 t', '0 t')
>>> fmt(4e-06, "t (basis)"), fmt(0.858, "share"), fmt(0.0001234, "0-1"), fmt(2023, "")
('<0.01', '85.8 %', '0.000123', '2023')
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

MISSING = "–"
"""What a missing value is written as."""

SHARE_DECIMALS = 1
"""Decimals of a share written as per cent."""

PERCENT = " %"
"""What follows a per cent figure (a space, then the sign), in text and in Excel alike."""

TONNES_FLOOR = 0.01
"""Tonnes below this (and above zero) are written ``<0.01``."""

SIGNIFICANT = 3
"""Significant digits of figures that are neither shares nor tonnes."""

SMALLEST = 1e-6
"""Figures closer to zero than this (other than zero) are written ``<0.000001``."""

TONNE_UNITS = ("t", "t (basis)", "t (gross)")
"""Units written as tonnes (thousands separators, ``<0.01``)."""

AMOUNT_UNITS = ("kusd", "usd", "count", "years")
"""Units written as amounts with thousands separators."""


def is_share(unit: str) -> bool:
    """Whether ``unit`` is a share (a fraction written as per cent)."""
    return unit.strip().lower() == "share"


def is_tonnes(unit: str) -> bool:
    """Whether ``unit`` is tonnes (gross, on a basis, or plain)."""
    unit = unit.strip().lower()
    return unit in TONNE_UNITS or unit.startswith("t (")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, Real) and not isinstance(value, Integral) and math.isnan(
        float(value))


def share(value: Any) -> str:
    """A fraction as per cent with one decimal: ``0.858`` -> ``85.8 %``."""
    if _missing(value):
        return MISSING
    pct = float(value) * 100
    if 0 < abs(pct) < 0.5 * 10 ** -SHARE_DECIMALS:
        return ("<" if pct > 0 else ">-") + f"{10 ** -SHARE_DECIMALS:.{SHARE_DECIMALS}f}" + PERCENT
    text = f"{pct:,.{SHARE_DECIMALS}f}"
    return (text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0
            else text) + PERCENT


def change(value: Any) -> str:
    """A change as a signed share: ``0.123`` -> ``+12.3 %``, ``-0.05`` -> ``-5.0 %``."""
    text = share(value)
    if text == MISSING or text.startswith(("-", "<", ">")) or float(value) == 0:
        return text
    return "+" + text


def _tonnes(value: float) -> str:
    size = abs(value)
    if size == 0:
        return "0"
    if size < TONNES_FLOOR:
        return ("<" if value > 0 else ">-") + f"{TONNES_FLOOR:g}"
    decimals = 0 if size >= 100 else 1 if size >= 1 else 2
    return f"{value:,.{decimals}f}"


def tonnes(value: Any, unit: str = "t") -> str:
    """Tonnes for a sentence, with their unit: ``965.4`` -> ``965 t``."""
    return MISSING if _missing(value) else f"{_tonnes(float(value))} {unit}".rstrip()


def number(value: Any) -> str:
    """A figure that is neither a share nor tonnes: three significant digits, thousands
    separators, never scientific notation (``0.0123``, ``0.320``, ``12,346``)."""
    if _missing(value):
        return MISSING
    if isinstance(value, Integral) and not isinstance(value, bool):
        return f"{int(value):,}"
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    size = abs(value)
    if size == 0:
        return "0"
    if size < SMALLEST:
        return ("<" if value > 0 else ">-") + f"{SMALLEST:.6f}"
    if size >= 10 ** (SIGNIFICANT - 1):
        return f"{value:,.0f}"
    value = float(f"{value:.{SIGNIFICANT}g}")  # 99.95 -> 100, not 100.0
    if value == round(value):
        return f"{value:,.0f}"
    decimals = SIGNIFICANT - 1 - math.floor(math.log10(abs(value)))
    return f"{value:.{decimals}f}"


def fmt(value: Any, unit: str = "") -> str:
    """One table cell for people: the figure without its unit (the column's heading carries
    it), by the rules of this module; integers without a unit (years, ranks) as they are."""
    if _missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if not isinstance(value, Real):
        return str(value)
    if is_share(unit):
        return share(value)
    if is_tonnes(unit):
        return _tonnes(float(value))
    if isinstance(value, Integral) and unit.strip().lower() not in AMOUNT_UNITS:
        return str(int(value))
    return number(value)


def with_unit(value: Any, unit: str) -> str:
    """A figure for a sentence, with its unit (``965 t``, ``85.8 %``, ``0.25 0-1``…)."""
    if is_share(unit):
        return share(value)
    if is_tonnes(unit):
        return tonnes(value, "t")
    text = fmt(value, unit)
    return text if text == MISSING or not unit else f"{text} {unit}"


def excel_format(unit: str, values: pd.Series) -> str | None:
    """The Excel number format of a numeric column of ``unit`` (None: Excel's own), by the
    same rules: shares as per cent with one decimal, tonnes and amounts with thousands
    separators, indices with three decimals. The cells keep the full values.

    >>> excel_format("share", pd.Series([0.5]))
    '0.0 %'
    >>> excel_format("t (basis)", pd.Series([73.98300000000002, 12000.0]))
    '#,##0'
    """
    unit = unit.strip().lower()
    if is_share(unit):
        return "0." + "0" * SHARE_DECIMALS + PERCENT
    if unit == "0-1" or unit.startswith("index"):
        return "0.000"
    if unit in ("count", "years", "per year") and values.dtype.kind in "iu":
        return "#,##0"
    if unit.startswith("usd/"):  # prices
        return "#,##0.00"
    if " per " in unit or "/" in unit:  # ratios (content and impact factors): Excel's own
        return None
    if is_tonnes(unit) or unit in ("usd", "kusd", "count", "years", "per year"):
        size = values.abs().median()
        return "#,##0" if pd.isna(size) or size >= 100 else "#,##0.0"
    return None
