"""A mineral's value chain in one year as a table of flows between stages and countries:
mine output, processing (refining, separation), use of the processed forms (own output kept
at home plus imports) and imports of products (magnets, cells), all in tonnes of the
mineral's production basis.

Pure functions: frames in, frames out. :func:`critmin.query.value_chain` reads the inputs
(:func:`critmin.inputs.read_cube_inputs`) and calls :func:`chain_table`.

The data give each column's totals by country (mine and refinery output, or published
processing shares) and the bilateral trade of processed forms and products; they do not
give who sends ore to whom. A country's mine output is therefore processed at home up to its
own processing output; trade traces what it can of the rest to a processor abroad (ore
trade, and compounds shipped by a country that mines more than it processes); the remainder
goes through one node, "ore and concentrate traded", from which each processor draws what
its output exceeds its own and traced feedstock. Flows that the data cannot match (mine
output above processing output, exports above a country's output) go to or come from nodes
that say so, never silently.

>>> import pandas as pd
>>> mine = pd.DataFrame({"country": ["AUS", "CHN"], "qty_t": [100.0, 50.0]})
>>> refined = pd.DataFrame({"country": ["CHN"], "qty_t": [150.0]})
>>> t = chain_table(mine, refined, pd.DataFrame(columns=["exporter", "importer", "qty_t"]))
>>> into = t[(t["to_stage"] == "processing") & (t["to_country"] == "CHN")]
>>> into.groupby("from_stage")["qty_t"].sum().to_dict()
{'concentrate': 100.0, 'mine': 50.0}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHINA = "CHN"

MINE, POOL, PROCESSING, USE, PRODUCT = ("mine", "concentrate", "processing", "use",
                                        "product imports")
"""The stages (columns) of the chain, in order."""
STAGE_ORDER = (MINE, POOL, PROCESSING, USE, PRODUCT)
STAGE_TITLES = {MINE: "mine output", POOL: "ore and concentrate traded",
                PROCESSING: "processing (refining, separation)",
                USE: "use of processed forms (own output + imports)",
                PRODUCT: "imports of products"}
"""What each stage's column shows, for hover texts and notes."""
STAGE_HEADS = {MINE: "mine", POOL: "ore traded", PROCESSING: "processing", USE: "use",
               PRODUCT: "product imports"}
"""Each stage's column head: a word or two, so that heads do not collide on a phone."""

OTHER = "Other"
"""The countries outside the largest of a column, summed."""
WORLD = "world"
"""The one node of the ore pool."""
UNTRACED = "not traced"
"""A balancing node: flow the data shows arriving but not where it comes from."""
UNMATCHED = "not processed"
"""A balancing node: mine output above the recorded processing output of the year."""
BEYOND = "beyond output"
"""A balancing node: exports above the exporter's recorded output (re-exports, stocks)."""
NO_DATA = "no data"
"""A placeholder node of a stage the data cannot fill (``qty_t`` missing, the reason in
``source``)."""

COLUMNS = ["from_stage", "from_country", "to_stage", "to_country", "qty_t", "source"]
"""The columns of a value-chain table."""


def _links(frame: pd.DataFrame, from_stage: str, to_stage: str, source: str,
           src: str = "from_country", dst: str = "to_country", qty: str = "qty_t"
           ) -> pd.DataFrame:
    out = pd.DataFrame({"from_stage": from_stage, "from_country": frame[src].astype(str),
                        "to_stage": to_stage, "to_country": frame[dst].astype(str),
                        "qty_t": frame[qty].astype(float), "source": source})
    return out[out["qty_t"] > 0]


def _by_country(frame: pd.DataFrame) -> pd.Series:
    totals: pd.Series = frame["qty_t"].astype(float).groupby(
        frame["country"].astype(str)).sum()
    return totals[totals > 0]


def _bilateral(trade: pd.DataFrame) -> pd.DataFrame:
    """Trade between distinct countries, summed per (exporter, importer)."""
    t = trade[trade["exporter"].astype(str) != trade["importer"].astype(str)]
    t = t.assign(exporter=t["exporter"].astype(str), importer=t["importer"].astype(str),
                 qty_t=t["qty_t"].astype(float))
    out = t.groupby(["exporter", "importer"])["qty_t"].sum().reset_index()
    return out[out["qty_t"] > 0]


def _home(produced: pd.Series, refined: pd.Series) -> pd.Series:
    """Mine output processed in the country that mines it: up to its processing output
    ("Other" is not one country, so none of it)."""
    home = produced.clip(upper=refined.reindex(produced.index, fill_value=0.0))
    return home[(home > 0) & (home.index != OTHER)]


def _shipped(trade: pd.DataFrame, held: pd.Series, from_stage: str, to_stage: str,
             source: str, beyond_source: str) -> tuple[pd.DataFrame, pd.Series]:
    """Exports out of what each exporter holds (``held``: node totals of the column): each
    exporter's flows scaled down to what it holds, the rest from the :data:`BEYOND` node;
    returns the links and what each holder keeps at home."""
    exports = trade.groupby("exporter")["qty_t"].sum()
    have = held.reindex(exports.index, fill_value=0.0)
    covered = (have / exports).clip(upper=1.0)
    scale = trade["exporter"].map(covered).astype(float).to_numpy()
    inside = trade.assign(qty_t=trade["qty_t"] * scale)
    beyond = trade.assign(exporter=BEYOND, qty_t=trade["qty_t"] * (1 - scale))
    outside = beyond.groupby(["exporter", "importer"])["qty_t"].sum().reset_index()
    kept = (held - exports.reindex(held.index, fill_value=0.0)).clip(lower=0.0)
    links = pd.concat([_links(inside, from_stage, to_stage, source, "exporter", "importer"),
                       _links(outside, from_stage, to_stage, beyond_source, "exporter",
                              "importer")], ignore_index=True)
    return links, kept


def chain_table(mine: pd.DataFrame, processing: pd.DataFrame | None,
                processed_trade: pd.DataFrame, product_trade: pd.DataFrame | None = None,
                sources: dict[str, str] | None = None, top: int | None = None,
                ore_trade: pd.DataFrame | None = None) -> pd.DataFrame:
    """The value chain of one mineral and year as flows between (stage, country) nodes.

    Parameters
    ----------
    mine : pandas.DataFrame
        ``country``, ``qty_t``: mine output on the mineral's basis (output listed under no
        country as the country :data:`OTHER`).
    processing : pandas.DataFrame or None
        ``country``, ``qty_t``: processing output on the same basis; None when no source
        gives it (the exporters of processed forms then stand for the column, and the mine
        output flows to a :data:`NO_DATA` node).
    processed_trade, product_trade : pandas.DataFrame
        ``exporter``, ``importer``, ``qty_t``: bilateral trade of the processed forms
        (intermediate, refined, alloy) and of products, on the same basis; an empty or None
        ``product_trade`` gives a :data:`NO_DATA` product node.
    sources : dict, optional
        Words for the ``source`` column by key: ``mine``, ``processing``, ``trade``,
        ``product``, ``ore``, ``no_processing``, ``no_product``.
    top : int, optional
        Countries kept per stage (the largest by throughput, China always); the others
        are summed into :data:`OTHER`.
    ore_trade : pandas.DataFrame, optional
        ``exporter``, ``importer``, ``qty_t``: bilateral trade of ore and concentrate on
        the basis, which traces mine output to the importer's processing (see
        :func:`_feedstock`).

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`: one row per link; ``qty_t`` in tonnes of the basis (missing on a
        placeholder row, whose ``source`` says why).

    Examples
    --------
    >>> mine = pd.DataFrame({"country": ["AUS", "CHN"], "qty_t": [100.0, 50.0]})
    >>> refined = pd.DataFrame({"country": ["CHN"], "qty_t": [150.0]})
    >>> trade = pd.DataFrame({"exporter": ["CHN"], "importer": ["JPN"], "qty_t": [30.0]})
    >>> t = chain_table(mine, refined, trade)
    >>> t[t["to_stage"] == "use"].set_index("to_country")["qty_t"].to_dict()
    {'JPN': 30.0, 'CHN': 120.0}
    """
    words = {"mine": "mine output", "processing": "processing output",
             "trade": "trade of processed forms", "product": "trade of products",
             "ore": "trade of ore and concentrate",
             "no_processing": "no source gives processing output by country",
             "no_product": "no product trade with quantities in the year", **(sources or {})}
    produced = _by_country(mine)
    rows: list[pd.DataFrame] = []
    traded = _bilateral(processed_trade)
    if processing is not None and not _by_country(processing).empty:
        refined = _by_country(processing)
        routes, traded = _feedstock(produced, refined, traded,
                                    _bilateral(ore_trade) if ore_trade is not None
                                    else traded.iloc[:0])
        home = _home(produced, refined)
        sent = routes.groupby("exporter")["qty_t"].sum()
        taken = routes.groupby("importer")["qty_t"].sum()
        surplus = (produced - home.reindex(produced.index, fill_value=0.0)
                   - sent.reindex(produced.index, fill_value=0.0))
        need = (refined - home.reindex(refined.index, fill_value=0.0)
                - taken.reindex(refined.index, fill_value=0.0))
        frame = pd.DataFrame({"from_country": home.index, "to_country": home.index,
                              "qty_t": home.to_numpy()})
        rows.append(_links(frame, MINE, PROCESSING,
                           f"{words['mine']}, processed at home up to the country's "
                           "processing output (assumed first)"))
        for kind, part in routes.groupby("kind"):
            rows.append(_links(part, MINE, PROCESSING, ROUTE_WORDS[str(kind)].format(
                mine=words["mine"], ore=words["ore"], trade=words["trade"]),
                "exporter", "importer"))
        frame = pd.DataFrame({"from_country": surplus.index, "to_country": WORLD,
                              "qty_t": surplus.to_numpy()})
        rows.append(_links(frame, MINE, POOL, f"{words['mine']} neither processed at home "
                                              "nor traced in trade (the routes are not in "
                                              "the data)"))
        frame = pd.DataFrame({"from_country": WORLD, "to_country": need.index,
                              "qty_t": need.to_numpy()})
        rows.append(_links(frame, POOL, PROCESSING,
                           f"{words['processing']} above the country's own and traced "
                           "feedstock"))
        gap = float(surplus.clip(lower=0).sum() - need.clip(lower=0).sum())
        if gap > TOLERANCE * float(produced.sum()):
            rows.append(_links(pd.DataFrame({"from_country": [WORLD],
                                             "to_country": [UNMATCHED], "qty_t": [gap]}),
                               POOL, PROCESSING,
                               "mine output above the recorded processing output of the year "
                               "(stocks, losses, or processing the source does not list)"))
        elif -gap > TOLERANCE * float(produced.sum()):
            rows.append(_links(pd.DataFrame({"from_country": [UNTRACED],
                                             "to_country": [WORLD], "qty_t": [-gap]}),
                               MINE, POOL,
                               "processing output above the recorded mine output of the year "
                               "(stocks, recycling, or mining the source does not list)"))
    else:
        refined = traded.groupby("exporter")["qty_t"].sum()
        frame = pd.DataFrame({"from_country": produced.index, "to_country": NO_DATA,
                              "qty_t": produced.to_numpy()})
        rows.append(_links(frame, MINE, PROCESSING, f"{words['mine']}; processing: "
                                                    f"{words['no_processing']}"))
    links, kept = _shipped(traded, refined, PROCESSING, USE, words["trade"],
                           f"{words['trade']} above the exporter's processing output "
                           "(re-exports, stocks, or forms the processing source leaves out)")
    rows.append(links)
    frame = pd.DataFrame({"from_country": kept.index, "to_country": kept.index,
                          "qty_t": kept.to_numpy()})
    rows.append(_links(frame, PROCESSING, USE,
                       f"{words['processing']} not exported (used or stocked at home)"))
    used = pd.concat(rows, ignore_index=True)
    held = used[used["to_stage"] == USE].groupby("to_country")["qty_t"].sum()
    products = _bilateral(product_trade) if product_trade is not None else pd.DataFrame()
    if products.empty:
        rows.append(pd.DataFrame({"from_stage": [USE], "from_country": [NO_DATA],
                                  "to_stage": [PRODUCT], "to_country": [NO_DATA],
                                  "qty_t": [np.nan], "source": [words["no_product"]]}))
    else:
        links, _ = _shipped(products, held, USE, PRODUCT, words["product"],
                            f"{words['product']} above the exporter's use of processed "
                            "forms (re-exports, stocks, or content the factors overstate)")
        rows.append(links)
    table = pd.concat(rows, ignore_index=True)[COLUMNS]
    # slivers left by scaling (a route of a few kilograms) say nothing and clutter a figure
    table = table[~(table["qty_t"] < TOLERANCE * 1e3 * float(produced.sum()))]
    return grouped(table, top) if top else table.reset_index(drop=True)


def node_totals(table: pd.DataFrame) -> pd.DataFrame:
    """Throughput per (stage, country) node: ``inflow``, ``outflow`` and ``qty_t`` (the
    larger of the two), in stage order then largest first."""
    flows = table.dropna(subset=["qty_t"])
    out = flows.groupby(["from_stage", "from_country"])["qty_t"].sum().rename("outflow")
    into = flows.groupby(["to_stage", "to_country"])["qty_t"].sum().rename("inflow")
    out.index.names = into.index.names = ["stage", "country"]
    nodes = pd.concat([into, out], axis=1).fillna(0.0).reset_index()
    nodes["qty_t"] = nodes[["inflow", "outflow"]].max(axis=1)
    nodes["order"] = nodes["stage"].map({s: i for i, s in enumerate(STAGE_ORDER)})
    nodes = nodes.sort_values(["order", "qty_t", "country"], ascending=[True, False, True])
    return nodes.drop(columns="order").reset_index(drop=True)


def _feedstock(produced: pd.Series, refined: pd.Series, traded: pd.DataFrame,
               ore: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mine output traced to a processor abroad, and the processed-form trade left once
    the part counted as feedstock is taken out.

    Two kinds of trade trace ore: ore and concentrate (``ore``), and exports of processed
    forms by a country that mines more than it processes, above its processing output
    (``traded``: mixed rare-earth carbonate from Myanmar is traded as a compound but is
    feedstock of separation in China). Each exporter's routes are scaled to its mine output
    left after home processing, then each importer's to its processing output left after
    its own ore: a route never carries more than either end holds.
    """
    home = _home(produced, refined)
    surplus = (produced - home.reindex(produced.index, fill_value=0.0)).clip(lower=0.0)
    need = (refined - home.reindex(refined.index, fill_value=0.0)).clip(lower=0.0)
    exports = traded.groupby("exporter")["qty_t"].sum()
    above = (exports - refined.reindex(exports.index, fill_value=0.0)).clip(lower=0.0)
    miners = above.index.isin(surplus[surplus > 0].index)
    share = (above / exports).where(miners, 0.0)
    extra = traded.assign(qty_t=traded["qty_t"] * traded["exporter"].map(share).astype(float).fillna(0.0))
    candidates = pd.concat([ore.assign(kind="ore"), extra.assign(kind="processed")],
                           ignore_index=True)
    candidates = candidates[(candidates["qty_t"] > 0)
                            & candidates["exporter"].isin(surplus[surplus > 0].index)
                            & candidates["importer"].isin(need[need > 0].index)]
    offered = candidates.groupby("exporter")["qty_t"].transform("sum")
    fit = np.minimum(1.0, candidates["exporter"].map(surplus).astype(float) / offered)
    routed = candidates["qty_t"] * fit
    asked = routed.groupby(candidates["importer"]).transform("sum")
    routed = routed * np.minimum(1.0, candidates["importer"].map(need).astype(float) / asked)
    routes = candidates.assign(qty_t=routed)
    used = routes[routes["kind"] == "processed"].set_index(["exporter", "importer"])["qty_t"]
    key = pd.MultiIndex.from_frame(traded[["exporter", "importer"]])
    left = traded.assign(qty_t=traded["qty_t"].to_numpy()
                         - used.reindex(key, fill_value=0.0).to_numpy())
    return routes[routes["qty_t"] > 0], left[left["qty_t"] > 0]


ROUTE_WORDS = {
    "ore": "{mine} traced to the importer's processing by {ore}",
    "processed": "{mine} traced to the importer's processing by {trade} from a country that "
                 "mines more than it processes (counted as feedstock, e.g. mixed compounds)",
}
"""The ``source`` of the traced routes, by kind."""

TOLERANCE = 1e-9
"""Imbalances below this share of mine output are rounding, not a gap (links below a
thousand times it are dropped)."""


SPECIAL = (OTHER, WORLD, UNTRACED, UNMATCHED, BEYOND, NO_DATA)
"""Node names that are not countries."""


def grouped(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """``table`` with each stage's countries outside its ``top`` largest (China always kept)
    summed into :data:`OTHER`, links between the same nodes summed (their sources joined)."""
    nodes = node_totals(table)
    countries = nodes[~nodes["country"].isin(SPECIAL)]
    rank = countries.groupby("stage").cumcount()
    keep = countries[(rank < top) | (countries["country"] == CHINA)]
    kept = set(zip(keep["stage"], keep["country"], strict=True)) | {
        (s, c) for s in STAGE_ORDER for c in SPECIAL}

    def name(stage: pd.Series, country: pd.Series) -> list[str]:
        return [c if (s, c) in kept else OTHER for s, c in zip(stage, country, strict=True)]

    t = table.assign(from_country=name(table["from_stage"], table["from_country"]),
                     to_country=name(table["to_stage"], table["to_country"]))
    key = ["from_stage", "from_country", "to_stage", "to_country"]
    out = t.groupby(key, sort=False, as_index=False, dropna=False).agg(
        qty_t=("qty_t", lambda q: q.sum(min_count=1)),
        source=("source", lambda s: "; ".join(dict.fromkeys(s))))
    return out[COLUMNS].reset_index(drop=True)
