"""The profile API: a person's ratings, "not interested" and watch list kept by the server, the
recommendations they make (folded in, no retraining), what the ratings say, movie night for
2 to 6 profiles, export and delete.

Who may do what (see :mod:`.guard`): a browser holds its profile in an HttpOnly cookie; every
change also needs the CSRF token and is rate limited per client. Reading a profile needs its
cookie. Movie night takes the caller's own profile (the cookie) and up to five others, each by
a *movie-night code* its owner made (``POST /api/profile/share``): the code lets the group's
picks use that profile's taste and nothing more — nobody reads another's ratings, and the
answer holds only the picks and, per pick, each member's normalised score. A code is an HMAC of
the profile's stored secret hash, so making a new private link (a new secret) revokes every
code and link made before.

The rules themselves are the recommender's and the profiles package's (``recommend_for_profile``
and ``movie_night`` in :mod:`movierec.profiles.picks`); this module checks who asks and turns
answers into JSON.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..errors import MovieRecError, TitleError
from ..recommender import Movie, Scored
from .guard import (
    PROFILE_COOKIE,
    Credential,
    RateLimiter,
    check_csrf,
    check_rate,
    clear_profile_cookie,
    csrf_token,
    set_profile_cookie,
)
from .i18n import LANGUAGES, language_of
from .params import CountQuery, MovieIdPath
from .profile_schemas import (
    Counts,
    Deleted,
    LinkOut,
    NightOut,
    NightRequest,
    OpenRequest,
    PicksOut,
    ProfileId,
    ProfileOut,
    Scale,
    SessionOut,
    ShareOut,
    StarsRequest,
)
from .routes import Answer, Model, Served, _api_router, _scored
from .schemas import MAX_RESULTS, Problem

if TYPE_CHECKING:
    from ..profiles import ProfileData, ProfileStore

TOP_GENRES = 8
DRIVER_PICKS = 20  # the top picks whose reasons say which rated movies drive them
TOP_DRIVERS = 5
SHARE_CONTEXT = b"movierec movie night"
T = TypeVar("T")


@dataclass
class Profiles:
    """What the profile routes answer from: the store and the write limiter."""

    store: ProfileStore
    limiter: RateLimiter

    async def read(self, read: Callable[..., T], *args: Any) -> T:
        """A read of the store: on the event loop for SQLite, whose reads take a fraction of a
        millisecond and never wait for a writer (WAL), so a worker thread's hand-off would
        cost more than the read; in a worker thread for PostgreSQL (a round trip away)."""
        if self.store.database.is_sqlite:
            return read(*args)
        return await run_in_threadpool(read, *args)

    async def write(self, write: Callable[..., T], *args: Any) -> T:
        """A change to one profile: on the event loop for SQLite when no other writer is in
        the way (a tenth of a millisecond; see ``Database.at_once``), else in a worker thread,
        where it waits its turn."""
        if self.store.database.is_sqlite:
            from ..profiles.database import Database, WouldWait

            try:
                with Database.at_once():
                    return write(*args)
            except WouldWait:
                pass
        return await run_in_threadpool(write, *args)

    def share_code(self, profile_id: str) -> str:
        """The profile's movie-night code: its id and an HMAC of its stored secret hash (a new
        secret, from a new private link, changes it)."""
        stored = self._stored_hash(profile_id)
        if stored is None:
            raise MovieRecError("this profile is gone; start a new one by rating a movie")
        return f"{profile_id}.{self._mac(stored)}"

    def check_share_code(self, code: str) -> str | None:
        """The profile a movie-night code is for, or None (compared in constant time)."""
        if not code.isascii():  # codes are URL-safe base64; compare_digest takes only ASCII
            return None
        profile_id, _, mac = code.partition(".")
        stored = self._stored_hash(profile_id) if profile_id and len(profile_id) <= 16 else None
        expected = self._mac(stored or "no such profile")
        return profile_id if hmac.compare_digest(expected, mac) and stored else None

    @staticmethod
    def _mac(stored_hash: str) -> str:
        digest = hmac.new(stored_hash.encode(), SHARE_CONTEXT, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _stored_hash(self, profile_id: str) -> str | None:
        # The store keeps the hash to itself; a movie-night code is derived from it here (a
        # read of its one column, not a change to the store).
        from sqlalchemy import select

        from ..profiles import schema

        with self.store.database.reading() as connection:
            found = connection.execute(
                select(schema.profiles.c.secret_hash).where(schema.profiles.c.id == profile_id)
            ).scalar()
        return None if found is None else str(found)


async def profiles_of(request: Request) -> Profiles:
    return request.app.state.profiles


Store = Annotated[Profiles, Depends(profiles_of)]

NO_PROFILE = "no profile in this browser yet: rate a movie to start one, or open your private link"
STALE_PROFILE = (
    "this browser's profile key opens no profile (deleted, or a newer private link replaced "
    "it); open your newest private link"
)


async def _owner(request: Request, profiles: Profiles) -> str:
    credential = Credential.parse(request.cookies.get(PROFILE_COOKIE))
    if credential is None:
        raise HTTPException(401, NO_PROFILE)
    known = await profiles.read(
        profiles.store.check_secret, credential.profile_id, credential.secret
    )
    if not known:
        raise HTTPException(403, STALE_PROFILE)
    return credential.profile_id


async def guarded(request: Request, profiles: Store) -> Profiles:
    """A change: rate limited per client, then CSRF checked."""
    check_rate(request, profiles.limiter)
    check_csrf(request)
    return profiles


async def reader(request: Request, profiles: Store) -> str:
    """The profile this browser's cookie opens (401 without one, 403 when it opens none)."""
    return await _owner(request, profiles)


async def writer(request: Request, profiles: Annotated[Profiles, Depends(guarded)]) -> str:
    """A change to this browser's profile: rate limit, CSRF, then its cookie."""
    return await _owner(request, profiles)


Guarded = Annotated[Profiles, Depends(guarded)]
Reader = Annotated[str, Depends(reader)]
Writer = Annotated[str, Depends(writer)]


def _problem(text: str) -> dict[str, Any]:
    return {"model": Problem, "description": text}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("No profile cookie: this browser has no profile yet"),
    403: _problem(
        "Refused: no or a wrong CSRF token, a request from another site, or a profile cookie, "
        "link or movie-night code that opens no profile"
    ),
    404: _problem("No movie has that movie_id"),
    429: _problem("Too many changes from this client; Retry-After says when to try again"),
}
session = _api_router("profiles")
profile = _api_router("profiles", ERRORS)
ROUTERS = (session, profile)
PICKS = Answer(PicksOut)
COUNTS = Answer(Counts)


# ---- movies as JSON ---------------------------------------------------------------------------
def _movie(served: Served, movie_id: int) -> dict[str, Any]:
    """A movie's fields; one the model does not know (rated elsewhere) by its id alone."""
    try:
        return served.recommender.movie(movie_id).to_dict()
    except TitleError:
        return {"movie_id": movie_id, "title": f"#{movie_id}", "genres": [], "year": None}


def _taste(served: Served, data: ProfileData) -> dict[str, Any]:
    """What the ratings say: likes, dislikes, genres, and the movies driving the picks."""
    from ..profiles.picks import recommend_for_profile

    min_rating = float(served.recommender.settings.min_rating)
    liked: Counter[str] = Counter()
    disliked: Counter[str] = Counter()
    movies: dict[int, Movie | None] = {}
    for rating in data.ratings:
        try:
            movie: Movie | None = served.recommender.movie(rating.movie_id)
        except TitleError:
            movie = None
        movies[rating.movie_id] = movie
        genres = [g for g in (movie.genres if movie else []) if g != "(no genres listed)"]
        (liked if rating.stars >= min_rating else disliked).update(genres)
    order = sorted(set(liked) | set(disliked), key=lambda g: (-liked[g], disliked[g], g))
    drivers: list[dict[str, Any]] = []
    try:
        picks = recommend_for_profile(served.recommender, data, DRIVER_PICKS, explain=True)
    except MovieRecError:
        picks = None
    if picks:
        by_title = {m.title: m for m in movies.values() if m is not None}
        explained = Counter(title for pick in picks for title in (pick.because or []))
        for title, count in explained.most_common(TOP_DRIVERS):
            if title in by_title:
                drivers.append({**by_title[title].to_dict(), "picks": count})
    stars = [r.stars for r in data.ratings]
    return {
        "likes": sum(1 for s in stars if s >= min_rating),
        "dislikes": sum(1 for s in stars if s < min_rating),
        "mean_stars": round(sum(stars) / len(stars), 3) if stars else None,
        "min_rating": min_rating,
        "genres": [
            {"genre": g, "liked": liked[g], "disliked": disliked[g]} for g in order[:TOP_GENRES]
        ],
        "drivers": drivers,
    }


def _overview(served: Served, data: ProfileData) -> dict[str, Any]:
    return {
        "profile": data.profile.profile_id,
        "created": data.profile.created,
        "ratings": [
            {**_movie(served, r.movie_id), "stars": r.stars, "rated": r.rated}
            for r in sorted(data.ratings, key=lambda r: (-r.rated, r.movie_id))
        ],
        "hidden": [{**_movie(served, k.movie_id), "added": k.added} for k in data.not_interested],
        "watchlist": [{**_movie(served, k.movie_id), "added": k.added} for k in data.watchlist],
        "taste": _taste(served, data),
    }


# ---- the session: CSRF token, language, which profile -----------------------------------------
@session.get(
    "/session", summary="Start the page: CSRF token, language, profile", response_model=SessionOut
)
async def start_session(
    request: Request, response: Response, profiles: Store, model: Model
) -> SessionOut:
    """Sets the `movierec_csrf` cookie (when missing) and returns its value, to send back as
    `X-CSRF-Token` on every change; `language` is what Accept-Language asks for (en or ko);
    `profile` is this browser's profile, or null (a stale cookie is cleared)."""
    token = csrf_token(request, response)
    credential = Credential.parse(request.cookies.get(PROFILE_COOKIE))
    profile_id = None
    if credential is not None:
        if await profiles.read(
            profiles.store.check_secret, credential.profile_id, credential.secret
        ):
            profile_id = credential.profile_id
        else:
            clear_profile_cookie(response, request)
    lowest, highest, step = profiles.store.scale
    return SessionOut(
        profile=profile_id,
        csrf=token,
        language=language_of(request.headers.get("accept-language")),
        languages=list(LANGUAGES),
        scale=Scale(lowest=lowest, highest=highest, step=step),
        min_rating=float(model.recommender.settings.min_rating),
    )


# ---- making, opening, linking, sharing, deleting a profile ------------------------------------
@profile.post("/profile", summary="Start a profile in this browser", response_model=ProfileId)
async def create_profile(request: Request, response: Response, profiles: Guarded) -> ProfileId:
    """A new, empty profile (no account: the page makes one at the first rating); its key goes
    into an HttpOnly cookie, never into the answer."""
    new = await run_in_threadpool(profiles.store.create)
    set_profile_cookie(response, request, Credential(new.profile_id, new.secret))
    return ProfileId(profile=new.profile_id)


@profile.post(
    "/profile/open", summary="Open a profile from its private link", response_model=ProfileId
)
async def open_profile(
    request: Request, response: Response, body: OpenRequest, profiles: Guarded
) -> ProfileId:
    """Trade `ID.SECRET` from a private link's fragment for the profile cookie (the page does
    this, so the secret never travels in a URL). A wrong or revoked link is 403."""
    credential = Credential.parse(body.link.removeprefix("open="))
    known = credential is not None and await run_in_threadpool(
        profiles.store.check_secret, credential.profile_id, credential.secret
    )
    if not known or credential is None:
        raise HTTPException(403, "this link opens no profile (mistyped, deleted or replaced)")
    set_profile_cookie(response, request, credential)
    return ProfileId(profile=credential.profile_id)


@profile.post("/profile/link", summary="Make a new private link", response_model=LinkOut)
async def new_link(request: Request, response: Response, owner: Writer, profiles: Store) -> LinkOut:
    """A new secret for this profile, in a link to open it in another browser: the page's
    address with `#` and `fragment`. Every earlier link, movie-night code and other browser's
    cookie stops working."""
    secret = await run_in_threadpool(profiles.store.new_secret, owner)
    credential = Credential(owner, secret)
    set_profile_cookie(response, request, credential)
    return LinkOut(profile=owner, fragment=f"open={credential}")


@profile.post("/profile/share", summary="Make a movie-night code", response_model=ShareOut)
async def share(owner: Writer, profiles: Store) -> ShareOut:
    """A code others can add to their movie night: it lets the group's picks use this
    profile's taste, and reads nothing of it. A new private link revokes it."""
    return ShareOut(code=await run_in_threadpool(profiles.share_code, owner))


@profile.delete("/profile", summary="Delete this profile", response_model=Deleted)
async def delete_profile(
    request: Request, response: Response, owner: Writer, profiles: Store
) -> Deleted:
    """Delete the profile and every rating, hidden movie and watch-list entry it holds, from
    the database (not a mark: the rows are gone); the cookie is cleared."""
    removed = await run_in_threadpool(profiles.store.delete, owner)
    clear_profile_cookie(response, request)
    return Deleted(deleted=removed)


# ---- reading ----------------------------------------------------------------------------------
@profile.get(
    "/profile", summary="This browser's profile and what it says", response_model=ProfileOut
)
async def read_profile(owner: Reader, profiles: Store, model: Model) -> JSONResponse:
    """Ratings (newest first), hidden movies, the watch list, and what the ratings say: likes
    and dislikes, genres of liked and disliked movies, the rated movies behind the picks."""
    data = await profiles.read(profiles.store.profile_data, owner)
    overview = await model.run(lambda: _overview(model, data))
    return JSONResponse(ProfileOut.model_validate(overview).model_dump(mode="json"))


@profile.get(
    "/profile/recommendations",
    summary="Recommendations for this profile",
    response_model=PicksOut,
)
async def profile_recommendations(
    owner: Reader, profiles: Store, model: Model, n: CountQuery = 10
) -> JSONResponse:
    """Top picks, folded in from the ratings without retraining: ratings at or above the
    model's min_rating draw, lower ones push away, and nothing rated or hidden comes back."""
    return await _recommendations(owner, profiles, model, n)


async def _recommendations(owner: str, profiles: Profiles, model: Served, n: int) -> JSONResponse:
    from ..profiles.picks import recommend_for_profile

    data = await profiles.read(profiles.store.profile_data, owner)
    try:
        picks = await model.run(
            lambda: recommend_for_profile(model.recommender, data, n, explain=True)
        )
    except MovieRecError as exc:
        return PICKS.json({"recommendations": [], "note": str(exc)})
    return PICKS.json({"recommendations": [_pick(p) for p in picks], "note": picks.why_empty})


def _pick(item: Scored) -> dict[str, Any]:
    """A pick as PicksOut writes it: every field of ScoredMovie, ``null`` where unset."""
    out = _scored(item)
    out.setdefault("because", None)
    out.setdefault("liked", None)
    return out


@profile.get("/profile/export", summary="Everything this profile holds, as JSON")
async def export_profile(owner: Reader, profiles: Store) -> JSONResponse:
    """The profile as `movierec profile import` reads it (ratings with their times, hidden
    movies, watch list; never its secret), as a download."""
    exported = await run_in_threadpool(profiles.store.export, owner)
    return JSONResponse(
        exported,
        headers={"Content-Disposition": f'attachment; filename="movierec-profile-{owner}.json"'},
    )


# ---- ratings, not interested, watch list ------------------------------------------------------
async def _changed(profiles: Profiles, owner: str) -> JSONResponse:
    """The profile's counts after a change (checked against Counts, written once, as the
    recommend route's answers are: the hot path of the page)."""
    ratings, hidden, watchlist = await profiles.read(profiles.store.counts, owner)
    return COUNTS.json(
        {"profile": owner, "ratings": ratings, "hidden": hidden, "watchlist": watchlist}
    )


@profile.put("/profile/ratings/{movie_id}", summary="Rate a movie", response_model=Counts)
async def rate(
    movie_id: MovieIdPath, body: StarsRequest, owner: Writer, profiles: Store, model: Model
) -> JSONResponse:
    """Stars on the scale /api/session gives (0.5 to 5 in halves); rating again replaces the
    rating, and a rated movie leaves the watch list."""
    model.known(movie_id)
    await profiles.write(profiles.store.rate, owner, movie_id, body.stars)
    return await _changed(profiles, owner)


@profile.delete("/profile/ratings/{movie_id}", summary="Remove a rating", response_model=Counts)
async def unrate(movie_id: MovieIdPath, owner: Writer, profiles: Store) -> JSONResponse:
    await profiles.write(profiles.store.unrate, owner, movie_id)
    return await _changed(profiles, owner)


@profile.put(
    "/profile/hidden/{movie_id}", summary="Not interested in a movie", response_model=Counts
)
async def hide(movie_id: MovieIdPath, owner: Writer, profiles: Store, model: Model) -> JSONResponse:
    """The movie never comes back as a pick, for this profile or its movie nights."""
    model.known(movie_id)
    await profiles.write(profiles.store.hide, owner, movie_id)
    return await _changed(profiles, owner)


@profile.delete("/profile/hidden/{movie_id}", summary="Interested again", response_model=Counts)
async def unhide(movie_id: MovieIdPath, owner: Writer, profiles: Store) -> JSONResponse:
    await profiles.write(profiles.store.unhide, owner, movie_id)
    return await _changed(profiles, owner)


@profile.put(
    "/profile/watchlist/{movie_id}", summary="Add to the watch list", response_model=Counts
)
async def watch(
    movie_id: MovieIdPath, owner: Writer, profiles: Store, model: Model
) -> JSONResponse:
    model.known(movie_id)
    await profiles.write(profiles.store.watch, owner, movie_id)
    return await _changed(profiles, owner)


@profile.delete(
    "/profile/watchlist/{movie_id}", summary="Remove from the watch list", response_model=Counts
)
async def unwatch(movie_id: MovieIdPath, owner: Writer, profiles: Store) -> JSONResponse:
    await profiles.write(profiles.store.unwatch, owner, movie_id)
    return await _changed(profiles, owner)


# ---- movie night ------------------------------------------------------------------------------
RULE = (
    "average without misery: a movie any member would like less than three quarters of the "
    "candidates is dropped; the rest are ranked by the members' mean normalised score"
)


@profile.post("/movie-night", summary="Picks for 2 to 6 profiles together", response_model=NightOut)
async def movie_night(body: NightRequest, owner: Writer, profiles: Store, model: Model) -> NightOut:
    """Your profile (the cookie) and one to five others, each by the movie-night code its owner
    made. Nothing anyone rated or hid comes back; `serves` names whose taste each pick serves
    most. Names are yours to give (`name`), never read from the other profiles."""
    from ..profiles.picks import movie_night as picks_for_night

    members = [owner]
    names = ["you"]
    for number, guest in enumerate(body.guests, start=1):
        profile_id = await run_in_threadpool(profiles.check_share_code, guest.code)
        if profile_id is None:
            raise HTTPException(
                403, f"movie-night code {number} opens no profile (mistyped or revoked)"
            )
        if profile_id in members:
            raise HTTPException(422, f"movie-night code {number} names a member already in")
        members.append(profile_id)
        names.append(guest.name.strip() or f"guest {number}")
    data = [await run_in_threadpool(profiles.store.profile_data, m) for m in members]
    try:
        picks = await model.run(lambda: picks_for_night(model.recommender, data, body.n))
    except MovieRecError as exc:
        message = str(exc)
        for profile_id, name in zip(members, names):  # others' ids are not the caller's to see
            message = message.replace(f"profile {profile_id}", name)
        raise HTTPException(422, message) from None
    out = [
        {
            **pick.movie.to_dict(),
            "score": round(float(pick.score), 6),
            "members": [round(float(v), 6) for v in pick.members],
            "serves": [names[i] for i in pick.serves],
        }
        for pick in picks
    ]
    return NightOut.model_validate(
        {
            "members": names,
            "picks": out,
            "candidates": picks.candidates,
            "vetoed": picks.vetoed,
            "rule": RULE,
            "note": picks.why_empty,
        }
    )


__all__ = ["MAX_RESULTS", "ROUTERS", "Profiles"]
