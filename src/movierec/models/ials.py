"""iALS with frequency-scaled regularization (Rendle et al. 2021, "Revisiting the Performance of
iALS on Item Recommendation Benchmarks"), trained by ``implicit``'s conjugate-gradient kernel.

The loss, for a users × items matrix of weights ``w_ui`` (1 for a binary matrix)::

    Σ_(u,i observed) w_ui (⟨x_u, y_i⟩ − 1)²  +  α0 Σ_u Σ_i ⟨x_u, y_i⟩²
      + λ Σ_u (|I_u| + α0·|I|)^ν ‖x_u‖²  +  λ Σ_i (|U_i| + α0·|U|)^ν ‖y_i‖²

``α0`` (``unobserved_weight``) weighs every unobserved item; ``ν`` (``regularization_exponent``)
makes the penalty grow with a user's (an item's) number of interactions, which a single λ cannot:
with ``implicit``'s ALS (ν = 0) a λ strong enough for heavy users crushes light users' factors
towards the popularity direction, and one weak enough for light users under-regularizes heavy ones.

``implicit``'s solver takes one scalar λ. Each user's own penalty is added as ``d`` pseudo-items,
the unit vectors, that the user "dislikes" with confidence ``λ_u`` (``implicit`` reads a negative
value as confidence in preference 0): they add exactly ``λ_u·I`` to that user's normal equations.
Items get pseudo-users the same way. Dividing the loss by ``α0`` maps it onto ``implicit``'s form
(unobserved confidence 1, observed ``1 + w/α0``); the only difference is the observed target,
``1 + α0/w_ui`` in place of 1 (for a binary matrix a constant ``1 + α0``, which only rescales).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import FactorModel, checked_fit
from .params import FACTORS, ITERATIONS, REGULARIZATION, SEED, Number, Whole


def _with_penalty_columns(
    matrix: sp.csr_matrix, penalties: np.ndarray, factors: int
) -> sp.csr_matrix:
    """``matrix`` (rows × cols) with ``factors`` extra columns holding ``−penalty`` of each row."""
    rows = matrix.shape[0]
    extra = sp.csr_matrix(
        (
            np.repeat(-penalties.astype(np.float32), factors),
            np.tile(np.arange(factors, dtype=np.int32), rows),
            np.arange(0, rows * factors + 1, factors, dtype=np.int64),
        ),
        shape=(rows, factors),
    )
    out = sp.hstack([matrix, extra], format="csr", dtype=np.float32)
    out.sort_indices()
    return out


def _with_identity_rows(factors: np.ndarray) -> np.ndarray:
    return np.vstack([factors, np.eye(factors.shape[1], dtype=factors.dtype)])


class IALS(FactorModel):
    """iALS (binary or weighted) with frequency-scaled regularization and an unobserved weight.

    >>> import scipy.sparse as sp
    >>> matrix = sp.random(20, 10, density=0.3, format="csr", random_state=0)
    >>> model = IALS(factors=4, iterations=3).fit(matrix)
    >>> model.item_factors.shape
    (10, 4)
    """

    name = "ials"
    weighting = "binary"
    constraints = {
        "factors": FACTORS,
        "regularization": REGULARIZATION,
        "unobserved_weight": Number(low=0.0, above=True),
        "regularization_exponent": Number(0.0, 2.0),
        "iterations": ITERATIONS,
        "cg_steps": Whole(1, 1000),
        "init_scale": Number(low=0.0, above=True),
        "seed": SEED,
    }
    divergence_hint = "raise regularization (now {regularization:g})"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.01,
        unobserved_weight: float = 0.1,
        regularization_exponent: float = 1.0,
        iterations: int = 10,
        cg_steps: int = 3,
        init_scale: float = 0.1,
        seed: int = 42,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.unobserved_weight = unobserved_weight
        self.regularization_exponent = regularization_exponent
        self.iterations = iterations
        self.cg_steps = cg_steps
        self.init_scale = init_scale
        self.seed = seed
        self.check_params()
        self.user_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None
        self._cache: dict[str, np.ndarray] = {}

    def _penalty(self, counts: np.ndarray, n_other: int) -> np.ndarray:
        """λ_u in ``implicit``'s units (the loss divided by α0)."""
        alpha0 = self.unobserved_weight
        scale = (np.asarray(counts, np.float64) + alpha0 * n_other) ** self.regularization_exponent
        return self.regularization * scale / alpha0

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> IALS:
        import implicit.cpu.als  # noqa: F401  (load its BLAS before limiting the thread pools)
        from implicit.cpu import _als
        from threadpoolctl import threadpool_limits

        weights = sp.csr_matrix(user_items, dtype=np.float32)
        weights.eliminate_zeros()
        n_users, n_items = weights.shape
        confidences = weights.copy()
        confidences.data = 1.0 + np.abs(confidences.data) / np.float32(self.unobserved_weight)
        user_penalty = self._penalty(np.diff(weights.indptr), n_items)
        item_penalty = self._penalty(np.bincount(weights.indices, minlength=n_items), n_users)
        user_side = _with_penalty_columns(confidences, user_penalty, self.factors)
        item_side = _with_penalty_columns(confidences.T.tocsr(), item_penalty, self.factors)

        rng = np.random.default_rng(self.seed)
        std = self.init_scale / np.sqrt(self.factors)
        users = (rng.standard_normal((n_users, self.factors)) * std).astype(np.float32)
        items = (rng.standard_normal((n_items, self.factors)) * std).astype(np.float32)
        # implicit parallelizes over rows itself; a multithreaded BLAS underneath only thrashes.
        with threadpool_limits(limits=1, user_api="blas"):
            for _ in range(self.iterations):
                _als.least_squares_cg(
                    user_side, users, _with_identity_rows(items), 0.0, cg_steps=self.cg_steps
                )
                _als.least_squares_cg(
                    item_side, items, _with_identity_rows(users), 0.0, cg_steps=self.cg_steps
                )
        self.user_factors, self.item_factors = users, items
        self._cache = {}
        return self

    def _gram(self) -> np.ndarray:
        if "gram" not in self._cache:
            items = self._factors()[1].astype(np.float64)
            self._cache["gram"] = items.T @ items
        return self._cache["gram"]

    def _system(self, liked: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One user's normal equations ``A x = b`` (implicit's units, as in training);
        ``b = Σ_j b_j y_j`` with the per-item weights ``b_j`` returned in place of ``b``."""
        items = self._factors()[1].astype(np.float64)
        chosen = items[liked]
        weights = np.abs(values.astype(np.float64)) / self.unobserved_weight
        penalty = float(self._penalty(np.array([len(liked)]), items.shape[0])[0])
        a = self._gram() + penalty * np.eye(self.factors)
        a += (chosen.T * weights) @ chosen
        return a, 1.0 + weights

    def fold_in_factors(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Each row's exact user factors from the fixed item factors (rows × factors)."""
        user_items = sp.csr_matrix(user_items)
        items = self._factors()[1].astype(np.float64)
        out = np.zeros((user_items.shape[0], self.factors))
        for row in range(user_items.shape[0]):
            start, end = user_items.indptr[row], user_items.indptr[row + 1]
            if start == end:
                continue
            liked = user_items.indices[start:end]
            a, b_weights = self._system(liked, user_items.data[start:end])
            out[row] = np.linalg.solve(a, items[liked].T @ b_weights)
        return out

    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        users, items = self._factors()
        return users[np.asarray(user_indices)] @ items.T

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        return self.fold_in_factors(user_items) @ self._factors()[1].T.astype(np.float64)

    def contributions(self, user_items: sp.csr_matrix, item_indices: np.ndarray) -> np.ndarray:
        """Exact split of the fold-in scores: ``score_i = Σ_j b_j · y_iᵀ A⁻¹ y_j``."""
        row = sp.csr_matrix(user_items)
        items = self._factors()[1].astype(np.float64)
        a, b_weights = self._system(row.indices, row.data)
        solved = np.linalg.solve(a, items[row.indices].T)  # A⁻¹ y_j, one column per liked item
        return (items[np.asarray(item_indices)] @ solved * b_weights).T
