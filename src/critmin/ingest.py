"""Getting user data in: every import through one path.

:func:`import_source` reads any source kind of the registry (:mod:`critmin.sources.registry`:
``baci`` release files, a company's ``purchases``), streams validated rows to disk, finalises each year out of core and publishes them in one atomic step under
the store's write lock, so concurrent imports never lose each other's years and readers
never see half an import. The bundled snapshot is built by :mod:`critmin.build` through the
same readers and validation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from critmin.errors import DataError, InvalidInput, NotFound, nearest
from critmin.sources import registry
from critmin.sources.coverage import Coverage
from critmin.sources.validate import Known
from critmin.store import get_store, paths

Say = Callable[[str], None]
RowsRead = Callable[[str, int], None]


SOURCES = registry.importers()
"""The sources users can import, by kind: the readers of :data:`critmin.sources.registry.READERS`
that read a user's files (``baci`` release files, ``purchases`` records)."""


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
        A key of :data:`SOURCES` (``"baci"``, ``"purchases"``).
    files : path or list of paths
        The files (plain or zipped CSV for ``baci``; CSV or Excel, critmin's template or
        geopolrisk-py's company template, for ``purchases``: see
        :func:`critmin.import_purchases`).
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
        each imported year replaced (rows before and after). Rows with a number that
        overflows, is not finite or is beyond a physical bound
        (:data:`critmin.sources.validate.PLAUSIBLE_MAX`) are dropped and counted.

    Raises
    ------
    DataError
        A file the source cannot read: not a CSV, a column named twice, a zip archive
        outside :class:`critmin.files.ZipArchive`'s limits, encrypted or damaged. Nothing
        is imported.

    Examples
    --------
    >>> critmin.import_source("comtrade", ["x.csv"])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    critmin.errors.NotFound: unknown source kind 'comtrade'
    """
    from critmin import checks
    from critmin.files import temp_folder
    from critmin.store import user
    from critmin.store.staging import Staging

    source = SOURCES.get(str(kind))
    if source is None or source.read is None:
        raise NotFound(f"unknown source kind {kind!r}",
                       suggestions=nearest(str(kind), SOURCES) or list(SOURCES))
    table = source.tables[0]
    paths_in = _files(files)
    append = checks.as_bool(append, "append")
    progress = checks.as_callable(progress, "progress")
    waiting = checks.as_callable(waiting, "waiting")
    known = known_for(table, products)
    cov = Coverage(source=kind)
    store = get_store()
    snapshot_rows = store.rows_by_year(table)
    with temp_folder(paths.imports_dir()) as folder:
        staging = Staging(folder, table)
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
            entry = manifest["tables"].setdefault(table, {"years": {}})
            imported = user.year_files(manifest, table)
            before = {**snapshot_rows, **{int(y): p["rows"] for y, p in entry["years"].items()}}
            replaced: dict[int, dict[str, Any]] = {}
            for year in sorted(staging.rows):
                stored = None
                if append and year in imported:
                    stored = imported[year]
                elif append and year in snapshot_rows:
                    stored = folder / f"snapshot-{year}.parquet"
                    store.export_year(table, year, stored)
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
                name = user.data_file_name(table, year, final.sha256)
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


def reset_imports(notify: Callable[[str], None] | None = None) -> None:
    """Forget every import: the store goes back to the bundled snapshot.

    Works whatever state the imports are in (even a damaged manifest, or a file where the
    imports folder belongs: it is moved aside, never deleted).

    Parameters
    ----------
    notify : callable, optional
        Called with one line for each thing moved aside, saying where it went.

    Examples
    --------
    >>> critmin.reset_imports()
    >>> critmin.status()["imports"]
    []
    """
    from critmin import checks
    from critmin.store import user

    user.reset(notify=checks.as_callable(notify, "notify"))
