"""EASE (Steck 2019): a closed-form item–item linear autoencoder with a zero diagonal.

``B = I − P·diag(1/diag(P))`` with ``P = (XᵀX + λI)⁻¹``; a user's scores are ``x·B``. Fitting is
one Gram matrix and one Cholesky inverse on the items × items matrix (a second or two for the
~3,700 movies of ML-1M); fold-in of a new user is a sparse row times ``B``, and explanations
are exact: ``score_i = Σ_j x_j·B_ji``.

Two optional changes, both still one items × items matrix ``W`` with scores ``x·W``:

- ``user_weight_exponent`` γ weighs users by ``|I_u|^(−γ)`` in ``XᵀX``, so the few hundred
  heaviest users stop dominating the item–item statistics;
- ``lowpass_rank`` k and ``lowpass_weight`` w add an ideal low-pass graph filter (as in GF-CF,
  Shen et al. 2021): with ``D`` the item degrees of ``XᵀX`` and ``U`` the top-k eigenvectors of
  ``D^(−1/2)·XᵀX·D^(−1/2)``, ``L = D^(−1/2)·U·Uᵀ·D^(1/2)`` captures the broad taste directions a
  factor model learns, which a sparse item–item model misses. ``W = B + w·(s_B/s_L)·L``, where
  ``s`` is a model's (user-weighted) total score on the training entries, so w is scale-free.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import MovieRecError
from .base import ItemItemModel, checked_fit, gram, symmetrize_lower
from .params import REGULARIZATION, SEED, Number, Whole
from .ranking import top_n

MAX_ITEMS = 20_000
"""Above this many items the dense items × items matrices outgrow a laptop's memory."""


def ease_weights(gram_matrix: np.ndarray, regularization: float) -> np.ndarray:
    """The EASE weights ``B`` (items × items, float32, zero diagonal) from ``XᵀX``."""
    from scipy.linalg import lapack  # only fitting needs it; keeps loading fast

    system = np.array(gram_matrix, dtype=np.float32, order="F")
    system[np.diag_indices_from(system)] += np.float32(regularization)
    factor, info = lapack.spotrf(system, lower=1, overwrite_a=1)
    if info != 0:
        raise MovieRecError(
            f"EASE's system is not positive definite (LAPACK info {info}); raise regularization"
        )
    inverse, info = lapack.spotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise MovieRecError(f"EASE's inverse failed (LAPACK info {info}); raise regularization")
    precision = symmetrize_lower(inverse)
    weights = precision / -np.diag(precision)[np.newaxis, :]
    np.fill_diagonal(weights, 0.0)
    return np.ascontiguousarray(weights, dtype=np.float32)


def user_weighted(user_items: sp.csr_matrix, exponent: float) -> sp.csr_matrix:
    """Rows scaled by ``(items in the row)^(−exponent/2)``, so each user's share of the Gram
    matrix ``XᵀX`` is weighted by ``|I_u|^(−exponent)`` (0: unweighted, as in the paper)."""
    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    if exponent == 0:
        return matrix
    counts = np.maximum(np.diff(matrix.indptr), 1).astype(np.float64)
    return sp.csr_matrix(sp.diags((counts ** (-exponent / 2)).astype(np.float32)) @ matrix)


def lowpass_filter(
    gram_matrix: np.ndarray, rank: int, seed: int = 42, sweeps: int = 8
) -> np.ndarray:
    """The ideal low-pass filter ``D^(−1/2)·U·Uᵀ·D^(1/2)`` (items × items, float32, zero
    diagonal) of the normalized item graph; ``U`` (items × rank) comes from a seeded subspace
    iteration, accurate enough for a filter and far quicker than a full eigendecomposition."""
    n_items = gram_matrix.shape[0]
    rank = min(rank, n_items)
    degrees = np.maximum(gram_matrix.sum(axis=1, dtype=np.float64), 1e-12)
    root = np.sqrt(degrees).astype(np.float32)
    normalized = gram_matrix / root[:, np.newaxis] / root[np.newaxis, :]
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((n_items, min(n_items, rank + max(rank // 2, 8))))
    basis = basis.astype(np.float32)
    for _ in range(sweeps):
        basis, _ = np.linalg.qr(normalized @ basis)
    _, rotation = np.linalg.eigh((basis.T @ normalized @ basis).astype(np.float64))
    top = basis @ rotation[:, -rank:].astype(np.float32)
    lowpass = (top / root[:, np.newaxis]) @ (top * root[:, np.newaxis]).T
    np.fill_diagonal(lowpass, 0.0)
    return lowpass.astype(np.float32)


def training_score(gram_matrix: np.ndarray, weights: np.ndarray) -> float:
    """``Σ_u Σ_(i∈I_u) (x_u·W)_i`` = ``Σ (XᵀX ∘ W)``: an item–item model's total training score."""
    return float(np.einsum("ij,ij->", gram_matrix, weights, dtype=np.float64))


class EASE(ItemItemModel[np.ndarray]):
    """Embarrassingly shallow autoencoder; ``regularization`` is λ on ``‖B‖²``.

    ``user_weight_exponent`` γ weighs each user's squared error by ``|I_u|^(−γ)`` when learning
    ``B``, so heavy users (a few hundred movies each) stop dominating the item–item statistics.
    ``lowpass_rank`` and ``lowpass_weight`` add the low-pass filter of the module docstring.
    ``weights`` (items × items) is then the whole model: scores are ``x·weights``.

    >>> import scipy.sparse as sp
    >>> model = EASE(regularization=10.0).fit(sp.random(30, 8, 0.4, format="csr", random_state=0))
    >>> model.weights.shape, float(abs(model.weights.diagonal()).max())
    ((8, 8), 0.0)
    """

    name = "ease"
    weighting = "binary"
    constraints = {
        "regularization": REGULARIZATION,
        "user_weight_exponent": Number(0.0, 2.0),
        "lowpass_rank": Whole(0, 4096),
        "lowpass_weight": Number(low=0.0),
        "seed": SEED,
    }
    divergence_hint = "raise regularization (now {regularization:g})"

    def describe(self) -> str:
        details = [f"λ = {self.regularization:g}"]
        if self.user_weight_exponent:
            details.append("users weighted")
        if self.lowpass_rank and self.lowpass_weight:
            details.append("low-pass filtered")
        return f"EASE ({', '.join(details)})"

    def __init__(
        self,
        regularization: float = 500.0,
        user_weight_exponent: float = 0.0,
        lowpass_rank: int = 0,
        lowpass_weight: float = 0.0,
        seed: int = 42,
    ) -> None:
        self.regularization = regularization
        self.user_weight_exponent = user_weight_exponent
        self.lowpass_rank = lowpass_rank  # 0: no low-pass filter
        self.lowpass_weight = lowpass_weight
        self.seed = seed  # seeds the low-pass filter's subspace iteration
        self.check_params()
        self.weights = None

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> EASE:
        n_items = user_items.shape[1]
        if n_items > MAX_ITEMS:
            raise MovieRecError(
                f"EASE holds dense {n_items:,} × {n_items:,} matrices "
                f"({n_items**2 * 4 / 1e9:.1f} GB each), too many items; "
                "use an ALS preset for a catalogue this large (e.g. --preset als-tuned)"
            )
        with self.fitting(user_items) as step:
            step.update(status="the item Gram matrix")
            gram_matrix = gram(user_weighted(user_items, self.user_weight_exponent))
            step.update(status=f"solving for the {n_items:,} × {n_items:,} weights")
            weights = ease_weights(gram_matrix, self.regularization)
            if self.lowpass_rank > 0 and self.lowpass_weight != 0:
                step.update(status=f"the rank-{self.lowpass_rank} low-pass filter")
                lowpass = lowpass_filter(gram_matrix, self.lowpass_rank, self.seed)
                lowpass_total = training_score(gram_matrix, lowpass)
                if lowpass_total > 0:  # 0 only for degenerate data (e.g. one user)
                    scale = training_score(gram_matrix, weights) / lowpass_total
                    weights += np.float32(self.lowpass_weight * scale) * lowpass
        self.weights = weights
        return self

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Items whose liking is best predicted by liking ``item_index``: row ``B[item, :]``."""
        row = self._weights()[item_index]
        best = top_n(row, n, exclude=np.array([item_index]))
        return best, row[best]

    def state(self) -> dict[str, np.ndarray]:
        return {"weights": self._weights()}

    def set_state(self, arrays: dict[str, np.ndarray]) -> EASE:
        weights = np.asarray(arrays["weights"], dtype=np.float32)
        if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
            raise MovieRecError("the saved EASE weights are not square; retrain")
        self.weights = weights
        return self
