"""Property-based fuzz of the REST API from its own OpenAPI schema (schemathesis): whatever
the request, valid or not, the server never answers 5xx, and every 4xx has the one error
shape.

- ``test_fuzz``: every operation in ``/openapi.json`` (report included), valid and invalid
  requests, schemathesis's coverage phase (boundaries, wrong types, unexpected methods) and
  25 generated examples per operation.
- ``test_fuzz_valid``: the operations that take names, valid requests only. Random strings are
  almost never a country or a mineral, so a hook puts real names, stages and years into most
  requests (and a volume into a pact, without an event or agreement to replace them): the
  numbers the schema allows then reach the analysis code instead of stopping at a 404.

Monte Carlo draws are capped in the guided requests (200,000 draws with the cascade take
about a minute of CPU), to keep the fuzz to a few minutes.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from critmin.api import create_app

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
ERROR_KEYS = {"code", "message", "details", "suggestions"}

COUNTRIES = ["IND", "CHN", "USA", "India", "Germany", "RUS", "AUS", "JPN", "EU27", "G7"]
SUPPLIERS = ["CHN", "AUS", "CHL", "COD", "RUS", "ZAF", "IDN", "USA"]
MINERALS = ["lithium", "rare-earths", "cobalt", "graphite", "copper", "nickel", "gallium",
            "talc", "hafnium"]
STAGES = ["headline", "ore", "refined", "intermediate"]
METRICS = ["import_reliance", "china_share", "score", "top_supplier_share"]
YEARS = [2019, 2022, 2023, 2024]
LISTS = {"targets", "countries", "exclude"}
"""Body fields that hold a list of names (restrict's supplier too)."""
NEEDED = {"/api/v1/scenarios/restrict": {"supplier", "mineral"},
          "/api/v1/scenarios/pact": {"importer", "supplier", "mineral"}}
"""Optional fields an operation cannot do without."""
MAX_DRAWS = {True: 1_000, False: 5_000}  # with, without the cascade


def assert_error_shape(response: Any) -> None:
    """The one error shape: exactly ``{"error": {code, message, details, suggestions}}``."""
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == ERROR_KEYS, err
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["details"], dict)
    assert isinstance(err["suggestions"], list)
    assert all(isinstance(s, str) for s in err["suggestions"])


def check(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (case.as_curl_command(), response.text_lossy()[:500])
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/json")
        assert_error_shape(response)


def _swap(values: Any, names: dict[str, Any], keys: set[str], lists: set[str]) -> None:
    """Put ``names`` into ``values`` at ``keys`` (a list where the field takes a list)."""
    if not isinstance(values, dict):
        return
    for key in keys:
        name = names.get(key)
        if name is not None:
            values[key] = [name] if key in lists or isinstance(values.get(key), list) else name
        elif key in ("stage", "year") and key in values:
            del values[key]  # the default


def _realistic(case: Any, pick: dict[str, Any]) -> Any:
    if "/chart/" in case.operation.path and isinstance(case.query, dict):
        # each picture starts a browser for seconds: the fuzz asks for the HTML figure
        # (the same code up to the export; tests/test_charts.py draws the pictures)
        case.query["format"] = "html"
    if pick["country"] is None and pick["mineral"] is None:
        return case  # as generated
    c, m = pick["country"], pick["mineral"]
    names = {"country": c, "importer": c, "targets": c, "countries": c,
             "supplier": pick["supplier"] if c else None, "exclude": pick["supplier"] if c else None,
             "mineral": m, "subject": c or m, "stage": pick["stage"], "year": pick["year"],
             "metric": pick["metric"]}
    for values in (case.path_parameters, case.query):
        if isinstance(values, dict):
            _swap(values, names, set(values), set())
    body = case.body
    if isinstance(body, dict):
        path = case.operation.path
        lists = LISTS | ({"supplier"} if path.endswith("restrict") else set())
        _swap(body, names, set(body) | NEEDED.get(path, set()), lists)
        for key in ("event", "agreement"):
            body.pop(key, None)
        if path.endswith("pact") and body.get("volume") is None and body.get("share") is None:
            body["volume"] = 100.0
        if isinstance(body.get("draws"), int):
            body["draws"] = min(body["draws"], MAX_DRAWS[body.get("cascade") is True])
    return case


def flatmap_case(context: Any, case: Any) -> st.SearchStrategy:
    """Real names in most requests; the rest as schemathesis made them."""
    return st.fixed_dictionaries({
        "country": st.sampled_from([None, *COUNTRIES]),
        "supplier": st.sampled_from(SUPPLIERS),
        "mineral": st.sampled_from([None, *MINERALS]),
        "stage": st.sampled_from([None, *STAGES]),
        "year": st.sampled_from([None, *YEARS]),
        "metric": st.sampled_from(METRICS),
    }).map(lambda pick: _realistic(case, pick))


schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(hosts=["testserver"]))


@schema.hooks.apply(flatmap_case)
@schema.parametrize()
@FUZZ
def test_fuzz(case) -> None:
    check(case)


valid = schemathesis.openapi.from_asgi("/openapi.json", create_app(hosts=["testserver"])).include(
    path_regex="^/api/v1/(profile|mineral/|risk|suppliers|figures|report|scenarios|optimise)")
valid.config.generation.update(modes=["positive"])
valid.config.phases.coverage.enabled = False


@valid.hooks.apply(flatmap_case)
@valid.parametrize()
@FUZZ
def test_fuzz_valid(case) -> None:
    check(case)
