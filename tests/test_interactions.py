"""Vocabularies and the min-rating filter: invariants checked on generated data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_dat_dataset
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.catalogue import Catalogue
from movierec.datasets.dataset import Dataset
from movierec.datasets.parse import read_movies, read_ratings
from movierec.errors import DataError, MovieRecError
from movierec.interactions import Interactions, Vocabulary

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ids = st.lists(
    st.one_of(st.integers(-5, 50), st.integers(INT64_MIN, INT64_MAX)), min_size=1, max_size=200
)


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


# ---- ids beyond int32, end to end --------------------------------------------------------------


def test_vocabulary_ids_are_int64_whatever_integer_type_they_come_in() -> None:
    assert Vocabulary(np.array([1, 2], dtype=np.int32)).ids.dtype == np.int64
    assert Vocabulary.from_ids(np.array([], dtype=np.float64)).ids.dtype == np.int64


@pytest.mark.parametrize(
    "ids",
    [
        np.array([2, 1]),  # unsorted: searchsorted would find the wrong index
        np.array([1, 1]),  # repeated
        np.array([1.0, 2.5]),  # floats would be truncated
        np.array([1, 2**63], dtype=np.uint64),  # would wrap to a negative id
        np.array([[1, 2]]),
        np.array([False, True]),  # bools are no ids, though they cast to 0 and 1
    ],
)
def test_vocabulary_refuses_ids_it_could_not_keep_exactly(ids: np.ndarray) -> None:
    with pytest.raises(ValueError):
        Vocabulary(ids)


def test_vocabularies_are_values() -> None:
    one, same = Vocabulary.from_ids(np.array([3, 1])), Vocabulary.from_ids(np.array([1, 3]))
    other = Vocabulary.from_ids(np.array([1, 4]))
    assert one == same and hash(one) == hash(same) and len({one, same}) == 1
    assert one != other and one != Vocabulary.from_ids(np.array([1]))
    assert one != [1, 3]  # not equal to what is not a vocabulary


def test_a_bool_is_not_an_id() -> None:
    vocab = Vocabulary.from_ids(np.array([0, 1]))
    assert 1 in vocab and 0 in vocab
    assert True not in vocab and False not in vocab and np.bool_(True) not in vocab


@pytest.mark.parametrize("probe", [2**63, 2**64 + 1, -(2**63) - 1, 2**100])
def test_ids_beyond_int64_are_simply_unknown(probe: int) -> None:
    vocab = Vocabulary.from_ids(np.array([1, INT64_MAX], dtype=np.int64))
    assert vocab.find(probe) is None and probe not in vocab


def test_users_beyond_int32_stay_apart() -> None:
    # 2**32 + 1 and 1 are one user once cast to int32.
    frame = pd.DataFrame(
        {"user_id": [1, 2**32 + 1, INT64_MAX], "movie_id": [5, 5, 2**40], "rating": [4, 5, 3]}
    )
    inter = Interactions.from_ratings(frame)
    assert inter.users.ids.tolist() == [1, 2**32 + 1, INT64_MAX]
    assert inter.items.ids.tolist() == [5, 2**40]
    assert inter.matrix.toarray().tolist() == [[4.0, 0.0], [5.0, 0.0], [0.0, 3.0]]


def test_a_pair_rated_twice_is_an_error_not_a_sum() -> None:
    frame = pd.DataFrame({"user_id": [1, 1, 2], "movie_id": [5, 5, 5], "rating": [4, 5, 3]})
    with pytest.raises(DataError, match="user 1, movie 5"):
        Interactions.from_ratings(frame)
    # a repeat dropped by the min-rating filter does not matter
    assert Interactions.from_ratings(frame.assign(rating=[1, 5, 3])).nnz == 2


def test_large_ids_survive_parse_interactions_and_the_saved_catalogue(tmp_path: Path) -> None:
    big_user, big_movie = 2**32 + 1, 99_999_999_999
    folder = write_dat_dataset(
        tmp_path,
        ["1::1::5", f"{big_user}::{big_movie}::4", f"{INT64_MAX}::{INT64_MAX}::3"],
        movies=["1::Toy Story (1995)::Comedy", f"{big_movie}::Big (1988)::", f"{INT64_MAX}::Max::"],
    )
    columns = read_ratings(folder / "ratings.dat", "dat")
    dataset = Dataset("ml-1m", columns, read_movies(folder / "movies.dat", "dat"), "f", folder)
    inter = Interactions.from_ratings(dataset.ratings)
    assert inter.users.ids.tolist() == [1, big_user, INT64_MAX]
    assert inter.items.ids.tolist() == [1, big_movie, INT64_MAX]
    catalogue = Catalogue.from_dataset(dataset)
    catalogue.save(tmp_path / "catalogue.json")
    loaded = Catalogue.load(tmp_path / "catalogue.json")
    assert loaded.movie_ids.dtype == np.int64
    assert loaded.movie_ids.tolist() == [1, big_movie, INT64_MAX]
    assert loaded.movie(big_movie).title == "Big (1988)"
    assert loaded.titles_index.resolve("Big") == big_movie
    assert loaded.most_popular()[0].tolist() == [1, big_movie, INT64_MAX]


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("movie_id", [1.5]),  # would be truncated to 1
        ("movie_id", [True]),
        ("movie_id", ["1"]),
        ("movie_id", [2**63]),  # outside int64
        ("movie_id", [7, 7]),  # listed twice
        ("title", [3]),
        ("count", [None]),
    ],
)
def test_a_tampered_catalogue_is_refused(tmp_path: Path, column: str, values: list) -> None:
    import json

    data = {"movie_id": [7], "title": ["A"], "genres": [""], "year": [0], "count": [1]}
    data = {key: value * len(values) for key, value in data.items()}
    data[column] = values
    if column != "movie_id":
        data["movie_id"] = list(range(len(values)))
    (tmp_path / "catalogue.json").write_text(json.dumps(data))
    with pytest.raises((ValueError, TypeError)):
        Catalogue.load(tmp_path / "catalogue.json")


@pytest.mark.parametrize("seed", range(6))
def test_a_vocabulary_by_table_equals_one_by_sort_and_search(seed: int) -> None:
    """Many small ids go through a table of every id up to the largest (a pass, not a sort):
    the vocabulary and every lookup, known, unknown, negative or past the largest, are what
    ``np.unique`` and a binary search give."""
    from movierec import interactions

    rng = np.random.default_rng(seed)
    n = interactions.TABLE_MIN_IDS * (1 + seed)
    raw = rng.integers(0, [50, 5_000, 60_000, 200_000, 3, 10 * n][seed], n)
    assert interactions._table_span(raw) is not None or seed == 3  # 200,000 > 16 × the ids
    vocab = Vocabulary.from_ids(raw)
    assert vocab.ids.dtype == np.int64 and np.array_equal(vocab.ids, np.unique(raw))
    queries = np.concatenate([raw, rng.integers(-5, int(raw.max()) + 5, n)])
    positions = np.minimum(np.searchsorted(vocab.ids, queries), len(vocab) - 1)
    expected = np.where(vocab.ids[positions] == queries, positions, -1)
    found = vocab.lookup(queries)
    assert found.dtype == np.int64 and np.array_equal(found, expected)
    assert (found[:n] >= 0).all() and (found[queries < 0] == -1).all()


def test_id_counts_equal_numpy_unique() -> None:
    from movierec.datasets.summary import id_counts

    rng = np.random.default_rng(3)
    for values in (
        rng.integers(0, 4_000, 100_000),
        rng.integers(0, 50, 1_000).astype(np.int32),
        rng.integers(-3, 3, 100),  # negative: np.unique
        np.array([1 << 40, 7, 7]),  # too large for a count per id
        np.array([], dtype=np.int64),
    ):
        ids, counts = id_counts(values)
        expected_ids, expected_counts = np.unique(values, return_counts=True)
        assert ids.dtype == values.dtype and np.array_equal(ids, expected_ids)
        assert np.array_equal(counts, expected_counts)


def test_a_catalogue_counts_each_movies_kept_ratings_and_zero_for_the_rest() -> None:
    """Counts reach each movie of the movies file, in that file's order, whatever order the
    counted ids come in; a movie no kept rating names, and an id no movie has, count nothing."""
    movies = pd.DataFrame(
        {"title": ["C (2000)", "A (1990)", "B (1995)", "D (2001)"], "genres": ["", "", "", ""]},
        index=pd.Index([30, 10, 20, 40], name="movie_id"),
    ).assign(year=[2000, 1990, 1995, 2001])
    catalogue = Catalogue.from_counts(movies, np.array([20, 99, 30]), np.array([7, 5, 2]))
    assert catalogue.movie_ids.tolist() == [30, 10, 20, 40]
    assert catalogue.popularity.tolist() == [2, 0, 7, 0]
    assert catalogue.titles == ["C (2000)", "A (1990)", "B (1995)", "D (2001)"]
    none = Catalogue.from_counts(movies, np.array([], dtype=np.int64), np.array([]))
    assert none.popularity.tolist() == [0, 0, 0, 0] and none.popularity.dtype == np.int64
