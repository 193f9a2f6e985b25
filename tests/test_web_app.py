"""How the web app is put together: state prepared by the lifespan, and work that grows with the
model, the catalogue or the body done on the event loop when the model answers quickly (timed at
start-up), in worker threads otherwise."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from movierec import Recommender
from movierec.web import body as web_body
from movierec.web.app import create_app
from movierec.web.body import PARSE_IN_THREAD_BYTES
from movierec.web.routes import Served

LIKED = [1, 260, 2571]


@pytest.fixture(scope="module")
def client(small_recommender: Recommender) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(create_app(small_recommender)) as test_client:
        yield test_client


def where_it_runs(seen: list[str], function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, recording whether each call ran on an event loop or in a worker thread."""

    def spy(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            seen.append("event loop")
        except RuntimeError:
            seen.append("worker thread")
        return function(*args, **kwargs)

    return spy


def test_state_is_prepared_by_the_lifespan(small_recommender: Recommender) -> None:
    from fastapi.testclient import TestClient

    app = create_app(small_recommender)
    assert not hasattr(app.state, "served")
    with TestClient(app) as client:
        assert isinstance(app.state.served, Served)
        assert app.state.served.recommender is small_recommender
        assert client.get("/healthz").json()["movies"] == len(small_recommender.items)


@pytest.mark.parametrize(
    "method, url, kwargs, work",
    [
        ("POST", "/api/recommend", {"json": {"liked": LIKED}}, "recommend"),
        ("POST", "/api/score", {"json": {"liked": LIKED, "movie_id": 608}}, "score"),
        ("GET", "/api/movies/1/similar", {}, "similar"),
        ("GET", "/api/movies/search", {"params": {"q": "toy"}}, "search"),
    ],
)
@pytest.mark.parametrize("inline", [True, False], ids=["quick model", "slow model"])
def test_model_work_runs_where_the_start_up_timing_says(
    small_recommender: Recommender,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    work: str,
    inline: bool,
) -> None:
    from fastapi.testclient import TestClient

    from movierec.web import routes

    monkeypatch.setattr(routes, "INLINE_SECONDS", 10.0 if inline else 0.0)
    seen: list[str] = []
    with TestClient(create_app(small_recommender)) as client:
        monkeypatch.setattr(
            small_recommender, work, where_it_runs(seen, getattr(small_recommender, work))
        )
        assert client.request(method, url, **kwargs).status_code == 200
    assert seen == ["event loop" if inline else "worker thread"]


def test_the_start_up_timing_decides_where_answers_are_computed(
    small_recommender: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movierec.web import routes

    monkeypatch.setattr(routes, "INLINE_SECONDS", 10.0)
    assert Served.prepare(small_recommender).inline
    monkeypatch.setattr(routes, "INLINE_SECONDS", 0.0)
    assert not Served.prepare(small_recommender).inline


@pytest.mark.parametrize(
    "padding, expected", [(0, "event loop"), (PARSE_IN_THREAD_BYTES, "worker thread")]
)
def test_large_bodies_are_parsed_off_the_event_loop(
    client: Any, monkeypatch: pytest.MonkeyPatch, padding: int, expected: str
) -> None:
    seen: list[str] = []
    monkeypatch.setattr(web_body, "parse_json_body", where_it_runs(seen, web_body.parse_json_body))
    body = json.dumps({"liked": LIKED, "n": 2}) + " " * padding
    response = client.post(
        "/api/recommend", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200 and len(response.json()) == 2
    assert seen == [expected]
