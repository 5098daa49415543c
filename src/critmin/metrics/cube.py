"""The metrics cube: every metric for every (year, country, mineral) in one vectorised pass.

Pure functions: frames in, frames out. Reading the inputs and caching the result is the
store's job (:mod:`critmin.store.cache`).
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

INCOMPLETE_YEAR_RATIO = 0.95
"""The latest trade year is flagged incomplete when it has fewer rows than this share of the
year before (BACI's newest year lacks late reporters)."""

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
    """The canonical tables the cube is computed from."""

    flows: pd.DataFrame
    product_minerals: pd.DataFrame
    production: pd.DataFrame
    governance: pd.DataFrame
    incomplete_year: int | None = None
    """The newest trade year when the source has it only in part (see
    :func:`latest_incomplete_year`), decided on the whole flows table."""
    gpr_governance: pd.DataFrame | None = None
    gpr_hs_map: pd.DataFrame | None = None
    gpr_production: pd.DataFrame | None = None
    countries: pd.DataFrame | None = None


def trade_lines(flows: pd.DataFrame, product_minerals: pd.DataFrame) -> pd.DataFrame:
    """Flows joined to the minerals they carry, with quantities on the production basis.

    ``qty_basis_t`` = gross tonnes × content factor. A product with no content factor
    counts at gross weight and its rows are marked ``unfactored`` (the mixed_bases flag).
    """
    links = product_minerals[["hs6", "mineral", "stage", "content_factor"]].astype(
        {"mineral": "category", "stage": "category"}
    )
    lines = flows.astype({"hs6": str}).merge(links, on="hs6", how="inner")
    factor = lines["content_factor"]
    lines["unfactored"] = factor.isna() & lines["qty_t"].notna()
    lines["qty_basis_t"] = lines["qty_t"] * factor.fillna(1.0)
    return lines


def latest_incomplete_year(rows_by_year: pd.Series) -> int | None:
    """The newest flow year if it has clearly fewer rows than the year before."""
    counts = rows_by_year.sort_index()
    if len(counts) < 2:
        return None
    if counts.iloc[-1] < INCOMPLETE_YEAR_RATIO * counts.iloc[-2]:
        return int(counts.index[-1])
    return None


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


def refining_concentration(lines: pd.DataFrame) -> pd.DataFrame:
    """Exporter concentration of intermediate and refined products per (year, mineral):
    an estimate of the refining stage's concentration from trade."""
    refined = lines[lines["stage"].isin(REFINING_STAGES)]
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
    ``price_usd_per_kg``, ``cf``), ``missing_governance_share`` and ``flags``.
    """
    lines = trade_lines(inp.flows, inp.product_minerals)
    gov = inp.governance[["year", "country", "risk"]].rename(
        columns={"country": "exporter", "risk": "g"}
    )
    lines = lines.merge(gov, on=["year", "exporter"], how="left")
    missing_gov = lines["g"].isna()
    lines["g"] = lines["g"].fillna(MISSING_RISK)
    q = lines["qty_basis_t"].fillna(0.0)
    lines["num"] = lines["g"] * q
    lines["q_missing_gov"] = np.where(missing_gov, q, 0.0)
    lines["value_with_qty"] = lines["value_kusd"].where(lines["qty_t"].notna(), 0.0)
    lines["unfactored_kusd"] = lines["value_kusd"].where(lines["unfactored"], 0.0)

    imports = lines.groupby(["year", "importer", "mineral"], as_index=False, sort=False,
                            observed=True).agg(
        imports_t=("qty_t", "sum"), imports_basis_t=("qty_basis_t", "sum"),
        imports_kusd=("value_kusd", "sum"), value_with_qty_kusd=("value_with_qty", "sum"),
        numerator=("num", "sum"), q_missing_gov=("q_missing_gov", "sum"),
        unfactored_kusd=("unfactored_kusd", "sum"),
    ).rename(columns={"importer": "country"})
    exports = lines.groupby(["year", "exporter", "mineral"], as_index=False, sort=False,
                            observed=True).agg(
        exports_t=("qty_t", "sum"), exports_basis_t=("qty_basis_t", "sum"),
        exports_kusd=("value_kusd", "sum"), exports_unfactored_kusd=("unfactored_kusd", "sum"),
    ).rename(columns={"exporter": "country"})
    suppliers = concentration(lines, ["year", "importer", "mineral"], "exporter", "qty_basis_t")
    suppliers = suppliers.rename(
        columns={"importer": "country", "n": "n_suppliers", "hhi": "import_hhi",
                 "top": "top_supplier", "top_share": "top_supplier_share",
                 "named_share": "china_share"}
    ).drop(columns=["total", "top3_share"])
    imports, exports, suppliers = (_plain(f) for f in (imports, exports, suppliers))
    production = inp.production[["year", "country", "mineral", "qty_t"]].rename(
        columns={"qty_t": "production_t"}
    )

    keys = pd.concat(
        [imports[KEY], exports[KEY], production[KEY]], ignore_index=True
    ).drop_duplicates()
    cube = (
        keys.merge(imports, on=KEY, how="left")
        .merge(exports, on=KEY, how="left")
        .merge(suppliers, on=KEY, how="left")
        .merge(production, on=KEY, how="left")
        .merge(mining_concentration(inp.production), on=["year", "mineral"], how="left")
        .merge(refining_concentration(lines), on=["year", "mineral"], how="left")
    )

    traded = _plain(lines[["year", "mineral"]].drop_duplicates()).assign(has_trade=True)
    produced = inp.production[["year", "mineral"]].drop_duplicates().assign(has_production=True)
    cube = cube.merge(traded, on=["year", "mineral"], how="left").merge(
        produced, on=["year", "mineral"], how="left"
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
    cube["year"] = cube["year"].astype("int16")
    return cube.sort_values(KEY).reset_index(drop=True)


def compute_compat_cube(inp: CubeInputs, default: pd.DataFrame) -> pd.DataFrame:
    """The cube with its GeoPolRisk columns computed exactly as geopolrisk-py 2.0.1 does.

    Covers every country with a BACI code × every material geopolrisk-py can assess ×
    the years with production data (the library reports zeros where there is no trade).
    Other columns come from the default cube where it has the row.
    """
    if inp.gpr_governance is None or inp.gpr_hs_map is None or inp.gpr_production is None \
            or inp.countries is None:
        raise ValueError("compat cube needs gpr_governance, gpr_hs_map, gpr_production, countries")
    hs_map = inp.gpr_hs_map[["mineral", "hs6"]].drop_duplicates()
    years = sorted(inp.gpr_production["year"].unique())
    flows = inp.flows[inp.flows["year"].isin(years)]
    trade = flows.merge(hs_map, on="hs6", how="inner")
    countries = inp.countries[inp.countries["baci_code"].notna()][["iso3", "baci_code"]]
    keys = (
        countries.rename(columns={"iso3": "country"})
        .merge(pd.DataFrame({"mineral": sorted(hs_map["mineral"].unique())}), how="cross")
        .merge(pd.DataFrame({"year": years}), how="cross")
    )
    keys["baci_code"] = keys["baci_code"].astype("int64")
    keys["year"] = keys["year"].astype("int16")
    gpr = compat_geopolrisk(trade, inp.gpr_governance, inp.gpr_production, keys)
    gpr = gpr.rename(columns={"total_t": "imports_t", "value_kusd": "imports_kusd",
                              "gpr_production": "production_t"})
    gpr_cols = ["hhi", "wta", "score", "cf", "price_usd_per_kg", "imports_t", "imports_kusd",
                "production_t", "numerator", "peer_fails"]
    rest = default.drop(columns=[c for c in gpr_cols if c in default.columns])
    out = gpr[[*KEY, "baci_code", *gpr_cols]].merge(rest, on=KEY, how="left")
    out["flags"] = out["flags"].fillna("")
    return out.sort_values(KEY).reset_index(drop=True)
