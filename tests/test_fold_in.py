"""Folding in a new user's favourites: each liked movie weighs what the data's best rating
weighs, so a new user who likes some movies is scored exactly as a user of the data who gave
those movies the top rating (for a linear item–item model, where scores are ``x·W``)."""

from __future__ import annotations

import numpy as np
import pytest

from movierec import Recommender, Settings
from movierec.datasets import find_source


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory):
    rng = np.random.default_rng(7)
    lines = ["user_id,movie_id,rating"]
    for user in range(1, 61):
        for movie in rng.choice(np.arange(1, 41), size=12, replace=False):
            lines.append(f"{user},{movie},{rng.choice([3.0, 4.0, 4.5, 5.0])}")
    lines += [f"999,{movie},5.0" for movie in (3, 17, 28)]  # rated exactly the three "likes"
    path = tmp_path_factory.mktemp("own") / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    return find_source(None, None, ratings=str(path)).load()


@pytest.mark.parametrize("weighting", ["rating", "binary"])
def test_liked_movies_weigh_as_the_top_rating(own, weighting: str) -> None:
    settings = Settings.preset("default", weighting=weighting, lowpass_rank=4)
    rec = Recommender.train(own, settings)
    as_user = {s.movie.movie_id: s.score for s in rec.recommend_for_user(999, n=20)}
    folded = {s.movie.movie_id: s.score for s in rec.recommend([3, 17, 28], n=20)}
    assert folded.keys() == as_user.keys()
    assert np.allclose([folded[m] for m in as_user], list(as_user.values()), rtol=1e-5)
    assert rec.favourite_weight == (5.0 if weighting == "rating" else 1.0)
