"""A company's view of its own purchases: frames in, frames out, no I/O.

Per (company, year, mineral): the supplier mix (tonnes on the mineral's basis and shares by
supplier country) and its HHI; China's share bought directly and traced one step back
through the supplier countries' own supply (a supplier's production and imports, as the
cube's ``china_share_origin`` traces entrepôts); the company's GeoPolRisk score and
characterisation factor, in critmin's default and in geopolrisk-py 2.0.1's company method;
the tonnes bought from a supplier with a documented export control in force on the mineral;
and what a restriction would take, each supplier country passing on its own loss share.

GeoPolRisk of a company (Koyamparambath et al.): WTA = Σ_j g_j q_j / Σ_j q_j (a company
produces nothing), Score = HHI_production × WTA, CF = Score × price / 0.409412948 with price
= value / quantity in USD/kg.

- ``compat`` (geopolrisk-py's company method): g_j from geopolrisk-py's own normalised WGI
  table; a supplier without a value there makes the library fail, so the score is missing;
  HHI from its World Mining Data rows (blank as 0, truncated to integers); price over every
  row; quantities as stated, whatever the material.
- default: g_j from critmin's governance table, 0.5 where the WGI has no value; HHI of
  world mine production from the cube; quantities on the mineral's basis (a product's
  tonnes times its content factor); price over the rows that record a value, in USD at the
  row's rate.

>>> lines = pd.DataFrame({"company": "Acme", "year": 2023, "mineral": "lithium",
...     "supplier_country": ["CHL", "CHN", "CHL"], "origin_country": [None, None, None],
...     "qty_t": [3.0, 1.0, 1.0], "qty_basis_t": [3.0, 1.0, 1.0],
...     "value_usd": [30e3, 12e3, 10e3]})
>>> mix = supplier_mix(lines)
>>> mix[["supplier_country", "qty_basis_t", "share"]].values.tolist()
[['CHL', 4.0, 0.8], ['CHN', 1.0, 0.2]]
>>> round(float(concentration(mix)["hhi"].iloc[0]), 6)
0.68
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from critmin.metrics.geopolrisk import CF_COPPER, MISSING_RISK, compat_hhi
from critmin.sources.validate import MASS_UNITS

CHINA = "CHN"
GROUP = ["company", "year", "mineral"]
"""One company's purchases of one mineral in one year: the unit every figure is for."""


def purchase_lines(purchases: pd.DataFrame, product_minerals: pd.DataFrame) -> pd.DataFrame:
    """Stored purchases as lines (company, year, mineral, supplier_country, origin_country,
    qty_t, qty_basis_t, value_usd, material): quantities in tonnes, values in USD at each
    row's rate, a product's tonnes split among its minerals on their basis (content factor ×
    allocation share; missing when the catalog has no factor).

    A mineral bought as such counts in full (basis = tonnes bought).
    """
    rows = purchases.copy()
    rows["year"] = rows["period"].astype(str).str[:4].astype("int64")
    factor = rows["quantity_unit"].map(MASS_UNITS).astype("float64")
    rows["qty_t"] = rows["quantity"].astype("float64") * factor
    rate = rows["usd_rate"].astype("float64").where(rows["currency"].ne("USD"), 1.0)
    rows["value_usd"] = rows["value"].astype("float64") * rate
    is_code = rows["material"].astype(str).str.fullmatch(r"[0-9]{6}")
    direct = rows[~is_code].assign(mineral=rows["material"], basis=1.0)
    links = product_minerals[["hs6", "mineral", "content_factor", "allocation_share"]]
    products = rows[is_code].merge(links, left_on="material", right_on="hs6", how="left")
    products["basis"] = products["content_factor"] * products["allocation_share"].fillna(1.0)
    lines = pd.concat([direct, products.drop(columns=["hs6", "content_factor",
                                                      "allocation_share"])],
                      ignore_index=True)
    lines["qty_basis_t"] = lines["qty_t"] * lines["basis"]
    return lines[["company", "year", "mineral", "material", "supplier_country",
                  "origin_country", "qty_t", "qty_basis_t", "value_usd"]]


def supplier_mix(lines: pd.DataFrame) -> pd.DataFrame:
    """Tonnes (on the basis), value and share of each supplier country, per company, year and
    mineral; shares sum to 1 over each group's suppliers."""
    mix = lines.groupby([*GROUP, "supplier_country"], as_index=False, sort=True).agg(
        qty_t=("qty_t", "sum"), qty_basis_t=("qty_basis_t", "sum"),
        value_usd=("value_usd", lambda v: v.sum(min_count=1)))
    total = mix.groupby(GROUP)["qty_basis_t"].transform("sum")
    mix["share"] = mix["qty_basis_t"] / total.where(total > 0)
    return mix


def concentration(mix: pd.DataFrame) -> pd.DataFrame:
    """Per company, year and mineral: tonnes, number of suppliers, supplier HHI (Σ share²),
    largest supplier and its share, China's direct share."""
    m = mix.assign(s2=mix["share"] ** 2,
                   china=mix["share"].where(mix["supplier_country"] == CHINA, 0.0))
    out = m.groupby(GROUP, as_index=False, sort=True).agg(
        qty_basis_t=("qty_basis_t", "sum"), qty_t=("qty_t", "sum"),
        n_suppliers=("supplier_country", "nunique"), hhi=("s2", "sum"),
        china_share=("china", "sum"))
    top = m.sort_values([*GROUP, "share"], ascending=[True] * len(GROUP) + [False]
                        ).drop_duplicates(GROUP)[[*GROUP, "supplier_country", "share"]]
    top = top.rename(columns={"supplier_country": "top_supplier",
                              "share": "top_supplier_share"})
    return out.merge(top, on=GROUP, how="left")


def traced_china_share(lines: pd.DataFrame, supply: pd.DataFrame) -> pd.DataFrame:
    """China's share of each group's tonnes once each supplier country's shipments are traced
    one step back to its own supply: a stated origin decides (China or not); otherwise a
    purchase from China counts in full, and one from another country counts China's share of
    that country's supply (its imports from China over its production plus imports, from
    ``supply``: year, country, mineral, production_t, imports_basis_t, china_share). A
    country the data has no imports for passes on no Chinese material."""
    s = supply.assign(
        base=supply["production_t"].fillna(0.0) + supply["imports_basis_t"].fillna(0.0))
    s["hub_china"] = (s["china_share"].fillna(0.0) * s["imports_basis_t"].fillna(0.0)
                      / s["base"].where(s["base"] > 0))
    s = s.rename(columns={"country": "supplier_country"})[
        ["year", "supplier_country", "mineral", "hub_china"]]
    x = lines.merge(s, on=["year", "supplier_country", "mineral"], how="left")
    origin = x["origin_country"].astype(object)
    known = origin.notna() & origin.astype(str).ne("")
    via = np.where(x["supplier_country"] == CHINA, 1.0, x["hub_china"].fillna(0.0))
    x["china_t"] = x["qty_basis_t"] * np.where(known, (origin == CHINA).astype(float), via)
    out = x.groupby(GROUP, as_index=False, sort=True).agg(
        china_t=("china_t", "sum"), total=("qty_basis_t", "sum"))
    out["china_share_traced"] = out["china_t"] / out["total"].where(out["total"] > 0)
    return out[[*GROUP, "china_share_traced"]]


def _score(lines: pd.DataFrame, g: pd.Series, hhi: pd.DataFrame, qty: str,
           valued: pd.Series, every_value: bool = False) -> pd.DataFrame:
    x = lines.assign(g=g.to_numpy(), num=lines[qty] * g.to_numpy(),
                     kg=(lines["qty_t"] * 1000.0).where(valued),
                     usd=lines["value_usd"].where(valued))
    out = x.groupby(GROUP, as_index=False, sort=True).agg(
        numerator=("num", lambda v: v.sum(min_count=len(v))), total=(qty, "sum"),
        usd=("usd", (lambda v: v.sum(min_count=len(v))) if every_value else "sum"),
        kg=("kg", "sum"))
    out["wta"] = out["numerator"] / out["total"].where(out["total"] > 0)
    out["price_usd_per_kg"] = out["usd"] / out["kg"].where(out["kg"] > 0)
    out = out.merge(hhi, on=["year", "mineral"], how="left")
    out["score"] = out["hhi_production"] * out["wta"]
    out["cf"] = out["score"] * out["price_usd_per_kg"] / CF_COPPER
    return out[[*GROUP, "hhi_production", "wta", "price_usd_per_kg", "score", "cf"]]


def geopolrisk(lines: pd.DataFrame, governance: pd.DataFrame,
               world_hhi: pd.DataFrame) -> pd.DataFrame:
    """The company's GeoPolRisk in critmin's default mode (``governance``: year, country,
    risk; ``world_hhi``: year, mineral, hhi of world mine production)."""
    gov = governance.rename(columns={"country": "supplier_country"})
    g = lines.merge(gov[["year", "supplier_country", "risk"]],
                    on=["year", "supplier_country"], how="left")["risk"].fillna(MISSING_RISK)
    hhi = world_hhi.rename(columns={"hhi": "hhi_production"})[
        ["year", "mineral", "hhi_production"]]
    valued = lines["value_usd"].notna()
    return _score(lines, g, hhi, "qty_basis_t", valued)


def compat_company(lines: pd.DataFrame, gpr_governance: pd.DataFrame,
                   gpr_production: pd.DataFrame) -> pd.DataFrame:
    """The company's GeoPolRisk as geopolrisk-py 2.0.1's company method computes it:
    importrisk_company's numerator, trade and price, HHI(material, year, "Company") and
    GeoPolRisk() (``gpr_governance``: year, country, risk, raw; ``gpr_production``: the
    World Mining Data rows of :func:`~critmin.metrics.geopolrisk.compat_hhi`).

    A supplier whose WGI entry is not a value leaves the score missing (the library stops
    there), and a row without a value leaves the price and CF missing (the library's sum is
    NaN); a company produces nothing, so WTA = Σ g q / Σ q.
    """
    gov = gpr_governance.rename(columns={"country": "supplier_country"})
    merged = lines.merge(gov[["year", "supplier_country", "risk", "raw"]],
                         on=["year", "supplier_country"], how="left")
    g = merged["risk"].where(merged["raw"].eq("value"))
    hhi = compat_hhi(gpr_production).rename(columns={"hhi": "hhi_production"})
    everything = pd.Series(True, index=lines.index)
    return _score(lines, g, hhi, "qty_t", everything, every_value=True)


def controls_in_force(mix: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Purchases from a supplier country with a documented export control in force on the
    mineral (``events``: id, supplier, minerals, stage, targets, status, title): one row per
    (company, year, mineral, supplier_country, event) with the tonnes and share bought."""
    live = events[events["status"].eq("in force")].explode("minerals")
    live = live.rename(columns={"supplier": "supplier_country", "minerals": "mineral",
                                "id": "event"})
    live["targets"] = live["targets"].map(lambda t: ", ".join(t) if len(t) else "every importer")
    live["stage"] = live["stage"].map(", ".join)
    hit = mix.merge(live[["supplier_country", "mineral", "event", "title", "stage",
                          "targets"]], on=["supplier_country", "mineral"])
    return hit[[*GROUP, "supplier_country", "event", "title", "stage", "targets",
                "qty_basis_t", "share"]].sort_values([*GROUP, "event"], ignore_index=True)


def inherited_loss(mix: pd.DataFrame, loss_share: pd.DataFrame,
                   suppliers: Sequence[str], cut: float) -> pd.DataFrame:
    """What a restriction takes from the company: each supplier country passes on its own
    loss share pro rata (``loss_share``: mineral, year, country, loss_share, from the
    restriction's per-country result), and a restricting supplier withholds ``cut`` of what
    it sells. Per (company, year, mineral): loss_t and loss_share of the tonnes bought."""
    ls = loss_share.rename(columns={"country": "supplier_country"})
    x = mix.merge(ls[["year", "mineral", "supplier_country", "loss_share"]],
                  on=["year", "mineral", "supplier_country"], how="left")
    own = x["supplier_country"].isin(list(suppliers))
    share = np.where(own, cut, x["loss_share"].fillna(0.0).clip(0.0, 1.0))
    x["loss_t"] = x["qty_basis_t"] * share
    out = x.groupby(GROUP, as_index=False, sort=True).agg(
        loss_t=("loss_t", "sum"), total=("qty_basis_t", "sum"))
    out["loss_share"] = out["loss_t"] / out["total"].where(out["total"] > 0)
    return out[[*GROUP, "loss_t", "loss_share"]]
