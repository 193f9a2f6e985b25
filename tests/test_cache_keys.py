"""Caches are keyed by everything that shapes an answer (ratings, movies, min-rating, settings),
and a saved model brings its dataset with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_dat_dataset

from movierec import load_dataset
from movierec.cli import main
from movierec.model_cache import cached_recommender
from movierec.settings import default_settings

RATINGS = ["user_id,movie_id,rating"] + [
    f"{user},{movie},{(user * movie) % 3 + 3}"
    for user in range(1, 31)
    for movie in range(101, 121)
    if (user + movie) % 3
]
TITLES = ["movie_id,title,genres"] + [
    f"{movie},{'Toy Story (1995)' if movie == 101 else f'Film {movie} (2000)'},Comedy"
    for movie in range(101, 121)
]


@pytest.fixture()
def own_files(tmp_path: Path, monkeypatch) -> Path:
    """A private cache, and your own ratings (r.csv) and titles (titles.csv) in ``tmp_path``."""
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "r.csv").write_text("\n".join(RATINGS) + "\n")
    (tmp_path / "titles.csv").write_text("\n".join(TITLES) + "\n")
    return tmp_path


def recommend(capsys, *args: str) -> list[dict]:
    code = main(["recommend", "-n", "20", *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_the_default_model_cache_sees_a_movies_file_given_later(own_files: Path, capsys) -> None:
    ratings, titles = str(own_files / "r.csv"), str(own_files / "titles.csv")
    untitled = recommend(capsys, "--ratings", ratings, "--like", "101")
    assert all(row["title"].startswith("Movie ") for row in untitled)
    titled = recommend(capsys, "--ratings", ratings, "--movies", titles, "--like", "Toy Story")
    assert all(row["title"].startswith("Film ") for row in titled)
    assert {row["movie_id"] for row in titled} == {row["movie_id"] for row in untitled}
    # and the other way round: no titles the command was not given
    again = recommend(capsys, "--ratings", ratings, "--like", "101")
    assert all(row["title"].startswith("Movie ") for row in again)


def test_the_default_model_cache_sees_a_renamed_title(own_files: Path, capsys) -> None:
    ratings, titles = str(own_files / "r.csv"), own_files / "titles.csv"
    before = recommend(capsys, "--ratings", ratings, "--movies", str(titles), "--like", "101")
    assert "Renamed Film (2001)" not in {row["title"] for row in before}
    titles.write_text(titles.read_text().replace("Film 110 (2000)", "Renamed Film (2001)"))
    after = recommend(capsys, "--ratings", ratings, "--movies", str(titles), "--like", "101")
    assert {row["movie_id"]: row["title"] for row in after}[110] == "Renamed Film (2001)"


def test_a_renamed_title_in_a_movielens_folder_is_seen(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    ratings = [f"{u}::{m}::{(u + m) % 3 + 3}::97830{u}" for u in range(1, 30) for m in (1, 2, 4)]
    folder = write_dat_dataset(tmp_path / "data", ratings)
    args = ["--dataset", "ml-1m", "--data-dir", str(tmp_path / "data"), "--like", "1"]
    assert "Jumanji (1995)" in {row["title"] for row in recommend(capsys, *args)}
    movies = folder / "movies.dat"
    movies.write_bytes(movies.read_bytes().replace(b"Jumanji (1995)", b"Jumanji (1996)"))
    assert "Jumanji (1996)" in {row["title"] for row in recommend(capsys, *args)}


def test_the_model_cache_keys_a_loaded_dataset_by_its_movies(own_files: Path) -> None:
    ratings = own_files / "r.csv"
    untitled = load_dataset(ratings=ratings)
    titled = load_dataset(ratings=ratings, movies=own_files / "titles.csv")
    settings = default_settings(untitled)
    assert cached_recommender(untitled, settings).movie(101).title == "Movie 101"
    assert cached_recommender(titled, settings).movie(101).title == "Toy Story (1995)"
    assert cached_recommender(untitled, settings).movie(101).title == "Movie 101"


# ---- a saved model brings its dataset ------------------------------------------------------
@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "small"
    assert main(["train", "--dataset", "ml-latest-small", "--out", str(out)]) == 0
    return out


@pytest.fixture()
def ml1m_elsewhere(tmp_path: Path) -> Path:
    """A data dir whose ml-1m (a tiny stand-in) is what a command without --dataset reads."""
    ratings = [f"{u}::{m}::4::97830{u}" for u in range(1, 9) for m in (1, 2, 4)]
    write_dat_dataset(tmp_path / "data", ratings)
    return tmp_path / "data"


def test_recommend_all_with_a_model_reads_the_models_dataset(
    small_model: Path, ml1m_elsewhere: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "all.parquet"
    args = ["recommend-all", "--model", str(small_model), "--out", str(out), "-n", "2"]
    code = main([*args, "--data-dir", str(ml1m_elsewhere), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["users"] == 609  # ml-latest-small's users, not the 8 of ml-1m's


def test_a_dataset_named_beside_a_model_still_has_to_match(
    small_model: Path, ml1m_elsewhere: Path, tmp_path: Path, capsys
) -> None:
    args = ["recommend-all", "--model", str(small_model), "--out", str(tmp_path / "a.parquet")]
    code = main([*args, "--dataset", "ml-1m", "--data-dir", str(ml1m_elsewhere)])
    assert code == 2
    assert "trained on ml-latest-small" in capsys.readouterr().err


def test_a_model_of_your_own_ratings_asks_for_them(own_files: Path, capsys) -> None:
    model = own_files / "model"
    assert main(["train", "--ratings", str(own_files / "r.csv"), "--out", str(model)]) == 0
    capsys.readouterr()
    code = main(["recommend-all", "--model", str(model), "--out", str(own_files / "a.parquet")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "trained on your own ratings (r.csv); name them with --ratings" in err
