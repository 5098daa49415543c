"""The group mechanism behind the cube's statistics, against pandas' own groupby, merge and
sort on random frames: categorical, text and integer keys, missing values, empty frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.metrics.concentration import concentration
from critmin.metrics.groups import Groups, lookup, sort_order

COUNTRIES = ["CHN", "AUS", "CHL", "USA", "ZWE"]
STAGES = pd.CategoricalDtype(["ore", "refined", "headline"])  # not in alphabetical order


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=0, max_value=60))
    pick = st.lists(st.sampled_from(COUNTRIES), min_size=n, max_size=n)
    frame = pd.DataFrame({
        "year": pd.Series(draw(st.lists(st.integers(1995, 1998), min_size=n, max_size=n)),
                          dtype="int16"),
        "country": pd.Categorical(draw(pick), categories=sorted(COUNTRIES)),
        "partner": pd.Series(draw(pick), dtype=str),
        "stage": pd.Categorical(draw(st.lists(st.sampled_from(list(STAGES.categories)),
                                              min_size=n, max_size=n)), dtype=STAGES),
        "q": draw(st.lists(st.one_of(st.none(), st.floats(0, 1e6)), min_size=n, max_size=n)),
    })
    frame["q"] = frame["q"].astype("float64")
    return frame


KEYS = st.sampled_from([["year"], ["country"], ["partner"], ["stage", "year"],
                        ["year", "country", "partner", "stage"]])


@settings(max_examples=150, deadline=None)
@given(frames(), KEYS)
def test_groups_match_groupby(frame: pd.DataFrame, by: list[str]) -> None:
    groups = Groups(frame, by)
    expected = frame.groupby(by, observed=True, sort=True).agg(
        total=("q", "sum"), rows=("q", "size"), top=("q", "max")).reset_index()
    keys = groups.keys()
    assert list(keys.columns) == by and groups.n == len(expected)
    for col in by:  # the same groups, in groupby's order, dtypes kept
        assert keys[col].tolist() == expected[col].tolist()
        assert keys[col].dtype == frame[col].dtype
    np.testing.assert_allclose(groups.sum(frame["q"]), expected["total"], rtol=1e-12)
    np.testing.assert_array_equal(groups.count(), expected["rows"])
    top = groups.max(frame["q"].to_numpy(), frame["q"].notna().to_numpy())
    np.testing.assert_array_equal(np.where(np.isinf(top), np.nan, top), expected["top"])
    first_rows = pd.Series(np.arange(len(frame))).groupby(groups.ids).min()
    np.testing.assert_array_equal(groups.first, first_rows.to_numpy())
    share = groups.share(frame["q"])
    total = frame.groupby(by, observed=True)["q"].transform("sum")
    np.testing.assert_allclose(share, frame["q"] / total.where(total > 0), rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(frames(), frames())
def test_lookup_is_a_left_join(frame: pd.DataFrame, table: pd.DataFrame) -> None:
    table = table.drop_duplicates(["year", "country"])
    got = lookup(frame, table, ["year", "country"], "q")
    expected = frame[["year", "country"]].merge(table[["year", "country", "q"]], how="left")
    np.testing.assert_array_equal(got, expected["q"].to_numpy(np.float64))


def test_lookup_takes_the_first_of_several_rows() -> None:
    frame = pd.DataFrame({"c": ["A", "B"]})
    table = pd.DataFrame({"c": ["A", "A"], "g": [1.0, 2.0]})
    assert lookup(frame, table, ["c"], "g").tolist()[0] == 1.0
    assert np.isnan(lookup(frame, table, ["c"], "g")[1])
    assert np.isnan(lookup(frame, table.iloc[:0], ["c"], "g")).all()


@settings(max_examples=100, deadline=None)
@given(frames(), KEYS)
def test_sort_order_is_sort_values(frame: pd.DataFrame, by: list[str]) -> None:
    expected = frame.sort_values(by, kind="stable").index.to_numpy()
    np.testing.assert_array_equal(sort_order(frame, by), expected)


def test_many_combinations_still_group_exactly() -> None:
    # more key combinations than one 62-bit integer holds: hashed in steps
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({f"k{i}": rng.integers(0, 2**20, 500) for i in range(4)})
    frame["q"] = 1.0
    by = [f"k{i}" for i in range(4)]
    frame = pd.concat([frame, frame.iloc[:50]], ignore_index=True)
    groups = Groups(frame, by)
    expected = frame.groupby(by, sort=True)["q"].sum().reset_index()
    assert groups.n == 500
    pd.testing.assert_frame_equal(groups.keys(), expected[by])
    np.testing.assert_array_equal(groups.sum(frame["q"]), expected["q"])


@pytest.mark.parametrize("who", [str, "category"])
def test_concentration_ranks_ties_by_name_with_any_key_type(who: object) -> None:
    frame = pd.DataFrame({"m": ["x"] * 4, "who": ["ZWE", "AUS", "CHN", "CHL"],
                          "q": [3.0, 3.0, 1.0, 3.0]}).astype({"who": who})
    row = concentration(frame, ["m"], "who", "q").iloc[0]
    assert row["top"] == "AUS" and row["top_share"] == 0.3
    assert row["top3_share"] == pytest.approx(0.9) and row["named_share"] == 0.1
    assert row["n"] == 4 and row["hhi"] == pytest.approx(3 * 0.09 + 0.01)
