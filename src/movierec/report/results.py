"""Reading evaluation results: the JSON that ``movierec evaluate --json`` writes.

The file is ``{"protocol": {...}, "results": [{"model", "metric", "k", "mean", "std"}, ...]}``;
anything else is refused with a message that says what is wrong.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import MovieRecError

PREFERRED_K = 10
METRIC_NAMES = {
    "ndcg": "NDCG",
    "recall": "Recall",
    "precision": "Precision",
    "map": "MAP",
    "mrr": "MRR",
    "hit": "Hit rate",
    "coverage": "Coverage",
    "popularity_bias": "Popularity bias",
    "fit_seconds": "Fit time (s)",
}
CHART_METRICS = ("ndcg", "recall", "hit", "precision", "map", "mrr")
"""Metrics worth a bar chart (higher is better), when the protocol names no headline."""


@dataclass(frozen=True)
class EvaluationResults:
    """Evaluation results: the protocol (how they were measured) and one row per model,
    metric and cutoff ``k`` in ``table`` (columns ``model, metric, k, mean, std``)."""

    protocol: dict[str, Any]
    table: pd.DataFrame

    @staticmethod
    def label(metric: str, k: int | None) -> str:
        """``("ndcg", 10)`` → ``"NDCG@10"``."""
        name = METRIC_NAMES.get(metric.lower(), metric)
        return f"{name}@{k}" if k is not None else name

    def runs(self) -> int | None:
        """How many runs (seeds × folds) each mean is over: the file's ``runs``, else worked
        out from its ``seeds`` (and ``n_folds`` for k-fold); None when it does not say."""
        runs = self.protocol.get("runs")
        if isinstance(runs, int) and not isinstance(runs, bool) and runs > 0:
            return runs
        seeds = self.protocol.get("seeds")
        if not isinstance(seeds, list) or not seeds:
            return None
        folds = self.protocol.get("n_folds") if self.protocol.get("split") == "kfold" else 1
        return len(seeds) * folds if isinstance(folds, int) and folds > 0 else None

    def spread(self) -> str:
        """What the numbers are over, for titles: ``one run, seed 42`` or ``mean ± std over 3
        runs`` (``mean ± std`` when the file does not say)."""
        runs = self.runs()
        if runs == 1:
            seeds = self.protocol.get("seeds") or []
            return f"one run, seed {seeds[0]}" if len(seeds) == 1 else "one run"
        return f"mean ± std over {runs} runs" if runs else "mean ± std"

    def where(self) -> str:
        """The dataset and protocol the results come from (``ml-1m, protocol recbole``), or
        ``""`` when the file does not say."""
        named = [str(self.protocol[key]) for key in ("dataset", "name") if self.protocol.get(key)]
        return ", protocol ".join(named) if len(named) == 2 else "".join(named)

    def models(self) -> list[str]:
        """Models in the order the file lists them."""
        return list(dict.fromkeys(self.table["model"]))

    def metric_keys(self) -> list[tuple[str, int | None]]:
        """Distinct (metric, k) pairs: those at k = 10 first, then in file order."""
        keys = list(dict.fromkeys(zip(self.table["metric"], self.table["k"], strict=True)))
        keys = [(m, None if pd.isna(k) else int(k)) for m, k in keys]
        return sorted(keys, key=lambda key: key[1] != PREFERRED_K)

    def rows(self, metric: str, k: int | None) -> pd.DataFrame:
        """One metric@k's rows, indexed by model in :meth:`models` order (NaN where missing)."""
        same_k = self.table["k"].isna() if k is None else self.table["k"].eq(k).fillna(False)
        rows = self.table[(self.table["metric"] == metric) & same_k]
        return rows.drop_duplicates("model", keep="last").set_index("model").reindex(self.models())

    def chart_keys(self, limit: int = 4) -> list[tuple[str, int]]:
        """The metric@k pairs to plot: NDCG and Recall first, then the protocol's other
        ``headline`` metrics (or :data:`CHART_METRICS`), at k = 10 or else the smallest k."""
        keys = [(metric, k) for metric, k in self.metric_keys() if k is not None]
        if not keys:
            return []
        ks = {k for _, k in keys}
        k = PREFERRED_K if PREFERRED_K in ks else min(ks)
        headline = self.protocol.get("headline")
        wanted = list(headline) if isinstance(headline, list) and headline else list(CHART_METRICS)
        order = ["ndcg", "recall"] + [m for m in wanted if m not in ("ndcg", "recall")]
        present = {metric for metric, key_k in keys if key_k == k}
        return [(metric, k) for metric in order if metric in present][:limit]

    def rows_by_metric(self) -> tuple[list[str], list[list[str]]]:
        """A metric@k × models table of ``"mean ± std"`` strings (``"—"`` where missing, the
        mean alone for one run): the header (``metric`` then the models) and one row per
        metric@k."""
        models = self.models()
        one_run = self.runs() == 1
        rows = []
        for metric, k in self.metric_keys():
            found = self.rows(metric, k)
            cells = [
                "—"
                if pd.isna(r.mean)
                else f"{r.mean:.4f}"
                if pd.isna(r.std) or one_run
                else f"{r.mean:.4f} ± {r.std:.4f}"
                for r in found.itertuples()
            ]
            rows.append([self.label(metric, k), *cells])
        return ["metric", *models], rows


def _number(value: Any, where: str, field: str, optional: bool = False) -> float:
    if value is None and optional:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MovieRecError(f"{where}: {field!r} must be a finite number, not {value!r}")
    return float(value)


def parse_evaluation(data: Any, source: str = "the evaluation results") -> EvaluationResults:
    """Check and convert the decoded JSON of ``movierec evaluate --json``."""
    hint = "; pass the file `movierec evaluate --json` writes"
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise MovieRecError(f'{source} has no "results" list{hint}')
    protocol = data.get("protocol", {})
    if not isinstance(protocol, dict):
        raise MovieRecError(f'{source}: "protocol" must be an object{hint}')
    if not data["results"]:
        raise MovieRecError(f"{source} holds no results{hint}")
    rows = []
    for number, entry in enumerate(data["results"], start=1):
        where = f"{source}, result {number}"
        if not isinstance(entry, dict):
            raise MovieRecError(f"{where} is not an object{hint}")
        missing = [key for key in ("model", "metric", "mean") if key not in entry]
        if missing:
            raise MovieRecError(f"{where} lacks {', '.join(map(repr, missing))}{hint}")
        if not isinstance(entry["model"], str) or not isinstance(entry["metric"], str):
            raise MovieRecError(f"{where}: 'model' and 'metric' must be strings{hint}")
        k = entry.get("k")
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k <= 0):
            raise MovieRecError(f"{where}: 'k' must be a positive whole number, not {k!r}")
        rows.append(
            {
                "model": entry["model"],
                "metric": entry["metric"],
                "k": k,
                "mean": _number(entry["mean"], where, "mean"),
                "std": _number(entry.get("std"), where, "std", optional=True),
            }
        )
    table = pd.DataFrame(rows, columns=["model", "metric", "k", "mean", "std"])
    table["k"] = table["k"].astype("Int64")
    return EvaluationResults(protocol, table)


def read_evaluation(path: str | Path) -> EvaluationResults:
    """Read and check the results file written by ``movierec evaluate --json``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MovieRecError(f"cannot read --eval {path}: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MovieRecError(
            f"--eval {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "pass the file `movierec evaluate --json` writes"
        ) from None
    return parse_evaluation(data, f"--eval {path}")
