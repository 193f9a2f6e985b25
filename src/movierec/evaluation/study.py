"""An evaluation or a tuning run as ``movierec evaluate`` and ``movierec tune`` ask for it: every
input checked before any slow work (one line naming the way out), then the data loaded and the
run done. The command line only declares the options and prints what comes back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import config
from ..errors import MovieRecError

if TYPE_CHECKING:
    from ..serving import Source
    from .runner import Evaluation
    from .tuning import TuningResult


@dataclass(frozen=True)
class Comparison:
    """Models side by side (:class:`~movierec.evaluation.runner.Evaluation`) and the plots
    written of them (none unless asked for)."""

    evaluation: Evaluation
    plots: list[Path]


def compare_models(
    source: Source,
    protocol: str = "recbole",
    models: str = "default",
    k: int = 10,
    seeds: int = 1,
    min_rating: float | None = None,
    plot: Path | None = None,
) -> Comparison:
    """Evaluate ``models`` (a comma-separated list of presets or models with overrides) on
    ``protocol``'s splits of ``seeds`` seeds from ``config.SEED``, at ``k``; with ``plot``, the
    PNG plots written into that folder (claimed before the data loads). ``min_rating`` None:
    the protocol's."""
    from . import evaluate, get_protocol, parse_model_specs

    chosen = get_protocol(protocol).with_min_rating(min_rating)
    specs = parse_model_specs(models)
    if not 1 <= k <= 1000:
        raise MovieRecError(f"-k must be from 1 to 1000, got {k}")
    if not 1 <= seeds <= 100:
        raise MovieRecError(f"--seeds must be from 1 to 100, got {seeds}")
    if plot is not None:
        from ..atomic import claim_folder

        plot = claim_folder(plot, "plots", "--plot")
    dataset = source.load(min_rating)
    data = chosen.prepare(dataset)
    extra_ks = range(1, max(k, 20) + 1) if plot is not None else ()
    seed_list = [config.SEED + i for i in range(seeds)]
    result = evaluate(
        dataset, chosen, specs, k=k, seeds=seed_list, extra_ks=extra_ks, prepared=data
    )
    if plot is None:
        return Comparison(result, [])
    from .plots import write_plots

    return Comparison(result, list(write_plots(result, data, chosen, plot, config.SEED)))


@dataclass(frozen=True)
class Tuned:
    """A tuning run: its result, where it ran (dataset and protocol names, seed) and the user
    preset file its winners were saved to (None: not saved)."""

    result: TuningResult
    dataset: str
    protocol: str
    seed: int
    saved: Path | None

    def to_json(self) -> dict[str, Any]:
        return {**self.result.to_json(), "saved_preset": str(self.saved) if self.saved else None}


def tune_model(
    source: Source,
    model: str,
    trials: int = 20,
    protocol: str = "recbole",
    min_rating: float | None = None,
    seed: int = config.SEED,
    timeout: float | None = None,
    save_preset: str | None = None,
) -> Tuned:
    """Search ``model``'s hyperparameters (see :func:`~movierec.evaluation.tuning.tune`); with
    ``save_preset``, keep the winners as that user preset, with how they were found."""
    from ..presets import save_user_preset
    from . import get_protocol
    from .tuning import search_space, tune

    chosen = get_protocol(protocol).with_min_rating(min_rating)
    search_space(model)  # unknown or untunable models fail before the data loads
    if not 1 <= trials <= 10_000:
        raise MovieRecError(f"--trials must be from 1 to 10000, got {trials}")
    dataset = source.load()
    result = tune(dataset, chosen, model, trials, seed=seed, timeout=timeout)
    saved = None
    if save_preset:
        provenance = {
            "dataset": dataset.name,
            "protocol": chosen.name,
            "trials": len(result.trials),
            "seed": seed,
            "valid_ndcg@10": result.best_value,
        }
        saved = save_user_preset(save_preset, result.preset(), provenance)
    return Tuned(result, dataset.name, chosen.name, seed, saved)
