"""Seeded, reproducible splits of a users × items CSR matrix into train, validation and test.

Every split works on matrix indices only (the CSR of :class:`~movierec.interactions.Interactions`),
vectorized over all ratings at once: each rating gets a position inside its user's row (a seeded
shuffle, or time order with a seeded tie-break), and per-user cut points send it to a part.

Weak generalization (the same users in train and test): :func:`ratio_split`,
:func:`leave_k_out`. Strong generalization (test users unseen in training, folded in from part of
their ratings): :func:`strong_generalization_split`, :func:`kfold_user_splits`.

>>> import scipy.sparse as sp
>>> matrix = sp.csr_matrix(np.ones((3, 20), dtype=np.float32))
>>> split = ratio_split(matrix, (0.8, 0.1, 0.1), seed=0)
>>> [part.nnz for part in (split.train, split.valid, split.test)]
[48, 6, 6]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import MovieRecError


@dataclass(frozen=True)
class Split:
    """One train/validation/test split; every matrix is users × items, CSR, of the same shape.

    ``train`` is what a model is fit on. ``valid`` is held out for tuning and early choices only,
    ``test`` for the reported figures; the three are disjoint and together hold every rating.
    With strong generalization, ``fold_in`` holds the held-out users' known ratings (their rows
    in ``train`` are empty): at evaluation time the model sees them through
    ``Model.fold_in_scores``, never through ``fit``. ``fold_in`` is None for weak generalization.
    """

    train: sp.csr_matrix
    valid: sp.csr_matrix
    test: sp.csr_matrix
    fold_in: sp.csr_matrix | None = None
    description: str = ""

    @property
    def strong(self) -> bool:
        """True when test users are absent from ``train`` (folded in at test time)."""
        return self.fold_in is not None

    def known(self, part: str) -> sp.csr_matrix:
        """What the users already have when ``part`` ("valid" or "test") is evaluated: it is
        masked from their rankings. Validation masks the training (or fold-in) items; test also
        masks the validation items."""
        seen = self.fold_in if self.fold_in is not None else self.train
        if part == "valid":
            return seen
        if part == "test":
            return (seen + self.valid).tocsr()
        raise ValueError(f"part must be 'valid' or 'test', got {part!r}")

    def target(self, part: str) -> sp.csr_matrix:
        """The held-out items ``part`` ("valid" or "test") asks the model to find."""
        if part not in ("valid", "test"):
            raise ValueError(f"part must be 'valid' or 'test', got {part!r}")
        return self.valid if part == "valid" else self.test

    def users_to_evaluate(self, part: str) -> np.ndarray:
        """User indices with at least one held-out item in ``part``, ascending (int64)."""
        return np.flatnonzero(np.diff(self.target(part).indptr) > 0)


def _row_of_entries(matrix: sp.csr_matrix) -> np.ndarray:
    """The row index of every stored entry (nnz,), in CSR order."""
    return np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))


def positions_in_rows(
    matrix: sp.csr_matrix, seed: int, order_keys: np.ndarray | None = None
) -> np.ndarray:
    """Each entry's 0-based position in its row after ordering the row (nnz,), int64.

    Without ``order_keys`` each row is shuffled (seeded); with them (one key per entry in CSR
    order, e.g. timestamps) rows are sorted by key ascending, ties broken at random (seeded).
    """
    rng = np.random.default_rng(seed)
    rows = _row_of_entries(matrix)
    noise = rng.random(matrix.nnz)
    if order_keys is None:
        order = np.lexsort((noise, rows))
    else:
        order_keys = np.asarray(order_keys)
        if order_keys.shape != (matrix.nnz,):
            raise ValueError(f"order_keys must have one key per entry ({matrix.nnz},)")
        order = np.lexsort((noise, order_keys, rows))
    positions = np.empty(matrix.nnz, dtype=np.int64)
    # `order` keeps rows in CSR order, so its j-th entry sits at j - indptr[row] in its row.
    positions[order] = np.arange(matrix.nnz) - matrix.indptr[rows[order]]
    return positions


def select_entries(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """The entries of ``matrix`` where the boolean mask ``keep`` (nnz,) is True; same shape."""
    rows = _row_of_entries(matrix)[keep]
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_matrix(
        (matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape, copy=False
    )


Ratios = Sequence[float] | np.ndarray
"""Parts' shares, e.g. ``(0.8, 0.1, 0.1)``: any non-negative numbers, normalized to sum to 1."""


def _normalized(ratios: Ratios) -> np.ndarray:
    values = np.asarray(ratios, dtype=np.float64)
    if values.ndim != 1 or len(values) < 2 or np.any(values < 0) or values[0] <= 0:
        raise MovieRecError(
            f"split ratios must be 2 or more non-negative numbers with a positive first (train) "
            f"part, e.g. 8:1:1; got {list(ratios)}"
        )
    return values / values.sum()


def ratio_counts(row_lengths: np.ndarray, ratios: Ratios) -> np.ndarray:
    """How many of each user's items go to each part (users × parts), RecBole's rounding.

    Every part after the first gets ``floor(ratio · n)`` items and the first (train) the rest;
    then, from the last part backwards, a part whose share is between 0 and 1 item takes one item
    from train while train keeps more than one. So 8:1:1 of 10 items is 8/1/1, of 25 is 21/2/2,
    of 5 is 3/1/1, of 1 is 1/0/0.
    """
    shares = _normalized(ratios)
    lengths = np.asarray(row_lengths, dtype=np.int64)
    exact = lengths[:, None] * shares[None, :]
    counts = np.floor(exact).astype(np.int64)
    counts[:, 0] = lengths - counts[:, 1:].sum(axis=1)
    for part in range(len(shares) - 1, 0, -1):
        bump = (exact[:, part] > 0) & (exact[:, part] < 1) & (counts[:, 0] > 1)
        counts[bump, part] += 1
        counts[bump, 0] -= 1
    return counts


def _split_by_counts(
    matrix: sp.csr_matrix, counts: np.ndarray, positions: np.ndarray
) -> list[sp.csr_matrix]:
    """Send each entry to the part its position falls in, given per-row counts (rows × parts)."""
    ends = np.cumsum(counts, axis=1)[_row_of_entries(matrix)]  # (nnz, parts)
    part_of = (positions[:, None] >= ends).sum(axis=1)
    return [select_entries(matrix, part_of == part) for part in range(counts.shape[1])]


def _as_csr(matrix: sp.spmatrix) -> sp.csr_matrix:
    matrix = sp.csr_matrix(matrix)
    matrix.sum_duplicates()  # canonical form: sorted indices, one entry per (user, item)
    return matrix


def ratio_split(
    matrix: sp.csr_matrix, ratios: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> Split:
    """Per-user random split by ratio (train:valid:test, e.g. 8:1:1; a 2-part ratio leaves valid
    empty). Each user's items are shuffled with ``seed``; counts per :func:`ratio_counts`."""
    matrix = _as_csr(matrix)
    shares = _normalized(ratios)
    if len(shares) not in (2, 3):
        raise MovieRecError(
            f"give 2 (train:test) or 3 (train:valid:test) ratios, not {len(shares)}"
        )
    counts = ratio_counts(np.diff(matrix.indptr), shares)
    if len(shares) == 2:
        counts = np.column_stack([counts[:, 0], np.zeros_like(counts[:, 0]), counts[:, 1]])
    train, valid, test = _split_by_counts(matrix, counts, positions_in_rows(matrix, seed))
    label = ":".join(f"{share:g}" for share in shares)
    return Split(train, valid, test, description=f"per-user random {label} split, seed {seed}")


def leave_k_out(
    matrix: sp.csr_matrix,
    k: int = 1,
    seed: int = 0,
    order: str = "random",
    valid_k: int = 0,
    timestamps: np.ndarray | None = None,
) -> Split:
    """Per user, ``k`` items to test and ``valid_k`` to validation, the rest to train.

    ``order="random"`` picks them at random (seeded); ``order="latest"`` takes the newest for test
    and the next newest for validation, which needs ``timestamps`` (one per entry in CSR order).
    Users with no more than ``k + valid_k`` items stay wholly in train (never evaluated).
    """
    matrix = _as_csr(matrix)
    if k < 1 or valid_k < 0:
        raise MovieRecError(
            f"leave-k-out needs k ≥ 1 and valid_k ≥ 0, got k={k}, valid_k={valid_k}"
        )
    if order not in ("random", "latest"):
        raise MovieRecError(f"leave-k-out order is 'random' or 'latest', not {order!r}")
    if order == "latest" and timestamps is None:
        raise MovieRecError(
            "a latest-k split needs rating timestamps and this data has none (ml-1m here ships "
            "without them); use a random leave-k-out (--protocol loo) or a dataset with "
            "timestamps such as ml-latest-small or ml-100k"
        )
    lengths = np.diff(matrix.indptr).astype(np.int64)
    eligible = lengths > k + valid_k
    counts = np.column_stack(
        [
            np.where(eligible, lengths - k - valid_k, lengths),
            np.where(eligible, valid_k, 0),
            np.where(eligible, k, 0),
        ]
    )
    positions = positions_in_rows(matrix, seed, timestamps if order == "latest" else None)
    train, valid, test = _split_by_counts(matrix, counts, positions)
    how = "latest" if order == "latest" else "random"
    valid_text = f", {valid_k} for validation" if valid_k else ""
    return Split(train, valid, test, description=f"leave-{k}-out ({how}{valid_text}), seed {seed}")


def _fold_in_split(
    matrix: sp.csr_matrix,
    heldout: np.ndarray,
    holdout_ratios: Sequence[float],
    seed: int,
    description: str,
) -> Split:
    """Train on every user but ``heldout`` (bool, users,); split the held-out users' rows by
    ``holdout_ratios`` (fold-in:test or fold-in:valid:test)."""
    rows = _row_of_entries(matrix)
    in_heldout = heldout[rows]
    train = select_entries(matrix, ~in_heldout)
    heldout_rows = select_entries(matrix, in_heldout)
    part = ratio_split(heldout_rows, holdout_ratios, seed)
    return Split(train, part.valid, part.test, fold_in=part.train, description=description)


def strong_generalization_split(
    matrix: sp.csr_matrix,
    heldout_fraction: float = 0.1,
    holdout_ratios: Sequence[float] = (0.8, 0.2),
    seed: int = 0,
) -> Split:
    """Hold out a random ``heldout_fraction`` of users (seeded): train on the others; each
    held-out user's items are split by ``holdout_ratios`` into fold-in (seen at test time) and
    test (or fold-in:valid:test)."""
    matrix = _as_csr(matrix)
    if not 0 < heldout_fraction < 1:
        raise MovieRecError(f"heldout_fraction must be between 0 and 1, got {heldout_fraction}")
    rng = np.random.default_rng(seed)
    n_users = matrix.shape[0]
    n_heldout = max(1, int(round(heldout_fraction * n_users)))
    heldout = np.zeros(n_users, dtype=bool)
    heldout[rng.permutation(n_users)[:n_heldout]] = True
    return _fold_in_split(
        matrix,
        heldout,
        holdout_ratios,
        seed + 1,
        f"strong generalization: {n_heldout} held-out users folded in, seed {seed}",
    )


def kfold_user_splits(
    matrix: sp.csr_matrix,
    n_folds: int = 5,
    holdout_ratios: Sequence[float] = (0.8, 0.2),
    seed: int = 0,
) -> list[Split]:
    """K-fold cross-validation over users (strong generalization): users are shuffled (seeded)
    into ``n_folds`` near-equal folds; split ``f`` holds out fold ``f`` (folded in at test time,
    items split by ``holdout_ratios``) and trains on the rest. Every user is held out once."""
    matrix = _as_csr(matrix)
    n_users = matrix.shape[0]
    if not 2 <= n_folds <= n_users:
        raise MovieRecError(f"k-fold needs 2 ≤ folds ≤ users ({n_users}), got {n_folds}")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(n_users, dtype=np.int64)
    fold_of[rng.permutation(n_users)] = np.arange(n_users) % n_folds
    return [
        _fold_in_split(
            matrix,
            fold_of == fold,
            holdout_ratios,
            seed * 1000 + fold,
            f"{n_folds}-fold over users, fold {fold + 1}, seed {seed}",
        )
        for fold in range(n_folds)
    ]
