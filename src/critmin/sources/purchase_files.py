"""A company's purchase files as people keep them: critmin's template (CSV or Excel) and
geopolrisk-py's company template ("Company data.xlsx", as it is), read into the declared
``purchases`` columns with every name resolved and every row checked.

critmin's template names its columns as :data:`ALIASES` allows (``Material``, ``Supplier
country``, ``Quantity``, ``Unit``…, in any order and case). geopolrisk-py's template has the
columns of :data:`GEOPOLRISK_COLUMNS`; its ``Country of Origin`` is both the supplier's and
the origin country, its quantities are kilograms and its values US dollars, and the company
is named by the caller (``--company``) or after the file.

Materials are resolved by mineral slug, name or alias, product name
(``catalog/product_names.csv``) or HS-6 code; countries by ISO3, name or alias. A row with
an unknown material or country, a negative quantity, text where a number belongs, or a value
in another currency than USD without a ``usd_rate`` is refused, with its row number in the
file, the offending value and the nearest valid choices: a file with any such row imports
nothing (:class:`RowErrors`).

>>> MASS_ALIASES["tonnes"], MASS_ALIASES["pounds"]
('t', 'lb')
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from critmin import resolve, schema
from critmin.errors import CritminError, DataError, InvalidInput, NotFound, nearest
from critmin.files import check_input_file, column_names

GEOPOLRISK_COLUMNS = ("Metal", "Country of Origin", "Quantity (kg)", "Value (USD)", "Year",
                      "Additional Notes")
"""The columns of geopolrisk-py 2.0.1's company template (its sheet ``Template``)."""

ALIASES: dict[str, str] = {
    "company": "company", "business unit": "company", "buyer": "company",
    "period": "period", "year": "period", "month": "period", "date": "period",
    "material": "material", "product": "material", "mineral": "material",
    "hs6": "material", "hs code": "material", "metal": "material",
    "supplier country": "supplier_country", "supplier_country": "supplier_country",
    "country": "supplier_country", "shipped from": "supplier_country",
    "origin country": "origin_country", "origin_country": "origin_country",
    "country of origin": "origin_country", "origin": "origin_country",
    "quantity": "quantity", "qty": "quantity",
    "unit": "quantity_unit", "quantity unit": "quantity_unit", "quantity_unit": "quantity_unit",
    "value": "value", "amount": "value",
    "currency": "currency",
    "usd rate": "usd_rate", "usd_rate": "usd_rate", "rate to usd": "usd_rate",
    "supplier": "supplier_name", "supplier name": "supplier_name",
    "supplier_name": "supplier_name",
    "reference": "reference", "order": "reference", "invoice": "reference",
    "notes": "notes", "note": "notes", "additional notes": "notes",
}
"""Header names of critmin's template (case, spaces and underscores aside) -> column."""

MASS_ALIASES = {
    "t": "t", "tonne": "t", "tonnes": "t", "metric ton": "t", "metric tons": "t",
    "metric tonne": "t", "metric tonnes": "t",
    "kg": "kg", "kilogram": "kg", "kilograms": "kg", "kgs": "kg",
    "g": "g", "gram": "g", "grams": "g",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb",
}
"""Spellings of the mass units a purchase may be stated in -> the stored unit. "ton" and
"mt" are refused: a short, long or metric ton, a metric ton or a megatonne."""

MAX_SHOWN = 25
"""Refused rows listed in an error message (the count says how many more)."""


@dataclass(frozen=True)
class RowError:
    """One refused cell: the file, its row number as a spreadsheet shows it, the column, the
    value and why, with the nearest valid choices."""

    file: str
    row: int
    column: str
    value: str
    reason: str
    suggestions: tuple[str, ...] = ()

    def __str__(self) -> str:
        hint = f" (did you mean {', '.join(self.suggestions)}?)" if self.suggestions else ""
        return f"{self.file} row {self.row}, {self.column} {self.value!r}: {self.reason}{hint}"


class RowErrors(InvalidInput):
    """Rows of a purchase file that cannot be imported; nothing of the file was stored."""

    def __init__(self, errors: list[RowError]) -> None:
        shown = "\n".join(f"  {e}" for e in errors[:MAX_SHOWN])
        more = f"\n  … and {len(errors) - MAX_SHOWN} more" if len(errors) > MAX_SHOWN else ""
        rows = len({(e.file, e.row) for e in errors})
        super().__init__(f"{rows} purchase row(s) refused, nothing imported:\n{shown}{more}",
                         details={"rows": [
                             {"file": e.file, "row": e.row, "column": e.column,
                              "value": e.value, "reason": e.reason,
                              "suggestions": list(e.suggestions)} for e in errors]})
        self.errors = errors


def _key(text: str) -> str:
    return re.sub(r"[\s_]+", " ", str(text).strip().lower())


def _cell(value: Any) -> str:
    """A cell as text: blank for an empty cell, integers without a trailing ``.0``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value).strip()


def read_sheet(path: Path) -> tuple[list[str], list[list[Any]], list[int]]:
    """Header, rows and each row's number in the file (the header is row 1) of a CSV file or
    of an Excel workbook's first data sheet (``Template`` for geopolrisk-py's workbook,
    otherwise ``Purchases`` or the first sheet that is not ``README``)."""
    path = check_input_file(Path(path))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl  # type: ignore[import-untyped]

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a damaged file
            raise DataError(f"cannot read {path.name} as an Excel workbook: "
                            f"{type(exc).__name__}: {exc}") from None
        try:
            names = book.sheetnames
            pick = next((n for n in ("Purchases", "Template") if n in names),
                        next((n for n in names if n.lower() != "readme"), names[0]))
            raw = [list(r) for r in book[pick].iter_rows(values_only=True)]
        finally:
            book.close()
    else:
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                raw = [list(r) for r in csv.reader(fh)]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise DataError(f"cannot read {path.name} as a CSV file: {exc}") from None
    numbered = [(n, r) for n, r in enumerate(raw, start=1)
                if any(_cell(c) for c in r)]
    if not numbered:
        raise DataError(f"{path.name} is empty: no header and no rows")
    header = [_cell(c) for c in numbered[0][1]]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    header = header[:width]
    for n, r in numbered[1:]:
        extra = [c for c in r[width:] if _cell(c)]
        if extra:
            raise DataError(f"cannot read {path.name}: row {n} has {width + len(extra)} or "
                            f"more cells, its header {width} columns (extra: {_cell(extra[0])!r})")
    rows = [(r + [None] * width)[:width] for _, r in numbered[1:]]
    return header, rows, [n for n, _ in numbered[1:]]


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "")) if text else None
    except ValueError:
        return None


class _Rows:
    """Checks of one file's cells, collecting every refused cell."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[RowError] = []

    def refuse(self, row: int, column: str, value: str, reason: str,
               suggestions: list[str] | None = None) -> None:
        self.errors.append(RowError(self.file, row, column, value, reason,
                                    tuple(suggestions or ())))

    def names(self, values: pd.Series, rows: list[int], column: str,
              find: Callable[[str], str], optional: bool = False) -> pd.Series:
        """Each distinct value resolved once; unknown ones refused on every row."""
        out: dict[str, str | None] = {"": None}
        for value in values.unique():
            if value == "":
                continue
            try:
                out[value] = find(value)
            except CritminError as exc:
                out[value] = None
                for n in [r for r, v in zip(rows, values, strict=True) if v == value]:
                    self.refuse(n, column, value, str(exc).split(";")[0],
                                list(exc.suggestions))
        if not optional:
            for n, v in zip(rows, values, strict=True):
                if v == "":
                    self.refuse(n, column, v, "missing")
        return values.map(out)

    def numbers(self, values: pd.Series, rows: list[int], column: str,
                required: bool) -> pd.Series:
        out = []
        for n, v in zip(rows, values, strict=True):
            x = _number(v)
            if v and x is None:
                self.refuse(n, column, v, "not a number")
            elif x is not None and x < 0:
                self.refuse(n, column, v, "negative")
            elif required and not v:
                self.refuse(n, column, v, "missing")
            out.append(x)
        return pd.Series(out, index=values.index, dtype="float64")


def material_code(value: str) -> str:
    """The stored code of a material: an HS-6 code as it is, a product name's HS-6 code, or
    a mineral's slug (by slug, name or alias).

    >>> material_code("NdFeB magnets"), material_code("282520")
    ('850511', '282520')
    """
    text = str(value).strip()
    if re.fullmatch(r"[0-9]{6}", text):
        from critmin.store import get_store

        known = set(get_store().table("products")["hs6"])
        if text not in known:
            raise NotFound(f"unknown product {text!r}: not one of the catalog's mineral "
                           "products (HS-6)",
                           suggestions=sorted(c for c in known if c[:4] == text[:4])[:5])
        return text
    from critmin.catalog import load as load_catalog

    names = load_catalog("product_names")
    codes: dict[str, str] = dict(zip(names["name"].map(resolve.key), names["hs6"].astype(str),
                                     strict=True))
    code = codes.get(resolve.key(text))
    if code is not None:
        return code.zfill(6)
    return resolve.mineral(text)


def _period(text: str) -> str:
    found = re.fullmatch(r"([0-9]{4})(?:[-/.]([0-9]{1,2}))?(?:[-/.][0-9]{1,2})?", text)
    if found is None:
        return text
    year, month = found.groups()
    return year if month is None else f"{year}-{int(month):02d}"


def _layout(header: list[str], file: str) -> dict[str, int]:
    """Column -> position in the file, for either template."""
    if all(c in header for c in GEOPOLRISK_COLUMNS[:5]):
        return {"material": header.index("Metal"),
                "supplier_country": header.index("Country of Origin"),
                "quantity": header.index("Quantity (kg)"),
                "value": header.index("Value (USD)"), "period": header.index("Year"),
                **({"notes": header.index("Additional Notes")}
                   if "Additional Notes" in header else {})}
    column_names(header, file)  # a column named twice is refused
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            continue
        col = ALIASES.get(_key(name))
        if col is None:
            raise DataError(f"{file}: unknown column {name!r}; the columns are "
                            f"{schema.public_columns('purchases')}",
                            suggestions=nearest(_key(name), ALIASES))
        if col in found:
            raise DataError(f"{file}: columns {header[found[col]]!r} and {name!r} both give "
                            f"{col}; keep one")
        found[col] = i
    missing = [c for c in ("period", "material", "supplier_country", "quantity",
                           "quantity_unit") if c not in found]
    if missing:
        raise DataError(f"{file}: purchase records lack column(s) {missing}")
    return found


def purchase_frame(path: Path, company: str | None = None) -> pd.DataFrame:
    """The rows of one purchase file in the declared ``purchases`` columns (text), names
    resolved; :class:`RowErrors` lists every refused row.

    ``company`` names the buying company of a file without a ``company`` column (default:
    the file's name without its extension).
    """
    path = Path(path)
    header, rows, numbers = read_sheet(path)
    at = _layout(header, path.name)
    geopolrisk = "Metal" in header and "Country of Origin" in header
    text = pd.DataFrame({c: [_cell(r[i]) for r in rows] for c, i in at.items()},
                        index=range(len(rows)), dtype=object)
    checks = _Rows(path.name)
    label = {c: header[i] for c, i in at.items()}
    out = pd.DataFrame(index=text.index)
    if "company" in text and company is None:
        out["company"] = checks.names(text["company"], numbers, label["company"],
                                      lambda s: s.strip())
    else:
        out["company"] = (company or path.stem).strip()
    out["period"] = text["period"].map(_period)
    out["supplier_name"] = text.get("supplier_name")
    default_ref = pd.Series([f"{path.name} row {n}" for n in numbers], index=text.index)
    if "reference" in text:
        out["reference"] = text["reference"].where(text["reference"] != "", default_ref)
    else:
        out["reference"] = default_ref
    out["material"] = checks.names(text["material"], numbers, label["material"],
                                   material_code)
    out["supplier_country"] = checks.names(text["supplier_country"], numbers,
                                           label["supplier_country"], resolve.country)
    if geopolrisk:
        out["origin_country"] = out["supplier_country"]
    elif "origin_country" in text:
        out["origin_country"] = checks.names(text["origin_country"], numbers,
                                             label["origin_country"], resolve.country,
                                             optional=True)
    out["quantity"] = checks.numbers(text["quantity"], numbers, label["quantity"], True)
    if geopolrisk:
        out["quantity_unit"] = "kg"
    else:
        units = text["quantity_unit"].map(lambda u: MASS_ALIASES.get(_key(u)))
        for n, u, found in zip(numbers, text["quantity_unit"], units, strict=True):
            if not isinstance(found, str):
                checks.refuse(n, label["quantity_unit"], u, "unknown mass unit",
                              nearest(_key(u), MASS_ALIASES) or sorted(set(MASS_ALIASES.values())))
        out["quantity_unit"] = units
    if "value" in text:
        out["value"] = checks.numbers(text["value"], numbers, label["value"], False)
    else:
        out["value"] = None
    if geopolrisk:
        out["currency"] = "USD"
    elif "currency" in text:
        out["currency"] = text["currency"].str.upper().where(text["currency"] != "", "USD")
    else:
        out["currency"] = "USD"
    rate = (checks.numbers(text["usd_rate"], numbers, label["usd_rate"], False)
            if "usd_rate" in text else pd.Series(float("nan"), index=text.index))
    usd = out["currency"].eq("USD")
    rate = rate.where(~usd | rate.notna(), 1.0)
    for n, cur, r, v in zip(numbers, out["currency"], rate, out["value"], strict=True):
        if cur != "USD" and pd.notna(v) and pd.isna(r):
            checks.refuse(n, label.get("currency", "currency"), cur,
                          "a value in another currency than USD needs a usd_rate "
                          "(US dollars per unit of the currency)", ["usd_rate"])
    out["usd_rate"] = rate.where(out["value"].notna())
    out["currency"] = out["currency"].where(out["value"].notna())
    out["notes"] = text.get("notes")
    if checks.errors:
        raise RowErrors(sorted(checks.errors, key=lambda e: (e.row, e.column)))
    cols = schema.public_columns("purchases")
    return out.reindex(columns=cols)
