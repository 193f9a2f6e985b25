"""Movie night: one list of picks for a group of 2 to 6 people, from each one's scores.

The aggregation is **average without misery** (Masthoff's group-recommendation strategies):

1. *Candidates* are the movies nobody in the group has rated or hidden, that every member's
   model row scores (finite).
2. Each member's scores are *normalised* to their percentile rank among the candidates, in
   (0, 1]: the share of candidates that member scores at most as high (ties share the average
   rank). Members whose raw scores run on different scales (five likes or fifty) count alike.
3. *Misery*: a candidate is dropped when, for any member, its score is below that member's own
   25th percentile of the candidates' scores (:data:`MISERY_QUANTILE`) — nobody is dragged to
   a movie the model expects them to like less than three quarters of the alternatives.
4. The rest are ranked by the *mean* of the members' normalised scores (:func:`top_n`: ties to
   the lower item index); each pick *serves most* the member(s) with the highest normalised
   score for it.

Everything here is item indices and arrays; :meth:`movierec.Recommender.recommend_for_group`
turns them into movies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import MovieRecError
from .models import top_n

MIN_MEMBERS, MAX_MEMBERS = 2, 6
MISERY_QUANTILE = 0.25
"""A member's own quantile of the candidates' scores below which a movie is vetoed."""
MISERY_PERCENTILE = f"{MISERY_QUANTILE * 100:g}th percentile"
""":data:`MISERY_QUANTILE` as people read it ("25th percentile"), for messages and tables."""
SERVES_TOLERANCE = 1e-9


@dataclass(frozen=True)
class GroupRanking:
    """The group's picks, best first: ``items`` (indices), their ``group_scores`` (the mean
    normalised score), ``member_scores`` (members × picks, normalised), ``serves`` (per pick,
    the positions of the members it serves most), and how many candidates misery ``vetoed``
    out of ``candidates``."""

    items: np.ndarray
    group_scores: np.ndarray
    member_scores: np.ndarray
    serves: list[tuple[int, ...]]
    candidates: int
    vetoed: int


def check_group_size(members: int) -> None:
    if not MIN_MEMBERS <= members <= MAX_MEMBERS:
        raise MovieRecError(
            f"movie night is for {MIN_MEMBERS} to {MAX_MEMBERS} people, not {members}; "
            f"name {MIN_MEMBERS} to {MAX_MEMBERS} profiles"
        )


def percentile_ranks(scores: np.ndarray) -> np.ndarray:
    """Each score's percentile rank among ``scores``: (its average rank, 1-based) / count, so
    the highest is 1 and equal scores get equal ranks.

    >>> percentile_ranks(np.array([3.0, 1.0, 2.0, 2.0])).tolist()
    [1.0, 0.25, 0.625, 0.625]
    """
    count = len(scores)
    if count == 0:
        return np.zeros(0)
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(count)
    ranks[order] = np.arange(1, count + 1)
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / counts)[inverse] / count


def average_without_misery(
    member_scores: np.ndarray,
    excluded: np.ndarray,
    n: int,
    misery_quantile: float = MISERY_QUANTILE,
) -> GroupRanking:
    """The top ``n`` of the group by the rule of the module docstring. ``member_scores`` is
    members × items (raw scores, one row per member); ``excluded`` the item indices nobody may
    be offered (rated or hidden by anyone)."""
    member_scores = np.asarray(member_scores, dtype=np.float64)
    check_group_size(member_scores.shape[0])
    usable = np.isfinite(member_scores).all(axis=0)
    usable[np.asarray(excluded, dtype=np.intp)] = False
    candidates = np.flatnonzero(usable)
    normalised = np.zeros_like(member_scores)
    vetoed = np.zeros(member_scores.shape[1], dtype=bool)
    if len(candidates):
        for member, row in enumerate(member_scores):
            scores = row[candidates]
            normalised[member, candidates] = percentile_ranks(scores)
            floor = np.quantile(scores, misery_quantile)
            vetoed[candidates[scores < floor]] = True
    group = normalised.mean(axis=0)
    dropped = np.flatnonzero(~usable | vetoed)
    best = top_n(group, n, exclude=dropped)
    picked = normalised[:, best]
    serves = [
        tuple(int(m) for m in np.flatnonzero(column >= column.max() - SERVES_TOLERANCE))
        for column in picked.T
    ]
    return GroupRanking(
        best,
        group[best],
        picked,
        serves,
        len(candidates),
        int(vetoed[candidates].sum()),
    )
