"""The most-popular baseline: every user gets the items most users liked."""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MovieRecError
from .base import Model, checked_fit, hyperparameter, hyperparameters, require_fitted
from .params import SEED
from .ranking import top_n

if TYPE_CHECKING:  # SciPy is imported where a fit needs it: answers need none
    import scipy.sparse as sp


@hyperparameters
class MostPopular(Model):
    """Scores each item by how many training users have it; the same for every user.

    Liked items do not change the scores, so :meth:`contributions` is all zeros, and
    :meth:`similar_items` can only offer the most popular other items (similarity = the
    fraction of users who have them).

    >>> import scipy.sparse as sp
    >>> import scipy.sparse as sp
    >>> MostPopular().fit(sp.csr_matrix([[1, 0, 1], [1, 0, 0]])).counts.tolist()
    [2.0, 0.0, 1.0]
    """

    name = "pop"
    weighting = "binary"
    learned = ("counts",)

    seed: int = hyperparameter(42, SEED)  # deterministic; kept so every model takes a seed
    counts: np.ndarray | None = field(default=None, init=False)
    n_users: int = field(default=0, init=False)

    def describe(self) -> str:
        return "most popular (the same list for everyone)"

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> MostPopular:
        import scipy.sparse as sp

        matrix = sp.csr_matrix(user_items)
        matrix.eliminate_zeros()
        self.counts = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
        self.n_users = max(matrix.shape[0], 1)
        return self

    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        counts = require_fitted(self.counts)
        return np.tile(counts, (len(np.asarray(user_indices)), 1))

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        return np.tile(require_fitted(self.counts), (user_items.shape[0], 1))

    def liked_scores(self, liked: np.ndarray, weight: float, n_items: int) -> np.ndarray:
        return require_fitted(self.counts).copy()

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The most popular other items; their similarity is the share of users who have them."""
        counts = require_fitted(self.counts)
        best = top_n(counts, n, exclude=np.array([item_index]))
        return best, counts[best] / self.n_users

    def state(self) -> dict[str, np.ndarray]:
        return {"counts": require_fitted(self.counts), "n_users": np.array(self.n_users)}

    def set_state(self, arrays: dict[str, np.ndarray]) -> MostPopular:
        counts = np.asarray(arrays["counts"], dtype=np.float64)
        if counts.ndim != 1:
            raise MovieRecError("the saved popularity counts are not a vector; retrain")
        self.counts, self.n_users = counts, int(arrays["n_users"])
        return self
