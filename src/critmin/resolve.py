"""Name resolution used everywhere: countries and minerals by code, name or alias.

One index per kind, built by :func:`country_index` / :func:`mineral_index` from the
catalog tables; the snapshot build uses the same index to match source names. The country
index is also the one ISO3 -> name lookup (:func:`country_names`) every result uses.

>>> from critmin.resolve import country, country_names, mineral
>>> country("South Korea"), country("usa"), mineral("REE"), country_names()["IND"]
('KOR', 'USA', 'rare-earths', 'India')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

import pandas as pd

from critmin.catalog import load as load_catalog
from critmin.checks import visible
from critmin.errors import Ambiguous, InvalidInput, NotFound, nearest
from critmin.store import get_store

AMBIGUOUS_COUNTRY_NAMES = {
    "korea": ("KOR", "PRK"),
    "congo": ("COD", "COG"),
    "virgin islands": ("VGB", "VIR"),
}
"""Short names a user may mean for either country: resolution asks instead of choosing.
(Source data that writes them is matched by the build with the plain keys.)"""


def key(text: str) -> str:
    """Case-, accent- and punctuation-insensitive lookup key ("Türkiye" == "turkiye")."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", " ", plain.casefold()).strip()


@dataclass(frozen=True)
class Index:
    """Lookup keys -> canonical id, names and labels (shown in suggestions) by id, and
    ambiguous keys."""

    keys: dict[str, str]
    labels: dict[str, str]
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: str, kind: str) -> str:
        """The id ``value`` names; NotFound with the nearest choices, or Ambiguous; a name
        with an invisible character (zero-width space, bidirectional control) is refused,
        the character shown."""
        text = visible(str(value).strip(), kind)
        k = key(text)
        if k in self.ambiguous:
            raise Ambiguous(f"{kind} {text!r} is ambiguous",
                            suggestions=[self.labels[i] for i in self.ambiguous[k]])
        found = self.keys.get(k)
        if found is not None:
            return found
        ids: list[str] = []
        for near in nearest(k, self.keys, n=8, cutoff=0.7):
            if self.keys[near] not in ids:
                ids.append(self.keys[near])
        raise NotFound(f"unknown {kind} {text!r}", suggestions=[self.labels[i] for i in ids[:3]])

    def lookup(self, values: pd.Series) -> pd.Series:
        """Ids of many source names at once (NaN where unknown), for readers."""
        return values.astype(str).map(key).map(self.keys)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", frame.to_dict("records"))


def country_index(countries: pd.DataFrame) -> Index:
    """The country index of a ``countries`` table: ISO3, names, ISO2, aliases, ISO numeric
    and BACI codes. Names and ISO3 codes win over aliases, so an alias never shadows
    another country's name."""
    keys: dict[str, str] = {}
    names: dict[str, str] = {}
    labels: dict[str, str] = {}
    rows = _records(countries)
    for row in rows:
        names[row["iso3"]] = row["name"]
        labels[row["iso3"]] = f"{row['name']} ({row['iso3']})"
        for text in (row["iso3"], row["name"]):
            keys.setdefault(key(text), row["iso3"])
    for row in rows:
        for text in [row["iso2"], *list(row["aliases"])]:
            if text:
                keys.setdefault(key(text), row["iso3"])
        for code in (row["iso_numeric"], row["baci_code"]):
            if not pd.isna(code):
                keys.setdefault(str(int(code)), row["iso3"])
    ambiguous: dict[str, tuple[str, ...]] = {
        k: ids for k, ids in AMBIGUOUS_COUNTRY_NAMES.items() if all(i in labels for i in ids)}
    return Index(keys, labels, ambiguous, names)


def mineral_index(minerals: pd.DataFrame) -> Index:
    """The mineral index of a ``minerals`` table: slugs, names, source table names, aliases."""
    keys: dict[str, str] = {}
    labels: dict[str, str] = {}
    rows = _records(minerals)
    for row in rows:
        labels[row["mineral"]] = f"{row['name']} ({row['mineral']})"
        for text in (row["mineral"], row["name"], row["wmd_table"]):
            if isinstance(text, str) and text:
                keys.setdefault(key(text), row["mineral"])
    for row in rows:
        for text in row["aliases"]:
            keys.setdefault(key(text), row["mineral"])
    return Index(keys, labels)


@cache
def _country_index(fingerprint: str) -> Index:
    return country_index(get_store().table("countries"))


@cache
def _mineral_index(fingerprint: str) -> Index:
    return mineral_index(get_store().table("minerals"))


def country_names() -> pd.Series:
    """Country names by ISO3 code, indexed by ``iso3``: the one lookup every result uses
    (the caller's own copy).

    >>> country_names()["CHN"]
    'China'
    """
    names = _country_index(get_store().fingerprint).names
    return pd.Series(names, name="name", dtype=object).rename_axis("iso3")


def country(value: str) -> str:
    """ISO3 of a country given by ISO3, ISO2, ISO numeric or BACI code, name or alias.

    Raises :class:`~critmin.errors.NotFound` with the nearest valid choices, or
    :class:`~critmin.errors.Ambiguous` with the candidates.
    """
    return _country_index(get_store().fingerprint).resolve(value, "country")


def mineral(value: str) -> str:
    """Slug of a mineral given by slug, name or alias (e.g. "REE" -> "rare-earths").

    A group name (PGE) raises :class:`~critmin.errors.Ambiguous` with its members; a
    product name (magnets) :class:`~critmin.errors.InvalidInput` naming its mineral
    (:func:`mineral_stage` resolves it with its stage).
    """
    visible(str(value).strip(), "mineral")
    members = mineral_group(value)
    if members:
        raise Ambiguous(f"{value!r} is a group of minerals",
                        suggestions=[_mineral_index(get_store().fingerprint).labels[m]
                                     for m in members])
    found = product(value)
    if found is not None:
        raise InvalidInput(f"{str(value).strip()!r} is {found[0]} at the {found[1]} stage: "
                           f"here give the mineral ({found[0]}); commands with a stage "
                           "(restrict, pact, optimise, stages) take the product name",
                           suggestions=[found[0]])
    return _mineral_index(get_store().fingerprint).resolve(value, "mineral")


@cache
def _product_names() -> dict[str, tuple[str, str]]:
    table = load_catalog("product_names")
    return {key(n): (m, s) for n, m, s in zip(table["name"], table["mineral"], table["stage"],
                                             strict=True)}


def product(value: str) -> tuple[str, str] | None:
    """(mineral, stage) of a product name from ``catalog/product_names.csv``, or None.

    >>> product("NdFeB magnets"), product("lithium carbonate"), product("lithium")
    (('rare-earths', 'product'), ('lithium', 'intermediate'), None)
    """
    return _product_names().get(key(visible(str(value).strip(), "mineral")))


def mineral_stage(value: str, stage: str | None = None) -> tuple[str, str | None]:
    """(slug, stage) of a mineral or product name: a product ("magnets", "spodumene",
    "lithium carbonate") gives its mineral and stage; ``stage`` is kept when given, and a
    stage other than the product's is refused.

    >>> mineral_stage("magnets"), mineral_stage("lithium", "ore")
    (('rare-earths', 'product'), ('lithium', 'ore'))
    """
    found = product(value)
    if found is None:
        return mineral(value), stage
    slug, own = found
    if stage is not None and str(stage).strip() != own:
        raise InvalidInput(f"{str(value).strip()!r} is {slug} at the {own} stage, not the "
                           f"{str(stage).strip()} stage", suggestions=[own])
    return slug, own


GROUP_ALIASES = {
    "european union": "EU27", "eu 27": "EU27", "group of seven": "G7", "group of 7": "G7",
    "g 7": "G7", "group of twenty": "G20", "group of 20": "G20", "g 20": "G20",
    "organisation for economic co operation and development": "OECD",
    "organization for economic co operation and development": "OECD",
    "organisation for economic cooperation and development": "OECD",
    "organization for economic cooperation and development": "OECD",
    "quadrilateral security dialogue": "Quad",
}
"""Other names of catalog groups (lookup keys -> group). "EU" stays the catalog's own group:
the Union's membership in each year (with the United Kingdom to 2020), the same as EU27's
from 2020 on."""


@cache
def _group_names(fingerprint: str) -> dict[str, str]:
    names = {key(g): g for g in sorted(set(get_store().table("group_members")["group"]))}
    for alias, group in GROUP_ALIASES.items():
        if group in names.values():
            names.setdefault(alias, group)
    return names


def group_name(value: str) -> str | None:
    """The catalog name of a country group given by name or alias ("European Union" ->
    "EU27"), or None."""
    return _group_names(get_store().fingerprint).get(key(str(value)))


@dataclass(frozen=True)
class GroupExpression:
    """A group made of groups and countries, added and taken away left to right
    (``BRICS-CHN``, ``EU27+GBR``), or named inline (``Quad=USA+JPN+IND+AUS``)."""

    label: str
    """The group's name in results: the name given inline, else the expression written with
    catalog group names and ISO3 codes."""
    terms: tuple[tuple[str, str, bool], ...]
    """(operator "+" or "-", catalog group name or ISO3, True for a group), in order."""


def _split_terms(text: str) -> list[str]:
    """Operands and operators alternately; a hyphen or plus inside a name stays a separator
    here, joined again by :func:`_group_terms` when the joined text is a name."""
    return [part.strip() for part in re.split(r"([+-])", text)]


def _exact(text: str) -> tuple[str, bool] | None:
    """(group name, True) or (ISO3, False) of text naming exactly one, else None (also when
    a name is missing around a + or -)."""
    if not all(key(part) for part in _split_terms(text)[::2]):
        return None
    group = group_name(text)
    if group is not None:
        return group, True
    index = _country_index(get_store().fingerprint)
    k = key(text)
    return None if k in index.ambiguous or k not in index.keys else (index.keys[k], False)


def _operand(text: str, whole: str) -> tuple[str, bool]:
    """An operand that is not a name by itself: refused with the nearest countries and
    groups."""
    if not key(text):
        raise InvalidInput(f"country group {whole!r}: a name is missing around an operator "
                           "(write e.g. BRICS-CHN or EU27+GBR)")
    try:
        return country(text), False
    except NotFound as err:
        names = _group_names(get_store().fingerprint)
        index = _country_index(get_store().fingerprint)
        near = [names[g] for g in nearest(key(text), names, n=2, cutoff=0.7)]
        if key(whole) != key(text):  # "Guinea-Bisau" is a misspelt name, not an expression
            near = [index.labels[index.keys[k]]
                    for k in nearest(key(whole), index.keys, n=1, cutoff=0.85)] + near
        raise NotFound(f"unknown country or group {text!r} in {whole!r}",
                       suggestions=list(dict.fromkeys(near + list(err.suggestions)))[:4]
                       ) from None


def _group_terms(text: str, whole: str) -> list[tuple[str, str, bool]]:
    parts = _split_terms(text)
    terms: list[tuple[str, str, bool]] = []
    i, op = 0, "+"
    if parts[0] == "" and len(parts) > 1:
        raise InvalidInput(f"country group {whole!r} starts with an operator; start with a "
                           "group or a country")
    while i < len(parts):
        found = None
        for j in range(len(parts) - 1, i, -2):
            found = _exact("".join(parts[i:j + 1]))
            if found is not None:
                break
        else:
            j = i
            found = _exact(parts[i]) or _operand(parts[i], whole)
        terms.append((op, *found))
        if j + 1 < len(parts):
            op = parts[j + 1]
        i = j + 2
    return terms


def group_expression(value: str) -> GroupExpression | None:
    """The group ``value`` names: a catalog group, an alias of one, or groups and countries
    added and taken away left to right, optionally named (``Name=...``); None for one
    country or an unknown plain name (left to :func:`country`'s error).

    Raises :class:`~critmin.errors.NotFound` for an unknown part, with the nearest choices,
    and :class:`~critmin.errors.InvalidInput` for a malformed expression or one that leaves
    no country.

    >>> group_expression("brics - china").label, group_expression("EU").terms
    ('BRICS-CHN', (('+', 'EU', True),))
    """
    text = visible(str(value).strip(), "country group")
    return _group_expression(get_store().fingerprint, text)


@cache
def _group_expression(fingerprint: str, text: str) -> GroupExpression | None:
    label, named, body = text.partition("=")
    if not named:
        label, body = "", text
        whole = _exact(text)
        if whole is not None:
            return GroupExpression(whole[0], (("+", *whole),)) if whole[1] else None
        if not re.search(r"[+-]", text):
            return None
    label = label.strip()
    if named:
        if not key(label) or re.search(r"[+-]", label):
            raise InvalidInput(f"country group {text!r}: give a name before '=' without "
                               "+ or - (e.g. Quad=USA+JPN+IND+AUS)")
        if (found := _exact(label)) is not None and not found[1]:
            raise InvalidInput(f"country group {text!r}: {label!r} is a country's name; "
                               "name the group otherwise")
        if not body.strip():
            raise InvalidInput(f"country group {text!r}: give its members after '='")
        if "," in body and _exact(body.strip()) is None:  # Quad=USA,JPN,IND,AUS lists members
            body = body.replace(",", "+")
    terms = tuple(_group_terms(body.strip(), text))
    expression = GroupExpression(
        label or "".join(t[0] + t[1] for t in terms)[1:], terms)
    if not _any_year(expression):
        raise InvalidInput(f"country group {text!r} has no member in any year")
    return expression


def members_by_year(expression: GroupExpression, years: Sequence[int]) -> pd.DataFrame:
    """Members (``year``, ``iso3``) of a group expression in each year, terms applied left
    to right."""
    table = get_store().table("group_members")
    grid = pd.DataFrame({"year": sorted({int(y) for y in years})}, dtype="int64")
    out = pd.DataFrame({"year": pd.Series(dtype="int64"), "iso3": pd.Series(dtype=object)})
    for op, name, is_group in expression.terms:
        if is_group:
            rows = table[table["group"] == name]
            last = rows["to_year"].astype("Float64").fillna(9999)
            part = rows.assign(last=last).merge(grid, how="cross")
            part = part[(part["year"] >= part["from_year"]) & (part["year"] <= part["last"])]
            part = part[["year", "iso3"]].astype({"year": "int64", "iso3": object})
        else:
            part = grid.assign(iso3=name)
        if op == "+":
            out = pd.concat([out, part], ignore_index=True).drop_duplicates()
        else:
            hit = out.merge(part.assign(_drop=True), how="left", on=["year", "iso3"])["_drop"]
            out = out[hit.isna().to_numpy()]
    return out.sort_values(["year", "iso3"]).reset_index(drop=True)


def _any_year(expression: GroupExpression) -> list[str]:
    """Members in any year: membership changes only at the catalog's dates, so the years
    where it may change stand for all."""
    table = get_store().table("group_members")
    rows = table[table["group"].isin({n for _op, n, g in expression.terms if g})]
    starts = set(rows["from_year"].dropna().astype(int))
    ends = {int(y) + 1 for y in rows["to_year"].dropna()}
    years = starts | ends | {min(starts | {2000}) - 1}
    return sorted(set(members_by_year(expression, sorted(years))["iso3"]))


def group_members(value: str) -> list[str] | None:
    """ISO3 members of a country group (EU27, EU, G7, G20, BRICS, Quad, OECD, an alias such
    as "European Union", or an expression such as ``BRICS-CHN``), members in any year, or
    None for a country.

    >>> "CHN" in group_members("BRICS"), "CHN" in group_members("BRICS-CHN")
    (True, False)
    """
    text = visible(str(value).strip(), "country group")
    members = _group_members(get_store().fingerprint, text)
    return None if members is None else list(members)


@cache
def _group_members(fingerprint: str, text: str) -> tuple[str, ...] | None:
    expression = _group_expression(fingerprint, text)
    return None if expression is None else tuple(_any_year(expression))


@cache
def _mineral_groups(fingerprint: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for row in _records(get_store().table("minerals")):
        for group in row["groups"]:
            groups.setdefault(key(group), []).append(row["mineral"])
    return groups


def mineral_group(value: str) -> list[str] | None:
    """Slugs of a mineral group (PGE, PGM), or None."""
    visible(str(value).strip(), "mineral group")
    return _mineral_groups(get_store().fingerprint).get(key(str(value)))
