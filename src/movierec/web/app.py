"""The web app: a page to pick favourite movies and a JSON API over a loaded Recommender.

Thin on purpose: HTTP in, one Recommender call, JSON out. Every response is JSON or a static
file shipped in the package, so nothing is fetched from another host at run time: the API docs
at /docs are Swagger UI from the copy that ``fastapi-offline`` ships, with its online validator
off (ReDoc is left out: its bundle loads a logo from its makers' CDN).

>>> from movierec import load_dataset, Recommender
>>> app = create_app(Recommender.train(load_dataset("ml-latest-small")))  # doctest: +SKIP
>>> # uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from starlette.types import ASGIApp

from .. import __version__
from ..analysis import rating_distribution, stats
from ..errors import TitleError
from ..recommender import Movie, Recommender, Scored
from .body import MAX_BODY_BYTES, MAX_JSON_DEPTH, BodyLimit, JsonBodyRoute, shown
from .errors import install_error_handlers, readable
from .headers import PAGE_POLICY, SecurityHeaders, docs_policy
from .schemas import (
    MAX_LIKED,
    MAX_MOVIE_ID,
    MAX_N,
    MAX_QUERY_CHARS,
    Health,
    MovieInfo,
    Problem,
    RecommendRequest,
    ScoredMovie,
    ScoreRequest,
    StatsOut,
)

__all__ = ["MAX_BODY_BYTES", "STATIC_DIR", "create_app", "readable"]

STATIC_DIR = Path(__file__).parent / "static"
SWAGGER_DIR = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI, shipped offline
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"  # C0 and C1: a regex, and the schema's pattern
_CONTROL = re.compile(CONTROL_CHARACTERS)
_DECIMAL = re.compile(r"-?[0-9]+")


def _printable(query: str) -> str:
    """A search query without control characters (they match no title and garble logs)."""
    found = _CONTROL.search(query)
    if found:
        raise PydanticCustomError(
            "control_character",
            "must not hold control characters (found U+{code}); search with plain text",
            {"code": f"{ord(found.group()):04X}"},
        )
    return query


def _decimal(value: Any) -> Any:
    """An integer in a URL is written in ASCII digits: ``5.0``, ``+5``, `` 5`` and ``5_0`` (which
    pydantic would read as 50) are refused, not read."""
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise PydanticCustomError(
            "int_parsing",
            'input should be a valid integer, written in digits (not "{sent}")',
            {"sent": shown(value, 24)},
        )
    return value


MovieIdPath = Annotated[
    int,
    PathParam(ge=1, le=MAX_MOVIE_ID, description=f"a MovieLens movie_id, 1 to {MAX_MOVIE_ID}"),
    BeforeValidator(_decimal),
]
CountQuery = Annotated[
    int,
    Query(ge=1, le=MAX_N, description=f"how many results, 1 to {MAX_N}"),
    BeforeValidator(_decimal),
]
TitleQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description=f"part of a title, 1 to {MAX_QUERY_CHARS} characters, no control characters",
        json_schema_extra={"pattern": f"^[^{CONTROL_CHARACTERS[1:-1]}]*$"},
    ),
    AfterValidator(_printable),
]


def only_known_query_parameters(request: Request) -> None:
    """Refuse a query parameter the route does not take, or one given twice, as a request body
    refuses unknown fields: ``?m=5`` must not quietly mean the default ``n``."""
    route = request.scope.get("route")
    params = route.dependant.query_params if isinstance(route, APIRoute) else []
    known = {param.alias for param in params}
    names = [name for name, _ in request.query_params.multi_items()]
    for name in names:
        if name not in known:
            takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
            raise HTTPException(
                422, f'unknown query parameter "{shown(name)}" for {request.url.path}; {takes}'
            )
        if names.count(name) > 1:
            times = names.count(name)
            raise HTTPException(422, f"query parameter {name} is given {times} times; give it once")


class SecureFastAPI(FastAPI):
    """FastAPI with :class:`SecurityHeaders` outside everything, Starlette's last-resort error
    handler included, so that even a 500 carries the headers."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def _scored(item: Scored) -> dict[str, Any]:
    out = item.movie.to_dict()
    out["score"] = round(item.score, 6)
    if item.because is not None:
        out["because"] = list(item.because)
    return out


INVALID = {
    "model": Problem,
    "description": (
        "A malformed request: a body that is not JSON (wrong Content-Type, invalid UTF-8, a "
        f"syntax error, with its line and column; nesting deeper than {MAX_JSON_DEPTH}), a "
        'field of the wrong JSON type (nothing is coerced: `"5"` is not `5`, `0` is not '
        "`false`), out of its bounds or unknown, an unknown or repeated query parameter; or a "
        "movie the model cannot use (no kept ratings)"
    ),
}
UNKNOWN_MOVIE = {"model": Problem, "description": "No movie has that movie_id"}
TOO_LARGE = {"model": Problem, "description": f"A request body over {MAX_BODY_BYTES // 1024} KiB"}
QUERY_ERRORS: dict[int | str, dict[str, Any]] = {422: INVALID}
MOVIE_ERRORS: dict[int | str, dict[str, Any]] = {404: UNKNOWN_MOVIE, 422: INVALID}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {404: UNKNOWN_MOVIE, 413: TOO_LARGE, 422: INVALID}


def create_app(recommender: Recommender) -> FastAPI:
    """A FastAPI app serving ``recommender``: the page at ``/``, the JSON API under ``/api``,
    its documentation at ``/docs`` (Swagger UI), all without network access."""
    app = SecureFastAPI(
        title="movierec",
        version=__version__,
        description=(
            "Movie recommendations from MovieLens. Movies are named by their MovieLens "
            f"`movie_id` (find them with `/api/movies/search`). Counts `n` run from 1 to {MAX_N}, "
            f"`liked` holds 1 to {MAX_LIKED} movie_ids. Requests are strict: bodies are UTF-8 "
            "JSON sent as `application/json`, of the documented types (nothing is coerced) with "
            "no unknown fields, and query strings hold only the documented parameters, once. "
            "Errors are JSON objects with a one-line `detail` message."
        ),
        docs_url=None,
        redoc_url=None,  # ReDoc's bundle loads a logo from its makers' CDN
    )
    dataset = recommender.dataset
    min_rating = recommender.settings.min_rating
    counts = dict(zip(recommender.popularity.index.tolist(), recommender.popularity.tolist()))
    summary = StatsOut(
        **stats(dataset, min_rating).to_dict(),
        model=recommender.settings.model,
        rating_distribution=[
            {"rating": rating, "all": row["all"], "kept": row["kept"]}
            for rating, row in rating_distribution(dataset, min_rating).iterrows()
        ],
    )
    # Build the lazy lookups and model caches now, not in the first requests' threads.
    top = int(recommender.popularity.index[0])
    recommender.similar(top, 1)
    recommender.recommend([top], 1, explain=True)

    def info(movie: Movie) -> dict[str, Any]:
        out = movie.to_dict()
        out["ratings"] = counts.get(movie.movie_id, 0)
        return out

    def known(movie_id: int) -> Movie:
        try:
            return recommender.movie(movie_id)
        except TitleError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    install_error_handlers(app)
    api = APIRouter(
        prefix="/api",
        route_class=JsonBodyRoute,
        dependencies=[Depends(only_known_query_parameters)],
    )

    # Handlers are `async def` although they compute: each answer takes about a millisecond of
    # NumPy, far less than handing it to a worker thread and back costs on a busy 2-core machine.
    # They return JSON directly; `response_model` documents the shape (the tests check it).

    @api.get(
        "/movies/search",
        tags=["movies"],
        summary="Search movies by title",
        response_model=list[MovieInfo],
        responses=QUERY_ERRORS,
    )
    async def search(q: TitleQuery, n: CountQuery = 10) -> JSONResponse:
        """Movies whose titles match `q` (partial, accent- and typo-tolerant), best first;
        `ratings` 0 marks a movie the model cannot use as a favourite."""
        return JSONResponse([info(movie) for movie in recommender.search(q, n)])

    @api.get(
        "/movies/{movie_id}",
        tags=["movies"],
        summary="One movie",
        response_model=MovieInfo,
        responses=MOVIE_ERRORS,
    )
    async def movie(movie_id: MovieIdPath) -> JSONResponse:
        """One movie by its `movie_id`."""
        return JSONResponse(info(known(movie_id)))

    @api.get(
        "/movies/{movie_id}/similar",
        tags=["movies"],
        summary="Movies similar to one movie",
        response_model=list[ScoredMovie],
        responses=MOVIE_ERRORS,
    )
    async def similar(movie_id: MovieIdPath, n: CountQuery = 10) -> JSONResponse:
        """The `n` movies most similar to one movie (cosine of the model's item factors)."""
        known(movie_id)
        return JSONResponse([_scored(item) for item in recommender.similar(movie_id, n)])

    @api.post(
        "/recommend",
        tags=["recommendations"],
        summary="Recommendations for someone's favourite movies",
        response_model=list[ScoredMovie],
        responses=BODY_ERRORS,
    )
    async def recommend(body: RecommendRequest) -> JSONResponse:
        """Top-`n` movies for someone who likes `liked`, folded in without retraining; the liked
        movies never come back. `explain` adds `because`: the liked titles that led to each."""
        for movie_id in body.liked:
            known(movie_id)
        results = recommender.recommend(body.liked, body.n, body.explain)
        return JSONResponse([_scored(item) for item in results])

    @api.post(
        "/score",
        tags=["recommendations"],
        summary="Score one movie for someone's favourite movies",
        response_model=ScoredMovie,
        responses=BODY_ERRORS,
    )
    async def score(body: ScoreRequest) -> JSONResponse:
        """The preference score of someone who likes `liked` for one movie."""
        for movie_id in [*body.liked, body.movie_id]:
            known(movie_id)
        return JSONResponse(_scored(recommender.score(body.liked, body.movie_id)))

    @api.get(
        "/popular",
        tags=["movies"],
        summary="The most rated movies",
        response_model=list[MovieInfo],
        responses=QUERY_ERRORS,
    )
    async def popular(n: CountQuery = 20) -> JSONResponse:
        """The `n` movies with the most kept ratings (`ratings`), most first."""
        return JSONResponse([info(movie) for movie, _ in recommender.popular(n)])

    @api.get("/stats", tags=["dataset"], summary="Dataset statistics", responses=QUERY_ERRORS)
    async def dataset_stats() -> StatsOut:
        """Ratings, users and movies before and after the min-rating filter, and ratings per
        star value."""
        return summary

    app.include_router(api)

    @app.get("/healthz", tags=["service"], summary="Health check")
    async def healthz() -> Health:
        """Liveness: the model is loaded and answering (query parameters are ignored)."""
        return Health(dataset=dataset.name, movies=len(recommender.items))

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
