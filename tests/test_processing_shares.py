"""processing_shares.csv is well-formed: known minerals, stages and countries, shares that add
up per published breakdown, and a source on every row."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

from critmin.schema import STAGES

CATALOG = Path(__file__).resolve().parent.parent / "src" / "critmin" / "catalog"
COLUMNS = ["mineral", "stage", "measure", "year", "country", "share", "source", "edition",
           "table", "page", "url", "note"]
REST_OF_WORLD = "ROW"
ROUNDING = 0.011
"""Shares are published (or computed) rounded, so a breakdown may add up to a little over 1."""
COMPLETE = 0.97
"""A breakdown with a rest-of-world row covers the whole world, up to rounding."""

Row = dict[str, str]
Group = tuple[str, str, str, str]


def _read(name: str) -> list[Row]:
    with (CATALOG / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    """The rows of processing_shares.csv."""
    return _read("processing_shares.csv")


def _groups(rows: list[Row]) -> dict[Group, list[Row]]:
    """Rows by published breakdown: (mineral, stage, year, source)."""
    groups: dict[Group, list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row["mineral"], row["stage"], row["year"], row["source"])].append(row)
    return groups


def test_header_is_the_documented_one() -> None:
    with (CATALOG / "processing_shares.csv").open(newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == COLUMNS


def test_minerals_stages_and_countries_are_known(rows: list[Row]) -> None:
    minerals = {row["mineral"] for row in _read("minerals.csv")}
    countries = {row["iso3"] for row in _read("countries.csv")} | {REST_OF_WORLD}
    assert len(rows) > 50
    problems = [f"line {n}: {field} {row[field]!r}"
                for n, row in enumerate(rows, 2)
                for field, known in (("mineral", minerals), ("stage", set(STAGES)),
                                     ("country", countries))
                if row[field] not in known]
    assert not problems, "\n".join(problems)


def test_every_row_has_a_source_edition_and_url(rows: list[Row]) -> None:
    problems = [f"line {n}: {field} empty" for n, row in enumerate(rows, 2)
                for field in ("measure", "source", "edition", "table", "url") if not row[field]]
    problems += [f"line {n}: url {row['url']!r}" for n, row in enumerate(rows, 2)
                 if not row["url"].startswith("https://")]
    problems += [f"line {n}: year {row['year']!r}" for n, row in enumerate(rows, 2)
                 if not re.fullmatch(r"(19|20)\d\d", row["year"])]
    assert not problems, "\n".join(problems)


def test_shares_are_fractions(rows: list[Row]) -> None:
    bad = [(n, row["share"]) for n, row in enumerate(rows, 2)
           if not 0.0 <= float(row["share"]) <= 1.0]
    assert not bad, f"shares outside [0, 1] (line, share): {bad}"


def test_a_country_appears_once_per_breakdown(rows: list[Row]) -> None:
    repeated = [(key, country) for key, members in _groups(rows).items()
                for country in {r["country"] for r in members}
                if sum(r["country"] == country for r in members) > 1]
    assert not repeated, f"repeated countries: {repeated}"


def test_breakdowns_add_up(rows: list[Row]) -> None:
    """At most 1 (plus rounding); at least 0.97 where the rest of the world is given."""
    problems = []
    for key, members in _groups(rows).items():
        total = sum(float(r["share"]) for r in members)
        if total > 1.0 + ROUNDING:
            problems.append(f"{key}: shares add up to {total:.4f}")
        if any(r["country"] == REST_OF_WORLD for r in members) and total < COMPLETE:
            problems.append(f"{key}: shares with a rest of world add up to {total:.4f}")
    assert not problems, "\n".join(problems)


def test_china_leads_the_refining_of_lithium_graphite_and_rare_earths(rows: list[Row]) -> None:
    """The published ranking: China first in each of the three stages with no country series."""
    for key, members in _groups(rows).items():
        if key[0] in ("lithium", "graphite", "rare-earths"):
            countries = [r for r in members if r["country"] != REST_OF_WORLD]
            leader = max(countries, key=lambda r: float(r["share"]))
            assert leader["country"] == "CHN", key
            assert float(leader["share"]) > 0.6, key
