"""The cube's inputs, read from the store and checked: the reading step before any metric.

:func:`read_cube_inputs` gathers everything the metrics cube is computed from (the engine's
aggregate of the flows, the default production series, governance, coverage of the
principal HS codes, the mirrored reporters, product names) into one
:class:`~critmin.metrics.cube.CubeInputs`, checks that each table has the columns the
metrics read, and hands it over; the metrics themselves never open the store.

>>> import pandas as pd
>>> production = pd.DataFrame({"year": [2022, 2022], "country": ["AUS", "AUS"],
...                            "mineral": ["lithium"] * 2, "stage": ["ore"] * 2,
...                            "qty_t": [61_000.0, 60_000.0], "source": ["usgs-2024", "wmd"]})
>>> no_default = pd.DataFrame(columns=["mineral", "stage", "source"])
>>> default_production(production, no_default)["source"].tolist()
['wmd']
>>> cobalt = pd.DataFrame({"year": [2023, 2024, 2024], "country": ["CHN"] * 3,
...     "mineral": ["cobalt"] * 3, "stage": ["refined"] * 3, "qty_t": [140.0, 150.0, 1.0],
...     "source": ["bgs-wms", "usgs-mcs2026", "wmd"]})
>>> bgs = pd.DataFrame({"mineral": ["cobalt"], "stage": ["refined"], "source": ["bgs-wms"]})
>>> default_production(cobalt, bgs)["source"].tolist()  # 2024: the next source that has it
['bgs-wms', 'wmd']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from critmin.errors import DataError
from critmin.metrics.cube import CubeInputs
from critmin.store import Store
from critmin.store.engine import PAIR_COLUMNS, Engine

REQUIRED_COLUMNS = {
    "pairs": PAIR_COLUMNS,
    "production": ("year", "country", "mineral", "stage", "qty_t"),
    "governance": ("year", "country", "risk"),
    "coverage": ("year", "mineral", "stage", "missing", "n_principal"),
    "mirror": ("year", "country"),
}
"""The columns the metrics read from each table of :class:`CubeInputs`."""


def read_cube_inputs(store: Store, years: list[int], minerals: list[str] | None = None,
                     engine: Engine | None = None) -> CubeInputs:
    """The cube's inputs for some years and minerals (None: all), checked.

    Parameters
    ----------
    store : Store
        The store to read.
    years : list of int
        The years wanted.
    minerals : list of str, optional
        Mineral slugs; all if None.
    engine : Engine, optional
        What aggregates the flows into ``pairs``; the store's DuckDB engine unless given
        (every engine gives the same numbers).

    Returns
    -------
    CubeInputs
        What :func:`critmin.metrics.cube.compute_cube` and its siblings compute from.

    Raises
    ------
    DataError
        When a table lacks a column the metrics read.

    Examples
    --------
    >>> from critmin.store import get_store
    >>> inputs = read_cube_inputs(get_store(), [2022], ["lithium"])
    >>> sorted(set(inputs.pairs["mineral"].astype(str)))
    ['lithium']
    """
    from critmin import years as years_mod

    def subset(frame: pd.DataFrame) -> pd.DataFrame:
        if "year" in frame.columns:
            frame = frame[frame["year"].isin(years)]
        if minerals is not None and "mineral" in frame.columns:
            frame = frame[frame["mineral"].isin(minerals)]
        return frame.reset_index(drop=True)

    engine = engine if engine is not None else store.engine()
    links = subset(store.table("product_minerals"))
    pairs = engine.aggregate(links, years)
    # the default source is chosen on every year, so a subset of years sees the same one
    production = subset(default_production(store.table("production"),
                                           store.table("production_defaults")))
    mineral_table = store.table("minerals")
    gaps = store.table("reporting_gaps")
    last = gaps["last_year"].fillna(max(years)).astype(int)
    mirror = pd.DataFrame(
        [(y, c) for c, a, b in zip(gaps["country"], gaps["first_year"], last, strict=True)
         for y in range(int(a), int(b) + 1)], columns=["year", "country"])
    descriptions = store.table("products").set_index("hs6")["description"]
    names = {str(h): short_name(d) for h, d in descriptions.items()}
    presence = engine.presence(years)
    withheld = subset(store.table("production_withheld")).assign(qty_t=np.nan)
    every = subset(store.table("production"))
    reported = pd.concat([every[withheld.columns], withheld], ignore_index=True)
    return checked(CubeInputs(
        pairs=pairs, production=production, governance=subset(store.table("governance")),
        incomplete_year=years_mod.incomplete_year(store),
        coverage=coverage(presence, links),
        production_stage=mineral_table.set_index("mineral")["production_stage"],
        mirror=mirror, names=names, reported=reported[REPORTED_COLUMNS],
        baskets=baskets(presence, links), published=subset(store.table("processing_shares")),
        unlisted=unlisted(subset(store.table("production_other")), production),
        withheld_trade=withheld_trade(store.manifest, years, minerals),
        headings=(subset(store.table("heading_flows")), subset(store.table("heading_totals")),
                  store.table("heading_contents"),
                  list(store.manifest.get("heading_flows_absent_countries", []))),
    ))


def unlisted(other: pd.DataFrame, production: pd.DataFrame) -> pd.DataFrame:
    """The "other countries" output of the releases the default production rows of that
    (year, mineral, stage) come from: year, mineral, stage, qty_t."""
    used = production.loc[production["source"].str.startswith("usgs"),
                          ["year", "mineral", "stage"]].drop_duplicates()
    out = other.merge(used, on=["year", "mineral", "stage"])
    return out[["year", "mineral", "stage", "qty_t"]].reset_index(drop=True)


def withheld_trade(manifest: dict[str, Any], years: list[int],
                   minerals: list[str] | None) -> pd.DataFrame:
    """The mineral stages whose flows the build withheld for implausible content (the
    manifest's ``content_withheld``): year, mineral, stage, ratio."""
    rows = pd.DataFrame(manifest.get("content_withheld", []),
                        columns=["year", "mineral", "stage", "ratio"])
    rows = rows[["year", "mineral", "stage", "ratio"]]
    keep = rows["year"].isin(years)
    if minerals is not None:
        keep &= rows["mineral"].isin(minerals)
    return rows[keep].astype({"year": "int16", "ratio": "float64"}).reset_index(drop=True)


REPORTED_COLUMNS = ["year", "country", "mineral", "stage", "source", "qty_t"]
"""The columns of :attr:`CubeInputs.reported`."""


def baskets(presence: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Per (year, mineral, stage) whose traded codes that year (with a quantity) are all
    baskets for the mineral (its ``allocation_share`` at most
    :data:`~critmin.metrics.cube.BASKET_SHARE`): the codes, as text.

    Examples
    --------
    >>> links = pd.DataFrame({"hs6": ["811291", "811230"], "mineral": ["germanium"] * 2,
    ...                       "stage": ["refined"] * 2, "allocation_share": [0.01, 1.0]})
    >>> both = pd.DataFrame({"year": [2024, 2024], "hs6": ["811291", "811230"],
    ...                      "n_rows_with_qty": [5, 3]})
    >>> baskets(both, links).empty, baskets(both.iloc[:1], links)["codes"].tolist()
    (True, ['811291'])
    """
    from critmin.metrics.cube import BASKET_SHARE

    have = presence.loc[presence["n_rows_with_qty"] > 0, ["year", "hs6"]].astype(
        {"hs6": str})
    share = links["allocation_share"] if "allocation_share" in links else pd.Series(
        np.nan, index=links.index)
    codes = links[["hs6", "mineral", "stage"]].astype(str).assign(
        basket=share.le(BASKET_SHARE).to_numpy())
    traded = have.merge(codes, on="hs6")
    key = ["year", "mineral", "stage"]
    grouped = traded.sort_values("hs6").groupby(key, as_index=False).agg(
        all_basket=("basket", "all"), codes=("hs6", lambda s: ", ".join(dict.fromkeys(s))))
    out = grouped[grouped["all_basket"]][[*key, "codes"]]
    return out.astype({"year": "int16"}).reset_index(drop=True)


def checked(inputs: CubeInputs) -> CubeInputs:
    """``inputs`` unchanged when every table has the columns the metrics read.

    Examples
    --------
    >>> import pandas as pd
    >>> empty = pd.DataFrame()
    >>> checked(CubeInputs(pairs=empty, production=empty, governance=empty))
    Traceback (most recent call last):
    ...
    critmin.errors.DataError: the cube's pairs lack year, exporter, importer, mineral, stage, qty_t, qty_basis_t, value_kusd, value_with_qty_kusd, unfactored_kusd, low_value_t
    """
    for table, columns in REQUIRED_COLUMNS.items():
        frame = getattr(inputs, table)
        if frame is None:
            continue
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"the cube's {table} lack {', '.join(missing)}")
    return inputs


FALLBACK = ("wmd", "usgs", "bgs-wms")
"""The order in which sources stand in for a year the default source does not cover."""


def default_production(production: pd.DataFrame, defaults: pd.DataFrame) -> pd.DataFrame:
    """One source per (mineral, stage, year): the documented default where sources overlap
    (``production_defaults``), World Mining Data before USGS otherwise; a year the default
    does not cover comes from the next source that does (:data:`FALLBACK`), so a series
    that ends (BGS in 2023) does not blank the later years. USGS releases count as one
    source (each year from the newest release that has it); the rows keep their source."""
    family = production["source"].where(~production["source"].str.startswith("usgs"), "usgs")
    frame = production.assign(family=family)
    chosen = defaults[["mineral", "stage", "source"]].rename(columns={"source": "chosen"})
    frame = frame.merge(chosen, on=["mineral", "stage"], how="left")
    first = frame.groupby(["mineral", "stage"])["family"].transform(
        lambda s: "wmd" if (s == "wmd").any() else "usgs")
    preferred = frame["chosen"].fillna(first)
    rank = frame["family"].map({f: i + 1 for i, f in enumerate(FALLBACK)}).fillna(
        len(FALLBACK) + 1).where(frame["family"] != preferred, 0)
    best = rank.groupby([frame["mineral"], frame["stage"], frame["year"]]).transform("min")
    keep = rank == best
    return frame.loc[keep, production.columns].reset_index(drop=True)


def coverage(presence: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Per (year, mineral, stage): the stage's principal codes with no rows with a quantity
    that year (text, empty when all are there), and how many principal codes it has."""
    principal = links[links["principal"]][["hs6", "mineral", "stage"]].drop_duplicates()
    years = pd.DataFrame({"year": sorted(presence["year"].unique())})
    grid = principal.merge(years, how="cross")
    have = presence[presence["n_rows_with_qty"] > 0][["year", "hs6"]].assign(have=True)
    grid = grid.merge(have, on=["year", "hs6"], how="left")
    grid["gone"] = np.where(grid["have"].isna(), grid["hs6"], "")
    out = grid.sort_values("hs6").groupby(["year", "mineral", "stage"], as_index=False).agg(
        missing=("gone", lambda s: ", ".join(v for v in s if v)),
        n_principal=("hs6", "size"))
    out["year"] = out["year"].astype("int16")
    return out


def short_name(description: str) -> str:
    """A product description cut to its first clause, for reasons.

    Examples
    --------
    >>> short_name("Lithium oxide and hydroxide; lithium carbonate")
    'Lithium oxide and hydroxide'
    """
    text = str(description).split(";")[0].strip()
    return text[:40].rstrip() + ("…" if len(text) > 40 else "")
