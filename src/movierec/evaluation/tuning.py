"""Hyperparameter search with optuna (TPE, seeded), scored on the validation part only.

The test part of the split is never looked at here: each trial fits on train, ranks every item
for the users with validation items (train items masked) and scores NDCG@10 on them. The winners
can be saved as a user preset (``movierec tune … --save-preset NAME``) and evaluated by name; the
shipped defaults in ``config.PRESETS`` were chosen from runs of this command on ML-1M.

Search spaces are per model name and may name only the model's parameters (``Model.parameters``)
and ``weighting``; a model without a written space gets one derived from its numeric defaults
(log-uniform over a factor of 4 for integers, 10 for floats around the default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import config, progress
from ..datasets import Dataset
from ..errors import MovieRecError
from ..interactions import WEIGHTINGS
from ..models import MODELS
from .protocols import PreparedData, Protocol
from .runner import ModelSpec, fit, model_input, score_and_measure
from .splits import Split

# (kind, low, high) for numbers, ("categorical", choices) otherwise; "log" means log-uniform.
Space = dict[str, tuple[Any, ...]]

SEARCH_SPACES: dict[str, Space] = {
    "als": {
        "factors": ("int_log", 16, 256),
        "regularization": ("float_log", 1e-2, 1e3),
        "alpha": ("float_log", 0.1, 50.0),
        "iterations": ("int", 5, 30),
        "weighting": ("categorical", WEIGHTINGS),
    },
    "ials": {
        "factors": ("int_log", 16, 256),
        "regularization": ("float_log", 1e-4, 1.0),
        "unobserved_weight": ("float_log", 1e-3, 1.0),
        "regularization_exponent": ("float", 0.0, 1.0),
        "iterations": ("int", 5, 30),
        "weighting": ("categorical", WEIGHTINGS),
    },
    "ease": {
        "regularization": ("float_log", 10.0, 1e4),
        "dropout": ("float", 0.0, 0.8),
        "zero_diagonal": ("categorical", (True, False)),
        "user_weight_exponent": ("float", 0.0, 1.0),
        "lowpass_rank": ("categorical", (0, 32, 64, 128)),
        "lowpass_weight": ("float", 0.0, 0.8),
        "weighting": ("categorical", ("binary", "rating")),
    },
    "admm-slim": {
        "l1": ("float_log", 0.01, 100.0),
        "l2": ("float_log", 10.0, 1e4),
        "rho": ("float_log", 100.0, 1e5),
        "iterations": ("int", 5, 30),
        "user_weight_exponent": ("float", 0.0, 1.0),
        "weighting": ("categorical", ("binary", "rating")),
    },
    "mult-vae": {
        "hidden": ("categorical", (300, 600)),
        "latent": ("categorical", (100, 200)),
        "dropout": ("float", 0.2, 0.7),
        "beta": ("float_log", 0.02, 1.0),
        "anneal_epochs": ("int_log", 5, 100),
        "epochs": ("int", 20, 200),
        "learning_rate": ("float_log", 3e-4, 3e-3),
        "weighting": ("categorical", ("binary",)),
    },
    "recvae": {
        "hidden": ("categorical", (300, 600)),
        "latent": ("categorical", (100, 200)),
        "dropout": ("float", 0.2, 0.7),
        "gamma": ("float_log", 1e-3, 2e-2),
        "epochs": ("int", 10, 60),
        "encoder_epochs": ("int", 1, 3),
        "learning_rate": ("float_log", 2e-4, 2e-3),
        "weighting": ("categorical", ("binary",)),
    },
    "itemknn": {
        "neighbours": ("int_log", 10, 1000),
        "shrink": ("float", 0.0, 100.0),
        "similarity": ("categorical", ("cosine", "bm25")),
        "weighting": ("categorical", WEIGHTINGS),
    },
    "spark-als": {  # Spark's λ is scaled by each row's rating count: ~1/100 of implicit's
        "factors": ("categorical", (64, 128)),
        "regularization": ("float_log", 0.02, 0.5),
        "alpha": ("float_log", 0.3, 10.0),
        "weighting": ("categorical", ("rating", "binary")),
    },
    "bpr": {
        "factors": ("int_log", 16, 256),
        "learning_rate": ("float_log", 1e-3, 0.2),
        "regularization": ("float_log", 1e-5, 0.1),
        "iterations": ("int_log", 20, 300),
        "weighting": ("categorical", ("binary",)),
    },
}

NOT_TUNED = ("seed", "use_gpu", "num_threads", "blocks", "checkpoint_interval")
"""Parameters that change how a model runs, not what it learns (``seed`` is the run's)."""


def tunable_parameters(model: str) -> dict[str, Any]:
    """The hyperparameters of ``model`` worth searching, with their defaults."""
    return {
        name: default for name, default in MODELS[model].parameters.items() if name not in NOT_TUNED
    }


def derived_space(model: str) -> Space:
    """A search space around a model's numeric defaults, for models without a written one."""
    space: Space = {}
    for name, default in tunable_parameters(model).items():
        if isinstance(default, bool) or not isinstance(default, (int, float)) or default <= 0:
            continue
        if isinstance(default, int):
            space[name] = ("int_log", max(1, default // 4), max(2, default * 4))
        else:
            space[name] = ("float_log", default / 10.0, default * 10.0)
    return space


def search_space(model: str) -> Space:
    """The space searched for ``model``: its written space, else :func:`derived_space`.
    MovieRecError when nothing is tunable or the space names a parameter ``model`` lacks."""
    if model not in MODELS:
        raise MovieRecError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    space = SEARCH_SPACES.get(model) or derived_space(model)
    check_space(model, space)
    return space


def check_space(model: str, space: Space) -> None:
    """MovieRecError unless every dimension of ``space`` is ``weighting`` or a tunable
    parameter of ``model``, and at least one is a parameter."""
    tunable = tunable_parameters(model)
    for name in space:
        if name != "weighting" and name not in tunable:
            raise MovieRecError(
                f"the search space of {model!r} names {name!r}, which is not a tunable "
                f"parameter; it tunes {', '.join(tunable) or 'nothing'}"
            )
    if not set(space) - {"weighting"}:
        raise MovieRecError(f"model {model!r} has no hyperparameters to tune")


def _suggest(trial: Any, name: str, dims: tuple[Any, ...]) -> Any:
    kind = dims[0]
    if kind == "categorical":
        return trial.suggest_categorical(name, list(dims[1]))
    if kind in ("int", "int_log"):
        return trial.suggest_int(name, int(dims[1]), int(dims[2]), log=kind == "int_log")
    return trial.suggest_float(name, float(dims[1]), float(dims[2]), log=kind == "float_log")


@dataclass(frozen=True)
class TuningResult:
    """The best trial: its parameters (``weighting`` apart), validation NDCG@10 and every trial."""

    model: str
    best_params: dict[str, Any]
    best_weighting: str
    best_value: float
    metric: str
    trials: list[dict[str, Any]] = field(default_factory=list)
    protocol: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def preset(self) -> dict[str, Any]:
        """The winners as a preset: ``{"model", "weighting", <params>}``."""
        return {"model": self.model, "weighting": self.best_weighting, **self.best_params}

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "metric": self.metric,
            "best_value": self.best_value,
            "best_params": self.best_params,
            "weighting": self.best_weighting,
            "trials": self.trials,
            "protocol": self.protocol,
            "seconds": self.seconds,
        }


def tune(
    dataset: Dataset,
    protocol: Protocol,
    model: str,
    trials: int,
    seed: int = config.SEED,
    k: int = 10,
    timeout: float | None = None,
    space: Space | None = None,
) -> TuningResult:
    """Search ``model``'s hyperparameters for the best validation NDCG@``k`` in ``trials``
    trials (TPE seeded with ``seed``) on the protocol's split of ``seed``; test is never used."""
    import optuna

    if trials < 1:
        raise MovieRecError(f"--trials must be at least 1, got {trials}")
    if space is None:
        space = search_space(model)
    else:
        check_space(model, space)
    what = f"{model} on {dataset.name}, protocol {protocol.name}"
    with progress.step(
        f"tuning {what}: {trials} trials", done=f"tuned {what}", total=trials, unit="trials"
    ) as step:
        data, split = _validation_split(dataset, protocol, seed)
        objective = _objective(model, space, split, seed, k, trials, step)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed)
        )
        started = time.perf_counter()
        study.optimize(objective, n_trials=trials, timeout=timeout)
        seconds = time.perf_counter() - started
        step.done = (
            f"tuned {what}: {len(study.trials)} trials, best validation NDCG@{k} "
            f"{study.best_value:.4f}"
        )
    best = dict(study.best_trial.params)
    weighting = str(best.pop("weighting", "rating"))
    history = [
        {"number": t.number, "value": t.value, "params": t.params}
        for t in study.trials
        if t.value is not None
    ]
    description = {
        **protocol.to_dict(),
        "dataset": data.dataset,
        "seed": seed,
        "interactions": data.interactions.nnz,
        "scored_on": "valid",
    }
    return TuningResult(
        model, best, weighting, float(study.best_value), f"ndcg@{k}", history, description, seconds
    )


def _validation_split(
    dataset: Dataset, protocol: Protocol, seed: int
) -> tuple[PreparedData, Split]:
    """The protocol's data and its first split of ``seed``; MovieRecError when that split has
    no validation part to tune on."""
    data = protocol.prepare(dataset)
    protocol.check(data)
    split = protocol.splits(data, seed)[0]
    if split.valid.nnz == 0:
        raise MovieRecError(
            f"protocol {protocol.name!r} has no validation part to tune on; "
            "use --protocol recbole, ratio, loo or strong"
        )
    return data, split


def _objective(
    model: str,
    space: Space,
    split: Split,
    seed: int,
    k: int,
    trials: int,
    step: progress.Step,
) -> Callable[[Any], float]:
    """Optuna's objective: one trial's parameters fitted on train, validation NDCG@``k``; each
    trial advances ``step``, its status the best value so far, its note the trial's value."""
    best: list[float] = []
    inputs: dict[str, Any] = {}  # weighted matrices, built once per weighting

    def objective(trial: Any) -> float:
        params = {name: _suggest(trial, name, dims) for name, dims in space.items()}
        weighting = str(params.pop("weighting", "rating"))
        if weighting not in inputs:
            inputs[weighting] = model_input(split, weighting)
        train_input, fold_in_input = inputs[weighting]
        spec = ModelSpec(model, model, params, weighting)
        fitted = fit(spec.build(seed), train_input)
        metrics = score_and_measure(fitted, split, train_input, fold_in_input, "valid", [k])
        value = metrics[("ndcg", k)]
        if not best or value > best[0]:
            best[:] = [value, trial.number + 1]
        step.advance()
        step.update(status=f"best valid ndcg@{k} {best[0]:.4f} in trial {best[1]:.0f}")
        step.note(
            f"trial {trial.number + 1}/{trials}: valid ndcg@{k} {value:.4f} "
            f"({weighting}, {_short(params)})"
        )
        return value

    return objective


def _short(params: dict[str, Any]) -> str:
    return ", ".join(
        f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in params.items()
    )
