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

BASKET_SHARE = 0.5
"""A code is a basket for a mineral when the mineral's assumed share of the code's trade
(``allocation_share``) is at most this: 811291 (unwrought gallium, germanium, indium,
niobium, rhenium, hafnium…) is a basket for each. A mineral traded only in basket codes in a
year has no supplier mix of its own: its suppliers and reliance are withheld."""

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
    reported: pd.DataFrame | None = None
    """year, country, mineral, stage, source, qty_t: output that any source reports, the
    default or not, with ``qty_t`` missing where the source withholds the figure ("W");
    None: the default production only."""
    headings: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]] | None = None
    """heading_flows, heading_totals, heading_contents and the countries the extract leaves
    out: the top-flows extract that bounds a stage's trade where the six-digit data has no
    rows (:mod:`critmin.metrics.bounds`)."""
    unlisted: pd.DataFrame | None = None
    """year, mineral, stage, qty_t: output the default source does not list by country
    (USGS's "Other countries"), kept in the denominator of producer and refiner shares."""
    withheld_trade: pd.DataFrame | None = None
    """year, mineral, stage, ratio: mineral stages whose flows the build withheld because
    world trade of their content exceeded world production (``content_withheld``)."""
    published: pd.DataFrame | None = None
    """mineral, stage, measure, year, country, share, source, edition: published processing
    shares (the ``processing_shares`` table), for mineral-years with no refinery output by
    country in any source."""
    baskets: pd.DataFrame | None = None
    """year, mineral, codes: mineral-years whose headline trade is only in basket codes
    (codes shared with other minerals, see :data:`BASKET_SHARE`), which say nothing of the
    mineral's own suppliers."""


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
    s_type = pd.CategoricalDtype([*STAGES, "headline", "origin"])

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


def mining_concentration(production: pd.DataFrame,
                         unlisted: pd.DataFrame | None = None) -> pd.DataFrame:
    """Producer concentration per (year, mineral): HHI, top-3 and China share of production
    (``unlisted``: year, mineral, qty_t of output listed under no country, in the total)."""
    conc = concentration(production, ["year", "mineral"], "country", "qty_t",
                         unlisted=unlisted)
    return conc.rename(
        columns={
            "total": "world_production_t", "n": "n_producers", "hhi": "hhi",
            "top3_share": "top3_share", "named_share": "china_production_share",
            "top": "top_producer", "top_share": "top_producer_share",
        }
    )


def published_concentration(published: pd.DataFrame) -> pd.DataFrame:
    """Processing concentration per (year, mineral) from published country shares
    (:attr:`CubeInputs.published`): China's share, the top-3 share and the top country as
    published; no HHI and no tonnes (the rest of the world is one published row, not its
    countries), and ``refining_measure`` naming the measure and its source.

    >>> shares = pd.DataFrame({"year": [2023] * 3, "mineral": ["lithium"] * 3,
    ...     "country": ["CHN", "CHL", "ROW"], "share": [0.65, 0.25, 0.10],
    ...     "measure": ["lithium chemicals"] * 3, "source": ["IEA"] * 3, "edition": ["2024"] * 3})
    >>> row = published_concentration(shares).iloc[0]
    >>> float(row["refining_china_share"]), row["top_refiner"], float(row["refining_top3_share"])
    (0.65, 'CHN', 0.9)
    """
    rows = published[published["country"] != "ROW"].sort_values(
        ["year", "mineral", "share", "country"], ascending=[True, True, False, True])
    key = ["year", "mineral"]
    first = rows.drop_duplicates(key)
    out = first[[*key, "country", "share", "measure", "source", "edition"]].rename(
        columns={"country": "top_refiner", "share": "top_refiner_share"})
    out["refining_top3_share"] = rows.groupby(key)["share"].apply(
        lambda s: s.head(3).sum()).to_numpy()
    china = rows.loc[rows["country"] == CHINA, [*key, "share"]].rename(
        columns={"share": "china"})
    out["refining_china_share"] = out[key].merge(china, on=key, how="left")["china"].fillna(
        0.0).to_numpy()
    source = out.pop("source").str.split(";").str[0].str.split(",").str[:2].str.join(",")
    out["refining_measure"] = ("published share: " + out.pop("measure") + " ("
                               + source.str.replace(r"\s*\(.*?Explorer\)", "", regex=True)
                               + ", edition " + out.pop("edition").astype(str) + ")")
    out["refining_hhi"] = np.nan
    out["refined_t"] = np.nan
    out["n_refiners"] = pd.NA
    return out.reset_index(drop=True)


def refining_concentration(pairs: pd.DataFrame, refinery: pd.DataFrame,
                           published: pd.DataFrame | None = None,
                           unlisted: pd.DataFrame | None = None) -> pd.DataFrame:
    """Processing concentration per (year, mineral), two measures under two names: of
    refinery production where a source reports it (``refining_*``, ``top_refiner``), else
    of published shares (:func:`published_concentration`, said so in
    ``refining_measure``), nothing where neither exists; and of exports of intermediate and
    refined products (``processed_exports_*``, ``top_processed_exporter``), which measures
    trade, not refining: a refiner that uses its output at home shows a small share."""
    names = {"total": "refined_t", "n": "n_refiners", "hhi": "refining_hhi",
             "top3_share": "refining_top3_share", "named_share": "refining_china_share",
             "top": "top_refiner", "top_share": "top_refiner_share"}
    produced = concentration(refinery, ["year", "mineral"], "country", "qty_t",
                             unlisted=unlisted).rename(columns=names)
    measure = pd.Series("refinery production", index=produced.index)
    if "source" in refinery:
        key = ["year", "mineral"]
        sources = plain(refinery).astype({"year": "int16"}).groupby(key, as_index=False).agg(
            named=("source", lambda s: ", ".join(sorted(set(map(str, s))))))
        named = plain(produced[key]).astype({"year": "int16"}).merge(
            sources, on=key, how="left")["named"]
        measure = measure + np.where(named.notna().to_numpy(),
                                     " (" + named.fillna("").to_numpy(str) + ")", "")
    produced = produced.assign(refining_measure=pd.Series(measure.to_numpy(), dtype="str",
                                                          index=produced.index))
    if published is not None and not published.empty:
        shares = published_concentration(plain(published))
        shares["year"] = shares["year"].astype("int16")
        have = pd.MultiIndex.from_frame(plain(produced[["year", "mineral"]]).astype(
            {"year": "int16"}))
        extra = shares[~pd.MultiIndex.from_frame(shares[["year", "mineral"]]).isin(have)]
        produced = pd.concat([plain(produced).astype({"year": "int16"}),
                              extra[list(produced.columns)]], ignore_index=True)
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
    """Apparent supply, import reliance, its status and the reason it is withheld.

    ``elsewhere``, aligned with ``cube``, holds what else is known of each row, every column
    optional: output a source reports that the default lacks (``elsewhere_stage``,
    ``elsewhere_source``, ``elsewhere_t``, missing when withheld, ``elsewhere_same`` at the
    production stage: :func:`output_elsewhere`, :func:`stage_output_elsewhere`); trade only in
    basket codes (``basket``, ``basket_codes``); flows the build withheld
    (``trade_withheld``, ``trade_withheld_ratio``)."""
    m_b, x_b, p = cube["imports_basis_t"], cube["exports_basis_t"], cube["production_t"]
    mixed = (cube["unfactored_kusd"] > 0) | (cube["exports_unfactored_kusd"] > 0)
    supply = p + m_b - x_b
    supply = supply.mask(supply.abs() <= ROUNDING * (p.fillna(0.0) + m_b + x_b), 0.0)
    net = m_b - x_b
    gap = missing != ""
    exceed = has_trade & (x_b > (p.fillna(0.0) + m_b) * (1 + ROUNDING))
    nonproducer = has_prod & (p == 0) & (net > 0)

    def mark(column: str) -> pd.Series:
        """A boolean column of ``elsewhere`` (False where absent)."""
        if elsewhere is None or column not in elsewhere:
            return pd.Series(False, index=cube.index)
        return elsewhere[column].astype("boolean").fillna(False).astype(bool).set_axis(
            cube.index)

    made_elsewhere = (pd.Series(False, index=cube.index)
                      if elsewhere is None or "elsewhere_stage" not in elsewhere
                      else elsewhere["elsewhere_stage"].notna().set_axis(cube.index))
    same_stage, basket, pulled = (mark("elsewhere_same"), mark("basket"),
                                  mark("trade_withheld"))
    ratio = x_b / (p.fillna(0.0) + m_b).where(lambda s: s > 0)
    conditions = [
        ~has_trade & ~has_prod & ~pulled, pulled, ~has_trade, basket, ~has_prod, implausible,
        mixed, gap & ~nonproducer, exceed, supply <= 0,
        nonproducer & made_elsewhere & same_stage, nonproducer & made_elsewhere, nonproducer,
        net < 0, net > 0,
    ]
    statuses = {
        "no data": "",
        "withheld at build": "",  # shown as implausible content, the reason below
        "no trade recorded": "no flows of the mineral's codes in the data this year",
        "basket code only": "",  # the codes, below
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
        "production in another source": "",  # the source and tonnes, below
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
            + made["elsewhere_stage"] + " output of " + _tonnes_or_withheld(made)
            + " (" + made["elsewhere_source"] + "): it processes imported feed, so "
            "'100 % of supply imported' would misstate its dependence; the stage view gives "
            "each stage's balance").to_numpy()
    source = np.flatnonzero(code == names_of.index("production in another source"))
    if elsewhere is not None and len(source):
        made = elsewhere.iloc[source]
        reason_text[source] = (
            "no output in the default production source, but " + made["elsewhere_source"]
            + " reports " + made["elsewhere_stage"] + " output of "
            + _tonnes_or_withheld(made) + ": '100 % of supply imported' would misstate its "
            "dependence, and its domestic supply is not known from one source").to_numpy()
    gone = np.flatnonzero(code == names_of.index("withheld at build"))
    status_text[gone] = "implausible content"
    if elsewhere is not None and len(gone):
        ratio_text = elsewhere["trade_withheld_ratio"].iloc[gone].map("{:.1f}".format)
        reason_text[gone] = (
            "the build withheld its flows: world trade of its content was " + ratio_text
            + "× world production this year (bullion or re-traded stocks, not supply; see "
            "content_withheld in the data manifest)").to_numpy()
    shared = np.flatnonzero(code == names_of.index("basket code only"))
    if elsewhere is not None and len(shared):
        codes = elsewhere["basket_codes"].iloc[shared].fillna("")
        reason_text[shared] = (
            "its trade this year is only in basket codes (" + codes + ") that it shares "
            "with other minerals: their suppliers are not its own, so neither suppliers nor "
            "reliance are shown").to_numpy()
    status = pd.Series(status_text, index=cube.index)
    reason = pd.Series(reason_text, index=cube.index)
    return pd.DataFrame({"apparent_supply_t": supply, "import_reliance": reliance,
                         "reliance_status": status, "reason": reason, "mixed": mixed,
                         "exceed": exceed, "gap": gap})


def _tonnes_or_withheld(made: pd.DataFrame) -> pd.Series:
    """"1,234 t", or "a withheld figure (W)" where the source reports output without it."""
    qty = made["elsewhere_t"]
    return qty.map("{:,.0f} t".format).where(qty.notna(), "a withheld figure (W)")


def output_elsewhere(inp: CubeInputs) -> pd.DataFrame:
    """Per (year, country, mineral): output that belies "no domestic production" although
    the default source has none at the production stage: another source's output at that
    stage (a figure, or one withheld: "W"), else output downstream of it (a refinery with no
    mine). Upstream output (alumina where aluminium is counted at the smelter) does not
    count. Columns ``elsewhere_stage``, ``elsewhere_source``, ``elsewhere_t`` (missing when
    withheld) and ``elsewhere_same`` (True at the production stage)."""
    rows = inp.reported if inp.reported is not None else inp.production.assign(source="")
    rank = {s: i for i, s in enumerate(STAGES)}
    stage_rank = rows["stage"].astype(str).map(rank).fillna(-1).to_numpy(int)
    first = _stage_rank_of(inp, rows["mineral"])
    qty = rows["qty_t"]
    keep = (stage_rank >= first) & (qty.gt(0.0) | qty.isna()).to_numpy()
    cand = rows[keep].assign(
        elsewhere_same=(stage_rank == first)[keep], withheld=qty[keep].isna().to_numpy())
    cand = cand.sort_values(["elsewhere_same", "withheld", "qty_t"],
                            ascending=[False, True, False])
    out = cand.drop_duplicates(KEY)[[*KEY, "stage", "source", "qty_t", "elsewhere_same"]]
    out = out.rename(columns={"stage": "elsewhere_stage", "source": "elsewhere_source",
                              "qty_t": "elsewhere_t"})
    for col in ("elsewhere_stage", "elsewhere_source"):
        out[col] = out[col].astype(str)
    return plain(out).reset_index(drop=True)


def unlisted_at(inp: CubeInputs, stage: str) -> pd.DataFrame | None:
    """:attr:`CubeInputs.unlisted` at one stage (``"primary"``: each mineral's production
    stage), as year, mineral, qty_t."""
    if inp.unlisted is None or inp.unlisted.empty:
        return None
    rows = plain(inp.unlisted)
    if stage == "primary":
        wanted = (inp.production_stage if inp.production_stage is not None
                  else pd.Series(dtype=str))
        keep = rows["stage"] == rows["mineral"].map(wanted).fillna("ore")
    else:
        keep = rows["stage"] == stage
    return rows.loc[keep, ["year", "mineral", "qty_t"]].astype({"year": "int16"})


def stage_output_elsewhere(inp: CubeInputs, rows: pd.DataFrame) -> pd.DataFrame:
    """Per stage row (``rows``: year, country, mineral, stage): another source's output at
    that stage, a figure or one withheld ("W"), in the columns of :func:`output_elsewhere`
    (``elsewhere_same`` True), aligned with ``rows``."""
    out = pd.DataFrame({"elsewhere_stage": pd.Series([None] * len(rows), dtype=object),
                        "elsewhere_source": "", "elsewhere_t": np.nan,
                        "elsewhere_same": False})
    if inp.reported is None or inp.reported.empty:
        return out
    qty = inp.reported["qty_t"]
    cand = plain(inp.reported[(qty.gt(0.0) | qty.isna()).to_numpy()]).assign(
        withheld=lambda f: f["qty_t"].isna())
    cand = cand.sort_values(["withheld", "qty_t"], ascending=[True, False]).drop_duplicates(
        STAGE_KEY)
    found = plain(rows[STAGE_KEY]).astype({"year": "int16"}).merge(
        cand.astype({"year": "int16"}), on=STAGE_KEY, how="left")
    hit = found["source"].notna().to_numpy()
    out.loc[hit, "elsewhere_stage"] = found.loc[hit, "stage"].astype(str).to_numpy()
    out.loc[hit, "elsewhere_source"] = found.loc[hit, "source"].astype(str).to_numpy()
    out.loc[hit, "elsewhere_t"] = found.loc[hit, "qty_t"].to_numpy()
    out.loc[hit, "elsewhere_same"] = True
    return out


def headline_baskets(inp: CubeInputs, lines: pd.DataFrame) -> pd.DataFrame:
    """Per (year, mineral) whose every traded headline stage is traded only in basket codes
    (:attr:`CubeInputs.baskets`): ``basket_codes``. ``lines``: the
    :func:`headline_lines`."""
    empty = pd.DataFrame({"year": pd.Series(dtype="int16"), "mineral": pd.Series(dtype=str),
                          "basket_codes": pd.Series(dtype=str)})
    if inp.baskets is None or inp.baskets.empty or lines.empty:
        return empty
    key = ["year", "mineral", "stage"]
    traded = plain(headline_pairs(inp)[key].drop_duplicates())
    marked = traded.merge(plain(inp.baskets).astype({"year": traded["year"].dtype}),
                          on=key, how="left")
    grouped = marked.groupby(["year", "mineral"], as_index=False).agg(
        all_basket=("codes", lambda s: bool(s.notna().all())),
        basket_codes=("codes", lambda s: ", ".join(dict.fromkeys(s.dropna()))))
    out = grouped[grouped["all_basket"]][["year", "mineral", "basket_codes"]]
    return out.astype({"year": "int16"}).reset_index(drop=True)


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
    elsewhere = output_elsewhere(inp)
    traded = trade(pairs, inp.governance, ["year", "mineral"])
    keys = pd.concat([traded[KEY], production[KEY]], ignore_index=True).drop_duplicates()
    cube = (
        keys.merge(traded, on=KEY, how="left")
        .merge(production, on=KEY, how="left")
        .merge(mining_concentration(primary, unlisted_at(inp, "primary")),
               on=["year", "mineral"], how="left")
        .merge(refining_concentration(inp.pairs, refinery, inp.published,
                                      unlisted_at(inp, "refined")),
               on=["year", "mineral"], how="left")
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
    basket = cube[["year", "mineral"]].merge(
        headline_baskets(inp, pairs), on=["year", "mineral"], how="left")["basket_codes"]
    made_elsewhere["basket_codes"] = basket.to_numpy()
    if inp.withheld_trade is not None and not inp.withheld_trade.empty:
        pulled = inp.withheld_trade[inp.withheld_trade["stage"].isin(HEADLINE_STAGES)]
        pulled = pulled.groupby(["year", "mineral"], as_index=False).agg(ratio=("ratio", "max"))
        ratio = cube[["year", "mineral"]].merge(pulled.astype({"year": "int16"}),
                                                on=["year", "mineral"], how="left")["ratio"]
        made_elsewhere["trade_withheld"] = (ratio.notna() & ~has_trade.to_numpy()).to_numpy()
        made_elsewhere["trade_withheld_ratio"] = ratio.to_numpy()
    made_elsewhere["basket"] = (basket.notna() & has_trade.to_numpy()).to_numpy()
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
    shared = (cube["reliance_status"] == "basket code only").to_numpy()
    if shared.any():  # a basket's suppliers are not the mineral's own
        cube.loc[shared, "top_supplier"] = None
        cube.loc[shared, ["top_supplier_share", "china_share", "china_share_origin",
                          "import_hhi", "wta", "score", "cf"]] = np.nan
        cube.loc[shared, "single_supplier"] = False

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


def traced_origins(lines: pd.DataFrame, cube: pd.DataFrame) -> pd.DataFrame:
    """Each importer's supply with entrepôts' exports traced one step back to their own
    sources, pro rata to the entrepôt's production and imports (as
    :func:`origin_china_share` does for China): rows (year, importer, exporter, mineral,
    qty_basis_t) where ``exporter`` is the origin (an entrepôt's own output stays its own).
    ``lines``: the :func:`headline_lines`; ``cube``: the headline cube of the same inputs."""
    hubs = plain(cube.loc[entrepots(cube).to_numpy(),
                          [*KEY, "production_t", "imports_basis_t"]])
    flows = plain(lines.loc[(lines["qty_basis_t"] > 0).to_numpy(),
                            ["year", "importer", "exporter", "mineral", "qty_basis_t"]])
    flows["year"] = flows["year"].astype("int16")
    hubs["year"] = hubs["year"].astype("int16")
    base = hubs["production_t"].fillna(0.0) + hubs["imports_basis_t"].fillna(0.0)
    hubs = hubs.assign(base=base.where(base > 0)).dropna(subset=["base"])
    own = hubs.assign(source=hubs["country"], frac=hubs["production_t"].fillna(0.0)
                      / hubs["base"])[["year", "country", "mineral", "source", "frac"]]
    bought = flows.merge(hubs[["year", "country", "mineral", "base"]],
                         left_on=["year", "importer", "mineral"],
                         right_on=["year", "country", "mineral"])
    bought = bought.assign(source=bought["exporter"],
                           frac=bought["qty_basis_t"] / bought["base"])[own.columns]
    mix = pd.concat([own, bought], ignore_index=True)
    mix = mix[mix["frac"] > 0].rename(columns={"country": "exporter"})
    via = flows.merge(mix, on=["year", "exporter", "mineral"])
    via = via.assign(exporter=via["source"], qty_basis_t=via["qty_basis_t"] * via["frac"])
    hub_keys = pd.MultiIndex.from_frame(hubs[["year", "country", "mineral"]])
    direct = flows[~pd.MultiIndex.from_frame(
        flows[["year", "exporter", "mineral"]]).isin(hub_keys)]
    out = pd.concat([direct, via[direct.columns]], ignore_index=True)
    return out.groupby(["year", "importer", "exporter", "mineral"], as_index=False,
                       sort=False).agg(qty_basis_t=("qty_basis_t", "sum"))


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
    marks = stage_output_elsewhere(inp, rows)
    if inp.baskets is not None:
        codes = plain(rows[stage_keys]).merge(
            plain(inp.baskets).astype({"year": "int16"}), on=stage_keys, how="left")["codes"]
        marks["basket"] = (codes.notna() & has_trade.to_numpy()).to_numpy()
        marks["basket_codes"] = codes.to_numpy()
    supply = _supply(rows, has_trade, has_prod, cov["missing"].set_axis(rows.index),
                     pd.Series(False, index=rows.index), inp.names, marks)
    for col in ("apparent_supply_t", "import_reliance", "reliance_status", "reason"):
        rows[col] = supply[col]
    rows["coverage"] = np.where(cov["missing"].to_numpy() == "", "complete",
                                "missing " + cov["missing"].to_numpy())
    rows = _with_bounds(inp, rows, cov["missing"].to_numpy() != "")
    # harmonised categories: countries and minerals by name, stages upstream first
    return plain(rows.take(sort_order(rows, STAGE_KEY))).reset_index(drop=True)


# -- the main row's answer ---------------------------------------------------------------------

STAGE_NAMES = {"ore": "ore", "intermediate": "intermediate", "refined": "refined",
               "alloy": "alloys", "scrap": "scrap", "product": "products"}
"""How an answer names the stage it is about."""


def percent(share: pd.Series) -> pd.Series:
    """Shares as whole per cent ("54 %"), "<1 %" below half a per cent, "" when missing.

    >>> percent(pd.Series([0.5444, 0.004, 0.0, float("nan")])).tolist()
    ['54 %', '<1 %', '0 %', '']
    >>> ("x" + percent(pd.Series([], dtype=float))).tolist()
    []
    """
    whole = (share * 100).round()
    # object even when empty (a map over no values comes back float)
    text = whole.map(lambda v: f"{v:.0f} %" if v == v else "").astype(object)
    tiny = (share > 0) & (share < 0.005)
    return text.where(~tiny, "<1 %")


def reliance_text(reliance: pd.Series, exports_t: pd.Series, supply_t: pd.Series) -> pd.Series:
    """A reliance as the main row says it: "100 % imported", "net exporter (−13 %)", and
    "net exporter (exports 108× supply)" below −100 %, where a percentage would mislead.

    >>> reliance_text(pd.Series([1.0, -0.13, -107.5]), pd.Series([0.0, 5.0, 1_800.0]),
    ...               pd.Series([10.0, 40.0, 16.6])).tolist()
    ['100 % imported', 'net exporter (−13 %)', 'net exporter (exports 108× supply)']
    >>> reliance_text(pd.Series([-1.3]), pd.Series([2.3]), pd.Series([1.0])).tolist()
    ['net exporter (exports 2.3× supply)']
    >>> reliance_text(*[pd.Series([], dtype=float)] * 3).tolist()
    []
    """
    if reliance.empty:  # the text maps below would come back float
        return pd.Series("", index=reliance.index, dtype=object)
    times = exports_t / supply_t.where(supply_t > 0)
    text = percent(reliance) + " imported"
    text = text.where(reliance >= 0, "net exporter (" + percent(-reliance).map(
        lambda v: f"−{v}" if v and v[0].isdigit() and v != "0 %" else v) + ")")
    far = reliance < -1
    text = text.where(~far, "net exporter (exports " + times.map(
        lambda v: (f"{v:,.1f}" if v < 9.95 else f"{v:,.0f}") if v == v else "many")
        + "× supply)")
    return text.where(reliance.notna(), "")


def main_answer(cube: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """The figure each headline row answers with: its own reliance where the data carries
    it; else that of the principal stage the data covers (the stage with a reliance and the
    largest imports by value), labelled as that stage ("refined: 100 % imported, China
    99 %"); where no stage has one, China's share of the imports of the
    stage imported most by value, named ("refined: China 99 % of imports"); nothing where the country imports nothing with a supplier mix (the reason
    says why).

    Returns ``cube`` with ``answer_stage`` ("headline", a stage, or ""),
    ``answer_reliance``, ``answer_china_share`` and ``answer`` (text).
    """
    out = cube.copy()
    own = out["import_reliance"].notna()
    shown = stages[stages["import_reliance"].notna()
                   & (stages["imports_kusd"].fillna(0.0) > 0)
                   & stages["stage"].isin(HEADLINE_STAGES)]
    best = shown.sort_values(["imports_kusd", "stage"], ascending=[False, True]).drop_duplicates(
        KEY)
    best = plain(best[[*KEY, "stage", "import_reliance", "china_share", "exports_basis_t",
                       "apparent_supply_t"]].rename(columns=lambda c: c if c in KEY
                                                    else "s_" + c))
    merged = plain(out[KEY]).merge(best, on=KEY, how="left")
    use = (~own).to_numpy() & merged["s_stage"].notna().to_numpy()
    stage = np.where(own, "headline", np.where(use, merged["s_stage"].fillna(""), ""))
    rel = out["import_reliance"].where(own, merged["s_import_reliance"].where(use).to_numpy())
    china = out["china_share"].where(own, merged["s_china_share"].where(use).to_numpy())
    exports = out["exports_basis_t"].where(own, merged["s_exports_basis_t"].to_numpy())
    supply = out["apparent_supply_t"].where(own, merged["s_apparent_supply_t"].to_numpy())
    text = reliance_text(rel, exports, supply)
    others = (out["country"] != CHINA).to_numpy()  # China's share of China's imports says nothing
    with_china = text + np.where(china.notna() & (rel > 0) & others,
                                 ", China " + percent(china), "")
    label = pd.Series(stage, index=out.index).map(STAGE_NAMES).fillna("")
    answer = pd.Series(np.where(use, label + ": " + with_china, with_china), index=out.index)
    # no point figure anywhere: an interval of a stage whose trade the extract bounds
    if "reliance_interval" in stages:
        # an answer only where the interval says which side the country is on
        sided = (stages["reliance_low"] >= 0) | (stages["reliance_high"] <= 0)
        ranged = stages[stages["reliance_interval"].fillna("").ne("") & sided].sort_values(
            ["imports_kusd", "stage"], ascending=[False, True]).drop_duplicates(KEY)
        ranged = plain(ranged[[*KEY, "stage", "reliance_interval", "reliance_low",
                               "reliance_high"]])
        hit = plain(out[KEY]).merge(ranged, on=KEY, how="left")
        bound = (~own).to_numpy() & ~use & hit["stage"].notna().to_numpy()
        stage = np.where(bound, hit["stage"].fillna(""), stage)
        said = np.where(hit["reliance_high"] <= 0, "net exporter (bounds)",
                        hit["reliance_interval"].fillna("") + " imported (bounds)")
        answer = answer.where(~bound, (hit["stage"].map(STAGE_NAMES).fillna("") + ": "
                                       + said).to_numpy())
        use = use | bound  # no point figure: answer_reliance stays missing
    # no reliance anywhere: China's share of what the country imports most, named
    sourced = stages[stages["china_share"].notna() & (stages["imports_kusd"].fillna(0.0) > 0)
                     & ~stages["reliance_status"].eq("basket code only")
                     & stages["stage"].isin(HEADLINE_STAGES)]
    top = plain(sourced.sort_values(["imports_kusd", "stage"], ascending=[False, True])
                .drop_duplicates(KEY)[
        [*KEY, "stage", "china_share", "reliance_status"]])
    fallback = plain(out[KEY]).merge(top, on=KEY, how="left")
    shares = (~own).to_numpy() & ~use & fallback["stage"].notna().to_numpy() & others
    stage = np.where(shares, fallback["stage"].fillna(""), stage)
    china = china.where(~shares, fallback["china_share"].to_numpy())
    named = (pd.Series(stage, index=out.index).map(STAGE_NAMES).fillna("") + ": China "
             + percent(china) + " of imports")
    out["answer_stage"] = pd.Series(stage, index=out.index, dtype="str")
    out["answer_reliance"] = rel
    out["answer_china_share"] = china.where(rel.notna() | shares)
    out["answer"] = pd.Series(np.where(shares, named.to_numpy(), answer.to_numpy()),
                              index=out.index, dtype="str")
    return out


def _with_bounds(inp: CubeInputs, rows: pd.DataFrame, gap: np.ndarray) -> pd.DataFrame:
    """Stage rows with ``reliance_low``, ``reliance_high`` and ``reliance_interval`` (its
    label) where the stage's six-digit codes are missing and the top-flows extract bounds
    its trade (:func:`critmin.metrics.bounds.reliance_bounds`); missing elsewhere."""
    from critmin.metrics.bounds import reliance_bounds

    out = rows.assign(reliance_low=np.nan, reliance_high=np.nan, reliance_interval="")
    if inp.headings is None or not gap.any():
        return out
    flows, totals, contents, absent = inp.headings
    if flows.empty or totals.empty:  # years the extract does not cover
        return out
    production = plain(inp.production[[*STAGE_KEY, "qty_t"]])
    production = production.groupby(STAGE_KEY, as_index=False).agg(qty_t=("qty_t", "sum"))
    bounds = plain(reliance_bounds(flows, totals, contents, production, absent))
    bounds = bounds[[*STAGE_KEY, "reliance_low", "reliance_high", "reliance_label"]]
    found = plain(rows[STAGE_KEY]).astype({"year": "int16"}).merge(
        bounds.astype({"year": "int16"}), on=STAGE_KEY, how="left")
    use = gap & found["reliance_label"].fillna("").ne("").to_numpy() & rows[
        "import_reliance"].isna().to_numpy()
    out["reliance_low"] = found["reliance_low"].where(use).to_numpy()
    out["reliance_high"] = found["reliance_high"].where(use).to_numpy()
    out["reliance_interval"] = pd.Series(
        np.where(use, found["reliance_label"].fillna("").to_numpy(str), ""),
        index=out.index, dtype="str")
    return out


# -- partners ----------------------------------------------------------------------------------

def partners(pairs: pd.DataFrame, headline: pd.DataFrame | None = None,
             inp: CubeInputs | None = None,
             origins: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each importer's suppliers per (year, mineral, stage), and over the headline stages
    (stage ``headline``; ``headline``: the :func:`headline_lines`), with their share of the
    importer's imports on the basis (the same shares as the cubes' ``china_share`` and
    ``top_supplier_share``). ``pairs`` hold one row per (year, exporter, importer, mineral,
    stage), as the engine's do. With ``inp``, stages (and headlines) traded only in basket
    codes are left out: their suppliers are not the mineral's own. ``origins``
    (:func:`traced_origins`) adds the headline traced through entrepôts as stage
    ``origin``."""
    if inp is not None and inp.baskets is not None and not inp.baskets.empty:
        key = ["year", "mineral", "stage"]
        marked = plain(pairs[key]).merge(plain(inp.baskets).astype({"year": "int16"}),
                                         on=key, how="left")["codes"]
        pairs = pairs[marked.isna().to_numpy()]
        if headline is not None:
            shared = headline_baskets(inp, headline)
            hit = plain(headline[["year", "mineral"]]).merge(
                shared, on=["year", "mineral"], how="left")["basket_codes"]
            headline = headline[hit.isna().to_numpy()]
    key = ["year", "importer", "exporter", "mineral", "stage"]
    values = ["qty_t", "qty_basis_t", "value_kusd"]
    parts = [pairs[key + values]]
    if headline is not None:
        stage: Any = pairs["stage"].dtype
        parts.append(headline[key[:4] + values].assign(stage=pd.Categorical.from_codes(
            np.full(len(headline), stage.categories.get_loc("headline")), dtype=stage)))
    if origins is not None and headline is not None and len(headline):
        stage_type: Any = pairs["stage"].dtype
        kept = plain(headline[key[:4]]).astype({"year": "int16"}).drop_duplicates(
            ["year", "importer", "mineral"])[["year", "importer", "mineral"]]
        traced = origins.merge(kept, on=["year", "importer", "mineral"])
        traced = traced.astype({c: headline[c].dtype for c in key[:4]})
        parts.append(traced.assign(qty_t=np.nan, value_kusd=np.nan, stage=pd.Categorical.from_codes(
            np.full(len(traced), stage_type.categories.get_loc("origin")), dtype=stage_type)))
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
