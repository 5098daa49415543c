"""What the dashboard's plotly.js costs a fresh browser: the full plotly.js 4.1.1 bundle (as
the plotly Python package ships it, what the dashboard loaded before) against the bundle
vendored in ``src/critmin/web/static/vendor/plotly/`` (built by ``web-src/plotly`` with only
the trace types critmin draws), in one run.

Each run opens a fresh browser context on a page that loads the bundle and draws a bar chart
and a choropleth (the map geometry from the vendored topojson); the time is from the
navigation to both charts drawn. Needs Debian's chromium.
Usage: python benchmarks/plotly_bundle.py [--runs 9] (writes results/plotly_bundle.json)
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

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "critmin" / "web" / "static" / "vendor"
PAGE = """<!DOCTYPE html><html><body><div id="a" style="width:600px;height:300px"></div>
<div id="b" style="width:600px;height:300px"></div><script src="plotly.js"></script><script>
const cfg = {topojsonURL: "./"};
Promise.all([
  Plotly.newPlot("a", [{type: "bar", x: ["a", "b"], y: [1, 2]}], {}, cfg),
  Plotly.newPlot("b", [{type: "choropleth", locations: ["IND", "CHN"], z: [1, 2]}], {}, cfg),
]).then(() => { document.body.dataset.drawn = "1"; });
</script></body></html>"""


def folder(bundle: Path) -> Path:
    where = Path(tempfile.mkdtemp(prefix="critmin-plotly-"))
    shutil.copy(bundle, where / "plotly.js")
    shutil.copy(VENDOR / "topojson" / "world_110m.json", where / "world_110m.json")
    (where / "index.html").write_text(PAGE, "utf-8")
    return where


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    import plotly
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs chromium on PATH (Debian: apt-get install chromium)")
    bundles = {"full": Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
               "critmin": VENDOR / "plotly" / "plotly.min.js"}
    pages = {name: folder(path) for name, path in bundles.items()}
    times: dict[str, list[float]] = {name: [] for name in bundles}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium,
                                    args=["--no-sandbox", "--allow-file-access-from-files"])
        for _ in range(args.runs):
            for name, where in pages.items():  # interleaved: both see the same machine load
                context = browser.new_context()
                page = context.new_page()
                start = time.perf_counter()
                page.goto((where / "index.html").as_uri())
                page.wait_for_function("document.body.dataset.drawn", timeout=60_000)
                times[name].append(time.perf_counter() - start)
                context.close()
        browser.close()
    result = {name: {"bytes": bundles[name].stat().st_size,
                     "median_s": round(statistics.median(t), 3),
                     "runs_s": [round(x, 3) for x in t]} for name, t in times.items()}
    ratio = result["full"]["median_s"] / result["critmin"]["median_s"]
    print({k: v["median_s"] for k, v in result.items()}, f"full / critmin = {ratio:.2f}")
    save("plotly_bundle", {"what": __doc__.splitlines()[0], "runs": args.runs,
                           "bundles": result, "full_over_critmin": round(ratio, 2)})


if __name__ == "__main__":
    main()
