"""Core speed on ML-1M: parse, cached load, fit, fold-in, CLI wall time, and the notebook's story.

Run: ``MOVIEREC_DATA_DIR=../shared/data python bench/bench_core.py [--repeats 5]``.
Prints a table (medians of the repeats, measured in this one run) and writes
``bench/results/core.json``. The notebook's own pipeline (python-engine CSV parse, 500 factors,
regularization 0.001, 100 iterations) is timed in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from timing import median_seconds

from movierec import Recommender, load_dataset
from movierec.config import DEMO_FAVOURITES
from movierec.datasets import get_spec, resolve_name
from movierec.datasets.dataset import load_ratings_columns
from movierec.datasets.parse import read_ratings
from movierec.demo import run_demo

FAVOURITES = [1, 2, 1580, 6, 7]  # the course's: Toy Story, Jumanji, Men in Black, Heat, Sabrina
TARGETS = {"fit": 1.0, "cli": 0.30, "speedup": 60.0}  # issue 21


def notebook_pipeline(folder: Path) -> None:
    """The course notebook's steps, as it wrote them (its index→id bug aside)."""
    import implicit
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    ratings = pd.read_csv(
        folder / "ratings.dat",
        sep="::",
        engine="python",
        names=["user_id", "movie_id", "rating"],
        usecols=[0, 1, 2],
    )
    movies = pd.read_csv(
        folder / "movies.dat",
        sep="::",
        engine="python",
        encoding="latin-1",
        names=["movie_id", "title", "genres"],
    )
    data = ratings[ratings["rating"] >= 3].copy()
    _ = data["user_id"].nunique(), data["movie_id"].nunique()
    top = data.groupby("movie_id").size().sort_values(ascending=False).head(30)
    _ = movies.set_index("movie_id").loc[top.index, "title"]
    new_user = int(data["user_id"].max()) + 1
    mine = pd.DataFrame({"user_id": new_user, "movie_id": FAVOURITES, "rating": 5})
    data = pd.concat([data, mine], ignore_index=True)
    users = data["user_id"].astype("category")
    items = data["movie_id"].astype("category")
    matrix = sp.csr_matrix((data["rating"].astype(float), (users.cat.codes, items.cat.codes)))
    with threadpool_limits(1, "blas"):
        model = implicit.als.AlternatingLeastSquares(
            factors=500, regularization=0.001, iterations=100, random_state=0
        )
        model.fit(matrix, show_progress=False)
    user_index = users.cat.categories.get_loc(new_user)
    _ = model.user_factors[user_index] @ model.item_factors[0]
    _ = model.similar_items(0, N=11)
    _ = model.recommend(user_index, matrix[user_index], N=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-notebook", action="store_true", help="skip the slow baseline")
    args = parser.parse_args()

    spec, folder = resolve_name("ml-1m")
    ratings_path = folder / spec.ratings_file
    rows: list[tuple[str, float, str]] = []

    notebook_parse = median_seconds(
        lambda: pd.read_csv(ratings_path, sep="::", engine="python", header=None), 1
    )
    parse = median_seconds(lambda: read_ratings(ratings_path, spec.layout), args.repeats)
    rows += [
        ("parse ML-1M ratings (notebook: python engine)", notebook_parse, "-"),
        ("parse ML-1M ratings (movierec)", parse, "≤ 0.3 s"),
    ]
    load_ratings_columns(spec, folder)  # make sure the parsed cache exists
    cached = median_seconds(lambda: load_ratings_columns(get_spec("ml-1m"), folder), args.repeats)
    rows.append(("cached load of parsed ratings", cached, "≤ 0.05 s"))

    dataset = load_dataset("ml-1m")
    fit = median_seconds(lambda: Recommender.train(dataset), 3)
    rows.append(("default fit on ML-1M", fit, f"≤ {TARGETS['fit']:g} s"))

    recommender = Recommender.train(dataset)
    recommender.recommend(FAVOURITES, 10)
    fold_in = median_seconds(lambda: recommender.recommend(FAVOURITES, 10), 200)
    rows.append(("fold-in + top-10, five liked movies", fold_in, "≤ 5 ms"))

    with tempfile.TemporaryDirectory() as model_dir:
        recommender.save(model_dir)
        command = [
            sys.executable,
            "-m",
            "movierec.cli",
            "recommend",
            "--dataset",
            "ml-1m",
            "--json",
            "--model",
            model_dir,
        ] + [arg for title in DEMO_FAVOURITES for arg in ("--like", title)]
        env = dict(os.environ)
        cli = median_seconds(
            lambda: subprocess.run(command, check=True, capture_output=True, env=env), args.repeats
        )
        rows.append(
            ("`movierec recommend --like ×5`, saved model, wall", cli, f"≤ {TARGETS['cli']:g} s")
        )
        # Without --model: the default model cached by an earlier call (trained here if needed).
        cached_command = [arg for arg in command if arg not in ("--model", model_dir)]
        subprocess.run(cached_command, check=True, capture_output=True, env=env)
        cached_cli = median_seconds(
            lambda: subprocess.run(cached_command, check=True, capture_output=True, env=env),
            args.repeats,
        )
    rows.append(("`movierec recommend --like ×5`, cached default model, wall", cached_cli, "-"))

    story = median_seconds(lambda: run_demo(load_dataset("ml-1m"), DEMO_FAVOURITES), 3)
    rows.append(("the whole story, movierec (`movierec demo`)", story, "-"))
    results: dict[str, object] = {
        "rows": [
            {"step": step, "median_seconds": seconds, "target": target}
            for step, seconds, target in rows
        ]
    }
    if not args.skip_notebook:
        baseline = median_seconds(lambda: notebook_pipeline(folder), 1)
        rows.append(("the whole story, the notebook's pipeline", baseline, "-"))
        results["story_speedup"] = baseline / story
        results["rows"].append({"step": rows[-1][0], "median_seconds": baseline, "target": "-"})

    width = max(len(step) for step, _, _ in rows)
    print(f"{'step':<{width}}  {'median':>10}  target")
    for step, seconds, target in rows:
        shown = f"{seconds * 1e3:.2f} ms" if seconds < 0.1 else f"{seconds:.3f} s"
        print(f"{step:<{width}}  {shown:>10}  {target}")
    if "story_speedup" in results:
        speedup = results["story_speedup"]
        target = TARGETS["speedup"]
        print(f"story speed-up over the notebook: {speedup:.1f}× (target ≥ {target:g}×)")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    results["load_average_1min"] = os.getloadavg()[0]
    results["cpu_count"] = os.cpu_count()
    results["numpy"] = np.__version__
    out = Path(__file__).parent / "results" / "core.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
