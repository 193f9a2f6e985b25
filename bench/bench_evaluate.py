"""Benchmark: the RecBole protocol on ML-1M, the side-by-side models × three seeds, plus the
notebook preset.

Prints a table (mean ± std per metric over seeds, validation NDCG from the same fits, and each
model's paired difference in NDCG from the first model, ± its standard error, on test and on
validation), the total wall time, and the time to compute every metric for all test users from a
dense score block; writes everything to ``bench/results/evaluate.json``.

    MOVIEREC_DATA_DIR=../shared/data python bench/bench_evaluate.py
    python bench/bench_evaluate.py --models default,ease --seeds 1 --no-notebook

Target (issue 3): 5 models × 3 seeds ≤ 3 minutes on 2 cores; metric computation well under 1 s.
The side-by-side of issue 14 (the default list) takes longer: ADMM-SLIM and the two VAEs take
minutes a fit. The notebook preset (500 factors, 100 iterations: a minute or more per fit) runs
once, one seed, outside the timed run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from movierec import config, progress
from movierec.datasets import load_dataset
from movierec.evaluation import evaluate, get_protocol, parse_model_specs
from movierec.evaluation.metrics import METRICS, evaluate_scores
from movierec.evaluation.runner import model_input
from movierec.models import MODELS
from movierec.presets import all_presets

CANDIDATES = (
    "default",
    "dlae",
    "admm-slim",
    "mult-vae",
    "recvae",
    "ease-tuned",
    "als-tuned",
    "ials-tuned",
    "itemknn",
    "pop",
)
RESULTS = Path(__file__).resolve().parent / "results" / "evaluate.json"


def available_models(limit: int = 8) -> list[str]:
    """The first ``limit`` candidates this movierec has (presets or models), skipping one that
    is the same model and settings as an earlier one (``als`` when ``default`` is plain ALS)."""
    known = set(all_presets()) | set(MODELS)
    chosen: list[str] = []
    seen: list[tuple[str, str, str]] = []
    for name in CANDIDATES:
        if name not in known:
            continue
        (spec,) = parse_model_specs(name)
        params = spec.build(config.SEED).get_params()
        key = (spec.model, json.dumps(params, sort_keys=True), spec.weighting)
        if key not in seen:
            chosen.append(name)
            seen.append(key)
    return chosen[:limit]


def metric_timing(dataset, protocol, spec_text: str, seed: int) -> dict[str, float]:
    """Seconds to score all test users (one dense block) and to compute every metric from it."""
    data = protocol.prepare(dataset)
    split = protocol.splits(data, seed)[0]
    (spec,) = parse_model_specs(spec_text)
    train_input, _ = model_input(split, spec.weighting)
    model = spec.build(seed).fit(train_input)
    users = split.users_to_evaluate("test")
    started = time.perf_counter()
    scores = np.asarray(model.scores(users, train_input[users]))
    scored = time.perf_counter()
    known, target = split.known("test")[users], split.test[users]
    counts = np.bincount(split.train.indices, minlength=split.train.shape[1])
    best = float("inf")
    for _ in range(3):  # best of three: the machine is shared
        begin = time.perf_counter()
        evaluate_scores(scores, known, target, [10], counts)
        best = min(best, time.perf_counter() - begin)
    return {
        "users": int(len(users)),
        "items": int(scores.shape[1]),
        "scoring_seconds": scored - started,
        "metrics_seconds": best,
    }


def print_table(evaluation, k: int) -> None:
    headline = ["ndcg", "recall", "hit", "precision", "mrr", "map", "coverage", "popularity_bias"]
    valid = evaluation.has_validation
    first = evaluation.specs[0].label
    header = f"{'model':<24}" + "".join(f"{m + '@' + str(k):>20}" for m in headline) + "     fit s"
    if valid:
        header += f"{'valid ndcg@' + str(k):>20}"
    header += f"{'Δndcg vs ' + first:>24}" + (f"{'Δvalid ndcg':>24}" if valid else "")
    print(header)
    for spec in evaluation.specs:
        cells = []
        for metric in headline:
            summary = evaluation.summary(spec.label, metric, k)
            cells.append(f"{summary.mean:.4f} ± {summary.std:.4f}".rjust(20))
        fit = evaluation.summary(spec.label, "fit_seconds", None)
        cells.append(f"{fit.mean:>10.1f}")
        if valid:
            summary = evaluation.summary(spec.label, "ndcg", k, part="valid")
            cells.append(f"{summary.mean:.4f} ± {summary.std:.4f}".rjust(20))
        for part in ("test", "valid") if valid else ("test",):
            if spec.label == first:
                cells.append(" " * 24)
                continue
            paired = evaluation.paired(spec.label, first, "ndcg", k, part)
            text = f"{paired.mean:+.4f} ± {paired.stderr:.4f} ({paired.wins}/{paired.runs})"
            cells.append(text.rjust(24))
        print(f"{spec.label:<24}" + "".join(cells))


class RunLines(progress.Reporter):
    """Each evaluation run's result as a line on stdout, as it finishes."""

    def noted(self, step: progress.Step, text: str) -> None:
        print(f"  {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--protocol", default="recbole")
    parser.add_argument("--models", default=None, help="comma-separated [default: 5 available]")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument(
        "--notebook",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the notebook preset once (1 seed)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    dataset = load_dataset(args.dataset)
    protocol = get_protocol(args.protocol)
    names = args.models or ",".join(available_models())
    specs = parse_model_specs(names)
    seeds = [config.SEED + i for i in range(args.seeds)]
    print(
        f"{dataset.name}, protocol {protocol.name}: {len(specs)} models × {len(seeds)} seeds "
        f"({names}) on {os.cpu_count()} CPUs",
        flush=True,
    )

    started = time.perf_counter()
    prepared = protocol.prepare(dataset)
    with progress.reporting(RunLines()):
        result = evaluate(
            dataset, protocol, specs, k=args.k, seeds=seeds, prepared=prepared, validation=True
        )
    wall = time.perf_counter() - started
    print()
    print_table(result, args.k)
    print(
        f"\n{len(specs)} models × {len(seeds)} seeds: {wall:.1f} s wall "
        f"(fits {sum(r.fit_seconds for r in result.runs):.1f} s, "
        f"scoring + metrics {sum(r.eval_seconds for r in result.runs):.1f} s)"
    )

    timing = metric_timing(dataset, protocol, specs[0].label, seeds[0])
    print(
        f"metrics for {timing['users']:,} users × {timing['items']:,} items: "
        f"{timing['metrics_seconds']:.3f} s (scoring them: {timing['scoring_seconds']:.3f} s)"
    )

    notebook = None
    if args.notebook and "notebook" in all_presets():
        print("\nnotebook preset, 1 seed:", flush=True)
        begun = time.perf_counter()
        with progress.reporting(RunLines()):
            notebook = evaluate(
                dataset,
                protocol,
                parse_model_specs("notebook"),
                k=args.k,
                seeds=seeds[:1],
                prepared=prepared,
            )
        print_table(notebook, args.k)
        print(f"notebook: {time.perf_counter() - begun:.1f} s wall")

    report = {
        "evaluation": result.to_json(),
        # per split, to see what tuning on seed 42's validation part is worth on the other seeds
        "runs": [
            {
                "model": run.model,
                "seed": run.seed,
                "fold": run.fold,
                "fit_seconds": run.fit_seconds,
                f"ndcg@{args.k}": run.metrics[("ndcg", args.k)],
                f"valid_ndcg@{args.k}": run.valid_metrics.get(("ndcg", args.k)),
            }
            for run in result.runs
        ],
        "notebook": notebook.to_json() if notebook else None,
        "timings": {"wall_seconds": wall, "models": len(specs), "seeds": len(seeds), **timing},
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
        "metrics": list(METRICS),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
