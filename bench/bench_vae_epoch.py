"""Benchmark: where one training epoch of Mult-VAE and RecVAE spends its time, on the training
part of ML-1M's recbole split (seed 42; 6,033 users × 3,123 movies).

For each model and batch size: the CPU and wall seconds of a one-epoch fit (PyTorch on
``--threads`` threads; CPU seconds hold on a shared machine, wall seconds do not), then the same
epoch under PyTorch's profiler, split into the optimizer's steps, the matrix products and the
rest (shares of the profiled CPU time), with the costliest operators in the JSON. Writes
``bench/results/vae_epoch.json`` (``--out`` to name another).

    MOVIEREC_DATA_DIR=../shared/data python bench/bench_vae_epoch.py
    python bench/bench_vae_epoch.py --models recvae --batch-sizes 100,500 --threads 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from timing import print_rows, write_results

from movierec import config
from movierec.datasets import load_dataset
from movierec.evaluation import get_protocol
from movierec.evaluation.runner import model_input
from movierec.models import make_model
from movierec.settings import Settings

PRODUCTS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::_sparse_mm", "aten::_sparse_addmm")
"""Operators counted as matrix products (their own time, not their callers')."""


def profile_epoch(torch: Any, model: Any, matrix: Any) -> dict[str, Any]:
    """One fit under the profiler: the optimizer's and the products' shares, the top operators."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as profiled:
        model.fit(matrix)
    events = profiled.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    optimizer = sum(e.cpu_time_total for e in events if e.key.startswith("Optimizer.step#"))
    products = sum(e.self_cpu_time_total for e in events if e.key in PRODUCTS)
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:12]
    return {
        "optimizer_share": optimizer / total,
        "products_share": products / total,
        "top_operators": [
            {"name": e.key, "calls": e.count, "self_cpu_share": e.self_cpu_time_total / total}
            for e in top
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mult-vae,recvae", help="presets to time")
    parser.add_argument("--batch-sizes", default="100,500")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=config.SEED)
    parser.add_argument("--out", default="vae_epoch")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    protocol = get_protocol("recbole")
    split = protocol.splits(protocol.prepare(load_dataset("ml-1m")), args.seed)[0]
    rows = []
    for name in args.models.split(","):
        settings = Settings.preset(name)
        matrix, _ = model_input(split, settings.weighting)
        for batch_size in [int(v) for v in args.batch_sizes.split(",")]:
            params = settings.params | {"epochs": 1, "batch_size": batch_size}
            model = make_model(settings.model, **params)
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(matrix)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            shares = profile_epoch(torch, make_model(settings.model, **params), matrix)
            rows.append(
                {
                    "model": name,
                    "batch": batch_size,
                    "cpu_s": round(cpu, 2),
                    "wall_s": round(wall, 2),
                    "optimizer": f"{shares['optimizer_share']:.0%}",
                    "products": f"{shares['products_share']:.0%}",
                    "top_operators": shares["top_operators"],
                }
            )
            print(f"{name} batch {batch_size}: {cpu:.2f} CPU s, {wall:.2f} wall s", flush=True)
    print_rows([{k: v for k, v in row.items() if k != "top_operators"} for row in rows])
    write_results(
        args.out,
        {
            "dataset": "ml-1m",
            "protocol": "recbole",
            "seed": args.seed,
            "threads": args.threads,
            "loadavg": os.getloadavg(),
            "torch": torch.__version__,
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
