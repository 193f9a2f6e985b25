"""The rules kept ratings obey, each defined once, with its message: the local path, the
evaluation and Spark (which translates a rule into a column expression from the definition
here) all use these.

- the min-rating rule: a rating is kept (read as liked) when ``rating ≥ min_rating``, compared
  in float32, as ratings are stored (:func:`kept`, :func:`threshold`);
- the rating scale: ``min_rating`` must lie within the data's scale (:func:`check_min_rating`);
- a filter that keeps nothing is an error (:func:`nothing_kept`);
- each (user, movie) pair is rated once (:func:`repeated_pairs`).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError, MovieRecError


def threshold(min_rating: float) -> float:
    """``min_rating`` as kept ratings are compared with it: rounded to float32, the ratings'
    own type (compared as doubles, a rating of 3.3 would fall below ``min_rating`` 3.3).

    >>> threshold(3.3) == float(np.float32(3.3)), threshold(3)
    (True, 3.0)
    """
    return float(np.float32(min_rating))


def is_kept(ratings: np.ndarray, min_rating: float) -> np.ndarray:
    """Which ratings the filter keeps: ``rating ≥ min_rating`` in float32 (a bool mask).

    >>> is_kept(np.array([2.5, 3.0, 3.3], dtype=np.float32), 3.3).tolist()
    [False, False, True]
    """
    return np.asarray(ratings, dtype=np.float32) >= np.float32(min_rating)


def nothing_kept(min_rating: float) -> MovieRecError:
    """The error for a filter that keeps no rating."""
    return MovieRecError(f"no ratings are ≥ min_rating {min_rating:g}; lower --min-rating")


def check_min_rating(min_rating: float, low: float, high: float, name: str) -> None:
    """Refuse a ``min_rating`` outside the rating scale ``low``–``high`` of the data ``name``
    (it would keep nothing, or keep everything while claiming to filter)."""
    if math.isfinite(min_rating) and low <= min_rating <= high:
        return
    raise DataError(
        f"--min-rating {min_rating:g} is outside {name}'s rating scale ({low:g} to {high:g}); "
        f"pick a value from {low:g} (keep every rating) to {high:g}"
    )


def repeated_pairs(count: int, user_id: int, movie_id: int) -> DataError:
    """The error for ``count`` (user, movie) pairs rated more than once, naming one."""
    pairs_are = "pair is" if count == 1 else "pairs are"
    return DataError(
        f"{count:,} (user, movie) {pairs_are} rated more than once (e.g. user {user_id}, "
        f"movie {movie_id}); MovieLens rates each movie once per user: fix the ratings file"
    )
