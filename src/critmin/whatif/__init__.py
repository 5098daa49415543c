"""What-if scenarios on real data: export restrictions with their cascade and by-products
(:mod:`~critmin.whatif.restrictions`), documented export-control events and bilateral
agreements (:mod:`~critmin.whatif.registries`), agreements as scenarios
(:mod:`~critmin.whatif.pacts`), new domestic capacity at a stage and the feed it needs
(:mod:`~critmin.whatif.domestic`), restrictions over several years with stocks, new capacity
and the world price (:mod:`~critmin.whatif.timeline`), Monte Carlo supply-at-risk
(:mod:`~critmin.whatif.at_risk`) with the yearly odds of a restriction
(:mod:`~critmin.whatif.hazards`), and the back-test of the documented events against observed
trade (:mod:`~critmin.whatif.backtest`).

Each reads the data (a mineral's network from :mod:`critmin.trade_network`, production,
governance, the events, agreements and by-product registries), runs the pure functions of
:mod:`critmin.scenarios` and shapes their arrays into tables with units and a short text.

>>> r = critmin.restrict("China", "rare-earths", 2023)
>>> round(float(r.countries.set_index("country").loc["JPN", "loss_share"]), 2)
0.66
"""

from __future__ import annotations

from critmin.trade_network import MineralNetwork, network
from critmin.whatif.at_risk import (
    SupplyAtRisk,
    in_force,
    magnitude,
    probabilities,
    supply_at_risk,
)
from critmin.whatif.backtest import Backtest, backtest
from critmin.whatif.hazards import Hazards, hazard_backtest, hazards, restrictions
from critmin.whatif.pacts import Pact, pact
from critmin.whatif.registries import agreements, events, kind_defaults
from critmin.whatif.restrictions import Restriction, dependence_of, restrict
from critmin.whatif.saved import (
    Scenario,
    ScenarioRun,
    compare_scenarios,
    load_scenario,
    run_scenario,
    save_scenario,
)
from critmin.whatif.timeline import PriceEffect, Timeline, price_effect, timeline

__all__ = [
    "Backtest",
    "Hazards",
    "MineralNetwork",
    "Pact",
    "PriceEffect",
    "Restriction",
    "Scenario",
    "ScenarioRun",
    "SupplyAtRisk",
    "Timeline",
    "agreements",
    "backtest",
    "compare_scenarios",
    "dependence_of",
    "events",
    "hazard_backtest",
    "hazards",
    "in_force",
    "kind_defaults",
    "load_scenario",
    "magnitude",
    "network",
    "pact",
    "price_effect",
    "probabilities",
    "restrict",
    "restrictions",
    "run_scenario",
    "save_scenario",
    "supply_at_risk",
    "timeline",
]
