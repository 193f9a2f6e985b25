"""Ratings table → interactions: the min-rating filter, id vocabularies, confidence, a CSR matrix.

Raw MovieLens ids (``user_id``, ``movie_id``) and matrix indices (``user_index``, ``item_index``)
are different things; a :class:`Vocabulary` is the only place one becomes the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .datasets.rules import is_kept, nothing_kept, repeated_pairs
from .errors import MovieRecError

if TYPE_CHECKING:  # pandas and SciPy build interactions; a Vocabulary alone needs neither
    import pandas as pd
    import scipy.sparse as sp

WEIGHTINGS = ("rating", "binary", "bm25")
WEIGHTING_WORDS = {
    "rating": "ratings as weights",
    "binary": "binary feedback",
    "bm25": "BM25-weighted ratings",
}
"""Each weighting as people read it (:meth:`movierec.Settings.describe`)."""
_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
TABLE_SPAN = 1 << 25
"""Ids from 0 to below this (MovieLens' are) are indexed through a table of every id up to
the largest when there are many to index: a pass over the ids instead of a sort (ML-1M's
kept ratings: ~4× faster). The table holds at most this many entries."""
TABLE_MIN_IDS = 4096
"""The fewest ids a lookup indexes through a table; fewer go by binary search."""


def _table_span(raw_ids: np.ndarray) -> int | None:
    """``max + 1`` of many signed-integer ids in ``[0, TABLE_SPAN)``, where a table of that
    many entries is no larger than 16 × the ids (else None: sort or search instead)."""
    if raw_ids.dtype.kind != "i" or raw_ids.ndim != 1 or len(raw_ids) < TABLE_MIN_IDS:
        return None
    low, high = int(raw_ids.min()), int(raw_ids.max())
    if low < 0 or high >= TABLE_SPAN or high >= 16 * len(raw_ids):
        return None
    return high + 1


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """A bijection between raw ids and contiguous indices ``0..len-1``.

    ``ids`` is int64, sorted and unique: index ``i`` stands for raw id ``ids[i]``. Integer ids
    of a narrower type are widened; anything else (floats, uint64, unsorted or repeated ids) is
    a ValueError, so no id is ever rounded, wrapped or looked up in the wrong place. It is a
    value: two vocabularies of the same ids are equal and hash alike. A bool is no id
    (``True in vocab`` is False, though True == 1).

    >>> vocab = Vocabulary.from_ids(np.array([30, 10, 20, 10]))
    >>> vocab.index_of(np.array([20, 30])).tolist(), vocab.id_of(np.array([0])).tolist()
    ([1, 2], [10])
    """

    ids: np.ndarray

    def __post_init__(self) -> None:
        ids = np.asarray(self.ids)
        if ids.ndim != 1:
            raise ValueError(f"vocabulary ids must be one-dimensional, not of shape {ids.shape}")
        if ids.dtype == np.bool_:
            raise ValueError("vocabulary ids must be integers within int64, not bool")
        if ids.dtype != np.int64:
            if len(ids) and not np.can_cast(ids.dtype, np.int64, casting="safe"):
                raise ValueError(f"vocabulary ids must be integers within int64, not {ids.dtype}")
            ids = ids.astype(np.int64)
        if len(ids) > 1 and not np.all(ids[1:] > ids[:-1]):
            raise ValueError("vocabulary ids must be sorted and unique")
        object.__setattr__(self, "ids", ids)

    @classmethod
    def from_ids(cls, raw_ids: np.ndarray) -> Vocabulary:
        """The vocabulary of the distinct ``raw_ids``."""
        raw_ids = np.asarray(raw_ids)
        span = _table_span(raw_ids)
        if span is None:
            return cls(np.unique(raw_ids))
        present = np.zeros(span, dtype=bool)
        present[raw_ids] = True
        return cls(np.flatnonzero(present).astype(np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return bool(np.array_equal(self.ids, other.ids))

    def __hash__(self) -> int:
        return hash(self.ids.tobytes())

    def __contains__(self, raw_id: object) -> bool:
        # A number equal to an id is in (3.0 is 3); anything else, a bool or a string, is not.
        if isinstance(raw_id, (bool, np.bool_)) or not isinstance(
            raw_id, (int, float, np.integer, np.floating)
        ):
            return False
        return self.find(raw_id) is not None

    def find(self, raw_id: float | np.integer | np.floating) -> int | None:
        """The index of one raw id, or None when the id is not in the vocabulary."""
        if not _INT64_MIN <= raw_id <= _INT64_MAX:
            return None  # no int64 id can equal it (and searchsorted would overflow)
        position = int(np.searchsorted(self.ids, raw_id))
        if position < len(self.ids) and self.ids[position] == raw_id:
            return position
        return None

    def lookup(self, raw_ids: np.ndarray) -> np.ndarray:
        """Indices of raw ids (int64), -1 for an id not in the vocabulary: the one bulk id →
        index lookup (:meth:`index_of` refuses unknown ids instead).

        >>> Vocabulary.from_ids(np.array([10, 20])).lookup(np.array([20, 15, 10])).tolist()
        [1, -1, 0]
        """
        raw_ids = np.asarray(raw_ids)
        if not len(self.ids):
            return np.full(raw_ids.shape, -1, dtype=np.int64)
        if self.ids[0] >= 0 and _table_span(raw_ids) is not None:
            largest = int(self.ids[-1])
            if largest < TABLE_SPAN and largest < 16 * len(raw_ids):
                table = np.full(largest + 2, -1, dtype=np.int64)  # the last: ids out of range
                table[self.ids] = np.arange(len(self.ids))
                return table[np.minimum(raw_ids, largest + 1)]
        positions = np.minimum(np.searchsorted(self.ids, raw_ids), len(self.ids) - 1)
        return np.where(self.ids[positions] == raw_ids, positions, -1).astype(np.int64)

    def index_of(self, raw_ids: np.ndarray) -> np.ndarray:
        """Indices of raw ids (int32); every id must be known (KeyError names the first that
        is not)."""
        indices = self.lookup(raw_ids)
        unknown = indices < 0
        if unknown.any():
            raise KeyError(int(np.asarray(raw_ids)[unknown].flat[0]))
        return indices.astype(np.int32)

    def id_of(self, indices: np.ndarray) -> np.ndarray:
        """Raw ids of indices."""
        return self.ids[np.asarray(indices)]


def bm25_weight(matrix: sp.csr_matrix, k1: float = 1.2, b: float = 0.75) -> sp.csr_matrix:
    """BM25-weight a users × items matrix: items' IDF times a user-length-normalized term weight."""
    matrix = matrix.tocsr().astype(np.float32)
    n_users = matrix.shape[0]
    item_users = np.bincount(matrix.indices, minlength=matrix.shape[1])
    idf = np.log(n_users / (1.0 + item_users)).astype(np.float32)
    row_sums = np.asarray(matrix.sum(axis=1)).ravel()
    length_norm = (1.0 - b) + b * row_sums / max(row_sums.mean(), 1e-12)
    row_of = np.repeat(np.arange(n_users), np.diff(matrix.indptr))
    tf = matrix.data
    weighted = tf * (k1 + 1.0) / (k1 * length_norm[row_of] + tf) * idf[matrix.indices]
    out = matrix.copy()
    out.data = np.maximum(weighted, 0.0).astype(np.float32)
    out.eliminate_zeros()
    return out


PER_RATING: dict[str, float | None] = {"rating": None, "binary": 1.0}
"""The weightings that read each rating alone: to a constant, or (None) to the rating itself.
The others (BM25) need the whole matrix, and apply after :func:`confidence`."""


def confidence(values: np.ndarray, weighting: str) -> np.ndarray:
    """Confidence per kept rating before BM25 (which needs the whole matrix)."""
    if weighting not in WEIGHTINGS:
        raise MovieRecError(
            f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}"
        )
    constant = PER_RATING.get(weighting)
    if constant is not None:
        return np.full(len(values), constant, dtype=np.float32)
    return values.astype(np.float32)


def favourite_confidence(top_rating: float, weighting: str) -> float:
    """The confidence a new user's favourite movie gets when folded in: the highest rating in
    the data, read through :func:`confidence` like every kept rating (1 under ``"binary"``; the
    rating itself under ``"rating"`` and ``"bm25"``, whose weights need the whole matrix).

    >>> favourite_confidence(5.0, "rating"), favourite_confidence(5.0, "binary")
    (5.0, 1.0)
    """
    return float(confidence(np.array([top_rating]), weighting)[0])


def _repeated_pair(user_ids: np.ndarray, movie_ids: np.ndarray) -> MovieRecError:
    pairs = np.column_stack([user_ids, movie_ids])
    unique, counts = np.unique(pairs, axis=0, return_counts=True)
    user_id, movie_id = unique[np.argmax(counts > 1)].tolist()
    return repeated_pairs(int((counts > 1).sum()), user_id, movie_id)


@dataclass(frozen=True)
class Interactions:
    """The kept ratings as a users × items CSR matrix of confidences, with both vocabularies.

    ``matrix[user_index, item_index]`` is the confidence that the user likes the item: the rating
    itself (``weighting="rating"``, as the course notebook reads it), 1 (``"binary"``) or its BM25
    weight (``"bm25"``).
    """

    users: Vocabulary
    items: Vocabulary
    matrix: sp.csr_matrix
    min_rating: float
    weighting: str

    @classmethod
    def from_ratings(
        cls, ratings: pd.DataFrame, min_rating: float = 3, weighting: str = "rating"
    ) -> Interactions:
        """Keep ratings ≥ ``min_rating`` and index them; a (user, movie) pair kept twice is a
        DataError (their confidences would otherwise add up unseen).

        >>> import pandas as pd
        >>> frame = pd.DataFrame({"user_id": [7, 7, 9], "movie_id": [1, 2, 1], "rating": [5, 2, 3]})
        >>> Interactions.from_ratings(frame, min_rating=3).matrix.toarray().tolist()
        [[5.0], [3.0]]
        """
        import scipy.sparse as sp

        stars = ratings["rating"].to_numpy()
        kept = is_kept(stars, min_rating)
        if not kept.any():
            raise nothing_kept(min_rating)
        user_ids = ratings["user_id"].to_numpy()[kept]
        movie_ids = ratings["movie_id"].to_numpy()[kept]
        users = Vocabulary.from_ids(user_ids)
        items = Vocabulary.from_ids(movie_ids)
        rows = users.index_of(user_ids)
        cols = items.index_of(movie_ids)
        values = confidence(stars[kept], weighting)
        matrix = sp.csr_matrix((values, (rows, cols)), shape=(len(users), len(items)))
        matrix.sum_duplicates()
        if matrix.nnz != len(values):  # a repeated rating would silently add up
            raise _repeated_pair(user_ids, movie_ids)
        if weighting == "bm25":
            matrix = bm25_weight(matrix)
        return cls(users, items, matrix.astype(np.float32), float(min_rating), weighting)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)
