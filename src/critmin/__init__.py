"""critmin: critical-mineral supply-chain analysis on real data.

The public API is re-exported here lazily, so that ``import critmin`` stays fast;
``dir(critmin)`` lists it.

>>> import critmin
>>> "profile" in dir(critmin) and "risk" in dir(critmin)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from critmin.version import __version__ as __version__

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
    "restrict": "critmin.whatif.restrictions",
    "timeline": "critmin.whatif.timeline",
    "price_effect": "critmin.whatif.timeline",
    "Timeline": "critmin.whatif.timeline",
    "PriceEffect": "critmin.whatif.timeline",
    "pact": "critmin.whatif.pacts",
    "domestic": "critmin.whatif.domestic",
    "Domestic": "critmin.whatif.domestic",
    "surplus": "critmin.whatif.capacity",
    "Surplus": "critmin.whatif.capacity",
    "projects": "critmin.whatif.capacity",
    "supply_at_risk": "critmin.whatif.at_risk",
    "save_scenario": "critmin.whatif.saved",
    "load_scenario": "critmin.whatif.saved",
    "run_scenario": "critmin.whatif.saved",
    "compare_scenarios": "critmin.whatif.saved",
    "scenario_files": "critmin.whatif.saved",
    "scenario_from_dict": "critmin.whatif.saved",
    "events": "critmin.whatif.registries",
    "backtest": "critmin.whatif.backtest",
    "hazards": "critmin.whatif.hazards",
    "Hazards": "critmin.whatif.hazards",
    "Backtest": "critmin.whatif.backtest",
    "agreements": "critmin.whatif.registries",
    "network": "critmin.trade_network",
    "embodied": "critmin.goods",
    "characterisation_factors": "critmin.lcia",
    "Restriction": "critmin.whatif.restrictions",
    "Pact": "critmin.whatif.pacts",
    "SupplyAtRisk": "critmin.whatif.at_risk",
    "optimise": "critmin.sourcing",
    "frontier": "critmin.sourcing",
    "suppliers": "critmin.sourcing",
    "Portfolio": "critmin.sourcing",
    "Frontier": "critmin.sourcing",
    "company": "critmin.company_view",
    "companies": "critmin.company_view",
    "import_purchases": "critmin.company_view",
    "company_template": "critmin.company_view",
    "company_optimise": "critmin.company_view",
    "CompanyPortfolio": "critmin.company_view",
    "CompanyView": "critmin.company_view",
    "CritminError": "critmin.errors",
    "InvalidInput": "critmin.errors",
    "NotFound": "critmin.errors",
    "Ambiguous": "critmin.errors",
    "DataError": "critmin.errors",
    "SolverError": "critmin.errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from critmin.build import build_snapshot
    from critmin.company_view import (
        CompanyPortfolio,
        CompanyView,
        companies,
        company,
        company_optimise,
        company_template,
        import_purchases,
    )
    from critmin.errors import (
        Ambiguous,
        CritminError,
        DataError,
        InvalidInput,
        NotFound,
        SolverError,
    )
    from critmin.goods import embodied
    from critmin.ingest import ImportReport, import_baci, import_source, reset_imports
    from critmin.lcia import characterisation_factors
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
    from critmin.trade_network import network
    from critmin.whatif.at_risk import SupplyAtRisk, supply_at_risk
    from critmin.whatif.backtest import Backtest, backtest
    from critmin.whatif.capacity import Surplus, projects, surplus
    from critmin.whatif.domestic import Domestic, domestic
    from critmin.whatif.hazards import Hazards, hazards
    from critmin.whatif.pacts import Pact, pact
    from critmin.whatif.registries import agreements, events
    from critmin.whatif.restrictions import Restriction, restrict
    from critmin.whatif.saved import (
        compare_scenarios,
        load_scenario,
        run_scenario,
        save_scenario,
        scenario_files,
        scenario_from_dict,
    )
    from critmin.whatif.timeline import PriceEffect, Timeline, price_effect, timeline


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'critmin' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
