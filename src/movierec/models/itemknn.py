"""Item-based k-nearest neighbours: a pruned item–item similarity, scores ``x·W``.

``W[j, i]`` is the similarity of item ``j`` to item ``i``, kept only for the ``neighbours`` items
``j`` most similar to each ``i`` (a column-wise top-k), so a user's score for ``i`` sums the
similarities of their liked items among ``i``'s neighbours: ``score_i = Σ_j x_j·W[j, i]``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..interactions import bm25_weight
from .base import (
    ItemItemModel,
    checked_fit,
    cosine_similarity_from_gram,
    gram,
    hyperparameter,
    hyperparameters,
)
from .params import SEED, Number, OneOf, Whole
from .ranking import top_n

SIMILARITIES = ("cosine", "bm25")


def prune_columns(similarity: np.ndarray, neighbours: int) -> sp.csr_matrix:
    """Keep the ``neighbours`` largest positive entries of each column (items × items CSR)."""
    n_items = similarity.shape[0]
    k = min(neighbours, n_items - 1)
    if k <= 0:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    rows = np.argpartition(-similarity, k - 1, axis=0)[:k]  # k × items: neighbours of each column
    cols = np.broadcast_to(np.arange(n_items), rows.shape)
    values = similarity[rows, cols]
    positive = values > 0
    pruned = sp.csr_matrix(
        (values[positive], (rows[positive], cols[positive])), shape=(n_items, n_items)
    )
    pruned.sort_indices()
    return pruned.astype(np.float32)


@hyperparameters
class ItemKNN(ItemItemModel[sp.csr_matrix]):
    """Item-kNN with ``"cosine"`` (shrunk: ``x_i·x_j / (‖x_i‖‖x_j‖ + shrink)``) or ``"bm25"``
    (dot products of BM25-weighted item vectors, as ``implicit``'s BM25Recommender) similarity.

    >>> import scipy.sparse as sp
    >>> model = ItemKNN(neighbours=2).fit(sp.csr_matrix([[1, 1, 0], [1, 1, 1], [0, 1, 1]]))
    >>> model.similar_items(0, 2)[0].tolist()
    [1, 2]
    """

    name = "itemknn"
    weighting = "binary"

    neighbours: int = hyperparameter(100, Whole(1, 1_000_000))
    shrink: float = hyperparameter(10.0, Number(low=0.0))
    similarity: str = hyperparameter("cosine", OneOf(SIMILARITIES))
    bm25_k1: float = hyperparameter(1.2, Number(low=0.0))
    bm25_b: float = hyperparameter(0.75, Number(0.0, 1.0))
    seed: int = hyperparameter(42, SEED)  # deterministic; kept so every model takes a seed

    def describe(self) -> str:
        similarity = "BM25" if self.similarity == "bm25" else self.similarity
        return f"item kNN ({similarity}, {self.neighbours} neighbours)"

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> ItemKNN:
        matrix = sp.csr_matrix(user_items, dtype=np.float32)
        with self.fitting(user_items):
            if self.similarity == "bm25":
                similarity = gram(bm25_weight(matrix, self.bm25_k1, self.bm25_b))
                np.fill_diagonal(similarity, 0.0)
            else:
                similarity = cosine_similarity_from_gram(gram(matrix), self.shrink)
            self.weights = prune_columns(similarity, self.neighbours)
        return self

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The kept neighbours of ``item_index`` (at most ``neighbours`` of them)."""
        column = self._weights()[:, item_index].toarray().ravel()
        best = top_n(np.where(column > 0, column, -np.inf), n, exclude=np.array([item_index]))
        return best, column[best]

    def state(self) -> dict[str, np.ndarray]:
        weights = self._weights()
        return {
            "data": weights.data,
            "indices": weights.indices,
            "indptr": weights.indptr,
            "shape": np.array(weights.shape),
        }

    def set_state(self, arrays: dict[str, np.ndarray]) -> ItemKNN:
        shape = tuple(int(v) for v in arrays["shape"])
        self.weights = sp.csr_matrix(
            (arrays["data"].astype(np.float32), arrays["indices"], arrays["indptr"]), shape=shape
        )
        return self
