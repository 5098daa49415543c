"""The metrics cube: every metric for every (year, country, mineral) in one vectorised pass.

Pure functions: frames in, frames out. They start from the engine's aggregate of the flows
(:mod:`critmin.store.engine`); reading the inputs and caching the result is
:mod:`critmin.compute`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from critmin.metrics.concentration import concentration
from critmin.metrics.geopolrisk import MISSING_RISK, characterisation_factor, compat_geopolrisk

KEY = ["year", "country", "mineral"]
SINGLE_SUPPLIER_THRESHOLD = 0.65
"""Largest-supplier share above which a dependency is flagged (EU Critical Raw Materials Act)."""

REFINING_STAGES = ("intermediate", "refined")

FLAGS = (
    "no_trade_data",
    "no_production_data",
    "mixed_bases",
    "missing_governance",
    "re_export_hub",
    "single_supplier",
    "latest_year_incomplete",
)
"""Data-quality flags a cube row may carry, in the order they are listed."""


@dataclass(frozen=True)
class CubeInputs:
    """What the cube is computed from: the engine's aggregated flows and the other tables."""

    pairs: pd.DataFrame
    """One row per (year, exporter, importer, mineral, stage) with ``qty_t``,
    ``qty_basis_t``, ``value_kusd``, ``value_with_qty_kusd``, ``unfactored_kusd`` (see
    :mod:`critmin.store.engine`)."""
    production: pd.DataFrame
    governance: pd.DataFrame
    incomplete_year: int | None = None
    """The newest trade year when the source has it only in part (see
    :func:`critmin.years.latest_incomplete_year`), decided on the whole flows table."""


def mining_concentration(production: pd.DataFrame) -> pd.DataFrame:
    """Producer concentration per (year, mineral): HHI, top-3 and China share of production."""
    conc = concentration(production, ["year", "mineral"], "country", "qty_t")
    return conc.rename(
        columns={
            "total": "world_production_t", "n": "n_producers", "hhi": "hhi",
            "top3_share": "top3_share", "named_share": "china_production_share",
            "top": "top_producer", "top_share": "top_producer_share",
        }
    )


def refining_concentration(pairs: pd.DataFrame) -> pd.DataFrame:
    """Exporter concentration of intermediate and refined products per (year, mineral):
    an estimate of the refining stage's concentration from trade."""
    refined = pairs[pairs["stage"].isin(REFINING_STAGES)]
    conc = concentration(refined, ["year", "mineral"], "exporter", "qty_basis_t")
    return _plain(conc).rename(
        columns={
            "total": "refined_exports_t", "n": "n_refined_exporters", "hhi": "refining_hhi",
            "top3_share": "refining_top3_share", "named_share": "refining_china_share",
            "top": "top_refined_exporter", "top_share": "top_refined_exporter_share",
        }
    )


def _flag_text(frame: pd.DataFrame) -> pd.Series:
    """The flags of each row as one ';'-separated string, through a bit code per row."""
    code = np.zeros(len(frame), dtype=np.int64)
    for bit, name in enumerate(FLAGS):
        code |= frame[f"flag_{name}"].to_numpy(bool).astype(np.int64) << bit
    labels = {
        c: ";".join(name for bit, name in enumerate(FLAGS) if c >> bit & 1)
        for c in np.unique(code)
    }
    return pd.Series(code, index=frame.index).map(labels)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical key columns back to plain strings, for merging with other tables."""
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return frame.astype({c: str for c in cats})


def compute_cube(inp: CubeInputs) -> pd.DataFrame:
    """One row per (year, country, mineral) where the country trades or produces the mineral.

    Columns: trade (``imports_t`` gross tonnes, ``imports_basis_t`` on the production
    basis, ``imports_kusd``; the same for exports), suppliers (``n_suppliers``,
    ``import_hhi``, ``top_supplier``, ``top_supplier_share``, ``china_share``), supply
    (``production_t``, ``apparent_supply_t``, ``import_reliance``, ``reliance_status``),
    producer concentration (``hhi``, ``top3_share``, ``china_production_share``), refining
    concentration estimated from exports, GeoPolRisk (``wta``, ``score``,
    ``price_usd_per_kg``, ``cf``), ``missing_governance_share`` and ``flags``; and the
    internal columns ``numerator`` and ``unfactored_kusd`` (see :data:`INTERNAL`).
    """
    pairs = inp.pairs
    gov = inp.governance[["year", "country", "risk"]].rename(
        columns={"country": "exporter", "risk": "g"}
    )
    pairs = pairs.merge(gov.astype({"year": pairs["year"].dtype}), on=["year", "exporter"],
                        how="left")
    missing_gov = pairs["g"].isna()
    q = pairs["qty_basis_t"].fillna(0.0)
    pairs["num"] = pairs["g"].fillna(MISSING_RISK) * q
    pairs["q_missing_gov"] = np.where(missing_gov, q, 0.0)

    imports = pairs.groupby(["year", "importer", "mineral"], as_index=False, sort=False,
                            observed=True).agg(
        imports_t=("qty_t", "sum"), imports_basis_t=("qty_basis_t", "sum"),
        imports_kusd=("value_kusd", "sum"), value_with_qty_kusd=("value_with_qty_kusd", "sum"),
        numerator=("num", "sum"), q_missing_gov=("q_missing_gov", "sum"),
        unfactored_kusd=("unfactored_kusd", "sum"),
    ).rename(columns={"importer": "country"})
    exports = pairs.groupby(["year", "exporter", "mineral"], as_index=False, sort=False,
                            observed=True).agg(
        exports_t=("qty_t", "sum"), exports_basis_t=("qty_basis_t", "sum"),
        exports_kusd=("value_kusd", "sum"), exports_unfactored_kusd=("unfactored_kusd", "sum"),
    ).rename(columns={"exporter": "country"})
    suppliers = concentration(pairs, ["year", "importer", "mineral"], "exporter", "qty_basis_t")
    suppliers = suppliers.rename(
        columns={"importer": "country", "n": "n_suppliers", "hhi": "import_hhi",
                 "top": "top_supplier", "top_share": "top_supplier_share",
                 "named_share": "china_share"}
    ).drop(columns=["total", "top3_share"])
    imports, exports, suppliers = (_plain(f) for f in (imports, exports, suppliers))
    production = inp.production[["year", "country", "mineral", "qty_t"]].rename(
        columns={"qty_t": "production_t"}
    )
    frames = [imports, exports, suppliers, production]
    for frame in frames:
        frame["year"] = frame["year"].astype("int16")

    keys = pd.concat([f[KEY] for f in (imports, exports, production)],
                     ignore_index=True).drop_duplicates()
    mining = mining_concentration(inp.production).astype({"year": "int16"})
    refining = refining_concentration(pairs).astype({"year": "int16"})
    cube = (
        keys.merge(imports, on=KEY, how="left")
        .merge(exports, on=KEY, how="left")
        .merge(suppliers, on=KEY, how="left")
        .merge(production, on=KEY, how="left")
        .merge(mining, on=["year", "mineral"], how="left")
        .merge(refining, on=["year", "mineral"], how="left")
    )

    traded = _plain(pairs[["year", "mineral"]].drop_duplicates()).astype({"year": "int16"})
    produced = inp.production[["year", "mineral"]].drop_duplicates().astype({"year": "int16"})
    cube = cube.merge(traded.assign(has_trade=True), on=["year", "mineral"], how="left").merge(
        produced.assign(has_production=True), on=["year", "mineral"], how="left"
    )
    has_trade = cube["has_trade"].astype("boolean").fillna(False).astype(bool)
    has_prod = cube["has_production"].astype("boolean").fillna(False).astype(bool)
    cube = cube.drop(columns=["has_trade", "has_production"])
    trade_cols = ["imports_t", "imports_basis_t", "imports_kusd", "value_with_qty_kusd",
                  "numerator", "q_missing_gov", "unfactored_kusd", "exports_t",
                  "exports_basis_t", "exports_kusd", "exports_unfactored_kusd"]
    for col in trade_cols:
        cube[col] = cube[col].fillna(0.0).where(has_trade)
    cube["n_suppliers"] = cube["n_suppliers"].fillna(0).where(has_trade).astype("Int32")
    cube["n_producers"] = cube["n_producers"].astype("Int32")
    cube["n_refined_exporters"] = cube["n_refined_exporters"].astype("Int32")
    cube["production_t"] = cube["production_t"].fillna(0.0).where(has_prod)

    m_b, x_b, p = cube["imports_basis_t"], cube["exports_basis_t"], cube["production_t"]
    mixed = (cube["unfactored_kusd"] > 0) | (cube["exports_unfactored_kusd"] > 0)
    cube["apparent_supply_t"] = p + m_b - x_b
    net = m_b - x_b
    comparable = has_trade & has_prod & ~mixed
    supply = cube["apparent_supply_t"]
    cube["import_reliance"] = (net / supply.where(supply > 0)).where(comparable)
    hub = has_trade & (x_b > p.fillna(0.0) + m_b)
    status = np.select(
        [~(has_trade & has_prod), mixed, hub, supply <= 0, net < 0, net > 0],
        ["no data", "not comparable: mixed bases", "re-export hub", "no supply",
         "net exporter", "net importer"],
        default="balanced",
    )
    cube["reliance_status"] = status

    denominator = m_b + p
    cube["wta"] = cube["numerator"] / denominator.where(denominator > 0)
    imports_t = cube["imports_t"]
    cube["price_usd_per_kg"] = cube["value_with_qty_kusd"] / imports_t.where(imports_t > 0)
    cube["score"] = cube["hhi"] * cube["wta"]
    cube["cf"] = characterisation_factor(cube["score"], cube["price_usd_per_kg"])
    cube["missing_governance_share"] = cube["q_missing_gov"] / m_b.where(m_b > 0)
    cube["single_supplier"] = cube["top_supplier_share"] > SINGLE_SUPPLIER_THRESHOLD

    latest = inp.incomplete_year
    cube["flag_no_trade_data"] = ~has_trade
    cube["flag_no_production_data"] = ~has_prod
    cube["flag_mixed_bases"] = mixed
    cube["flag_missing_governance"] = cube["missing_governance_share"] > 0
    cube["flag_re_export_hub"] = hub
    cube["flag_single_supplier"] = cube["single_supplier"].astype(bool)
    cube["flag_latest_year_incomplete"] = cube["year"] == latest if latest else False
    cube["flags"] = _flag_text(cube)
    cube = cube.drop(columns=[c for c in cube.columns if c.startswith("flag_")] + [
        "q_missing_gov", "exports_unfactored_kusd", "value_with_qty_kusd"
    ])
    return cube.sort_values(KEY).reset_index(drop=True)


def partners(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each importer's suppliers per (year, mineral), with their share of its imports on the
    basis (the same shares as the cube's ``china_share`` and ``top_supplier_share``)."""
    from critmin.metrics.concentration import shares

    grouped = pairs.groupby(["year", "importer", "exporter", "mineral"], as_index=False,
                            sort=False, observed=True).agg(
        qty_t=("qty_t", "sum"), qty_basis_t=("qty_basis_t", "sum"),
        value_kusd=("value_kusd", "sum"))
    grouped = _plain(grouped)
    positive = grouped["qty_basis_t"].where(grouped["qty_basis_t"] > 0)
    grouped["share"] = shares(grouped.assign(q=positive), ["year", "importer", "mineral"], "q")
    grouped["year"] = grouped["year"].astype("int16")
    return grouped.sort_values(["year", "importer", "mineral", "exporter"]).reset_index(drop=True)


def compute_compat_cube(pairs: pd.DataFrame, materials: list[str], gpr_governance: pd.DataFrame,
                        gpr_production: pd.DataFrame, countries: pd.DataFrame,
                        default: pd.DataFrame) -> pd.DataFrame:
    """The cube with its GeoPolRisk columns computed exactly as geopolrisk-py 2.0.1 does.

    ``pairs``: the engine's aggregate over geopolrisk-py's own HS map (each material's
    codes at factor 1); ``materials``: the minerals that map has. Covers every country with a BACI code × every material
    geopolrisk-py can assess × the years with production data (the library reports zeros
    where there is no trade). The flags come from the default cube where it has the row,
    plus ``geopolrisk_py_fails`` where the library raises an error.
    """
    years = sorted(gpr_production["year"].unique())
    with_code = countries[countries["baci_code"].notna()][["iso3", "baci_code"]]
    keys = (
        with_code.rename(columns={"iso3": "country"})
        .merge(pd.DataFrame({"mineral": pd.Series(sorted(materials), dtype=str)}), how="cross")
        .merge(pd.DataFrame({"year": pd.Series(years, dtype="int16")}), how="cross")
    )
    keys["baci_code"] = keys["baci_code"].astype("int64")
    keys["year"] = keys["year"].astype("int16")
    trade = _plain(pairs[pairs["year"].isin(years)])
    trade = trade.astype({"year": "int16"})
    gpr = compat_geopolrisk(trade, gpr_governance, gpr_production, keys)
    gpr = gpr.rename(columns={"total_t": "imports_t", "value_kusd": "imports_kusd",
                              "gpr_production": "production_t"})
    flags = default[[*KEY, "flags"]].astype({"year": "int16"})
    out = gpr.merge(flags, on=KEY, how="left")
    out["flags"] = out["flags"].fillna("")
    fails = out["peer_fails"]
    out.loc[fails, "flags"] = (out.loc[fails, "flags"] + ";geopolrisk_py_fails").str.lstrip(";")
    return out.sort_values(KEY).reset_index(drop=True)
