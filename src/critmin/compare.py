"""Groups side by side: each group's exposure per mineral, one column per group and measure.

A group is read as one importer (:func:`critmin.risk` with ``as_group``): trade between its
members is left out, so China's share of ``BRICS-CHN``'s imports is China's share of what the
other members buy from outside the group, China included as an outside supplier. A plain
country is read as itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from critmin import checks, resolve, schema
from critmin.errors import InvalidInput

MEASURES = ("china_share", "import_reliance", "top_supplier", "top_supplier_share")
"""The measures shown per group in the wide table, in order."""
LONG_COLUMNS = ("year", "mineral", "group", "china_share", "import_reliance",
                "reliance_status", "top_supplier", "top_supplier_share", "imports_basis_t",
                "flags")
"""The columns of :func:`compare_long`, declared as the ``compare`` output."""


def _labels(groups: list[str]) -> tuple[list[str], list[str]]:
    """The label of each group as its rows name it (a group's label, a country's ISO3), and
    those that are groups."""
    labels, grouped = [], []
    for name in groups:
        expression = resolve.group_expression(name)
        if expression is None:
            labels.append(resolve.country(name))
        else:
            labels.append(expression.label)
            grouped.append(name)
    doubled = sorted({label for label in labels if labels.count(label) > 1})
    if doubled:
        raise InvalidInput(f"{doubled[0]} is given twice; compare different groups")
    return labels, grouped


def compare_long(groups: Sequence[str] | str, minerals: Sequence[str] | str,
                 years: Sequence[int] | int | None = None) -> pd.DataFrame:
    """Each group's exposure per mineral and year, as long rows.

    Parameters
    ----------
    groups : str or list of str
        Groups (``G7``, ``EU27``, ``BRICS-CHN``, ``EU27+GBR``, ``Quad=USA+JPN+IND+AUS``) or
        countries, each read as one importer.
    minerals : str or list of str
        Minerals (slugs, names, aliases).
    years : int or list of int, optional
        Years (default: the latest complete year).

    Returns
    -------
    pandas.DataFrame
        One row per (year, mineral, group): China's share of the group's imports, its import
        reliance (and what the reliance means or why it is withheld), the top supplier and
        its share, imports on the mineral's basis and the data-quality flags.

    Examples
    --------
    >>> rows = compare_long(["G7", "BRICS-CHN"], "rare-earths", 2023)
    >>> rows.set_index("group").loc["BRICS-CHN", "top_supplier"]
    'CHN'
    """
    from critmin import query

    names = checks.as_names(groups, "groups")
    if names is None:
        raise InvalidInput("groups must be given: at least one group or country")
    if checks.as_names(minerals, "minerals") is None:
        raise InvalidInput("minerals must be given: at least one mineral")
    labels, grouped = _labels(names)
    if years is None:
        years = query.default_year()
    frame = query.risk(names, minerals, years, as_group=bool(grouped))
    frame = frame[frame["country"].isin(labels)].rename(columns={"country": "group"})
    rank = {label: n for n, label in enumerate(labels)}
    given = {m: n for n, m in enumerate(query.resolve_minerals(minerals) or [])}
    frame = frame.assign(_rank=frame["group"].map(rank), _given=frame["mineral"].map(given))
    frame = frame.sort_values(["year", "_given", "_rank"], kind="stable")
    frame["flags"] = frame["flags"].astype("string").fillna("")
    out = frame[list(LONG_COLUMNS)].reset_index(drop=True)
    out.attrs = {"units": schema.units("compare"), "table": "compare", "groups": labels}
    return out


def compare(groups: Sequence[str] | str, minerals: Sequence[str] | str,
            years: Sequence[int] | int | None = None) -> pd.DataFrame:
    """Groups side by side: one row per mineral (and year), per group China's share of its
    imports, its import reliance, its top supplier and that supplier's share.

    Parameters
    ----------
    groups, minerals, years
        As in :func:`compare_long`.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``mineral``, then for each group in the order given ``"<group>
        china_share"``, ``"<group> import_reliance"``, ``"<group> top_supplier"``,
        ``"<group> top_supplier_share"``; units in ``attrs["units"]``, the long rows in
        ``attrs["long"]``.

    Examples
    --------
    >>> wide = compare(["G7", "BRICS-CHN"], ["rare-earths", "graphite"], 2023)
    >>> list(wide.columns[:4])
    ['year', 'mineral', 'G7 china_share', 'G7 import_reliance']
    """
    long = compare_long(groups, minerals, years)
    labels = long.attrs["groups"]
    units = schema.units("compare")
    parts = []
    for label in labels:
        part = long[long["group"] == label].set_index(["year", "mineral"])[list(MEASURES)]
        parts.append(part.rename(columns={m: f"{label} {m}" for m in MEASURES}))
    wide = pd.concat(parts, axis=1).reset_index() if parts else long
    keys = long[["year", "mineral"]].drop_duplicates()
    wide = keys.merge(wide, on=["year", "mineral"], how="left").reset_index(drop=True)
    wide.attrs = {"units": {f"{label} {m}": units[m] for label in labels for m in MEASURES
                            if m in units},
                  "groups": labels, "long": long}
    return wide
