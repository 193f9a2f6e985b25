"""Security and caching headers on every response: each route of the app (found by walking its
routes, so a new one cannot be missed), static files, /docs, and every kind of error."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Response
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from movierec import Recommender
from movierec.web.app import create_app
from movierec.web.guard import CSRF_HEADER
from movierec.web.headers import ASSET_CACHE, DEFAULT_POLICY, PAGE_POLICY

LIKED = [1, 260, 2571]
# A request each route answers with 200; a route missing here fails test_every_route_is_covered.
BODIES = {"/api/recommend": {"liked": LIKED}, "/api/score": {"liked": LIKED, "movie_id": 608}}
QUERIES = {"/api/movies/search": {"q": "toy"}}
PATH_VALUES = {"movie_id": "1"}
PROFILE_PATHS = ("/api/profile", "/api/movie-night")  # answered only with a profile: see below


@pytest.fixture(scope="module")
def app(small_recommender: Recommender, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    db = tmp_path_factory.mktemp("profiles") / "profiles.db"
    return create_app(small_recommender, db, write_burst=100_000)  # one client, many writes


def with_profile(client: Any) -> dict[str, Any]:
    """Give ``client`` the CSRF token and a fresh profile with likes, and return the bodies
    its profile routes need: a private link of its own, a movie-night code of another."""
    client.headers[CSRF_HEADER] = client.get("/api/session").json()["csrf"]
    client.post("/api/profile")
    client.put("/api/profile/ratings/608", json={"stars": 5.0})
    code = client.post("/api/profile/share").json()["code"]
    client.post("/api/profile")
    for movie_id in LIKED:
        client.put(f"/api/profile/ratings/{movie_id}", json={"stars": 5.0})
    link = client.post("/api/profile/link").json()["fragment"]
    return {
        ("POST", "/api/profile/open"): {"link": link},
        ("POST", "/api/movie-night"): {"guests": [{"code": code}]},
        ("PUT", "/api/profile/ratings/1"): {"stars": 4.0},
    }


def send(client: Any, method: str, url: str, kwargs: dict[str, Any]) -> Any:
    """One of :func:`route_requests`' requests; a profile route's after :func:`with_profile`."""
    if url.startswith(PROFILE_PATHS):
        body = with_profile(client).get((method, url))
        kwargs = {**kwargs, **({"json": body} if body is not None else {})}
    return client.request(method, url, **kwargs)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(full path, route) for every route and mount, inside included routers too (FastAPI 0.165
    keeps an included router as one entry; earlier versions copy its routes into the app)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from walk(included.routes, prefix + route.include_context.prefix)
        else:
            yield prefix + route.path, route


def route_requests(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, httpx keyword arguments) for one 200 request to every route and mount."""
    requests = []
    for path, route in walk(app.routes):
        if isinstance(route, Mount):
            directory = route.app.directory  # type: ignore[attr-defined]
            first = sorted(file.name for file in Path(directory).iterdir())[0]
            requests.append(("GET", f"{path}/{first}", {}))
        elif isinstance(route, (APIRoute, Route)):
            url = re.sub(r"{(\w+)}", lambda m: PATH_VALUES[m.group(1)], path)
            method = sorted(route.methods or {"GET"})[0]
            if method == "HEAD":
                method = "GET"
            kwargs: dict[str, Any] = {}
            if method == "POST" and not path.startswith(PROFILE_PATHS):
                kwargs["json"] = BODIES[path]
            if path in QUERIES:
                kwargs["params"] = QUERIES[path]
            requests.append((method, url, kwargs))
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")
    return requests


def assert_secure(response: Any) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "cache-control" in headers
    assert "server" not in headers


def test_every_route_is_covered(app: FastAPI) -> None:
    requests = {(method, url) for method, url, _ in route_requests(app)}
    urls = {url for _, url in requests}
    assert {"/", "/docs", "/openapi.json", "/healthz", "/api/recommend", "/api/score"} <= urls
    assert any(url.startswith("/static/") for url in urls)
    assert any(url.startswith("/docs-assets/") for url in urls)
    assert len(requests) == len(list(walk(app.routes)))


def test_every_route_answers_with_the_security_headers(app: FastAPI, client: Any) -> None:
    for method, url, kwargs in route_requests(app):
        response = send(client, method, url, kwargs)
        assert response.status_code == 200, (method, url, response.text[:200])
        assert_secure(response)


def test_head_is_get_without_the_body_on_every_get_route(app: FastAPI, client: Any) -> None:
    """``curl -I`` works everywhere GET does: the same status and headers (the length of the
    body GET sends included), no body. On a POST route HEAD is refused as GET is, with no body."""
    gets = [(url, kwargs) for method, url, kwargs in route_requests(app) if method == "GET"]
    assert len(gets) >= 8
    with_profile(client)
    for url, kwargs in gets:
        get, head = client.get(url, **kwargs), client.head(url, **kwargs)
        assert head.status_code == get.status_code == 200, url
        assert head.content == b"", url
        assert head.headers["content-length"] == str(len(get.content)), url
        skipped = {"content-length", "date"}
        assert {k: v for k, v in head.headers.items() if k not in skipped} == {
            k: v for k, v in get.headers.items() if k not in skipped
        }, url
    refused = client.head("/api/recommend")
    assert refused.status_code == 405 and refused.content == b""
    assert refused.headers["allow"] == "POST"
    assert_secure(refused)


@pytest.mark.parametrize(
    "method, url, kwargs, status",
    [
        ("GET", "/api/movies/999999999", {}, 404),
        ("GET", "/nothing", {}, 404),
        ("GET", "/static/nothing.js", {}, 404),
        ("DELETE", "/api/recommend", {}, 405),
        ("GET", "/api/popular", {"params": {"n": 0}}, 422),
        ("GET", "/api/popular", {"params": {"x": 1}}, 422),
        (
            "POST",
            "/api/recommend",
            {"content": b"{", "headers": {"Content-Type": "application/json"}},
            422,
        ),
        ("POST", "/api/recommend", {"content": b"x" * 70_000}, 413),
    ],
)
def test_errors_carry_the_security_headers_and_are_never_cached(
    client: Any, method: str, url: str, kwargs: dict[str, Any], status: int
) -> None:
    response = client.request(method, url, **kwargs)
    assert response.status_code == status
    assert_secure(response)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"] == DEFAULT_POLICY


def test_an_unexpected_500_carries_the_security_headers(
    client: Any, small_recommender: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(small_recommender, "popular", broken)
    response = client.get("/api/popular")
    assert response.status_code == 500
    assert_secure(response)
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "url, cache",
    [
        ("/api/popular", "no-store"),
        ("/api/stats", "no-store"),
        ("/api/movies/1", "no-store"),
        ("/healthz", "no-store"),
        ("/", "no-cache"),
        ("/docs", "no-cache"),
        ("/openapi.json", "no-cache"),
        ("/static/app.js", ASSET_CACHE),
        ("/static/style.css", ASSET_CACHE),
        ("/docs-assets/swagger-ui-bundle.js", ASSET_CACHE),
    ],
)
def test_cache_control_suits_the_route(client: Any, url: str, cache: str) -> None:
    response = client.get(url)
    assert response.status_code == 200 and response.headers["cache-control"] == cache


def test_posted_answers_are_never_stored(client: Any) -> None:
    response = client.post("/api/recommend", json={"liked": LIKED})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"


def test_page_runs_only_its_own_files(client: Any) -> None:
    policy = client.get("/").headers["content-security-policy"]
    assert policy == PAGE_POLICY
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy


def test_docs_allow_exactly_their_inline_script(client: Any) -> None:
    response = client.get("/docs")
    policy = response.headers["content-security-policy"]
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert len(scripts) == 1 and "SwaggerUIBundle" in scripts[0]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'", f"'sha256-{digest}'"]
    assert "frame-ancestors 'none'" in policy and "connect-src 'self'" in policy


def test_json_and_assets_may_run_nothing(client: Any) -> None:
    for url in ("/api/popular", "/static/app.js", "/openapi.json"):
        assert client.get(url).headers["content-security-policy"] == DEFAULT_POLICY


def test_a_server_header_set_inside_the_app_is_removed(small_recommender: Recommender) -> None:
    from fastapi.testclient import TestClient

    app = create_app(small_recommender)

    @app.get("/leaky")
    def leaky() -> Response:
        return Response("x", headers={"Server": "leaky/1.0"})

    with TestClient(app) as test_client:
        response = test_client.get("/leaky")
    assert response.status_code == 200 and "server" not in response.headers
    assert_secure(response)


# Header fields over MAX_HEADER_BYTES, shaped as a client or proxy might send them.
BIG_HEADERS = {
    "one 100 KB header": {"x-big": "a" * 100_000},
    "a 40 KB cookie": {"cookie": "session=" + "b" * 40_000},
    "a hundred 1 KB headers": {f"x-h{i}": "c" * 1000 for i in range(100)},
    "just over the limit": {"x-big": "d" * (32 * 1024)},
}
REQUESTS = [
    ("GET", "/api/movies/1", {}),
    ("POST", "/api/recommend", {"json": {"liked": LIKED}}),
    ("GET", "/", {}),
    ("GET", "/healthz", {}),
]


@pytest.mark.parametrize("headers", list(BIG_HEADERS.values()), ids=list(BIG_HEADERS))
@pytest.mark.parametrize("method,url,extra", REQUESTS, ids=[f"{m} {u}" for m, u, _ in REQUESTS])
def test_oversized_header_fields_are_431_with_a_readable_detail(
    client: Any, headers: dict[str, str], method: str, url: str, extra: dict[str, Any]
) -> None:
    response = client.request(method, url, headers=headers, **extra)
    assert response.status_code == 431
    detail = response.json()["detail"]
    assert "header fields" in detail and "\n" not in detail
    assert_secure(response)
    assert response.headers["cache-control"] == "no-store"
    head = client.head(url, headers=headers)
    assert (head.status_code, head.content) == (431, b"")


def test_header_fields_under_the_limit_are_answered(client: Any) -> None:
    response = client.get("/api/movies/1", headers={"x-big": "e" * 30_000})
    assert response.status_code == 200


@pytest.mark.slow  # a real server on a socket
@pytest.mark.parametrize("http", ["h11", "httptools"])
@pytest.mark.parametrize("size", [40_000, 100_000, 500_000])
def test_a_real_server_answers_oversized_headers_431(app: FastAPI, http: str, size: int) -> None:
    """Through ``movierec serve``'s uvicorn settings, with either HTTP parser: a response, not a
    closed connection (h11 alone dropped requests whose headers passed 16 KiB)."""
    import socket
    import threading
    import time

    import uvicorn

    from movierec.web.app import SERVER_OPTIONS

    pytest.importorskip(http)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=http, log_level="warning", **SERVER_OPTIONS
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        request = (
            b"GET /api/movies/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            b"X-Big: " + b"f" * size + b"\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            for start in range(0, len(request), 8192):  # as a slow client sends it
                connection.sendall(request[start : start + 8192])
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"detail"' in answer
