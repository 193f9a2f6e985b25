"""What mutation testing found unguarded in :mod:`movierec.recommender`
(``python bench/mutation.py recommender``): ``Scored.to_dict``, default list lengths, the
messages of refusals and of empty lists, explanations, a user's exclusions and scores, training
with a new user, Spark training's settings, item vectors, and the summary.

A dataset of its own (40 movies, fast EASE and ALS fits), built in fixtures: mutmut runs only
the tests that called the mutated function themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from movierec import Recommender, Settings, config
from movierec import recommender as facade
from movierec.catalogue import Movie
from movierec.datasets import Dataset
from movierec.errors import MovieRecError, TitleError
from movierec.recommender import Ranked, Scored, resolve_all, resolve_movies

EASE = Settings(model="ease", params={}, min_rating=3.0)
TWIN_OLD, TWIN_NEW, LONELY, PAIR = 37, 38, 39, 40


def _dataset(extra: list[tuple[int, int, float]] = (), name: str = "own") -> Dataset:
    """Users 1–20 rate 12 of movies 1–36 each (1 to 5 stars); "Twin (1990)" is rated 1 or 2
    by users 1–10, "Twin (2000)" 4 by users 11 and 12; "Lonely" 5 by user 90 alone, "Pair" 5
    by users 91 and 92 alone; user 21 rated movie 1 one star, and movies 2–13 five."""
    rng = np.random.default_rng(7)
    rows = [
        (user, int(movie), float(rng.integers(1, 6)))
        for user in range(1, 21)
        for movie in rng.choice(np.arange(2, 37), 12, replace=False)
    ]
    rows += [(user, 1, 5.0) for user in (1, 2, 3)]
    rows += [(user, TWIN_OLD, 1.0 + user % 2) for user in range(1, 11)]
    rows += [(11, TWIN_NEW, 4.0), (12, TWIN_NEW, 4.0), (90, LONELY, 5.0)]
    rows += [(91, PAIR, 5.0), (92, PAIR, 5.0), (21, 1, 1.0)]
    rows += [(21, movie, 5.0) for movie in range(2, 14)]
    rows += list(extra)
    ratings = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"])
    ratings = ratings.drop_duplicates(["user_id", "movie_id"], keep="last")
    ratings["rating"] = ratings["rating"].astype(np.float32)
    ratings["timestamp"] = np.arange(len(ratings), dtype=np.int64) + 1000
    titles = [f"Movie {i} (2000)" for i in range(1, 37)]
    titles += ["Twin (1990)", "Twin (2000)", "Lonely (2000)", "Pair (2000)"]
    movies = pd.DataFrame(
        {"title": titles, "genres": ["Drama"] * 40, "year": np.full(40, 2000, dtype=np.int32)},
        index=pd.Index(np.arange(1, 41), name="movie_id"),
    )
    return Dataset(name, ratings.reset_index(drop=True), movies, "fp-own", Path("/nowhere/own"))


@pytest.fixture(scope="module")
def own() -> Dataset:
    return _dataset()


@pytest.fixture(scope="module")
def rec(own: Dataset) -> Recommender:
    return Recommender.train(own, EASE)


@pytest.fixture(scope="module")
def als(own: Dataset) -> Recommender:
    return Recommender.train(own, Settings(model="als", params={"factors": 4}, min_rating=3.0))


# ---- Scored and Ranked -----------------------------------------------------------------------
MOVIE = Movie(7, "Movie 7 (2000)", ("Drama",), 2000)


@pytest.mark.parametrize(
    ("scored", "expected"),
    [
        (Scored(MOVIE, 0.123456789), {}),
        (Scored(MOVIE, 0.123456789, ("A", "B"), True), {"because": ["A", "B"], "liked": True}),
        (Scored(MOVIE, 0.123456789, liked=False), {"liked": False}),
    ],
)
def test_a_scored_movie_as_a_dict(scored: Scored, expected: dict[str, Any]) -> None:
    base = {"movie_id": 7, "title": "Movie 7 (2000)", "score": 0.123457}
    assert scored.to_dict() == base | expected


def test_a_list_with_movies_gives_no_reason_to_be_empty() -> None:
    assert Ranked([Scored(MOVIE, 1.0)], "why").why_empty is None
    assert Ranked([], "why").why_empty == "why"


# ---- building ----------------------------------------------------------------------------------
def test_a_trained_recommender_keeps_its_interactions_and_data(
    own: Dataset, rec: Recommender
) -> None:
    trained = Recommender.train(own, EASE)
    assert "interactions" in vars(trained)  # not rebuilt from the ratings on first use
    given = Recommender(rec.trained, own, rec.interactions)
    assert given.interactions is rec.interactions
    alone = Recommender(rec.trained)
    assert alone.dataset.name == "own" and "EASE" in alone.describe()


def test_training_on_a_gpu_is_refused_for_a_cpu_model(own: Dataset) -> None:
    with pytest.raises(MovieRecError, match="--gpu trains implicit's CUDA ALS only"):
        Recommender.train(own, EASE, use_gpu=True)


class SparkFit:
    """Stands in for :func:`movierec.trained.fit_on_spark`, remembering what it was given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, rec: Recommender) -> None:
        self.rec, self.given = rec, None
        monkeypatch.setattr(facade, "fit_on_spark", self)

    def __call__(self, source: Any, settings_for: Any, master: Any) -> tuple[Any, Any]:
        self.given = (source, settings_for, master)
        return self.rec.trained, self.rec.dataset


def test_spark_training_reads_the_uris_with_the_default_settings(
    monkeypatch: pytest.MonkeyPatch, rec: Recommender
) -> None:
    fit = SparkFit(monkeypatch, rec)
    trained = Recommender.train_on_spark("file:///r.parquet", movies="file:///m.csv")
    assert trained.trained is rec.trained
    assert fit.given is not None
    source, settings_for, master = fit.given
    assert (source.ratings, source.movies, master) == ("file:///r.parquet", "file:///m.csv", None)
    for movies in (100, 10**6):  # the default model by the catalogue's size
        assert settings_for(movies) == facade.spark_default_settings(movies, config.MIN_RATING)


@pytest.mark.parametrize("kind", ["settings", "function"])
def test_spark_training_with_settings_given(
    monkeypatch: pytest.MonkeyPatch, rec: Recommender, kind: str
) -> None:
    fit = SparkFit(monkeypatch, rec)
    chosen = Settings(model="als", params={"factors": 8}, min_rating=4.0)
    given = chosen if kind == "settings" else (lambda movies: chosen)
    Recommender.train_on_spark("s3a://b/r.csv", given, master="spark://h:7077", min_rating=4.0)
    assert fit.given is not None
    source, settings_for, master = fit.given
    assert (source.ratings, source.movies, master) == ("s3a://b/r.csv", None, "spark://h:7077")
    assert settings_for(5) is chosen


def test_spark_training_by_default_filters_at_the_min_rating_given(
    monkeypatch: pytest.MonkeyPatch, rec: Recommender
) -> None:
    fit = SparkFit(monkeypatch, rec)
    Recommender.train_on_spark("file:///r.parquet", min_rating=4.5)
    assert fit.given is not None and fit.given[1](100).min_rating == 4.5


# ---- movies, titles and refusals ----------------------------------------------------------
def test_the_refusals_name_the_data(rec: Recommender) -> None:
    with pytest.raises(TitleError, match="^no movie has id 999 in own$"):
        rec.resolve(999)
    with pytest.raises(TitleError, match="^a movie is a title or a movie id, not bool$"):
        rec.movie(True)
    with pytest.raises(TitleError) as info:
        rec.recommend(["Twin (1990)"])  # all its ratings are below 3
    assert str(info.value) == (
        "Twin (1990) has no ratings ≥ 3 in own, so the model knows nothing about it; "
        "pick another movie"
    )
    with pytest.raises(MovieRecError, match="^user 999 has no kept ratings in own$"):
        rec.recommend_for_user(999)


@pytest.mark.parametrize("liked", [[], ()])
def test_no_liked_movies_is_an_error(rec: Recommender, own: Dataset, liked: Any) -> None:
    message = "^no liked movies were given; name at least one \\(--like TITLE\\)$"
    with pytest.raises(MovieRecError, match=message):
        rec.recommend(liked)
    with pytest.raises(MovieRecError, match=message):
        Recommender.train_with_user(own, liked, EASE)


def test_one_title_may_be_given_alone(rec: Recommender) -> None:
    assert rec.recommend("Movie 2") == rec.recommend(["Movie 2"])


@pytest.mark.parametrize("min_rating", [1.0, 3.0])
def test_titles_resolve_by_popularity_at_the_min_rating(own: Dataset, min_rating: float) -> None:
    twin = TWIN_OLD if min_rating == 1.0 else TWIN_NEW  # rated 1–2 by ten, 4 by two
    assert resolve_movies(own, ["Twin"], min_rating) == [twin]
    assert [r.movie_id for r in resolve_all(own, ["Twin", 5], min_rating)] == [twin, 5]
    with pytest.raises(TitleError, match="^no movie has id 999 in own$"):
        resolve_all(own, [999], min_rating)


# ---- default lengths -----------------------------------------------------------------------
def test_lists_have_their_default_lengths(rec: Recommender) -> None:
    assert len(rec.search("movie")) == 10 and len(rec.search("movie", n=3)) == 3
    assert len(rec.popular()) == 30 and len(rec.popular(n=2)) == 2
    assert len(rec.similar("Movie 2")) == 10
    assert len(rec.recommend(["Movie 2"])) == 10
    assert len(rec.recommend_for_user(1)) == 10


# ---- empty lists say why -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("movie", "why"),
    [
        (
            "Lonely",
            "the EASE model relates no other movie to Lonely (2000), which has 1 kept rating",
        ),
        ("Pair", "the EASE model relates no other movie to Pair (2000), which has 2 kept ratings"),
    ],
)
def test_a_movie_related_to_no_other_says_how_rated_it_is(
    rec: Recommender, movie: str, why: str
) -> None:
    similar = rec.similar(movie)
    assert list(similar) == [] and similar.why_empty == why


def test_a_model_of_one_movie_says_so() -> None:
    ratings = pd.DataFrame(
        {"user_id": [1, 2], "movie_id": [1, 1], "rating": np.float32([5, 4]), "timestamp": [1, 2]}
    )
    movies = pd.DataFrame(
        {"title": ["One (2000)"], "genres": ["Drama"], "year": np.int32([2000])},
        index=pd.Index([1], name="movie_id"),
    )
    one = Recommender.train(Dataset("one", ratings, movies, "fp", Path("/x")), EASE)
    assert one.recommend(["One"]).why_empty == (
        "you like the only movie the model knows, so none is left to recommend"
    )


def test_no_usable_score_says_so(rec: Recommender, monkeypatch: pytest.MonkeyPatch) -> None:
    nan = np.full(len(rec.items), np.nan)
    monkeypatch.setattr(rec.model, "liked_scores", lambda *args: nan)
    assert rec.recommend(["Movie 2"]).why_empty == (
        "the model gives no usable score to any other movie"
    )


# ---- explanations ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "because"),
    [
        ([0.9, 0.5, 0.3, 0.1], ("Movie 2 (2000)", "Movie 3 (2000)")),  # at least half the best
        ([0.2, 0.6, 0.3], ("Movie 3 (2000)", "Movie 4 (2000)")),  # exactly half counts
        ([0.5, 0.5, 0.5, 0.5], ("Movie 2 (2000)", "Movie 3 (2000)", "Movie 4 (2000)")),
        ([-0.1, -0.5, -0.2], ("Movie 2 (2000)",)),  # none adds: the least negative
        ([0.0, 0.0], ("Movie 2 (2000)",)),
        ([0.3, 0.8], ("Movie 3 (2000)",)),
    ],
)
def test_reasons_are_the_liked_movies_that_add_most(
    rec: Recommender, column: list[float], because: tuple[str, ...]
) -> None:
    liked = rec.items.index_of(np.arange(2, 2 + len(column)))
    assert rec._because(liked, np.array([column]).T) == [because]


def test_explanations_name_liked_or_rated_movies(rec: Recommender) -> None:
    liked = ["Movie 2", "Movie 3", "Movie 4"]
    titles = {rec.movie(m).title for m in liked}
    explained = rec.recommend(liked, n=5, explain=True)
    assert all(s.because and set(s.because) <= titles for s in explained)
    assert all(s.because is None for s in rec.recommend(liked, n=5))
    rated = {rec.movie(int(m)).title for m in rec.items.id_of(rec.interactions.matrix[0].indices)}
    for_user = rec.recommend_for_user(1, n=5, explain=True)
    assert all(s.because and set(s.because) <= rated for s in for_user)
    assert all(s.because is None for s in rec.recommend_for_user(1, n=5))


def test_a_recommendations_reasons_are_its_largest_contributions(rec: Recommender) -> None:
    """Each movie's first reason is the liked movie whose weighted row adds most to its score
    (``x_j·W[j, i]``), which is not always the first liked: a weight or an item count lost on
    the way to the explainer turns every reason into the first liked movie."""
    liked = ["Movie 2", "Movie 3", "Movie 4", "Movie 5", "Movie 6"]
    indices = np.sort(rec.items.index_of([rec.movie(m).movie_id for m in liked]))
    titles = [rec.movie(int(m)).title for m in rec.items.id_of(indices)]
    explained = rec.recommend(liked, n=8, explain=True)
    best = rec.items.index_of([s.movie.movie_id for s in explained])
    added = rec.model.liked_contributions(indices, rec.favourite_weight, len(rec.items), best)
    expected = [titles[int(np.argmax(column))] for column in added.T]
    assert [s.because[0] for s in explained if s.because] == expected
    assert set(expected) != {titles[0]}  # the data makes the first liked not always first


# ---- scores --------------------------------------------------------------------------------
def test_a_score_says_whether_the_movie_is_liked(rec: Recommender) -> None:
    liked = rec.score(["Movie 2", "Movie 3"], "Movie 3")
    other = rec.score(["Movie 2", "Movie 3"], "Movie 5")
    assert (liked.movie.movie_id, liked.liked, other.movie.movie_id, other.liked) == (
        3,
        True,
        5,
        False,
    )
    best = rec.recommend(["Movie 2", "Movie 3"], n=1)[0]
    assert rec.score(["Movie 2", "Movie 3"], best.movie.movie_id).score == best.score


def test_a_users_score_is_the_one_their_list_ranks_by(rec: Recommender) -> None:
    for scored in rec.recommend_for_user(1, n=3):
        assert rec.score_for_user(1, scored.movie.movie_id).score == scored.score


def test_a_user_is_never_recommended_a_movie_they_rated_low(rec: Recommender) -> None:
    assert rec.items.find(1) == 0  # movie 1 is the model's first; user 21 rated it one star
    assert 1 not in {s.movie.movie_id for s in rec.recommend_for_user(21, n=40)}


# ---- training with a new user ----------------------------------------------------------------
def test_training_with_a_new_user_adds_them_after_the_last(own: Dataset) -> None:
    settings = Settings(model="ease", params={}, min_rating=1.0)
    extended, user = Recommender.train_with_user(own, ["Twin", "Movie 5"], settings)
    assert user == 93 and extended.settings == settings
    assert extended.users.find(user) is not None
    data = extended.dataset
    assert (data.name, data.fingerprint, data.source) == ("own", "fp-own+user93", own.source)
    ratings = data.ratings
    assert ratings.index.equals(pd.RangeIndex(len(own.ratings) + 2))
    assert ratings["rating"].dtype == np.float32
    added = ratings[ratings["user_id"] == user]
    assert added["movie_id"].tolist() == [TWIN_OLD, 5]  # "Twin" at min_rating 1: the 1990 one
    assert added["rating"].tolist() == [5.0, 5.0]
    assert added["timestamp"].tolist() == [own.ratings["timestamp"].max() + 1] * 2


def test_training_with_a_new_user_takes_the_default_settings(own: Dataset) -> None:
    extended, _ = Recommender.train_with_user(own, ["Movie 5"])
    assert extended.settings == Recommender.train(own).settings


@pytest.mark.parametrize(
    ("users", "new"),
    [
        ([np.iinfo(np.int64).max - 1], np.iinfo(np.int64).max),
        ([0, 1, 3, np.iinfo(np.int64).max], 2),
    ],
)
def test_a_new_user_after_the_largest_id_or_in_the_first_gap(users: list[int], new: int) -> None:
    extra = [(int(u), 5, 4.0) for u in users]
    data = _dataset(extra)
    ratings = data.ratings[data.ratings["user_id"].isin(users + [1])]
    small = Dataset("own", ratings.reset_index(drop=True), data.movies, "fp", Path("/x"))
    assert Recommender.train_with_user(small, ["Movie 5"], EASE)[1] == new


def test_a_recommender_with_a_new_user_keeps_its_settings(rec: Recommender) -> None:
    extended, user = rec.with_new_user(["Movie 2", "Movie 3"])
    assert extended.settings == rec.settings and user == 93
    liked = extended.dataset.ratings.query("user_id == @user")["movie_id"].tolist()
    assert liked == [2, 3]


# ---- what the model holds --------------------------------------------------------------------
def test_item_vectors_of_a_factor_model(als: Recommender, rec: Recommender) -> None:
    vectors = als.item_vectors([5, 2])
    assert vectors.dtype == np.float64 and vectors.shape == (2, 4)
    expected = als.model.item_vectors()[als.items.index_of(np.array([5, 2]))]
    np.testing.assert_array_equal(vectors, expected)
    message = (
        "^the ease model has no item vectors; use a factor model \\(e.g. --preset als-tuned\\)$"
    )
    with pytest.raises(MovieRecError, match=message):
        rec.item_vectors([5])


def test_the_summary_is_a_copy(rec: Recommender) -> None:
    kept = rec.trained.summary
    summary = rec.summary()
    assert summary == {"stats": kept["stats"], "ratings": kept["ratings"]}
    summary["stats"]["users"] = -1
    summary["ratings"][0][1] = -1
    assert rec.summary()["stats"]["users"] > 0 and rec.summary()["ratings"][0][1] >= 0
