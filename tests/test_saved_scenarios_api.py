"""Saved scenarios in the REST API (/api/v1/saved-scenarios): listed, run and compared by
name or by content; a comparison's ``rows`` are ``critmin.compare_scenarios``'s table, and
every error has the one shape. The bundled examples are the docs' files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import critmin
from critmin.present import records
from critmin.store import get_store
from critmin.whatif.saved import EXAMPLES, FOLDER_ENV
from test_rest_api import api_error, as_json, ok

DOCS = Path(__file__).resolve().parents[1] / "docs" / "examples" / "india_russia_scenarios"
NAMES = ["china_rare_earth_metals_cut", "india_magnet_scheme", "india_russia_lithium_pact",
         "india_russia_rare_earth_metals_pact"]
CUT, MAGNETS, LITHIUM, METALS = NAMES


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from critmin.api import create_app

    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


def content(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def test_the_bundled_examples_are_the_docs_files() -> None:
    bundled = {p.name: p.read_bytes() for p in EXAMPLES.glob("*.json")}
    docs = {p.name: p.read_bytes() for p in DOCS.glob("*.json")}
    assert sorted(bundled) == [f"{n}.json" for n in NAMES]
    assert bundled == docs


def test_list(client) -> None:
    body = ok(client.get("/api/v1/saved-scenarios"))
    assert body["total"] == 4
    assert [r["name"] for r in body["rows"]] == NAMES
    cut = body["rows"][0]
    assert (cut["kind"], cut["source"], cut["mineral"], cut["year"], cut["stage"]) == (
        "restrict", "bundled", "rare-earths", 2024, "refined")
    assert cut["title"] == "CHN withholds all of rare-earths (refined) exports, 2024"
    assert cut["content"] == as_json(critmin.load_scenario(EXAMPLES / f"{CUT}.json").to_dict())
    saved = json.loads((EXAMPLES / f"{CUT}.json").read_text())
    assert (cut["data_fingerprint"], cut["critmin_version"]) == (
        saved["data_fingerprint"], saved["critmin_version"])
    assert cut["error"] is None
    assert cut["notes"] == critmin.load_scenario(EXAMPLES / f"{CUT}.json").notes


def test_list_takes_the_folder_of_the_environment(client, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    critmin.save_scenario("supply-at-risk", tmp_path / "cobalt_risk.json", mineral="cobalt",
                          year=2023, draws=500, countries=["IND", "JPN"])
    critmin.save_scenario("pact", tmp_path / f"{LITHIUM}.json", importer="IND",
                          supplier="AUS", mineral="lithium", volume=100, year=2023)
    (tmp_path / "broken.json").write_text("{not json")
    monkeypatch.setenv(FOLDER_ENV, str(tmp_path))
    rows = {r["name"]: r for r in ok(client.get("/api/v1/saved-scenarios"))["rows"]}
    assert sorted(rows) == sorted([*NAMES, "cobalt_risk", "broken"])
    assert rows["cobalt_risk"]["source"] == "folder"
    assert rows["cobalt_risk"]["kind"] == "supply-at-risk"
    # a file of the folder takes the place of the bundled example of the same name
    assert rows[LITHIUM]["source"] == "folder"
    assert rows[LITHIUM]["content"]["params"]["supplier"] == "AUS"
    assert "is not valid JSON" in rows["broken"]["error"]
    assert rows[CUT]["source"] == "bundled"
    # and it runs by name
    body = ok(client.post("/api/v1/saved-scenarios/compare",
                          json={"scenarios": ["cobalt_risk", CUT], "country": "JPN"}))
    table = critmin.compare_scenarios([tmp_path / "cobalt_risk.json", EXAMPLES / f"{CUT}.json"])
    assert body["rows"] == as_json(records(table))


def test_compare_by_name_is_compare_scenarios(client) -> None:
    body = ok(client.post("/api/v1/saved-scenarios/compare", params={"figures": "true"},
                          json={"scenarios": NAMES}))
    table = critmin.compare_scenarios([EXAMPLES / f"{n}.json" for n in NAMES])
    assert body["rows"] == as_json(records(table))
    assert body["total"] == len(table)
    assert body["units"] == table.attrs["units"]
    assert body["notes"] == table.attrs["notes"]
    assert body["data_fingerprint"] == get_store().fingerprint
    assert body["critmin_version"] == critmin.__version__
    # the side-by-side view: India, the importer of the first agreement
    assert body["country"] == "IND"
    view = {r["scenario"]: r for r in body["outcomes"]["rows"]}
    assert list(view) == NAMES
    india = table[(table["scenario"] == CUT) & (table["country"] == "IND")].iloc[0]
    assert view[CUT]["loss_share"] == pytest.approx(india["loss_share"])
    assert view[CUT]["loss_t"] == pytest.approx(india["loss_t"])
    assert view[CUT]["feasible"] is None
    deal = critmin.run_scenario(EXAMPLES / f"{METALS}.json").result
    metals = view[METALS]
    assert metals["loss_share"] == pytest.approx(deal.exposure_after)
    assert metals["loss_share_without"] == pytest.approx(deal.exposure_before)
    assert metals["loss_share_without"] == pytest.approx(india["loss_share"])
    assert metals["loss_t"] == pytest.approx(deal.exposure_after * deal.after["supply_t"])
    assert metals["feasible"] is deal.feasible
    assert metals["delivery"].startswith("300.0 of 300.0 t REO a year from RUS")
    assert all(w in metals["notes"] for w in deal.warnings)
    saved = json.loads((EXAMPLES / "india_russia_rare_earth_metals_pact.json").read_text())
    assert (metals["data_fingerprint"], metals["critmin_version"]) == (
        saved["data_fingerprint"], saved["critmin_version"])
    assert body["outcomes"]["units"]["loss_share"] == "share"
    scheme = critmin.run_scenario(EXAMPLES / f"{MAGNETS}.json").result
    assert view[MAGNETS]["loss_share"] == pytest.approx(scheme.exposure_after)
    assert view[MAGNETS]["loss_share_without"] == pytest.approx(scheme.exposure_before)
    assert view[MAGNETS]["delivery"].startswith(
        "2,100.0 t REO a year of new output at the product stage")
    # one bar per scenario, the first on top
    bars = body["figure"]["data"][0]
    assert bars["type"] == "bar" and bars["orientation"] == "h"
    assert len(bars["y"]) == 4 and bars["y"][-1] == "china rare earth<br>metals cut"


def test_compare_by_content_and_another_country(client) -> None:
    posted = [{**content(METALS), "name": "deal"}, content(CUT)]
    body = ok(client.post("/api/v1/saved-scenarios/compare",
                          json={"scenarios": posted, "country": "Japan"}))
    table = critmin.compare_scenarios([EXAMPLES / f"{METALS}.json", EXAMPLES / f"{CUT}.json"])
    table["scenario"] = table["scenario"].map({METALS: "deal", CUT: "scenario 2"})
    assert body["rows"] == as_json(records(table))
    assert body["country"] == "JPN"
    deal, cut = body["outcomes"]["rows"]
    assert deal["loss_share"] is None  # the agreement concerns India only
    assert deal["notes"][0] == "the agreement concerns IND, not JPN"
    japan = table[(table["scenario"] == "scenario 2") & (table["country"] == "JPN")].iloc[0]
    assert cut["loss_share"] == pytest.approx(japan["loss_share"])
    # the same name twice: told apart by position
    twice = ok(client.post("/api/v1/saved-scenarios/compare", json={"scenarios": [CUT, CUT]}))
    assert [r["scenario"] for r in twice["outcomes"]["rows"]] == [f"{CUT} (1)", f"{CUT} (2)"]


def test_run_one(client) -> None:
    body = ok(client.post("/api/v1/saved-scenarios/run", params={"figures": "true"},
                          json={"scenario": LITHIUM}))
    done = critmin.run_scenario(EXAMPLES / f"{LITHIUM}.json")
    assert body["result"] == as_json(done.result.to_dict())
    assert body["scenario"] == as_json({"name": LITHIUM, **done.scenario.to_dict()})
    assert body["summary"] == done.summary()
    assert body["notes"] == done.notes
    assert body["figure"]["data"]
    by_content = ok(client.post("/api/v1/saved-scenarios/run",
                                json={"scenario": content(LITHIUM)}))
    assert by_content["result"] == body["result"]
    assert by_content["scenario"]["name"] == "scenario 1"


BAD_PACT = {**content(LITHIUM), "params": {"importr": "IND"}}
TOO_MANY_DRAWS = {"critmin_scenario": 1, "kind": "supply-at-risk", "data_fingerprint": "x",
                  "critmin_version": "0", "params": {"mineral": "cobalt", "draws": 10**7}}


@pytest.mark.parametrize(("path", "body", "status", "code", "text"), [
    ("compare", {"scenarios": ["china_rare_earth_metal_cut"]}, 404, "not_found",
     "no saved scenario 'china_rare_earth_metal_cut'"),
    ("run", {"scenario": "nothing"}, 404, "not_found", "no saved scenario 'nothing'"),
    ("compare", {"scenarios": [LITHIUM], "country": "Inida"}, 404, "not_found",
     "unknown country 'Inida'"),
    ("compare", {"scenarios": []}, 422, "invalid_input", "body.scenarios"),
    ("compare", {"scenarios": [CUT] * 11}, 422, "invalid_input", "body.scenarios"),
    ("compare", {"scenarios": [CUT], "contry": "IND"}, 422, "invalid_input", "body.contry"),
    ("compare", {"scenarios": [CUT, {"kind": "pact"}]}, 422, "invalid_input",
     "'scenario 2' is not a critmin scenario file"),
    ("compare", {"scenarios": [BAD_PACT]}, 422, "invalid_input",
     "pact has no parameter 'importr'"),
    ("compare", {"scenarios": [CUT, TOO_MANY_DRAWS]}, 422, "invalid_input",
     "body.scenarios.1.params.draws"),
    ("run", {"scenario": TOO_MANY_DRAWS}, 422, "invalid_input", "body.scenario.params.draws"),
    ("run", {"scenario": 3}, 422, "invalid_input", "body.scenario"),
])
def test_errors_have_the_one_shape(client, path: str, body: dict, status: int, code: str,
                                   text: str) -> None:
    err = api_error(client.post(f"/api/v1/saved-scenarios/{path}", json=body), status, code)
    assert text in err["message"]
    if code == "not_found" and "scenario" in text:
        assert err["suggestions"] and err["details"]["where"].startswith("body.scenario")


def test_unknown_name_suggests_and_get_is_refused(client) -> None:
    err = api_error(client.post("/api/v1/saved-scenarios/compare",
                                json={"scenarios": ["china_rare_earth_metal_cut"]}),
                    404, "not_found")
    assert err["suggestions"][0] == CUT
    assert err["details"]["where"] == "body.scenarios.0"
    api_error(client.get("/api/v1/saved-scenarios/compare"), 405, "method_not_allowed")
    api_error(client.post("/api/v1/saved-scenarios"), 405, "method_not_allowed")
