"""EASE (Steck 2019): a closed-form item–item linear autoencoder with a zero diagonal.

``B = I − P·diag(1/diag(P))`` with ``P = (XᵀX + λI)⁻¹``; a user's scores are ``x·B``. Fitting is
one Gram matrix and one Cholesky inverse on the items × items matrix (a second or two for the
~3,700 movies of ML-1M); fold-in of a new user is a sparse row times ``B``, and explanations
are exact: ``score_i = Σ_j x_j·B_ji``.

Three optional changes, all still one items × items matrix ``W`` with scores ``x·W``:

- ``dropout`` p turns EASE into Steck's (2020) dropout-emphasized linear autoencoders: training
  on inputs with each entry dropped with probability p penalizes each weight ``B_ji`` by
  ``p/(1−p)·G_jj`` (``G = XᵀX``), an item-specific L2 penalty ``Λ = λI + p/(1−p)·diag(G)`` that
  stops the popular items' rows from dominating. With the zero diagonal kept this is EDLAE
  (``P = (G + Λ)⁻¹``, then EASE's step); with ``zero_diagonal`` off it is DLAE,
  ``B = (G + Λ)⁻¹G = I − P·Λ``, whose diagonal the dropout alone keeps from the identity;
- ``user_weight_exponent`` γ weighs users by ``|I_u|^(−γ)`` in ``XᵀX``, so the few hundred
  heaviest users stop dominating the item–item statistics;
- ``lowpass_rank`` k and ``lowpass_weight`` w add an ideal low-pass graph filter (as in GF-CF,
  Shen et al. 2021): with ``D`` the item degrees of ``XᵀX`` and ``U`` the top-k eigenvectors of
  ``D^(−1/2)·XᵀX·D^(−1/2)``, ``L = D^(−1/2)·U·Uᵀ·D^(1/2)`` captures the broad taste directions a
  factor model learns, which a sparse item–item model misses. ``W = B + w·(s_B/s_L)·L``, where
  ``s`` is a model's (user-weighted) total score on the training entries, so w is scale-free.

``min_item_ratings`` k fits all this on the dense head only: the items with at least k ratings
in the input. The long tail of movies rated once or twice carries almost no item–item signal
but most of a sparse catalogue's size (ml-latest-small: 4,154 of 8,452 movies have 3 or more
kept ratings, and 93% of the ratings), and the dense matrices cost its square. ``W`` keeps the
whole catalogue's shape with zero rows and columns for the tail: a tail item can be liked (it
adds nothing) and scores 0, below any head item a liked movie points to.

``max_head_items`` K caps the head by size: only the K items with the most ratings (ties to the
lower index), so any catalogue gets dense matrices of at most K × K and a fit whose cost grows
with the ratings (the Gram of the head's columns) rather than the catalogue's square; the tail
beyond the K is zero as above. On synthetic ML-25M-shaped data (58,266 kept movies) the 5,000
most-rated hold 95% of the kept ratings (docs/large-catalogues.md).

``tail_neighbours`` k gives the items outside the head something for ``similar``: each one's k
head items of highest cosine similarity (on who rated them), stored sparsely (tail × k). They
change no score: a tail item still adds nothing when liked and scores 0.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import progress
from ..errors import MovieRecError
from .base import (
    ItemItemModel,
    checked_fit,
    gram,
    hyperparameter,
    hyperparameters,
    symmetrize_lower,
)
from .params import REGULARIZATION, SEED, Number, Switch, Whole
from .ranking import top_n

if TYPE_CHECKING:  # SciPy is imported where a fit needs it: answers need none
    import scipy.sparse as sp

MAX_ITEMS = 20_000
"""Above this many items the dense items × items matrices outgrow a laptop's memory."""


def fit_threads() -> int:
    """How many BLAS threads the Gram matrix's ``syrk`` gets: as many as BLAS has now (its
    default, one per core, or the caller's limit), but one while other work keeps the cores
    busy (a 1-minute load average of at least cores − ½). Only the Gram, whose every entry
    one thread sums whatever their number: the Cholesky inverse and the low-pass filter's
    n × n products sum in an order that depends on the threads (their results moved by up to
    1e-6 between one and two), so they keep BLAS's own setting and the same fit gives the
    same numbers on a busy machine as on a quiet one. OpenBLAS's threads wait for each other
    after every block, so with a core taken a two-thread product goes at the pace of the thread that
    shares it and spins the other: on 2 cores at load 4, eight ``XᵀX``-sized products took
    0.74–0.81 s on two threads against 0.60–0.63 s on one."""
    current = blas_thread_count()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows): trust the BLAS setting
        return current
    return current if load < (cores or 1) - 0.5 else 1


def blas_threads(limit: int) -> AbstractContextManager[Any]:
    """BLAS (NumPy's and SciPy's) on at most ``limit`` threads inside, never more than it
    had: a caller's one-thread limit holds."""
    return _blas().limit(limits=max(1, min(limit, blas_thread_count())))


def blas_thread_count() -> int:
    """The fewest threads any loaded BLAS is set to use now."""
    return min((info["num_threads"] for info in _blas().info()), default=1)


@functools.cache
def _blas() -> Any:
    """The loaded BLAS libraries' thread controls, looked up once (a lookup scans every loaded
    library, ~2 ms; a limit through the found controls takes ~15 µs)."""
    import scipy.linalg  # noqa: F401  SciPy's own BLAS, loaded before the lookup
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def ease_weights(
    gram_matrix: np.ndarray,
    regularization: float,
    dropout: float = 0.0,
    zero_diagonal: bool = True,
    step: progress.Step | None = None,
) -> np.ndarray:
    """The EASE weights ``B`` (items × items, float32, zero diagonal) from ``XᵀX``; with
    ``dropout`` p > 0 the penalty is ``Λ = λI + p/(1−p)·diag(XᵀX)`` (EDLAE), and without
    ``zero_diagonal`` the solution is DLAE's ``I − (XᵀX + Λ)⁻¹Λ``. Scaled in place in the
    inverse's own array: no other n × n array is made."""
    penalty = regularization + dropout / (1.0 - dropout) * np.diag(gram_matrix).astype(np.float64)
    weights = regularized_inverse(gram_matrix, penalty, step)
    if zero_diagonal:
        weights /= -np.diag(weights).copy()[np.newaxis, :]
        np.fill_diagonal(weights, 0.0)
    else:
        weights *= -penalty.astype(np.float32)[np.newaxis, :]
        weights[np.diag_indices_from(weights)] += np.float32(1.0)
    return weights


def regularized_inverse(
    gram_matrix: np.ndarray, penalty: float | np.ndarray, step: progress.Step | None = None
) -> np.ndarray:
    """``(XᵀX + diag(penalty))⁻¹`` (float32, symmetric, C-ordered, a new array) by Cholesky;
    MovieRecError if the system is not positive definite. ``step`` advances by each part's
    flops (n³/3, 2n³/3). These two LAPACK calls, n³ flops in all, are the floor of a dense
    solve that yields every weight."""
    from scipy.linalg import lapack  # only fitting needs it; keeps loading fast

    # LAPACK reads only the lower triangle of a symmetric matrix: copy XᵀX in its own memory
    # order (a C-ordered one's transpose is the same matrix, Fortran-ordered), a plain copy.
    same = gram_matrix.T if gram_matrix.flags.c_contiguous else gram_matrix
    system = np.array(same, dtype=np.float32, order="F")
    system[np.diag_indices_from(system)] += np.asarray(penalty, dtype=np.float32)
    factor, info = lapack.spotrf(system, lower=1, overwrite_a=1)
    if info != 0:
        raise MovieRecError(
            f"EASE's system is not positive definite (LAPACK info {info}); raise regularization"
        )
    if step is not None:
        step.advance(len(system) ** 3 / 3)
    inverse, info = lapack.spotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise MovieRecError(f"EASE's inverse failed (LAPACK info {info}); raise regularization")
    if step is not None:
        step.advance(2 * len(system) ** 3 / 3)
    return symmetrize_lower(inverse).T  # symmetric: the transpose is it, C-ordered


def user_weighted(
    user_items: sp.csr_matrix, exponent: float, columns: np.ndarray | None = None
) -> sp.csr_matrix:
    """Rows scaled by ``(items in the row)^(−exponent/2)``, so each user's share of the Gram
    matrix ``XᵀX`` is weighted by ``|I_u|^(−exponent)`` (0: unweighted, as in the paper); with
    ``columns``, those columns alone, still weighted by all of each row's items (the rest are
    cut before scaling, so no weighted copy of the whole matrix is made)."""
    import scipy.sparse as sp

    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    counts = np.maximum(np.diff(matrix.indptr), 1).astype(np.float64)
    if columns is not None:
        matrix = sp.csr_matrix(matrix[:, columns])
    if exponent == 0:
        return matrix
    return sp.csr_matrix(sp.diags((counts ** (-exponent / 2)).astype(np.float32)) @ matrix)


LOWPASS_SWEEPS = 8
"""The low-pass filter's subspace iteration sweeps: the default preset was tuned with 8, which
leave the subspace short of converged, so the filter depends on them."""


def lowpass_flops(n_items: int, rank: int, sweeps: int = LOWPASS_SWEEPS) -> tuple[float, float]:
    """The floating-point operations of :func:`lowpass_filter`: (each sweep's, in all)."""
    rank = min(rank, n_items)
    width = lowpass_width(n_items, rank)
    sweep = 2.0 * n_items**2 * width + 4.0 * n_items * width**2
    rest = 2.0 * n_items**2 * (width + rank) + 2.0 * n_items * width * (width + rank)
    return sweep, sweeps * sweep + rest


def lowpass_width(n_items: int, rank: int) -> int:
    """The subspace iteration's block width: ``rank`` plus half as many again (at least 8)."""
    return min(n_items, rank + max(rank // 2, 8))


def lowpass_filter(
    gram_matrix: np.ndarray,
    rank: int,
    seed: int = 42,
    sweeps: int = LOWPASS_SWEEPS,
    step: progress.Step | None = None,
) -> np.ndarray:
    """The ideal low-pass filter ``D^(−1/2)·U·Uᵀ·D^(1/2)`` (items × items, float32, zero
    diagonal) of the normalized item graph; ``U`` (items × rank) comes from a seeded subspace
    iteration, accurate enough for a filter and far quicker than a full eigendecomposition.
    ``step`` advances by the flops of :func:`lowpass_flops`.

    Each sweep is one BLAS product with ``XᵀX`` (the normalization is applied to the thin
    block, so no normalized n × n copy is made) and an orthonormalization of the thin result
    (:func:`orthonormal_columns`); the iterates' spans, hence the filter, are those of the
    Householder QR this replaced, to float32 rounding."""
    n_items = gram_matrix.shape[0]
    rank = min(rank, n_items)
    degrees = np.maximum(gram_matrix.sum(axis=1, dtype=np.float64), 1e-12)
    root = np.sqrt(degrees)
    inverse_root = (1.0 / root).astype(np.float32)[:, np.newaxis]
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((n_items, lowpass_width(n_items, rank))).astype(np.float32)

    def normalized_times(block: np.ndarray) -> np.ndarray:
        """``D^(−1/2)·XᵀX·D^(−1/2)·block``."""
        return inverse_root * (gram_matrix @ (inverse_root * block))

    per_sweep, flops = lowpass_flops(n_items, rank, sweeps)
    for _ in range(sweeps):
        product = normalized_times(basis)
        with blas_threads(1):  # thin products: threads would only wait for each other
            basis = orthonormal_columns(product)
        if step is not None:
            step.advance(per_sweep)
    projected = (basis.T @ normalized_times(basis)).astype(np.float64)
    with blas_threads(1):
        _, rotation = np.linalg.eigh(projected)
    top = basis @ rotation[:, -rank:].astype(np.float32)
    lowpass = (top * inverse_root) @ (top * root.astype(np.float32)[:, np.newaxis]).T
    np.fill_diagonal(lowpass, 0.0)
    if step is not None:
        step.advance(flops - sweeps * per_sweep)
    return lowpass


def orthonormal_columns(block: np.ndarray) -> np.ndarray:
    """An orthonormal basis (float32) of the span of ``block``'s columns (tall, float32) by
    Cholesky QR: ``Q = block·R⁻¹`` with ``RᵀR = blockᵀ·block`` formed in float64, two thin
    BLAS products where Householder QR takes several times longer (and, with two BLAS threads
    on a busy machine, ten times longer). A block of nearly dependent columns (a graph of
    fewer users than the block is wide) makes ``R`` too ill-conditioned to divide by:
    Householder QR then, which stays orthonormal whatever the rank."""
    from scipy.linalg import lapack

    wide = block.astype(np.float64)
    factor, info = lapack.dpotrf(wide.T @ wide, lower=0)
    if info == 0 and lapack.dtrcon(factor, uplo="U")[0] > CHOLESKY_QR_RCOND:
        solved, info = lapack.dtrtrs(factor, wide.T, lower=0, trans=1)
        if info == 0:
            return np.ascontiguousarray(solved.T, dtype=np.float32)
    return np.linalg.qr(block)[0]


CHOLESKY_QR_RCOND = 1e-4
"""The least reciprocal condition number of ``R`` Cholesky QR divides by: ``QᵀQ`` is then the
identity to float32 rounding (float64's precision times the condition number squared)."""


def training_score(gram_matrix: np.ndarray, weights: np.ndarray) -> float:
    """``Σ_u Σ_(i∈I_u) (x_u·W)_i`` = ``Σ (XᵀX ∘ W)``: an item–item model's total training score."""
    return float(np.einsum("ij,ij->", gram_matrix, weights, dtype=np.float64))


TAIL_BLOCK = 2048
"""Tail items per block of :func:`tail_neighbours`: a block × head dense array (40 MB at a head
of 5,000)."""


def tail_neighbours(
    user_items: sp.csr_matrix, head: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every rated item outside ``head``: its ``k`` head items of highest cosine similarity
    on who rated them (binary), best first by :func:`top_n`'s rule; only items that share a
    user. Returns (the tail items, ascending; their neighbours, tail × k item indices, −1 past
    the last; the similarities, float32, 0 there). One sparse product per block of tail items."""
    import scipy.sparse as sp

    binary = sp.csc_matrix(user_items, dtype=np.float32)
    binary.data[:] = 1.0
    counts = np.diff(binary.indptr).astype(np.float64)
    tail = np.setdiff1d(np.flatnonzero(counts > 0), head)
    k = min(k, len(head))
    neighbours = np.full((len(tail), k), -1, dtype=np.int32)
    similarity = np.zeros((len(tail), k), dtype=np.float32)
    if not len(tail) or not k:
        return tail, neighbours, similarity
    head_columns = sp.csr_matrix(binary[:, head])
    head_norms = np.sqrt(counts[head])
    for start in range(0, len(tail), TAIL_BLOCK):
        items = tail[start : start + TAIL_BLOCK]
        shared = (sp.csr_matrix(binary[:, items].T) @ head_columns).toarray()
        cosine = shared / (np.sqrt(counts[items])[:, np.newaxis] * head_norms[np.newaxis, :])
        cosine[shared == 0] = -np.inf  # share no user: not a neighbour
        best = top_n(cosine, k)
        found = best >= 0
        rows = np.arange(len(items))[:, np.newaxis]
        neighbours[start : start + len(items)] = np.where(found, head[np.maximum(best, 0)], -1)
        similarity[start : start + len(items)] = np.where(
            found, cosine[rows, np.maximum(best, 0)], 0.0
        )
    return tail, neighbours, similarity


class DenseItemItemModel(ItemItemModel[np.ndarray]):
    """An item–item model whose whole state is one dense square ``weights`` matrix (EASE and its
    dropout variants, ADMM-SLIM): row ``W[item, :]`` says what liking ``item`` predicts.

    With ``head`` (ascending item indices), ``weights`` covers those items only (head × head)
    and every other item's row and column are zero: the model is the same as the whole square
    matrix with those zeros, at the head's size in memory and on disk."""

    learned: ClassVar[tuple[str, ...]] = (
        "weights",
        "head",
        "catalogue_items",
        "tail",
        "tail_similar",
        "tail_similarity",
    )
    head: np.ndarray | None
    catalogue_items: int | None  # with a head: how many items there are in all
    tail: np.ndarray | None  # items outside the head with neighbours for `similar` (ascending)
    tail_similar: np.ndarray | None  # tail × k head item indices, best first, −1 past the last
    tail_similarity: np.ndarray | None  # tail × k cosine similarities (0 past the last)

    @property
    def n_items(self) -> int:
        """How many items the model scores: the catalogue's, with a head."""
        if self.head is not None and self.catalogue_items is not None:
            return self.catalogue_items
        return len(self._weights())

    def _places(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of ``items`` (indices) are in the head, and their rows of ``weights``."""
        items = np.asarray(items, dtype=np.int64)
        if self.head is None:
            return np.ones(len(items), dtype=bool), items
        rows = np.minimum(np.searchsorted(self.head, items), max(len(self.head) - 1, 0))
        inside = self.head[rows] == items if len(self.head) else np.zeros(len(items), bool)
        return inside, rows[inside]

    def _full(self, head_columns: np.ndarray, n_items: int) -> np.ndarray:
        """Scores over the head's columns spread over all ``n_items`` items (0 elsewhere)."""
        if self.head is None:
            return head_columns
        out = np.zeros((*head_columns.shape[:-1], n_items), dtype=head_columns.dtype)
        out[..., self.head] = head_columns
        return out

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Items whose liking is best predicted by liking ``item_index``: row ``W[item, :]``;
        none for an item whose row is zero (one the model learned nothing about)."""
        inside, rows = self._places(np.array([item_index]))
        if not inside[0]:
            return self._tail_similar(item_index, n)
        if not self._weights()[rows[0]].any():
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        row = self._full(self._weights()[rows[0]], self.n_items)
        best = top_n(row, n, exclude=np.array([item_index]))
        return best, row[best]

    def _tail_similar(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """A tail item's stored head neighbours (none without them)."""
        nothing = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if self.tail is None or self.tail_similar is None or self.tail_similarity is None:
            return nothing
        place = int(np.searchsorted(self.tail, item_index))
        if place >= len(self.tail) or self.tail[place] != item_index:
            return nothing
        found = np.asarray(self.tail_similar[place]) >= 0
        items = np.asarray(self.tail_similar[place])[found][:n].astype(np.int64)
        return items, np.asarray(self.tail_similarity[place], dtype=np.float32)[found][:n]

    def liked_scores(self, liked: np.ndarray, weight: float, n_items: int) -> np.ndarray:
        """``x·W`` for the row ``x`` of ``weight`` at ``liked``: the liked rows of ``W`` summed
        in index order, as the sparse product adds them (the same float32 sums)."""
        _, rows = self._places(liked)
        summed = (self._weights()[rows] * np.float32(weight)).sum(axis=0)
        return self._full(summed, n_items)

    def liked_contributions(
        self, liked: np.ndarray, weight: float, n_items: int, item_indices: np.ndarray
    ) -> np.ndarray:
        return self._between(np.asarray(liked), np.asarray(item_indices)) * np.float32(weight)

    def _between(self, liked: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``W[liked][:, items]`` (liked × items, float32), zero outside the head."""
        liked_in, liked_rows = self._places(liked)
        items_in, item_rows = self._places(items)
        out = np.zeros((len(liked), len(items)), dtype=np.float32)
        out[np.ix_(liked_in, items_in)] = self._weights()[np.ix_(liked_rows, item_rows)]
        return out

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        if self.head is None:
            return super().fold_in_scores(user_items)
        import scipy.sparse as sp

        rows = sp.csr_matrix(user_items, dtype=np.float32)
        return self._full(np.asarray(rows[:, self.head] @ self._weights()), rows.shape[1])

    def item_similarity(self, item_a: int, item_b: int) -> float:
        return float(self._between(np.array([item_a]), np.array([item_b]))[0, 0])

    def contributions(self, user_items: sp.csr_matrix, item_indices: np.ndarray) -> np.ndarray:
        """Exact: entry ``[j, k]`` is ``x_j·W[j, item_k]``; columns sum to the fold-in scores."""
        import scipy.sparse as sp

        row = sp.csr_matrix(user_items)
        weights = self._between(row.indices, np.asarray(item_indices))
        return weights * row.data[:, np.newaxis].astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        weights = {"weights": self._weights()}
        if self.head is None:
            return weights
        state = {**weights, "head": self.head, "catalogue_items": np.array(self.n_items)}
        if (
            self.tail is not None
            and self.tail_similar is not None
            and self.tail_similarity is not None
        ):
            state.update(
                tail=self.tail, tail_similar=self.tail_similar, tail_similarity=self.tail_similarity
            )
        return state

    def set_state(self, arrays: dict[str, np.ndarray]) -> DenseItemItemModel:
        weights = np.asarray(arrays["weights"], dtype=np.float32)
        if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
            raise MovieRecError(f"the saved {self.name} weights are not square; retrain")
        self.weights, self.head, self.catalogue_items = weights, None, None
        self.tail = self.tail_similar = self.tail_similarity = None
        if "head" in arrays:
            self.head, self.catalogue_items = self._checked_head(
                np.asarray(arrays["head"]), np.asarray(arrays.get("catalogue_items", -1))
            )
            if "tail" in arrays:
                self._set_tail(arrays)
        return self

    def _set_tail(self, arrays: dict[str, np.ndarray]) -> None:
        """The saved tail neighbours, checked: ascending tail items outside the head, within
        the catalogue, each with a row of head items (−1 past the last) and similarities."""
        tail = np.asarray(arrays["tail"])
        similar = arrays.get("tail_similar")
        similarity = arrays.get("tail_similarity")
        head = self.head if self.head is not None else np.empty(0, dtype=np.int64)
        if (
            tail.ndim != 1
            or tail.dtype.kind not in "iu"
            or similar is None
            or similarity is None
            or similar.ndim != 2
            or similar.dtype.kind not in "iu"
            or similar.shape[0] != len(tail)
            or similarity.shape != similar.shape
            or similarity.dtype.kind != "f"
            or (len(tail) and (int(tail[0]) < 0 or int(tail[-1]) >= self.n_items))
            or not bool(np.all(tail[1:] > tail[:-1]))
            or np.isin(tail, head).any()
            or not np.isin(similar[similar >= 0], head).all()
        ):
            raise MovieRecError(
                f"the saved {self.name} tail neighbours do not fit its head and catalogue; retrain"
            )
        self.tail = tail.astype(np.int64)
        self.tail_similar, self.tail_similarity = similar, similarity

    def _checked_head(self, head: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, int]:
        """A saved head (ascending indices, one per row of ``weights``) and the catalogue's
        size (beyond its last index); MovieRecError otherwise."""
        if (
            head.ndim != 1
            or head.dtype.kind not in "iu"
            or len(head) != len(self._weights())
            or (len(head) and int(head[0]) < 0)
            or not bool(np.all(head[1:] > head[:-1]))
            or total.shape != ()
            or total.dtype.kind not in "iu"
            or (len(head) and int(total) <= int(head[-1]))
        ):
            raise MovieRecError(
                f"the saved {self.name} head is not {len(self._weights()):,} ascending item "
                "indices within its catalogue; retrain"
            )
        return head.astype(np.int64), int(total)


def check_dense_items(model: str, n_items: int) -> None:
    """MovieRecError when dense items × items matrices would not fit a laptop's memory."""
    if n_items > MAX_ITEMS:
        raise MovieRecError(
            f"{model} holds dense {n_items:,} × {n_items:,} matrices "
            f"({n_items**2 * 4 / 1e9:.1f} GB each), too many items; "
            "use an ALS preset for a catalogue this large (e.g. --preset als-tuned)"
        )


@hyperparameters
class EASE(DenseItemItemModel):
    """Embarrassingly shallow autoencoder; ``regularization`` is λ on ``‖B‖²``.

    ``dropout`` p adds the item-specific penalty of a dropout-emphasized linear autoencoder
    (EDLAE, or DLAE with ``zero_diagonal`` off; see the module docstring).

    ``user_weight_exponent`` γ weighs each user's squared error by ``|I_u|^(−γ)`` when learning
    ``B``, so heavy users (a few hundred movies each) stop dominating the item–item statistics.
    ``lowpass_rank`` and ``lowpass_weight`` add the low-pass filter of the module docstring.
    ``weights`` (items × items) is then the whole model: scores are ``x·weights``.

    >>> import scipy.sparse as sp
    >>> import scipy.sparse as sp
    >>> model = EASE(regularization=10.0).fit(sp.random(30, 8, 0.4, format="csr", random_state=0))
    >>> model.weights.shape, float(abs(model.weights.diagonal()).max())
    ((8, 8), 0.0)
    """

    name = "ease"
    weighting = "binary"
    divergence_hint = "raise regularization (now {regularization:g})"

    regularization: float = hyperparameter(500.0, REGULARIZATION)
    dropout: float = hyperparameter(0.0, Number(0.0, 1.0, below=True))  # 0: plain EASE
    zero_diagonal: bool = hyperparameter(True, Switch())
    user_weight_exponent: float = hyperparameter(0.0, Number(0.0, 2.0))
    lowpass_rank: int = hyperparameter(0, Whole(0, 4096))  # 0: no low-pass filter
    lowpass_weight: float = hyperparameter(0.0, Number(low=0.0))
    min_item_ratings: int = hyperparameter(0, Whole(0, 1_000_000))  # 0 or 1: every item
    max_head_items: int = hyperparameter(0, Whole(0, MAX_ITEMS))  # 0: no cap on the head
    tail_neighbours: int = hyperparameter(0, Whole(0, 1000))  # 0: the tail has no similar
    seed: int = hyperparameter(42, SEED)  # seeds the low-pass filter's subspace iteration

    def describe(self) -> str:
        details = [f"λ = {self.regularization:g}"]
        if self.dropout:
            details.append(f"dropout {self.dropout:g}")
        if self.user_weight_exponent:
            details.append("users weighted")
        if self.filtered:
            details.append("low-pass filtered")
        if self.min_item_ratings > 1:
            details.append(f"movies with ≥ {self.min_item_ratings} ratings")
        if self.max_head_items:
            details.append(f"the {self.max_head_items:,} most-rated movies at most")
        if self.tail_neighbours and (self.min_item_ratings > 1 or self.max_head_items):
            details.append(f"{self.tail_neighbours} similar head movies for each other one")
        family = "EASE" if not self.dropout else "EDLAE" if self.zero_diagonal else "DLAE"
        return f"{family} ({', '.join(details)})"

    @checked_fit
    def fit(
        self,
        user_items: sp.csr_matrix,
        show_progress: bool = False,
        gram_of: Callable[[sp.csr_matrix], np.ndarray] = gram,
    ) -> EASE:
        """Two steps: the (user-weighted) Gram matrix ``XᵀX``, by ``gram_of`` (here, or summed
        over a Spark cluster's partitions: :mod:`movierec.spark.gram`), then
        :meth:`weights_from_gram`, the same for both; on the head items only with
        ``min_item_ratings`` (users keep the weights of all their ratings)."""
        head = self.head_items(user_items)
        n_items = user_items.shape[1] if head is None else len(head)
        check_dense_items("EASE", n_items)  # the weights are of the head alone
        with self.fitting(user_items) as step:
            step.update(status="the item Gram matrix")
            self.count_flops(step, n_items)
            weighted = user_weighted(user_items, self.user_weight_exponent, head)
            with blas_threads(fit_threads()):  # the Gram is the same on any number of threads
                gram_matrix = gram_of(weighted)
            del weighted
            step.update(status=f"solving for the {n_items:,} × {n_items:,} weights")
            weights = self.weights_from_gram(gram_matrix, step)
            del gram_matrix
            self.weights, self.head = weights, head
            self.catalogue_items = None if head is None else user_items.shape[1]
            self.tail = self.tail_similar = self.tail_similarity = None
            if head is not None and self.tail_neighbours:
                step.update(status="the tail's neighbours in the head")
                self.tail, self.tail_similar, self.tail_similarity = tail_neighbours(
                    user_items, head, self.tail_neighbours
                )
        return self

    @property
    def filtered(self) -> bool:
        """Whether the low-pass filter is added: a rank and a weight both above 0."""
        return self.lowpass_rank > 0 and self.lowpass_weight != 0

    def head_items(self, user_items: sp.csr_matrix) -> np.ndarray | None:
        """The items with at least ``min_item_ratings`` ratings, of them at most the
        ``max_head_items`` most-rated (ties to the lower index), as ascending indices; None
        when that is every item."""
        n_items = user_items.shape[1]
        capped = 0 < self.max_head_items < n_items
        if self.min_item_ratings <= 1 and not capped:
            return None
        import scipy.sparse as sp

        counts = np.bincount(sp.csr_matrix(user_items).indices, minlength=n_items)
        kept = counts >= self.min_item_ratings
        if capped:  # a stable sort on the negated counts: equal counts keep index order
            kept[np.argsort(-counts, kind="stable")[self.max_head_items :]] = False
        return None if kept.all() else np.flatnonzero(kept)

    def count_flops(self, step: progress.Step, n_items: int) -> None:
        """Count ``step`` in the flops of the solve and the low-pass filter, from zero now (what
        came before is set-up): a total known from the start lets a log's start line wait for
        the first part and say how long the rest may take."""
        filtering = lowpass_flops(n_items, self.lowpass_rank)[1] if self.filtered else 0.0
        step.unit = "flops"
        step.update(completed=0, total=float(n_items) ** 3 + filtering)

    def weights_from_gram(
        self, gram_matrix: np.ndarray, step: progress.Step | None = None
    ) -> np.ndarray:
        """The items × items weights from ``XᵀX``: EASE's (or DLAE's) solve, plus the low-pass
        filter when asked for. ``step`` counts their flops (the Gram matrix before them was
        set-up), so the time left comes from the solve's measured rate."""
        if step is not None:
            self.count_flops(step, len(gram_matrix))
        weights = ease_weights(
            gram_matrix, self.regularization, self.dropout, self.zero_diagonal, step
        )
        if self.filtered:
            if step is not None:
                step.update(status=f"the rank-{self.lowpass_rank} low-pass filter")
            lowpass = lowpass_filter(gram_matrix, self.lowpass_rank, self.seed, step=step)
            lowpass_total = training_score(gram_matrix, lowpass)
            if lowpass_total > 0:  # 0 only for degenerate data (e.g. one user)
                scale = training_score(gram_matrix, weights) / lowpass_total
                lowpass *= np.float32(self.lowpass_weight * scale)
                weights += lowpass
        return weights
