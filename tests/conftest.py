"""Shared fixtures: small MovieLens-format folders built by the tests, the bundled dataset, and
ML-1M when ``MOVIEREC_DATA_DIR`` holds it.

Two tiers and the optional extras, decided here once:

- ``python -m pytest`` runs the fast tier; ``python -m pytest --slow`` adds the tests marked
  ``slow`` (notebook execution, Spark jobs, the browser and server end to end, long CLI fits).
  Every test that starts Spark (uses the ``spark`` fixture) is slow without being marked.
- A test that needs an optional extra (``@pytest.mark.needs("torch")``, or a fixture below that
  calls :func:`require`) skips, naming the extra, where it is missing — and fails instead where
  that extra's ``MOVIEREC_REQUIRE_*`` variable is set (CI sets them all), so CI never skips one
  silently.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)  # tests/test_tiers.py runs a small suite under this file

# Tests never write into the user's real cache.
os.environ.setdefault("MOVIEREC_CACHE_DIR", tempfile.mkdtemp(prefix="movierec-test-cache-"))

SLOW_FLAG = "--slow"
SLOW_LEFT_OUT = pytest.StashKey[int]()
CHROMIUM = "/usr/bin/chromium"
"""The browser the end-to-end tests drive: Debian's Chromium, never a download."""


# ---- optional extras: skip where absent, fail where required ----------------------------------
def _missing_modules(*names: str) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


def _torch_missing() -> str | None:
    if _missing_modules("torch"):
        return "PyTorch is not installed: pip install -e '.[torch]'"
    return None


def _spark_missing() -> str | None:
    from movierec.errors import MovieRecError
    from movierec.spark.session import require_spark

    try:
        require_spark()
    except MovieRecError as exc:
        return str(exc)
    return None


def _browser_missing() -> str | None:
    if _missing_modules("playwright"):
        return "playwright is not installed: pip install -e '.[dev]'"
    if not Path(CHROMIUM).exists():
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def _ml1m_missing() -> str | None:
    data_dir = os.environ.get("MOVIEREC_DATA_DIR")
    if not data_dir or not (Path(data_dir) / "ml-1m" / "ratings.dat").is_file():
        return "ML-1M not available: set MOVIEREC_DATA_DIR to a folder holding ml-1m/"
    return None


def _notebook_missing() -> str | None:
    missing = _missing_modules("nbclient", "nbformat", "ipykernel")
    if missing:
        return f"the notebook's kernel needs {', '.join(missing)}: pip install -e '.[notebook]'"
    return None


POSTGRES_URL = "MOVIEREC_TEST_POSTGRES_URL"
"""A PostgreSQL database the profile tests may empty and fill (.ci/run starts a server)."""


def _postgres_missing() -> str | None:
    if _missing_modules("psycopg"):
        return "psycopg is not installed: pip install -e '.[postgres]'"
    if not os.environ.get(POSTGRES_URL):
        return f"no PostgreSQL to test against: set {POSTGRES_URL} to a database they may empty"
    return None


EXTRAS: dict[str, tuple[str, Callable[[], str | None]]] = {
    "torch": ("MOVIEREC_REQUIRE_TORCH", _torch_missing),
    "spark": ("MOVIEREC_REQUIRE_SPARK", _spark_missing),
    "browser": ("MOVIEREC_REQUIRE_BROWSER", _browser_missing),
    "ml1m": ("MOVIEREC_REQUIRE_ML1M", _ml1m_missing),
    "notebook": ("MOVIEREC_REQUIRE_NOTEBOOK", _notebook_missing),
    "postgres": ("MOVIEREC_REQUIRE_POSTGRES", _postgres_missing),
}
"""Each optional extra: the variable that makes its absence a failure, and the check that says
what is missing (None where it is all there)."""


def require(extra: str) -> None:
    """Skip the calling test when ``extra`` is missing, naming it and how to get it — or fail it
    when the extra's ``MOVIEREC_REQUIRE_*`` variable is set."""
    variable, missing = EXTRAS[extra]
    reason = missing()
    if reason is None:
        return
    if os.environ.get(variable):
        pytest.fail(f"{reason} ({variable} is set)", pytrace=False)
    pytest.skip(reason)


# ---- the two tiers ----------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        SLOW_FLAG,
        action="store_true",
        help="also run the slow tier: tests marked slow and every test that starts Spark",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"slow: the slow tier, run only with {SLOW_FLAG}")
    config.addinivalue_line(
        "markers",
        "needs(extra): needs an optional extra (see EXTRAS in tests/conftest.py): skipped where "
        "it is missing, failed where its MOVIEREC_REQUIRE_* variable is set",
    )
    from hypothesis import settings

    # Property tests: the same examples on every run and machine (CI's run is the run here).
    settings.register_profile("movierec", derandomize=True, database=None)
    settings.load_profile("movierec")


def is_slow(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is not None or "spark" in getattr(
        item, "fixturenames", ()
    )


@pytest.hookimpl(trylast=True)  # after -k and -m have chosen
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ``--slow``, leave the slow tier out (deselected, and counted in the header) —
    unless nothing else was asked for, where it is skipped with the flag to use instead, so that
    ``pytest tests/test_web_e2e.py`` says what to do rather than ending in "no tests ran"."""
    if config.getoption(SLOW_FLAG):
        return
    slow = [item for item in items if is_slow(item)]
    if not slow:
        return
    if len(slow) == len(items):
        marker = pytest.mark.skip(reason=f"slow tier: run with `python -m pytest {SLOW_FLAG}`")
        for item in items:
            item.add_marker(marker)
        return
    items[:] = [item for item in items if not is_slow(item)]
    config.hook.pytest_deselected(items=slow)
    config.stash[SLOW_LEFT_OUT] = len(slow)


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    left_out = config.stash.get(SLOW_LEFT_OUT, 0)
    if left_out:
        return f"fast tier: {left_out} slow tests left out (run everything with {SLOW_FLAG})"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.needs("torch")``: skip or fail before the test's fixtures are set up."""
    for marker in item.iter_markers("needs"):
        for extra in marker.args:
            require(extra)


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
    require("ml1m")
    return Path(os.environ["MOVIEREC_DATA_DIR"])


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
    require("spark")


@pytest.fixture(scope="session")
def spark():
    """The test run's one Spark session (local[2]; starting one takes seconds), stopped at the
    end."""
    require_spark_or_skip()
    from movierec.spark.session import spark_session, stop

    session = spark_session("local[2]")
    yield session
    stop()
