"""The web app: a page to pick favourite movies and a JSON API over a loaded Recommender.

``create_app`` assembles it: the API's routes (``routes.py``), request bodies read strictly
(``body.py``), parameters (``params.py``), error answers (``errors.py``) and security headers
on every response (``headers.py``). The lifespan prepares what the routes answer from once, at
startup. Every response is JSON or a static file shipped in the package, so nothing is fetched
from another host at run time: the API docs at /docs are Swagger UI from the copy that
``fastapi-offline`` ships, with its online validator off (ReDoc is left out: its bundle loads a
logo from its makers' CDN).

>>> from movierec import load_dataset, Recommender
>>> app = create_app(Recommender.train(load_dataset("ml-latest-small")))  # doctest: +SKIP
>>> # uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._version import __version__
from ..errors import MovieRecError
from ..recommender import Recommender
from .body import MAX_BODY_BYTES, BodyLimit
from .errors import install_error_handlers, readable
from .guard import RateLimiter
from .headers import PAGE_POLICY, SecurityHeaders, docs_policy
from .profile_routes import ROUTERS as PROFILE_ROUTERS
from .profile_routes import Profiles
from .routes import ROUTERS, Served
from .schemas import MAX_LIKED, MAX_RESULTS

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEADER_BYTES",
    "SERVER_OPTIONS",
    "STATIC_DIR",
    "check_listen_address",
    "create_app",
    "readable",
]

STATIC_DIR = Path(__file__).parent / "static"
DB_VARIABLE = "MOVIEREC_PROFILES_DB"
"""The profile database ``create_app`` opens when given none: a SQLite path or a
``postgresql://`` URL; unset, ``profiles.db`` in movierec's cache folder."""
WRITE_BURST, WRITES_PER_SECOND = 60, 10.0
"""Each client's changes to profiles: 60 at once, then 10 a second (429 beyond)."""
WRITE_LIMIT_VARIABLE = "MOVIEREC_WRITE_LIMIT"
"""``BURST/PER_SECOND`` (e.g. ``60/10``) replaces those for ``movierec serve``: a load test
from one address needs far more than a person."""


def write_limit(text: str | None) -> tuple[int, float]:
    """``BURST/PER_SECOND`` → (burst, per second); None or empty → the defaults.

    >>> write_limit("120/20"), write_limit(None)
    ((120, 20.0), (60, 10.0))
    """
    if not text:
        return WRITE_BURST, WRITES_PER_SECOND
    burst, slash, rate = text.partition("/")
    try:
        limit = int(burst), float(rate)
    except ValueError:
        limit = (0, 0.0)
    if not slash or limit[0] < 1 or not 0 < limit[1] < float("inf"):
        raise MovieRecError(
            f"{WRITE_LIMIT_VARIABLE}={text[:40]!r} is not BURST/PER_SECOND (e.g. 60/10: 60 "
            "changes at once, then 10 a second, per client)"
        )
    return limit


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def check_listen_address(host: str, allow_remote: bool) -> None:
    """Refuse, in one line, to serve on an address other machines can reach unless
    ``allow_remote`` says so: profiles hold people's ratings, and their cookies are ``Secure``
    only over HTTPS (put a TLS proxy in front)."""
    loopback = host in LOOPBACK or host.startswith("127.")
    if not loopback and not allow_remote:
        raise MovieRecError(
            f"{host} can be reached from other machines; serve on 127.0.0.1, or pass "
            "--allow-remote (behind HTTPS) to serve profiles there"
        )


SWAGGER_DIR = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI, shipped offline
DESCRIPTION = (
    "Movie recommendations from MovieLens. Movies are named by their MovieLens `movie_id` "
    f"(find them with `/api/movies/search`). Counts `n` run from 1 to {MAX_RESULTS}, `liked` "
    f"holds 1 to {MAX_LIKED} movie_ids. Requests are strict: bodies are UTF-8 JSON sent as "
    '`application/json`, of the documented types (nothing is coerced: `"5"` and `5.0` are '
    "not the integer `5`) with no unknown fields, and query strings hold only the documented "
    "parameters, once. Errors are JSON objects with a one-line `detail` message."
)


class HeadAsGet:
    """``HEAD`` answered as ``GET`` without the body (RFC 9110: the same status and headers,
    ``Content-Length`` included), for every route: FastAPI's routes take only the methods they
    name, so ``curl -I`` and link checkers got 405 from the page and every GET route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a later part of the body: dropped
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


MAX_HEADER_BYTES = 32 * 1024
"""The most a request's header fields may take, names, values and separators together (as
many browsers and proxies allow): over it, 431."""
SERVER_OPTIONS = {"h11_max_incomplete_event_size": 1024 * 1024}
"""uvicorn settings for ``movierec serve``: with the h11 parser, header fields of up to 1 MiB
reach :class:`HeaderLimit`, which answers 431 (h11's own limit, 16 KiB, dropped the request
with a bare 400 or closed the connection); httptools passes them on anyway."""


class HeaderLimit:
    """431 Request Header Fields Too Large, a JSON ``detail`` like every error, for requests
    whose header fields take over ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int = MAX_HEADER_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.limit:
                detail = (
                    f"the request's header fields take {size:,} bytes, over the "
                    f"{self.limit // 1024} KiB allowed; send fewer or shorter headers"
                )
                response = JSONResponse({"detail": detail}, status_code=431)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecureFastAPI(FastAPI):
    """FastAPI with :class:`SecurityHeaders` outside everything, Starlette's last-resort error
    handler included, so that even a 500 carries the headers; ``HEAD`` as ``GET`` inside, and
    oversized header fields refused (:class:`HeaderLimit`) inside that."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(HeadAsGet(HeaderLimit(super().build_middleware_stack())))


def _profile_stores(recommender: Recommender, db: str | Path | None) -> Callable[[], Any]:
    """What opens the profile store for each start of the app: the first one is opened now,
    so a database that cannot be opened is refused in one line before the server starts (in
    the lifespan it would end the server with a traceback); a second start (tests) opens it
    again."""
    from ..profiles import ProfileStore
    from ..profiles.picks import rating_scale

    where = db if db is not None else os.environ.get(DB_VARIABLE) or None
    # the dataset's stars: half stars 0.5-5, whole stars 1-5 for ml-100k and ml-1m
    scale = rating_scale(recommender.dataset.name)
    opened = [ProfileStore.open(where, scale)]
    return lambda: opened.pop() if opened else ProfileStore.open(where, scale)


def _lifespan(
    recommender: Recommender, stores: Callable[[], Any], limiter: RateLimiter
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the served model's lookups and the profile store, made once."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.served = await run_in_threadpool(Served.prepare, recommender)
        store = await run_in_threadpool(stores)
        app.state.profiles = Profiles(store, limiter)
        # The model and its lookups live as long as the server: out of the garbage collector's
        # sight, its full collections stay short and do not stretch the latency tail.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            store.close()

    return lifespan


def create_app(
    recommender: Recommender,
    db: str | Path | None = None,
    *,
    write_burst: int | None = None,
    writes_per_second: float | None = None,
) -> FastAPI:
    """A FastAPI app serving ``recommender``: the page at ``/``, the JSON API under ``/api``,
    its documentation at ``/docs`` (Swagger UI), all without network access. Profiles are kept
    in ``db`` (a SQLite path or ``postgresql://`` URL; None: ``$MOVIEREC_PROFILES_DB``, else
    the cache folder's ``profiles.db``); each client may change them ``write_burst`` times at
    once, then ``writes_per_second`` (None: ``$MOVIEREC_WRITE_LIMIT``, else 60 and 10). It
    answers once its lifespan has started (uvicorn, or ``with TestClient(app)``)."""
    burst, per_second = write_limit(os.environ.get(WRITE_LIMIT_VARIABLE))
    limiter = RateLimiter(
        burst if write_burst is None else write_burst,
        per_second if writes_per_second is None else writes_per_second,
    )
    lifespan = _lifespan(recommender, _profile_stores(recommender, db), limiter)
    app = SecureFastAPI(
        title="movierec",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,  # ReDoc's bundle loads a logo from its makers' CDN
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    install_error_handlers(app)
    for router in (*ROUTERS, *PROFILE_ROUTERS):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/docs-assets", StaticFiles(directory=SWAGGER_DIR), name="docs-assets")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "index.html", headers={"Content-Security-Policy": PAGE_POLICY}
        )

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title="movierec - Swagger UI",
            swagger_js_url=f"{root}/docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs-assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs-assets/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # never send the schema to swagger.io
        )
        html.headers["Content-Security-Policy"] = docs_policy(bytes(html.body).decode())
        return html

    return app
