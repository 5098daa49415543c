"""Load on the REST API with wrk: `critmin serve` on a free loopback port, 20 concurrent
clients on GET /api/v1/profile/IND and GET /api/v1/countries.

Targets: profile/IND p50 <= 20 ms and p99 <= 100 ms under 20 concurrent clients, no errors
(non-2xx responses or socket errors, and the server still up). wrk runs on the same machine
as the server and shares its cores.

A server that dies during a run (e.g. killed by SIGPIPE when wrk drops its connections at the
end) is recorded in ``server_exits`` and started again (cube cache kept) for the next run.

Needs wrk (Debian: apt-get install wrk).
Usage: python benchmarks/api_load.py [--runs 3] [--duration 15]   (writes results/api_load.json)
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save

ENDPOINTS = ["/api/v1/profile/IND", "/api/v1/countries"]
TARGETS = {"profile_IND_p50_ms": 20, "profile_IND_p99_ms": 100, "errors": 0}
UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 30) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as res:
        if res.status != 200:
            raise RuntimeError(f"{url}: HTTP {res.status}")
        return bytes(res.read())


class Server:
    """`critmin serve` on a free loopback port, restarted if it dies."""

    def __init__(self, exe: str, home: Path) -> None:
        self.exe, self.home, self.log = exe, home, home / "serve.log"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.command = [exe, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, limit_s: float = 600) -> float:
        """Seconds until /api/v1/status answers (the first start warms the cube cache)."""
        with self.log.open("a") as sink:
            self.proc = subprocess.Popen(
                self.command, stdout=sink, stderr=subprocess.STDOUT,
                env={**os.environ, "CRITMIN_HOME": str(self.home), "NO_COLOR": "1"})
        start = time.perf_counter()
        while time.perf_counter() - start < limit_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"critmin serve exited ({self.proc.returncode}): "
                                   f"{self.log.read_text()[-800:]}")
            try:
                get(f"{self.base}/api/v1/status", timeout=2)
                return time.perf_counter() - start
            except OSError:
                time.sleep(0.25)
        raise RuntimeError(f"no answer from {self.base} after {limit_s:.0f} s")

    def exited(self) -> int | None:
        """The server's return code if it has died (checked after a short grace), else None."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def to_ms(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]


def parse_wrk(text: str) -> dict[str, float | int]:
    """p50/p90/p99 latency, requests/s, requests, non-2xx responses and socket errors."""
    out: dict[str, float | int] = {}
    for pct in (50, 75, 90, 99):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
        if m is None:
            raise ValueError(f"no {pct}% latency in wrk's output:\n{text}")
        out[f"p{pct}_ms"] = round(to_ms(*m.groups()), 3)
    m = re.search(r"^\s+Latency\s+([\d.]+)(us|ms|s|m)\s+[\d.]+\w+\s+([\d.]+)(us|ms|s|m)", text,
                  re.M)
    if m is not None:
        out["mean_ms"] = round(to_ms(m.group(1), m.group(2)), 3)
        out["max_ms"] = round(to_ms(m.group(3), m.group(4)), 3)
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if m is None:
        raise ValueError(f"no Requests/sec in wrk's output:\n{text}")
    out["requests_per_s"] = round(float(m.group(1)), 1)
    m = re.search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)", text, re.M)
    if m is not None:
        out["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = sum(int(g) for g in m.groups()) if m else 0
    return out


def run_wrk(url: str, threads: int, connections: int, duration: int) -> tuple[list[str],
                                                                               dict]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
    return cmd, parse_wrk(proc.stdout)


def machine() -> dict[str, object]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        m = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = m.group(1).strip() if m else ""
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    import critmin

    return {"cpus": os.cpu_count(), "cpu": cpu, "system": platform.platform(),
            "python": platform.python_version(), "critmin": critmin.__version__,
            "wrk": (wrk.stdout or wrk.stderr).split("\n")[0].strip()}


def summarise(runs: list[dict]) -> dict[str, object]:
    keys = [k for k in runs[0] if k != "requests"]
    out: dict[str, object] = {f"{k}_median": round(statistics.median(r[k] for r in runs), 3)
                              for k in keys if k not in ("non_2xx", "socket_errors")}
    out["non_2xx_total"] = sum(int(r["non_2xx"]) for r in runs)
    out["socket_errors_total"] = sum(int(r["socket_errors"]) for r in runs)
    out["runs"] = runs
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="wrk runs per endpoint (default 3)")
    ap.add_argument("--duration", type=int, default=15, help="seconds per run (default 15)")
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    exe = shutil.which("critmin") or str(Path(sys.executable).parent / "critmin")
    home = Path(tempfile.mkdtemp(prefix="critmin-bench-"))
    server = Server(exe, home)
    load_before = os.getloadavg()
    exits: list[dict[str, object]] = []
    try:
        startup = server.start()
        endpoints: dict[str, object] = {}
        for path in ENDPOINTS:
            url = server.base + path
            if server.exited() is not None:
                server.start()
            start = time.perf_counter()
            size = len(get(url, timeout=120))  # the first request builds and caches
            first_ms = (time.perf_counter() - start) * 1000
            runs, cmd = [], []
            for i in range(args.runs):
                if server.exited() is not None:
                    server.start()
                    get(url, timeout=120)
                cmd, result = run_wrk(url, args.threads, args.connections, args.duration)
                runs.append(result)
                code = server.exited()
                if code is not None:
                    exits.append({"endpoint": path, "run": i + 1, "returncode": code,
                                  "signal": signal.Signals(-code).name if code < 0 else None})
            endpoints[path] = {
                "command": " ".join(cmd).replace(server.base, "http://127.0.0.1:<port>"),
                "response_bytes": size, "first_request_ms": round(first_ms, 1),
                **summarise(runs)}
    except BaseException:
        print(f"server log:\n{server.log.read_text()[-2000:]}", file=sys.stderr)
        raise
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    profile = endpoints["/api/v1/profile/IND"]
    assert isinstance(profile, dict)
    met = {"profile_IND_p50_ms": profile["p50_ms_median"] <= TARGETS["profile_IND_p50_ms"],
           "profile_IND_p99_ms": profile["p99_ms_median"] <= TARGETS["profile_IND_p99_ms"],
           "errors": not exits and all(
               e["non_2xx_total"] == 0 and e["socket_errors_total"] == 0  # type: ignore[index]
               for e in endpoints.values())}
    save("api_load", {
        "note": "critmin serve (one uvicorn process) and wrk on the same machine, loopback; "
                "medians over the runs; cube cache warmed by serve, each endpoint requested "
                "once before the load",
        "machine": machine(),
        "server": "critmin serve --host 127.0.0.1 --port <port>",
        "startup_s": round(startup, 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "server_exits": exits,
        "endpoints": endpoints,
        "targets": TARGETS,
        "targets_met": met,
    })


if __name__ == "__main__":
    main()
