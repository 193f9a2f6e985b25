"""Request and response bodies of the JSON API (pydantic), which /docs documents.

Request bodies are strict: JSON types are taken as they are (``"5"`` and ``true`` are not the
integer 5 or 1, ``0`` is not ``false``, ``5.0`` is not an integer), unknown fields are refused
(a misspelt ``"explain"`` would otherwise be ignored without a word), and every number and list
has bounds that the error message names."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..analysis import Stats

# Results one request may ask for (`n`): a public endpoint keeps its answers small. The facade's
# own bound, config.MAX_N (10,000, for the command line and the Python API), lies beyond.
MAX_RESULTS = 100
MAX_LIKED = 500
MAX_QUERY_CHARS = 200
# The largest integer every JSON client keeps exact (JavaScript's Number.MAX_SAFE_INTEGER, and
# OpenAPI bounds are written as doubles); MovieLens ids are below 300,000.
MAX_MOVIE_ID = 2**53 - 1

MovieId = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=MAX_MOVIE_ID,
        description=f"a MovieLens movie_id, 1 to {MAX_MOVIE_ID}",
        examples=[1],
    ),
]
Count = Annotated[
    int, Field(ge=1, le=MAX_RESULTS, description=f"how many results, 1 to {MAX_RESULTS}")
]


class MovieOut(BaseModel):
    """A movie: its MovieLens id, title, genres and release year (null when unknown)."""

    movie_id: int
    title: str
    genres: list[str]
    year: int | None


class MovieInfo(MovieOut):
    """A movie with its number of kept ratings (`count`, as `movierec popular --json` names it);
    0 means the model cannot use it as a favourite."""

    count: int = Field(description="its ratings at or above the model's min_rating")


class ScoredMovie(MovieOut):
    """A recommended or similar movie with its score (higher is better)."""

    score: float
    because: list[str] | None = Field(
        default=None, description="the liked titles that explain it (recommend with explain)"
    )
    liked: bool | None = Field(
        default=None,
        description="score only: whether the movie is one of `liked` (its score then says "
        "little: a movie is not recommended to someone who already likes it)",
    )


class RecommendRequest(BaseModel):
    """Favourite movies in, recommendations out (the favourites never come back)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    liked: Annotated[list[MovieId], Field(min_length=1, max_length=MAX_LIKED)] = Field(
        description=f"movie_ids of favourite movies, 1 to {MAX_LIKED}", examples=[[1, 260, 2571]]
    )
    n: Count = 10
    explain: bool = Field(default=False, description="add `because` to each recommendation")


class ScoreRequest(BaseModel):
    """Favourite movies and one movie to score for someone who likes them."""

    model_config = ConfigDict(strict=True, extra="forbid")

    liked: Annotated[list[MovieId], Field(min_length=1, max_length=MAX_LIKED)] = Field(
        description=f"movie_ids of favourite movies, 1 to {MAX_LIKED}", examples=[[1, 260]]
    )
    movie_id: MovieId


class Rating(BaseModel):
    """How many ratings gave one star value, before and after the min-rating filter."""

    rating: float
    all: int
    kept: int


def _fields_of(source: type) -> dict[str, Any]:
    """Pydantic field definitions of a dataclass's fields: types, order and descriptions."""
    hints = get_type_hints(source)
    return {
        f.name: (hints[f.name], Field(description=f.metadata.get("description")))
        for f in fields(source)
    }


def _stats_out_fields() -> dict[str, Any]:
    stats = _fields_of(Stats)
    return {
        "dataset": stats.pop("dataset"),
        "model": (str, Field(description="the served model, e.g. ease")),
        "model_description": (
            str,
            Field(
                description="the served model in words, e.g. EASE (λ = 50, users weighted, "
                "low-pass filtered), binary feedback, ratings ≥ 3"
            ),
        ),
        **stats,
        "rating_distribution": (list[Rating], Field(description="ratings per star value")),
    }


# The shape of movierec.analysis.Stats (its one home), with the served model and the ratings
# per star value added.
StatsOut = create_model(
    "StatsOut",
    __doc__="The dataset behind the model: counts before and after the min-rating filter.",
    **_stats_out_fields(),
)


class Health(BaseModel):
    status: str = "ok"
    dataset: str
    movies: int


class Problem(BaseModel):
    """An error: ``detail`` says what was wrong and how to fix it."""

    detail: str
