"""Name resolution of countries, minerals and groups."""

from __future__ import annotations

import pytest

from critmin import resolve
from critmin.errors import InvalidInput, NotFound


@pytest.mark.parametrize(
    ("text", "iso3"),
    [
        ("Russia", "RUS"), ("russia", "RUS"), ("RUSSIA", "RUS"), ("Russian Federation", "RUS"),
        ("South Korea", "KOR"), ("Republic of Korea", "KOR"), ("kor", "KOR"),
        ("USA", "USA"), ("usa", "USA"), ("United States", "USA"), ("US", "USA"), ("842", "USA"),
        ("UK", "GBR"), ("Great Britain", "GBR"),
        ("Turkey", "TUR"), ("Türkiye", "TUR"), ("türkiye", "TUR"), ("TURKIYE", "TUR"),
        ("IN", "IND"), ("in", "IND"), ("India", "IND"), ("  india  ", "IND"),
        ("699", "IND"), ("356", "IND"),
        ("Taiwan", "TWN"), ("Chinese Taipei", "TWN"), ("490", "TWN"),
        ("French Guiana", "GUF"), ("Guyana", "GUY"),
    ],
)
def test_country(text: str, iso3: str) -> None:
    assert resolve.country(text) == iso3


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("REE", "rare-earths"), ("ree", "rare-earths"), ("Rare earth", "rare-earths"),
        ("rare earths", "rare-earths"), ("Rare Earths (REO)", "rare-earths"),
        ("lithium", "lithium"), ("Lithium", "lithium"), ("Li", "lithium"), ("Li2O", "lithium"),
        ("cobalt", "cobalt"), ("Co", "cobalt"),
    ],
)
def test_mineral(text: str, slug: str) -> None:
    assert resolve.mineral(text) == slug


def test_unknown_country_suggests_nearest() -> None:
    with pytest.raises(NotFound) as info:
        resolve.country("Inida")
    err = info.value
    assert isinstance(err, InvalidInput)
    assert "India (IND)" in str(err)
    assert "'Inida'" in str(err)
    assert err.suggestions[0] == "India (IND)"
    assert err.to_dict()["error"]["code"] == "not_found"


def test_unknown_mineral_suggests_nearest() -> None:
    with pytest.raises(NotFound) as info:
        resolve.mineral("lithum")
    assert "Lithium (lithium)" in str(info.value)


def test_unknown_without_suggestion() -> None:
    with pytest.raises(NotFound) as info:
        resolve.country("qqqqqqqqqq")
    assert info.value.suggestions == []
    assert str(info.value) == "unknown country 'qqqqqqqqqq'"


def test_groups() -> None:
    g7 = resolve.group_members("G7")
    assert sorted(g7) == ["CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"]
    assert resolve.group_members("g7") == g7
    assert len(resolve.group_members("EU27")) == 27
    assert set(resolve.group_members("BRICS")) >= {"BRA", "RUS", "IND", "CHN", "ZAF"}
    assert sorted(resolve.group_members("Quad")) == ["AUS", "IND", "JPN", "USA"]
    assert resolve.group_members("India") is None
