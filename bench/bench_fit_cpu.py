"""Benchmark: the CPU seconds of fitting presets on all of ML-1M (ratings ≥ 3), BLAS on one
thread, best of two — a figure that holds on a shared machine, where wall time says little.

    MOVIEREC_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python bench/bench_fit_cpu.py default dlae

On a quiet 2-core machine a fit's wall time is at most these seconds (less where BLAS or the
model's own threads use both cores).
"""

from __future__ import annotations

import sys
import time

from movierec import load_dataset
from movierec.interactions import Interactions
from movierec.models import make_model
from movierec.settings import Settings


def main(argv: list[str]) -> int:
    from threadpoolctl import threadpool_limits

    dataset = load_dataset("ml-1m")
    for name in argv or ["default"]:
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
