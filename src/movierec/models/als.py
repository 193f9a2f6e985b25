"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008), trained by the ``implicit`` library.

Training runs in ``implicit``'s native code (CPU, or CUDA with ``use_gpu``); scoring, fold-in and
explanations are exact NumPy on the learned factors, so a saved model serves without ``implicit``.
"""

from __future__ import annotations

import contextlib
import functools
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import MovieRecError
from .base import FactorModel, checked_fit, hyperparameter, hyperparameters
from .params import FACTORS, ITERATIONS, REGULARIZATION, SEED, Number, Switch

if TYPE_CHECKING:  # SciPy is imported where a fit needs it: answers need none
    import scipy.sparse as sp


class LeastSquaresFactorModel(FactorModel):
    """A factor model whose user factors, for fixed item factors ``y``, solve one linear
    system ``A x = Σ_j w_j y_j`` over the liked items ``j``, with the normal equations'
    ``A = YᵀY + λ_u I + Σ_j e_j y_j y_jᵀ``: fold-in is exact, and a score ``y_iᵀ x`` splits
    exactly into one part per liked item (:meth:`contributions`). Subclasses give the terms
    of their objective (:meth:`_terms`)."""

    @abstractmethod
    def _terms(self, liked: np.ndarray, values: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """One user's ridge penalty ``λ_u``, and for each liked item its extra weight ``e_j``
        in ``A`` and its weight ``w_j`` on the right-hand side."""

    def _system(self, liked: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One user's ``A`` (factors × factors) and weights ``w`` (one per liked item)."""
        penalty, extra, weights = self._terms(liked, values)
        chosen = self._items64[liked]
        a = self._gram + penalty * np.eye(self.factors)
        a += (chosen.T * extra) @ chosen
        return a, weights

    @functools.cached_property
    def _gram(self) -> np.ndarray:
        """``YᵀY`` of the item factors (float64)."""
        return self._items64.T @ self._items64

    def _fold_in_row(self, liked: np.ndarray, values: np.ndarray) -> np.ndarray:
        a, weights = self._system(liked, values)
        return np.linalg.solve(a, self._items64[liked].T @ weights)

    def contributions(self, user_items: sp.csr_matrix, item_indices: np.ndarray) -> np.ndarray:
        """Exact split of a folded-in user's scores: ``score_i = Σ_j w_j · y_iᵀ A⁻¹ y_j``."""
        import scipy.sparse as sp

        row = sp.csr_matrix(user_items)
        return self._split(row.indices, row.data, item_indices)

    def liked_contributions(
        self, liked: np.ndarray, weight: float, n_items: int, item_indices: np.ndarray
    ) -> np.ndarray:
        return self._split(liked, np.full(len(liked), weight, dtype=np.float32), item_indices)

    def _split(self, liked: np.ndarray, values: np.ndarray, item_indices: np.ndarray) -> np.ndarray:
        a, weights = self._system(liked, values)
        items = self._items64
        solved = np.linalg.solve(a, items[liked].T)  # A⁻¹ y_j, one column per liked item
        return (items[np.asarray(item_indices)] @ solved * weights).T


@hyperparameters
class ALS(LeastSquaresFactorModel):
    """Weighted matrix factorization: confidence ``c = alpha · value``, preference 1 for liked.

    Parameters mirror ``implicit.als.AlternatingLeastSquares``; ``seed`` makes fits repeatable.

    >>> import scipy.sparse as sp
    >>> user_items = sp.random(20, 10, density=0.3, format="csr", random_state=0)
    >>> ALS(factors=4, iterations=3).fit(user_items).item_factors.shape
    (10, 4)
    """

    name = "als"
    divergence_hint = "raise regularization (now {regularization:g}) or lower alpha (now {alpha:g})"

    factors: int = hyperparameter(64, FACTORS)
    regularization: float = hyperparameter(50.0, REGULARIZATION)
    alpha: float = hyperparameter(1.0, Number(low=0.0, above=True))
    iterations: int = hyperparameter(10, ITERATIONS)
    seed: int = hyperparameter(42, SEED)
    use_gpu: bool = hyperparameter(False, Switch())

    def describe(self) -> str:
        return (
            f"implicit's ALS ({self.factors} factors, λ = {self.regularization:g}, "
            f"α = {self.alpha:g}, {self.iterations} iterations)"
        )

    def _implicit_model(self) -> Any:
        kwargs = dict(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.seed,
        )
        if self.use_gpu:
            import implicit.gpu

            if not implicit.gpu.HAS_CUDA:
                raise MovieRecError(
                    "--gpu needs implicit's CUDA build and an NVIDIA GPU: "
                    "pip install 'movierec[gpu]' on a CUDA machine, or drop --gpu"
                )
            from implicit.gpu.als import AlternatingLeastSquares as GpuALS

            return GpuALS(**kwargs)
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(**kwargs, num_threads=0)

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> ALS:
        import implicit.cpu.als  # noqa: F401  (load its BLAS before limiting the thread pools)
        import scipy.sparse as sp
        from implicit.recommender_base import ModelFitError
        from threadpoolctl import threadpool_limits

        # implicit parallelizes over users itself; a multithreaded BLAS underneath only thrashes
        # (and implicit warns about it when the model is built), so BLAS runs single-threaded.
        with (
            threadpool_limits(limits=1, user_api="blas"),
            self.fitting(user_items, self.iterations) as step,
        ):
            model = self._implicit_model()
            # NaN factors: checked_fit refuses them, naming the likely cause.
            with contextlib.suppress(ModelFitError):
                model.fit(
                    sp.csr_matrix(user_items, dtype=np.float32),
                    show_progress=False,  # implicit's own tqdm bar: ours reports each iteration
                    callback=lambda *_: step.advance(),
                )
        if self.use_gpu:
            model = model.to_cpu()
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        return self

    def _terms(self, liked: np.ndarray, values: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Hu et al.'s normal equations: ``A = YᵀY + λI + Σ_j (c_j − 1) y_j y_jᵀ``, ``w = c``."""
        confidences = self.alpha * values.astype(np.float64)
        return self.regularization, confidences - 1.0, confidences
