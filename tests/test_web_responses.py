"""Every JSON answer is checked against the model its route declares (``response_model``): an
answer that does not fit is a 500 that shows nothing of it, never a body passed through; and
an answer that fits is written byte for byte as before, a scored movie by ``Scored.to_dict``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from movierec import Recommender
from movierec.catalogue import Movie
from movierec.recommender import Scored
from movierec.web import routes
from movierec.web.app import create_app
from movierec.web.schemas import Health

LIKED = [1, 260, 2571]
FARGO = 608
GENERIC_500 = {"detail": "internal server error; the request was not completed"}

# Each JSON route of the API, as one request.
MOVIE_ROUTES = [
    ("GET", "/api/movies/search", {"params": {"q": "toy", "n": 3}}),
    ("GET", "/api/movies/1", {}),
    ("GET", "/api/popular", {"params": {"n": 3}}),
]
SCORED_ROUTES = [
    ("GET", "/api/movies/1/similar", {"params": {"n": 3}}),
    ("POST", "/api/recommend", {"json": {"liked": LIKED, "n": 3, "explain": True}}),
    ("POST", "/api/score", {"json": {"liked": LIKED, "movie_id": FARGO}}),
]


@pytest.fixture(scope="module")
def client(small_recommender: Recommender) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(create_app(small_recommender), raise_server_exceptions=False) as test_client:
        yield test_client


def refused(response: Any, *leaked: str) -> None:
    """A 500 with the generic message, showing none of ``leaked``."""
    assert response.status_code == 500
    assert response.json() == GENERIC_500
    assert not any(text in response.text for text in leaked)


def changed(
    to_dict: Callable[..., dict[str, Any]], change: Callable[[dict[str, Any]], None]
) -> Callable[..., dict[str, Any]]:
    """``to_dict`` with ``change`` made to what it returns."""

    def wrong(*args: Any) -> dict[str, Any]:
        out = to_dict(*args)
        change(out)
        return out

    return wrong


# Answers that do not fit their model: a field missing, of the wrong JSON type (strictly: a
# string of digits is not an integer), or one the model does not have.
WRONG_SHAPES: dict[str, Callable[[dict[str, Any]], None]] = {
    "a field missing": lambda out: out.pop("genres"),
    "a wrong type": lambda out: out.update(year="1995"),
    "an unknown field": lambda out: out.update(internal_path="/srv/secret"),
}


@pytest.mark.parametrize("method, url, kwargs", MOVIE_ROUTES)
@pytest.mark.parametrize("shape", WRONG_SHAPES)
def test_movies_that_do_not_fit_their_model_are_a_500(
    client: Any, monkeypatch: pytest.MonkeyPatch, method: str, url: str, kwargs: Any, shape: str
) -> None:
    monkeypatch.setattr(routes.Served, "info", changed(routes.Served.info, WRONG_SHAPES[shape]))
    refused(client.request(method, url, **kwargs), "/srv/secret")
    monkeypatch.undo()
    assert client.request(method, url, **kwargs).status_code == 200


SCORE_SHAPES: dict[str, Callable[[dict[str, Any]], None]] = {
    "a score that is text": lambda out: out.update(score="high"),
    "a because that is not a list": lambda out: out.update(because="Toy Story (1995)"),
    "an unknown field": lambda out: out.update(internal_path="/srv/secret"),
}


@pytest.mark.parametrize("method, url, kwargs", SCORED_ROUTES)
@pytest.mark.parametrize(
    "source, shape",
    [(Movie, shape) for shape in WRONG_SHAPES] + [(Scored, shape) for shape in SCORE_SHAPES],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_scored_movies_that_do_not_fit_their_model_are_a_500(
    client: Any,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    url: str,
    kwargs: Any,
    source: type,
    shape: str,
) -> None:
    """A scored movie is its movie's fields (``Movie.to_dict``) and the score's
    (``Scored.to_dict``): either going wrong is refused."""
    change = (WRONG_SHAPES if source is Movie else SCORE_SHAPES)[shape]
    monkeypatch.setattr(source, "to_dict", changed(source.to_dict, change))  # type: ignore[attr-defined]
    refused(client.request(method, url, **kwargs), "/srv/secret", "high")
    monkeypatch.undo()
    assert client.request(method, url, **kwargs).status_code == 200


def test_stats_that_do_not_fit_their_model_are_a_500(client: Any) -> None:
    app = client.app
    served = app.state.served
    app.state.served = dataclasses.replace(served, summary=Health(dataset="secret", movies=1))
    try:
        refused(client.get("/api/stats"), "secret")
    finally:
        app.state.served = served
    assert client.get("/api/stats").status_code == 200


def test_a_health_check_that_does_not_fit_its_model_is_a_500(
    client: Any, small_recommender: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Nameless:
        name = 5  # not a string: the model refuses it, it is not coerced

    monkeypatch.setattr(small_recommender, "dataset", Nameless())
    refused(client.get("/healthz"))
    monkeypatch.undo()
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("method, url, kwargs", SCORED_ROUTES)
def test_scored_movies_are_written_as_before(
    client: Any, small_recommender: Recommender, method: str, url: str, kwargs: Any
) -> None:
    """The bytes of a scored answer: the movie's fields, then the score (to six places) and
    ``because`` or ``liked`` when set, compact, non-ASCII as UTF-8."""
    response = client.request(method, url, **kwargs)
    if url == "/api/score":
        scored = [small_recommender.score(LIKED, FARGO)]
    elif url == "/api/recommend":
        scored = list(small_recommender.recommend(LIKED, 3, explain=True))
    else:
        scored = list(small_recommender.similar(1, 3))
    expected = [
        {
            "movie_id": item.movie.movie_id,
            "title": item.movie.title,
            "genres": list(item.movie.genres),
            "year": item.movie.year,
            "score": round(float(item.score), 6),
            **({"because": list(item.because)} if item.because is not None else {}),
            **({"liked": item.liked} if item.liked is not None else {}),
        }
        for item in scored
    ]
    content = expected[0] if url == "/api/score" else expected
    assert response.content == json.dumps(
        content, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    assert response.headers["content-type"] == "application/json"
