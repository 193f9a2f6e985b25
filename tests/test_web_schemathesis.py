"""The JSON API against its own OpenAPI schema: schemathesis generates requests from the schema,
valid ones and ones that break it, and sends them in-process over ASGI, checking that no answer
is a 5xx and that every answer has a documented status, content type and shape.

Bounded to a few seconds: a handful of examples per operation and mode, no deadline, and
derandomized without an example database, so that a run in CI is the run here. Schemathesis'
own ``@schema.parametrize`` needs a pytest private attribute that pytest 9 dropped, so each
operation's strategy is drawn here with Hypothesis directly."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from movierec import Recommender
from movierec.web import create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EXAMPLES = 20
OPERATIONS = [
    ("GET", "/api/movies/search"),
    ("GET", "/api/movies/{movie_id}"),
    ("GET", "/api/movies/{movie_id}/similar"),
    ("POST", "/api/recommend"),
    ("POST", "/api/score"),
    ("GET", "/api/popular"),
    ("GET", "/api/stats"),
    ("GET", "/healthz"),
    ("GET", "/api/session"),
    ("POST", "/api/profile"),
    ("DELETE", "/api/profile"),
    ("GET", "/api/profile"),
    ("POST", "/api/profile/open"),
    ("POST", "/api/profile/link"),
    ("POST", "/api/profile/share"),
    ("GET", "/api/profile/recommendations"),
    ("GET", "/api/profile/export"),
    ("PUT", "/api/profile/ratings/{movie_id}"),
    ("DELETE", "/api/profile/ratings/{movie_id}"),
    ("PUT", "/api/profile/hidden/{movie_id}"),
    ("DELETE", "/api/profile/hidden/{movie_id}"),
    ("PUT", "/api/profile/watchlist/{movie_id}"),
    ("DELETE", "/api/profile/watchlist/{movie_id}"),
    ("POST", "/api/movie-night"),
]


# Operations that take parameters or a body, so that there is something to break.
WITHOUT_INPUT = {
    ("GET", "/api/stats"),
    ("GET", "/healthz"),
    ("GET", "/api/session"),
    ("POST", "/api/profile"),
    ("DELETE", "/api/profile"),
    ("GET", "/api/profile"),
    ("POST", "/api/profile/link"),
    ("POST", "/api/profile/share"),
    ("GET", "/api/profile/export"),
}
WITH_INPUT = [op for op in OPERATIONS if op not in WITHOUT_INPUT]
CASES = [(*op, GenerationMode.POSITIVE) for op in OPERATIONS] + [
    (*op, GenerationMode.NEGATIVE) for op in WITH_INPUT
]


def whole_numbers_as_integers(value: Any) -> Any:
    """JSON Schema counts ``5.0`` as an integer, so schemathesis sends it as valid data; the API
    is stricter (a JSON integer is written ``5``; tests/test_web_strict.py checks that ``5.0``
    is refused), so positive examples are sent with their whole numbers written as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [whole_numbers_as_integers(item) for item in value]
    if isinstance(value, dict):
        return {key: whole_numbers_as_integers(item) for key, item in value.items()}
    return value


@pytest.fixture(scope="module")
def api_schema(small_recommender: Recommender, tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("profiles") / "profiles.db"
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(small_recommender, db))


def test_every_operation_of_the_schema_is_fuzzed(api_schema: Any) -> None:
    documented = {
        (operation.method.upper(), operation.path)
        for result in api_schema.get_all_operations()
        for operation in [result.ok()]
    }
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize("method, path, mode", CASES)
def test_answers_conform_to_the_schema(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: Any) -> None:
        if mode is GenerationMode.POSITIVE and isinstance(case.body, (dict, list)):
            case.body = whole_numbers_as_integers(case.body)
        case.call_and_validate()

    conforms()
