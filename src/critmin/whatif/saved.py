"""Saved scenarios: a what-if as a JSON file that can be rerun and compared.

A scenario file holds the kind of what-if (``restrict``, ``pact``, ``supply-at-risk`` or
``domestic``), every keyword argument of its function (:func:`critmin.restrict`,
:func:`critmin.pact`, :func:`critmin.supply_at_risk`, :func:`critmin.domestic`) by name, defaults included, and what it was run on: the data
fingerprint of the store and critmin's version. Rerunning it on other data or code still
works; the result then carries a note saying so.

Reading files (:func:`load_scenario`, :func:`run_scenario`, :func:`compare_scenarios`) is
kept apart from combining results into one table (:func:`comparison`).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "cut.json"
>>> _ = critmin.save_scenario("restrict", path, supplier="CHN", mineral="rare-earths",
...                           year=2024, stage="refined")
>>> critmin.load_scenario(path).params["stage"]
'refined'
"""

from __future__ import annotations

import inspect
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import checks
from critmin.errors import InvalidInput, NotFound, nearest
from critmin.store import get_store
from critmin.version import __version__
from critmin.whatif.at_risk import SupplyAtRisk, supply_at_risk
from critmin.whatif.domestic import Domestic, domestic
from critmin.whatif.pacts import Pact, pact
from critmin.whatif.restrictions import Restriction, restrict

FORMAT = 1
"""Version of the scenario file layout (the ``critmin_scenario`` field)."""

Result = Restriction | Pact | SupplyAtRisk | Domestic

KINDS: dict[str, Callable[..., Result]] = {
    "restrict": restrict,
    "pact": pact,
    "supply-at-risk": supply_at_risk,
    "domestic": domestic,
}
"""Each kind of scenario and the function that runs it."""

EXAMPLES = Path(__file__).resolve().parent / "examples"
"""The scenario files shipped with critmin: the India–Russia set of the docs and India's
magnet scheme (``docs/examples/india_russia_scenarios`` holds the same files, checked by a
test)."""

FOLDER_ENV = "CRITMIN_SCENARIOS"
"""Environment variable naming a folder of scenario files that :func:`scenario_files` offers
beside the bundled examples (the server lists and runs them by name)."""

COLUMNS = {
    "scenario": "", "kind": "", "mineral": "", "year": "", "stage": "", "country": "",
    "loss_t": "t (basis)", "loss_share": "share",
    "exposure_before": "share", "exposure_after": "share",
    "china_share_before": "share", "china_share_after": "share",
    "expected_loss_share": "share", "var95_share": "share", "p_loss_over_10": "share",
    "imports_before_t": "t (basis)", "imports_after_t": "t (basis)",
    "feed_t": "t (basis)", "feed_shortfall_t": "t (basis)",
}
"""Columns of the comparison table and their units: the headline figures of each kind
(restrict: loss per country; pact: the importer's exposure to the restriction and China's
share of its imports, before and after; supply-at-risk: expected loss, 95th percentile and
the probability of losing more than 10 %; domestic: the country's exposure and China's share
of its imports as a pact's, its imports at the stage before and after, the feed the new
output needs one stage up and the part its own output cannot cover); a kind leaves the
others' columns empty."""


@dataclass
class Scenario:
    """A saved what-if: its kind, its parameters, and what it was saved on."""

    kind: str
    params: dict[str, Any]
    fingerprint: str
    version: str
    name: str = ""
    """The file's name without its suffix (the ``scenario`` column of a comparison)."""
    notes: list[str] = field(default_factory=list)
    """Where the data or the code differ from those the scenario was saved on."""

    def to_dict(self) -> dict[str, Any]:
        """The file's content (JSON-ready)."""
        return {"critmin_scenario": FORMAT, "kind": self.kind, "params": self.params,
                "data_fingerprint": self.fingerprint, "critmin_version": self.version}


@dataclass
class ScenarioRun:
    """A scenario and the result of running it."""

    scenario: Scenario
    result: Result

    @property
    def notes(self) -> list[str]:
        """The scenario's notes (data or code changed), then the result's."""
        return [*self.scenario.notes, *self.result.notes]

    def summary(self) -> str:
        """A few lines for people."""
        return f"{self.scenario.name} ({self.scenario.kind})\n{self.result.summary()}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``--json`` output)."""
        return {"scenario": {"name": self.scenario.name, **self.scenario.to_dict()},
                "result": self.result.to_dict(), "notes": self.notes}


def _kind(kind: str) -> str:
    name = str(kind).strip().lower().replace("_", "-")
    if name not in KINDS:
        raise InvalidInput(f"unknown scenario kind {kind!r}",
                           suggestions=nearest(name, KINDS) or list(KINDS))
    return name


def _bound(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` checked against the signature of ``kind``'s function, defaults added."""
    signature = inspect.signature(KINDS[kind])
    names = list(signature.parameters)
    for name in params:
        if name not in signature.parameters:
            raise InvalidInput(f"{kind} has no parameter {name!r}",
                               suggestions=nearest(name, names) or names[:3])
    try:
        bound = signature.bind(**params)
    except TypeError as exc:
        raise InvalidInput(f"{kind}: {exc}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _plain(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as JSON values (tuples as lists); anything else is refused."""
    try:
        loaded: dict[str, Any] = json.loads(json.dumps(dict(params), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{kind}: a parameter cannot be saved as JSON ({exc})") from None
    return loaded


def save_scenario(kind: str, path: str | Path, **params: Any) -> Scenario:
    """Save a what-if as a scenario file (JSON), to rerun or compare later.

    The parameters are checked against the function's signature before anything is written;
    the file is replaced in one step, so that a reader never sees half of it.

    Parameters
    ----------
    kind : str
        ``restrict``, ``pact``, ``supply-at-risk`` or ``domestic``.
    path : str or Path
        The file to write (its folder must exist).
    **params
        The keyword arguments of :func:`critmin.restrict`, :func:`critmin.pact`,
        :func:`critmin.supply_at_risk` or :func:`critmin.domestic`.

    Returns
    -------
    Scenario
        What was written, with the current data fingerprint and critmin version.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "deal.json"
    >>> s = critmin.save_scenario("pact", path, importer="IND", supplier="RUS",
    ...                           mineral="lithium", volume=300, mode="new", year=2024)
    >>> s.params["against"], s.params["volume"]
    ('CHN', 300)
    """
    from critmin import files

    name = _kind(kind)
    values = _plain(name, _bound(name, params))
    target = checks.as_path(path, "path")
    if not target.parent.is_dir():
        raise InvalidInput(f"cannot save the scenario to {str(target)!r}: no folder "
                           f"{str(target.parent)!r}")
    if target.is_dir():
        raise InvalidInput(f"cannot save the scenario to {str(target)!r}: it is a folder")
    scenario = Scenario(kind=name, params=values, fingerprint=get_store().fingerprint,
                        version=__version__, name=target.stem)
    text = json.dumps(scenario.to_dict(), ensure_ascii=False, indent=2) + "\n"
    with files.atomic_write(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return scenario


def _field(content: Mapping[str, Any], key: str) -> str:
    value = content.get(key)
    if not isinstance(value, str):
        raise InvalidInput(f"{key!r} must be a text, not {value!r}")
    return value


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file and check it: its kind, and its parameters against the function.

    A scenario saved on other data or another critmin version still loads; its ``notes``
    say what differs.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Scenario

    Examples
    --------
    >>> from pathlib import Path
    >>> s = critmin.load_scenario(Path(critmin.__file__).parents[2] / "docs" / "examples"
    ...                           / "india_russia_scenarios" / "india_russia_lithium_pact.json")
    >>> s.kind, s.params["supplier"], s.params["mode"]
    ('pact', 'RUS', 'new')
    """
    source = checks.as_path(path, "path")
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"no scenario file {str(source)!r}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{str(source)!r} is a folder, not a scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the scenario file {str(source)!r} ({exc})") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"scenario file {str(source)!r} is not valid JSON: {exc.msg} at "
                           f"line {exc.lineno}, column {exc.colno}") from None
    return _parse(content, repr(str(source)), source.stem)


def scenario_from_dict(content: Any, name: str) -> Scenario:
    """A scenario from the content of a scenario file (a JSON object), checked as
    :func:`load_scenario` checks a file.

    Parameters
    ----------
    content : dict
        What a scenario file holds (``critmin_scenario``, ``kind``, ``params``,
        ``data_fingerprint``, ``critmin_version``).
    name : str
        The scenario's name (in errors and in a comparison's ``scenario`` column).

    Returns
    -------
    Scenario

    Examples
    --------
    >>> content = json.loads((EXAMPLES / "india_russia_lithium_pact.json").read_text())
    >>> critmin.scenario_from_dict(content, "deal").params["mineral"]
    'lithium'
    """
    name = checks.as_name(name, "name")
    return _parse(content, repr(name), name)


def _parse(content: Any, where: str, name: str) -> Scenario:
    """A scenario file's content checked; ``where`` names it in errors."""
    if not isinstance(content, dict) or "critmin_scenario" not in content:
        raise InvalidInput(f"{where} is not a critmin scenario file (no "
                           "'critmin_scenario' field)")
    if content["critmin_scenario"] != FORMAT:
        raise InvalidInput(f"scenario file {where} has layout "
                           f"{content['critmin_scenario']!r}; this critmin reads layout "
                           f"{FORMAT}")
    params = content.get("params")
    if not isinstance(params, dict):
        raise InvalidInput(f"scenario file {where}: 'params' must be an object, not "
                           f"{params!r}")
    try:
        kind = _kind(_field(content, "kind"))
        values = _bound(kind, params)
        fingerprint = _field(content, "data_fingerprint")
        version = _field(content, "critmin_version")
    except InvalidInput as exc:
        raise InvalidInput(f"scenario file {where}: {exc.message}",
                           suggestions=exc.suggestions) from None
    notes = []
    current = get_store().fingerprint
    if fingerprint != current:
        notes.append(f"saved on data {fingerprint}, run on data {current}: the figures may "
                     "differ from those first seen")
    if version != __version__:
        notes.append(f"saved with critmin {version}, run with critmin {__version__}")
    return Scenario(kind=kind, params=values, fingerprint=fingerprint, version=version,
                    name=name, notes=notes)


def run(scenario: Scenario) -> ScenarioRun:
    """Run a loaded scenario (no file read)."""
    return ScenarioRun(scenario, KINDS[scenario.kind](**scenario.params))


def run_scenario(path: str | Path) -> ScenarioRun:
    """Load a scenario file and run it.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ScenarioRun
        ``result`` (what the function returns), ``notes`` (the scenario's, then the
        result's), ``summary()``, ``to_dict()``.

    Examples
    --------
    >>> from pathlib import Path
    >>> folder = Path(critmin.__file__).parents[2] / "docs" / "examples" / "india_russia_scenarios"
    >>> r = critmin.run_scenario(folder / "india_russia_rare_earth_metals_pact.json")
    >>> bool(r.result.exposure_after < r.result.exposure_before)
    True
    """
    return run(load_scenario(path))


def _rows(item: ScenarioRun) -> pd.DataFrame:
    """The headline figures of one run, one row per country."""
    result = item.result
    if isinstance(result, Pact):
        frame = pd.DataFrame({
            "country": [result.importer],
            "exposure_before": [result.exposure_before],
            "exposure_after": [result.exposure_after],
            "china_share_before": [result.before.get("china_share")],
            "china_share_after": [result.after.get("china_share")],
        })
    elif isinstance(result, Domestic):
        frame = pd.DataFrame({
            "country": [result.country],
            "exposure_before": [result.exposure_before],
            "exposure_after": [result.exposure_after],
            "china_share_before": [result.before.get("china_share")],
            "china_share_after": [result.after.get("china_share")],
            "imports_before_t": [result.before.get("imports_t")],
            "imports_after_t": [result.after.get("imports_t")],
            "feed_t": [result.feed["feed_t"]],
            "feed_shortfall_t": [result.feed["shortfall_t"]],
        })
    elif isinstance(result, Restriction):
        frame = result.countries[["country", "loss_t", "loss_share"]]
    else:
        frame = result.countries[["country", "expected_loss_share", "var95_share",
                                  "p_loss_over_10"]]
    return frame.assign(scenario=item.scenario.name, kind=item.scenario.kind,
                        mineral=result.mineral, year=result.year, stage=result.stage)


OUTCOMES = {
    "scenario": "", "kind": "", "title": "", "mineral": "", "year": "", "stage": "",
    "country": "", "measure": "", "loss_share": "share", "loss_t": "t (basis)",
    "loss_share_without": "share", "feasible": "", "delivery": "", "data_fingerprint": "",
    "critmin_version": "", "notes": "",
}
"""Columns of :func:`outcomes` and their units."""


def scenario_files() -> dict[str, Path]:
    """The scenario files offered by name: the bundled examples (:data:`EXAMPLES`), then the
    ``*.json`` files of the folder named by ``$CRITMIN_SCENARIOS``; a file of that folder
    takes the place of a bundled example of the same name.

    Returns
    -------
    dict
        The file of each name (the file's name without ``.json``), sorted by name.

    Examples
    --------
    >>> sorted(critmin.scenario_files())[:2]
    ['china_rare_earth_metals_cut', 'india_magnet_scheme']
    """
    found = {p.stem: p for p in EXAMPLES.glob("*.json")}
    folder = os.environ.get(FOLDER_ENV)
    if folder:
        place = Path(folder).expanduser()
        if not place.is_dir():
            raise InvalidInput(f"${FOLDER_ENV} names {str(place)!r}, which is not a folder")
        found.update({p.stem: p for p in place.glob("*.json") if p.is_file()})
    return dict(sorted(found.items()))


def named_scenario(name: str) -> Scenario:
    """The scenario file ``name`` of :func:`scenario_files`, loaded.

    Raises :class:`~critmin.errors.NotFound` with the nearest names.
    """
    files = scenario_files()
    if name not in files:
        raise NotFound(f"no saved scenario {name!r}",
                       suggestions=nearest(name, files) or list(files)[:5])
    return load_scenario(files[name])


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _number(value: Any, spec: str) -> str:
    """``value`` formatted, or as given when it is not a number (a file not yet run may
    hold anything; running it says what is wrong)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return format(value, spec) if is_number else str(value)


def describe(scenario: Scenario) -> str:
    """One line saying what a scenario does, from its parameters.

    Examples
    --------
    >>> describe(load_scenario(EXAMPLES / "india_russia_lithium_pact.json"))
    'RUS supplies IND 300 t a year of lithium (new capacity), 2024; loss if CHN cuts 100%'
    """
    p = scenario.params
    year = p.get("year") or "latest year"
    stage = f" ({p['stage']})" if p.get("stage") else ""
    if scenario.kind == "restrict":
        if p.get("event"):
            return f"export control {p['event']}, {year}"
        who = ", ".join(_listed(p.get("supplier"))) or "?"
        cut = "all" if p.get("cut") is None else _number(p["cut"], ".0%")
        to = f" to {', '.join(_listed(p['targets']))}" if p.get("targets") else ""
        what = "production" if p.get("production") else "exports"
        return f"{who} withholds {cut} of {p.get('mineral')}{stage} {what}{to}, {year}"
    if scenario.kind == "pact":
        if p.get("agreement") and not p.get("importer"):
            return f"agreement {p['agreement']}, {year}"
        amount = (f"{_number(p['volume'], ',.0f')} t a year" if p.get("volume") is not None
                  else f"{_number(p['share'], '.0%')} of its imports"
                  if p.get("share") is not None else "the agreed volume")
        mode = "new capacity" if p.get("mode") == "new" else "redirected exports"
        rival = ", ".join(_listed(p.get("against")))
        return (f"{p.get('supplier')} supplies {p.get('importer')} {amount} of "
                f"{p.get('mineral')}{stage} ({mode}), {year}; loss if {rival} cuts "
                f"{_number(p.get('against_cut', 1.0), '.0%')}")
    if scenario.kind == "domestic":
        amount = (f"project {p['project']}" if p.get("project")
                  else f"{_number(p.get('capacity'), ',.0f')} t a year")
        rival = ", ".join(_listed(p.get("against")))
        return (f"{p.get('country')} makes {p.get('mineral')}{stage} at home ({amount}), "
                f"{year}; loss if {rival} cuts {_number(p.get('against_cut', 1.0), '.0%')}")
    return (f"supply at risk of {p.get('mineral')}{stage}, {year}, "
            f"{_number(p.get('draws'), ',')} draws")


def _focus(runs: Sequence[ScenarioRun]) -> str:
    """The country whose outcomes :func:`outcomes` shows when none is named: the importer of
    the first agreement or the country of the first domestic what-if, else the first restriction target, else the first country of the
    first run's headline rows."""
    for item in runs:
        if isinstance(item.result, Pact):
            return item.result.importer
        if isinstance(item.result, Domestic):
            return item.result.country
    for item in runs:
        if isinstance(item.result, Restriction) and item.result.targets:
            return item.result.targets[0]
    return str(_rows(runs[0])["country"].iloc[0])


def _outcome(item: ScenarioRun, country: str) -> dict[str, Any]:
    result = item.result
    notes = list(item.notes)
    row: dict[str, Any] = {"loss_share": math.nan, "loss_t": math.nan,
                           "loss_share_without": math.nan, "feasible": None, "delivery": ""}
    if isinstance(result, Pact):
        row["measure"] = "loss with the agreement"
        row["feasible"] = result.feasible
        row["delivery"] = (f"{result.delivered_t:,.1f} of {result.volume_t:,.1f} t "
                           f"{result.basis} a year from {result.supplier} ({result.mode})")
        notes = [*item.scenario.notes, *result.warnings, *result.notes]
        if result.importer == country:
            row["loss_share"] = result.exposure_after
            row["loss_share_without"] = result.exposure_before
            # the exposure is a share of the importer's supply with the deliveries
            supply = result.after.get("supply_t")
            row["loss_t"] = (result.exposure_after * supply if supply is not None
                             else math.nan)
        else:
            notes.insert(0, f"the agreement concerns {result.importer}, not {country}")
    elif isinstance(result, Domestic):
        row["measure"] = "loss with the new output"
        row["delivery"] = (f"{result.output_t:,.1f} t {result.basis} a year of new output at "
                           f"the {result.stage} stage; feed short by "
                           f"{result.feed['shortfall_t']:,.1f} t")
        notes = [*item.scenario.notes, *result.warnings, *result.notes, result.conclusion()]
        if result.country == country:
            row["loss_share"] = result.exposure_after
            row["loss_share_without"] = result.exposure_before
            supply = result.after.get("supply_t")
            row["loss_t"] = (result.exposure_after * supply if supply is not None
                             else math.nan)
        else:
            notes.insert(0, f"the new output concerns {result.country}, not {country}")
    else:
        restriction = isinstance(result, Restriction)
        row["measure"] = "loss" if restriction else "expected loss"
        share, tonnes = (("loss_share", "loss_t") if restriction
                         else ("expected_loss_share", "expected_loss_t"))
        mine = result.countries[result.countries["country"] == country]
        if len(mine):
            row["loss_share"] = mine[share].iloc[0]
            if tonnes in mine.columns:
                row["loss_t"] = mine[tonnes].iloc[0]
        else:
            notes.insert(0, f"{country} is not among the importers this scenario reaches")
    return {"scenario": item.scenario.name, "kind": item.scenario.kind,
            "title": describe(item.scenario), "mineral": result.mineral, "year": result.year,
            "stage": result.stage, "country": country, **row,
            "data_fingerprint": item.scenario.fingerprint,
            "critmin_version": item.scenario.version, "notes": notes}


def outcomes(runs: Sequence[ScenarioRun], country: str | None = None) -> pd.DataFrame:
    """One country's outcome under each run, one row per scenario: the side-by-side view.

    ``loss_share`` is the headline: the country's loss as a share of its supply (restrict),
    with the agreement (pact; ``loss_share_without`` is the loss without it) or expected
    (supply-at-risk); ``loss_t`` the same in tonnes of the mineral's basis. ``feasible`` and
    ``delivery`` say whether an agreement's supplier can deliver; ``data_fingerprint`` and
    ``critmin_version`` are those the scenario was saved on; ``notes`` hold the scenario's
    notes, an agreement's warnings and the result's notes.

    Parameters
    ----------
    runs : list of ScenarioRun
    country : str, optional
        Any name of a country; by default the importer of the first agreement (or the
        country of the first domestic what-if), else the
        first restriction target, else the first country of the first run.

    Examples
    --------
    >>> runs = [run_scenario(EXAMPLES / f"{n}.json") for n in
    ...         ("china_rare_earth_metals_cut", "india_russia_rare_earth_metals_pact")]
    >>> table = outcomes(runs)
    >>> list(table["country"]), bool(table["loss_share"].iloc[1] < table["loss_share"].iloc[0])
    (['IND', 'IND'], True)
    """
    from critmin import resolve

    if not runs:
        raise InvalidInput("give at least one scenario to compare")
    who = resolve.country(country) if country is not None else _focus(runs)
    frame = pd.DataFrame([_outcome(r, who) for r in runs], columns=list(OUTCOMES))
    numeric = [c for c, unit in OUTCOMES.items() if unit]
    frame[numeric] = frame[numeric].astype(float)
    frame["year"] = frame["year"].astype("Int32")
    frame.attrs["units"] = {c: unit for c, unit in OUTCOMES.items() if unit}
    return frame


def comparison(runs: Sequence[ScenarioRun]) -> pd.DataFrame:
    """One table of the runs' headline figures, one row per scenario and country (see
    :data:`COLUMNS`); the figures another kind reports are empty."""
    if not runs:
        raise InvalidInput("give at least one scenario to compare")
    frame = pd.concat([_rows(r) for r in runs], ignore_index=True)
    frame = frame.reindex(columns=list(COLUMNS))
    numeric = [c for c, unit in COLUMNS.items() if unit]
    frame[numeric] = frame[numeric].astype(float)
    frame["year"] = frame["year"].astype("Int32")
    frame.attrs["units"] = {c: unit for c, unit in COLUMNS.items() if unit}
    return frame


def compare_scenarios(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Run scenario files and put their headline figures side by side.

    Parameters
    ----------
    paths : list of str or Path
        Scenario files (of any kinds). Two files with the same name are told apart by
        their paths.

    Returns
    -------
    pandas.DataFrame
        One row per scenario and country: ``scenario`` (the file's name), ``kind``,
        ``mineral``, ``year``, ``stage``, ``country`` and each kind's headline figures
        (:data:`COLUMNS`); ``attrs["notes"]`` holds the runs' notes, each prefixed by its
        scenario.

    Examples
    --------
    >>> from pathlib import Path
    >>> folder = Path(critmin.__file__).parents[2] / "docs" / "examples" / "india_russia_scenarios"
    >>> table = critmin.compare_scenarios(sorted(folder.glob("*.json")))
    >>> sorted(set(table["kind"]))
    ['domestic', 'pact', 'restrict']
    """
    paths = checks.as_paths(paths, "paths")
    loaded = [load_scenario(p) for p in paths]
    stems = [s.name for s in loaded]
    for scenario, given in zip(loaded, paths, strict=True):
        if stems.count(scenario.name) > 1:
            scenario.name = str(given)
    return compared([run(s) for s in loaded])


def compared(runs: Sequence[ScenarioRun]) -> pd.DataFrame:
    """:func:`comparison` of runs, with their notes, each prefixed by its scenario, in
    ``attrs["notes"]`` (what :func:`compare_scenarios` returns for files)."""
    table = comparison(runs)
    table.attrs["notes"] = [f"{r.scenario.name}: {n}" for r in runs for n in r.notes]
    return table
