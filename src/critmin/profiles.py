"""Country and mineral profiles: views of the metrics cube and its partner table.

>>> p = critmin.profile("India", 2022)
>>> p.minerals.set_index("mineral").loc["lithium", "reliance_status"]
'net importer (no domestic production)'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from critmin import cache, checks, numbers, resolve, schema
from critmin.errors import InvalidInput, nearest
from critmin.present import records
from critmin.store import Store, get_store
from critmin.years import check_year, describe_default

SORTS = {
    "risk": (["own_list", "score", "import_reliance", "imports_kusd"], [False, False, False, False]),
    "reliance": (["own_list", "import_reliance", "imports_kusd"], [False, False, False]),
    "china": (["own_list", "china_share", "imports_kusd"], [False, False, False]),
    "value": (["own_list", "imports_kusd", "production_t"], [False, False, False]),
    "name": (["own_list", "mineral"], [False, True]),
}
"""Profile orderings. The default risk ordering: the country's own critical list first, then
the other minerals; within each, GeoPolRisk score (concentration of world production x
governance risk of the suppliers, weighted by import share), then import reliance, then
import value, largest first; minerals without a figure last."""

SHOWN_CLASSES = ("metal", "industrial")
"""Mineral classes a profile shows by default (construction minerals and fuels on request),
besides everything on the country's own lists."""


@dataclass
class CountryProfile:
    """A country's minerals in one year: production, trade, dependence, suppliers, risk.

    ``minerals`` has one row per mineral (the country's own critical list first);
    ``stages`` one row per mineral and supply-chain stage; ``suppliers`` the top partners
    per mineral; ``notes`` say what the data cannot show; ``lists`` the country's own
    critical-mineral lists; ``year_note`` how the year was chosen.
    """

    country: str
    name: str
    year: int
    minerals: pd.DataFrame
    stages: pd.DataFrame
    suppliers: pd.DataFrame
    notes: list[str]
    lists: list[str]
    year_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "country": self.country, "name": self.name, "year": self.year,
            "lists": self.lists, "minerals": records(self.minerals),
            "stages": records(self.stages), "suppliers": records(self.suppliers),
            "units": self.minerals.attrs.get("units", {}), "notes": self.notes,
        }

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The profile's tables by sheet name, for a multi-sheet file."""
        return {"data": self.minerals, "stages": self.stages, "suppliers": self.suppliers}


def _top_suppliers(partners: pd.DataFrame, top: int, names: pd.Series,
                   stage: str = "headline") -> pd.DataFrame:
    ranked = partners[partners["share"].notna() & (partners["stage"] == stage)]
    ranked = ranked.sort_values(["mineral", "share", "exporter"], ascending=[True, False, True])
    ranked = ranked.groupby("mineral", sort=False).head(top).rename(columns={"exporter": "supplier"})
    ranked["supplier_name"] = ranked["supplier"].map(names)
    return schema.select("suppliers", ranked.reset_index(drop=True))


def _listed(suppliers: pd.DataFrame) -> pd.Series:
    """mineral -> "CHN 92 %, JPN 4 %" from ranked supplier rows (whole per cents, spaced as
    every share critmin prints: :data:`critmin.numbers.PERCENT`)."""
    label = (suppliers["supplier"] + " "
             + (suppliers["share"] * 100).round(0).astype(int).astype(str) + numbers.PERCENT)
    return label.groupby(suppliers["mineral"]).agg(", ".join)


def own_lists(store: Store, iso3: str) -> list[str]:
    """The critical-mineral lists a country issued (or that apply to it, e.g. the EU's)."""
    lists = store.table("lists")
    members = store.table("group_members")
    eu = set(members.loc[members["group"] == "EU27", "iso3"])
    mine = lists["jurisdiction"].eq(iso3) | (lists["jurisdiction"].eq("EU") & (iso3 in eu))
    return sorted(lists.loc[mine, "list"])


def list_memberships(store: Store) -> pd.Series:
    """mineral -> the lists it is on."""
    entries = store.table("critical_lists").explode("minerals")
    return entries.groupby("minerals")["list"].agg(lambda s: sorted(set(s)))


def profile(country: str, year: int | None = None, top: int = 3, sort: str = "risk",
            show_all: bool = False) -> CountryProfile:
    """A country's minerals in one year.

    Parameters
    ----------
    country : str
        ISO3, ISO2, name, alias or BACI code.
    year : int, optional
        The year; the latest complete year if None.
    top : int
        Suppliers listed per mineral.
    sort : str
        ``risk`` (default: own critical list first, then GeoPolRisk score, reliance and
        import value), ``reliance``, ``china``, ``value`` or ``name``.
    show_all : bool
        Also construction minerals and fuels that are not on the country's own lists.

    Returns
    -------
    CountryProfile
        ``minerals`` (production, imports, exports, reliance or the reason it is withheld,
        top suppliers, China share, GeoPolRisk, the lists each mineral is on, flags),
        ``stages`` (the same per supply-chain stage), ``suppliers`` and ``notes``.

    Examples
    --------
    >>> p = critmin.profile("India", 2022)
    >>> p.minerals.iloc[0]["own_list"], p.lists
    (np.True_, ['india-2023'])
    >>> p.suppliers.query("mineral == 'rare-earths'").iloc[0]["supplier"]
    'CHN'
    """
    store = get_store()
    iso3 = resolve.country(checks.as_name(country, "country"))
    top = checks.as_int(top, "top", minimum=1, maximum=50)
    show_all = checks.as_bool(show_all, "show_all")
    if not isinstance(sort, str) or sort not in SORTS:
        raise InvalidInput(f"unknown sort {sort!r}; give one of {', '.join(SORTS)}",
                           suggestions=nearest(str(sort), SORTS) or list(SORTS))
    year = check_year(store, year)
    names = resolve.country_names()
    rows = cache.load(store, "cube", years=[year], countries=[iso3])
    stages = cache.load(store, "stages", years=[year], countries=[iso3])
    lists = own_lists(store, iso3)
    memberships = list_memberships(store)
    entries = store.table("critical_lists")
    listed = {m for ms in entries.loc[entries["list"].isin(lists), "minerals"] for m in ms}
    minerals = store.table("minerals").set_index("mineral")
    missing = sorted(listed - set(rows["mineral"]))
    if missing:
        rows = pd.concat([rows, placeholder_rows(store, missing, year, iso3)],
                         ignore_index=True)
    if rows.empty:
        raise InvalidInput(
            f"no mineral production or trade recorded for {names[iso3]} ({iso3}) in {year}")
    rows["own_list"] = rows["mineral"].isin(listed)
    rows["lists"] = rows["mineral"].map(memberships).map(
        lambda v: v if isinstance(v, list) else [])
    shown = rows["own_list"] | rows["mineral"].map(minerals["class"]).isin(SHOWN_CLASSES)
    if not show_all:
        rows = rows[shown]
    partners = cache.load(store, "partners", years=[year], countries=[iso3])
    suppliers = _top_suppliers(partners, top, names)
    rows["top_suppliers"] = rows["mineral"].map(_listed(suppliers)).fillna("")
    origins = rows["mineral"].map(_listed(_top_suppliers(partners, top, names, "origin")))
    # where tracing through entrepôts changes nothing, nothing is repeated
    rows["top_origins"] = origins.where(origins != rows["top_suppliers"], "").fillna("")
    reserves = reserves_of(store, countries=[iso3])
    rows["reserves_t"] = rows["mineral"].map(reserves.set_index("mineral")["qty_t"])
    by, ascending = SORTS[sort]
    rows = rows.sort_values(by, ascending=ascending, na_position="last", kind="stable")
    table = schema.select("profile", rows.reset_index(drop=True))
    stage_table = schema.select("stages", stages[stages["mineral"].isin(set(table["mineral"]))]
                                .reset_index(drop=True))
    return CountryProfile(
        country=iso3, name=str(names[iso3]), year=year, minerals=table, stages=stage_table,
        suppliers=suppliers[suppliers["mineral"].isin(set(table["mineral"]))]
        .reset_index(drop=True),
        notes=profile_notes(table, store, year) + (
            [f"Reserves (reserves_t): {reserve_source(reserves)}."] if not reserves.empty
            else []),
        lists=lists, year_note=describe_default(store),
    )


def placeholder_rows(store: Store, minerals: list[str], year: int, iso3: str) -> pd.DataFrame:
    """Rows for listed minerals the cube has nothing on for the country, saying why."""
    links = store.table("product_minerals")
    produced = store.table("production")
    present = set(store.engine().presence([year]).query("n_rows > 0")["hs6"])
    pulled = {e["mineral"]: e["ratio"] for e in store.manifest.get("content_withheld", [])
              if e["year"] == year}
    out = []
    for mineral in minerals:
        codes = sorted(set(links.loc[links["mineral"] == mineral, "hs6"]))
        made = produced[produced["mineral"] == mineral]
        in_year = made[made["year"] == year]
        if mineral in pulled:
            out.append({"year": year, "country": iso3, "mineral": mineral,
                        "reliance_status": "implausible content", "flags": "",
                        "reason": f"the build withheld its flows: world trade of its content "
                                  f"was {pulled[mineral]:.1f}× world production in {year} "
                                  "(bullion or re-traded stocks, not supply; see "
                                  "content_withheld in the data manifest)"})
            continue
        if not codes and made.empty:
            reason = ("not assessable: critmin has no production series and no HS code for it "
                      "in the sources")
        elif not codes:
            reason = "production only: no HS code carries it in the catalog"
        elif not set(codes) & present:
            reason = (f"not assessable from the data: its codes ({', '.join(codes)}) have no "
                      f"rows in {year}; import a BACI release that holds them")
        else:
            reason = f"no trade of its codes ({', '.join(codes)}) recorded for the country"
        if not in_year.empty and iso3 not in set(in_year["country"]):
            reason += "; the country has no recorded production"
        elif in_year.empty and codes:
            reason += f"; no production figure for {year}"
        out.append({"year": year, "country": iso3, "mineral": mineral,
                    "reliance_status": "no data", "reason": reason, "flags": ""})
    return pd.DataFrame(out).astype({"year": "int16"})


def profile_notes(rows: pd.DataFrame, store: Store, year: int) -> list[str]:
    """Plain-language caveats for a profile, grouped: what the data cannot show and why."""
    names = store.table("minerals").set_index("mineral")["name"]
    status = rows["reliance_status"].fillna("").astype(str)
    flags = rows["flags"].fillna("").astype(str)
    label = rows["mineral"].astype(str).map(names)
    groups = [
        ("Reliance withheld: principal traded forms missing from the data (see reason)",
         status == "coverage incomplete"),
        ("Reliance withheld: world trade of the content exceeds what is produced (bullion "
         "re-traded between vaults and refiners, or a code or content factor that cannot be "
         "right)", status == "implausible content"),
        ("Suppliers and reliance withheld: traded only in basket codes shared with other "
         "minerals (see reason)", status == "basket code only"),
        ("Reliance withheld: a source reports domestic output (a figure or one withheld, "
         "\"W\") that the default source lacks (see reason)",
         status == "production in another source"),
        ("Reliance undefined: exports exceed production plus imports (re-exports, stocks or "
         "unrecorded feed)", status.str.startswith("exports exceed supply")),
        ("Not shown as a percentage: a traded product has no content factor",
         status == "not comparable: mixed bases"),
        ("No data for the country this year (see reason)", status == "no data"),
        ("An entrepôt for these minerals (material passes through it: most of its exports "
         "are other countries' material)", flags.str.contains("entrepot")),
        ("Trade known only from partners' reports this year", flags.str.contains("mirror_data")),
    ]
    notes = [f"{title}: {', '.join(label[mask])}." for title, mask in groups if mask.any()]
    origin = rows["china_share_origin"] - rows["china_share"]
    traced = label[(origin > 0.05).fillna(False)]
    if not traced.empty:
        notes.append("China's share rises by more than 5 points once suppliers that are "
                     f"entrepôts are traced to their own sources (china_share_origin): "
                     f"{', '.join(traced)}.")
    if flags.str.contains("latest_year_incomplete").any():
        notes.append(f"{year} is the latest trade year and is incomplete in the source "
                     "(fewer reporters).")
    notes.append("Production is at each mineral's production stage (mine for most; smelter or "
                 "refinery for aluminium and by-product metals); the headline reliance adds "
                 "trade of the primary-supply stages from there on, on the mineral's basis; "
                 "stages lists each stage.")
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
    reserves: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Reserves by country, the newest estimate of the source (see its ``year``)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {
            "mineral": self.mineral, "name": self.name, "basis": self.basis, "year": self.year,
            "producers": records(self.producers), "concentration": records(self.concentration),
            "exporters": records(self.exporters), "flows": records(self.flows),
            "reserves": records(self.reserves), "notes": self.notes,
        }

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The profile's tables by sheet name, for a multi-sheet file."""
        return {"producers": self.producers, "concentration": self.concentration,
                "exporters": self.exporters, "flows": self.flows, "reserves": self.reserves}


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
    rows = cache.load(store, "cube", minerals=[slug])
    if rows.empty:
        raise InvalidInput(f"no production or trade recorded for {info['name']}")
    names = resolve.country_names()
    now = rows[rows["year"] == year]
    producers = _ranked(now[["country", "production_t"]], "production_t")
    producers.insert(1, "name", producers["country"].map(names))
    conc = rows.drop_duplicates("year").sort_values("year").reset_index(drop=True)
    exporters = _ranked(now.rename(columns={"country": "exporter", "exports_basis_t": "qty_basis_t",
                                            "exports_kusd": "value_kusd"})
                        [["exporter", "qty_basis_t", "value_kusd"]], "qty_basis_t", top)
    exporters.insert(1, "name", exporters["exporter"].map(names))
    # one year's rows from the cache file; with no cache, every year's, computed with the
    # cube above (once, not twice). The headline rows only: the stage rows add up to them
    cached = cache.cache_path(store, "partners", "default").exists()
    pairs = cache.load(store, "partners", years=[year] if cached else None, minerals=[slug])
    pairs = pairs[(pairs["year"] == year) & (pairs["stage"] == "headline")]
    pairs = pairs.sort_values(["qty_basis_t", "exporter", "importer"],
                              ascending=[False, True, True]).head(top)
    notes = [f"Quantities are tonnes of {info['basis']} ({info['basis_note']})"]
    measures = conc.dropna(subset=["refining_china_share"]).groupby(
        "refining_measure", sort=False)["year"].agg(lambda y: ", ".join(map(str, y)))
    for measure, years in measures.items():
        notes.append(f"Refining (refining_*) in {years}: {measure}.")
    if measures.empty:
        notes.append("Refining: no source gives refinery output or published shares by "
                     "country for this mineral (processed_exports_* measure exports only).")
    reserves = reserves_of(store, minerals=[slug])
    if not reserves.empty:
        # no share: USGS's world reserves hold an "other countries" remainder not listed here
        reserves = _ranked(reserves, "qty_t").drop(columns="share")
        reserves.insert(1, "name", reserves["country"].map(names))
        notes.append(f"Reserves: {reserve_source(reserves)}.")
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
        reserves=schema.select("mineral_reserves", reserves.reset_index(drop=True)
                               if not reserves.empty else _empty("mineral_reserves")),
    )


def reserves_of(store: Store, minerals: list[str] | None = None,
                countries: list[str] | None = None) -> pd.DataFrame:
    """Reserves by country and mineral: each mineral's newest estimate in the sources
    (country, mineral, qty_t, year, source, note), rows without a tonnage left out."""
    table = store.table("reserves")
    if minerals is not None:
        table = table[table["mineral"].isin(minerals)]
    newest = table.groupby("mineral")["year"].transform("max")
    table = table[(table["year"] == newest) & table["qty_t"].notna()]
    if countries is not None:
        table = table[table["country"].isin(countries)]
    return table[["country", "mineral", "qty_t", "year", "source", "note"]].reset_index(
        drop=True)


def reserve_source(reserves: pd.DataFrame) -> str:
    """The sources and years of reserve rows, for a note."""
    names = {"usgs-mcs2026": "USGS Mineral Commodity Summaries 2026",
             "usgs-mcs2025": "USGS Mineral Commodity Summaries 2025"}
    pairs = reserves[["source", "year"]].drop_duplicates().sort_values(["source", "year"])
    return "; ".join(f"{names.get(str(s), s)} (estimate for {y})"
                     for s, y in zip(pairs["source"], pairs["year"], strict=True))


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in schema.public_columns(table)})
