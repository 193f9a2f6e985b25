"""Models side by side: for each model and each seed (or fold), fit on train, rank, measure.

Every model of one seed sees the same split, so differences between models are paired. A model
is named by a :class:`ModelSpec` — a preset (``default``, ``notebook``, a user preset saved by
``movierec tune``), or a model of ``movierec.models.MODELS`` with its own defaults and its
preferred input weighting (the class's ``weighting`` attribute, else the ratings) — either with
overrides: ``als:factors=128:alpha=2:weighting=binary``. Every model gets the run's seed.

The JSON form (:meth:`Evaluation.to_json`) is ``{"protocol": {…}, "results": [{"model",
"metric", "k", "mean", "std"}, …]}``: metrics ``precision, recall, ndcg, map, hit, mrr, coverage,
popularity_bias`` at each reported K, plus one ``fit_seconds`` row per model with ``"k": null``
(wall-clock seconds of ``fit`` alone). ``mean`` and ``std`` are over seeds × folds; ``std`` is the
sample standard deviation (0 for a single run). ``protocol`` also records the dataset, the kept
interactions, the seeds and each model's exact settings. ``paired`` holds every other model's
paired difference from the first one named (:meth:`Evaluation.paired`: mean over the shared
splits and its standard error), and with ``validation=True`` the same fits are also measured on
the validation part, in ``validation`` (rows as ``results``) and ``paired_validation``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .. import config, progress
from ..datasets import Dataset
from ..errors import MovieRecError
from ..interactions import WEIGHTINGS, bm25_weight, confidence
from ..models import MODELS, SPARK_ALS, Model, make_model
from ..models.params import ParameterError, unknown_parameter
from ..presets import all_presets, get_preset
from .metrics import METRICS, MetricAccumulator
from .protocols import PreparedData, Protocol
from .splits import Split


@dataclass(frozen=True)
class ModelSpec:
    """One model to evaluate: ``label`` as the user named it, the model, params and weighting."""

    label: str
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    weighting: str = "rating"

    def build(self, seed: int) -> Model:
        """A fresh, unfitted model; ``seed`` is passed when the model takes one."""
        params = dict(self.params)
        if "seed" in MODELS[self.model].parameters:
            params["seed"] = seed
        return make_model(self.model, **params)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "params": self.params, "weighting": self.weighting}


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _model_weighting(model: str) -> str:
    """A model's preferred input weighting (its class's ``weighting`` attribute), else ratings."""
    preferred = getattr(MODELS[model], "weighting", "rating")
    return preferred if preferred in WEIGHTINGS else "rating"


def parse_model_spec(text: str) -> ModelSpec:
    """``name[:key=value…]`` → :class:`ModelSpec`; ``name`` is a preset or a model name.

    Presets (shipped and the user's) win over model names; ``weighting`` is an override like any
    other. Values are read as JSON (else as text) and checked like any model's parameters: an
    unknown name or a bad value raises MovieRecError naming the choices or the allowed range.
    """
    text = text.strip()
    name, *overrides = text.split(":")
    if name in all_presets():
        preset = get_preset(name)  # the protocol decides which ratings count: min_rating unused
        model, weighting, params = preset.model, preset.weighting, dict(preset.params)
    elif name in MODELS:
        model, weighting, params = name, _model_weighting(name), {}
    else:
        raise MovieRecError(
            f"unknown model {name!r}; choose a preset ({', '.join(all_presets())}) "
            f"or a model ({', '.join(MODELS)})"
        )
    accepted = MODELS[model].parameters
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep or not key:
            raise MovieRecError(
                f"write model overrides as name:key=value, got {override!r} in {text!r}"
            )
        if key == "weighting":
            weighting = value
        elif key not in accepted:
            raise MovieRecError(unknown_parameter(model, key, accepted))
        else:
            params[key] = _parse_value(value)
    if weighting not in WEIGHTINGS:
        raise MovieRecError(
            f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}"
        )
    try:
        params = MODELS[model].valid_params(params)
    except ParameterError as exc:
        example = exc.example if isinstance(exc.example, str) else json.dumps(exc.example)
        raise exc.rephrased(f"write e.g. {name}:{exc.parameter}={example}") from None
    return ModelSpec(text, model, params, weighting)


def parse_model_specs(text: str) -> list[ModelSpec]:
    """A comma-separated list of specs (``default,als,ease``); labels must be distinct."""
    specs = [parse_model_spec(part) for part in text.split(",") if part.strip()]
    if not specs:
        raise MovieRecError("name at least one model, e.g. --models default,als")
    labels = [spec.label for spec in specs]
    if len(set(labels)) != len(labels):
        raise MovieRecError(f"a model is named twice in {text!r}")
    return specs


def weighted(matrix: sp.csr_matrix, weighting: str) -> sp.csr_matrix:
    """``matrix`` (users × items, values = ratings) as a model's input: ratings, 1s or BM25."""
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.data = confidence(out.data, weighting)
    if weighting == "bm25":
        out = bm25_weight(out)
    return out


def model_input(split: Split, weighting: str) -> tuple[sp.csr_matrix, sp.csr_matrix | None]:
    """The weighted training matrix and, for strong generalization, the weighted fold-in rows.

    Each is weighted on its own (BM25's statistics come from the matrix weighted), so nothing
    held out leaks into training."""
    fold_in = None if split.fold_in is None else weighted(split.fold_in, weighting)
    return weighted(split.train, weighting), fold_in


def score_and_measure(
    model: Model,
    split: Split,
    train_input: sp.csr_matrix,
    fold_in_input: sp.csr_matrix | None,
    part: str,
    ks: Sequence[int],
    batch_size: int = 1024,
) -> dict[tuple[str, int], float]:
    """Rank every item for each user with held-out items in ``part`` ("valid" or "test"),
    masking what the user already has, in batches of users; {(metric, K): mean over users}.

    Seen users are scored with ``model.scores(users, train rows)``; with strong generalization,
    held-out users with ``model.fold_in_scores(fold-in rows)``."""
    known = split.known(part)
    target = split.target(part)
    users = split.users_to_evaluate(part)
    item_counts = np.bincount(split.train.indices, minlength=split.train.shape[1])
    accumulator = MetricAccumulator(ks, split.train.shape[1], item_counts)
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        if fold_in_input is not None:
            scores = model.fold_in_scores(fold_in_input[batch])
        else:
            scores = model.scores(batch, train_input[batch])
        accumulator.add(np.asarray(scores), known[batch], target[batch])
    return accumulator.result()


@dataclass(frozen=True)
class RunResult:
    """One model fitted and measured on one split: ``metrics`` is {(metric, K): mean} on the
    test part, ``valid_metrics`` the same on the validation part when it was measured."""

    model: str
    seed: int
    fold: int
    fit_seconds: float
    eval_seconds: float
    metrics: dict[tuple[str, int], float]
    valid_metrics: dict[tuple[str, int], float] = field(default_factory=dict)

    def measured(self, part: str) -> dict[tuple[str, int], float]:
        """The metrics of ``part``, "test" or "valid"; MovieRecError if it was not measured."""
        found = self.metrics if part == "test" else self.valid_metrics if part == "valid" else {}
        if not found:
            raise MovieRecError(f"no {part} metrics were measured for {self.model}")
        return found


@dataclass(frozen=True)
class MetricSummary:
    """One row of the JSON results: mean and sample std over ``runs`` seeds × folds."""

    model: str
    metric: str
    k: int | None
    mean: float
    std: float
    runs: int

    def to_dict(self) -> dict[str, Any]:
        """Every field but ``runs`` (the protocol's ``runs`` says it once for all rows)."""
        return {name: value for name, value in asdict(self).items() if name != "runs"}


@dataclass(frozen=True)
class PairedDifference:
    """``model`` minus ``baseline`` on the same splits: the mean difference, its standard error
    (the differences' sample std over √runs; 0 for one run) and how many splits ``model`` won.
    Pairing removes the split-to-split spread both models share, which the ± of each mean
    keeps."""

    model: str
    baseline: str
    metric: str
    k: int
    mean: float
    stderr: float
    runs: int
    wins: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=np.float64)
    std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return float(array.mean()), std


@dataclass
class Evaluation:
    """What :func:`evaluate` found: the protocol, the model specs and every run."""

    protocol: dict[str, Any]
    specs: list[ModelSpec]
    runs: list[RunResult]
    report_ks: list[int]

    def runs_of(self, label: str) -> list[RunResult]:
        return [run for run in self.runs if run.model == label]

    @property
    def has_validation(self) -> bool:
        """Whether every run was also measured on the validation part."""
        return bool(self.runs) and all(run.valid_metrics for run in self.runs)

    def summary(self, label: str, metric: str, k: int | None, part: str = "test") -> MetricSummary:
        """Mean ± std of one metric on ``part`` (or ``fit_seconds`` with k None) over a
        model's runs."""
        runs = self.runs_of(label)
        if metric == "fit_seconds":
            values = [run.fit_seconds for run in runs]
        elif k is None:
            raise ValueError(f"{metric} is measured at a cut-off K; give one")
        else:
            values = [run.measured(part)[(metric, k)] for run in runs]
        mean, std = _mean_std(values)
        return MetricSummary(label, metric, k, mean, std, len(runs))

    def paired(
        self, label: str, baseline: str, metric: str = "ndcg", k: int = 10, part: str = "test"
    ) -> PairedDifference:
        """``label`` minus ``baseline`` on ``metric``@``k``, split by split (same seed and
        fold, so the same users and held-out items)."""
        base = {
            (run.seed, run.fold): run.measured(part)[(metric, k)] for run in self.runs_of(baseline)
        }
        differences = [
            run.measured(part)[(metric, k)] - base[(run.seed, run.fold)]
            for run in self.runs_of(label)
            if (run.seed, run.fold) in base
        ]
        if not differences:
            raise MovieRecError(f"{label} and {baseline} share no split to compare on")
        mean, std = _mean_std(differences)
        stderr = std / float(np.sqrt(len(differences)))
        wins = sum(difference > 0 for difference in differences)
        return PairedDifference(label, baseline, metric, k, mean, stderr, len(differences), wins)

    def paired_with_first(self, part: str = "test") -> list[PairedDifference]:
        """Every other model against the first one named, at every reported K, by NDCG."""
        first, *others = [spec.label for spec in self.specs]
        return [
            self.paired(label, first, "ndcg", k, part) for label in others for k in self.report_ks
        ]

    def summaries(self, part: str = "test") -> list[MetricSummary]:
        """Every metric at every reported K, then ``fit_seconds``, for each model in order."""
        out: list[MetricSummary] = []
        for spec in self.specs:
            for k in self.report_ks:
                out.extend(self.summary(spec.label, metric, k, part) for metric in METRICS)
            out.append(self.summary(spec.label, "fit_seconds", None))
        return out

    def to_json(self) -> dict[str, Any]:
        out = {
            "protocol": self.protocol,
            "results": [summary.to_dict() for summary in self.summaries()],
            "paired": [difference.to_dict() for difference in self.paired_with_first()],
        }
        if self.has_validation:
            out["validation"] = [summary.to_dict() for summary in self.summaries("valid")]
            out["paired_validation"] = [d.to_dict() for d in self.paired_with_first("valid")]
        return out


def evaluate(
    dataset: Dataset,
    protocol: Protocol,
    specs: Sequence[ModelSpec],
    k: int | Sequence[int] = 10,
    seeds: Sequence[int] = (config.SEED,),
    extra_ks: Sequence[int] = (),
    batch_size: int = 1024,
    prepared: PreparedData | None = None,
    validation: bool = False,
) -> Evaluation:
    """Fit every spec on the train part of every split of every seed; measure on test.

    ``k`` is the reported cut-off(s); ``extra_ks`` are measured too (for plots) but not reported.
    Validation items are never trained on; at test time they are masked, like train items.
    ``validation`` also measures each fit on the validation part (what tuning and the choice of
    presets see), to set beside the test figures.
    Progress (one unit per split, each run's NDCG as a note) goes to :mod:`movierec.progress`.
    """
    report_ks = _report_ks(k)
    if not seeds:
        raise MovieRecError("give at least one seed")
    all_ks = sorted(set(report_ks) | {int(v) for v in extra_ks})
    data = prepared or protocol.prepare(dataset)
    protocol.check(data)
    runs = _run_splits(data, protocol, specs, seeds, all_ks, report_ks[0], batch_size, validation)
    interactions = data.interactions
    description = {
        **protocol.to_dict(),
        "dataset": data.dataset,
        "interactions": interactions.nnz,
        "users": interactions.n_users,
        "items": interactions.n_items,
        "seeds": [int(s) for s in seeds],
        "runs": len(runs) // max(len(specs), 1),  # seeds × folds: one run has no spread
        "k": report_ks,
        "models": {spec.label: spec.to_dict() for spec in specs},
    }
    return Evaluation(description, list(specs), runs, report_ks)


def _report_ks(k: int | Sequence[int]) -> list[int]:
    """The reported cut-offs, ascending; MovieRecError for none, or one below 1."""
    report_ks = sorted({int(k)} if isinstance(k, (int, np.integer)) else {int(v) for v in k})
    if not report_ks or report_ks[0] < 1:
        raise MovieRecError(f"-k must be at least 1, got {k}")
    return report_ks


def _run_splits(
    data: PreparedData,
    protocol: Protocol,
    specs: Sequence[ModelSpec],
    seeds: Sequence[int],
    ks: Sequence[int],
    noted_k: int,
    batch_size: int,
    validation: bool,
) -> list[RunResult]:
    """Every spec fitted and measured at ``ks`` on every split of every seed, in that order;
    each run's NDCG@``noted_k`` and fit time are progress notes."""
    runs: list[RunResult] = []
    models = f"{len(specs)} model{'s' if len(specs) != 1 else ''}"
    seeded = f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}"
    what = f"{models} on {data.dataset}, protocol {protocol.name}, {seeded}"
    # One unit per split (seed × fold), every model fitted on it: models differ too much in
    # time for one model's run to tell how long the next one's takes.
    with progress.step(f"evaluating {what}", done=f"evaluated {what}", unit="splits") as step:
        for seed in seeds:
            splits = protocol.splits(data, int(seed))
            step.update(total=len(seeds) * len(splits))
            for fold, split in enumerate(splits):
                for number, spec in enumerate(specs, start=1):
                    step.update(status=f"model {number}/{len(specs)}: {spec.label}")
                    run = _fit_and_measure(spec, split, int(seed), fold, ks, batch_size, validation)
                    runs.append(run)
                    step.note(
                        f"{spec.label} seed {seed} split {fold + 1}: "
                        f"ndcg@{noted_k} {run.metrics[('ndcg', noted_k)]:.4f}, "
                        f"fit {run.fit_seconds:.1f} s"
                    )
                step.advance()
    return runs


def fit(model: Model, user_items: sp.csr_matrix) -> Model:
    """``model`` fitted on ``user_items``: here, or by Spark for ``spark-als``, which only Spark
    trains (in the process's Spark session, else ``local[2]``)."""
    if model.name == SPARK_ALS:
        from ..spark.engine import fit as fit_with_spark

        return fit_with_spark(model, user_items, None)
    return model.fit(user_items)


def _fit_and_measure(
    spec: ModelSpec,
    split: Split,
    seed: int,
    fold: int,
    ks: Sequence[int],
    batch_size: int,
    validation: bool = False,
) -> RunResult:
    """One model fitted on ``split``'s train part (timed) and measured on its test part (and
    its validation part, with ``validation``)."""
    train_input, fold_in_input = model_input(split, spec.weighting)
    model = spec.build(seed)
    started = time.perf_counter()
    fit(model, train_input)
    fitted = time.perf_counter()
    metrics = score_and_measure(model, split, train_input, fold_in_input, "test", ks, batch_size)
    done = time.perf_counter()
    valid = (
        score_and_measure(model, split, train_input, fold_in_input, "valid", ks, batch_size)
        if validation and split.valid.nnz
        else {}
    )
    return RunResult(spec.label, seed, fold, fitted - started, done - fitted, metrics, valid)
