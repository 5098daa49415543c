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


def compat_geopolrisk(trade: pd.DataFrame, gpr_governance: pd.DataFrame,
                      production_rows: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """GeoPolRisk exactly as geopolrisk-py 2.0.1 computes it, for every row of ``keys``.

    ``trade``: flows of the material's HS codes with columns year, exporter, importer,
    mineral, value_kusd, qty_t. ``keys``: year, country, mineral, baci_code (every
    combination to report, with or without trade, as the library reports zeros).
    """
    t = trade[["year", "exporter", "importer", "mineral", "value_kusd", "qty_t"]].copy()
    t["q0"] = t["qty_t"].fillna(0.0)
    t["v0"] = t["value_kusd"].fillna(0.0)
    gov = gpr_governance.rename(columns={"country": "exporter"})
    t = t.merge(gov[["year", "exporter", "risk", "raw"]], on=["year", "exporter"], how="left")
    g = t["risk"].where(t["raw"].notna(), 0.5)
    g = g.where(t["exporter"] != t["importer"], 0.0)
    t["num"] = t["q0"] * g
    t["fails"] = t["raw"].eq("None") & (t["exporter"] != t["importer"])
    t["nan"] = t["num"].isna()
    agg = t.groupby(["year", "importer", "mineral"], as_index=False).agg(
        numerator=("num", "sum"), any_nan=("nan", "any"),
        total_t=("q0", "sum"), value_kusd=("v0", "sum"), peer_fails=("fails", "any"),
    ).rename(columns={"importer": "country"})
    agg["numerator"] = agg["numerator"].where(~agg["any_nan"])  # NaN propagates, as in Python
    agg = agg.drop(columns="any_nan")
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
