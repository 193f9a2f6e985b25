"""Bayesian Personalized Ranking (Rendle et al. 2009), trained by ``implicit``'s SGD.

``implicit`` learns ``factors`` user/item factors plus an item bias, stored as one extra column
(users' extra column is fixed at 1), so a score is one dot product. BPR has no closed-form
fold-in: a new user's factors maximize the same per-user objective with the item factors fixed,
the mean log-sigmoid of (liked − not liked) score differences minus the L2 penalty, by L-BFGS.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.sparse as sp

from ..errors import MovieRecError
from .base import Model, checked_fit, normalized_rows, require_fitted, top_n
from .params import FACTORS, ITERATIONS, REGULARIZATION, SEED, Number, Whole


class BPR(Model):
    """Matrix factorization trained on sampled (user, liked, not-liked) triples.

    ``num_threads=1`` (the default) makes fits repeatable bit for bit from ``seed``; more threads
    train faster with lock-free updates whose order, and so whose result, can vary.

    >>> import scipy.sparse as sp
    >>> matrix = sp.random(20, 10, density=0.3, format="csr", random_state=0)
    >>> model = BPR(factors=4, iterations=5).fit(matrix)
    >>> model.item_factors.shape  # 4 factors and the item bias
    (10, 5)
    """

    name = "bpr"
    weighting = "binary"
    constraints = {
        "factors": FACTORS,
        "learning_rate": Number(low=0.0, above=True),
        "regularization": REGULARIZATION,
        "iterations": ITERATIONS,
        "seed": SEED,
        "num_threads": Whole(0, 1024),
    }
    learned = ("user_factors", "item_factors")
    divergence_hint = (
        "lower learning_rate (now {learning_rate:g}) "
        "or raise regularization (now {regularization:g})"
    )

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        seed: int = 42,
        num_threads: int = 1,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.seed = seed
        self.num_threads = num_threads  # 0: all cores
        self.check_params()
        self.user_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None
        self._normalized: np.ndarray | None = None

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> BPR:
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        from implicit.recommender_base import ModelFitError
        from threadpoolctl import threadpool_limits

        binary = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
        binary.eliminate_zeros()
        binary.data[:] = 1.0
        with threadpool_limits(limits=1, user_api="blas"):
            model = BayesianPersonalizedRanking(
                factors=self.factors,
                learning_rate=self.learning_rate,
                regularization=self.regularization,
                iterations=self.iterations,
                num_threads=self.num_threads,
                random_state=self.seed,
            )
            # NaN factors: checked_fit refuses them, naming the likely cause.
            with contextlib.suppress(ModelFitError):
                model.fit(binary, show_progress=show_progress)
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self._normalized = None
        return self

    def _factors(self) -> tuple[np.ndarray, np.ndarray]:
        return require_fitted(self.user_factors), require_fitted(self.item_factors)

    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        users, items = self._factors()
        return users[np.asarray(user_indices)] @ items.T

    def fold_in_factors(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Each row's user factors (rows × factors+1, last column 1) with items fixed."""
        user_items = sp.csr_matrix(user_items)
        items = self._factors()[1].astype(np.float64)
        vectors, bias = items[:, :-1], items[:, -1]
        out = np.zeros((user_items.shape[0], items.shape[1]))
        out[:, -1] = 1.0
        for row in range(user_items.shape[0]):
            liked = user_items.indices[user_items.indptr[row] : user_items.indptr[row + 1]]
            if len(liked) == 0 or len(liked) == len(items):
                continue
            others = np.setdiff1d(np.arange(len(items)), liked)
            out[row, :-1] = self._fold_in_one(vectors, bias, liked, others)
        return out

    def _fold_in_one(
        self, vectors: np.ndarray, bias: np.ndarray, liked: np.ndarray, others: np.ndarray
    ) -> np.ndarray:
        pairs = len(liked) * len(others)

        def loss_and_gradient(user: np.ndarray) -> tuple[float, np.ndarray]:
            scores = vectors @ user + bias
            margins = scores[liked][:, np.newaxis] - scores[others][np.newaxis, :]
            loss = np.logaddexp(0.0, -margins).sum() / pairs
            weights = -np.exp(-np.logaddexp(0.0, margins)) / pairs  # d loss / d margin
            gradient = vectors[liked].T @ weights.sum(1) - vectors[others].T @ weights.sum(0)
            loss += 0.5 * self.regularization * user @ user
            return loss, gradient + self.regularization * user

        start = np.zeros(vectors.shape[1])
        from scipy.optimize import minimize  # slow to import; only fold-in needs it

        result = minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B")
        return result.x

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        return self.fold_in_factors(user_items) @ self._factors()[1].T.astype(np.float64)

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of item factors (without the bias column)."""
        if self._normalized is None:
            self._normalized = normalized_rows(self._factors()[1][:, :-1])
        similarity = self._normalized @ self._normalized[item_index]
        best = top_n(similarity, n, exclude=np.array([item_index]))
        return best, similarity[best]

    def item_similarity(self, item_a: int, item_b: int) -> float:
        if self._normalized is None:
            self._normalized = normalized_rows(self._factors()[1][:, :-1])
        return float(self._normalized[item_a] @ self._normalized[item_b])

    def state(self) -> dict[str, np.ndarray]:
        users, items = self._factors()
        return {"user_factors": users, "item_factors": items}

    def set_state(self, arrays: dict[str, np.ndarray]) -> BPR:
        users = np.asarray(arrays["user_factors"], dtype=np.float32)
        items = np.asarray(arrays["item_factors"], dtype=np.float32)
        if items.shape[1] != self.factors + 1 or users.shape[1] != self.factors + 1:
            raise MovieRecError("the saved factors do not match the saved settings; retrain")
        self.user_factors, self.item_factors, self._normalized = users, items, None
        return self
