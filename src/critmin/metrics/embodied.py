"""Minerals embodied in traded goods: pure functions over flows × contents.

A downstream good (a magnet, a motor, a vehicle) carries minerals that the trade of ore,
compounds and metals does not show. ``catalog/goods_contents.csv`` states, with a source per
row, what one tonne (or one unit) of a good contains, multi-level: a magnet holds rare-earth
metal, which holds rare-earth oxide. :func:`expand_contents` multiplies along every path down
to the minerals, keeping the central figure and the published range (the expansion of
:func:`critmin.catalog.contents.expand`). A content is counted in its component's own unit:
tonnes of a component whose rows are per tonne, pieces of one whose rows are per unit, so a
row ``870380 -> electric-car`` per tonne holding 1 / (t per car) cars converts the per-car
contents of ``electric-car`` to tonnes of trade. :func:`embodied_trade` applies the per-tonne
contents to the flows, and :func:`summarise` gives each country's
embodied imports and exports per mineral and year with China's share.

Embodied figures are a view beside the direct ones, never added into them: the direct
figures of a mineral already count some goods at its product stage (magnets for rare earths),
so adding the two would count those goods twice (:func:`beside_direct`).

>>> goods = pd.DataFrame({"product": ["850511", "magnet", "re-metal"],
...                       "component": ["magnet", "re-metal", "rare-earths"],
...                       "per": ["t", "t", "t"], "content": [1.0, 0.3, 1.2],
...                       "content_low": [1.0, 0.2, 1.1], "content_high": [1.0, 0.4, 1.3],
...                       "source": ["a", "b", "c"]})
>>> flat = expand_contents(goods, {"rare-earths"})
>>> flat[["hs6", "mineral", "content", "content_low", "content_high", "levels"]].round(4
...     ).values.tolist()
[['850511', 'rare-earths', 0.36, 0.22, 0.52, 3]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from critmin.catalog.contents import expand
from critmin.errors import DataError
from critmin.metrics.concentration import CHINA

VALUES = ["content", "content_low", "content_high"]
"""The content columns carried along every path: the central figure and the range."""

SIDES = ("imports", "exports")


def expand_contents(goods: pd.DataFrame, minerals: set[str]) -> pd.DataFrame:
    """Every HS-coded good's content of each mineral, its components multiplied out.

    Parameters
    ----------
    goods : DataFrame
        Rows of ``goods_contents``: product, component, per, content, content_low,
        content_high, source.
    minerals : set of str
        The mineral slugs; a component that is neither a mineral nor a product of its own
        raises DataError, and so does a product whose rows mix ``t`` and ``unit`` (its
        contents would be per tonne and per piece at once).

    Returns
    -------
    DataFrame
        One row per (product, mineral) for the products that are six-digit HS codes: per
        (the top row's, ``t`` or ``unit``), content, content_low, content_high (each the
        product of its path's steps, summed over paths), source (the path's sources,
        ' > '-joined; paths '; '-joined) and levels (longest path).

    Examples
    --------
    A car code traded in tonnes, 0.5 cars per tonne, each car holding 0.02 t of lithium:

    >>> rows = pd.DataFrame({"product": ["870380", "car"], "component": ["car", "lithium"],
    ...                      "per": ["t", "unit"], "content": [0.5, 0.02],
    ...                      "content_low": [0.5, 0.02], "content_high": [0.5, 0.02],
    ...                      "source": ["mass", "kg per car"]})
    >>> expand_contents(rows, {"lithium"})[["hs6", "per", "content"]].values.tolist()
    [['870380', 't', 0.01]]
    """
    edges = goods[["product", "component", "per", *VALUES, "source"]]
    dangling = set(edges["component"]) - minerals - set(edges["product"])
    if dangling:
        raise DataError(f"goods contents name components that are neither minerals nor goods "
                        f"with contents of their own: {sorted(dangling)[:5]}")
    counted = edges.groupby("product")["per"].nunique()
    mixed = sorted(counted.index[counted > 1])
    if mixed:
        raise DataError(f"goods contents mix per t and per unit for {mixed[:5]}: give each "
                        "product's contents per tonne or per unit, and convert between the "
                        "two with a row of its own (units per tonne)")
    out = expand(edges, minerals, VALUES, keep=("per",), what="goods contents")
    out = out[out["product"].str.fullmatch(r"[0-9]{6}")]
    return out.rename(columns={"product": "hs6"}).reset_index(drop=True)


def embodied_trade(flows: pd.DataFrame, contents: pd.DataFrame,
                   floors: pd.Series | None = None) -> pd.DataFrame:
    """Tonnes of each mineral carried by each flow of a good, central and range.

    Parameters
    ----------
    flows : DataFrame
        year, exporter, importer, hs6, value_kusd, qty_t.
    contents : DataFrame
        :func:`expand_contents`'s rows; only those per tonne apply (trade is in tonnes).
    floors : Series, optional
        hs6 -> USD/kg: a flow priced below its code's floor is another good misclassified
        into the line (ferrite magnets in 850511) and carries no mineral.

    Returns
    -------
    DataFrame
        year, exporter, importer, hs6, mineral, qty_t, embodied_t, embodied_low_t,
        embodied_high_t (t of the mineral's basis); a flow without a quantity carries
        none.
    """
    per_t = contents[contents["per"] == "t"]
    cols = ["year", "exporter", "importer", "hs6", "value_kusd", "qty_t"]
    rows = flows[cols].astype({"hs6": str, "exporter": str, "importer": str}).merge(
        per_t[["hs6", "mineral", *VALUES]], on="hs6", how="inner")
    qty = rows["qty_t"].astype("float64").fillna(0.0)
    if floors is not None and len(floors):
        floor = rows["hs6"].map(floors).astype("float64")
        price = rows["value_kusd"].astype("float64") / qty.where(qty > 0)
        qty = qty.where(~(price < floor), 0.0)
    out = rows[["year", "exporter", "importer", "hs6", "mineral", "qty_t"]].copy()
    for value, name in zip(VALUES, ("embodied_t", "embodied_low_t", "embodied_high_t"),
                           strict=True):
        out[name] = qty.to_numpy() * rows[value].to_numpy()
    return out.reset_index(drop=True)


def summarise(lines: pd.DataFrame, by_product: bool = False) -> pd.DataFrame:
    """Each country's embodied imports and exports per mineral and year, with China's share.

    Parameters
    ----------
    lines : DataFrame
        :func:`embodied_trade`'s rows.
    by_product : bool
        One row per good (hs6) too, instead of the goods summed.

    Returns
    -------
    DataFrame
        year, country, mineral[, hs6], imports_t, imports_low_t, imports_high_t,
        imports_from_china_t, china_share (of imports, tonnes; empty without imports),
        exports_t, exports_low_t, exports_high_t, exports_to_china_t. Trade between a
        country and itself is left out.
    """
    key = ["year", "country", "mineral", *(["hs6"] if by_product else [])]
    values = ["embodied_t", "embodied_low_t", "embodied_high_t"]
    lines = lines[lines["exporter"] != lines["importer"]]
    parts = []
    for side, own, other in (("imports", "importer", "exporter"),
                             ("exports", "exporter", "importer")):
        frame = lines.rename(columns={own: "country"}).assign(
            china_t=np.where(lines[other] == CHINA, lines["embodied_t"], 0.0))
        total = frame.groupby(key, as_index=False, observed=True)[[*values, "china_t"]].sum()
        china = "imports_from_china_t" if side == "imports" else "exports_to_china_t"
        parts.append(total.rename(columns={
            "embodied_t": f"{side}_t", "embodied_low_t": f"{side}_low_t",
            "embodied_high_t": f"{side}_high_t", "china_t": china}).set_index(key))
    out = parts[0].join(parts[1], how="outer").fillna(0.0).reset_index()
    out["china_share"] = out["imports_from_china_t"] / out["imports_t"].where(
        out["imports_t"] > 0)
    cols = [*key, "imports_t", "imports_low_t", "imports_high_t", "imports_from_china_t",
            "china_share", "exports_t", "exports_low_t", "exports_high_t",
            "exports_to_china_t"]
    return out[cols].sort_values(key, kind="stable").reset_index(drop=True)


def beside_direct(direct: pd.DataFrame, embodied: pd.DataFrame,
                  goods_codes: set[str] | None = None,
                  stage_codes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The direct per-stage figures and the embodied figure side by side, one row each.

    Parameters
    ----------
    direct : DataFrame
        Stage rows (year, country, mineral, stage, imports_basis_t, exports_basis_t,
        china_share), as :func:`critmin.stages` gives them.
    embodied : DataFrame
        :func:`summarise`'s rows (goods summed).
    goods_codes, stage_codes : optional
        The HS codes the embodied figure covers and the direct stages' codes (hs6,
        mineral, stage): a direct stage that counts any of the same codes is marked
        ``overlaps_embodied`` (adding the two would count those goods twice).

    Returns
    -------
    DataFrame
        year, country, mineral, view (``direct`` or ``embodied``), stage (``embodied in
        goods`` for the embodied row), imports_t, imports_low_t and imports_high_t (the
        embodied row's range), exports_t (t of the mineral's basis), china_share,
        overlaps_embodied. No total: the views are shown beside each other,
        not added.
    """
    key = ["year", "country", "mineral"]
    rows = direct[[*key, "stage", "imports_basis_t", "exports_basis_t", "china_share"]].rename(
        columns={"imports_basis_t": "imports_t", "exports_basis_t": "exports_t"}).assign(
        view="direct")
    overlap = set()
    if goods_codes and stage_codes is not None:
        shared = stage_codes[stage_codes["hs6"].isin(goods_codes)]
        overlap = set(zip(shared["mineral"], shared["stage"], strict=True))
    rows["overlaps_embodied"] = [(m, s) in overlap for m, s in
                                 zip(rows["mineral"], rows["stage"], strict=True)]
    emb = embodied[[*key, "imports_t", "imports_low_t", "imports_high_t", "exports_t",
                    "china_share"]].assign(
        view="embodied", stage="embodied in goods", overlaps_embodied=False)
    out = pd.concat([rows, emb], ignore_index=True)
    cols = [*key, "view", "stage", "imports_t", "imports_low_t", "imports_high_t",
            "exports_t", "china_share", "overlaps_embodied"]
    return out[cols].sort_values(key, kind="stable").reset_index(drop=True)
