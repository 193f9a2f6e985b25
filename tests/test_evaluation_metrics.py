"""Ranking metrics: hand-computed cases, masking, ties, and properties over random inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.evaluation.metrics import (
    METRICS,
    NO_ITEM,
    MetricAccumulator,
    evaluate_scores,
    hits_matrix,
    popularity_percentiles,
    ranking_metrics,
    top_n,
)


def rows(*item_sets: list[int], n_items: int = 6) -> sp.csr_matrix:
    """A users × items 0/1 CSR matrix with the given items per user."""
    dense = np.zeros((len(item_sets), n_items), dtype=np.float32)
    for user, items in enumerate(item_sets):
        dense[user, items] = 1.0
    return sp.csr_matrix(dense)


def single(hits: list[int], n_relevant: int, k: int) -> dict[str, float]:
    values = ranking_metrics(np.array([hits], dtype=bool), np.array([n_relevant]), [k])
    return {name: float(per_k[0, 0]) for name, per_k in values.items()}


def test_one_hit_at_rank_two_of_three():
    # Items ranked 0,1,2,3,4,5 by score; item 0 is known (masked), so the top 3 is [1, 2, 3].
    # Relevant {2, 5}: one hit, at rank 2.
    # precision = 1/3; recall = 1/2; hit = 1; mrr = 1/2
    # DCG = 1/log2(3); IDCG over min(2, 3) = 2 items = 1 + 1/log2(3); ndcg = 0.6309/1.6309
    # AP@3 = (precision@2 · 1) / min(2, 3) = 0.5 / 2 = 0.25
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4]])
    result = evaluate_scores(scores, rows([0]), rows([2, 5]), [3], item_counts=np.ones(6))
    dcg = 1 / math.log2(3)
    assert result[("precision", 3)] == pytest.approx(1 / 3)
    assert result[("recall", 3)] == pytest.approx(1 / 2)
    assert result[("hit", 3)] == 1.0
    assert result[("mrr", 3)] == pytest.approx(1 / 2)
    assert result[("ndcg", 3)] == pytest.approx(dcg / (1 + dcg))
    assert result[("map", 3)] == pytest.approx(0.25)


def test_precision_divides_by_k_even_when_fewer_items_are_relevant():
    # One relevant item, found first, K = 5: precision 1/5 (implicit's precision_at_k says 1).
    metrics = single([1, 0, 0, 0, 0], n_relevant=1, k=5)
    assert metrics["precision"] == pytest.approx(0.2)
    assert metrics["recall"] == metrics["ndcg"] == metrics["map"] == metrics["mrr"] == 1.0


def test_two_hits_in_three_of_three_relevant():
    # hits at ranks 1 and 3, |T| = 3, K = 3.
    # DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) + 1/log2(4) = 2.1309
    # AP = (P@1 + P@3) / 3 = (1 + 2/3) / 3 = 5/9
    metrics = single([1, 0, 1], n_relevant=3, k=3)
    assert metrics["ndcg"] == pytest.approx(1.5 / (1.5 + 1 / math.log2(3)))
    assert metrics["map"] == pytest.approx(5 / 9)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["mrr"] == 1.0


def test_ideal_dcg_is_over_at_most_k_items():
    # |T| = 4 > K = 2 and both slots hit: a perfect top 2. ndcg 1, map 1, recall 2/4.
    metrics = single([1, 1], n_relevant=4, k=2)
    assert metrics["ndcg"] == pytest.approx(1.0)
    assert metrics["map"] == pytest.approx(1.0)
    assert metrics["recall"] == pytest.approx(0.5)


def test_no_hit_scores_zero_everywhere():
    metrics = single([0, 0, 0], n_relevant=2, k=3)
    assert all(value == 0.0 for value in metrics.values())


def test_metrics_at_several_k_come_from_one_ranking():
    # hits [0, 1, 0, 1], |T| = 2: @1 nothing; @2 one hit at rank 2; @4 both.
    values = ranking_metrics(np.array([[0, 1, 0, 1]], dtype=bool), np.array([2]), [1, 2, 4])
    assert values["hit"][:, 0].tolist() == [0.0, 1.0, 1.0]
    assert values["precision"][:, 0].tolist() == pytest.approx([0.0, 0.5, 0.5])
    assert values["recall"][:, 0].tolist() == pytest.approx([0.0, 0.5, 1.0])
    # MRR@4 = 1/2; MAP@4 = (P@2 + P@4) / min(2, 4) = (1/2 + 2/4) / 2 = 0.5
    assert values["mrr"][2, 0] == pytest.approx(0.5)
    assert values["map"][2, 0] == pytest.approx(0.5)


def test_each_k_has_its_own_ideal_dcg_and_map_denominator():
    # hits [0, 1, 0, 1], |T| = 3, K = 1, 2, 4 at once (as `evaluate --plot` measures them).
    # IDCG@K sums min(|T|, K) discounts: @1 one, @2 two, @4 three — never the largest K's.
    # @1: no hit → ndcg 0, map 0
    # @2: DCG = 1/log2(3); IDCG = 1 + 1/log2(3); AP = P@2 / min(3, 2) = (1/2) / 2
    # @4: DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4); AP = (1/2 + 2/4) / 3
    d2, d3, d4 = 1 / math.log2(3), 1 / math.log2(4), 1 / math.log2(5)
    values = ranking_metrics(np.array([[0, 1, 0, 1]], dtype=bool), np.array([3]), [1, 2, 4])
    assert values["ndcg"][:, 0].tolist() == pytest.approx(
        [0.0, d2 / (1 + d2), (d2 + d4) / (1 + d2 + d3)]
    )
    assert values["map"][:, 0].tolist() == pytest.approx([0.0, 0.25, 1 / 3])
    assert values["recall"][:, 0].tolist() == pytest.approx([0.0, 1 / 3, 2 / 3])
    assert values["mrr"][:, 0].tolist() == pytest.approx([0.0, 0.5, 0.5])


def test_metrics_at_several_k_equal_metrics_at_each_k_alone():
    rng = np.random.default_rng(11)
    hits = rng.random((40, 20)) < 0.3
    n_relevant = rng.integers(1, 25, 40)
    together = ranking_metrics(hits, n_relevant, [1, 3, 5, 10, 20])
    for row, k in enumerate([1, 3, 5, 10, 20]):
        alone = ranking_metrics(hits[:, :k], n_relevant, [k])
        for name in alone:
            assert together[name][row].tolist() == pytest.approx(alone[name][0].tolist()), (
                name,
                k,
            )


def test_known_items_are_never_recommended():
    scores = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    assert top_n(scores, 3, exclude=rows([0, 2])).tolist() == [[1, 3, 4]]


def test_ties_go_to_the_lower_item_index():
    scores = np.array([[1.0, 2.0, 2.0, 2.0, 0.0, 2.0]])
    assert top_n(scores, 3, exclude=rows([])).tolist() == [[1, 2, 3]]


def test_empty_slots_when_fewer_items_remain_than_k():
    # Only items 4 and 5 are unmasked; K = 4 leaves two empty slots, and precision still / K.
    scores = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    known = rows([0, 1, 2, 3])
    assert top_n(scores, 4, exclude=known).tolist() == [[5, 4, NO_ITEM, NO_ITEM]]
    result = evaluate_scores(scores, known, rows([4]), [4], item_counts=np.ones(6))
    assert result[("precision", 4)] == pytest.approx(1 / 4)
    assert result[("recall", 4)] == 1.0
    assert result[("coverage", 4)] == pytest.approx(2 / 6)


def test_k_longer_than_the_catalog_pads_with_empty_slots():
    scores = np.array([[0.3, 0.2, 0.1]])
    assert top_n(scores, 5, exclude=rows([], n_items=3)).tolist() == [[0, 1, 2, NO_ITEM, NO_ITEM]]


def test_coverage_and_popularity_bias_by_hand():
    # Popularity counts [10, 5, 5, 1] → average ranks [4, 2.5, 2.5, 1] → percentiles
    # [1, 0.5, 0.5, 0]. User A gets {0, 1} (mean 0.75), user B {0, 3} (mean 0.5):
    # popularity bias (0.75 + 0.5) / 2 = 0.625; coverage 3 of 4 items.
    scores = np.array([[0.9, 0.8, 0.1, 0.0], [0.9, 0.0, 0.1, 0.8]])
    relevant = rows([2], [2], n_items=4)
    result = evaluate_scores(
        scores, rows([], [], n_items=4), relevant, [2], item_counts=np.array([10, 5, 5, 1])
    )
    assert result[("coverage", 2)] == pytest.approx(0.75)
    assert result[("popularity_bias", 2)] == pytest.approx(0.625)


def test_equal_popularity_is_neutral():
    assert popularity_percentiles(np.array([3, 3, 3])).tolist() == [0.5, 0.5, 0.5]


def test_users_without_relevant_items_are_left_out_of_the_means():
    scores = np.array([[0.9, 0.1], [0.9, 0.1]])
    result = evaluate_scores(
        scores, rows([], [], n_items=2), rows([0], [], n_items=2), [1], item_counts=np.ones(2)
    )
    assert result[("precision", 1)] == 1.0


def test_batches_do_not_change_the_result():
    rng = np.random.default_rng(3)
    scores = rng.random((50, 30))
    known = sp.csr_matrix(rng.random((50, 30)) < 0.2)
    relevant = sp.csr_matrix((rng.random((50, 30)) < 0.2) & ~known.toarray())
    counts = rng.integers(0, 10, 30)
    one = evaluate_scores(scores, known, relevant, [5, 10], counts, batch_size=1000)
    many = evaluate_scores(scores, known, relevant, [5, 10], counts, batch_size=7)
    assert one.keys() == many.keys()
    for key in one:
        assert one[key] == pytest.approx(many[key])


def reference_metrics(scores, known, relevant, k):
    """A slow, obvious per-user implementation of the same definitions."""
    totals = dict.fromkeys(("precision", "recall", "ndcg", "map", "hit", "mrr"), 0.0)
    users = 0
    for user in range(scores.shape[0]):
        targets = set(np.flatnonzero(relevant[user]))
        if not targets:
            continue
        users += 1
        masked = set(np.flatnonzero(known[user]))
        ranking = sorted(
            (i for i in range(scores.shape[1]) if i not in masked),
            key=lambda i: (-scores[user, i], i),
        )[:k]
        gains = [1.0 if item in targets else 0.0 for item in ranking]
        found = sum(gains)
        totals["precision"] += found / k
        totals["recall"] += found / len(targets)
        totals["hit"] += float(found > 0)
        first = next((rank for rank, gain in enumerate(gains, 1) if gain), None)
        totals["mrr"] += 1 / first if first else 0.0
        dcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1))
        ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(targets), k) + 1))
        totals["ndcg"] += dcg / ideal
        precisions = [sum(gains[:rank]) / rank for rank in range(1, len(gains) + 1)]
        totals["map"] += sum(p * g for p, g in zip(precisions, gains)) / min(len(targets), k)
    return {name: total / max(users, 1) for name, total in totals.items()}


@st.composite
def ranking_problems(draw):
    n_users = draw(st.integers(1, 8))
    n_items = draw(st.integers(2, 15))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    # few distinct values so ties happen
    scores = rng.integers(0, 4, (n_users, n_items)).astype(np.float64)
    known = rng.random((n_users, n_items)) < draw(st.floats(0.0, 0.6))
    relevant = (rng.random((n_users, n_items)) < draw(st.floats(0.05, 0.6))) & ~known
    k = draw(st.integers(1, n_items + 2))
    return scores, known, relevant, k


@settings(max_examples=150, deadline=None)
@given(ranking_problems())
def test_metrics_match_the_per_user_reference_and_stay_in_unit_interval(problem):
    scores, known, relevant, k = problem
    counts = np.arange(scores.shape[1])
    result = evaluate_scores(scores, sp.csr_matrix(known), sp.csr_matrix(relevant), [k], counts)
    assert set(name for name, _ in result) == set(METRICS)
    for value in result.values():
        assert 0.0 <= value <= 1.0 + 1e-12
    expected = reference_metrics(scores, known, relevant, k)
    for name, value in expected.items():
        assert result[(name, k)] == pytest.approx(value, abs=1e-9), name


@settings(max_examples=100, deadline=None)
@given(ranking_problems(), st.lists(st.integers(1, 17), min_size=2, max_size=5, unique=True))
def test_every_k_of_one_run_matches_the_reference_at_that_k(problem, ks):
    # evaluate --plot measures extra K alongside the reported one: each must be exact.
    scores, known, relevant, _ = problem
    counts = np.arange(scores.shape[1])
    result = evaluate_scores(scores, sp.csr_matrix(known), sp.csr_matrix(relevant), ks, counts)
    for k in ks:
        expected = reference_metrics(scores, known, relevant, k)
        for name, value in expected.items():
            assert result[(name, k)] == pytest.approx(value, abs=1e-9), (name, k, ks)
        alone = evaluate_scores(scores, sp.csr_matrix(known), sp.csr_matrix(relevant), [k], counts)
        for name in ("coverage", "popularity_bias"):
            assert result[(name, k)] == pytest.approx(alone[(name, k)], abs=1e-12), (name, k)


@settings(max_examples=50, deadline=None)
@given(ranking_problems())
def test_recommendations_never_contain_known_items(problem):
    scores, known, _, k = problem
    recommended = top_n(scores, k, exclude=sp.csr_matrix(known))
    for user, items in enumerate(recommended):
        items = items[items != NO_ITEM]
        assert not known[user, items].any()
        assert len(set(items.tolist())) == len(items)


def test_hits_matrix_ignores_empty_slots():
    hits = hits_matrix(np.array([[2, NO_ITEM]]), rows([2], n_items=3))
    assert hits.tolist() == [[True, False]]


def test_accumulator_rejects_k_below_one():
    with pytest.raises(ValueError):
        MetricAccumulator([0], 3, np.ones(3))
