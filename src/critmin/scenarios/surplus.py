"""What a supplier could ship from its own output: its exportable surplus at a stage, and
what a new capacity path adds year by year.

A supplier's capacity is its output at the stage minus its own use there, never its
re-exports. Own use is apparent consumption, output + imports - exports (never below 0), so
the surplus is ``clip(exports - imports, 0, output)``: a net importer has none whatever its
output, and a re-exporter (exports above its output) has at most its output. Where the data
has no output at the stage the surplus of a net exporter is withheld (NaN), not zero.

Pure: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def own_use(output: npt.ArrayLike, imports: npt.ArrayLike, exports: npt.ArrayLike) -> Array:
    """Apparent consumption at the stage, ``max(output + imports - exports, 0)``; NaN where
    the output is unknown.

    Examples
    --------
    >>> own_use([100.0, 27.0, np.nan], [10.0, 119.0, 65.0], [60.0, 342.0, 0.0]).tolist()
    [50.0, 0.0, nan]
    """
    p, m, x = (np.asarray(a, dtype=float) for a in (output, imports, exports))
    return np.asarray(np.maximum(p + m - x, 0.0), dtype=float)


def exportable_surplus(output: npt.ArrayLike, imports: npt.ArrayLike,
                       exports: npt.ArrayLike, restricted_share: npt.ArrayLike | None = None,
                       trade_at_output_stage: bool = True) -> Array:
    """Tonnes a country could export from its own output: output minus own use.

    Parameters
    ----------
    output, imports, exports : array_like
        At one stage, on one basis (NaN output: not reported).
    restricted_share : array_like, optional
        Share of each country's supply that comes from a restricting country. When given,
        a re-exporter also counts the part of its re-exports (exports beyond its surplus)
        that does not come from that country; without it re-exports count for nothing.
    trade_at_output_stage : bool
        False when the trade is at another stage than the output (lithium: mine output,
        trade in chemicals only): own use cannot be told from the data, and the surplus is
        the exports up to the output (exports beyond it are re-exports).

    Returns
    -------
    numpy.ndarray
        ``clip(exports - imports, 0, output)``; 0 for a net importer even when its output is
        unknown, NaN for a net exporter whose output is unknown.

    Examples
    --------
    An exporter with own use (output 100, imports 10, exports 60: own use 50), a re-exporter
    (output 27, imports 119, exports 342: at most its output), a net importer with no output
    reported, and a net exporter with no output reported (withheld):

    >>> exportable_surplus([100.0, 27.0, np.nan, np.nan], [10.0, 119.0, 65.0, 5.0],
    ...                    [60.0, 342.0, 0.0, 40.0]).tolist()
    [50.0, 27.0, 0.0, nan]

    The re-exporter with 99 % of its supply from the restricting country adds 1 % of its
    315 t of re-exports:

    >>> exportable_surplus([27.0], [119.0], [342.0], restricted_share=[0.99]).round(2).tolist()
    [30.15]

    With the output at another stage than the trade, at most the output:

    >>> exportable_surplus([27.0, 0.0], [119.0, 50.0], [342.0, 60.0],
    ...                    trade_at_output_stage=False).tolist()
    [27.0, 0.0]
    """
    p, m, x = (np.asarray(a, dtype=float) for a in (output, imports, exports))
    net = x - m
    known = np.clip(net, 0.0, np.where(np.isnan(p), np.inf, p))
    surplus = np.where(np.isnan(p) & (net > 0), np.nan, known)
    if not trade_at_output_stage:
        surplus = np.minimum(p, np.maximum(x, 0.0))
    if restricted_share is None:
        return np.asarray(surplus, dtype=float)
    share = np.clip(np.asarray(restricted_share, dtype=float), 0.0, 1.0)
    re_exports = np.maximum(x - np.nan_to_num(surplus), 0.0)
    return np.asarray(surplus + re_exports * (1.0 - np.nan_to_num(share)), dtype=float)


def capacity_path(capacity_t: float, start: int, ramp_years: int, years: npt.ArrayLike
                  ) -> Array:
    """New capacity in each of ``years``: none before ``start`` (the first year of output),
    then a straight ramp, ``capacity_t * k / ramp_years`` in the k-th year of output, full
    from the ``ramp_years``-th (all of it from ``start`` when ``ramp_years`` is 0 or 1).

    Examples
    --------
    >>> capacity_path(900.0, 2027, 3, [2026, 2027, 2028, 2029, 2030]).tolist()
    [0.0, 300.0, 600.0, 900.0, 900.0]
    >>> capacity_path(900.0, 2027, 0, [2026, 2027]).tolist()
    [0.0, 900.0]
    """
    y = np.asarray(years, dtype=float)
    steps = y - start + 1
    share = np.clip(steps / max(ramp_years, 1), 0.0, 1.0)
    return np.asarray(capacity_t * share, dtype=float)


def deliverable(new_capacity_t: npt.ArrayLike, output: float, imports: float,
                exports: float) -> Array:
    """What the supplier could export with new capacity on top of today's output and own
    use: ``clip(new + exports - imports, 0, output + new)``. New capacity first covers what
    the supplier imports for its own use. Unknown output counts as none.

    Examples
    --------
    A net importer of 65 t a year with 300 t of new capacity can export 235 t:

    >>> deliverable([0.0, 300.0], np.nan, 65.0, 0.0).tolist()
    [0.0, 235.0]
    """
    c = np.asarray(new_capacity_t, dtype=float)
    p = 0.0 if np.isnan(output) else float(output)
    return np.asarray(np.clip(c + exports - imports, 0.0, p + c), dtype=float)


def first_year(years: npt.ArrayLike, deliverable_t: npt.ArrayLike, volume_t: float
               ) -> int | None:
    """The first year whose deliverable tonnes reach ``volume_t``; None when none does.

    Examples
    --------
    >>> first_year([2027, 2028, 2029], [100.0, 200.0, 300.0], 150.0)
    2028
    >>> first_year([2027, 2028], [100.0, 200.0], 250.0) is None
    True
    """
    y = np.asarray(years)
    hit = np.flatnonzero(np.asarray(deliverable_t, dtype=float) >= volume_t - 1e-9)
    return int(y[hit[0]]) if len(hit) else None
