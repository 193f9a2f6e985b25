"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008), trained by the ``implicit`` library.

Training runs in ``implicit``'s native code (CPU, or CUDA with ``use_gpu``); scoring, fold-in and
explanations are exact NumPy on the learned factors, so a saved model serves without ``implicit``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import MovieRecError
from .base import FactorModel, checked_fit
from .params import FACTORS, ITERATIONS, REGULARIZATION, SEED, Number, Switch


class ALS(FactorModel):
    """Weighted matrix factorization: confidence ``c = alpha · value``, preference 1 for liked.

    Parameters mirror ``implicit.als.AlternatingLeastSquares``; ``seed`` makes fits repeatable.

    >>> import scipy.sparse as sp
    >>> user_items = sp.random(20, 10, density=0.3, format="csr", random_state=0)
    >>> ALS(factors=4, iterations=3).fit(user_items).item_factors.shape
    (10, 4)
    """

    name = "als"

    constraints = {
        "factors": FACTORS,
        "regularization": REGULARIZATION,
        "alpha": Number(low=0.0, above=True),
        "iterations": ITERATIONS,
        "seed": SEED,
        "use_gpu": Switch(),
    }
    divergence_hint = "raise regularization (now {regularization:g}) or lower alpha (now {alpha:g})"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 50.0,
        alpha: float = 1.0,
        iterations: int = 10,
        seed: int = 42,
        use_gpu: bool = False,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self.use_gpu = use_gpu
        self.check_params()
        self.user_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None

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
        from implicit.recommender_base import ModelFitError
        from threadpoolctl import threadpool_limits

        # implicit parallelizes over users itself; a multithreaded BLAS underneath only thrashes
        # (and implicit warns about it when the model is built), so BLAS runs single-threaded.
        with threadpool_limits(limits=1, user_api="blas"):
            model = self._implicit_model()
            # NaN factors: checked_fit refuses them, naming the likely cause.
            with contextlib.suppress(ModelFitError):
                model.fit(sp.csr_matrix(user_items, dtype=np.float32), show_progress=show_progress)
        if self.use_gpu:
            model = model.to_cpu()
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self._cache: dict[str, np.ndarray] = {}
        return self

    def _items64(self) -> np.ndarray:
        """Item factors in float64, for exact solves (cached: they change only in fit)."""
        cache = self.__dict__.setdefault("_cache", {})
        if "items64" not in cache:
            cache["items64"] = self._factors()[1].astype(np.float64)
        return cache["items64"]

    def _gram(self) -> np.ndarray:
        cache = self.__dict__.setdefault("_cache", {})
        if "gram" not in cache:
            items = self._items64()
            cache["gram"] = items.T @ items
        return cache["gram"]

    def _system(
        self, row_items: np.ndarray, row_values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The normal equations ``A x = b`` of one user's least-squares problem."""
        liked = self._items64()[row_items]
        confidences = self.alpha * row_values.astype(np.float64)
        a = self._gram() + self.regularization * np.eye(self.factors)
        a += (liked.T * (confidences - 1.0)) @ liked
        b = liked.T @ confidences
        return a, b

    def fold_in_factors(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Solve each row's user factors exactly from the fixed item factors (no retraining)."""
        user_items = sp.csr_matrix(user_items)
        out = np.zeros((user_items.shape[0], self.factors), dtype=np.float64)
        for row in range(user_items.shape[0]):
            start, end = user_items.indptr[row], user_items.indptr[row + 1]
            if start == end:
                continue
            a, b = self._system(user_items.indices[start:end], user_items.data[start:end])
            out[row] = np.linalg.solve(a, b)
        return out

    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        users, items = self._factors()
        return users[np.asarray(user_indices)] @ items.T

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        return self.fold_in_factors(user_items) @ self._items64().T

    def contributions(self, user_items: sp.csr_matrix, item_indices: np.ndarray) -> np.ndarray:
        """Exact split of a folded-in user's scores: ``score_i = Σ_j c_j · y_iᵀ A⁻¹ y_j``."""
        row = sp.csr_matrix(user_items)
        liked, values = row.indices, row.data
        a, _ = self._system(liked, values)
        item_factors = self._items64()
        solved = np.linalg.solve(a, item_factors[liked].T)  # A⁻¹ y_j, one column per liked item
        weights = self.alpha * values.astype(np.float64)
        return (item_factors[np.asarray(item_indices)] @ solved * weights).T
