"""Minerals embodied in traded goods: contents multiplied out, applied to flows, summed per
country, and shown beside the direct figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import critmin
from critmin import goods
from critmin.catalog import contents
from critmin.errors import DataError
from critmin.metrics import embodied as emb

GENERATOR = Path(__file__).resolve().parent.parent / "benchmarks" / "synthetic_baci.py"


def catalog(rows: list[tuple[str, str, float, float, float]], per: str = "t") -> pd.DataFrame:
    return pd.DataFrame([{"product": p, "component": c, "per": per, "content": v,
                          "content_low": lo, "content_high": hi, "source": f"{p}>{c}"}
                         for p, c, v, lo, hi in rows])


# A magnet code holding magnet alloy (3 levels down to rare earths), and a battery code
# holding lithium directly.
GOODS = catalog([("850511", "magnet", 1.0, 1.0, 1.0),
                 ("magnet", "re-metal", 0.3, 0.25, 0.35),
                 ("re-metal", "rare-earths", 1.2, 1.1, 1.3),
                 ("850760", "lithium", 0.02, 0.01, 0.03)])
MINERALS = {"rare-earths", "lithium"}


def test_contents_multiply_along_every_level() -> None:
    flat = emb.expand_contents(GOODS, MINERALS).set_index(["hs6", "mineral"])
    magnet = flat.loc[("850511", "rare-earths")]
    assert magnet["content"] == pytest.approx(0.36)
    assert (magnet["content_low"], magnet["content_high"]) == pytest.approx((0.275, 0.455))
    assert magnet["levels"] == 3
    assert magnet["source"] == "850511>magnet > magnet>re-metal > re-metal>rare-earths"
    assert flat.loc[("850760", "lithium"), "levels"] == 1
    # components are not goods: only six-digit codes come out
    assert set(flat.index.get_level_values("hs6")) == {"850511", "850760"}


def test_two_paths_to_one_mineral_add_up() -> None:
    rows = catalog([("850131", "magnet", 0.1, 0.1, 0.1), ("850131", "winding", 0.5, 0.5, 0.5),
                    ("magnet", "rare-earths", 0.4, 0.4, 0.4),
                    ("winding", "rare-earths", 0.01, 0.01, 0.01)])
    flat = emb.expand_contents(rows, {"rare-earths"})
    assert flat["content"].tolist() == pytest.approx([0.1 * 0.4 + 0.5 * 0.01])
    assert flat["source"].iloc[0].count("; ") == 1


def test_a_cycle_or_an_unknown_component_is_refused() -> None:
    cycle = catalog([("850511", "a", 1.0, 1.0, 1.0), ("a", "b", 1.0, 1.0, 1.0),
                     ("b", "a", 1.0, 1.0, 1.0)])
    with pytest.raises(DataError, match="cycle"):
        emb.expand_contents(cycle, {"rare-earths"})
    with pytest.raises(DataError, match="neither minerals"):
        emb.expand_contents(catalog([("850511", "unobtainium", 1.0, 1.0, 1.0)]), MINERALS)


def test_three_countries_two_goods_by_hand() -> None:
    flows = pd.DataFrame([
        # year, exporter, importer, hs6, value_kusd, qty_t
        (2024, "CHN", "IND", "850511", 5000.0, 100.0),   # 50 USD/kg
        (2024, "DEU", "IND", "850511", 2000.0, 20.0),
        (2024, "CHN", "IND", "850760", 900.0, 50.0),
        (2024, "IND", "DEU", "850511", 800.0, 10.0),
        (2024, "CHN", "DEU", "850511", 30.0, 30.0),      # 1 USD/kg: below the floor
        (2024, "CHN", "DEU", "850760", 100.0, float("nan")),  # no quantity
    ], columns=["year", "exporter", "importer", "hs6", "value_kusd", "qty_t"])
    flat = emb.expand_contents(GOODS, MINERALS)
    lines = emb.embodied_trade(flows, flat, pd.Series({"850511": 2.0}))
    out = emb.summarise(lines).set_index(["country", "mineral"])
    ind = out.loc[("IND", "rare-earths")]
    assert ind["imports_t"] == pytest.approx(120 * 0.36)
    assert (ind["imports_low_t"], ind["imports_high_t"]) == pytest.approx((120 * 0.275,
                                                                           120 * 0.455))
    assert ind["imports_from_china_t"] == pytest.approx(100 * 0.36)
    assert ind["china_share"] == pytest.approx(100 / 120)
    assert ind["exports_t"] == pytest.approx(10 * 0.36)
    assert out.loc[("IND", "lithium"), "imports_t"] == pytest.approx(50 * 0.02)
    assert out.loc[("IND", "lithium"), "china_share"] == pytest.approx(1.0)
    deu = out.loc[("DEU", "rare-earths")]
    assert deu["imports_t"] == pytest.approx(10 * 0.36)  # China's ferrite counts nothing
    assert deu["china_share"] == pytest.approx(0.0)
    assert deu["exports_t"] == pytest.approx(20 * 0.36)
    assert out.loc[("DEU", "lithium"), "imports_t"] == 0.0
    chn = out.loc[("CHN", "rare-earths")]
    assert (chn["imports_t"], chn["exports_t"]) == pytest.approx((0.0, 100 * 0.36))
    assert pd.isna(chn["china_share"])
    # per good: the two goods of India's imports, each on its own row
    by_good = emb.summarise(lines, by_product=True)
    assert len(by_good[by_good["country"] == "IND"]) == 2


def test_contents_per_unit_are_not_applied_to_tonnes() -> None:
    flat = emb.expand_contents(catalog([("870380", "lithium", 0.019, 0.019, 0.019)],
                                       per="unit"), {"lithium"})
    flows = pd.DataFrame({"year": [2024], "exporter": ["CHN"], "importer": ["IND"],
                          "hs6": ["870380"], "value_kusd": [1e5], "qty_t": [2000.0]})
    assert emb.embodied_trade(flows, flat).empty


def test_a_vehicle_code_in_tonnes_carries_per_unit_contents_through_its_mass() -> None:
    # 870380 in tonnes -> cars (1 / 1.8 t, range 1 / 2.0 to 1 / 1.6) -> a 0.5 t battery
    # pack per car -> lithium 0.02 t per t of pack (range 0.01-0.03)
    rows = pd.concat([
        catalog([("870380", "car", 1 / 1.8, 1 / 2.0, 1 / 1.6)]),
        catalog([("car", "pack", 0.5, 0.4, 0.6)], per="unit"),
        catalog([("pack", "lithium", 0.02, 0.01, 0.03)])], ignore_index=True)
    flat = emb.expand_contents(rows, {"lithium"})
    assert flat[["hs6", "per", "levels"]].values.tolist() == [["870380", "t", 3]]
    row = flat.iloc[0]
    assert row["content"] == pytest.approx(0.5 * 0.02 / 1.8)
    assert (row["content_low"], row["content_high"]) == pytest.approx(
        (0.4 * 0.01 / 2.0, 0.6 * 0.03 / 1.6))
    flows = pd.DataFrame({"year": [2024], "exporter": ["CHN"], "importer": ["IND"],
                          "hs6": ["870380"], "value_kusd": [9e4], "qty_t": [3600.0]})
    # 3,600 t of cars = 2,000 cars x 0.5 t of pack x 0.02 t of lithium = 20 t
    lines = emb.embodied_trade(flows, flat)
    assert lines["embodied_t"].tolist() == pytest.approx([20.0])


def test_a_product_counted_both_per_tonne_and_per_unit_is_refused() -> None:
    rows = pd.concat([catalog([("870380", "lithium", 0.01, 0.01, 0.01)]),
                      catalog([("870380", "cobalt", 0.01, 0.01, 0.01)], per="unit")],
                     ignore_index=True)
    with pytest.raises(DataError, match=r"mix per t and per unit for \['870380'\]"):
        emb.expand_contents(rows, {"lithium", "cobalt"})


def test_product_and_goods_contents_share_one_expansion() -> None:
    # the same two-level chain through both catalogs' entry points gives the same numbers
    rows = pd.DataFrame({"product": ["850760", "cell", "cell"],
                         "component": ["cell", "lithium", "cobalt"],
                         "stage": ["product"] * 3, "per": ["t"] * 3,
                         "content": [0.8, 0.05, 0.1], "content_low": [0.8, 0.04, 0.0],
                         "content_high": [0.8, 0.06, 0.2], "source": ["a", "b", "c"]})
    product = contents.mineral_contents(rows, {"lithium", "cobalt"})
    goods_flat = emb.expand_contents(rows, {"lithium", "cobalt"})
    top = product[product["product"] == "850760"].reset_index(drop=True)
    assert top["content"].tolist() == pytest.approx([0.08, 0.04])  # cobalt, lithium
    assert goods_flat["content"].tolist() == pytest.approx(top["content"].tolist())
    assert goods_flat["content_high"].tolist() == pytest.approx([0.16, 0.048])
    assert goods_flat["source"].tolist() == top["source"].tolist() == ["a > c", "a > b"]


def test_every_catalog_row_has_a_source_and_a_consistent_range() -> None:
    rows = goods.goods_contents()
    assert len(rows) > 0
    assert rows["source"].str.len().gt(20).all()
    assert rows["per"].isin(["t", "unit"]).all()
    assert (rows["content_low"] <= rows["content"]).all()
    assert (rows["content"] <= rows["content_high"]).all()
    published = rows[~rows["source"].str.startswith(("Chemistry", "HS "))]
    assert published["year"].notna().all()
    # each published figure names its publication and where in it
    assert published["source"].str.contains(r"\(20\d\d\)").all()
    assert not rows.duplicated(["product", "component"]).any()
    assert rows.groupby("product")["per"].nunique().eq(1).all()
    flat = goods.mineral_contents()
    assert set(flat["mineral"]) <= set(critmin.minerals()["mineral"])
    assert (flat["content_low"] <= flat["content"]).all()
    assert (flat["content"] <= flat["content_high"]).all()


def test_the_battery_content_is_the_published_chemistry_range() -> None:
    flat = goods.mineral_contents().set_index(["hs6", "mineral"])
    li2o = 29.88 / 13.88  # t Li2O per t Li
    # BatPaC kg per kWh over pack kg per kWh (100 kWh packs): LFP 0.091485 / 6.66,
    # NMC111 0.123509 / 5.51, NMC622 0.110247 / 5.23; central 40 % LFP, 60 % NMC622
    lithium = flat.loc[("850760", "lithium")]
    lfp, nmc111, nmc622 = 0.091485 / 6.66, 0.123509 / 5.51, 0.110247 / 5.23
    assert lithium["content_low"] == pytest.approx(lfp * li2o, rel=1e-3)
    assert lithium["content_high"] == pytest.approx(nmc111 * li2o, rel=1e-3)
    assert lithium["content"] == pytest.approx((0.4 * lfp + 0.6 * nmc622) * li2o, rel=1e-3)
    assert lithium["levels"] == 2
    cobalt = flat.loc[("850760", "cobalt")]
    assert cobalt["content_low"] == 0.0  # LFP holds none
    assert cobalt["content"] == pytest.approx(0.6 * 0.182769 / 5.23, rel=1e-3)
    assert flat.loc[("850760", "nickel"), "content_high"] == pytest.approx(0.709995 / 5.11,
                                                                            rel=1e-3)
    assert "10.1038/s41893-025-01561-5" in lithium["source"]


def test_the_electric_car_contents_apply_per_tonne_through_the_eea_mass() -> None:
    flat = goods.mineral_contents().set_index(["hs6", "mineral"])
    lithium = flat.loc[("870380", "lithium")]
    assert lithium["per"] == "t"
    # IEA: 8.9 kg Li (19.16 kg Li2O) per car; EEA: 1,800 kg per car (1,723 kg in 2019)
    assert lithium["content"] == pytest.approx(0.01916 / 1.8, rel=1e-3)
    assert lithium["content_high"] == pytest.approx(0.01916 / 1.723, rel=1e-3)
    assert flat.loc[("870380", "cobalt"), "content"] == pytest.approx(0.0133 / 1.8, rel=1e-3)
    assert goods.per_unit_goods().empty


def test_the_magnet_content_is_the_published_range() -> None:
    flat = goods.mineral_contents().set_index(["hs6", "mineral"])
    magnet = flat.loc[("850511", "rare-earths")]
    # 31-32 wt% rare-earth metal (Yang et al. 2017) x 1.148-1.208 t oxide per t metal
    assert magnet["content_low"] == pytest.approx(0.31 * 1.148)
    assert magnet["content_high"] == pytest.approx(0.32 * 1.208)
    assert magnet["levels"] == 3
    assert "10.1007/s40831-016-0090-4" in magnet["source"]


def test_bundled_magnets_for_india_2024_beside_the_direct_rare_earth_figures() -> None:
    view = goods.beside_direct("IND", "rare-earths", 2024).set_index("stage")
    assert list(view.index) == ["ore", "intermediate", "refined", "product",
                                "embodied in goods"]
    direct = critmin.stages("IND", "rare-earths", 2024).set_index("stage")
    for stage in ("intermediate", "refined", "product"):
        assert view.loc[stage, "imports_t"] == pytest.approx(direct.loc[stage,
                                                                        "imports_basis_t"])
    magnets = view.loc["embodied in goods"]
    # the same tonnes of magnets as the product stage (0.35 t REO per t there), at the
    # published content here, and the same suppliers
    content = goods.mineral_contents().set_index(["hs6", "mineral"]).loc[
        ("850511", "rare-earths"), "content"]
    assert magnets["imports_t"] / content == pytest.approx(
        view.loc["product", "imports_t"] / 0.35, rel=1e-9)
    assert magnets["china_share"] == pytest.approx(view.loc["product", "china_share"])
    assert magnets["imports_low_t"] < magnets["imports_t"] < magnets["imports_high_t"]
    assert 7_000 < magnets["imports_t"] < 9_000
    assert bool(view.loc["product", "overlaps_embodied"])
    assert not view.loc[["intermediate", "refined"], "overlaps_embodied"].any()


def test_bundled_years_without_magnet_quantities_embody_nothing() -> None:
    # magnets have quantities from 2024 on in the bundled data
    assert goods.embodied("IND", "rare-earths", 2023).empty


def test_release_every_good_of_an_imported_release_is_counted(tmp_path: Path) -> None:
    folder = tmp_path / "release"
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(folder), "--years", "2023",
                    "--rows-per-year", "40000", "--products", "catalog", "--seed", "11"],
                   check=True, capture_output=True)
    files = sorted(folder.glob("*.csv"))
    critmin.import_baci(files)
    raw = pd.read_csv(next(folder.glob("BACI_HS92_Y2023_*.csv")), dtype={"k": str},
                      na_values=["NA"], skipinitialspace=True)
    raw.columns = [c.strip() for c in raw.columns]
    magnets = raw[raw["k"].str.zfill(6) == "850511"]
    assert len(magnets) > 0
    found = goods.embodied(None, "rare-earths", 2023)
    assert len(found) > 0
    flows = critmin.query.get_store().flows(hs6=["850511"], years=[2023])
    q = flows["qty_t"].fillna(0.0)
    priced = (flows["value_kusd"] / q.where(q > 0)) >= 2.0
    content = goods.mineral_contents().set_index(["hs6", "mineral"]).loc[
        ("850511", "rare-earths"), "content"]
    by_importer = (q.where(priced, 0.0) * content).groupby(flows["importer"].astype(str)).sum()
    top = by_importer.idxmax()
    row = found.set_index("country").loc[top]
    assert row["imports_t"] == pytest.approx(by_importer[top], rel=1e-9)
    assert re.fullmatch(r"[A-Z]{3}", top)


def test_the_embodied_command_shows_the_views_side_by_side(cli) -> None:
    done = cli("embodied", "India", "-m", "rare-earths", "-y", "2024", "--json")
    assert done.code == 0, done.stderr
    rows = {r["stage"]: r for r in done.json()}
    assert rows["embodied in goods"]["view"] == "embodied"
    assert rows["product"]["overlaps_embodied"] is True
    assert "not an addition" in done.stderr
    # electric cars apply through their mass now: no good is left per unit only
    assert "contents per unit" not in done.stderr
    by_good = cli("embodied", "IND", "-m", "rare-earths", "-y", "2024", "--by-product",
                  "--json")
    assert [r["hs6"] for r in by_good.json()] == ["850511"]


def test_bundled_india_magnets_doc_quotes_the_computed_figures() -> None:
    doc = " ".join((Path(__file__).parents[1] / "docs" / "examples" / "india_magnets.md"
                    ).read_text("utf-8").split())
    row = goods.embodied("IND", "rare-earths", 2024).iloc[0]
    quoted = (f"**{row['imports_t']:,.0f} t REO ({row['imports_low_t']:,.0f}-"
              f"{row['imports_high_t']:,.0f} t)**")
    assert quoted in doc
    assert f"{row['imports_from_china_t']:,.0f} t of it from China" in doc
    assert f"{row['exports_t']:,.0f} t in its magnet exports" in doc
    direct = critmin.stages("IND", "rare-earths", 2024).set_index("stage")
    assert f"| {direct.loc['refined', 'imports_basis_t']:,.0f} |" in doc
    assert f"| {direct.loc['product', 'imports_basis_t']:,.0f} |" in doc
