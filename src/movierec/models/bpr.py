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

from .base import FactorModel, checked_fit, hyperparameter, hyperparameters
from .params import FACTORS, ITERATIONS, REGULARIZATION, SEED, Number, Whole


@hyperparameters
class BPR(FactorModel):
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
    item_bias = True
    divergence_hint = (
        "lower learning_rate (now {learning_rate:g}) "
        "or raise regularization (now {regularization:g})"
    )

    factors: int = hyperparameter(64, FACTORS)
    learning_rate: float = hyperparameter(0.01, Number(low=0.0, above=True))
    regularization: float = hyperparameter(0.01, REGULARIZATION)
    iterations: int = hyperparameter(100, ITERATIONS)
    seed: int = hyperparameter(42, SEED)
    num_threads: int = hyperparameter(1, Whole(0, 1024))  # 0: all cores

    def describe(self) -> str:
        return (
            f"implicit's BPR ({self.factors} factors, learning rate {self.learning_rate:g}, "
            f"{self.iterations} iterations)"
        )

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> BPR:
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        from implicit.recommender_base import ModelFitError
        from threadpoolctl import threadpool_limits

        binary = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
        binary.eliminate_zeros()
        binary.data[:] = 1.0
        with (
            threadpool_limits(limits=1, user_api="blas"),
            self.fitting(user_items, self.iterations) as step,
        ):
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
                model.fit(binary, show_progress=False, callback=lambda *_: step.advance())
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        return self

    def _fold_in_row(self, liked: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The user's factors (last column 1) for the liked items, whatever their values."""
        items = self._items64
        if len(liked) == len(items):  # nothing to rank below the liked items
            return self._blank_user()
        others = np.setdiff1d(np.arange(len(items)), liked)
        user = self._blank_user()
        user[:-1] = self._fold_in_one(items[:, :-1], items[:, -1], liked, others)
        return user

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
