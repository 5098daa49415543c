"""UN Comtrade reporter-level trade of 2022 for the HS 2017 extract's codes: the net weights
that give BACI's value-only 2022 flows their tonnes.

Each country reports its imports by origin and its exports by destination, so most flows are
reported twice. A BACI flow exporter -> importer of one code takes the net weight of

1. the importer's declaration (flow ``M``, reporter = importer, partner = exporter), else
2. the exporter's declaration (flow ``X``, reporter = exporter, partner = importer), else
3. none: the flow keeps its value and no quantity.

Import declarations come first, the usual order of mirror statistics (customs control goods
entering a country, on which duties fall, more closely than goods leaving it); tonnes do not
depend on the CIF/FOB difference of the two declarations' values, and BACI's own reconciled
value is kept. Which declaration weighs a flow is not a column of ``flows``: the reader's
coverage counts the rows by source, and the build's manifest lists each code's counts and
check (``comtrade_2022_tonnes``).
There is no third tier of tonnes derived from a median unit value: within one HS-6 code unit
values spread too widely (tested on the 2024 BACI rows that have tonnes, value divided by the
code's median unit value comes within 2x of BACI's tonnes for only 54 % of rows and is off
by more than 10x for 12 %), BACI itself leaves such flows without a quantity (4.7 % of its
2024 rows), and the flows no declaration weighs are few and small (1.8 % of the 2022 rows).

Reading the raw rows:

- Comtrade lists a reporter's total for each partner, code and flow together with its
  breakdowns (by customs procedure, mode of transport, second partner) in rows that look
  alike once those columns are gone. Breakdowns never exceed their total, so the row of
  highest value is the total (in the 2022 file the other rows of a key sum to one, three or
  seven times it: one to three breakdowns, crossed); only its own net weight counts (a
  breakdown's weight is part of a flow, not the flow).
- Countries are BACI's numeric codes (critmin's ``country_codes`` table: 490 "Other Asia,
  nes" is Taiwan, 251 France, 699 India, 757 Switzerland, 842 the United States…).
  Aggregates (:data:`NON_COUNTRY`) are left out by name; the few territories BACI does not
  list (Antarctica 10, Faroe Islands 234, US Minor Outlying Islands 581) have no BACI flow to
  give tonnes to and are left out too, counted.
- Most reporters declare 2022 in HS 2022, which split unwrought hafnium (811231) and rhenium
  (811241) out of 811292; their HS 2017 line is 811292 again (:data:`HS22_IN_HS17`). The file
  holds 811231 but not 811241, so 811292's tonnes may lack rhenium's few tonnes.
- A net weight of zero or none is not a declaration of weight.

:func:`mirror_tonnes` then checks each code against BACI's 2024 tonnes and unit value
(:data:`PLAUSIBLE_FACTOR`) and withholds the 2022 tonnes of a code that fails, with the
reason, so that a unit mistake in one large declaration cannot pass into the figures. With
the pinned files four codes fail: rare gases 280429 (three times 2024's tonnes at a third of
the unit value: Mexico declares 72,000 t of imports from the United States where the United
States declares 218 t of the same 22 million USD flow), and three whose 2022 unit values or
tonnes BACI's own HS 1992 extract shows for 2022 as well: cobalt oxides 282200 and lithium
carbonate 283691 (2022 prices two and three and a half times 2024's) and unwrought tantalum
810320 (2.3 times 2024's tonnes). The snapshot takes those three codes' 2022 rows from the
HS 1992 extract.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from critmin.errors import DataError
from critmin.sources.coverage import Coverage

YEAR = 2022
COLUMNS = ("year", "reporter", "partner", "cmd", "flow", "value", "netwgt")
"""Columns of the raw file that are read (value in USD, net weight in kg)."""
KG_PER_T = 1_000.0
NON_COUNTRY = {0: "World", 568: "Other Europe, nes", 577: "Other Africa, nes",
               837: "Bunkers", 838: "Free Zones", 839: "Special Categories",
               899: "Areas, nes"}
"""Comtrade partner codes that stand for no country."""
HS22_IN_HS17 = {"811231": "811292"}
"""HS 2022 lines read under the HS 2017 line that held them (unwrought hafnium)."""
QTY_SOURCES = ("importer", "exporter", "none")
"""Whose declaration a flow's 2022 tonnes come from."""
PLAUSIBLE_FACTOR = 2.0
"""A code's 2022 world tonnes and unit value must lie within this factor of 2024's."""
KEY = ["exporter", "importer", "hs6"]


def read_reports(path: Path, codes: pd.Series, cov: Coverage) -> pd.DataFrame:
    """One row per reporter, partner, HS 2017 code and flow (``M``/``X``): the reported
    total's value (USD) and net weight (tonnes; missing when not declared).

    ``codes`` maps BACI's numeric country codes to ISO3
    (:func:`critmin.sources.baci.code_series`).

    >>> import gzip, tempfile
    >>> from pathlib import Path
    >>> text = ("year,reporter,partner,cmd,flow,value,netwgt,qty,qtyunit\\n"
    ...         "2022,842,490,750210,M,900.0,40000.0,40000.0,8\\n"
    ...         "2022,842,490,750210,M,500.0,22000.0,22000.0,8\\n"
    ...         "2022,842,0,750210,M,900.0,40000.0,40000.0,8\\n")
    >>> path = Path(tempfile.mkdtemp()) / "ct.csv.gz"
    >>> _ = path.write_bytes(gzip.compress(text.encode()))
    >>> cov = Coverage("comtrade-2022")
    >>> read_reports(path, pd.Series(["USA", "TWN"], index=[842, 490]), cov)
      reporter partner     hs6 flow  value_usd  netwgt_t
    0      USA     TWN  750210    M      900.0      40.0
    """
    try:
        raw = pd.read_csv(path, usecols=list(COLUMNS), dtype={"cmd": str, "flow": str})
    except ValueError as exc:
        raise DataError(f"{path.name}: not a Comtrade extract with columns "
                        f"{', '.join(COLUMNS)} ({exc})") from None
    cov.rows_read += len(raw)
    other_year = raw["year"] != YEAR
    cov.drop(f"year other than {YEAR}", int(other_year.sum()),
             [str(y) for y in sorted(set(raw.loc[other_year, "year"]))])
    raw = raw[~other_year]
    key = ["reporter", "partner", "cmd", "flow"]
    raw = raw.sort_values([*key, "value", "netwgt"], ascending=[True] * 4 + [False, False],
                          na_position="last", kind="stable")
    totals = raw.drop_duplicates(key)
    cov.drop("breakdown or repeat of a reported total (by customs procedure, transport mode "
             "or second partner)", len(raw) - len(totals))
    flow_ok = totals["flow"].isin(["M", "X"])
    cov.drop("flow neither import (M) nor export (X)", int((~flow_ok).sum()),
             sorted(set(totals.loc[~flow_ok, "flow"].astype(str)))[:5])
    totals = totals[flow_ok]
    aggregate = totals["partner"].isin(NON_COUNTRY) | totals["reporter"].isin(NON_COUNTRY)
    named = (set(totals.loc[aggregate, "partner"]) | set(totals.loc[aggregate, "reporter"])
             ) & set(NON_COUNTRY)
    cov.drop("reporter or partner is an aggregate, not a country", int(aggregate.sum()),
             [f"{c} {NON_COUNTRY[c]}" for c in sorted(named)])
    totals = totals[~aggregate]
    reporter, partner = totals["reporter"].map(codes), totals["partner"].map(codes)
    unknown = reporter.isna() | partner.isna()
    missing = sorted(set(totals.loc[reporter.isna(), "reporter"])
                     | set(totals.loc[partner.isna(), "partner"]))
    cov.drop("country code not in BACI's country table", int(unknown.sum()),
             [str(c) for c in missing])
    weight = totals["netwgt"].where(totals["netwgt"] > 0) / KG_PER_T
    reports = pd.DataFrame({
        "reporter": reporter, "partner": partner,
        "hs6": totals["cmd"].str.zfill(6).replace(HS22_IN_HS17), "flow": totals["flow"],
        "value_usd": totals["value"], "netwgt_t": weight, "undeclared": weight.isna(),
    })[~unknown]
    grouped = reports.groupby(["reporter", "partner", "hs6", "flow"], as_index=False,
                              sort=True).agg(value_usd=("value_usd", "sum"),
                                             netwgt_t=("netwgt_t", "sum"),
                                             undeclared=("undeclared", "any"))
    cov.merged += len(reports) - len(grouped)
    # a line whose parts are not all weighed has no weight as a whole
    grouped["netwgt_t"] = grouped["netwgt_t"].mask(grouped.pop("undeclared"))
    return grouped


def mirror_tonnes(flows: pd.DataFrame, reports: pd.DataFrame, reference: pd.DataFrame,
                  cov: Coverage) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tonnes of BACI's 2022 ``flows`` from the declarations, and the check of each code.

    ``flows`` has ``exporter``, ``importer`` (ISO3), ``hs6`` (HS 2017) and ``value_kusd``;
    ``reports`` is :func:`read_reports`' frame; ``reference`` holds BACI's 2024 rows of the
    same codes (``hs6``, ``value_kusd``, ``qty_t``). Returns, aligned with ``flows``,
    ``qty_t`` (missing where no declaration weighs the flow or its code fails the check) and
    ``qty_source`` (:data:`QTY_SOURCES`, the declaration found, withheld or not), and one row
    per code: 2022 and 2024 world tonnes and unit values, their ratios, rows by source,
    ``kept`` and the ``reason`` a code is withheld.

    >>> flows = pd.DataFrame({"exporter": ["CAN", "AUS"], "importer": ["USA", "JPN"],
    ...                       "hs6": "750210", "value_kusd": [2000.0, 900.0]})
    >>> reports = pd.DataFrame({"reporter": ["USA", "CAN"], "partner": ["CAN", "USA"],
    ...                         "hs6": "750210", "flow": ["M", "X"],
    ...                         "value_usd": [2.1e6, 2.0e6], "netwgt_t": [95.0, 90.0]})
    >>> reference = pd.DataFrame({"hs6": ["750210"], "value_kusd": [1800.0],
    ...                           "qty_t": [100.0]})
    >>> qty, check = mirror_tonnes(flows, reports, reference, Coverage("comtrade-2022"))
    >>> qty
       qty_t qty_source
    0   95.0   importer
    1    NaN       none
    >>> check[["hs6", "t_2022", "t_2024", "ratio_t", "kept"]]
          hs6  t_2022  t_2024  ratio_t  kept
    0  750210    95.0   100.0     0.95  True
    """
    if flows.duplicated(KEY).any():
        raise DataError("2022 flows repeat an exporter, importer and code: "
                        f"{flows.loc[flows.duplicated(KEY), KEY].head(3).to_dict('records')}")
    weighed = reports[reports["netwgt_t"].notna()]
    cov.drop("no net weight declared", len(reports) - len(weighed))
    imports = weighed[weighed["flow"] == "M"].rename(
        columns={"reporter": "importer", "partner": "exporter"})
    exports = weighed[weighed["flow"] == "X"].rename(
        columns={"reporter": "exporter", "partner": "importer"})
    by_key = flows[KEY].reset_index(drop=True)
    t_m = by_key.merge(imports[[*KEY, "netwgt_t"]], on=KEY, how="left")["netwgt_t"]
    t_x = by_key.merge(exports[[*KEY, "netwgt_t"]], on=KEY, how="left")["netwgt_t"]
    source = pd.Series(np.select([t_m.notna(), t_x.notna()], list(QTY_SOURCES[:2]),
                                 QTY_SOURCES[2]), name="qty_source")
    qty = t_m.fillna(t_x).rename("qty_t")

    check = _check(by_key["hs6"], flows["value_kusd"].to_numpy(), qty, source, reference)
    withheld = by_key["hs6"].isin(set(check.loc[~check["kept"], "hs6"]))
    qty = qty.mask(withheld)

    matched_m = _matched(imports, by_key)
    matched_x = _matched(exports, by_key)
    cov.drop("no 2022 BACI flow of this exporter, importer and code",
             len(weighed) - int(matched_m.sum() + matched_x.sum()))
    out_m = matched_m & imports["hs6"].isin(set(check.loc[~check["kept"], "hs6"])).to_numpy()
    out_x = matched_x & exports["hs6"].isin(set(check.loc[~check["kept"], "hs6"])).to_numpy()
    cov.drop("code withheld by the check against BACI 2024", int(out_m.sum() + out_x.sum()))
    cov.rows_kept += int((matched_m & ~out_m).sum() + (matched_x & ~out_x).sum())
    cov.note("export declarations not used (the importer declared the same flow's weight)",
             int(((source == "importer") & t_x.notna() & ~withheld).sum()))
    frame = pd.DataFrame({"qty_t": qty.to_numpy(), "qty_source": source.to_numpy()},
                         index=flows.index)
    return frame, check


def _matched(declared: pd.DataFrame, flows: pd.DataFrame) -> np.ndarray:
    """Which declarations (rows of ``declared``) weigh one of ``flows``."""
    index = pd.MultiIndex.from_frame(declared[KEY])
    return np.asarray(index.isin(pd.MultiIndex.from_frame(flows[KEY])), dtype=bool)


def _check(hs6: pd.Series, value_kusd: np.ndarray, qty: pd.Series, source: pd.Series,
           reference: pd.DataFrame) -> pd.DataFrame:
    """Each code's 2022 world tonnes and unit value against BACI's 2024 ones."""
    rows = pd.DataFrame({"hs6": hs6.to_numpy(), "value_kusd": value_kusd,
                         "qty_t": qty.to_numpy(), "qty_source": source.to_numpy()})
    y22 = _world(rows)
    y24 = _world(reference[["hs6", "value_kusd", "qty_t"]])
    counts = pd.crosstab(rows["hs6"], rows["qty_source"]).reindex(
        columns=list(QTY_SOURCES), fill_value=0)
    check = pd.DataFrame({
        "t_2022": y22["t"], "t_2024": y24["t"].reindex(y22.index),
        "usd_per_kg_2022": y22["usd_per_kg"],
        "usd_per_kg_2024": y24["usd_per_kg"].reindex(y22.index),
    })
    check["ratio_t"] = check["t_2022"] / check["t_2024"]
    check["ratio_unit_value"] = check["usd_per_kg_2022"] / check["usd_per_kg_2024"]
    check["rows"] = counts.sum(axis=1)
    for name in QTY_SOURCES:
        check[f"rows_{name}"] = counts[name]
    low, high = 1 / PLAUSIBLE_FACTOR, PLAUSIBLE_FACTOR
    reasons = pd.DataFrame({
        "no_2022": np.where(check["t_2022"] > 0, "", "no declared weight in 2022"),
        "no_2024": np.where(check["t_2024"] > 0, "", "no BACI 2024 tonnes to compare with"),
        "t": np.where(check["ratio_t"].between(low, high)
                      | ~(check["t_2024"] > 0) | ~(check["t_2022"] > 0), "",
                      "2022 world tonnes " + check["ratio_t"].map("{:.2f}".format)
                      + f" times 2024's (beyond {PLAUSIBLE_FACTOR:g}x)"),
        "uv": np.where(check["ratio_unit_value"].between(low, high)
                       | ~(check["t_2024"] > 0) | ~(check["t_2022"] > 0), "",
                       "2022 unit value " + check["ratio_unit_value"].map("{:.2f}".format)
                       + f" times 2024's (beyond {PLAUSIBLE_FACTOR:g}x)"),
    }, index=check.index)
    check["reason"] = reasons.apply(lambda r: "; ".join(x for x in r if x), axis=1)
    check["kept"] = check["reason"] == ""
    return check.rename_axis("hs6").reset_index()


def _world(rows: pd.DataFrame) -> pd.DataFrame:
    """World tonnes per code, and unit value (USD/kg = kUSD/t) over rows with tonnes."""
    weighed = rows[rows["qty_t"].notna()]
    grouped = weighed.groupby("hs6")
    t = grouped["qty_t"].sum()
    return pd.DataFrame({"t": t, "usd_per_kg": grouped["value_kusd"].sum() / t}).reindex(
        sorted(set(rows["hs6"])))


def check_records(check: pd.DataFrame) -> list[dict[str, object]]:
    """The check of each code as plain JSON records (ratios rounded, missing as null)."""
    rounded = check.round({"t_2022": 1, "t_2024": 1, "usd_per_kg_2022": 3,
                           "usd_per_kg_2024": 3, "ratio_t": 3, "ratio_unit_value": 3})
    records: list[dict[str, object]] = []
    for row in rounded.to_dict("records"):
        records.append({str(k): (None if isinstance(v, float) and np.isnan(v) else
                            v.item() if isinstance(v, np.generic) else v)
                        for k, v in row.items()})
    return records
