"""When nothing comes out, the result says why (the library), and the command line says it on
stderr with exit code 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from movierec import Recommender, load_dataset
from movierec.batch import Written
from movierec.cli import main
from movierec.recommender import Ranked
from movierec.settings import Settings


def write_ratings(path: Path, rows: list[tuple[int, int, float]]) -> Path:
    lines = ["user_id,movie_id,rating", *(f"{u},{m},{r:g}" for u, m, r in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture()
def everyone_rated_everything(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    rows = [(u, m, (u + m) % 3 + 3) for u in range(1, 6) for m in range(1, 5)]
    return write_ratings(tmp_path / "full.csv", rows)


@pytest.fixture()
def one_movie(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    rows = [(u, 1, 4.0) for u in range(1, 6)] + [(1, 2, 1.0)]  # movie 2: no kept rating
    return write_ratings(tmp_path / "one.csv", rows)


# ---- the library ------------------------------------------------------------------------------
def test_a_full_list_has_no_reason() -> None:
    assert Ranked([]).why_empty is None
    assert Ranked([], "why").why_empty == "why"


def test_recommend_says_when_every_movie_is_liked(everyone_rated_everything: Path) -> None:
    rec = Recommender.train(load_dataset(ratings=everyone_rated_everything))
    results = rec.recommend([1, 2, 3, 4])
    assert results == []
    assert results.why_empty == (
        "you like all 4 movies the model knows, so none is left to recommend"
    )
    assert rec.recommend([1]).why_empty is None


def test_recommend_for_user_says_when_they_rated_everything(everyone_rated_everything: Path):
    rec = Recommender.train(load_dataset(ratings=everyone_rated_everything))
    results = rec.recommend_for_user(3)
    assert results == [] and results.why_empty == (
        "user 3 rated all 4 movies the model knows, so none is left to recommend"
    )


def test_similar_says_when_the_model_knows_one_movie(one_movie: Path) -> None:
    rec = Recommender.train(load_dataset(ratings=one_movie))
    results = rec.similar(1)
    assert results == [] and results.why_empty == "Movie 1 is the only movie the model knows"


def test_similar_says_when_a_movie_has_no_neighbours(tmp_path: Path) -> None:
    # movie 3 is liked by user 9 alone, who likes nothing else: itemknn keeps no neighbour
    rows = [(u, m, 5.0) for u in range(1, 6) for m in (1, 2)] + [(9, 3, 5.0)]
    dataset = load_dataset(ratings=write_ratings(tmp_path / "r.csv", rows))
    rec = Recommender.train(dataset, Settings(model="itemknn"))
    results = rec.similar(3)
    assert results == [] and results.why_empty == (
        "the item kNN model relates no other movie to Movie 3, which has 1 kept rating"
    )


def test_an_empty_batch_says_why() -> None:
    assert Written(Path("x"), 5, 0, 10, "local", 4).why_empty == (
        "every one of the 5 users rated all 4 movies the model knows, so none is left to recommend"
    )
    assert Written(Path("x"), 5, 3, 10, "local", 4).why_empty is None


# ---- the command line -------------------------------------------------------------------------
def test_recommend_all_says_why_nothing_was_written(
    everyone_rated_everything: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "all.parquet"
    args = ["recommend-all", "--ratings", str(everyone_rated_everything), "--out", str(out)]
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0 and json.loads(captured.out)["rows"] == 0
    assert captured.err.splitlines()[-1] == (
        "movierec: no recommendations: every one of the 5 users rated all 4 movies the model "
        "knows, so none is left to recommend"
    )


@pytest.mark.parametrize("as_json", [False, True])
def test_recommend_says_why_nothing_came_out(
    everyone_rated_everything: Path, capsys, as_json: bool
) -> None:
    likes = [arg for movie in "1234" for arg in ("--like", movie)]
    args = ["recommend", "--ratings", str(everyone_rated_everything), *likes]
    code = main(args + ["--json"] * as_json)
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == ("[]\n" if as_json else "")
    assert captured.err.splitlines()[-1] == (
        "movierec: no recommendations: you like all 4 movies the model knows, so none is left "
        "to recommend"
    )


def test_similar_says_why_nothing_came_out(one_movie: Path, capsys) -> None:
    code = main(["similar", "--ratings", str(one_movie), "1"])
    captured = capsys.readouterr()
    assert code == 0 and captured.out == ""
    assert captured.err.splitlines()[-1] == (
        "movierec: no similar movies: Movie 1 is the only movie the model knows"
    )


def test_a_result_with_rows_says_nothing_more(everyone_rated_everything: Path, capsys) -> None:
    code = main(["recommend", "--ratings", str(everyone_rated_everything), "--like", "1"])
    captured = capsys.readouterr()
    assert code == 0 and "no recommendations" not in captured.err
