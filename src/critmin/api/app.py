"""The REST API and the dashboard, one FastAPI application over the Python API.

Every error, whatever its cause, is answered in one shape::

    {"error": {"code": ..., "message": ..., "details": {...}, "suggestions": [...]}}

with 404 for unknown names, 422 for invalid parameters, 413 for an oversized request and
5xx for the server's own failures; no answer names a folder of this machine. Every answer
says which data its numbers come from: the ``X-Critmin-Data`` header holds that data's
fingerprint. Results that do not change while the data does not are cached in memory
(:data:`CACHE_BYTES` at most), keyed by the fingerprint of the store they were computed on.

Reports, downloads and Monte Carlo or frontier computations are answered a few at a time,
in worker processes (downloads: threads) of their own (:mod:`critmin.api.guard`), so that
they never hold up the cheap requests; the host names answered, the token and cross-site
refusals are there too.

``critmin serve`` answers as soon as it starts: it computes the metrics cube's cache in a
background process, serving meanwhile what needs no cube (reference tables, status) and
answering the rest 503 ``computing`` with a ``Retry-After`` header.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

from fastapi import FastAPI, Query, Request
from fastapi import Path as ApiPath
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from critmin import __version__
from critmin.api.guard import Guard, Slots
from critmin.api.models import (
    Body,
    CompareBody,
    ErrorBody,
    OptimiseBody,
    PactBody,
    RestrictBody,
    RunSavedBody,
    SupplyAtRiskBody,
)
from critmin.errors import Ambiguous, Busy, CritminError, DataError, InvalidInput, NotFound

log = logging.getLogger("critmin.api")

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
MAX_BODY = 64 * 1024
"""Largest request body accepted, in bytes."""
CACHE_BYTES = 64 * 2**20
"""Bytes of responses kept in memory (least recently used dropped first)."""
ENTRY_BYTES = 4 * 2**20
"""Largest response kept in memory; larger ones are computed on every request."""
DATA_HEADER = "x-critmin-data"
"""The response header naming the data an answer comes from (its fingerprint)."""
ATTEMPTS = 3
"""Times an answer is computed again when the data changes while it is computed."""
CHUNK = 256 * 1024
"""Bytes of a file download sent at a time."""
PAGE_MAX = 10_000
"""Most rows one JSON page holds; larger results stream as a file format."""

STATUS = {NotFound: 404, Ambiguous: 422, DataError: 503, Busy: 503}
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
              413: "too_large", 415: "unsupported_media_type", 422: "invalid_input"}
MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson",
         "parquet": "application/vnd.apache.parquet"}
RETRY_AFTER_S = 5
"""Seconds a client is asked to wait while the cube's cache is computed."""
NEEDS_NO_CUBE = frozenset({"/api/v1/ready", "/api/v1/status", "/api/v1/countries",
                           "/api/v1/minerals", "/api/v1/agreements", "/api/v1/events",
                           "/api/v1/projects", "/api/v1/saved-scenarios"})
"""API paths answered from the reference tables alone, also while the cube is computed."""


def error(status: int, code: str, message: str, details: dict[str, Any] | None = None,
          suggestions: list[str] | None = None) -> JSONResponse:
    """The one error shape (folders of this machine named relative to the data home)."""
    body = {"error": {"code": code, "message": message, "details": details or {},
                      "suggestions": suggestions or []}}
    return JSONResponse(_relative(body), status_code=status)


ABSOLUTE = re.compile(
    r"""(?<![\w.:/~])(?:[A-Za-z]:\\|/(?:home|Users|root|tmp|var|usr|opt|mnt|media|srv|run|"""
    r"""private|nix|etc|work|data)/)(?:[^\s'"/\\]+[/\\])*([^\s'"/\\]+)""")
"""An absolute path of a file (POSIX or Windows) in a text; its last part is kept. API paths
(``/api/v1/…``) and units (``t/yr``) are not file paths."""


def _folders() -> list[tuple[str, str]]:
    from critmin.store import paths

    named = [(paths.imports_dir(), "imports"), (paths.cache_dir(), "cache"),
             (paths.user_dir(), ""), (paths.snapshot_dir(), "snapshot"),
             (Path(tempfile.gettempdir()), "tmp"), (Path(__file__).parent.parent, "critmin"),
             (Path.home(), "~")]
    return [(str(folder), name) for folder, name in named if str(folder) not in ("", os.sep)]


def _relative(value: Any, folders: list[tuple[str, str]] | None = None) -> Any:
    """``value`` (text, or lists and dicts of it) with the folders of this machine named
    relative to the data home (``imports/manifest.json``, ``snapshot/…``) and any other
    absolute path cut to its last part: answers never reveal where things are.

    >>> _relative("cannot read /home/ann/notes/x.parquet: truncated")
    'cannot read x.parquet: truncated'
    """
    folders = _folders() if folders is None else folders
    if isinstance(value, str):
        for folder, name in folders:
            value = value.replace(folder + os.sep, f"{name}/" if name else "")
            value = value.replace(folder, name or "the data home")
        return ABSOLUTE.sub(r"\1", value)
    if isinstance(value, dict):
        return {k: _relative(v, folders) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative(v, folders) for v in value]
    return value


class TooLarge(HTTPException):
    """A request body larger than :data:`MAX_BODY`. An HTTPException, because FastAPI passes
    those on while it reads a body and answers any other exception with a 400."""

    def __init__(self) -> None:
        super().__init__(413, f"request body over {MAX_BODY:,} bytes")


class BodyLimit:
    """Refuses request bodies over :data:`MAX_BODY`, declared or streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await error(413, "too_large", f"request body over {MAX_BODY:,} bytes")(
                scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise TooLarge
            return message

        await self.app(scope, limited, send)


class Static(StaticFiles):
    """The dashboard's files; the vendored libraries may be kept by the browser for a day
    (they change only with a new release of critmin), so that it does not fetch and compile
    plotly.js again on every visit."""

    def file_response(self, full_path: Any, stat_result: Any, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if "/vendor/" in str(full_path).replace("\\", "/"):
            response.headers["cache-control"] = "public, max-age=86400"
        return response


FILL_CUBE_CACHE = ("from critmin import cache; from critmin.store import get_store; "
                   "cache.cached_file(get_store(), 'cube')")
"""What the background process runs: the whole cube cache of the current data."""


class CubeCache:
    """The metrics cube's cache (cube, stages, partners), computed in a background process
    when the application starts, unless it is there already: the server keeps both its
    responsiveness (another core, no shared interpreter lock) and a clean shutdown (the
    process is ended with it). ``building`` is true only while that process runs: an
    application that started none (or whose build failed, e.g. on a read-only disk)
    computes what each request needs, as the Python API does."""

    def __init__(self) -> None:
        self._starting: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.failed: str | None = None

    @property
    def building(self) -> bool:
        """Whether the background build is running (or being started)."""
        if self._starting is not None and self._starting.is_alive():
            return True
        if self._process is None:
            return False
        code = self._process.poll()
        if code is None:
            return True
        if code != 0 and self.failed is None:
            self.failed = f"computing the cube's cache ended with exit code {code}"
            log.warning("%s; requests compute what they need instead", self.failed)
        return False

    def start(self) -> None:
        """Start computing the cache in the background (nothing when it is there); returns
        at once (whether it is there is known after reading the data's fingerprint)."""
        self._starting = threading.Thread(target=self._start, name="critmin-cube-cache",
                                          daemon=True)
        self._starting.start()

    def _start(self) -> None:
        from critmin import cache, compute
        from critmin.store import get_store

        try:
            store = get_store()
            if all(cache.cache_path(store, name, "default").exists()
                   for name in compute.OUTPUTS["default"]):
                return
        except CritminError as exc:  # damaged data: every request says so itself
            self.failed = str(exc)
            return
        self._process = subprocess.Popen([sys.executable, "-c", FILL_CUBE_CACHE],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        """End the background build, if it runs (its files are written only when whole)."""
        if self._starting is not None:
            self._starting.join()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def computing() -> JSONResponse:
    """The answer to a request that needs the cube while its cache is computed."""
    response = error(503, "computing",
                     "the metrics are being computed (the server has just started); retry "
                     f"in {RETRY_AFTER_S} s", {"retry_after_s": RETRY_AFTER_S})
    response.headers["retry-after"] = str(RETRY_AFTER_S)
    return response


class CubeGate:
    """Answers API requests that need the cube with :func:`computing` while the cube's
    cache is computed in the background, instead of computing it once more per request."""

    def __init__(self, app: ASGIApp, cube: CubeCache) -> None:
        self.app = app
        self.cube = cube

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if (path.startswith("/api/v1/") and path.rstrip("/") not in NEEDS_NO_CUBE
                and self.cube.building):
            await computing()(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    return value


T = TypeVar("T")
_SERVED: ContextVar[dict[str, str] | None] = ContextVar("critmin_served", default=None)
"""The fingerprint of the data the current request's answer comes from, once known."""


def declare(version: str) -> None:
    """Say that the current request's answer comes from the data of fingerprint ``version``
    (the ``X-Critmin-Data`` header of its response)."""
    served = _SERVED.get()
    if served is not None:
        served["version"] = version


def _current_version() -> str | None:
    from critmin.store import get_store

    try:
        return get_store().fingerprint
    except (CritminError, OSError):  # damaged data: the answer says so itself
        return None


class DataVersion:
    """Adds the ``X-Critmin-Data`` header to every answer: the fingerprint a route declared
    (:func:`declare`, the data it computed on), else the current data's (answers computed
    from no data: reference pages, errors before any computation)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        served: dict[str, str] = {}
        token = _SERVED.set(served)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                version = served.get("version") or _current_version()
                if version is not None:
                    message = {**message, "headers": [*message.get("headers", ()),
                                                      (DATA_HEADER.encode(), version.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            _SERVED.reset(token)


async def on_one_store(work: Callable[[], T],
                       run: Callable[[Callable[[], T]], Awaitable[T]] = run_in_threadpool,
                       discard: Callable[[T], None] | None = None) -> tuple[T, str]:
    """``work()`` (run by ``run``, in a worker thread) and the fingerprint of the data it
    computed on, declared for the response: the store is taken when the work starts and
    must still be the current one when it ends, else the work is done again (the data
    changed meanwhile, so the result may mix two versions; ``discard`` drops it). A store
    of newer data is a new object, also when a reset brings back older data."""
    from critmin.store import get_store

    for _ in range(ATTEMPTS):
        store = get_store()
        version = store.fingerprint
        try:
            result = await run(work)
        except Exception:
            if get_store() is store:
                declare(version)
                raise
            continue
        if get_store() is store:
            declare(version)
            return result, version
        if discard is not None:
            discard(result)
    raise Busy(f"the data changed while the answer was computed, {ATTEMPTS} times over "
               f"(imports under way); retry in {RETRY_AFTER_S} s",
               details={"retry_after_s": RETRY_AFTER_S})


def serialised(build: Callable[..., Any], *args: Any) -> bytes:
    """``build(*args)`` as the JSON of a response."""
    return json.dumps(_clean(build(*args)), ensure_ascii=False,
                      separators=(",", ":")).encode()


def on_one_store_here(work: Callable[..., T], args: tuple[Any, ...]) -> tuple[T, str]:
    """:func:`on_one_store` in the calling thread (in a worker process): ``work(*args)`` and
    the fingerprint of the one version of the data it computed on."""
    from critmin.store import get_store

    for _ in range(ATTEMPTS):
        store = get_store()
        version = store.fingerprint
        try:
            result = work(*args)
        except Exception:
            if get_store() is store:
                raise
            continue
        if get_store() is store:
            return result, version
    raise Busy(f"the data changed while the answer was computed, {ATTEMPTS} times over "
               f"(imports under way); retry in {RETRY_AFTER_S} s",
               details={"retry_after_s": RETRY_AFTER_S})


class Cache:
    """Serialised responses by (data fingerprint, request), at most ``limit`` bytes in all
    and ``entry_limit`` bytes each; thread-safe LRU."""

    def __init__(self, limit: int = CACHE_BYTES, entry_limit: int = ENTRY_BYTES) -> None:
        self.limit = limit
        self.entry_limit = entry_limit
        self.bytes = 0
        self.items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self.lock = threading.Lock()

    async def json(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Response:
        """The cached answer to ``key``, or ``build()``'s, computed in a worker thread: a
        cache hit never leaves the event loop. Cached under the fingerprint of the data it
        was computed on."""
        hit = self._hit(key)
        if hit is not None:
            return hit
        built, version = await on_one_store(lambda: serialised(build))
        self.put((version, *key), built)
        return Response(built, media_type="application/json")

    async def computed(self, key: tuple[Any, ...], slots: Slots,
                       build: Callable[..., Any], *args: Any) -> Response:
        """As :meth:`json`, for an expensive ``build(*args)`` (a module-level function and
        arguments that pickle): computed in a worker process of ``slots``, or 503 when every
        slot is taken."""
        hit = self._hit(key)
        if hit is not None:
            return hit
        async with slots.held():
            built, version = await slots.run(on_one_store_here, serialised,
                                             (build, *args))
        declare(version)
        self.put((version, *key), built)
        return Response(built, media_type="application/json")

    def _hit(self, key: tuple[Any, ...]) -> Response | None:
        from critmin.store import get_store

        version = get_store().fingerprint
        body = self.get((version, *key))
        if body is None:
            return None
        declare(version)
        return Response(body, media_type="application/json")

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        """The cached response of ``key``, or None."""
        with self.lock:
            body = self.items.get(key)
            if body is not None:
                self.items.move_to_end(key)
            return body

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        """Keep ``body`` under ``key`` unless it is larger than an entry may be; drop the
        least recently used responses beyond the limit."""
        if len(body) > self.entry_limit:
            return
        with self.lock:
            old = self.items.pop(key, None)
            self.bytes += len(body) - (len(old) if old is not None else 0)
            self.items[key] = body
            while self.bytes > self.limit:
                _, dropped = self.items.popitem(last=False)
                self.bytes -= len(dropped)


def _rows(frame: Any) -> dict[str, Any]:
    from critmin.present import records

    return {"rows": records(frame), "total": len(frame),
            "units": frame.attrs.get("units", {})}


def create_app(build_cache: bool = False, hosts: Iterable[str] = (),
               token: str | None = None) -> FastAPI:
    """The application: ``/api/v1`` (OpenAPI at ``/openapi.json``, docs at ``/docs``) and the
    dashboard at ``/``. With ``build_cache`` (``critmin serve``), it computes the metrics
    cube's cache in the background when it starts, answering at once.

    Parameters
    ----------
    build_cache
        Compute the metrics cube's cache in the background when the application starts.
    hosts
        Host names answered besides localhost, 127.0.0.1 and [::1] (``*``: any).
    token
        The token every request must carry (see :class:`critmin.api.guard.Guard`).

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> client = TestClient(create_app(), base_url="http://localhost")
    >>> client.get("/api/v1/countries").json()["total"] > 200
    True
    >>> client.get("/api/v1/profile/Inida").json()["error"]["suggestions"]
    ['India (IND)']
    """
    errors: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorBody, "description": text} for status, text in (
            (404, "An unknown country, mineral, event, agreement, saved scenario or path"),
            (413, "A request body over 64 KiB"),
            (422, "An invalid parameter or body, or an ambiguous name"),
            (500, "A defect"),
            (503, "The data is damaged, an import holds the store, the metrics are being "
                  "computed after the server started (code computing), or as many expensive "
                  "requests as the server computes at once are under way (code overloaded); "
                  "with Retry-After"))}
    cube = CubeCache()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if build_cache:
            cube.start()
        yield
        cube.stop()
        for kind in slots.values():
            kind.close()

    app = FastAPI(
        title="critmin", version=__version__, docs_url=None, redoc_url=None, responses=errors,
        lifespan=lifespan,
        description="Critical-mineral supply chains: production and trade concentration, "
                    "import dependence, GeoPolRisk, what-if scenarios and sourcing, on real "
                    "data. Every error has the shape "
                    '{"error": {"code", "message", "details", "suggestions"}}.')
    cache = Cache()
    slots = {"compute": Slots("compute", 2, "reports, Monte Carlo runs, frontiers or saved "
                                            "scenario runs", processes=True),
             "download": Slots("download", 2, "file downloads")}
    app.state.cache = cache
    app.state.cube = cube
    app.state.slots = slots
    _errors(app)
    _reference_routes(app, cache)
    _profile_routes(app, cache, slots["download"])
    _scenario_routes(app, cache, slots["compute"])
    _saved_routes(app, cache, slots["compute"])
    _page_routes(app, cache, slots["compute"])

    @app.get("/api/v1/ready", tags=["reference"],
             summary="Whether every route answers at once (503 while the cube is computed)")
    async def ready() -> Response:
        if cube.building:
            return computing()
        return JSONResponse({"ready": True, "cube_cache_failed": cube.failed})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="critmin API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", Static(directory=STATIC), name="static")
    # outside the exception handlers: a TooLarge raised while a route reads the body
    # propagates through them and gets the error shape; the guard outermost, so that a
    # refused request costs nothing
    app.add_middleware(CubeGate, cube=cube)
    app.add_middleware(BodyLimit)
    app.add_middleware(DataVersion)
    app.add_middleware(Guard, hosts=tuple(hosts), token=token)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(CritminError)
    async def critmin_error(request: Request, exc: CritminError) -> JSONResponse:
        status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 422)
        response = error(status, exc.code, exc.message, exc.details, exc.suggestions)
        if "retry_after_s" in exc.details:
            response.headers["retry-after"] = str(exc.details["retry_after_s"])
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg"),
                     "type": e.get("type")} for e in exc.errors()]
        first = problems[0] if problems else {"where": "request", "problem": "invalid"}
        given = exc.errors()[0].get("input") if problems else None
        shown = (f" (got {given!r})" if isinstance(given, int | float | str)
                 and len(repr(given)) <= 60 else "")
        return error(422, "invalid_input", f"{first['where']}: {first['problem']}{shown}",
                     {"errors": problems})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 400:  # a body FastAPI cannot decode: invalid input like any other
            status = 422
        code = HTTP_CODES.get(status, "http_error")
        message = str(exc.detail) if status != 404 else (
            f"no such path {request.url.path!r}; the API is under /api/v1 (see /docs)")
        return error(status, code, message)

    @app.exception_handler(TooLarge)
    async def too_large(request: Request, exc: TooLarge) -> JSONResponse:
        return error(413, "too_large", f"request body over {MAX_BODY:,} bytes")

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s", request.url.path)
        return error(500, "internal_error", "internal error; the server log has the details")


Repeat = Annotated[list[str] | None, Query(max_length=300)]
Year = Annotated[int | None, Query(ge=1950, le=2100, description="Latest complete if omitted.")]
Years = Annotated[list[str] | None, Query(
    max_length=100, description="Years: 2023, 2019-2024, 2019:2024, 2019,2021,2023 or a mix; "
    "repeatable. All (risk) or the latest complete year (compare) if omitted.")]


def _years(values: list[str] | None) -> list[int] | None:
    """The years of a ``year`` parameter (each value a year, a range or a list), checked
    against the data."""
    if not values:
        return None
    from critmin.store import get_store
    from critmin.years import parse_years

    return parse_years(values, get_store())


def _listed(values: list[str]) -> list[str]:
    """Repeated or comma-separated names; a group named inline (``Quad=USA,JPN``) is one."""
    return [part.strip() for value in values
            for part in ([value] if "=" in value else value.split(",")) if part.strip()]


def _pivoted(country: list[str] | None, mineral: list[str] | None, years: list[int] | None,
             by: str, measure: str) -> dict[str, Any]:
    """Risk rows pivoted (:func:`critmin.views.pivot`), with their series breaks."""
    from critmin import query
    from critmin.series import with_breaks
    from critmin.store import get_store
    from critmin.views import pivot

    if not country and not mineral:  # the whole cube wide is not one answer: page it instead
        raise InvalidInput("pivot needs a country or a mineral; without either, page the rows")
    frame = query.risk(country, mineral, years)
    if frame["year"].nunique() > 1:
        frame = with_breaks(frame, get_store())
    wide = pivot(frame, by, measure)
    return {**_rows(wide), "pivot": {k: wide.attrs["pivot"][k] for k in ("by", "measure")},
            "breaks": [{"row": r, "column": c, "break": t} for r, c, t in wide.attrs["breaks"]]}


def _reference_routes(app: FastAPI, cache: Cache) -> None:
    @app.get("/api/v1/status", tags=["reference"], summary="The data critmin serves",
             description="`fingerprint` is the data's version, as in the `X-Critmin-Data` "
                         "header of every answer; `snapshot` says whether the bundled data "
                         "or another build ($CRITMIN_SNAPSHOT) is served, `user_data` names "
                         "the imports' folder in the data home.")
    async def status() -> Response:
        from critmin.query import status as data_status
        from critmin.store import paths

        def make() -> Any:
            info = data_status()
            bundled = paths.snapshot_dir() == Path(paths.__file__).resolve().parent.parent / "data"
            return _relative({**info, "snapshot": "bundled" if bundled else "CRITMIN_SNAPSHOT",
                              "user_data": "imports"})

        return await cache.json(("status",), make)

    @app.get("/api/v1/countries", tags=["reference"], summary="Every country critmin knows")
    async def countries() -> Response:
        from critmin.query import countries as table

        return await cache.json(("countries",), lambda: _rows(table()))

    @app.get("/api/v1/minerals", tags=["reference"], summary="Minerals, optionally on one list")
    async def minerals(list_id: Annotated[str | None, Query(alias="list", max_length=80)] = None
                 ) -> Response:
        from critmin.query import minerals as table

        return await cache.json(("minerals", list_id), lambda: _rows(table(list_id)))

    @app.get("/api/v1/agreements", tags=["reference"], summary="Critical-mineral agreements")
    async def agreements() -> Response:
        from critmin.whatif.registries import agreements as table

        return await cache.json(("agreements",), lambda: _rows(table()))

    @app.get("/api/v1/events", tags=["reference"], summary="Documented export controls")
    async def events() -> Response:
        from critmin.whatif.registries import events as table

        return await cache.json(("events",), lambda: _rows(table()))

    @app.get("/api/v1/projects", tags=["reference"],
             summary="Documented capacity projects, to run with /api/v1/domestic")
    async def projects() -> Response:
        from critmin.whatif.capacity import projects as table

        return await cache.json(("projects",), lambda: _rows(table()))


def _profile_routes(app: FastAPI, cache: Cache, downloads: Slots) -> None:
    @app.get("/api/v1/profile/{country}", tags=["profiles"],
             summary="A country's minerals: dependence, suppliers, risk")
    async def profile(country: Annotated[str, ApiPath(max_length=80)], year: Year = None,
                top: Annotated[int, Query(ge=1, le=50)] = 3,
                sort: Literal["risk", "reliance", "china", "value", "name"] = "risk",
                format: Literal["json", "csv", "xlsx"] = "json") -> Response:
        from critmin.profiles import profile as build

        if format != "json":
            def download() -> tuple[Path, str]:
                p = build(country, year, top=top, sort=sort)
                return _download(f"critmin-{p.country}-{p.year}.{format}", p.minerals,
                                 p.sheets(), p.notes)

            return await _file(downloads, download)

        def make() -> Any:
            p = build(country, year, top=top, sort=sort)
            return {**p.to_dict(), "year_note": p.year_note}

        return await cache.json(("profile", country, year, top, sort), make)

    @app.get("/api/v1/mineral/{mineral}", tags=["profiles"],
             summary="A mineral: producers, concentration, exporters, flows")
    async def mineral(mineral: Annotated[str, ApiPath(max_length=80)], year: Year = None,
                top: Annotated[int, Query(ge=1, le=500)] = 15,
                format: Literal["json", "csv", "xlsx"] = "json") -> Response:
        from critmin.profiles import mineral as build

        if format != "json":
            def download() -> tuple[Path, str]:
                m = build(mineral, year, top=top)
                return _download(f"critmin-{m.mineral}-{m.year}.{format}", m.producers,
                                 m.sheets(), m.notes)

            return await _file(downloads, download)

        def make() -> Any:
            m = build(mineral, year, top=top)
            return {**m.to_dict(), "year_note": m.year_note}

        return await cache.json(("mineral", mineral, year, top), make)

    @app.get("/api/v1/risk", tags=["profiles"],
             summary="Rows of the metrics cube, paged or streamed",
             description="Filters repeat (country=IND&country=CHN). `format=json` gives one "
                         "page (limit, offset, total, next); csv, jsonl and parquet stream "
                         "every matching row in the same order.")
    async def risk(country: Repeat = None, mineral: Repeat = None,
             year: Years = None,
             limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 1000,
             offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
             format: Literal["json", "csv", "jsonl", "parquet"] = "json",
             pivot: Annotated[Literal["year", "country", "mineral"] | None,
                              Query(description="One column per year, country or mineral "
                                    "holding `measure` (JSON only).")] = None,
             measure: Annotated[str, Query(min_length=1, max_length=60)] = "china_share"
             ) -> Response:
        from critmin import query

        years = _years(year)
        if pivot is not None:
            return await cache.json(("risk-pivot", tuple(country or ()), tuple(mineral or ()),
                                     tuple(years or ()), pivot, measure),
                                    lambda: _pivoted(country, mineral, years, pivot, measure))
        if format != "json":
            def stream() -> tuple[Path, str]:
                folder = Path(tempfile.mkdtemp(prefix="critmin-api-"))
                try:
                    query.risk_file(folder / f"risk.{format}", format, country, mineral, years)
                except BaseException:
                    _remove(folder)
                    raise
                return folder / f"risk.{format}", MEDIA[format]

            return await _file(downloads, stream)

        def make() -> Any:
            rows, total = query.risk_page(country, mineral, years, limit, offset)
            page = _rows(rows)
            following = offset + limit if offset + limit < total else None
            return {**page, "total": total, "limit": limit, "offset": offset,
                    "next": following}

        return await cache.json(("risk", tuple(country or ()), tuple(mineral or ()),
                           tuple(years or ()), limit, offset), make)

    @app.get("/api/v1/compare", tags=["profiles"],
             summary="Groups side by side: China's share, reliance and top supplier",
             description="Groups and minerals comma-separated or repeated (groups=G7,BRICS-CHN;"
                         " a group named inline, Quad=USA,JPN,IND,AUS, is one value). A group "
                         "is one importer: trade between its members left out.")
    async def compare(groups: Annotated[list[str], Query(min_length=1, max_length=20)],
                      minerals: Annotated[list[str], Query(min_length=1, max_length=100)],
                      year: Years = None) -> Response:
        from critmin.compare import compare as build

        named, wanted, years = _listed(groups), _listed(minerals), _years(year)

        def make() -> Any:
            wide = build(named, wanted, years)
            long = wide.attrs["long"]
            return {**_rows(wide), "groups": wide.attrs["groups"], "long": _rows(long)}

        return await cache.json(("compare", tuple(named), tuple(wanted), tuple(years or ())),
                                make)

    @app.get("/api/v1/suppliers", tags=["sourcing"],
             summary="Who could supply an importer, ranked by supply independent of China")
    async def suppliers(importer: Annotated[str, Query(min_length=1, max_length=80)],
                  mineral: Annotated[str, Query(min_length=1, max_length=80)],
                  year: Year = None, stage: Annotated[str | None, Query(max_length=20)] = None,
                  redirectable: Annotated[float, Query(ge=0, le=1)] = 0.1) -> Response:
        from critmin.sourcing import suppliers as build

        return await cache.json(("suppliers", importer, mineral, year, stage, redirectable),
                          lambda: _rows(build(importer, mineral, year, stage, redirectable)))

    @app.get("/api/v1/companies", tags=["profiles"],
             summary="Companies whose purchase records are imported")
    async def companies() -> Response:
        from critmin.company_view import companies as names

        return await cache.json(("companies",), lambda: {"companies": names()})

    @app.get("/api/v1/company/{name}", tags=["profiles"],
             summary="A company's supply from its imported purchase records",
             description="Per material: supplier mix and HHI, China's share (direct and "
                         "traced), GeoPolRisk (default and geopolrisk-py's company method), "
                         "export controls in force; with `restrict` (repeatable), the loss "
                         "the company inherits from its supplier countries.")
    async def company(name: Annotated[str, ApiPath(min_length=1, max_length=120)],
                      year: Annotated[int | None, Query(
                          ge=1950, le=2100, description="One year; every year if omitted.")
                      ] = None,
                      restrict: Repeat = None,
                      cut: Annotated[float, Query(ge=0, le=1)] = 1.0) -> Response:
        from critmin.company_view import company as build

        return await cache.json(
            ("company", name, year, tuple(restrict or ()), cut),
            lambda: build(name, year, restrict=restrict or None, cut=cut).to_dict())


def _with_figure(result: Any, figure: Callable[[Any], Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = result.to_dict()
    if hasattr(result, "summary"):
        out["summary"] = result.summary()
    if figure is not None:
        from critmin.figures import as_json

        out["figure"] = as_json(figure(result))
    return out


Figures = Annotated[bool, Query(description="Also the result's plotly figure.")]


def _scenario_routes(app: FastAPI, cache: Cache, compute: Slots) -> None:
    # the figures (pandas, plotly) are imported by the first request, not when the server
    # starts
    @app.post("/api/v1/scenarios/restrict", tags=["scenarios"],
              summary="An export restriction, first order and cascading")
    async def restrict(body: RestrictBody, figures: Figures = False) -> Response:
        from critmin import figures as fig
        from critmin.pages import names
        from critmin.whatif.restrictions import restrict as run

        def make() -> Any:
            result = run(**body.model_dump())
            return _with_figure(result, (lambda r: fig.restriction_map(r, names()))
                                if figures else None)

        return await cache.json(("restrict", body.model_dump_json(), figures), make)

    @app.post("/api/v1/scenarios/pact", tags=["scenarios"],
              summary="A bilateral agreement: before and after, and whether it is feasible")
    async def pact(body: PactBody, figures: Figures = False) -> Response:
        from critmin import figures as fig
        from critmin.whatif.pacts import pact as run

        def make() -> Any:
            return _with_figure(run(**body.model_dump()), fig.pact_figure if figures else None)

        return await cache.json(("pact", body.model_dump_json(), figures), make)

    @app.get("/api/v1/domestic", tags=["scenarios"],
             summary="New domestic output at a stage: before and after, and the feed it needs",
             description="`critmin.domestic`: new output (`capacity` tonnes a year on the "
                         "mineral's basis, or a documented `project`) replaces the country's "
                         "imports at the stage; its imports, reliance, China's share and "
                         "exposure to a restriction before and after, and the feed one stage "
                         "up with where it could come from.")
    async def domestic(country: Annotated[str, Query(min_length=1, max_length=80)],
                       mineral: Annotated[str, Query(min_length=1, max_length=80)],
                       stage: Annotated[str | None, Query(max_length=20)] = None,
                       capacity: Annotated[float | None, Query(ge=0, le=1e9)] = None,
                       project: Annotated[str | None, Query(max_length=80)] = None,
                       start: Annotated[int | None, Query(ge=1900, le=2200)] = None,
                       ramp: Annotated[int | None, Query(ge=0, le=50)] = None,
                       year: Year = None, against: Repeat = None,
                       against_cut: Annotated[float, Query(ge=0, le=1)] = 1.0,
                       displace: Annotated[str, Query(max_length=20)] = "pro-rata",
                       cascade: bool = True) -> Response:
        from critmin.whatif.domestic import domestic as run

        params: dict[str, Any] = {"country": country, "mineral": mineral, "stage": stage,
                  "capacity": capacity, "project": project, "start": start, "ramp": ramp,
                  "year": year, "against": against or "CHN", "against_cut": against_cut,
                  "displace": displace, "cascade": cascade}
        return await cache.json(("domestic", json.dumps(params, sort_keys=True)),
                                lambda: _with_figure(run(**params), None))

    @app.post("/api/v1/scenarios/supply-at-risk", tags=["scenarios"],
              summary="Monte Carlo supply-at-risk per importer")
    async def supply_at_risk(body: SupplyAtRiskBody, figures: Figures = False) -> Response:
        return await cache.computed(("supply-at-risk", body.model_dump_json(), figures),
                                    compute, _supply_at_risk, body.model_dump(), figures)

    @app.post("/api/v1/optimise", tags=["sourcing"],
              summary="The sourcing mix that minimises risk, concentration and cost")
    async def optimise(body: OptimiseBody, figures: Figures = False) -> Response:
        key = ("optimise", body.model_dump_json(), figures)
        args = (body.model_dump(exclude={"frontier_points"}), body.frontier_points, figures)
        if body.frontier_points:
            return await cache.computed(key, compute, _optimised, *args)
        return await cache.json(key, lambda: _optimised(*args))


def _supply_at_risk(params: dict[str, Any], figures: bool) -> dict[str, Any]:
    from critmin import figures as fig
    from critmin.whatif.at_risk import supply_at_risk as run

    return _with_figure(run(**params), fig.supply_at_risk_figure if figures else None)


def _optimised(params: dict[str, Any], frontier_points: int | None, figures: bool
               ) -> dict[str, Any]:
    from critmin import figures as fig
    from critmin.pages import names
    from critmin.sourcing import frontier
    from critmin.sourcing import optimise as run

    result = run(**params)
    out = _with_figure(result, (lambda r: fig.portfolio_figure(r, names())) if figures else None)
    if frontier_points and result.shortfall_t <= 0:  # a shortfall's answer is its best mix
        line = frontier(**{k: v for k, v in params.items() if k != "weights"},
                        points=frontier_points)
        out["frontier"] = line.to_dict()
        if figures:
            out["frontier_figure"] = fig.as_json(fig.frontier_figure(line))
    return out


SCENARIO_BODIES: dict[str, type[Body]] = {
    "restrict": RestrictBody, "pact": PactBody, "supply-at-risk": SupplyAtRiskBody}
"""The body of each kind's endpoint, whose limits a saved scenario's parameters keep too."""


def _is_list(annotation: Any) -> bool:
    return annotation is list or get_origin(annotation) is list or any(
        _is_list(a) for a in get_args(annotation))


def _within_limits(scenario: Any, where: tuple[str | int, ...]) -> None:
    """Refuses a saved scenario whose parameters the kind's endpoint would refuse (e.g. more
    Monte Carlo draws than a request may ask for), with the errors of an invalid body."""
    model = SCENARIO_BODIES.get(scenario.kind)
    if model is None:  # a kind served by query parameters: its function checks them
        return
    fields = model.model_fields
    # a function taking a list also takes one name, as the scenario file may hold it
    given = {k: [v] if isinstance(v, str) and _is_list(fields[k].annotation) else v
             for k, v in scenario.params.items() if k in fields}
    try:
        model.model_validate(given)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": (*where, "params", *e["loc"])} for e in exc.errors()]) from None


def _saved(items: list[str | dict[str, Any]], where: tuple[str, ...],
           indexed: bool = True) -> list[Any]:
    """The scenarios of a request (names or files' contents), loaded and checked; names
    given more than once are told apart by their position. ``where`` is the items' place in
    the request (with each item's position when ``indexed``)."""
    from critmin.whatif.saved import named_scenario, scenario_from_dict

    loaded = []
    for i, item in enumerate(items):
        at: tuple[str | int, ...] = (*where, i) if indexed else where
        try:
            if isinstance(item, str):
                scenario = named_scenario(item)
            else:
                name = item.get("name")
                scenario = scenario_from_dict(
                    item, name.strip() if isinstance(name, str) and name.strip()
                    else f"scenario {i + 1}")
        except CritminError as exc:
            exc.details = {**exc.details, "where": ".".join(map(str, at))}
            raise
        _within_limits(scenario, at)
        loaded.append(scenario)
    names = [s.name for s in loaded]
    for i, scenario in enumerate(loaded):
        if names.count(scenario.name) > 1:
            scenario.name = f"{scenario.name} ({i + 1})"
    return loaded


def _saved_list() -> list[dict[str, Any]]:
    from critmin.whatif.saved import EXAMPLES, describe, load_scenario, scenario_files

    rows: list[dict[str, Any]] = []
    for name, path in scenario_files().items():
        row: dict[str, Any] = {"name": name,
                               "source": "bundled" if path.parent == EXAMPLES else "folder"}
        try:
            s = load_scenario(path)
        except CritminError as exc:  # one damaged file does not hide the others
            rows.append({**row, "error": exc.message})
            continue
        rows.append({**row, "kind": s.kind, "title": describe(s),
                     "mineral": s.params.get("mineral"), "year": s.params.get("year"),
                     "stage": s.params.get("stage"), "data_fingerprint": s.fingerprint,
                     "critmin_version": s.version, "notes": s.notes, "error": None,
                     "content": s.to_dict()})
    return rows


def _saved_routes(app: FastAPI, cache: Cache, compute: Slots) -> None:
    @app.get("/api/v1/saved-scenarios", tags=["saved scenarios"],
             summary="The saved scenarios offered by name",
             description="The scenario files shipped with critmin (the India-Russia set) and "
                         "those of the folder named by $CRITMIN_SCENARIOS, each with its "
                         "content; a file that cannot be read is listed with its error.")
    async def saved_list() -> Response:
        rows = await run_in_threadpool(_saved_list)
        return JSONResponse(_clean({"rows": rows, "total": len(rows)}))

    @app.post("/api/v1/saved-scenarios/run", tags=["saved scenarios"],
              summary="Run one saved scenario, by name or content")
    async def saved_run(body: RunSavedBody, figures: Figures = False) -> Response:
        [scenario] = await run_in_threadpool(_saved, [body.scenario], ("body", "scenario"),
                                             False)
        key = ("saved-run", json.dumps([scenario.name, scenario.to_dict()], sort_keys=True),
               figures)
        if scenario.kind == "supply-at-risk":
            return await cache.computed(key, compute, _saved_run, scenario, figures)
        return await cache.json(key, lambda: _saved_run(scenario, figures))

    @app.post("/api/v1/saved-scenarios/compare", tags=["saved scenarios"],
              summary="Saved scenarios side by side",
              description="`rows` is the table of `critmin scenario compare` (one row per "
                          "scenario and country, `critmin.compare_scenarios`); `outcomes` "
                          "has one row per scenario for one country: loss share and tonnes, "
                          "feasibility and delivery of an agreement, the data fingerprint "
                          "and critmin version each was saved on, and notes.")
    async def saved_compare(body: CompareBody, figures: Figures = False) -> Response:
        scenarios = await run_in_threadpool(_saved, body.scenarios, ("body", "scenarios"))
        key = json.dumps([[s.name, s.to_dict()] for s in scenarios], sort_keys=True)
        return await cache.computed(("saved-compare", key, body.country, figures), compute,
                                    _saved_compare, scenarios, body.country, figures)


def _saved_run(scenario: Any, figures: bool) -> dict[str, Any]:
    from critmin import figures as fig
    from critmin.pages import names
    from critmin.whatif.saved import describe, run

    draw: dict[str, Callable[[Any], Any]] = {
        "restrict": lambda r: fig.restriction_map(r, names()),
        "pact": fig.pact_figure, "supply-at-risk": fig.supply_at_risk_figure}
    done = run(scenario)
    out = {**done.to_dict(), "title": describe(scenario), "summary": done.summary()}
    if figures and scenario.kind in draw:
        out["figure"] = fig.as_json(draw[scenario.kind](done.result))
    return out


def _saved_compare(scenarios: list[Any], country: str | None, figures: bool
                   ) -> dict[str, Any]:
    from critmin.figures import as_json, scenario_outcomes_figure
    from critmin.store import get_store
    from critmin.whatif.saved import compared, outcomes, run

    runs = [run(s) for s in scenarios]
    table = compared(runs)
    view = outcomes(runs, country)
    out = {**_rows(table), "notes": table.attrs["notes"],
           "country": str(view["country"].iloc[0]), "outcomes": _rows(view),
           "data_fingerprint": get_store().fingerprint, "critmin_version": __version__}
    if figures:
        out["figure"] = as_json(scenario_outcomes_figure(view))
    return out


def _page_routes(app: FastAPI, cache: Cache, compute: Slots) -> None:
    @app.get("/api/v1/figures/world", tags=["figures"],
             summary="The world map of a metric for a mineral, year and stage")
    async def world(mineral: Annotated[str, Query(min_length=1, max_length=80)],
              metric: Annotated[str, Query(max_length=40)] = "china_share",
              year: Year = None, stage: Annotated[str | None, Query(max_length=20)] = None
              ) -> Response:
        from critmin.pages import world_page

        return await cache.json(("world", mineral, metric, year, stage),
                          lambda: world_page(mineral, metric, year, stage).to_dict())

    @app.get("/api/v1/figures/country/{country}", tags=["figures"],
             summary="A country's dashboard page: figures, tables and notes")
    async def country(country: Annotated[str, ApiPath(max_length=80)], year: Year = None) -> Response:
        from critmin.pages import country_page

        return await cache.json(("country-page", country, year),
                          lambda: country_page(country, year).to_dict())

    @app.get("/api/v1/findings/{country}", tags=["figures"],
             summary="A country's key findings, in sentences generated from the numbers")
    async def findings(country: Annotated[str, ApiPath(max_length=80)], year: Year = None
                       ) -> Response:
        """The briefing pack's findings (``critmin brief``): the most dependent minerals of
        the country's own list, China's share and its trend, alternative suppliers and what
        documented agreements would change, with the minerals they are about."""
        from critmin.brief import build

        def compute_findings() -> dict[str, Any]:
            b = build(country, year=year)
            return {"country": b.country, "name": b.name, "year": b.year,
                    "minerals": b.minerals, "selection": b.selection, "findings": b.findings}

        return await cache.json(("findings", country, year), compute_findings)

    @app.get("/api/v1/brief/{country}", tags=["figures"],
             summary="A country's briefing pack as a file: PDF (printed by headless "
                     "Chromium), standalone HTML or an Excel workbook",
             responses={200: {"content": {media: {} for media in BRIEF_MEDIA.values()}}})
    async def country_brief(country: Annotated[str, ApiPath(max_length=80)], year: Year = None,
                            mineral: Repeat = None, format: BriefFormat = "pdf") -> Response:
        """``critmin brief COUNTRY``: the findings, charts, tables, caveats and sources of the
        minerals that matter (or those of ``mineral``, repeatable), offered as
        ``<country>-<year>-brief.<format>``."""
        return await _brief_file(cache, compute,
                                 ("country", country, mineral, year, format, None, 1.0))

    @app.get("/api/v1/company/{name}/brief", tags=["figures"],
             summary="A company's briefing pack as a file: PDF, HTML or an Excel workbook",
             responses={200: {"content": {media: {} for media in BRIEF_MEDIA.values()}}})
    async def company_brief(name: Annotated[str, ApiPath(min_length=1, max_length=120)],
                            year: Year = None, mineral: Repeat = None,
                            format: BriefFormat = "pdf", restrict: Repeat = None,
                            cut: Annotated[float, Query(ge=0, le=1)] = 1.0) -> Response:
        """``critmin brief --company NAME``: the brief of a company's imported purchase
        records (the latest year with records if ``year`` is omitted), offered as
        ``<company>-<year>-brief.<format>``; with ``restrict``, the loss the company would
        inherit if those countries withheld ``cut`` of their exports."""
        return await _brief_file(cache, compute,
                                 ("company", name, mineral, year, format, restrict, cut))

    @app.get("/api/v1/figures/mineral/{mineral}", tags=["figures"],
             summary="A mineral's dashboard page: figures, tables and notes")
    async def mineral(mineral: Annotated[str, ApiPath(max_length=80)], year: Year = None) -> Response:
        from critmin.pages import mineral_page

        return await cache.json(("mineral-page", mineral, year),
                          lambda: mineral_page(mineral, year).to_dict())

    @app.get("/api/v1/report/{subject}", tags=["figures"],
             summary="A country's or mineral's standalone HTML report",
             response_class=HTMLResponse)
    async def report(subject: Annotated[str, ApiPath(max_length=80)], year: Year = None
                     ) -> Response:
        from critmin.reports import report_html

        async with compute.held():
            html, version = await compute.run(on_one_store_here, report_html, (subject, year))
        declare(version)
        return Response(html, media_type="text/html")

    @app.get("/api/v1/chart/{kind}", tags=["figures"],
             summary="One of the dashboard's charts as an image (PNG or SVG, drawn by "
                     "headless Chromium) or a standalone HTML file",
             responses={200: {"content": {"image/png": {}, "image/svg+xml": {},
                                          "text/html": {}}}})
    async def chart(kind: Annotated[str, ApiPath(max_length=40)],
                    subject: Annotated[str, Query(min_length=1, max_length=80, description="The country (dependence, suppliers, trend) or the mineral (producers, concentration, map, sankey).")],
                    mineral: Repeat = None,
                    metric: Annotated[str | None, Query(max_length=40)] = None,
                    year: Year = None,
                    format: Annotated[Literal["png", "svg", "html"], Query()] = "png",
                    width: Annotated[int | None, Query(ge=200, le=4000)] = None,
                    height: Annotated[int | None, Query(ge=200, le=4000)] = None) -> Response:
        from critmin.charts import check_kind

        check_kind(kind)
        if format != "html":
            from critmin.browser import find_browser

            find_browser()
        async with compute.held():
            body, version = await compute.run(
                on_one_store_here, _chart,
                (kind, subject, mineral, year, metric, format, width, height))
        declare(version)
        return Response(body, media_type=CHART_MEDIA[format])


CHART_MEDIA = {"png": "image/png", "svg": "image/svg+xml", "html": "text/html"}
BRIEF_MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BriefFormat = Annotated[Literal["pdf", "html", "xlsx"], Query(
    description="pdf (needs headless Chromium on the server), html or xlsx.")]


async def _brief_file(cache: Cache, compute: Slots,
                      asked: tuple[str, str, list[str] | None, int | None, str,
                                   list[str] | None, float]) -> Response:
    """A briefing pack's file (``asked``: kind, name, minerals, year, format and, for a
    company, the restricting countries and their cut), built in a compute slot and cached
    with its file name under the data it was built on."""
    from critmin.store import get_store

    kind, name, minerals, year, fmt, restrict, cut = asked
    key = ("brief", kind, name, tuple(minerals or ()), year, fmt, tuple(restrict or ()), cut)
    version = get_store().fingerprint
    packed = cache.get((version, *key))
    if packed is None:
        if fmt == "pdf":
            from critmin.browser import find_browser

            find_browser()
        async with compute.held():
            (file, body), version = await compute.run(
                on_one_store_here, _brief, (kind, name, minerals, year, fmt, restrict, cut))
        # the file name is ASCII without NUL (brief.file_name): it heads the cached bytes
        packed = file.encode() + b"\0" + body
        cache.put((version, *key), packed)
    declare(version)
    file, _, body = packed.partition(b"\0")
    return Response(body, media_type=BRIEF_MEDIA[fmt], headers={
        "content-disposition": f'attachment; filename="{file.decode()}"'})


def _brief(kind: str, name: str, minerals: list[str] | None, year: int | None, fmt: str,
           restrict: list[str] | None = None, cut: float = 1.0) -> tuple[str, bytes]:
    """A country's or company's brief as its file name and bytes, written in a temporary
    folder of its own that is removed before returning."""
    from critmin import brief

    b = (brief.build(name, minerals, year) if kind == "country"
         else brief.build_company(name, minerals, year, restrict or None, cut))
    folder = Path(tempfile.mkdtemp(prefix="critmin-brief-"))
    try:
        out = brief.save(b, folder / brief.file_name(b, fmt))[0]
        return out.name, out.read_bytes()
    finally:
        _remove(folder)


def _chart(kind: str, subject: str, minerals: list[str] | None, year: int | None,
           metric: str | None, fmt: str, width: int | None, height: int | None) -> bytes:
    """A chart's file as bytes (:func:`critmin.charts.render`)."""
    from critmin.charts import chart, render

    fig = chart(kind, subject, minerals, year, metric, width=width or 1000)
    return render(fig, fmt, width, height)


def _download(name: str, frame: Any, sheets: dict[str, Any], notes: list[str]
              ) -> tuple[Path, str]:
    """A table as a file to download (CSV of the main table, or every sheet in Excel), in a
    temporary folder of its own, and its media type."""
    from critmin.present import write

    folder = Path(tempfile.mkdtemp(prefix="critmin-api-"))
    try:
        dest = write(folder / name, frame, sheets=sheets, notes=notes)
    except BaseException:
        _remove(folder)
        raise
    return dest, MEDIA.get(dest.suffix[1:], "application/vnd.openxmlformats-officedocument."
                                            "spreadsheetml.sheet")


async def _file(downloads: Slots, write: Callable[[], tuple[Path, str]]) -> Response:
    """The file ``write()`` writes into a temporary folder of its own, streamed: written in
    a download slot, on one version of the data; the folder is removed as soon as the file is
    open (on POSIX; else once it is sent or the client leaves), so that no download leaves
    anything behind and at most one file per download slot exists at a time."""
    async with downloads.held():
        (dest, media), _ = await on_one_store(write, downloads.run,
                                              discard=lambda done: _remove(done[0].parent))
    handle = dest.open("rb")
    size = os.fstat(handle.fileno()).st_size
    _remove(dest.parent)

    def chunks() -> Iterator[bytes]:
        try:
            while block := handle.read(CHUNK):
                yield block
        finally:
            handle.close()
            _remove(dest.parent)

    return StreamingResponse(iterate_in_threadpool(chunks()), media_type=media, headers={
        "content-disposition": f'attachment; filename="{dest.name}"',
        "content-length": str(size)})


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
