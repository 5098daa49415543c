"""Query functions: reference tables, the metrics cube and its filtered rows.

>>> import critmin
>>> critmin.status()["tables"]["products"]["rows"] > 0
True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import checks, compute, resolve, schema
from critmin.errors import NotFound, nearest
from critmin.store import get_store


def status(verify: bool = False) -> dict[str, Any]:
    """Tables (rows, years), sources (version, licence, sha256), imports, and what is
    damaged; ``verify=True`` reads every file and checks its sha256.

    >>> critmin.status()["damaged"]
    []
    """
    return get_store().status(verify=bool(verify))


def countries() -> pd.DataFrame:
    """All countries: ISO3, name, codes, groups and aliases.

    >>> critmin.countries().set_index("iso3").loc["IND", "name"]
    'India'
    """
    return schema.select("country_index", get_store().table("countries"))


def minerals() -> pd.DataFrame:
    """All minerals with their production unit and basis, and the HS codes that carry them.

    >>> critmin.minerals().set_index("mineral").loc["rare-earths", "basis"]
    'REO'
    """
    store = get_store()
    frame = store.table("minerals")
    codes = store.table("product_minerals").groupby("mineral")["hs6"].agg(list)
    frame["hs_codes"] = frame["mineral"].map(codes).map(lambda v: v if isinstance(v, list) else [])
    return schema.select("mineral_index", frame)


def resolve_countries(values: Sequence[str] | str | None) -> list[str] | None:
    """ISO3 codes of countries and groups (a group stands for its members)."""
    names = checks.as_names(values, "countries")
    if names is None:
        return None
    out: list[str] = []
    for name in names:
        members = resolve.group_members(name)
        out.extend(members if members else [resolve.country(name)])
    return list(dict.fromkeys(out))


def resolve_minerals(values: Sequence[str] | str | None) -> list[str] | None:
    """Mineral slugs of names, slugs or aliases."""
    names = checks.as_names(values, "minerals")
    return None if names is None else list(dict.fromkeys(resolve.mineral(n) for n in names))


def resolve_years(values: Sequence[int] | int | None) -> list[int] | None:
    """Years the data has (each checked)."""
    from critmin.years import check_year

    years = checks.as_years(values)
    return None if years is None else [check_year(get_store(), y) for y in years]


def cube(compat: str | None = None) -> pd.DataFrame:
    """The whole metrics cube: one row per (year, country, mineral); see :func:`risk`.

    >>> len(critmin.cube()) > 100_000  # doctest: +SKIP
    True
    """
    return compute.load(get_store(), compute.OUTPUTS[compute.mode_of(compat)][0], compat)


def risk(countries: Sequence[str] | str | None = None, minerals: Sequence[str] | str | None = None,
         years: Sequence[int] | int | None = None, compat: str | None = None) -> pd.DataFrame:
    """Rows of the metrics cube, filtered by countries (or groups), minerals and years.

    ``compat="geopolrisk-py"`` reproduces geopolrisk-py 2.0.1's GeoPolRisk numbers, with
    only the columns that mode defines.

    >>> row = critmin.risk("India", "lithium", 2021).iloc[0]
    >>> bool(abs(row["score"] - row["hhi"] * row["wta"]) < 1e-12)
    True
    """
    mode = compute.mode_of(compat)
    return compute.load(get_store(), compute.OUTPUTS[mode][0], compat,
                        years=resolve_years(years), minerals=resolve_minerals(minerals),
                        countries=resolve_countries(countries))


def partners(importers: Sequence[str] | str | None = None,
             minerals: Sequence[str] | str | None = None,
             years: Sequence[int] | int | None = None) -> pd.DataFrame:
    """Each importer's suppliers per mineral and year, with their share of its imports on
    the mineral's basis (the aggregates the cube's supplier figures come from).

    >>> p = critmin.partners("IND", "rare-earths", 2022)
    >>> p.set_index("exporter")["share"].idxmax()
    'CHN'
    """
    return compute.load(get_store(), "partners", years=resolve_years(years),
                        minerals=resolve_minerals(minerals),
                        countries=resolve_countries(importers))


def default_year() -> int:
    """The year used when none is given: the latest with production data whose trade is
    complete.

    >>> critmin.default_year() >= 2023
    True
    """
    from critmin import years

    return years.default_year(get_store())


EXPORTABLE = ("cube", "partners")
"""Derived tables that :func:`export_table` writes besides the canonical ones."""


def export_table(table: str, out: str | Path, compat: str | None = None,
                 progress: compute.Progress | None = None) -> Path:
    """Write a canonical table, or the whole ``cube`` / ``partners``, to ``out``: .csv,
    .parquet, .json, .jsonl or .xlsx by extension. Streamed (memory stays small), written
    atomically with normal permissions, never into critmin's own data folders.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "countries.csv"
    >>> critmin.export_table("countries", out).name
    'countries.csv'
    """
    from critmin import present

    name = checks.as_name(table, "table")
    names = [*schema.SNAPSHOT_TABLES, *EXPORTABLE]
    if name not in names:
        raise NotFound(f"unknown table {name!r}", suggestions=nearest(name, names) or names[:3])
    out = present.check_destination(Path(out))
    fmt = present.output_format(out)
    store = get_store()
    if fmt == "xlsx":
        frame = (compute.load(store, name, compat) if name in EXPORTABLE
                 else store.table(name))
        return present.write(out, frame)
    if name in EXPORTABLE:
        output = "cube_compat" if name == "cube" and compute.mode_of(compat) != "default" else name
        source: Path | str = compute.cached_file(store, output, compat, progress)
        columns = schema.public_columns(output)
    else:
        source, columns = name, schema.public_columns(name)
    present.stream_cached(source, {}, columns, fmt, out)
    return out
