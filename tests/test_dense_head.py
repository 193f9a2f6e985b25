"""EASE on its dense head (``min_item_ratings``): the weights of the movies with enough ratings
are those of a fit on them alone, kept at the head's size (head × head); the tail keeps its
place in the catalogue as zero weights, so it can be liked (adding nothing), scores 0 and has no
similar movies — every answer the same as the whole square matrix with those zeros."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.errors import MovieRecError
from movierec.models.ease import EASE

PARAMS = {"regularization": 5.0, "dropout": 0.3, "zero_diagonal": False, "lowpass_rank": 2}


def ratings(seed: int = 0) -> sp.csr_matrix:
    """40 users × 12 movies; movies 9, 10 and 11 rated by one or two users only."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((40, 12)) < 0.5).astype(np.float32)
    dense[:, 9:] = 0
    dense[[0, 1], 9] = dense[2, 10] = dense[[3, 4], 11] = 1
    return sp.csr_matrix(dense)


def test_the_head_is_the_movies_with_enough_ratings() -> None:
    matrix = ratings()
    assert EASE(min_item_ratings=3).head_items(matrix).tolist() == list(range(9))
    assert EASE(min_item_ratings=2).head_items(matrix).tolist() == [*range(9), 9, 11]
    assert EASE(min_item_ratings=1).head_items(matrix) is None  # every movie
    assert EASE().head_items(matrix) is None


def test_head_weights_are_a_fit_on_the_head_alone_and_the_tail_is_zero() -> None:
    matrix = ratings()
    model = EASE(min_item_ratings=3, **PARAMS).fit(matrix)
    alone = EASE(**PARAMS).fit(matrix[:, :9]).weights
    np.testing.assert_allclose(model.weights, alone, rtol=1e-5, atol=1e-6)
    assert model.weights.shape == (9, 9)  # the head's size, not the catalogue's
    assert model.head.tolist() == list(range(9))


def test_users_keep_the_weights_of_all_their_ratings() -> None:
    """With users weighted by |I_u|^-γ, |I_u| counts the tail movies too."""
    matrix = ratings()
    params = {**PARAMS, "user_weight_exponent": 0.5, "lowpass_rank": 0}
    headed = EASE(min_item_ratings=3, **params).fit(matrix).weights
    alone = EASE(**params).fit(matrix[:, :9]).weights
    assert not np.allclose(headed, alone, atol=1e-4)  # user 0 has 9's rating too


def test_a_tail_movie_can_be_liked_scores_zero_and_has_no_similar_movies() -> None:
    matrix = ratings()
    model = EASE(min_item_ratings=3, **PARAMS).fit(matrix)
    liked = sp.csr_matrix(([1.0, 1.0], ([0, 0], [0, 10])), shape=(1, 12))
    scores = model.fold_in_scores(liked)[0]
    only_head = model.fold_in_scores(sp.csr_matrix(([1.0], ([0], [0])), shape=(1, 12)))[0]
    np.testing.assert_array_equal(scores, only_head)  # liking movie 10 adds nothing
    assert (scores[9:] == 0).all()
    indices, similarity = model.similar_items(10, 5)
    assert len(indices) == len(similarity) == 0
    assert len(model.similar_items(0, 5)[0]) == 5


def _square(model: EASE, n_items: int) -> EASE:
    """The same model as one square catalogue × catalogue matrix, zero outside the head."""
    weights = np.zeros((n_items, n_items), dtype=np.float32)
    weights[np.ix_(model.head, model.head)] = model.weights
    return EASE(**PARAMS).set_state({"weights": weights})


@pytest.mark.parametrize("min_item_ratings", [2, 3])
def test_every_answer_is_the_square_matrixs(min_item_ratings: int) -> None:
    """Kept at the head's size, the model answers exactly as the square matrix with zero rows and
    columns for the tail: fold-in, liked scores, contributions, similar items, similarity."""
    matrix = ratings(1)
    model = EASE(min_item_ratings=min_item_ratings, **PARAMS).fit(matrix)
    square = _square(model, 12)
    rng = np.random.default_rng(7)
    for _ in range(20):
        liked = np.sort(rng.choice(12, size=rng.integers(1, 6), replace=False)).astype(np.int32)
        items = rng.choice(12, size=4, replace=False)
        np.testing.assert_array_equal(
            model.liked_scores(liked, 5.0, 12), square.liked_scores(liked, 5.0, 12)
        )
        np.testing.assert_array_equal(
            model.liked_contributions(liked, 5.0, 12, items),
            square.liked_contributions(liked, 5.0, 12, items),
        )
        row = sp.csr_matrix((np.full(len(liked), 4.0), (np.zeros(len(liked)), liked)), (1, 12))
        np.testing.assert_array_equal(model.fold_in_scores(row), square.fold_in_scores(row))
        np.testing.assert_array_equal(
            model.contributions(row, items), square.contributions(row, items)
        )
    for item in range(12):
        for n in (4, 11):  # 11: past the positive weights, into the tail's zeros
            for got, wanted in zip(model.similar_items(item, n), square.similar_items(item, n)):
                np.testing.assert_array_equal(got, wanted)
        assert model.item_similarity(item, 0) == square.item_similarity(item, 0)
    np.testing.assert_array_equal(model.fold_in_scores(matrix), square.fold_in_scores(matrix))


def test_the_head_is_saved_and_restored() -> None:
    model = EASE(min_item_ratings=3, **PARAMS).fit(ratings())
    restored = EASE(min_item_ratings=3, **PARAMS).set_state(model.state())
    assert restored.head.tolist() == model.head.tolist()
    np.testing.assert_array_equal(
        restored.liked_scores(np.array([0, 10]), 1.0, 12),
        model.liked_scores(np.array([0, 10]), 1.0, 12),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"head": np.array([0, 1, 2])},  # not as many as the weights' rows
        {"head": np.array([0, 2, 1, 3, 4, 5, 6, 7, 8])},  # not ascending
        {"head": np.array([-1, 1, 2, 3, 4, 5, 6, 7, 8])},  # negative
        {"head": np.arange(9, dtype=np.float64)},  # not whole numbers
        {"head": np.zeros((3, 3), dtype=np.int64)},  # not one-dimensional
        {"head": np.array([*range(8), 12])},  # past the catalogue's 12 items
        {"catalogue_items": np.array(8)},  # a catalogue smaller than its head
        {"catalogue_items": np.array([12, 12])},  # not one number
        {"catalogue_items": np.array(12.0)},  # not a whole number
    ],
)
def test_a_broken_saved_head_is_refused(change: dict[str, np.ndarray]) -> None:
    state = EASE(min_item_ratings=3, **PARAMS).fit(ratings()).state()
    match = "head is not 9 ascending item indices within its catalogue; retrain"
    with pytest.raises(MovieRecError, match=match):
        EASE(**PARAMS).set_state({**state, **change})
