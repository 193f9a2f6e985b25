"""EASE on its dense head (``min_item_ratings``): the weights of the movies with enough ratings
are those of a fit on them alone; the tail keeps its place in the catalogue with zero weights,
so it can be liked (adding nothing), scores 0 and has no similar movies."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

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
    headed = EASE(min_item_ratings=3, **PARAMS).fit(matrix).weights
    alone = EASE(**PARAMS).fit(matrix[:, :9]).weights
    np.testing.assert_allclose(headed[:9, :9], alone, rtol=1e-5, atol=1e-6)
    assert headed.shape == (12, 12)
    assert not headed[9:].any() and not headed[:, 9:].any()


def test_users_keep_the_weights_of_all_their_ratings() -> None:
    """With users weighted by |I_u|^-γ, |I_u| counts the tail movies too."""
    matrix = ratings()
    params = {**PARAMS, "user_weight_exponent": 0.5, "lowpass_rank": 0}
    headed = EASE(min_item_ratings=3, **params).fit(matrix).weights
    alone = EASE(**params).fit(matrix[:, :9]).weights
    assert not np.allclose(headed[:9, :9], alone, atol=1e-4)  # user 0 has 9's rating too


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
