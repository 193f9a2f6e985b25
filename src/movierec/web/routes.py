"""The JSON API's routes: HTTP in, one Recommender call, JSON out.

The routes answer from a :class:`Served` that the app's lifespan prepares once and each route
receives through the ``served`` dependency.

Where the work that grows with the model or the catalogue (search, similar, recommend, score)
runs is a fixed rule on the served model, :func:`runs_inline`, so every start of the same model
decides alike. It runs on the event loop when the model's family answers in one pass over its
learned weights (:data:`INLINE_MODELS`: every shipped family but BPR, whose fold-in is an
optimisation), with at most :data:`MAX_INLINE_FACTORS` factors (a factor model's fold-in solves a
factors × factors system) and at most :data:`MAX_INLINE_MOVIES` movies in the catalogue; there a
trip to a worker thread costs more than the answer, and under load the threads' fight for the
GIL tripled the server's CPU per request. Otherwise (BPR, 256 factors, a huge catalogue, a
family registered elsewhere) it runs in the thread pool, so the event loop keeps answering.
Looking up one movie, the popular list and the stats always run on the event loop.

The limits were measured with one BLAS thread (medians of ``recommend`` of five liked movies,
ten explained). On ML-1M's 3,883 movies: the default (DLAE) 0.18 ms, ADMM-SLIM 0.15, ItemKNN
0.68, Mult-VAE 0.66, RecVAE 0.75, iALS at 64 factors 0.31, ALS at 128 0.55; in the thread pool
ALS at 256 factors 2.1, iALS at 256 1.9, BPR 8.0. On synthetic catalogues, iALS at 64 factors
answered in 0.40 ms at 10,000 movies and 1.4 ms at 60,000, and a title search that matches
nothing took 0.49, 0.98 and 2.9 ms at 10,000, 20,000 and 60,000. At the 10,000 limit an inline
answer stays within about 2 ms (those that grow with the catalogue, as the VAEs' do).

Every JSON answer is checked against the model its route declares (``response_model``, which
/docs shows): the lists of movies and scores by :class:`Answer`, strictly (no coercion, no
unknown field) before they are written once, by ``json.dumps`` as before; /api/stats and
/healthz are pydantic models, checked when they are built and written by FastAPI. An answer that
does not fit is a 500, logged, never sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import ResponseValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter, ValidationError
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

INLINE_MODELS = frozenset(
    {"ease", "admm-slim", "itemknn", "pop", "als", "ials", "spark-als", "mult-vae", "recvae"}
)
"""The model families (``Settings.model``) whose answers may run on the event loop."""
MAX_INLINE_FACTORS = 128
"""The most factors of a factor model whose answers run on the event loop."""
MAX_INLINE_MOVIES = 10_000
"""The largest catalogue whose answers run on the event loop."""


def runs_inline(family: str, movies: int, factors: int = 0) -> bool:
    """Whether a model of ``family`` with ``factors`` factors (0: not a factor model) and
    ``movies`` movies in its catalogue answers on the event loop, else in the thread pool (the
    rule in the module's docstring).

    >>> runs_inline("ease", 3_883), runs_inline("bpr", 3_883), runs_inline("ials", 62_423, 64)
    (True, False, False)
    """
    return family in INLINE_MODELS and factors <= MAX_INLINE_FACTORS and movies <= MAX_INLINE_MOVIES


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
        """Compute the summary and build the recommender's lazy lookups and model caches now
        rather than in the first requests; :func:`runs_inline` says where the routes compute."""
        popularity = recommender.popularity
        top = [int(m) for m in popularity.index[:5]]
        recommender.similar(top[0], 1)
        recommender.search("xyzzyq", 1)  # matches nothing, so builds every kind of title match
        recommender.recommend(top, 10, explain=True)
        return cls(
            recommender,
            dict(zip(popularity.index.tolist(), popularity.tolist())),
            _summary(recommender),
            inline=runs_inline(
                recommender.settings.model,
                len(popularity),
                getattr(recommender.model, "factors", 0),
            ),
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


class Answer:
    """A route's response model (``model``, for the decorator) and its validator, built once:
    :meth:`json` checks an answer against the model strictly (no coercion, no unknown field;
    a 500 when it does not fit) and writes it once, as :class:`JSONResponse` always has."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._adapter: TypeAdapter[Any] = TypeAdapter(model)

    def json(self, content: Any) -> JSONResponse:
        try:
            self._adapter.validate_python(content, strict=True, extra="forbid")
        except ValidationError as exc:
            raise ResponseValidationError(exc.errors(include_url=False), body=content) from None
        return JSONResponse(content)


MOVIES = Answer(list[MovieInfo])
MOVIE = Answer(MovieInfo)
SCORED = Answer(list[ScoredMovie])
SCORE = Answer(ScoredMovie)


def _scored(item: Scored) -> dict[str, Any]:
    """A scored movie as JSON: the movie's fields, then :meth:`Scored.to_dict`'s (the score,
    ``because``, ``liked``; ``movie_id`` and ``title`` keep their places)."""
    return {**item.movie.to_dict(), **item.to_dict()}


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


@movies.get("/movies/search", summary="Search movies by title", response_model=MOVIES.model)
async def search(model: Model, q: TitleQuery, n: CountQuery = 10) -> JSONResponse:
    """Movies whose titles match `q` (partial, accent- and typo-tolerant), best first;
    `count` 0 marks a movie the model cannot use as a favourite."""
    found = await model.run(lambda: model.recommender.search(q, n))
    return MOVIES.json([model.info(movie) for movie in found])


@movies.get(
    "/movies/{movie_id}", summary="One movie", response_model=MOVIE.model, responses=MOVIE_ERRORS
)
async def movie(model: Model, movie_id: MovieIdPath) -> JSONResponse:
    """One movie by its `movie_id`."""
    return MOVIE.json(model.info(model.known(movie_id)))


@movies.get(
    "/movies/{movie_id}/similar",
    summary="Movies similar to one movie",
    response_model=SCORED.model,
    responses=MOVIE_ERRORS,
)
async def similar(model: Model, movie_id: MovieIdPath, n: CountQuery = 10) -> JSONResponse:
    """The `n` movies most similar to one movie (cosine of the model's item factors)."""
    model.known(movie_id)
    found = await model.run(lambda: model.recommender.similar(movie_id, n))
    return SCORED.json([_scored(item) for item in found])


@movies.get("/popular", summary="The most rated movies", response_model=MOVIES.model)
async def popular(model: Model, n: CountQuery = 20) -> JSONResponse:
    """The `n` movies with the most kept ratings (`count`), most first."""
    return MOVIES.json([model.info(movie) for movie, _ in model.recommender.popular(n)])


@recommendations.post(
    "/recommend",
    summary="Recommendations for someone's favourite movies",
    response_model=SCORED.model,
)
async def recommend(model: Model, body: RecommendRequest) -> JSONResponse:
    """Top-`n` movies for someone who likes `liked`, folded in without retraining; the liked
    movies never come back. `explain` adds `because`: the liked titles that led to each."""
    for movie_id in body.liked:
        model.known(movie_id)
    results = await model.run(lambda: model.recommender.recommend(body.liked, body.n, body.explain))
    return SCORED.json([_scored(item) for item in results])


@recommendations.post(
    "/score", summary="Score one movie for someone's favourite movies", response_model=SCORE.model
)
async def score(model: Model, body: ScoreRequest) -> JSONResponse:
    """The preference score of someone who likes `liked` for one movie; `liked` in the answer
    says whether the movie is one of them (its score then says little)."""
    for movie_id in [*body.liked, body.movie_id]:
        model.known(movie_id)
    result = await model.run(lambda: model.recommender.score(body.liked, body.movie_id))
    return SCORE.json(_scored(result))


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
