"""CEPII BACI HS 2022 (release V202601): the 200 largest exporter->importer flows of each HS
four-digit heading and year, 2022-2024, with each heading-year's totals over every pair.

The extract (``flows.json`` and ``countries.json`` of the public repository
philippmerz/comflow, commit 1cf32c58) was built from the official BACI file: its six-digit
lines summed to the heading, pairs ranked by value, the top 200 kept, and the totals summed
over all pairs. It fills two tables:

- ``heading_flows`` (year, exporter, importer, heading, value_usd, qty_t): the listed flows;
- ``heading_totals`` (year, heading, value_usd, qty_t, pairs, listed_value_usd,
  listed_qty_t): the heading-year's totals and the part of them the listed flows make up.

What they allow is a bound, not a figure: a country's trade of a heading is at least its
listed flows and at most those plus the remainder (``qty_t - listed_qty_t``), which every
unlisted flow fits in. :mod:`critmin.metrics.bounds` carries that bound to import reliance.

Limits of the extract, each kept visible rather than papered over:

- it covers only the countries of the map its build drew (Natural Earth at 1:110 m):
  France and Norway (coded -99 there), Singapore, Hong Kong, Bahrain, Malta, Mauritius and
  other small countries are missing, and every flow to or from them is in no listed flow and
  no total. The bound holds for trade among the countries the extract covers; the catalog
  countries it leaves out are :func:`absent_countries`, and a check against the complete HS
  2017 release of 2024 puts a quarter of world refined-nickel tonnage (Norway's exports
  above all) and 3 % of copper cathodes outside it;
- where BACI has no quantity the extract writes 0 t: a listed flow of 0 t with a value is
  read as a missing quantity, and such pairs count as 0 t in the totals;
- a few quantities cannot be the product's (unit values a thousandth of the market's): a
  listed flow of an unwrought-metal heading whose unit value is beyond
  :data:`UNIT_VALUE_RANGE` times its heading-year median is read as missing, and its tonnes
  are taken out of the total;
- tonnes are rounded to whole tonnes, flow by flow and in each total (at most 100 t of slack
  in a remainder of 200 flows);
- a pair of a code the catalog does not know would be left out with a counted reason; its
  trade stays in the remainder, so the bound still holds.

Source: CEPII BACI (Gaulier & Zignago 2010, CEPII Working Paper 2010-23), HS 2022 release
V202601, Etalab Open Licence 2.0; extract of philippmerz/comflow commit 1cf32c58.

>>> sorted(HEADINGS)[:3]
['2601', '2603', '2606']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from critmin import schema
from critmin.errors import DataError
from critmin.sources.baci_hs17 import BACI_ISO3
from critmin.sources.coverage import Coverage
from critmin.sources.validate import Known, validate

SOURCE = "baci-hs22-top"

HEADINGS = {
    "2601": "iron ores and concentrates",
    "2603": "copper ores and concentrates",
    "2606": "aluminium ores and concentrates",
    "2701": "coal",
    "2709": "crude petroleum oils",
    "2710": "petroleum oils, other than crude",
    "2711": "petroleum gases",
    "3104": "potassic fertilisers",
    "7108": "gold, unwrought or semi-manufactured",
    "7202": "ferro-alloys (every type in one heading)",
    "7403": "refined copper and copper alloys, unwrought",
    "7502": "unwrought nickel (not alloyed and alloys)",
    "7601": "unwrought aluminium (not alloyed and alloys)",
    "7801": "unwrought lead",
    "7901": "unwrought zinc (not alloyed and alloys)",
    "8001": "unwrought tin (not alloyed and alloys)",
}
"""The extract's headings (HS 2022) and what each holds."""

ROUNDING_T = 0.5
"""The extract rounds each flow's and each total's tonnes to whole tonnes: a listed total may
exceed its heading's total by up to half a tonne per listed flow and still be right."""

UNIT_VALUE_RANGE = 10.0
"""A listed flow of an unwrought-metal heading (:data:`ONE_PRICE_HEADINGS`) whose unit value
(USD per kg) is under a tenth, or over ten times, the median of its heading and year has a
quantity that cannot be the product's (Spain to Mexico, zinc, 2024: 5.0 Mt at 0.013 USD/kg
against a median of 2.9 USD/kg, a thousandfold unit slip): its quantity is read as missing,
and its reported tonnes are taken out of the heading's total so that the remainder keeps
meaning the unlisted flows."""

ONE_PRICE_HEADINGS = ("7403", "7502", "7601", "7801", "7901", "8001")
"""Headings of one metal, refined or alloyed, that trade near one price, where a unit value
ten times off the median is a slip in the quantity. Ores (grade, calcination), fuels and
ferro-alloys (ferro-manganese at about 1 USD/kg beside ferro-niobium at about 40) spread too
widely for the test."""


@dataclass(frozen=True)
class TopFlows:
    """What :func:`read_top_flows` reads."""

    flows: pd.DataFrame
    """``heading_flows`` rows."""
    totals: pd.DataFrame
    """``heading_totals`` rows."""
    coverage: Coverage


def _flow_rows(payload: dict[str, Any]) -> pd.DataFrame:
    """The listed flows of the extract, one row each, with the extract's own codes."""
    hs4 = {c["id"]: str(c["hs4"]) for c in payload["meta"]["commodities"]}
    unknown = sorted(set(payload["flows"]) - set(hs4))
    if unknown:
        raise DataError(f"flows of commodities the extract does not describe: {unknown}")
    records = [(int(year), hs4[cid], f["e"], f["i"], f["v"], f["w"])
               for cid, years in payload["flows"].items()
               for year, listed in years.items() for f in listed]
    return pd.DataFrame.from_records(
        records, columns=["year", "heading", "exporter", "importer", "value_usd", "weight"])


def _total_rows(payload: dict[str, Any]) -> pd.DataFrame:
    hs4 = {c["id"]: str(c["hs4"]) for c in payload["meta"]["commodities"]}
    records = [(int(year), hs4[cid], t["value_usd"], t["tonnes"], t["pairs"])
               for cid, years in payload["totals"].items() for year, t in years.items()]
    return pd.DataFrame.from_records(
        records, columns=["year", "heading", "value_usd", "qty_t", "pairs"])


def read_top_flows(flows_path: Path, known: Known) -> TopFlows:
    """The ``heading_flows`` and ``heading_totals`` tables of the extract at ``flows_path``.

    Parameters
    ----------
    flows_path : Path
        The extract's ``flows.json``.
    known : Known
        The catalog's countries, which each exporter and importer is checked against.

    Returns
    -------
    TopFlows
        Both tables in their declared schema, and what was read, kept and left out.

    Raises
    ------
    DataError
        When the file names a commodity it does not describe, repeats a pair, or lists more
        than a heading's total.

    Examples
    --------
    >>> from critmin import catalog
    >>> from critmin.build import default_sources_dir
    >>> path = default_sources_dir() / "baci-hs22-top200" / "flows.json"
    >>> known = Known(countries=frozenset(catalog.load_countries()["iso3"]))
    >>> top = read_top_flows(path, known)
    >>> len(top.flows), len(top.totals)
    (9600, 48)
    """
    payload = json.loads(flows_path.read_text("utf-8"))
    cov = Coverage(source=SOURCE)
    raw = _flow_rows(payload)
    cov.rows_read = len(raw)
    missing_qty = (raw["weight"] == 0) & (raw["value_usd"] > 0)
    implausible = implausible_quantity(raw.assign(qty_t=raw["weight"].mask(missing_qty)))
    table = pa.table({
        "year": pa.array(raw["year"].astype("int16")),
        "exporter": pa.array(raw["exporter"].replace(BACI_ISO3)),
        "importer": pa.array(raw["importer"].replace(BACI_ISO3)),
        "heading": pa.array(raw["heading"]),
        "value_usd": pa.array(raw["value_usd"].astype("float64")),
        "qty_t": pa.array(raw["weight"].astype("float64").mask(missing_qty | implausible),
                          from_pandas=True),
        "reported_t": pa.array(raw["weight"].astype("float64")),
        "src_exporter": pa.array(raw["exporter"]),
        "src_importer": pa.array(raw["importer"]),
    })
    kept = validate("heading_flows", table, known, cov).to_pandas()
    same = kept["exporter"] == kept["importer"]
    cov.drop("exporter and importer the same country", int(same.sum()),
             kept.loc[same, "src_exporter"].tolist())
    kept = kept[~same]
    key = schema.key("heading_flows")
    if kept.duplicated(key).any():
        raise DataError(f"the extract lists a pair twice: "
                        f"{kept.loc[kept.duplicated(key), key].head(3).to_dict('records')}")
    slipped = kept["qty_t"].isna() & (kept["reported_t"] > 0)
    cov.note("quantity missing (the extract's 0 t with a value; counts as 0 t in its total)",
             int((kept["qty_t"].isna() & ~slipped).sum()))
    cov.note(f"quantity implausible (unit value beyond {UNIT_VALUE_RANGE:g} times its "
             "heading-year median either way): read as missing, its tonnes taken out of the "
             "total", int(slipped.sum()))
    cov.rows_kept = len(kept)
    removed = kept[slipped].groupby(["year", "heading"])["reported_t"].sum()
    flows = kept[schema.public_columns("heading_flows")].sort_values(key).reset_index(drop=True)
    return TopFlows(flows, heading_totals(_total_rows(payload), flows, removed), cov)


def implausible_quantity(flows: pd.DataFrame) -> pd.Series:
    """Whether each flow of a :data:`ONE_PRICE_HEADINGS` heading has a unit value
    (``value_usd`` / ``qty_t``) beyond :data:`UNIT_VALUE_RANGE` times the median of its
    heading and year, either way (False where the quantity is missing, and for other
    headings).

    >>> rows = pd.DataFrame({"year": 2024, "heading": "7901", "value_usd": [3e6, 2.9e6, 6e7],
    ...                      "qty_t": [1000.0, 1000.0, 5e6]})
    >>> implausible_quantity(rows).tolist()
    [False, False, True]
    """
    usd_per_t = flows["value_usd"] / flows["qty_t"].where(flows["qty_t"] > 0)
    median = usd_per_t.groupby([flows["year"], flows["heading"]]).transform("median")
    ratio = usd_per_t / median
    off = ((ratio < 1 / UNIT_VALUE_RANGE) | (ratio > UNIT_VALUE_RANGE)).fillna(False)
    return off & flows["heading"].isin(ONE_PRICE_HEADINGS)


def heading_totals(totals: pd.DataFrame, flows: pd.DataFrame,
                   removed: pd.Series | None = None) -> pd.DataFrame:
    """``heading_totals``: the extract's totals (``year``, ``heading``, ``value_usd``,
    ``qty_t``, ``pairs``) with the part the listed ``flows`` make up; ``removed`` (tonnes by
    year and heading) is taken out of ``qty_t``: the reported tonnes of listed flows whose
    quantity is read as missing.

    Raises :class:`~critmin.errors.DataError` when the listed flows exceed a total by more
    than the extract's rounding."""
    listed = flows.groupby(["year", "heading"], as_index=False).agg(
        listed_value_usd=("value_usd", "sum"), listed_qty_t=("qty_t", "sum"),
        listed_pairs=("value_usd", "size"))
    out = totals.assign(year=totals["year"].astype("int16")).merge(
        listed, on=["year", "heading"], how="left")
    out = out.fillna({"listed_value_usd": 0.0, "listed_qty_t": 0.0, "listed_pairs": 0})
    out = out.astype({"value_usd": "float64", "qty_t": "float64", "pairs": "int32"})
    if removed is not None and len(removed):
        taken = removed.rename("removed_t").reset_index().astype({"year": "int16"})
        out = out.merge(taken, on=["year", "heading"], how="left")
        out["qty_t"] -= out["removed_t"].fillna(0.0)
    slack_t = ROUNDING_T * out["listed_pairs"] + ROUNDING_T
    over = (out["listed_qty_t"] > out["qty_t"] + slack_t) | (
        out["listed_value_usd"] > out["value_usd"] + out["listed_pairs"])
    if over.any():
        raise DataError("listed flows exceed their heading's total: "
                        f"{out.loc[over, ['year', 'heading']].to_dict('records')}")
    return out[schema.public_columns("heading_totals")].sort_values(
        schema.key("heading_totals")).reset_index(drop=True)


def absent_countries(countries_path: Path, catalog_countries: pd.DataFrame) -> list[str]:
    """Current countries of the catalog that the extract's ``countries.json`` leaves out:
    their trade is in no listed flow and no total (France, Norway, Singapore…)."""
    on_map = set(json.loads(countries_path.read_text("utf-8")))
    current = catalog_countries.loc[catalog_countries["status"] == "current", "iso3"]
    return sorted(set(current) - on_map)


def outside_share(flows: pd.DataFrame, absent: list[str]) -> pd.Series:
    """Per HS-6 code, the share of world tonnes in ``flows`` (rows of the canonical flows
    table: exporter, importer, hs6, qty_t) that involves a country of ``absent``: how much of
    a complete release the extract cannot see.

    >>> rows = pd.DataFrame({"exporter": ["NOR", "CAN"], "importer": ["NLD", "USA"],
    ...                      "hs6": ["750210", "750210"], "qty_t": [30.0, 70.0]})
    >>> outside_share(rows, ["NOR"]).to_dict()
    {'750210': 0.3}
    """
    out = flows["exporter"].isin(absent) | flows["importer"].isin(absent)
    tonnes = flows["qty_t"].fillna(0.0)
    grouped = pd.DataFrame({"hs6": flows["hs6"], "out": np.where(out, tonnes, 0.0),
                            "all": tonnes}).groupby("hs6")[["out", "all"]].sum()
    return (grouped["out"] / grouped["all"]).rename("outside_share")
