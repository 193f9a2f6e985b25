"""EASE on a head capped by size (``max_head_items`` K): the K most-rated movies (ties to the
lower index) of those with ``min_item_ratings``, so the dense matrices are at most K × K at any
catalogue size; answers are those of the square matrix with zeros outside the head; the rule
(``settings.catalogue_preset``) gives the capped default to catalogues whose capped head holds
most of the ratings."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec import config
from movierec.errors import MovieRecError
from movierec.models import make_model
from movierec.models.ease import EASE, MAX_ITEMS
from movierec.settings import Settings, capped_share, catalogue_preset

PARAMS = {"regularization": 5.0, "dropout": 0.3, "zero_diagonal": False, "lowpass_rank": 2}


def ratings() -> sp.csr_matrix:
    """60 users × 10 movies; movie k rated by the first 6·(k+1) users but movies 3 and 4 by
    the same 24 (a tie), and movie 9 by 2 users only."""
    dense = np.zeros((60, 10), dtype=np.float32)
    for movie, raters in enumerate([6, 12, 18, 24, 24, 36, 42, 48, 54, 2]):
        dense[np.random.default_rng(movie).permutation(60)[:raters], movie] = 1.0
    return sp.csr_matrix(dense)


def test_the_head_is_the_k_most_rated_with_ties_to_the_lower_index() -> None:
    matrix = ratings()
    assert EASE(max_head_items=3).head_items(matrix).tolist() == [6, 7, 8]
    assert EASE(max_head_items=5).head_items(matrix).tolist() == [3, 5, 6, 7, 8]
    assert EASE(max_head_items=6).head_items(matrix).tolist() == [3, 4, 5, 6, 7, 8]


def test_the_cap_and_the_least_ratings_both_hold() -> None:
    matrix = ratings()
    assert EASE(max_head_items=9, min_item_ratings=3).head_items(matrix).tolist() == [*range(9)]
    assert EASE(max_head_items=9).head_items(matrix).tolist() == [*range(9)]  # 9 has 2
    assert EASE(max_head_items=2, min_item_ratings=50).head_items(matrix).tolist() == [8]


def test_a_cap_at_or_above_the_catalogue_is_no_head() -> None:
    assert EASE(max_head_items=10).head_items(ratings()) is None
    assert EASE(max_head_items=0).head_items(ratings()) is None


def test_capped_weights_are_a_fit_on_the_head_alone() -> None:
    matrix = ratings()
    model = EASE(max_head_items=4, **PARAMS).fit(matrix)
    alone = EASE(**PARAMS).fit(matrix[:, [5, 6, 7, 8]]).weights
    assert model.weights.shape == (4, 4)
    assert model.head.tolist() == [5, 6, 7, 8]
    np.testing.assert_allclose(model.weights, alone, rtol=1e-5, atol=1e-6)


def test_capped_answers_are_the_square_matrixs_restricted_to_the_head() -> None:
    matrix = ratings()
    model = EASE(max_head_items=5, user_weight_exponent=0.5, **PARAMS).fit(matrix)
    square = np.zeros((10, 10), dtype=np.float32)
    square[np.ix_(model.head, model.head)] = model.weights
    whole = EASE(**PARAMS).set_state({"weights": square})
    np.testing.assert_array_equal(model.fold_in_scores(matrix), whole.fold_in_scores(matrix))
    for item in range(10):
        for got, wanted in zip(model.similar_items(item, 9), whole.similar_items(item, 9)):
            np.testing.assert_array_equal(got, wanted)
    liked = np.array([0, 4, 8])
    np.testing.assert_array_equal(
        model.liked_scores(liked, 2.0, 10), whole.liked_scores(liked, 2.0, 10)
    )
    restored = EASE(**PARAMS).set_state(model.state())
    np.testing.assert_array_equal(restored.fold_in_scores(matrix), model.fold_in_scores(matrix))


@pytest.mark.parametrize("value", [-1, MAX_ITEMS + 1, 2.5, True, "5000"])
def test_a_cap_outside_its_range_is_refused(value: object) -> None:
    with pytest.raises(MovieRecError, match="max_head_items must be a whole number from 0 to"):
        make_model("ease", max_head_items=value)


def test_the_capped_preset_is_the_head_preset_with_the_cap() -> None:
    capped = Settings.preset(config.CAPPED_HEAD_PRESET)
    assert capped.params == {
        **Settings.preset(config.DENSE_HEAD_PRESET).params,
        "max_head_items": config.DENSE_HEAD_CAP,
        "tail_neighbours": config.CAPPED_HEAD_TAIL_NEIGHBOURS,
    }
    assert "5,000 most-rated movies at most" in capped.describe()


def test_the_rule_at_each_boundary() -> None:
    limit, share = config.DENSE_ITEMS_LIMIT, config.CAPPED_HEAD_MIN_SHARE
    assert catalogue_preset(limit, head_movies=limit, capped_share=1.0) == "default"
    over = limit + 1
    assert catalogue_preset(over, head_movies=limit, capped_share=1.0) == config.DENSE_HEAD_PRESET
    beyond = config.DENSE_HEAD_ITEMS_LIMIT + 1  # a head that fits, in a catalogue that does not
    assert catalogue_preset(beyond, head_movies=limit, capped_share=share) == "default-large"
    assert catalogue_preset(over, head_movies=over, capped_share=share) == "default-large"
    below = np.nextafter(share, 0.0)
    assert catalogue_preset(over, head_movies=over, capped_share=below) == "ials-large"
    assert catalogue_preset(58_266, head_movies=40_000, capped_share=0.957) == "default-large"
    assert catalogue_preset(58_266, head_movies=40_000) == "ials-large"  # share not counted
    assert catalogue_preset(58_266, spark=True, capped_share=1.0) == "spark-als"


def test_the_capped_share_counts_the_k_most_rated_with_enough_ratings(monkeypatch) -> None:
    monkeypatch.setattr(config, "DENSE_HEAD_CAP", 2)
    assert capped_share(np.array([10, 2, 5, 3])) == pytest.approx(15 / 20)
    assert capped_share(np.array([2, 2, 1])) == 0.0  # none has DENSE_HEAD_MIN_RATINGS
    assert capped_share(np.zeros(0, dtype=np.int64)) == 0.0


def test_a_tail_item_is_similar_to_its_head_items_of_highest_cosine() -> None:
    matrix = ratings()
    model = EASE(max_head_items=4, tail_neighbours=3, **PARAMS).fit(matrix)
    dense = matrix.toarray()
    for item in [0, 1, 2, 3, 4, 9]:
        cosine = dense[:, item] @ dense[:, model.head]
        cosine = cosine / np.sqrt(dense[:, item].sum() * dense[:, model.head].sum(axis=0))
        order = np.argsort(-cosine, kind="stable")
        order = order[cosine[order] > 0][:3]
        items, similarity = model.similar_items(item, 10)
        assert items.tolist() == model.head[order].tolist()
        np.testing.assert_allclose(similarity, cosine[order], rtol=1e-6)
    assert len(model.similar_items(2, 2)[0]) == 2  # n below k


def test_tail_neighbours_change_no_score() -> None:
    matrix = ratings()
    plain = EASE(max_head_items=4, **PARAMS).fit(matrix)
    neighbours = EASE(max_head_items=4, tail_neighbours=3, **PARAMS).fit(matrix)
    np.testing.assert_array_equal(neighbours.weights, plain.weights)
    np.testing.assert_array_equal(neighbours.fold_in_scores(matrix), plain.fold_in_scores(matrix))
    assert len(plain.similar_items(0, 5)[0]) == 0  # without them, a tail item has none


def test_tail_neighbours_are_saved_and_restored() -> None:
    model = EASE(max_head_items=4, tail_neighbours=3, **PARAMS).fit(ratings())
    restored = EASE(**PARAMS).set_state(model.state())
    for got, wanted in zip(restored.similar_items(1, 3), model.similar_items(1, 3)):
        np.testing.assert_array_equal(got, wanted)


@pytest.mark.parametrize(
    "change",
    [
        {"tail": np.array([0, 1, 2, 3, 5, 9])},  # 5 is in the head
        {"tail": np.array([1, 0, 2, 3, 4, 9])},  # not ascending
        {"tail_similar": np.full((6, 3), 1)},  # neighbours outside the head
        {"tail_similarity": np.zeros((6, 2), dtype=np.float32)},  # not one per neighbour
        {"tail_similar": None},  # missing
    ],
)
def test_a_broken_saved_tail_is_refused(change: dict[str, object]) -> None:
    state = EASE(max_head_items=4, tail_neighbours=3, **PARAMS).fit(ratings()).state()
    broken = {key: value for key, value in {**state, **change}.items() if value is not None}
    with pytest.raises(MovieRecError, match="tail neighbours do not fit its head"):
        EASE(**PARAMS).set_state(broken)
