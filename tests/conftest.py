"""Shared fixtures: small MovieLens-format folders built by the tests, the bundled dataset, and
ML-1M when ``MOVIEREC_DATA_DIR`` holds it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Tests never write into the user's real cache.
os.environ.setdefault("MOVIEREC_CACHE_DIR", tempfile.mkdtemp(prefix="movierec-test-cache-"))


def write_dat_dataset(root: Path, ratings: list[str], movies: list[str] | None = None) -> Path:
    """A folder ``root/ml-1m`` with ``::``-separated files (movies Latin-1 encoded)."""
    folder = root / "ml-1m"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ratings.dat").write_text("".join(line + "\n" for line in ratings))
    movies = movies or [
        "1::Toy Story (1995)::Animation|Children's|Comedy",
        "2::Jumanji (1995)::Adventure|Children's|Fantasy",
        "3::Man Bites Dog (C'est arrivé près de chez vous) (1992)::Action|Comedy|Crime|Drama",
        "4::Matrix, The (1999)::Action|Sci-Fi|Thriller",
    ]
    (folder / "movies.dat").write_bytes("".join(m + "\n" for m in movies).encode("latin-1"))
    return folder


@pytest.fixture(scope="session")
def ml1m_dir() -> Path:
    """The data dir holding real ML-1M, or skip — or fail, when ``MOVIEREC_REQUIRE_ML1M`` is
    set (CI sets it where ML-1M is present, so those tests can never be skipped silently)."""
    data_dir = os.environ.get("MOVIEREC_DATA_DIR")
    if not data_dir or not (Path(data_dir) / "ml-1m" / "ratings.dat").is_file():
        reason = "ML-1M not available: set MOVIEREC_DATA_DIR to a folder holding ml-1m/"
        if os.environ.get("MOVIEREC_REQUIRE_ML1M"):
            pytest.fail(f"{reason} (MOVIEREC_REQUIRE_ML1M is set)")
        pytest.skip(reason)
    return Path(data_dir)


@pytest.fixture(scope="session")
def ml1m(ml1m_dir: Path):
    from movierec import load_dataset

    return load_dataset("ml-1m", ml1m_dir)


@pytest.fixture(scope="session")
def ml1m_recommender(ml1m):
    from movierec import Recommender

    return Recommender.train(ml1m)


@pytest.fixture(scope="session")
def small():
    """The bundled ml-latest-small dataset (no data dir needed)."""
    from movierec import load_dataset

    return load_dataset("ml-latest-small", data_dir=Path(tempfile.mkdtemp()))


@pytest.fixture(scope="session")
def small_recommender(small):
    from movierec import Recommender

    return Recommender.train(small)


def require_spark_or_skip() -> None:
    """Skip when pyspark or Java is missing — or fail, when ``MOVIEREC_REQUIRE_SPARK`` is set
    (CI sets it, so the Spark tests can never be skipped silently)."""
    from movierec.errors import MovieRecError
    from movierec.spark.session import require_spark

    try:
        require_spark()
    except MovieRecError as exc:
        if os.environ.get("MOVIEREC_REQUIRE_SPARK"):
            pytest.fail(f"{exc} (MOVIEREC_REQUIRE_SPARK is set)")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def spark():
    """The test run's one Spark session (local[2]; starting one takes seconds), stopped at the
    end."""
    require_spark_or_skip()
    from movierec.spark.session import spark_session, stop

    session = spark_session("local[2]")
    yield session
    stop()
