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

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..analysis import rating_distribution, stats
from ..errors import MovieRecError, TitleError
from ..recommender import Movie, Recommender, Scored
from .schemas import (
    MAX_N,
    Health,
    MovieInfo,
    Problem,
    RecommendRequest,
    ScoredMovie,
    ScoreRequest,
    StatsOut,
)

MAX_BODY_BYTES = 64 * 1024
MovieIdPath = Annotated[int, PathParam(description="a MovieLens movie_id")]
CountQuery = Annotated[int, Query(ge=1, le=MAX_N, description=f"how many results, 1 to {MAX_N}")]
STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("movierec.web")

# The page loads only its own files; inline scripts and other hosts are refused by the browser.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, counting what actually arrives (so a
    chunked body without Content-Length is caught too); the app sees the body replayed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is over {self.limit // 1024} KiB; send fewer liked movies"
        response = JSONResponse({"detail": detail}, status_code=413)
        await response(scope, receive, send)


def _where(location: Sequence[Any]) -> str:
    """``("body", "liked", 3)`` → ``liked[3]``; ``("query", "n")`` → ``n``."""
    out = ""
    for part in location[1:] if location and location[0] in ("body", "query", "path") else location:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def readable(errors: Sequence[Any]) -> str:
    """One line a person can act on, from pydantic's validation errors."""
    parts = []
    for error in errors[:5]:
        kind, where = error.get("type", ""), _where(error.get("loc", ()))
        if kind == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "JSON decode error")
            at = error.get("loc", ())[-1:]
            where_in = f" at character {at[0]}" if at and isinstance(at[0], int) else ""
            parts.append(f"the request body is not valid JSON ({reason}{where_in})")
        elif kind == "missing" and not where:
            parts.append("a JSON request body is required")
        else:
            message = str(error.get("msg", "is invalid"))
            parts.append(f"{where or 'request body'}: {message[:1].lower()}{message[1:]}")
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more problems")
    return "; ".join(parts)


def _scored(item: Scored) -> dict[str, Any]:
    out = item.movie.to_dict()
    out["score"] = round(item.score, 6)
    if item.because is not None:
        out["because"] = list(item.because)
    return out


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No movie has that movie_id"},
    422: {
        "model": Problem,
        "description": "Malformed parameters or body, or a movie the model "
        "cannot use (no kept ratings)",
    },
}
BODY_ERRORS = {**ERRORS, 413: {"model": Problem, "description": "A request body over 64 KiB"}}


def create_app(recommender: Recommender) -> FastAPI:
    """A FastAPI app serving ``recommender``: the page at ``/``, the JSON API under ``/api``,
    its documentation at ``/docs`` (Swagger UI), all without network access."""
    app = FastAPIOffline(
        title="movierec",
        version=__version__,
        description=(
            "Movie recommendations from MovieLens. Movies are named by their MovieLens "
            f"`movie_id` (find them with `/api/movies/search`). Counts `n` run from 1 to {MAX_N}; "
            "errors are JSON objects with a `detail` message."
        ),
        static_url="/docs-assets",
        redoc_url=None,
        swagger_ui_parameters={"validatorUrl": None},  # never send the schema to swagger.io
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

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": readable(exc.errors())}, status_code=422)

    @app.exception_handler(MovieRecError)
    async def movierec_error(request: Request, exc: MovieRecError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": "internal server error; the request was not completed"}, status_code=500
        )

    # Handlers are `async def` although they compute: each answer takes about a millisecond of
    # NumPy, far less than handing it to a worker thread and back costs on a busy 2-core machine.
    # They return JSON directly; `response_model` documents the shape (the tests check it).

    @app.get(
        "/api/movies/search",
        tags=["movies"],
        summary="Search movies by title",
        response_model=list[MovieInfo],
        responses=ERRORS,
    )
    async def search(
        q: Annotated[str, Query(min_length=1, max_length=200, description="part of a title")],
        n: CountQuery = 10,
    ) -> JSONResponse:
        """Movies whose titles match `q` (partial, accent- and typo-tolerant), best first;
        `ratings` 0 marks a movie the model cannot use as a favourite."""
        return JSONResponse([info(movie) for movie in recommender.search(q, n)])

    @app.get(
        "/api/movies/{movie_id}",
        tags=["movies"],
        summary="One movie",
        response_model=MovieInfo,
        responses=ERRORS,
    )
    async def movie(movie_id: MovieIdPath) -> JSONResponse:
        """One movie by its `movie_id`."""
        return JSONResponse(info(known(movie_id)))

    @app.get(
        "/api/movies/{movie_id}/similar",
        tags=["movies"],
        summary="Movies similar to one movie",
        response_model=list[ScoredMovie],
        responses=ERRORS,
    )
    async def similar(movie_id: MovieIdPath, n: CountQuery = 10) -> JSONResponse:
        """The `n` movies most similar to one movie (cosine of the model's item factors)."""
        known(movie_id)
        return JSONResponse([_scored(item) for item in recommender.similar(movie_id, n)])

    @app.post(
        "/api/recommend",
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

    @app.post(
        "/api/score",
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

    @app.get(
        "/api/popular",
        tags=["movies"],
        summary="The most rated movies",
        response_model=list[MovieInfo],
        responses={422: ERRORS[422]},
    )
    async def popular(n: CountQuery = 20) -> JSONResponse:
        """The `n` movies with the most kept ratings (`ratings`), most first."""
        return JSONResponse([info(movie) for movie, _ in recommender.popular(n)])

    @app.get("/api/stats", tags=["dataset"], summary="Dataset statistics")
    async def dataset_stats() -> StatsOut:
        """Ratings, users and movies before and after the min-rating filter, and ratings per
        star value."""
        return summary

    @app.get("/healthz", tags=["service"], summary="Health check")
    async def healthz() -> Health:
        """Liveness: the model is loaded and answering."""
        return Health(dataset=dataset.name, movies=len(recommender.items))

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        headers = {"Content-Security-Policy": PAGE_POLICY}
        return FileResponse(STATIC_DIR / "index.html", headers=headers)

    return app
