"""Request and response bodies of the profile API (pydantic), as strict as the rest: no
coercion, no unknown field, bounds named in the messages."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .schemas import MAX_RESULTS, MovieOut, ScoredMovie

MAX_NIGHT_GUESTS = 5  # with the one asking: 6 people, movie night's most
MAX_CODE_CHARS = 100
MAX_LABEL_CHARS = 40
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*$"


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Scale(BaseModel):
    lowest: float
    highest: float
    step: float


class SessionOut(BaseModel):
    """What the page needs to start: this browser's profile (null: none yet), the CSRF token
    to send back as ``X-CSRF-Token``, the language the browser asks for, and the stars a
    rating may have."""

    profile: str | None
    csrf: str
    language: str
    languages: list[str]
    scale: Scale
    min_rating: float = Field(description="ratings from here up are likes; lower, dislikes")


LOWEST, HIGHEST, STEP = 0.5, 5.0, 0.5
"""The stars the page offers: the profile store's DEFAULT_SCALE, MovieLens' own (a test checks
that they agree; not imported from there, which would import SQLAlchemy with the web app)."""


class StarsRequest(Strict):
    stars: float = Field(
        ge=LOWEST,
        le=HIGHEST,
        multiple_of=STEP,
        description=f"stars, {LOWEST:g} to {HIGHEST:g} in steps of {STEP:g} (/api/session's scale)",
    )


CODE_PATTERN = r"^[A-Za-z0-9_.=-]+$"  # base64url ids, secrets and MACs, joined by "."


class OpenRequest(Strict):
    link: Annotated[str, Field(min_length=1, max_length=MAX_CODE_CHARS, pattern=CODE_PATTERN)] = (
        Field(description="ID.SECRET, from the fragment of a private link (#open=ID.SECRET)")
    )


class ProfileId(BaseModel):
    profile: str


class LinkOut(BaseModel):
    profile: str
    fragment: str = Field(description="open=ID.SECRET: the page's URL with #fragment reopens it")


class ShareOut(BaseModel):
    code: str = Field(description="a movie-night code: lets others include this profile's taste")


class Counts(BaseModel):
    profile: str
    ratings: int
    hidden: int
    watchlist: int


class RatedMovie(MovieOut):
    stars: float
    rated: int = Field(description="when, in seconds since 1970 (UTC)")


class KeptMovie(MovieOut):
    added: int


class GenreCount(BaseModel):
    genre: str
    liked: int
    disliked: int


class Driver(MovieOut):
    picks: int = Field(description="how many of the top picks this rated movie explains")


class TasteOut(BaseModel):
    """What the ratings say: likes and dislikes (by the model's min_rating), the mean, the
    genres of liked and disliked movies, and the liked movies that drive the picks."""

    likes: int
    dislikes: int
    mean_stars: float | None
    min_rating: float
    genres: list[GenreCount]
    drivers: list[Driver]


class ProfileOut(BaseModel):
    profile: str
    created: int
    ratings: list[RatedMovie]
    hidden: list[KeptMovie]
    watchlist: list[KeptMovie]
    taste: TasteOut


class PicksOut(BaseModel):
    recommendations: list[ScoredMovie]
    note: str | None = Field(description="why there are none, when there are none")


class Guest(Strict):
    code: Annotated[str, Field(min_length=1, max_length=MAX_CODE_CHARS, pattern=CODE_PATTERN)] = (
        Field(description="a movie-night code the member made (POST /api/profile/share)")
    )
    name: Annotated[str, Field(max_length=MAX_LABEL_CHARS, pattern=NAME_PATTERN)] = ""


class NightRequest(Strict):
    guests: Annotated[list[Guest], Field(min_length=1, max_length=MAX_NIGHT_GUESTS)]
    n: Annotated[int, Field(ge=1, le=MAX_RESULTS)] = 10


class NightPick(MovieOut):
    score: float = Field(description="the group's: mean of the members' normalised scores")
    members: list[float] = Field(description="each member's normalised score, in (0, 1]")
    serves: list[str] = Field(description="the members whose taste this pick serves most")


class NightOut(BaseModel):
    members: list[str]
    picks: list[NightPick]
    candidates: int
    vetoed: int
    rule: str
    note: str | None


class Deleted(BaseModel):
    deleted: dict[str, int] = Field(description="rows removed, by table")
