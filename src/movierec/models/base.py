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
    """The dense items × items Gram matrix ``XᵀX`` (float32).

    For a catalogue a few percent dense (ML-1M), one symmetric BLAS product (``syrk``) on the
    dense users × items matrix, in blocks of users, beats scipy's single-threaded sparse product
    though it does far more arithmetic; for sparser data (``users·items²`` more than
    ``DENSE_GRAM_RATIO`` times ``Σ_u |I_u|²``) the sparse product wins.
    """
    from scipy.linalg import blas

    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    n_users, n_items = matrix.shape
    sparse_work = float(np.square(np.diff(matrix.indptr), dtype=np.float64).sum())
    if n_users * float(n_items) ** 2 > DENSE_GRAM_RATIO * max(sparse_work, 1.0):
        return np.asarray((matrix.T @ matrix).toarray(), dtype=np.float32)
    lower = np.zeros((n_items, n_items), dtype=np.float32, order="F")
    block = max(1, GRAM_BLOCK_ENTRIES // max(n_items, 1))
    for start in range(0, n_users, block):
        dense = matrix[start : start + block].toarray()
        # dense.T is Fortran-ordered: BLAS reads it without a copy.
        lower = blas.ssyrk(1.0, dense.T, beta=1.0, c=lower, trans=0, lower=1, overwrite_c=1)
    return symmetrize_lower(lower)


DENSE_GRAM_RATIO = 500.0
GRAM_BLOCK_ENTRIES = 32_000_000  # 128 MB of float32 per block of users


def symmetrize_lower(lower: np.ndarray) -> np.ndarray:
    """A symmetric matrix from the lower triangle LAPACK filled in (upper part ignored)."""
    return np.where(np.tri(lower.shape[0], dtype=bool), lower, lower.T)


def cosine_similarity_from_gram(gram_matrix: np.ndarray, shrinkage: float = 0.0) -> np.ndarray:
    """Item–item cosine ``G_ij / (‖x_i‖·‖x_j‖ + shrinkage)`` from a Gram matrix, zero diagonal."""
    norms = np.sqrt(np.maximum(np.diag(gram_matrix), 0.0))
    similarity = gram_matrix / (np.outer(norms, norms) + max(shrinkage, 1e-12))
    np.fill_diagonal(similarity, 0.0)
    return similarity.astype(np.float32)


class FactorModel:
    """What matrix-factorization models share: ``user_factors`` (users × factors) and
    ``item_factors`` (items × factors), their saved state, and similar items by the cosine of
    the item factors (normalized once and cached in ``_cache``)."""

    factors: int
    user_factors: np.ndarray | None
    item_factors: np.ndarray | None

    def _factors(self) -> tuple[np.ndarray, np.ndarray]:
        """The learned user and item factors, or the error that says to fit first."""
        return require_fitted(self.user_factors), require_fitted(self.item_factors)

    def state(self) -> dict[str, np.ndarray]:
        users, items = self._factors()
        return {"user_factors": users, "item_factors": items}

    def set_state(self, arrays: dict[str, np.ndarray]) -> FactorModel:
        self.user_factors = np.asarray(arrays["user_factors"], dtype=np.float32)
        self.item_factors = np.asarray(arrays["item_factors"], dtype=np.float32)
        if self.item_factors.shape[1] != self.factors:
            raise MovieRecError("the saved factors do not match the saved settings; retrain")
        self._cache: dict[str, np.ndarray] = {}
        return self

    def _normalized_items(self) -> np.ndarray:
        cache = self.__dict__.setdefault("_cache", {})
        if "normalized" not in cache:
            cache["normalized"] = normalized_rows(self._factors()[1])
        return cache["normalized"]

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` items whose factors point most nearly the same way (never the item)."""
        normalized = self._normalized_items()
        similarity = normalized @ normalized[item_index]
        best = top_n(similarity, n, exclude=np.array([item_index]))
        return best, similarity[best]

    def item_similarity(self, item_a: int, item_b: int) -> float:
        normalized = self._normalized_items()
        return float(normalized[item_a] @ normalized[item_b])
