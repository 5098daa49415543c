"""The REST server keeps to its user and says which data it serves (on the tiny fixture
snapshot): host names, cross-site requests, the token, HEAD, admission of expensive
requests, the response cache's bounds, the data version of every answer, no local folder in
any answer; and, on a live server, the bounds on what a client may send and a taken port."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import critmin
from critmin.api import create_app, server
from critmin.api.app import DATA_HEADER, Cache
from critmin.store import get_store, paths

pytestmark = pytest.mark.usefixtures("tiny_store")

CLI = [sys.executable, "-c", "from critmin.cli import main; main()"]
RISK = "/api/v1/risk?country=IND&mineral=lithium&year=2022"
ERROR_KEYS = {"code", "message", "details", "suggestions"}


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="http://localhost") as c:
        yield c


def baci_file(folder: Path, rows: int) -> Path:
    """A BACI file of 2022 whose India lithium imports grow with ``rows``."""
    partners = [36, 156, 276, 392, 410, 643, 842]
    lines = ["t,i,j,k,v,q"] + [f"2022,{partners[n % 7]},699,283691,{10 + n},{1 + n}"
                               for n in range(rows)]
    path = folder / f"baci_2022_{rows}.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "NO_COLOR": "1"})


# -- host names, cross-site requests, token --------------------------------------------------

@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:1234", "[::1]:80",
                                  "LOCALHOST."])
def test_loopback_host_names_are_answered(host: str) -> None:
    with TestClient(create_app(), base_url=f"http://{host}") as c:
        assert c.get("/api/v1/countries").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example",
                                  "testserver"])
def test_other_host_names_are_refused(host: str) -> None:
    with TestClient(create_app(), base_url=f"http://{host}") as c:
        err = refused(c.get("/api/v1/countries"), 421, "unknown_host")
        assert err["details"]["host"] == host
        refused(c.get("/"), 421, "unknown_host")


def test_allowed_host_names_are_answered() -> None:
    app = create_app(hosts=["critmin.lan"])
    with TestClient(app, base_url="http://critmin.lan:9000") as c:
        assert c.get("/api/v1/countries").status_code == 200
    with TestClient(create_app(hosts=["*"]), base_url="http://anything.example") as c:
        assert c.get("/api/v1/countries").status_code == 200


def test_cross_site_requests_are_refused(client: TestClient) -> None:
    refused(client.get("/api/v1/report/IND", headers={"sec-fetch-site": "cross-site"}),
            403, "cross_site")
    refused(client.get("/api/v1/countries", headers={"sec-fetch-site": "same-site"}),
            403, "cross_site")
    refused(client.post("/api/v1/scenarios/pact", json={},
                        headers={"origin": "https://evil.example"}), 403, "cross_site")
    # the dashboard's own requests, and a link to it followed from elsewhere, are answered
    assert client.get("/api/v1/countries", headers={
        "sec-fetch-site": "same-origin", "origin": "http://localhost:8000"}).status_code == 200
    assert client.get("/", headers={"sec-fetch-site": "cross-site",
                                    "sec-fetch-mode": "navigate"}).status_code == 200


def test_token_is_required_when_set() -> None:
    with TestClient(create_app(token="s3cret"), base_url="http://localhost") as c:
        err = refused(c.get("/api/v1/countries"), 401, "unauthorized")
        assert "Bearer" in err["message"]
        refused(c.get("/api/v1/countries", headers={"authorization": "Bearer wrong"}),
                401, "unauthorized")
        refused(c.get("/api/v1/countries?token=wrong"), 401, "unauthorized")
        assert c.get("/api/v1/countries",
                     headers={"authorization": "Bearer s3cret"}).status_code == 200
        shown = c.get("/?token=s3cret")
        assert shown.status_code == 200
        cookie = shown.headers["set-cookie"]
        assert "critmin_token=s3cret" in cookie and "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        # the browser sends the cookie from then on
        assert c.get("/api/v1/countries").status_code == 200


# -- HEAD, admission ---------------------------------------------------------------------------

def test_head_answers_every_get_route(client: TestClient) -> None:
    for path in ("/api/v1/countries", "/api/v1/profile/IND", "/", "/api/v1/status"):
        full = client.get(path)
        head = client.head(path)
        assert head.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-length"] == full.headers["content-length"]
        assert head.headers[DATA_HEADER] == full.headers[DATA_HEADER]
    missing = client.head("/api/v1/profile/Nowhere")
    assert missing.status_code == 404 and missing.content == b""


def test_expensive_requests_beyond_their_slots_get_503(client: TestClient) -> None:
    compute = client.app.state.slots["compute"]  # type: ignore[attr-defined]
    downloads = client.app.state.slots["download"]  # type: ignore[attr-defined]
    assert compute.take() and compute.take() and not compute.take()
    assert downloads.take() and downloads.take()
    try:
        for response in (
                client.get("/api/v1/report/IND"),
                client.post("/api/v1/scenarios/supply-at-risk",
                            json={"mineral": "lithium", "year": 2022, "draws": 100})):
            err = refused(response, 503, "overloaded")
            assert response.headers["retry-after"] == str(err["details"]["retry_after_s"])
        err = refused(client.get("/api/v1/risk?country=IND&format=jsonl"), 503, "overloaded")
        assert err["details"]["kind"] == "download"
        # cheap requests are answered meanwhile
        assert client.get("/api/v1/profile/IND").status_code == 200
        assert client.get(RISK).status_code == 200
    finally:
        for _ in range(2):
            compute.give()
            downloads.give()
    assert client.get("/api/v1/report/IND").status_code == 200
    assert client.get("/api/v1/risk?country=IND&format=jsonl").status_code == 200
    assert compute.taken == 0 and downloads.taken == 0


def test_downloads_leave_no_file_behind(client: TestClient, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for path in ("/api/v1/risk?country=IND&format=csv", "/api/v1/profile/IND?format=xlsx"):
        response = client.get(path)
        assert response.status_code == 200 and response.content
    assert list(tmp_path.iterdir()) == []


# -- the response cache ------------------------------------------------------------------------

def test_cache_is_bounded_by_bytes() -> None:
    cache = Cache(limit=100, entry_limit=60)
    for n in range(10):
        cache.put(("k", n), b"x" * 30)
        assert cache.bytes <= 100
    assert list(cache.items) == [("k", 7), ("k", 8), ("k", 9)]
    assert cache.bytes == 90
    cache.put(("big",), b"x" * 61)  # above one entry's limit: not kept, nothing dropped
    assert ("big",) not in cache.items and cache.bytes == 90
    cache.put(("k", 9), b"x" * 10)  # replaced: its old size no longer counts
    assert cache.bytes == 70


def test_cache_keys_answers_by_the_data_they_come_from() -> None:
    cache = Cache(limit=10_000, entry_limit=1_000)
    calls = []

    def build() -> dict:
        calls.append(1)
        return {"n": len(calls)}

    async def twice() -> tuple[bytes, bytes]:
        first = await cache.json(("k",), build)
        again = await cache.json(("k",), build)
        return bytes(first.body), bytes(again.body)

    assert asyncio.run(twice()) == (b'{"n":1}', b'{"n":1}')
    assert list(cache.items) == [(get_store().fingerprint, "k")]


# -- the data version --------------------------------------------------------------------------

def test_every_answer_names_its_data(client: TestClient, tmp_path: Path) -> None:
    before = get_store().fingerprint
    status = client.get("/api/v1/status")
    assert status.headers[DATA_HEADER] == status.json()["fingerprint"] == before
    for response in (client.get(RISK), client.get("/api/v1/profile/Nowhere"),
                     client.get("/api/v1/nothing-here"), client.get("/")):
        assert response.headers[DATA_HEADER] == before
    imports_before = client.get(RISK).json()["rows"][0]["imports_t"]
    critmin.import_baci(baci_file(tmp_path, 5))
    after = get_store().fingerprint
    assert after != before
    status = client.get("/api/v1/status")
    assert status.headers[DATA_HEADER] == status.json()["fingerprint"] == after
    risk = client.get(RISK)
    assert risk.headers[DATA_HEADER] == after
    assert risk.json()["rows"][0]["imports_t"] == 15.0 != imports_before


def test_an_answer_computed_while_the_data_changes_is_computed_again(tmp_path: Path) -> None:
    """An import, then a reset, lands while an answer is computed: the answer is computed
    again on the new data, and sent and cached under the new data's fingerprint (never the
    old figure under the new name, nor the new figure under the old name)."""
    app = create_app()
    changes = {"import": lambda: critmin.import_baci(baci_file(tmp_path, 5)),
               "reset": critmin.reset_imports}
    calls: list[str] = []

    @app.get("/test/{change}")
    async def changing(change: str) -> object:
        def build() -> dict:
            value = float(critmin.risk("IND", "lithium", 2022).iloc[0]["imports_t"])
            if change not in calls:  # the data changes after this build has read it
                calls.append(change)
                changes[change]()
            return {"imports_t": value}

        return await app.state.cache.json((change,), build)

    original = get_store().fingerprint
    with TestClient(app, base_url="http://localhost") as c:
        imported = c.get("/test/import")
        assert imported.json() == {"imports_t": 15.0}
        assert imported.headers[DATA_HEADER] == get_store().fingerprint != original
        reset = c.get("/test/reset")
        assert reset.json() == {"imports_t": 110.0}
        assert reset.headers[DATA_HEADER] == get_store().fingerprint == original
        assert c.get("/test/import").json() == {"imports_t": 110.0}  # on the data served now
    assert set(app.state.cache.items) == {(imported.headers[DATA_HEADER], "import"),
                                          (original, "reset"), (original, "import")}


def test_answers_name_no_local_folder(client: TestClient, tmp_path: Path) -> None:
    critmin.import_baci(baci_file(tmp_path, 3))
    text = client.get("/api/v1/status").text
    info = json.loads(text)
    assert info["snapshot"] == "CRITMIN_SNAPSHOT" and info["user_data"] == "imports"
    for folder in (paths.user_dir(), paths.snapshot_dir(), Path.home(), tmp_path):
        assert str(folder) not in text
    (paths.imports_dir() / "manifest.json").write_text("{not json")
    critmin.store.db.release_stores()
    response = client.get("/api/v1/status")
    err = refused(response, 503, "data_error")
    assert "imports/manifest.json" in err["message"]
    assert str(paths.user_dir()) not in response.text
    assert not re.search(r"(^|\s)/\w", err["message"]), err["message"]


# -- live servers ------------------------------------------------------------------------------

@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    """create_app() served by :func:`critmin.api.server.run`'s protocol on a bound loopback
    socket, in a thread; requests must arrive whole within a second."""
    import uvicorn

    monkeypatch.setattr(server, "READ_TIMEOUT_S", 1.0)
    sock = server.bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(
        create_app(), http=server.Protocol, log_level="warning",
        h11_max_incomplete_event_size=server.HEAD_MAX, timeout_keep_alive=1))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield "127.0.0.1", port
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()


def exchange(address: tuple[str, int], data: bytes, limit_s: float = 10) -> tuple[bytes, float]:
    """What the server answers to ``data`` sent raw, and how long it took to close."""
    start = time.monotonic()
    with socket.create_connection(address, timeout=limit_s) as conn:
        with contextlib.suppress(OSError):  # refused while sending: the answer is there
            conn.sendall(data)
        out = b""
        try:
            while block := conn.recv(65536):
                out += block
        except OSError:
            pass
    return out, time.monotonic() - start


def status_and_body(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_server_refuses_huge_heads_quickly(live: tuple[str, int]) -> None:
    request = b"GET /api/v1/status HTTP/1.1\r\nHost: localhost\r\n"
    for data in (request + b"X-Big: " + b"a" * (64 * 2**20) + b"\r\n\r\n",
                 request + b"X-A: b\r\n" * 100_000 + b"\r\n"):
        out, took = exchange(live, data)
        status, body = status_and_body(out)
        assert status == 431 and body["error"]["code"] == "too_large"
        assert took < 5
    out, _ = exchange(live, request + b"X-A: b\r\n" * 150 + b"Connection: close\r\n\r\n")
    assert status_and_body(out) == (431, {"error": {
        "code": "too_many_headers", "message": "a request may carry at most 100 header lines",
        "details": {}, "suggestions": []}})


def test_server_answers_malformed_requests_in_the_error_shape(live: tuple[str, int]) -> None:
    out, _ = exchange(live, b"NOT HTTP AT ALL\r\n\r\n")
    status, body = status_and_body(out)
    assert status == 400 and set(body["error"]) == ERROR_KEYS


def test_server_drops_half_sent_requests(live: tuple[str, int]) -> None:
    out, took = exchange(live, b"GET /api/v1/status HTTP/1.1\r\nHost: loc")
    status, body = status_and_body(out)
    assert status == 408 and body["error"]["code"] == "timeout"
    assert 0.9 < took < 5
    _, took = exchange(live, b"")  # a connection that sends nothing is closed too
    assert took < 5


def test_server_answers_head_and_names_its_data(live: tuple[str, int]) -> None:
    conn = http.client.HTTPConnection(*live, timeout=30)
    conn.request("HEAD", "/api/v1/countries")
    res = conn.getresponse()
    assert res.status == 200 and res.read() == b""
    assert res.getheader(DATA_HEADER) == get_store().fingerprint
    conn.close()


def test_imports_and_resets_under_concurrent_requests(tmp_path: Path,
                                                     live: tuple[str, int]) -> None:
    """Every answer's data header names the data its numbers come from, while other
    processes import and reset: the figure of each fingerprint is the one read between
    those writes."""
    expected = {get_store().fingerprint: critmin.risk("IND", "lithium", 2022)
                .iloc[0]["imports_t"]}
    seen: list[tuple[str, float]] = []
    failures: list[str] = []
    stop = threading.Event()

    def read() -> None:
        conn = http.client.HTTPConnection(*live, timeout=60)
        while not stop.is_set():
            for path in (RISK, "/api/v1/profile/IND?year=2022"):
                conn.request("GET", path)
                res = conn.getresponse()
                body = json.loads(res.read())
                if res.status != 200:
                    if body["error"]["code"] != "busy":
                        failures.append(f"{path}: {res.status} {body}")
                    continue
                value = (body["rows"][0]["imports_t"] if path == RISK else
                         next(m["imports_t"] for m in body["minerals"]
                              if m["mineral"] == "lithium"))
                seen.append((res.getheader(DATA_HEADER), value))
        conn.close()

    readers = [threading.Thread(target=read) for _ in range(4)]
    for r in readers:
        r.start()
    try:
        for rows in (2, 5, 3):
            assert cli("data", "import", "baci", str(baci_file(tmp_path, rows))).returncode == 0
            expected[get_store().fingerprint] = critmin.risk("IND", "lithium", 2022
                                                             ).iloc[0]["imports_t"]
            time.sleep(0.5)
        assert cli("data", "reset", "--yes").returncode == 0
        assert get_store().fingerprint in expected
        time.sleep(0.5)
    finally:
        stop.set()
        for r in readers:
            r.join()
    assert not failures, failures[:3]
    assert len({v for v in expected.values()}) == 4
    wrong = [(version, value) for version, value in seen if expected.get(version) != value]
    assert not wrong, wrong[:5]
    assert len({version for version, _ in seen}) >= 3


# -- critmin serve -----------------------------------------------------------------------------

def test_serve_refuses_a_taken_port(cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        start = time.monotonic()
        res = cli("serve", "--port", str(port))
    assert res.code == 2
    assert f"port {port} on 127.0.0.1 is taken" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert time.monotonic() - start < 60


def test_serve_needs_a_token_off_loopback(cli) -> None:
    res = cli("serve", "--host", "0.0.0.0", "--port", "1")
    assert res.code == 2
    assert "--token" in res.stderr and "--no-token" in res.stderr
