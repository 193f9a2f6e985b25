"""ADMM-SLIM (Steck, Dimakopoulou, Riabov & Jebara 2020, "ADMM SLIM: Sparse Recommendations for
Many Users"): SLIM's sparse, non-negative item–item weights, learned by ADMM instead of one
coordinate-descent regression per item.

The objective, for a users × items matrix ``X`` and ``G = XᵀX``::

    ½‖X − XB‖² + λ1‖B‖₁ + ½λ2‖B‖²   subject to  diag(B) = 0,  B ≥ 0

ADMM splits it into ``B`` (the smooth part and the zero diagonal: EASE's closed form, with the
inverse ``P = (G + (λ2 + ρ)I)⁻¹`` computed once) and a copy ``C`` (the L1 penalty and the
non-negativity: a clipped soft threshold), tied by the scaled dual ``U``::

    B̃ = P(G + ρ(C − U)),  B = B̃ − P·diag(diag(B̃)/diag(P))
    C = max(0, B + U − λ1/ρ),  U = U + B − C

Each sweep is one dense items × items product. The learned ``C`` has a zero diagonal and no
negative weight, so every part of a score is an item the user liked pulling a movie up.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import checked_fit, gram, hyperparameter, hyperparameters
from .ease import DenseItemItemModel, check_dense_items, regularized_inverse, user_weighted
from .params import ITERATIONS, REGULARIZATION, SEED, Number


@hyperparameters
class ADMMSLIM(DenseItemItemModel):
    """SLIM by ADMM: ``l1`` and ``l2`` are λ1 and λ2, ``rho`` ADMM's penalty ρ (larger: steadier
    but slower progress), ``iterations`` the ADMM sweeps. ``user_weight_exponent`` γ weighs users
    by ``|I_u|^(−γ)`` in ``XᵀX`` as EASE's does.

    >>> import scipy.sparse as sp
    >>> model = ADMMSLIM(l1=0.1, l2=1.0, iterations=5)
    >>> model = model.fit(sp.random(30, 8, 0.4, format="csr", random_state=0))
    >>> bool((model.weights >= 0).all()), float(abs(model.weights.diagonal()).max())
    (True, 0.0)
    """

    name = "admm-slim"
    weighting = "binary"
    divergence_hint = "raise l2 (now {l2:g}) or rho (now {rho:g})"

    l1: float = hyperparameter(1.0, REGULARIZATION)
    l2: float = hyperparameter(500.0, REGULARIZATION)
    rho: float = hyperparameter(1000.0, Number(low=0.0, above=True))
    iterations: int = hyperparameter(20, ITERATIONS)
    user_weight_exponent: float = hyperparameter(0.0, Number(0.0, 2.0))
    seed: int = hyperparameter(42, SEED)  # deterministic; kept so every model takes a seed

    def describe(self) -> str:
        weighted = ", users weighted" if self.user_weight_exponent else ""
        return f"ADMM-SLIM (λ1 = {self.l1:g}, λ2 = {self.l2:g}{weighted})"

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> ADMMSLIM:
        n_items = user_items.shape[1]
        check_dense_items("ADMM-SLIM", n_items)
        with self.fitting(user_items, self.iterations) as step:
            gram_matrix = gram(user_weighted(user_items, self.user_weight_exponent))
            precision = regularized_inverse(gram_matrix, self.l2 + self.rho)
            diagonal = np.diag(precision).copy()
            rho = np.float32(self.rho)
            threshold = np.float32(self.l1 / self.rho)
            smooth = precision @ gram_matrix  # B̃ while C = U = 0
            copy = np.zeros_like(gram_matrix)
            dual = np.zeros_like(gram_matrix)
            for sweep in range(self.iterations):
                weights = smooth + rho * (precision @ (copy - dual)) if sweep else smooth.copy()
                weights -= precision * (np.diag(weights) / diagonal)[np.newaxis, :]
                copy = np.maximum(weights + dual - threshold, 0.0, dtype=np.float32)
                dual += weights - copy
                step.advance()
        self.weights = np.ascontiguousarray(copy, dtype=np.float32)
        return self
