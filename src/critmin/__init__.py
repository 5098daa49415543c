"""critmin: critical-mineral supply-chain analysis on real data.

The public API is re-exported here lazily, so that ``import critmin`` stays fast;
``dir(critmin)`` lists it.

>>> import critmin
>>> "profile" in dir(critmin) and "risk" in dir(critmin)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_EXPORTS = {
    "profile": "critmin.profiles",
    "mineral": "critmin.profiles",
    "CountryProfile": "critmin.profiles",
    "MineralProfile": "critmin.profiles",
    "risk": "critmin.query",
    "cube": "critmin.query",
    "partners": "critmin.query",
    "status": "critmin.query",
    "countries": "critmin.query",
    "minerals": "critmin.query",
    "lists": "critmin.query",
    "stages": "critmin.query",
    "import_source": "critmin.ingest",
    "import_baci": "critmin.ingest",
    "reset_imports": "critmin.ingest",
    "build_snapshot": "critmin.build",
    "ImportReport": "critmin.ingest",
    "export_table": "critmin.query",
    "default_year": "critmin.query",
    "restrict": "critmin.whatif",
    "pact": "critmin.whatif",
    "supply_at_risk": "critmin.whatif",
    "events": "critmin.whatif",
    "agreements": "critmin.whatif",
    "network": "critmin.whatif",
    "Restriction": "critmin.whatif",
    "Pact": "critmin.whatif",
    "SupplyAtRisk": "critmin.whatif",
    "optimise": "critmin.sourcing",
    "frontier": "critmin.sourcing",
    "suppliers": "critmin.sourcing",
    "Portfolio": "critmin.sourcing",
    "Frontier": "critmin.sourcing",
    "CritminError": "critmin.errors",
    "InvalidInput": "critmin.errors",
    "NotFound": "critmin.errors",
    "Ambiguous": "critmin.errors",
    "DataError": "critmin.errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from critmin.build import build_snapshot
    from critmin.errors import Ambiguous, CritminError, DataError, InvalidInput, NotFound
    from critmin.ingest import ImportReport, import_baci, import_source, reset_imports
    from critmin.profiles import CountryProfile, MineralProfile, mineral, profile
    from critmin.query import (
        countries,
        cube,
        default_year,
        export_table,
        lists,
        minerals,
        partners,
        risk,
        stages,
        status,
    )
    from critmin.sourcing import Frontier, Portfolio, frontier, optimise, suppliers
    from critmin.whatif import (
        Pact,
        Restriction,
        SupplyAtRisk,
        agreements,
        events,
        network,
        pact,
        restrict,
        supply_at_risk,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'critmin' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
