#!/usr/bin/env python3
"""Run geopolrisk-py 2.0.1 (GPL-3) as a separate process, for critmin's benchmark and test data.

Run with the PEER venv's python (see setup_peer.sh), never from critmin itself:

    $VENV/bin/python run_peer.py --years 2018-2024 --out rows.csv
    $VENV/bin/python run_peer.py --years 2018-2024 --out batch.csv --timed-only

Default mode runs the library's public batch function ``main.gprs_calc`` over
materials x countries x years, then recomputes every combination through
``core.importrisk`` / ``core.HHI`` / ``core.GeoPolRisk`` to obtain the intermediates,
checks that both paths agree bit for bit, and writes one row per combination with the
columns of the shared reference file geopolrisk_py_2.0.1_2018-2020.csv (floats as '%.17g').
``--timed-only`` runs just ``gprs_calc`` and writes its result frame.

The library writes ~/Documents/geopolrisk (logs, results.xlsx, a results db) on import,
so HOME is pointed at a temporary directory before importing it and removed afterwards.
"""
import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
import warnings

MATERIALS = ["Lithium", "Rare earth", "Cobalt", "Nickel", "Graphite", "Tungsten",
             "Molybdenum", "Niobium", "Tantalum", "Germanium", "Copper", "Zirconium"]
# BACI codes (the library's Country_ISO table): India, Russian Federation, China, USA,
# Germany, Japan, Rep. of Korea, France, Brazil, Australia.
COUNTRIES = [699, 643, 156, 842, 276, 392, 410, 251, 76, 36]

COLUMNS = ["material", "hs_codes", "country", "country_code", "year", "hhi",
           "import_risk_wta", "geopolrisk_score", "cf_eq_kg_cu_per_kg", "price_kusd_per_t",
           "total_trade_t", "numerator", "prod_qty", "prod_unit", "trade_value_kusd"]


def parse_years(spec):
    years = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            years.extend(range(lo, hi + 1))
        elif part:
            years.append(int(part))
    return years


def parse_country(c):
    return int(c) if c.strip().isdigit() else c


def fmt(v):
    """Floats with 17 significant digits (as in the shared reference); ints as ints."""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    try:
        import numpy as np
        if isinstance(v, np.integer):
            return str(int(v))
    except ImportError:
        pass
    if isinstance(v, float) or hasattr(v, "__float__"):
        return format(float(v), ".17g")
    return str(v)


def log(msg):
    print(f"[run_peer] {msg}", file=sys.stderr, flush=True)


def isolate_home():
    home = tempfile.mkdtemp(prefix="gpr-home-")
    os.environ["HOME"] = home
    os.environ.pop("USERPROFILE", None)
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    return home


def run_batch(gmain, years, countries, materials):
    t0 = time.perf_counter()
    result = gmain.gprs_calc(years, countries, materials)
    dt = time.perf_counter() - t0
    expected = len(years) * len(countries) * len(materials)
    log(f"gprs_calc: {len(result)}/{expected} combinations in {dt:.2f} s")
    if len(result) < expected:
        # gprs_calc iterates product(period, country, rawmaterial) and breaks at the
        # first error, silently returning the rows before it.
        import itertools
        first = list(itertools.product(years, countries, materials))[len(result)]
        log(f"WARNING: gprs_calc stopped early; first failing combination "
            f"(year, country, material) = {first}")
    return result


def core_rows(core, utils, years, countries, materials, failures):
    data = utils.mapped_baci()
    hs_map = utils.Mapping()
    rows = []
    for rm in materials:
        hs = ";".join(str(c) for c in sorted(int(x) for x in hs_map.get(rm, [])))
        try:
            unit = utils.getProd(rm)["unit"].tolist()[0]
        except Exception as e:
            unit = ""
            failures.append((rm, None, None, f"getProd: {type(e).__name__}: {e}"))
        for ctry in countries:
            name = utils.cvtcountry(ctry, type="Name")
            code = int(utils.cvtcountry(name, type="ISO"))
            for year in years:
                try:
                    num, total, price = core.importrisk(rm, year, ctry, data)
                    prod, hhi = core.HHI(rm, int(year), name)
                    score, cf, wta = core.GeoPolRisk(num, total, price, prod, hhi)
                except Exception as e:
                    failures.append((rm, name, year, f"{type(e).__name__}: {e}"))
                    continue
                b = utils.getbacidata(year, code, rm, data)
                # pandas (pairwise) sum, as the shared reference was produced
                value = 0 if b is None else float(b["cifvalue"].sum())
                rows.append({
                    "material": rm, "hs_codes": hs, "country": name, "country_code": code,
                    "year": int(year), "hhi": hhi, "import_risk_wta": wta,
                    "geopolrisk_score": score, "cf_eq_kg_cu_per_kg": cf,
                    "price_kusd_per_t": price, "total_trade_t": total, "numerator": num,
                    "prod_qty": prod, "prod_unit": unit, "trade_value_kusd": value,
                })
    return rows


def compare_with_batch(rows, result):
    """gprs_calc and the core functions must agree bit for bit."""
    batch = {}
    for _, r in result.iterrows():
        key = (r["Raw Material"], r["Country [Economic Entity]"], int(r["Year"]))
        batch[key] = (r["GeoPolRisk Score"],
                      r["GeoPolRisk Characterization Factor [eq. Kg-Cu/Kg]"],
                      r["HHI"], r["Import Risk"], r["Price"])
    mism = 0
    for row in rows:
        key = (row["material"], row["country"], row["year"])
        if key not in batch:
            continue
        mine = (row["geopolrisk_score"], row["cf_eq_kg_cu_per_kg"], row["hhi"],
                row["import_risk_wta"], row["price_kusd_per_t"])
        if any(float(a) != float(b) for a, b in zip(mine, batch[key], strict=False)):
            mism += 1
            log(f"MISMATCH gprs_calc vs core for {key}: {batch[key]} vs {mine}")
    log(f"core vs gprs_calc: {len(batch)} batch rows compared, {mism} mismatches")
    return mism


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--years", default="2018-2024", help="e.g. 2018-2024 or 2018,2020")
    ap.add_argument("--out", required=True, help="output CSV")
    ap.add_argument("--materials", nargs="+", default=MATERIALS,
                    help="library 'Reference ID' names")
    ap.add_argument("--countries", nargs="+", default=[str(c) for c in COUNTRIES],
                    help="BACI codes or library (BACI) country names")
    ap.add_argument("--timed-only", action="store_true",
                    help="run only gprs_calc and write its result frame")
    args = ap.parse_args(argv)

    years = parse_years(args.years)
    countries = [parse_country(c) for c in args.countries]
    materials = list(args.materials)

    isolate_home()
    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    from geopolrisk.assessment import core, utils
    from geopolrisk.assessment import main as gmain
    log(f"import geopolrisk: {time.perf_counter() - t0:.2f} s")

    result = run_batch(gmain, years, countries, materials)
    if args.timed_only:
        result.to_csv(args.out, index=False, float_format="%.17g")
        log(f"wrote {len(result)} rows to {args.out}")
        return 0

    failures = []
    rows = core_rows(core, utils, years, countries, materials, failures)
    compare_with_batch(rows, result)

    order_m = {m: i for i, m in enumerate(materials)}
    order_c = {utils.cvtcountry(c, type="Name"): i for i, c in enumerate(countries)}
    rows.sort(key=lambda r: (order_m[r["material"]], order_c[r["country"]], r["year"]))
    with open(args.out, "w", newline="") as f:
        f.write(",".join(COLUMNS) + "\n")
        for r in rows:
            cells = []
            for c in COLUMNS:
                s = fmt(r[c])
                if any(ch in s for ch in ',"\n'):
                    s = '"' + s.replace('"', '""') + '"'
                cells.append(s)
            f.write(",".join(cells) + "\n")
    expected = len(years) * len(countries) * len(materials)
    log(f"wrote {len(rows)}/{expected} rows to {args.out}")
    for f_ in failures:
        log(f"FAILED (material, country, year) = {f_[:3]}: {f_[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
