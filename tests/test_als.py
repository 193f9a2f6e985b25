"""ALS: trained by implicit, served by our exact NumPy fold-in and explanations."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movierec.models import ALS


def _matrix(seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((40, 25)) < 0.25) * rng.integers(3, 6, (40, 25))
    return sp.csr_matrix(dense.astype(np.float32))


def test_fold_in_matches_implicits_exact_user_solve() -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    matrix = _matrix()
    model = ALS(factors=8, regularization=0.5, alpha=2.0, iterations=5, seed=1).fit(matrix)
    reference = AlternatingLeastSquares(factors=8, regularization=0.5, alpha=2.0)
    reference.user_factors = model.user_factors.copy()
    reference.item_factors = model.item_factors.copy()
    rows = matrix[:5]
    expected = reference.recalculate_user(np.arange(5), rows)
    np.testing.assert_allclose(model.fold_in_factors(rows), expected, rtol=2e-3, atol=2e-4)


def test_same_seed_same_factors_other_seed_different() -> None:
    matrix = _matrix()
    first = ALS(factors=6, iterations=3, seed=7).fit(matrix).item_factors
    again = ALS(factors=6, iterations=3, seed=7).fit(matrix).item_factors
    other = ALS(factors=6, iterations=3, seed=8).fit(matrix).item_factors
    np.testing.assert_allclose(first, again, rtol=1e-4, atol=1e-5)
    assert not np.allclose(first, other)


def test_contributions_sum_to_the_fold_in_score() -> None:
    matrix = _matrix(1)
    model = ALS(factors=8, regularization=1.0, iterations=5).fit(matrix)
    row = matrix[3]
    items = np.arange(matrix.shape[1])
    parts = model.contributions(row, items)
    assert parts.shape == (row.nnz, len(items))
    np.testing.assert_allclose(
        parts.sum(axis=0), model.fold_in_scores(row)[0], rtol=1e-5, atol=1e-6
    )


def test_similar_items_never_include_the_item() -> None:
    model = ALS(factors=8, iterations=3).fit(_matrix())
    for item in range(25):
        indices, scores = model.similar_items(item, 24)
        assert item not in indices.tolist()
        assert np.all(np.diff(scores) <= 1e-7)


def test_state_round_trip_gives_the_same_scores() -> None:
    matrix = _matrix()
    model = ALS(factors=8, iterations=3).fit(matrix)
    restored = ALS(**model.get_params()).set_state(model.state())
    np.testing.assert_array_equal(
        restored.scores(np.arange(5), matrix[:5]), model.scores(np.arange(5), matrix[:5])
    )
