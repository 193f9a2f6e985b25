"""How the web app is put together: state prepared by the lifespan, and work that grows with the
model, the catalogue or the body done on the event loop when a fixed rule on the model says it
answers quickly (``routes.runs_inline``), in worker threads otherwise."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from movierec import Recommender
from movierec.web import body as web_body
from movierec.web import routes
from movierec.web.app import create_app
from movierec.web.body import PARSE_IN_THREAD_BYTES
from movierec.web.routes import Served, runs_inline

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
def test_model_work_runs_where_the_rule_says(
    small_recommender: Recommender,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    work: str,
    inline: bool,
) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.setattr(routes, "runs_inline", lambda *args: inline)
    seen: list[str] = []
    with TestClient(create_app(small_recommender)) as client:
        monkeypatch.setattr(
            small_recommender, work, where_it_runs(seen, getattr(small_recommender, work))
        )
        assert client.request(method, url, **kwargs).status_code == 200
    assert seen == ["event loop" if inline else "worker thread"]


@pytest.mark.parametrize(
    "family, movies, factors, inline",
    [
        ("ease", 3_883, 0, True),  # the default on ML-1M
        ("ease", 10_000, 0, True),
        ("ease", 10_001, 0, False),  # a huge catalogue
        ("ials", 3_883, 64, True),
        ("ials", 62_423, 64, False),  # ials-large on ML-25M's catalogue
        ("als", 3_883, 128, True),
        ("als", 3_883, 256, False),  # als-tuned: a 256 × 256 solve each answer
        ("mult-vae", 3_883, 0, True),
        ("itemknn", 3_883, 0, True),
        ("pop", 3_883, 0, True),
        ("spark-als", 3_883, 64, True),
        ("bpr", 3_883, 25, False),  # its fold-in is an optimisation
        ("mine", 100, 0, False),  # a family registered elsewhere: not known to be quick
    ],
)
def test_where_answers_run_is_a_rule_on_the_model(
    family: str, movies: int, factors: int, inline: bool
) -> None:
    assert runs_inline(family, movies, factors) is inline


def test_every_start_decides_alike_however_long_the_answers_take(
    small_recommender: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same model runs in the same place on a quiet and on a busy machine: nothing is
    timed (before, a start-up whose seven timed answers took over 1 ms chose the threads)."""
    expected = runs_inline("ease", len(small_recommender.popularity))
    assert small_recommender.settings.model == "ease" and expected
    decided = [Served.prepare(small_recommender).inline for _ in range(3)]
    recommend = small_recommender.recommend

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.005)  # a loaded machine
        return recommend(*args, **kwargs)

    monkeypatch.setattr(small_recommender, "recommend", slow)
    decided.append(Served.prepare(small_recommender).inline)
    assert decided == [expected] * 4


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


def test_a_factor_model_with_many_factors_answers_in_threads(small: Any) -> None:
    """The served model's own factor count reaches the rule (als-tuned's 256: a 256 × 256 solve
    for each answer)."""
    from movierec.settings import Settings

    wide = Recommender.train(small, Settings.preset("als-tuned", iterations=1))
    assert runs_inline("als", len(wide.popularity))
    assert not Served.prepare(wide).inline
