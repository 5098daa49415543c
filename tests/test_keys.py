"""Keys, dimensions and periods declared as data; the source registry; product contents;
purchase records as a user table; the store's modules importing only downwards."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import critmin
from critmin import compute, ingest, schema
from critmin.catalog import contents
from critmin.errors import DataError, InvalidInput, NotFound
from critmin.sources import purchases, registry, usgs_mcs
from critmin.sources.coverage import Coverage
from critmin.sources.validate import Known, validate
from critmin.store import engine, get_store, paths, user
from critmin.store.engine import DuckDBEngine
from critmin.store.staging import KeyRule, Staging, partition_years

STORE = Path(critmin.__file__).parent / "store"

# -- keys and dimensions ----------------------------------------------------------------------


def test_keys_come_from_the_schema_file() -> None:
    assert schema.key("flows") == ["year", "exporter", "importer", "hs6"]
    assert schema.key("production") == ["year", "country", "mineral", "stage", "source"]
    assert compute.KEYS == {
        "cube": ["year", "country", "mineral"], "cube_compat": ["year", "country", "mineral"],
        "stages": ["year", "country", "mineral", "stage"],
        "partners": ["year", "importer", "mineral", "stage", "exporter"]}
    assert schema.value_columns("governance") == ["wgi_pv", "risk"]
    assert schema.column_of("cube", "country") == "country"
    assert schema.column_of("partners", "country") == "importer"
    assert schema.column_of("governance", "stage") is None
    with pytest.raises(NotFound, match="did you mean partner"):
        schema.column_of("flows", "partners")


def test_every_declaration_is_consistent() -> None:
    dims = schema.declared_dimensions()
    for table, cols in schema.columns().items():
        positions = sorted(c.key for c in cols if c.key is not None)
        assert positions == list(range(1, len(positions) + 1)), table
        assert {c.dimension for c in cols} - {""} <= set(dims), table
        assert sum(c.dimension == "time" for c in cols) <= 1, table
    for dim in dims.values():
        if dim.reference:
            table, column = dim.reference.split(".")
            assert column in schema.public_columns(table)
    assert dims["time"].grains == schema.GRAINS


@pytest.mark.parametrize("table", [t for t in schema.SNAPSHOT_TABLES if schema.key(t)])
def test_snapshot_rows_are_unique_on_their_declared_key(table: str) -> None:
    frame = pd.read_parquet(paths.snapshot_dir() / f"{table}.parquet",
                            columns=schema.key(table))
    assert not frame.duplicated().any()
    assert not frame.isna().any().any()


def test_engine_and_readers_take_their_columns_from_the_schema() -> None:
    assert engine.PAIR_COLUMNS == ("year", "exporter", "importer", "mineral", "stage", "qty_t",
                                   "qty_basis_t", "value_kusd", "value_with_qty_kusd",
                                   "unfactored_kusd", "low_value_t")
    assert "GROUP BY year, exporter, importer, mineral, stage\n" in engine.AGGREGATE_SQL
    assert "ORDER BY year, mineral, importer, exporter, stage\n" in engine.AGGREGATE_SQL
    assert schema.public_columns("production") == usgs_mcs.PRODUCTION_COLUMNS
    assert schema.public_columns("reserves") == usgs_mcs.RESERVES_COLUMNS[:-1]


def test_staging_rule_of_flows_is_derived_from_the_key() -> None:
    staged = [*schema.public_columns("flows"), "src_exporter", "src_importer", "seq"]
    rule = KeyRule.of("flows", staged)
    assert rule.source_key == ("year", "src_exporter", "src_importer", "hs6")
    assert rule.carried == ("exporter", "importer", "value_kusd", "qty_t")
    assert rule.file_order == ("hs6", "importer", "exporter")
    assert "GROUP BY year, f.exporter, f.importer, hs6" in rule.merge_sql()
    with pytest.raises(DataError, match="no key"):
        KeyRule.of("us_salient", [])


# -- the source registry ----------------------------------------------------------------------


def test_the_registry_fills_every_snapshot_table() -> None:
    built = [r for r in registry.READERS if r.build is not None]
    filled = {t for r in built for t in r.tables}
    assert set(schema.SNAPSHOT_TABLES) <= filled
    assert filled <= set(schema.columns())
    assert {p for r in built for p in r.provenance} == set(registry.PROVENANCE)
    assert registry.READERS[0].id == registry.CATALOG  # the others check against it
    assert set(ingest.SOURCES) == {"baci", "purchases"}
    assert ingest.SOURCES["purchases"].tables == ("purchases",)
    with pytest.raises(NotFound, match="unknown source 'wgii'; did you mean wgi"):
        registry.reader("wgii")
    with pytest.raises(NotFound, match="did you mean purchases"):
        ingest.import_source("purchase", ["x.csv"])


# -- product contents -------------------------------------------------------------------------

BATTERY = pd.DataFrame({
    "product": ["850760", "850760", "850760", "850511", "ndpr-metal"],
    "component": ["lithium", "cobalt", "nickel", "ndpr-metal", "rare-earths"],
    "stage": ["product", "product", "product", "product", "refined"],
    "content": [0.6, 0.3, 0.5, 0.25, 1.2],  # hand-made: over 1 in total, on purpose
    "source": ["hand-made"] * 4 + ["oxide"],
})
ALLOCATED = pd.DataFrame({"hs6": ["282520", "811292", "811292"],
                          "mineral": ["lithium", "gallium", "germanium"],
                          "stage": ["intermediate", "refined", "refined"],
                          "content_factor": [0.404, 1.0, 1.0],
                          "allocation_share": [1.0, 0.5, 0.5]})
MINERALS = {"lithium", "cobalt", "nickel", "rare-earths", "gallium", "germanium"}


def _flows() -> pd.DataFrame:
    return pd.DataFrame({
        "year": np.array([2023, 2023, 2023, 2023], dtype="int16"),
        "exporter": ["CHN", "KOR", "CHL", "JPN"], "importer": ["IND"] * 4,
        "hs6": ["850760", "850511", "282520", "811292"],
        "value_kusd": [100.0, 40.0, 50.0, 8.0], "qty_t": [10.0, 4.0, 5.0, 2.0]})


def test_a_product_holds_several_minerals_in_full() -> None:
    flows = DuckDBEngine.over_frame(_flows())
    links = contents.links(ALLOCATED, BATTERY, MINERALS)
    pairs = flows.aggregate(links, [2023]).astype({"mineral": str, "exporter": str})
    battery = pairs[pairs["exporter"] == "CHN"].set_index("mineral")
    # every mineral of the battery counts its whole gross tonnage and its own content
    for mineral, content in (("lithium", 0.6), ("cobalt", 0.3), ("nickel", 0.5)):
        assert battery.loc[mineral, "qty_t"] == 10.0
        assert battery.loc[mineral, "qty_basis_t"] == pytest.approx(10.0 * content)
        assert battery.loc[mineral, "value_kusd"] == 100.0
    # multi-level: magnet -> NdPr metal -> rare earths
    magnet = pairs[pairs["exporter"] == "KOR"].set_index("mineral")
    assert magnet.loc["rare-earths", "qty_basis_t"] == pytest.approx(4.0 * 0.25 * 1.2)
    # an allocation still splits a shared code's tonnage
    shared = pairs[pairs["mineral"].isin(["gallium", "germanium"])]
    assert shared["qty_t"].tolist() == [1.0, 1.0]
    assert contents.content_problems(BATTERY, MINERALS, ALLOCATED) == []


def test_existing_links_give_identical_numbers() -> None:
    from critmin import catalog

    allocated = catalog.load_product_minerals()
    assert contents.links(allocated) is allocated
    assert contents.links(allocated, BATTERY.iloc[:0]) is allocated
    flows = DuckDBEngine.over_frame(_flows())
    before = flows.aggregate(allocated, [2023])
    battery = BATTERY[BATTERY["product"] != "850511"]  # a code the catalog allocates
    after = flows.aggregate(contents.links(allocated, battery, MINERALS | set(
        allocated["mineral"])), [2023])
    untouched = ["CHL", "JPN"]  # the rows of codes without contents
    kept = after[after["exporter"].isin(untouched)].reset_index(drop=True)
    old = before[before["exporter"].isin(untouched)].reset_index(drop=True)
    assert not old.empty
    pd.testing.assert_frame_equal(kept.astype(str), old.astype(str))
    assert set(after.loc[after["exporter"] == "CHN", "mineral"]) >= {"cobalt", "nickel"}


def test_mineral_contents_multiply_along_paths_with_their_sources() -> None:
    flat = contents.mineral_contents(BATTERY, MINERALS).set_index(["product", "mineral"])
    row = flat.loc[("850511", "rare-earths")]
    assert row["content"] == pytest.approx(0.3) and row["levels"] == 2
    assert row["source"] == "hand-made > oxide"
    shipped = contents.mineral_contents(contents.load_contents())
    assert set(shipped["product"]) == {"ndfeb-magnet", "ndpr-metal", "nmc811-cathode"}
    assert (contents.load_contents()["source"] != "").all()


def test_content_and_allocation_validation() -> None:
    over = ALLOCATED.assign(allocation_share=[1.0, 0.7, 0.5])
    assert contents.allocation_problems(over) == ["allocation shares above 1 for ['811292']"]
    assert contents.allocation_problems(ALLOCATED) == []
    cycle = pd.concat([BATTERY, pd.DataFrame({
        "product": ["rare-earths"], "component": ["850511"], "stage": ["product"],
        "content": [1.0], "source": ["x"]})], ignore_index=True)
    assert "cycle" in contents.content_problems(cycle, MINERALS - {"rare-earths"})[0]
    dangling = BATTERY.assign(component=["lithium", "cobalt", "unobtainium", "ndpr-metal",
                                         "rare-earths"])
    assert "unobtainium" in contents.content_problems(dangling, MINERALS)[0]
    twice = pd.concat([ALLOCATED, pd.DataFrame({
        "hs6": ["850760"], "mineral": ["lithium"], "stage": ["product"],
        "content_factor": [0.1], "allocation_share": [1.0]})], ignore_index=True)
    assert "counted twice" in contents.content_problems(BATTERY, MINERALS, twice)[0]
    negative = BATTERY.assign(content=[-0.1, 0.3, 0.5, 0.25, 1.2])
    assert "negative" in contents.content_problems(negative, MINERALS)[0]


# -- periods ----------------------------------------------------------------------------------


def test_periods_parse_a_year_or_a_month() -> None:
    assert schema.parse_period("2024") == schema.Period(2024)
    assert schema.parse_period(2024).grain == "year"
    month = schema.parse_period(" 2024-03 ")
    assert (month.year, month.month, month.grain, str(month)) == (2024, 3, "month", "2024-03")
    for bad, message in (("2024-13", "month 13"), ("2024-00", "month 0"),
                         ("1800", "outside"), ("24", "not '24'"), ("2024-3", "not"),
                         ("2024/03", "not"), (True, "not True"), (2024.0, "not 2024.0")):
        with pytest.raises(InvalidInput, match=message):
            schema.parse_period(bad)  # type: ignore[arg-type]


def test_time_keys_of_tables() -> None:
    assert schema.time_column("flows") == "year" and schema.grains("flows") == ("year",)
    assert schema.time_column("purchases") == "period"
    assert schema.grains("purchases") == ("year", "month")
    assert schema.grains("countries") == ()
    batch = pa.table({"period": ["2023-12", "2024", "2024-01"]})
    assert partition_years("purchases", batch).tolist() == [2023, 2024, 2024]
    assert partition_years("flows", pa.table({"year": pa.array([2022], pa.int16())})
                           ).tolist() == [2022]


def test_period_check_validates_in_one_pass() -> None:
    data = pa.table({"period": ["2024", "2024-03", "2024-13", "abc", None, "1800-01"]})
    cov = Coverage("test", rows_read=6)
    kept = validate("purchases", data, Known(frozenset()), cov)
    assert kept.column("period").to_pylist() == ["2024", "2024-03"]
    assert cov.dropped == {"malformed period (not YYYY or YYYY-MM)": 3,
                           "period out of range (1950-" + str(pd.Timestamp.today().year)
                           + ")": 1}


# -- purchases: a user table ------------------------------------------------------------------

KNOWN = Known(countries=frozenset({"CHL", "CHN", "AUS", "IND"}),
              products=frozenset({"282520", "850760"}),
              minerals=frozenset({"lithium", "cobalt"}))
VALID = pd.DataFrame({
    "period": ["2024-03", "2024-03", "2023"],
    "supplier_name": ["Andes Lithium", "Andes Lithium", "Shenzhen Cells"],
    "reference": ["PO-1", "PO-2", "INV-9"],
    "material": ["lithium", "282520", "850760"],
    "supplier_country": ["CHL", "CHL", "CHN"],
    "origin_country": ["CHL", "", "AUS"],
    "quantity": ["12.5", "3", "800"],
    "quantity_unit": ["t", "t", "kg"],
    "value": ["150000", "", "24000"],
    "currency": ["USD", "", "EUR"],
    "usd_rate": ["", "", "1.08"],
    "notes": ["", "", "cells for pack line 2"],
})


def test_valid_purchases_are_kept_in_the_declared_schema() -> None:
    cov = Coverage("purchases")
    table = purchases.purchases_table(VALID, KNOWN, cov, company="Acme")
    assert table.num_rows == 3 and cov.dropped == {}
    assert table.schema.names == [*schema.public_columns("purchases"), "seq"]
    assert table.select(schema.public_columns("purchases")).schema.equals(
        schema.arrow_schema("purchases"))
    assert table.column("origin_country").to_pylist() == ["CHL", None, "AUS"]
    assert table.column("value").to_pylist()[:2] == [150000.0, None]


def test_invalid_purchases_are_dropped_by_reason() -> None:
    bad = pd.concat([VALID.iloc[:1]] * 8, ignore_index=True)
    bad["reference"] = [f"PO-{i}" for i in range(8)]
    bad.loc[0, "supplier_country"] = "XXX"
    bad.loc[1, "period"] = "March 2024"
    bad.loc[2, "material"] = "unobtainium"
    bad.loc[3, "quantity"] = "-2"
    bad.loc[4, "quantity_unit"] = "tons"
    bad.loc[5, "currency"] = "usd"
    bad.loc[6, "reference"] = ""
    cov = Coverage("purchases")
    kept = purchases.purchases_table(bad, KNOWN, cov, company="Acme")
    assert kept.column("reference").to_pylist() == ["PO-7"]
    assert cov.dropped == {
        "malformed period (not YYYY or YYYY-MM)": 1, "missing reference": 1,
        "unknown material (neither a mineral nor a product)": 1, "unknown country code": 1,
        "negative quantity": 1, "unknown quantity_unit (not t, kg, g, lb)": 1,
        "malformed currency (not an ISO 4217 code)": 1}
    with pytest.raises(DataError, match="unknown purchase column"):
        purchases.purchases_table(VALID.rename(columns={"notes": "note"}), KNOWN, cov)
    with pytest.raises(DataError, match="lack column"):
        purchases.purchases_table(VALID.drop(columns="quantity"), KNOWN, cov)


def test_purchases_stage_by_their_key(tmp_path: Path) -> None:
    rows = pd.concat([VALID, VALID.iloc[:1], VALID.iloc[:1].assign(quantity="99")],
                     ignore_index=True)
    staging = Staging(tmp_path, "purchases")
    staging.add(purchases.purchases_table(rows, KNOWN, Coverage("purchases"), company="Acme"))
    assert staging.rows == {2023: 1, 2024: 4}
    final = staging.finalize(2024)
    assert final.rows == 2 and final.merged == 0
    assert final.dropped == {"exact duplicate row": 1,
                             "conflicting duplicate row (first kept)": 1}
    stored = pq.read_table(final.path)
    assert stored.schema.equals(schema.arrow_schema("purchases"), check_metadata=False)
    assert stored.column("quantity").to_pylist() == [12.5, 3.0]  # the first row kept


def test_purchases_import_into_the_user_store_only(tmp_path: Path) -> None:
    path = tmp_path / "purchases.csv"
    VALID.assign(material=["lithium", "282520", "cobalt"]).to_csv(path, index=False)
    report = ingest.import_source("purchases", [path])
    assert report.years == [2023, 2024] and report.coverage["rows_kept"] == 3
    manifest = user.read_manifest()
    assert set(manifest["tables"]) == {"purchases"}
    store = get_store()
    assert store.parquet_parts("purchases")[0] is None
    served = store.df("SELECT reference FROM purchases ORDER BY reference")
    assert served["reference"].tolist() == ["INV-9", "PO-1", "PO-2"]
    assert sorted(store.table("purchases")["reference"]) == ["INV-9", "PO-1", "PO-2"]
    assert "purchases" not in store.manifest["tables"]  # never in the snapshot
    again = ingest.import_source("purchases", [path], append=True)
    assert again.coverage["dropped"] == {"already stored (exact duplicate)": 3}


def test_no_purchases_is_an_empty_table() -> None:
    frame = get_store().df("SELECT * FROM purchases")
    assert frame.empty and list(frame.columns) == schema.public_columns("purchases")
    assert get_store().table("purchases").empty


# -- the store's layers -----------------------------------------------------------------------

LAYERS = ["paths", "lock", "registry", "user", "parts", "engine", "staging", "snapshot",
          "spark", "db", "factory"]
"""The store's modules, lowest first: each imports only modules before it."""


def _store_imports(module: str) -> set[str]:
    tree = ast.parse((STORE / f"{module}.py").read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("critmin.store."):
                found.add(node.module.rsplit(".", 1)[1])
            elif node.module == "critmin.store":
                found.update(a.name for a in node.names)
    return found


def test_store_modules_import_only_downwards() -> None:
    modules = sorted(p.stem for p in STORE.glob("*.py") if p.stem != "__init__")
    assert sorted(LAYERS) == modules
    for position, module in enumerate(LAYERS):
        above = set(LAYERS[position:])
        assert not _store_imports(module) & above, module
