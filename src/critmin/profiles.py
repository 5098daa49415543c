"""Country and mineral profiles: views of the metrics cube and its partner table.

>>> p = critmin.profile("India", 2022)
>>> p.minerals.set_index("mineral").loc["lithium", "import_reliance"]
np.float64(1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from critmin import checks, compute, resolve, schema
from critmin.errors import InvalidInput
from critmin.present import records
from critmin.store import Store, get_store
from critmin.years import check_year, describe_default


@dataclass
class CountryProfile:
    """A country's minerals in one year: production, trade, dependence, suppliers, risk.

    ``minerals`` has one row per mineral; ``suppliers`` the top partners per mineral;
    ``notes`` say what the data cannot show; ``year_note`` how the year was chosen.
    """

    country: str
    name: str
    year: int
    minerals: pd.DataFrame
    suppliers: pd.DataFrame
    notes: list[str]
    year_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "country": self.country, "name": self.name, "year": self.year,
            "minerals": records(self.minerals), "suppliers": records(self.suppliers),
            "units": self.minerals.attrs.get("units", {}), "notes": self.notes,
        }

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The profile's tables by sheet name, for a multi-sheet file."""
        return {"data": self.minerals, "suppliers": self.suppliers}


def _names(store: Store) -> pd.Series:
    return store.table("countries").set_index("iso3")["name"]


def _top_suppliers(partners: pd.DataFrame, top: int, names: pd.Series) -> pd.DataFrame:
    ranked = partners[partners["share"].notna()]
    ranked = ranked.sort_values(["mineral", "share", "exporter"], ascending=[True, False, True])
    ranked = ranked.groupby("mineral", sort=False).head(top).rename(columns={"exporter": "supplier"})
    ranked["supplier_name"] = ranked["supplier"].map(names)
    return schema.select("suppliers", ranked.reset_index(drop=True))


def profile(country: str, year: int | None = None, top: int = 3) -> CountryProfile:
    """A country's minerals in one year.

    Parameters
    ----------
    country : str
        ISO3, ISO2, name, alias or BACI code.
    year : int, optional
        The year; the latest complete year if None.
    top : int
        Suppliers listed per mineral.

    Returns
    -------
    CountryProfile
        ``minerals`` (production, imports, exports, reliance, top suppliers, China share,
        import HHI, GeoPolRisk, flags), ``suppliers`` and ``notes`` (what the data cannot
        show).

    Examples
    --------
    >>> p = critmin.profile("India", 2022)
    >>> p.suppliers.query("mineral == 'rare-earths'").iloc[0]["supplier"]
    'CHN'
    """
    store = get_store()
    iso3 = resolve.country(checks.as_name(country, "country"))
    top = checks.as_int(top, "top", minimum=1, maximum=50)
    year = check_year(store, year)
    names = _names(store)
    rows = compute.load(store, "cube", years=[year], countries=[iso3])
    if rows.empty:
        raise InvalidInput(
            f"no mineral production or trade recorded for {names[iso3]} ({iso3}) in {year}"
        )
    suppliers = _top_suppliers(
        compute.load(store, "partners", years=[year], countries=[iso3]), top, names)
    label = (suppliers["supplier"] + " "
             + (suppliers["share"] * 100).round(0).astype(int).astype(str) + "%")
    text = label.groupby(suppliers["mineral"]).agg(", ".join)
    rows["top_suppliers"] = rows["mineral"].map(text).fillna("")
    rows = rows.sort_values(["imports_kusd", "production_t"], ascending=False, na_position="last")
    table = schema.select("profile", rows.reset_index(drop=True))
    return CountryProfile(
        country=iso3, name=str(names[iso3]), year=year, minerals=table, suppliers=suppliers,
        notes=profile_notes(table, store), year_note=describe_default(store),
    )


def profile_notes(rows: pd.DataFrame, store: Store) -> list[str]:
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
    minerals = rows["mineral"].astype(str).tolist()
    imports = rows["imports_t"].fillna(0.0).tolist()
    for mineral, imported, row_flags in zip(minerals, imports, flags, strict=True):
        label = str(names[mineral])
        if mineral not in stages.index:
            groups[keys[0]].append(label)
            continue
        covered = [st for st in STAGES if st in stages[mineral]]
        if len(covered) < len(STAGES) and imported > 0:
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
    year_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "mineral": self.mineral, "name": self.name, "basis": self.basis, "year": self.year,
            "producers": records(self.producers), "concentration": records(self.concentration),
            "exporters": records(self.exporters), "flows": records(self.flows),
            "notes": self.notes,
        }

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The profile's tables by sheet name, for a multi-sheet file."""
        return {"producers": self.producers, "concentration": self.concentration,
                "exporters": self.exporters, "flows": self.flows}


def _ranked(frame: pd.DataFrame, qty: str, top: int | None = None) -> pd.DataFrame:
    total = frame[qty].where(frame[qty] > 0).sum()
    out = frame[frame[qty] > 0].assign(share=lambda f: f[qty] / total)
    out = out.sort_values([qty, out.columns[0]], ascending=[False, True])
    return (out.head(top) if top else out).reset_index(drop=True)


def mineral(name: str, year: int | None = None, top: int = 15) -> MineralProfile:
    """A mineral: who produces and exports it, and how concentrated that is.

    Parameters
    ----------
    name : str
        Slug, name or alias (e.g. "REE").
    year : int, optional
        The year; the latest complete year if None.
    top : int
        Exporters and flows listed.

    Returns
    -------
    MineralProfile
        ``producers`` and their shares, ``concentration`` over time (HHI, top-3, China
        share), top ``exporters`` and the largest bilateral ``flows``.

    Examples
    --------
    >>> m = critmin.mineral("rare earths", 2022)
    >>> m.producers.iloc[0]["country"], round(float(m.producers.iloc[0]["share"]), 2)
    ('CHN', 0.7)
    """
    store = get_store()
    slug = resolve.mineral(checks.as_name(name, "mineral"))
    top = checks.as_int(top, "top", minimum=1, maximum=500)
    info = store.table("minerals").set_index("mineral").loc[slug]
    year = check_year(store, year)
    rows = compute.load(store, "cube", minerals=[slug])
    if rows.empty:
        raise InvalidInput(f"no production or trade recorded for {info['name']}")
    names = _names(store)
    now = rows[rows["year"] == year]
    producers = _ranked(now[["country", "production_t"]], "production_t")
    producers.insert(1, "name", producers["country"].map(names))
    conc = rows.drop_duplicates("year").sort_values("year").reset_index(drop=True)
    exporters = _ranked(now.rename(columns={"country": "exporter", "exports_basis_t": "qty_basis_t",
                                            "exports_kusd": "value_kusd"})
                        [["exporter", "qty_basis_t", "value_kusd"]], "qty_basis_t", top)
    exporters.insert(1, "name", exporters["exporter"].map(names))
    pairs = compute.load(store, "partners", years=[year], minerals=[slug])
    pairs = pairs.sort_values(["qty_basis_t", "exporter", "importer"],
                              ascending=[False, True, True]).head(top)
    notes = [f"Quantities are tonnes of {info['basis']} ({info['basis_note']})"]
    codes = store.table("product_minerals").query("mineral == @slug")["hs6"]
    if codes.empty:
        notes.append(f"{info['name']} has no HS code in the trade data: production only.")
    return MineralProfile(
        mineral=slug, name=str(info["name"]), basis=str(info["basis"]), year=year,
        producers=schema.select("producers", producers),
        concentration=schema.select("concentration", conc),
        exporters=schema.select("exporters", exporters),
        flows=schema.select("mineral_flows", pairs.reset_index(drop=True)),
        notes=notes, year_note=describe_default(store),
    )
