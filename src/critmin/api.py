"""The Python API: every interface (CLI, REST, dashboard) is a thin layer over these.

>>> import critmin
>>> critmin.status()["tables"]["products"]["rows"]
74
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import resolve
from critmin.errors import DataError, InvalidInput, NotFound, nearest
from critmin.store import get_store

EXPORT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}


def status() -> dict[str, Any]:
    """Tables (rows, years), sources (version, licence, sha256) and imports of the store."""
    return get_store().status()


def countries() -> pd.DataFrame:
    """All countries: ISO3, name, codes, groups and aliases."""
    frame = get_store().table("countries")
    return frame[["iso3", "name", "iso2", "iso_numeric", "baci_code", "groups", "aliases", "status"]]


def minerals() -> pd.DataFrame:
    """All minerals with their production unit and basis, and the HS codes that carry them."""
    store = get_store()
    frame = store.table("minerals")
    links = store.table("product_minerals")
    codes = links.groupby("mineral")["hs6"].agg(list)
    frame["hs_codes"] = frame["mineral"].map(codes).map(lambda v: v if isinstance(v, list) else [])
    return frame[["mineral", "name", "basis", "wmd_unit", "to_tonnes", "category", "hs_codes",
                  "aliases", "basis_note"]]


@dataclass
class ImportReport:
    """What an import read, kept and dropped, and the store's state after it."""

    coverage: dict[str, Any]
    years: list[int]
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "years": self.years, **self.coverage}


def import_baci(files: Sequence[str | Path]) -> ImportReport:
    """Import BACI release files (CSV ``t,i,j,k,v,q``, plain or zipped, one or many years).

    Imported years replace the same years of the bundled data. The store changes only if
    the whole import succeeds.
    """
    from critmin.build import code_series
    from critmin.sources import baci
    from critmin.store import user

    if not files:
        raise InvalidInput("no file given to import")
    paths = [Path(f) for f in files]
    store = get_store()
    raw = baci.read_baci_files(paths)
    codes = baci.code_map(
        store.table("country_codes").rename(columns={}), raw.country_codes, store.table("countries")
    )
    flows, cov = baci.normalise_flows(raw, codes, set(store.table("products")["hs6"]))
    if flows.empty:
        reasons = ", ".join(f"{k}: {v}" for k, v in cov.dropped.items()) or "no rows"
        raise DataError(f"nothing to import: every row was dropped ({reasons})")
    years = sorted(int(y) for y in flows["year"].unique())
    record = {"source": "baci", "files": [p.name for p in paths], "years": years,
              "coverage": cov.to_dict()}
    user.replace_flows(flows, record)
    return ImportReport(coverage=cov.to_dict(), years=years, files=[str(p) for p in paths])


def export_table(table: str, out: str | Path) -> Path:
    """Write a canonical table (or ``cube``) to ``out``: .csv, .parquet or .xlsx by extension.

    The file appears only when complete.
    """
    out = Path(out)
    fmt = EXPORT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"unknown export format {out.suffix or out.name!r}",
            suggestions=nearest(out.suffix, EXPORT_FORMATS) or list(EXPORT_FORMATS),
        )
    from critmin import schema

    names = [*schema.SNAPSHOT_TABLES, "cube"]
    if table not in names:
        raise NotFound(f"unknown table {table!r}", suggestions=nearest(table, names) or names[:3])
    frame = cube() if table == "cube" else get_store().table(table)
    if not out.parent.exists():
        raise InvalidInput(f"folder {out.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False, compression="zstd")
        else:
            flat = frame.copy()
            for col in flat.columns:
                if flat[col].map(lambda v: isinstance(v, list | tuple)).any():
                    flat[col] = flat[col].map(
                        lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple) else v
                    )
            if fmt == "csv":
                flat.to_csv(tmp, index=False)
            else:
                try:
                    flat.to_excel(tmp, index=False, sheet_name=table[:31])
                except ImportError:
                    raise InvalidInput(
                        "xlsx export needs openpyxl: pip install 'critmin[xlsx]'"
                    ) from None
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out


def _resolve_many(values: Sequence[str] | str | None, kind: str) -> list[str] | None:
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    out: list[str] = []
    for item in items:
        if kind == "country":
            members = resolve.group_members(item)
            out.extend(members if members else [resolve.country(item)])
        else:
            out.append(resolve.mineral(item))
    return out


def cube(compat: str | None = None) -> pd.DataFrame:
    """The metrics cube: one row per (year, country, mineral); see :func:`risk`."""
    from critmin.store.cache import load_cube

    return load_cube(get_store(), compat=compat)


def risk(countries: Sequence[str] | str | None = None, minerals: Sequence[str] | str | None = None,
         years: Sequence[int] | int | None = None, compat: str | None = None) -> pd.DataFrame:
    """Rows of the metrics cube, filtered by countries (or groups), minerals and years.

    ``compat="geopolrisk-py"`` reproduces geopolrisk-py 2.0.1's GeoPolRisk numbers.

    >>> critmin.risk("India", "lithium", 2020)[["hhi", "wta", "score"]]  # doctest: +SKIP
    """
    from critmin.store.cache import load_cube

    isos = _resolve_many(countries, "country")
    slugs = _resolve_many(minerals, "mineral")
    year_list = None if years is None else ([years] if isinstance(years, int) else list(years))
    frame = load_cube(get_store(), compat=compat)
    mask = pd.Series(True, index=frame.index)
    if isos is not None:
        mask &= frame["country"].isin(isos)
    if slugs is not None:
        mask &= frame["mineral"].isin(slugs)
    if year_list is not None:
        known = set(frame["year"].unique())
        bad = [y for y in year_list if y not in known]
        if bad:
            raise InvalidInput(
                f"no data for year {bad[0]}; years with data: {min(known)}-{max(known)}"
            )
        mask &= frame["year"].isin(year_list)
    return frame[mask].reset_index(drop=True)
