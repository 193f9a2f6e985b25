"""The one small interface every model implements, so models are interchangeable.

Models see only matrix indices (``user_index``, ``item_index``); the recommender converts ids.
Every ``user_items`` argument is a users × items CSR matrix of confidences.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp


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
