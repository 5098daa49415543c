"""Name resolution used everywhere: countries and minerals by code, name or alias.

>>> from critmin.resolve import country, mineral
>>> country("South Korea"), country("usa"), mineral("REE")
('KOR', 'USA', 'rare-earths')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import pandas as pd

from critmin.errors import NotFound, nearest
from critmin.store import get_store


def _key(text: str) -> str:
    """Case-, accent- and punctuation-insensitive lookup key ("Türkiye" == "turkiye")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", " ", plain.casefold()).strip()


@dataclass(frozen=True)
class Index:
    """Lookup keys -> canonical id, and the labels shown in suggestions."""

    keys: dict[str, str]
    labels: dict[str, str]

    def resolve(self, value: str, kind: str) -> str:
        text = str(value).strip()
        found = self.keys.get(_key(text))
        if found is not None:
            return found
        ids: list[str] = []
        for k in nearest(_key(text), self.keys, n=8, cutoff=0.7):
            if self.keys[k] not in ids:
                ids.append(self.keys[k])
        raise NotFound(f"unknown {kind} {text!r}", suggestions=[self.labels[i] for i in ids[:3]])


@cache
def _country_index(fingerprint: str) -> Index:
    frame = get_store().table("countries")
    keys: dict[str, str] = {}
    labels: dict[str, str] = {}
    # names and codes first, so an alias never shadows another entity's name
    for row in frame.itertuples(index=False):
        labels[row.iso3] = f"{row.name} ({row.iso3})"
        for text in (row.iso3, row.name):
            keys.setdefault(_key(text), row.iso3)
    for row in frame.itertuples(index=False):
        for text in [row.iso2, *list(row.aliases)]:
            if text:
                keys.setdefault(_key(text), row.iso3)
        for code in (row.iso_numeric, row.baci_code):
            if not pd.isna(code):
                keys.setdefault(str(int(code)), row.iso3)
    return Index(keys, labels)


@cache
def _mineral_index(fingerprint: str) -> Index:
    frame = get_store().table("minerals")
    keys: dict[str, str] = {}
    labels: dict[str, str] = {}
    for row in frame.itertuples(index=False):
        labels[row.mineral] = f"{row.name} ({row.mineral})"
        for text in (row.mineral, row.name, row.wmd_table):
            keys.setdefault(_key(text), row.mineral)
    for row in frame.itertuples(index=False):
        for text in row.aliases:
            keys.setdefault(_key(text), row.mineral)
    return Index(keys, labels)


def country(value: str) -> str:
    """ISO3 of a country given by ISO3, ISO2, ISO numeric or BACI code, name or alias.

    Raises :class:`~critmin.errors.NotFound` with the nearest valid choices.
    """
    return _country_index(get_store().fingerprint).resolve(value, "country")


def mineral(value: str) -> str:
    """Slug of a mineral given by slug, name or alias (e.g. "REE" -> "rare-earths")."""
    return _mineral_index(get_store().fingerprint).resolve(value, "mineral")


@cache
def _group_index(fingerprint: str) -> dict[str, list[str]]:
    frame = get_store().table("countries")
    groups: dict[str, list[str]] = {}
    for row in frame.itertuples(index=False):
        for group in row.groups:
            groups.setdefault(_key(group), []).append(row.iso3)
    return groups


def group_members(value: str) -> list[str] | None:
    """ISO3 members of a country group (EU27, G7, G20, BRICS, Quad, OECD), or None."""
    return _group_index(get_store().fingerprint).get(_key(str(value)))
