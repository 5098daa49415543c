"""A company's own purchases: importing them (critmin's template or geopolrisk-py's company
template), writing critmin's template, and the company's view of its supply
(:func:`company`). The figures come from :mod:`critmin.metrics.company`; this module loads
their inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from critmin import checks, schema
from critmin.errors import CritminError, InvalidInput, NotFound, nearest
from critmin.ingest import ImportReport
from critmin.metrics import company as metric
from critmin.present import records
from critmin.store import get_store

if TYPE_CHECKING:
    from critmin.sourcing import Portfolio


@dataclass
class CompanyView:
    """One company's purchases seen as supply: per material and year, and per supplier."""

    company: str
    years: list[int]
    materials: pd.DataFrame
    """Per (year, mineral): tonnes on the mineral's basis, supplier count and HHI, largest
    supplier, China's direct and traced shares, share bought under an export control in
    force, GeoPolRisk (default and geopolrisk-py's company method) and, with a restriction,
    the loss inherited from the supplier countries."""
    suppliers: pd.DataFrame
    """Per (year, mineral, supplier country): tonnes, value and share."""
    controls: pd.DataFrame
    """Purchases from a supplier with a documented export control in force on the mineral."""
    restriction: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (the ``--json`` output and the REST API's answer)."""
        return {"company": self.company, "years": self.years,
                "materials": records(self.materials), "suppliers": records(self.suppliers),
                "controls": records(self.controls), "restriction": self.restriction,
                "notes": self.notes}


def stored_purchases() -> pd.DataFrame:
    """Every stored purchase record (empty when none was imported)."""
    return get_store().table("purchases")


def companies() -> list[str]:
    """The companies whose purchases are stored.

    Returns
    -------
    list of str
        Company names, sorted (empty when no purchase records were imported).

    Examples
    --------
    >>> critmin.companies()
    []
    """
    return sorted(str(c) for c in stored_purchases()["company"].dropna().unique())


def _restriction_losses(mix: pd.DataFrame, suppliers: list[str], cut: float
                        ) -> tuple[pd.DataFrame, list[str]]:
    from critmin.whatif.restrictions import restrict

    frames, notes = [], []
    pairs = mix[["mineral", "year"]].drop_duplicates()
    for mineral, year in zip(pairs["mineral"].astype(str), pairs["year"].astype(int),
                             strict=True):
        try:
            result = restrict(suppliers, mineral, year, cut=cut)
        except CritminError as exc:
            notes.append(f"no restriction result for {mineral} in {year}: {exc}")
            continue
        frames.append(result.countries[["country", "loss_share"]].assign(
            mineral=mineral, year=year))
    empty = pd.DataFrame(columns=["country", "loss_share", "mineral", "year"])
    return (pd.concat(frames, ignore_index=True) if frames else empty), notes


def _company_lines(name: str, year: int | None) -> tuple[str, pd.DataFrame, list[int],
                                                          list[str]]:
    """A company's purchases as lines (:func:`critmin.metrics.company.purchase_lines`), its
    years, and notes on what was left out."""
    name = checks.as_name(name, "name")
    rows = stored_purchases()
    mine = rows[rows["company"] == name]
    if mine.empty:
        known = companies()
        raise NotFound(f"no purchase records for company {name!r}"
                       + ("" if known else " (none imported: critmin data import purchases)"),
                       suggestions=nearest(name, known) or known[:5])
    lines = metric.purchase_lines(mine, get_store().table("product_minerals"))
    years = sorted(int(y) for y in lines["year"].unique())
    if year is not None:
        wanted = checks.as_year(year)
        if wanted not in years:
            raise NotFound(f"{name!r} has no purchase records in {wanted}",
                           suggestions=[str(y) for y in years])
        lines = lines[lines["year"] == wanted]
        years = [wanted]
    notes: list[str] = []
    unmapped = lines[lines["mineral"].isna() | lines["qty_basis_t"].isna()]
    if not unmapped.empty:
        notes.append("left out (no mineral content known for the product): "
                     + ", ".join(sorted(set(unmapped["material"].astype(str)))))
        lines = lines.drop(unmapped.index)
    return name, lines, years, notes


def company(name: str, year: int | None = None, restrict: Sequence[str] | str | None = None,
            cut: float = 1.0) -> CompanyView:
    """A company's supply as its purchase records show it.

    Parameters
    ----------
    name : str
        The company (business unit) as stored by the import (``critmin.companies()``).
    year : int, optional
        One year of its records; default every year.
    restrict : str or list of str, optional
        Countries restricting exports (e.g. ``"CHN"``): the company inherits each supplier
        country's loss share of that restriction (``critmin.restrict``) pro rata to what it
        buys there, and loses ``cut`` of what it buys from a restricting country.
    cut : float
        Share of exports withheld by the restricting countries (default 1).

    Returns
    -------
    CompanyView
        ``materials`` per year and mineral, ``suppliers`` per supplier country,
        ``controls`` under export controls in force.

    Examples
    --------
    >>> critmin.company("Unknown Co")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    critmin.errors.NotFound: no purchase records for company 'Unknown Co'
    """
    from critmin import query
    from critmin.resolve import country as resolve_country

    suppliers_named = checks.as_names(restrict, "restrict")
    cut_value = checks.as_fraction(cut, "cut")
    name, lines, years, notes = _company_lines(name, year)
    store = get_store()
    minerals = sorted(set(lines["mineral"]))
    mix = metric.supplier_mix(lines)
    out = metric.concentration(mix)
    cube = pd.DataFrame(columns=["year", "country", "mineral", "production_t",
                                 "imports_basis_t", "china_share", "hhi"])
    if minerals:
        try:
            cube = query.risk(minerals=minerals, years=years)
        except CritminError as exc:
            notes.append(f"no country data for the traced China share and world "
                         f"concentration: {exc}")
    out = out.merge(metric.traced_china_share(lines, cube), on=metric.GROUP, how="left")
    world = cube.dropna(subset=["hhi"]).drop_duplicates(["year", "mineral"])[
        ["year", "mineral", "hhi"]]
    out = out.merge(metric.geopolrisk(lines, store.table("governance"), world),
                    on=metric.GROUP, how="left")
    gpr_production = store.table("gpr_production")
    compat = metric.compat_company(
        lines, store.table("gpr_governance"),
        gpr_production[gpr_production["mineral"].isin(minerals)
                       & gpr_production["year"].isin(years)])
    out = out.merge(compat[[*metric.GROUP, "score", "cf", "hhi_production"]].rename(
        columns={"score": "score_compat", "cf": "cf_compat",
                 "hhi_production": "hhi_compat"}), on=metric.GROUP, how="left")
    controls = metric.controls_in_force(mix, store.table("events"))
    controlled = controls.drop_duplicates([*metric.GROUP, "supplier_country"]).groupby(
        metric.GROUP, as_index=False).agg(controlled_share=("share", "sum"))
    out = out.merge(controlled, on=metric.GROUP, how="left")
    out["controlled_share"] = out["controlled_share"].fillna(0.0)
    restriction = None
    if suppliers_named is not None:
        suppliers = [resolve_country(s) for s in suppliers_named]
        losses, more = _restriction_losses(mix, suppliers, cut_value)
        notes += more
        out = out.merge(metric.inherited_loss(mix, losses, suppliers, cut_value),
                        on=metric.GROUP, how="left")
        restriction = {"suppliers": suppliers, "cut": cut_value}
    else:
        out["loss_t"] = float("nan")
        out["loss_share"] = float("nan")
    missing = out["score_compat"].isna()
    for absent, why in ((missing & out["hhi_compat"].isna(),
                         "the material or year is not in its World Mining Data tables"),
                        (missing & out["hhi_compat"].notna(),
                         "a supplier has no WGI value in its table (the library stops there)")):
        if absent.any():
            notes.append(f"geopolrisk-py's company method gives no score where {why}: "
                         + ", ".join(f"{m} {y}" for m, y in zip(
                             out.loc[absent, "mineral"], out.loc[absent, "year"],
                             strict=True)))
    materials = schema.select("company_materials", out.reset_index(drop=True))
    suppliers_frame = schema.select("company_suppliers", mix.reset_index(drop=True))
    return CompanyView(company=name, years=years, materials=materials,
                       suppliers=suppliers_frame,
                       controls=controls.drop(columns="company").reset_index(drop=True),
                       restriction=restriction, notes=notes)


@dataclass
class CompanyPortfolio:
    """A diversified supplier mix for a company's volume of one mineral, within what the
    suppliers of its country's market could ship (:func:`critmin.optimise`)."""

    company: str
    mineral: str
    year: int
    today: pd.DataFrame
    """The company's own suppliers: tonnes on the basis and shares."""
    today_hhi: float
    proposal: Portfolio

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"company": self.company, "mineral": self.mineral, "year": self.year,
                "today": records(self.today), "today_hhi": self.today_hhi,
                "proposal": self.proposal.to_dict()}


def company_optimise(name: str, mineral: str, country: str, year: int | None = None,
                     max_share: float | None = None, exclude: Sequence[str] | str | None = None,
                     weights: Mapping[str, float] | None = None) -> CompanyPortfolio:
    """A diversified mix for the company's volume of ``mineral``: :func:`critmin.optimise`
    for ``country``'s market (each supplier's capacity is what it ships the country now plus
    a redirectable share of its other exports), with the company's tonnes as the demand.

    Parameters
    ----------
    name : str
        The company, as imported.
    mineral : str
        A mineral it buys.
    country : str
        The country whose market supplies it (where the company buys).
    year : int, optional
        One year of its records (default: the latest year it bought the mineral).
    max_share, exclude, weights
        As in :func:`critmin.optimise`.

    Returns
    -------
    CompanyPortfolio
        ``today`` (the company's own mix and HHI) and ``proposal`` (the optimiser's
        :class:`~critmin.sourcing.Portfolio`).

    Examples
    --------
    >>> critmin.company_optimise("Unknown Co", "lithium", "IND")
    ... # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    critmin.errors.NotFound: no purchase records for company 'Unknown Co'
    """
    from critmin.resolve import mineral as resolve_mineral
    from critmin.sourcing import optimise

    named = checks.as_name(name, "name")
    wanted = checks.as_name(mineral, "mineral")
    where = checks.as_name(country, "country")
    name, lines, _, _ = _company_lines(named, year)
    slug = resolve_mineral(wanted)
    bought = lines[lines["mineral"] == slug]
    if bought.empty:
        have = sorted(set(lines["mineral"]))
        raise NotFound(f"{name!r} has no purchases of {slug}"
                       + ("" if year is None else f" in {year}"),
                       suggestions=nearest(slug, have) or have)
    chosen = int(bought["year"].max())
    mix = metric.supplier_mix(bought[bought["year"] == chosen])
    proposal = optimise(where, slug, chosen, demand=float(mix["qty_basis_t"].sum()),
                        max_share=max_share, exclude=exclude, weights=weights)
    today = mix[["supplier_country", "qty_basis_t", "share"]].reset_index(drop=True)
    return CompanyPortfolio(company=name, mineral=slug, year=chosen, today=today,
                            today_hhi=float((today["share"] ** 2).sum()), proposal=proposal)


def import_purchases(files: Sequence[str | Path] | str | Path, company: str | None = None,
                     append: bool = False) -> ImportReport:
    """Import a company's purchase files (critmin's template or geopolrisk-py's company
    template, CSV or Excel), all or nothing.

    Parameters
    ----------
    files : path or list of paths
        The files.
    company : str, optional
        The company of files without a ``company`` column (default: each file's name).
    append : bool
        Add to the stored records of the companies and years imported instead of replacing
        them.

    Returns
    -------
    ImportReport
        As :func:`critmin.import_source`. The records of other companies in the same years
        are kept as they were.

    Raises
    ------
    InvalidInput
        Rows that cannot be imported (unknown material or country, negative quantity, text
        in a number, a currency without a rate), each with its row number, value and the
        nearest valid choices; nothing is stored.

    Examples
    --------
    >>> critmin.import_purchases("no-such-file.xlsx")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    critmin.errors.InvalidInput: no such file: no-such-file.xlsx
    """
    from critmin.files import temp_folder
    from critmin.ingest import _files, import_source
    from critmin.sources.purchase_files import purchase_frame
    from critmin.store import paths

    paths_in = _files(files)
    company = None if company is None else checks.as_name(company, "company")
    append = checks.as_bool(append, "append")
    frames = [purchase_frame(p, company) for p in paths_in]
    new = pd.concat(frames, ignore_index=True)
    years = set(new["period"].astype(str).str[:4])
    if not append:
        stored = stored_purchases()
        others = stored[stored["period"].astype(str).str[:4].isin(years)
                        & ~stored["company"].isin(set(new["company"]))]
        new = pd.concat([new, others[new.columns]], ignore_index=True)
    else:
        others = new.iloc[:0]
    with temp_folder(paths.imports_dir()) as folder:
        path = Path(folder) / f"{paths_in[0].stem}.csv"
        new.to_csv(path, index=False)
        report = import_source("purchases", [path], append=append)
    report.files = [str(p) for p in paths_in]
    if len(others):
        cov = report.coverage
        cov["rows_read"] -= len(others)
        cov["rows_kept"] -= len(others)
        cov["notes"][f"records of other companies in {', '.join(sorted(years))} kept"] = len(
            others)
    return report


def company_template(out: str | Path) -> Path:
    """Write critmin's purchase template: an Excel workbook whose ``Purchases`` sheet lists
    materials, countries and units to choose from (data validation), and a ``README`` sheet
    describing each column.

    Parameters
    ----------
    out : str or Path
        Where to write it (an ``.xlsx`` file; an existing one is replaced).

    Returns
    -------
    Path
        ``out``.

    Examples
    --------
    >>> critmin.company_template("/nonexistent/t.xlsx")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    critmin.errors.InvalidInput: cannot write /nonexistent/t.xlsx: no such folder
    """
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]

    from critmin.catalog import load as load_catalog
    from critmin.sources.purchase_files import MASS_ALIASES

    target = checks.as_path(out, "out")
    if not target.parent.is_dir():
        raise InvalidInput(f"cannot write {target}: no such folder")
    if target.suffix.lower() != ".xlsx":
        raise InvalidInput(f"the template is an Excel workbook: name it .xlsx, not {target.name}")
    store = get_store()
    minerals = sorted(store.table("minerals")["mineral"])
    products = sorted(load_catalog("product_names")["name"])
    countries = store.table("countries")[["iso3", "name"]].sort_values("name")
    headers = ["company", "period", "supplier_name", "reference", "material",
               "supplier_country", "origin_country", "quantity", "quantity_unit", "value",
               "currency", "usd_rate", "notes"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Purchases"
    sheet.append(headers)
    lists = book.create_sheet("Lists")
    choices = {"material": minerals + products, "country": list(countries["iso3"]),
               "unit": sorted(set(MASS_ALIASES.values()))}
    for col, (title, values) in enumerate(choices.items(), start=1):
        lists.cell(row=1, column=col, value=title)
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=col, value=value)
    lists.sheet_state = "hidden"

    def rule(list_col: str, n: int, column: str, blank: bool) -> None:
        check = DataValidation(type="list", formula1=f"=Lists!${list_col}$2:${list_col}${n + 1}",
                               allow_blank=blank, showErrorMessage=True)
        check.error = f"choose a value from the list ({column})"
        sheet.add_data_validation(check)
        letter = openpyxl.utils.get_column_letter(headers.index(column) + 1)
        check.add(f"{letter}2:{letter}10000")

    rule("A", len(choices["material"]), "material", False)
    rule("B", len(choices["country"]), "supplier_country", False)
    rule("B", len(choices["country"]), "origin_country", True)
    rule("C", len(choices["unit"]), "quantity_unit", False)
    for column in ("quantity", "value", "usd_rate"):
        number = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                                allow_blank=column != "quantity", showErrorMessage=True)
        number.error = f"{column} is a number, 0 or more"
        sheet.add_data_validation(number)
        letter = openpyxl.utils.get_column_letter(headers.index(column) + 1)
        number.add(f"{letter}2:{letter}10000")
    readme = book.create_sheet("README", 0)
    readme["A1"] = ("critmin purchase template: one row per purchase on the Purchases sheet; "
                    "import with: critmin data import purchases FILE.xlsx")
    readme["A3"], readme["B3"] = "column", "description"
    described = {c.name: c.description for c in schema.table_columns("purchases")}
    described["material"] += (" (or a product name of the list, or a mineral's name or "
                              "alias)")
    described["supplier_country"] += " (or the country's name)"
    described["quantity_unit"] = "unit of quantity: t, kg, g or lb (tonnes, pounds… accepted)"
    for column in headers:
        readme.append([column, described[column]])
    book.save(target)
    return target
