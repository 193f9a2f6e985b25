"""Apache Spark MLlib's implicit-feedback ALS: trained on a Spark cluster (or ``local[N]``),
served here in NumPy, so a saved model answers without Spark or Java.

Spark minimizes, for confidences ``c_ui = 1 + α·r_ui`` (``r`` the weighted rating)::

    Σ_u Σ_i c_ui (p_ui − x_uᵀ y_i)²  +  λ (Σ_u n_u ‖x_u‖² + Σ_i n_i ‖y_i‖²)

with preference ``p = 1`` for a rated item, 0 otherwise, and ``n_u`` (``n_i``) the user's
(item's) number of ratings: λ grows with the rating count (ALS-WR), unlike ``implicit``'s one λ.
A new user's factors solve the same normal equations with the item factors fixed:
``(YᵀY + Σ_j α r_j y_j y_jᵀ + λ n I) x = Σ_j (1 + α r_j) y_j``; for a user seen in training
this gives back Spark's own factors (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MovieRecError
from .als import LeastSquaresFactorModel
from .base import Model, checked_fit, hyperparameter, hyperparameters
from .params import FACTORS, ITERATIONS, REGULARIZATION, SEED, Number, Switch, Whole

if TYPE_CHECKING:  # SciPy is imported where a fit needs it: answers need none
    import scipy.sparse as sp

FactorsOf = Callable[..., tuple[np.ndarray, np.ndarray]]
"""A Spark job that learns the user and item factors from a users × items matrix and a
:class:`SparkALS`'s parameters (``get_params()``): :func:`movierec.spark.als.fit_matrix`."""


@hyperparameters
class SparkALS(LeastSquaresFactorModel):
    """MLlib ALS with ``implicitPrefs=True``; the parameters are Spark's under movierec's names:
    ``factors`` (rank), ``regularization`` (regParam, scaled by each row's rating count),
    ``alpha``, ``iterations`` (maxIter), ``seed``, ``blocks`` (numUserBlocks = numItemBlocks;
    0: the cluster's default parallelism), ``nonnegative`` and ``checkpoint_interval``.

    Spark learns the factors (:func:`movierec.spark.engine.fit`, ``movierec train --engine
    spark``, which needs pyspark and Java: ``pip install 'movierec[spark]'``); this class holds
    them and answers from them, and imports no Spark.
    """

    name = "spark-als"
    weighting = "rating"
    divergence_hint = "raise regularization (now {regularization:g}) or lower alpha (now {alpha:g})"

    factors: int = hyperparameter(64, FACTORS)
    regularization: float = hyperparameter(0.1, REGULARIZATION)
    alpha: float = hyperparameter(1.0, Number(low=0.0))
    iterations: int = hyperparameter(10, ITERATIONS)
    seed: int = hyperparameter(42, SEED)
    blocks: int = hyperparameter(0, Whole(0, 100_000))
    nonnegative: bool = hyperparameter(False, Switch())
    checkpoint_interval: int = hyperparameter(10, Whole(1, 100_000))

    def describe(self) -> str:
        return (
            f"Spark MLlib ALS ({self.factors} factors, λ = {self.regularization:g} × ratings, "
            f"α = {self.alpha:g}, {self.iterations} iterations)"
        )

    @checked_fit
    def fit(
        self,
        user_items: sp.csr_matrix,
        show_progress: bool = False,
        factors_of: FactorsOf | None = None,
    ) -> SparkALS:
        """The factors the Spark job ``factors_of`` learns from ``user_items`` without its
        zeros (Spark counts only positive ratings towards λ's scale); MovieRecError without
        one: :func:`movierec.spark.engine.fit` passes it."""
        if factors_of is None:
            raise MovieRecError(
                "spark-als is trained by Spark: train it with --engine spark "
                "(in Python, movierec.spark.engine.fit)"
            )
        import scipy.sparse as sp

        matrix = sp.csr_matrix(user_items, dtype=np.float32)
        matrix.eliminate_zeros()
        with self.fitting(matrix) as step:
            step.update(status="Spark jobs running")
            self.user_factors, self.item_factors = factors_of(matrix, **self.get_params())
        return self

    def set_factors(self, user_factors: np.ndarray, item_factors: np.ndarray) -> SparkALS:
        """Take factors learned by Spark elsewhere (a job that read its own data), checked."""
        self.set_state({"user_factors": user_factors, "item_factors": item_factors})
        return self.check_state()

    def _terms(self, liked: np.ndarray, values: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Spark's normal equations for one user (module docstring)."""
        extra = self.alpha * np.abs(values.astype(np.float64))
        counted = int(np.count_nonzero(values > 0))
        return self.regularization * counted, extra, np.where(values > 0, 1.0 + extra, 0.0)

    def _fold_in_row(self, liked: np.ndarray, values: np.ndarray) -> np.ndarray:
        if not self.nonnegative:
            return super()._fold_in_row(liked, values)
        from scipy.linalg import cholesky, solve_triangular
        from scipy.optimize import nnls

        # Spark's NNLS minimizes xᵀAx − 2bᵀx over x ≥ 0, which is ‖Lᵀx − L⁻¹b‖² for A = LLᵀ.
        a, weights = self._system(liked, values)
        lower = cholesky(a, lower=True)
        target = solve_triangular(lower, self._items64[liked].T @ weights, lower=True)
        return nnls(lower.T, target)[0]

    def contributions(self, user_items: sp.csr_matrix, item_indices: np.ndarray) -> np.ndarray:
        if self.nonnegative:  # a constrained solve does not split over the liked items
            return Model.contributions(self, user_items, item_indices)
        return super().contributions(user_items, item_indices)

    def liked_contributions(
        self, liked: np.ndarray, weight: float, n_items: int, item_indices: np.ndarray
    ) -> np.ndarray:
        if self.nonnegative:
            return Model.liked_contributions(self, liked, weight, n_items, item_indices)
        return super().liked_contributions(liked, weight, n_items, item_indices)
