"""Back-test of the documented export-control events against observed trade.

Each event of the registry (``critmin.events()``) carries a cut: an announced or peak-window
magnitude. First order, it predicts that the supplier's exports of the codes the measure
names fall by that cut (for a targeted measure, by the cut times the targets' share of those
exports). The back-test sets this prediction against the change the trade data records
between the last full calendar year before the measure took effect and the first full
calendar year after it, per mineral and per stage of the codes, with the change in each
large importer's imports from the supplier beside it.

Reading and comparing are separate steps: :func:`backtest` reads the registry, the catalog's
codes and the supplier's shipments of those codes from the store; :func:`plan`,
:func:`event_codes`, :func:`compare` and :func:`summarise` are pure (frames in, frames out),
so that a comparison can be checked by hand on a few rows.

>>> bt = critmin.backtest("idn-ore-ban-2014")
>>> row = bt.events.set_index("mineral").loc["nickel"]
>>> int(row["before_year"]), int(row["after_year"]), float(row["predicted_change"])
(2013, 2015, -1.0)
>>> round(float(row["observed_change"]), 3)
-0.997
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, schema
from critmin.errors import NotFound, nearest
from critmin.event_rules import never_in_force
from critmin.numbers import change as signed
from critmin.numbers import share
from critmin.present import records
from critmin.store import get_store
from critmin.whatif.formatting import format_share, json_float
from critmin.whatif.registries import kind_defaults

ALL_STAGES = "all"
"""The stage of the row that compares every code of an event carrying a mineral together
(each event and mineral has one; it is the row the summary scores)."""

TOP_IMPORTERS = 5
"""Importers compared per event and mineral: the largest in the year before."""

KEY = ["event", "mineral", "stage"]


# -- the plan: years, cut and codes of each event ---------------------------------------------

def windows(effective: pd.Series, years: Sequence[int]) -> pd.DataFrame:
    """The year before and the first full calendar year after each effective date, within
    the trade data's years, and why a window is missing.

    The year before is the last calendar year that ends before the date; the year after is
    the date's own year when the measure took effect on 1 January, the next year otherwise.

    >>> w = windows(pd.Series(["2023-12-01", "2020-01-01", None, "2025-02-04"]),
    ...             range(1995, 2025))
    >>> w["before_year"].tolist(), w["after_year"].tolist()
    ([2022, 2019, <NA>, 2024], [2024, 2020, <NA>, 2026])
    >>> w["missing"].tolist()
    ['', '', 'no effective date documented', 'no trade data after 2024']
    """
    dates = pd.to_datetime(pd.Series(effective), errors="coerce", format="%Y-%m-%d")
    known = sorted({int(y) for y in years})
    first, last = known[0], known[-1]
    on_new_year = (dates.dt.month == 1) & (dates.dt.day == 1)
    before = (dates.dt.year - 1).astype("Int32")
    after = (dates.dt.year + (~on_new_year).astype(int)).astype("Int32")
    has_before = before.isin(known).fillna(False).astype(bool)
    has_after = after.isin(known).fillna(False).astype(bool)
    missing = np.select(
        [dates.isna().to_numpy(), (~has_before & (before < first)).fillna(False).to_numpy(),
         (~has_after & (after > last)).fillna(False).to_numpy(), ~has_before.to_numpy(),
         ~has_after.to_numpy()],
        ["no effective date documented", f"no trade data before {first}",
         f"no trade data after {last}", "no trade data for " + before.astype(str),
         "no trade data for " + after.astype(str)], default="")
    return pd.DataFrame({"before_year": before, "after_year": after,
                         "before_in_data": has_before, "after_in_data": has_after,
                         "missing": missing}, index=pd.Series(effective).index)


def plan(events: pd.DataFrame, years: Sequence[int], defaults: Mapping[str, float]
         ) -> pd.DataFrame:
    """One row per event and mineral it covers: supplier, targets, the cut the prediction
    uses, the two years compared and what the reader must know about them.

    Parameters
    ----------
    events : pandas.DataFrame
        The registry (``critmin.events()``): id, supplier, minerals, hs6, targets, kind,
        announced, effective, ended, status, status_date, cut.
    years : sequence of int
        Years of the trade data.
    defaults : mapping
        The cut a kind of measure stands for when an event documents none
        (:func:`critmin.whatif.registries.kind_defaults`).
    """
    frame = events.reset_index(drop=True)
    window = windows(frame["effective"], years)
    kind = frame["kind"].astype(str)
    documented = pd.to_numeric(frame["cut"], errors="coerce")
    fallback = kind.map(dict(defaults)).astype("float64")
    never = never_in_force(frame).to_numpy(dtype=bool)
    # a measure that never took effect cut nothing, as it runs in a restriction
    cut = documented.fillna(fallback).where(~never, 0.0)
    cut_note = np.select(
        [never & (frame["status"] == "announced").to_numpy(), never,
         (documented.isna() & fallback.notna()).to_numpy(), cut.isna().to_numpy()],
        ["announced on " + frame["announced"].astype(str) + ", not in effect (status as of "
         + frame["status_date"].astype(str) + "): predicted no change",
         "suspended on " + frame["status_date"].astype(str) + ", before it took effect: "
         "predicted no change",
         "no cut documented: a " + kind + " stands for "
         + fallback.map(lambda v: share(v) if np.isfinite(v) else "")
         + " (the median of the catalog's documented " + kind + " cuts)",
         "no cut documented and no default for a " + kind + ": no prediction"], default="")
    ended = pd.to_datetime(frame["ended"], errors="coerce", format="%Y-%m-%d")
    within = ended.dt.year.astype("Float64") <= window["after_year"].astype("Float64")
    ended_note = np.where(within.fillna(False).to_numpy(dtype=bool) & ~never,
                          "the measure stopped applying on " + frame["ended"].astype(str), "")
    out = pd.DataFrame({
        "event": frame["id"].astype(str), "supplier": frame["supplier"].astype(str),
        "minerals": frame["minerals"].map(list), "named": frame["hs6"].map(list),
        "targets": frame["targets"].map(list), "kind": frame["kind"].astype(str),
        "cut": cut.astype("float64"), "before_year": window["before_year"],
        "after_year": window["after_year"], "before_in_data": window["before_in_data"],
        "after_in_data": window["after_in_data"], "window_missing": window["missing"],
        "cut_note": cut_note, "ended_note": ended_note})
    out = out.explode("minerals").rename(columns={"minerals": "mineral"})
    return out.dropna(subset=["mineral"]).reset_index(drop=True)


def event_codes(events: pd.DataFrame, links: pd.DataFrame, correspondence: pd.DataFrame
                ) -> pd.DataFrame:
    """The trade data's codes of each event and mineral: every code the measure names, read
    under its HS 1992 line where the catalog's correspondence maps it (a code it does not
    list is the same line in both), kept where the catalog links it to the mineral.

    Returns
    -------
    pandas.DataFrame
        One row per (event, mineral, hs6): ``stage`` (the stage critmin files the code under
        for the mineral) and ``reading`` (how a named code was read, empty when as named).
    """
    named = events[["id", "minerals", "hs6"]].explode("minerals").explode("hs6")
    named = named.dropna(subset=["minerals", "hs6"]).rename(
        columns={"id": "event", "minerals": "mineral", "hs6": "named"})
    to92 = dict(zip(correspondence["hs17"], correspondence["hs92"], strict=True))
    wider = dict(zip(correspondence["hs17"], correspondence["relation"] == "part of",
                     strict=True))
    named["hs6"] = named["named"].map(lambda c: to92.get(c, c))
    named["reading"] = np.where(
        named["named"].map(lambda c: bool(wider.get(c, False))),
        named["named"] + " read under the wider HS 1992 line " + named["hs6"], "")
    kept = named.merge(links[["hs6", "mineral", "stage"]], on=["hs6", "mineral"])
    out = kept.groupby(["event", "mineral", "hs6", "stage"], as_index=False, sort=False).agg(
        reading=("reading", lambda s: "; ".join(sorted({r for r in s if r}))))
    return out[["event", "mineral", "hs6", "stage", "reading"]]


# -- the comparison ---------------------------------------------------------------------------

SIDES = ("before", "after")


def _stage_rank(stage: pd.Series) -> pd.Series:
    order = {ALL_STAGES: 0, **{s: n + 1 for n, s in enumerate(schema.STAGES)}}
    return stage.map(order).fillna(len(order))


def _change(after: pd.Series, before: pd.Series) -> pd.Series:
    """after / before - 1, NaN where nothing was shipped before."""
    num, den = after.to_numpy(dtype=float), before.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / den - 1.0, np.nan)
    return pd.Series(out, index=after.index)


def _codes_text(codes: pd.Series) -> str:
    return ", ".join(sorted(set(codes)))


def _texts(values: pd.Series) -> str:
    return "; ".join(sorted({v for v in values if v}))


def _lines(plans: pd.DataFrame, codes: pd.DataFrame, present: pd.DataFrame) -> pd.DataFrame:
    """One row per (event, mineral, stage, hs6): each code under its own stage and under
    ``all``, whether it has rows in each year and whether it is compared."""
    lines = codes.merge(plans[["event", "mineral", "supplier", "before_year", "after_year",
                               "before_in_data", "after_in_data", "window_missing"]],
                        on=["event", "mineral"])
    seen = present[["year", "hs6", "complete"]].assign(year=present["year"].astype("Int32"))
    for side in SIDES:
        lines = lines.merge(seen.rename(columns={"year": f"{side}_year",
                                                 "complete": f"{side}_complete"}),
                            on=[f"{side}_year", "hs6"], how="left")
        lines[f"in_{side}"] = lines[f"{side}_complete"].notna()
    # a code is compared where it has rows in both years; with no data for the year after,
    # where it has rows in the year before (its exports then, and the targets' share)
    lines["used"] = lines["in_before"] & (lines["in_after"] | ~lines["after_in_data"])
    several = lines.groupby(["event", "mineral"])["stage"].transform("nunique") > 1
    return pd.concat([lines.assign(stage=ALL_STAGES), lines[several]], ignore_index=True)


def _shipped_by_importer(lines: pd.DataFrame, shipped: pd.DataFrame, side: str
                         ) -> pd.DataFrame:
    """The supplier's shipments of the compared codes in one year, per (event, mineral,
    stage, importer)."""
    used = lines[lines["used"] & lines[f"{side}_in_data"]]
    flows = shipped.assign(year=shipped["year"].astype("Int32")).rename(
        columns={"year": f"{side}_year", "exporter": "supplier"})
    part = used[[*KEY, "supplier", "hs6", f"{side}_year"]].merge(
        flows, on=["supplier", "mineral", "hs6", f"{side}_year"])
    return part.groupby([*KEY, "importer"])["qty_basis_t"].sum().reset_index()


def _line_notes(lines: pd.DataFrame) -> pd.DataFrame:
    """Per (event, mineral, stage): the codes compared, the codes left out and why, the
    years incomplete in the source for the codes compared, how named codes were read."""
    both = lines[lines["window_missing"] == ""]
    out = lines.groupby(KEY, sort=False).agg(
        linked=("hs6", _codes_text), any_before=("in_before", "any"),
        any_after=("in_after", "any"), reading=("reading", _texts)).reset_index()
    used = lines[lines["used"]]
    out = out.merge(used.groupby(KEY)["hs6"].agg(_codes_text).rename("codes"), on=KEY,
                    how="left")
    left = both[~both["used"]]
    years = {side: left[f"{side}_year"].astype(str) for side in SIDES}
    why = np.select([~left["in_before"] & ~left["in_after"], ~left["in_before"]],
                    ["no rows in " + years["before"] + " or " + years["after"],
                     "no rows in " + years["before"]], default="no rows in " + years["after"])
    left = left.assign(why=why).groupby([*KEY, "why"])["hs6"].agg(_codes_text).reset_index()
    left["text"] = left["hs6"] + " left out: " + left["why"]
    out = out.merge(left.groupby(KEY)["text"].agg("; ".join).rename("left_out"), on=KEY,
                    how="left")
    partial = pd.concat([
        used.loc[used[f"{side}_complete"].eq(False) & used[f"{side}_in_data"], [*KEY, "hs6"]]
        .assign(year=used[f"{side}_year"].astype(str)) for side in SIDES])
    partial = partial.groupby([*KEY, "year"])["hs6"].agg(_codes_text).reset_index()
    partial["text"] = (partial["year"] + " is incomplete in the source for " + partial["hs6"]
                       + " (late reporters missing)")
    return out.merge(partial.groupby(KEY)["text"].agg("; ".join).rename("partial"), on=KEY,
                     how="left")


def _missing(rows: pd.DataFrame) -> np.ndarray:
    """Why a row has no observed change (empty where it has one), the first reason that
    applies: no window, no code of the mineral, no rows of its codes, nothing shipped."""
    before, after = rows["before_year"].astype(str), rows["after_year"].astype(str)
    linked = " (" + rows["linked"].fillna("") + ")"
    no_code = np.where(rows["named"].map(len) == 0, "the measure names no HS code",
                       "none of its codes (" + rows["named"].map(", ".join) + ") carries "
                       + rows["mineral"] + " in critmin's catalog")
    any_before = rows["any_before"].fillna(False).astype(bool)
    any_after = rows["any_after"].fillna(False).astype(bool)
    no_rows = np.select(
        [~any_before & ~any_after, ~any_before, ~any_after],
        ["no rows of its codes" + linked + " in " + before + " or " + after,
         "no rows of its codes" + linked + " in " + before,
         "no rows of its codes" + linked + " in " + after],
        default="none of its codes" + linked + " has rows in both " + before + " and " + after)
    return np.select(
        [rows["window_missing"] != "", rows["linked"].isna(), rows["codes"].isna(),
         ~(rows["exports_before_t"] > 0)],
        [rows["window_missing"], no_code, no_rows,
         rows["supplier"] + " exported none of its codes in " + before], default="")


def compare(plans: pd.DataFrame, codes: pd.DataFrame, shipped: pd.DataFrame,
            present: pd.DataFrame, top: int = TOP_IMPORTERS
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predicted against observed change in each supplier's exports of each event's codes.

    Parameters
    ----------
    plans : pandas.DataFrame
        One row per (event, mineral), as :func:`plan` gives.
    codes : pandas.DataFrame
        One row per (event, mineral, hs6) with its ``stage``, as :func:`event_codes` gives.
    shipped : pandas.DataFrame
        Shipments in the years compared: ``year``, ``exporter``, ``importer``, ``mineral``,
        ``hs6``, ``qty_basis_t`` (tonnes on the mineral's basis).
    present : pandas.DataFrame
        Which codes have rows in which years (any exporter): ``year``, ``hs6``, ``complete``
        (False where the year is incomplete in the source for that code).
    top : int
        Importers compared per event and mineral.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The comparison, one row per (event, mineral, stage) (stage ``all``: every code
        together; each stage besides when the codes span several), with the column
        ``missing`` (why there is no observed change, empty where there is); and the largest
        importers, one row per (event, mineral, importer).

    Examples
    --------
    >>> event = pd.DataFrame({"id": ["e"], "supplier": ["S"], "minerals": [["m"]],
    ...     "hs6": [["000001"]], "targets": [[]], "kind": ["ban"], "announced": ["2021-01-05"],
    ...     "effective": ["2021-03-01"], "ended": [None], "status": ["in force"],
    ...     "status_date": ["2021-03-01"], "cut": [1.0]})
    >>> plans = plan(event, [2020, 2021, 2022], {})
    >>> codes = pd.DataFrame({"event": ["e"], "mineral": ["m"], "hs6": ["000001"],
    ...     "stage": ["ore"], "reading": [""]})
    >>> shipped = pd.DataFrame({"year": [2020, 2022], "exporter": ["S", "S"],
    ...     "importer": ["A", "A"], "mineral": ["m", "m"], "hs6": ["000001"] * 2,
    ...     "qty_basis_t": [100.0, 25.0]})
    >>> present = pd.DataFrame({"year": [2020, 2022], "hs6": ["000001"] * 2,
    ...     "complete": [True, True]})
    >>> rows, _ = compare(plans, codes, shipped, present)
    >>> rows.loc[0, ["observed_change", "predicted_change", "error"]].tolist()
    [-0.75, -1.0, 0.25]
    """
    lines = _lines(plans, codes, present)
    targets = plans[["event", "targets"]].drop_duplicates("event").explode("targets")
    targets = targets.dropna().rename(columns={"targets": "importer"}).assign(target=True)
    sides = {}
    for side in SIDES:
        part = _shipped_by_importer(lines, shipped, side).merge(
            targets, on=["event", "importer"], how="left")
        part["to_targets"] = part["qty_basis_t"].where(
            part["target"].fillna(False).astype(bool), 0.0)
        sides[side] = part
    rows = plans.merge(_line_notes(lines), on=["event", "mineral"], how="left")
    rows["stage"] = rows["stage"].fillna(ALL_STAGES)
    for side, part in sides.items():
        sums = part.groupby(KEY)[["qty_basis_t", "to_targets"]].sum().rename(columns={
            "qty_basis_t": f"exports_{side}_t", "to_targets": f"targets_{side}_t"})
        rows = rows.merge(sums, on=KEY, how="left")
        # a year with data in which the codes compared carried nothing: 0 t, not unknown
        shipped_none = rows["codes"].notna() & rows[f"{side}_in_data"]
        for col in sums.columns:
            rows[col] = rows[col].where(~shipped_none, rows[col].fillna(0.0))
    targeted = rows["targets"].map(len) > 0
    for side in SIDES:
        rows[f"targets_{side}_t"] = rows[f"targets_{side}_t"].where(targeted)
    rows["observed_change"] = _change(rows["exports_after_t"], rows["exports_before_t"])
    rows["target_share_before"] = (rows["targets_before_t"] / rows["exports_before_t"]).where(
        targeted & (rows["exports_before_t"] > 0))
    # + 0.0: a cut of 0 predicts 0, not -0
    rows["predicted_change"] = np.where(targeted, -rows["cut"] * rows["target_share_before"],
                                        -rows["cut"]) + 0.0
    rows["error"] = rows["observed_change"] - rows["predicted_change"]
    rows["targets_observed_change"] = _change(rows["targets_after_t"],
                                              rows["targets_before_t"]).where(targeted)
    rows["targets_predicted_change"] = (0.0 - rows["cut"]).where(targeted)
    rows["missing"] = _missing(rows)
    prediction = np.where(
        rows["target_share_before"].notna(),
        "predicted: the cut on the " + rows["target_share_before"].map(format_share)
        + " of exports that went to " + rows["targets"].map(", ".join) + " in "
        + rows["before_year"].astype(str), "")
    no_rows = rows["missing"].str.startswith(("no rows", "none of its codes"))
    parts = pd.DataFrame({
        "missing": rows["missing"], "left_out": rows["left_out"].fillna("").where(~no_rows, ""),
        "partial": rows["partial"].fillna(""), "reading": rows["reading"].fillna(""),
        "prediction": prediction, "cut": rows["cut_note"], "ended": rows["ended_note"]})
    rows["note"] = parts.apply(lambda r: "; ".join(v for v in r if v), axis=1)
    rows["codes"] = rows["codes"].fillna("")
    rows = rows.assign(_rank=_stage_rank(rows["stage"])).sort_values(
        ["event", "mineral", "_rank"], kind="stable").drop(columns="_rank")
    scored = rows[(rows["stage"] == ALL_STAGES) & (rows["missing"] == "")]
    return rows.reset_index(drop=True), _importers(scored, sides, top)


def _importers(scored: pd.DataFrame, sides: Mapping[str, pd.DataFrame], top: int
               ) -> pd.DataFrame:
    """The largest importers of each scored event and mineral (every code together) in the
    year before, and its targets, with the change in what they took from the supplier."""
    sums = [part[part["stage"] == ALL_STAGES].set_index(["event", "mineral", "importer"])[
        "qty_basis_t"].rename(f"imports_{side}_t") for side, part in sides.items()]
    frame = pd.concat(sums, axis=1).reset_index()
    frame = frame.merge(scored[["event", "mineral", "cut", "targets"]], on=["event", "mineral"])
    frame = frame.dropna(subset=["imports_before_t"]).fillna({"imports_after_t": 0.0})
    frame = frame.sort_values(["event", "mineral", "imports_before_t"],
                              ascending=[True, True, False], kind="stable")
    targeted = np.array([i in t for i, t in zip(frame["importer"], frame["targets"],
                                                strict=True)], dtype=bool)
    rank = frame.groupby(["event", "mineral"], sort=False).cumcount()
    frame, targeted = frame[(rank < top) | targeted], targeted[(rank < top) | targeted]
    hit = targeted | (frame["targets"].map(len) == 0).to_numpy(dtype=bool)
    frame["observed_change"] = _change(frame["imports_after_t"], frame["imports_before_t"])
    frame["predicted_change"] = np.where(hit, 0.0 - frame["cut"], 0.0)
    return frame.reset_index(drop=True)


def summarise(rows: pd.DataFrame) -> dict[str, Any]:
    """The score of a comparison: the mean absolute and mean error of the predicted change
    over the event-mineral pairs with data on both sides, and the pairs without, by reason.

    >>> rows = pd.DataFrame({"event": ["a", "a", "b"], "mineral": ["x", "y", "x"],
    ...     "stage": ["all"] * 3, "predicted_change": [-1.0, -0.5, -0.7],
    ...     "observed_change": [-0.8, -0.9, np.nan], "missing": ["", "", "no trade data after 2024"]})
    >>> s = summarise(rows)
    >>> round(s["mae"], 2), s["compared"], s["lacking"]
    (0.3, 2, {'no trade data after 2024': ['b (x)']})
    """
    pairs = rows[rows["stage"] == ALL_STAGES]
    both = pairs["observed_change"].notna() & pairs["predicted_change"].notna()
    error = (pairs["observed_change"] - pairs["predicted_change"])[both]
    lacking: dict[str, list[str]] = {}
    for event, mineral, why in pairs.loc[~both, ["event", "mineral", "missing"]].itertuples(
            index=False):
        lacking.setdefault(why or "no prediction (no cut)", []).append(f"{event} ({mineral})")
    events = pairs["event"].drop_duplicates()
    compared_events = pairs.loc[both, "event"].drop_duplicates()
    return {
        "mae": float(error.abs().mean()) if len(error) else float("nan"),
        "mean_error": float(error.mean()) if len(error) else float("nan"),
        "compared": int(both.sum()), "pairs": len(pairs),
        "events": len(events), "events_compared": len(compared_events),
        "events_lacking": sorted(set(events) - set(compared_events)), "lacking": lacking,
    }


# -- the public function ----------------------------------------------------------------------

def _points(value: float, sign: str = "") -> str:
    """A share as percentage points with one decimal; a dash for none."""
    return f"{value * 100:{sign}.1f}" if np.isfinite(value) else "–"


@dataclass
class Backtest:
    """Each event's predicted change in the supplier's exports against the observed one."""

    events: pd.DataFrame
    """One row per (event, mineral, stage): the years compared, the supplier's exports of
    the event's codes in each, the predicted and observed change, the error, a note."""
    importers: pd.DataFrame
    """The largest importers of each compared event and mineral in the year before, with
    the observed and predicted change of their imports from the supplier."""
    scores: dict[str, Any]
    """:func:`summarise` of the comparison."""
    notes: list[str]

    def compared(self) -> pd.DataFrame:
        """The rows scored: every code of an event and mineral together, data on both
        sides."""
        rows = self.events
        keep = (rows["stage"] == ALL_STAGES) & rows["observed_change"].notna() & rows[
            "predicted_change"].notna()
        return rows[keep].reset_index(drop=True)

    def summary(self) -> str:
        """A few lines for people."""
        s = self.scores
        lines = [f"{s['compared']} of {s['pairs']} event-mineral pairs have trade data on both "
                 f"sides ({s['events_compared']} of {s['events']} events): mean absolute error "
                 f"{_points(s['mae'])}, mean error {_points(s['mean_error'], '+')} "
                 "(percentage points of exports, observed minus predicted; positive: exports "
                 "fell less than predicted)"]
        for why, pairs in s["lacking"].items():
            events = dict.fromkeys(p.split(" (")[0] for p in pairs)
            lines.append(f"{len(pairs)} without: {why} ({', '.join(events)})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        scores = {k: (json_float(v) if isinstance(v, float) else v)
                  for k, v in self.scores.items()}
        return {"events": records(self.events), "importers": records(self.importers),
                "units": {"events": self.events.attrs.get("units", {}),
                          "importers": self.importers.attrs.get("units", {})},
                "summary": scores, "notes": self.notes}


def _shipments(links: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Every exporter's shipments of the linked codes in ``years``, per code."""
    store = get_store()
    if links.empty or not years:
        text = pd.Series(dtype=str)
        return pd.DataFrame({"year": pd.Series(dtype="int64"), "exporter": text,
                             "importer": text, "mineral": text, "hs6": text,
                             "qty_basis_t": pd.Series(dtype="float64")})
    # the engine sums per (mineral, stage); a code given as its own stage keeps the codes
    # apart, so that each event sums exactly the codes it names (the same tonnes on the
    # basis as the stages and partners outputs)
    per_code = links.assign(stage=links["hs6"])
    pairs = store.engine().aggregate(per_code, years)
    out = pairs[["year", "exporter", "importer", "mineral", "stage", "qty_basis_t"]].rename(
        columns={"stage": "hs6"})
    for col in ("exporter", "importer", "mineral", "hs6"):
        out[col] = out[col].astype(str)
    return out


def _presence(codes: Sequence[str], years: list[int]) -> pd.DataFrame:
    """Which of ``codes`` have rows in which of ``years``, and whether the source has the
    year whole for them."""
    from critmin.years import incomplete_year

    store = get_store()
    found = store.engine().presence(years)
    found = found[found["hs6"].astype(str).isin(set(codes)) & (found["n_rows"] > 0)]
    out = pd.DataFrame({"year": found["year"].astype(int).to_numpy(),
                        "hs6": found["hs6"].astype(str).to_numpy()})
    partial = incomplete_year(store)
    out["complete"] = True
    if partial is not None and partial in years:
        # a code the newer complete release replaced, or one only that release carries
        # (no rows the year before), has the year whole
        replaced = store.table("superseded_flows")
        whole = set(replaced.loc[replaced["year"] == partial, "hs6"].astype(str))
        earlier = set(store.engine().presence([partial - 1]).query("n_rows > 0")["hs6"]
                      .astype(str))
        late = (out["year"] == partial) & ~out["hs6"].isin(whole) & out["hs6"].isin(earlier)
        out.loc[late, "complete"] = False
    return out


def backtest(events: Sequence[str] | str | None = None, top: int = TOP_IMPORTERS) -> Backtest:
    """Compare each documented event's predicted change in the supplier's exports with the
    change observed in the trade data.

    For every event and mineral it covers, the supplier's exports of the codes the measure
    names (tonnes on the mineral's basis, HS 1992 lines) in the last full year before it took
    effect and in the first full calendar year after. Predicted, first order: ``-cut`` (a
    ban 1; a licence or quota its documented cut, or its kind's median), for a targeted
    measure ``-cut`` times the targets' share of those exports in the year before.

    Parameters
    ----------
    events : str or list of str, optional
        Event ids (``critmin.events()``); default every event.
    top : int
        Importers compared per event and mineral (the largest in the year before).

    Returns
    -------
    Backtest
        ``events`` (one row per event, mineral and stage; stage ``all`` compares every code
        together and is the row scored), ``importers``, ``scores`` (mean absolute error over
        the pairs with data on both sides, and the pairs without, by reason), ``summary()``,
        ``to_dict()``.

    Examples
    --------
    >>> bt = critmin.backtest("chn-graphite-2023")
    >>> row = bt.compared().iloc[0]
    >>> row["mineral"], float(row["predicted_change"]), bool(row["observed_change"] < 0)
    ('graphite', -0.73, True)
    """
    store = get_store()
    registry = store.table("events")
    wanted = checks.as_names(events, "events")
    if wanted is not None:
        known = list(registry["id"])
        for name in wanted:
            if name not in known:
                raise NotFound(f"unknown event {name!r}",
                               suggestions=nearest(name, known) or known[:3])
        registry = registry[registry["id"].isin(wanted)]
    n_top = checks.as_int(top, "top", minimum=1, maximum=100)
    years = sorted(store.rows_by_year("flows"))
    plans = plan(registry, years, kind_defaults())
    links = store.table("product_minerals")
    codes = event_codes(registry, links, store.table("hs_correspondence"))
    compared_years = sorted({int(y) for side in ("before", "after")
                             for y in plans.loc[plans[f"{side}_in_data"], f"{side}_year"]})
    needed = links.merge(codes[["hs6", "mineral"]].drop_duplicates(), on=["hs6", "mineral"])
    shipped = _shipments(needed, compared_years)
    present = _presence(sorted(set(codes["hs6"])), compared_years)
    rows, importers = compare(plans, codes, shipped, present, n_top)
    scores = summarise(rows)
    notes = ["observed: the supplier's exports of the event's codes (HS 1992 lines, tonnes on "
             "the mineral's basis, as in the stages and partners outputs) from the last full "
             "year before the measure took effect to the first full calendar year after; "
             "predicted: minus the event's cut (a ban 1), first order",
             "a cut is an announced or peak-window magnitude, not an annual change (each "
             "event's cut_basis says what it measures)"]
    return Backtest(events=schema.select("backtest", rows),
                    importers=schema.select("backtest_importers", importers),
                    scores=scores, notes=notes)


def observed_cut(event: str, mineral: str, stage: str | None = None
                 ) -> tuple[float, str] | None:
    """The annual cut observed in trade for ``event`` on ``mineral``: minus the change in
    the supplier's exports of the event's codes (to its targets, for a targeted measure)
    from the last full year before it took effect to the first full calendar year after,
    floored at 0; with the text that says what it measures. None when the data lacks a
    side (``stage`` None: every code together)."""
    rows = backtest(event).events
    rows = rows[rows["mineral"] == mineral]
    picked = rows[rows["stage"] == (stage or "all")]
    if picked.empty:
        picked = rows[rows["stage"] == "all"]
    if picked.empty:
        return None
    row = picked.iloc[0]
    targeted = pd.notna(row["targets_observed_change"]) or bool(row["targets"])
    change = row["targets_observed_change"] if targeted else row["observed_change"]
    if pd.isna(change):
        return None
    whose = f"exports to {row['targets']}" if targeted else "exports"
    text = (f"{row['supplier']}'s {whose} of {row['codes'] or 'the event’s codes'} "
            f"{int(row['before_year'])}-{int(row['after_year'])}: {signed(change)}")
    return float(np.clip(-change, 0.0, 1.0)), text
