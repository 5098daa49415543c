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
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

import pandas as pd

from critmin.checks import visible
from critmin.errors import Ambiguous, NotFound, nearest
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

    A group name (PGE) raises :class:`~critmin.errors.Ambiguous` with its members.
    """
    visible(str(value).strip(), "mineral")
    members = mineral_group(value)
    if members:
        raise Ambiguous(f"{value!r} is a group of minerals",
                        suggestions=[_mineral_index(get_store().fingerprint).labels[m]
                                     for m in members])
    return _mineral_index(get_store().fingerprint).resolve(value, "mineral")


@cache
def _group_index(fingerprint: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    members = get_store().table("group_members").sort_values(["group", "iso3"])
    for group, iso3 in zip(members["group"], members["iso3"], strict=True):
        found = groups.setdefault(key(group), [])
        if iso3 not in found:
            found.append(iso3)
    return groups


def group_members(value: str) -> list[str] | None:
    """ISO3 members of a country group (EU27, EU, G7, G20, BRICS, Quad, OECD), members in
    any year, or None."""
    visible(str(value).strip(), "country group")
    return _group_index(get_store().fingerprint).get(key(str(value)))


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
