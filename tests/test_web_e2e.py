"""End to end: `movierec serve` on a free loopback port, driven by Debian's Chromium (Playwright).

A person searches, picks three favourites with keyboard and mouse, sees ten explained
recommendations, opens a movie's similar list, and the page never reaches another host. The
browser tests skip where Chromium or playwright is missing, and fail there instead under
MOVIEREC_REQUIRE_BROWSER (CI installs both and sets it). Slow tier: run with --slow.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import CHROMIUM, require

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
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`movierec serve` on the bundled dataset, as a person would start it."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "movierec.cli",
        "serve",
        "--dataset",
        "ml-latest-small",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 240
    try:
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                pytest.fail(f"movierec serve exited with {process.returncode}: {error[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("movierec serve did not answer /healthz within 240 s")
            time.sleep(0.25)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._only_local)

    def _only_local(self, route: Any) -> None:
        url = route.request.url
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


def pick(page: Any, query: str, *, keys: list[str]) -> None:
    """Type a query into the search box and choose a suggestion with the given keys."""
    search = page.get_by_role("combobox", name="Search for a movie to add")
    search.click()
    search.press_sequentially(query, delay=30)
    page.wait_for_selector("#suggestions [role=option][aria-selected=true]")
    for key in keys:
        search.press(key)


def test_pick_three_favourites_see_ten_recommendations_and_similar_movies(
    browser: Any, server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    visit = Visit(browser, server, viewport={"width": 1280, "height": 900})
    page = visit.page
    page.goto(server)
    expect(page.locator("#popular li")).to_have_count(10)
    expect(page.locator("#chart svg rect")).not_to_have_count(0)

    chips = page.get_by_role("list", name="Your favourite movies").get_by_role("listitem")
    pick(page, "toy story", keys=["Enter"])  # the best match is chosen by default
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("Toy Story")

    pick(page, "matrix", keys=[])
    page.get_by_role("option").filter(has_text="Matrix").first.click()  # with the mouse
    expect(chips).to_have_count(2)

    pick(page, "fargo", keys=["ArrowDown", "ArrowUp", "Enter"])  # arrows wrap round and back
    expect(chips).to_have_count(3)
    expect(page.get_by_role("combobox")).to_be_focused()
    expect(page.get_by_role("combobox")).to_have_attribute("aria-expanded", "false")

    recs = page.locator("#recs > li")
    expect(recs).to_have_count(10)
    expect(page.locator("#recs-status")).to_have_text("10 recommendations from your 3 favourites.")
    first = recs.first
    expect(first.locator(".year")).to_have_text(re.compile(r"^\d{4}$"))
    expect(first.locator(".genres")).not_to_be_empty()
    expect(first.locator(".score")).to_have_text(re.compile(r"^-?\d+\.\d\d$"))
    expect(first.locator(".because")).to_contain_text("Because you liked")
    liked = {"Toy Story", "The Matrix", "Fargo"}
    assert not liked & {t.strip() for t in recs.locator(".title-link").all_inner_texts()}

    title = first.locator(".title-link").inner_text()
    first.locator(".title-link").click()
    similar = page.get_by_role("region", name=f"Similar to {title}", exact=False)
    expect(page.locator("#similar-card")).to_be_visible()
    expect(page.locator("#similar-heading")).to_contain_text(f"Similar to {title}")
    expect(page.locator("#similar-heading")).to_be_focused()
    expect(page.locator("#similar > li")).to_have_count(10)
    assert similar.count() == 1
    visit.shot(tmp_path, "desktop")

    # Removing a favourite updates the recommendations; the page still answers afterwards.
    page.get_by_role("button", name="Remove Fargo (1996) from favourites").click()
    expect(chips).to_have_count(2)
    expect(page.locator("#recs-status")).to_have_text("10 recommendations from your 2 favourites.")
    page.keyboard.press("Escape")
    assert visit.outside == [] and visit.errors == []
    visit.close()


def test_phone_width_page_fits_and_works(browser: Any, server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    visit = Visit(
        browser,
        server,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = visit.page
    page.goto(server)
    page.get_by_role("button", name="try an example").click()
    expect(page.locator("#chips > li")).to_have_count(3)
    expect(page.locator("#recs > li")).to_have_count(10)
    page.locator("#recs .title-link").nth(1).click()
    expect(page.locator("#similar > li")).to_have_count(10)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px phone"
    visit.shot(tmp_path, "phone")
    assert visit.outside == [] and visit.errors == []
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
