"""The value-chain and critical-list docs agree with the catalog files they document."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CATALOG = ROOT / "src" / "critmin" / "catalog"

CODE_ROW = re.compile(r"^\| (\d{6}) \|")
MINERAL_LINE = re.compile(r"^\*\*([a-z0-9-]+)\*\* \(basis: ")
LIST_HEADING = re.compile(r"^### ([a-z0-9-]+):", re.MULTILINE)

Key = tuple[str, str]


def _cells(line: str) -> list[str]:
    """The cells of one markdown table row."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _doc_rows() -> dict[Key, dict[str, str]]:
    """Rows of the per-code tables of value_chain.md, keyed by (hs6, mineral)."""
    rows: dict[Key, dict[str, str]] = {}
    mineral: str | None = None
    header: list[str] | None = None
    for number, line in enumerate((DOCS / "value_chain.md").read_text().splitlines(), 1):
        if match := MINERAL_LINE.match(line):
            mineral = match.group(1)
        if not line.startswith("|"):
            header = None
            continue
        if header is None:
            header = _cells(line)
            continue
        if header[0] != "HS6" or not CODE_ROW.match(line):
            continue
        assert mineral is not None, f"line {number}: code row before any mineral heading"
        cells = _cells(line)
        assert len(cells) == len(header), f"line {number}: {len(cells)} cells"
        key = (cells[0], mineral)
        assert key not in rows, f"line {number}: {key} documented twice"
        rows[key] = dict(zip(header, cells, strict=True))
    return rows


def _products() -> dict[Key, dict[str, str]]:
    """Rows of products.csv, keyed by (hs6, mineral)."""
    with (CATALOG / "products.csv").open(newline="") as handle:
        return {(row["hs6"], row["mineral"]): row for row in csv.DictReader(handle)}


def _number(text: str) -> float | None:
    """A catalog or doc number; None for an empty factor."""
    return None if text in ("", "(empty)") else float(text)


def _same(doc: str, catalog: str) -> bool:
    """Whether a doc number and a catalog number are the same value (both may be empty)."""
    left, right = _number(doc), _number(catalog)
    if left is None or right is None:
        return left is right
    return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)


def _rule(row: dict[str, str]) -> str:
    """The low-value rule of a catalog row as the doc writes it."""
    if row["low_value_usd_per_kg"]:
        return f"< {row['low_value_usd_per_kg']} USD/kg -> {row['low_value_factor']}"
    if row["low_value_ratio"]:
        return (f"< {row['low_value_ratio']} x year's median unit value -> "
                f"{row['low_value_factor']}")
    return ""


@pytest.fixture(scope="module")
def doc_rows() -> dict[Key, dict[str, str]]:
    """The documented rows."""
    return _doc_rows()


@pytest.fixture(scope="module")
def products() -> dict[Key, dict[str, str]]:
    """The catalog rows."""
    return _products()


def test_documented_rows_match_products(doc_rows: dict[Key, dict[str, str]],
                                        products: dict[Key, dict[str, str]]) -> None:
    """Factor, stage, principal, share and low-value rule of each doc row are the catalog's."""
    problems = []
    for key, doc in doc_rows.items():
        row = products.get(key)
        if row is None:
            problems.append(f"{key}: not in products.csv")
            continue
        principal = "yes" if row["principal"] == "true" else "no"
        checks = {
            "factor": _same(doc["factor"], row["content_factor"]),
            "stage": doc["stage"] == row["stage"],
            "principal": doc["principal"] == principal,
            "share": _same(doc["share"], row["allocation_share"]),
            "low-value rule": doc["low-value rule"] == _rule(row),
        }
        problems += [f"{key}: {name} {doc[name]!r}" for name, ok in checks.items() if not ok]
    assert not problems, "\n".join(problems)


def test_every_product_row_is_documented(doc_rows: dict[Key, dict[str, str]],
                                         products: dict[Key, dict[str, str]]) -> None:
    """Every (hs6, mineral) of products.csv has a row in value_chain.md."""
    assert len(doc_rows) > 200
    missing = sorted(set(products) - set(doc_rows))
    assert not missing, f"not in docs/value_chain.md: {missing}"


def test_list_headings_match_lists_csv() -> None:
    """The list sections of critical_lists.md are exactly the lists of lists.csv."""
    documented = LIST_HEADING.findall((DOCS / "critical_lists.md").read_text())
    with (CATALOG / "lists.csv").open(newline="") as handle:
        listed = [row["list"] for row in csv.DictReader(handle)]
    assert len(documented) == len(set(documented))
    assert set(documented) == set(listed)
