"""The facade on the bundled ml-latest-small: ids and titles in, movies out, never indices."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec import Dataset, ModelError, MovieRecError, Recommender, Settings, TitleError
from movierec.model_cache import cached_recommender, model_cache_dir

FAVOURITES = [
    "Toy Story (1995)",
    "Matrix, The (1999)",
    "Fargo (1996)",
    "Pulp Fiction (1994)",
    "Star Wars: Episode IV - A New Hope (1977)",
]


def test_recommendations_are_movies_not_indices(small_recommender: Recommender) -> None:
    results = small_recommender.recommend(FAVOURITES, n=10)
    assert len(results) == 10
    movies = small_recommender.dataset.movies
    for r in results:
        assert r.movie.movie_id in movies.index
        assert movies.loc[r.movie.movie_id, "title"] == r.movie.title
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 400), min_size=1, max_size=8, unique=True))
def test_liked_movies_never_come_back(small_recommender: Recommender, positions: list[int]) -> None:
    liked = small_recommender.popularity.index[positions].tolist()
    recommended = {r.movie.movie_id for r in small_recommender.recommend(liked, n=30)}
    assert recommended.isdisjoint(liked)


def test_similar_never_includes_the_movie(small_recommender: Recommender) -> None:
    results = small_recommender.similar("Toy Story", n=10)
    assert 1 not in [r.movie.movie_id for r in results]
    assert len(results) == 10


def test_explain_names_liked_movies(small_recommender: Recommender) -> None:
    results = small_recommender.recommend(FAVOURITES, n=5, explain=True)
    liked_titles = set(FAVOURITES)
    for r in results:
        assert r.because and set(r.because) <= liked_titles
    assert "because" in results[0].to_dict()
    assert "because" not in small_recommender.recommend(FAVOURITES, n=1)[0].to_dict()


def test_score_matches_the_recommendation_score(small_recommender: Recommender) -> None:
    top = small_recommender.recommend(FAVOURITES, n=1)[0]
    scored = small_recommender.score(FAVOURITES, top.movie.movie_id)
    assert scored.score == pytest.approx(top.score, rel=1e-6)


def test_ids_and_titles_are_interchangeable(small_recommender: Recommender) -> None:
    by_title = small_recommender.recommend(["Toy Story"], n=5)
    by_id = small_recommender.recommend([1], n=5)
    assert [r.movie.movie_id for r in by_title] == [r.movie.movie_id for r in by_id]


@pytest.mark.parametrize("n", [0, -3])
def test_bad_n_is_an_error(small_recommender: Recommender, n: int) -> None:
    with pytest.raises(MovieRecError, match="n must be"):
        small_recommender.recommend(FAVOURITES, n=n)


def test_unknown_and_empty_likes_are_errors(small_recommender: Recommender) -> None:
    with pytest.raises(TitleError, match="no movie matches"):
        small_recommender.recommend(["Qwzxy Plorb"], n=5)
    with pytest.raises(MovieRecError, match="no liked movies"):
        small_recommender.recommend([], n=5)
    with pytest.raises(TitleError, match="no movie has id"):
        small_recommender.recommend([99999999], n=5)


def test_dataset_user_recommendations_exclude_their_ratings(small_recommender: Recommender) -> None:
    user_id = int(small_recommender.users.ids[0])
    rated = set(small_recommender.dataset.ratings.query("user_id == @user_id")["movie_id"])
    recs = small_recommender.recommend_for_user(user_id, n=20)
    assert rated.isdisjoint(r.movie.movie_id for r in recs)


@pytest.mark.slow  # a second fit of the default (fold-in is the fast path)
def test_new_user_retrained_the_notebook_way(small_recommender: Recommender) -> None:
    retrained, user_id = small_recommender.with_new_user(FAVOURITES)
    assert user_id == int(small_recommender.dataset.ratings["user_id"].max()) + 1
    recs = retrained.recommend_for_user(user_id, n=10)
    liked_ids = {small_recommender.movie(t).movie_id for t in FAVOURITES}
    assert liked_ids.isdisjoint(r.movie.movie_id for r in recs)
    folded = {r.movie.movie_id for r in small_recommender.recommend(FAVOURITES, n=10)}
    assert len(folded & {r.movie.movie_id for r in recs}) >= 3


def test_save_load_round_trip(small_recommender: Recommender, tmp_path: Path) -> None:
    saved = small_recommender.save(tmp_path / "model")
    names = sorted(p.name for p in saved.iterdir())
    assert names[:3] == ["arrays.npz", "catalogue.json", "meta.json"]
    assert all(name.startswith("model.") and name.endswith(".npy") for name in names[3:])
    loaded = Recommender.load(saved, small_recommender.dataset)
    before = [r.to_dict() for r in small_recommender.recommend(FAVOURITES, n=10, explain=True)]
    after = [r.to_dict() for r in loaded.recommend(FAVOURITES, n=10, explain=True)]
    assert before == after
    assert loaded.settings == small_recommender.settings


def without_tables(ds: Dataset) -> Dataset:
    """The dataset as a saved model may see it: ratings columns only, movies never parsed."""

    def no_movies():
        raise AssertionError("the movies file was parsed")

    columns = {k: ds.ratings[k].to_numpy() for k in ds.ratings.columns}
    return Dataset(ds.name, columns, no_movies, ds.fingerprint, ds.source)


def test_loaded_model_answers_without_parsing_movies(small_recommender, tmp_path: Path) -> None:
    saved = small_recommender.save(tmp_path / "model")
    loaded = Recommender.load(saved, without_tables(small_recommender.dataset))
    assert [r.to_dict() for r in loaded.recommend(FAVOURITES, n=5, explain=True)] == [
        r.to_dict() for r in small_recommender.recommend(FAVOURITES, n=5, explain=True)
    ]
    assert loaded.similar("Toy Story", 5) == small_recommender.similar("Toy Story", 5)
    assert loaded.score(FAVOURITES[:2], "Heat (1995)") == small_recommender.score(
        FAVOURITES[:2], "Heat (1995)"
    )
    assert loaded.search("star wars", 5) == small_recommender.search("star wars", 5)
    assert loaded.popular(5) == small_recommender.popular(5)
    assert "ratings" not in loaded.dataset.__dict__  # no DataFrame was built either


def test_model_saved_without_a_catalogue_still_loads(small_recommender, tmp_path: Path) -> None:
    """Models saved before the catalogue was saved with them rebuild it from the dataset."""
    saved = small_recommender.save(tmp_path / "model")
    (saved / "catalogue.json").unlink()
    meta = json.loads((saved / "meta.json").read_text())
    del meta["favourite_weight"]
    (saved / "meta.json").write_text(json.dumps(meta))
    loaded = Recommender.load(saved, small_recommender.dataset)
    assert loaded.recommend(FAVOURITES, n=5) == small_recommender.recommend(FAVOURITES, n=5)


def test_serving_a_saved_model_imports_no_pandas(small_recommender, tmp_path: Path) -> None:
    saved = small_recommender.save(tmp_path / "model")
    code = (
        "import sys; from movierec import load_dataset, Recommender; "
        f"rec = Recommender.load({str(saved)!r}, load_dataset('ml-latest-small')); "
        "print(rec.recommend(['Toy Story', 'Fargo'], 3, explain=True)[0].movie.title); "
        "print('pandas' in sys.modules)"
    )
    # The bundled copy, as the `small` fixture loaded it: its parsed cache is already there.
    env = {k: v for k, v in os.environ.items() if k != "MOVIEREC_DATA_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    title, pandas_loaded = out.stdout.splitlines()
    assert title == small_recommender.recommend(["Toy Story", "Fargo"], 3)[0].movie.title
    assert pandas_loaded == "False"


def test_saved_model_contains_no_pickle(small_recommender: Recommender, tmp_path: Path) -> None:
    saved = small_recommender.save(tmp_path / "model")
    with np.load(saved / "arrays.npz", allow_pickle=False) as archive:
        assert all(archive[k].dtype != object for k in archive.files)
    for path in saved.glob("*.npy"):
        assert np.load(path, allow_pickle=False).dtype != object


def test_model_refuses_other_data(small_recommender: Recommender, tmp_path: Path) -> None:
    saved = small_recommender.save(tmp_path / "model")
    ds = small_recommender.dataset
    other = Dataset(ds.name, ds.ratings.iloc[:-1], ds.movies, "0123456789abcdef", ds.source)
    with pytest.raises(ModelError, match="trained on"):
        Recommender.load(saved, other)


@pytest.mark.parametrize(
    "damage", ["truncate_arrays", "truncate_npy", "bad_json", "missing_meta", "bad_catalogue"]
)
def test_corrupt_model_is_a_clear_error(small_recommender, tmp_path: Path, damage: str) -> None:
    saved = small_recommender.save(tmp_path / "model")
    if damage == "truncate_arrays":
        data = (saved / "arrays.npz").read_bytes()
        (saved / "arrays.npz").write_bytes(data[: len(data) // 2])
    elif damage == "truncate_npy":
        (big,) = saved.glob("model.*.npy")
        big.write_bytes(big.read_bytes()[:1000])
    elif damage == "bad_json":
        (saved / "meta.json").write_text("{not json")
    elif damage == "bad_catalogue":
        catalogue = json.loads((saved / "catalogue.json").read_text())
        catalogue["title"].pop()
        (saved / "catalogue.json").write_text(json.dumps(catalogue))
    else:
        (saved / "meta.json").unlink()
    with pytest.raises(ModelError, match="retrain"):
        Recommender.load(saved, small_recommender.dataset)


def test_save_replaces_atomically(small_recommender: Recommender, tmp_path: Path) -> None:
    target = tmp_path / "model"
    small_recommender.save(target)
    small_recommender.save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert json.loads((target / "meta.json").read_text())["dataset"]["name"] == "ml-latest-small"


def test_cached_recommender_trains_once(small: Dataset, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path))
    settings = Settings.preset("notebook", factors=8, iterations=2)
    first = cached_recommender(small, settings)
    assert (model_cache_dir(small, settings) / "meta.json").is_file()

    def must_not_train(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(Recommender, "train", must_not_train)
    second = cached_recommender(small, settings)
    assert [r.movie.movie_id for r in second.recommend(FAVOURITES, 5)] == [
        r.movie.movie_id for r in first.recommend(FAVOURITES, 5)
    ]
    shutil.rmtree(model_cache_dir(small, settings))


def test_cached_model_of_an_older_movierec_gets_its_catalogue(
    small: Dataset, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path))
    settings = Settings.preset("notebook", factors=8, iterations=2)
    first = cached_recommender(small, settings)
    catalogue = model_cache_dir(small, settings) / "catalogue.json"
    catalogue.unlink()
    second = cached_recommender(small, settings)
    assert catalogue.is_file()
    third = Recommender.load(model_cache_dir(small, settings), without_tables(small))
    assert third.recommend(FAVOURITES, 5) == second.recommend(FAVOURITES, 5)
    assert third.recommend(FAVOURITES, 5) == first.recommend(FAVOURITES, 5)


def test_presets() -> None:
    notebook = Settings.preset("notebook")
    assert notebook.params["factors"] == 500 and notebook.params["regularization"] == 0.001
    assert notebook.params["iterations"] == 100
    assert Settings.preset("default", factors=8).params["factors"] == 8
    with pytest.raises(MovieRecError, match="unknown preset"):
        Settings.preset("fastest")
