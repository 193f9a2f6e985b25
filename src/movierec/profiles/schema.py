"""The tables of a profile database as the current schema has them (SQLAlchemy Core).

The migrations in ``migrations/versions/`` build exactly this, step by step; a test compares
the two. Times are whole seconds since the epoch (UTC), as MovieLens writes its timestamps, so
that SQLite and PostgreSQL store and return the same values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    MetaData,
    String,
    Table,
)

VERSION_TABLE = "movierec_schema_version"
"""Alembic's record of the schema's revision, named for movierec so that a PostgreSQL database
shared with another Alembic project keeps the two apart."""

PROFILE_ID_LENGTH = 16
NAME_LENGTH = 100

metadata = MetaData()

profiles = Table(
    "profiles",
    metadata,
    Column("id", String(PROFILE_ID_LENGTH), primary_key=True),
    Column("secret_hash", String(64), nullable=False),  # SHA-256 of the secret, hex
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("consent_to_training", Boolean, nullable=False),
    # the last change (revision 0002), so that long-unused profiles can be found and pruned
    Column("updated", BigInteger, nullable=False, server_default="0"),
)


def _per_movie(name: str, *columns: Column[Any]) -> Table:
    """A table of one row per (profile, movie) with ``columns``: a profile's row goes with it."""
    return Table(
        name,
        metadata,
        Column(
            "profile_id",
            String(PROFILE_ID_LENGTH),
            ForeignKey("profiles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("movie_id", BigInteger, primary_key=True, autoincrement=False),
        *columns,
    )


def _owned(name: str) -> Table:
    """A table of movies a profile keeps, with when each was added."""
    return _per_movie(name, Column("added", BigInteger, nullable=False))


ratings = _per_movie(
    "ratings",
    Column("stars", Float, nullable=False),
    Column("rated", BigInteger, nullable=False),
)
not_interested = _owned("not_interested")
watchlist = _owned("watchlist")

PROFILE_TABLES = (ratings, not_interested, watchlist)
"""The tables whose rows belong to one profile (deleting a profile deletes its rows in each)."""
