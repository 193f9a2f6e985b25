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

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import MovieRecError
from .als import LeastSquaresFactorModel
from .base import checked_fit, hyperparameter, hyperparameters
from .params import FACTORS, ITERATIONS, REGULARIZATION, SEED, Number, Whole

if TYPE_CHECKING:  # SciPy is imported where a fit needs it: answers need none
    import scipy.sparse as sp


def _with_penalty_columns(
    matrix: sp.csr_matrix, penalties: np.ndarray, factors: int
) -> sp.csr_matrix:
    """``matrix`` (rows × cols) with ``factors`` extra columns holding ``−penalty`` of each row."""
    import scipy.sparse as sp

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


@hyperparameters
class IALS(LeastSquaresFactorModel):
    """iALS (binary or weighted) with frequency-scaled regularization and an unobserved weight.

    >>> import scipy.sparse as sp
    >>> matrix = sp.random(20, 10, density=0.3, format="csr", random_state=0)
    >>> model = IALS(factors=4, iterations=3).fit(matrix)
    >>> model.item_factors.shape
    (10, 4)
    """

    name = "ials"
    weighting = "binary"
    divergence_hint = "raise regularization (now {regularization:g})"

    factors: int = hyperparameter(64, FACTORS)
    regularization: float = hyperparameter(0.01, REGULARIZATION)
    unobserved_weight: float = hyperparameter(0.1, Number(low=0.0, above=True))
    regularization_exponent: float = hyperparameter(1.0, Number(0.0, 2.0))
    iterations: int = hyperparameter(10, ITERATIONS)
    cg_steps: int = hyperparameter(3, Whole(1, 1000))
    init_scale: float = hyperparameter(0.1, Number(low=0.0, above=True))
    seed: int = hyperparameter(42, SEED)

    def describe(self) -> str:
        scaled = " frequency-scaled" if self.regularization_exponent else ""
        return (
            f"iALS ({self.factors} factors, λ = {self.regularization:g}{scaled}, "
            f"{self.iterations} iterations)"
        )

    def _penalty(self, counts: np.ndarray, n_other: int) -> np.ndarray:
        """λ_u in ``implicit``'s units (the loss divided by α0)."""
        alpha0 = self.unobserved_weight
        scale = (np.asarray(counts, np.float64) + alpha0 * n_other) ** self.regularization_exponent
        return self.regularization * scale / alpha0

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> IALS:
        for _ in self.sweeps(user_items):
            pass
        return self

    def half_sweep_matrices(self, user_items: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """What implicit's solver takes for the user and the item half of a sweep: confidences
        in its units, each row followed by its ``factors`` penalty pseudo-entries."""
        import scipy.sparse as sp

        weights = sp.csr_matrix(user_items, dtype=np.float32)
        weights.eliminate_zeros()
        n_users, n_items = weights.shape
        confidences = weights.copy()
        confidences.data = 1.0 + np.abs(confidences.data) / np.float32(self.unobserved_weight)
        user_penalty = self._penalty(np.diff(weights.indptr), n_items)
        item_penalty = self._penalty(np.bincount(weights.indices, minlength=n_items), n_users)
        user_side = _with_penalty_columns(confidences, user_penalty, self.factors)
        item_side = _with_penalty_columns(confidences.T.tocsr(), item_penalty, self.factors)
        return user_side, item_side

    def sweeps(self, user_items: sp.csr_matrix) -> Iterator[int]:
        """Fit sweep by sweep, for learning curves: after each sweep the factors learned so far
        are set and its number (1, 2, …) is yielded. ``fit`` runs them all, checked."""
        import implicit.cpu.als  # noqa: F401  (load its BLAS before limiting the thread pools)
        from threadpoolctl import threadpool_limits

        user_side, item_side = self.half_sweep_matrices(user_items)
        n_users, n_items = user_items.shape

        rng = np.random.default_rng(self.seed)
        std = self.init_scale / np.sqrt(self.factors)
        users = (rng.standard_normal((n_users, self.factors)) * std).astype(np.float32)
        items = (rng.standard_normal((n_items, self.factors)) * std).astype(np.float32)
        # implicit parallelizes over rows itself; a multithreaded BLAS underneath only thrashes.
        with (
            threadpool_limits(limits=1, user_api="blas"),
            self.fitting(user_items, self.iterations) as step,
        ):
            solve = _conjugate_gradient_solver(self.cg_steps)
            for sweep in range(1, self.iterations + 1):
                solve(user_side, users, _with_identity_rows(items), 0.0, num_threads=0)
                solve(item_side, items, _with_identity_rows(users), 0.0, num_threads=0)
                step.advance()
                self.user_factors, self.item_factors = users, items
                self.forget_derived()
                yield sweep

    def _terms(self, liked: np.ndarray, values: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """One user's normal equations in implicit's units, as in training:
        ``A = YᵀY + λ_u I + Σ_j (w_j/α0) y_j y_jᵀ`` and weights ``1 + w_j/α0``."""
        weights = np.abs(values.astype(np.float64)) / self.unobserved_weight
        penalty = float(self._penalty(np.array([len(liked)]), len(self._items64))[0])
        return penalty, weights, 1.0 + weights


def _conjugate_gradient_solver(cg_steps: int) -> Any:
    """implicit's native conjugate-gradient least-squares step, ``solve(Cui, X, Y, λ,
    num_threads=…)``, updating ``X`` in place, through its public ALS class (the same kernel
    ``AlternatingLeastSquares.fit`` runs)."""
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(use_native=True, use_cg=True)
    model.cg_steps = cg_steps
    solver = getattr(model, "solver", None)
    if solver is None:
        raise MovieRecError(
            "iALS needs the conjugate-gradient solver of implicit 0.7 "
            "(AlternatingLeastSquares.solver); pip install 'implicit>=0.7.2,<0.8'"
        )
    return solver
