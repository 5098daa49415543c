"""Interactive commands as whole processes: a country profile on a fresh data folder (cold)
and again on the same folder (warm), a mineral profile, a risk lookup and a restriction,
with the number of whole-table reads each makes; and how soon `critmin serve` answers on a
fresh data folder.

Targets: a lookup of data already computed <= 1 s whole process; the first command on a
fresh install <= 3 s; the server answering within 2 s of its start.

Usage: python benchmarks/interactive.py --code DIR LABEL [--runs 5]
    DIR: the ``src`` folder whose critmin is measured (put first on PYTHONPATH);
    LABEL: ``before`` or ``after``. Writes benchmarks/results/interactive.json, keeping the
    other label's results beside this one.

Reads are counted in-process (the command run through the CLI's own entry point, under a
counting patch): calls of ``Store.table``, whole-table reads (a query selecting every row
of a stored table), reads of cache files, flow aggregations, and cube rows computed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _timing import RESULTS, run_timed, save

COMMANDS: dict[str, list[str]] = {
    "profile India": ["profile", "India", "--json"],
    "mineral lithium": ["mineral", "lithium", "--json"],
    "risk IND lithium": ["risk", "-c", "IND", "-m", "lithium", "--json"],
    "restrict CHN rare earths refined 2024": ["restrict", "--supplier", "CHN", "-m",
                                              "rare-earths", "--stage", "refined", "-y", "2024",
                                              "--json"],
}
TARGETS = {"lookup_of_computed_data_s": 1.0, "first_command_fresh_install_s": 3.0,
           "serve_first_answer_s": 2.0}
WHOLE_TABLE = re.compile(r"^\s*SELECT \* FROM (\w+)\s*$")


def count(args: list[str]) -> None:
    """Run one command in this process under counting patches; print the counts as JSON."""
    import contextlib
    import io

    from critmin import cli
    from critmin.metrics import cube
    from critmin.store import db, engine

    counts: dict[str, Any] = {"table_calls": 0, "whole_table_reads": 0, "tables_read": {},
                              "cache_reads": 0, "flow_aggregations": 0,
                              "cube_rows_computed": 0}

    def wrap(owner: Any, name: str, before: Any = None, after: Any = None) -> None:
        original = getattr(owner, name)

        def counted(*a: Any, **k: Any) -> Any:
            if before is not None:
                before(*a, **k)
            out = original(*a, **k)
            if after is not None:
                after(out)
            return out

        setattr(owner, name, counted)

    def on_table(_self: Any, name: str, *_a: Any, **_k: Any) -> None:
        counts["table_calls"] += 1

    def on_arrow(_self: Any, sql: str, *_a: Any, **_k: Any) -> None:
        found = WHOLE_TABLE.match(sql)
        if found:
            counts["whole_table_reads"] += 1
            read = counts["tables_read"]
            read[found.group(1)] = read.get(found.group(1), 0) + 1

    def on_cache(*_a: Any, **_k: Any) -> None:
        counts["cache_reads"] += 1

    def on_aggregate(*_a: Any, **_k: Any) -> None:
        counts["flow_aggregations"] += 1

    def on_cube(frame: Any) -> None:
        counts["cube_rows_computed"] += len(frame)

    wrap(db.Store, "table", before=on_table)
    wrap(db.Store, "arrow", before=on_arrow)
    wrap(db.Store, "read_parquet", before=on_cache)
    wrap(engine.DuckDBEngine, "aggregate", before=on_aggregate)
    wrap(cube, "compute_cube", after=on_cube)
    with contextlib.redirect_stdout(io.StringIO()):
        cli.app(args, standalone_mode=False)
    print(json.dumps(counts))


def timed(runs: int, cmd: list[str], env: dict[str, str], before: Any = None
          ) -> dict[str, Any]:
    """Median wall and CPU seconds (user + system, the process and its children) and peak
    memory of ``runs`` runs; CPU time depends less on what else the machine runs."""
    import resource
    import statistics

    walls, cpus, mems = [], [], []
    for _ in range(runs):
        if callable(before):
            before()
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, mem, _out = run_timed(cmd, env)
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(wall)
        cpus.append(now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime)
        mems.append(mem)
    return {"runs": runs, "wall_s_median": round(statistics.median(walls), 3),
            "wall_s_all": [round(w, 3) for w in walls],
            "cpu_s_median": round(statistics.median(cpus), 3),
            "peak_mb_median": round(statistics.median(mems), 1)}


def counted(python: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([python, __file__, "--count", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"counting {' '.join(args)} failed: {proc.stderr[-800:]}")
    found: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


def serve(python: str, env: dict[str, str]) -> dict[str, Any]:
    """Seconds from launching `critmin serve` on a fresh data folder to its first answer (the
    dashboard's page), to its status, what a profile gets meanwhile, and to its first
    profile."""
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    home = tempfile.mkdtemp(prefix="critmin-bench-")

    def get(path: str) -> tuple[int, dict[str, str]]:
        try:
            with urllib.request.urlopen(base + path, timeout=60) as r:
                return r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers)

    started = time.perf_counter()
    proc = subprocess.Popen([python, "-m", "critmin", "serve", "--port", str(port)],
                            env={**os.environ, **env, "CRITMIN_HOME": home},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, Any] = {}
    try:
        while "first_answer_s" not in out:
            try:
                get("/")
                out["first_answer_s"] = round(time.perf_counter() - started, 2)
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
            if time.perf_counter() - started > 300:
                raise RuntimeError("the server did not answer within 300 s")
        status, _ = get("/api/v1/status")
        out["status_s"] = round(time.perf_counter() - started, 2)
        status, headers = get("/api/v1/profile/IND")
        out["profile_meanwhile"] = {"status": status,
                                    "retry_after": headers.get("retry-after")}
        while status != 200 and time.perf_counter() - started < 300:
            time.sleep(0.25)
            status, headers = get("/api/v1/profile/IND")
        out["first_profile_s"] = round(time.perf_counter() - started, 2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    return out


def measure(code: Path, runs: int) -> dict[str, Any]:
    python = sys.executable
    env = {"PYTHONPATH": str(code), "COLUMNS": "200", "NO_COLOR": "1"}
    out: dict[str, Any] = {"code": str(code)}
    for name, args in COMMANDS.items():
        cmd = [python, "-m", "critmin", *args]
        home = tempfile.mkdtemp(prefix="critmin-bench-")

        def fresh(home: str = home) -> None:
            shutil.rmtree(home, ignore_errors=True)
            os.mkdir(home)

        with_home = {**env, "CRITMIN_HOME": home}
        cold = timed(runs, cmd, with_home, before=fresh)
        fresh()
        reads_cold = counted(python, args, with_home)
        reads_warm = counted(python, args, with_home)
        warm = timed(runs, cmd, with_home)
        out[name] = {"cold": cold, "warm": warm, "reads_cold": reads_cold,
                     "reads_warm": reads_warm}
        shutil.rmtree(home, ignore_errors=True)
        print(f"{name}: cold {cold['wall_s_median']} s ({cold['cpu_s_median']} s CPU), "
              f"warm {warm['wall_s_median']} s ({warm['cpu_s_median']} s CPU), "
              f"whole-table reads {reads_cold['whole_table_reads']} / "
              f"{reads_warm['whole_table_reads']}", file=sys.stderr)
    out["serve"] = serve(python, env)
    print(f"serve: {out['serve']}", file=sys.stderr)
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--count":
        count(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("label", choices=["before", "after"])
    ap.add_argument("--code", type=Path, required=True, help="src folder to measure")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    path = RESULTS / "interactive.json"
    result: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    result[args.label] = measure(args.code.resolve(), args.runs)
    result["targets"] = TARGETS
    if "before" in result and "after" in result:
        result["comparison"] = {
            name: {f"{kind}_{measure}_s": [result["before"][name][kind].get(f"{measure}_s_median"),
                                           result["after"][name][kind].get(f"{measure}_s_median")]
                   for kind in ("cold", "warm") for measure in ("wall", "cpu")}
            | {f"whole_table_reads_{kind}": [
                result["before"][name][f"reads_{kind}"]["whole_table_reads"],
                result["after"][name][f"reads_{kind}"]["whole_table_reads"]]
               for kind in ("cold", "warm")}
            for name in COMMANDS}
        result["comparison"]["serve"] = {
            key: [result["before"].get("serve", {}).get(key), result["after"]["serve"][key]]
            for key in result["after"].get("serve", {})}
    save("interactive", {k: result[k] for k in ("before", "after", "comparison", "targets")
                         if k in result})


if __name__ == "__main__":
    main()
