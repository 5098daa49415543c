"""What a dashboard page costs the server: the requests the page makes, answered in-process
by FastAPI's TestClient. The country page makes two (``/api/v1/figures/country/{country}``,
its figures, tables and notes; then ``/api/v1/findings/{country}``); the mineral page one
(``/api/v1/figures/mineral/{mineral}``) and the world page one
(``/api/v1/figures/world?mineral=...&metric=...``).

Each run is a fresh Python process (the cube cache on disk already filled, as after
``critmin serve`` has warmed it): ``first`` is the first request of each kind in the process
(imports, the plotly figure machinery and the profile computed for the first time);
``warm`` the median of later requests, each on a new application (so its response cache is
empty and the page is built again, on the process's warm imports and in-memory readers).
``graph_objects`` says whether the page loaded ``plotly.graph_objects``.

With ``--against SRC`` (the ``src`` folder of another version, e.g. from ``git archive``),
each round runs one process of each version, so both see the same machine load.
Usage: python benchmarks/country_figures.py [--page country|mineral|world] [--runs 5]
[--warm 5] [--country India] [--mineral rare-earths] [--metric china_share] [--year 2022]
[--against SRC --label before] (writes results/{page}_figures.json)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save


def child(page: str, subject: str, metric: str, year: int, warm: int) -> dict[str, object]:
    """One fresh process: the page's first requests, then ``warm`` more on new apps."""
    from fastapi.testclient import TestClient

    from critmin.api.app import create_app

    first: tuple[str, dict[str, str | int]] = {
        "country": (f"/api/v1/figures/country/{subject}", {"year": year}),
        "mineral": (f"/api/v1/figures/mineral/{subject}", {"year": year}),
        "world": ("/api/v1/figures/world", {"mineral": subject, "metric": metric, "year": year}),
    }[page]
    times: dict[str, list[float]] = {kind: [] for kind in KINDS[page]}
    said = ""
    for _ in range(1 + warm):
        with TestClient(create_app(), base_url="http://localhost") as client:
            start = time.perf_counter()
            answer = client.get(first[0], params=first[1])
            times["figures"].append(time.perf_counter() - start)
            if answer.status_code != 200:
                raise SystemExit(f"{first[0]}: {answer.status_code} {answer.text[:300]}")
            said = answer.json()["subject"]
            if page != "country":
                continue
            start = time.perf_counter()
            found = client.get(f"/api/v1/findings/{said}", params={"year": year})
            times["findings"].append(time.perf_counter() - start)
            if found.status_code != 200:
                raise SystemExit(f"findings: {found.status_code} {found.text[:300]}")
    return {"subject": said, "times": times,
            "graph_objects": "plotly.graph_objects" in sys.modules}


KINDS = {"country": ("figures", "findings"), "mineral": ("figures",), "world": ("figures",)}
"""The requests each page makes, by what they answer."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--page", choices=sorted(KINDS), default="country")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warm", type=int, default=5)
    ap.add_argument("--country", default="India")
    ap.add_argument("--mineral", default="rare-earths")
    ap.add_argument("--metric", default="china_share", help="the world map's metric")
    ap.add_argument("--year", type=int, default=2022)
    ap.add_argument("--against", type=Path, help="src folder of a version to compare with")
    ap.add_argument("--label", default="against", help="what the results call that version")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        subject = args.country if args.page == "country" else args.mineral
        print(json.dumps(child(args.page, subject, args.metric, args.year, args.warm)))
        return
    command = [sys.executable, __file__, "--child", "--page", args.page, "--country",
               args.country, "--mineral", args.mineral, "--metric", args.metric,
               "--year", str(args.year), "--warm", str(args.warm)]
    versions = {"this": os.environ.copy()}
    if args.against is not None:
        path = os.pathsep.join([str(args.against.resolve()), os.environ.get("PYTHONPATH", "")])
        versions[args.label] = {**os.environ, "PYTHONPATH": path}
    subprocess.run(command, capture_output=True, check=True)  # fills the cube cache if empty
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in versions}
    for _ in range(args.runs):
        for name, env in versions.items():
            done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    result: dict[str, object] = {"what": f"What the dashboard's {args.page} page costs the "
                                         "server: the requests the page makes",
                                 "page": args.page, "year": args.year, "runs": args.runs,
                                 "warm": args.warm}
    if args.page == "world":
        result["metric"] = args.metric
    for name, done_runs in runs.items():
        result[name] = summary(done_runs, KINDS[args.page])
    save(f"{args.page}_figures", result)


def summary(runs: list[dict[str, object]], kinds: tuple[str, ...]) -> dict[str, object]:
    """Medians of the first and the warm requests of each kind over ``runs``."""
    out: dict[str, object] = {"subject": runs[0]["subject"],
                              "graph_objects": runs[0]["graph_objects"]}
    for kind in kinds:
        times = [r["times"][kind] for r in runs]  # type: ignore[index]
        first = [t[0] for t in times]
        warm = [x for t in times for x in t[1:]]
        out[kind] = {"first_median_s": round(statistics.median(first), 3),
                     "first_s": [round(t, 3) for t in first],
                     "warm_median_s": round(statistics.median(warm), 3) if warm else None,
                     "warm_s": [round(t, 3) for t in warm]}
    return out


if __name__ == "__main__":
    main()
