"""Ids up to 2⁶³ - 1 travel through every layer exactly: no wrap, no merge, no huge allocation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import write_dat_dataset

from movierec import Recommender, load_dataset
from movierec.cli import main
from movierec.settings import Settings, default_preset

BIG_USER = 2**63 - 1
BIG_MOVIE = 99_999_999_999
WRAPS_TO_ONE = 2**32 + 1  # int32 would read this as user 1


@pytest.fixture()
def big_ids(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    users = [1, 2, 3, 4, 5, WRAPS_TO_ONE, BIG_USER]
    movies = [1, 2, 3, BIG_MOVIE]
    ratings = [
        f"{u}::{m}::{3 + (i + j) % 3}" for i, u in enumerate(users) for j, m in enumerate(movies)
    ]
    titles = [
        "1::Toy Story (1995)::Animation",
        "2::Jumanji (1995)::Adventure",
        "3::Heat (1995)::Action",
        f"{BIG_MOVIE}::Big (1988)::Comedy",
    ]
    write_dat_dataset(tmp_path / "data", ratings, titles)
    return tmp_path / "data"


def test_big_ids_are_neither_wrapped_nor_merged(big_ids: Path) -> None:
    ds = load_dataset("ml-1m", big_ids)
    assert ds.column("user_id").dtype == np.int64
    assert set(ds.column("user_id").tolist()) == {1, 2, 3, 4, 5, WRAPS_TO_ONE, BIG_USER}
    assert default_preset(ds) == "default"  # counted without a bincount up to 10¹¹


def test_a_model_on_big_ids_saves_loads_and_answers(big_ids: Path, tmp_path: Path) -> None:
    ds = load_dataset("ml-1m", big_ids)
    rec = Recommender.train(ds, Settings.preset("als-sparse", factors=2, iterations=2))
    loaded = Recommender.load(rec.save(tmp_path / "model"), ds)
    assert BIG_MOVIE in loaded.items.ids.tolist() and BIG_USER in loaded.users.ids.tolist()
    assert {s.movie.movie_id for s in loaded.recommend([1], n=3)} <= {2, 3, BIG_MOVIE}
    assert loaded.score_for_user(BIG_USER, "Big").movie.movie_id == BIG_MOVIE


def test_the_notebook_s_new_user_after_the_largest_id(big_ids: Path) -> None:
    ds = load_dataset("ml-1m", big_ids)
    rec, user_id = Recommender.train_with_user(
        ds, ["Toy Story"], Settings.preset("als-sparse", factors=2, iterations=2)
    )
    assert user_id == 0  # 2⁶³ - 1 is taken, so the smallest free id
    assert rec.recommend_for_user(user_id, n=2)


def test_big_ids_come_back_exactly_in_json(capsys, big_ids: Path) -> None:
    args = ["similar", "Toy Story", "-d", "ml-1m", "--data-dir", str(big_ids), "--json"]
    assert main(args) == 0
    assert BIG_MOVIE in [row["movie_id"] for row in json.loads(capsys.readouterr().out)]
