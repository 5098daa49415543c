"""USGS Mineral Commodity Summaries data releases as critmin's canonical long tables.

Two files are read:

- ``MCS2025_World_Data.csv``: world production (2023, 2024 estimate), capacity and reserves
  (2024) by country and commodity, one row per (commodity, country, TYPE).
- ``MCS2026_Commodities_Data.csv``: long format; world production (2024, 2025) and reserves
  (2025) by country, U.S. salient statistics 2021-2025 and the 2025 critical-mineral flag.

Each USGS series (MCS2025 ``TYPE``, MCS2026 ``Statistics_detail``) maps to one critmin
(mineral, stage) with a factor in tonnes of the mineral's production basis per reported
unit: ``catalog/usgs_series.csv``. A series on another basis keeps its mineral but has no
factor; it is left out of production with a counted reason. Withheld, missing and zero
("—") values never become numbers, aggregates are never countries, and MCS2026 supersedes
MCS2025 where both give a value for one (year, country, mineral, stage).

Source: U.S. Geological Survey, Mineral Commodity Summaries 2025 (data release,
doi:10.5066/P13XCP3R) and 2026. U.S. public domain.

>>> parse_value("1,234")
(1234.0, '')
>>> parse_value("123e"), parse_value(">95"), parse_value("<1")
((123.0, 'estimated'), (95.0, '>'), (1.0, '<'))
>>> parse_value("W"), parse_value("E"), parse_value("—")
((None, 'withheld'), (None, 'net exporter'), (None, 'zero'))
"""

from __future__ import annotations

import io
import re
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from critmin import schema
from critmin.errors import DataError
from critmin.resolve import Index, key
from critmin.sources.coverage import Coverage

SOURCES: Final = {"mcs2025": "usgs-mcs2025", "mcs2026": "usgs-mcs2026"}
"""critmin ``source`` label of each release."""

SERIES_MAP_FILE: Final = "usgs_series.csv"
SERIES_COLUMNS: Final = ["release", "commodity", "series", "unit", "mineral", "stage",
                         "factor", "basis_note", "note"]
PRODUCTION_COLUMNS: Final = schema.public_columns("production")
RESERVES_COLUMNS: Final = [*schema.public_columns("reserves"), "series"]
"""The declared reserves columns, and the series each row was read from (a check of what
was read; the snapshot stores the declared columns)."""
WORLD_TOTAL_COLUMNS: Final = ["year", "mineral", "stage", "source", "qty_t"]
SALIENT_COLUMNS: Final = ["year", "commodity", "mineral", "statistic", "detail", "unit",
                          "value", "flag", "source"]

COUNTRY_ALIASES: Final[dict[str, str]] = {
    # The only USGS spelling of a producing country that the catalog's index does not know:
    # the typographic apostrophe drops out of the lookup key ("cote divoire"). "Burma",
    # "Congo (Kinshasa)", "Korea, Republic of", "Korea, North", "Turkey" and "Russia" all
    # resolve through the catalog's names and aliases.
    "Côte d’Ivoire": "CIV",
    "Cote d’Ivoire": "CIV",
}
"""USGS-only country spellings -> ISO3, for names the country index does not resolve."""

AGGREGATES: Final = [
    (r"^world total\b", "aggregate: world total"),
    (r"^other countries\b|^other$", "aggregate: other countries"),
    (r"^united states and canada$|,.*\band\b", "aggregate: group of countries"),
]
"""Country labels that are not countries (regex on the lower-cased label) and the reason."""

ROW_EXCLUSIONS_2025: Final = [
    # MCS2025 gives one boron series of mixed forms; China's figure is boric oxide (B2O3)
    # equivalent, not a gross weight of boron minerals.
    ("Boron", r"boric oxide equivalent", "different basis: boric oxide (B2O3) equivalent, "
     "not the gross weight of boron minerals"),
]
"""(commodity, regex on the row's notes, note): MCS2025 rows whose own note puts them on
another basis than their series; they keep their mineral but lose the factor."""

RESERVES_2025: Final[dict[tuple[str, str], tuple[str, str, float | None, str]]] = {
    # (commodity, TYPE) -> (mineral, unit of RESERVES_2024, factor, note); MCS2025 puts the
    # reserves on the production row, and for these series on another unit or basis.
    ("Iron Ore", "Mine production, usable ore"): (
        "iron", "million metric tons", None,
        "different basis: crude ore (RESERVE_NOTES: Crude Ore, million metric tons)"),
    ("Iron Ore", "Mine production, iron content"): (
        "iron", "million metric tons", 1e6,
        "iron content, million metric tons (RESERVE_NOTES)"),
    ("Molybdenum", "Mine production, molybdenum content"): (
        "molybdenum", "thousand metric tons", 1000.0,
        "reserves in thousand metric tons (RESERVE_NOTES)"),
    ("Vanadium", "Mine production, vanadium content"): (
        "vanadium", "thousand metric tons", 1000.0,
        "reserves in thousand metric tons (RESERVE_NOTES)"),
    ("Zirconium and Hafnium", "Mine production, zirconium, gross weight"): (
        "zirconium", "thousand metric tons", None,
        "different basis: ZrO2 content; critmin's zirconium basis is zircon concentrate "
        "gross weight"),
    ("Manganese", "Mine production, manganese content"): (
        "manganese", "thousand metric tons", None,
        "different basis: reserves are not stated as manganese content (the chapter's data "
        "are gross weight)"),
    ("Platinum-Group metals", "Mine production, Palladium content"): (
        "", "kilograms", None,
        "PGM group total: reserves of all platinum-group metals, no single critmin mineral"),
    ("Indium", "Refinery production"): (
        "", "metric tons", None,
        "not reserves: the column holds refinery capacity (the same figures as MCS2026's "
        "indium refinery capacity)"),
    ("Magnesium metal", "Magnesium smelter production"): (
        "", "thousand metric tons", None,
        "not reserves: the column repeats the smelter capacity (note: \"Moved to capacity "
        "column not a reserve\")"),
    ("Potash", "Reserves, recoverable ore"): (
        "potash", "thousand metric tons", None,
        "different basis: recoverable ore, not K2O equivalent"),
}
"""MCS2025 reserves whose unit or basis differ from their row's production series."""

SALIENT_MINERALS: Final[dict[str, str]] = {
    # commodities with no world production series, or whose salient statistics do not
    # concern the mineral the production series maps to ("" = no mineral)
    "Germanium": "germanium", "Hafnium": "hafnium", "Cesium": "caesium",
    "Rubidium": "rubidium", "Scandium": "scandium", "Iridium": "iridium",
    "Osmium": "osmium", "Rhodium": "rhodium", "Ruthenium": "ruthenium",
    "Titanium sponge metal": "titanium", "TiO2 pigment": "titanium",
    "Gemstones": "", "Zirconium And Hafnium": "",
}
"""Extra commodity -> mineral pairs for the salient statistics and the critical flag."""

_NUMBER = re.compile(
    r"^(?P<op>[<>])?\s*(?P<num>\d[\d,]*(?:\.\d+)?|\.\d+)\s*(?P<est>[eE])?$")
_TOKENS: Final = {
    "": "empty", "w": "withheld", "na": "not available", "n/a": "not available",
    "--": "zero", "—": "zero", "–": "zero", "-": "zero", "e": "net exporter",
    "xx": "not applicable", "s": "less than 1/2 unit",
}
_QUALITATIVE = r"^(?:very )?(?:small|moderate|large)(?: to (?:small|moderate|large))?$|^variable\b"
_RANGE = r"^[\d.,]+\s*[-–—]\s*[\d.,]+$"
_SIGN_LOST = r"^\?\s*[\d.,]+$"

_VALUE_REASONS: Final = {
    "withheld": "withheld (W)",
    "not available": "not available (NA)",
    "zero": "zero (— in the source)",
    "empty": "empty cell",
    "not applicable": "not applicable (XX)",
    "less than 1/2 unit": "less than ½ unit",
    "qualitative": "qualitative value (Large, Small...)",
    "net exporter": "net exporter (E)",
    "range": "range, not one value",
    "sign lost": "unreadable sign ('?')",
    "unparsed": "unparsed value",
}


# --------------------------------------------------------------------------- reading


def _decode(path: Path) -> str:
    """Text of a USGS CSV: UTF-8 (with or without BOM), else cp1252."""
    raw = Path(path).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    # a BOM decoded as cp1252 by an earlier tool ("ï»¿") or left as U+FEFF
    return text.removeprefix("ï»¿").removeprefix("\ufeff")


def _clean(values: pd.Series) -> pd.Series:
    """Strip, turn non-breaking spaces into spaces, collapse runs of white space."""
    return (values.fillna("").astype(str)
            .str.replace("\ufeff", "", regex=False)
            .str.replace(r"\s+", " ", regex=True)
            .str.strip())


def _column_name(name: str) -> str:
    plain = str(name).replace("ï»¿", "").replace("\ufeff", "").casefold()
    return re.sub(r"[^0-9a-z]+", "_", plain).strip("_")


def _read(path: Path, required: list[str]) -> pd.DataFrame:
    try:
        text = _decode(path)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.columns = pd.Index([_column_name(c) for c in frame.columns])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{Path(path).name}: missing columns {missing}")
    for col in frame.columns:
        frame[col] = _clean(frame[col])
    return frame


def read_world_2025(path: Path) -> pd.DataFrame:
    """Rows of ``MCS2025_World_Data.csv`` with normalised columns and text.

    Parameters
    ----------
    path : Path
        The MCS2025 world data file (UTF-8 with a BOM, or cp1252; both are accepted).

    Returns
    -------
    pandas.DataFrame
        One row per file row, all text, columns ``source, commodity, country, type,
        unit_meas, prod_2023, prod_est_2024, prod_notes, cap_2023, cap_est_2024, cap_notes,
        reserves_2024, reserve_notes`` (header BOM and stray spaces removed); every cell
        stripped, non-breaking spaces turned into spaces.
    """
    return _read(path, ["commodity", "country", "type", "unit_meas", "prod_2023",
                        "prod_est_2024", "prod_notes", "reserves_2024", "reserve_notes"])


def read_commodities_2026(path: Path) -> pd.DataFrame:
    """Rows of ``MCS2026_Commodities_Data.csv`` with normalised columns and text.

    Parameters
    ----------
    path : Path
        The MCS2026 commodities data file (cp1252; UTF-8 is accepted too).

    Returns
    -------
    pandas.DataFrame
        One row per file row, all text, columns ``mcs_chapter, section, commodity, country,
        statistics, statistics_detail, unit, year, value, notes, is_critical_mineral_2025,
        other_notes``; every cell stripped, non-breaking spaces turned into spaces.
    """
    return _read(path, ["section", "commodity", "country", "statistics", "statistics_detail",
                        "unit", "year", "value", "notes", "is_critical_mineral_2025"])


# --------------------------------------------------------------------------- values


def parse_values(texts: pd.Series) -> pd.DataFrame:
    """Numbers and flags of many USGS value cells at once.

    Parameters
    ----------
    texts : pandas.Series
        Value cells as text.

    Returns
    -------
    pandas.DataFrame
        Same index; ``value`` (float64, NaN when the cell holds no number) and ``flag``:
        ``""`` (plain number), ``"estimated"`` ("123e"), ``">"``, ``"<"``, ``"withheld"``
        (W), ``"not available"`` (NA), ``"zero"`` (—, --: USGS's mark for zero),
        ``"empty"``, ``"net exporter"`` (E), ``"not applicable"`` (XX),
        ``"less than 1/2 unit"`` (s), ``"qualitative"`` (Large, Small...), ``"range"``
        ("500–16,000"), ``"sign lost"`` ("?1": a minus sign lost in encoding) or
        ``"unparsed"``.
    """
    text = _clean(texts)
    parts = text.str.extract(_NUMBER)
    value = pd.to_numeric(parts["num"].str.replace(",", "", regex=False), errors="coerce")
    flag = pd.Series("", index=text.index, dtype=object)
    flag[parts["est"].notna()] = "estimated"
    flag[parts["op"].eq(">")] = ">"
    flag[parts["op"].eq("<")] = "<"
    other = value.isna()
    low = text.str.casefold()
    token = low.map(_TOKENS)
    special = pd.Series(
        np.select(
            [token.notna(), low.str.contains(_QUALITATIVE, regex=True),
             text.str.contains(_RANGE, regex=True), text.str.contains(_SIGN_LOST, regex=True)],
            [token.fillna(""), "qualitative", "range", "sign lost"],
            default="unparsed"),
        index=text.index)
    flag[other] = special[other]
    return pd.DataFrame({"value": value.astype("float64"), "flag": flag.astype(str)})


def parse_value(text: str | None) -> tuple[float | None, str]:
    """Number and flag of one USGS value cell.

    Parameters
    ----------
    text : str or None
        The cell, e.g. ``"1,234"``, ``"123e"``, ``">95"``, ``"W"``, ``"E"``.

    Returns
    -------
    tuple of (float or None, str)
        The number (None for W, NA, —, E, XX, empty...) and its flag (see
        :func:`parse_values`): ``"1,234"`` -> ``(1234.0, "")``, ``"123e"`` ->
        ``(123.0, "estimated")``, ``">95"`` -> ``(95.0, ">")``, ``"W"`` ->
        ``(None, "withheld")``, ``"E"`` -> ``(None, "net exporter")``.
    """
    row = parse_values(pd.Series([text], dtype=object)).iloc[0]
    value = float(row["value"])
    return (None if np.isnan(value) else value), str(row["flag"])


# --------------------------------------------------------------------------- mapping


def load_series_map() -> pd.DataFrame:
    """``catalog/usgs_series.csv``: one row per USGS series and its critmin mapping.

    Returns
    -------
    pandas.DataFrame
        Columns ``release, commodity, series, unit, mineral, stage, factor, basis_note,
        note``; ``factor`` is float64 (NaN when the series is not on critmin's basis or not
        modelled), the rest text ("" when empty).
    """
    path = resources.files("critmin.catalog").joinpath(SERIES_MAP_FILE)
    try:
        with path.open("r", encoding="utf-8") as fh:
            frame = pd.read_csv(fh, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"catalog file {SERIES_MAP_FILE} is missing from the package") from None
    if list(frame.columns) != SERIES_COLUMNS:
        raise DataError(f"{SERIES_MAP_FILE}: columns must be {SERIES_COLUMNS}")
    frame["factor"] = pd.to_numeric(frame["factor"].replace("", np.nan)).astype("float64")
    dup = frame.duplicated(["release", "commodity", "series"], keep=False)
    if dup.any():
        raise DataError(f"{SERIES_MAP_FILE}: series listed twice: "
                        f"{frame.loc[dup, 'series'].head(3).tolist()}")
    return frame


def _reason(note: pd.Series) -> pd.Series:
    """Drop reason of an unconverted series: its note up to the first colon."""
    head = note.str.split(":", n=1).str[0].str.strip()
    return head.where(head.ne(""), "series not converted")


def commodity_minerals(series_map: pd.DataFrame) -> dict[str, str]:
    """Commodity name -> mineral slug, where a commodity's series name one mineral.

    Parameters
    ----------
    series_map : pandas.DataFrame
        :func:`load_series_map`.

    Returns
    -------
    dict
        Keyed by :func:`critmin.resolve.key` of the commodity name (so "Rare earths" and
        "Rare Earths" meet); MCS2026 names win over MCS2025's, and
        :data:`SALIENT_MINERALS` over both ("" = no mineral).
    """
    out: dict[str, str] = {}
    for release in ("mcs2025", "mcs2026"):
        part = series_map[series_map["release"].eq(release) & series_map["mineral"].ne("")]
        minerals = part.groupby("commodity")["mineral"].unique()
        out.update({key(str(c)): str(m[0]) for c, m in minerals.items() if len(m) == 1})
    out.update({key(c): m for c, m in SALIENT_MINERALS.items()})
    return {k: v for k, v in out.items() if v}


# --------------------------------------------------------------------------- countries


def _aggregate_reason(labels: pd.Series) -> pd.Series:
    low = labels.str.casefold()
    conditions = [low.str.contains(p, regex=True) for p, _ in AGGREGATES]
    return pd.Series(np.select(conditions, [r for _, r in AGGREGATES], default=""),
                     index=labels.index)


def resolve_countries(names: pd.Series, countries: Index) -> pd.DataFrame:
    """ISO3 of USGS country labels.

    Parameters
    ----------
    names : pandas.Series
        Country labels as in the files (spaces are normalised here).
    countries : critmin.resolve.Index
        ``country_index(catalog.load_countries())``.

    Returns
    -------
    pandas.DataFrame
        Same index; ``iso3`` (NaN when unknown), ``qualified`` (True when the label
        carried a parenthesised qualifier such as "Brazil (beneficiated)" that was left
        out to resolve it) and ``qualifier`` (that text, else ""). :data:`COUNTRY_ALIASES`
        covers USGS-only spellings.
    """
    aliases = {key(k): v for k, v in COUNTRY_ALIASES.items()}
    clean = _clean(names)
    iso3 = countries.lookup(clean).fillna(clean.map(key).map(aliases))
    parts = clean.str.extract(r"^(?P<base>.+?)\s*\((?P<qualifier>[^()]*)\)$").fillna("")
    base = parts["base"]
    base_iso3 = countries.lookup(base).fillna(base.map(key).map(aliases))
    base_iso3 = base_iso3.where(base.ne(""))
    qualified = iso3.isna() & base_iso3.notna()
    return pd.DataFrame({"iso3": iso3.fillna(base_iso3), "qualified": qualified,
                         "qualifier": parts["qualifier"].where(qualified, "")})


# --------------------------------------------------------------------------- long frames


def _note_token(notes: pd.Series) -> pd.Series:
    """The value token an MCS2025 note stands for when the cell itself is empty."""
    return pd.Series(
        np.select(
            [notes.str.contains(r"\bW\b", regex=True),
             notes.str.contains(r"(?i)^na\b|\bNA\b", regex=True),
             notes.str.fullmatch(r"(?i)xx"),
             notes.str.contains(r"(?i)less than 1/2 unit", regex=True),
             notes.str.casefold().str.contains(_QUALITATIVE, regex=True)],
            ["W", "NA", "XX", "s", notes], default=""),
        index=notes.index)


def _long_2025(world: pd.DataFrame, cells: dict[str, int], notes: str) -> pd.DataFrame:
    """One observation per (row, value column) of the MCS2025 file."""
    unit = world["unit_meas"].replace("", np.nan)
    series_unit = unit.groupby([world["commodity"], world["type"]]).transform("first")
    parts = []
    for column, year in cells.items():
        text = world[column]
        text = text.where(text.ne(""), _note_token(world[notes]))
        reported = world[notes].str.contains(r"(?i)\breported\b|\breproted\b", regex=True)
        estimated = (world[notes].str.contains(r"(?i)estimat", regex=True)
                     | world["type"].str.contains(r"(?i)estimat", regex=True)) & ~reported
        parts.append(pd.DataFrame({
            "release": "mcs2025",
            "commodity": world["commodity"],
            "series": world["type"],
            "unit": unit.fillna(series_unit).fillna(""),
            "unit_filled": unit.isna() & series_unit.notna(),
            "country_raw": world["country"],
            "year": float(year),
            "text": text,
            "notes": world[notes],
            # the 2024 column is the release's own estimate (PROD_EST_ 2024)
            "estimated": estimated | column.startswith("prod_est"),
        }))
    return pd.concat(parts, ignore_index=True)


def _long_2026(commodities: pd.DataFrame, statistic: str) -> pd.DataFrame:
    """World-section rows of one statistic of the MCS2026 file."""
    world = commodities[commodities["section"].str.startswith("World")
                        & commodities["statistics"].eq(statistic)]
    return pd.DataFrame({
        "release": "mcs2026",
        "commodity": world["commodity"],
        "series": world["statistics_detail"],
        "unit": world["unit"],
        "unit_filled": False,
        "country_raw": world["country"],
        "year": pd.to_numeric(world["year"], errors="coerce"),
        "text": world["value"],
        "notes": world["notes"],
        "estimated": world["notes"].str.contains(r"(?i)\bestimated\b", regex=True),
    }).reset_index(drop=True)


def _with_map(long: pd.DataFrame, series_map: pd.DataFrame) -> pd.DataFrame:
    """Observations joined to their series' mapping (``mapped`` False when unlisted)."""
    cols = ["release", "commodity", "series", "mineral", "stage", "factor", "basis_note",
            "note"]
    out = long.merge(series_map[cols], on=["release", "commodity", "series"], how="left",
                     validate="many_to_one", indicator=True)
    out["mapped"] = out.pop("_merge").eq("both")
    for col in ("mineral", "stage", "basis_note", "note"):
        out[col] = out[col].fillna("").astype(str)
    # row-level exclusions of MCS2025 (a row's own note puts it on another basis)
    for commodity, pattern, note in ROW_EXCLUSIONS_2025:
        hit = (out["release"].eq("mcs2025") & out["commodity"].eq(commodity)
               & out["notes"].str.contains(pattern, case=False, regex=True))
        out.loc[hit, "factor"] = np.nan
        out.loc[hit, "note"] = note
    return out


def _examples(frame: pd.DataFrame, mask: pd.Series, *cols: str) -> list[str]:
    rows = frame.loc[mask, list(cols)].astype(str).drop_duplicates().head(5)
    return [" | ".join(r) for r in rows.itertuples(index=False, name=None)]


def _drop_by_reason(cov: Coverage, frame: pd.DataFrame, reason: pd.Series,
                    *cols: str) -> pd.DataFrame:
    """Record every non-empty reason in ``cov`` and return the rows without one."""
    for text, count in reason[reason.ne("")].value_counts().items():
        cov.drop(str(text), int(count), _examples(frame, reason.eq(str(text)), *cols))
    return frame[reason.eq("")].copy()


def _first_reason(*layers: pd.Series) -> pd.Series:
    """Per row, the first non-empty reason of the layers (in order)."""
    out = layers[0].copy()
    for layer in layers[1:]:
        out = out.where(out.ne(""), layer)
    return out


def _value_reason(flag: pd.Series, value: pd.Series) -> pd.Series:
    return flag.map(_VALUE_REASONS).fillna("unparsed value").where(value.isna(), "")


def _observations(series_map: pd.DataFrame, world2025: pd.DataFrame,
                  commodities2026: pd.DataFrame) -> pd.DataFrame:
    long = pd.concat([
        _long_2025(world2025, {"prod_2023": 2023, "prod_est_2024": 2024}, "prod_notes"),
        _long_2026(commodities2026, "Production"),
    ], ignore_index=True)
    out = _with_map(long, series_map)
    parsed = parse_values(out["text"])
    out["value"] = parsed["value"]
    out["flag"] = parsed["flag"]
    out["source"] = out["release"].map(SOURCES)
    return out


# --------------------------------------------------------------------------- production


def _sum_duplicates(frame: pd.DataFrame, keys: list[str], cov: Coverage,
                    what: str) -> pd.DataFrame:
    """Sum rows sharing ``keys`` into one; counts the rows merged into others."""
    dup = frame.duplicated(keys, keep=False)
    if not dup.any():
        return frame
    many = frame[dup]
    one_unit = many.groupby(keys)["unit_reported"].transform("nunique").eq(1)
    many = many.assign(qty_reported=many["qty_reported"].where(one_unit))
    agg: dict[str, tuple[str, object]] = {
        "qty_t": ("qty_t", "sum"),
        "qty_reported": ("qty_reported", lambda s: s.sum() if s.notna().all() else np.nan),
        "unit_reported": ("unit_reported", lambda s: "; ".join(dict.fromkeys(s))),
        "series": ("series", lambda s: " + ".join(dict.fromkeys(s))),
    }
    extra = [c for c in frame.columns if c not in keys and c not in agg]
    for col in extra:
        # "e" (estimated) sorts before "r": a sum with one estimated part is estimated
        agg[col] = (col, "min" if col == "data_source" else "first")
    summed = many.groupby(keys, as_index=False, sort=False).agg(**agg)
    cov.merged += len(many) - len(summed)
    cov.note(what, len(summed))
    return pd.concat([frame[~dup], summed[frame.columns]], ignore_index=True)


def production(series_map: pd.DataFrame, world2025: pd.DataFrame,
               commodities2026: pd.DataFrame, countries_index: Index,
               ) -> tuple[pd.DataFrame, Coverage]:
    """Production by country in tonnes of each mineral's basis, both releases.

    Parameters
    ----------
    series_map : pandas.DataFrame
        :func:`load_series_map`.
    world2025 : pandas.DataFrame
        :func:`read_world_2025` (PROD_2023 and PROD_EST_ 2024 are read).
    commodities2026 : pandas.DataFrame
        :func:`read_commodities_2026` (World sections, Statistics "Production").
    countries_index : critmin.resolve.Index
        ``country_index(catalog.load_countries())``.

    Returns
    -------
    tuple of (pandas.DataFrame, Coverage)
        Columns ``year`` (int16), ``country`` (ISO3), ``mineral``, ``stage``, ``source``
        ("usgs-mcs2025" or "usgs-mcs2026"), ``qty_t`` (tonnes of the mineral's basis),
        ``qty_reported``, ``unit_reported``, ``data_source`` ("e" estimated, "r"
        otherwise), ``series``; one row per (year, country, mineral, stage, source).
        Several series of one (mineral, stage) and country are summed (ilmenite + rutile,
        ferrosilicon + silicon metal). Aggregates, unmodelled commodities, series on
        another basis, withheld/missing/zero values and MCS2025 values that MCS2026
        revises are left out with counted reasons: ``rows_read == rows_kept +
        rows_dropped + merged`` (an observation is one value cell).
    """
    cov = Coverage(source="usgs-mcs")
    obs = _observations(series_map, world2025, commodities2026)
    cov.rows_read = len(obs)
    place = resolve_countries(obs["country_raw"], countries_index)
    obs["country"] = place["iso3"]
    blank = pd.Series("", index=obs.index)
    reason = _first_reason(
        _aggregate_reason(obs["country_raw"]),
        blank.where(~obs["series"].str.contains(r"(?i)\brounded$", regex=True),
                    "rounded total row"),
        blank.where(obs["mapped"], "series not in usgs_series.csv"),
        blank.where(obs["factor"].notna(), _reason(obs["note"])),
        blank.where(obs["year"].notna(), "year not a number"),
        _value_reason(obs["flag"], obs["value"]),
        blank.where(obs["country"].notna(), "unknown country"),
    )
    kept = _drop_by_reason(cov, obs, reason, "commodity", "series", "country_raw", "text")
    qualifier = place.loc[kept.index, "qualifier"]
    cov.note("country label carried a qualifier (moved to the series)",
             int(qualifier.ne("").sum()))
    kept["series"] = kept["series"] + np.where(qualifier.ne(""), " (" + qualifier + ")", "")
    cov.note("unit missing in the file (taken from the series)", int(kept["unit_filled"].sum()))
    cov.note("value given as a bound ('>' or '<')", int(kept["flag"].isin([">", "<"]).sum()))
    out = pd.DataFrame({
        "year": kept["year"].astype("int16"),
        "country": kept["country"].astype(str),
        "mineral": kept["mineral"],
        "stage": kept["stage"],
        "source": kept["source"],
        "qty_t": (kept["value"] * kept["factor"]).astype("float64"),
        "qty_reported": kept["value"].astype("float64"),
        "unit_reported": kept["unit"],
        "data_source": np.where(kept["estimated"], "e", "r"),
        "series": kept["series"],
    })
    out = _sum_duplicates(out, schema.key("production"), cov,
                          "rows summed from several series or entries of one (mineral, "
                          "stage) and country")
    # the newer release wins: MCS2026 revises MCS2025's 2024 estimates
    keys = [c for c in schema.key("production") if c != "source"]
    newer = pd.MultiIndex.from_frame(out.loc[out["source"].eq(SOURCES["mcs2026"]), keys])
    old = out["source"].eq(SOURCES["mcs2025"])
    superseded = old & pd.MultiIndex.from_frame(out[keys]).isin(newer)
    cov.drop("superseded by MCS2026", int(superseded.sum()),
             _examples(out, superseded, "year", "country", "mineral", "stage"))
    out = out[~superseded]
    cov.note("MCS2025 2024 value kept: MCS2026 has no usable value for it",
             int((out["source"].eq(SOURCES["mcs2025"]) & out["year"].eq(2024)).sum()))
    out = out.astype({"year": "int16", "qty_t": "float64", "qty_reported": "float64"})
    out = out.sort_values(["source", "mineral", "stage", "country", "year"])
    out = out.reset_index(drop=True)[PRODUCTION_COLUMNS]
    cov.rows_kept = len(out)
    return out, cov


def withheld(series_map: pd.DataFrame, world2025: pd.DataFrame,
             commodities2026: pd.DataFrame, countries_index: Index) -> pd.DataFrame:
    """The production cells USGS withholds ("W", to avoid disclosing company data): the
    country produces, the figure is not published. Never a zero.

    Parameters
    ----------
    series_map, world2025, commodities2026, countries_index
        As for :func:`production`.

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` (int16), ``country``, ``mineral``, ``stage``, ``source``,
        ``series``: one row per (year, country, mineral, stage) of a modelled series, from
        the newer release, left out where either release gives a number for that key (a sum
        of series with one part withheld keeps the part that is published).
    """
    obs = _observations(series_map, world2025, commodities2026)
    obs["country"] = resolve_countries(obs["country_raw"], countries_index)["iso3"]
    cell = (obs["flag"].eq("withheld") & obs["value"].isna() & obs["mapped"]
            & obs["country"].notna() & obs["year"].notna()
            & _aggregate_reason(obs["country_raw"]).eq("")
            & obs["mineral"].fillna("").ne(""))
    rows = obs.loc[cell, ["year", "country", "mineral", "stage", "source", "series"]]
    rows = rows.astype({"year": "int16"}).sort_values("source", ascending=False)
    rows = rows.drop_duplicates(["year", "country", "mineral", "stage"])  # the newer release
    published, _ = production(series_map, world2025, commodities2026, countries_index)
    known = pd.MultiIndex.from_frame(published[["year", "country", "mineral", "stage"]])
    rows = rows[~pd.MultiIndex.from_frame(
        rows[["year", "country", "mineral", "stage"]]).isin(known)]
    return rows.sort_values(["mineral", "country", "year", "source"]).reset_index(drop=True)


def _aggregate_rows(series_map: pd.DataFrame, world2025: pd.DataFrame,
                    commodities2026: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The observations of one kind of aggregate row (:data:`AGGREGATES`) of convertible
    series with a value, with ``qty_t`` in tonnes of the mineral's basis."""
    obs = _observations(series_map, world2025, commodities2026)
    keep = (_aggregate_reason(obs["country_raw"]).eq(kind) & obs["mapped"]
            & obs["factor"].notna() & obs["value"].notna() & obs["year"].notna())
    return obs[keep].assign(qty_t=lambda f: f["value"] * f["factor"])


def other_countries(series_map: pd.DataFrame, world2025: pd.DataFrame,
                    commodities2026: pd.DataFrame) -> pd.DataFrame:
    """USGS's "Other countries" production: the part of world output it does not list by
    country, which a share of world output must keep in its denominator.

    Parameters
    ----------
    series_map, world2025, commodities2026 : pandas.DataFrame
        As for :func:`production`.

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` (int16), ``mineral``, ``stage``, ``source``, ``qty_t`` (tonnes of
        the mineral's basis): one row per (year, mineral, stage), the series of one
        (mineral, stage) summed, from the newer release where both give the year.
    """
    obs = _aggregate_rows(series_map, world2025, commodities2026, "aggregate: other countries")
    obs = obs[~obs["series"].str.contains(r"(?i)\brounded$", regex=True)
              & obs["mineral"].fillna("").ne("")]
    key = ["year", "mineral", "stage", "source"]
    out = obs.groupby(key, as_index=False).agg(qty_t=("qty_t", "sum"))
    out["year"] = out["year"].astype("int16")
    out = out.sort_values("source", ascending=False).drop_duplicates(key[:3])
    ordered: pd.DataFrame = out.sort_values(key).reset_index(drop=True)
    return ordered[[*key, "qty_t"]]


def world_totals(series_map: pd.DataFrame, world2025: pd.DataFrame,
                 commodities2026: pd.DataFrame) -> pd.DataFrame:
    """World totals of production in tonnes of each mineral's basis, for checks.

    Parameters
    ----------
    series_map, world2025, commodities2026 : pandas.DataFrame
        As for :func:`production`.

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` (int16), ``mineral``, ``stage``, ``source``, ``qty_t``: the
        "World total" rows (mostly rounded by USGS) of convertible series, summed over the
        series of one (mineral, stage). Where a combined total is given (MCS2025 "World total
        (ilmenite and rutile, rounded)", MCS2026 "Mine production: ilmenite and rutile,
        rounded") it is used instead of its parts.
    """
    obs = _aggregate_rows(series_map, world2025, commodities2026, "aggregate: world total")
    obs["combined"] = (obs["country_raw"] + " " + obs["series"]).str.contains(
        r"(?i)\band\b", regex=True)
    group = ["year", "mineral", "stage", "source"]
    has_combined = obs.groupby(group)["combined"].transform("any")
    obs = obs[obs["combined"] | ~has_combined]
    out = obs.groupby(group)["qty_t"].sum().reset_index()
    out["year"] = out["year"].astype("int16")
    return out.sort_values(["source", "mineral", "stage", "year"]).reset_index(drop=True)[
        WORLD_TOTAL_COLUMNS]


# --------------------------------------------------------------------------- reserves


def _reserves_2025(world2025: pd.DataFrame, series_map: pd.DataFrame) -> pd.DataFrame:
    obs = _with_map(_long_2025(world2025, {"reserves_2024": 2024}, "reserve_notes"),
                    series_map)
    for (commodity, series), (mineral, unit, factor, note) in RESERVES_2025.items():
        hit = obs["commodity"].eq(commodity) & obs["series"].eq(series)
        obs.loc[hit, ["mineral", "unit", "note"]] = [mineral, unit, note]
        obs.loc[hit, "factor"] = np.nan if factor is None else factor
        obs.loc[hit, "mapped"] = True
    return obs


def reserves(series_map: pd.DataFrame, world2025: pd.DataFrame,
             commodities2026: pd.DataFrame, countries_index: Index,
             ) -> tuple[pd.DataFrame, Coverage]:
    """Reserves by country: MCS2025 ``RESERVES_2024`` and MCS2026 Statistics "Reserves".

    Parameters
    ----------
    series_map, world2025, commodities2026 : pandas.DataFrame
        As for :func:`production`.
    countries_index : critmin.resolve.Index
        ``country_index(catalog.load_countries())``.

    Returns
    -------
    tuple of (pandas.DataFrame, Coverage)
        Columns ``year`` (int16: 2024 for MCS2025, 2025 for MCS2026), ``country``,
        ``mineral``, ``qty_t`` (tonnes of the mineral's basis; NaN when the reserves are on
        another basis), ``qty_reported``, ``unit_reported``, ``source``, ``note`` (why
        ``qty_t`` is missing, or "lower bound (>)"), ``series``. Where one country has a
        convertible and a non-convertible series of one mineral (iron content and crude
        ore; K2O and recoverable ore; Cr2O3 content and ore) the convertible one is kept;
        convertible series of one mineral are summed (ilmenite + rutile).
    """
    cov = Coverage(source="usgs-mcs reserves")
    obs = pd.concat([
        _reserves_2025(world2025, series_map),
        _with_map(_long_2026(commodities2026, "Reserves"), series_map),
    ], ignore_index=True)
    parsed = parse_values(obs["text"])
    obs["value"] = parsed["value"]
    obs["flag"] = parsed["flag"]
    obs["source"] = obs["release"].map(SOURCES)
    cov.rows_read = len(obs)
    place = resolve_countries(obs["country_raw"], countries_index)
    obs["country"] = place["iso3"]
    blank = pd.Series("", index=obs.index)
    reason = _first_reason(
        _aggregate_reason(obs["country_raw"]),
        blank.where(~obs["series"].str.contains(r"(?i)\brounded$", regex=True),
                    "rounded total row"),
        blank.where(obs["mapped"], "series not in usgs_series.csv"),
        blank.where(obs["mineral"].ne(""), _reason(obs["note"])),
        blank.where(obs["year"].notna(), "year not a number"),
        _value_reason(obs["flag"], obs["value"]),
        blank.where(obs["country"].notna(), "unknown country"),
    )
    kept = _drop_by_reason(cov, obs, reason, "commodity", "series", "country_raw", "text")
    qualifier = place.loc[kept.index, "qualifier"]
    kept["series"] = kept["series"] + np.where(qualifier.ne(""), " (" + qualifier + ")", "")
    bound = kept["flag"].map({">": "lower bound (>)", "<": "upper bound (<)"}).fillna("")
    unconverted = kept["note"].where(kept["factor"].isna(), "")
    note = (bound + np.where(bound.ne("") & unconverted.ne(""), "; ", "") + unconverted)
    out = pd.DataFrame({
        "year": kept["year"].astype("int16"),
        "country": kept["country"].astype(str),
        "mineral": kept["mineral"],
        "qty_t": (kept["value"] * kept["factor"]).astype("float64"),
        "qty_reported": kept["value"].astype("float64"),
        "unit_reported": kept["unit"],
        "source": kept["source"],
        "note": note.astype(str),
        "series": kept["series"],
    })
    keys = schema.key("reserves")
    has_converted = out.groupby(keys)["qty_t"].transform(lambda s: s.notna().any())
    shadowed = out["qty_t"].isna() & has_converted
    cov.drop("another basis of a series that is also given converted", int(shadowed.sum()),
             _examples(out, shadowed, "year", "country", "mineral", "series"))
    out = _sum_duplicates(out[~shadowed], keys, cov,
                          "rows summed from several series of one mineral and country")
    cov.note("reserves kept without a basis quantity (other basis)",
             int(out["qty_t"].isna().sum()))
    out = out.astype({"year": "int16", "qty_t": "float64", "qty_reported": "float64"})
    out = out.sort_values(["source", "mineral", "country"]).reset_index(drop=True)
    cov.rows_kept = len(out)
    return out[RESERVES_COLUMNS], cov


# --------------------------------------------------------------------------- U.S. tables


def _mineral_of(commodity: pd.Series, series_map: pd.DataFrame | None) -> pd.Series:
    mapping = commodity_minerals(load_series_map() if series_map is None else series_map)
    return commodity.map(key).map(mapping).fillna("").astype(str)


def us_salient(commodities2026: pd.DataFrame,
               series_map: pd.DataFrame | None = None) -> pd.DataFrame:
    """U.S. salient statistics of MCS2026, every row, with numbers parsed.

    Parameters
    ----------
    commodities2026 : pandas.DataFrame
        :func:`read_commodities_2026`.
    series_map : pandas.DataFrame, optional
        :func:`load_series_map` (loaded when not given), for the commodity -> mineral map.

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` (int16), ``commodity``, ``mineral`` (critmin slug or ""),
        ``statistic`` (imports, exports, consumption, net import reliance, prices...),
        ``detail``, ``unit``, ``value`` (float64, NaN when not a number), ``flag`` (see
        :func:`parse_values`: ">" for ">95", "net exporter" for "E"...), ``source``.
    """
    rows = commodities2026[commodities2026["section"].str.startswith("Salient Statistics")]
    year = pd.to_numeric(rows["year"], errors="coerce")
    if year.isna().any():
        raise DataError(f"salient statistics with a year that is not a number: "
                        f"{rows.loc[year.isna(), 'year'].unique()[:3].tolist()}")
    parsed = parse_values(rows["value"])
    out = pd.DataFrame({
        "year": year.astype("int16"),
        "commodity": rows["commodity"],
        "mineral": _mineral_of(rows["commodity"], series_map),
        "statistic": rows["statistics"],
        "detail": rows["statistics_detail"],
        "unit": rows["unit"],
        "value": parsed["value"],
        "flag": parsed["flag"],
        "source": SOURCES["mcs2026"],
    })
    return out.reset_index(drop=True)[SALIENT_COLUMNS]


def critical_2025(commodities2026: pd.DataFrame,
                  series_map: pd.DataFrame | None = None) -> pd.DataFrame:
    """Whether USGS listed each MCS2026 commodity as critical in 2025.

    Parameters
    ----------
    commodities2026 : pandas.DataFrame
        :func:`read_commodities_2026` (column "Is critical mineral 2025").
    series_map : pandas.DataFrame, optional
        :func:`load_series_map` (loaded when not given), for the commodity -> mineral map.

    Returns
    -------
    pandas.DataFrame
        One row per commodity: ``commodity``, ``mineral`` (slug or ""), ``is_critical``
        (bool, the majority of the commodity's rows), ``note``: the data faults met, e.g. a
        row whose flag slipped into the Notes column ("Yttrium" in the flag column, "Yes" in
        Notes), blank flags, or rows that disagree.
    """
    rows = commodities2026
    flag = rows["is_critical_mineral_2025"].str.casefold()
    notes = rows["notes"].str.casefold()
    valid = flag.isin(["yes", "no"])
    shifted = ~valid & notes.isin(["yes", "no"])
    vote = flag.where(valid, notes.where(shifted))
    frame = pd.DataFrame({
        "commodity": rows["commodity"],
        "yes": vote.eq("yes"),
        "no": vote.eq("no"),
        "shifted": shifted,
        "blank": flag.eq("") & ~shifted,
        "other": ~valid & ~shifted & flag.ne(""),
    })
    per = frame.groupby("commodity", sort=True)[["yes", "no", "shifted", "blank",
                                                 "other"]].sum()
    note = pd.Series("", index=per.index)

    def add(mask: pd.Series, text: pd.Series) -> None:
        note[mask] = (note[mask] + np.where(note[mask].ne(""), "; ", "")) + text[mask]

    counts = per.astype(int).astype(str)
    add(per["shifted"].gt(0), counts["shifted"] + " row(s) with the flag in Notes and "
        "another text in the flag column (columns shifted)")
    add(per["blank"].gt(0), counts["blank"] + " row(s) with a blank flag")
    add(per["other"].gt(0), counts["other"] + " row(s) with an unreadable flag")
    add(per["yes"].gt(0) & per["no"].gt(0), "rows disagree (" + counts["yes"] + " yes, "
        + counts["no"] + " no); the majority is used")
    add(per["yes"].eq(0) & per["no"].eq(0), pd.Series("no readable flag", index=per.index))
    out = pd.DataFrame({
        "commodity": per.index.astype(str),
        "mineral": _mineral_of(pd.Series(per.index, index=per.index), series_map).values,
        "is_critical": (per["yes"] > per["no"]).astype(bool).values,
        "note": note.values,
    })
    return out.reset_index(drop=True)
