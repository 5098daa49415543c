"""What keeps the local server to its user: the names it answers to, the token, cross-site
requests, and how many expensive requests it answers at once.

A web page the user visits can make the browser send requests to ``localhost``: through a
name of its own that resolves to 127.0.0.1 (DNS rebinding, refused by the ``Host`` check),
or straight from the page (refused by the ``Origin`` and ``Sec-Fetch-Site`` checks). Each
refusal is answered in the one error shape.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from critmin.errors import Busy

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Host names every server answers to."""
MAX_HEADERS = 100
"""Most header lines one request may carry."""
TOKEN_COOKIE = "critmin_token"
"""The cookie that carries the token once a browser has shown it in ``?token=``."""
RETRY_BUSY_S = 5
"""Seconds a client is asked to wait when every slot of its kind is taken."""

T = TypeVar("T")


def refusal(status: int, code: str, message: str, details: dict[str, Any] | None = None
            ) -> JSONResponse:
    """The one error shape (as :func:`critmin.api.app.error`, without importing the app)."""
    return JSONResponse({"error": {"code": code, "message": message, "details": details or {},
                                   "suggestions": []}}, status_code=status)


def host_name(value: str) -> str:
    """The name of a ``Host`` header or ``--host`` value, without port or brackets, lower case.

    >>> host_name("LocalHost:8000"), host_name("[::1]:80"), host_name("::1")
    ('localhost', '::1', '::1')
    """
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return str(v)
    return None


class Guard:
    """Refuses requests to other host names (421), with too many headers (431), from other
    web sites (403) and, when a token is set, without it (401); answers ``HEAD`` on every
    ``GET`` route.

    Parameters
    ----------
    hosts
        Host names answered besides the loopback ones; ``*`` answers any.
    token
        When given, every request carries it: ``Authorization: Bearer TOKEN``, ``?token=TOKEN``
        (a browser then keeps it in a same-site cookie) or that cookie.
    """

    def __init__(self, app: ASGIApp, hosts: Iterable[str] = (), token: str | None = None
                 ) -> None:
        self.app = app
        names = [host_name(h) for h in hosts]
        self.hosts = None if "*" in names else frozenset((*LOOPBACK_HOSTS, *names))
        self.token = token.encode() if token else None

    def allowed(self, host: str | None) -> bool:
        """Whether requests naming ``host`` (a Host header or an Origin's host) are served."""
        return self.hosts is None or (host is not None and host_name(host) in self.hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self.refuse(scope)
        if refused is not None:
            await refused(scope, receive, send)
            return
        if self.token is not None and self._shown_in_query(scope):
            send = self._keep_cookie(send)
        if scope["method"] == "HEAD" and not scope["path"].startswith("/static/"):
            scope = {**scope, "method": "GET"}
            send = _without_body(send)
        await self.app(scope, receive, send)

    def refuse(self, scope: Scope) -> JSONResponse | None:
        """The refusal of a request, or None when it is served."""
        if len(scope.get("headers", ())) > MAX_HEADERS:
            return refusal(431, "too_many_headers",
                           f"a request may carry at most {MAX_HEADERS} header lines")
        host = _header(scope, b"host")
        if not self.allowed(host):
            return refusal(421, "unknown_host",
                           f"this server does not answer to the host name {host!r}; it "
                           "answers to localhost, 127.0.0.1 and [::1] and to the names given "
                           "by critmin serve --host and --allowed-host",
                           {"host": host})
        origin = _header(scope, b"origin")
        if origin is not None and origin != "null" and not self.allowed(urlsplit(origin).netloc):
            return refusal(403, "cross_site", f"requests from pages of {origin} are refused",
                           {"origin": origin})
        site = _header(scope, b"sec-fetch-site")
        navigation = (_header(scope, b"sec-fetch-mode") == "navigate"
                      and not scope["path"].startswith("/api/"))
        if site in ("cross-site", "same-site") and not navigation:
            return refusal(403, "cross_site",
                           "requests made by other web sites are refused (open the page "
                           "from critmin's own address instead)")
        if self.token is not None and not self._authorised(scope):
            response = refusal(401, "unauthorized",
                               "this server needs its token: send 'Authorization: Bearer "
                               "TOKEN' or add ?token=TOKEN to the address")
            response.headers["www-authenticate"] = 'Bearer realm="critmin"'
            return response
        return None

    def _given(self, value: str | None) -> bool:
        return (value is not None and self.token is not None
                and hmac.compare_digest(value.encode(), self.token))

    def _shown_in_query(self, scope: Scope) -> bool:
        query = scope.get("query_string", b"").decode("latin-1")
        return any(k == "token" and self._given(v) for k, v in parse_qsl(query))

    def _authorised(self, scope: Scope) -> bool:
        bearer = _header(scope, b"authorization") or ""
        scheme, _, value = bearer.partition(" ")
        return ((scheme.lower() == "bearer" and self._given(value.strip()))
                or self._given(_cookie(scope, TOKEN_COOKIE)) or self._shown_in_query(scope))

    def _keep_cookie(self, send: Send) -> Send:
        assert self.token is not None
        cookie = (f"{TOKEN_COOKIE}={self.token.decode()}; Path=/; HttpOnly; "
                  "SameSite=Strict").encode("latin-1")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()),
                                                  (b"set-cookie", cookie)]}
            await send(message)

        return sending


def _without_body(send: Send) -> Send:
    """``send`` for a HEAD request: the GET response's status and headers, no body."""
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return sending


class Overloaded(Busy):
    """Every slot of a kind of expensive request is taken; retry later."""

    code = "overloaded"


class Slots:
    """At most ``size`` requests of one kind computed at once, in worker threads of their
    own (a limiter apart from the one of the threads that answer cheap requests, which stay
    free) or, with ``processes``, in worker processes of their own, at a lower priority
    (they neither hold the interpreter lock of the server nor take a core from it); a
    request beyond them is answered 503 ``overloaded`` with ``Retry-After`` at once, rather
    than queued.

    >>> slots = Slots("report", 1, "reports")
    >>> slots.take(), slots.take()
    (True, False)
    """

    def __init__(self, kind: str, size: int, what: str, processes: bool = False) -> None:
        self.kind = kind
        self.size = size
        self.what = what
        self.processes = processes
        self.taken = 0
        self._lock = threading.Lock()
        self._limiter: Any = None
        self._pool: Any = None

    def take(self) -> bool:
        """Take a slot if one is free."""
        with self._lock:
            if self.taken >= self.size:
                return False
            self.taken += 1
            return True

    def give(self) -> None:
        """Give a slot back."""
        with self._lock:
            self.taken -= 1

    def full(self) -> Overloaded:
        """The error of a request that finds every slot taken."""
        return Overloaded(
            f"{self.size} {self.what} are being computed, as many as this server computes at "
            f"once; retry in {RETRY_BUSY_S} s",
            details={"retry_after_s": RETRY_BUSY_S, "kind": self.kind})

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """A slot for the time of the block, or :meth:`full` raised."""
        if not self.take():
            raise self.full()
        try:
            yield
        finally:
            self.give()

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in one of this kind's worker threads or processes (then ``work``
        and ``args`` pickle: a module-level function and plain values)."""
        import anyio.to_thread

        if not self.processes:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(self.size)
            return await anyio.to_thread.run_sync(work, *args, limiter=self._limiter)
        import asyncio
        from concurrent.futures.process import BrokenProcessPool

        pool = self._workers()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, work, *args)
        except BrokenProcessPool:  # a worker died (killed, out of memory): new ones next
            self.close()
            raise

    def _workers(self) -> Any:
        with self._lock:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                # spawned, not forked: the server holds threads and database connections
                self._pool = ProcessPoolExecutor(
                    self.size, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_lower_priority)
            return self._pool

    def close(self) -> None:
        """End the worker processes (a computation under way is abandoned)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


WORKER_NICE = 10
"""How much lower the worker processes' priority is than the server's."""


def _lower_priority() -> None:
    import contextlib
    import os

    with contextlib.suppress(AttributeError, OSError):  # not on every system
        os.nice(WORKER_NICE)
