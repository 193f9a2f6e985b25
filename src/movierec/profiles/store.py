"""Profiles kept in a database: a person's ratings, the movies they are not interested in and
their watch list, under a short public id and a secret only they hold.

>>> from movierec.profiles import ProfileStore
>>> with ProfileStore.open("profiles.db") as store:  # doctest: +SKIP
...     new = store.create("Ana")                    # new.secret is shown once, never again
...     store.rate(new.profile_id, 1, 4.5)           # movie_id 1, four and a half stars
...     store.profile_data(new.profile_id).ratings
[Rating(movie_id=1, stars=4.5, rated=…)]

Secrets: :func:`secrets.token_urlsafe` of 32 bytes (256 random bits), stored only as their
SHA-256 (enough for a random token of that size: there is nothing to guess), compared with
:func:`hmac.compare_digest`, never logged nor put in any message. Whoever can open the database
itself (the operator, the CLI) reads every profile; the secret is what the web page asks for.

Movies are MovieLens ``movie_id``\\ s: the store does not check them against a dataset (it
knows none); the CLI and the web page resolve titles first. Stars lie on a scale (``0.5``–``5``
in half stars by default, MovieLens' own; :meth:`ProfileStore.open`'s ``scale``).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import MovieRecError, shown
from . import schema
from .database import Database, open_database

EXPORT_FORMAT = "movierec-profile"
EXPORT_VERSION = 1
SECRET_BYTES = 32
"""A secret's random bytes (256 bits; the issue asks for at least 128)."""
MAX_SECRET_LENGTH = 256
"""Longer is never a secret of ours (43 characters): refused without hashing it."""
ID_BYTES = 9
"""A public id's random bytes: 12 URL-safe characters."""
DEFAULT_SCALE = (0.5, 5.0, 0.5)
"""MovieLens' stars: 0.5 to 5 in half stars (lowest, highest, step)."""
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,16}")
_MAX_MOVIE_ID = 2**63 - 1
_DUMMY_HASH = hashlib.sha256(b"no such profile").hexdigest()


@dataclass(frozen=True)
class NewProfile:
    """A profile just made: its public id and its secret (shown to its owner once; only its
    hash is kept)."""

    profile_id: str
    secret: str = field(repr=False)  # never printed by accident

    def to_dict(self) -> dict[str, str]:
        return {"profile": self.profile_id, "secret": self.secret}


@dataclass(frozen=True)
class Profile:
    """A profile's own fields (times in seconds since the epoch, UTC)."""

    profile_id: str
    name: str
    created: int
    updated: int
    consent_to_training: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile_id,
            "name": self.name,
            "created": self.created,
            "updated": self.updated,
            "consent_to_training": self.consent_to_training,
        }


@dataclass(frozen=True)
class Rating:
    movie_id: int
    stars: float
    rated: int


@dataclass(frozen=True)
class Kept:
    """A movie on a profile's not-interested list or watch list, and when it was put there."""

    movie_id: int
    added: int


@dataclass(frozen=True)
class ProfileData:
    """Everything a profile holds (all but its secret's hash): what :meth:`ProfileStore.export`
    writes, as a dict, and :meth:`ProfileStore.import_profile` reads."""

    profile: Profile
    ratings: list[Rating]
    not_interested: list[Kept]
    watchlist: list[Kept]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "profile": self.profile.to_dict(),
            "ratings": [
                {"movie_id": r.movie_id, "stars": r.stars, "rated": r.rated} for r in self.ratings
            ],
            "not_interested": [
                {"movie_id": k.movie_id, "added": k.added} for k in self.not_interested
            ],
            "watchlist": [{"movie_id": k.movie_id, "added": k.added} for k in self.watchlist],
        }


def hash_secret(secret: str) -> str:
    """The stored form of a secret: SHA-256, hex (a 256-bit random token needs no slow hash:
    there is no dictionary to try)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> int:
    return int(time.time())


class ProfileStore:
    """The profiles of one database (see the module's docstring). Open it with :meth:`open`
    and close it (or use ``with``); it is safe to share between threads, and several programs
    may open the same database at once."""

    def __init__(self, database: Database, scale: tuple[float, float, float] = DEFAULT_SCALE):
        self.database = database
        self.scale = scale
        ratings = schema.ratings
        upsert = self._insert(ratings).values(
            profile_id=_ID, movie_id=_MOVIE, stars=bindparam("stars"), rated=bindparam("rated")
        )
        self._rating_upsert = upsert.on_conflict_do_update(  # built once: a rating's hot path
            index_elements=[ratings.c.profile_id, ratings.c.movie_id],
            set_={"stars": upsert.excluded.stars, "rated": upsert.excluded.rated},
        )

    @classmethod
    def open(
        cls,
        db: str | Path | None = None,
        scale: tuple[float, float, float] = DEFAULT_SCALE,
        create: bool = True,
    ) -> ProfileStore:
        """The store in ``db``: a SQLite file's path, a ``postgresql://…`` URL, or None for
        ``profiles.db`` in movierec's cache folder; made when missing (unless ``create`` is
        False: then a database without profiles is refused), migrated when an older movierec
        made it (see :func:`movierec.profiles.database.open_database`). ``scale`` is
        (lowest, highest, step) of the stars :meth:`rate` accepts."""
        return cls(open_database(db, create), _checked_scale(scale))

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> ProfileStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ProfileStore({self.database.shown_as})"

    # ---- profiles -----------------------------------------------------------------------
    def create(self, name: str = "", consent_to_training: bool = False) -> NewProfile:
        """A new profile: its public id and its secret (keep it: only its hash is stored)."""
        name = _checked_name(name)
        now = _now()
        with self.database.writing() as connection:
            return self._new(connection, name, now, now, bool(consent_to_training))

    def _new(
        self, connection: Connection, name: str, created: int, updated: int, consent: bool
    ) -> NewProfile:
        """A profile row under a free id, with a new secret (its hash stored)."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        profile_id = self._free_id(connection)
        connection.execute(
            insert(schema.profiles).values(
                id=profile_id,
                secret_hash=hash_secret(secret),
                name=name,
                created=created,
                updated=updated,
                consent_to_training=consent,
            )
        )
        return NewProfile(profile_id, secret)

    @staticmethod
    def _free_id(connection: Connection) -> str:
        while True:  # 72 random bits: a second draw is already a curiosity
            profile_id = secrets.token_urlsafe(ID_BYTES)
            taken = connection.execute(
                select(schema.profiles.c.id).where(schema.profiles.c.id == profile_id)
            ).first()
            if taken is None:
                return profile_id

    def profiles(self) -> list[Profile]:
        """Every profile, oldest first."""
        columns = schema.profiles.c
        with self.database.reading() as connection:
            rows = connection.execute(
                select(*_profile_columns()).order_by(columns.created, columns.id)
            ).all()
        return [Profile(*row) for row in rows]

    def idle_profiles(self, seconds: float) -> list[Profile]:
        """The profiles nothing changed in for at least ``seconds`` (by their ``updated``
        time), oldest change first: candidates for :meth:`delete` when a page makes a profile
        on a first rating and its visitor never comes back."""
        before = _now() - seconds
        columns = schema.profiles.c
        with self.database.reading() as connection:
            rows = connection.execute(
                select(*_profile_columns())
                .where(columns.updated <= before)
                .order_by(columns.updated, columns.id)
            ).all()
        return [Profile(*row) for row in rows]

    def profile(self, profile_id: str) -> Profile:
        """One profile's fields; MovieRecError when there is none with this id."""
        with self.database.reading() as connection:
            return self._profile(connection, profile_id)

    def _profile(self, connection: Connection, profile_id: str) -> Profile:
        _checked_id(profile_id)
        row = connection.execute(_PROFILE, {"profile_id": profile_id}).first()
        if row is None:
            raise self._no_such(profile_id)
        return Profile(*row)

    def _no_such(self, profile_id: str) -> MovieRecError:
        return MovieRecError(
            f"no profile {shown(profile_id)} in {self.database.shown_as}; "
            "`movierec profile list` names them"
        )

    def check_secret(self, profile_id: str, secret: str) -> bool:
        """Whether ``secret`` is this profile's, compared in constant time (an unknown or
        malformed id takes the same path and is simply False)."""
        stored = _DUMMY_HASH
        if isinstance(profile_id, str) and _ID_PATTERN.fullmatch(profile_id):
            (found,) = self.database.query((_SECRET_HASH, {"profile_id": profile_id}))
            stored = str(found[0][0]) if found else _DUMMY_HASH
        plausible = isinstance(secret, str) and len(secret) <= MAX_SECRET_LENGTH
        given = hash_secret(secret) if plausible else ""
        return hmac.compare_digest(stored, given) and stored != _DUMMY_HASH

    def new_secret(self, profile_id: str) -> str:
        """Replace a profile's secret (the old one, and every link holding it, stops working)
        and return the new one."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        self._update(profile_id, secret_hash=hash_secret(secret))
        return secret

    def set_name(self, profile_id: str, name: str) -> None:
        self._update(profile_id, name=_checked_name(name))

    def set_consent(self, profile_id: str, consent_to_training: bool) -> None:
        """Whether this profile's ratings may join a training run (``train --with-profiles``)."""
        self._update(profile_id, consent_to_training=bool(consent_to_training))

    def _update(self, profile_id: str, **values: Any) -> None:
        with self.database.writing() as connection:
            self._profile(connection, profile_id)
            connection.execute(
                update(schema.profiles)
                .where(schema.profiles.c.id == profile_id)
                .values(updated=_now(), **values)
            )

    def delete(self, profile_id: str) -> dict[str, int]:
        """Delete a profile and every row it owns; how many rows went from each table."""
        with self.database.writing() as connection:
            self._profile(connection, profile_id)
            removed = {}
            for table in schema.PROFILE_TABLES:
                done = connection.execute(delete(table).where(table.c.profile_id == profile_id))
                removed[table.name] = done.rowcount
            connection.execute(delete(schema.profiles).where(schema.profiles.c.id == profile_id))
            removed["profiles"] = 1
        return removed

    # ---- ratings, not interested, watch list ---------------------------------------------
    def rate(self, profile_id: str, movie_id: int, stars: float, rated: int | None = None) -> None:
        """Rate a movie (rating it again replaces the rating); a rated movie leaves the watch
        list, as it has been seen."""
        movie_id = _checked_movie(movie_id)
        stars = self._checked_stars(stars)
        rated = _now() if rated is None else _checked_time(rated, "rated")
        given = {"profile_id": _checked_id(profile_id), "movie_id": movie_id, "stars": stars}
        given.update(rated=rated, now=_now())
        touched = self.database.change(
            (_TOUCH, given), (self._rating_upsert, given), (_UNWATCH, given)
        )
        if not touched:  # checked inside the write: a profile deleted meanwhile gets nothing
            raise self._no_such(profile_id)

    def unrate(self, profile_id: str, movie_id: int) -> bool:
        """Remove a rating; whether there was one."""
        return self._remove(schema.ratings, profile_id, movie_id)

    def hide(self, profile_id: str, movie_id: int) -> None:
        """Mark a movie "not interested": it never comes back as a pick."""
        self._keep(schema.not_interested, profile_id, movie_id)

    def unhide(self, profile_id: str, movie_id: int) -> bool:
        return self._remove(schema.not_interested, profile_id, movie_id)

    def watch(self, profile_id: str, movie_id: int) -> None:
        """Put a movie on the watch list."""
        self._keep(schema.watchlist, profile_id, movie_id)

    def unwatch(self, profile_id: str, movie_id: int) -> bool:
        return self._remove(schema.watchlist, profile_id, movie_id)

    def ratings(self, profile_id: str) -> list[Rating]:
        return self.profile_data(profile_id).ratings

    def profile_data(self, profile_id: str) -> ProfileData:
        """Everything one profile holds, read in one transaction."""
        given = {"profile_id": _checked_id(profile_id)}
        found, ratings, hidden, watched = self.database.query(
            (_PROFILE, given), (_RATINGS, given), (_KEPT[0], given), (_KEPT[1], given)
        )
        if not found:
            raise self._no_such(profile_id)
        name, created, updated, consent = found[0][1:]
        profile = Profile(profile_id, str(name), int(created), int(updated), bool(consent))
        return ProfileData(
            profile,
            [Rating(int(m), float(s), int(t)) for m, s, t in ratings],
            [Kept(int(m), int(t)) for m, t in hidden],
            [Kept(int(m), int(t)) for m, t in watched],
        )

    def counts(self, profile_id: str) -> tuple[int, int, int]:
        """How many ratings, "not interested" movies and watch-list entries a profile holds
        (one query); MovieRecError when there is no such profile."""
        _checked_id(profile_id)
        (found,) = self.database.query((_COUNTS, {"profile_id": profile_id}))
        if not found:
            raise self._no_such(profile_id)
        return int(found[0][0]), int(found[0][1]), int(found[0][2])

    def consenting_ratings(self) -> list[tuple[str, int, float, int]]:
        """(profile id, movie_id, stars, time) of every rating of every profile that consents
        to training, in that order."""
        ratings, profiles = schema.ratings, schema.profiles
        with self.database.reading() as connection:
            rows = connection.execute(
                select(ratings.c.profile_id, ratings.c.movie_id, ratings.c.stars, ratings.c.rated)
                .join(profiles, profiles.c.id == ratings.c.profile_id)
                .where(profiles.c.consent_to_training.is_(True))
                .order_by(ratings.c.profile_id, ratings.c.movie_id)
            ).all()
        return [(str(p), int(m), float(s), int(t)) for p, m, s, t in rows]

    def _insert(self, table: Table) -> Any:
        dialect = sqlite if self.database.is_sqlite else postgresql
        return dialect.insert(table)

    def _touch(self, connection: Connection, profile_id: str) -> None:
        """Mark the profile changed now; MovieRecError when it does not exist (checked inside
        the write, so a profile deleted meanwhile is never written to)."""
        _checked_id(profile_id)
        done = connection.execute(_TOUCH, {"profile_id": profile_id, "now": _now()})
        if done.rowcount == 0:
            self._profile(connection, profile_id)  # raises, naming it

    @staticmethod
    def _without(table: Table, profile_id: str, movie_id: int) -> Any:
        return delete(table).where(table.c.profile_id == profile_id, table.c.movie_id == movie_id)

    def _keep(self, table: Table, profile_id: str, movie_id: int) -> None:
        movie_id = _checked_movie(movie_id)
        with self.database.writing() as connection:
            self._touch(connection, profile_id)
            connection.execute(
                self._insert(table)
                .values(profile_id=profile_id, movie_id=movie_id, added=_now())
                .on_conflict_do_nothing()
            )

    def _remove(self, table: Table, profile_id: str, movie_id: int) -> bool:
        movie_id = _checked_movie(movie_id)
        with self.database.writing() as connection:
            self._touch(connection, profile_id)
            return bool(connection.execute(self._without(table, profile_id, movie_id)).rowcount)

    def _checked_stars(self, stars: float) -> float:
        low, high, step = self.scale
        is_number = isinstance(stars, (int, float)) and not isinstance(stars, bool)
        value = float(stars) if is_number else math.nan
        steps = (value - low) / step if math.isfinite(value) else math.nan
        if not (low <= value <= high and abs(steps - round(steps)) < 1e-9):
            raise MovieRecError(
                f"{shown(stars)} stars is not a rating: give {low:g} to {high:g} in steps of "
                f"{step:g}"
            )
        return value

    # ---- export and import --------------------------------------------------------------
    def export(self, profile_id: str) -> dict[str, Any]:
        """Everything a profile holds as a JSON-ready dict (its secret's hash left out)."""
        return self.profile_data(profile_id).to_dict()

    def import_profile(self, exported: Mapping[str, Any]) -> NewProfile:
        """A new profile holding what :meth:`export` wrote (its name, consent, ratings and
        lists, with their times), under a new id and a new secret; MovieRecError, naming the
        fault, for anything else."""
        data = _read_export(exported)
        stars = [self._checked_stars(r.stars) for r in data.ratings]
        profile = data.profile
        with self.database.writing() as connection:
            new = self._new(
                connection, profile.name, profile.created, _now(), profile.consent_to_training
            )
            profile_id = new.profile_id
            rows: dict[Table, list[dict[str, Any]]] = {
                schema.ratings: [
                    {"profile_id": profile_id, "movie_id": r.movie_id, "stars": s, "rated": r.rated}
                    for r, s in zip(data.ratings, stars)
                ],
                schema.not_interested: _kept_dicts(profile_id, data.not_interested),
                schema.watchlist: _kept_dicts(profile_id, data.watchlist),
            }
            for table, values in rows.items():
                if values:
                    connection.execute(insert(table), values)
        return new


def _profile_columns() -> tuple[Any, ...]:
    c = schema.profiles.c
    return (c.id, c.name, c.created, c.updated, c.consent_to_training)


# The reads every web request makes, built once (each call only binds the profile id).
_ID = bindparam("profile_id", type_=schema.profiles.c.id.type)
_SECRET_HASH = select(schema.profiles.c.secret_hash).where(schema.profiles.c.id == _ID)
_PROFILE = select(*_profile_columns()).where(schema.profiles.c.id == _ID)
_RATINGS = (
    select(schema.ratings.c.movie_id, schema.ratings.c.stars, schema.ratings.c.rated)
    .where(schema.ratings.c.profile_id == _ID)
    .order_by(schema.ratings.c.movie_id)
)
_KEPT = [
    select(table.c.movie_id, table.c.added)
    .where(table.c.profile_id == _ID)
    .order_by(table.c.movie_id)
    for table in (schema.not_interested, schema.watchlist)
]
_MOVIE = bindparam("movie_id", type_=schema.ratings.c.movie_id.type)
_TOUCH = update(schema.profiles).where(schema.profiles.c.id == _ID).values(updated=bindparam("now"))
_UNWATCH = delete(schema.watchlist).where(
    schema.watchlist.c.profile_id == _ID, schema.watchlist.c.movie_id == _MOVIE
)
_COUNTS = select(
    *(
        select(func.count())
        .select_from(table)
        .where(table.c.profile_id == schema.profiles.c.id)
        .scalar_subquery()
        for table in (schema.ratings, schema.not_interested, schema.watchlist)
    )
).where(schema.profiles.c.id == _ID)


def _kept_dicts(profile_id: str, kept: Iterable[Kept]) -> list[dict[str, Any]]:
    return [{"profile_id": profile_id, "movie_id": k.movie_id, "added": k.added} for k in kept]


# ---- checks -------------------------------------------------------------------------------
def _checked_id(profile_id: str) -> str:
    if not isinstance(profile_id, str) or not _ID_PATTERN.fullmatch(profile_id):
        raise MovieRecError(
            f"{shown(profile_id)} is not a profile id (up to 16 letters, digits, - and _); "
            "`movierec profile list` names them"
        )
    return profile_id


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or len(name) > schema.NAME_LENGTH:
        raise MovieRecError(f"a profile's name is text of at most {schema.NAME_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise MovieRecError(f"the name {shown(name)} holds control characters; leave them out")
    return name.strip()


def _checked_movie(movie_id: int) -> int:
    if (
        isinstance(movie_id, bool)
        or not isinstance(movie_id, int)
        or not (0 <= movie_id <= _MAX_MOVIE_ID)
    ):
        raise MovieRecError(f"{shown(movie_id)} is not a movie id (a whole number from 0)")
    return int(movie_id)


def _checked_time(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise MovieRecError(f"{what} {shown(value)} is not a time (whole seconds since 1970)")
    return int(value)


def _checked_scale(scale: tuple[float, float, float]) -> tuple[float, float, float]:
    low, high, step = (float(v) for v in scale)
    if not (math.isfinite(low) and math.isfinite(high) and low < high and step > 0):
        raise MovieRecError(f"{scale} is not a rating scale (lowest < highest, step > 0)")
    return low, high, step


def _read_export(exported: Mapping[str, Any]) -> ProfileData:
    """What an export holds, checked field by field; MovieRecError naming the first fault."""
    if not isinstance(exported, Mapping) or exported.get("format") != EXPORT_FORMAT:
        raise MovieRecError(
            f'this is not a movierec profile export (no "format": "{EXPORT_FORMAT}"); give '
            "a file written by `movierec profile export`"
        )
    version = exported.get("version")
    if version != EXPORT_VERSION:
        raise MovieRecError(
            f"this profile export has version {shown(version)}; this movierec reads version "
            f"{EXPORT_VERSION} (upgrade movierec for a newer one)"
        )
    expected = {"format", "version", "profile", "ratings", "not_interested", "watchlist"}
    if set(exported) != expected:
        odd = sorted(set(exported) ^ expected)
        raise MovieRecError(f"the profile export's fields are wrong ({', '.join(odd)})")
    own = exported["profile"]
    if not isinstance(own, Mapping):
        raise MovieRecError('the profile export\'s "profile" must be an object')
    consent = own.get("consent_to_training")
    if not isinstance(consent, bool):
        raise MovieRecError("the profile export's consent_to_training must be true or false")
    created = _checked_time(own.get("created"), "created")
    profile = Profile("", _checked_name(own.get("name", "")), created, created, consent)

    def entries(key: str, fields: set[str], when: str) -> list[dict[str, Any]]:
        items = exported[key]
        if not isinstance(items, list):
            raise MovieRecError(f"the profile export's {key} must be a list")
        seen: set[int] = set()
        for number, item in enumerate(items):
            if not isinstance(item, Mapping) or set(item) != fields:
                raise MovieRecError(
                    f"the profile export's {key}[{number}] must hold exactly "
                    f"{', '.join(sorted(fields))}"
                )
            movie_id = _checked_movie(item["movie_id"])
            if movie_id in seen:
                raise MovieRecError(f"the profile export's {key} lists movie {movie_id} twice")
            seen.add(movie_id)
            _checked_time(item[when], f"{key}[{number}].{when}")
        return items

    ratings = [
        Rating(r["movie_id"], r["stars"], r["rated"])
        for r in entries("ratings", {"movie_id", "stars", "rated"}, "rated")
    ]
    hidden, watched = (
        [Kept(k["movie_id"], k["added"]) for k in entries(key, {"movie_id", "added"}, "added")]
        for key in ("not_interested", "watchlist")
    )
    return ProfileData(profile, ratings, hidden, watched)
