"""Tuning with early stopping: Mult-VAE or RecVAE on the validation part of ML-1M's recbole split
(seed 42); the test part is never looked at.

``movierec tune`` fits each trial for a fixed number of epochs; here optuna's TPE (seeded) draws
every setting of the model's space in ``evaluation/tuning.py`` but ``epochs``, and each trial
trains epoch by epoch (``VAEModel.training``) up to ``--max-epochs``, measuring validation
NDCG@10 every ``--every`` epochs: its value is the best of those and its epochs the epoch where
that was. A trial stops when ``--patience`` measurements in a row bring no gain, or when optuna's
median pruner finds it behind the earlier trials at the same epoch. With every setting given
(``--set``) it is one learning curve. Neither model's schedule depends on ``epochs`` (Mult-VAE
anneals β over ``anneal_epochs``), so the fit of the preset it prints is that trial's fit
stopped there. Writes ``bench/results/vae_tune-<model>.json`` (``--out`` to name another).

    MOVIEREC_DATA_DIR=../shared/data python bench/bench_vae_tune.py mult-vae --trials 12
    python bench/bench_vae_tune.py recvae --max-epochs 60 --every 5 --set batch_size=500
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from timing import print_rows, write_results

from movierec import config
from movierec.datasets import load_dataset
from movierec.evaluation import get_protocol
from movierec.evaluation.runner import ModelSpec, model_input, score_and_measure
from movierec.evaluation.tuning import search_space
from movierec.models import make_model


def suggest(trial: Any, name: str, dims: tuple[Any, ...]) -> Any:
    """One draw of a dimension written as in ``tuning.SEARCH_SPACES``."""
    if dims[0] == "categorical":
        return trial.suggest_categorical(name, list(dims[1]))
    if dims[0] in ("int", "int_log"):
        return trial.suggest_int(name, int(dims[1]), int(dims[2]), log=dims[0] == "int_log")
    return trial.suggest_float(name, float(dims[1]), float(dims[2]), log=dims[0] == "float_log")


def report(
    args: argparse.Namespace,
    space: dict[str, Any],
    fixed: dict[str, Any],
    weighting: str,
    trials: list[dict[str, Any]],
    seconds: float,
) -> None:
    """The trials so far as a table and as ``bench/results/vae_tune-<model>.json``."""
    best = max(trials, key=lambda t: t["valid_ndcg@10"])
    print_rows(
        [
            {
                "trial": t["number"],
                "valid_ndcg@10": f"{t['valid_ndcg@10']:.4f}",
                "epochs": t["epochs"],
                "stopped_at": t["curve"][-1][0],
                "cpu_s": round(t["cpu_seconds"]),
                "params": ", ".join(
                    f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in t["params"].items()
                    if k in space
                ),
            }
            for t in trials
        ]
    )
    preset = {"model": args.model, **best["params"], "epochs": best["epochs"]}
    print(f"best: trial {best['number']}, valid NDCG@10 {best['valid_ndcg@10']:.4f}: {preset}")
    write_results(
        args.out or f"vae_tune-{args.model}",
        {
            "dataset": "ml-1m",
            "protocol": "recbole",
            "seed": args.seed,
            "scored_on": "valid",
            "space": {k: list(v) for k, v in space.items()},
            "fixed": fixed,
            "weighting": weighting,
            "max_epochs": args.max_epochs,
            "every": args.every,
            "patience": args.patience,
            "best": best,
            "preset": preset,
            "trials": trials,
            "wall_seconds": seconds,
            "loadavg": os.getloadavg(),
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=("mult-vae", "recvae"))
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--max-epochs", type=int, default=150)
    parser.add_argument("--every", type=int, default=10, help="epochs between measurements")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], help="fixed key=value settings")
    parser.add_argument("--seed", type=int, default=config.SEED)
    parser.add_argument("--out", help="results name [default: vae_tune-<model>]")
    args = parser.parse_args(argv)

    import optuna
    import torch

    torch.set_num_threads(1)  # a shared machine: one busy thread, not two spinning
    fixed = {key: json.loads(value) for key, _, value in (s.partition("=") for s in args.set)}
    space = {k: v for k, v in search_space(args.model).items() if k not in fixed}
    space.pop("epochs", None)
    weighting = str(space.pop("weighting")[1][0])  # both spaces: binary only
    protocol = get_protocol("recbole")
    split = protocol.splits(protocol.prepare(load_dataset("ml-1m")), args.seed)[0]
    train_input, fold_in_input = model_input(split, weighting)
    trials: list[dict[str, Any]] = []

    def objective(trial: Any) -> float:
        params = {name: suggest(trial, name, dims) for name, dims in space.items()}
        params |= dict(fixed, epochs=args.max_epochs)
        model = ModelSpec(args.model, args.model, params, weighting).build(args.seed)
        curve: list[tuple[int, float]] = []
        started = time.process_time()
        for epoch in model.training(train_input):
            if epoch % args.every:
                continue
            measured = score_and_measure(model, split, train_input, fold_in_input, "valid", [10])
            curve.append((epoch, measured[("ndcg", 10)]))
            print(f"trial {trial.number}: epoch {epoch} valid {curve[-1][1]:.4f}", flush=True)
            best = max(range(len(curve)), key=lambda i: curve[i][1])
            trial.report(curve[-1][1], epoch)
            if len(curve) - 1 - best >= args.patience or trial.should_prune():
                break
        best_epoch, value = max(curve, key=lambda point: point[1])
        trials.append(
            {
                "number": trial.number,
                "valid_ndcg@10": value,
                "epochs": best_epoch,
                "params": {k: v for k, v in params.items() if k != "epochs"},
                "curve": curve,
                "cpu_seconds": time.process_time() - started,
            }
        )
        trial.set_user_attr("epochs", best_epoch)
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=args.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2 * args.every),
    )
    defaults = make_model(args.model).get_params()  # the papers' settings come first
    study.enqueue_trial({name: defaults[name] for name in space})
    started = time.perf_counter()
    for _ in range(args.trials):  # one at a time: the results are written after each
        study.optimize(objective, n_trials=1)
        report(args, space, fixed, weighting, trials, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
