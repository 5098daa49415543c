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
    from critmin.sources import baci
    from critmin.store import user

    if not files:
        raise InvalidInput("no file given to import")
    paths = [Path(f) for f in files]
    store = get_store()
    raw = baci.read_baci_files(paths)
    codes = baci.code_map(store.table("country_codes"), raw.country_codes, store.table("countries"))
    flows, cov = baci.normalise_flows(raw, codes, set(store.table("products")["hs6"]))
    if flows.empty:
        reasons = ", ".join(f"{k}: {v}" for k, v in cov.dropped.items()) or "no rows"
        raise DataError(f"nothing to import: every row was dropped ({reasons})")
    years = sorted(int(y) for y in flows["year"].unique())
    record = {"source": "baci", "files": [p.name for p in paths], "years": years,
              "coverage": cov.to_dict()}
    user.replace_flows(flows, record)
    return ImportReport(coverage=cov.to_dict(), years=years, files=[str(p) for p in paths])


def reset_imports() -> None:
    """Forget every import: the store goes back to the bundled snapshot."""
    from critmin.store import user

    user.reset()


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
            for col in [c for c in flat.columns if pd.api.types.is_object_dtype(flat[c])]:
                flat[col] = flat[col].map(flat_text)
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
    if year_list is not None:
        year_list = [_check_year(y) for y in year_list]
    frame = load_cube(get_store(), compat=compat, years=year_list, minerals=slugs)
    mask = pd.Series(True, index=frame.index)
    if isos is not None:
        mask &= frame["country"].isin(isos)
    return frame[mask].reset_index(drop=True)


UNITS = {
    "production_t": "t (basis)", "imports_t": "t (gross)", "exports_t": "t (gross)",
    "imports_basis_t": "t (basis)", "exports_basis_t": "t (basis)", "apparent_supply_t": "t (basis)",
    "imports_kusd": "kUSD", "exports_kusd": "kUSD", "price_usd_per_kg": "USD/kg",
    "import_reliance": "share", "china_share": "share", "top_supplier_share": "share",
    "import_hhi": "0-1", "hhi": "0-1", "wta": "0-1", "score": "0-1", "cf": "eq. kg Cu/kg",
    "share": "share", "qty_basis_t": "t (basis)", "value_kusd": "kUSD",
    "world_production_t": "t (basis)", "top3_share": "share", "china_production_share": "share",
    "refining_hhi": "0-1", "refining_china_share": "share", "refining_top3_share": "share",
}


def _with_units(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs["units"] = {c: UNITS[c] for c in frame.columns if c in UNITS}
    return frame


def data_years() -> list[int]:
    """Years with trade or production data."""
    tables = get_store().status()["tables"]
    spans = [tables[t]["years"] for t in ("flows", "production")]
    return list(range(min(s[0] for s in spans), max(s[1] for s in spans) + 1))


def default_year() -> int:
    """The latest year with production data whose trade is not flagged incomplete."""
    from critmin.store.cache import incomplete_year

    store = get_store()
    first, last = store.status()["tables"]["production"]["years"]
    if incomplete_year(store) == last and last > first:
        last -= 1
    return int(last)


def _check_year(year: int | None) -> int:
    if year is None:
        return default_year()
    known = data_years()
    if year not in known:
        raise InvalidInput(f"no data for year {year}; years with data: {known[0]}-{known[-1]}")
    return year


@dataclass
class CountryProfile:
    """A country's minerals in one year: production, trade, dependence, suppliers, risk.

    ``minerals`` has one row per mineral; ``suppliers`` the top partners per mineral;
    ``notes`` say what the data cannot show.
    """

    country: str
    name: str
    year: int
    minerals: pd.DataFrame
    suppliers: pd.DataFrame
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "country": self.country, "name": self.name, "year": self.year,
            "minerals": records(self.minerals), "suppliers": records(self.suppliers),
            "units": self.minerals.attrs.get("units", {}), "notes": self.notes,
        }


def as_list(value: Any) -> Any:
    """A sequence cell (list, tuple or the numpy array Parquet gives back) as a list."""
    import numpy as np

    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) if isinstance(v, np.str_) else v for v in list(value)]
    return value


def flat_text(value: Any) -> Any:
    """A sequence cell joined with ';' for CSV and Excel; other cells unchanged."""
    value = as_list(value)
    return ";".join(map(str, value)) if isinstance(value, list) else value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows at full float precision: NaN as None, flags and list columns as lists."""
    out = frame.copy()
    if "flags" in out.columns:
        out["flags"] = out["flags"].fillna("").map(lambda s: [f for f in s.split(";") if f])
    for col in [c for c in out.columns if pd.api.types.is_object_dtype(out[c])]:
        out[col] = out[col].map(as_list)
    out = out.astype(object).where(out.notna(), None)
    rows: list[dict[str, Any]] = out.to_dict(orient="records")
    return rows


def _top_partners(lines: pd.DataFrame, by: list[str], who: str, n: int) -> pd.DataFrame:
    from critmin.metrics.concentration import shares

    grouped = lines.groupby([*by, who], as_index=False, observed=True).agg(
        qty_basis_t=("qty_basis_t", "sum"), value_kusd=("value_kusd", "sum")
    )
    grouped = grouped[grouped["qty_basis_t"] > 0].astype({who: str})
    grouped["share"] = shares(grouped, by, "qty_basis_t")
    grouped = grouped.sort_values([*by, "share"], ascending=[True] * len(by) + [False])
    return grouped.groupby(by, sort=False).head(n).reset_index(drop=True)


PROFILE_COLUMNS = [
    "mineral", "production_t", "imports_t", "imports_basis_t", "exports_t", "exports_basis_t",
    "imports_kusd", "apparent_supply_t", "import_reliance", "reliance_status", "top_supplier",
    "top_supplier_share", "top_suppliers", "china_share", "import_hhi", "hhi", "score",
    "price_usd_per_kg", "cf", "flags",
]


def profile(country: str, year: int | None = None, top: int = 3) -> CountryProfile:
    """Per mineral: production, imports, exports, import reliance, top suppliers, China share,
    import HHI, GeoPolRisk score and CF, and data-quality flags.

    >>> p = critmin.profile("India", 2022)  # doctest: +SKIP
    >>> p.minerals.set_index("mineral").loc["lithium", "import_reliance"]  # doctest: +SKIP
    1.0
    """
    from critmin.metrics.cube import trade_lines
    from critmin.store.cache import load_cube

    iso3 = resolve.country(country)
    store = get_store()
    year = _check_year(year)
    names = store.table("countries").set_index("iso3")["name"]
    rows = load_cube(store, years=[year])
    rows = rows[rows["country"] == iso3].copy()
    if rows.empty:
        raise InvalidInput(
            f"no mineral production or trade recorded for {names[iso3]} ({iso3}) in {year}"
        )
    lines = trade_lines(store.flows(years=[year], importer=iso3), store.table("product_minerals"))
    partners = _top_partners(lines, ["mineral"], "exporter", top).rename(
        columns={"exporter": "supplier"}
    )
    partners["supplier_name"] = partners["supplier"].map(names)
    label = partners.assign(
        text=partners["supplier"] + " " + (partners["share"] * 100).round(0).astype(int).astype(str) + "%"
    ).groupby("mineral")["text"].agg(", ".join)
    rows["top_suppliers"] = rows["mineral"].map(label).fillna("")
    rows = rows.sort_values(["imports_kusd", "production_t"], ascending=False, na_position="last")
    minerals_table = _with_units(rows[PROFILE_COLUMNS].reset_index(drop=True))
    return CountryProfile(
        country=iso3, name=str(names[iso3]), year=year, minerals=minerals_table,
        suppliers=_with_units(partners.reset_index(drop=True)),
        notes=profile_notes(minerals_table, store),
    )


def profile_notes(rows: pd.DataFrame, store: Any) -> list[str]:
    """Plain-language caveats for a profile, grouped: what the data cannot show and why."""
    from critmin.schema import STAGES

    names = store.table("minerals").set_index("mineral")["name"]
    stages = store.table("product_minerals").groupby("mineral")["stage"].agg(set)
    flags = rows["flags"].fillna("").astype(str)
    groups: dict[str, list[str]] = {
        "Production only (no HS code carries it in the trade data)": [],
        "Trade data covers only these stages": [],
        "Import reliance not shown as a percentage (a traded product has no content factor)": [],
        "Exports exceed production plus imports (re-exports, stocks or unrecorded feed; "
        "reliance undefined)": [],
    }
    keys = list(groups)
    for row, row_flags in zip(rows.itertuples(index=False), flags, strict=True):
        label = str(names[row.mineral])
        if row.mineral not in stages.index:
            groups[keys[0]].append(label)
            continue
        covered = [st for st in STAGES if st in stages[row.mineral]]
        if len(covered) < len(STAGES) and (row.imports_t or 0) > 0:
            groups[keys[1]].append(f"{label} ({', '.join(covered)})")
        if "mixed_bases" in row_flags:
            groups[keys[2]].append(label)
        if "re_export_hub" in row_flags:
            groups[keys[3]].append(label)
    notes = [f"{title}: {', '.join(items)}." for title, items in groups.items() if items]
    if flags.str.contains("latest_year_incomplete").any():
        notes.append("The latest trade year is incomplete in the source (fewer reporters).")
    notes.append("Production is mine production (World Mining Data); refined output is not in "
                 "the data, so reliance combines mining with trade in all stages on one basis.")
    return notes


@dataclass
class MineralProfile:
    """A mineral: producers and concentration over time, exporters and largest flows."""

    mineral: str
    name: str
    basis: str
    year: int
    producers: pd.DataFrame
    concentration: pd.DataFrame
    exporters: pd.DataFrame
    flows: pd.DataFrame
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mineral": self.mineral, "name": self.name, "basis": self.basis, "year": self.year,
            "producers": records(self.producers), "concentration": records(self.concentration),
            "exporters": records(self.exporters), "flows": records(self.flows),
            "notes": self.notes,
        }


def mineral(name: str, year: int | None = None, top: int = 15) -> MineralProfile:
    """Producers and their shares, HHI, top-3 and China share over time, top exporters and
    the largest bilateral flows of a mineral.

    >>> m = critmin.mineral("rare earths", 2022)  # doctest: +SKIP
    >>> round(m.concentration.set_index("year").loc[2022, "china_production_share"], 2)  # doctest: +SKIP
    0.7
    """
    from critmin.metrics.concentration import shares
    from critmin.metrics.cube import trade_lines
    from critmin.store.cache import load_cube

    slug = resolve.mineral(name)
    store = get_store()
    info = store.table("minerals").set_index("mineral").loc[slug]
    year = _check_year(year)
    rows = load_cube(store, minerals=[slug])
    if rows.empty:
        raise InvalidInput(f"no production or trade recorded for {info['name']}")
    names = store.table("countries").set_index("iso3")["name"]
    producers = rows[(rows["year"] == year) & (rows["production_t"] > 0)][["country", "production_t"]]
    producers = producers.assign(share=shares(producers.assign(k=1), ["k"], "production_t"))
    producers = producers.sort_values("production_t", ascending=False).reset_index(drop=True)
    producers.insert(1, "name", producers["country"].map(names))
    conc_cols = ["year", "world_production_t", "n_producers", "hhi", "top3_share",
                 "china_production_share", "top_producer", "refining_hhi",
                 "refining_top3_share", "refining_china_share", "top_refined_exporter"]
    conc = rows[conc_cols].drop_duplicates("year").sort_values("year").reset_index(drop=True)
    codes = list(store.table("product_minerals").query("mineral == @slug")["hs6"])
    lines = trade_lines(store.flows(hs6=codes, years=[year]), store.table("product_minerals"))
    lines = lines[lines["mineral"] == slug].assign(k=1)
    exporters = _top_partners(lines, ["k"], "exporter", top).drop(columns="k")
    exporters.insert(1, "name", exporters["exporter"].map(names))
    pairs = lines.groupby(["exporter", "importer"], as_index=False, observed=True).agg(
        qty_basis_t=("qty_basis_t", "sum"), value_kusd=("value_kusd", "sum"))
    pairs = pairs.sort_values("qty_basis_t", ascending=False).head(top).reset_index(drop=True)
    notes = [f"Quantities are tonnes of {info['basis']} ({info['basis_note']})"]
    if not codes:
        notes.append(f"{info['name']} has no HS code in the trade data: production only.")
    return MineralProfile(
        mineral=slug, name=str(info["name"]), basis=str(info["basis"]), year=year,
        producers=_with_units(producers), concentration=_with_units(conc),
        exporters=_with_units(exporters.reset_index(drop=True)), flows=_with_units(pairs),
        notes=notes,
    )
