"""End to end: `movierec serve` on a free loopback port, driven by Debian's Chromium (Playwright).

A person walks the profile flow of issue 24 (onboarding, rating, hiding, a dislike, reload,
the private link in a fresh browser, movie night for two, export, delete) at 1280 and 390 px,
in English and Korean, and the page never reaches another host. The
browser tests skip where Chromium or playwright is missing, and fail there instead under
MOVIEREC_REQUIRE_BROWSER (CI installs both and sets it). Slow tier: run with --slow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import CHROMIUM, require
from served import HOST, start_serve, stop_serve

pytestmark = pytest.mark.slow  # starts `movierec serve` and Chromium
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path("/tmp/web-shots")  # copies for a person to look at
ACCESS_LOG = Path(tempfile.gettempdir()) / f"movierec-e2e-access-{os.getpid()}.log"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`movierec serve` on the bundled dataset, as a person would start it, with a profile
    database of its own."""
    profiles_db = tmp_path_factory.mktemp("profiles") / "profiles.db"
    options = ["--dataset", "ml-latest-small", "--db", str(profiles_db)]
    ACCESS_LOG.unlink(missing_ok=True)
    log = ACCESS_LOG.open("wb")  # uvicorn's access log (stdout): checked for secrets below
    try:
        process, base = start_serve(options, stdout=log, startup_s=240)
        try:
            yield base
        finally:
            stop_serve(process)
    finally:
        log.close()
        ACCESS_LOG.unlink(missing_ok=True)


def test_server_refuses_a_chunked_oversized_body_and_keeps_serving(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    with socket.create_connection((HOST, port), timeout=10) as conn:
        conn.sendall(
            b"POST /api/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        try:
            for _ in range(20):  # 80 KiB in 4 KiB chunks, no Content-Length
                conn.sendall(b"1000\r\n" + b" " * 4096 + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may close once it has answered
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    response = httpx.post(f"{server}/api/recommend", json={"liked": [1, 260, 2571]})
    assert response.status_code == 200 and len(response.json()) == 10


@pytest.mark.parametrize("path", ["/", "/api/popular?n=1", "/static/app.js", "/docs", "/nothing"])
def test_server_sends_security_headers_and_no_server_header(server: str, path: str) -> None:
    response = httpx.get(f"{server}{path}")
    assert "server" not in response.headers  # uvicorn's `server: uvicorn` is switched off
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require("browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A page in a fresh browser context that records console errors and every request that
    would leave the server (and refuses it)."""

    def __init__(self, browser: Any, base: str, **context: Any) -> None:
        self.base = base
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.requested: list[str] = []  # every URL the page asked the server for
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._only_local)

    def _only_local(self, route: Any) -> None:
        url = route.request.url
        self.requested.append(url)
        if url.startswith(self.base) or url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def shot(self, tmp_path: Path, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / path.name)
        return path

    def close(self) -> None:
        self.context.close()


def choose_stars(item: Any, stars: str) -> None:
    """Rate the movie in list item ``item`` with the stars select (half stars as "4.5")."""
    select = item.locator("select.stars")
    select.focus()  # as a keyboard user would reach it
    select.select_option(stars)


def movie_ids(page: Any, selector: str) -> list[int]:
    return [
        int(i)
        for i in page.locator(f"{selector} > li").evaluate_all(
            "items => items.map(item => item.dataset.movieId)"
        )
    ]


TEXTS = {  # what the catalogues say, in each language, for the checks below
    "en": {
        "recs": "Recommended for you",
        "hide": "Not interested",
        "switch": "한국어",
        "other_recs": "나를 위한 추천",
    },
    "ko": {
        "recs": "나를 위한 추천",
        "hide": "관심 없음",
        "switch": "English",
        "other_recs": "Recommended for you",
    },
}
LOCALES = {"en": "en-GB", "ko": "ko-KR"}
VIEWPORTS = {
    1280: {"viewport": {"width": 1280, "height": 900}},
    390: {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


def fits(page: Any, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than {width}px"


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("width", [1280, 390])
def test_a_profile_from_onboarding_to_movie_night_export_and_delete(
    browser: Any, server: str, tmp_path: Path, width: int, language: str
) -> None:
    """The whole flow of issue 24: onboarding, rating, hiding, a dislike never recommended,
    reload keeps the profile, the private link opens it in a fresh browser, movie night for
    two, export, delete; in the browser's language, at a desktop's and a phone's width."""
    from playwright.sync_api import expect

    texts = TEXTS[language]
    options = {**VIEWPORTS[width], "locale": LOCALES[language], "accept_downloads": True}
    tag = f"{width}-{language}"
    home = Visit(browser, server, **options)
    page = home.page
    page.goto(server)
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#recs-heading")).to_have_text(texts["recs"])

    # Onboarding: ten well-known movies of varied genres; rate three of them.
    onboarding = page.locator("#onboarding-list > li")
    expect(page.locator("#onboarding")).to_be_visible()
    expect(onboarding).to_have_count(10)
    genres = set(page.locator("#onboarding-list .genre").all_inner_texts())
    assert len(genres) >= 8, genres
    for position, stars in [(0, "5"), (1, "4.5"), (2, "4")]:
        choose_stars(onboarding.nth(position), stars)
        expect(page.locator("#ratings-count")).to_have_text(str(position + 1))
        # the list is drawn afresh; the rated movie's stars keep the keyboard focus
        expect(onboarding.nth(position).locator("select.stars")).to_be_focused()
    recs = page.locator("#recs > li")
    expect(recs).to_have_count(10)
    expect(recs.first.locator(".because")).not_to_be_empty()
    cookies = {c["name"]: c for c in home.context.cookies()}
    key = cookies["movierec_profile"]
    assert key["httpOnly"] and key["sameSite"] == "Strict" and key["path"] == "/api"
    assert "movierec_profile" not in page.evaluate("document.cookie")  # no script reads it
    home.shot(tmp_path, f"profile-onboarding-{tag}")

    # Rate from search: the movie opens with its similar movies.
    search = page.locator("#search")
    search.click()
    search.press_sequentially("toy story", delay=20)
    page.wait_for_selector("#suggestions [role=option][aria-selected=true]")
    search.press("Enter")
    expect(page.locator("#chosen > li")).to_have_count(1)
    expect(page.locator("#similar > li")).to_have_count(10)
    choose_stars(page.locator("#chosen > li"), "5")
    expect(page.locator("#ratings-count")).to_have_text("4")
    page.locator("#similar-close").click()

    # A dislike: the top pick rated one star never comes back.
    disliked = movie_ids(page, "#recs")[0]
    choose_stars(page.locator(f"#recs > li[data-movie-id='{disliked}']"), "1")
    expect(page.locator("#ratings-count")).to_have_text("5")
    expect(recs).to_have_count(10)
    assert disliked not in movie_ids(page, "#recs")

    # Not interested: gone from the picks, listed under "not interested".
    hidden = movie_ids(page, "#recs")[0]
    page.locator(f"#recs > li[data-movie-id='{hidden}'] button.hide").click()
    expect(page.locator("#hidden-count")).to_have_text("1")
    expect(recs).to_have_count(10)
    assert hidden not in movie_ids(page, "#recs") and disliked not in movie_ids(page, "#recs")
    assert movie_ids(page, "#hidden") == [hidden]
    watched = movie_ids(page, "#recs")[0]
    page.locator(f"#recs > li[data-movie-id='{watched}'] button.watch").click()
    expect(page.locator("#watch-count")).to_have_text("1")

    # What the ratings say: likes, dislikes, genres and the movies behind the picks.
    expect(page.locator("#profile-counts dd").nth(1)).to_have_text("4")
    expect(page.locator("#profile-counts dd").nth(2)).to_have_text("1")
    expect(page.locator("#taste .genre-row").first).to_be_visible()
    expect(page.locator("#taste .drivers li").first).to_be_visible()
    fits(page, width)
    home.shot(tmp_path, f"profile-rated-{tag}")

    # Reload keeps the profile (its cookie); the dislike and the hidden movie stay out.
    before = movie_ids(page, "#recs")
    page.reload()
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    expect(page.locator("#ratings-count")).to_have_text("5")
    expect(recs).to_have_count(10)
    assert movie_ids(page, "#recs") == before

    # The private link opens the profile in a fresh browser; the fragment leaves the address.
    page.locator("#link-make").click()
    expect(page.locator("#link-out")).to_have_value(re.compile(r"#open=[\w-]+\.[\w-]{40,}$"))
    link = page.locator("#link-out").input_value()
    away = Visit(browser, server, **options)
    away.page.goto(link)
    expect(away.page.locator("body[data-ready=true]")).to_have_count(1)
    expect(away.page.locator("#ratings-count")).to_have_text("5")
    assert "#" not in away.page.url
    secret = link.rsplit(".", 1)[1]
    assert away.requested and not [url for url in away.requested if secret in url]
    logged = ACCESS_LOG.read_text(encoding="utf-8", errors="replace")
    assert "POST /api/profile/open" in logged and secret not in logged  # no secret in logs
    expect(away.page.locator("#recs > li")).to_have_count(10)
    assert movie_ids(away.page, "#recs") == before

    # Movie night for two: a friend's profile, its code, picks that name whose taste they serve.
    friend = Visit(browser, server, **options)
    friend.page.goto(server)
    expect(friend.page.locator("#onboarding-list > li")).to_have_count(10)
    for position, stars in [(5, "5"), (7, "4.5"), (9, "0.5")]:
        choose_stars(friend.page.locator("#onboarding-list > li").nth(position), stars)
        expect(friend.page.locator("#ratings-count")).to_have_text(str(position // 2 - 1))
    friend.page.locator("#night-code").click()
    expect(friend.page.locator("#night-code-out")).not_to_be_empty()
    code = friend.page.locator("#night-code-out").inner_text()
    page.locator("#night-guest-code").fill(code)
    page.locator("#night-guest-name").fill("Ben")
    page.locator("#night-form button[type=submit]").click()
    expect(page.locator("#night-guests > li")).to_have_count(1)
    page.locator("#night-go").click()
    picks = page.locator("#night-picks > li")
    expect(picks).to_have_count(10)
    expect(picks.first.locator(".serves .member").first).to_be_visible()
    served = set(page.locator("#night-picks .member").all_inner_texts())
    assert served <= {"Ben", "you", "나"} and len(served) >= 1, served
    assert not set(movie_ids(page, "#night-picks")) & {disliked, hidden}
    page.locator("#night-card").scroll_into_view_if_needed()
    home.shot(tmp_path, f"profile-movie-night-{tag}")

    # The language switch: the other language at once, then back.
    page.get_by_role("button", name=texts["switch"]).click()
    expect(page.locator("#recs-heading")).to_have_text(texts["other_recs"])
    page.get_by_role("button", name=TEXTS["ko" if language == "en" else "en"]["switch"]).click()
    expect(page.locator("#recs-heading")).to_have_text(texts["recs"])

    # Export: a JSON download of everything the profile holds.
    with page.expect_download() as download:
        page.locator("#export").click()
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["format"] == "movierec-profile" and len(exported["ratings"]) == 5
    assert [k["movie_id"] for k in exported["not_interested"]] == [hidden]

    # Delete: gone here, and from the other browser that opened it by link.
    page.locator("#delete").click()
    page.locator("#delete-yes").click()
    expect(page.locator("#ratings-count")).to_have_text("0")
    expect(recs).to_have_count(0)
    expect(page.locator("#onboarding")).to_be_visible()
    home.shot(tmp_path, f"profile-deleted-{tag}")
    away.page.reload()
    expect(away.page.locator("body[data-ready=true]")).to_have_count(1)
    expect(away.page.locator("#ratings-count")).to_have_text("0")
    fits(page, width)
    for visit in (home, away, friend):
        assert visit.outside == [] and visit.errors == [], (visit.outside, visit.errors)
        visit.close()


def test_api_docs_render_offline(browser: Any, server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    visit = Visit(browser, server, viewport={"width": 1280, "height": 900})
    visit.page.goto(f"{server}/docs")
    expect(visit.page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(visit.page.locator(".swagger-ui")).to_contain_text("/api/recommend")
    visit.page.get_by_text("Recommendations for someone's favourite movies").click()
    expect(visit.page.get_by_role("button", name="Try it out")).to_be_visible()
    visit.shot(tmp_path, "docs")
    assert visit.outside == []
    assert not [e for e in visit.errors if "Content Security Policy" in e], visit.errors
    visit.close()
