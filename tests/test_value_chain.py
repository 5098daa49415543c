"""The value chain on the bundled data: stages, allocation, plausibility, honest statuses,
critical-mineral lists, entrepôts and groups; and the value chain as flows between stages
and countries (:mod:`critmin.metrics.value_chain`): a hand-computed chain on a tiny
constructed case, its balances, and the rare-earth and lithium chains as a specialist
reads them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin import figures, schema
from critmin.inputs import read_cube_inputs
from critmin.metrics import cube as cube_mod
from critmin.metrics import value_chain as vc
from critmin.store import get_store


@pytest.fixture(scope="module")
def links() -> pd.DataFrame:
    return get_store().table("product_minerals")


def test_every_catalog_row_traces_to_a_source(links: pd.DataFrame) -> None:
    assert links["factor_source"].str.len().gt(10).all()
    shared = links[links["allocation_share"] < 1]
    assert shared["allocation_source"].str.len().gt(10).all()
    rules = links[links["low_value_factor"].notna()]
    assert len(rules) > 20 and rules["low_value_source"].str.len().gt(10).all()
    assert (rules["low_value_usd_per_kg"].notna() | rules["low_value_ratio"].notna()).all()
    assert set(links["stage"]) <= set(schema.STAGES)
    assert links["hs6"].str.fullmatch(r"\d{6}").all()


def test_shared_codes_are_counted_once(links: pd.DataFrame) -> None:
    assert links.groupby("hs6")["allocation_share"].sum().le(1 + 1e-9).all()
    shared = sorted(set(links.loc[links["allocation_share"] < 1, "hs6"]))
    assert {"270112", "711290", "811291"} <= set(shared)
    # through the engine: the minerals' gross tonnes of a shared code add up to its flows
    store = get_store()
    pairs = store.engine().aggregate(links[links["hs6"] == "270112"], [2023])
    total = store.df("SELECT SUM(qty_t) AS q FROM flows WHERE year = 2023 AND hs6 = '270112'")
    assert pairs["qty_t"].sum() == pytest.approx(total["q"][0], rel=1e-9)
    by_mineral = pairs.groupby("mineral", observed=True)["qty_t"].sum()
    assert by_mineral["coking-coal"] == pytest.approx(0.4 * total["q"][0], rel=1e-9)


def test_low_value_cobalt_intermediates_are_not_counted_as_metal() -> None:
    row = critmin.risk("COD", "cobalt", 2023).iloc[0]
    assert "low_value_flows" in row["flags"]
    gross = get_store().df("SELECT SUM(qty_t) AS q FROM flows WHERE year = 2023 AND "
                           "exporter = 'COD' AND hs6 IN ('810510', '282200')")["q"][0]
    assert row["exports_basis_t"] < 0.4 * gross  # hydroxide at 35 % Co, not metal


def test_world_trade_of_the_content_is_plausible_or_withheld() -> None:
    store = get_store()
    years = list(range(2018, 2025))
    inputs = read_cube_inputs(store, years)
    inputs = cube_mod.harmonise(inputs)
    pairs = cube_mod.headline_pairs(inputs)
    factored = pairs[(pairs["unfactored_kusd"] == 0).to_numpy()]
    traded = factored.groupby(["year", "mineral"], observed=True)["qty_basis_t"].sum()
    stage = inputs.production_stage
    prod = inputs.production[(inputs.production["stage"].astype(str)
                              == inputs.production["mineral"].astype(str).map(stage)).to_numpy()]
    made = prod.groupby(["year", "mineral"], observed=True)["qty_t"].sum()
    ratio = (traded / made).dropna()
    cube = critmin.risk(years=years)
    status = cube.groupby(["year", "mineral"])["reliance_status"].agg(set)
    for (year, mineral), value in ratio.items():
        if value > cube_mod.PLAUSIBLE_TRADE_RATIO:
            assert status[(year, mineral)] == {"implausible content"}, (year, mineral, value)
    # the content factors hold for the minerals a domain expert checked
    for mineral in ("cobalt", "lithium", "nickel", "rare-earths", "tungsten", "copper"):
        assert ratio.xs(mineral, level="mineral").max() < cube_mod.PLAUSIBLE_TRADE_RATIO


def test_top_producers_are_not_net_importers_on_missing_codes() -> None:
    rows = critmin.risk(["AUS", "IDN", "CHN"], ["lithium", "nickel"], 2023).set_index(
        ["country", "mineral"])
    for key in [("AUS", "lithium"), ("IDN", "nickel"), ("CHN", "lithium")]:
        row = rows.loc[key]
        assert np.isnan(row["import_reliance"]), key
        assert row["reliance_status"] == "coverage incomplete"
        assert "no rows" in row["reason"]
    assert "253090" in rows.loc[("AUS", "lithium"), "reason"]
    nickel = rows.loc[("IDN", "nickel"), "reason"]
    assert "750210" in nickel and "720260" in nickel


def test_no_reliance_beyond_its_bounds() -> None:
    cube = critmin.cube()
    shown = cube["import_reliance"].dropna()
    assert shown.le(1 + 1e-9).all()
    exporters = cube.loc[shown.index, "reliance_status"] == "net exporter"
    assert (shown[~exporters] >= 0).all()
    assert cube["reliance_status"].str.startswith("exports exceed supply").any()
    assert not cube["reliance_status"].eq("re-export hub").any()


def test_profile_usa_says_why_gallium_cannot_be_assessed() -> None:
    p = critmin.profile("USA", 2023)
    assert p.lists == ["usa-2022", "usgs-2025"]
    gallium = p.minerals.set_index("mineral").loc["gallium"]
    assert bool(gallium["own_list"])
    assert np.isnan(gallium["import_reliance"])
    assert "811291" in gallium["reason"] and "no rows in 2023" in gallium["reason"]


def test_india_depends_on_china_for_compounds_metals_and_magnets() -> None:
    stages = critmin.stages("IND", "rare-earths", 2024).set_index("stage")
    for stage in ("intermediate", "refined", "product"):
        assert stages.loc[stage, "top_supplier"] == "CHN"
        assert stages.loc[stage, "china_share_value"] > 0.3
    assert stages.loc["product", "china_share"] > 0.8  # permanent magnets, 850511
    p = critmin.profile("India", 2024)
    assert "product" in set(p.stages.query("mineral == 'rare-earths'")["stage"])


def test_lists_as_data() -> None:
    lists = critmin.lists().set_index("list")
    assert lists.loc["india-2023", "n_critical"] == 30
    assert lists.loc["eu-crma-2024", "n_strategic"] == 17
    india = critmin.minerals(list_id="india-2023")
    assert len(india) == 30
    names = set(india["name_on_list"])
    assert {"Hafnium", "Silicon", "Strontium", "PGE", "Potash"} <= names
    assert india["minerals"].map(len).gt(0).all()  # every entry resolves
    for name in ("hafnium", "silicon", "strontium", "potash", "PGE"):
        assert critmin.risk("IND", name, 2023) is not None
    with pytest.raises(critmin.NotFound, match="india-2023"):
        critmin.minerals(list_id="india-2032")


def test_pge_is_a_group_of_minerals() -> None:
    with pytest.raises(critmin.Ambiguous, match="Platinum"):
        critmin.mineral("PGE")
    rows = critmin.risk("ZAF", "PGE", 2023)
    assert {"platinum", "palladium", "rhodium"} <= set(rows["mineral"])


def test_entrepots_are_flagged_and_traced() -> None:
    cube = critmin.risk(minerals="rare-earths", years=2023).set_index("country")
    assert "entrepot" in cube.loc["NLD", "flags"]
    deu = cube.loc["DEU"]
    assert deu["top_supplier"] == "NLD"  # the port of Rotterdam
    assert deu["china_share"] < 0.4 < 0.7 < deu["china_share_origin"]


def test_mirror_data_is_flagged_for_russia_from_2022() -> None:
    rows = critmin.risk("RUS", "rare-earths", [2021, 2022]).set_index("year")
    assert "mirror_data" not in rows.loc[2021, "flags"]
    assert "mirror_data" in rows.loc[2022, "flags"]


def test_a_group_as_one_importer_leaves_out_trade_between_members() -> None:
    rows = critmin.risk("G7", "cobalt", 2023, as_group=True).set_index("country")
    members = ["CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"]
    g7 = rows.loc["G7"]
    assert g7["imports_basis_t"] < rows.loc[members, "imports_basis_t"].sum()
    inside = get_store().df(
        "SELECT COUNT(*) AS n FROM flows WHERE year = 2023 AND list_contains(?, exporter) "
        "AND list_contains(?, importer) AND hs6 = '810510'", [members, members])["n"][0]
    assert inside > 0  # there is trade between members, and it was left out
    assert g7["hhi"] == pytest.approx(rows.loc["USA", "hhi"])  # world columns are the world's
    assert g7["production_t"] == pytest.approx(rows.loc[members, "production_t"].sum())


def test_group_membership_is_by_year() -> None:
    from critmin.query import group_membership

    _label, members = group_membership("EU", [2019, 2021])
    gbr = members[members["iso3"] == "GBR"]
    assert list(gbr["year"]) == [2019]
    _label, brics = group_membership("BRICS", [2023, 2024])
    assert set(brics.loc[brics["year"] == 2024, "iso3"]) > set(
        brics.loc[brics["year"] == 2023, "iso3"])


@pytest.mark.parametrize(("args", "text"), [
    (["minerals", "--list", "india-2032"], "india-2023"),
    (["stages", "-c", "IND", "-s", "refind"], "refined"),
    (["profile", "IND", "--sort", "riks"], "risk"),
])
def test_bad_list_stage_and_sort_exit_2(cli, args: list[str], text: str) -> None:
    res = cli(*args)
    assert res.code == 2 and text in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


# -- the value chain as flows between stages and countries ------------------------------

def frame(rows: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["country", "qty_t"])


def trade(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["exporter", "importer", "qty_t"])


@pytest.fixture
def chain() -> pd.DataFrame:
    # Australia and Myanmar mine without processing; China mines 50 and processes 150;
    # Malaysia processes 20 with no mine. Myanmar ships 15 t as a compound to China
    # (feedstock: it processes nothing); Malaysia exports 25 t, 5 t more than it makes
    mine = frame([("AUS", 100.0), ("CHN", 50.0), ("MMR", 20.0)])
    processing = frame([("CHN", 150.0), ("MYS", 20.0)])
    processed = trade([("CHN", "JPN", 30.0), ("MMR", "CHN", 15.0), ("MYS", "JPN", 25.0)])
    products = trade([("JPN", "USA", 10.0), ("CHN", "DEU", 5.0)])
    return vc.chain_table(mine, processing, processed, products)


def flows_from(chain: pd.DataFrame, stage: str) -> dict[tuple[str, str], float]:
    part = chain[chain["from_stage"] == stage]
    return {(f, t): round(float(q), 9) for f, t, q in
            zip(part["from_country"], part["to_country"], part["qty_t"], strict=True)}


def test_hand_computed_chain(chain: pd.DataFrame) -> None:
    assert list(chain.columns) == vc.COLUMNS
    # China processes its own 50 t first; Myanmar's compound exports trace 15 t of its
    # ore to China; the rest (Australia 100, Myanmar 5) is pooled and fills China's
    # remaining 85 t and Malaysia's 20 t
    assert flows_from(chain, "mine") == {("CHN", "CHN"): 50.0, ("MMR", "CHN"): 15.0,
                                    ("AUS", "world"): 100.0, ("MMR", "world"): 5.0}
    assert flows_from(chain, "concentrate") == {("world", "CHN"): 85.0, ("world", "MYS"): 20.0}
    # Malaysia's 25 t of exports against 20 t of output: 20 t from it, 5 t beyond output;
    # China keeps 150 - 30 = 120 t; the Myanmar compound is not counted twice
    assert flows_from(chain, "processing") == {("CHN", "JPN"): 30.0, ("MYS", "JPN"): 20.0,
                                          ("beyond output", "JPN"): 5.0,
                                          ("CHN", "CHN"): 120.0}
    assert flows_from(chain, "use") == {("JPN", "USA"): 10.0, ("CHN", "DEU"): 5.0}
    nodes = vc.node_totals(chain).set_index(["stage", "country"])["qty_t"].round(9)
    assert nodes.to_dict() == {
        ("mine", "AUS"): 100.0, ("mine", "CHN"): 50.0, ("mine", "MMR"): 20.0,
        ("concentrate", "world"): 105.0,
        ("processing", "CHN"): 150.0, ("processing", "MYS"): 20.0,
        ("processing", "beyond output"): 5.0,
        ("use", "CHN"): 120.0, ("use", "JPN"): 55.0,
        ("product imports", "USA"): 10.0, ("product imports", "DEU"): 5.0}


def balanced(chain: pd.DataFrame) -> None:
    """No node sends more than it receives, but the nodes where flow enters the chain
    (mine output, and the balancing nodes that say so); up to the slivers the table drops
    (links below a millionth of mine output)."""
    nodes = vc.node_totals(chain)
    sources = nodes["stage"].eq("mine") | nodes["country"].isin([vc.BEYOND, vc.UNTRACED])
    slack = 1e-5 * nodes.loc[nodes["stage"] == "mine", "qty_t"].sum()
    inner = nodes[~sources]
    assert (inner["outflow"] <= inner["inflow"] + slack).all(), inner


def test_chain_balances_and_mine_output_is_kept(chain: pd.DataFrame) -> None:
    balanced(chain)
    out = chain[chain["from_stage"] == "mine"].groupby("from_country")["qty_t"].sum()
    assert out.to_dict() == {"AUS": 100.0, "CHN": 50.0, "MMR": 20.0}


def test_gaps_are_named_not_hidden() -> None:
    # mine output above processing: the rest goes to "not processed"; no product trade
    mine = frame([("AUS", 100.0)])
    t = vc.chain_table(mine, frame([("CHN", 60.0)]), trade([]))
    assert flows_from(t, "concentrate") == {("world", "CHN"): 60.0, ("world", "not processed"): 40.0}
    missing = t[t["qty_t"].isna()]
    assert missing[["to_stage", "to_country"]].values.tolist() == [["product imports",
                                                                     "no data"]]
    # processing above mine output: the difference comes from "not traced"
    t = vc.chain_table(mine, frame([("CHN", 130.0)]), trade([]))
    assert flows_from(t, "mine")[("not traced", "world")] == 30.0
    # no processing source: the mine output flows to "processing: no data"
    t = vc.chain_table(mine, None, trade([("AUS", "CHN", 10.0)]))
    assert flows_from(t, "mine") == {("AUS", "no data"): 100.0}
    assert flows_from(t, "processing") == {("AUS", "CHN"): 10.0}


def test_top_groups_the_rest_and_keeps_china(chain: pd.DataFrame) -> None:
    mine = frame([("AUS", 100.0), ("USA", 60.0), ("CHN", 5.0), ("BRA", 3.0)])
    t = vc.chain_table(mine, frame([("CHN", 168.0)]), trade([]), top=1)
    out = t[t["from_stage"] == "mine"].groupby("from_country")["qty_t"].sum()
    assert out.to_dict() == {"AUS": 100.0, "CHN": 5.0, "Other": 63.0}


def test_figure_columns_and_china_colour(chain: pd.DataFrame) -> None:
    fig = figures.sankey_figure(chain, "test", {"CHN": "China"}, "REO")
    node = fig.data[0].node
    assert len(set(node.x)) >= 3
    china = [c for label, c in zip(node.label, node.color, strict=True)
             if label.startswith("China ·")]
    assert len(china) == 3 and set(china) == {figures.CHINA_COLOUR}
    assert "China · 150 t" in node.label
    # links take the colour of their source, see-through
    link = fig.data[0].link
    first = list(link.source).index(list(node.label).index("China · 50 t"))
    assert link.color[first].startswith("rgba(192,57,43,")
    # values carry the basis on hover
    assert fig.data[0].valuesuffix == " t REO"


@pytest.mark.parametrize("mineral", ["rare-earths", "lithium"])
def test_real_chains_read_as_expected(mineral: str) -> None:
    from critmin import query

    chain = query.value_chain(mineral, 2023)
    balanced(chain)
    nodes = vc.node_totals(chain)
    named = nodes[~nodes["country"].isin(vc.SPECIAL)]
    largest = named.groupby("stage").first()["country"]
    assert largest["processing"] == "CHN"
    assert largest["mine"] == ("CHN" if mineral == "rare-earths" else "AUS")
    processing = named[named["stage"] == "processing"].set_index("country")["qty_t"]
    if mineral == "rare-earths":  # China separates most of the world's rare earths
        processors = nodes[(nodes["stage"] == "processing")
                           & ~nodes["country"].isin([vc.BEYOND, vc.UNMATCHED])]
        assert processing["CHN"] > 0.8 * processors["qty_t"].sum()
    else:  # Australian spodumene is refined abroad: it leaves through the ore pool
        mined = chain[(chain["from_stage"] == "mine") & (chain["from_country"] == "AUS")]
        assert mined.set_index("to_stage")["qty_t"]["concentrate"] > 0.9 * 204_200
    fig = figures.sankey_figure(chain, mineral, None, "t")
    assert len(set(fig.data[0].node.x)) >= 3
    colours = dict(zip(fig.data[0].node.label, fig.data[0].node.color, strict=True))
    assert {c for label, c in colours.items() if label.startswith("CHN ·")} == {
        figures.CHINA_COLOUR}
