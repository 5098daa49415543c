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
    """What the store holds and whether it is whole.

    Parameters
    ----------
    verify : bool
        Read every file and check its sha256 (otherwise sizes and Parquet framing only).

    Returns
    -------
    dict
        ``tables`` (rows, years, source per table), ``sources`` (version, licence,
        sha256), ``imports``, ``damaged`` (one line per damaged file, with the way out).

    Examples
    --------
    >>> critmin.status()["damaged"]
    []
    """
    return get_store().status(verify=bool(verify))


def countries() -> pd.DataFrame:
    """All countries critmin knows.

    Returns
    -------
    pandas.DataFrame
        One row per country: ``iso3``, ``name``, ``iso2``, ``iso_numeric``,
        ``baci_code``, ``groups`` (EU27, G7, G20, BRICS, Quad, OECD) and ``aliases``.

    Examples
    --------
    >>> critmin.countries().set_index("iso3").loc["IND", "name"]
    'India'
    """
    return schema.select("country_index", get_store().table("countries"))


def minerals() -> pd.DataFrame:
    """All minerals critmin knows.

    Returns
    -------
    pandas.DataFrame
        One row per mineral: slug, name, production ``basis`` and unit, and the HS-6
        codes that carry it in the trade data (``hs_codes``).

    Examples
    --------
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
    """The whole metrics cube.

    Parameters
    ----------
    compat : str, optional
        ``"geopolrisk-py"`` for that library's GeoPolRisk numbers and columns.

    Returns
    -------
    pandas.DataFrame
        One row per (year, country, mineral); columns as in :func:`risk`.

    Examples
    --------
    >>> cube = critmin.cube()
    >>> cube.attrs["units"]["imports_basis_t"]
    't (basis)'
    """
    return compute.load(get_store(), compute.OUTPUTS[compute.mode_of(compat)][0], compat)


def risk(countries: Sequence[str] | str | None = None, minerals: Sequence[str] | str | None = None,
         years: Sequence[int] | int | None = None, compat: str | None = None) -> pd.DataFrame:
    """Rows of the metrics cube, filtered.

    Parameters
    ----------
    countries : str or list of str, optional
        Countries or groups (ISO3, names, aliases, BACI codes, "G7", "EU27"…); all if None.
    minerals : str or list of str, optional
        Minerals (slugs, names, aliases); all if None.
    years : int or list of int, optional
        Years; all if None.
    compat : str, optional
        ``"geopolrisk-py"`` reproduces geopolrisk-py 2.0.1's GeoPolRisk numbers, with only
        the columns that mode defines.

    Returns
    -------
    pandas.DataFrame
        One row per (year, country, mineral): trade, supply, reliance, concentration,
        GeoPolRisk and flags; every column is declared in ``catalog/schema.csv`` and its unit
        is in ``attrs["units"]``.

    Examples
    --------
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
    """Each importer's suppliers per mineral and year.

    Parameters
    ----------
    importers, minerals, years
        Filters as in :func:`risk`.

    Returns
    -------
    pandas.DataFrame
        One row per (year, importer, mineral, exporter): tonnes (gross and on the mineral's
        basis), value, and the exporter's ``share`` of the importer's imports on the basis
        (the aggregates behind the cube's ``china_share`` and ``top_supplier_share``).

    Examples
    --------
    >>> p = critmin.partners("IND", "rare-earths", 2022)
    >>> p.set_index("exporter")["share"].idxmax()
    'CHN'
    """
    return compute.load(get_store(), "partners", years=resolve_years(years),
                        minerals=resolve_minerals(minerals),
                        countries=resolve_countries(importers))


def default_year() -> int:
    """The year used when none is given.

    Returns
    -------
    int
        The latest year with production data whose trade is not flagged incomplete.

    Examples
    --------
    >>> critmin.default_year() >= 2023
    True
    """
    from critmin import years

    return years.default_year(get_store())


EXPORTABLE = ("cube", "partners")
"""Derived tables that :func:`export_table` writes besides the canonical ones."""


def export_table(table: str, out: str | Path, compat: str | None = None,
                 progress: compute.Progress | None = None) -> Path:
    """Write a table to a file, in the format of its extension.

    Parameters
    ----------
    table : str
        A canonical table (``flows``, ``production``, ``countries``…) or ``cube`` /
        ``partners``.
    out : str or Path
        .csv, .parquet, .json, .jsonl or .xlsx. Written atomically with normal permissions,
        streamed (memory stays small), never inside critmin's own data folders.
    compat : str, optional
        For the cube: ``"geopolrisk-py"`` exports that mode's cube.
    progress : callable, optional
        Called with a message at each stage of a long export.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
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
