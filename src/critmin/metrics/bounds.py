"""Net import reliance as an interval, from trade data that lists only the largest flows.

Where the bundled six-digit trade lacks a refined metal (unwrought zinc, tin and lead have no
rows; refined nickel and copper cathodes only 2022 and 2024), the HS 2022 top-200 extract
(``heading_flows``, ``heading_totals``, :mod:`critmin.sources.baci_hs22_top`) still tells a
lot: a country's imports of a heading are at least its listed flows, and at most those plus
the heading's remainder (world tonnes less the listed flows' tonnes), since every unlisted
flow fits in it. Exports likewise. Each heading also mixes refined metal with alloys, so a
tonne carries between ``content_low`` and ``content_high`` tonnes of the mineral
(``heading_contents``: the leanest alloy the heading admits, and the pure metal).

From these, per (year, country, mineral, stage), in tonnes of the mineral's basis:

- ``imports_low_t`` = listed imports x content_low; ``imports_high_t`` = (listed imports +
  remainder) x content_high; ``exports_low_t`` and ``exports_high_t`` the same for exports
  (summed over the headings of the mineral and stage);
- the net import reliance R = (M - X) / (P + M - X) of :mod:`critmin.metrics.cube`
  (DESIGN.md: NIR = (M - X) / A with A = P + M - X), with P the production at the stage. R
  rises with M and falls with X wherever A > 0 (dR/dM = P/A², dR/dX = -P/A²), so its least
  value is at (imports_low, exports_high) and its greatest at (imports_high, exports_low):
  ``reliance_low`` and ``reliance_high``. Both corners are attainable together: a country's
  unlisted imports and unlisted exports are different pairs, so one remainder cannot be
  spent twice, and each corner gives the whole of it to one side only.

The interval is read as: whatever the unlisted flows and whatever the mix of refined metal
and alloys, the country's reliance lies in [reliance_low, reliance_high]. It is treated like
the cube's reliance, not clipped: a negative value means net exporter, it is withheld where
apparent supply is not positive. When supply at the low corner is not positive (the country
might export more than it has), the lower end is missing (unbounded: "≤ 31 %"); when even
the high corner's supply is not positive, both are. An interval narrower than
:data:`NARROW` (10 points) is shown as its midpoint, a wider one as its ends
(:func:`reliance_label`): the figure is then the honest one, "22-31 %", not "27 %".

What the interval does not cover: trade with the countries the extract leaves out (France,
Norway, Singapore, Hong Kong, Bahrain… pass them as ``absent``: their own rows are withheld,
and every other country's bound holds for its trade with the countries the extract covers);
recycled (secondary) production, when the production figure is primary; and stocks. Heading
7202 (ferro-alloys) has no content row: it holds ferro-manganese, -silicon, -chromium,
-nickel, -molybdenum, -tungsten, -vanadium, -niobium… together, so a tonne may hold none of
any one mineral and no share of the heading can be given to one without its six-digit split.

How to use: ``reliance_bounds(heading_flows, heading_totals, heading_contents,
production)`` with the stored tables and a production table of one source per (year,
country, mineral, stage), at the headings' stage (refined); pass the extract's absent
countries. The result's ``reliance_label`` is the figure to show.

>>> flows = pd.DataFrame({"year": 2023, "exporter": ["CAN", "CHN"], "importer": ["USA", "USA"],
...                       "heading": "7901", "qty_t": [500.0, 100.0]})
>>> totals = pd.DataFrame({"year": [2023], "heading": ["7901"], "qty_t": [700.0],
...                        "listed_qty_t": [600.0]})
>>> contents = pd.DataFrame({"heading": ["7901"], "mineral": ["zinc"], "stage": ["refined"],
...                          "content_low": [0.9], "content_high": [1.0]})
>>> production = pd.DataFrame({"year": [2023], "country": ["USA"], "mineral": ["zinc"],
...                            "stage": ["refined"], "qty_t": [200.0]})
>>> out = reliance_bounds(flows, totals, contents, production).set_index("country")
>>> trade = ["imports_low_t", "imports_high_t", "exports_low_t", "exports_high_t"]
>>> out.loc["USA", trade].tolist()
[540.0, 700.0, 0.0, 100.0]
>>> out.loc["USA", ["reliance_low", "reliance_high"]].astype(float).round(4).tolist()
[0.6875, 0.7778]
>>> out.loc["USA", "reliance_label"], out.loc["CAN", "interval_status"]
('73 %', 'no production data')
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from critmin import schema
from critmin.errors import InvalidInput

NARROW = 0.10
"""Width under which an interval is shown as its midpoint ("27 %"): ten percentage points.
Wider, the ends are shown ("22-31 %"): a single number would claim a precision the data do
not have."""

UNIT_VALUE_RANGE = 10.0
"""A listed flow with no quantity (or one the reader found implausible) holds at most its
value at a tenth of its heading-year median unit value: the plausibility range of
:data:`critmin.sources.baci_hs22_top.UNIT_VALUE_RANGE`."""

ROUNDING = 1e-9
"""Relative slack under which an apparent supply counts as zero, as the cube's
(:data:`critmin.metrics.cube.ROUNDING`)."""

KEY = ["year", "country", "mineral", "stage"]

STATUSES = {
    "absent": "not in the trade extract",
    "no_production": "no production data",
    "unknown_end": "trade bound missing",
    "exceed": "exports exceed supply",
    "may_exceed": "exports may exceed supply",
    "balanced": "balanced",
    "exporter": "net exporter",
    "importer_only": "net importer (no domestic production)",
    "importer": "net importer",
    "either": "net importer or exporter",
}
"""What an interval means, or why an end is missing (``interval_status``), in the order they
are tested."""


def _require(frame: pd.DataFrame, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{name} lacks column(s) {missing}; it has {list(frame.columns)}")


def _contents(heading_contents: pd.DataFrame) -> pd.DataFrame:
    """The content rows that name a mineral, checked."""
    _require(heading_contents, "heading_contents",
             ["heading", "mineral", "stage", "content_low", "content_high"])
    rows = heading_contents[heading_contents["mineral"].fillna("") != ""]
    bad = rows[~(rows["content_low"] >= 0) | ~(rows["content_high"] >= rows["content_low"])]
    if len(bad):
        raise InvalidInput("heading_contents needs 0 <= content_low <= content_high; not so "
                           f"for {bad[['heading', 'mineral']].to_dict('records')}")
    twice = rows.duplicated(["heading", "mineral"])
    if twice.any():
        raise InvalidInput("heading_contents gives a heading and mineral twice: "
                           f"{rows.loc[twice, ['heading', 'mineral']].to_dict('records')}")
    return rows[["heading", "mineral", "stage", "content_low", "content_high"]]


def _production(production: pd.DataFrame) -> pd.DataFrame:
    _require(production, "production", [*KEY, "qty_t"])
    twice = production.duplicated(KEY, keep=False)
    if twice.any():
        first = " ".join(str(v) for v in production.loc[twice, KEY].iloc[0])
        raise InvalidInput(
            f"production has {int(twice.sum())} rows sharing a (year, country, mineral, "
            f"stage), e.g. {first}: keep one source per key (production_defaults says which)")
    return production[[*KEY, "qty_t"]].rename(columns={"qty_t": "production_t"})


def most_tonnes(heading_flows: pd.DataFrame,
                unit_value_range: float = UNIT_VALUE_RANGE) -> pd.Series:
    """The most tonnes each listed flow can hold: its quantity, or, where it has none, its
    value at a tenth (``1 / unit_value_range``) of the median unit value of its heading and
    year, the lowest unit value a plausible quantity has (missing without a value).

    >>> flows = pd.DataFrame({"year": 2024, "heading": "7901", "qty_t": [1000.0, None],
    ...                       "value_usd": [3e6, 6e6]})
    >>> most_tonnes(flows).tolist()
    [1000.0, 20000.0]
    """
    if "value_usd" not in heading_flows.columns:
        return heading_flows["qty_t"]
    usd_per_t = heading_flows["value_usd"] / heading_flows["qty_t"].where(
        heading_flows["qty_t"] > 0)
    median = usd_per_t.groupby([heading_flows["year"], heading_flows["heading"]]).transform(
        "median")
    return heading_flows["qty_t"].fillna(
        heading_flows["value_usd"] * unit_value_range / median)


def _listed(heading_flows: pd.DataFrame, side: str, contents: pd.DataFrame) -> pd.DataFrame:
    """Listed tonnes of the mineral per (year, country, mineral, stage) on one side
    (``importer`` or ``exporter``): at the least content (a flow with no quantity counts 0
    t), at the greatest content (``most_t``: :func:`most_tonnes`), and how many flows have
    no bound at all."""
    name = "imports" if side == "importer" else "exports"
    flows = heading_flows[["year", side, "heading", "qty_t", "most_t"]].merge(
        contents, on="heading")
    flows = flows.assign(low=flows["qty_t"].fillna(0.0) * flows["content_low"],
                         high=flows["most_t"].fillna(0.0) * flows["content_high"],
                         unknown=flows["most_t"].isna().astype("int64"))
    out = flows.groupby(["year", side, "mineral", "stage"], as_index=False, observed=True)[
        ["low", "high", "unknown"]].sum()
    return out.rename(columns={side: "country", "low": f"{name}_low_t",
                               "high": f"{name}_listed_high_t", "unknown": f"{name}_unknown"})


def _remainders(heading_totals: pd.DataFrame, contents: pd.DataFrame) -> pd.DataFrame:
    """Per (year, mineral, stage): the headings' remainders at their greatest content
    (``rest_high_t``: what any country's unlisted trade fits in), and whether every heading
    of the mineral and stage has a total that year."""
    remainder = (heading_totals["qty_t"] - heading_totals["listed_qty_t"]).clip(lower=0.0)
    rest = heading_totals[["year", "heading"]].assign(rest_t=remainder).merge(
        contents, on="heading")
    rest["rest_high_t"] = rest["rest_t"] * rest["content_high"]
    out = rest.groupby(["year", "mineral", "stage"], as_index=False).agg(
        rest_high_t=("rest_high_t", "sum"), headings=("heading", "nunique"))
    declared = contents.groupby(["mineral", "stage"], as_index=False).agg(
        declared=("heading", "nunique"))
    out = out.merge(declared, on=["mineral", "stage"])
    return out.assign(complete=out["headings"] == out["declared"])[
        ["year", "mineral", "stage", "rest_high_t", "complete"]]


def reliance_bounds(heading_flows: pd.DataFrame, heading_totals: pd.DataFrame,
                    heading_contents: pd.DataFrame, production: pd.DataFrame,
                    absent: Collection[str] = (),
                    unit_value_range: float = UNIT_VALUE_RANGE) -> pd.DataFrame:
    """The net import reliance interval of every (year, country, mineral, stage) the
    headings and the production table reach.

    Parameters
    ----------
    heading_flows : pandas.DataFrame
        Listed flows: year, exporter, importer, heading, qty_t (missing: no quantity), and
        value_usd (optional: it bounds the tonnes of a flow with no quantity).
    heading_totals : pandas.DataFrame
        Per year and heading: qty_t (every pair) and listed_qty_t (the listed flows).
    heading_contents : pandas.DataFrame
        Per heading: mineral, stage, content_low, content_high (rows without a mineral are
        left out).
    production : pandas.DataFrame
        year, country, mineral, stage, qty_t, one row per key, on the mineral's basis.
    absent : collection of str
        Countries whose trade the extract leaves out entirely: their rows are withheld
        ("not in the trade extract").
    unit_value_range : float
        How far below its heading-year median a flow's unit value can plausibly be: a flow
        with no quantity holds at most its value over (median / ``unit_value_range``).

    Returns
    -------
    pandas.DataFrame
        The declared ``reliance_bounds`` columns, one row per (year, country, mineral,
        stage) with a listed flow or a production figure in a year the headings cover. The
        high ends of trade are missing where a listed flow of the country has neither
        quantity nor value, or a heading of the mineral and stage has no total that year.

    Raises
    ------
    InvalidInput
        A missing column, contents out of order, or production with two rows of one key.

    Examples
    --------
    A country with no listed flow may still trade up to the remainder:

    >>> flows = pd.DataFrame({"year": 2023, "exporter": ["CAN"], "importer": ["USA"],
    ...                       "heading": "8001", "qty_t": [90.0]})
    >>> totals = pd.DataFrame({"year": [2023], "heading": ["8001"], "qty_t": [100.0],
    ...                        "listed_qty_t": [90.0]})
    >>> contents = pd.DataFrame({"heading": ["8001"], "mineral": ["tin"], "stage": ["refined"],
    ...                          "content_low": [1.0], "content_high": [1.0]})
    >>> production = pd.DataFrame({"year": [2023], "country": ["BRA"], "mineral": ["tin"],
    ...                            "stage": ["refined"], "qty_t": [40.0]})
    >>> out = reliance_bounds(flows, totals, contents, production).set_index("country")
    >>> out.loc["BRA", ["imports_low_t", "imports_high_t", "exports_high_t"]].tolist()
    [0.0, 10.0, 10.0]
    >>> out.loc["BRA", "reliance_label"], out.loc["BRA", "interval_status"]
    ('-33 to 20 %', 'net importer or exporter')
    """
    _require(heading_flows, "heading_flows",
             ["year", "exporter", "importer", "heading", "qty_t"])
    _require(heading_totals, "heading_totals", ["year", "heading", "qty_t", "listed_qty_t"])
    contents = _contents(heading_contents)
    rest = _remainders(heading_totals, contents)
    stage_key = ["year", "mineral", "stage"]
    made = _production(production).astype({"year": rest["year"].dtype}).merge(
        rest[stage_key], on=stage_key)
    flows = heading_flows.assign(most_t=most_tonnes(heading_flows, unit_value_range))
    rows = _listed(flows, "importer", contents).merge(
        _listed(flows, "exporter", contents), on=KEY, how="outer")
    rows = rows.astype({"year": rest["year"].dtype}).merge(made, on=KEY, how="outer")
    rows = rows.merge(rest, on=stage_key, how="left")
    rows = rows.fillna({"imports_low_t": 0.0, "imports_listed_high_t": 0.0,
                        "exports_low_t": 0.0, "exports_listed_high_t": 0.0,
                        "imports_unknown": 0, "exports_unknown": 0, "complete": False})
    for side in ("imports", "exports"):
        known = rows["complete"].astype(bool) & (rows[f"{side}_unknown"] == 0)
        rows[f"{side}_high_t"] = (rows[f"{side}_listed_high_t"] + rows["rest_high_t"]).where(
            known)
    absent_rows = rows["country"].isin(frozenset(absent))
    trade = ["imports_low_t", "imports_high_t", "exports_low_t", "exports_high_t"]
    rows[trade] = rows[trade].mask(absent_rows)
    out = pd.concat([rows, _reliance(rows, absent_rows)], axis=1)
    out["year"] = out["year"].astype("int16")
    return schema.select("reliance_bounds", out.sort_values(KEY).reset_index(drop=True))


def _reliance(rows: pd.DataFrame, absent: pd.Series) -> pd.DataFrame:
    """The interval, its width, label and status from the trade bounds and production."""
    p = rows["production_t"]
    m_lo, m_hi = rows["imports_low_t"], rows["imports_high_t"]
    x_lo, x_hi = rows["exports_low_t"], rows["exports_high_t"]

    def supply(m: pd.Series, x: pd.Series) -> pd.Series:
        a = p + m - x
        return a.mask(a.abs() <= ROUNDING * (p + m + x), 0.0)

    a_min, a_max = supply(m_lo, x_hi), supply(m_hi, x_lo)
    low = (m_lo - x_hi) / a_min.where(a_min > 0)
    high = (m_hi - x_lo) / a_max.where(a_max > 0)
    conditions = {
        "absent": absent,
        "no_production": p.isna(),
        "unknown_end": m_hi.isna() | x_hi.isna(),
        "exceed": a_max <= 0,
        "may_exceed": a_min <= 0,
        "balanced": (low == 0) & (high == 0),
        "exporter": high <= 0,
        "importer_only": (low >= 0) & (p == 0),
        "importer": low >= 0,
    }
    code = np.select([np.asarray(c, dtype=bool) for c in conditions.values()],
                     list(conditions), default="either")
    status = pd.Series(code, index=rows.index).map(STATUSES)
    withheld = np.isin(code, ["absent", "no_production", "exceed"])
    low, high = low.mask(withheld), high.mask(withheld)
    return pd.DataFrame({"reliance_low": low, "reliance_high": high,
                         "interval_width": high - low,
                         "reliance_label": reliance_label(low, high),
                         "interval_status": status})


def _percent(values: pd.Series) -> pd.Series:
    """Whole per cent, halves rounded up (26.5 % shows as 27 %)."""
    whole = np.floor(values * 100 + 0.5)
    return pd.Series(whole, index=values.index).astype("Int64").astype("string")


def reliance_label(low: pd.Series, high: pd.Series) -> pd.Series:
    """The interval as shown: its midpoint when narrower than :data:`NARROW`, else its ends;
    "≤ high" or "≥ low" when only one end is known; empty when neither is.

    >>> reliance_label(pd.Series([0.20, 0.22, None, -0.2, 0.5, None]),
    ...                pd.Series([0.31, 0.31, 0.31, 0.4, None, None])).tolist()
    ['20-31 %', '27 %', '≤ 31 %', '-20 to 40 %', '≥ 50 %', '']
    """
    low = pd.Series(low, dtype="float64")
    high = pd.Series(high, dtype="float64").set_axis(low.index)
    width = high - low
    lo, hi, mid = _percent(low), _percent(high), _percent((low + high) / 2)
    sep = pd.Series(np.where(low < 0, " to ", "-"), index=low.index)
    label = pd.Series("", index=low.index, dtype="string")
    label = label.mask(high.notna() & low.isna(), "≤ " + hi + " %")
    label = label.mask(low.notna() & high.isna(), "≥ " + lo + " %")
    label = label.mask(width.notna() & (width >= NARROW), lo + sep + hi + " %")
    label = label.mask(width.notna() & (width < NARROW), mid + " %")
    return label.fillna("").astype(object)
