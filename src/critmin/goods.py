"""Minerals embodied in traded goods, per country, mineral and year, beside the direct figures.

Reads the sourced contents of downstream goods (``catalog/goods_contents.csv``) and the
store's flows of those goods, and computes with :mod:`critmin.metrics.embodied`. On the
bundled data the goods traded in tonnes are permanent magnets (850511, 2024 onwards); an
imported BACI release (``critmin data import baci --products all``) carries every good of
the catalog (lithium-ion batteries 850760, electric cars 870380 through their mass).

>>> rows = embodied("IND", "rare-earths", 2024)
>>> rows.loc[0, ["country", "mineral"]].tolist(), int(rows.loc[0, "year"])
(['IND', 'rare-earths'], 2024)
>>> bool(rows.loc[0, "imports_low_t"] <= rows.loc[0, "imports_t"] <= rows.loc[0, "imports_high_t"])
True
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from critmin.catalog import load
from critmin.metrics import embodied as emb

EMBODIED_UNITS = {
    "imports_t": "t (basis)", "imports_low_t": "t (basis)", "imports_high_t": "t (basis)",
    "imports_from_china_t": "t (basis)", "china_share": "share", "exports_t": "t (basis)",
    "exports_low_t": "t (basis)", "exports_high_t": "t (basis)",
    "exports_to_china_t": "t (basis)"}
"""Units of :func:`embodied`'s columns: tonnes of each mineral's production basis."""


def goods_contents() -> pd.DataFrame:
    """``catalog/goods_contents.csv``: what one tonne or unit of a good contains, sourced."""
    return load("goods_contents").fillna({"note": "", "source": ""})


def mineral_contents(goods: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each good's content of each mineral with its components multiplied out
    (:func:`critmin.metrics.embodied.expand_contents`).

    >>> flat = mineral_contents().set_index(["hs6", "mineral"])
    >>> round(float(flat.loc[("850511", "rare-earths"), "content"]), 4)
    0.3708
    """
    from critmin.store import get_store

    goods = goods_contents() if goods is None else goods
    minerals = set(get_store().table("minerals")["mineral"])
    return emb.expand_contents(goods, minerals)


def price_floors(codes: Sequence[str]) -> pd.Series:
    """hs6 -> USD/kg below which a flow of the good carries no mineral: the catalog's
    unit-value rules that take content away from a whole code (``no-content``)."""
    from critmin.trade_checks import load_unit_value_rules

    rules = load_unit_value_rules()
    whole = rules[(rules["action"] == "no-content") & (rules["exporter"] == "")
                  & (rules["importer"] == "") & rules["first_year"].isna()
                  & rules["last_year"].isna() & rules["hs6"].isin(list(codes))]
    return whole.set_index("hs6")["floor_usd_per_kg"]


def embodied(countries: Sequence[str] | str | None = None,
             minerals: Sequence[str] | str | None = None,
             years: Sequence[int] | int | None = None,
             by_product: bool = False) -> pd.DataFrame:
    """Minerals embodied in each country's imports and exports of goods, per year.

    Parameters
    ----------
    countries, minerals, years
        Filters as in :func:`critmin.risk` (a group stands for its members); all if None.
    by_product : bool
        One row per good (hs6) too.

    Returns
    -------
    DataFrame
        :func:`critmin.metrics.embodied.summarise`'s columns, in tonnes of each mineral's
        production basis (units in ``attrs["units"]``), with the range from the published
        contents. Goods whose contents are per unit and have no row converting their
        tonnes into pieces are not applied: trade is in tonnes (:func:`per_unit_goods`).

    Examples
    --------
    >>> rows = critmin.embodied("IND", "rare-earths", 2024, by_product=True)
    >>> rows.loc[0, "hs6"], bool(rows.loc[0, "china_share"] > 0.5)
    ('850511', True)
    """
    from critmin import checks, query
    from critmin.store import get_store

    by_product = checks.as_bool(by_product, "by_product")
    country_list = query.resolve_countries(countries)
    mineral_list = query.resolve_minerals(minerals)
    year_list = query.resolve_years(years)
    flat = mineral_contents()
    if mineral_list is not None:
        flat = flat[flat["mineral"].isin(mineral_list)]
    codes = sorted(set(flat.loc[flat["per"] == "t", "hs6"]))
    flows = get_store().flows(hs6=codes, years=year_list) if codes else pd.DataFrame(
        columns=["year", "exporter", "importer", "hs6", "value_kusd", "qty_t"])
    lines = emb.embodied_trade(flows, flat, price_floors(codes))
    out = emb.summarise(lines, by_product=by_product)
    if country_list is not None:
        out = out[out["country"].isin(country_list)].reset_index(drop=True)
    out["year"] = out["year"].astype("int64")
    out.attrs["units"] = EMBODIED_UNITS
    return out


def per_unit_goods() -> pd.DataFrame:
    """Goods whose contents are published per unit (kg per vehicle) with no mass converting
    them to tonnes: hs6, mineral, content (t per unit), source. Trade in tonnes cannot carry
    them; they are listed, not applied (electric cars, 870380, apply through their mass)."""
    flat = mineral_contents()
    return flat[flat["per"] == "unit"].reset_index(drop=True)


def beside_direct(country: str, minerals: Sequence[str] | str | None = None,
                  years: Sequence[int] | int | None = None) -> pd.DataFrame:
    """A country's direct per-stage figures and the embodied figure, side by side, for every
    (mineral, year) its goods embody (:func:`critmin.metrics.embodied.beside_direct`); the
    two are never added together.

    >>> view = beside_direct("IND", "rare-earths", 2024)
    >>> view["stage"].tolist()
    ['ore', 'intermediate', 'refined', 'product', 'embodied in goods']
    >>> view.set_index("stage").loc["product", "overlaps_embodied"]
    np.True_
    """
    from critmin import query
    from critmin.store import get_store

    found = embodied(country, minerals, years)
    if found.empty:
        return emb.beside_direct(
            pd.DataFrame(columns=["year", "country", "mineral", "stage", "imports_basis_t",
                                  "exports_basis_t", "china_share"]), found)
    direct = query.stages(country, sorted(set(found["mineral"])),
                          sorted({int(y) for y in found["year"]}))
    direct = direct.merge(found[["year", "country", "mineral"]], on=["year", "country",
                                                                     "mineral"])
    flat = mineral_contents()
    goods_codes = set(flat.loc[flat["per"] == "t", "hs6"])
    stage_codes = get_store().table("product_minerals")[["hs6", "mineral", "stage"]]
    out = emb.beside_direct(direct, found, goods_codes, stage_codes)
    out.attrs["units"] = {c: EMBODIED_UNITS[c] for c in
                          ("imports_t", "imports_low_t", "imports_high_t", "exports_t",
                           "china_share")}
    return out
