"""A dataset in numbers: what the ``min_rating`` filter keeps (:class:`Stats`) and how many
ratings each star value has. Computed with NumPy from the ratings columns, and saved with every
model, so a saved model can describe its data without the ratings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .. import config
from .dataset import Dataset
from .rules import is_kept, threshold


def _described(description: str) -> Any:
    """A dataclass field with a description (which the web API's schema shows)."""
    return field(metadata={"description": description})


@dataclass(frozen=True)
class Stats:
    """Counts before and after the ``min_rating`` filter (users and movies with kept ratings)."""

    dataset: str = _described("the MovieLens release, e.g. ml-1m")
    ratings_total: int = _described("every rating in the dataset")
    ratings_kept: int = _described("ratings at or above min_rating")
    kept_ratio: float = _described("ratings_kept / ratings_total, rounded to 6 decimals")
    users: int = _described("users with at least one kept rating")
    movies: int = _described("movies with at least one kept rating")
    users_total: int = _described("users with any rating")
    movies_total: int = _described("movies with any rating")
    min_rating: float = _described("the lowest rating kept")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def distinct_count(values: np.ndarray) -> int:
    """How many different values: a presence mask when the ids are small enough (one byte per
    possible id, at most 64 MB; 25M ids in about 0.1 s), else a sort and a comparison
    (np.unique's default is several times slower on tens of millions of ids)."""
    if not len(values):
        return 0
    if int(values.min()) >= 0 and int(values.max()) < 1 << 26:
        seen = np.zeros(int(values.max()) + 1, dtype=bool)
        seen[values] = True
        return int(np.count_nonzero(seen))
    ordered = np.sort(values)
    return int(1 + np.count_nonzero(ordered[1:] != ordered[:-1]))


def id_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct integer ``values`` (ascending, in their dtype) and how often each occurs:
    as ``np.unique(values, return_counts=True)``, by a count per possible id when the ids are
    small enough (ML-1M's kept ratings: ~5× faster); the counts, eight bytes an id, take at
    most 64 MB, as :func:`distinct_count`'s one-byte mask does."""
    values = np.asarray(values)
    small = len(values) and values.dtype.kind == "i" and int(values.min()) >= 0
    if small and int(values.max()) < 1 << 23:
        counts = np.bincount(values)
        ids = np.flatnonzero(counts)
        return ids.astype(values.dtype), counts[ids]
    return np.unique(values, return_counts=True)


def stats(dataset: Dataset, min_rating: float = config.MIN_RATING) -> Stats:
    """How many ratings, users and movies there are, and how many the filter keeps.

    ``kept_ratio`` is ``ratings_kept / ratings_total`` (0.8363 on ML-1M at min_rating 3).
    """
    users, movies = dataset.column("user_id"), dataset.column("movie_id")
    keep = is_kept(dataset.column("rating"), min_rating)
    total, kept = len(keep), int(keep.sum())
    return Stats(
        dataset=dataset.name,
        ratings_total=total,
        ratings_kept=kept,
        kept_ratio=round(kept / total, 6) if total else 0.0,
        users=distinct_count(users[keep]),
        movies=distinct_count(movies[keep]),
        users_total=distinct_count(users),
        movies_total=distinct_count(movies),
        min_rating=float(min_rating),
    )


MAX_RATING_ROWS = 1000
"""The most ``(rating, all, kept)`` rows a summary holds (and a saved model's ``meta.json``
accepts): ratings of more distinct values, such as your own data's play counts, are counted in
bins."""


def rating_counts(
    dataset: Dataset, min_rating: float = config.MIN_RATING
) -> list[tuple[float, int, int]]:
    """``(rating, all, kept)`` per star value, lowest first (``kept`` is 0 below
    ``min_rating``); see :func:`histogram` for data of more than ``MAX_RATING_ROWS`` values."""
    values, counts = np.unique(dataset.column("rating"), return_counts=True)
    return histogram(values, counts, min_rating)


def histogram(
    values: np.ndarray, counts: np.ndarray, min_rating: float
) -> list[tuple[float, int, int]]:
    """``(rating, all, kept)`` rows from the sorted distinct ratings and their counts. Up to
    ``MAX_RATING_ROWS`` values, one row each; beyond, bins of equal width labelled by their
    lower edge, with ``min_rating`` an edge, so that every bin is kept whole or dropped whole
    and ``kept`` stays exact.

    >>> histogram(np.array([1.0, 3.0]), np.array([4, 5]), 3.0)
    [(1.0, 4, 0), (3.0, 5, 5)]
    """
    values = np.asarray(values, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.int64)
    min_rating = threshold(min_rating)  # as the filter compares (datasets.rules)
    if len(values) > MAX_RATING_ROWS:
        edges = np.linspace(values[0], values[-1], MAX_RATING_ROWS - 1, endpoint=False)
        if values[0] < min_rating <= values[-1]:
            edges = np.union1d(edges, [min_rating])
        bins = np.searchsorted(edges, values, side="right") - 1
        counts = np.bincount(bins, weights=counts, minlength=len(edges)).astype(np.int64)
        values = edges[counts > 0]
        counts = counts[counts > 0]
    return [
        (float(v), int(c), int(c) if v >= min_rating else 0)
        for v, c in zip(values.tolist(), counts.tolist())
    ]
