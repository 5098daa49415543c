"""The metrics cube: every metric for every (year, country, mineral), and per stage, in one
vectorised pass.

Pure functions: frames in, frames out. They start from the engine's aggregate of the flows
(:mod:`critmin.store.engine`); reading the inputs is :mod:`critmin.inputs`'s job, running
them :mod:`critmin.compute`'s and caching the result :mod:`critmin.cache`'s.

Two tables come out:

- the headline cube, one row per (year, country, mineral): production at the mineral's
  production stage, trade of the primary-supply stages at or after it (``HEADLINE_STAGES``),
  net import reliance when the data can carry it, and otherwise a status and a reason;
- the stage cube, one row per (year, country, mineral, stage): production, trade and
  suppliers of each stage on the mineral's basis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from critmin import schema
from critmin.metrics.concentration import CHINA, concentration, group_concentration
from critmin.metrics.geopolrisk import MISSING_RISK, characterisation_factor, compat_geopolrisk
from critmin.metrics.groups import Groups, lookup, sort_order
from critmin.schema import HEADLINE_STAGES, STAGES

KEY = schema.key("cube")
STAGE_KEY = schema.key("stages")

SINGLE_SUPPLIER_THRESHOLD = 0.65
"""Largest-supplier share above which a dependency is flagged (EU Critical Raw Materials Act)."""

REFINING_STAGES = ("intermediate", "refined")
"""Stages whose exporters stand in for processing when no refinery production is reported."""

PLAUSIBLE_TRADE_RATIO = 3.0
"""World trade of a mineral's primary-supply stages (content tonnes, counted once per
border crossing) above this multiple of world production cannot be right: the same tonne is
rarely traded more than two or three times (ore, then intermediate, then metal). Above it
the mineral-year's content factors are suspect and its reliance figures are withheld."""

ENTREPOT_PRODUCTION_SHARE = 0.1
ENTREPOT_THROUGHPUT = 0.5
"""A country is an entrepôt for a mineral when it produces less than 10 % of what it exports
and exports at least half of what it imports: material passes through it (ports such as
Rotterdam often record more re-exports than imports), so its exports are other countries'
material."""

ROUNDING = 1e-9
"""Relative slack of the threshold tests on sums of flows. The same flows summed in another
order (another engine, another grouping) differ in the last bits, so a test such as "exports
at least half of imports" compares with this slack: a figure that meets a threshold in
decimal meets it whatever the order of the sums, and a supply within it of zero is zero."""

FLAGS = (
    "no_trade_data",
    "no_production_data",
    "mixed_bases",
    "missing_governance",
    "exports_exceed_supply",
    "single_supplier",
    "latest_year_incomplete",
    "coverage_incomplete",
    "implausible_content",
    "low_value_flows",
    "entrepot",
    "mirror_data",
)
"""Data-quality flags a cube row may carry, in the order they are listed."""
FLAG_TEXT = {
    "no_trade_data": "no trade of the mineral recorded that year, or it has no HS code",
    "no_production_data": "no production figure for the country",
    "mixed_bases": "the mineral's trade codes are on different bases (e.g. ore and metal); "
                   "tonnes are converted with content factors",
    "missing_governance": "some suppliers have no governance score (0.5 assumed, as "
                          "geopolrisk-py does)",
    "exports_exceed_supply": "the country exports more than it produces and imports: "
                             "re-exports or stocks the data cannot see",
    "single_supplier": "the largest supplier has over 65 % of imports (EU CRMA benchmark)",
    "latest_year_incomplete": "the newest trade year is not complete yet",
    "coverage_incomplete": "some of the mineral's principal trade codes have no rows that "
                           "year",
    "implausible_content": "a content factor gives more mineral than the world produces",
    "low_value_flows": "flows priced far below the mineral's usual unit value were set aside",
    "entrepot": "a transit hub: most of its exports are other countries' material",
    "mirror_data": "the country does not report; its trade comes from partners' records",
}
"""Each flag in words, for people."""


@dataclass(frozen=True)
class CubeInputs:
    """What the cube is computed from: the engine's aggregated flows and the other tables."""

    pairs: pd.DataFrame
    """One row per (year, exporter, importer, mineral, stage) with ``qty_t``,
    ``qty_basis_t``, ``value_kusd``, ``value_with_qty_kusd``, ``unfactored_kusd`` and
    ``low_value_t`` (see :mod:`critmin.store.engine`)."""
    production: pd.DataFrame
    """year, country, mineral, stage, qty_t: the default source's production."""
    governance: pd.DataFrame
    incomplete_year: int | None = None
    """The newest trade year when the source has it only in part (see
    :func:`critmin.years.latest_incomplete_year`), decided on the whole flows table."""
    coverage: pd.DataFrame | None = None
    """year, mineral, stage, missing (principal codes with no rows with a quantity, as
    text), n_principal; None: every stage is taken as covered."""
    production_stage: pd.Series | None = None
    """mineral -> stage of its default production series (``ore`` when missing)."""
    mirror: pd.DataFrame | None = None
    """year, country of countries whose trade comes only from their partners' reports."""
    names: dict[str, str] = field(default_factory=dict)
    """hs6 -> short description, for reasons."""


# -- shared pieces ---------------------------------------------------------------------------

def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical key columns back to plain strings, for merging with other tables."""
    plain_columns = {}
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            names = frame[col].cat.categories.astype(str)
            codes = frame[col].cat.codes.to_numpy()
            plain_columns[col] = pd.Series(names.take(codes, allow_fill=True, fill_value=np.nan),
                                           index=frame.index)
    return frame.assign(**plain_columns) if plain_columns else frame


def _code_map(values: pd.Series, mapping: Mapping[Any, object], default: object
              ) -> np.ndarray:
    """``mapping`` applied to a categorical column through its codes (one lookup per
    category, not per row)."""
    cats = values.cat.categories
    table = np.array([mapping.get(c, default) for c in cats] + [default], dtype=object)
    return table[values.cat.codes.to_numpy()]


def harmonise(inp: CubeInputs) -> CubeInputs:
    """The inputs with every key column a categorical over one shared category list per
    kind (countries, minerals, stages): grouping and merging then run on integer codes."""
    from dataclasses import replace

    pairs, production, governance = inp.pairs, inp.production, inp.governance
    countries = sorted(set(map(str, pairs["exporter"].unique()))
                       | set(map(str, pairs["importer"].unique()))
                       | set(production["country"].astype(str))
                       | set(governance["country"].astype(str)))
    minerals = sorted(set(map(str, pairs["mineral"].unique()))
                      | set(production["mineral"].astype(str)))
    c_type = pd.CategoricalDtype(countries)
    m_type = pd.CategoricalDtype(minerals)
    s_type = pd.CategoricalDtype([*STAGES, "headline"])

    def cast(frame: pd.DataFrame, types: dict[str, Any]) -> pd.DataFrame:
        # pandas takes categorical dtypes with the same categories in another order as
        # equal, and astype then keeps the old order: categories are set explicitly, as
        # their order is the order of sorts and of ties (by name)
        changed = {}
        for col, kind in types.items():
            if col not in frame.columns:
                continue
            column = frame[col]
            if not isinstance(kind, pd.CategoricalDtype):
                if column.dtype != kind:
                    changed[col] = column.astype(kind)
            elif not isinstance(column.dtype, pd.CategoricalDtype):
                changed[col] = column.astype(str).astype(kind)
            elif not column.cat.categories.equals(kind.categories):
                changed[col] = column.cat.set_categories(kind.categories)
        return frame.assign(**changed) if changed else frame

    coverage = inp.coverage
    if coverage is not None:
        coverage = cast(coverage[coverage["mineral"].isin(minerals)],
                        {"mineral": m_type, "stage": s_type, "year": "int16"})
    return replace(
        inp,
        pairs=cast(pairs, {"exporter": c_type, "importer": c_type, "mineral": m_type,
                           "stage": s_type, "year": "int16"}),
        production=cast(production[production["country"].isin(countries)],
                        {"country": c_type, "mineral": m_type, "stage": s_type,
                         "year": "int16"}),
        governance=cast(governance[governance["country"].isin(countries)],
                        {"country": c_type, "year": "int16"}),
        coverage=coverage,
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


def _stage_rank_of(inp: CubeInputs, minerals: pd.Series) -> np.ndarray:
    """Rank (in :data:`STAGES`) of each row's mineral's production stage."""
    stage = inp.production_stage if inp.production_stage is not None else pd.Series(dtype=str)
    rank = {m: STAGES.index(s) for m, s in stage.items()}
    if isinstance(minerals.dtype, pd.CategoricalDtype):
        return _code_map(minerals, rank, 0).astype(int)
    return minerals.map(rank).fillna(0).to_numpy(int)


def headline_pairs(inp: CubeInputs) -> pd.DataFrame:
    """The pairs of each mineral's headline stages: the primary-supply stages at or after
    the stage its production is measured at (trade upstream of a smelter's output would be
    counted twice)."""
    pairs = inp.pairs
    rank = {s: i for i, s in enumerate(STAGES)}
    first = _stage_rank_of(inp, pairs["mineral"])
    stage = pairs["stage"]
    headline = stage.isin(HEADLINE_STAGES).to_numpy()
    ranks = (_code_map(stage, rank, -1) if isinstance(stage.dtype, pd.CategoricalDtype)
             else stage.map(rank).to_numpy()).astype(int)
    return pairs[headline & (ranks >= first)]


PAIR_VALUES = ["qty_t", "qty_basis_t", "value_kusd", "value_with_qty_kusd", "unfactored_kusd",
               "low_value_t"]
"""The summable columns of the engine's pairs."""


def headline_lines(inp: CubeInputs) -> pd.DataFrame:
    """The pairs of each mineral's headline stages summed per (year, importer, exporter,
    mineral), missing values as 0, with ``factored_basis_t``: the basis tonnes of products
    that have a content factor."""
    pairs = headline_pairs(inp)
    factored = pairs["qty_basis_t"].where(pairs["unfactored_kusd"] == 0, 0.0)
    return _summed(pairs.assign(factored_basis_t=factored),
                   ["year", "importer", "exporter", "mineral"],
                   [*PAIR_VALUES, "factored_basis_t"])


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


def refining_concentration(pairs: pd.DataFrame, refinery: pd.DataFrame) -> pd.DataFrame:
    """Processing concentration per (year, mineral), two measures under two names: of
    refinery production where a source reports it (``refining_*``, ``top_refiner``; nothing
    where none does), and of exports of intermediate and refined products
    (``processed_exports_*``, ``top_processed_exporter``), which measures trade, not
    refining: a refiner that uses its output at home shows a small share."""
    names = {"total": "refined_t", "n": "n_refiners", "hhi": "refining_hhi",
             "top3_share": "refining_top3_share", "named_share": "refining_china_share",
             "top": "top_refiner", "top_share": "top_refiner_share"}
    produced = concentration(refinery, ["year", "mineral"], "country", "qty_t").rename(
        columns=names).assign(refining_measure="refinery production")
    exported = concentration(pairs[pairs["stage"].isin(REFINING_STAGES)], ["year", "mineral"],
                             "exporter", "qty_basis_t").rename(columns={
        "total": "processed_exports_t", "n": "n_processed_exporters",
        "hhi": "processed_exports_hhi", "top3_share": "processed_exports_top3_share",
        "named_share": "processed_exports_china_share", "top": "top_processed_exporter",
        "top_share": "top_processed_exporter_share"})
    for frame in (produced, exported):
        frame["year"] = frame["year"].astype("int16")
    out = produced.merge(exported, on=["year", "mineral"], how="outer")
    return out


def trade(lines: pd.DataFrame, governance: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Imports, exports, suppliers and governance-weighted imports per ``by`` + country.

    ``by`` is ``["year", "mineral"]`` for the headline or ``[..., "stage"]`` per stage;
    ``lines`` hold one row per (``by``…, importer, exporter).
    """
    gov = governance[["year", "country", "risk"]].rename(columns={"country": "exporter"})
    g = lookup(lines, gov.astype({"year": lines["year"].dtype}), ["year", "exporter"], "risk")
    q = lines["qty_basis_t"].fillna(0.0).to_numpy(np.float64)
    columns: dict[str, pd.Series | np.ndarray] = {c: lines[c] for c in PAIR_VALUES}
    columns["numerator"] = np.where(np.isnan(g), MISSING_RISK, g) * q
    columns["q_missing_gov"] = np.where(np.isnan(g), q, 0.0)

    def sums(side: str, names: dict[str, str]) -> tuple[Groups, pd.DataFrame]:
        groups = Groups(lines, [*by, side])
        out = groups.keys().rename(columns={side: "country"})
        for column, name in names.items():
            out[name] = groups.sum(columns[column])
        return groups, out

    importers, imports = sums("importer", {
        "qty_t": "imports_t", "qty_basis_t": "imports_basis_t", "value_kusd": "imports_kusd",
        "value_with_qty_kusd": "value_with_qty_kusd", "numerator": "numerator",
        "q_missing_gov": "q_missing_gov", "unfactored_kusd": "unfactored_kusd",
        "low_value_t": "low_value_t"})
    suppliers = group_concentration(importers, lines["exporter"], q)
    valid = suppliers["total"].to_numpy() > 0
    imports["n_suppliers"] = suppliers["n"].where(valid)
    imports["import_hhi"] = suppliers["hhi"]
    imports["top_supplier"] = suppliers["top"]
    imports["top_supplier_share"] = suppliers["top_share"]
    imports["china_share"] = suppliers["named_share"]
    imports["china_share_value"] = group_concentration(
        importers, lines["exporter"], lines["value_kusd"].to_numpy(np.float64))["named_share"]
    _, exports = sums("exporter", {
        "qty_t": "exports_t", "qty_basis_t": "exports_basis_t", "value_kusd": "exports_kusd",
        "unfactored_kusd": "exports_unfactored_kusd", "low_value_t": "exports_low_value_t"})
    return imports.merge(exports, on=[*by, "country"], how="outer")


def entrepots(frame: pd.DataFrame) -> pd.Series:
    """Rows (country, mineral, year) whose exports are mostly other countries' material."""
    x, m = frame["exports_basis_t"].fillna(0.0), frame["imports_basis_t"].fillna(0.0)
    p = frame["production_t"].fillna(0.0)
    return ((x > 0) & (m > 0) & (p < ENTREPOT_PRODUCTION_SHARE * x * (1 - ROUNDING))
            & (x >= ENTREPOT_THROUGHPUT * m * (1 - ROUNDING)))


def _coverage(inp: CubeInputs, keys: pd.DataFrame, stages: pd.Series | None) -> pd.DataFrame:
    """Per row of ``keys`` (year, mineral[, stage]): the principal codes missing from the
    data (text, empty when covered) for the row's stage, or for the headline stages."""
    if inp.coverage is None:
        return keys.assign(missing="", stage_coverage="")
    cov = inp.coverage.copy()
    if stages is not None:
        out = keys.merge(cov[["year", "mineral", "stage", "missing"]], how="left",
                         on=["year", "mineral", "stage"])
        return out.assign(missing=out["missing"].fillna(""), stage_coverage="")
    rank = {s: i for i, s in enumerate(STAGES)}
    # float whatever the rows: an empty subset (a mineral with no principal codes) compares too
    cov["order"] = cov["stage"].astype(str).map(rank).astype("float64")
    first = _stage_rank_of(inp, cov["mineral"])
    cov = cov[(cov["stage"].isin(HEADLINE_STAGES) & (cov["order"] >= first)).to_numpy()]
    cov = cov[cov["n_principal"] > 0]
    stage = cov["stage"].astype(str)
    cov["text"] = np.where(cov["missing"] == "", stage + " ✓",
                           stage + " ✗ (" + cov["missing"] + ")")
    cov = cov.sort_values(["year", "mineral", "order"])
    grouped = cov.groupby(["year", "mineral"], as_index=False, observed=True).agg(
        missing=("missing", lambda s: ", ".join(v for v in s if v)),
        stage_coverage=("text", ", ".join))
    out = keys.merge(grouped, on=["year", "mineral"], how="left")
    return out.fillna({"missing": "", "stage_coverage": ""})


def _describe_missing(missing: pd.Series, names: dict[str, str]) -> pd.Series:
    def text(codes: str) -> str:
        items = [c.strip() for c in codes.split(",") if c.strip()]
        labelled = [f"{names[c]} {c}" if c in names else c for c in items]
        if len(labelled) > 1:
            joined = ", ".join(labelled[:-1]) + " and " + labelled[-1]
        else:
            joined = labelled[0]
        verb = "has" if len(labelled) == 1 else "have"
        return (f"not assessable from the data: {joined} {verb} no rows; import a BACI "
                "release that holds them to complete")

    unique = {c: text(c) if c else "" for c in missing.unique()}
    return missing.map(unique)


def _supply(cube: pd.DataFrame, has_trade: pd.Series, has_prod: pd.Series,
            missing: pd.Series, implausible: pd.Series, names: dict[str, str],
            elsewhere: pd.DataFrame | None = None) -> pd.DataFrame:
    """Apparent supply, import reliance, its status and the reason it is withheld
    (``elsewhere``: the row's output at another stage, ``elsewhere_t`` and
    ``elsewhere_stage``, for the headline)."""
    m_b, x_b, p = cube["imports_basis_t"], cube["exports_basis_t"], cube["production_t"]
    mixed = (cube["unfactored_kusd"] > 0) | (cube["exports_unfactored_kusd"] > 0)
    supply = p + m_b - x_b
    supply = supply.mask(supply.abs() <= ROUNDING * (p.fillna(0.0) + m_b + x_b), 0.0)
    net = m_b - x_b
    gap = missing != ""
    exceed = has_trade & (x_b > (p.fillna(0.0) + m_b) * (1 + ROUNDING))
    nonproducer = has_prod & (p == 0) & (net > 0)
    made_elsewhere = (pd.Series(False, index=cube.index) if elsewhere is None
                      else elsewhere["elsewhere_t"].fillna(0.0).gt(0.0).set_axis(cube.index))
    ratio = x_b / (p.fillna(0.0) + m_b).where(lambda s: s > 0)
    conditions = [
        ~has_trade & ~has_prod, ~has_trade, ~has_prod, implausible, mixed,
        gap & ~nonproducer, exceed, supply <= 0, nonproducer & made_elsewhere, nonproducer,
        net < 0, net > 0,
    ]
    statuses = {
        "no data": "",
        "no trade recorded": "no flows of the mineral's codes in the data this year",
        "no production data": "no production figure for this year in the sources",
        "implausible content": "world trade of the mineral's content exceeds "
                               f"{PLAUSIBLE_TRADE_RATIO:g}× world production this year: a "
                               "content factor or code mapping cannot be right, or (precious "
                               "metals) bullion moving between vaults and refiners dominates "
                               "trade",
        "not comparable: mixed bases": "a traded product has no content factor (gross and "
                                       "content tonnes would be mixed)",
        "coverage incomplete": "",  # the missing codes, below
        "exports exceed supply": "exports exceed production plus imports (re-exports, stocks "
                                 "or unrecorded feed): reliance is undefined",
        "no supply": "no production and no net trade in tonnes",
        "produces at another stage": "",  # the stage and tonnes, below
        "net importer (no domestic production)": "no domestic production: all primary supply "
                                                 "is imported (an upper bound where the "
                                                 "country recycles: secondary production is "
                                                 "not in the data)",
        "net exporter": "", "net importer": "", "balanced": "",
    }
    names_of = list(statuses)
    code = np.select([np.asarray(c, dtype=bool) for c in conditions],
                     np.arange(len(conditions)), default=len(conditions))
    status_text = np.asarray(names_of, dtype=object)[code]
    reason_text = np.asarray(list(statuses.values()), dtype=object)[code]
    shown = np.isin(code, [names_of.index(n) for n in (
        "net importer", "net exporter", "balanced", "net importer (no domestic production)")])
    reliance = (net / supply.where(supply > 0)).where(shown)
    over = np.flatnonzero(code == names_of.index("exports exceed supply"))
    rounded = ratio.to_numpy()[over].round(1)
    status_text[over] = np.where(np.isfinite(rounded), np.char.add(np.char.add(
        "exports exceed supply (", rounded.astype(str)), "×)"), "exports exceed supply")
    incomplete = np.flatnonzero(code == names_of.index("coverage incomplete"))
    reason_text[incomplete] = _describe_missing(missing.iloc[incomplete], names).to_numpy()
    hidden = np.flatnonzero((code == names_of.index("net importer (no domestic production)"))
                            & gap.to_numpy())
    reason_text[hidden] = ("no domestic production: all primary supply is imported whatever "
                           "the missing codes (" + missing.iloc[hidden] + ") hold (an upper "
                           "bound where the country recycles: secondary production is not in "
                           "the data)").to_numpy()
    other = np.flatnonzero(code == names_of.index("produces at another stage"))
    if elsewhere is not None and len(other):
        made = elsewhere.iloc[other]
        reason_text[other] = (
            "no output at the mineral's production stage in the data, but "
            + made["elsewhere_stage"] + " output of " + made["elsewhere_t"].map(
                "{:,.0f} t".format)
            + ": it processes imported feed, so '100 % of supply imported' would misstate "
            "its dependence; the stage view gives each stage's balance").to_numpy()
    status = pd.Series(status_text, index=cube.index)
    reason = pd.Series(reason_text, index=cube.index)
    return pd.DataFrame({"apparent_supply_t": supply, "import_reliance": reliance,
                         "reliance_status": status, "reason": reason, "mixed": mixed,
                         "exceed": exceed, "gap": gap})


def _world(lines: pd.DataFrame, production: pd.DataFrame) -> pd.DataFrame:
    """Mineral-years whose world trade of the content (products with a content factor)
    exceeds :data:`PLAUSIBLE_TRADE_RATIO` × world production (``lines``: the
    :func:`headline_lines`)."""
    years = Groups(lines, ["year", "mineral"])
    traded = years.keys().assign(world_traded_t=years.sum(lines["factored_basis_t"]))
    made = production.groupby(["year", "mineral"], as_index=False, observed=True)[
        ["qty_t"]].sum().rename(columns={"qty_t": "world_made_t"})
    out = traded.merge(made, on=["year", "mineral"], how="outer")
    out["implausible"] = out["world_traded_t"] > PLAUSIBLE_TRADE_RATIO * out["world_made_t"]
    return out[["year", "mineral", "implausible"]]


# -- the headline cube -----------------------------------------------------------------------

def compute_cube(inp: CubeInputs, lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (year, country, mineral) where the country trades or produces the mineral.

    Columns: trade of the headline stages (``imports_t`` gross tonnes, ``imports_basis_t``
    on the production basis, ``imports_kusd``; the same for exports), suppliers
    (``n_suppliers``, ``import_hhi``, ``top_supplier``, ``top_supplier_share``,
    ``china_share``, ``china_share_origin``), supply (``production_t``,
    ``apparent_supply_t``, ``import_reliance``, ``reliance_status``, ``reason``,
    ``stage_coverage``), producer and processing concentration, GeoPolRisk (``wta``,
    ``score``, ``price_usd_per_kg``, ``cf``), ``missing_governance_share`` and ``flags``;
    and the internal columns ``numerator`` and ``unfactored_kusd``. ``lines``: the
    :func:`headline_lines` of ``inp`` when the caller has them already.
    """
    inp = harmonise(inp)
    pairs = headline_lines(inp) if lines is None else lines
    rank = {s: i for i, s in enumerate(STAGES)}
    stage_rank = _code_map(inp.production["stage"], rank, -1).astype(int)
    primary = inp.production[stage_rank == _stage_rank_of(inp, inp.production["mineral"])]
    refinery = inp.production[(inp.production["stage"] == "refined").to_numpy()]
    production = primary[["year", "country", "mineral", "qty_t"]].rename(
        columns={"qty_t": "production_t"})
    # output downstream of the production stage (a refinery with no mine) belies "no domestic
    # production"; upstream output (alumina where aluminium is counted at the smelter) does not
    other_stages = inp.production[(stage_rank > _stage_rank_of(inp, inp.production["mineral"]))
                                  & (inp.production["qty_t"] > 0)]
    elsewhere = other_stages.sort_values("qty_t", ascending=False).groupby(
        KEY, observed=True, as_index=False, sort=False).agg(
        elsewhere_t=("qty_t", "sum"), elsewhere_stage=("stage", "first"))
    elsewhere["elsewhere_stage"] = elsewhere["elsewhere_stage"].astype(str)
    traded = trade(pairs, inp.governance, ["year", "mineral"])
    keys = pd.concat([traded[KEY], production[KEY]], ignore_index=True).drop_duplicates()
    cube = (
        keys.merge(traded, on=KEY, how="left")
        .merge(production, on=KEY, how="left")
        .merge(mining_concentration(primary), on=["year", "mineral"], how="left")
        .merge(refining_concentration(inp.pairs, refinery), on=["year", "mineral"], how="left")
    )
    has_trade_years = Groups(pairs, ["year", "mineral"]).keys().assign(has_trade=True)
    made = primary[["year", "mineral"]].drop_duplicates().assign(has_production=True)
    cube = cube.merge(has_trade_years, on=["year", "mineral"], how="left").merge(
        made, on=["year", "mineral"], how="left")
    has_trade = cube.pop("has_trade").astype("boolean").fillna(False).astype(bool)
    has_prod = cube.pop("has_production").astype("boolean").fillna(False).astype(bool)
    trade_cols = ["imports_t", "imports_basis_t", "imports_kusd", "value_with_qty_kusd",
                  "numerator", "q_missing_gov", "unfactored_kusd", "low_value_t", "exports_t",
                  "exports_basis_t", "exports_kusd", "exports_unfactored_kusd",
                  "exports_low_value_t"]
    for col in trade_cols:
        cube[col] = cube[col].fillna(0.0).where(has_trade)
    cube["n_suppliers"] = cube["n_suppliers"].fillna(0).where(has_trade).astype("Int32")
    cube["n_producers"] = cube["n_producers"].astype("Int32")
    cube["n_refiners"] = cube["n_refiners"].astype("Int32")
    cube["n_processed_exporters"] = cube["n_processed_exporters"].astype("Int32")
    cube["production_t"] = cube["production_t"].fillna(0.0).where(has_prod)

    cov = _coverage(inp, cube[["year", "mineral"]], None)
    world = _world(pairs, primary)
    cube = cube.merge(world, on=["year", "mineral"], how="left")
    implausible = cube.pop("implausible").astype("boolean").fillna(False).astype(bool)
    made_elsewhere = cube[KEY].merge(elsewhere, on=KEY, how="left")
    supply = _supply(cube, has_trade, has_prod, cov["missing"].set_axis(cube.index),
                     implausible, inp.names, made_elsewhere)
    cube["stage_coverage"] = cov["stage_coverage"].to_numpy()
    for col in ("apparent_supply_t", "import_reliance", "reliance_status", "reason"):
        cube[col] = supply[col]

    denominator = cube["imports_basis_t"] + cube["production_t"]
    cube["wta"] = cube["numerator"] / denominator.where(denominator > 0)
    imports_t = cube["imports_t"]
    cube["price_usd_per_kg"] = cube["value_with_qty_kusd"] / imports_t.where(imports_t > 0)
    cube["score"] = cube["hhi"] * cube["wta"]
    cube["cf"] = characterisation_factor(cube["score"], cube["price_usd_per_kg"])
    m_b = cube["imports_basis_t"]
    cube["missing_governance_share"] = cube["q_missing_gov"] / m_b.where(m_b > 0)
    cube["single_supplier"] = cube["top_supplier_share"] > SINGLE_SUPPLIER_THRESHOLD
    hub = entrepots(cube)
    cube["china_share_origin"] = origin_china_share(pairs, cube, hub)

    latest = inp.incomplete_year
    mirror = _mirror(inp, cube)
    cube["flag_no_trade_data"] = ~has_trade
    cube["flag_no_production_data"] = ~has_prod
    cube["flag_mixed_bases"] = supply["mixed"]
    cube["flag_missing_governance"] = cube["missing_governance_share"] > 0
    cube["flag_exports_exceed_supply"] = supply["exceed"]
    cube["flag_single_supplier"] = cube["single_supplier"].astype(bool)
    cube["flag_latest_year_incomplete"] = cube["year"] == latest if latest else False
    cube["flag_coverage_incomplete"] = supply["gap"]
    cube["flag_implausible_content"] = implausible
    cube["flag_low_value_flows"] = (cube["low_value_t"].fillna(0) > 0) | (
        cube["exports_low_value_t"].fillna(0) > 0)
    cube["flag_entrepot"] = hub
    cube["flag_mirror_data"] = mirror
    cube["flags"] = _flag_text(cube)
    cube = cube.drop(columns=[c for c in cube.columns if c.startswith("flag_")] + [
        "q_missing_gov", "exports_unfactored_kusd", "value_with_qty_kusd", "low_value_t",
        "exports_low_value_t"])
    return plain(cube.take(sort_order(cube, KEY))).reset_index(drop=True)  # names sorted


def _mirror(inp: CubeInputs, frame: pd.DataFrame) -> pd.Series:
    if inp.mirror is None or inp.mirror.empty:
        return pd.Series(False, index=frame.index)
    marks = inp.mirror[["year", "country"]].astype({"year": "int16"}).drop_duplicates()
    keys = frame[["year", "country"]].astype({"country": str})
    hit = keys.merge(marks.astype({"country": str}).assign(hit=True), how="left")["hit"]
    return hit.astype("boolean").fillna(False).astype(bool).set_axis(frame.index)


def origin_china_share(pairs: pd.DataFrame, cube: pd.DataFrame, hub: pd.Series) -> pd.Series:
    """China's share of each importer's supply once entrepôts' exports are traced one step
    back to their own sources, pro rata to the entrepôt's production and imports
    (``pairs``: one row per (year, importer, exporter, mineral), as :func:`headline_lines`)."""
    hubs = cube.loc[hub.to_numpy(), [*KEY, "production_t", "imports_basis_t"]]
    from_china = pairs[(pairs["exporter"] == CHINA).to_numpy()].groupby(
        ["year", "importer", "mineral"], as_index=False, observed=True)[["qty_basis_t"]].sum()
    from_china = from_china.rename(columns={"importer": "country", "qty_basis_t": "m_china"})
    hubs = hubs.merge(from_china, on=KEY, how="left")
    base = hubs["production_t"].fillna(0.0) + hubs["imports_basis_t"].fillna(0.0)
    hubs["hub_china"] = hubs["m_china"].fillna(0.0) / base.where(base > 0)
    hubs = hubs.rename(columns={"country": "exporter"})[["year", "exporter", "mineral",
                                                         "hub_china"]]
    lines = pairs.loc[(pairs["qty_basis_t"] > 0).to_numpy(),
                      ["year", "importer", "exporter", "mineral", "qty_basis_t"]]
    importers = Groups(lines, ["year", "importer", "mineral"])
    hub_china = lookup(lines, hubs, ["year", "exporter", "mineral"], "hub_china")
    direct = (lines["exporter"] == CHINA).to_numpy(np.float64)
    china = importers.share(lines["qty_basis_t"]) * np.where(np.isnan(hub_china), direct,
                                                               hub_china)
    total = importers.keys().rename(columns={"importer": "country"})
    total["china"] = importers.sum(china)
    out = pd.Series(lookup(cube, total, KEY, "china"), index=cube.index)
    return out.where(cube["imports_basis_t"].to_numpy() > 0)


# -- the stage cube ---------------------------------------------------------------------------

def compute_stages(inp: CubeInputs) -> pd.DataFrame:
    """One row per (year, country, mineral, stage) where the country trades the stage's
    products or produces at that stage: production, imports, exports and suppliers of the
    stage on the mineral's basis, and the stage's import reliance where the stage has a
    production figure and its principal codes are in the data."""
    inp = harmonise(inp)
    pairs = inp.pairs
    traded = trade(pairs, inp.governance, ["year", "mineral", "stage"])
    production = inp.production[[*STAGE_KEY, "qty_t"]].rename(
        columns={"qty_t": "production_t"})
    keys = pd.concat([traded[STAGE_KEY], production[STAGE_KEY]],
                     ignore_index=True).drop_duplicates()
    rows = keys.merge(traded, on=STAGE_KEY, how="left").merge(production, on=STAGE_KEY,
                                                              how="left")
    stage_keys = ["year", "mineral", "stage"]
    traded_keys = rows[stage_keys].merge(
        pairs[stage_keys].drop_duplicates().assign(t=True), how="left")["t"]
    has_trade = pd.Series(traded_keys.astype("boolean").fillna(False).astype(bool).to_numpy(),
                          index=rows.index)
    made_keys = rows[stage_keys].merge(
        production[stage_keys].drop_duplicates().assign(p=True), how="left")["p"]
    has_prod = pd.Series(made_keys.astype("boolean").fillna(False).astype(bool).to_numpy(),
                         index=rows.index)
    for col in ["imports_t", "imports_basis_t", "imports_kusd", "exports_t",
                "exports_basis_t", "exports_kusd", "unfactored_kusd", "exports_unfactored_kusd"]:
        rows[col] = rows[col].fillna(0.0).where(has_trade)
    rows["n_suppliers"] = rows["n_suppliers"].fillna(0).where(has_trade).astype("Int32")
    rows["production_t"] = rows["production_t"].fillna(0.0).where(has_prod)
    cov = _coverage(inp, rows[stage_keys], rows["stage"])
    supply = _supply(rows, has_trade, has_prod, cov["missing"].set_axis(rows.index),
                     pd.Series(False, index=rows.index), inp.names)
    for col in ("apparent_supply_t", "import_reliance", "reliance_status", "reason"):
        rows[col] = supply[col]
    rows["coverage"] = np.where(cov["missing"].to_numpy() == "", "complete",
                                "missing " + cov["missing"].to_numpy())
    # harmonised categories: countries and minerals by name, stages upstream first
    return plain(rows.take(sort_order(rows, STAGE_KEY))).reset_index(drop=True)


# -- partners ----------------------------------------------------------------------------------

def partners(pairs: pd.DataFrame, headline: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each importer's suppliers per (year, mineral, stage), and over the headline stages
    (stage ``headline``; ``headline``: the :func:`headline_lines`), with their share of the
    importer's imports on the basis (the same shares as the cubes' ``china_share`` and
    ``top_supplier_share``). ``pairs`` hold one row per (year, exporter, importer, mineral,
    stage), as the engine's do."""
    key = ["year", "importer", "exporter", "mineral", "stage"]
    values = ["qty_t", "qty_basis_t", "value_kusd"]
    parts = [pairs[key + values]]
    if headline is not None:
        stage: Any = pairs["stage"].dtype
        parts.append(headline[key[:4] + values].assign(stage=pd.Categorical.from_codes(
            np.full(len(headline), stage.categories.get_loc("headline")), dtype=stage)))
    lines = pd.concat(parts, ignore_index=True).fillna({c: 0.0 for c in values})
    positive = lines["qty_basis_t"].where(lines["qty_basis_t"] > 0)
    lines["share"] = Groups(lines, ["year", "importer", "mineral", "stage"]).share(positive)
    order = sort_order(lines, ["year", "importer", "mineral", "stage", "exporter"])
    return lines.take(order).reset_index(drop=True)  # categorical keys: 2 M rows stay small


def _summed(frame: pd.DataFrame, key: list[str], values: list[str]) -> pd.DataFrame:
    """``frame``'s ``values`` summed per ``key``, missing values as 0 (the rows as they are
    when already one per key, as the engine's pairs are)."""
    groups = Groups(frame, key)
    if groups.n == len(frame):
        return frame[[*key, *values]].fillna({c: 0.0 for c in values}).reset_index(drop=True)
    out = groups.keys()
    for column in values:
        out[column] = groups.sum(frame[column])
    return out


# -- geopolrisk-py's numbers -------------------------------------------------------------------

def compute_compat_cube(pairs: pd.DataFrame, materials: list[str], gpr_governance: pd.DataFrame,
                        gpr_production: pd.DataFrame, countries: pd.DataFrame,
                        default: pd.DataFrame) -> pd.DataFrame:
    """The cube with its GeoPolRisk columns computed exactly as geopolrisk-py 2.0.1 does.

    ``pairs``: the engine's aggregate over geopolrisk-py's own HS map (each material's codes
    at factor 1); ``materials``: the minerals that map has. Covers every country with a BACI
    code × every material geopolrisk-py can assess × the years with production data (the
    library reports zeros where there is no trade). The flags come from the default cube
    where it has the row, plus ``geopolrisk_py_fails`` where the library raises an error.
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
    trade_rows = plain(pairs[pairs["year"].isin(years)]).astype({"year": "int16"})
    gpr = compat_geopolrisk(trade_rows, gpr_governance, gpr_production, keys)
    gpr = gpr.rename(columns={"total_t": "imports_t", "value_kusd": "imports_kusd",
                              "gpr_production": "production_t"})
    flags = default[[*KEY, "flags"]].astype({"year": "int16"})
    out = gpr.merge(flags, on=KEY, how="left")
    out["flags"] = out["flags"].fillna("")
    fails = out["peer_fails"]
    out.loc[fails, "flags"] = (out.loc[fails, "flags"] + ";geopolrisk_py_fails").str.lstrip(";")
    return out.sort_values(KEY).reset_index(drop=True)
