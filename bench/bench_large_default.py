"""Which model movierec should use above ``config.DENSE_ITEMS_LIMIT`` movies, by measurement.

For each dataset and seed it makes one split of the ``ratio`` protocol (ratings ≥ 3, per-user
random 8:1:1, full ranking; ``--protocol`` for another), then fits every candidate on its train
part and scores NDCG@10 on validation (what a choice may look at) and on test (reported only).
Each fit runs in its own freshly started process, so its peak RSS is its own: ``fit MB`` is the
peak during the fit minus the process's RSS just before it (the split already loaded). Fit time
is given as wall and as CPU seconds, the steadier figure on a shared machine.

Datasets: real ``ml-latest-small`` and ``ml-1m`` from ``MOVIEREC_DATA_DIR``, and
``synthetic-10m``, ML-10M-shaped ratings from ``bench_scale``'s generator (written in ml-10m's
layout to a temporary folder, with its own cache folder, deleted afterwards; about 1.5 GB while
generating). ``--cost 25m`` adds the wall time, CPU seconds and peak RSS of ``movierec train
--preset P`` on a synthetic dataset of that size (the cache filled first by ``movierec stats``,
so the figure is the cached load plus the fit, as ``bench_scale`` measures it);
``--ease-items 5000,10000,20000`` adds the fit time and memory of the ``default`` preset (the
EASE family) on the most-rated movies of the largest synthetic dataset made, for the question
where ``DENSE_ITEMS_LIMIT`` belongs.

Run from the repository root::

    python bench/bench_large_default.py                           # 4 models, 3 datasets
    python bench/bench_large_default.py --datasets ml-latest-small --seeds 1   # a quick check
    python bench/bench_large_default.py --datasets none --cost 25m --ease-items 5000,10000,20000

Prints one row per dataset and model and writes ``bench/results/large_default.json``
(``--results NAME`` for another name).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from bench_scale import VARIANTS, generate, run_measured, write_dataset
from timing import print_rows, write_results

from movierec import config, load_dataset
from movierec.evaluation import Split, get_protocol, parse_model_specs
from movierec.evaluation.runner import model_input, parse_model_spec, score_and_measure, weighted
from movierec.interactions import Interactions
from movierec.settings import default_preset

MB = 1e6
K = 10
SYNTHETIC = {"synthetic-10m": "10m", "synthetic-1m": "1m", "synthetic-25m": "25m"}
DEFAULT_DATASETS = "ml-latest-small,ml-1m,synthetic-10m"
DEFAULT_MODELS = (
    "ials-large,als-sparse,als:factors=64:regularization=30:alpha=0.66:iterations=20,itemknn"
)
SEEDS = (42, 43, 44)
PARTS = ("train", "valid", "test")


# ---- one fit, in its own process --------------------------------------------------------------


def _status_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak since :func:`_reset_peak`) of this process, MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / MB
    return float("nan")


def _reset_peak() -> None:
    """Start this process's peak RSS (``VmHWM``) afresh from its current RSS (Linux ≥ 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (or of its waited-for children): on a shared
    machine a steadier measure of work than wall time."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def timed_fit(model: Any, matrix: Any) -> dict[str, float]:
    """Fit ``model`` on ``matrix``: wall and CPU seconds, the memory the fit added (its peak
    over the RSS before), this process's peak and RSS before, and the load average."""
    _reset_peak()  # loading the data had its own peak; the fit's is what counts here
    before, cpu = _status_mb("VmRSS"), cpu_seconds()
    started = time.perf_counter()
    model.fit(matrix)
    return {
        "fit_s": time.perf_counter() - started,
        "fit_cpu_s": cpu_seconds() - cpu,
        "fit_mb": _status_mb("VmHWM") - before,
        "peak_mb": _status_mb("VmHWM"),
        "rss_before_mb": before,
        "load_average_1min": os.getloadavg()[0],
    }


def save_split(split: Split, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        sp.save_npz(folder / f"{part}.npz", getattr(split, part), compressed=False)


def load_split(folder: Path) -> Split:
    train, valid, test = (sp.load_npz(folder / f"{part}.npz").tocsr() for part in PARTS)
    return Split(train, valid, test)


def run_one(folder: str, spec_text: str, seed: int, measure: bool) -> dict[str, Any]:
    """Fit ``spec_text`` on the split (or, without ``measure``, the plain matrix) saved in
    ``folder``; its fit seconds and memory, and validation and test NDCG@10 when ``measure``."""
    spec = parse_model_spec(spec_text)
    if measure:
        split = load_split(Path(folder))
        train_input, _ = model_input(split, spec.weighting)
    else:
        train_input = weighted(sp.load_npz(Path(folder) / "train.npz").tocsr(), spec.weighting)
    model = spec.build(seed)
    out: dict[str, Any] = timed_fit(model, train_input)
    if measure:
        for part in ("valid", "test"):
            metrics = score_and_measure(model, split, train_input, None, part, [K])
            out[f"{part}_ndcg"] = metrics[("ndcg", K)]
    return out


def in_own_process(folder: Path, spec: str, seed: int, measure: bool = True) -> dict[str, Any]:
    """:func:`run_one` in a freshly started (spawned) process: its peak RSS is the fit's own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        result: dict[str, Any] = pool.submit(run_one, str(folder), spec, seed, measure).result()
    return result


# ---- datasets ---------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="movierec-large-default-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def synthetic(size: str, seed: int, root: Path) -> tuple[str, Path]:
    """Write ``bench_scale``'s ``size`` dataset under ``root``; its registry name and data dir."""
    variant = VARIANTS[size]
    data_dir = root / f"data-{size}"
    started = time.perf_counter()
    data = generate(variant, seed)
    write_dataset(data, variant, data_dir)
    del data
    print(f"wrote synthetic {size} ({variant.dataset}) in {time.perf_counter() - started:.0f} s")
    return variant.dataset, data_dir


def compare(
    dataset: str, data_dir: Path, specs: list[str], seeds: list[int], protocol_name: str, root: Path
) -> list[dict[str, Any]]:
    """Every spec on ``dataset``'s split of every seed; one record per spec and seed."""
    protocol = get_protocol(protocol_name)
    data = protocol.prepare(load_dataset(dataset, data_dir))
    shape = data.interactions
    print(f"{dataset}: {shape.n_users:,} users × {shape.n_items:,} movies, {shape.nnz:,} kept")
    records = []
    for seed in seeds:
        folder = root / f"split-{dataset}-{seed}"
        save_split(protocol.splits(data, seed)[0], folder)
        for spec in specs:
            run = in_own_process(folder, spec, seed)
            run.update(dataset=dataset, model=spec, seed=seed, items=shape.n_items)
            print(
                f"  seed {seed} {spec}: valid {run['valid_ndcg']:.4f} test {run['test_ndcg']:.4f}"
                f" fit {run['fit_s']:.1f} s ({run['fit_cpu_s']:.1f} s CPU),"
                f" +{run['fit_mb']:,.0f} MB",
                flush=True,
            )
            records.append(run)
        shutil.rmtree(folder)
    return records


def _mean_std(values: list[float], form: str) -> str:
    if len(values) < 2:
        return form.format(values[0])
    return f"{form.format(statistics.mean(values))} ± {form.format(statistics.stdev(values))}"


def summary_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    keys = list(dict.fromkeys((r["dataset"], r["model"]) for r in records))
    for dataset, model in keys:
        runs = [r for r in records if r["dataset"] == dataset and r["model"] == model]
        rows.append(
            {
                "dataset": dataset,
                "model": model,
                "seeds": len(runs),
                "valid NDCG@10": _mean_std([r["valid_ndcg"] for r in runs], "{:.4f}"),
                "test NDCG@10": _mean_std([r["test_ndcg"] for r in runs], "{:.4f}"),
                "fit s": f"{statistics.mean(r['fit_s'] for r in runs):.1f}",
                "fit CPU s": f"{statistics.mean(r['fit_cpu_s'] for r in runs):.1f}",
                "fit MB": f"{max(r['fit_mb'] for r in runs):,.0f}",
            }
        )
    return rows


# ---- cost at scale ----------------------------------------------------------------------------


def fit_cost(dataset: str, data_dir: Path, presets: list[str], root: Path) -> list[dict[str, Any]]:
    """``movierec train --preset P`` on ``dataset`` with a warm cache: wall, peak RSS, fit s."""
    env = {
        **os.environ,
        config.DATA_DIR_ENV: str(data_dir),
        config.CACHE_DIR_ENV: str(root / "cache"),
    }
    scratch = root / "measure"
    scratch.mkdir(exist_ok=True)
    warm = run_measured(["stats", "-d", dataset, "--json"], env, scratch, timeout=1800)
    print(f"{dataset}: parse {warm.get('wall_s')} s, {warm.get('peak_rss_mb')} MB")
    rows = []
    for number, preset in enumerate(presets):
        out = root / f"model-{number}"
        name, *overrides = preset.split(":")  # preset:factors=128 → --preset preset --factors 128
        options = [part for o in overrides for part in ("--" + o.replace("=", " ", 1)).split(" ")]
        arguments = ["train", "-d", dataset, "--preset", name, *options, "--out", str(out)]
        arguments.append("--json")
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
        run = run_measured(arguments, env, scratch, timeout=3600)
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu  # the launcher and `train` under it
        shutil.rmtree(out, ignore_errors=True)
        row = {
            "dataset": dataset,
            "preset": preset,
            "command": run["command"],
            "wall_s": run.get("wall_s"),
            "peak_rss_mb": run.get("peak_rss_mb"),
            "fit_s": run.get("output", {}).get("fit_seconds"),
            "cpu_s": round(cpu, 1),
            "load_average_1min": run["load_average_1min"],
            "error": run.get("error"),
        }
        print(f"  train --preset {preset}: {row}")
        rows.append(row)
    return rows


def ease_sizes(
    dataset: str, data_dir: Path, sizes: list[int], root: Path, cache: Path
) -> list[dict[str, Any]]:
    """The EASE-based ``default`` fitted on the ``n`` most-rated movies of ``dataset`` (all
    users' kept ratings of them), for each ``n``: fit seconds and the fit's own memory."""
    os.environ[config.CACHE_DIR_ENV] = str(cache)
    interactions = Interactions.from_ratings(
        load_dataset(dataset, data_dir).ratings, config.MIN_RATING, "rating"
    )
    matrix = interactions.matrix.tocsr()
    counts = np.bincount(matrix.indices, minlength=matrix.shape[1])
    order = np.argsort(-counts, kind="stable")
    rows = []
    for n in sizes:
        if n > matrix.shape[1]:
            print(f"  {dataset} has only {matrix.shape[1]:,} movies; skipping EASE at {n:,}")
            continue
        part = matrix[:, np.sort(order[:n])].tocsr()
        folder = root / f"ease-{n}"
        folder.mkdir()
        sp.save_npz(folder / "train.npz", part, compressed=False)
        run = in_own_process(folder, "default", config.SEED, measure=False)
        shutil.rmtree(folder)
        row = {"dataset": dataset, "movies": n, "ratings": int(part.nnz), **run}
        print(f"  EASE default on {n:,} movies: fit {run['fit_s']:.1f} s, +{run['fit_mb']:,.0f} MB")
        rows.append(row)
    return rows


# ---- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=DEFAULT_DATASETS, help="comma-separated, or none")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="as `movierec evaluate --models`")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 42, 43, … per real dataset")
    parser.add_argument("--synthetic-seeds", type=int, default=1, help="seeds per synthetic one")
    parser.add_argument("--protocol", default="ratio")
    parser.add_argument("--cost", default="", help="synthetic sizes to time `train` on: 10m,25m")
    parser.add_argument(
        "--cost-presets",
        default=config.LARGE_CATALOGUE_PRESET,
        help="presets timed by --cost, each with any of train's options: als-sparse:factors=128",
    )
    parser.add_argument("--ease-items", default="", help="catalogue sizes to fit EASE on")
    parser.add_argument("--results", default="large_default", help="bench/results/NAME.json")
    args = parser.parse_args()

    specs = [spec.label for spec in parse_model_specs(args.models)]  # fail early on a typo
    datasets = [name for name in args.datasets.split(",") if name and name != "none"]
    real_dir = Path(os.environ.get(config.DATA_DIR_ENV, "."))
    results: dict[str, Any] = {
        "protocol": args.protocol,
        "models": specs,
        "large_catalogue_preset": config.LARGE_CATALOGUE_PRESET,
        "dense_items_limit": config.DENSE_ITEMS_LIMIT,
        "cpu_count": os.cpu_count(),
        "runs": [],
    }
    started = time.perf_counter()
    with scratch_folder() as root:
        os.environ[config.CACHE_DIR_ENV] = str(root / "cache")  # synthetic data stays out
        for name in datasets:
            if name in SYNTHETIC:
                dataset, data_dir = synthetic(SYNTHETIC[name], config.SEED, root)
                seeds = list(SEEDS[: args.synthetic_seeds])
            else:
                dataset, data_dir, seeds = name, real_dir, list(SEEDS[: args.seeds])
            runs = compare(dataset, data_dir, specs, seeds, args.protocol, root)
            for run in runs:
                run["dataset"] = name
            results["runs"].extend(runs)
            if name in SYNTHETIC:
                shutil.rmtree(data_dir)
        sizes = [size for size in args.cost.split(",") if size]
        presets = [preset for preset in args.cost_presets.split(",") if preset]
        ease_items = [int(n) for n in args.ease_items.split(",") if n]
        results["cost"], results["ease"] = [], []
        for index, size in enumerate(sizes):
            dataset, data_dir = synthetic(size, config.SEED, root)
            ds = load_dataset(dataset, data_dir)
            print(f"  default_preset of synthetic {size}: {default_preset(ds)}")
            del ds
            results["cost"].extend(fit_cost(dataset, data_dir, presets, root))
            if ease_items and index == len(sizes) - 1:
                results["ease"] = ease_sizes(dataset, data_dir, ease_items, root, root / "cache")
            shutil.rmtree(data_dir)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    if results["runs"]:
        print_rows(summary_rows(results["runs"]))
    if results["cost"]:
        print_rows(
            [
                {
                    k: row[k]
                    for k in ("dataset", "preset", "fit_s", "wall_s", "cpu_s", "peak_rss_mb")
                }
                for row in results["cost"]
            ]
        )
    if results["ease"]:
        print_rows(
            [
                {
                    "movies": f"{row['movies']:,}",
                    "ratings": f"{row['ratings']:,}",
                    "EASE fit s": f"{row['fit_s']:.1f}",
                    "fit CPU s": f"{row['fit_cpu_s']:.1f}",
                    "fit MB": f"{row['fit_mb']:,.0f}",
                }
                for row in results["ease"]
            ]
        )
    print(f"total {results['wall_s']:.0f} s")
    write_results(args.results, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
