"""Which model should serve the bundled ml-latest-small, by measurement: the first answer a
newcomer without ML-1M gets.

Two parts, every fit in its own freshly spawned process (so its peak RSS is its own):

1. Quality, on one split of the ``ratio`` protocol per seed (ratings ≥ 3, per-user random 8:1:1,
   full ranking; seeds 42, 43, 44): validation and test NDCG@10 of ``recommend`` (the project's
   evaluation code, as ``movierec evaluate``), and ``similar hit@10`` for ``similar``: for each
   user one liked training movie is drawn (seeded) as the anchor, and a hit is one of the user's
   held-out movies (validation or test) among the anchor's 10 most similar movies, the user's
   other training movies left out. Paired differences are against the first model.
2. The first answer, on all of the bundled data (what ``movierec similar`` trains and caches):
   fit wall and CPU seconds, the fit's own peak RSS (``fit MB``) and the process's peak
   (``peak MB``, Python, NumPy and the data included), where Toy Story 2 ranks among Toy Story's
   similar movies, and the top three for a panel of well-known anchors.

Candidates are ``movierec evaluate`` model specs: the ``default`` preset (DLAE with the
low-pass filter) on every movie and on the dense head (``min_item_ratings=k``: movies with at
least k kept ratings), and the models that scale. Run from the repository root (no data dir
needed)::

    python bench/bench_small_default.py                  # 7 candidates × 3 seeds, then the fits
    python bench/bench_small_default.py --seeds 1 --models default,ials-large   # a quick check
    MOVIEREC_DATA_DIR=… python bench/bench_small_default.py --datasets ml-latest-small,ml-100k,ml-1m

Prints three tables and writes ``bench/results/small_default.json`` (``--results NAME``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from bench_large_default import load_split, save_split, scratch_folder, timed_fit
from timing import print_rows, write_results

from movierec import config, load_dataset
from movierec.evaluation import get_protocol, parse_model_specs
from movierec.evaluation.runner import model_input, parse_model_spec, score_and_measure, weighted
from movierec.interactions import Interactions
from movierec.models.ranking import top_n

DATASET = "ml-latest-small"
DEFAULT_MODELS = (
    "default,default:min_item_ratings=2,default:min_item_ratings=3,"
    "default:min_item_ratings=5,ials-large,ease-tuned,als-tuned"
)
SEEDS = (42, 43, 44)
K = 10
TOY_STORY, TOY_STORY_2 = 1, 3114
ANCHORS = {
    1: "Toy Story",
    260: "Star Wars",
    858: "Godfather",
    2571: "Matrix",
    6: "Heat",
    2: "Jumanji",
    7: "Sabrina",
}
"""movie_id → short name: the panel whose similar movies a person can judge at a glance."""


def similar_hits(model: Any, train: sp.csr_matrix, held: sp.csr_matrix, seed: int) -> float:
    """The share of users one of whose held-out movies is among the ``K`` movies most similar
    to one of their training movies (drawn with ``seed``), their other training movies left
    out: how often ``similar`` finds what the same person also liked."""
    rng = np.random.default_rng(seed)
    hits = users = 0
    for user in range(train.shape[0]):
        liked = train.indices[train.indptr[user] : train.indptr[user + 1]]
        wanted = held.indices[held.indptr[user] : held.indptr[user + 1]]
        if not len(liked) or not len(wanted):
            continue
        anchor = int(rng.choice(liked))
        indices, scores = model.similar_items(anchor, K + len(liked))
        best = top_n(_spread(indices, scores, train.shape[1]), K, exclude=liked)
        hits += bool(np.isin(best, wanted).any())
        users += 1
    return hits / max(users, 1)


def _spread(indices: np.ndarray, scores: np.ndarray, n_items: int) -> np.ndarray:
    """A similar-items answer as a full row: its scores at its items, −inf elsewhere."""
    row = np.full(n_items, -np.inf, dtype=np.float64)
    row[indices] = scores
    return row


def measure_split(folder: str, spec_text: str, seed: int) -> dict[str, Any]:
    """Fit ``spec_text`` on the saved split's training part: its cost and quality."""
    spec = parse_model_spec(spec_text)
    split = load_split(Path(folder))
    train_input, _ = model_input(split, spec.weighting)
    model = spec.build(seed)
    out: dict[str, Any] = timed_fit(model, train_input)
    head = getattr(model, "head", None)
    counts = np.bincount(split.train.indices, minlength=split.train.shape[1])
    out["head_items"] = split.train.shape[1] if head is None else len(head)
    out["head_share"] = 1.0 if head is None else float(counts[head].sum() / counts.sum())
    for part in ("valid", "test"):
        metrics = score_and_measure(model, split, train_input, None, part, [K])
        out[f"{part}_ndcg"] = metrics[("ndcg", K)]
    held = (split.valid + split.test).tocsr()
    out["similar_hit"] = similar_hits(model, split.train, held, seed)
    return out


def measure_full(folder: str, spec_text: str) -> dict[str, Any]:
    """Fit ``spec_text`` on all of the bundled data (saved in ``folder``): cost, Toy Story 2's
    rank in Toy Story's similar movies, and each anchor's top three (movie ids)."""
    spec = parse_model_spec(spec_text)
    matrix = weighted(sp.load_npz(Path(folder) / "ratings.npz").tocsr(), spec.weighting)
    movie_ids = np.load(Path(folder) / "movie_ids.npy")
    model = spec.build(config.SEED)
    out: dict[str, Any] = {**timed_fit(model, matrix), "similar": {}}
    index_of = {int(movie_id): index for index, movie_id in enumerate(movie_ids)}
    for movie_id in ANCHORS:
        indices, _ = model.similar_items(index_of[movie_id], 50)
        out["similar"][movie_id] = [int(movie_ids[i]) for i in indices]
    ranked = out["similar"][TOY_STORY]
    out["toy_story_2_rank"] = ranked.index(TOY_STORY_2) + 1 if TOY_STORY_2 in ranked else None
    return out


def in_own_process(function: Any, *arguments: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        result: dict[str, Any] = pool.submit(function, *arguments).result()
    return result


def _mean_std(values: list[float], form: str = "{:.4f}") -> str:
    if len(values) < 2:
        return form.format(values[0])
    return f"{form.format(statistics.mean(values))} ± {form.format(statistics.stdev(values))}"


def _paired(values: list[float], base: list[float]) -> str:
    """Mean paired difference ± its standard error (over seeds)."""
    differences = [v - b for v, b in zip(values, base)]
    if len(differences) < 2:
        return f"{differences[0]:+.4f}"
    error = statistics.stdev(differences) / len(differences) ** 0.5
    return f"{statistics.mean(differences):+.4f} ± {error:.4f}"


def quality_rows(runs: list[dict[str, Any]], specs: list[str]) -> list[dict[str, Any]]:
    first = [r for r in runs if r["model"] == specs[0]]
    rows = []
    for spec in specs:
        mine = [r for r in runs if r["model"] == spec]
        rows.append(
            {
                "model": spec,
                "valid NDCG@10": _mean_std([r["valid_ndcg"] for r in mine]),
                "test NDCG@10": _mean_std([r["test_ndcg"] for r in mine]),
                f"test Δ vs {specs[0]}": _paired(
                    [r["test_ndcg"] for r in mine], [r["test_ndcg"] for r in first]
                ),
                "similar hit@10": _mean_std([r["similar_hit"] for r in mine]),
                "head (ratings)": f"{mine[0]['head_items']:,} ({mine[0]['head_share']:.0%})",
                "fit s": f"{statistics.mean(r['fit_s'] for r in mine):.1f}",
                "fit CPU s": f"{statistics.mean(r['fit_cpu_s'] for r in mine):.1f}",
                "fit MB": f"{max(r['fit_mb'] for r in mine):,.0f}",
                "peak MB": f"{max(r['peak_mb'] for r in mine):,.0f}",
            }
        )
    return rows


def markdown_table(runs: list[dict[str, Any]], specs: list[str], names: list[str]) -> str:
    """One row per model, one column group per dataset: test NDCG@10 (mean ± std over the
    seeds) with its paired difference from the first model (± its standard error), similar
    hit@10, mean fit CPU (wall) seconds and the largest peak RSS of a fit's process."""

    def cells(name: str, spec: str) -> list[str]:
        mine = [r for r in runs if r["dataset"] == name and r["model"] == spec]
        first = [r for r in runs if r["dataset"] == name and r["model"] == specs[0]]
        if not mine:
            return ["—"] * 3
        test = [r["test_ndcg"] for r in mine]
        delta = "" if spec == specs[0] else f" ({_paired(test, [r['test_ndcg'] for r in first])})"
        cpu = statistics.mean(r["fit_cpu_s"] for r in mine)
        wall = statistics.mean(r["fit_s"] for r in mine)
        return [
            _mean_std(test) + delta,
            _mean_std([r["similar_hit"] for r in mine], "{:.3f}"),
            f"{cpu:.1f} ({wall:.1f}) s, {max(r['peak_mb'] for r in mine):,.0f} MB",
        ]

    header = ["model"]
    for name in names:
        header += [f"{name} test NDCG@10", f"{name} similar hit@10", f"{name} fit CPU (wall), peak"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for spec in specs:
        row = [f"`{spec}`"] + [cell for name in names for cell in cells(name, spec)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def quality_phase(
    name: str, specs: list[str], seeds: list[int], root: Path, data_dir: Path | None
) -> tuple[list[dict[str, Any]], Any]:
    """Every spec on ``name``'s split of every seed, each fit in its own process."""
    dataset = load_dataset(name, data_dir)
    protocol = get_protocol("ratio")
    data = protocol.prepare(dataset)
    shape = data.interactions
    print(f"{name}: {shape.n_users:,} users × {shape.n_items:,} movies, {shape.nnz:,} kept")
    runs = []
    for seed in seeds:
        folder = root / f"{name}-split-{seed}"
        save_split(protocol.splits(data, seed)[0], folder)
        for spec in specs:
            run = in_own_process(measure_split, str(folder), spec, seed)
            run.update(model=spec, seed=seed, dataset=name)
            print(
                f"  {name} seed {seed} {spec}: valid {run['valid_ndcg']:.4f} test "
                f"{run['test_ndcg']:.4f} similar {run['similar_hit']:.4f} fit "
                f"{run['fit_s']:.1f} s ({run['fit_cpu_s']:.1f} s CPU) +{run['fit_mb']:,.0f} MB "
                f"(load {run['load_average_1min']:.1f})",
                flush=True,
            )
            runs.append(run)
        shutil.rmtree(folder)
    return runs, dataset


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=DEFAULT_MODELS, help="as `movierec evaluate --models`")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 42, 43, … (at most 3)")
    parser.add_argument(
        "--datasets",
        default=DATASET,
        help="comma-separated (e.g. ml-latest-small,ml-100k,ml-1m; ML-1M from MOVIEREC_DATA_DIR); "
        "the fits on all of the data run on ml-latest-small only",
    )
    parser.add_argument("--no-full", action="store_true", help="skip the fits on all the data")
    parser.add_argument("--results", default="small_default", help="bench/results/NAME.json")
    parser.add_argument(
        "--markdown", type=Path, help="print the markdown table of a results JSON and stop"
    )
    args = parser.parse_args()
    if args.markdown:
        saved = json.loads(args.markdown.read_text())
        print(markdown_table(saved["runs"], saved["models"], saved["datasets"]))
        return 0

    specs = [spec.label for spec in parse_model_specs(args.models)]  # fail early on a typo
    seeds = list(SEEDS[: args.seeds])
    names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    data_dir = Path(os.environ["MOVIEREC_DATA_DIR"]) if "MOVIEREC_DATA_DIR" in os.environ else None
    results: dict[str, Any] = {
        "datasets": names,
        "protocol": "ratio",
        "models": specs,
        "seeds": seeds,
        "cpu_count": os.cpu_count(),
        "load_average_start": os.getloadavg(),
        "runs": [],
        "full": [],
    }
    started = time.perf_counter()
    small = None
    with scratch_folder() as root:
        for name in names:
            runs, dataset = quality_phase(name, specs, seeds, root, data_dir)
            results["runs"].extend(runs)
            if name == DATASET:
                small = dataset
            write_results(args.results, results)  # after each dataset
        if small is not None and not args.no_full:
            full = Interactions.from_ratings(small.ratings, config.MIN_RATING, "rating")
            folder = root / "full"
            folder.mkdir()
            sp.save_npz(folder / "ratings.npz", full.matrix, compressed=False)
            np.save(folder / "movie_ids.npy", full.items.id_of(np.arange(full.n_items)))
            for spec in specs:
                run = in_own_process(measure_full, str(folder), spec)
                run["model"] = spec
                print(
                    f"  all data {spec}: fit {run['fit_s']:.1f} s ({run['fit_cpu_s']:.1f} s "
                    f"CPU), +{run['fit_mb']:,.0f} MB (peak {run['peak_mb']:,.0f} MB), Toy Story "
                    f"2 at {run['toy_story_2_rank']}",
                    flush=True,
                )
                results["full"].append(run)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    results["load_average_end"] = os.getloadavg()
    for name in names:
        print(f"\n{name}")
        print_rows(quality_rows([r for r in results["runs"] if r["dataset"] == name], specs))
    if results["full"]:
        print()
        print_rows(
            [
                {
                    "model (all 8,452 movies' ratings)": run["model"],
                    "fit s": f"{run['fit_s']:.1f}",
                    "fit CPU s": f"{run['fit_cpu_s']:.1f}",
                    "fit MB": f"{run['fit_mb']:,.0f}",
                    "peak MB": f"{run['peak_mb']:,.0f}",
                    "Toy Story 2 in Toy Story's similar": run["toy_story_2_rank"]
                    or "not in top 50",
                }
                for run in results["full"]
            ]
        )
        print()
        titles = small.movies["title"].to_dict() if small is not None else {}
        panel = []
        for run in results["full"]:
            for movie_id, short in ANCHORS.items():
                top = [str(titles.get(m, m))[:30] for m in run["similar"][movie_id][:3]]
                panel.append({"model": run["model"], "similar to": short, "top 3": " | ".join(top)})
        print_rows(panel)
    print()
    print(markdown_table(results["runs"], specs, names))
    load = results["load_average_start"], results["load_average_end"]
    print(f"total {results['wall_s']:.0f} s; load average (1, 5, 15 min) {load[0]} → {load[1]}")
    write_results(args.results, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
