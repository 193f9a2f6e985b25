"""What mutation testing found unguarded in :mod:`movierec.interactions`
(``python bench/mutation.py interactions``): the refusals' messages, ids at the ends of int64,
hashing, BM25's formula, the confidences' dtype and the repeated-pairs error."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from movierec.errors import DataError, MovieRecError
from movierec.interactions import Interactions, Vocabulary, bm25_weight, confidence

INT64 = np.iinfo(np.int64)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (np.array([[1, 2]]), "vocabulary ids must be one-dimensional, not of shape (1, 2)"),
        (np.array([True]), "vocabulary ids must be integers within int64, not bool"),
        (np.array([1.0]), "vocabulary ids must be integers within int64, not float64"),
        (np.array([1, 3, 2]), "vocabulary ids must be sorted and unique"),  # 3 and 2 above 1
    ],
)
def test_a_vocabulary_says_why_it_refuses_ids(ids: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Vocabulary(ids)


def test_ids_at_the_ends_of_int64_are_found() -> None:
    vocab = Vocabulary(np.array([INT64.min, 0, INT64.max]))
    assert [vocab.find(i) for i in (INT64.min, 0, INT64.max)] == [0, 1, 2]


def test_vocabularies_of_other_ids_hash_apart() -> None:
    assert len({hash(Vocabulary(np.array([i]))) for i in range(20)}) > 1


def _bm25_by_hand(dense: np.ndarray, k1: float, b: float) -> np.ndarray:
    """BM25 entry by entry: idf = log(users / (1 + users who have the item)), the user's
    length normalised by the mean length; negative weights (common items) become 0."""
    users = len(dense)
    lengths = dense.sum(axis=1)
    mean = lengths.mean()
    out = np.zeros_like(dense)
    for u, i in zip(*np.nonzero(dense)):
        idf = math.log(users / (1 + np.count_nonzero(dense[:, i])))
        norm = 1 - b + b * lengths[u] / mean
        out[u, i] = max(dense[u, i] * (k1 + 1) / (k1 * norm + dense[u, i]) * idf, 0.0)
    return out


@pytest.mark.parametrize("scale", [0.1, 4.0])  # mean row length below 1, and above
@pytest.mark.parametrize("params", [{}, {"k1": 0.9, "b": 0.4}], ids=["defaults", "given"])
def test_bm25_weights_are_the_formula(scale: float, params: dict[str, float]) -> None:
    dense = scale * np.array(
        [[5, 0, 0, 1, 0, 0], [3, 4, 0, 0, 0, 0], [0, 0, 2, 0, 0, 0], [4, 0, 0, 0, 3, 0]]
        + [[0, 0, 0, 0, 0, 2], [1, 0, 0, 0, 0, 0]],
        dtype=np.float32,
    )
    weighted = bm25_weight(sp.csr_matrix(dense), **params)
    assert weighted.dtype == np.float32
    expected = _bm25_by_hand(dense.astype(np.float64), params.get("k1", 1.2), params.get("b", 0.75))
    np.testing.assert_allclose(weighted.toarray(), expected, rtol=1e-5)


@pytest.mark.parametrize("weighting", ["rating", "binary", "bm25"])
def test_confidences_are_float32_and_the_weighting_is_kept(weighting: str) -> None:
    assert confidence(np.array([4, 5]), weighting).dtype == np.float32
    frame = pd.DataFrame({"user_id": [1, 2], "movie_id": [1, 2], "rating": [4, 5]})
    assert Interactions.from_ratings(frame, weighting=weighting).weighting == weighting


def test_an_unknown_weighting_names_the_known_ones() -> None:
    message = "unknown weighting 'log'; choose one of rating, binary, bm25"
    with pytest.raises(MovieRecError, match=f"^{re.escape(message)}$"):
        confidence(np.array([4.0]), "log")


def test_repeated_pairs_are_counted_and_the_first_named() -> None:
    # (1, 5) once, (2, 6) twice, (3, 7) three times: two pairs repeat, (2, 6) first.
    frame = pd.DataFrame(
        {"user_id": [3, 1, 2, 3, 2, 3], "movie_id": [7, 5, 6, 7, 6, 7], "rating": [4] * 6}
    )
    message = (
        "2 (user, movie) pairs are rated more than once (e.g. user 2, movie 6); "
        "MovieLens rates each movie once per user: fix the ratings file"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        Interactions.from_ratings(frame)
