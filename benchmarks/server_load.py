"""A profile request's latency on `critmin serve`, alone and among 20 mixed clients.

The server runs on a free loopback port (cube cache warmed first). A probe requests country
profiles one after another: warm ones (answered from the response cache) and cold ones
(computed: each asks a ``top`` no one asked before). It runs once alone, then while 20
clients use the server as dashboards would (a request, then ``--think-ms`` of reading),
from a process of their own (so that they do not slow the probe's own Python): 17 on
profiles and risk pages, 3 on expensive requests (reports, Monte Carlo supply-at-risk,
JSON Lines downloads of the cube, frontiers), which the server answers a few at a time and
otherwise 503 with Retry-After (counted; the client waits as asked).

Target: the probe's p50 and p99 under load within 3x of alone, for warm and cold profiles.
The load runs twice: the cheap clients alone, then with the expensive ones, which tells the
cost of the expensive requests from that of the load as such. Clients and server share the
machine's cores.

Usage: python benchmarks/server_load.py [--duration 30] [--think-ms 250]
(writes results/server_load.json)
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save
from api_load import Server

COUNTRIES = ["IND", "DEU", "USA", "JPN", "KOR", "FRA", "ITA", "BRA", "CAN", "AUS", "GBR",
             "ESP", "MEX", "IDN", "TUR", "POL", "NLD", "SWE", "ZAF", "VNM"]
MINERALS = ["lithium", "cobalt", "rare-earths", "nickel", "graphite", "copper"]
CLIENTS = {"profiles": 9, "risk": 8, "expensive": 3}
TARGET_RATIO = 3.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2),
            "p99_ms": round(percentile(ms, 99), 2), "mean_ms": round(statistics.mean(ms), 2),
            "max_ms": round(max(ms), 2)}


class Client:
    """One keep-alive connection; each answer's status, time and data header."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def request(self, method: str, path: str, body: dict | None = None
                ) -> tuple[int, float, http.client.HTTPResponse]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"} if data else {}
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            res = self.conn.getresponse()
            res.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            raise
        return res.status, (time.perf_counter() - start) * 1000, res


def probe(port: int, top: int, rounds: int) -> dict[str, list[float]]:
    """Cold then warm profile latencies (ms) over :data:`COUNTRIES`, ``rounds`` times."""
    client = Client(port)
    cold: list[float] = []
    warm: list[float] = []
    for r in range(rounds):
        for country in COUNTRIES:
            path = f"/api/v1/profile/{country}?top={top + r}"
            status, ms, _ = client.request("GET", path)
            assert status == 200, (path, status)
            cold.append(ms)
            status, ms, _ = client.request("GET", path)
            assert status == 200, (path, status)
            warm.append(ms)
    return {"cold": cold, "warm": warm}


def cheap_paths(kind: str | None = None) -> list[str]:
    """The requests of the cheap load clients (of one kind, or all)."""
    paths = {"profiles": [f"/api/v1/profile/{c}?top={t}" for t in (1, 2, 3) for c in COUNTRIES],
             "risk": [f"/api/v1/risk?country={c}&limit=100&offset={o}"
                      for o in (0, 100, 200) for c in COUNTRIES]}
    return paths[kind] if kind else paths["profiles"] + paths["risk"]


def load(port: int, kind: str, n: int, stop: threading.Event, think_s: float,
         counts: Counter[str]) -> None:
    client = Client(port)
    i = n
    while not stop.is_set():
        i += 1
        country = COUNTRIES[i % len(COUNTRIES)]
        mineral = MINERALS[i % len(MINERALS)]
        if kind in ("profiles", "risk"):
            method, path, body = "GET", cheap_paths(kind)[i % 60], None
        else:
            method, path, body = [
                ("GET", f"/api/v1/report/{country}", None),
                ("POST", "/api/v1/scenarios/supply-at-risk",
                 {"mineral": mineral, "year": 2023, "draws": 5000, "seed": i}),
                ("GET", f"/api/v1/risk?mineral={mineral}&format=jsonl", None),
                ("POST", "/api/v1/optimise", {"importer": country, "mineral": "lithium",
                                              "year": 2023, "frontier_points": 10 + i % 20}),
            ][i % 4]
        try:
            status, _, res = client.request(method, path, body)
        except (OSError, http.client.HTTPException):
            # the server closes connections idle for longer than its keep-alive (a client
            # that waited as Retry-After asked): a new one asks again
            counts["reconnects"] += 1
            try:
                status, _, res = client.request(method, path, body)
            except (OSError, http.client.HTTPException):
                counts["connection_errors"] += 1
                continue
        counts[f"{kind} {status}"] += 1
        if status == 503:
            stop.wait(float(res.getheader("retry-after") or 1))
        else:
            stop.wait(think_s)


def load_all(port: int, think_s: float, duration_s: float, expensive: bool, done: Any,
             out: Any) -> None:
    """Every load client (without ``expensive``, the cheap ones only), for at least
    ``duration_s`` and until ``done`` is set; the answers they got, counted, put in ``out``."""
    stop = threading.Event()
    counts: Counter[str] = Counter()
    threads = [threading.Thread(target=load, args=(port, kind, n, stop, think_s, counts))
               for kind, many in CLIENTS.items() for n in range(many)
               if expensive or kind != "expensive"]
    start = time.perf_counter()
    for t in threads:
        t.start()
    done.wait()
    time.sleep(max(0.0, duration_s - (time.perf_counter() - start)))
    stop.set()
    for t in threads:
        t.join()
    out.put(dict(counts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30,
                    help="least seconds of load (default 30; it lasts as long as the probe)")
    ap.add_argument("--think-ms", type=float, default=250,
                    help="each load client's pause between requests (default 250)")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="critmin-bench-"))
    server = Server(sys.executable, home)
    server.command = [sys.executable, "-m", "critmin", *server.command[1:]]
    try:
        startup = server.start()
        warmup = Client(server.port)
        while warmup.request("GET", "/api/v1/ready")[0] != 200:  # the cube cache, once
            time.sleep(1)
        # the load clients' cheap requests, once: under load they are answered from the
        # response cache, as a dashboard's are when its users look at the same pages
        for path in cheap_paths():
            warmup.request("GET", path)
        alone = probe(server.port, top=10, rounds=1)
        spawn = multiprocessing.get_context("spawn")
        phases: dict[str, Any] = {}
        for phase, expensive, top in (("cheap_only", False, 20), ("mixed", True, 30)):
            answers, done = spawn.Queue(), spawn.Event()
            clients = spawn.Process(target=load_all, args=(
                server.port, args.think_ms / 1000, args.duration, expensive, done, answers))
            clients.start()
            time.sleep(3)  # the load under way before the probe starts
            loaded = probe(server.port, top=top, rounds=1)
            done.set()
            phases[phase] = (loaded, answers.get(timeout=args.duration + 600))
            clients.join()
    except BaseException:
        print(f"server log:\n{server.log.read_text()[-2000:]}", file=sys.stderr)
        raise
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    result: dict[str, object] = {
        "note": "critmin serve and its clients on the same machine, loopback; the probe "
                "asks each country's profile once computed (cold) and once cached (warm), "
                "alone and among 20 clients with think time",
        "machine": {"cpus": os.cpu_count(), "system": platform.platform(),
                    "python": platform.python_version()},
        "startup_s": round(startup, 2), "load_clients": CLIENTS,
        "think_ms": args.think_ms, "least_load_s": args.duration,
        "target_ratio": TARGET_RATIO,
        "alone": {kind: summary(alone[kind]) for kind in ("warm", "cold")}}
    met = {}
    for phase, (loaded, counts) in phases.items():
        out: dict[str, Any] = {"load_answers": dict(sorted(counts.items()))}
        for kind in ("warm", "cold"):
            solo, busy = summary(alone[kind]), summary(loaded[kind])
            ratio = {q: round(busy[q] / solo[q], 2) for q in ("p50_ms", "p99_ms")}
            out[f"profile_{kind}"] = {"under_load": busy, "ratio_to_alone": ratio}
            met[f"{phase}_{kind}"] = all(r <= TARGET_RATIO for r in ratio.values())
        result[phase] = out
    result["target_met"] = met
    save("server_load", result)


if __name__ == "__main__":
    main()
