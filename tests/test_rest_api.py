"""The REST API (/api/v1) through FastAPI's TestClient. Values are checked against the
Python API on the same inputs; every error against the one shape
{"error": {"code", "message", "details", "suggestions"}}."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

import critmin
from critmin.store import get_store

ERROR_KEYS = {"code", "message", "details", "suggestions"}
RISK_FILTER = {"country": ["IND", "CHN", "DEU"], "mineral": ["lithium", "cobalt", "rare-earths"]}
RESTRICT = {"supplier": ["CHN"], "mineral": "rare-earths", "year": 2023, "cut": 0.5}
PACT = {"importer": "IND", "supplier": "RUS", "mineral": "lithium", "volume": 100.0, "year": 2023}
SUPPLY_AT_RISK = {"mineral": "rare-earths", "year": 2023, "draws": 500, "seed": 1}
OPTIMISE = {"importer": "IND", "mineral": "lithium", "year": 2023}


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from critmin.api import create_app

    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


def as_json(value: object) -> object:
    """``value`` as the API sends it: plain JSON, non-finite numbers as null."""
    def plain(v: object) -> object:
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float):
            return v if np.isfinite(v) else None
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        return v

    return json.loads(json.dumps(plain(value)))


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def api_error(response, status: int, code: str) -> dict:
    """The error of ``response``, checked against the one shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == ERROR_KEYS
    assert err["code"] == code
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["details"], dict)
    assert isinstance(err["suggestions"], list)
    assert all(isinstance(s, str) for s in err["suggestions"])
    return err


def test_rest_status(client) -> None:
    info = ok(client.get("/api/v1/status"))
    assert info["fingerprint"] == get_store().fingerprint
    assert info["tables"]["countries"]["rows"] == len(critmin.countries())
    assert info["tables"]["flows"]["years"] == [1995, 2024]


def test_rest_reference_tables(client) -> None:
    countries = ok(client.get("/api/v1/countries"))
    table = critmin.countries()
    assert countries["total"] == len(countries["rows"]) == len(table) > 200
    assert [r["iso3"] for r in countries["rows"]] == list(table["iso3"])
    india = next(r for r in countries["rows"] if r["iso3"] == "IND")
    assert (india["name"], india["groups"]) == ("India", ["G20", "BRICS", "Quad"])

    minerals = ok(client.get("/api/v1/minerals"))
    assert [r["mineral"] for r in minerals["rows"]] == list(critmin.minerals()["mineral"])
    rare = next(r for r in minerals["rows"] if r["mineral"] == "rare-earths")
    assert sorted(rare["hs_codes"]) == ["253090", "261220", "280530", "284610", "284690",
                                        "850511"]
    india_list = ok(client.get("/api/v1/minerals", params={"list": "india-2023"}))
    expected = critmin.minerals("india-2023")
    assert india_list["total"] == len(expected) < minerals["total"]
    assert [r["name_on_list"] for r in india_list["rows"]] == list(expected["name_on_list"])

    agreements = ok(client.get("/api/v1/agreements"))
    assert [r["id"] for r in agreements["rows"]] == list(critmin.agreements()["id"])
    pact = next(r for r in agreements["rows"] if r["id"] == "ind-rus-cm-2026")
    assert (pact["importer"], pact["supplier"]) == ("IND", "RUS")
    events = ok(client.get("/api/v1/events"))
    assert [r["id"] for r in events["rows"]] == list(critmin.events()["id"])
    assert "chn-ga-ge-2023" in {r["id"] for r in events["rows"]}
    projects = ok(client.get("/api/v1/projects"))
    assert [r["id"] for r in projects["rows"]] == list(critmin.projects()["id"])
    magnets = next(r for r in projects["rows"] if r["id"] == "ind-repm-scheme-2025")
    assert magnets["capacity_t"] == pytest.approx(6000 * 0.35)  # projects.csv: t x REO factor


def test_rest_profile(client) -> None:
    body = ok(client.get("/api/v1/profile/IND", params={"year": 2022}))
    p = critmin.profile("India", 2022)
    assert (body["country"], body["name"], body["year"]) == ("IND", "India", 2022)
    assert body["lists"] == ["india-2023"]
    assert [m["mineral"] for m in body["minerals"]] == list(p.minerals["mineral"])
    lithium = next(m for m in body["minerals"] if m["mineral"] == "lithium")
    row = p.minerals.set_index("mineral").loc["lithium"]
    assert lithium["reliance_status"] == row["reliance_status"]
    assert lithium["reliance_status"] == "net importer (no domestic production)"
    assert lithium["import_reliance"] == row["import_reliance"] == 1.0
    assert lithium["imports_t"] == row["imports_t"]
    assert body["notes"] == p.notes
    assert body["units"]["imports_t"] == "t (gross)"
    assert as_json({k: body[k] for k in ("minerals", "stages", "suppliers")}) == as_json(
        {k: p.to_dict()[k] for k in ("minerals", "stages", "suppliers")})
    # the same request again is the same bytes (cached)
    again = client.get("/api/v1/profile/IND", params={"year": 2022})
    assert again.content == client.get("/api/v1/profile/IND", params={"year": 2022}).content


def test_rest_profile_options(client) -> None:
    body = ok(client.get("/api/v1/profile/India",
                         params={"year": 2022, "top": 1, "sort": "name"}))
    p = critmin.profile("India", 2022, top=1, sort="name")
    assert [m["mineral"] for m in body["minerals"]] == list(p.minerals["mineral"])
    own = [m["mineral"] for m in body["minerals"] if m["own_list"]]  # India's list first
    assert [m["mineral"] for m in body["minerals"][:len(own)]] == own == sorted(own)
    per_mineral = pd.Series([s["mineral"] for s in body["suppliers"]]).value_counts()
    assert per_mineral.max() == 1
    assert len(body["suppliers"]) == len(p.suppliers)


def test_rest_profile_downloads(client) -> None:
    import openpyxl

    p = critmin.profile("India", 2022)
    csv = client.get("/api/v1/profile/IND", params={"year": 2022, "format": "csv"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="critmin-IND-2022.csv"' in csv.headers["content-disposition"]
    frame = pd.read_csv(io.BytesIO(csv.content))
    assert list(frame["mineral"]) == list(p.minerals["mineral"])
    lithium = frame.set_index("mineral").loc["lithium"]
    assert lithium["reliance_status"] == "net importer (no domestic production)"
    assert lithium["imports_t"] == pytest.approx(p.minerals.set_index("mineral").loc[
        "lithium", "imports_t"], rel=1e-12)

    xlsx = client.get("/api/v1/profile/IND", params={"year": 2022, "format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert {"data", "stages", "suppliers"} <= set(book.sheetnames)
    rows = list(book["data"].iter_rows(values_only=True))
    assert rows[0][0] == "mineral"
    assert [r[0] for r in rows[1:]] == list(p.minerals["mineral"])


def test_rest_mineral(client) -> None:
    body = ok(client.get("/api/v1/mineral/rare earths", params={"year": 2022}))
    m = critmin.mineral("rare earths", 2022)
    assert (body["mineral"], body["name"], body["basis"], body["year"]) == (
        "rare-earths", "Rare earths", "REO", 2022)
    top = body["producers"][0]
    assert (top["country"], top["production_t"]) == ("CHN", 210_000.0)
    assert as_json(body["producers"]) == as_json(m.to_dict()["producers"])
    assert as_json(body["concentration"]) == as_json(m.to_dict()["concentration"])
    few = ok(client.get("/api/v1/mineral/rare-earths", params={"year": 2022, "top": 2}))
    assert (len(few["exporters"]), len(few["flows"])) == (2, 2)  # top: exporters and flows
    assert few["exporters"] == body["exporters"][:2]
    csv = client.get("/api/v1/mineral/lithium", params={"year": 2022, "format": "csv"})
    assert csv.status_code == 200
    frame = pd.read_csv(io.BytesIO(csv.content))
    assert list(frame["country"][:3]) == ["AUS", "CHL", "CHN"]
    assert frame["share"].sum() == pytest.approx(1.0)


def test_rest_risk_paging(client) -> None:
    whole = critmin.risk(RISK_FILTER["country"], RISK_FILTER["mineral"])
    first = ok(client.get("/api/v1/risk", params={**RISK_FILTER, "limit": 40}))
    total = first["total"]
    assert total == len(whole) > 120
    assert (first["limit"], first["offset"], first["next"]) == (40, 0, 40)
    rows, offset = [], 0
    while offset is not None:
        page = ok(client.get("/api/v1/risk", params={**RISK_FILTER, "limit": 40,
                                                     "offset": offset}))
        assert page["total"] == total and len(page["rows"]) <= 40
        rows += page["rows"]
        assert page["next"] == (offset + 40 if offset + 40 < total else None)
        offset = page["next"]
    assert len(page["rows"]) == total - (total - 1) // 40 * 40  # the last page
    one = ok(client.get("/api/v1/risk", params={**RISK_FILTER, "limit": 10_000}))
    assert one["next"] is None
    assert rows == one["rows"]
    assert len(rows) == total
    # the same rows as the Python API, in relevance order: latest year first, riskiest first
    key = [(r["year"], r["country"], r["mineral"]) for r in rows]
    assert sorted(key) == sorted(zip(whole["year"], whole["country"], whole["mineral"],
                                     strict=True))
    years = [r["year"] for r in rows]
    assert years == sorted(years, reverse=True)
    by_key = whole.set_index(["year", "country", "mineral"])
    for r in rows[:: max(1, total // 25)]:
        expected = by_key.loc[(r["year"], r["country"], r["mineral"])]
        assert r["score"] == (None if pd.isna(expected["score"]) else expected["score"])
        assert r["import_reliance"] == (None if pd.isna(expected["import_reliance"])
                                        else expected["import_reliance"])
    past = ok(client.get("/api/v1/risk", params={**RISK_FILTER, "offset": total + 5}))
    assert (past["rows"], past["total"], past["next"]) == ([], total, None)


def test_rest_risk_year_filter(client) -> None:
    body = ok(client.get("/api/v1/risk", params={"country": "India", "mineral": "lithium",
                                                 "year": [2021, 2022]}))
    expected = critmin.risk("India", "lithium", [2021, 2022])
    assert body["total"] == len(expected) == 2
    assert [r["year"] for r in body["rows"]] == [2022, 2021]
    row = next(r for r in body["rows"] if r["year"] == 2021)
    assert row["score"] == expected.set_index("year").loc[2021, "score"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_rest_risk_streams(client, fmt: str) -> None:
    page = ok(client.get("/api/v1/risk", params={**RISK_FILTER, "limit": 10_000}))
    res = client.get("/api/v1/risk", params={**RISK_FILTER, "format": fmt})
    assert res.status_code == 200, res.text
    assert f'filename="risk.{fmt}"' in res.headers["content-disposition"]
    if fmt == "csv":
        assert res.headers["content-type"].startswith("text/csv")
        frame = pd.read_csv(io.BytesIO(res.content))
    elif fmt == "jsonl":
        assert res.headers["content-type"] == "application/x-ndjson"
        lines = res.content.decode().splitlines()
        frame = pd.DataFrame([json.loads(line) for line in lines])
    else:
        assert res.headers["content-type"] == "application/vnd.apache.parquet"
        frame = pd.read_parquet(io.BytesIO(res.content))
    assert len(frame) == page["total"]
    assert list(zip(frame["year"], frame["country"], frame["mineral"], strict=True)) == [
        (r["year"], r["country"], r["mineral"]) for r in page["rows"]]
    scores = [np.nan if r["score"] is None else r["score"] for r in page["rows"]]
    np.testing.assert_allclose(frame["score"].to_numpy(float), scores, rtol=1e-12)


def test_rest_suppliers(client) -> None:
    from critmin.present import records

    body = ok(client.get("/api/v1/suppliers", params={"importer": "IND", "mineral": "lithium",
                                                      "year": 2023}))
    expected = critmin.suppliers("IND", "lithium", 2023)
    assert body["total"] == len(expected) > 10
    assert [r["supplier"] for r in body["rows"]] == list(expected["supplier"])
    assert [r["rank"] for r in body["rows"]] == list(range(1, len(expected) + 1))
    assert body["rows"] == as_json(records(expected))


def test_rest_figures(client) -> None:
    world = ok(client.get("/api/v1/figures/world", params={
        "mineral": "lithium", "metric": "china_share", "year": 2022}))
    assert (world["kind"], world["subject"], world["year"]) == ("world", "lithium", 2022)
    assert world["title"] == "China's share of imports: lithium, 2022"
    assert set(world["figures"]) == {"map"}
    assert {"data", "layout"} <= set(world["figures"]["map"])
    country = ok(client.get("/api/v1/figures/country/India", params={"year": 2022}))
    assert (country["kind"], country["subject"], country["title"]) == (
        "country", "IND", "India, 2022")
    assert {"dependence", "suppliers"} <= set(country["figures"])
    p = critmin.profile("India", 2022)
    assert [r["mineral"] for r in country["tables"]["minerals"]] == list(p.minerals["mineral"])
    mineral = ok(client.get("/api/v1/figures/mineral/lithium", params={"year": 2022}))
    assert (mineral["kind"], mineral["subject"], mineral["title"]) == (
        "mineral", "lithium", "Lithium, 2022")
    assert mineral["tables"]["producers"][0]["country"] == "AUS"


def test_rest_report(client) -> None:
    res = client.get("/api/v1/report/IND", params={"year": 2022})
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")
    assert "<title>critmin report: India, 2022</title>" in res.text
    assert res.text.lstrip().lower().startswith("<!doctype html>")
    lithium = client.get("/api/v1/report/lithium", params={"year": 2022})
    assert lithium.status_code == 200 and "Lithium" in lithium.text


def test_rest_restrict(client) -> None:
    body = ok(client.post("/api/v1/scenarios/restrict", json=RESTRICT))
    result = critmin.restrict(**RESTRICT)
    assert body == as_json({**result.to_dict(), "summary": result.summary()})
    assert (body["suppliers"], body["cut"], body["shock"]) == (["CHN"], 0.5, "exports")
    assert body["converged"] and body["balance"]["initial_shock_t"] > 0
    with_figure = ok(client.post("/api/v1/scenarios/restrict", params={"figures": "true"},
                                 json=RESTRICT))
    assert {"data", "layout"} <= set(with_figure.pop("figure"))
    assert with_figure == body


def test_rest_pact(client) -> None:
    body = ok(client.post("/api/v1/scenarios/pact", json=PACT))
    result = critmin.pact(**PACT)
    assert body == as_json({**result.to_dict(), "summary": result.summary()})
    assert (body["importer"], body["supplier"], body["volume_t"]) == ("IND", "RUS", 100.0)
    assert body["after"]["imports_t"] == pytest.approx(body["before"]["imports_t"] + 100.0)
    assert "figure" in ok(client.post("/api/v1/scenarios/pact?figures=true", json=PACT))


def test_rest_supply_at_risk(client) -> None:
    body = ok(client.post("/api/v1/scenarios/supply-at-risk", json=SUPPLY_AT_RISK))
    result = critmin.supply_at_risk(**SUPPLY_AT_RISK)
    assert body == as_json({**result.to_dict(), "summary": result.summary()})
    assert (body["draws"], body["seed"]) == (500, 1)
    other = ok(client.post("/api/v1/scenarios/supply-at-risk",
                           json={**SUPPLY_AT_RISK, "seed": 2}))
    assert other["countries"] != body["countries"]


def test_rest_optimise(client) -> None:
    body = ok(client.post("/api/v1/optimise", json=OPTIMISE))
    result = critmin.optimise(**OPTIMISE)
    assert body == as_json({**result.to_dict(), "summary": result.summary()})
    assert body["status"] == "optimal"
    shares = [r["share"] for r in body["portfolio"]]
    assert sum(shares) == pytest.approx(1.0, abs=1e-9)
    assert min(shares) >= -1e-12
    # today's mix is a candidate only where it keeps within the caps (re-exports are not)
    rows = body["portfolio"]
    if all(r["today_t"] <= r["cap_t"] + 1e-6 for r in rows):
        assert body["after"]["objective"] <= body["before"]["objective"] + 1e-12
    assert all(r["tonnes"] <= r["cap_t"] + 1e-6 for r in rows)
    capped = ok(client.post("/api/v1/optimise", json={**OPTIMISE, "max_share": 0.3,
                                                      "frontier_points": 4}))
    assert max(r["share"] for r in capped["portfolio"]) <= 0.3 + 1e-9
    assert sum(r["share"] for r in capped["portfolio"]) == pytest.approx(1.0, abs=1e-9)
    assert len(capped["frontier"]["points"]) == 4
    figured = ok(client.post("/api/v1/optimise?figures=true",
                             json={**OPTIMISE, "frontier_points": 3}))
    assert {"figure", "frontier", "frontier_figure"} <= set(figured)


def test_rest_dashboard_and_docs(client) -> None:
    assert client.get("/").headers["content-type"].startswith("text/html")
    assert "swagger-ui" in client.get("/docs").text
    spec = ok(client.get("/openapi.json"))
    assert {"/api/v1/profile/{country}", "/api/v1/risk", "/api/v1/scenarios/restrict",
            "/api/v1/optimise", "/api/v1/report/{subject}"} <= set(spec["paths"])


# -- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "url", "body", "suggestion"), [
    ("GET", "/api/v1/profile/Inida", None, "India (IND)"),
    ("GET", "/api/v1/figures/country/Inida", None, "India (IND)"),
    ("GET", "/api/v1/report/Inida", None, "India (IND)"),
    ("GET", "/api/v1/risk?country=Inida", None, "India (IND)"),
    ("GET", "/api/v1/suppliers?importer=Inida&mineral=lithium", None, "India (IND)"),
    ("POST", "/api/v1/optimise", {"importer": "Inida", "mineral": "lithium"}, "India (IND)"),
    ("POST", "/api/v1/scenarios/restrict", {"supplier": ["Chnia"], "mineral": "lithium"},
     "China (CHN)"),
    ("GET", "/api/v1/mineral/lithum", None, "Lithium (lithium)"),
    ("GET", "/api/v1/figures/mineral/lithum", None, "Lithium (lithium)"),
    ("GET", "/api/v1/figures/world?mineral=lithum", None, "Lithium (lithium)"),
    ("POST", "/api/v1/scenarios/supply-at-risk", {"mineral": "lithum", "draws": 500},
     "Lithium (lithium)"),
])
def test_rest_unknown_names(client, method: str, url: str, body: dict | None,
                            suggestion: str) -> None:
    err = api_error(client.request(method, url, json=body), 404, "not_found")
    assert err["suggestions"][0] == suggestion
    assert "unknown" in err["message"] or "neither" in err["message"]


@pytest.mark.parametrize(("url", "where"), [
    ("/api/v1/profile/IND?year=1900", "query.year"),
    ("/api/v1/profile/IND?year=twenty", "query.year"),
    ("/api/v1/profile/IND?top=0", "query.top"),
    ("/api/v1/profile/IND?sort=size", "query.sort"),
    ("/api/v1/profile/IND?format=xml", "query.format"),
    ("/api/v1/mineral/lithium?top=501", "query.top"),
    ("/api/v1/risk?limit=0", "query.limit"),
    ("/api/v1/risk?limit=10001", "query.limit"),
    ("/api/v1/risk?offset=-1", "query.offset"),
    ("/api/v1/risk?format=xlsx", "query.format"),
    ("/api/v1/suppliers?mineral=lithium", "query.importer"),
    ("/api/v1/suppliers?importer=IND&mineral=lithium&redirectable=2", "query.redirectable"),
])
def test_rest_invalid_parameters(client, url: str, where: str) -> None:
    err = api_error(client.get(url), 422, "invalid_input")
    assert err["details"]["errors"][0]["where"] == where
    assert err["message"].startswith(f"{where}: ")


@pytest.mark.parametrize(("url", "message"), [
    ("/api/v1/profile/IND?year=2030", "2026"),  # within the schema's range, not the data's
    ("/api/v1/profile/IND?year=1994", "years with data: 1995-2025"),
    ("/api/v1/risk?year=2030", "2026"),
    ("/api/v1/figures/world?mineral=lithium&metric=size", "unknown map metric"),
    ("/api/v1/figures/world?mineral=lithium&stage=powder", "unknown stage"),
])
def test_rest_invalid_values(client, url: str, message: str) -> None:
    err = api_error(client.get(url), 422, "invalid_input")
    assert message in err["message"]


@pytest.mark.parametrize(("path", "body", "where"), [
    ("scenarios/restrict", {**RESTRICT, "cut": 1.5}, "body.cut"),
    ("scenarios/restrict", {**RESTRICT, "cutt": 0.5}, "body.cutt"),
    ("scenarios/restrict", {**RESTRICT, "year": 1800}, "body.year"),
    ("scenarios/pact", {**PACT, "mode": "swap"}, "body.mode"),
    ("scenarios/pact", {**PACT, "share": -0.1}, "body.share"),
    ("scenarios/supply-at-risk", {**SUPPLY_AT_RISK, "draws": 200_001}, "body.draws"),
    ("scenarios/supply-at-risk", {**SUPPLY_AT_RISK, "draws": 99}, "body.draws"),
    ("scenarios/supply-at-risk", {"draws": 500}, "body.mineral"),
    ("optimise", {**OPTIMISE, "frontier_points": 61}, "body.frontier_points"),
    ("optimise", {**OPTIMISE, "weights": {"risk": "high"}}, "body.weights.risk"),
    ("optimise", [OPTIMISE], "body"),
])
def test_rest_invalid_bodies(client, path: str, body: object, where: str) -> None:
    err = api_error(client.post(f"/api/v1/{path}", json=body), 422, "invalid_input")
    assert err["details"]["errors"][0]["where"] == where


def test_rest_invalid_scenarios(client) -> None:
    err = api_error(client.post("/api/v1/scenarios/restrict", json={"mineral": "lithium"}),
                    422, "invalid_input")
    assert "supplier" in err["message"]
    err = api_error(client.post("/api/v1/scenarios/pact", json={**PACT, "share": 0.1}), 422,
                    "invalid_input")
    assert "either a volume" in err["message"]
    api_error(client.post("/api/v1/scenarios/pact", json={**PACT, "supplier": "IND"}), 422,
              "invalid_input")


def test_rest_malformed_json(client) -> None:
    err = api_error(client.post("/api/v1/scenarios/restrict", content=b'{"supplier": ["CHN"]',
                                headers={"content-type": "application/json"}),
                    422, "invalid_input")
    assert err["details"]["errors"][0]["type"] == "json_invalid"


def test_rest_body_too_large(client) -> None:
    big = {**RESTRICT, "targets": ["IND"] * 20_000}  # ~140 KB
    assert len(json.dumps(big)) > 64 * 1024
    err = api_error(client.post("/api/v1/scenarios/restrict", json=big), 413, "too_large")
    assert "65,536 bytes" in err["message"]
    # just under the limit is read (and refused for what it says, not for its size)
    small = json.dumps({**RESTRICT, "targets": ["IND"] * 9_000})
    assert len(small) < 64 * 1024
    api_error(client.post("/api/v1/scenarios/restrict", content=small,
                          headers={"content-type": "application/json"}), 422, "invalid_input")


def test_rest_body_too_large_chunked(client) -> None:
    """Without a content-length the body is counted as it arrives."""
    def chunks():
        for _ in range(20):
            yield b" " * 5_000  # 100 KB of whitespace: valid JSON padding, then too much

    res = client.post("/api/v1/scenarios/restrict", content=chunks(),
                      headers={"content-type": "application/json"})
    assert "content-length" not in res.request.headers
    assert res.request.headers["transfer-encoding"] == "chunked"
    api_error(res, 413, "too_large")


def test_rest_unknown_route_and_method(client) -> None:
    err = api_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert "/api/v1/nothing-here" in err["message"]
    api_error(client.get("/api/v2/profile/IND"), 404, "not_found")
    api_error(client.delete("/api/v1/countries"), 405, "method_not_allowed")
    api_error(client.get("/api/v1/scenarios/restrict"), 405, "method_not_allowed")
    api_error(client.put("/api/v1/optimise", json=OPTIMISE), 405, "method_not_allowed")


ERROR_REQUESTS = [
    ("GET", "/api/v1/profile/Inida", {}, 404),
    ("GET", "/api/v1/mineral/lithum", {}, 404),
    ("GET", "/api/v1/minerals?list=nope", {}, 404),
    ("GET", "/api/v1/report/Inida", {}, 404),
    ("GET", "/api/v1/nothing-here", {}, 404),
    ("GET", "/static/nothing-here.js", {}, 404),
    ("GET", "/api/v1/profile/IND?year=1900", {}, 422),
    ("GET", "/api/v1/profile/IND?year=2030", {}, 422),
    ("GET", "/api/v1/risk?limit=0", {}, 422),
    ("GET", "/api/v1/risk?country=", {}, 422),
    ("GET", "/api/v1/profile/" + "x" * 81, {}, 422),
    ("POST", "/api/v1/scenarios/restrict", {"json": {**RESTRICT, "cut": 2}}, 422),
    ("POST", "/api/v1/scenarios/restrict", {"json": {**RESTRICT, "cutt": 0.5}}, 422),
    ("POST", "/api/v1/scenarios/supply-at-risk", {"json": {**SUPPLY_AT_RISK, "draws": 10**6}},
     422),
    ("POST", "/api/v1/optimise", {"content": b"{", "headers": {
        "content-type": "application/json"}}, 422),
    ("POST", "/api/v1/optimise", {"content": b"x" * 70_000, "headers": {
        "content-type": "application/json"}}, 413),
    ("DELETE", "/api/v1/countries", {}, 405),
    ("POST", "/api/v1/profile/IND", {}, 405),
]


@pytest.mark.parametrize(("method", "url", "kwargs", "status"), ERROR_REQUESTS,
                         ids=[f"{m} {u[:40]} {s}" for m, u, _, s in ERROR_REQUESTS])
def test_rest_error_contract(client, method: str, url: str, kwargs: dict, status: int) -> None:
    """Every error, whatever raised it, has exactly this shape and these types."""
    res = client.request(method, url, **kwargs)
    assert res.status_code == status, res.text
    assert res.headers["content-type"] == "application/json"
    body = res.json()
    assert list(body) == ["error"]
    err = body["error"]
    assert list(err) == ["code", "message", "details", "suggestions"]
    assert type(err["code"]) is str and err["code"].isidentifier()
    assert type(err["message"]) is str and err["message"]
    assert type(err["details"]) is dict
    assert type(err["suggestions"]) is list
    assert all(type(s) is str for s in err["suggestions"])
    expected = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    assert err["code"] == expected.get(status, "invalid_input")


def test_rest_cascade_draws_are_capped(client) -> None:
    body = {"mineral": "cobalt", "draws": 50_000, "cascade": True}
    r = client.post("/api/v1/scenarios/supply-at-risk", json=body)
    assert r.status_code == 422
    assert "with the cascade, draws must be at most 20,000" in r.json()["error"]["message"]
    assert client.post("/api/v1/scenarios/supply-at-risk",
                       json={**body, "cascade": False, "draws": 500}).status_code == 200


def test_rest_openapi_declares_the_error_shape(client) -> None:
    doc = client.get("/openapi.json").json()
    detail = doc["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == ERROR_KEYS
    for path in ("/api/v1/profile/{country}", "/api/v1/scenarios/restrict"):
        for operation in doc["paths"][path].values():
            for status in ("404", "413", "422", "500"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}


def test_rest_undecodable_body_is_invalid_input(client) -> None:
    r = client.post("/api/v1/scenarios/restrict", content=b'{"mineral": "\xff"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert set(r.json()["error"]) == ERROR_KEYS
