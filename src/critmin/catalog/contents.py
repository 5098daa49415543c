"""Mineral contents of products, multi-level, each with its source.

Two ways a product line carries minerals, declared in two tables:

- ``product_minerals`` (``products.csv``) *allocates* an HS code's tonnage: a code that lumps
  distinct goods (gallium, germanium and indium in one line) gives each mineral a share of
  its tonnage, and the shares of one code never add up to more than 1;
- ``product_contents`` (``product_contents.csv``) states what one tonne of a product
  *contains*: a cathode holds lithium, nickel and cobalt at once, each in full, so contents
  of distinct minerals are not capped at 1 in total. A content may name another product or
  component (a magnet holds NdPr metal, which holds rare earths): :func:`mineral_contents`
  multiplies along every path down to the minerals and keeps the sources of each step.

:func:`links` gives the aggregation's link rows (:mod:`critmin.store.engine`) of both: the
allocation rows as they are, then one row per (HS code, mineral) content at allocation 1.

>>> contents = load_contents()
>>> flat = mineral_contents(contents)
>>> round(float(flat.set_index(["product", "mineral"]).loc[
...     ("ndfeb-magnet", "rare-earths"), "content"]), 4)
0.3143
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from critmin import schema
from critmin.catalog import load
from critmin.errors import DataError

MAX_LEVELS = 8
"""Deepest chain of contents followed (product, component, …, mineral); deeper is a cycle."""

ALLOCATION_SLACK = 1e-9
"""Rounding allowed over 1 in the sum of a code's allocation shares."""


def load_contents(folder: Path | None = None) -> pd.DataFrame:
    """``product_contents.csv`` in its declared schema (``folder``: another catalog folder)."""
    frame = load("product_contents", folder)
    return frame.fillna({"stage": "product", "source": "", "note": ""})


def expand(edges: pd.DataFrame, minerals: set[str], values: Sequence[str] = ("content",),
           keep: Sequence[str] = (), what: str = "product contents") -> pd.DataFrame:
    """Multiply contents along every path from each product down to the minerals.

    The one expansion behind :func:`mineral_contents` (product contents, one central
    figure) and :func:`critmin.metrics.embodied.expand_contents` (goods contents, with
    the published range as extra value columns).

    Parameters
    ----------
    edges : DataFrame
        product, component, source, the ``values`` columns and the ``keep`` columns.
    minerals : set of str
        Where a path ends.
    values : sequence of str
        Numeric columns multiplied along each path and summed over paths.
    keep : sequence of str
        Columns taken from each path's first row (the top product's stage or ``per``).
    what : str
        What the rows are, for the cycle message.

    Returns
    -------
    DataFrame
        product, mineral, the ``keep`` columns, the ``values`` columns, source (each path's
        steps ' > '-joined, paths '; '-joined) and levels (longest path), sorted by product
        and mineral. Raises DataError on a cycle.

    Examples
    --------
    >>> rows = pd.DataFrame({"product": ["car", "cell"], "component": ["cell", "lithium"],
    ...                      "content": [2.0, 0.5], "low": [1.0, 0.4],
    ...                      "source": ["a", "b"]})
    >>> expand(rows, {"lithium"}, ("content", "low"))[["product", "content", "low"]
    ...     ].values.tolist()
    [['car', 1.0, 0.4], ['cell', 0.5, 0.4]]
    """
    values, keep = list(values), list(keep)
    edges = edges[["product", "component", *keep, *values, "source"]].astype(
        dict.fromkeys(values, "float64"))
    step = edges.drop(columns=keep).rename(columns={
        "product": "at", "component": "next", "source": "step_source",
        **{v: f"step_{v}" for v in values}})
    paths = edges.rename(columns={"component": "at"}).assign(levels=1)
    done = []
    for _ in range(MAX_LEVELS):
        reached = paths["at"].isin(minerals)
        done.append(paths[reached])
        paths = paths[~reached]
        if paths.empty:
            break
        paths = paths.merge(step, on="at", how="inner")
        paths = paths.assign(
            **{v: paths[v] * paths[f"step_{v}"] for v in values},
            source=paths["source"] + " > " + paths["step_source"],
            at=paths["next"], levels=paths["levels"] + 1,
        )[["product", "at", *keep, *values, "source", "levels"]]
    else:
        if not paths.empty:
            raise DataError(f"{what} form a cycle through "
                            f"{sorted(set(paths['product']))[:5]}")
    flat = pd.concat(done, ignore_index=True).rename(columns={"at": "mineral"})
    out = flat.groupby(["product", "mineral"], as_index=False, sort=True).agg(
        **{k: (k, "first") for k in keep}, **{v: (v, "sum") for v in values},
        source=("source", "; ".join), levels=("levels", "max"))
    return out.reset_index(drop=True)


def mineral_contents(contents: pd.DataFrame, minerals: set[str] | None = None
                     ) -> pd.DataFrame:
    """Every product's content of each mineral, its chains of components multiplied out.

    Parameters
    ----------
    contents : DataFrame
        Rows of ``product_contents``: product, component, stage, content, source.
    minerals : set of str, optional
        The mineral slugs (default: every component that is never a product).

    Returns
    -------
    DataFrame
        product, mineral, stage (the top product's), content (t mineral basis per t
        product, summed over the paths), source (each path's steps, ' > '-joined; paths
        '; '-joined), levels (longest path). Raises DataError on a cycle (:func:`expand`).

    Examples
    --------
    >>> rows = pd.DataFrame({"product": ["magnet", "ndpr"], "component": ["ndpr", "rare-earths"],
    ...                      "stage": ["product", "refined"], "content": [0.3, 1.2],
    ...                      "source": ["a", "b"]})
    >>> mineral_contents(rows)[["product", "mineral", "content", "source"]].to_dict("records")
    [{'product': 'magnet', 'mineral': 'rare-earths', 'content': 0.36, 'source': 'a > b'}, \
{'product': 'ndpr', 'mineral': 'rare-earths', 'content': 1.2, 'source': 'b'}]
    """
    if minerals is None:
        minerals = set(contents["component"]) - set(contents["product"])
    return expand(contents, minerals, keep=("stage",))


def links(product_minerals: pd.DataFrame, contents: pd.DataFrame | None = None,
          minerals: set[str] | None = None) -> pd.DataFrame:
    """The aggregation's link rows: ``product_minerals`` as it is, then each HS code's
    mineral contents at allocation share 1 (no low-value rule). Without contents the
    result is ``product_minerals`` itself, so existing links give identical numbers.

    Examples
    --------
    >>> pm = pd.DataFrame({"hs6": ["280530"], "mineral": ["rare-earths"], "stage": ["refined"],
    ...                    "content_factor": [1.17], "allocation_share": [1.0]})
    >>> battery = pd.DataFrame({"product": ["850760"] * 2, "component": ["lithium", "cobalt"],
    ...                         "stage": ["product"] * 2, "content": [0.02, 0.05],
    ...                         "source": ["x", "y"]})
    >>> links(pm, battery)[["hs6", "mineral", "content_factor", "allocation_share"]].values.tolist()
    [['280530', 'rare-earths', 1.17, 1.0], ['850760', 'cobalt', 0.05, 1.0], \
['850760', 'lithium', 0.02, 1.0]]
    """
    if contents is None or contents.empty:
        return product_minerals
    flat = mineral_contents(contents, minerals)
    coded = flat[flat["product"].str.fullmatch(r"[0-9]{6}")]
    rows = pd.DataFrame({"hs6": coded["product"], "mineral": coded["mineral"],
                         "stage": coded["stage"], "content_factor": coded["content"],
                         "allocation_share": 1.0})
    return pd.concat([product_minerals, rows], ignore_index=True)


def allocation_problems(product_minerals: pd.DataFrame) -> list[str]:
    """Codes whose allocation shares add up to more than 1 (a tonne allocated twice)."""
    over = product_minerals.groupby("hs6")["allocation_share"].sum()
    bad = over[over > 1 + ALLOCATION_SLACK]
    return [f"allocation shares above 1 for {sorted(bad.index)}"] if len(bad) else []


def content_problems(contents: pd.DataFrame, minerals: set[str],
                     product_minerals: pd.DataFrame | None = None) -> list[str]:
    """What is wrong with ``product_contents``: a repeated (product, component), a negative
    or missing content, an unknown stage, a component that is neither a mineral nor a
    product with contents of its own, a cycle, or an HS code whose mineral is both allocated
    in ``product_minerals`` and contained here (it would count twice). Contents of distinct
    minerals are not capped: a product holds each in full.

    Examples
    --------
    >>> rows = pd.DataFrame({"product": ["850760"] * 3, "component": ["lithium", "cobalt", "nickel"],
    ...                      "stage": ["product"] * 3, "content": [0.6, 0.3, 0.5],
    ...                      "source": ["s"] * 3})
    >>> content_problems(rows, {"lithium", "cobalt", "nickel"})
    []
    """
    problems = []
    pair = ["product", "component"]
    if contents.duplicated(pair).any():
        repeated = contents.loc[contents.duplicated(pair), pair].head(5)
        problems.append(f"product contents repeat {[tuple(r) for r in repeated.to_numpy()]}")
    content = contents["content"].astype("float64")
    bad = ~np.isfinite(content) | (content < 0)
    if bad.any():
        problems.append("product contents negative or missing for "
                        f"{sorted(set(contents.loc[bad, 'product']))[:5]}")
    unknown_stage = set(contents["stage"].dropna()) - set(schema.STAGES)
    if unknown_stage:
        problems.append(f"product contents in unknown stages {sorted(unknown_stage)}")
    dangling = set(contents["component"]) - minerals - set(contents["product"])
    if dangling:
        problems.append(f"product contents name components that are neither minerals nor "
                        f"products with contents: {sorted(dangling)[:5]}")
    if problems:
        return problems
    try:
        flat = mineral_contents(contents, minerals)
    except DataError as exc:
        return [str(exc)]
    if product_minerals is not None:
        both = flat.merge(product_minerals[["hs6", "mineral"]].rename(columns={"hs6": "product"}),
                          on=["product", "mineral"])
        if len(both):
            problems.append("minerals both allocated in products.csv and contained in "
                            "product_contents.csv (counted twice): "
                            f"{sorted(zip(both['product'], both['mineral'], strict=True))[:5]}")
    return problems
