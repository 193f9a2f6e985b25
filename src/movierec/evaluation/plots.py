"""PNG plots for ``movierec evaluate --plot DIR`` (matplotlib, Agg backend, no display needed).

- ``precision_recall_at_k.png``: precision@K and recall@K against K for every evaluated model
  (mean over seeds/folds, shaded ± one std).
- ``als_ndcg_vs_factors.png`` and ``als_ndcg_vs_iterations.png``: NDCG@10 of ALS while one
  setting varies and the others stay at the evaluated ALS spec's values (a small seeded sweep on
  the first split; scored on the validation part when the protocol has one, else on test).
  Validation figures run below test ones: when validation is scored, the user's test items are
  neither masked nor counted, and take up places in the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import progress
from ..atomic import filling
from .metrics import METRIC_LABELS
from .protocols import PreparedData, Protocol
from .runner import (
    Evaluation,
    ModelSpec,
    model_input,
    parse_model_spec,
    score_and_measure,
)
from .tuning import tunable_parameters

FACTOR_GRID = (8, 16, 32, 64, 128, 256)
ITERATION_GRID = (1, 2, 3, 5, 10, 15, 20)
STYLE = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "legend.fontsize": 10,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
}


def _with_defaults(spec: ModelSpec) -> ModelSpec:
    """The spec with the model's defaults filled in for every parameter it leaves out that
    changes what it learns (not ``seed``, ``use_gpu``: see :data:`tuning.NOT_TUNED`)."""
    return replace(spec, params={**tunable_parameters(spec.model), **spec.params})


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_precision_recall(evaluation: Evaluation, path: Path) -> Path:
    """Precision@K and recall@K against K, one line per model."""
    plt = _pyplot()
    ks = sorted({k for run in evaluation.runs for (_, k) in run.metrics})
    protocol = evaluation.protocol
    runs = len(evaluation.runs_of(evaluation.specs[0].label))
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
        for spec in evaluation.specs:
            for axis, metric in zip(axes, ("precision", "recall")):
                rows = [evaluation.summary(spec.label, metric, k) for k in ks]
                mean = np.array([row.mean for row in rows])
                std = np.array([row.std for row in rows])
                (line,) = axis.plot(ks, mean, marker="o", markersize=3, label=spec.label)
                if runs > 1:  # one run has no spread to shade
                    band = (mean - std, mean + std)
                    axis.fill_between(ks, *band, color=line.get_color(), alpha=0.15)
        for axis, metric in zip(axes, ("precision", "recall")):
            axis.set_xlabel("K (length of the recommendation list)")
            axis.set_ylabel(f"{METRIC_LABELS[metric]}@K")
            axis.set_title(f"{METRIC_LABELS[metric]}@K")
            axis.set_xlim(min(ks), max(ks))
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
            axis.set_ylim(bottom=0)
        axes[1].legend(title="model", loc="lower right")
        figure.suptitle(
            f"{protocol['dataset']}, protocol {protocol['name']} (test, {_runs_shown(evaluation)})"
        )
        figure.savefig(path)
        plt.close(figure)
    return path


def _runs_shown(evaluation: Evaluation) -> str:
    """``mean ± std over 3 runs`` (shaded), or ``one run, seed 42`` (nothing to shade)."""
    runs = len(evaluation.runs_of(evaluation.specs[0].label))
    if runs > 1:
        return f"mean ± std over {runs} runs, shaded"
    seeds = evaluation.protocol.get("seeds") or []
    return f"one run, seed {seeds[0]}" if len(seeds) == 1 else "one run"


def als_sweep(
    data: PreparedData,
    protocol: Protocol,
    base: ModelSpec,
    setting: str,
    values: Sequence[int],
    seed: int,
    k: int = 10,
) -> tuple[list[float], str]:
    """NDCG@``k`` of ALS for each value of ``setting`` on the protocol's first split of ``seed``;
    returns the values and the part scored ("valid" when there is one, else "test")."""
    what = f"ALS's NDCG@{k} against {setting} ({len(values)} fits)"
    with progress.step(  # no time left estimated: a fit's time grows with the setting
        f"measuring {what}", f"measured {what}", len(values), "fits", estimate=False
    ) as step:
        split = protocol.splits(data, seed)[0]
        part = "valid" if split.valid.nnz else "test"
        train_input, fold_in_input = model_input(split, base.weighting)
        out = []
        for value in values:
            params = {**base.params, setting: int(value)}
            spec = ModelSpec(base.label, base.model, params, base.weighting)
            step.update(status=f"{setting}={value}")
            model = spec.build(seed).fit(train_input)
            metrics = score_and_measure(model, split, train_input, fold_in_input, part, [k])
            out.append(metrics[("ndcg", k)])
            step.advance()
            step.note(f"ALS sweep {setting}={value}: {part} ndcg@{k} {out[-1]:.4f}")
    return out, part


def plot_sweep(
    values: Sequence[int],
    ndcg: Sequence[float],
    setting: str,
    part: str,
    base: ModelSpec,
    title: str,
    path: Path,
    k: int = 10,
) -> Path:
    """One NDCG@k-against-a-setting line plot, the base value marked."""
    plt = _pyplot()
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(8, 5), constrained_layout=True)
        axis.plot(values, ndcg, marker="o", label=f"ALS ({_fixed(base, setting)})")
        if setting in base.params and int(base.params[setting]) in [int(v) for v in values]:
            at = [int(v) for v in values].index(int(base.params[setting]))
            axis.scatter(
                [values[at]],
                [ndcg[at]],
                s=120,
                facecolors="none",
                edgecolors="red",
                linewidths=2,
                zorder=3,
                label=f"{base.label}: {setting}={values[at]}",
            )
        if setting == "factors":
            axis.set_xscale("log", base=2)
            axis.set_xticks(list(values), [str(v) for v in values])
        else:
            axis.set_xticks(list(values))
        axis.set_xlabel("latent factors" if setting == "factors" else "ALS iterations (sweeps)")
        scored = "validation" if part == "valid" else "test"
        axis.set_ylabel(f"{scored} {METRIC_LABELS['ndcg']}@{k}")
        # From 0: a difference of a few thousandths should look like one, not like a cliff.
        axis.set_ylim(0, max(max(ndcg) * 1.15, 1e-3))
        axis.set_title(title)
        axis.legend(loc="lower right")
        figure.savefig(path)
        plt.close(figure)
    return path


def _fixed(base: ModelSpec, varied: str) -> str:
    shown = {name: value for name, value in base.params.items() if name != varied}
    text = ", ".join(
        f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in shown.items()
    )
    return f"{text}, weighting={base.weighting}"


def write_plots(
    evaluation: Evaluation,
    data: PreparedData,
    protocol: Protocol,
    out_dir: Path,
    seed: int,
    factor_grid: Sequence[int] = FACTOR_GRID,
    iteration_grid: Sequence[int] = ITERATION_GRID,
) -> list[Path]:
    """All plots into ``out_dir`` (created, or claimed by :func:`movierec.atomic.claim_folder`);
    returns the files written. They are drawn into a new folder and moved in together at the
    end (:func:`movierec.atomic.filling`): a failure (a full disk, an interruption) leaves
    ``out_dir`` as it was, and a file someone else put there meanwhile is never replaced."""
    names = ["precision_recall_at_k.png"]
    with filling(out_dir, "--plot") as staging:
        plot_precision_recall(evaluation, staging / names[0])
        base = next((spec for spec in evaluation.specs if spec.model == "als"), None)
        base = _with_defaults(base or parse_model_spec("als"))
        where = f"{data.dataset}, protocol {protocol.name}, seed {seed}"
        for setting, grid, name in (
            ("factors", factor_grid, "als_ndcg_vs_factors.png"),
            ("iterations", iteration_grid, "als_ndcg_vs_iterations.png"),
        ):
            ndcg, part = als_sweep(data, protocol, base, setting, grid, seed)
            title = f"ALS: NDCG@10 against {setting} ({where})"
            plot_sweep(grid, ndcg, setting, part, base, title, staging / name)
            names.append(name)
    return [out_dir / name for name in names]
