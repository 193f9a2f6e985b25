"""EASE (Steck 2019): a closed-form item–item linear autoencoder with a zero diagonal.

``B = I − P·diag(1/diag(P))`` with ``P = (XᵀX + λI)⁻¹``; a user's scores are ``x·B``. Fitting is
one Gram matrix and one Cholesky inverse on the items × items matrix (a second or two for the
~3,700 movies of ML-1M); fold-in of a new user is a sparse row times ``B``, and explanations
are exact: ``score_i = Σ_j x_j·B_ji``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from ..errors import MovieRecError
from .base import Model, gram, require_fitted, symmetrize_lower, top_n


def ease_weights(gram_matrix: np.ndarray, regularization: float) -> np.ndarray:
    """The EASE weights ``B`` (items × items, float32, zero diagonal) from ``XᵀX``."""
    system = np.array(gram_matrix, dtype=np.float32, order="F")
    system[np.diag_indices_from(system)] += np.float32(regularization)
    factor, info = lapack.spotrf(system, lower=1, overwrite_a=1)
    if info != 0:
        raise MovieRecError(
            f"EASE's system is not positive definite (LAPACK info {info}); raise regularization"
        )
    inverse, info = lapack.spotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise MovieRecError(f"EASE's inverse failed (LAPACK info {info}); raise regularization")
    precision = symmetrize_lower(inverse)
    weights = precision / -np.diag(precision)[np.newaxis, :]
    np.fill_diagonal(weights, 0.0)
    return np.ascontiguousarray(weights, dtype=np.float32)


def user_weighted(user_items: sp.csr_matrix, exponent: float) -> sp.csr_matrix:
    """Rows scaled by ``(items in the row)^(−exponent/2)``, so each user's share of the Gram
    matrix ``XᵀX`` is weighted by ``|I_u|^(−exponent)`` (0: unweighted, as in the paper)."""
    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    if exponent == 0:
        return matrix
    counts = np.maximum(np.diff(matrix.indptr), 1).astype(np.float64)
    return sp.csr_matrix(sp.diags((counts ** (-exponent / 2)).astype(np.float32)) @ matrix)


class EASE(Model):
    """Embarrassingly shallow autoencoder; ``regularization`` is λ on ``‖B‖²``.

    ``user_weight_exponent`` γ weighs each user's squared error by ``|I_u|^(−γ)`` when learning
    ``B``, so heavy users (a few hundred movies each) stop dominating the item–item statistics;
    scoring is unchanged (``x·B``).

    >>> import scipy.sparse as sp
    >>> model = EASE(regularization=10.0).fit(sp.random(30, 8, 0.4, format="csr", random_state=0))
    >>> model.weights.shape, float(abs(model.weights.diagonal()).max())
    ((8, 8), 0.0)
    """

    name = "ease"
    weighting = "binary"

    def __init__(
        self, regularization: float = 500.0, user_weight_exponent: float = 0.0, seed: int = 42
    ) -> None:
        self.regularization = float(regularization)
        self.user_weight_exponent = float(user_weight_exponent)
        self.seed = int(seed)  # EASE is deterministic; kept so every model takes a seed
        self.weights: np.ndarray | None = None

    def get_params(self) -> dict[str, Any]:
        return {
            "regularization": self.regularization,
            "user_weight_exponent": self.user_weight_exponent,
            "seed": self.seed,
        }

    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> EASE:
        self.weights = ease_weights(
            gram(user_weighted(user_items, self.user_weight_exponent)), self.regularization
        )
        return self

    def _weights(self) -> np.ndarray:
        return require_fitted(self.weights)

    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return self.fold_in_scores(user_items)

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        return np.asarray(sp.csr_matrix(user_items, dtype=np.float32) @ self._weights())

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Items whose liking is best predicted by liking ``item_index``: row ``B[item, :]``."""
        row = self._weights()[item_index]
        best = top_n(row, n, exclude=np.array([item_index]))
        return best, row[best]

    def item_similarity(self, item_a: int, item_b: int) -> float:
        return float(self._weights()[item_a, item_b])

    def contributions(self, user_items: sp.csr_matrix, item_indices: np.ndarray) -> np.ndarray:
        """Exact: entry ``[j, k]`` is ``x_j·B[j, item_k]``; columns sum to the fold-in scores."""
        row = sp.csr_matrix(user_items)
        weights = self._weights()[row.indices][:, np.asarray(item_indices)]
        return weights * row.data[:, np.newaxis].astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {"weights": self._weights()}

    def set_state(self, arrays: dict[str, np.ndarray]) -> EASE:
        weights = np.asarray(arrays["weights"], dtype=np.float32)
        if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
            raise MovieRecError("the saved EASE weights are not square; retrain")
        self.weights = weights
        return self
