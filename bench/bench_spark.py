"""Spark's MLlib ALS beside implicit's ALS on the same synthetic 10M- and 25M-rating data.

The data: ``bench_scale``'s MovieLens-shaped generator (same seed, same ratings), ratings ≥ 3
kept, the rating as the weight, one users × items matrix. Each engine fits it in its own
process, so that each one's peak memory is its own:

- ``implicit``: movierec's ``als`` (implicit's CPU ALS, all cores), 64 factors, 10 iterations;
- ``spark``: movierec's ``spark-als`` on ``local[N]`` (N = the cores), 64 factors, 10
  iterations; the time counts sending the matrix to Spark (Arrow), the fit and the factors'
  way back, not the session's start (reported apart). Driver memory: ``--driver-memory``.

Both run the same number of iterations at the same rank; λ and α are each engine's own
(``als-sparse``'s and ``spark-als``'s), since their objectives differ. Peak memory is the
worker's own (Python, ``getrusage``) and, for Spark, the JVM's (its ``VmHWM``): their sum
bounds what the fit needed.

    python bench/bench_spark.py --sizes 10m,25m

Prints a table and writes ``bench/results/spark.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from bench_scale import MIN_RATING, VARIANTS, generate
from timing import print_rows, write_results

FACTORS, ITERATIONS = 64, 10
ENGINES = ("implicit", "spark")


def matrix_of(size: str, seed: int) -> sp.csr_matrix:
    """The synthetic ratings of ``size`` as a users × items matrix of kept ratings."""
    data = generate(VARIANTS[size], seed)
    kept = data.rating >= MIN_RATING
    users = np.unique(data.user_id[kept], return_inverse=True)[1]
    items = np.unique(data.movie_id[kept], return_inverse=True)[1]
    ratings = data.rating[kept].astype(np.float32)
    return sp.csr_matrix((ratings, (users, items)))


def worker(engine: str, size: str, seed: int) -> dict[str, Any]:
    """Fit one engine on one size, in this process; what it measured."""
    from movierec.config import PRESETS
    from movierec.models import make_model

    matrix = matrix_of(size, seed)
    result: dict[str, Any] = {"users": matrix.shape[0], "items": matrix.shape[1]}
    result["ratings"] = int(matrix.nnz)
    if engine == "spark":
        from movierec.spark.session import spark_session, stop

        started = time.perf_counter()
        spark_session(f"local[{os.cpu_count()}]")
        result["session_s"] = round(time.perf_counter() - started, 1)
        preset = dict(PRESETS["spark-als"])
    else:
        preset = dict(PRESETS["als-sparse"])
    name = str(preset.pop("model"))
    preset.pop("weighting")
    preset.update(factors=FACTORS, iterations=ITERATIONS)
    model = make_model(name, **preset)
    started = time.perf_counter()
    if engine == "spark":  # spark-als fits only through the Spark engine
        from movierec.spark.engine import fit

        model = fit(model, matrix, None)
    else:
        model.fit(matrix)
    result["fit_s"] = round(time.perf_counter() - started, 1)
    result["per_iteration_s"] = round(result["fit_s"] / ITERATIONS, 2)
    result["params"] = preset
    result["python_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3)
    if engine == "spark":
        gateway = spark_session().sparkContext._gateway  # pyspark keeps the JVM's Popen here
        result["jvm_peak_mb"] = round(peak_rss_kb(gateway.proc.pid) / 1e3)
        stop()
    return result


def peak_rss_kb(pid: int) -> int:
    """A process's peak resident memory so far (VmHWM), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10m,25m", help="of " + ", ".join(VARIANTS))
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--driver-memory", default="8g", help="Spark's driver JVM heap")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.seed)))
        return 0
    rows = []
    env = {**os.environ, "MOVIEREC_SPARK_DRIVER_MEMORY": args.driver_memory}
    for size in args.sizes.split(","):
        for engine in args.engines.split(","):
            command = [sys.executable, __file__, "--worker", engine, size, "--seed", str(args.seed)]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env)
            row: dict[str, Any] = {"size": size, "engine": engine}
            if done.returncode != 0:
                row["error"] = done.stderr.strip().splitlines()[-1][:300]
            else:
                row.update(json.loads(done.stdout.strip().splitlines()[-1]))
            row["process_s"] = round(time.perf_counter() - started, 1)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    columns = ("size", "engine", "ratings", "fit_s", "per_iteration_s", "session_s")
    columns += ("python_peak_mb", "jvm_peak_mb", "error")
    print_rows([{c: row.get(c, "") for c in columns} for row in rows])
    write_results(
        "spark",
        {
            "rows": rows,
            "factors": FACTORS,
            "iterations": ITERATIONS,
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
