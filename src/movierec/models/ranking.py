"""The one top-N ranking: serving (one user's row) and evaluation (a block of users) both use
:func:`top_n`, so the figures we publish come from exactly the lists users get.

The rule: the ``n`` highest scores, best first; equal scores go to the lower item index, at the
n-th place too, so a list depends on the scores alone (never on how NumPy partitions them).
An excluded item, or one whose score is NaN or infinite, is never returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

NO_ITEM = -1
"""Fills a slot of a block's top-N that a user has no item left for."""


def top_n(
    scores: np.ndarray, n: int, exclude: np.ndarray | Sequence[int] | sp.spmatrix | None = None
) -> np.ndarray:
    """The ``n`` best items by the rule of the module docstring, as int64 item indices.

    One row: ``scores`` is (items,), ``exclude`` item indices; returns up to ``n`` indices
    (fewer when fewer items qualify). A block: ``scores`` is users × items, ``exclude`` a
    users × items sparse matrix whose stored entries mark each user's excluded items; returns
    users × ``n``, :data:`NO_ITEM` in the slots beyond a user's qualifying items. ``scores``
    (any real dtype) is not modified.

    >>> top_n(np.array([0.5, 0.9, 0.5, np.nan, 0.7]), 3, exclude=[4]).tolist()
    [1, 0, 2]
    >>> import scipy.sparse as sp
    >>> block = np.array([[1.0, 2.0, 3.0], [3.0, 3.0, 1.0]])
    >>> top_n(block, 2, exclude=sp.csr_matrix([[0, 0, 1], [0, 0, 0]]))
    array([[1, 0],
           [0, 1]])
    """
    scores = np.asarray(scores)
    if scores.ndim not in (1, 2):
        raise ValueError(f"scores must be one row or a users × items block, got {scores.shape}")
    masked = np.array(scores, dtype=np.result_type(scores.dtype, np.float32), ndmin=2, copy=True)
    masked[~np.isfinite(masked)] = -np.inf
    if exclude is not None:
        if scores.ndim == 1:
            masked[0, np.asarray(exclude, dtype=np.intp)] = -np.inf
        else:
            import scipy.sparse as sp  # a block's exclusions are a sparse matrix

            marked = sp.csr_matrix(exclude)
            rows = np.repeat(np.arange(marked.shape[0]), np.diff(marked.indptr))
            masked[rows, marked.indices] = -np.inf
    if scores.ndim == 1:
        return _ranked_row(masked[0], max(int(n), 0))
    return _ranked(masked, max(int(n), 0))


def _ranked_row(masked: np.ndarray, n: int) -> np.ndarray:
    """:func:`_ranked` for one row (a request's path: a few microseconds, not a block's
    machinery), without the padding: up to ``n`` item indices."""
    k = min(n, len(masked))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    if k < len(masked):
        kth = masked[np.argpartition(masked, len(masked) - k)[len(masked) - k :]].min()
        # every item above the k-th score, then the lowest-indexed of those tied with it
        tied = np.flatnonzero(masked == kth)
        above = np.flatnonzero(masked > kth)
        candidates = np.concatenate([above, tied[: k - len(above)]])
    else:
        candidates = np.arange(len(masked))
    candidate_scores = masked[candidates]
    order = np.lexsort((candidates, -candidate_scores))
    best = candidates[order]
    return best[candidate_scores[order] != -np.inf].astype(np.int64)


def _ranked(masked: np.ndarray, n: int) -> np.ndarray:
    """Rows × ``n`` best item indices of ``masked`` (−inf: never chosen), best first, ties to the
    lower index, :data:`NO_ITEM` padding."""
    n_rows, n_items = masked.shape
    k = min(n, n_items)
    if k == 0:
        return np.full((n_rows, n), NO_ITEM, dtype=np.int64)
    if k < n_items:
        candidates = _best_unordered(masked, k)
    else:
        candidates = np.broadcast_to(np.arange(n_items), (n_rows, n_items))
    candidate_scores = np.take_along_axis(masked, candidates, axis=1)
    # by score descending, then item index ascending, so ties do not depend on partitioning
    order = np.lexsort((candidates, -candidate_scores), axis=1)
    best = np.take_along_axis(candidates, order, axis=1).astype(np.int64)
    best[np.take_along_axis(candidate_scores, order, axis=1) == -np.inf] = NO_ITEM
    if n > k:  # a catalogue shorter than n: the missing slots stay empty
        best = np.hstack([best, np.full((n_rows, n - k), NO_ITEM, dtype=np.int64)])
    return best


def _best_unordered(masked: np.ndarray, k: int) -> np.ndarray:
    """Per row, the item indices of the ``k`` highest scores, in no particular order (rows × k).

    ``argpartition`` alone picks arbitrarily among items tied with the k-th score; rows where
    such a tie straddles the cut are redone so that the tied items with the lowest indices win,
    and the result depends on the scores alone."""
    n_items = masked.shape[1]
    candidates = np.argpartition(masked, n_items - k, axis=1)[:, n_items - k :]
    candidate_scores = np.take_along_axis(masked, candidates, axis=1)
    kth = candidate_scores.min(axis=1, keepdims=True)
    tied_everywhere = (masked == kth).sum(axis=1)
    tied_chosen = (candidate_scores == kth).sum(axis=1)
    straddling = np.flatnonzero(tied_everywhere > tied_chosen)
    if len(straddling):
        rows, thresholds = masked[straddling], kth[straddling]
        tied = rows == thresholds
        needed = k - (rows > thresholds).sum(axis=1, keepdims=True)
        chosen = (rows > thresholds) | (tied & (np.cumsum(tied, axis=1) <= needed))
        candidates[straddling] = np.nonzero(chosen)[1].reshape(len(straddling), k)
    return candidates
