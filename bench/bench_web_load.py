"""Load test of the web API: N requests from C concurrent clients.

Starts ``movierec serve`` (one uvicorn process) on a free 127.0.0.1 port, on ML-1M when the data
dir has it (else the bundled ml-latest-small), warms it, then sends the requests over keep-alive
connections. Reports requests/s, latency percentiles, errors, the server's RSS before and after
and its CPU time per request; prints a table and writes JSON. Loopback only; bounded in count
and in time. Two scenarios:

- ``recommend`` (the default): ``POST /api/recommend`` with five liked movies each, drawn from
  the 100 most popular (seeded).
- ``profile``: each client is one person with a profile (made in the warm-up, in a SQLite
  database of its own, with five ratings), whose requests alternate rating a movie (``PUT
  /api/profile/ratings/{movie_id}``, stars and movie drawn from the 100 most popular, seeded)
  and asking for its recommendations (``GET /api/profile/recommendations``), with the profile
  cookie and the CSRF token. All clients share one address, so the server's write limit is
  raised (``MOVIEREC_WRITE_LIMIT``; the bench says so).

    python bench/bench_web_load.py                      # 10,000 requests, 32 clients
    python bench/bench_web_load.py --requests 2000 --explain
    python bench/bench_web_load.py --scenario profile   # rated-and-recommend, SQLite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from movierec.datasets.fetch import data_dir_from, find_local
from movierec.datasets.registry import get_spec

HOST = "127.0.0.1"  # loopback only
RESULTS = Path(__file__).parent / "results" / "web_load.json"
PROFILE_RESULTS = Path(__file__).parent / "results" / "web_load_profile.json"
TARGETS = {"requests_per_s": 2500.0, "p99_ms": 25.0, "errors": 0}  # issue 21
PROFILE_TARGETS = {"requests_per_s": 1000.0, "p99_ms": 50.0, "errors": 0}  # issue 24
WRITE_LIMIT = "1000000/1000000"
"""The profile scenario's write limit: every client comes from 127.0.0.1, one address."""
CSRF_HEADER = "X-CSRF-Token"


def pick_dataset() -> str:
    """ml-1m when it is on this machine (data dir or cache), else the bundled small set."""
    return "ml-1m" if find_local(get_spec("ml-1m"), data_dir_from(None)) else "ml-latest-small"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(
    source: list[str], port: int, startup_s: float, environment: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``movierec serve`` on ``source`` (``["--dataset", NAME]`` or ``["--model", DIR]``, and
    any other options), once it answers /healthz."""
    command = [
        sys.executable,
        "-m",
        "movierec.cli",
        "serve",
        *source,
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
    ]
    server = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(environment or {})},
    )
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise SystemExit(f"the server exited with {server.returncode}:\n{error[-2000:]}")
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    stop_server(server)
    raise SystemExit(f"the server did not answer /healthz within {startup_s:.0f} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


Request = tuple[str, str, bytes, dict[str, str]]
"""(method, path, JSON body, extra headers)."""


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP for this bench: a lean load
    generator, so that the client leaves the shared CPUs to the server it measures."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: Request) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        method, path, payload, headers = request
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        status = int(lines[0].split()[1])
        length = next(
            (int(line[15:]) for line in lines if line.lower().startswith(b"content-length:")), None
        )
        if length is None:  # this bench's server always sends Content-Length
            raise ConnectionError("a response without Content-Length")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None


async def fire(
    port: int,
    requests: list[Request],
    concurrency: int,
    time_limit: float,
    client: str,
    worker_requests: Callable[[int], list[Request]] | None = None,
) -> dict[str, Any]:
    """Send every request from ``concurrency`` workers, each on its own keep-alive connection:
    in turn from the shared list ``requests``, or (``worker_requests``) each worker its own
    list (a person's requests, in order) while the shared count lasts.

    Returns latencies (s), how many were sent, errors by kind, wall and client CPU seconds.
    """
    latencies = np.zeros(len(requests))
    next_index = 0
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + time_limit
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    pool = httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=30)

    async def worker(number: int) -> None:
        nonlocal next_index
        connection = Connection(HOST, port)
        own = worker_requests(number) if worker_requests else None
        turn = 0
        try:
            while next_index < len(requests) and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                request = requests[index] if own is None else own[turn % len(own)]
                turn += 1
                started = time.perf_counter()
                try:
                    if client == "httpx":
                        method, path, payload, headers = request
                        response = await pool.request(
                            method,
                            path,
                            content=payload,
                            headers={"Content-Type": "application/json", **headers},
                        )
                        status, content = response.status_code, response.content
                    else:
                        status, content = await asyncio.wait_for(
                            connection.send(request), timeout=30
                        )
                    ok = status == 200 and len(json.loads(content)) > 0
                    kind = str(status)
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.TimeoutError,
                    httpx.HTTPError,
                    ValueError,
                ) as exc:
                    ok, kind = False, type(exc).__name__
                    await connection.close()
                latencies[index] = time.perf_counter() - started
                if not ok:
                    errors[kind] = errors.get(kind, 0) + 1
        finally:
            await connection.close()

    started, cpu_started = time.perf_counter(), time.process_time()
    async with pool:
        await asyncio.gather(*(worker(number) for number in range(concurrency)))
    return {
        "latencies": latencies[:next_index],
        "sent": next_index,
        "errors": errors,
        "wall_s": time.perf_counter() - started,
        "client_cpu_s": time.process_time() - cpu_started,
    }


def make_people(
    base: str, count: int, popular: list[int], scale: dict[str, float], n: int, seed: int
) -> list[list[Request]]:
    """``count`` people, each with a profile made now (five ratings of popular movies) and the
    requests it will send: rate a movie, ask for its recommendations, in turn."""
    rng = random.Random(seed)
    steps = int(round((scale["highest"] - scale["lowest"]) / scale["step"]))
    people = []
    for _ in range(count):
        with httpx.Client(base_url=base, timeout=30) as person:
            csrf = person.get("/api/session").json()["csrf"]
            person.post("/api/profile", headers={CSRF_HEADER: csrf}).raise_for_status()
            for movie_id in rng.sample(popular, 5):
                person.put(
                    f"/api/profile/ratings/{movie_id}",
                    json={"stars": scale["highest"]},
                    headers={CSRF_HEADER: csrf},
                ).raise_for_status()
            cookie = "; ".join(f"{name}={value}" for name, value in person.cookies.items())
        headers = {"Cookie": cookie, CSRF_HEADER: csrf}
        requests: list[Request] = []
        for _ in range(200):
            stars = scale["lowest"] + rng.randint(0, steps) * scale["step"]
            payload = json.dumps({"stars": stars}).encode()
            requests.append(
                ("PUT", f"/api/profile/ratings/{rng.choice(popular)}", payload, headers)
            )
            requests.append(("GET", f"/api/profile/recommendations?n={n}", b"", headers))
        people.append(requests)
    return people


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario",
        choices=["recommend", "profile"],
        default="recommend",
        help="recommend: POST /api/recommend; profile: each client a person with a profile, "
        "rating a movie and asking for its recommendations in turn (SQLite)",
    )
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--liked", type=int, default=5, help="liked movies per request")
    parser.add_argument("--n", type=int, default=10, help="recommendations per request")
    parser.add_argument("--explain", action="store_true", help="ask for `because` too")
    parser.add_argument(
        "--client",
        choices=["lean", "httpx"],
        default="lean",
        help="lean: asyncio streams (cheap); httpx: httpx.AsyncClient",
    )
    parser.add_argument("--dataset", default=None, help="default: ml-1m if present, else bundled")
    parser.add_argument("--model", type=Path, default=None, help="serve this saved model instead")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds for the run")
    parser.add_argument("--startup", type=float, default=600.0, help="seconds to wait for start")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/results/…json")
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 1..100000 and --concurrency 1..256")
    profile = args.scenario == "profile"
    out = args.out or (PROFILE_RESULTS if profile else RESULTS)
    targets = PROFILE_TARGETS if profile else TARGETS

    dataset = args.dataset or pick_dataset()
    source = ["--model", str(args.model)] if args.model else ["--dataset", dataset]
    environment: dict[str, str] = {}
    db_folder = tempfile.TemporaryDirectory(prefix="movierec-bench-profiles-")
    if profile:
        source += ["--db", str(Path(db_folder.name) / "profiles.db")]
        environment["MOVIEREC_WRITE_LIMIT"] = WRITE_LIMIT
        print(
            f"MOVIEREC_WRITE_LIMIT={WRITE_LIMIT}: the write limit raised, as all "
            f"{args.concurrency} clients share one address",
            file=sys.stderr,
        )
    port = free_port()
    base = f"http://{HOST}:{port}"
    print(f"starting `movierec serve {' '.join(source)}` on {HOST}:{port} …", file=sys.stderr)
    server = start_server(source, port, args.startup, environment)
    try:
        popular = [m["movie_id"] for m in httpx.get(f"{base}/api/popular?n=100").json()]
        if args.model:
            dataset = httpx.get(f"{base}/api/stats").json().get("dataset", str(args.model))
        rng = random.Random(42)

        def body() -> Request:
            liked = rng.sample(popular, args.liked)
            payload = json.dumps({"liked": liked, "n": args.n, "explain": args.explain})
            return ("POST", "/api/recommend", payload.encode(), {})

        people: Callable[[int], list[Request]] | None = None
        if profile:
            scale = httpx.get(f"{base}/api/session").json()["scale"]
            made = make_people(base, args.concurrency, popular, scale, args.n, seed=42)
            people = made.__getitem__
        warm = [body() for _ in range(args.warmup)]
        asyncio.run(fire(port, warm, args.concurrency, args.time_limit, args.client, people))
        rss_before, cpu_before = rss_mib(server.pid), cpu_seconds(server.pid)
        load_before = os.getloadavg()[0]
        bodies = [body() for _ in range(args.requests)]
        run = asyncio.run(
            fire(port, bodies, args.concurrency, args.time_limit, args.client, people)
        )
        rss_after, cpu_after = rss_mib(server.pid), cpu_seconds(server.pid)
    finally:
        stop_server(server)
        db_folder.cleanup()

    sent, wall, errors = run["sent"], run["wall_s"], sum(run["errors"].values())
    ms = run["latencies"] * 1000
    result = {
        "dataset": dataset,
        "scenario": args.scenario,
        "endpoint": (
            "PUT /api/profile/ratings/{movie_id} and GET /api/profile/recommendations, in turn"
            if profile
            else "POST /api/recommend"
        ),
        "write_limit": WRITE_LIMIT if profile else None,
        "requests": sent,
        "requested": args.requests,
        "concurrency": args.concurrency,
        "liked_per_request": None if profile else args.liked,
        "profile_ratings_at_start": 5 if profile else None,
        "n": args.n,
        "explain": True if profile else args.explain,
        "client": args.client,
        "errors": errors,
        "error_kinds": run["errors"],
        "wall_s": round(wall, 3),
        "requests_per_s": round(sent / wall, 1),
        "latency_ms": {
            "mean": round(float(ms.mean()), 2),
            "p50": round(float(np.percentile(ms, 50)), 2),
            "p95": round(float(np.percentile(ms, 95)), 2),
            "p99": round(float(np.percentile(ms, 99)), 2),
            "max": round(float(ms.max()), 2),
        },
        "server_rss_mib": {"before": round(rss_before, 1), "after": round(rss_after, 1)},
        "server_cpu_ms_per_request": round((cpu_after - cpu_before) * 1000 / max(sent, 1), 3),
        "client_cpu_ms_per_request": round(run["client_cpu_s"] * 1000 / max(sent, 1), 3),
        "load_average_1min": {
            "before": round(load_before, 2),
            "after": round(os.getloadavg()[0], 2),
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "targets": targets,
    }
    result["meets_targets"] = bool(
        result["requests_per_s"] >= targets["requests_per_s"]
        and result["latency_ms"]["p99"] <= targets["p99_ms"]
        and errors == targets["errors"]
        and sent == args.requests
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")

    rate = f"{result['requests_per_s']:,.1f}"
    rows = [
        ("dataset", dataset),
        ("requests sent / asked", f"{sent:,} / {args.requests:,}"),
        ("clients (connections)", f"{args.concurrency} ({args.client})"),
        ("explain", "yes (the profile route explains)" if profile else str(args.explain)),
        ("requests/s", f"{rate}  (target ≥ {targets['requests_per_s']:.0f})"),
        *[(f"latency {k} (ms)", f"{v:.2f}") for k, v in result["latency_ms"].items()],
        ("p99 target (ms)", f"≤ {targets['p99_ms']:.0f}"),
        ("errors", f"{errors} {run['errors'] or ''}".rstrip()),
        ("server RSS before / after (MiB)", f"{rss_before:.1f} / {rss_after:.1f}"),
        ("server CPU per request (ms)", f"{result['server_cpu_ms_per_request']:.3f}"),
        ("client CPU per request (ms)", f"{result['client_cpu_ms_per_request']:.3f}"),
        ("load average before / after", "{before} / {after}".format(**result["load_average_1min"])),
        ("meets targets", "yes" if result["meets_targets"] else "NO"),
    ]
    if profile:
        rows.insert(1, ("write limit (MOVIEREC_WRITE_LIMIT)", f"{WRITE_LIMIT}: one address"))
    width = max(len(name) for name, _ in rows)
    if profile:
        print(f"\nweb load: {args.concurrency} people rating and asking for picks in turn")
    else:
        print(f"\nweb load: POST /api/recommend, {args.liked} liked movies each")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
