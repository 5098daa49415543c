"""The registries a scenario can start from: documented export-control events and
critical-mineral agreements, and what each stands for as a scenario's inputs (an event as a
restriction, an agreement as a pact)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from critmin import checks, resolve, schema
from critmin.errors import InvalidInput, NotFound, nearest
from critmin.store import get_store
from critmin.whatif.formatting import json_value

# -- events --------------------------------------------------------------------------------------

def events() -> pd.DataFrame:
    """Documented export-control events (China's gallium, germanium, graphite, antimony and
    rare-earth controls, Indonesia's ore bans…).

    Returns
    -------
    pandas.DataFrame
        One row per event: supplier, minerals, codes, stages, targets, kind, dates, the
        documented cut and its basis, source.

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


def event_inputs(event_id: str, supplier: Any, mineral: Any, stage: Any, targets: Any,
                 cut: Any) -> tuple[dict[str, Any], Any, str, str | None, Any, float]:
    """A restriction's inputs from an event: the event and notes, supplier, mineral, stage,
    targets and cut."""
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
    if cut is None:
        documented = float(np.nan if pd.isna(row["cut"]) else row["cut"])
        defaults = kind_defaults()
        kind = str(row["kind"])
        if np.isfinite(documented):
            cut = documented
            notes.append(f"cut {cut:.0%}: {row['cut_basis']}")
        elif kind in defaults:
            cut = defaults[kind]
            notes.append(f"no cut documented for this event: a {row['kind']} stands for "
                         f"{cut:.0%}, the median of the catalog's documented {row['kind']} cuts")
        else:
            raise InvalidInput(f"event {name} ({row['kind']}) documents no cut and the catalog "
                               "has no default for its kind; give one with cut")
    if pd.notna(row["ended"]) and row["ended"]:
        notes.append(f"the measure stopped applying on {row['ended']} (see the event's notes)")
    if len(stages) > 1:
        notes.append(f"the event covers the {', '.join(stages)} stages: run on the headline "
                     "network (primary supply at and after the production stage)")
    info = {"event": {"id": name, **{str(k): json_value(v) for k, v in row.items()}},
            "notes": notes}
    return info, row["supplier"], chosen, stage_used, (list(row["targets"]) or None), cut


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
