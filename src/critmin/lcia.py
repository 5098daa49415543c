"""GeoPolRisk characterisation factors as LCIA methods: a plain table, Brightway, openLCA.

A GeoPolRisk characterisation factor (CF, eq. kg Cu per kg) exists per (mineral, importing
country or group, year) and mode (critmin's ``default`` or ``geopolrisk-py``'s); the metrics
cube computes it (:mod:`critmin.metrics.geopolrisk`). This module turns cube rows into

- a table (:func:`cf_table`): one row per factor, with the elementary flow each mineral
  is attached to (``catalog/lcia_flows.csv``: flow name, CAS number, compartment);
- a Brightway method file (:func:`brightway_data`): JSON holding the biosphere flows of a
  ``critmin-minerals`` database and one method per (importer, year, mode), named
  ``("critmin", "GeoPolRisk", importer, year, mode)``; :func:`install_brightway` writes it
  into the current bw2data project;
- an openLCA JSON-LD zip (:func:`openlca_entities`): one ImpactMethod per mode, one
  ImpactCategory per (importer, year) with its ImpactFactors, the Flows, and the Mass flow
  property and its unit group under openLCA's reference ids.

The builders are pure (frames in, plain data out); the writers only serialise. Rows whose
CF is not a finite number (no trade, no price) stay in the table with an empty CF and are
left out of the methods: an LCIA method cannot carry a factor it does not know.

>>> rows = pd.DataFrame({"year": [2023], "country": ["IND"], "mineral": ["lithium"],
...                      "cf": [2.5], "score": [0.1], "hhi": [0.3], "wta": [0.33],
...                      "price_usd_per_kg": [10.2]})
>>> table = cf_table(rows, "default")
>>> table.loc[0, ["method", "flow_name", "cas"]].tolist(), float(table.loc[0, "cf"])
(['critmin|GeoPolRisk|IND|2023|default', 'Lithium', '7439-93-2'], 2.5)
"""

from __future__ import annotations

import json
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from critmin.catalog import load
from critmin.errors import InvalidInput, NotFound

FORMATS = ("csv", "brightway", "openlca")
"""Formats :func:`write_cf` writes."""

FLOW_SETS = ("critmin", "biosphere3")
"""Flows a Brightway method's factors can be keyed on: critmin's own ``critmin-minerals``
database, or the matching flows of ecoinvent's ``biosphere3`` (``catalog/lcia_flows.csv``)."""

BIOSPHERE3 = "biosphere3"
"""Name of the ecoinvent biosphere database in a Brightway project."""

BIOSPHERE = "critmin-minerals"
"""Name of the Brightway biosphere database the minerals' flows are created in."""

METHOD_ROOT = ("critmin", "GeoPolRisk")
"""First two parts of every method name (Brightway tuple, openLCA method name)."""

CF_UNIT = "kg Cu-eq"
"""Unit of the characterised result: a GeoPolRisk CF is in eq. kg Cu per kg of mineral."""

FLOW_UNIT = "kilogram"
"""Unit of every mineral flow (Brightway's spelling; openLCA's is kg)."""

BRIGHTWAY_FORMAT = "critmin-lcia-brightway/1"
"""Version tag of the Brightway method file."""

CF_COLUMNS = ["method", "mode", "year", "country", "mineral", "cf", "cf_unit", "score", "hhi",
              "wta", "price_usd_per_kg", "flow_name", "flow_code", "cas", "compartment",
              "subcompartment", "flow_unit", "biosphere3_name", "biosphere3_code"]
"""Columns of :func:`cf_table`, described in docs/lcia.md."""

MASS_PROPERTY_ID = "93a60a56-a3c8-11da-a746-0800200b9a66"
MASS_UNITS_ID = "93a60a57-a4c8-11da-a746-0800200c9a66"
KG_UNIT_ID = "20aadc24-a391-41cf-b340-3e4529f44bde"
"""openLCA reference data ids: flow property Mass, unit group Units of mass, unit kg. The
zip refers to them so that openLCA links its factors to the database's own mass."""

_NAMESPACE = uuid.UUID("6f1c2d8e-4b0a-5c3e-9d7f-2a1b3c4d5e6f")
"""Namespace of the zip's ids: the same factors give the same ids in every export, so a
re-import updates rather than duplicates."""


def load_flows() -> pd.DataFrame:
    """``catalog/lcia_flows.csv``: the elementary flow each mineral's CF is attached to."""
    return load("lcia_flows").fillna({"cas": "", "biosphere3_name": "",
                                      "biosphere3_code": "", "biosphere3_source": ""})


def mode_name(compat: str | None) -> str:
    """``default`` or ``geopolrisk-py``, the mode part of a method's name."""
    if compat is None or compat == "default":
        return "default"
    if compat == "geopolrisk-py":
        return compat
    raise InvalidInput(f"unknown compat mode {compat!r}", suggestions=["geopolrisk-py"])


def cf_table(rows: pd.DataFrame, mode: str, flows: pd.DataFrame | None = None
             ) -> pd.DataFrame:
    """One row per characterisation factor, with its elementary flow.

    Parameters
    ----------
    rows : DataFrame
        Cube rows: year, country, mineral, cf, score, hhi, wta, price_usd_per_kg.
    mode : str
        ``default`` or ``geopolrisk-py``: the cube's mode, part of the method's name.
    flows : DataFrame, optional
        The flow mapping (default: ``catalog/lcia_flows.csv``). A mineral missing from it
        gets a flow named after the mineral, without CAS number.

    Returns
    -------
    DataFrame
        :data:`CF_COLUMNS`, sorted by mode, year, country, mineral.
    """
    flows = load_flows() if flows is None else flows
    out = rows[["year", "country", "mineral", "cf", "score", "hhi", "wta",
                "price_usd_per_kg"]].merge(flows, on="mineral", how="left")
    named = out["mineral"].str.replace("-", " ").str.capitalize()
    out["flow_name"] = out["flow_name"].fillna(named)
    out["cas"] = out["cas"].fillna("")
    for column in ("biosphere3_name", "biosphere3_code"):
        out[column] = out[column].fillna("") if column in out else ""
    out["compartment"] = out["compartment"].fillna("natural resource")
    out["subcompartment"] = out["subcompartment"].fillna("in ground")
    out["flow_code"] = out["mineral"]
    out["mode"] = mode
    out["year"] = out["year"].astype("int64")
    out["method"] = (f"{METHOD_ROOT[0]}|{METHOD_ROOT[1]}|" + out["country"].astype(str) + "|"
                     + out["year"].astype(str) + "|" + mode)
    out["cf"] = out["cf"].astype("float64").where(np.isfinite(out["cf"].astype("float64")))
    out["cf_unit"] = f"{CF_UNIT}/kg"
    out["flow_unit"] = FLOW_UNIT
    out = out.sort_values(["year", "country", "mineral"], kind="stable")
    return out[CF_COLUMNS].reset_index(drop=True)


def characterisation_factors(countries: Sequence[str] | str | None = None,
                             minerals: Sequence[str] | str | None = None,
                             years: Sequence[int] | int | None = None,
                             compat: str | None = None) -> pd.DataFrame:
    """GeoPolRisk CFs per mineral, importer and year from the metrics cube, as :func:`cf_table`.

    A group named among ``countries`` (EU27, G7, BRICS-CHN…) is one importer; its members
    are not listed unless named too. In the default mode it is as in :func:`critmin.risk`
    with ``as_group``: trade between its members is left out and its production is summed.
    In the ``geopolrisk-py`` mode it follows that library's region rule
    (:func:`critmin.compute.compat_groups`): the members' imports from each other count,
    at risk 0, in the quantity and the price.

    Parameters
    ----------
    countries : str or list of str, optional
        Importing countries and groups; every country if None.
    minerals : str or list of str, optional
        Minerals; all if None.
    years : int or list of int, optional
        Years; all if None.
    compat : str, optional
        ``"geopolrisk-py"`` for that library's factors.

    Returns
    -------
    pandas.DataFrame
        :data:`CF_COLUMNS` (see :func:`cf_table` and docs/lcia.md).

    Examples
    --------
    >>> cf = characterisation_factors("EU27", "aluminium", 2022)
    >>> cf.loc[0, ["country", "mineral", "flow_name"]].tolist()
    ['EU27', 'aluminium', 'Aluminium']
    >>> bool(cf.loc[0, "cf"] > 0)
    True
    """
    from critmin import checks, compute, query, resolve

    mode = mode_name(compute.mode_of(compat))
    named = checks.as_names(countries, "countries")
    groups = [n for n in named or [] if resolve.group_members(n)]
    if groups and mode != "default":
        return cf_table(_compat_frame(named or [], groups, minerals, years), mode)
    frame = query.risk(named, minerals, years, compat=None if mode == "default" else mode,
                       as_group=bool(groups))
    if named is not None:
        singles = [n for n in named if n not in groups]
        keep = set(query.resolve_countries(singles) or []) if singles else set()
        span = sorted(set(frame["year"].astype(int))) or [0]
        keep |= {query.group_membership(g, span)[0] for g in groups}
        frame = frame[frame["country"].isin(keep)]
    return cf_table(frame, mode)


def _compat_frame(named: list[str], groups: list[str],
                  minerals: Sequence[str] | str | None,
                  years: Sequence[int] | int | None) -> pd.DataFrame:
    """geopolrisk-py mode rows: the cube's for the countries named, the region rule's for
    the groups."""
    from critmin import compute, query
    from critmin.store import get_store

    singles = [n for n in named if n not in groups]
    parts = [query.risk(singles, minerals, years, compat="geopolrisk-py")] if singles else []
    year_list, mineral_list = query.resolve_years(years), query.resolve_minerals(minerals)
    span = year_list or sorted(int(y) for y in get_store().table(
        "gpr_production")["year"].unique())
    for name in groups:
        label, members = query.group_membership(name, span)
        members = members.assign(group=label)
        parts.append(compute.compat_groups(get_store(), members, span, mineral_list))
    columns = ["year", "country", "mineral", "cf", "score", "hhi", "wta", "price_usd_per_kg"]
    return pd.concat([p[columns] for p in parts], ignore_index=True)


def _methods(table: pd.DataFrame) -> list[tuple[tuple[str, ...], pd.DataFrame]]:
    usable = table[table["cf"].notna()]
    out: list[tuple[tuple[str, ...], pd.DataFrame]] = []
    for (mode, year, country), part in usable.groupby(["mode", "year", "country"], sort=True):
        name = (*METHOD_ROOT, str(country), str(year), str(mode))
        out.append((name, part))
    return out


def brightway_data(table: pd.DataFrame, flows: str = "critmin") -> dict[str, Any]:
    """The Brightway method file's content: biosphere flows and one method per (importer,
    year, mode), each factor keyed by its flow's (database, code).

    ``flows="critmin"`` keys the factors on the ``critmin-minerals`` flows the file creates;
    ``flows="biosphere3"`` on the matching flows of an existing ``biosphere3`` database
    (``biosphere3_code``), leaving out the minerals without one (rare earths).

    Examples
    --------
    >>> rows = pd.DataFrame({"year": [2023], "country": ["IND"], "mineral": ["lithium"],
    ...                      "cf": [2.5], "score": [0.1], "hhi": [0.3], "wta": [0.33],
    ...                      "price_usd_per_kg": [10.2]})
    >>> data = brightway_data(cf_table(rows, "default"))
    >>> data["methods"][0]["name"], data["methods"][0]["cfs"]
    (['critmin', 'GeoPolRisk', 'IND', '2023', 'default'], [[['critmin-minerals', 'lithium'], 2.5]])
    """
    if flows not in FLOW_SETS:
        raise InvalidInput(f"unknown flows {flows!r}", suggestions=list(FLOW_SETS))
    database = BIOSPHERE
    if flows == BIOSPHERE3:
        database = BIOSPHERE3
        table = table[table["biosphere3_code"].fillna("") != ""].assign(
            flow_code=lambda t: t["biosphere3_code"], flow_name=lambda t: t["biosphere3_name"])
    unique = table.drop_duplicates("flow_code").sort_values("flow_code")
    biosphere = [{"code": r.flow_code, "name": r.flow_name, "CAS number": r.cas or None,
                  "categories": [r.compartment, r.subcompartment], "unit": FLOW_UNIT,
                  "type": "natural resource"} for r in unique.itertuples()]
    methods = []
    for name, part in _methods(table):
        methods.append({
            "name": list(name), "unit": CF_UNIT,
            "description": (f"GeoPolRisk characterisation factors (eq. kg Cu per kg of mineral) "
                            f"for imports into {name[2]} in {name[3]}, critmin {name[4]} mode"),
            "cfs": [[[database, str(code)], float(cf)]
                    for code, cf in zip(part["flow_code"], part["cf"], strict=True)]})
    # biosphere3 is the project's own database: the file names its flows, never writes them
    return {"format": BRIGHTWAY_FORMAT,
            "biosphere": {"name": database, "flows": biosphere, "existing": flows == BIOSPHERE3},
            "methods": methods}


def install_brightway(path: Path | str) -> list[tuple[str, ...]]:
    """Write a Brightway method file (:func:`brightway_data`) into the current bw2data
    project: the ``critmin-minerals`` biosphere database (flows added or updated) and every
    method (replaced when it exists). Needs ``bw2data`` (4.x) installed. A file keyed on
    ``biosphere3`` (``flows="biosphere3"``) needs that database in the project, with every
    flow the file names; its flows are checked, not written.

    Returns
    -------
    list of tuple
        The names of the methods written.
    """
    try:
        import bw2data
    except ImportError:
        raise InvalidInput("installing a Brightway method needs bw2data; "
                           "pip install bw2data") from None
    data = json.loads(Path(path).read_text("utf-8"))
    if data.get("format") != BRIGHTWAY_FORMAT:
        raise InvalidInput(f"{path} is not a critmin Brightway method file "
                           f"(format {data.get('format')!r}, expected {BRIGHTWAY_FORMAT!r})")
    if data["biosphere"].get("existing"):
        _check_existing(bw2data, data["biosphere"])
    else:
        _write_biosphere(bw2data, data["biosphere"])
    names = []
    for method in data["methods"]:
        name = tuple(method["name"])
        handle = bw2data.Method(name)
        if name in bw2data.methods:
            handle.deregister()
        handle.register(unit=method["unit"], description=method["description"])
        handle.write([(tuple(key), value) for key, value in method["cfs"]])
        names.append(name)
    return names


def _check_existing(bw2data: Any, biosphere: dict[str, Any]) -> None:
    name = biosphere["name"]
    if name not in bw2data.databases:
        raise InvalidInput(f"the project {bw2data.projects.current!r} has no {name!r} "
                           "database; set it up first (bw2io.bw2setup() or an ecoinvent "
                           "import), or write the factors with --flows critmin")
    codes = {str(a["code"]) for a in bw2data.Database(name)}
    missing = [f"{f['name']} ({f['code']})" for f in biosphere["flows"] if f["code"] not in codes]
    if missing:
        raise InvalidInput(f"{len(missing)} flows of the method file are not in the project's "
                           f"{name!r} database: {', '.join(missing[:5])}; its ecoinvent version "
                           "may differ from the one the mapping was read from")


def _write_biosphere(bw2data: Any, biosphere: dict[str, Any]) -> None:
    name = biosphere["name"]
    database = bw2data.Database(name)
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    if name in bw2data.databases:
        existing = {(a["database"], a["code"]): dict(a) for a in database}
    for flow in biosphere["flows"]:
        existing[(name, flow["code"])] = {
            "name": flow["name"], "CAS number": flow["CAS number"],
            "categories": tuple(flow["categories"]), "unit": flow["unit"],
            "type": flow["type"]}
    database.write({key: {k: v for k, v in value.items() if k not in ("database", "code", "id")}
                    for key, value in existing.items()})


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


def _ref(kind: str, uid: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"@type": kind, "@id": uid, "name": name, **extra}


def openlca_entities(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The openLCA JSON-LD entities, keyed by their path in the zip (``flows/<id>.json``…).

    One ImpactMethod per mode (``critmin GeoPolRisk (default)``), one ImpactCategory per
    (importer, year) with one ImpactFactor per mineral, the minerals' elementary Flows, and
    the Mass flow property and Units of mass unit group under openLCA's reference ids.

    Examples
    --------
    >>> rows = pd.DataFrame({"year": [2023], "country": ["IND"], "mineral": ["lithium"],
    ...                      "cf": [2.5], "score": [0.1], "hhi": [0.3], "wta": [0.33],
    ...                      "price_usd_per_kg": [10.2]})
    >>> entities = openlca_entities(cf_table(rows, "default"))
    >>> [e["impactFactors"][0]["value"] for e in entities.values()
    ...  if e["@type"] == "ImpactCategory"]
    [2.5]
    """
    version = "01.00.000"
    mass = _ref("FlowProperty", MASS_PROPERTY_ID, "Mass", refUnit="kg")
    kg = _ref("Unit", KG_UNIT_ID, "kg")
    units = {"@type": "UnitGroup", "@id": MASS_UNITS_ID, "name": "Units of mass",
             "version": version, "defaultFlowProperty": mass,
             "units": [{"@type": "Unit", "@id": KG_UNIT_ID, "name": "kg",
                        "conversionFactor": 1.0, "isRefUnit": True}]}
    prop = {"@type": "FlowProperty", "@id": MASS_PROPERTY_ID, "name": "Mass",
            "version": version, "flowPropertyType": "PHYSICAL_QUANTITY",
            "unitGroup": _ref("UnitGroup", MASS_UNITS_ID, "Units of mass")}
    out: dict[str, dict[str, Any]] = {f"unit_groups/{MASS_UNITS_ID}.json": units,
                                      f"flow_properties/{MASS_PROPERTY_ID}.json": prop}
    flow_refs: dict[str, dict[str, Any]] = {}
    for r in table.drop_duplicates("flow_code").itertuples():
        uid = _uid("flow", str(r.flow_code))
        category = f"Elementary flows/{str(r.compartment).capitalize()}/{r.subcompartment}"
        flow = {"@type": "Flow", "@id": uid, "name": r.flow_name, "version": version,
                "flowType": "ELEMENTARY_FLOW", "category": category,
                "description": f"critmin mineral '{r.flow_code}', per kg as traded in its "
                               "HS codes (the basis of its GeoPolRisk factor)",
                "flowProperties": [{"@type": "FlowPropertyFactor", "conversionFactor": 1.0,
                                    "isRefFlowProperty": True, "flowProperty": mass}]}
        if r.cas:
            flow["cas"] = r.cas
        out[f"flows/{uid}.json"] = flow
        flow_refs[str(r.flow_code)] = _ref("Flow", uid, str(r.flow_name), category=category,
                                           flowType="ELEMENTARY_FLOW", refUnit="kg")
    categories: dict[str, list[dict[str, Any]]] = {}
    for name, part in _methods(table):
        uid = _uid("category", *name)
        label = f"GeoPolRisk {name[2]} {name[3]}"
        out[f"lcia_categories/{uid}.json"] = {
            "@type": "ImpactCategory", "@id": uid, "name": label, "version": version,
            "refUnit": CF_UNIT, "category": f"critmin GeoPolRisk ({name[4]})",
            "description": f"GeoPolRisk of imports into {name[2]} in {name[3]} "
                           f"(eq. kg Cu per kg of mineral), critmin {name[4]} mode",
            "impactFactors": [{"@type": "ImpactFactor", "flow": flow_refs[str(code)],
                               "flowProperty": mass, "unit": kg, "value": float(cf)}
                              for code, cf in zip(part["flow_code"], part["cf"], strict=True)]}
        categories.setdefault(name[4], []).append(
            _ref("ImpactCategory", uid, label, refUnit=CF_UNIT))
    for mode, refs in sorted(categories.items()):
        uid = _uid("method", mode)
        out[f"lcia_methods/{uid}.json"] = {
            "@type": "ImpactMethod", "@id": uid, "version": version,
            "name": f"{METHOD_ROOT[0]} {METHOD_ROOT[1]} ({mode})",
            "description": "GeoPolRisk characterisation factors per importer and year, "
                           "computed by critmin from BACI trade, World Mining Data and WGI",
            "impactCategories": refs}
    return out


def format_of(path: Path | str, fmt: str | None = None) -> str:
    """The format to write: ``fmt`` when given, else by extension (``.zip`` openLCA,
    ``.json`` Brightway, anything else CSV).

    >>> format_of("cf.zip"), format_of("cf.json"), format_of("cf.txt"), format_of("x", "csv")
    ('openlca', 'brightway', 'csv', 'csv')
    """
    if fmt is None:
        suffix = Path(path).suffix.lower()
        return {".zip": "openlca", ".json": "brightway"}.get(suffix, "csv")
    if fmt not in FORMATS:
        raise NotFound(f"unknown format {fmt!r}", suggestions=list(FORMATS))
    return fmt


def check_flows(fmt: str, flows: str) -> None:
    """Raise :class:`InvalidInput` unless ``flows`` is one of :data:`FLOW_SETS` that ``fmt``
    can carry (biosphere3 keys exist in Brightway methods only).

    >>> check_flows("brightway", "biosphere3")
    """
    if flows not in FLOW_SETS:
        raise InvalidInput(f"unknown flows {flows!r}", suggestions=list(FLOW_SETS))
    if flows != "critmin" and fmt != "brightway":
        raise InvalidInput(f"flows {flows!r} apply to the Brightway format only, not {fmt}",
                           suggestions=["brightway"])


def write_cf(table: pd.DataFrame, path: Path | str, fmt: str | None = None,
             force: bool = False, flows: str = "critmin") -> Path:
    """Write :func:`cf_table`'s rows as ``csv``, a Brightway method file (``brightway``,
    JSON) or an openLCA JSON-LD zip (``openlca``); ``fmt`` None: by extension. An existing
    file is replaced, in one rename, only with ``force``. ``flows="biosphere3"`` keys a
    Brightway method on ecoinvent's biosphere3 flows (:func:`brightway_data`)."""
    from critmin.files import atomic_write
    from critmin.present import check_destination

    fmt = format_of(path, fmt)
    check_flows(fmt, flows)
    path = check_destination(Path(path), table=False, force=force)
    with atomic_write(path) as tmp:
        if fmt == "csv":
            table.to_csv(tmp, index=False)
        elif fmt == "brightway":
            tmp.write_text(json.dumps(brightway_data(table, flows), indent=1) + "\n", "utf-8")
        else:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("olca-schema.json", json.dumps({"version": 2}))
                for name, entity in sorted(openlca_entities(table).items()):
                    archive.writestr(name, json.dumps(entity, indent=1))
    return path
