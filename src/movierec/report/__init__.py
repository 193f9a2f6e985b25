"""A self-contained HTML report of a dataset and its model: PNG charts and an ``index.html``.

>>> from movierec import load_dataset, Recommender
>>> from movierec.report import build_report
>>> ds = load_dataset("ml-latest-small")  # doctest: +SKIP
>>> build_report(ds, Recommender.train(ds), "report/").index  # doctest: +SKIP
PosixPath('report/index.html')
"""

from .build import DATA_CHARTS, EVALUATION_CHART, INDEX, Report, build_report, prepare_output
from .results import EvaluationResults, parse_evaluation, read_evaluation

__all__ = [
    "DATA_CHARTS",
    "EVALUATION_CHART",
    "INDEX",
    "EvaluationResults",
    "Report",
    "build_report",
    "parse_evaluation",
    "prepare_output",
    "read_evaluation",
]
