"""Splits and protocols: disjoint, complete, per-user ratios, seeds reproduce, k-core, times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.errors import MovieRecError
from movierec.evaluation.protocols import PROTOCOLS, entry_timestamps, get_protocol, k_core
from movierec.evaluation.splits import (
    Split,
    kfold_user_splits,
    leave_k_out,
    positions_in_rows,
    ratio_counts,
    ratio_split,
    strong_generalization_split,
)
from movierec.interactions import Interactions


def random_matrix(n_users: int = 40, n_items: int = 60, density: float = 0.3, seed: int = 0):
    """Users × items with ratings 1..5 as values (so moved values can be checked)."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < density) * rng.integers(1, 6, (n_users, n_items))
    return sp.csr_matrix(dense.astype(np.float32))


def pattern(matrix: sp.csr_matrix) -> sp.csr_matrix:
    out = matrix.copy().tocsr()
    out.data = np.ones_like(out.data)
    return out


def assert_partition(matrix: sp.csr_matrix, parts: list[sp.csr_matrix]) -> None:
    """The parts are pairwise disjoint and add up to the matrix, values included."""
    for i, first in enumerate(parts):
        for second in parts[i + 1 :]:
            assert pattern(first).multiply(pattern(second)).nnz == 0
    total = sum(parts[1:], parts[0])
    assert (total != matrix).nnz == 0
    assert sum(part.nnz for part in parts) == matrix.nnz


def same_split(a: Split, b: Split) -> bool:
    return all(
        (x != y).nnz == 0 for x, y in ((a.train, b.train), (a.valid, b.valid), (a.test, b.test))
    )


@pytest.mark.parametrize(
    "n, expected",
    [
        (10, [8, 1, 1]),
        (25, [21, 2, 2]),
        (5, [3, 1, 1]),
        (2, [1, 0, 1]),
        (1, [1, 0, 0]),
        (0, [0, 0, 0]),
        (100, [80, 10, 10]),
    ],
)
def test_ratio_counts_follow_recbole_rounding(n, expected):
    # floor(0.1 n) to valid and test, the rest to train; a share below one item is rounded up
    # from the last part backwards while train keeps more than one item.
    assert ratio_counts(np.array([n]), (0.8, 0.1, 0.1))[0].tolist() == expected


def test_ratio_split_is_a_partition_with_per_user_counts():
    matrix = random_matrix()
    split = ratio_split(matrix, (0.8, 0.1, 0.1), seed=1)
    assert_partition(matrix, [split.train, split.valid, split.test])
    expected = ratio_counts(np.diff(matrix.indptr), (0.8, 0.1, 0.1))
    got = np.column_stack([np.diff(m.indptr) for m in (split.train, split.valid, split.test)])
    assert (got == expected).all()
    assert split.fold_in is None and not split.strong


def test_same_seed_same_split_other_seed_other_split():
    matrix = random_matrix()
    assert same_split(ratio_split(matrix, seed=7), ratio_split(matrix, seed=7))
    assert not same_split(ratio_split(matrix, seed=7), ratio_split(matrix, seed=8))


def test_each_users_items_are_shuffled_not_taken_in_index_order():
    matrix = sp.csr_matrix(np.ones((1, 200), dtype=np.float32))
    test_items = ratio_split(matrix, seed=0).test.indices
    assert len(test_items) == 20
    assert not np.array_equal(np.sort(test_items), np.arange(180, 200))


def test_positions_are_a_permutation_within_each_row():
    matrix = random_matrix()
    positions = positions_in_rows(matrix, seed=3)
    for user in range(matrix.shape[0]):
        start, end = matrix.indptr[user], matrix.indptr[user + 1]
        assert sorted(positions[start:end]) == list(range(end - start))


def test_two_part_ratio_leaves_validation_empty():
    split = ratio_split(random_matrix(), (0.8, 0.2), seed=0)
    assert split.valid.nnz == 0 and split.test.nnz > 0


def test_bad_ratios_are_refused():
    with pytest.raises(MovieRecError):
        ratio_split(random_matrix(), (0.0, 0.5, 0.5))
    with pytest.raises(MovieRecError):
        ratio_split(random_matrix(), (0.5, 0.2, 0.2, 0.1))


def test_known_and_target_parts():
    split = ratio_split(random_matrix(), seed=0)
    assert (split.known("valid") != split.train).nnz == 0
    assert (split.known("test") != split.train + split.valid).nnz == 0
    assert split.target("test") is split.test
    users = split.users_to_evaluate("test")
    assert (np.diff(split.test.indptr)[users] > 0).all()


def test_leave_one_out_random():
    dense = random_matrix().toarray()
    dense[0] = 0  # a user with no items
    dense[1, 3:] = 0  # at most 3 items
    matrix = sp.csr_matrix(dense)
    split = leave_k_out(matrix, k=1, valid_k=1, seed=0)
    assert_partition(matrix, [split.train, split.valid, split.test])
    lengths = np.diff(matrix.indptr)
    eligible = lengths > 2
    assert (np.diff(split.test.indptr) == eligible).all()
    assert (np.diff(split.valid.indptr) == eligible).all()
    assert (np.diff(split.train.indptr)[~eligible] == lengths[~eligible]).all()
    assert same_split(split, leave_k_out(matrix, k=1, valid_k=1, seed=0))


def test_leave_latest_out_takes_the_newest():
    matrix = random_matrix(density=0.5)
    rng = np.random.default_rng(0)
    timestamps = rng.permutation(matrix.nnz) * 10
    split = leave_k_out(matrix, k=2, valid_k=1, order="latest", timestamps=timestamps, seed=0)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    for user in range(matrix.shape[0]):
        mine = rows == user
        items, times = matrix.indices[mine], timestamps[mine]
        newest_first = items[np.argsort(-times)]
        assert sorted(split.test[user].indices) == sorted(newest_first[:2])
        assert split.valid[user].indices.tolist() == [newest_first[2]]


def test_leave_latest_out_without_timestamps_names_the_way_out():
    with pytest.raises(MovieRecError, match="loo"):
        leave_k_out(random_matrix(), k=1, order="latest")


def test_kfold_holds_each_user_out_exactly_once():
    matrix = random_matrix(n_users=23)
    splits = kfold_user_splits(matrix, n_folds=5, seed=4)
    assert len(splits) == 5
    held_out = np.zeros(matrix.shape[0], dtype=int)
    for split in splits:
        assert split.strong
        assert_partition(matrix, [split.train, split.fold_in, split.valid, split.test])
        fold_users = np.diff(split.fold_in.indptr + split.test.indptr) > 0
        # held-out users have no training row; everyone else keeps their whole row
        assert (np.diff(split.train.indptr)[fold_users] == 0).all()
        lengths = np.diff(matrix.indptr)
        assert (np.diff(split.train.indptr)[~fold_users] == lengths[~fold_users]).all()
        held_out += fold_users
    assert (held_out[np.diff(matrix.indptr) > 0] == 1).all()
    sizes = [int((np.diff(s.fold_in.indptr + s.test.indptr) > 0).sum()) for s in splits]
    assert max(sizes) - min(sizes) <= 1


def test_kfold_seeds_reproduce():
    matrix = random_matrix()
    first = kfold_user_splits(matrix, 3, seed=1)
    again = kfold_user_splits(matrix, 3, seed=1)
    other = kfold_user_splits(matrix, 3, seed=2)
    assert all(same_split(a, b) for a, b in zip(first, again))
    assert not all(same_split(a, b) for a, b in zip(first, other))


def test_strong_generalization_folds_in_held_out_users():
    matrix = random_matrix(n_users=50)
    split = strong_generalization_split(matrix, 0.2, (0.8, 0.1, 0.1), seed=0)
    assert_partition(matrix, [split.train, split.fold_in, split.valid, split.test])
    held = np.diff(split.fold_in.indptr) > 0
    assert held.sum() == 10
    assert (np.diff(split.train.indptr)[held] == 0).all()
    assert (split.known("valid") != split.fold_in).nnz == 0


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(1, 30),
    st.floats(0.05, 0.9),
    st.integers(0, 10_000),
    st.sampled_from([(0.8, 0.1, 0.1), (0.7, 0.3), (0.6, 0.2, 0.2), (1, 1, 1)]),
)
def test_any_ratio_split_is_a_partition(n_users, n_items, density, seed, ratios):
    matrix = random_matrix(n_users, n_items, density, seed)
    split = ratio_split(matrix, ratios, seed)
    assert_partition(matrix, [split.train, split.valid, split.test])
    # a user never loses every training item while having held-out ones
    lengths = np.diff(matrix.indptr)
    assert (np.diff(split.train.indptr)[lengths > 0] >= 1).all()


def small_interactions(frame_rows: list[tuple[int, int, float]]) -> Interactions:
    frame = pd.DataFrame(frame_rows, columns=["user_id", "movie_id", "rating"])
    return Interactions.from_ratings(frame, min_rating=1)


def test_k_core_repeats_until_stable():
    # users 1..3 each rate movies 10, 20; user 4 rates only 30 and 10. With k = 2, user 4
    # drops (one item after movie 30 drops), then nothing else: 6 interactions remain.
    rows = [(u, m, 5.0) for u in (1, 2, 3) for m in (10, 20)] + [(4, 30, 5.0)]
    cored = k_core(small_interactions(rows), 2, 2)
    assert cored.nnz == 6
    assert cored.users.ids.tolist() == [1, 2, 3]
    assert cored.items.ids.tolist() == [10, 20]
    assert (np.diff(cored.matrix.indptr) >= 2).all()
    assert (np.bincount(cored.matrix.indices) >= 2).all()


def test_k_core_cascades():
    # a chain: dropping movie 30 (1 user) leaves user 3 with one item, which drops movie 20
    # to one user, and so on: with k = 2 only the 2 × 2 block of users 1, 2 × movies 1, 2 stays.
    rows = [
        (1, 1, 5.0),
        (1, 2, 5.0),
        (2, 1, 5.0),
        (2, 2, 5.0),
        (3, 20, 5.0),
        (3, 30, 5.0),
        (4, 20, 5.0),
        (4, 1, 5.0),
    ]
    cored = k_core(small_interactions(rows), 2, 2)
    assert cored.nnz == 4
    assert cored.items.ids.tolist() == [1, 2]


def test_k_core_that_removes_everything_says_what_to_do():
    with pytest.raises(MovieRecError, match="without k-core"):
        k_core(small_interactions([(1, 1, 5.0), (2, 2, 5.0)]), 2, 2)


def test_timestamps_line_up_with_matrix_entries(small):
    data = get_protocol("loo-latest").prepare(small)
    ratings = small.ratings[small.ratings["rating"] >= 3]
    lookup = ratings.set_index(["user_id", "movie_id"])["timestamp"]
    matrix = data.matrix
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    picks = np.random.default_rng(0).choice(matrix.nnz, 200, replace=False)
    for entry in picks:
        user_id = int(data.interactions.users.ids[rows[entry]])
        movie_id = int(data.interactions.items.ids[matrix.indices[entry]])
        assert data.timestamps[entry] == lookup[(user_id, movie_id)]


def test_latest_split_keeps_users_beyond_int32_apart():
    # Users 1 and 2**32 + 1 were one user when ids were int32. Each rates four movies (one id
    # beyond int32 too); the newest goes to test, the next newest to validation, per user.
    from movierec.datasets import Dataset

    big_user, big_movie = 2**32 + 1, 2**40
    order = {1: [10, 20, 30, big_movie], big_user: [big_movie, 30, 20, 10]}  # oldest first
    rows = [(u, m, 5.0, t) for u, movies in order.items() for t, m in enumerate(movies)]
    columns = {
        name: np.array(values, dtype=dtype)
        for name, values, dtype in zip(
            ("user_id", "movie_id", "rating", "timestamp"),
            zip(*rows),
            (np.int64, np.int64, np.float32, np.int64),
        )
    }
    dataset = Dataset("ml-latest-small", columns, pd.DataFrame, "test", Path("."))
    protocol = get_protocol("loo-latest")
    data = protocol.prepare(dataset)
    assert data.interactions.users.ids.tolist() == [1, big_user]
    split = protocol.splits(data, seed=0)[0]
    items, users = data.interactions.items, data.interactions.users
    for part, position in (("test", -1), ("valid", -2)):
        coo = split.target(part).tocoo()
        got = dict(zip(users.id_of(coo.row).tolist(), items.id_of(coo.col).tolist()))
        assert got == {user: movies[position] for user, movies in order.items()}, part


def test_datasets_without_timestamps_have_none(small):
    no_time = small.__class__(
        small.name,
        small.ratings.drop(columns="timestamp"),
        small.movies,
        small.fingerprint,
        small.source,
    )
    interactions = Interactions.from_ratings(no_time.ratings, 3)
    assert entry_timestamps(interactions, no_time) is None
    data = get_protocol("loo-latest").prepare(no_time)
    with pytest.raises(MovieRecError, match="--protocol loo"):
        get_protocol("loo-latest").check(data)


def test_unknown_protocol_lists_the_choices():
    with pytest.raises(MovieRecError, match="recbole, ratio, loo"):
        get_protocol("leave-none-out")


def test_recbole_protocol_on_ml1m_keeps_834449_interactions(ml1m):
    protocol = PROTOCOLS["recbole"]
    data = protocol.prepare(ml1m)
    assert data.interactions.nnz == 834_449
    assert (np.diff(data.matrix.indptr) >= 10).all()
    assert (np.bincount(data.matrix.indices) >= 10).all()
    split = protocol.splits(data, seed=0)[0]
    assert_partition(data.matrix, [split.train, split.valid, split.test])
    # every 10-core user has ≥ 10 items, so valid and test each get floor(n / 10) ≥ 1
    lengths = np.diff(data.matrix.indptr)
    assert (np.diff(split.test.indptr) == lengths // 10).all()
    assert (np.diff(split.valid.indptr) == lengths // 10).all()
