"""Load times of the dashboard in headless Chromium (target: each page's first load <= 1 s).

`critmin serve` runs on a free loopback port (its start warms the cube cache). Measured, from
the navigation to the moment the page has all its figures drawn:

- ``cold_start``: the dashboard opened in a fresh browser context (empty cache: plotly.js is
  fetched and compiled), on the world page;
- per page, ``first``: the first visit of the page in a session (the dashboard is one page
  application: moving to a page is a hash change; the server computes the page's figures);
  ``repeat``: the median of later visits (the server answers from its cache);
- per page, ``cold``: the page opened directly in a fresh browser context after the server
  has cached it (what a shared link costs).

Needs Debian's chromium. Usage: python benchmarks/dashboard_load.py [--runs 5]
(writes results/dashboard_load.json)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save
from api_load import Server

PAGES = {
    "world": ("#/world?mineral=cobalt", "#world-map .js-plotly-plot"),
    "country": ("#/country/IND", ".figure .js-plotly-plot"),
    "mineral": ("#/mineral/rare-earths", ".figure .js-plotly-plot"),
    "scenarios": ("#/scenarios", "#main form"),
    "optimiser": ("#/optimise?importer=IND&mineral=lithium", "#optimise-result .js-plotly-plot"),
    "registries": ("#/registries", "#main table"),
}
TARGET_S = 1.0
DRAWN = """() => {
  const boxes = document.querySelectorAll('.figure .plot');
  return document.body.dataset.ready &&
    [...boxes].every((b) => b.classList.contains('js-plotly-plot') && b.querySelector('.main-svg'));
}"""


def load_once(browser: object, url: str, shown: str) -> float:
    """Seconds to open ``url`` in a fresh context until ``shown`` and every figure are drawn."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(shown, timeout=120_000)
    page.wait_for_function(DRAWN, timeout=120_000)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def visit(page: object, route: str, shown: str) -> float:
    """Seconds to move the open dashboard to ``route`` until every figure is drawn."""
    routed = int(page.evaluate("Number(document.body.dataset.routed || 0)"))  # type: ignore[attr-defined]
    start = time.perf_counter()
    page.evaluate(f"location.hash = {route[1:]!r}")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        f"Number(document.body.dataset.routed || 0) > {routed}", timeout=120_000)
    page.wait_for_selector(shown, timeout=120_000)  # type: ignore[attr-defined]
    page.wait_for_function(DRAWN, timeout=120_000)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs chromium on PATH (Debian: apt-get install chromium)")
    exe = shutil.which("critmin") or str(Path(sys.executable).parent / "critmin")
    server = Server(exe, Path(tempfile.mkdtemp(prefix="critmin-bench-")))
    started = server.start()
    pages: dict[str, dict[str, float]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1300, "height": 900})
            app = context.new_page()
            start = time.perf_counter()
            app.goto(f"{server.base}/#/about")  # an unknown page shows the world map
            app.wait_for_selector("#world-map .js-plotly-plot", timeout=120_000)
            app.wait_for_function(DRAWN, timeout=120_000)
            cold_start = time.perf_counter() - start
            for name, (route, shown) in PAGES.items():
                first = visit(app, route, shown)
                repeat = []
                away = ("#/scenarios", "#main form") if name == "registries" else (
                    "#/registries", "#main table")
                for _ in range(args.runs):
                    visit(app, *away)
                    repeat.append(visit(app, route, shown))
                cold = [load_once(browser, f"{server.base}/{route}", shown)
                        for _ in range(args.runs)]
                pages[name] = {"first_s": round(first, 3),
                               "repeat_median_s": round(statistics.median(repeat), 3),
                               "cold_median_s": round(statistics.median(cold), 3)}
                print(name, pages[name], flush=True)
            context.close()
            browser.close()
    finally:
        server.stop()
    save("dashboard_load", {
        "what": "dashboard load times in headless Chromium (see the script's docstring)",
        "server_start_s": round(started, 2), "runs": args.runs, "target_s": TARGET_S,
        "cold_start_s": round(cold_start, 3), "pages": pages,
        "first_within_target": {k: v["first_s"] <= TARGET_S for k, v in pages.items()},
    })


if __name__ == "__main__":
    main()
