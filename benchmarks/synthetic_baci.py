"""A synthetic CEPII BACI release, deterministic from a seed, for import and cube benchmarks.

It has BACI's layout (one ``BACI_HS92_Y{year}_V{version}.csv`` per year with columns
``t,i,j,k,v,q``, plus ``country_codes`` and ``product_codes`` files), BACI's real country
codes (critmin's catalog), real HS-6 codes (critmin's catalog plus, with ``--products all``,
every code of the Harmonized System list in ``benchmarks/data/hs6_codes.txt`` when present),
heavy-tailed values and quantities (log-normal per product, with Zipf-like popularity of
partners and products), and missing quantities at BACI's rate (~4.9 %, written ``NA`` padded
with spaces as BACI does).

Usage:
    python benchmarks/synthetic_baci.py --out DIR [--years 1995-2024] [--rows-per-year 8300000]
        [--scale 1.0] [--products catalog|all] [--seed 7] [--zip]

``--scale`` multiplies the rows per year (``--scale 0.01`` for tests). The full-size default is
about 250 M rows over 30 years, like a real HS92 release.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

HERE = Path(__file__).parent
MISSING_Q_RATE = 61_682 / 1_264_888
"""Share of rows without a quantity in the bundled BACI extract."""


def country_codes() -> np.ndarray:
    from critmin import catalog

    return np.sort(catalog.load_country_codes()["baci_code"].to_numpy(np.int64))


def product_codes(which: str) -> np.ndarray:
    from critmin import catalog

    codes = set(catalog.load_product_minerals()["hs6"])
    extra = HERE / "data" / "hs6_codes.txt"
    if which == "all" and extra.exists():
        codes |= {c.strip() for c in extra.read_text().split() if c.strip().isdigit()}
    return np.array(sorted(int(c) for c in codes), dtype=np.int64)


def zipf_weights(n: int, rng: np.random.Generator, exponent: float = 1.1) -> np.ndarray:
    ranks = rng.permutation(n) + 1
    w = 1.0 / ranks**exponent
    return w / w.sum()


def distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys``, sorted (a sort is several times faster than numpy's
    hash-based unique at these sizes)."""
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys


def year_table(year: int, rows: int, countries: np.ndarray, products: np.ndarray,
               seed: int) -> pa.Table:
    """``rows`` distinct (i, j, k) rows of one year."""
    rng = np.random.default_rng([seed, year])
    c_w = zipf_weights(len(countries), np.random.default_rng([seed, 1]))
    p_w = zipf_weights(len(products), np.random.default_rng([seed, 2]), 0.8)
    price = np.exp(np.random.default_rng([seed, 3]).normal(0.0, 1.6, len(products)))  # USD/kg
    space = len(countries) ** 2 * len(products)
    rows = min(rows, int(space * 0.6))
    # popular partners and products first (Zipf-like draws, duplicates dropped), then the
    # rest of the rows drawn evenly from the remaining (i, j, k): two passes whatever the size
    need = int(rows * 1.5) + 1000
    i = rng.choice(len(countries), need, p=c_w)
    j = rng.choice(len(countries), need, p=c_w)
    k = rng.choice(len(products), need, p=p_w)
    picked = distinct(((i * len(countries) + j) * len(products) + k)[i != j])[:rows]
    while len(picked) < rows:
        extra = rng.integers(0, space, int((rows - len(picked)) * 1.2) + 1000)
        ii, jj = extra // len(products) // len(countries), extra // len(products) % len(countries)
        picked = distinct(np.concatenate([picked, extra[ii != jj]]))
    picked = rng.permutation(picked)[:rows]
    k = picked % len(products)
    ij = picked // len(products)
    i, j = ij // len(countries), ij % len(countries)
    value = np.round(np.exp(rng.normal(2.0, 2.4, rows)), 3)  # thousand USD, heavy-tailed
    qty = np.round(value / (price[k] * np.exp(rng.normal(0.0, 0.5, rows))), 3)
    q_text = pc.cast(pa.array(qty), pa.string())
    missing = rng.random(rows) < MISSING_Q_RATE
    q_text = pc.if_else(pa.array(missing), pa.scalar("          NA"), q_text)
    order = np.argsort((k * len(countries) + i) * len(countries) + j, kind="stable")
    return pa.table({
        "t": pa.array(np.full(rows, year, dtype=np.int64)),
        "i": pa.array(countries[i][order]),
        "j": pa.array(countries[j][order]),
        "k": pa.array(products[k][order]),
        "v": pa.array(value[order]),
        "q": q_text.take(pa.array(order)),
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--years", default="1995-2024", help="first-last, e.g. 2019-2023")
    ap.add_argument("--rows-per-year", type=int, default=8_300_000)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--products", choices=["catalog", "all"], default="all")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--version", default="V202501")
    ap.add_argument("--zip", action="store_true", help="write one zip archive, as CEPII ships it")
    args = ap.parse_args()
    first, _, last = args.years.partition("-")
    years = range(int(first), int(last or first) + 1)
    rows = max(1, int(args.rows_per_year * args.scale))
    countries, products = country_codes(), product_codes(args.products)
    args.out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for year in years:
        path = args.out / f"BACI_HS92_Y{year}_{args.version}.csv"
        pacsv.write_csv(year_table(year, rows, countries, products, args.seed), path,
                        pacsv.WriteOptions(quoting_style="none"))
        files.append(path)
        print(f"{path.name}: {rows:,} rows", file=sys.stderr)
    codes = args.out / f"country_codes_{args.version}.csv"
    codes.write_text("country_code,country_name,country_iso2,country_iso3\n"
                     + "".join(f"{c},,,\n" for c in countries))
    prods = args.out / f"product_codes_HS92_{args.version}.csv"
    prods.write_text("code,description\n" + "".join(f"{p:06d},\n" for p in products))
    files += [codes, prods]
    if args.zip:
        archive = args.out / f"BACI_HS92_{args.version}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for f in files:
                zf.write(f, f.name)
                f.unlink()
        print(f"wrote {archive}", file=sys.stderr)


if __name__ == "__main__":
    main()
