"""Benchmark: the CPU seconds of fitting presets on all of ML-1M (ratings ≥ 3), BLAS on one
thread, best of two — a figure that holds on a shared machine, where wall time says little.

    MOVIEREC_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python bench/bench_fit_cpu.py default dlae
    MOVIEREC_DATA_DIR=../shared/data python bench/bench_fit_cpu.py --parts --repeats 5

On a quiet 2-core machine a fit's wall time is at most these seconds (less where BLAS or the
model's own threads use both cores).

``--parts`` times the default fit's parts as :meth:`movierec.models.ease.EASE.fit` runs them
(user weighting, the Gram matrix, the DLAE solve, the low-pass filter, the filter's scaling and
sum) and the whole fit: CPU seconds with BLAS on one thread and wall seconds with BLAS on two
(the fit's own choice of threads for the whole fit, and two forced), medians of ``--repeats``,
with the load average before and after; writes bench/results/fit_parts.json. The floor is the
Gram matrix plus one solve: what any fit of every weight must do.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from movierec import load_dataset
from movierec.interactions import Interactions
from movierec.models import make_model
from movierec.settings import Settings, default_settings


def presets_cpu(names: list[str]) -> None:
    from threadpoolctl import threadpool_limits

    dataset = load_dataset("ml-1m")
    for name in names or ["default"]:
        settings = Settings.preset(name)
        matrix = Interactions.from_ratings(
            dataset.ratings, settings.min_rating, settings.weighting
        ).matrix
        seconds = []
        for _ in range(2):
            model = make_model(settings.model, **settings.params)
            with threadpool_limits(limits=1):
                started = time.process_time()
                model.fit(matrix)
                seconds.append(time.process_time() - started)
        print(f"{name:<16} {min(seconds):6.2f} CPU s", flush=True)


def parts(repeats: int) -> dict[str, Any]:
    """Per part: median CPU s on one BLAS thread, median wall s on two."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from movierec.models import ease
    from movierec.models.base import gram

    dataset = load_dataset("ml-1m")
    settings = default_settings(dataset)
    params = settings.params
    seed = int(params.get("seed", 42))
    matrix = Interactions.from_ratings(
        dataset.ratings, settings.min_rating, settings.weighting
    ).matrix
    state: dict[str, Any] = {}

    def weighting() -> None:
        state["x"] = ease.user_weighted(matrix, params["user_weight_exponent"])

    def gram_part() -> None:
        state["g"] = gram(state["x"])

    def solve() -> None:
        state["w"] = ease.ease_weights(
            state["g"], params["regularization"], params["dropout"], params["zero_diagonal"]
        )

    def lowpass() -> None:
        state["l"] = ease.lowpass_filter(state["g"], params["lowpass_rank"], seed)

    def combine() -> None:
        g, w, low = state["g"], state["w"], state["l"]
        scale = ease.training_score(g, w) / ease.training_score(g, low)
        w += np.float32(params["lowpass_weight"] * scale) * low

    def fit() -> None:
        make_model(settings.model, **params).fit(matrix)

    steps: list[tuple[str, Callable[[], None]]] = [
        ("user weighting", weighting),
        ("Gram matrix", gram_part),
        ("DLAE solve", solve),
        ("low-pass filter", lowpass),
        ("filter scaled + summed", combine),
    ]
    load_before = os.getloadavg()
    cpu: dict[str, list[float]] = {name: [] for name, _ in steps}
    wall: dict[str, list[float]] = {name: [] for name, _ in steps}
    for _ in range(repeats):
        for threads, clock, into in ((1, time.process_time, cpu), (2, time.perf_counter, wall)):
            with threadpool_limits(limits=threads):
                for name, action in steps:
                    started = clock()
                    action()
                    into[name].append(clock() - started)
    whole: dict[str, list[float]] = {"cpu 1 thread": [], "wall, own choice": [], "wall 2": []}
    own_choice = getattr(ease, "fit_threads", None)  # absent before issue 21: always two
    for _ in range(repeats):
        with threadpool_limits(limits=1):
            started = time.process_time()
            fit()
            whole["cpu 1 thread"].append(time.process_time() - started)
        with threadpool_limits(limits=2):
            started = time.perf_counter()
            fit()
            whole["wall, own choice"].append(time.perf_counter() - started)
            ease.fit_threads = lambda: 2  # two, whatever the load
            try:
                started = time.perf_counter()
                fit()
                whole["wall 2"].append(time.perf_counter() - started)
            finally:
                if own_choice is not None:
                    ease.fit_threads = own_choice
    rows = [
        {
            "part": name,
            "cpu_s_1_thread": statistics.median(cpu[name]),
            "wall_s_2_threads": statistics.median(wall[name]),
        }
        for name, _ in steps
    ]
    floor_cpu = sum(r["cpu_s_1_thread"] for r in rows if r["part"] in ("Gram matrix", "DLAE solve"))
    floor_wall = sum(
        r["wall_s_2_threads"] for r in rows if r["part"] in ("Gram matrix", "DLAE solve")
    )
    return {
        "code": ease.__file__,
        "repeats": repeats,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "parts": rows,
        "parts_sum": {
            "cpu_s_1_thread": sum(r["cpu_s_1_thread"] for r in rows),
            "wall_s_2_threads": sum(r["wall_s_2_threads"] for r in rows),
        },
        "floor_gram_plus_solve": {"cpu_s_1_thread": floor_cpu, "wall_s_2_threads": floor_wall},
        "fit": {name: statistics.median(values) for name, values in whole.items()},
        "fit_all": whole,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", help="presets to fit (default: default)")
    parser.add_argument("--parts", action="store_true", help="time the default fit's parts")
    parser.add_argument("--repeats", type=int, default=5, help="with --parts: timings per part")
    args = parser.parse_args(argv)
    if not args.parts:
        presets_cpu(args.presets)
        return 0
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from timing import print_rows, write_results

    results = parts(args.repeats)
    print(f"{results['code']}; load average before {results['load_average_before']}")
    print_rows(
        [
            {k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in row.items()}
            for row in [
                *results["parts"],
                {"part": "sum of parts", **results["parts_sum"]},
                {"part": "floor: Gram + solve", **results["floor_gram_plus_solve"]},
            ]
        ]
    )
    fit = results["fit"]
    print(
        f"whole fit: {fit['cpu 1 thread']:.3f} CPU s on one thread; "
        f"wall {fit['wall, own choice']:.3f} s (its own choice of threads), "
        f"{fit['wall 2']:.3f} s (two forced); "
        f"load average after {results['load_average_after']}"
    )
    write_results("fit_parts", results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
