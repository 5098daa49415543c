"""CEPII BACI HS 2017 extracts (release V202601, 30 value-chain codes): 2024 with quantities,
2022 values only, given tonnes from the UN Comtrade declarations of the same flows
(:mod:`critmin.sources.comtrade`: the importer's declared net weight, else the exporter's).

Rows are mapped to the HS 1992 codes of the rest of the snapshot with the catalog's
correspondence (``hs_correspondence.csv``; codes it does not list are the same line in both
nomenclatures) and validated like every other source.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from critmin.sources import comtrade
from critmin.sources.baci import code_series
from critmin.sources.coverage import Coverage
from critmin.sources.validate import Known, validate

BACI_ISO3 = {"S19": "TWN"}
"""BACI's own ISO3 codes: "S19" (Other Asia, nes; BACI code 490) is Taiwan's trade, as in
critmin's BACI code table."""


def _canonical(frame: pd.DataFrame, correspondence: pd.DataFrame, known: Known,
               cov: Coverage) -> pa.Table:
    hs92 = dict(zip(correspondence["hs17"], correspondence["hs92"], strict=True))
    hs17 = frame["hs6"].astype(str).str.zfill(6)
    mapped = hs17.map(hs92).fillna(hs17)
    cov.note("rows of HS 2017 lines read under their HS 1992 line",
             int((mapped != hs17).sum()))
    table = pa.table({
        "year": pa.array(frame["year"].astype("int16")),
        "exporter": pa.array(frame["exporter"].astype(str).replace(BACI_ISO3)),
        "importer": pa.array(frame["importer"].astype(str).replace(BACI_ISO3)),
        "hs6": pa.array(mapped),
        "value_kusd": pa.array(frame["value_kusd"].astype("float64")),
        "qty_t": pa.array(frame["qty_t"].astype("float64"), from_pandas=True),
        "src_exporter": pa.array(frame["exporter"].astype(str)),
        "src_importer": pa.array(frame["importer"].astype(str)),
        "src_hs6": pa.array(hs17),
    })
    cov.rows_read += table.num_rows
    kept = validate("flows", table, known, cov)
    cov.note("missing quantity (kept with value only)", kept.column("qty_t").null_count)
    cov.rows_kept += kept.num_rows
    return kept


def read_2024(path: Path, correspondence: pd.DataFrame, known: Known, cov: Coverage
              ) -> pa.Table:
    """The 2024 extract (with quantities) as validated canonical flows."""
    frame = pd.read_parquet(path)
    return _canonical(frame, correspondence, known, cov)


USD_PER_KUSD = 1_000.0


def read_2022(path: Path, declarations: Path, reference: pd.DataFrame,
              country_codes: pd.DataFrame, correspondence: pd.DataFrame, known: Known,
              cov: Coverage, cov_declarations: Coverage) -> tuple[pa.Table, pd.DataFrame]:
    """The 2022 extract as validated canonical flows, with tonnes from UN Comtrade.

    ``declarations`` is the raw Comtrade file of the same codes and year, ``reference`` the
    2024 extract as :func:`read_2024` returns it (its ``src_hs6``, ``value_kusd``,
    ``qty_t``), ``country_codes`` critmin's BACI code table. Returns the flows and the check
    of each code (:func:`critmin.sources.comtrade.mirror_tonnes`); ``cov`` counts the flows
    by the declaration their tonnes come from, ``cov_declarations`` the Comtrade rows.

    The extract's ``value`` column is in US dollars, not thousands as its description says:
    read as thousands, each code's world trade was about 1,000 times that of 2024 and of the
    HS92 years (world copper-cathode trade of 84.7 trillion USD), which the build's
    year-to-year check of world trade refuses."""
    raw = pd.read_csv(path, dtype={"i": str, "j": str, "cmd": str})
    frame = pd.DataFrame({"year": 2022, "exporter": raw["i"], "importer": raw["j"],
                          "hs6": raw["cmd"].str.zfill(6),
                          "value_kusd": raw["value"] / USD_PER_KUSD})
    reports = comtrade.read_reports(declarations, code_series(country_codes), cov_declarations)
    flows = pd.DataFrame({"exporter": frame["exporter"].replace(BACI_ISO3),
                          "importer": frame["importer"].replace(BACI_ISO3),
                          "hs6": frame["hs6"], "value_kusd": frame["value_kusd"]})
    ref = pd.DataFrame({"hs6": reference["src_hs6"], "value_kusd": reference["value_kusd"],
                        "qty_t": reference["qty_t"]})
    mirrored, check = comtrade.mirror_tonnes(flows, reports, ref, cov_declarations)
    frame["qty_t"] = mirrored["qty_t"]
    found = mirrored["qty_source"]
    withheld = frame["qty_t"].isna() & (found != "none")
    cov.note("2022 quantity: the importer's declared net weight (UN Comtrade)",
             int(((found == "importer") & ~withheld).sum()))
    cov.note("2022 quantity: the exporter's declared net weight (UN Comtrade)",
             int(((found == "exporter") & ~withheld).sum()))
    cov.note("2022 quantity withheld: its code fails the check against BACI 2024",
             int(withheld.sum()))
    return _canonical(frame, correspondence, known, cov), check
