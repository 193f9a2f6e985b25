"""The speed guard: CPU seconds of the three hot paths, checked against budgets in one file.

    MOVIEREC_DATA_DIR=../shared/data python bench/bench_guard.py          # measure and check
    MOVIEREC_DATA_DIR=../shared/data python bench/bench_guard.py --runs 5 # steadiness at load
    MOVIEREC_DATA_DIR=../shared/data python bench/bench_guard.py --attempts 2  # as CI runs it

Measures, on ML-1M (ratings ≥ 3, the default model), with BLAS on one thread:

- ``fit``: CPU seconds of the default model's fit (in this process; median of ``--repeats``);
- ``cli``: CPU seconds of ``movierec recommend --model DIR --like …×5 --json`` (a child process:
  its user + system time, median of ``--repeats``), and the same as a ratio to a bare
  ``python -c "import numpy"``, the interpreter's floor on this machine;
- ``web``: the server's CPU milliseconds per ``POST /api/recommend`` over a burst of
  ``--requests`` requests from 8 keep-alive clients (``movierec serve --model DIR``).

CPU time, not wall time: on a busy shared machine wall time swings several-fold while the CPU a
single-threaded piece of work needs barely moves. Each figure must stay within its budget in
``bench/guard_budgets.json`` times (1 + tolerance); any figure over it fails the run (exit 1)
naming the path, the figure and the budget. Prints a table; writes bench/results/guard.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_web_load import cpu_seconds, fire, free_port, start_server, stop_server  # noqa: E402
from timing import print_rows, write_results  # noqa: E402

BUDGETS = BENCH / "guard_budgets.json"
LIKES = ["Toy Story", "Jumanji", "Men in Black", "Heat", "Sabrina (1995)"]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def child_cpu_seconds(command: list[str], env: dict[str, str]) -> float:
    """User + system CPU seconds of one run of ``command`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_of(measure: Callable[[], float], repeats: int) -> float:
    return statistics.median(measure() for _ in range(repeats))


def fit_cpu(repeats: int) -> float:
    """CPU seconds of the default fit on ML-1M, BLAS on one thread (data parsed beforehand)."""
    from threadpoolctl import threadpool_limits

    from movierec import load_dataset
    from movierec.interactions import Interactions
    from movierec.models import make_model
    from movierec.settings import default_settings

    dataset = load_dataset("ml-1m")
    settings = default_settings(dataset)
    matrix = Interactions.from_ratings(
        dataset.ratings, settings.min_rating, settings.weighting
    ).matrix

    def once() -> float:
        model = make_model(settings.model, **settings.params)
        with threadpool_limits(limits=1):
            started = time.process_time()
            model.fit(matrix)
            return time.process_time() - started

    return median_of(once, repeats)


def web_cpu_ms(model: Path, requests: int, env: dict[str, str]) -> float:
    """The server's CPU milliseconds per ``POST /api/recommend`` over a burst of requests."""
    port = free_port()
    os.environ.update(env)  # the server inherits the one-thread BLAS
    server = start_server(["--model", str(model)], port, startup_s=120)
    try:
        rng = random.Random(42)
        liked = [1, 2, 32, 50, 110, 260, 296, 318, 356, 480, 527, 589, 593, 1196, 2571, 2858]
        bodies = [
            (
                "POST",
                "/api/recommend",
                json.dumps({"liked": rng.sample(liked, 5), "n": 10}).encode(),
                {},
            )
            for _ in range(requests + 200)
        ]
        asyncio.run(fire(port, bodies[:200], 8, 60.0, "lean"))  # warm-up
        before = cpu_seconds(server.pid)
        run = asyncio.run(fire(port, bodies[200:], 8, 120.0, "lean"))
        spent = cpu_seconds(server.pid) - before
    finally:
        stop_server(server)
    if run["errors"] or run["sent"] != requests:
        raise SystemExit(f"the web burst failed: {run['sent']} sent, errors {run['errors']}")
    return spent * 1000 / requests


def measure(repeats: int, requests: int) -> dict[str, float]:
    env = {**os.environ, **ONE_THREAD}
    figures: dict[str, float] = {"fit_cpu_s": fit_cpu(repeats)}
    with tempfile.TemporaryDirectory(prefix="movierec-guard-") as scratch:
        model = Path(scratch) / "model"
        movierec = [sys.executable, "-m", "movierec.cli"]
        subprocess.run(
            [*movierec, "train", "--dataset", "ml-1m", "--out", str(model)],
            env=env,
            check=True,
            capture_output=True,
        )
        likes = [arg for title in LIKES for arg in ("--like", title)]
        answer = [*movierec, "recommend", "--model", str(model), *likes, "--json"]
        child_cpu_seconds(answer, env)  # warm the file cache
        figures["cli_cpu_s"] = median_of(lambda: child_cpu_seconds(answer, env), repeats)
        numpy_floor = median_of(
            lambda: child_cpu_seconds([sys.executable, "-c", "import numpy"], env), repeats
        )
        figures["cli_vs_numpy_import"] = figures["cli_cpu_s"] / numpy_floor
        figures["web_cpu_ms_per_request"] = web_cpu_ms(model, requests, env)
    return figures


def over_budget(figures: dict[str, float], budgets: dict[str, Any]) -> list[str]:
    """One line per figure above its budget × (1 + tolerance)."""
    tolerance = float(budgets["tolerance"])
    return [
        f"{name} {figures[name]:.3f} is over its budget {limit} (+{tolerance:.0%})"
        for name, limit in budgets["budgets"].items()
        if figures[name] > limit * (1 + tolerance)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timings per figure (median)")
    parser.add_argument("--requests", type=int, default=2000, help="requests in the web burst")
    parser.add_argument("--runs", type=int, default=1, help="whole measurements, each checked")
    parser.add_argument(
        "--attempts",
        type=int,
        default=1,
        help="measure again, up to this many times, while a figure is over budget: a real "
        "regression is over in every attempt, a moment of load on a shared machine is not",
    )
    args = parser.parse_args()
    budgets = json.loads(BUDGETS.read_text())
    rows, failures = [], []
    for run in range(1, args.runs + 1):
        for attempt in range(1, args.attempts + 1):
            load = os.getloadavg()[0]
            figures = measure(args.repeats, args.requests)
            problems = over_budget(figures, budgets)
            if not problems or attempt == args.attempts:
                break
            print(f"guard: attempt {attempt} over budget ({'; '.join(problems)}); again")
        failures += problems
        rows.append(
            {
                "run": run,
                "load": f"{load:.1f}",
                **{name: f"{value:.3f}" for name, value in figures.items()},
                "within budget": "yes" if not problems else "NO",
            }
        )
    print_rows(rows)
    print("budgets: " + ", ".join(f"{k} {v}" for k, v in budgets["budgets"].items()), end="")
    print(f" (tolerance +{budgets['tolerance']:.0%}, {BUDGETS.name})")
    write_results("guard", {"runs": rows, "budgets": budgets, "failures": failures})
    for problem in failures:
        print(f"guard: {problem}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
