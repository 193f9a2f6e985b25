"""What mutation testing found unguarded in :mod:`movierec.evaluation.metrics`
(``python bench/mutation.py metrics``): the refusals and their messages, popularity percentiles
of tiny catalogues, a catalogue of one movie, and popularity bias where a list has one slot."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.evaluation import metrics
from movierec.evaluation.metrics import NO_ITEM, evaluate_scores


def test_hits_are_booleans_and_an_empty_slot_is_never_one() -> None:
    relevant = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]]))
    hits = metrics.hits_matrix(np.array([[1, NO_ITEM, 2], [NO_ITEM, 2, 0]]), relevant)
    assert hits.dtype == bool
    assert hits.tolist() == [[True, False, False], [False, True, False]]


@pytest.mark.parametrize(
    ("ks", "n_relevant", "message"),
    [
        ([0, 2], [1], "every K must be within 1..4, got [0, 2]"),
        ([2, 5], [1], "every K must be within 1..4, got [2, 5]"),
        ([2], [0], "every evaluated user needs at least one relevant item"),
    ],
)
def test_ranking_metrics_refuse_what_they_cannot_measure(ks, n_relevant, message) -> None:
    hits = np.array([[True, False, True, False]])
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        metrics.ranking_metrics(hits, np.array(n_relevant), ks)


@pytest.mark.parametrize("ks", [[0, 3], []])
def test_an_accumulator_needs_a_k_of_at_least_one(ks: list[int]) -> None:
    message = f"K must be at least 1, got {ks}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        metrics.MetricAccumulator(ks, n_items=3, item_counts=np.ones(3))


@pytest.mark.parametrize(
    ("counts", "percentiles"),
    [([], []), ([7], [0.5]), ([1, 5], [0.0, 1.0]), ([5, 1, 5], [0.75, 0.0, 0.75])],
)
def test_popularity_percentiles_of_small_catalogues(counts, percentiles) -> None:
    assert metrics.popularity_percentiles(np.array(counts)).tolist() == percentiles


def test_a_catalogue_of_one_movie() -> None:
    # One movie, relevant to the one user, recommended in the first of two slots.
    one = sp.csr_matrix(np.ones((1, 1)))
    result = evaluate_scores(np.array([[0.3]]), sp.csr_matrix((1, 1)), one, [1, 2], np.array([4]))
    assert result[("precision", 2)] == 0.5
    assert result[("coverage", 1)] == result[("coverage", 2)] == 1.0
    assert result[("popularity_bias", 1)] == result[("popularity_bias", 2)] == 0.5


def test_popularity_bias_with_one_slot() -> None:
    # Percentiles [1, 0.5, 0.5, 0] (counts [10, 5, 5, 1]); the users' first items are 0 and 1.
    scores = np.array([[0.9, 0.8, 0.1, 0.0], [0.1, 0.9, 0.0, 0.8]])
    relevant = sp.csr_matrix(np.array([[0, 0, 1, 0], [0, 0, 1, 0]]))
    counts = np.array([10, 5, 5, 1])
    result = evaluate_scores(scores, sp.csr_matrix((2, 4)), relevant, [1, 2], counts)
    assert result[("popularity_bias", 1)] == pytest.approx(0.75)
    assert result[("popularity_bias", 2)] == pytest.approx((0.75 + 0.25) / 2)
