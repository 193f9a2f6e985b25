"""One rule, one definition: the min-rating filter, the rating scale, repeated pairs, the
weighting and the id → index lookup agree wherever they apply (interactions, the summary, the
catalogue, the default preset's count, evaluation), and the trained value stands alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec import Recommender
from movierec.catalogue import popularity_of
from movierec.datasets import Dataset
from movierec.datasets.rules import check_min_rating, is_kept, threshold
from movierec.datasets.summary import histogram, stats
from movierec.errors import DataError, MovieRecError
from movierec.interactions import PER_RATING, Interactions, Vocabulary, confidence


def _dataset(ratings: list[float]) -> Dataset:
    n = len(ratings)
    frame = pd.DataFrame(
        {
            "user_id": np.arange(n, dtype=np.int64),
            "movie_id": np.arange(n, dtype=np.int64) % 3 + 1,
            "rating": np.array(ratings, dtype=np.float32),
        }
    )
    movies = pd.DataFrame(
        {"title": ["A (1990)", "B (1991)", "C (1992)"], "genres": ["", "", ""], "year": [1990] * 3},
        index=pd.Index([1, 2, 3], name="movie_id"),
    )
    return Dataset("rules", frame, movies, "f", None)  # type: ignore[arg-type]


# Thresholds that sit between a float32 rating and its float64 spelling: compared as doubles,
# a rating of 3.3 (stored as float32 3.2999999523) would fall below min_rating 3.3.
THRESHOLDS = [3.3, np.float64(3.3), np.float32(3.3), 0.1, np.float64(4.7), 3]


@pytest.mark.parametrize("min_rating", THRESHOLDS, ids=repr)
def test_every_home_of_the_filter_keeps_the_same_ratings(min_rating: float) -> None:
    ratings = [0.1, 2.0, 3.3, 3.3, 4.7, 5.0, 3.2999, 4.7]
    dataset = _dataset(ratings)
    expected = np.array(ratings, dtype=np.float32) >= np.float32(min_rating)
    assert is_kept(dataset.column("rating"), min_rating).tolist() == expected.tolist()
    interactions = Interactions.from_ratings(dataset.ratings, min_rating)
    assert interactions.nnz == expected.sum()
    assert stats(dataset, min_rating).ratings_kept == expected.sum()
    values, counts = np.unique(dataset.column("rating"), return_counts=True)
    assert sum(kept for _, _, kept in histogram(values, counts, min_rating)) == expected.sum()
    _, popularity = popularity_of(dataset.column("movie_id"), dataset.column("rating"), min_rating)
    assert popularity.sum() == expected.sum()


def test_threshold_is_the_float32_of_min_rating() -> None:
    assert threshold(np.float64(3.3)) == float(np.float32(3.3)) != 3.3


@pytest.mark.parametrize("min_rating", [-0.5, 5.5, float("nan"), float("inf")])
def test_the_rating_scale_refuses_what_is_outside(min_rating: float) -> None:
    with pytest.raises(DataError, match=r"outside mine's rating scale \(0 to 5\); pick"):
        check_min_rating(min_rating, 0.0, 5.0, "mine")


@pytest.mark.parametrize("min_rating", [0.0, 2.5, 5.0])
def test_the_rating_scale_takes_its_ends(min_rating: float) -> None:
    check_min_rating(min_rating, 0.0, 5.0, "mine")


def test_the_dataset_and_the_rule_say_the_same() -> None:
    dataset = _dataset([1.0, 5.0])
    with pytest.raises(DataError) as from_dataset:
        dataset.check_min_rating(9.0)
    with pytest.raises(DataError) as from_rule:
        check_min_rating(9.0, *dataset.rating_scale, dataset.name)
    assert str(from_dataset.value) == str(from_rule.value)


@pytest.mark.parametrize("weighting", list(PER_RATING))
def test_per_rating_weightings_follow_their_table(weighting: str) -> None:
    values = np.array([3.0, 4.5], dtype=np.float32)
    constant = PER_RATING[weighting]
    wanted = values if constant is None else np.full(2, constant, dtype=np.float32)
    assert confidence(values, weighting).tolist() == wanted.tolist()


@pytest.mark.parametrize(
    ("ids", "wanted"),
    [
        ([20, 15, 10, 40, 5], [1, -1, 0, -1, -1]),
        ([], []),
        ([30, 30], [2, 2]),
    ],
)
def test_lookup_marks_unknown_ids(ids: list[int], wanted: list[int]) -> None:
    vocabulary = Vocabulary(np.array([10, 20, 30]))
    found = vocabulary.lookup(np.array(ids, dtype=np.int64))
    assert found.tolist() == wanted
    assert found.dtype == np.int64


def test_lookup_in_an_empty_vocabulary_finds_nothing() -> None:
    assert Vocabulary(np.array([], dtype=np.int64)).lookup(np.array([1, 2])).tolist() == [-1, -1]


def test_index_of_refuses_the_first_unknown_id() -> None:
    vocabulary = Vocabulary(np.array([10, 20, 30]))
    assert vocabulary.index_of(np.array([30, 10])).tolist() == [2, 0]
    with pytest.raises(KeyError, match="25"):
        vocabulary.index_of(np.array([10, 25, 26]))


def test_a_trained_value_answers_without_its_dataset(small_recommender: Recommender) -> None:
    """A Recommender is a Trained plus, optionally, the ratings: without them it answers in
    titles, and a question that needs them says so in one line."""
    alone = Recommender(small_recommender.trained)
    mine = [s.movie.movie_id for s in small_recommender.recommend(["Toy Story"], n=5)]
    assert [s.movie.movie_id for s in alone.recommend(["Toy Story"], n=5)] == mine
    assert alone.summary() == small_recommender.summary()
    assert alone.dataset.name == small_recommender.dataset.name
    user = int(small_recommender.users.ids[0])
    with pytest.raises(MovieRecError, match="does not hold: give it its dataset") as caught:
        alone.recommend_for_user(user)
    assert "\n" not in str(caught.value)
