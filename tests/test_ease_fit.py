"""The EASE-family fit's parts: each fast path computes what the plain formula says."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import movierec.models.base as base_module
from movierec.models.ease import (
    ease_weights,
    lowpass_filter,
    orthonormal_columns,
    regularized_inverse,
)


def ratings(n_users: int = 80, n_items: int = 30, seed: int = 0) -> sp.csr_matrix:
    """Skewed like real ratings: a few items most users rate, a long tail few do."""
    rng = np.random.default_rng(seed)
    popularity = 0.9 / (1 + np.arange(n_items)) ** 0.8
    dense = (rng.random((n_users, n_items)) < popularity).astype(np.float32)
    dense *= rng.integers(3, 6, size=dense.shape)  # ratings 3-5 as weights
    return sp.csr_matrix(dense[:, rng.permutation(n_items)])


@pytest.mark.parametrize("slowdown", [0.0, 2.0, 16.0, 1e9])  # all sparse, split, split, all BLAS
def test_gram_is_xtx_at_any_split_between_blas_and_sparse(slowdown: float, monkeypatch) -> None:
    matrix = ratings()
    monkeypatch.setattr(base_module, "SPARSE_SLOWDOWN", slowdown)
    monkeypatch.setattr(base_module, "DENSE_GRAM_RATIO", 1e12)  # never the all-sparse route
    monkeypatch.setattr(base_module, "GRAM_BLOCK_ENTRIES", 7 * matrix.shape[1])  # many blocks
    found = base_module.gram(matrix)
    expected = (matrix.T @ matrix).toarray()
    np.testing.assert_allclose(found, expected, rtol=1e-6)
    np.testing.assert_array_equal(found, found.T)
    assert found.dtype == np.float32 and found.flags.c_contiguous


def test_gram_head_size_weighs_blas_against_the_sparse_product(monkeypatch) -> None:
    counts = np.array([50, 3, 40, 1, 0, 20])
    assert base_module.gram_head_size(counts, n_users=100) == 3  # the three most rated
    monkeypatch.setattr(base_module, "SPARSE_SLOWDOWN", 0.0)
    assert base_module.gram_head_size(counts, n_users=100) == 0
    monkeypatch.setattr(base_module, "SPARSE_SLOWDOWN", 1e9)
    assert base_module.gram_head_size(counts, n_users=100) == 5  # an unrated item costs nothing


@pytest.mark.parametrize("order", ["C", "F"])
def test_symmetrize_lower_mirrors_the_lower_triangle_in_place(order: str) -> None:
    rng = np.random.default_rng(1)
    matrix = np.array(rng.standard_normal((11, 11)), dtype=np.float32, order=order)
    expected = np.tril(matrix) + np.tril(matrix, -1).T
    found = base_module.symmetrize_lower(matrix, block=4)  # strips that do not divide 11
    assert found is matrix
    np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize("order", ["C", "F"])
def test_regularized_inverse_is_the_inverse(order: str) -> None:
    matrix = ratings()
    gram_matrix = np.array((matrix.T @ matrix).toarray(), dtype=np.float32, order=order)
    penalty = np.linspace(1.0, 5.0, gram_matrix.shape[0])
    found = regularized_inverse(gram_matrix, penalty)
    expected = np.linalg.inv(gram_matrix.astype(np.float64) + np.diag(penalty))
    np.testing.assert_allclose(found, expected, rtol=1e-3, atol=1e-6)
    np.testing.assert_array_equal(found, found.T)
    assert found.flags.c_contiguous
    assert not np.shares_memory(found, gram_matrix)


def test_dlae_weights_follow_the_closed_form() -> None:
    matrix = ratings()
    gram_matrix = (matrix.T @ matrix).toarray().astype(np.float64)
    penalty = 7.0 + 0.4 / 0.6 * np.diag(gram_matrix)
    expected = np.eye(len(gram_matrix)) - np.linalg.inv(gram_matrix + np.diag(penalty)) * penalty
    found = ease_weights(gram_matrix.astype(np.float32), 7.0, dropout=0.4, zero_diagonal=False)
    np.testing.assert_allclose(found, expected, atol=1e-5)
    assert found.dtype == np.float32 and found.flags.c_contiguous


@pytest.mark.parametrize(
    "rank, noise",
    [(12, 0.0), (5, 0.0), (5, 1e-5)],  # independent, dependent, nearly dependent
)
def test_orthonormal_columns_are_an_orthonormal_basis_of_the_span(rank: int, noise: float) -> None:
    rng = np.random.default_rng(2)
    block = rng.standard_normal((200, rank)) @ rng.standard_normal((rank, 12))
    block += noise * rng.standard_normal(block.shape)
    block = (block * np.logspace(0, 2, 12)).astype(np.float32)  # columns of unequal scale
    basis = orthonormal_columns(block)
    assert basis.dtype == np.float32 and basis.shape == block.shape
    np.testing.assert_allclose(basis.T @ basis, np.eye(12), atol=1e-5)
    projected = basis @ (basis.T @ block)
    np.testing.assert_allclose(projected, block, atol=1e-4 * np.abs(block).max())


def test_a_lowpass_filter_wider_than_the_graph_still_fits() -> None:
    # 12 users and 40 items: the rank-32 filter's block (40 wide) has 12 independent columns.
    matrix = ratings(12, 40)
    gram_matrix = (matrix.T @ matrix).toarray().astype(np.float32)
    found = lowpass_filter(gram_matrix, 32)
    assert np.isfinite(found).all()


def householder_lowpass(gram_matrix: np.ndarray, rank: int, seed: int, sweeps: int) -> np.ndarray:
    """The filter as first written: the normalized matrix formed, a Householder QR each sweep."""
    root = np.sqrt(np.maximum(gram_matrix.sum(axis=1, dtype=np.float64), 1e-12))
    normalized = gram_matrix / root[:, None] / root[None, :]
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((len(root), min(len(root), rank + max(rank // 2, 8))))
    for _ in range(sweeps):
        basis, _ = np.linalg.qr(normalized @ basis)
    _, rotation = np.linalg.eigh(basis.T @ normalized @ basis)
    top = basis @ rotation[:, -rank:]
    lowpass = (top / root[:, None]) @ (top * root[:, None]).T
    np.fill_diagonal(lowpass, 0.0)
    return lowpass


@pytest.mark.parametrize("sweeps", [1, 2, 8])
def test_lowpass_filter_is_the_same_subspace_iteration(sweeps: int) -> None:
    # Few sweeps leave the subspace far from converged: only the same iterate matches.
    matrix = ratings(300, 60)
    gram_matrix = (matrix.T @ matrix).toarray()
    expected = householder_lowpass(gram_matrix, 8, seed=5, sweeps=sweeps)
    found = lowpass_filter(gram_matrix.astype(np.float32), 8, seed=5, sweeps=sweeps)
    assert found.dtype == np.float32
    np.testing.assert_allclose(found, expected, atol=2e-4 * np.abs(expected).max())


def test_a_fit_takes_one_blas_thread_while_other_work_fills_the_cores(monkeypatch) -> None:
    from threadpoolctl import threadpool_limits

    from movierec.models import ease

    monkeypatch.setattr(ease.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    with threadpool_limits(limits=2):
        monkeypatch.setattr(ease.os, "getloadavg", lambda: (0.3, 0.3, 0.3))
        assert ease.fit_threads() == 2
        monkeypatch.setattr(ease.os, "getloadavg", lambda: (1.6, 0.3, 0.3))
        assert ease.fit_threads() == 1
    with threadpool_limits(limits=1):  # a caller's limit holds, however quiet the machine
        monkeypatch.setattr(ease.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
        assert ease.fit_threads() == 1
        with ease.blas_threads(2):
            assert ease.blas_thread_count() == 1


def test_the_default_fit_is_the_same_on_one_thread_or_two() -> None:
    from threadpoolctl import threadpool_limits

    from movierec.models.ease import EASE

    matrix = ratings(300, 60)
    params = dict(regularization=50.0, dropout=0.4, zero_diagonal=False)
    params.update(user_weight_exponent=0.45, lowpass_rank=8, lowpass_weight=0.1)
    with threadpool_limits(limits=1):
        one = EASE(**params).fit(matrix).weights
    with threadpool_limits(limits=2):
        two = EASE(**params).fit(matrix).weights
    np.testing.assert_allclose(one, two, atol=1e-6)


def test_the_load_never_changes_a_fits_numbers(monkeypatch) -> None:
    """fit_threads follows the load, so only a part whose result is the same on any number
    of threads may follow it: a quiet and a busy machine give bit-identical weights."""
    from threadpoolctl import threadpool_limits

    from movierec.models import ease

    matrix = ratings(2000, 1000, seed=3)
    params = dict(regularization=50.0, dropout=0.4, zero_diagonal=False)
    params.update(user_weight_exponent=0.45, lowpass_rank=32, lowpass_weight=0.1)
    monkeypatch.setattr(ease.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    fits = []
    with threadpool_limits(limits=2):
        for load in (0.0, 9.0):  # two threads for the Gram, then one
            monkeypatch.setattr(ease.os, "getloadavg", lambda load=load: (load, load, load))
            fits.append(ease.EASE(**params).fit(matrix).weights)
    np.testing.assert_array_equal(fits[0], fits[1])
