"""How much of a supplier's output the trade network represents: the coverage every scenario
result carries (restriction, pact, supply-at-risk, the optimiser).

A scenario moves tonnes along the network's recorded flows. When a supplier's recorded
exports are a sliver of what it is known to produce at the stage, the network does not show
where its output goes (consumed at home, shipped under codes the data lacks, or not traded
as this stage at all), and a result built on that sliver says little about the supplier.

Definition, for a set of suppliers S at the network's stage and year::

    coverage = sum(X_s for s in S with known output) / sum(P_s for s in S with known output)

with X_s the network's exports of s (tonnes on the mineral's basis, all partners) and P_s
its output from the bundled production sources, on the same basis: the network's own
``production`` (at the headline stages, the mineral's production stage, as in the cube; at
one stage, that stage's output). At a stage no source reports output for (refined rare
earths, lithium chemicals), P_s is the output at the mineral's production stage, and the
result says so (``measured``): the material a country exports at a later stage is, at most,
what it mined plus what it imported. A supplier without a positive output in those sources
has an *unknown* output: it is listed, left out of both sums, and when no supplier of S has
a known output the coverage is unknown (withheld), never 100 %. Coverage above 1 means the
supplier exports more than it produces (re-exports of others' material, or stock).

Below :data:`MIN_COVERAGE` a result is refused (:class:`~critmin.errors.InvalidInput`),
unless the output is the production-stage stand-in: that bounds what a later stage could
ship rather than measuring it, so a low share says the country hardly makes the stage (the
result's feasibility and notes say so), not that the data lacks its exports.

>>> from critmin.scenarios.network import Network
>>> g = Network.of(["A", "B", "C"], [[0, 30, 10], [1, 0, 0], [0, 0, 0]], [200, 0, 50])
>>> c = measure(g, g.production, ["A", "B"])
>>> (c.exports_t, c.output_t, c.share, c.unknown)
(40.0, 200.0, 0.2, ('B',))
>>> measure(g, g.production, ["B"]).share is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin import cache, numbers
from critmin.errors import InvalidInput
from critmin.scenarios.network import Network
from critmin.store import get_store
from critmin.trade_network import HEADLINE, MineralNetwork

MIN_COVERAGE = 0.01
"""Smallest coverage a result is computed for. Under 1 % the network shows almost none of
the supplier's output leaving it, for one of two reasons: its exports go under codes the
data lacks (Australia's spodumene concentrate and Indonesia's nickel pig iron and matte have
no rows in 2023: 0.2 % of their lithium and nickel output), or it uses its output at home and
exports are of the order of what the network's own approximations move (a basket code's
fixed allocation share, the gap between an exporter's and an importer's declaration of one
flow). Either way a cut, a redirection or a disruption applied to that sliver describes the
data's gaps, not the supplier. A higher bar would refuse suppliers whose small exports are
real and well recorded: China's refined rare-earth and refined cobalt exports are 4.4 % and
2.4 % of its output (2023) because its own industry uses the rest."""


SHOWN = 5
"""Suppliers of unknown output named in a summary line; the rest are counted."""


@dataclass(frozen=True)
class Coverage:
    """The share of the suppliers' known output that the network's exports represent."""

    suppliers: tuple[str, ...]
    exports_t: float
    """Network exports of the suppliers with a known output (t, mineral basis)."""
    output_t: float | None
    """Their known output at the stage (t, mineral basis); None when no one's is known."""
    unknown: tuple[str, ...]
    """Suppliers whose output at the stage no bundled source reports."""
    measured: str = "output"
    """What the output measures: the stage's, or the production stage's where no source
    reports the stage."""

    @property
    def share(self) -> float | None:
        """Exports over known output; None (unknown) without a known output."""
        if self.output_t is None:
            return None
        return self.exports_t / self.output_t

    @property
    def status(self) -> str:
        """``unknown``, ``below threshold`` or ``known``."""
        if self.share is None:
            return "unknown"
        return "below threshold" if self.share < MIN_COVERAGE else "known"

    def line(self, who: str | None = None) -> str:
        """One line for a result's summary (``who``: how to name the suppliers)."""
        who = ", ".join(self.suppliers) if who is None else who
        if self.share is None:
            return (f"coverage unknown: no bundled source reports the output of {who}, so the "
                    "share of it the trade network shows is withheld")
        named = ", ".join(self.unknown[:SHOWN])
        more = f" and {len(self.unknown) - SHOWN} more" if len(self.unknown) > SHOWN else ""
        rest = f"; output unknown for {named}{more}" if self.unknown else ""
        return (f"coverage: the network's exports are {numbers.share(self.share)} of the "
                f"known {self.measured} of {who} ({numbers.fmt(self.exports_t, 't')} of "
                f"{numbers.tonnes(self.output_t)}{rest})")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (a result's ``coverage`` field)."""
        return {"suppliers": list(self.suppliers), "exports_t": self.exports_t,
                "output_t": self.output_t, "share": self.share, "status": self.status,
                "unknown": list(self.unknown), "measured": self.measured,
                "minimum": MIN_COVERAGE}

    def require(self, what: str) -> Coverage:
        """This coverage, or InvalidInput when it is known and below :data:`MIN_COVERAGE`.

        >>> Coverage(("A",), 4.0, 1_000.0, ()).require("a restriction")
        Traceback (most recent call last):
        critmin.errors.InvalidInput: cannot analyse a restriction: the trade network's exports of A are 0.4 % of its known output (4.0 of 1,000 t), under the 1.0 % minimum (its exports go under codes the data lacks, or it uses its output at home); choose another stage or year, or import fuller trade data
        """
        share = self.share
        # against a production-stage stand-in the output is only a bound on what the stage
        # could ship (Russia mines rare earths and exports them as compounds, not metals): a
        # low share then says the country does not make the stage, not that the data lacks it
        bound_only = self.measured.startswith("production-stage")
        if share is not None and share < MIN_COVERAGE and not bound_only:
            who = ", ".join(s for s in self.suppliers if s not in self.unknown)
            raise InvalidInput(
                f"cannot analyse {what}: the trade network's exports of {who} are "
                f"{numbers.share(share)} of {'its' if ',' not in who else 'their'} known "
                f"{self.measured} ({numbers.fmt(self.exports_t, 't')} of "
                f"{numbers.tonnes(self.output_t)}), under the {numbers.share(MIN_COVERAGE)} "
                "minimum (its exports go under codes the data lacks, or it uses its output at "
                "home); choose another stage or year, or import fuller trade data",
                details=self.to_dict())
        return self


def measure(g: Network, output: np.ndarray, suppliers: Sequence[str] | None = None,
            measured: str = "output") -> Coverage:
    """The coverage of ``suppliers`` (ISO3; default every country of ``g`` that exports or
    has an output) in network ``g`` against ``output`` (t on the basis, one per country of
    ``g``; 0: unknown).

    Suppliers absent from the network recorded neither trade nor output: they are left out.
    """
    active = (g.exports > 0) | (np.asarray(output, dtype=float) > 0)
    codes = ([str(c) for c in g.countries[active]] if suppliers is None
             else list(suppliers))
    at = g.index(codes)
    exports = g.exports[at]
    known_output = np.asarray(output, dtype=float)[at]
    known = known_output > 0
    names = np.asarray(g.countries, dtype=object)[at]
    return Coverage(suppliers=tuple(str(c) for c in names),
                    exports_t=float(exports[known].sum()),
                    output_t=float(known_output[known].sum()) if known.any() else None,
                    unknown=tuple(str(c) for c in names[~known]), measured=measured)


def stage_output(net: MineralNetwork) -> tuple[np.ndarray, str]:
    """Each country's known output for ``net`` (t on the basis, 0 where unknown) and what it
    measures: the network's own production, or, at a stage no source reports, the mineral's
    production-stage output (the cube's)."""
    g = net.network
    if net.stage == HEADLINE or g.production.sum() > 0:
        return g.production, "output" if net.stage == HEADLINE else f"{net.stage} output"
    rows = cache.load(get_store(), "cube", years=[net.year], minerals=[net.mineral])
    output = rows.groupby("country")["production_t"].sum(min_count=1)
    values = pd.Series(g.countries.astype(str)).map(output).fillna(0.0).to_numpy(float)
    return values, (f"production-stage output (no source reports {net.mineral} output at "
                    f"the {net.stage} stage)")


def of_suppliers(net: MineralNetwork, suppliers: Sequence[str] | None = None) -> Coverage:
    """The coverage of ``suppliers`` (default every country) in a mineral's network.

    >>> c = of_suppliers(critmin.network("cobalt", 2023), ["COD"])
    >>> c.status
    'known'
    """
    output, measured = stage_output(net)
    return measure(net.network, output, suppliers, measured)
