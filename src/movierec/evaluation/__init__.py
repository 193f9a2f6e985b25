"""Interactions → honest figures: splits, metrics, named protocols, the runner, tuning, plots.

>>> from movierec import load_dataset
>>> from movierec.evaluation import evaluate, get_protocol, parse_model_specs
>>> result = evaluate(load_dataset("ml-latest-small"), get_protocol("ratio"),
...                   parse_model_specs("default"), k=10)  # doctest: +SKIP
>>> result.to_json()["results"][0]  # doctest: +SKIP
{'model': 'default', 'metric': 'precision', 'k': 10, 'mean': ..., 'std': 0.0}
"""

from .metrics import (
    METRIC_LABELS,
    METRICS,
    SHORT_METRIC_LABELS,
    MetricAccumulator,
    evaluate_scores,
    ranking_metrics,
)
from .protocols import PROTOCOLS, PreparedData, Protocol, get_protocol, k_core
from .runner import Evaluation, ModelSpec, evaluate, parse_model_spec, parse_model_specs
from .splits import (
    Split,
    kfold_user_splits,
    leave_k_out,
    ratio_split,
    strong_generalization_split,
)

__all__ = [
    "METRICS",
    "METRIC_LABELS",
    "PROTOCOLS",
    "SHORT_METRIC_LABELS",
    "Evaluation",
    "MetricAccumulator",
    "ModelSpec",
    "PreparedData",
    "Protocol",
    "Split",
    "evaluate",
    "evaluate_scores",
    "get_protocol",
    "k_core",
    "kfold_user_splits",
    "leave_k_out",
    "parse_model_spec",
    "parse_model_specs",
    "ranking_metrics",
    "ratio_split",
    "strong_generalization_split",
]
