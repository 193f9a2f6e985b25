"""Vocabularies and the min-rating filter: invariants checked on generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.errors import MovieRecError
from movierec.interactions import Interactions, Vocabulary

ids = st.lists(st.integers(min_value=-(2**31), max_value=2**31 - 1), min_size=1, max_size=200)


@given(ids)
def test_vocabulary_round_trips_ids(raw: list[int]) -> None:
    vocab = Vocabulary.from_ids(np.array(raw, dtype=np.int64))
    indices = vocab.index_of(np.array(raw))
    assert vocab.id_of(indices).tolist() == raw
    assert sorted(set(indices.tolist())) == list(range(len(vocab)))


@given(ids, st.integers())
def test_vocabulary_find_agrees_with_membership(raw: list[int], probe: int) -> None:
    vocab = Vocabulary.from_ids(np.array(raw, dtype=np.int64))
    found = vocab.find(probe)
    assert (found is not None) == (probe in set(raw))
    if found is not None:
        assert vocab.ids[found] == probe


def test_unknown_id_raises_key_error_naming_it() -> None:
    vocab = Vocabulary.from_ids(np.array([10, 20]))
    with pytest.raises(KeyError, match="15"):
        vocab.index_of(np.array([10, 15]))


ratings_frames = st.lists(
    st.tuples(st.integers(1, 30), st.integers(1, 40), st.sampled_from([1, 2, 3, 4, 5, 0.5, 3.5])),
    min_size=1,
    max_size=300,
    unique_by=lambda r: (r[0], r[1]),
).map(lambda rows: pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"]))


@settings(max_examples=60, deadline=None)
@given(ratings_frames, st.sampled_from([1, 3, 4]))
def test_filter_keeps_exactly_the_ratings_at_or_above_min(
    frame: pd.DataFrame, min_rating: int
) -> None:
    kept = frame[frame["rating"] >= min_rating]
    if kept.empty:
        with pytest.raises(MovieRecError, match="min_rating"):
            Interactions.from_ratings(frame, min_rating)
        return
    inter = Interactions.from_ratings(frame, min_rating)
    assert inter.nnz == len(kept)
    assert set(inter.users.ids.tolist()) == set(kept["user_id"])
    assert set(inter.items.ids.tolist()) == set(kept["movie_id"])
    coo = inter.matrix.tocoo()
    back = set(
        zip(
            inter.users.id_of(coo.row).tolist(),
            inter.items.id_of(coo.col).tolist(),
            coo.data.tolist(),
        )
    )
    assert back == set(zip(kept["user_id"], kept["movie_id"], kept["rating"].astype(float)))


def test_weightings() -> None:
    frame = pd.DataFrame(
        {"user_id": [1, 1, 2, 3], "movie_id": [1, 2, 1, 1], "rating": [5, 3, 4, 3]}
    )
    assert Interactions.from_ratings(frame, weighting="binary").matrix.data.tolist() == [1.0] * 4
    bm25 = Interactions.from_ratings(frame, weighting="bm25").matrix
    # movie 2 is rarer than movie 1, so user 1's BM25 weight for it is higher despite a lower rating
    assert bm25[0, 1] > bm25[0, 0] >= 0
    with pytest.raises(MovieRecError, match="weighting"):
        Interactions.from_ratings(frame, weighting="log")
