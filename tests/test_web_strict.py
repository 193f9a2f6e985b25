"""The JSON API under hostile input: every malformed body, coerced type, out-of-bounds number,
odd path or query parameter is a 4xx whose one-line ``detail`` names the problem, never a 5xx,
and the server keeps answering afterwards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from movierec import Recommender
from movierec.web.app import create_app
from movierec.web.body import MAX_JSON_DEPTH, nesting_depth, parse_json_body, shown
from movierec.web.schemas import MAX_MOVIE_ID

TOY_STORY, STAR_WARS, MATRIX, FARGO = 1, 260, 2571, 608
LIKED = [TOY_STORY, STAR_WARS, MATRIX]
JSON = {"Content-Type": "application/json"}
BODY_ROUTES = ["/api/recommend", "/api/score"]


@pytest.fixture(scope="module")
def client(small_recommender: Recommender) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(create_app(small_recommender), raise_server_exceptions=False) as test_client:
        yield test_client


def detail(response: Any) -> str:
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str)
    assert "\n" not in body["detail"] and len(body["detail"]) < 300, body["detail"]
    return body["detail"]


def refused(response: Any, status: int = 422) -> str:
    """The detail of a refusal with ``status``."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    return detail(response)


def still_serving(client: Any) -> None:
    response = client.post("/api/recommend", json={"liked": LIKED, "n": 3})
    assert response.status_code == 200 and len(response.json()) == 3


def valid_body(path: str) -> dict[str, Any]:
    return {"liked": LIKED} if path == "/api/recommend" else {"liked": LIKED, "movie_id": FARGO}


# ---- malformed bodies ----------------------------------------------------------------------
MALFORMED = [
    # (raw body, start of the detail)
    (
        b'{\n  "liked": [1,\n',
        "the request body is not valid JSON: expecting value at line 3, column 1",
    ),
    (
        b'{"liked": [1,]}',
        "the request body is not valid JSON: expecting value at line 1, column 14",
    ),
    (b"{'liked': [1]}", "the request body is not valid JSON: expecting property name enclosed"),
    (b'{"liked": [1]} x', "the request body is not valid JSON: extra data at line 1, column 16"),
    (b"   ", "the request body is not valid JSON: expecting value at line 1, column 4"),
    (b'{"liked": [1], "x": "a\x01b"}', "the request body is not valid JSON: invalid control"),
    (b'{"liked": "[1', "the request body is not valid JSON: unterminated string starting at line"),
    (
        b'{"liked": [1], "x": "\xff"}',
        "the request body is not valid UTF-8 (byte 0xff at offset 21)",
    ),
    (b'{"liked": [1], "x": "\xe2\x82"}', "the request body is not valid UTF-8 (byte 0xe2"),
    (b'{"liked": [1], "x": "\xc0\xaf"}', "the request body is not valid UTF-8 (byte 0xc0"),
    ('{"liked": [1]}'.encode("utf-16"), "the request body is not valid UTF-8"),
    (b'\xef\xbb\xbf{"liked": [1]}', "the request body starts with a byte order mark"),
    (b"[" * 30_000 + b"]" * 30_000, f"the request body nests arrays or objects deeper than {64}"),
    (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "the request body nests arrays or objects deeper"),
    (b"[" * 30_000, "the request body nests arrays or objects deeper than 64 levels"),
    (b'{"liked": [1], "n": NaN}', "the request body is not valid JSON: NaN is not a JSON number"),
    (b'{"liked": [Infinity]}', "the request body is not valid JSON: Infinity is not a JSON number"),
    (b'{"liked": [-Infinity]}', "the request body is not valid JSON: -Infinity is not a JSON"),
    (b'{"liked": [' + b"9" * 5000 + b"]}", "the request body holds a number of 5000 digits"),
    (b'{"liked": [-' + b"9" * 40 + b"]}", "the request body holds a number of 40 digits"),
    (b'{"liked": [1], "liked": [2]}', 'the request body gives "liked" twice'),
    (b'{"liked": [1], "\\ud800": 1}', "the request body has a field name with an unpaired"),
    (b"null", "request body: input should be a valid dictionary or object"),
    (b"[1, 260]", "request body: input should be a valid dictionary or object"),
    (b'"liked"', "request body: input should be a valid dictionary or object"),
    (b"260", "request body: input should be a valid dictionary or object"),
]


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("body, expected", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_body_is_422_naming_the_problem(
    client: Any, path: str, body: bytes, expected: str
) -> None:
    assert refused(client.post(path, content=body, headers=JSON)).startswith(expected)


@pytest.mark.parametrize(
    "content_type, expected",
    [
        (None, "the request body must be JSON: send it with Content-Type: application/json (none"),
        ("text/plain", "the request body must be JSON: send it with Content-Type: application/js"),
        ("application/x-www-form-urlencoded", "the request body must be JSON: send it with"),
        ("multipart/form-data; boundary=x", "the request body must be JSON: send it with"),
        ("application/xml", "the request body must be JSON: send it with Content-Type"),
        ("application/jsonx", "the request body must be JSON: send it with Content-Type"),
        ("json", "the request body must be JSON: send it with Content-Type"),
        ("application/json; charset=latin-1", "the request body must be UTF-8 JSON, not charset"),
        ("application/json; charset=utf-16", "the request body must be UTF-8 JSON, not charset"),
    ],
)
@pytest.mark.parametrize("path", BODY_ROUTES)
def test_body_of_another_content_type_is_422(
    client: Any, path: str, content_type: str | None, expected: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"liked": [1, 260], "movie_id": 608}'
    assert refused(client.post(path, content=body, headers=headers)).startswith(expected)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/vnd.movierec+json",
    ],
)
def test_json_content_types_are_read(client: Any, content_type: str) -> None:
    response = client.post(
        "/api/recommend",
        content=b'{"liked": [1, 260], "n": 2}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 200 and len(response.json()) == 2


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_empty_body_is_422_asking_for_one(client: Any, path: str) -> None:
    assert (
        refused(client.post(path, content=b"", headers=JSON)) == "a JSON request body is required"
    )


def test_deep_nesting_is_refused_quickly(client: Any) -> None:
    body = b"[" * 30_000 + b"]" * 30_000
    started = time.perf_counter()
    refused(client.post("/api/recommend", content=body, headers=JSON))
    assert time.perf_counter() - started < 1.0
    still_serving(client)


def test_nesting_up_to_the_limit_is_read_and_then_validated(client: Any) -> None:
    def nested(levels: int) -> bytes:  # an object holding levels - 1 nested lists
        return b'{"liked": [1], "x": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"

    assert nesting_depth(nested(MAX_JSON_DEPTH)) == MAX_JSON_DEPTH
    deepest = client.post("/api/recommend", content=nested(MAX_JSON_DEPTH), headers=JSON)
    assert refused(deepest).startswith("x: extra inputs are not permitted")
    too_deep = client.post("/api/recommend", content=nested(MAX_JSON_DEPTH + 1), headers=JSON)
    assert refused(too_deep).startswith("the request body nests arrays or objects deeper than 64")


@pytest.mark.parametrize(
    "body, depth",
    [
        (b"", 0),
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'["[[[[", "]]"]', 1),  # brackets in strings do not nest
        (b'["\\"[[[", "\\\\", "[[" ]', 1),  # nor after escaped quotes and backslashes
        (b'"[[[', 0),  # an unterminated string runs to the end
        (b"]]]][[", 0),  # closers first: a parser stops at the first, before any nesting
    ],
)
def test_nesting_depth_counts_only_structure(body: bytes, depth: int) -> None:
    assert nesting_depth(body) == depth


def test_parsed_body_keeps_json_types() -> None:
    assert parse_json_body(b'{"liked": [1, 260], "n": 5.0, "explain": true, "s": "\\u00e9"}') == {
        "liked": [1, 260],
        "n": 5.0,
        "explain": True,
        "s": "é",
    }


# ---- strict types: nothing is coerced ------------------------------------------------------
COERCIONS = [
    ({"liked": LIKED, "n": "5"}, 'n: input should be a valid integer, not the string "5"'),
    ({"liked": LIKED, "n": True}, "n: input should be a valid integer, not true"),
    ({"liked": LIKED, "n": False}, "n: input should be a valid integer, not false"),
    ({"liked": LIKED, "n": 5.0}, "n: input should be a valid integer, not the number 5.0"),
    ({"liked": LIKED, "n": 5.5}, "n: input should be a valid integer, not the number 5.5"),
    ({"liked": LIKED, "n": None}, "n: input should be a valid integer, not null"),
    ({"liked": LIKED, "n": [5]}, "n: input should be a valid integer, not a list"),
    ({"liked": LIKED, "n": {"n": 5}}, "n: input should be a valid integer, not an object"),
    ({"liked": LIKED, "explain": 0}, "explain: input should be a valid boolean, not the number 0"),
    ({"liked": LIKED, "explain": 1}, "explain: input should be a valid boolean, not the number 1"),
    ({"liked": LIKED, "explain": "true"}, "explain: input should be a valid boolean, not the str"),
    ({"liked": LIKED, "explain": "yes"}, "explain: input should be a valid boolean"),
    ({"liked": LIKED, "explain": None}, "explain: input should be a valid boolean, not null"),
    ({"liked": "1"}, 'liked: input should be a valid list, not the string "1"'),
    ({"liked": 1}, "liked: input should be a valid list, not the number 1"),
    ({"liked": {"0": 1}}, "liked: input should be a valid list, not an object"),
    ({"liked": [1, "260"]}, 'liked[1]: input should be a valid integer, not the string "260"'),
    ({"liked": [True]}, "liked[0]: input should be a valid integer, not true"),
    ({"liked": [1.0]}, "liked[0]: input should be a valid integer, not the number 1.0"),
    ({"liked": [[1]]}, "liked[0]: input should be a valid integer, not a list"),
]


@pytest.mark.parametrize("body, expected", COERCIONS)
def test_recommend_coerces_nothing(client: Any, body: dict[str, Any], expected: str) -> None:
    assert refused(client.post("/api/recommend", json=body)).startswith(expected)


@pytest.mark.parametrize(
    "movie_id, expected",
    [
        ("608", 'movie_id: input should be a valid integer, not the string "608"'),
        (608.0, "movie_id: input should be a valid integer, not the number 608.0"),
        (True, "movie_id: input should be a valid integer, not true"),
        (None, "movie_id: input should be a valid integer, not null"),
    ],
)
def test_score_coerces_nothing(client: Any, movie_id: Any, expected: str) -> None:
    body = {"liked": LIKED, "movie_id": movie_id}
    assert refused(client.post("/api/score", json=body)).startswith(expected)


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("field", ["like", "N", "liked ", "movieId", "explain_all"])
def test_unknown_fields_are_refused(client: Any, path: str, field: str) -> None:
    body = {**valid_body(path), field: 1}
    assert refused(client.post(path, json=body)).startswith(
        f"{field}: extra inputs are not permitted"
    )


def test_messages_quote_user_input_escaped_and_cut(client: Any) -> None:
    field = "\x1b[31m" + "x" * 5000
    message = refused(client.post("/api/recommend", json={"liked": LIKED, field: 1}))
    assert message.startswith("\\u001b[31mxxx") and "…" in message and "\x1b" not in message
    assert shown("a\x00\u0085\ud800" + "b" * 100, 10) == "a\\u0000\\u…"


# ---- bounds --------------------------------------------------------------------------------
BOUNDS = [
    ({"liked": []}, "liked: list should have at least 1 item"),
    ({"liked": list(range(1, 502))}, "liked: list should have at most 500 items"),
    ({"liked": [0]}, "liked[0]: input should be greater than or equal to 1"),
    ({"liked": [-1]}, "liked[0]: input should be greater than or equal to 1"),
    ({"liked": [2**53]}, f"liked[0]: input should be less than or equal to {MAX_MOVIE_ID}"),
    ({"liked": [2**63]}, f"liked[0]: input should be less than or equal to {MAX_MOVIE_ID}"),
    ({"liked": [-(2**63) - 1]}, "liked[0]: input should be greater than or equal to 1"),
    ({"liked": LIKED, "n": 0}, "n: input should be greater than or equal to 1"),
    ({"liked": LIKED, "n": -5}, "n: input should be greater than or equal to 1"),
    ({"liked": LIKED, "n": 101}, "n: input should be less than or equal to 100"),
    ({"liked": LIKED, "n": 2**62}, "n: input should be less than or equal to 100"),
]


@pytest.mark.parametrize("body, expected", BOUNDS)
def test_recommend_bounds_are_named(client: Any, body: dict[str, Any], expected: str) -> None:
    assert refused(client.post("/api/recommend", json=body)).startswith(expected)
    still_serving(client)


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"liked": LIKED, "movie_id": 0}, "movie_id: input should be greater than or equal to 1"),
        ({"liked": LIKED, "movie_id": 2**63}, "movie_id: input should be less than or equal to"),
        ({"liked": [], "movie_id": 1}, "liked: list should have at least 1 item"),
        ({"liked": [1] * 501, "movie_id": 1}, "liked: list should have at most 500 items"),
    ],
)
def test_score_bounds_are_named(client: Any, body: dict[str, Any], expected: str) -> None:
    assert refused(client.post("/api/score", json=body)).startswith(expected)


def test_largest_movie_id_is_a_404_not_an_error(client: Any) -> None:
    response = client.post("/api/recommend", json={"liked": [MAX_MOVIE_ID]})
    assert refused(response, 404) == f"no movie has id {MAX_MOVIE_ID} in ml-latest-small"
    assert refused(client.get(f"/api/movies/{MAX_MOVIE_ID}"), 404).startswith("no movie has id")


def test_repeated_liked_movies_are_one_favourite(client: Any) -> None:
    twice = client.post("/api/recommend", json={"liked": [TOY_STORY, TOY_STORY], "n": 5})
    once = client.post("/api/recommend", json={"liked": [TOY_STORY], "n": 5})
    assert twice.status_code == 200 and twice.json() == once.json()


# ---- path parameters -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "movie_id, expected",
    [
        ("0", "movie_id: input should be greater than or equal to 1"),
        ("-1", "movie_id: input should be greater than or equal to 1"),
        (str(2**53), f"movie_id: input should be less than or equal to {MAX_MOVIE_ID}"),
        (str(2**63), f"movie_id: input should be less than or equal to {MAX_MOVIE_ID}"),
        (str(-(2**63) - 1), "movie_id: input should be greater than or equal to 1"),
        ("9" * 5000, "movie_id: unable to parse input string as an integer, exceeded"),
        ("abc", "movie_id: input should be a valid integer"),
        ("1.5", "movie_id: input should be a valid integer"),
        ("1e3", "movie_id: input should be a valid integer"),
        ("0x10", "movie_id: input should be a valid integer"),
        ("%EF%BC%91", "movie_id: input should be a valid integer"),  # a full-width 1
        ("%00", "movie_id: input should be a valid integer"),
        ("%1B%5B31m", "movie_id: input should be a valid integer"),
        ("NaN", "movie_id: input should be a valid integer"),
        ("%201", 'movie_id: input should be a valid integer, written in digits (not " 1")'),
        ("+1", 'movie_id: input should be a valid integer, written in digits (not "+1")'),
        ("1_0", 'movie_id: input should be a valid integer, written in digits (not "1_0")'),
        ("1.0", 'movie_id: input should be a valid integer, written in digits (not "1.0")'),
    ],
)
@pytest.mark.parametrize("suffix", ["", "/similar"])
def test_odd_movie_ids_in_the_path_are_422(
    client: Any, movie_id: str, expected: str, suffix: str
) -> None:
    assert refused(client.get(f"/api/movies/{movie_id}{suffix}")).startswith(expected)


@pytest.mark.parametrize("path", ["/api/movies/", "/api/movies/1/similar/x", "/api/x", "/x"])
def test_paths_that_name_no_route_are_404(client: Any, path: str) -> None:
    assert "the API is listed at /docs" in refused(client.get(path), 404)


# ---- query parameters ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"q": "a\x00b"}, "q: must not hold control characters (found U+0000)"),
        ({"q": "\x1b[31mred"}, "q: must not hold control characters (found U+001B)"),
        ({"q": "tab\there"}, "q: must not hold control characters (found U+0009)"),
        ({"q": "line\nbreak"}, "q: must not hold control characters (found U+000A)"),
        ({"q": "del\x7f"}, "q: must not hold control characters (found U+007F)"),
        ({"q": "next\x85line"}, "q: must not hold control characters (found U+0085)"),
        ({"q": "x" * 201}, "q: string should have at most 200 characters"),
        ({"q": "é" * 201}, "q: string should have at most 200 characters"),
        ({"q": ""}, "q: string should have at least 1 character"),
        (
            {"q": "toy", "n": "5.0"},
            'n: input should be a valid integer, written in digits (not "5.0")',
        ),
        (
            {"q": "toy", "n": "5_0"},
            'n: input should be a valid integer, written in digits (not "5_0")',
        ),
        ({"q": "toy", "n": "+5"}, "n: input should be a valid integer, written in digits"),
        ({"q": "toy", "n": " 5"}, "n: input should be a valid integer, written in digits"),
        ({"q": "toy", "n": "true"}, "n: input should be a valid integer, written in digits"),
        ({"q": "toy", "n": "1e2"}, "n: input should be a valid integer, written in digits"),
        ({"q": "toy", "n": ""}, "n: input should be a valid integer, written in digits"),
        ({"q": "toy", "n": "9" * 5000}, "n: unable to parse input string as an integer"),
        ({"q": "toy", "n": str(2**64)}, "n: input should be less than or equal to 100"),
    ],
)
def test_odd_search_queries_are_422(client: Any, params: dict[str, str], expected: str) -> None:
    assert refused(client.get("/api/movies/search", params=params)).startswith(expected)


@pytest.mark.parametrize(
    "q", ["🎬🍿", "\u202eevil", "e\u0301", "日本", "x" * 200, "%", "' OR 1=1 --", "[bold]x[/]"]
)
def test_unusual_but_printable_queries_are_searched(client: Any, q: str) -> None:
    response = client.get("/api/movies/search", params={"q": q, "n": 3})
    assert response.status_code == 200 and isinstance(response.json(), list)


@pytest.mark.parametrize(
    "path, query, expected",
    [
        ("/api/popular", "m=5", 'unknown query parameter "m" for /api/popular; it takes n'),
        ("/api/popular", "n=1&n=2", "query parameter n is given 2 times; give it once"),
        ("/api/stats", "verbose=1", 'unknown query parameter "verbose" for /api/stats; it takes'),
        ("/api/movies/1", "n=5", 'unknown query parameter "n" for /api/movies/1; it takes none'),
        ("/api/movies/1/similar", "N=5", 'unknown query parameter "N" for /api/movies/1/similar'),
        ("/api/movies/search", "q=toy&limit=3", 'unknown query parameter "limit"'),
        ("/api/movies/search", "q=toy&q=fargo", "query parameter q is given 2 times"),
        ("/api/popular", "%1B%5B31m=1", 'unknown query parameter "\\u001b[31m"'),
        ("/api/recommend", "n=5", 'unknown query parameter "n" for /api/recommend; it takes none'),
    ],
)
def test_unknown_or_repeated_query_parameters_are_422(
    client: Any, path: str, query: str, expected: str
) -> None:
    if path == "/api/recommend":
        response = client.post(f"{path}?{query}", json={"liked": LIKED})
    else:
        response = client.get(f"{path}?{query}")
    assert refused(response).startswith(expected)


# ---- methods -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("DELETE", "/api/recommend", "POST"),
        ("GET", "/api/score", "POST"),
        ("PUT", "/api/popular", "GET"),
        ("POST", "/api/movies/1", "GET"),
    ],
)
def test_wrong_method_is_405_naming_the_right_one(
    client: Any, method: str, path: str, allowed: str
) -> None:
    message = refused(client.request(method, path), 405)
    assert message == f"{method} is not allowed on {path}; use {allowed}"
