"""Nothing lost, through the real server: `movierec serve --model DIR --db DB` (a uvicorn process
on a free loopback port), 64 profiles made through the API, and 64 concurrent clients — each
with its own cookie and CSRF token — rating movies (and putting some on the watch list first)
until the server is killed with SIGKILL mid-burst. Restarted on the same database, every
acknowledged (2xx) write is there, and none is half-written: each rating holds the stars sent,
and a movie rated is off the watch list (one transaction). A request that got no answer may or
may not have happened, but if it did, it happened whole.

A few seconds in the fast tier, a minute in the slow tier; against SQLite always and against
PostgreSQL where ``MOVIEREC_TEST_POSTGRES_URL`` names one (skipped otherwise, failed instead
under ``MOVIEREC_REQUIRE_POSTGRES``: tests/profiles_db.py).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from profiles_db import BACKENDS, database_for
from served import start_serve, stop_serve

from movierec import Recommender
from movierec.web.guard import CSRF_HEADER

CLIENTS = 64
WATCH_EVERY = 4  # every 4th movie a client rates goes on its watch list first


def serve(model: Path, db: str) -> tuple[subprocess.Popen[bytes], str]:
    """`movierec serve --model MODEL --db DB` once it answers /healthz (write limit raised: all
    the clients share one address)."""
    options = ["--model", str(model), "--db", db, "--no-access-log"]
    return start_serve(options, environment={"MOVIEREC_WRITE_LIMIT": "1000000/1000000"})


@dataclass
class Client:
    """One person: its own cookies and CSRF token, the writes the server acknowledged (the last
    stars per movie, the movies put on the watch list) and the one write that got no answer."""

    number: int
    http: httpx.AsyncClient
    csrf: str = ""
    profile: str = ""
    rated: dict[int, float] = field(default_factory=dict)
    watched: set[int] = field(default_factory=set)
    pending: tuple[str, int, float] | None = None  # ("rate" | "watch", movie_id, stars)
    acknowledged: int = 0
    refused: list[str] = field(default_factory=list)

    async def start(self) -> None:
        session = await self.http.get("/api/session")
        self.csrf = session.json()["csrf"]
        made = await self.http.post("/api/profile", headers={CSRF_HEADER: self.csrf})
        assert made.status_code == 200, made.text
        self.profile = made.json()["profile"]

    async def write(self, kind: str, movie_id: int, stars: float) -> bool:
        """One PUT; True when acknowledged, False when the server is gone (left pending)."""
        self.pending = (kind, movie_id, stars)
        path = "ratings" if kind == "rate" else "watchlist"
        body = {"stars": stars} if kind == "rate" else None
        try:
            answer = await self.http.put(
                f"/api/profile/{path}/{movie_id}", json=body, headers={CSRF_HEADER: self.csrf}
            )
        except httpx.HTTPError:
            return False
        self.pending = None
        if not answer.is_success:
            self.refused.append(f"{answer.status_code} {answer.text[:200]}")
            return True
        self.acknowledged += 1
        if kind == "rate":
            self.rated[movie_id] = stars
            self.watched.discard(movie_id)
        else:
            self.watched.add(movie_id)
        return True

    async def burst(self, movies: list[int], until: float) -> None:
        order = random.Random(self.number).sample(movies, len(movies))
        step = 0
        while time.monotonic() < until:
            movie_id = order[step % len(order)]
            stars = 0.5 + ((self.number * 7 + step) % 10) * 0.5
            if step % WATCH_EVERY == 0 and not await self.write("watch", movie_id, stars):
                return
            if not await self.write("rate", movie_id, stars):
                return
            step += 1

    def check(self, exported: dict) -> list[str]:
        """What the database holds against what the server acknowledged (empty: all well)."""
        found = {r["movie_id"]: r["stars"] for r in exported["ratings"]}
        watched = {k["movie_id"] for k in exported["watchlist"]}
        expected, on_list = dict(self.rated), set(self.watched)
        if self.pending is not None:  # the write that got no answer: done whole, or not at all
            kind, movie_id, stars = self.pending
            done = found.get(movie_id) == stars and movie_id not in watched
            if kind == "rate" and done:
                expected[movie_id] = stars
                on_list.discard(movie_id)
            if kind == "watch" and movie_id in watched:
                on_list.add(movie_id)
        faults = [f"{self.profile}: rated {expected}, found {found}"] if found != expected else []
        if watched != on_list:
            faults.append(f"{self.profile}: watch list {sorted(on_list)}, found {sorted(watched)}")
        return faults


async def rate_until_killed(
    base: str, server: subprocess.Popen[bytes], movies: list[int], seconds: float
) -> list[Client]:
    """64 clients make their profiles, then rate for ``seconds``; at that moment, with every
    client still writing, the server gets SIGKILL."""
    limits = httpx.Limits(max_connections=1)
    clients = [
        Client(n, httpx.AsyncClient(base_url=base, timeout=30, limits=limits))
        for n in range(CLIENTS)
    ]
    try:
        await asyncio.gather(*(c.start() for c in clients))
        until = time.monotonic() + seconds + 30  # the clients stop when the server is gone
        writing = asyncio.gather(*(c.burst(movies, until) for c in clients))
        await asyncio.sleep(seconds)
        server.send_signal(signal.SIGKILL)  # mid-burst: 64 writes in flight
        server.wait()
        await writing
    finally:
        await asyncio.gather(*(c.http.aclose() for c in clients))
    return clients


async def exports(base: str, clients: list[Client]) -> list[dict]:
    """Each profile as its own browser reads it, after the restart (the same cookies)."""
    answers = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as reader:
        for client in clients:
            reader.cookies = client.http.cookies
            answer = await reader.get("/api/profile/export")
            assert answer.status_code == 200, answer.text
            answers.append(answer.json())
    return answers


@pytest.fixture(scope="module")
def model(small_recommender: Recommender, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_recommender.save(tmp_path_factory.mktemp("model") / "small")


def killed_mid_burst(model: Path, db: str, seconds: float) -> tuple[int, list[str]]:
    """Rate for ``seconds``, SIGKILL, restart, read back: (writes acknowledged, faults)."""
    server, base = serve(model, db)
    try:
        movies = [int(m) for m in Recommender.load(model).dataset.movies.index]
        clients = asyncio.run(rate_until_killed(base, server, movies, seconds))
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    restarted, base = serve(model, db)
    try:
        found = asyncio.run(exports(base, clients))
    finally:
        stop_serve(restarted)
    faults = [f for c in clients for f in c.refused]
    faults += [f for c, exported in zip(clients, found) for f in c.check(exported)]
    acknowledged = sum(c.acknowledged for c in clients)
    ratings = sum(len(c.rated) for c in clients)
    print(
        f"\n{db}: {acknowledged} writes acknowledged in {seconds:g} s by {CLIENTS} clients "
        f"({ratings} distinct ratings kept), {sum(c.pending is not None for c in clients)} "
        f"unanswered at the kill, {len(faults)} faults; load average {os.getloadavg()[0]:.2f}"
    )
    if "://" not in db:
        with sqlite3.connect(db) as check:
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return acknowledged, faults


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_mid_burst_loses_no_acknowledged_write(
    backend: str, model: Path, tmp_path: Path
) -> None:
    acknowledged, faults = killed_mid_burst(model, database_for(backend, tmp_path), 2.0)
    assert faults == []
    assert acknowledged > CLIENTS


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_minute_of_64_clients_then_sigkill_loses_no_acknowledged_write(
    backend: str, model: Path, tmp_path: Path
) -> None:
    acknowledged, faults = killed_mid_burst(model, database_for(backend, tmp_path), 60.0)
    assert faults == []
    assert acknowledged > CLIENTS * 60
