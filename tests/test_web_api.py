"""The JSON API on the bundled dataset: every endpoint, every kind of bad request, and a server
that keeps answering after each of them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from movierec import Recommender
from movierec.analysis import stats
from movierec.web.app import MAX_BODY_BYTES, STATIC_DIR, create_app, readable
from movierec.web.schemas import MovieInfo, ScoredMovie, StatsOut

TOY_STORY, STAR_WARS, MATRIX, FARGO = 1, 260, 2571, 608
LIKED = [TOY_STORY, STAR_WARS, MATRIX]
UNKNOWN = 999_999_999
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def client(small_recommender: Recommender) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(create_app(small_recommender), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def unrated(small_recommender: Recommender) -> int:
    """A movie of movies.csv with no rating ≥ min_rating: the model knows nothing about it."""
    movie_ids = small_recommender.dataset.movies.index
    return next(int(m) for m in movie_ids if int(m) not in small_recommender.items)


def detail(response: Any) -> str:
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str)
    return body["detail"]


def still_serving(client: Any) -> None:
    assert client.get("/healthz").status_code == 200
    response = client.post("/api/recommend", json={"liked": LIKED, "n": 3})
    assert response.status_code == 200 and len(response.json()) == 3


# ---- every endpoint ------------------------------------------------------------------------
def test_healthz_names_the_dataset(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["dataset"] == "ml-latest-small"


def test_search_finds_movies_with_year_genres_and_ratings(client: Any) -> None:
    results = client.get("/api/movies/search", params={"q": "matrix", "n": 3}).json()
    assert len(results) == 3
    TypeAdapter(list[MovieInfo]).validate_python(results)
    assert results[0] == {
        "movie_id": MATRIX,
        "title": "Matrix, The (1999)",
        "genres": ["Action", "Sci-Fi", "Thriller"],
        "year": 1999,
        "count": results[0]["count"],
    }
    assert results[0]["count"] > 0


def test_search_marks_movies_without_ratings(client: Any, unrated: int, small_recommender) -> None:
    title = small_recommender.movie(unrated).title
    results = client.get("/api/movies/search", params={"q": title, "n": 5}).json()
    assert {"movie_id": unrated, "count": 0}.items() <= next(
        r for r in results if r["movie_id"] == unrated
    ).items()


def test_search_for_nothing_matching_is_empty(client: Any) -> None:
    assert client.get("/api/movies/search", params={"q": "   "}).json() == []


def test_movie_by_id(client: Any) -> None:
    movie = client.get(f"/api/movies/{TOY_STORY}").json()
    assert MovieInfo.model_validate(movie).title == "Toy Story (1995)"
    assert movie["year"] == 1995 and "Animation" in movie["genres"]


def test_similar_movies_leave_out_the_movie_itself(client: Any) -> None:
    results = client.get(f"/api/movies/{TOY_STORY}/similar", params={"n": 7}).json()
    TypeAdapter(list[ScoredMovie]).validate_python(results)
    assert len(results) == 7 and TOY_STORY not in {r["movie_id"] for r in results}
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(r["year"] and r["genres"] for r in results)


def test_recommend_gives_n_explained_movies_never_the_liked_ones(client: Any) -> None:
    response = client.post("/api/recommend", json={"liked": LIKED, "n": 10, "explain": True})
    assert response.status_code == 200
    results = TypeAdapter(list[ScoredMovie]).validate_python(response.json())
    assert len(results) == 10 and not {r.movie_id for r in results} & set(LIKED)
    liked_titles = {
        "Toy Story (1995)",
        "Star Wars: Episode IV - A New Hope (1977)",
        "Matrix, The (1999)",
    }
    assert all(r.because and set(r.because) <= liked_titles for r in results)
    assert all(r.year and r.genres for r in results)


def test_recommend_without_explain_leaves_out_because(client: Any) -> None:
    results = client.post("/api/recommend", json={"liked": LIKED}).json()
    assert len(results) == 10 and all("because" not in r for r in results)


def test_recommend_matches_the_library(client: Any, small_recommender: Recommender) -> None:
    results = client.post("/api/recommend", json={"liked": LIKED, "n": 5}).json()
    expected = small_recommender.recommend(LIKED, 5)
    assert [r["movie_id"] for r in results] == [s.movie.movie_id for s in expected]


def test_score_of_one_movie(client: Any, small_recommender: Recommender) -> None:
    response = client.post("/api/score", json={"liked": LIKED, "movie_id": FARGO})
    assert response.status_code == 200
    scored = ScoredMovie.model_validate(response.json())
    assert scored.movie_id == FARGO and scored.title == "Fargo (1996)"
    assert scored.score == pytest.approx(small_recommender.score(LIKED, FARGO).score, abs=1e-5)


def test_popular_is_most_rated_first(client: Any) -> None:
    results = client.get("/api/popular", params={"n": 5}).json()
    TypeAdapter(list[MovieInfo]).validate_python(results)
    counts = [r["count"] for r in results]
    assert len(results) == 5 and counts == sorted(counts, reverse=True)
    assert len(client.get("/api/popular").json()) == 20


def test_popular_names_its_fields_as_the_command_line_does(client: Any, capsys) -> None:
    from movierec.cli import main

    assert main(["popular", "-n", "5", "--dataset", "ml-latest-small", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    web = client.get("/api/popular", params={"n": 5}).json()
    assert [{key: row[key] for key in cli[0]} for row in web] == cli


def test_stats_match_the_analysis(client: Any, small_recommender: Recommender) -> None:
    body = StatsOut.model_validate(client.get("/api/stats").json())
    expected = stats(small_recommender.dataset, small_recommender.settings.min_rating)
    assert body.ratings_total == expected.ratings_total == 100_836
    assert (body.ratings_kept, body.users, body.movies) == (
        expected.ratings_kept,
        expected.users,
        expected.movies,
    )
    assert sum(r.all for r in body.rating_distribution) == body.ratings_total
    assert sum(r.kept for r in body.rating_distribution) == body.ratings_kept


def test_openapi_documents_every_endpoint(client: Any) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/movies/search",
        "/api/movies/{movie_id}",
        "/api/movies/{movie_id}/similar",
        "/api/recommend",
        "/api/score",
        "/api/popular",
        "/api/stats",
        "/healthz",
    } <= set(paths)
    schema = paths["/api/recommend"]["post"]["responses"]["200"]["content"]["application/json"]
    assert schema["schema"]["items"]["$ref"].endswith("/ScoredMovie")


def test_api_docs_load_only_local_assets(client: Any) -> None:
    html = client.get("/docs").text
    assert '"validatorUrl": null' in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/") for url in assets), assets
    assert "cdn" not in html.lower()
    for url in assets:
        assert client.get(url).status_code == 200, url


def test_page_and_its_assets_are_served_without_other_hosts(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = [u for u in re.findall(r'(?:src|href)="([^"]+)"', page.text) if u[0] != "#"]
    assert {"/static/app.js", "/static/style.css"} <= set(assets)
    assert all(url.startswith("/") for url in assets)
    for url in assets:
        assert client.get(url).status_code == 200, url
    for path in Path(STATIC_DIR).iterdir():
        urls = set(re.findall(r"https?://[^\s\"'`)]+", path.read_text()))
        assert urls <= {"http://www.w3.org/2000/svg"}, (path.name, urls)


# ---- bad requests --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", f"/api/movies/{UNKNOWN}", None),
        ("get", f"/api/movies/{UNKNOWN}/similar", None),
        ("post", "/api/recommend", {"liked": [TOY_STORY, UNKNOWN]}),
        ("post", "/api/score", {"liked": LIKED, "movie_id": UNKNOWN}),
        ("post", "/api/score", {"liked": [UNKNOWN], "movie_id": TOY_STORY}),
    ],
)
def test_unknown_movie_is_404_naming_it(client: Any, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 404
    assert detail(response) == f"no movie has id {UNKNOWN} in ml-latest-small"
    still_serving(client)


@pytest.mark.parametrize("endpoint", ["recommend", "score", "similar"])
def test_movie_without_ratings_is_422_saying_why(client: Any, unrated: int, endpoint: str) -> None:
    if endpoint == "recommend":
        response = client.post("/api/recommend", json={"liked": [TOY_STORY, unrated]})
    elif endpoint == "score":
        response = client.post("/api/score", json={"liked": LIKED, "movie_id": unrated})
    else:
        response = client.get(f"/api/movies/{unrated}/similar")
    assert response.status_code == 422
    assert "has no ratings" in detail(response) and "pick another movie" in detail(response)
    still_serving(client)


@pytest.mark.parametrize(
    "path, params, expected",
    [
        ("/api/popular", {"n": 0}, "n: input should be greater than or equal to 1"),
        ("/api/popular", {"n": 101}, "n: input should be less than or equal to 100"),
        ("/api/popular", {"n": "ten"}, "n: input should be a valid integer"),
        ("/api/movies/search", {"q": "toy", "n": 1000}, "n: input should be less than or equal"),
        ("/api/movies/search", {}, "q: field required"),
        ("/api/movies/search", {"q": ""}, "q: string should have at least 1 character"),
        ("/api/movies/search", {"q": "x" * 201}, "q: string should have at most 200"),
        (f"/api/movies/{TOY_STORY}/similar", {"n": -1}, "n: input should be greater than"),
        ("/api/movies/toy-story", {}, "movie_id: input should be a valid integer"),
    ],
)
def test_bad_parameters_are_422_with_a_readable_message(
    client: Any, path: str, params: dict[str, Any], expected: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert detail(response).startswith(expected), detail(response)
    still_serving(client)


def test_n_may_be_100(client: Any) -> None:
    assert len(client.get("/api/popular", params={"n": 100}).json()) == 100
    assert len(client.post("/api/recommend", json={"liked": LIKED, "n": 100}).json()) == 100


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"liked": []}, "liked: list should have at least 1 item"),
        ({"liked": list(range(1, 502))}, "liked: list should have at most 500 items"),
        ({"liked": [1, "Toy Story"]}, "liked[1]: input should be a valid integer"),
        ({"liked": [1.5]}, "liked[0]: input should be a valid integer"),
        ({"liked": [True]}, "liked[0]: input should be a valid integer"),
        ({"liked": LIKED, "n": 0}, "n: input should be greater than or equal to 1"),
        ({"liked": LIKED, "n": 101}, "n: input should be less than or equal to 100"),
        ({"liked": LIKED, "explain": "maybe"}, "explain: input should be a valid boolean"),
        ({"liked": LIKED, "like": [2]}, "like: extra inputs are not permitted"),
        ({"n": 5}, "liked: field required"),
        ([1, 2, 3], "request body: input should be a valid dictionary"),
    ],
)
def test_bad_recommend_bodies_are_422_with_a_readable_message(
    client: Any, body: Any, expected: str
) -> None:
    response = client.post("/api/recommend", json=body)
    assert response.status_code == 422
    assert detail(response).startswith(expected), detail(response)
    still_serving(client)


def test_500_liked_movies_are_accepted(client: Any, small_recommender: Recommender) -> None:
    liked = [int(m) for m in small_recommender.popularity.index[:500]]
    response = client.post("/api/recommend", json={"liked": liked, "n": 5})
    assert response.status_code == 200 and len(response.json()) == 5


@pytest.mark.parametrize("path", ["/api/recommend", "/api/score"])
def test_malformed_json_is_422(client: Any, path: str) -> None:
    response = client.post(path, content=b'{"liked": [1, 2,', headers=JSON)
    assert response.status_code == 422
    assert detail(response).startswith("the request body is not valid JSON")
    still_serving(client)


def test_missing_body_is_422(client: Any) -> None:
    response = client.post("/api/recommend")
    assert response.status_code == 422 and detail(response) == "a JSON request body is required"


def test_validation_messages_are_capped() -> None:
    errors = [{"type": "int_type", "loc": ("body", "liked", i), "msg": "Bad"} for i in range(9)]
    assert readable(errors).endswith("; and 4 more problems")


def test_body_over_64_kib_is_413(client: Any) -> None:
    body = json.dumps({"liked": LIKED, "pad": " " * MAX_BODY_BYTES}).encode()
    response = client.post("/api/recommend", content=body, headers=JSON)
    assert response.status_code == 413 and "64 KiB" in detail(response)
    still_serving(client)


def test_chunked_body_over_64_kib_is_413_without_content_length(client: Any) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"liked": [1], "pad": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    response = client.post("/api/recommend", content=chunks(), headers=JSON)
    assert response.status_code == 413
    still_serving(client)


def test_body_just_under_64_kib_is_read(client: Any) -> None:
    body = json.dumps({"liked": LIKED, "n": 3}).encode()
    body = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert len(body) == MAX_BODY_BYTES
    response = client.post("/api/recommend", content=body, headers=JSON)
    assert response.status_code == 200 and len(response.json()) == 3


def test_unexpected_failure_is_a_generic_500_without_a_trace(
    client: Any, small_recommender: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internal state /srv/model.npz")

    monkeypatch.setattr(small_recommender, "popular", broken)
    response = client.get("/api/popular")
    assert response.status_code == 500
    assert detail(response) == "internal server error; the request was not completed"
    assert "Traceback" not in response.text and "secret" not in response.text
    monkeypatch.undo()
    assert client.get("/api/popular", params={"n": 1}).status_code == 200
    still_serving(client)


def test_unknown_route_and_method_are_json_errors(client: Any) -> None:
    assert client.get("/api/nothing-here").status_code == 404
    assert client.delete("/api/recommend").status_code == 405
    still_serving(client)


# ---- the serve command ---------------------------------------------------------------------
def test_serve_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    from movierec.cli import main

    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("--model", "--host", "--port", "--dataset"))


def test_serve_with_a_missing_model_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from movierec.cli import main

    code = main(["serve", "--dataset", "ml-latest-small", "--model", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("movierec: error: no saved model at")


def test_serve_refuses_a_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    from movierec.cli import main

    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
