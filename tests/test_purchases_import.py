"""Importing a company's purchase records: critmin's template, geopolrisk-py's company
template as it is, row-by-row refusal of a file with mistakes (nothing stored), and several
companies side by side."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import critmin
from critmin.sources.purchase_files import RowErrors, purchase_frame
from critmin.store import get_store, user

DATA = Path(__file__).parent / "data" / "company"


def stored() -> pd.DataFrame:
    return get_store().table("purchases").sort_values(["company", "reference"],
                                                      ignore_index=True)


def fill_template(path: Path, rows: list[list[object]]) -> Path:
    """critmin's own template, written by critmin, with ``rows`` typed in."""
    critmin.company_template(path)
    book = openpyxl.load_workbook(path)
    sheet = book["Purchases"]
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


# company, period, supplier_name, reference, material, supplier_country, origin_country,
# quantity, quantity_unit, value, currency, usd_rate, notes
GOOD = [
    ["Cells BU", 2023, "Andes Lithium", "PO-1", "lithium carbonate", "Chile", None, 12.5,
     "tonnes", 150000, "USD", None, None],
    ["Cells BU", "2023-05", None, "PO-2", "cobalt", "COD", "COD", 800, "kg", 24000, "EUR",
     1.1, "hydroxide"],
    ["Magnets BU", 2023, "Ningbo Mag", "PO-9", "NdFeB magnets", "China", None, 2000, "lb",
     None, None, None, None],
]


def test_the_template_lists_choices_and_describes_columns(tmp_path: Path) -> None:
    path = critmin.company_template(tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "README" and "Purchases" in book.sheetnames
    header = [c.value for c in book["Purchases"][1]]
    assert header[:5] == ["company", "period", "supplier_name", "reference", "material"]
    rules = {str(v.sqref): v.formula1 for v in book["Purchases"].data_validations.dataValidation}
    assert rules["E2:E10000"].startswith("=Lists!$A$2")  # materials
    assert rules["F2:F10000"].startswith("=Lists!$B$2")  # countries
    assert rules["I2:I10000"] == "=Lists!$C$2:$C$5"  # units: g, kg, lb, t
    units = [book["Lists"].cell(row=r, column=3).value for r in range(2, 6)]
    assert units == ["g", "kg", "lb", "t"]
    readme = {r[0]: r[1] for r in book["README"].iter_rows(min_row=4, values_only=True)}
    assert set(readme) == set(header) and "US dollars per unit" in readme["usd_rate"]


def test_critmin_template_is_imported_with_names_resolved(tmp_path: Path) -> None:
    report = critmin.import_purchases(fill_template(tmp_path / "buys.xlsx", GOOD))
    assert report.years == [2023] and report.coverage["rows_kept"] == 3
    rows = stored()
    assert rows["company"].tolist() == ["Cells BU", "Cells BU", "Magnets BU"]
    assert rows["material"].tolist() == ["283691", "cobalt", "850511"]
    assert rows["supplier_country"].tolist() == ["CHL", "COD", "CHN"]
    assert rows["period"].tolist() == ["2023", "2023-05", "2023"]
    assert rows["quantity_unit"].tolist() == ["t", "kg", "lb"]
    assert rows["usd_rate"].tolist()[:2] == [1.0, 1.1]
    assert rows["currency"].tolist()[:2] == ["USD", "EUR"]
    assert pd.isna(rows["value"].iloc[2]) and pd.isna(rows["usd_rate"].iloc[2])
    assert rows["supplier_name"].tolist()[0] == "Andes Lithium"
    assert pd.isna(rows["supplier_name"].iloc[1])


def test_geopolrisk_template_is_read_as_it_is(tmp_path: Path) -> None:
    frame = purchase_frame(DATA / "company_a.xlsx")
    assert frame["company"].unique().tolist() == ["company_a"]  # the file's name
    assert frame["material"].tolist() == ["nickel"] * 3 + ["cobalt"] * 2
    assert frame["supplier_country"].tolist() == ["IDN", "PHL", "AUS", "CHN", "FIN"]
    assert frame["origin_country"].tolist() == frame["supplier_country"].tolist()
    assert frame["quantity"].tolist() == [1200.0, 800.0, 500.0, 300.0, 100.0]
    assert set(frame["quantity_unit"]) == {"kg"} and set(frame["currency"]) == {"USD"}
    assert frame["reference"].iloc[0] == "company_a.xlsx row 2"
    assert frame["notes"].iloc[0] == "cathode plant"
    report = critmin.import_purchases(DATA / "company_b.xlsx", company="Acme")
    assert report.coverage["rows_kept"] == 4
    assert set(stored()["company"]) == {"Acme"}
    assert critmin.companies() == ["Acme"]


MISTAKES = [
    ["A", 2023, None, "PO-1", "unobtainium", "Chile", None, 1, "t", 10, "USD", None, None],
    ["A", 2023, None, "PO-2", "lithium", "Chile", None, -3, "t", 10, "USD", None, None],
    ["A", 2023, None, "PO-3", "lithium", "Chile", None, "twelve", "t", 10, "USD", None, None],
    ["A", 2023, None, "PO-4", "lithium", "Chile", None, 5, "t", 900, "EUR", None, None],
    ["A", 2023, None, "PO-5", "lithium", "Chile", None, 5, "t", 10, "USD", None, None],
    ["A", 2023, None, "PO-6", "lithium", "Chiel", None, 5, "tons", 10, "USD", None, None],
]


def test_a_file_with_mistakes_is_refused_row_by_row_and_nothing_stored(
        tmp_path: Path) -> None:
    critmin.import_purchases(DATA / "company_a.xlsx")
    before = user.read_manifest()
    path = fill_template(tmp_path / "bad.xlsx", MISTAKES)
    with pytest.raises(RowErrors) as caught:
        critmin.import_purchases(path)
    errors = {(e.row, e.column): e for e in caught.value.errors}
    assert sorted(errors) == [(2, "material"), (3, "quantity"), (4, "quantity"),
                              (5, "currency"), (7, "quantity_unit"),
                              (7, "supplier_country")]
    assert errors[2, "material"].value == "unobtainium"
    assert errors[3, "quantity"].reason == "negative"
    assert errors[4, "quantity"].value == "twelve"
    assert errors[4, "quantity"].reason == "not a number"
    assert "usd_rate" in errors[5, "currency"].reason
    assert "CHL" in " ".join(errors[7, "supplier_country"].suggestions)
    message = str(caught.value)
    assert message.startswith("5 purchase row(s) refused, nothing imported:")
    assert "bad.xlsx row 3, quantity '-3': negative" in message
    assert user.read_manifest() == before
    assert set(stored()["company"]) == {"company_a"}
    with pytest.raises(RowErrors):  # the door itself refuses it the same way
        critmin.import_source("purchases", [path])
    assert user.read_manifest() == before


def test_two_companies_sit_side_by_side(tmp_path: Path) -> None:
    a = shutil.copy(DATA / "company_a.xlsx", tmp_path / "Acme.xlsx")
    critmin.import_purchases(a)
    report = critmin.import_purchases(DATA / "company_a.xlsx", company="Beta")
    assert report.coverage["rows_read"] == 5 and report.coverage["rows_kept"] == 5
    assert stored().groupby("company").size().to_dict() == {"Acme": 5, "Beta": 5}
    # importing one company again replaces its own records only
    one = tmp_path / "one.csv"
    pd.DataFrame({"company": ["Acme"], "period": ["2022"], "material": ["nickel"],
                  "supplier_country": ["IDN"], "quantity": [7], "unit": ["t"]}).to_csv(
        one, index=False)
    critmin.import_purchases(one)
    rows = stored()
    assert rows.groupby("company").size().to_dict() == {"Acme": 1, "Beta": 5}
    assert rows.loc[rows["company"] == "Acme", "quantity"].tolist() == [7.0]


def test_cli_imports_and_refuses_with_exit_2(tmp_path: Path, cli) -> None:
    ok = cli("data", "import", "purchases", str(DATA / "company_b.xlsx"), "--company",
             "Acme", "--json")
    assert ok.code == 0, ok.stderr
    assert ok.json()["rows_kept"] == 4
    bad = fill_template(tmp_path / "bad.xlsx", MISTAKES[:1])
    refused = cli("data", "import", "purchases", str(bad))
    assert refused.code == 2
    assert "bad.xlsx row 2, material 'unobtainium'" in refused.stderr
    out = tmp_path / "template.xlsx"
    made = cli("data", "template", "purchases", "--out", str(out))
    assert made.code == 0 and out.is_file()


def test_an_hs_code_outside_the_catalog_is_refused_with_its_neighbours(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("company,period,material,supplier_country,quantity,unit\n"
                    "A,2023,282520,CHL,1,t\nA,2023,850760,KOR,2,t\n", "utf-8")
    with pytest.raises(RowErrors) as caught:
        critmin.import_purchases(path)
    (error,) = caught.value.errors
    assert (error.row, error.column, error.value) == (3, "material", "850760")
    assert "850780" in error.suggestions
    assert caught.value.to_dict()["error"]["details"]["rows"][0]["row"] == 3
    assert stored().empty


def test_a_row_longer_than_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("company,period,material,supplier_country,quantity,unit\n"
                    "A,2023,lithium,CHL,1,t,oops\n", "utf-8")
    with pytest.raises(critmin.DataError, match="row 2 has 7 or more cells"):
        critmin.import_purchases(path)
    assert stored().empty
