"""Named evaluation protocols: which ratings count, which filter, which split, which metrics.

A protocol turns a loaded dataset into :class:`PreparedData` (the kept ratings as interactions
whose values are the ratings themselves; models' weightings are applied later, to train only)
and, for each seed, into one or more :class:`~movierec.evaluation.splits.Split`.

- ``recbole``: RecBole's ML-1M benchmark setting — ratings ≥ 3, a 10-core filter on users and
  items repeated until stable (834,449 interactions remain on ML-1M), per-user random 8:1:1,
  full ranking with train and validation items masked at test time; headline metrics
  Recall@10, NDCG@10, Hit@10, Precision@10, MRR@10.
- ``ratio``: the same 8:1:1 split without the k-core filter.
- ``loo``: leave-one-out at random (one validation, one test item per user with 3 or more).
- ``loo-latest``: leave-one-out of the newest ratings (needs timestamps).
- ``kfold``: 5-fold cross-validation over users, strong generalization: each fold's users are
  unseen in training and folded in from 80% of their items, the other 20% are the test items.
- ``strong``: one strong-generalization split, 10% of users held out (80% folded in, 10%
  validation, 10% test).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ..datasets import Dataset
from ..datasets.rules import is_kept
from ..errors import MovieRecError
from ..interactions import Interactions, Vocabulary
from .splits import Split, kfold_user_splits, leave_k_out, ratio_split, strong_generalization_split

SPLIT_KINDS = ("ratio", "leave-k-out", "kfold", "strong")


@dataclass(frozen=True)
class PreparedData:
    """The kept ratings of a dataset, filtered as a protocol says.

    ``interactions.matrix`` (users × items, CSR) holds the ratings themselves;
    ``timestamps`` (nnz,) the rating times of its entries in CSR order, or None when the dataset
    has none.
    """

    dataset: str
    interactions: Interactions
    timestamps: np.ndarray | None

    @property
    def matrix(self) -> Any:
        return self.interactions.matrix


def k_core(interactions: Interactions, min_user: int, min_item: int) -> Interactions:
    """Drop users with fewer than ``min_user`` items and items with fewer than ``min_item``
    users, repeated until every remaining user and item qualifies (the unique largest such
    sub-matrix); vocabularies shrink to what remains."""
    matrix = interactions.matrix.tocsr()
    keep_users = np.ones(matrix.shape[0], dtype=bool)
    keep_items = np.ones(matrix.shape[1], dtype=bool)
    while True:
        current = matrix[keep_users][:, keep_items]
        user_ok = np.diff(current.indptr) >= min_user
        item_ok = np.bincount(current.indices, minlength=current.shape[1]) >= min_item
        if user_ok.all() and item_ok.all():
            break
        keep_users[np.flatnonzero(keep_users)[~user_ok]] = False
        keep_items[np.flatnonzero(keep_items)[~item_ok]] = False
    if current.nnz == 0:
        raise MovieRecError(
            f"no ratings survive a {min_user}-core filter on users and {min_item}-core on items; "
            "use a larger dataset or a protocol without k-core (ratio, loo)"
        )
    current = current.tocsr()
    current.sort_indices()
    return Interactions(
        Vocabulary(interactions.users.ids[keep_users]),
        Vocabulary(interactions.items.ids[keep_items]),
        current,
        interactions.min_rating,
        interactions.weighting,
    )


def entry_timestamps(interactions: Interactions, dataset: Dataset) -> np.ndarray | None:
    """Rating times aligned with ``interactions.matrix``'s entries (nnz,), or None.

    MovieLens has one rating per user and movie, so each entry has exactly one time."""
    if not dataset.has_timestamps:
        return None
    ratings = dataset.ratings
    liked = ratings[is_kept(ratings["rating"].to_numpy(), interactions.min_rating)]
    rows = interactions.users.lookup(liked["user_id"].to_numpy())
    cols = interactions.items.lookup(liked["movie_id"].to_numpy())
    known = (rows >= 0) & (cols >= 0)
    times = liked["timestamp"].to_numpy()[known]
    keys = rows[known] * interactions.n_items + cols[known]
    order = np.argsort(keys, kind="stable")
    matrix = interactions.matrix
    entry_rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    entry_keys = entry_rows * interactions.n_items + matrix.indices
    found = order[np.searchsorted(keys[order], entry_keys)]
    return times[found]


@dataclass(frozen=True)
class Protocol:
    """How to evaluate: the rating filter, the k-core, the split and the headline metrics.

    ``split`` is one of ``ratio`` (``ratios``), ``leave-k-out`` (``leave_k``, ``valid_k``,
    ``order``), ``kfold`` (``n_folds``, ``holdout_ratios``) or ``strong`` (``heldout_fraction``,
    ``holdout_ratios``).
    """

    name: str
    description: str
    split: str
    min_rating: float = 3.0
    k_core: int = 0
    ratios: tuple[float, ...] = (0.8, 0.1, 0.1)
    leave_k: int = 1
    valid_k: int = 1
    order: str = "random"
    n_folds: int = 5
    heldout_fraction: float = 0.1
    holdout_ratios: tuple[float, ...] = (0.8, 0.2)
    headline: tuple[str, ...] = ("recall", "ndcg", "hit", "precision", "mrr")

    def __post_init__(self) -> None:
        if self.split not in SPLIT_KINDS:
            raise ValueError(f"unknown split kind {self.split!r}")

    def with_min_rating(self, min_rating: float | None) -> Protocol:
        """This protocol with another rating threshold (None keeps its own)."""
        return self if min_rating is None else replace(self, min_rating=float(min_rating))

    def prepare(self, dataset: Dataset) -> PreparedData:
        """Keep ratings ≥ ``min_rating`` (values stay the ratings), then the k-core if any."""
        interactions = Interactions.from_ratings(dataset.ratings, self.min_rating, "rating")
        if self.k_core:
            interactions = k_core(interactions, self.k_core, self.k_core)
        return PreparedData(dataset.name, interactions, entry_timestamps(interactions, dataset))

    def splits(self, data: PreparedData, seed: int) -> list[Split]:
        """The split(s) of one seed: one for ratio / leave-k-out / strong, ``n_folds`` for kfold."""
        matrix = data.matrix
        if self.split == "ratio":
            return [ratio_split(matrix, self.ratios, seed)]
        if self.split == "leave-k-out":
            return [
                leave_k_out(matrix, self.leave_k, seed, self.order, self.valid_k, data.timestamps)
            ]
        if self.split == "kfold":
            return kfold_user_splits(matrix, self.n_folds, self.holdout_ratios, seed)
        return [
            strong_generalization_split(matrix, self.heldout_fraction, self.holdout_ratios, seed)
        ]

    def check(self, data: PreparedData) -> None:
        """Fail early, with the way out, when the data cannot support this protocol."""
        if self.split == "leave-k-out" and self.order == "latest" and data.timestamps is None:
            raise MovieRecError(
                f"protocol {self.name!r} splits by time, but {data.dataset} here has no rating "
                "timestamps (its ratings file has no timestamp field); use --protocol loo (random "
                "leave-one-out) or a dataset with timestamps such as ml-latest-small or ml-100k"
            )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("ratios", "holdout_ratios", "headline"):
            out[key] = list(out[key])
        return out


PROTOCOLS: dict[str, Protocol] = {
    protocol.name: protocol
    for protocol in (
        Protocol(
            "recbole",
            "RecBole ML-1M: ratings ≥ 3, 10-core users and items, per-user random 8:1:1, "
            "full ranking, train+valid masked at test",
            "ratio",
            k_core=10,
        ),
        Protocol("ratio", "per-user random 8:1:1, full ranking (no k-core)", "ratio"),
        Protocol(
            "loo",
            "random leave-one-out: 1 validation + 1 test item per user, full ranking",
            "leave-k-out",
        ),
        Protocol(
            "loo-latest",
            "leave-latest-out: newest item test, next newest validation (timestamps)",
            "leave-k-out",
            order="latest",
        ),
        Protocol(
            "kfold",
            "5-fold over users, strong generalization: held-out users folded in "
            "from 80% of their items, 20% tested",
            "kfold",
            holdout_ratios=(0.8, 0.2),
        ),
        Protocol(
            "strong",
            "strong generalization: 10% of users held out, folded in from 80%, "
            "10% validation, 10% test",
            "strong",
            holdout_ratios=(0.8, 0.1, 0.1),
        ),
    )
}


def get_protocol(name: str) -> Protocol:
    """A protocol by name; MovieRecError listing the choices otherwise."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise MovieRecError(
            f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}"
        ) from None
