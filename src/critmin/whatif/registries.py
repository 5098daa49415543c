"""The registries a scenario can start from: documented export-control events and
critical-mineral agreements, and what each stands for as a scenario's inputs (an event as a
restriction, an agreement as a pact)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, numbers, resolve, schema
from critmin.errors import InvalidInput, NotFound, nearest
from critmin.event_rules import in_force_in, never_in_force
from critmin.store import get_store
from critmin.whatif.formatting import json_value

# -- events --------------------------------------------------------------------------------------

EVENT_STATUSES = ("announced", "in force", "suspended", "lifted")
"""An event's status as of its ``status_date``: announced (not yet in effect), in force,
suspended (before or after it took effect) or lifted."""

AS_ANNOUNCED = "pass as_announced=True / --as-announced"

def events() -> pd.DataFrame:
    """Documented export-control events (China's gallium, germanium, graphite, antimony and
    rare-earth controls, Indonesia's ore bans…).

    Returns
    -------
    pandas.DataFrame
        One row per event: supplier, minerals, codes, stages, targets, kind, dates, status
        (announced, in force, suspended, lifted) with its date and source, the documented cut
        and its basis, source.

    Examples
    --------
    >>> critmin.events().set_index("id").loc["idn-ni-ban-2020", "kind"]
    'ban'
    """
    return schema.select("events", get_store().table("events"))


def kind_defaults() -> dict[str, float]:
    """The cut a kind of measure stands for when an event documents none: 1 for a ban,
    otherwise the median of the catalog's documented cuts of that kind."""
    table = get_store().table("events")
    documented = table.dropna(subset=["cut"])
    medians = documented.groupby("kind")["cut"].median()
    out = {str(k): float(v) for k, v in medians.items()}
    out["ban"] = 1.0
    return out


def event_status(event: pd.Series, year: int, as_announced: bool = False
                 ) -> tuple[bool, str | None]:
    """Whether an event cuts on ``year``'s trade, and the note that says why not (or that it
    runs as announced all the same).

    An event in force runs on any year: the latest trade stands in for today's. One that
    never took effect (announced, or suspended before its effective date) cuts nothing, and
    one lifted or suspended after it took effect cuts only in the years it was in force,
    unless ``as_announced``.
    """
    name, status = str(event.name), str(event["status"])
    frame = event.to_frame().T
    if bool(never_in_force(frame).iloc[0]):
        if status == "announced":
            why = (f"{name} was announced on {event['announced']} and has not taken effect "
                   f"(status as of {event['status_date']})")
        else:
            why = f"{name} was suspended on {event['status_date']} before it took effect"
    elif status in ("lifted", "suspended") and not bool(in_force_in(frame, year).iloc[0]):
        began = event["effective"] if pd.notna(event["effective"]) else event["announced"]
        why = (f"{name} was in force from {began} until it was {status} on {event['ended']}, "
               f"not in {year}")
    else:
        if status in ("lifted", "suspended"):
            return True, (f"{name} was {status} on {event['status_date']} (see the event's "
                          f"notes); it was in force in {year}")
        return True, None
    if as_announced:
        return True, f"{why}: run as announced"
    return False, f"{why}: it cuts nothing; {AS_ANNOUNCED} to run it as announced"


def event_inputs(event_id: str, supplier: Any, mineral: Any, stage: Any, targets: Any
                 ) -> tuple[dict[str, Any], Any, str, str | None, Any]:
    """A restriction's inputs from an event: the event and notes, supplier, mineral, stage
    and targets (the cut depends on the year: :func:`event_cut`)."""
    table = get_store().table("events").set_index("id")
    name = checks.as_name(event_id, "event")
    if name not in table.index:
        raise NotFound(f"unknown event {name!r}",
                       suggestions=nearest(name, table.index) or list(table.index[:3]))
    if supplier is not None or targets is not None or stage is not None:
        raise InvalidInput("an event sets the supplier, targets and stage; give only the "
                           "year, the mineral (one of the event's), the cut and the response")
    row = table.loc[name]
    covered = list(row["minerals"])
    notes = []
    if mineral is None:
        chosen = covered[0]
        if len(covered) > 1:
            notes.append(f"the event also covers {', '.join(covered[1:])}: choose one with "
                         "the mineral argument")
    else:
        chosen = resolve.mineral(checks.as_name(mineral, "mineral"))
        if chosen not in covered:
            raise InvalidInput(f"event {name} covers {', '.join(covered)}, not {chosen}",
                               suggestions=covered)
    stages = [s for s in row["stage"] if s in schema.STAGES]
    stage_used = stages[0] if len(stages) == 1 else None
    if len(stages) > 1:
        notes.append(f"the event covers the {', '.join(stages)} stages: run on the headline "
                     "network (primary supply at and after the production stage)")
    info = {"event": {"id": name, **{str(k): json_value(v) for k, v in row.items()}},
            "notes": notes, "row": row, "mineral": chosen, "stage": stage_used}
    return info, row["supplier"], chosen, stage_used, (list(row["targets"]) or None)


def event_cut(info: dict[str, Any], year: int, cut: Any, as_announced: bool = False) -> float:
    """The cut an event runs with on ``year``'s trade (``cut`` if given, else its documented
    cut or its kind's default; 0 where its status says it did not apply), its notes added to
    ``info["notes"]``."""
    row = info["row"]
    given = None if cut is None else checks.as_fraction(cut, "cut")
    applies, why = event_status(row, year, as_announced)
    notes = info["notes"]
    if why is not None:
        notes.insert(0, why)
    if not applies:
        return 0.0
    if given is not None:
        return given
    documented = float(np.nan if pd.isna(row["cut"]) else row["cut"])
    defaults = kind_defaults()
    kind = str(row["kind"])
    at = 1 if why else 0
    if not never_in_force(row.to_frame().T).iloc[0] and "mineral" in info:
        from critmin.whatif.backtest import observed_cut

        seen = observed_cut(str(row.name), info["mineral"], info.get("stage"))
        if seen is not None:
            claimed = (f"{numbers.share(documented)} ({row['cut_basis']})"
                       if np.isfinite(documented) else
                       f"none documented (a {kind} stands for "
                       f"{numbers.share(defaults.get(kind, 1))})")
            notes.insert(at, f"cut {numbers.share(seen[0])}: the annual change observed in trade, "
                         f"{seen[1]}; the event's documented cut is {claimed}: give cut to "
                         "run that magnitude instead")
            return seen[0]
    if np.isfinite(documented):
        notes.insert(at, f"cut {numbers.share(documented)}: {row['cut_basis']} (no annual change "
                     "observed in the bundled trade on both sides of the measure)")
        return documented
    if kind in defaults:
        notes.insert(1 if why else 0,
                     f"no cut documented for this event: a {kind} stands for "
                     f"{numbers.share(defaults[kind])}, the median of the catalog's documented "
                     f"{kind} cuts")
        return defaults[kind]
    raise InvalidInput(f"event {row.name} ({kind}) documents no cut and the catalog has no "
                       "default for its kind; give one with cut")


# -- agreements ----------------------------------------------------------------------------------

def agreements() -> pd.DataFrame:
    """Critical-mineral agreements and partnerships (India-Russia 2026, the Minerals
    Security Partnership, the EU's strategic partnerships…).

    Returns
    -------
    pandas.DataFrame
        One row per agreement: parties, the supplying and importing side where there is one,
        minerals, stage, status (reported, proposed, signed, in force), dates, source.

    Examples
    --------
    >>> critmin.agreements().set_index("id").loc["ind-rus-cm-2026", "status"]
    'reported'
    """
    return schema.select("agreements", get_store().table("agreements"))


def agreement_inputs(agreement_id: str, importer: Any, supplier: Any, mineral: Any
                     ) -> tuple[dict[str, Any], str, str, str, list[str]]:
    """A pact's inputs from an agreement: the agreement, importer, supplier, mineral and
    notes."""
    table = get_store().table("agreements").set_index("id")
    name = checks.as_name(agreement_id, "agreement")
    if name not in table.index:
        raise NotFound(f"unknown agreement {name!r}",
                       suggestions=nearest(name, table.index) or list(table.index[:3]))
    row = table.loc[name]
    notes = [f"agreement {name} ({row['status']}): {row['title']}"]
    if row["status"] in ("reported", "proposed"):
        notes.append(f"status '{row['status']}': not signed; the volume is an assumption")
    imp = importer or (row["importer"] if pd.notna(row["importer"]) else None)
    sup = supplier or (row["supplier"] if pd.notna(row["supplier"]) else None)
    if imp is None or sup is None:
        raise InvalidInput(f"agreement {name} names no supplying and importing side "
                           f"(parties {', '.join(row['parties'])}): give importer and supplier")
    covered = list(row["minerals"])
    if mineral is None:
        if not covered:
            raise InvalidInput(f"agreement {name} names no mineral: give one")
        mineral = covered[0]
        if len(covered) > 1:
            notes.append(f"the agreement also covers {', '.join(covered[1:])}: choose one with "
                         "the mineral argument")
    info = {"id": name, **{str(k): json_value(v) for k, v in row.items()}}
    return info, str(imp), str(sup), str(mineral), notes
