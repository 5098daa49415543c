"""Request bodies of the REST API, validated by pydantic before critmin sees them.

Limits protect the server: draws, points and list lengths are capped here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_DRAWS = 200_000
"""Most Monte Carlo draws one request may ask for."""
MAX_CASCADE_DRAWS = 20_000
"""Most draws with the cascade, which costs about 25 times more per draw."""
MAX_POINTS = 60
"""Most points of a frontier."""

Name = Field(min_length=1, max_length=80)


class Body(BaseModel):
    """Unknown fields are refused, so a misspelt option is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class Common(Body):
    year: int | None = Field(None, ge=1950, le=2100, description="Year; latest complete if omitted.")
    stage: str | None = Field(None, max_length=20,
                              description="ore, intermediate, refined, alloy, scrap, product "
                                          "or headline (default).")


class RestrictBody(Common):
    """An export restriction by one or more suppliers."""

    supplier: list[str] | None = Field(None, max_length=50,
                                       description="Supplier countries or groups.")
    mineral: str | None = Field(None, min_length=1, max_length=80)
    cut: float | None = Field(None, ge=0, le=1, description="Share of exports withheld.")
    targets: list[str] | None = Field(None, max_length=300,
                                      description="Only exports to these countries.")
    cascade: bool = True
    stock_buffer: float = Field(0.0, ge=0, le=10, description="Years of imports in stock.")
    spare_capacity: float = Field(0.0, ge=0, le=10,
                                  description="Extra output other producers can add (share).")
    absorb: float | None = Field(None, ge=0, le=1)
    production: bool = Field(False, description="A production loss rather than an export cut.")
    by_products: bool = False
    event: str | None = Field(None, max_length=80,
                              description="An export-control event id from GET events.")


class PactBody(Common):
    """A bilateral agreement scenario."""

    importer: str | None = Field(None, min_length=1, max_length=80)
    supplier: str | None = Field(None, min_length=1, max_length=80)
    mineral: str | None = Field(None, min_length=1, max_length=80)
    volume: float | None = Field(None, ge=0, le=1e9, description="Tonnes a year, mineral basis.")
    share: float | None = Field(None, ge=0, le=1, description="Share of the importer's imports.")
    mode: Literal["redirect", "new"] = "redirect"
    against: list[str] = Field(default_factory=lambda: ["CHN"], max_length=50)
    against_cut: float = Field(1.0, ge=0, le=1)
    agreement: str | None = Field(None, max_length=80,
                                  description="An agreement id from GET agreements.")
    cascade: bool = True
    stock_buffer: float = Field(0.0, ge=0, le=10)
    spare_capacity: float = Field(0.0, ge=0, le=10)
    capacity: float | None = Field(None, ge=0, le=1e9, description=(
        "mode new: new capacity, tonnes a year on the mineral's basis."))
    start: int | None = Field(None, ge=1900, le=2200, description=(
        "mode new: first year of the new capacity."))
    ramp: int | None = Field(None, ge=0, le=50, description="mode new: years to full capacity.")
    project: str | None = Field(None, max_length=80, description=(
        "mode new: the capacity path of a documented project (critmin.projects)."))


class SupplyAtRiskBody(Common):
    """Monte Carlo supply-at-risk of one mineral."""

    mineral: str = Name
    draws: int = Field(10_000, ge=100, le=MAX_DRAWS)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    cascade: bool = False
    countries: list[str] | None = Field(None, max_length=300)
    probability: dict[str, float] | None = Field(
        None, max_length=300, description="Annual restriction probability per supplier (0-1).")
    odds: Literal["hazard", "exposure-share"] = Field(
        "hazard", description="hazard: yearly odds from counted restrictions; exposure-share: "
        "the OECD restricted-trade share scaled by governance risk (not odds).")

    @model_validator(mode="after")
    def _bounded_work(self) -> SupplyAtRiskBody:
        if self.cascade and self.draws > MAX_CASCADE_DRAWS:
            raise ValueError(f"with the cascade, draws must be at most {MAX_CASCADE_DRAWS:,} "
                             f"(got {self.draws:,})")
        return self


class OptimiseBody(Common):
    """A sourcing optimisation for one importer and mineral."""

    importer: str = Name
    mineral: str = Name
    demand: float | None = Field(None, gt=0, le=1e10, description="Tonnes a year.")
    max_share: float | None = Field(None, gt=0, le=1)
    exclude: list[str] | None = Field(None, max_length=300)
    require: dict[str, float] | None = Field(None, max_length=50,
                                             description="Supplier -> tonnes at least.")
    redirectable: float = Field(0.1, ge=0, le=1)
    production_share: float = Field(0.0, ge=0, le=1)
    weights: dict[str, float] | None = Field(
        None, max_length=3, description="risk, concentration, cost (>= 0).")
    origin_adjusted: bool = True
    risk_measure: Literal["odds", "governance"] = Field(
        "odds", description="A supplier's risk: yearly odds of a new export restriction "
        "(odds) or governance risk (governance).")
    min_lot_t: float | None = Field(
        None, gt=0, le=1e10, description="Least tonnes a supplier in the mix ships (0 or at "
        "least this; a mixed-integer programme).")
    max_suppliers: int | None = Field(None, ge=1, le=1000,
                                      description="Most suppliers in the mix.")
    time_limit_s: float = Field(30.0, gt=0, le=60,
                                description="Seconds each mixed-integer solve may take.")
    mip_gap: float = Field(1e-6, ge=0, le=0.5, description="Relative gap to the optimum at "
                           "which a mixed-integer solve stops.")
    frontier_points: int = Field(0, ge=0, le=MAX_POINTS,
                                 description="Also the risk-cost frontier with this many points.")


MAX_COMPARED = 10
"""Most saved scenarios one comparison runs."""

ScenarioName = Annotated[str, Field(min_length=1, max_length=120)]
SavedScenario = ScenarioName | dict[str, Any]
"""A saved scenario: its name (``GET saved-scenarios``) or a scenario file's content."""


class RunSavedBody(Body):
    """One saved scenario to run."""

    scenario: SavedScenario = Field(
        description="A name from GET saved-scenarios, or a scenario file's content "
                    "(critmin_scenario, kind, params, data_fingerprint, critmin_version; "
                    "optionally name).")


class CompareBody(Body):
    """Saved scenarios to run and put side by side."""

    scenarios: list[SavedScenario] = Field(
        min_length=1, max_length=MAX_COMPARED,
        description="Names from GET saved-scenarios and/or scenario files' contents.")
    country: str | None = Field(
        None, min_length=1, max_length=80,
        description="The country whose outcomes head the side-by-side view; by default the "
                    "importer of the first agreement, else the first restriction target.")


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str = Field(description="not_found, invalid_input, ambiguous, too_large, "
                                  "method_not_allowed, data_error, busy or internal_error")
    message: str
    details: dict[str, object]
    suggestions: list[str] = Field(description="The nearest valid choices, if any.")


class ErrorBody(BaseModel):
    """The one shape of every error the API returns."""

    error: ErrorDetail
