"""The profile databases the profile tests run against: a fresh SQLite file, and PostgreSQL
where ``MOVIEREC_TEST_POSTGRES_URL`` names a database they may empty (skipped otherwise, or
failed where ``MOVIEREC_REQUIRE_POSTGRES`` is set: tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import POSTGRES_URL, require

BACKENDS = ["sqlite", "postgresql"]
TABLES = ("watchlist", "not_interested", "ratings", "profiles", "movierec_schema_version")


def empty_postgres() -> str:
    """The test PostgreSQL database's URL, emptied of movierec's tables."""
    require("postgres")
    from sqlalchemy import create_engine, text

    url = os.environ[POSTGRES_URL]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as connection:
            for table in TABLES:
                connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    finally:
        engine.dispose()
    return url


def database_for(backend: str, folder: Path) -> str:
    return str(folder / "profiles.db") if backend == "sqlite" else empty_postgres()


@pytest.fixture(params=BACKENDS, name="db")
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty profile database: a SQLite file's path, or a PostgreSQL URL."""
    return database_for(request.param, tmp_path)
