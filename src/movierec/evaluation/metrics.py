"""Top-K ranking metrics over a full ranking of all items, vectorized over batches of users.

Each user's scores for every item are ranked after masking the items the user already has
(train, and at test time validation too); the K best unmasked items are the recommendations
``R_u`` (best first, ``r = 1..K``), picked by :func:`movierec.models.top_n`, the very ranking the
recommender serves (ties to the lower item index; NaN and infinite scores never recommended).
``T_u`` are the user's held-out items; ``rel_r`` is 1 when the item at rank ``r`` is in ``T_u``.
Per-user metrics (averaged over users with ``T_u`` non-empty):

- **precision@K** = |R_u ∩ T_u| / K. Always K, even when |T_u| < K (``implicit``'s
  ``precision_at_k`` divides by min(K, |T_u|), which is not precision).
- **recall@K** = |R_u ∩ T_u| / |T_u|.
- **hit@K** (hit rate) = 1 if |R_u ∩ T_u| > 0 else 0.
- **mrr@K** = 1 / (rank of the first hit), 0 without a hit in the top K.
- **ndcg@K** = DCG / IDCG with DCG = Σ_r rel_r / log2(r + 1) and IDCG the same sum for a perfect
  ranking: Σ_{r=1..min(|T_u|, K)} 1 / log2(r + 1).
- **map@K** = Σ_r precision@r · rel_r / min(|T_u|, K) (average precision truncated at K).

Catalog-level metrics (over all evaluated users' lists at once):

- **coverage@K** = |∪_u R_u| / number of items: the share of the catalog recommended to anyone.
- **popularity_bias@K** = mean over users of the mean popularity percentile of the items in R_u.
  An item's percentile is its rank by training popularity (number of training users who have it),
  scaled to [0, 1] — 0 for the least popular item, 1 for the most popular, ties sharing their
  average rank. About 0.5 means no lean towards popular items; near 1, only blockbusters.

All return values lie in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from ..models.ranking import NO_ITEM, top_n

RANKING_METRICS = ("precision", "recall", "ndcg", "map", "hit", "mrr")
CATALOG_METRICS = ("coverage", "popularity_bias")
METRICS = RANKING_METRICS + CATALOG_METRICS

METRIC_LABELS = {
    "precision": "Precision",
    "recall": "Recall",
    "ndcg": "NDCG",
    "map": "MAP",
    "hit": "Hit rate",
    "mrr": "MRR",
    "coverage": "Coverage",
    "popularity_bias": "Popularity bias",
    "fit_seconds": "Fit time (s)",
}
"""Each metric's name for people, and ``fit_seconds`` (the runner's timing row) too."""
SHORT_METRIC_LABELS = {
    "precision": "P",
    "recall": "R",
    "ndcg": "NDCG",
    "map": "MAP",
    "hit": "Hit",
    "mrr": "MRR",
    "coverage": "Cov",
    "popularity_bias": "PopBias",
    "fit_seconds": "fit s",
}
"""The same names where a table column is narrow (the terminal)."""


def hits_matrix(recommended: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """``hits[u, r]`` is True when the item at rank ``r`` of user ``u`` is relevant.

    ``recommended`` is users × K item indices (NO_ITEM allowed), ``relevant`` users × items CSR.
    """
    relevant = sp.csr_matrix(relevant)
    n_users, n_items = relevant.shape
    dense = np.zeros((n_users, n_items + 1), dtype=bool)  # the extra column absorbs NO_ITEM
    rows = np.repeat(np.arange(n_users), np.diff(relevant.indptr))
    dense[rows, relevant.indices] = True
    return np.take_along_axis(dense, np.where(recommended < 0, n_items, recommended), axis=1)


def ranking_metrics(
    hits: np.ndarray, n_relevant: np.ndarray, ks: Sequence[int]
) -> dict[str, np.ndarray]:
    """Per-user ranking metrics at every K in ``ks``: {metric: (len(ks) × users) float64}.

    ``hits`` is users × K_max booleans (rank order) with K_max ≥ max(ks); ``n_relevant`` (users,)
    is each user's |T_u| ≥ 1. Definitions in the module docstring.
    """
    hits = np.asarray(hits, dtype=bool)
    n_relevant = np.asarray(n_relevant, dtype=np.float64)
    k_max = hits.shape[1]
    if max(ks) > k_max or min(ks) < 1:
        raise ValueError(f"every K must be within 1..{k_max}, got {list(ks)}")
    if np.any(n_relevant < 1):
        raise ValueError("every evaluated user needs at least one relevant item")
    as_float = hits.astype(np.float64)
    ranks = np.arange(1, k_max + 1, dtype=np.float64)
    discounts = 1.0 / np.log2(ranks + 1.0)
    cum_hits = np.cumsum(as_float, axis=1)
    cum_dcg = np.cumsum(as_float * discounts, axis=1)
    cum_ap = np.cumsum(cum_hits / ranks * as_float, axis=1)
    ideal_cum = np.cumsum(discounts)
    any_hit = hits.any(axis=1)
    first_hit = np.argmax(hits, axis=1)  # 0 when there is no hit; guarded by any_hit
    out: dict[str, list[np.ndarray]] = {name: [] for name in RANKING_METRICS}
    for k in ks:
        hit_count = cum_hits[:, k - 1]
        ideal_len = np.minimum(n_relevant, k).astype(np.int64)
        out["precision"].append(hit_count / k)
        out["recall"].append(hit_count / n_relevant)
        out["ndcg"].append(cum_dcg[:, k - 1] / ideal_cum[ideal_len - 1])
        out["map"].append(cum_ap[:, k - 1] / ideal_len)
        out["hit"].append((hit_count > 0).astype(np.float64))
        out["mrr"].append(np.where(any_hit & (first_hit < k), 1.0 / (first_hit + 1.0), 0.0))
    return {name: np.vstack(values) for name, values in out.items()}


def popularity_percentiles(item_counts: np.ndarray) -> np.ndarray:
    """Each item's popularity percentile in [0, 1] (items,): 0 least, 1 most popular, ties
    averaged; all 0.5 when every item is equally popular."""
    from scipy.stats import rankdata  # about a second to import; only the metrics need it

    counts = np.asarray(item_counts, dtype=np.float64)
    if len(counts) < 2 or np.all(counts == counts[0]):
        return np.full(len(counts), 0.5)
    return (rankdata(counts, method="average") - 1.0) / (len(counts) - 1.0)


class MetricAccumulator:
    """Collects metrics over batches of users; :meth:`result` gives the means.

    >>> acc = MetricAccumulator(ks=[2], n_items=4, item_counts=np.array([4, 3, 2, 1]))
    >>> scores = np.array([[0.9, 0.1, 0.8, 0.2]])
    >>> acc.add(scores, known=sp.csr_matrix((1, 4)), relevant=sp.csr_matrix([[0, 0, 1, 1]]))
    >>> round(acc.result()[("precision", 2)], 3), round(acc.result()[("coverage", 2)], 3)
    (0.5, 0.5)
    """

    def __init__(self, ks: Sequence[int], n_items: int, item_counts: np.ndarray) -> None:
        self.ks = sorted({int(k) for k in ks})
        if not self.ks or self.ks[0] < 1:
            raise ValueError(f"K must be at least 1, got {list(ks)}")
        self.n_items = int(n_items)
        self.percentiles = popularity_percentiles(item_counts)
        self.n_users = 0
        self.sums = {(name, k): 0.0 for name in RANKING_METRICS for k in self.ks}
        self.popularity_sums = dict.fromkeys(self.ks, 0.0)
        self.covered = {k: np.zeros(self.n_items, dtype=bool) for k in self.ks}

    def add(self, scores: np.ndarray, known: sp.csr_matrix, relevant: sp.csr_matrix) -> None:
        """One batch: ``scores``, ``known`` and ``relevant`` are all (batch users × items); every
        user in the batch must have at least one relevant item."""
        recommended = top_n(scores, self.ks[-1], exclude=known)
        relevant = sp.csr_matrix(relevant)
        per_user = ranking_metrics(
            hits_matrix(recommended, relevant), np.diff(relevant.indptr), self.ks
        )
        for name, values in per_user.items():
            for row, k in enumerate(self.ks):
                self.sums[(name, k)] += float(values[row].sum())
        for k in self.ks:
            top = recommended[:, :k]
            valid = top != NO_ITEM
            self.covered[k][top[valid]] = True
            percentile = np.where(valid, self.percentiles[np.where(valid, top, 0)], 0.0)
            slots = np.maximum(valid.sum(axis=1), 1)
            self.popularity_sums[k] += float((percentile.sum(axis=1) / slots).sum())
        self.n_users += len(recommended)

    def result(self) -> dict[tuple[str, int], float]:
        """{(metric, K): mean over users} for every metric in :data:`METRICS` and K."""
        users = max(self.n_users, 1)
        out = {key: total / users for key, total in self.sums.items()}
        for k in self.ks:
            out[("coverage", k)] = float(self.covered[k].sum()) / max(self.n_items, 1)
            out[("popularity_bias", k)] = self.popularity_sums[k] / users
        return out


def evaluate_scores(
    scores: np.ndarray,
    known: sp.csr_matrix,
    relevant: sp.csr_matrix,
    ks: Sequence[int],
    item_counts: np.ndarray,
    batch_size: int = 1024,
) -> dict[tuple[str, int], float]:
    """All metrics for a dense score block (users × items), in batches of users.

    Users without relevant items are skipped. Returns {(metric, K): mean}.
    """
    relevant = sp.csr_matrix(relevant)
    known = sp.csr_matrix(known)
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    accumulator = MetricAccumulator(ks, scores.shape[1], item_counts)
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        accumulator.add(scores[batch], known[batch], relevant[batch])
    return accumulator.result()
