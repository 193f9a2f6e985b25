"""The one small interface every model implements, so models are interchangeable.

Models see only matrix indices (``user_index``, ``item_index``); the recommender converts ids.
Every ``user_items`` argument is a users × items CSR matrix of confidences.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from ..errors import MovieRecError


class Model(ABC):
    """Hyperparameters in ``__init__``, learned state set by :meth:`fit`, no I/O."""

    name: ClassVar[str]

    @abstractmethod
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> Model:
        """Learn from a users × items confidence matrix; returns self."""

    @abstractmethod
    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        """Scores (len(user_indices) × items) for users seen in training.

        ``user_items`` holds those users' rows (what they liked), for models that need it.
        """

    @abstractmethod
    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Scores for users not seen in training, from their rows alone, without retraining."""

    @abstractmethod
    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` items most similar to ``item_index`` (never itself) and their similarity."""

    def contributions(self, user_items: sp.csr_matrix, item_indices: np.ndarray) -> np.ndarray:
        """How much each liked item of a one-row ``user_items`` adds to each item's score
        (liked × len(item_indices)). The default is item-item similarity."""
        liked = user_items.indices
        return np.array(
            [[self.item_similarity(j, i) for i in item_indices] for j in liked], dtype=np.float32
        )

    def item_similarity(self, item_a: int, item_b: int) -> float:
        """Similarity of two items (used by the default :meth:`contributions`)."""
        return 0.0

    @abstractmethod
    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, as ``__init__`` takes them."""

    @abstractmethod
    def state(self) -> dict[str, np.ndarray]:
        """Learned arrays, for saving without pickle."""

    @abstractmethod
    def set_state(self, arrays: dict[str, np.ndarray]) -> Model:
        """Restore learned arrays saved by :meth:`state`; returns self."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def top_n(scores: np.ndarray, n: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``n`` highest scores, best first, skipping ``exclude``."""
    scores = np.asarray(scores, dtype=np.float64).copy()
    if exclude is not None and len(exclude):
        scores[np.asarray(exclude)] = -np.inf
    n = min(n, int(np.isfinite(scores).sum()))
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    best = np.argpartition(-scores, n - 1)[:n]
    return best[np.argsort(-scores[best], kind="stable")]


def normalized_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def require_fitted(value: np.ndarray | None) -> np.ndarray:
    """The learned array, or the error that says to fit first."""
    if value is None:
        raise MovieRecError("the model is not trained yet; call fit() first")
    return value


def gram(user_items: sp.csr_matrix) -> np.ndarray:
    """The dense items × items Gram matrix ``XᵀX`` (float32), by one symmetric BLAS product.

    A dense ``syrk`` on the users × items matrix beats scipy's single-threaded sparse product
    for MovieLens-sized catalogues (a few thousand items, a few percent dense).
    """
    from scipy.linalg import blas

    dense = sp.csr_matrix(user_items, dtype=np.float32).toarray()
    # dense.T is Fortran-ordered: BLAS reads it without a copy.
    return symmetrize_lower(blas.ssyrk(1.0, dense.T, trans=0, lower=1))


def symmetrize_lower(lower: np.ndarray) -> np.ndarray:
    """A symmetric matrix from the lower triangle LAPACK filled in (upper part ignored)."""
    return np.where(np.tri(lower.shape[0], dtype=bool), lower, lower.T)


def cosine_similarity_from_gram(gram_matrix: np.ndarray, shrinkage: float = 0.0) -> np.ndarray:
    """Item–item cosine ``G_ij / (‖x_i‖·‖x_j‖ + shrinkage)`` from a Gram matrix, zero diagonal."""
    norms = np.sqrt(np.maximum(np.diag(gram_matrix), 0.0))
    similarity = gram_matrix / (np.outer(norms, norms) + max(shrinkage, 1e-12))
    np.fill_diagonal(similarity, 0.0)
    return similarity.astype(np.float32)
