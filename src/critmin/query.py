"""Query functions: reference tables, the metrics cube and its filtered rows.

>>> import critmin
>>> critmin.status()["tables"]["products"]["rows"] > 0
True
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from critmin import cache, checks, compute, resolve, schema
from critmin.errors import InvalidInput, NotFound, nearest
from critmin.store import get_store
from critmin.store.engine import Engine


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
        sha256), ``imports``, ``damaged`` (one line per damaged file, with the way out),
        ``cache_repaired`` (damaged cache files found, and removed: the cache is derived
        data, computed again when next needed).

    Examples
    --------
    >>> critmin.status()["damaged"]
    []
    """
    verify = checks.as_bool(verify, "verify")
    info = get_store().status(verify=verify)
    info["cache_repaired"] = cache.repair(deep=verify)
    return info


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


def minerals(list_id: str | None = None) -> pd.DataFrame:
    """All minerals critmin knows, or those of one critical-mineral list.

    Parameters
    ----------
    list_id : str, optional
        A list id (see :func:`lists`), e.g. ``"india-2023"``: its entries in the list's
        order, each with the minerals it maps to and why a mineral cannot be assessed.

    Returns
    -------
    pandas.DataFrame
        One row per mineral: slug, name, production ``basis`` and unit, the HS-6 codes that
        carry it in the trade data (``hs_codes``), the lists it is on, and ``assessable``
        (what critmin can say about it). With ``list_id``: one row per entry of the list, as
        the list writes it (``name_on_list``, ``category``), with the ``minerals`` it
        maps to and whether each can be assessed.

    Examples
    --------
    >>> critmin.minerals().set_index("mineral").loc["rare-earths", "basis"]
    'REO'
    >>> india = critmin.minerals(list_id="india-2023")
    >>> len(india), list(india.set_index("name_on_list").loc["PGE", "minerals"])
    (30, ['platinum', 'palladium', 'rhodium', 'iridium', 'ruthenium', 'osmium'])
    """
    from critmin.profiles import list_memberships

    store = get_store()
    frame = store.table("minerals")
    links = store.table("product_minerals")
    codes = links.groupby("mineral")["hs6"].agg(lambda s: sorted(set(s)))
    frame["hs_codes"] = frame["mineral"].map(codes).map(lambda v: v if isinstance(v, list) else [])
    frame["lists"] = frame["mineral"].map(list_memberships(store)).map(
        lambda v: v if isinstance(v, list) else [])
    produced = set(store.table("production")["mineral"])
    frame["assessable"] = np.select(
        [frame["mineral"].isin(produced) & (frame["hs_codes"].map(len) > 0),
         frame["mineral"].isin(produced), frame["hs_codes"].map(len) > 0],
        ["production and trade", "production only (no HS code)",
         "trade only (no production series)"],
        default="not assessable (no production series, no HS code)")
    if list_id is None:
        return schema.select("mineral_index", frame)
    entries = store.table("critical_lists")
    known = sorted(set(entries["list"]))
    if list_id not in known:
        raise NotFound(f"unknown list {list_id!r}",
                       suggestions=nearest(str(list_id), known) or known)
    chosen = entries[entries["list"] == list_id].reset_index(drop=True)
    status = frame.set_index("mineral")["assessable"]
    chosen["assessable"] = chosen["minerals"].map(
        lambda ms: "; ".join(f"{m}: {status.get(m, 'unknown')}" for m in ms)
        if len(ms) else "not a mineral critmin models")
    return schema.select("list_entries", chosen)


def lists() -> pd.DataFrame:
    """The official critical-mineral lists critmin holds.

    Returns
    -------
    pandas.DataFrame
        One row per list: id, title, jurisdiction, publication date, counts, source.

    Examples
    --------
    >>> "eu-crma-2024" in set(critmin.lists()["list"])
    True
    """
    return schema.select("list_index", get_store().table("lists"))


def resolve_countries(values: Sequence[str] | str | None, what: str = "countries"
                      ) -> list[str] | None:
    """ISO3 codes of countries and groups (a group stands for its members)."""
    names = checks.as_names(values, what)
    if names is None:
        return None
    out: list[str] = []
    for name in names:
        members = resolve.group_members(name)
        out.extend(members if members else [resolve.country(name)])
    return list(dict.fromkeys(out))


def resolve_minerals(values: Sequence[str] | str | None) -> list[str] | None:
    """Mineral slugs of names, slugs, aliases or groups (PGE stands for its metals)."""
    names = checks.as_names(values, "minerals")
    if names is None:
        return None
    out: list[str] = []
    for name in names:
        members = resolve.mineral_group(name)
        out.extend(members if members else [resolve.mineral(name)])
    return list(dict.fromkeys(out))


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
    return cache.load(get_store(), compute.OUTPUTS[compute.mode_of(compat)][0], compat)


def risk(countries: Sequence[str] | str | None = None, minerals: Sequence[str] | str | None = None,
         years: Sequence[int] | int | None = None, compat: str | None = None,
         as_group: bool = False) -> pd.DataFrame:
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
    as_group : bool
        Also report each group named in ``countries`` as one importer (``country`` is the
        group's name): trade between members left out, production summed, membership by
        year (``critmin.group_members``). With ``compat``, geopolrisk-py's region rule
        instead: the members' imports from each other count, at no risk
        (:func:`critmin.compute.compat_groups`).

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
    as_group = checks.as_bool(as_group, "as_group")
    year_list, mineral_list = resolve_years(years), resolve_minerals(minerals)
    frame = cache.load(get_store(), compute.OUTPUTS[mode][0], compat, years=year_list,
                       minerals=mineral_list, countries=resolve_countries(countries))
    if not as_group:
        return frame
    store = get_store()
    named = checks.as_names(countries, "countries") or []
    groups = [g for g in named if resolve.group_members(g)]
    if not groups:
        raise InvalidInput("as_group needs a group among the countries (G7, EU27, BRICS, Quad…)")
    if mode != "default":
        span = year_list or sorted(int(y) for y in store.table("gpr_production")["year"].unique())
        regions = [frame]
        for name in groups:
            label, members = group_membership(name, span)
            regions.append(compute.compat_groups(store, members.assign(group=label), span,
                                                 mineral_list))
        out = pd.concat(regions, ignore_index=True)[list(frame.columns)]
        out.attrs["units"] = frame.attrs.get("units", {})
        return out
    years_all = year_list or sorted(store.rows_by_year("flows") | store.rows_by_year("production"))
    from critmin.inputs import read_cube_inputs
    from critmin.metrics.country_groups import group_cube

    parts = [frame]
    for name in groups:
        label, members = group_membership(name, years_all)
        inputs = read_cube_inputs(store, years_all, mineral_list)
        parts.append(group_cube(inputs, label, members))
    out = pd.concat(parts, ignore_index=True)
    out.attrs["units"] = schema.units("cube")
    return out


RISK_VIEW = ["year", "country", "mineral", "hhi", "wta", "score", "cf", "price_usd_per_kg",
             "imports_t", "production_t", "import_reliance", "top_supplier",
             "top_supplier_share", "china_share", "flags"]
"""The columns people read first in a risk table."""
RISK_ORDER = ["-year", "-score", "country", "mineral"]
"""Relevance order of risk rows: latest year first, riskiest first."""


def risk_columns(output: str = "cube") -> list[str]:
    """The public columns of a risk table, those of :data:`RISK_VIEW` first."""
    cols = schema.public_columns(output)
    first = [c for c in RISK_VIEW if c in cols]
    return first + [c for c in cols if c not in first]


@dataclass(frozen=True)
class RiskSource:
    """Where the rows of a :func:`risk` request are read from."""

    output: str
    """The cube output of the mode: ``cube`` or ``cube_compat``."""
    compat: str | None
    where: dict[str, list[Any] | None]
    """The filter on the output's rows: country, mineral, year (None: all)."""
    cached: bool
    """True: the rows are read from the cached output (it is there, or the whole output is
    asked for and is computed and cached first); False: only the rows asked for are
    computed (no cache, and a subset asked for or groups as one importer)."""

    def file(self, progress: compute.Progress | None = None) -> Path:
        """The cached output, computed and cached first if needed."""
        return cache.cached_file(get_store(), self.output, self.compat, progress)


def risk_source(countries: Sequence[str] | str | None = None,
                minerals: Sequence[str] | str | None = None,
                years: Sequence[int] | int | None = None, compat: str | None = None,
                as_group: bool = False) -> RiskSource:
    """Where :func:`risk`'s rows are read from: the cached output when it is there or when
    the whole of it is asked for, otherwise computed for the rows asked for only (the same
    numbers: every metric is per mineral and year). Decides only; nothing is computed.

    Examples
    --------
    >>> source = critmin.query.risk_source("India", "lithium", 2021)
    >>> source.output, source.where["country"], source.where["year"]
    ('cube', ['IND'], [2021])
    """
    mode = compute.mode_of(compat)
    as_group = checks.as_bool(as_group, "as_group")
    output = compute.OUTPUTS[mode][0]
    where: dict[str, list[Any] | None] = {
        "country": resolve_countries(countries), "mineral": resolve_minerals(minerals),
        "year": resolve_years(years)}
    everything = all(v is None for v in where.values())
    cached = not as_group and (
        everything or cache.cache_path(get_store(), output, mode).exists())
    return RiskSource(output, compat, where, cached)


@contextmanager
def _risk_rows(countries: Sequence[str] | str | None, minerals: Sequence[str] | str | None,
               years: Sequence[int] | int | None
               ) -> Iterator[tuple[Path, dict[str, list[Any] | None]]]:
    """A Parquet file holding :func:`risk`'s rows and the filter that selects them: the
    cached cube, or the rows computed into a temporary file in the cache's own schema (so
    that the store pages, orders and writes them alike)."""
    source = risk_source(countries, minerals, years)
    if source.cached:
        yield source.file(), source.where
        return
    frame = risk(countries, minerals, years)
    with tempfile.TemporaryDirectory(prefix="critmin-risk-") as folder:
        yield cache.write_output(source.output, frame, Path(folder) / "risk.parquet"), {}


def risk_page(countries: Sequence[str] | str | None = None,
              minerals: Sequence[str] | str | None = None,
              years: Sequence[int] | int | None = None, limit: int = 1000, offset: int = 0
              ) -> tuple[pd.DataFrame, int]:
    """One page of :func:`risk`'s rows in relevance order (latest year, riskiest first) and
    how many rows match in all; only the page is read.

    Examples
    --------
    >>> rows, total = critmin.query.risk_page("India", "lithium", limit=2)
    >>> len(rows), total >= 2, bool(rows["year"].iloc[0] >= rows["year"].iloc[1])
    (2, True, True)
    """
    limit = checks.as_int(limit, "limit", minimum=1, maximum=100_000)
    offset = checks.as_int(offset, "offset", minimum=0)
    store = get_store()
    with _risk_rows(countries, minerals, years) as (path, where):
        frame = store.read_parquet(path, where, risk_columns(), RISK_ORDER, limit, offset)
        total = store.count_parquet(path, where)
    frame.attrs["units"] = schema.units("cube")
    return frame, total


def risk_file(dest: Path, fmt: str, countries: Sequence[str] | str | None = None,
              minerals: Sequence[str] | str | None = None,
              years: Sequence[int] | int | None = None) -> Path:
    """Write :func:`risk`'s rows in relevance order to ``dest`` in ``fmt`` (csv, jsonl,
    json, parquet), streamed by the store: memory stays small whatever the size."""
    from critmin.present import LIST_TEXT_COLUMNS

    with _risk_rows(countries, minerals, years) as (path, where):
        get_store().copy(path, where, risk_columns(), fmt, dest, list(LIST_TEXT_COLUMNS),
                         RISK_ORDER)
    return dest


def group_membership(name: str, years: Sequence[int]) -> tuple[str, pd.DataFrame]:
    """A group's name and its members in each year (year, iso3): a catalog group, an alias
    of one or an expression such as ``BRICS-CHN`` (:func:`critmin.resolve.group_expression`).
    """
    expression = resolve.group_expression(name)
    if expression is None:
        groups = sorted(set(get_store().table("group_members")["group"]))
        raise NotFound(f"unknown group {name!r}", suggestions=groups)
    return expression.label, resolve.members_by_year(expression, years)


def stages(countries: Sequence[str] | str | None = None,
           minerals: Sequence[str] | str | None = None,
           years: Sequence[int] | int | None = None,
           stage: Sequence[str] | str | None = None) -> pd.DataFrame:
    """Per supply-chain stage: production, trade, suppliers and reliance.

    Parameters
    ----------
    countries, minerals, years
        Filters as in :func:`risk`.
    stage : str or list of str, optional
        ``ore``, ``intermediate``, ``refined``, ``alloy``, ``scrap``, ``product``; all if None.

    Returns
    -------
    pandas.DataFrame
        One row per (year, country, mineral, stage): production at the stage, imports and
        exports on the mineral's basis, suppliers and China's share, the stage's reliance
        where the data carries it, and the stage's coverage.

    Examples
    --------
    >>> s = critmin.stages("IND", "rare-earths", 2024, stage="product")
    >>> s.iloc[0]["top_supplier"]
    'CHN'
    """
    wanted = checks.as_names(stage, "stage")
    names = checks.as_names(minerals, "minerals")
    if names is not None:  # a product name (magnets) stands for its mineral at its stage
        own: list[str] = []
        slugs: list[str] = []
        for name in names:
            found = resolve.product(name)
            if found is None:
                slugs.append(name)
                continue
            # refused when no stage asked for is the product's
            asked = None if wanted is None or found[1] in wanted else wanted[0]
            slugs.append(resolve.mineral_stage(name, asked)[0])
            own.append(found[1])
        minerals = slugs
        if own and wanted is None:
            wanted = sorted(set(own))
    if wanted is not None:
        bad = [s for s in wanted if s not in schema.STAGES]
        if bad:
            raise NotFound(f"unknown stage {bad[0]!r}",
                           suggestions=nearest(bad[0], schema.STAGES) or list(schema.STAGES))
    frame = cache.load(get_store(), "stages", years=resolve_years(years),
                       minerals=resolve_minerals(minerals),
                       countries=resolve_countries(countries))
    if wanted is not None:
        frame = frame[frame["stage"].isin(wanted)].reset_index(drop=True)
        frame.attrs["units"] = schema.units("stages")
    return frame


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
    return cache.load(get_store(), "partners", years=resolve_years(years),
                      minerals=resolve_minerals(minerals),
                      countries=resolve_countries(importers, "importers"))


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
                 progress: compute.Progress | None = None, engine: Engine | None = None,
                 force: bool = False) -> Path:
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
    engine : Engine, optional
        For the cube and partners: what aggregates the flows when they are not cached yet
        (:func:`critmin.store.get_engine`; DuckDB unless given; every engine gives the same
        numbers).
    force : bool
        Replace ``out`` if it exists (a pipe, device or folder is always refused).

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

    mode = compute.mode_of(compat)
    name = checks.as_name(table, "table")
    names = [*schema.SNAPSHOT_TABLES, *EXPORTABLE]
    if name not in names:
        raise NotFound(f"unknown table {name!r}", suggestions=nearest(name, names) or names[:3])
    force = checks.as_bool(force, "force")
    progress = checks.as_callable(progress, "progress")
    if engine is not None and not callable(getattr(engine, "aggregate", None)):
        raise InvalidInput(f"engine must be an engine (critmin.store.get_engine('duckdb')) or "
                           f"None, not {checks.shown(engine)}")
    out = present.check_destination(checks.as_path(out, "out"), force=force)
    fmt = present.output_format(out)
    store = get_store()
    if fmt == "xlsx":
        frame = (cache.load(store, name, compat, engine=engine) if name in EXPORTABLE
                 else store.table(name))
        if not frame.attrs.get("units") and name in schema.columns():
            frame.attrs["units"] = schema.units(name)  # the workbook formats by unit
        return present.write(out, frame, force=force)
    if name in EXPORTABLE:
        output = "cube_compat" if name == "cube" and mode != "default" else name
        source: Path | str = cache.cached_file(store, output, compat, progress, engine)
        columns = schema.public_columns(output)
    else:
        source, columns = name, schema.public_columns(name)
    present.stream_cached(source, {}, columns, fmt, out, force=force)
    return out


SOURCE_NAMES = {"wmd": "World Mining Data", "bgs-wms": "BGS World Mineral Statistics",
                "usgs-mcs2025": "USGS MCS 2025", "usgs-mcs2026": "USGS MCS 2026"}
"""Short names of the production sources, for the value chain's ``source`` column."""


def value_chain(mineral: str, year: int | None = None, top: int = 8) -> pd.DataFrame:
    """A mineral's value chain in one year: mine output by country, processing (refining,
    separation) by country, trade of the processed forms to their users, and trade of
    products, in tonnes of the mineral's basis.

    Parameters
    ----------
    mineral : str
        Slug, name or alias.
    year : int, optional
        The year; the latest complete year if None.
    top : int
        Countries named per stage (China always); the rest are summed as "Other".

    Returns
    -------
    pandas.DataFrame
        ``from_stage``, ``from_country``, ``to_stage``, ``to_country``, ``qty_t`` (tonnes
        of the basis) and ``source``, one row per link (see
        :mod:`critmin.metrics.value_chain`); a stage the data cannot fill is one row with
        ``qty_t`` missing and the reason in ``source``. ``attrs`` hold the mineral, year and
        basis.

    Examples
    --------
    >>> chain = critmin.query.value_chain("rare earths", 2023)
    >>> made = chain[chain["to_stage"] == "processing"].groupby("to_country")["qty_t"].sum()
    >>> made.idxmax()
    'CHN'
    """
    from critmin.inputs import read_cube_inputs
    from critmin.metrics.cube import plain
    from critmin.metrics.value_chain import chain_table
    from critmin.years import check_year

    store = get_store()
    slug = resolve.mineral(checks.as_name(mineral, "mineral"))
    top = checks.as_int(top, "top", minimum=1, maximum=50)
    year = check_year(store, year)
    info = store.table("minerals").set_index("mineral").loc[slug]
    inp = read_cube_inputs(store, [year], [slug])
    stage = str(info["production_stage"]) if pd.notna(info["production_stage"]) else "ore"
    rank = {s: i for i, s in enumerate(schema.STAGES)}
    made = plain(inp.production)
    made = made[(made["mineral"] == slug) & (made["year"] == year)]

    def output(at: str) -> tuple[pd.DataFrame, str]:
        rows = made[made["stage"] == at][["country", "qty_t", "source"]]
        rest = inp.unlisted
        if rest is not None and not rest.empty:
            rest = plain(rest)
            rest = rest[(rest["mineral"] == slug) & (rest["stage"] == at)
                        & (rest["year"] == year)]
            rows = pd.concat([rows, rest.assign(country="Other")[["country", "qty_t"]]],
                             ignore_index=True)
        named = sorted({SOURCE_NAMES.get(str(s), str(s)) for s in rows["source"].dropna()})
        return rows[["country", "qty_t"]], ", ".join(named)

    mine, mine_source = output(stage)
    words = {"mine": f"{stage} output ({mine_source})" if mine_source else f"{stage} output"}
    processing: pd.DataFrame | None = None
    if rank[stage] < rank["refined"]:
        refined, refined_source = output("refined")
        published = plain(inp.published) if inp.published is not None else pd.DataFrame()
        if not published.empty:
            published = published[(published["mineral"] == slug)
                                  & (published["year"] == year)]
        if refined["qty_t"].gt(0).any():
            processing = refined
            words["processing"] = f"refinery output ({refined_source})"
        elif not published.empty:
            world = float(mine["qty_t"].clip(lower=0).sum())
            processing = pd.DataFrame({
                "country": published["country"].replace({"ROW": "Other"}),
                "qty_t": published["share"].astype(float) * world})
            first = published.iloc[0]
            publisher = str(first["source"]).split(",")[0].split("(")[0].strip()
            words["processing"] = (f"processing output estimated as the published share "
                                   f"({first['measure']}, {publisher} {first['edition']}) "
                                   f"x world {stage} output")
        else:
            words["no_processing"] = (f"no source gives {slug} refinery output or published "
                                      f"processing shares by country for {year}")
    else:
        words["no_processing"] = (f"{slug} output is reported at the {stage} stage; the "
                                  "exporters of processed forms stand for processing")
    pairs = plain(inp.pairs)
    pairs = pairs[(pairs["mineral"] == slug) & (pairs["year"] == year)]
    forms = [s for s in ("intermediate", "refined", "alloy") if rank[s] >= rank[stage]]
    processed = pairs[pairs["stage"].isin(forms)].rename(columns={"qty_basis_t": "_q"})
    products = pairs[pairs["stage"] == "product"].rename(columns={"qty_basis_t": "_q"})
    ore = pairs[(pairs["stage"] == stage) & (stage == "ore")].rename(
        columns={"qty_basis_t": "_q"})
    words["trade"] = f"BACI trade of {', '.join(forms)} forms ({slug} content)"
    words["product"] = f"BACI trade of products ({slug} content)"
    words["ore"] = f"BACI trade of ore and concentrate ({slug} content)"
    links = store.table("product_minerals")
    codes = links.loc[(links["mineral"] == slug) & (links["stage"] == "product"), "hs6"]
    words["no_product"] = (
        f"no product trade with quantities for {slug} in {year} (codes "
        f"{', '.join(sorted(map(str, codes)))})" if len(codes)
        else f"the catalog names no product code for {slug}")

    def flows(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[["exporter", "importer"]].assign(qty_t=frame["_q"].astype(float))

    table = chain_table(mine, processing, flows(processed), flows(products), words, top,
                        flows(ore))
    table.attrs.update({"mineral": slug, "year": year, "basis": str(info["basis"]),
                        "name": str(info["name"])})
    return table
