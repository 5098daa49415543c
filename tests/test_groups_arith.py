"""Country groups as users write them: other names of catalog groups, groups and countries
added and taken away (``BRICS-CHN``, ``EU27+GBR``), and groups named inline."""

from __future__ import annotations

import pytest

from critmin import resolve
from critmin.errors import Ambiguous, InvalidInput, NotFound
from critmin.query import group_membership, resolve_countries, risk
from critmin.trade_network import parties


@pytest.mark.parametrize(("text", "label", "terms"), [
    ("BRICS-CHN", "BRICS-CHN", [("+", "BRICS", True), ("-", "CHN", False)]),
    ("brics - china", "BRICS-CHN", [("+", "BRICS", True), ("-", "CHN", False)]),
    ("EU27+GBR", "EU27+GBR", [("+", "EU27", True), ("+", "GBR", False)]),
    ("European Union+UK", "EU27+GBR", [("+", "EU27", True), ("+", "GBR", False)]),
    ("G7+BRICS-CHN-RUS", "G7+BRICS-CHN-RUS",
     [("+", "G7", True), ("+", "BRICS", True), ("-", "CHN", False), ("-", "RUS", False)]),
    ("USA+JPN", "USA+JPN", [("+", "USA", False), ("+", "JPN", False)]),
    ("G20-Guinea-Bissau", "G20-GNB", [("+", "G20", True), ("-", "GNB", False)]),
    ("Quad=USA+JPN+IND+AUS", "Quad",
     [("+", "USA", False), ("+", "JPN", False), ("+", "IND", False), ("+", "AUS", False)]),
    ("Allies = G7 + AUS", "Allies", [("+", "G7", True), ("+", "AUS", False)]),
])
def test_expressions_parse_left_to_right(text: str, label: str,
                                         terms: list[tuple[str, str, bool]]) -> None:
    expression = resolve.group_expression(text)
    assert expression is not None
    assert expression.label == label
    assert list(expression.terms) == terms


@pytest.mark.parametrize("text", ["European Union", "european union", "EUROPEAN UNION",
                                  "EU-27", "eu 27", "EU27"])
def test_european_union_is_eu27(text: str) -> None:
    assert resolve.group_name(text) == "EU27"
    assert resolve.group_members(text) == resolve.group_members("EU27")
    assert len(resolve.group_members(text) or []) == 27


def test_eu_is_the_union_in_each_year() -> None:
    _label, eu = group_membership("EU", [2019, 2023])
    _label, eu27 = group_membership("European Union", [2023])
    assert "GBR" in set(eu.loc[eu["year"] == 2019, "iso3"])
    assert set(eu.loc[eu["year"] == 2023, "iso3"]) == set(eu27["iso3"])


@pytest.mark.parametrize(("text", "group"), [
    ("G-7", "G7"), ("Group of Seven", "G7"), ("group of twenty", "G20"), ("G-20", "G20"),
    ("Organisation for Economic Co-operation and Development", "OECD"),
    ("Quadrilateral Security Dialogue", "Quad"),
])
def test_other_names_of_groups(text: str, group: str) -> None:
    assert resolve.group_name(text) == group
    assert resolve.group_members(text) == resolve.group_members(group)


def test_a_country_is_not_a_group() -> None:
    for text in ("CHN", "Guinea-Bissau", "Timor-Leste", "Inida"):
        assert resolve.group_expression(text) is None
        assert resolve.group_members(text) is None


def test_difference_and_union_members() -> None:
    brics = set(resolve.group_members("BRICS") or [])
    assert set(resolve.group_members("BRICS-CHN") or []) == brics - {"CHN"}
    assert set(resolve.group_members("EU27+GBR") or []) == set(
        resolve.group_members("EU27") or []) | {"GBR"}
    # left to right: China taken away, then added back
    assert "CHN" in set(resolve.group_members("BRICS-CHN+CHN") or [])
    assert "CHN" not in set(resolve.group_members("BRICS+CHN-CHN") or [])
    assert resolve_countries(["BRICS-CHN", "CHN"]) == [*sorted(brics - {"CHN"}), "CHN"]


def test_members_are_by_year() -> None:
    label, members = group_membership("BRICS-CHN", [2023, 2024])
    by_year = members.groupby("year")["iso3"].apply(set)
    assert label == "BRICS-CHN"
    assert by_year[2023] == {"BRA", "IND", "RUS", "ZAF"}
    assert by_year[2024] > by_year[2023] and "CHN" not in by_year[2024]
    _label, eu = group_membership("EU-GBR", [2019])
    assert "GBR" not in set(eu["iso3"]) and len(eu) == 27
    named = parties(["BRICS-CHN", "USA"], 2023, "targets")
    assert named is not None
    assert named.groups == {"BRICS-CHN": ["BRA", "IND", "RUS", "ZAF"]}
    assert named.iso3 == ["BRA", "IND", "RUS", "ZAF", "USA"]


@pytest.mark.parametrize(("text", "error", "message"), [
    ("BRICS-XYZ", NotFound, "unknown country or group 'XYZ' in 'BRICS-XYZ'"),
    ("BRICS--CHN", InvalidInput, "a name is missing around an operator"),
    ("BRICS-", InvalidInput, "a name is missing around an operator"),
    ("-CHN", InvalidInput, "starts with an operator"),
    ("Quad-USA-JPN-IND-AUS", InvalidInput, "has no member in any year"),
    ("CHN-CHN", InvalidInput, "has no member in any year"),
    ("=USA+JPN", InvalidInput, "give a name before '='"),
    ("A+B=USA", InvalidInput, "give a name before '='"),
    ("X=", InvalidInput, "give its members after '='"),
    ("China=USA+JPN", InvalidInput, "'China' is a country's name"),
    ("BRICS-Korea", Ambiguous, "country 'Korea' is ambiguous"),
])
def test_bad_expressions_are_refused(text: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(")) as caught:
        resolve.group_expression(text)
    assert type(caught.value) is error


def test_unknown_parts_suggest_the_nearest_names() -> None:
    with pytest.raises(NotFound) as caught:
        resolve.group_members("BRICS-Chnia")
    assert "China (CHN)" in caught.value.suggestions
    with pytest.raises(NotFound) as caught:
        resolve.group_members("BRCS+USA")
    assert "BRICS" in caught.value.suggestions
    with pytest.raises(NotFound) as caught:  # a misspelt hyphenated name
        resolve.group_members("Guinea-Bisau")
    assert caught.value.suggestions[0] == "Guinea-Bissau (GNB)"
    with pytest.raises(NotFound, match="unknown group"):
        group_membership("CHN", [2023])


def test_bundled_brics_without_china_imports_from_china() -> None:
    rows = risk(["BRICS", "BRICS-CHN", "G7"], "rare-earths", 2023,
                as_group=True).set_index("country")
    share = rows["china_share"].astype(float)
    assert share["BRICS"] == 0  # China is a member: no imports from it
    assert 0.5 < share["BRICS-CHN"] <= 1
    assert 0 < share["G7"] < 1
    members = ["BRA", "IND", "RUS", "ZAF"]
    production = rows["production_t"].astype(float)
    assert production["BRICS-CHN"] == pytest.approx(production[members].sum())
