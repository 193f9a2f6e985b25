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
TARGETS = {"requests_per_s": 300.0, "p99_ms": 50.0, "errors": 0}


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


def start_server(dataset: str, port: int, startup_s: float) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "movierec.cli", "serve", "--dataset", dataset,
        "--host", HOST, "--port", str(port), "--no-access-log",
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


async def fire(
    base: str, bodies: list[dict[str, Any]], concurrency: int, time_limit: float
) -> tuple[np.ndarray, int, int, float, dict[str, int]]:
    """Send every body from ``concurrency`` workers; latencies (s), sent, errors, wall time."""
    latencies = np.zeros(len(bodies))
    next_index = 0
    errors = 0
    kinds: dict[str, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    deadline = time.perf_counter() + time_limit

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal next_index, errors
            while next_index < len(bodies) and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                started = time.perf_counter()
                try:
                    response = await client.post("/api/recommend", json=bodies[index])
                    ok = response.status_code == 200 and len(response.json()) > 0
                    kind = str(response.status_code)
                except httpx.HTTPError as exc:
                    ok, kind = False, type(exc).__name__
                latencies[index] = time.perf_counter() - started
                if not ok:
                    errors += 1
                    kinds[kind] = kinds.get(kind, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies[:next_index], next_index, errors, wall, kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--liked", type=int, default=5, help="liked movies per request")
    parser.add_argument("--n", type=int, default=10, help="recommendations per request")
    parser.add_argument("--explain", action="store_true", help="ask for `because` too")
    parser.add_argument("--dataset", default=None, help="default: ml-1m if present, else bundled")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds for the run")
    parser.add_argument("--startup", type=float, default=600.0, help="seconds to wait for start")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 1..100000 and --concurrency 1..256")

    dataset = args.dataset or pick_dataset()
    port = free_port()
    base = f"http://{HOST}:{port}"
    print(f"starting `movierec serve --dataset {dataset}` on {base} …", file=sys.stderr)
    server = start_server(dataset, port, args.startup)
    try:
        popular = [m["movie_id"] for m in httpx.get(f"{base}/api/popular?n=100").json()]
        rng = random.Random(42)

        def body() -> dict[str, Any]:
            return {"liked": rng.sample(popular, args.liked), "n": args.n, "explain": args.explain}

        warm = [body() for _ in range(args.warmup)]
        asyncio.run(fire(base, warm, args.concurrency, args.time_limit))
        rss_before, cpu_before = rss_mib(server.pid), cpu_seconds(server.pid)
        bodies = [body() for _ in range(args.requests)]
        latencies, sent, errors, wall, kinds = asyncio.run(
            fire(base, bodies, args.concurrency, args.time_limit)
        )
        rss_after, cpu_after = rss_mib(server.pid), cpu_seconds(server.pid)
    finally:
        stop_server(server)

    ms = latencies * 1000
    result = {
        "dataset": dataset,
        "requests": sent,
        "requested": args.requests,
        "concurrency": args.concurrency,
        "liked_per_request": args.liked,
        "n": args.n,
        "explain": args.explain,
        "errors": errors,
        "error_kinds": kinds,
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
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "targets": TARGETS,
    }
    result["meets_targets"] = (
        result["requests_per_s"] >= TARGETS["requests_per_s"]
        and result["latency_ms"]["p99"] <= TARGETS["p99_ms"]
        and errors == TARGETS["errors"]
        and sent == args.requests
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    rows = [
        ("dataset", dataset),
        ("requests (sent/asked)", f"{sent:,}/{args.requests:,}"),
        ("clients", str(args.concurrency)),
        ("explain", str(args.explain)),
        ("requests/s", f"{result['requests_per_s']:,.1f}  (target ≥ {TARGETS['requests_per_s']:.0f})"),
        *[(f"latency {k} (ms)", f"{v:.2f}") for k, v in result["latency_ms"].items()],
        ("p99 target (ms)", f"≤ {TARGETS['p99_ms']:.0f}"),
        ("errors", f"{errors}  {kinds or ''}".rstrip()),
        ("server RSS before/after (MiB)", f"{rss_before:.1f} / {rss_after:.1f}"),
        ("server CPU per request (ms)", f"{result['server_cpu_ms_per_request']:.3f}"),
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
