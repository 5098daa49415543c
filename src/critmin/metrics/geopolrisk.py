"""GeoPolRisk (Koyamparambath et al.), in critmin's default mode and geopolrisk-py's.

Score = HHI_production × WTA, WTA = Σ_j g_j q(j→c) / (M_c + P_c),
CF = Score × price / CF_Cu with CF_Cu = 0.409412948 (copper, OECD average 2017-2021).
The differences between the modes are listed in docs/methods.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CF_COPPER = 0.409412948
"""The copper characterisation factor GeoPolRisk CFs are expressed against (eq. kg Cu/kg)."""

MISSING_RISK = 0.5
"""Governance risk assumed for an exporter with no WGI value (the published method)."""

def characterisation_factor(score: pd.Series, price_usd_per_kg: pd.Series) -> pd.Series:
    """CF in eq. kg Cu per kg: Score × price / CF_Cu."""
    return score * price_usd_per_kg / CF_COPPER


def compat_hhi(rows: pd.DataFrame) -> pd.DataFrame:
    """geopolrisk-py's production HHI per (mineral, year).

    Over every stored country row: a blank counts 0, each value is truncated to an
    integer (in the table's own unit, kg for precious metals), HHI = Σx² / (Σx)².
    """
    x = np.trunc(rows["qty_reported"].fillna(0.0).to_numpy())
    frame = pd.DataFrame({"mineral": rows["mineral"], "year": rows["year"], "x": x, "x2": x * x})
    out = frame.groupby(["mineral", "year"], as_index=False).agg(s=("x", "sum"), s2=("x2", "sum"))
    out["hhi"] = out["s2"] / (out["s"] * out["s"]).where(out["s"] != 0)
    return out[["mineral", "year", "hhi"]]


def compat_production(rows: pd.DataFrame) -> pd.DataFrame:
    """An importer's production as geopolrisk-py reads it: the first row with its BACI code,
    blank as 0, kg divided by 1000, any other unit (Mio m3, ct) left as it is."""
    first = rows[rows["baci_code"].notna()].sort_values("row").drop_duplicates(
        ["mineral", "year", "baci_code"], keep="first"
    )
    qty = first["qty_reported"].fillna(0.0)
    qty = qty.where(first["wmd_unit"] != "kg", qty / 1000.0)
    return pd.DataFrame(
        {
            "mineral": first["mineral"],
            "year": first["year"],
            "baci_code": first["baci_code"].astype("int64"),
            "gpr_production": qty.astype("float64"),
        }
    )


def _compat_flows(trade: pd.DataFrame, gpr_governance: pd.DataFrame, inside: pd.Series
                  ) -> pd.DataFrame:
    """Each flow's quantity, value and risk-weighted quantity as geopolrisk-py reads them:
    blanks as 0, a supplier without a WGI row at 0.5, a supplier ``inside`` the importer
    (itself, or a member of the importing region) at risk 0."""
    t = trade[["year", "exporter", "importer", "mineral", "value_kusd", "qty_t"]].copy()
    t["q0"] = t["qty_t"].fillna(0.0)
    t["v0"] = t["value_kusd"].fillna(0.0)
    gov = gpr_governance.rename(columns={"country": "exporter"})
    t = t.merge(gov[["year", "exporter", "risk", "raw"]], on=["year", "exporter"], how="left")
    own = inside.to_numpy()
    g = t["risk"].where(t["raw"].notna(), 0.5)
    g = g.where(~own, 0.0)
    t["num"] = t["q0"] * g
    t["fails"] = t["raw"].eq("None") & ~own
    t["nan"] = t["num"].isna()
    return t


def _compat_sums(t: pd.DataFrame, by: str) -> pd.DataFrame:
    agg = t.groupby(["year", by, "mineral"], as_index=False).agg(
        numerator=("num", "sum"), any_nan=("nan", "any"),
        total_t=("q0", "sum"), value_kusd=("v0", "sum"), peer_fails=("fails", "any"),
    )
    agg["numerator"] = agg["numerator"].where(~agg["any_nan"])  # NaN propagates, as in Python
    return agg.drop(columns="any_nan")


def compat_geopolrisk(trade: pd.DataFrame, gpr_governance: pd.DataFrame,
                      production_rows: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """GeoPolRisk exactly as geopolrisk-py 2.0.1 computes it, for every row of ``keys``.

    ``trade``: flows of the material's HS codes with columns year, exporter, importer,
    mineral, value_kusd, qty_t. ``keys``: year, country, mineral, baci_code (every
    combination to report, with or without trade, as the library reports zeros).
    """
    t = _compat_flows(trade, gpr_governance, trade["exporter"] == trade["importer"])
    agg = _compat_sums(t, "importer").rename(columns={"importer": "country"})
    out = keys.merge(agg, on=["year", "country", "mineral"], how="left")
    out["numerator"] = out["numerator"].where(out["total_t"].notna(), 0.0)
    out["total_t"] = out["total_t"].fillna(0.0)
    out["value_kusd"] = out["value_kusd"].fillna(0.0)
    out["peer_fails"] = out["peer_fails"].astype("boolean").fillna(False).astype(bool)
    out = out.merge(compat_hhi(production_rows), on=["mineral", "year"], how="left")
    prod = compat_production(production_rows)
    out = out.merge(prod, on=["mineral", "year", "baci_code"], how="left")
    out["gpr_production"] = out["gpr_production"].fillna(0.0)
    total = out["total_t"]
    out["price_usd_per_kg"] = (out["value_kusd"] / total.where(total != 0)).fillna(0.0)
    denominator = total + out["gpr_production"]
    out["wta"] = (out["numerator"] / denominator.where(denominator != 0)).where(
        denominator != 0, 0.0
    )
    out["score"] = out["hhi"] * out["wta"]
    out["cf"] = characterisation_factor(out["score"], out["price_usd_per_kg"])
    return out


def compat_region_geopolrisk(trade: pd.DataFrame, gpr_governance: pd.DataFrame,
                             production_rows: pd.DataFrame, members: pd.DataFrame
                             ) -> pd.DataFrame:
    """GeoPolRisk of regions as geopolrisk-py 2.0.1 computes it (``aggregateTrade``).

    Every member's imports count, those from other members included: in the quantity
    (the WTA's denominator), in the value (the price), and in the numerator at risk 0.
    The region's production is the sum of its members' (:func:`compat_production`), the
    HHI is the world's (:func:`compat_hhi`). critmin's default leaves trade between members
    out instead (docs/lcia.md).

    ``trade``: flows as in :func:`compat_geopolrisk`. ``members``: group, year, country
    (ISO3), baci_code, one row per member in each year to report.

    Examples
    --------
    >>> trade = pd.DataFrame({"year": [2022] * 3, "exporter": ["CHN", "FRA", "CHN"],
    ...                       "importer": ["DEU", "DEU", "FRA"], "mineral": ["cobalt"] * 3,
    ...                       "value_kusd": [30.0, 10.0, 20.0], "qty_t": [3.0, 1.0, 2.0]})
    >>> gov = pd.DataFrame({"year": [2022] * 3, "country": ["CHN", "FRA", "DEU"],
    ...                     "risk": [0.6, 0.2, 0.1], "raw": ["value"] * 3})
    >>> production = pd.DataFrame({"year": [2022] * 2, "mineral": ["cobalt"] * 2,
    ...                            "row": [0, 1], "baci_code": [156.0, 276.0],
    ...                            "qty_reported": [6.0, 0.0], "wmd_unit": ["metr. t"] * 2})
    >>> members = pd.DataFrame({"group": ["EU"] * 2, "year": [2022] * 2,
    ...                         "country": ["DEU", "FRA"], "baci_code": [276, 251]})
    >>> row = compat_region_geopolrisk(trade, gov, production, members).iloc[0]
    >>> float(row["wta"]), float(row["price_usd_per_kg"])   # 0.6*5 / 6, 60/6
    (0.5, 10.0)
    """
    m = members[["group", "year", "country", "baci_code"]].copy()
    m["year"] = m["year"].astype("int64")
    t = trade.assign(year=trade["year"].astype("int64")).merge(
        m[["group", "year", "country"]].rename(columns={"country": "importer"}),
        on=["year", "importer"])
    inside = t[["group", "year", "exporter"]].merge(
        m[["group", "year", "country"]].rename(columns={"country": "exporter"}).assign(
            _in=True), on=["group", "year", "exporter"], how="left")["_in"].notna()
    flows = _compat_flows(t.drop(columns="group"), gpr_governance, inside).assign(
        group=t["group"].to_numpy())
    agg = _compat_sums(flows, "group")
    keys = m[["group", "year"]].drop_duplicates().merge(
        pd.DataFrame({"mineral": sorted(set(production_rows["mineral"]))}), how="cross")
    out = keys.merge(agg, on=["year", "group", "mineral"], how="left")
    out["numerator"] = out["numerator"].where(out["total_t"].notna(), 0.0)
    out["total_t"] = out["total_t"].fillna(0.0)
    out["value_kusd"] = out["value_kusd"].fillna(0.0)
    out["peer_fails"] = out["peer_fails"].astype("boolean").fillna(False).astype(bool)
    prod = compat_production(production_rows).assign(year=lambda f: f["year"].astype("int64"))
    made = m.astype({"baci_code": "int64"}).merge(prod, on=["year", "baci_code"]).groupby(
        ["group", "year", "mineral"], as_index=False)["gpr_production"].sum()
    out = out.merge(made, on=["group", "year", "mineral"], how="left")
    out["gpr_production"] = out["gpr_production"].fillna(0.0)
    hhi = compat_hhi(production_rows).assign(year=lambda f: f["year"].astype("int64"))
    out = out.merge(hhi, on=["mineral", "year"], how="left")
    total = out["total_t"]
    out["price_usd_per_kg"] = (out["value_kusd"] / total.where(total != 0)).fillna(0.0)
    denominator = total + out["gpr_production"]
    out["wta"] = (out["numerator"] / denominator.where(denominator != 0)).where(
        denominator != 0, 0.0)
    out["score"] = out["hhi"] * out["wta"]
    out["cf"] = characterisation_factor(out["score"], out["price_usd_per_kg"])
    return out.sort_values(["year", "group", "mineral"]).reset_index(drop=True)
