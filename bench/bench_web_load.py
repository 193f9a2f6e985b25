"""Load test of the web API: N ``POST /api/recommend`` requests from C concurrent clients.

Starts ``movierec serve`` (one uvicorn process) on a free 127.0.0.1 port, on ML-1M when the data
dir has it (else the bundled ml-latest-small), warms it, then sends the requests (five liked
movies each, drawn from the 100 most popular, seeded) over keep-alive connections. Reports
requests/s, latency percentiles, errors, the server's RSS before and after and its CPU time per
request; prints a table and writes JSON. Loopback only; bounded in count and in time.

    python bench/bench_web_load.py                      # 10,000 requests, 32 clients
    python bench/bench_web_load.py --requests 2000 --explain
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
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from movierec.datasets.fetch import data_dir_from, find_local
from movierec.datasets.registry import get_spec

HOST = "127.0.0.1"  # loopback only
RESULTS = Path(__file__).parent / "results" / "web_load.json"
TARGETS = {"requests_per_s": 2500.0, "p99_ms": 25.0, "errors": 0}  # issue 21


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


def start_server(source: list[str], port: int, startup_s: float) -> subprocess.Popen[bytes]:
    """``movierec serve`` on ``source`` (``["--dataset", NAME]`` or ``["--model", DIR]``), once
    it answers /healthz."""
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
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP for this bench: a lean load
    generator, so that the client leaves the shared CPUs to the server it measures."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
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
    port: int, bodies: list[bytes], concurrency: int, time_limit: float, client: str
) -> dict[str, Any]:
    """POST every body from ``concurrency`` workers, each on its own keep-alive connection.

    Returns latencies (s), how many were sent, errors by kind, wall and client CPU seconds.
    """
    latencies = np.zeros(len(bodies))
    next_index = 0
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + time_limit
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    pool = httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=30)

    async def worker() -> None:
        nonlocal next_index
        connection = Connection(HOST, port)
        try:
            while next_index < len(bodies) and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                started = time.perf_counter()
                try:
                    if client == "httpx":
                        response = await pool.post(
                            "/api/recommend",
                            content=bodies[index],
                            headers={"Content-Type": "application/json"},
                        )
                        status, content = response.status_code, response.content
                    else:
                        status, content = await asyncio.wait_for(
                            connection.post("/api/recommend", bodies[index]), timeout=30
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
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "latencies": latencies[:next_index],
        "sent": next_index,
        "errors": errors,
        "wall_s": time.perf_counter() - started,
        "client_cpu_s": time.process_time() - cpu_started,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds for the run")
    parser.add_argument("--startup", type=float, default=600.0, help="seconds to wait for start")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 1..100000 and --concurrency 1..256")

    dataset = args.dataset or pick_dataset()
    port = free_port()
    print(f"starting `movierec serve --dataset {dataset}` on {HOST}:{port} …", file=sys.stderr)
    server = start_server(["--dataset", dataset], port, args.startup)
    try:
        popular = [
            m["movie_id"] for m in httpx.get(f"http://{HOST}:{port}/api/popular?n=100").json()
        ]
        rng = random.Random(42)

        def body() -> bytes:
            liked = rng.sample(popular, args.liked)
            return json.dumps({"liked": liked, "n": args.n, "explain": args.explain}).encode()

        warm = [body() for _ in range(args.warmup)]
        asyncio.run(fire(port, warm, args.concurrency, args.time_limit, args.client))
        rss_before, cpu_before = rss_mib(server.pid), cpu_seconds(server.pid)
        load_before = os.getloadavg()[0]
        bodies = [body() for _ in range(args.requests)]
        run = asyncio.run(fire(port, bodies, args.concurrency, args.time_limit, args.client))
        rss_after, cpu_after = rss_mib(server.pid), cpu_seconds(server.pid)
    finally:
        stop_server(server)

    sent, wall, errors = run["sent"], run["wall_s"], sum(run["errors"].values())
    ms = run["latencies"] * 1000
    result = {
        "dataset": dataset,
        "endpoint": "POST /api/recommend",
        "requests": sent,
        "requested": args.requests,
        "concurrency": args.concurrency,
        "liked_per_request": args.liked,
        "n": args.n,
        "explain": args.explain,
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
        "targets": TARGETS,
    }
    result["meets_targets"] = bool(
        result["requests_per_s"] >= TARGETS["requests_per_s"]
        and result["latency_ms"]["p99"] <= TARGETS["p99_ms"]
        and errors == TARGETS["errors"]
        and sent == args.requests
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    rate = f"{result['requests_per_s']:,.1f}"
    rows = [
        ("dataset", dataset),
        ("requests sent / asked", f"{sent:,} / {args.requests:,}"),
        ("clients (connections)", f"{args.concurrency} ({args.client})"),
        ("explain", str(args.explain)),
        ("requests/s", f"{rate}  (target ≥ {TARGETS['requests_per_s']:.0f})"),
        *[(f"latency {k} (ms)", f"{v:.2f}") for k, v in result["latency_ms"].items()],
        ("p99 target (ms)", f"≤ {TARGETS['p99_ms']:.0f}"),
        ("errors", f"{errors} {run['errors'] or ''}".rstrip()),
        ("server RSS before / after (MiB)", f"{rss_before:.1f} / {rss_after:.1f}"),
        ("server CPU per request (ms)", f"{result['server_cpu_ms_per_request']:.3f}"),
        ("client CPU per request (ms)", f"{result['client_cpu_ms_per_request']:.3f}"),
        ("load average before / after", "{before} / {after}".format(**result["load_average_1min"])),
        ("meets targets", "yes" if result["meets_targets"] else "NO"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"\nweb load: POST /api/recommend, {args.liked} liked movies each")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
