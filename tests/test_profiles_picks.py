"""Profiles turned into picks: likes draw, dislikes push away and never come back, hidden
movies never come back; movie night by average without misery (movierec.movie_night)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from movierec.errors import MovieRecError
from movierec.movie_night import average_without_misery, percentile_ranks
from movierec.recommender import Taste

TOY_STORY, TOY_STORY_2, MATRIX, HEAT, GODFATHER = 1, 3114, 2571, 6, 858


def ranks(scores: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Where each of ``indices`` ranks in ``scores`` (0: the best)."""
    return np.argsort(np.argsort(-scores, kind="stable"), kind="stable")[indices]


# ---- one profile ---------------------------------------------------------------------------
def test_a_profile_of_likes_only_gets_what_the_likes_get(small_recommender) -> None:
    """Likes at the top rating weigh what favourites weigh: the same list as recommend()."""
    by_profile = small_recommender.recommend_for_profile({TOY_STORY: 5.0, MATRIX: 5.0}, n=10)
    by_likes = small_recommender.recommend([TOY_STORY, MATRIX], n=10)
    assert [s.movie.movie_id for s in by_profile] == [s.movie.movie_id for s in by_likes]
    assert [s.score for s in by_profile] == pytest.approx([s.score for s in by_likes])


def test_a_dislike_never_comes_back_and_pushes_its_neighbours_down(small_recommender) -> None:
    rec = small_recommender
    likes = {TOY_STORY: 5.0, MATRIX: 4.5, HEAT: 4.0}
    near = [s.movie.movie_id for s in rec.similar(TOY_STORY_2, 30) if s.movie.movie_id not in likes]
    near_index = rec.items.lookup(np.array(near[:10]))
    without, _, _ = rec.taste_scores(Taste(likes))
    with_dislike, excluded, _ = rec.taste_scores(Taste({**likes, TOY_STORY_2: 1.0}))
    assert (with_dislike[near_index] < without[near_index]).all()
    assert ranks(with_dislike, near_index).mean() > ranks(without, near_index).mean() + 100
    assert rec.items.find(TOY_STORY_2) in excluded
    picks = rec.recommend_for_profile({**likes, TOY_STORY_2: 1.0}, n=len(rec.items))
    assert TOY_STORY_2 not in [s.movie.movie_id for s in picks]


def test_a_rating_just_below_min_rating_is_a_dislike_and_at_it_a_like(small_recommender):
    rec = small_recommender
    low = rec.settings.min_rating
    likes = {TOY_STORY: 5.0}
    base, _, _ = rec.taste_scores(Taste(likes))
    at, _, _ = rec.taste_scores(Taste({**likes, MATRIX: low}))
    below, _, _ = rec.taste_scores(Taste({**likes, MATRIX: low - 0.5}))
    near = rec.items.lookup(np.array([s.movie.movie_id for s in rec.similar(MATRIX, 5)]))
    assert (at[near] > base[near]).all() and (below[near] < base[near]).all()


def test_hidden_and_rated_movies_never_come_back(small_recommender) -> None:
    rec = small_recommender
    ratings = {TOY_STORY: 5.0, MATRIX: 2.0}
    first = rec.recommend_for_profile(ratings, n=5)
    hidden = [s.movie.movie_id for s in first[:3]]
    again = rec.recommend_for_profile(ratings, hidden, n=len(rec.items))
    returned = {s.movie.movie_id for s in again}
    assert returned.isdisjoint({*hidden, *ratings})
    assert len(again) == len(rec.items) - 5


def test_a_profile_without_a_like_is_refused_with_the_way_out(small_recommender) -> None:
    with pytest.raises(MovieRecError, match="rate a movie you liked"):
        small_recommender.recommend_for_profile({TOY_STORY: 1.0})


def test_movies_the_model_does_not_know_are_left_out(small_recommender) -> None:
    picks = small_recommender.recommend_for_profile({TOY_STORY: 5.0, 10**12: 5.0}, [10**12], 3)
    assert len(picks) == 3


def test_explanations_name_only_liked_movies(small_recommender) -> None:
    picks = small_recommender.recommend_for_profile(
        {TOY_STORY: 5.0, MATRIX: 4.0, TOY_STORY_2: 1.0}, n=5, explain=True
    )
    liked = {"Toy Story (1995)", "Matrix, The (1999)"}
    assert all(p.because and set(p.because) <= liked for p in picks)


# ---- movie night: the aggregation ------------------------------------------------------------
def test_percentile_ranks_share_ties_and_top_at_one() -> None:
    assert percentile_ranks(np.array([3.0, 1.0, 2.0, 2.0])).tolist() == [1.0, 0.25, 0.625, 0.625]


def test_misery_vetoes_a_movie_one_member_would_hate() -> None:
    """Opposite tastes: every movie has the same mean, so without misery the first (item 0,
    member 1's worst) would win the tie; misery vetoes it and each member's bottom quarter."""
    scores = np.array([[8.0, 7, 6, 5, 4, 3, 2, 1], [1.0, 2, 3, 4, 5, 6, 7, 8]])
    nothing_excluded = np.array([], dtype=int)
    assert average_without_misery(scores, nothing_excluded, 3, misery_quantile=0.0).items[0] == 0
    ranking = average_without_misery(scores, nothing_excluded, 8)
    assert ranking.items.tolist() == [2, 3, 4, 5]
    assert (ranking.candidates, ranking.vetoed) == (8, 4)


def test_each_pick_says_whose_taste_it_serves_most() -> None:
    scores = np.array([[1.0, 2, 3, 4, 5, 6, 7, 8], [8.0, 7, 6, 5, 4, 3, 2, 1]])
    ranking = average_without_misery(scores, np.array([0]), 5)
    serves = dict(zip(ranking.items.tolist(), ranking.serves))
    assert serves == {3: (1,), 4: (0, 1), 5: (0,)}  # 4: both at the same rank


def test_excluded_movies_are_never_picked_and_a_group_is_2_to_6() -> None:
    scores = np.random.default_rng(0).random((3, 50))
    ranking = average_without_misery(scores, np.arange(0, 50, 2), 50)
    assert all(i % 2 for i in ranking.items)
    with pytest.raises(MovieRecError, match="2 to 6 people, not 1"):
        average_without_misery(scores[:1], np.array([], dtype=int), 5)
    with pytest.raises(MovieRecError, match="not 7"):
        average_without_misery(np.vstack([scores] * 3)[:7], np.array([], dtype=int), 5)


@given(
    st.integers(2, 6).flatmap(
        lambda members: st.lists(
            st.lists(st.floats(-5, 5), min_size=12, max_size=12),
            min_size=members,
            max_size=members,
        )
    )
)
def test_no_pick_is_below_any_members_quarter(rows: list[list[float]]) -> None:
    scores = np.array(rows)
    ranking = average_without_misery(scores, np.array([0, 1]), 12)
    candidates = scores[:, 2:]
    floors = np.quantile(candidates, 0.25, axis=1)
    for item in ranking.items:
        assert item >= 2 and (scores[:, item] >= floors).all()
    assert list(ranking.group_scores) == sorted(ranking.group_scores, reverse=True)


# ---- movie night through the facade ----------------------------------------------------------
def test_movie_night_offers_nothing_anyone_rated_or_hid(small_recommender) -> None:
    ana = Taste({TOY_STORY: 5.0, MATRIX: 4.5, TOY_STORY_2: 1.0}, [4306])
    bo = Taste({HEAT: 5.0, GODFATHER: 4.5}, [32])
    picks = small_recommender.recommend_for_group([ana, bo], n=20)
    assert len(picks) == 20
    offered = {p.movie.movie_id for p in picks}
    assert offered.isdisjoint({TOY_STORY, MATRIX, TOY_STORY_2, 4306, HEAT, GODFATHER, 32})
    for pick in picks:
        assert pick.serves and max(pick.members) == pytest.approx(pick.members[pick.serves[0]])
        assert pick.score == pytest.approx(np.mean(pick.members))
    assert picks.vetoed > 0 and picks.candidates > len(picks)
    as_json = picks[0].to_dict(["ana", "bo"])
    assert set(as_json["members"]) == {"ana", "bo"} and as_json["serves_most"]


def test_movie_night_serves_both_tastes(small_recommender) -> None:
    """Two opposite tastes: the picks serve each member some of the time."""
    kids = Taste({TOY_STORY: 5.0, 2355: 5.0, 4306: 5.0})  # Toy Story, A Bug's Life, Shrek
    noir = Taste({GODFATHER: 5.0, 1221: 5.0, 296: 5.0})  # The Godfather I and II, Pulp Fiction
    picks = small_recommender.recommend_for_group([kids, noir], n=10)
    served = {i for p in picks for i in p.serves}
    assert served == {0, 1}


# ---- the stars a profile may give --------------------------------------------------------------
def test_the_scale_follows_the_dataset(small_recommender, tmp_path) -> None:
    from movierec.profiles.picks import rating_scale

    assert rating_scale("ml-1m") == rating_scale("ml-100k") == (1.0, 5.0, 1.0)
    assert rating_scale("ml-latest-small") == rating_scale("ml-25m") == (0.5, 5.0, 0.5)
    assert rating_scale("mine.csv") == (0.5, 5.0, 0.5)
    saved = small_recommender.save(tmp_path / "model")
    assert rating_scale(None, saved) == (0.5, 5.0, 0.5)
