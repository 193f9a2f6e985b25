"""The JSON API's routes: HTTP in, one Recommender call, JSON out.

The routes answer from a :class:`Served` that the app's lifespan prepares once and each route
receives through the ``served`` dependency. Work that grows with the model or the catalogue
(search, similar, recommend, score) runs on the event loop when the served model answers a
typical request in under a millisecond (timed at start-up; EASE and ALS fold-ins on ML-1M do):
there a trip to a worker thread costs more than the answer, and under load the threads' fight
for the GIL tripled the server's CPU per request. Otherwise (BPR's fold-in trains for a moment,
a huge catalogue) it runs in the thread pool, so the event loop keeps answering.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ..errors import TitleError
from ..recommender import Movie, Recommender, Scored
from .body import MAX_BODY_BYTES, MAX_JSON_DEPTH, JsonBodyRoute
from .params import CountQuery, MovieIdPath, TitleQuery
from .schemas import (
    Health,
    MovieInfo,
    Problem,
    Rating,
    RecommendRequest,
    ScoredMovie,
    ScoreRequest,
    StatsOut,
)

T = TypeVar("T")
INLINE_SECONDS = 0.001
"""A typical answer quicker than this is computed on the event loop."""


@dataclass(frozen=True)
class Served:
    """What the routes answer from: the recommender, each movie's popularity (kept ratings,
    which the API calls ``count``, as the command line does) and the dataset summary."""

    recommender: Recommender
    popularity: dict[int, int]
    summary: BaseModel  # a StatsOut
    inline: bool = True  # answer on the event loop (see the module's docstring)

    @classmethod
    def prepare(cls, recommender: Recommender) -> Served:
        """Compute the summary, build the recommender's lazy lookups and model caches now
        rather than in the first requests, and time a typical answer (five liked movies, ten
        explained recommendations) to choose where the routes compute."""
        popularity = recommender.popularity
        top = [int(m) for m in popularity.index[:5]]
        recommender.similar(top[0], 1)
        recommender.search("xyzzyq", 1)  # matches nothing, so builds every kind of title match
        times = []
        for _ in range(7):
            started = time.perf_counter()
            recommender.recommend(top, 10, explain=True)
            times.append(time.perf_counter() - started)
        return cls(
            recommender,
            dict(zip(popularity.index.tolist(), popularity.tolist())),
            _summary(recommender),
            inline=sorted(times)[3] < INLINE_SECONDS,
        )

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` on the event loop when answers are quick, else in the thread pool."""
        return work() if self.inline else await run_in_threadpool(work)

    def info(self, movie: Movie) -> dict[str, Any]:
        """A movie as JSON, with its number of kept ratings."""
        out = movie.to_dict()
        out["count"] = self.popularity.get(movie.movie_id, 0)
        return out

    def known(self, movie_id: int) -> Movie:
        """The movie with ``movie_id``, or 404 naming it."""
        try:
            return self.recommender.movie(movie_id)
        except TitleError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None


def _summary(recommender: Recommender) -> BaseModel:
    """The /api/stats answer: the dataset's :class:`~movierec.analysis.Stats`, the served
    model and the ratings per star value (saved with the model: no ratings are read)."""
    summary = recommender.summary()
    return StatsOut(
        **summary["stats"],
        model=recommender.settings.model,
        model_description=recommender.describe(),
        rating_distribution=[Rating(rating=r, all=a, kept=k) for r, a, k in summary["ratings"]],
    )


async def served(request: Request) -> Served:
    """The app's :class:`Served`, set by its lifespan."""
    return request.app.state.served


Model = Annotated[Served, Depends(served)]


def _scored(item: Scored) -> dict[str, Any]:
    out = item.movie.to_dict()
    out["score"] = round(item.score, 6)
    if item.because is not None:
        out["because"] = list(item.because)
    if item.liked is not None:
        out["liked"] = item.liked
    return out


INVALID = {
    "model": Problem,
    "description": (
        "A malformed request: a body that is not JSON (wrong Content-Type, invalid UTF-8, a "
        f"syntax error, with its line and column; nesting deeper than {MAX_JSON_DEPTH}), a "
        'field of the wrong JSON type (nothing is coerced: `"5"`, `5.0` and `true` are not '
        "`5`, `0` is not `false`), out of its bounds or unknown, an unknown or repeated query "
        "parameter; or a movie the model cannot use (no kept ratings)"
    ),
}
UNKNOWN_MOVIE = {"model": Problem, "description": "No movie has that movie_id"}
TOO_LARGE = {"model": Problem, "description": f"A request body over {MAX_BODY_BYTES // 1024} KiB"}


def _api_router(tag: str, errors: dict[int | str, dict[str, Any]] | None = None) -> APIRouter:
    """Routes under /api: bodies read strictly, query parameters they do not take refused, and
    ``errors`` besides 422 documented for every route."""
    return APIRouter(
        prefix="/api",
        tags=[tag],
        route_class=JsonBodyRoute,  # strict query parameters and JSON bodies
        responses={**(errors or {}), 422: INVALID},
    )


movies = _api_router("movies")
recommendations = _api_router("recommendations", {404: UNKNOWN_MOVIE, 413: TOO_LARGE})
dataset = _api_router("dataset")
# Monitors may add their own query parameters to a health check: /healthz ignores them.
service = APIRouter()
ROUTERS = (movies, recommendations, dataset, service)
MOVIE_ERRORS: dict[int | str, dict[str, Any]] = {404: UNKNOWN_MOVIE}

# Routes return JSONResponse directly; `response_model` documents the shape (the tests check it).


@movies.get("/movies/search", summary="Search movies by title", response_model=list[MovieInfo])
async def search(model: Model, q: TitleQuery, n: CountQuery = 10) -> JSONResponse:
    """Movies whose titles match `q` (partial, accent- and typo-tolerant), best first;
    `count` 0 marks a movie the model cannot use as a favourite."""
    found = await model.run(lambda: model.recommender.search(q, n))
    return JSONResponse([model.info(movie) for movie in found])


@movies.get(
    "/movies/{movie_id}", summary="One movie", response_model=MovieInfo, responses=MOVIE_ERRORS
)
async def movie(model: Model, movie_id: MovieIdPath) -> JSONResponse:
    """One movie by its `movie_id`."""
    return JSONResponse(model.info(model.known(movie_id)))


@movies.get(
    "/movies/{movie_id}/similar",
    summary="Movies similar to one movie",
    response_model=list[ScoredMovie],
    responses=MOVIE_ERRORS,
)
async def similar(model: Model, movie_id: MovieIdPath, n: CountQuery = 10) -> JSONResponse:
    """The `n` movies most similar to one movie (cosine of the model's item factors)."""
    model.known(movie_id)
    found = await model.run(lambda: model.recommender.similar(movie_id, n))
    return JSONResponse([_scored(item) for item in found])


@movies.get("/popular", summary="The most rated movies", response_model=list[MovieInfo])
async def popular(model: Model, n: CountQuery = 20) -> JSONResponse:
    """The `n` movies with the most kept ratings (`count`), most first."""
    return JSONResponse([model.info(movie) for movie, _ in model.recommender.popular(n)])


@recommendations.post(
    "/recommend",
    summary="Recommendations for someone's favourite movies",
    response_model=list[ScoredMovie],
)
async def recommend(model: Model, body: RecommendRequest) -> JSONResponse:
    """Top-`n` movies for someone who likes `liked`, folded in without retraining; the liked
    movies never come back. `explain` adds `because`: the liked titles that led to each."""
    for movie_id in body.liked:
        model.known(movie_id)
    results = await model.run(lambda: model.recommender.recommend(body.liked, body.n, body.explain))
    return JSONResponse([_scored(item) for item in results])


@recommendations.post(
    "/score", summary="Score one movie for someone's favourite movies", response_model=ScoredMovie
)
async def score(model: Model, body: ScoreRequest) -> JSONResponse:
    """The preference score of someone who likes `liked` for one movie; `liked` in the answer
    says whether the movie is one of them (its score then says little)."""
    for movie_id in [*body.liked, body.movie_id]:
        model.known(movie_id)
    result = await model.run(lambda: model.recommender.score(body.liked, body.movie_id))
    return JSONResponse(_scored(result))


@dataset.get("/stats", summary="Dataset statistics", response_model=StatsOut)
async def dataset_stats(model: Model) -> BaseModel:
    """Ratings, users and movies before and after the min-rating filter, and ratings per
    star value."""
    return model.summary


@service.get("/healthz", tags=["service"], summary="Health check")
async def healthz(model: Model) -> Health:
    """Liveness: the model is loaded and answering (query parameters are ignored)."""
    recommender = model.recommender
    return Health(dataset=recommender.dataset.name, movies=len(recommender.items))
