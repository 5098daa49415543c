"""Saved scenarios: save, load, rerun and compare what-ifs as files (critmin.whatif.saved)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import critmin
from critmin.errors import InvalidInput, NotFound
from critmin.store import get_store
from critmin.whatif.saved import COLUMNS

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples" / "india_russia_scenarios"


def same(a: Any, b: Any) -> bool:
    """Two results' JSON forms are equal (NaN equal to NaN)."""
    return json.dumps(a.to_dict(), sort_keys=True, default=str) == json.dumps(
        b.to_dict(), sort_keys=True, default=str)


@pytest.mark.parametrize(("kind", "function", "params"), [
    ("restrict", critmin.restrict,
     {"supplier": "CHN", "mineral": "rare-earths", "year": 2024, "stage": "refined",
      "targets": ["IND"], "stock_buffer": 0.25}),
    ("pact", critmin.pact,
     {"importer": "IND", "supplier": "RUS", "mineral": "lithium", "volume": 300,
      "mode": "new", "year": 2024}),
    ("supply-at-risk", critmin.supply_at_risk,
     {"mineral": "cobalt", "year": 2023, "draws": 500, "seed": 3,
      "probability": {"CHN": 0.3}, "countries": ["IND", "JPN"]}),
])
def test_save_load_run_gives_the_direct_result(tmp_path: Path, kind: str,
                                               function: Callable[..., Any],
                                               params: dict[str, Any]) -> None:
    path = tmp_path / "scenario.json"
    saved = critmin.save_scenario(kind, path, **params)
    content = json.loads(path.read_text())
    assert content["kind"] == kind
    assert content["data_fingerprint"] == get_store().fingerprint
    assert content["critmin_version"] == critmin.__version__
    # every keyword argument of the function is in the file, defaults included
    assert list(content["params"]) == list(saved.params)
    assert set(content["params"]) >= set(params)
    loaded = critmin.load_scenario(path)
    assert (loaded.kind, loaded.name, loaded.notes) == (kind, "scenario", [])
    run = critmin.run_scenario(path)
    assert same(run.result, function(**params))
    assert run.notes == run.result.notes


def test_an_unknown_parameter_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    with pytest.raises(InvalidInput) as err:
        critmin.save_scenario("restrict", path, supplier="CHN", mineral="rare-earths",
                              yaer=2024)
    assert "'yaer'" in str(err.value)
    assert "year" in err.value.suggestions
    with pytest.raises(InvalidInput, match="supply-at-risk"):
        critmin.save_scenario("supply_at_risk", path, year=2024)  # no mineral
    with pytest.raises(InvalidInput, match="unknown scenario kind 'restrictt'") as err:
        critmin.save_scenario("restrictt", path, supplier="CHN", mineral="cobalt")
    assert err.value.suggestions == ["restrict"]
    assert list(tmp_path.iterdir()) == []


def test_a_fingerprint_or_version_mismatch_is_a_note(tmp_path: Path) -> None:
    path = tmp_path / "deal.json"
    critmin.save_scenario("pact", path, importer="IND", supplier="RUS", mineral="lithium",
                          volume=300, mode="new", year=2024)
    content = json.loads(path.read_text())
    content["data_fingerprint"] = "0" * 20
    content["critmin_version"] = "0.0.1"
    path.write_text(json.dumps(content))
    run = critmin.run_scenario(path)
    current = get_store().fingerprint
    assert run.notes[:2] == [
        f"saved on data {'0' * 20}, run on data {current}: the figures may differ from "
        "those first seen",
        f"saved with critmin 0.0.1, run with critmin {critmin.__version__}"]
    assert run.result.importer == "IND"


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "is not valid JSON: Expecting property name"),
    ('{"kind": "pact"}', "is not a critmin scenario file"),
    ('{"critmin_scenario": 1, "kind": "pacts", "params": {}}', "unknown scenario kind 'pacts'"),
    ('{"critmin_scenario": 1, "kind": "pact", "params": {"importr": "IND"}}',
     "pact has no parameter 'importr'; did you mean importer?"),
    ('{"critmin_scenario": 1, "kind": "pact", "params": {}, "data_fingerprint": 3}',
     "'data_fingerprint' must be a text, not 3"),
])
def test_a_bad_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InvalidInput) as err:
        critmin.load_scenario(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"no scenario file '.*missing\.json'"):
        critmin.load_scenario(tmp_path / "missing.json")


def test_compare_the_docs_examples() -> None:
    paths = sorted(EXAMPLES.glob("*.json"))
    assert [p.stem for p in paths] == ["china_rare_earth_metals_cut",
                                       "india_magnet_scheme",
                                       "india_russia_lithium_pact",
                                       "india_russia_rare_earth_metals_pact"]
    table = critmin.compare_scenarios(paths)
    assert list(table.columns) == list(COLUMNS)
    assert not table.duplicated(["scenario", "country"]).any()
    cut = critmin.restrict("CHN", "rare-earths", 2024, stage="refined")
    restricted = table[table["scenario"] == "china_rare_earth_metals_cut"]
    assert list(restricted["country"]) == list(cut.countries["country"])
    assert restricted[["exposure_before", "expected_loss_share"]].isna().all().all()
    india = restricted.set_index("country").loc["IND"]
    assert india["loss_share"] == pytest.approx(0.937, abs=5e-4)
    pacts = table[table["kind"] == "pact"].set_index("scenario")
    assert list(pacts["country"]) == ["IND", "IND"]
    metals = pacts.loc["india_russia_rare_earth_metals_pact"]
    # the pact's exposure before is the restriction's loss: China withholds all, cascade on
    assert metals["exposure_before"] == pytest.approx(india["loss_share"])
    assert metals["exposure_after"] < metals["exposure_before"]
    assert metals["china_share_after"] < metals["china_share_before"]
    lithium = pacts.loc["india_russia_lithium_pact"]
    deal = critmin.pact("IND", "RUS", "lithium", volume=300, mode="new", year=2024)
    assert lithium["exposure_after"] == pytest.approx(deal.exposure_after)
    assert pd.isna(lithium["loss_share"])


def test_compare_takes_every_kind(tmp_path: Path) -> None:
    risk = tmp_path / "risk.json"
    critmin.save_scenario("supply-at-risk", risk, mineral="cobalt", year=2023, draws=500,
                          countries=["IND", "JPN"])
    table = critmin.compare_scenarios([risk, EXAMPLES / "india_russia_lithium_pact.json"])
    direct = critmin.supply_at_risk("cobalt", 2023, draws=500, countries=["IND", "JPN"])
    assert list(table["country"]) == [*direct.countries["country"], "IND"]
    got = table[table["kind"] == "supply-at-risk"].set_index("country")
    want = direct.countries.set_index("country")
    for column in ("expected_loss_share", "var95_share", "p_loss_over_10"):
        assert got.loc["IND", column] == pytest.approx(want.loc["IND", column])
    with pytest.raises(InvalidInput, match="at least one"):
        critmin.compare_scenarios([])


def test_cli_save_then_run(tmp_path: Path, cli: Callable[..., Any]) -> None:
    path = tmp_path / "deal.json"
    first = cli("pact", "--importer", "IND", "--supplier", "RUS", "-m", "rare-earths",
                "--stage", "refined", "--volume", "300", "--mode", "new", "-y", "2024",
                "--save", str(path), "--json")
    assert first.code == 0, first.stderr
    assert f"saved the scenario to {path}" in first.stderr
    saved = json.loads(path.read_text())
    assert saved["kind"] == "pact"
    assert saved["params"]["stage"] == "refined" and saved["params"]["volume"] == 300
    again = cli("scenario", "run", str(path), "--json")
    assert again.code == 0, again.stderr
    body = again.json()
    assert body["scenario"]["kind"] == "pact"
    assert body["result"] == first.json()

    cut = tmp_path / "cut.json"
    restricted = cli("restrict", "--supplier", "CHN", "-m", "rare-earths", "--stage",
                     "refined", "-y", "2024", "--target", "IND", "--save", str(cut), "--csv")
    assert restricted.code == 0, restricted.stderr
    compared = cli("scenario", "compare", str(cut), str(path), "--csv")
    assert compared.code == 0, compared.stderr
    rows = [line.split(",") for line in compared.stdout.strip().splitlines()]
    assert rows[0] == list(COLUMNS)
    assert {(r[0], r[1]) for r in rows[1:]} >= {("cut", "restrict"), ("deal", "pact")}


def test_cli_errors_exit_2_with_the_value(tmp_path: Path, cli: Callable[..., Any]) -> None:
    missing = tmp_path / "missing.json"
    res = cli("scenario", "run", str(missing))
    assert res.code == 2
    assert str(missing) in res.stderr
    nowhere = tmp_path / "no-folder" / "cut.json"
    res = cli("restrict", "--supplier", "CHN", "-m", "rare-earths", "--stage", "refined",
              "-y", "2024", "--save", str(nowhere), "--csv")
    assert res.code == 2
    assert "no-folder" in res.stderr
    assert not nowhere.parent.exists()
    bad = tmp_path / "bad.json"
    bad.write_text('{"critmin_scenario": 1, "kind": "pacts", "params": {}}')
    res = cli("scenario", "compare", str(bad))
    assert res.code == 2
    assert "'pacts'" in res.stderr and "pact" in res.stderr
