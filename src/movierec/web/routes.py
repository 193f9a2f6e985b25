"""The JSON API's routes: HTTP in, one Recommender call, JSON out.

The routes answer from a :class:`Served` that the app's lifespan prepares once and each route
receives through the ``served`` dependency. Routes whose work grows with the model or the
catalogue (search, similar, recommend, score: fuzzy matching, fold-in, scoring every movie;
BPR's fold-in trains for a moment) are plain ``def``, so FastAPI runs them in its thread pool
and the event loop keeps answering; lookups that take microseconds stay ``async def``, where a
trip to a worker thread would cost more than the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from ..analysis import rating_distribution, stats
from ..errors import TitleError
from ..recommender import Movie, Recommender, Scored
from .body import MAX_BODY_BYTES, MAX_JSON_DEPTH, JsonBodyRoute
from .params import CountQuery, MovieIdPath, TitleQuery, only_known_query_parameters
from .schemas import (
    Health,
    MovieInfo,
    Problem,
    RecommendRequest,
    ScoredMovie,
    ScoreRequest,
    StatsOut,
)


@dataclass(frozen=True)
class Served:
    """What the routes answer from: the recommender, kept ratings per movie, the dataset
    summary."""

    recommender: Recommender
    ratings: dict[int, int]
    summary: StatsOut

    @classmethod
    def prepare(cls, recommender: Recommender) -> Served:
        """Compute the summary, and build the recommender's lazy lookups and model caches now
        rather than in the first requests' threads (a fraction of a second)."""
        dataset, min_rating = recommender.dataset, recommender.settings.min_rating
        popularity = recommender.popularity
        summary = StatsOut(
            **stats(dataset, min_rating).to_dict(),
            model=recommender.settings.model,
            rating_distribution=[
                {"rating": rating, "all": row["all"], "kept": row["kept"]}
                for rating, row in rating_distribution(dataset, min_rating).iterrows()
            ],
        )
        top = int(popularity.index[0])
        recommender.similar(top, 1)
        recommender.recommend([top], 1, explain=True)
        ratings = dict(zip(popularity.index.tolist(), popularity.tolist()))
        return cls(recommender, ratings, summary)

    def info(self, movie: Movie) -> dict[str, Any]:
        """A movie as JSON, with its number of kept ratings."""
        out = movie.to_dict()
        out["ratings"] = self.ratings.get(movie.movie_id, 0)
        return out

    def known(self, movie_id: int) -> Movie:
        """The movie with ``movie_id``, or 404 naming it."""
        try:
            return self.recommender.movie(movie_id)
        except TitleError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None


async def served(request: Request) -> Served:
    """The app's :class:`Served`, set by its lifespan."""
    return request.app.state.served


Model = Annotated[Served, Depends(served)]


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
        'field of the wrong JSON type (nothing is coerced: `"5"`, `5.0` and `true` are not '
        "`5`, `0` is not `false`), out of its bounds or unknown, an unknown or repeated query "
        "parameter; or a movie the model cannot use (no kept ratings)"
    ),
}
UNKNOWN_MOVIE = {"model": Problem, "description": "No movie has that movie_id"}
TOO_LARGE = {"model": Problem, "description": f"A request body over {MAX_BODY_BYTES // 1024} KiB"}
QUERY_ERRORS: dict[int | str, dict[str, Any]] = {422: INVALID}
MOVIE_ERRORS: dict[int | str, dict[str, Any]] = {404: UNKNOWN_MOVIE, 422: INVALID}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {404: UNKNOWN_MOVIE, 413: TOO_LARGE, 422: INVALID}

# Every /api route reads its body strictly and refuses query parameters it does not take.
api = APIRouter(
    prefix="/api",
    route_class=JsonBodyRoute,
    dependencies=[Depends(only_known_query_parameters)],
)
# Monitors may add their own query parameters to a health check: /healthz ignores them.
service = APIRouter()

# Routes return JSONResponse directly; `response_model` documents the shape (the tests check it).


@api.get(
    "/movies/search",
    tags=["movies"],
    summary="Search movies by title",
    response_model=list[MovieInfo],
    responses=QUERY_ERRORS,
)
def search(model: Model, q: TitleQuery, n: CountQuery = 10) -> JSONResponse:
    """Movies whose titles match `q` (partial, accent- and typo-tolerant), best first;
    `ratings` 0 marks a movie the model cannot use as a favourite."""
    return JSONResponse([model.info(movie) for movie in model.recommender.search(q, n)])


@api.get(
    "/movies/{movie_id}",
    tags=["movies"],
    summary="One movie",
    response_model=MovieInfo,
    responses=MOVIE_ERRORS,
)
async def movie(model: Model, movie_id: MovieIdPath) -> JSONResponse:
    """One movie by its `movie_id`."""
    return JSONResponse(model.info(model.known(movie_id)))


@api.get(
    "/movies/{movie_id}/similar",
    tags=["movies"],
    summary="Movies similar to one movie",
    response_model=list[ScoredMovie],
    responses=MOVIE_ERRORS,
)
def similar(model: Model, movie_id: MovieIdPath, n: CountQuery = 10) -> JSONResponse:
    """The `n` movies most similar to one movie (cosine of the model's item factors)."""
    model.known(movie_id)
    return JSONResponse([_scored(item) for item in model.recommender.similar(movie_id, n)])


@api.post(
    "/recommend",
    tags=["recommendations"],
    summary="Recommendations for someone's favourite movies",
    response_model=list[ScoredMovie],
    responses=BODY_ERRORS,
)
def recommend(model: Model, body: RecommendRequest) -> JSONResponse:
    """Top-`n` movies for someone who likes `liked`, folded in without retraining; the liked
    movies never come back. `explain` adds `because`: the liked titles that led to each."""
    for movie_id in body.liked:
        model.known(movie_id)
    results = model.recommender.recommend(body.liked, body.n, body.explain)
    return JSONResponse([_scored(item) for item in results])


@api.post(
    "/score",
    tags=["recommendations"],
    summary="Score one movie for someone's favourite movies",
    response_model=ScoredMovie,
    responses=BODY_ERRORS,
)
def score(model: Model, body: ScoreRequest) -> JSONResponse:
    """The preference score of someone who likes `liked` for one movie."""
    for movie_id in [*body.liked, body.movie_id]:
        model.known(movie_id)
    return JSONResponse(_scored(model.recommender.score(body.liked, body.movie_id)))


@api.get(
    "/popular",
    tags=["movies"],
    summary="The most rated movies",
    response_model=list[MovieInfo],
    responses=QUERY_ERRORS,
)
async def popular(model: Model, n: CountQuery = 20) -> JSONResponse:
    """The `n` movies with the most kept ratings (`ratings`), most first."""
    return JSONResponse([model.info(movie) for movie, _ in model.recommender.popular(n)])


@api.get("/stats", tags=["dataset"], summary="Dataset statistics", responses=QUERY_ERRORS)
async def dataset_stats(model: Model) -> StatsOut:
    """Ratings, users and movies before and after the min-rating filter, and ratings per
    star value."""
    return model.summary


@service.get("/healthz", tags=["service"], summary="Health check")
async def healthz(model: Model) -> Health:
    """Liveness: the model is loaded and answering (query parameters are ignored)."""
    recommender = model.recommender
    return Health(dataset=recommender.dataset.name, movies=len(recommender.items))
