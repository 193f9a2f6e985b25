"""Where an iALS fit's time goes as data grows: CPU seconds of each half-sweep, per entry.

Times implicit's conjugate-gradient solver on the user and the movie half of ``ials-large``'s
sweeps (three sweeps), and the interactions build, for each dataset named, so that the cost per
matrix entry can be compared across sizes. Our iALS adds ``factors`` penalty pseudo-entries per
user and per movie (see ``movierec.models.ials``), so a sweep's entries grow with the users and
movies as well as with the ratings. Run on bench_scale's synthetic data, e.g.::

    MOVIEREC_DATA_DIR=/tmp/scale/10m python bench/bench_ials_sweeps.py ml-10m
    MOVIEREC_DATA_DIR=/tmp/scale/25m python bench/bench_ials_sweeps.py ml-25m

Prints a table and writes ``bench/results/ials_sweeps-NAME.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import implicit.cpu.als  # noqa: F401  (load its BLAS before limiting the thread pools)
import numpy as np
from threadpoolctl import threadpool_limits

from movierec import load_dataset
from movierec.config import PRESETS
from movierec.interactions import Interactions
from movierec.models.ials import IALS, _conjugate_gradient_solver, _with_identity_rows

RESULTS = Path(__file__).parent / "results"


def measure(name: str, sweeps: int) -> dict[str, object]:
    dataset = load_dataset(name)
    started = time.process_time()
    interactions = Interactions.from_ratings(dataset.ratings, 3.0, "binary")
    build = time.process_time() - started
    model = IALS(
        **{k: v for k, v in PRESETS["ials-large"].items() if k not in ("model", "weighting")}
    )
    user_side, item_side = model.half_sweep_matrices(interactions.matrix)
    n_users, n_items = interactions.matrix.shape
    rng = np.random.default_rng(0)
    users = (rng.standard_normal((n_users, model.factors)) * 0.01).astype(np.float32)
    items = (rng.standard_normal((n_items, model.factors)) * 0.01).astype(np.float32)
    solve = _conjugate_gradient_solver(model.cg_steps)
    halves: list[tuple[float, float]] = []
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(sweeps):
            started = time.process_time()
            solve(user_side, users, _with_identity_rows(items), 0.0, num_threads=0)
            user_half = time.process_time() - started
            started = time.process_time()
            solve(item_side, items, _with_identity_rows(users), 0.0, num_threads=0)
            halves.append((user_half, time.process_time() - started))
    user_s = float(np.median([u for u, _ in halves]))
    item_s = float(np.median([i for _, i in halves]))
    return {
        "dataset": name,
        "users": n_users,
        "movies": n_items,
        "ratings_kept": int(interactions.matrix.nnz),
        "user_half_entries": int(user_side.nnz),
        "movie_half_entries": int(item_side.nnz),
        "interactions_build_cpu_s": round(build, 2),
        "user_half_cpu_s": round(user_s, 2),
        "movie_half_cpu_s": round(item_s, 2),
        "user_half_ns_per_entry": round(user_s / user_side.nnz * 1e9),
        "movie_half_ns_per_entry": round(item_s / item_side.nnz * 1e9),
        "sweep_cpu_s": round(user_s + item_s, 2),
        "halves_cpu_s": [[round(u, 2), round(i, 2)] for u, i in halves],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", help="dataset names in MOVIEREC_DATA_DIR")
    parser.add_argument("--sweeps", type=int, default=3)
    args = parser.parse_args()
    rows = [measure(name, args.sweeps) for name in args.datasets]
    keys = ["dataset", "users", "movies", "ratings_kept", "interactions_build_cpu_s"]
    keys += ["user_half_ns_per_entry", "movie_half_ns_per_entry", "sweep_cpu_s"]
    print("  ".join(keys))
    for row in rows:
        print("  ".join(str(row[key]) for key in keys))
    RESULTS.mkdir(exist_ok=True)
    for row in rows:
        out = RESULTS / f"ials_sweeps-{row['dataset']}.json"
        out.write_text(json.dumps(row, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
