"""`movierec serve` as a real process on a free loopback port, for the tests that need uvicorn
itself (the browser walk, the SIGKILL durability test): started, waited for until /healthz
answers, and stopped with Ctrl+C (a kill if that does not end it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import IO, Any

import httpx
import pytest

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_serve(
    options: list[str],
    *,
    stdout: IO[Any] | int = subprocess.DEVNULL,
    environment: dict[str, str] | None = None,
    startup_s: float = 120.0,
) -> tuple[subprocess.Popen[bytes], str]:
    """`movierec serve OPTIONS --host 127.0.0.1 --port PORT` once it answers /healthz: the
    process and its base URL. The test fails, naming the server's last words, when it exits
    or does not answer within ``startup_s``."""
    port = free_port()
    command = [sys.executable, "-m", "movierec.cli", "serve", *options]
    command += ["--host", HOST, "--port", str(port)]
    process = subprocess.Popen(
        command,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env={**os.environ, **(environment or {})},
    )
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + startup_s
    while True:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            pytest.fail(f"movierec serve exited with {process.returncode}: {error[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_serve(process)
            pytest.fail(f"movierec serve did not answer /healthz within {startup_s:g} s")
        time.sleep(0.1)


def stop_serve(process: subprocess.Popen[bytes]) -> None:
    """Ctrl+C, then a kill if the server has not ended within 20 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
