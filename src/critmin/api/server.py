"""``critmin serve``'s HTTP server: uvicorn on a socket bound before anything is computed,
with bounds on what a client may send.

uvicorn's h11 protocol is used (not httptools), because it bounds a request's head
(:data:`HEAD_MAX` bytes, so a 64 MB header line or 100,000 header lines are refused after
the first 16 KiB); :class:`Protocol` adds what uvicorn lacks: a deadline for a request to
arrive whole (:data:`READ_TIMEOUT_S`, against clients that send half a request and wait) and
the one JSON error shape for malformed requests.
"""

from __future__ import annotations

import contextlib
import errno
import json
import socket
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from critmin.errors import InvalidInput

HEAD_MAX = 16 * 1024
"""Most bytes of a request's line and headers."""
READ_TIMEOUT_S = 10.0
"""Seconds a request may take to arrive whole, from its first byte (or the connection)."""
KEEP_ALIVE_S = 5
"""Seconds an idle connection is kept open between requests."""
MAX_CONNECTIONS = 256
"""Open connections and requests beyond which uvicorn answers 503 (plain text) at once."""
BACKLOG = 128
"""Connections the system queues before the server accepts them."""


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server to this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def is_wildcard(host: str) -> bool:
    """Whether ``host`` means every address of this machine."""
    return host.strip("[]") in ("0.0.0.0", "::", "")


def bind(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, or :class:`InvalidInput` naming why not (a port
    that is taken above all): checked before the application is built."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise InvalidInput(f"--host {host!r}: not an address of this machine ({exc.strerror})"
                           ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InvalidInput(f"port {port} on {host} is taken (another server, perhaps "
                               "another critmin serve, listens there)",
                               suggestions=[f"--port {port + 1}"]) from None
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def own_addresses() -> list[str]:
    """This machine's names and addresses other machines may reach it by (best effort)."""
    found: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # sends nothing: picks the outgoing interface
        found.append(probe.getsockname()[0])
    name = socket.gethostname()
    with contextlib.suppress(OSError):
        found += [str(info[4][0]) for info in socket.getaddrinfo(name, None, socket.AF_INET)]
    found.append(name)
    return [a for i, a in enumerate(found) if a not in found[:i] and not is_loopback(a)]


def addresses(host: str, port: int) -> list[str]:
    """The addresses to open the server at, as a browser takes them."""
    if is_loopback(host):
        return [f"http://localhost:{port}/"]
    if is_wildcard(host):
        others = own_addresses() or ["<this machine's address>"]
        return [f"http://{a}:{port}/" for a in others] + [f"http://localhost:{port}/"]
    return [f"http://{f'[{host}]' if ':' in host else host}:{port}/"]


def _raw(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message, "details": {},
                                 "suggestions": []}}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode() + body


class Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request to arrive whole, and
    malformed requests answered in the one error shape."""

    _deadline: Any = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(READ_TIMEOUT_S, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
            self.transport.write(_raw(408, "Request Timeout", "timeout",
                                      "the request did not arrive whole within "
                                      f"{READ_TIMEOUT_S:g} s"))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._disarm()
        if len(self.conn.trailing_data[0]) > HEAD_MAX:
            raw = _raw(431, "Request Header Fields Too Large", "too_large",
                       f"request line and headers over {HEAD_MAX // 1024} KiB")
        else:
            raw = _raw(400, "Bad Request", "bad_request", "malformed HTTP request")
        self.transport.write(raw)
        self.transport.close()


def run(app: Any, sock: socket.socket) -> None:
    """Serve ``app`` on the bound ``sock`` until Ctrl-C."""
    import uvicorn

    config = uvicorn.Config(app, http=Protocol, log_level="warning", lifespan="on",
                            h11_max_incomplete_event_size=HEAD_MAX,
                            timeout_keep_alive=KEEP_ALIVE_S,
                            limit_concurrency=MAX_CONNECTIONS, backlog=BACKLOG,
                            server_header=False, proxy_headers=False)
    uvicorn.Server(config).run(sockets=[sock])
