"""Above ``config.DENSE_ITEMS_LIMIT`` movies movierec trains ``config.LARGE_CATALOGUE_PRESET``, a
model without a dense movies × movies matrix, whose fit reports its progress as it goes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec import config, progress
from movierec.evaluation import parse_model_spec
from movierec.models import MODELS
from movierec.models.base import ItemItemModel
from movierec.settings import default_preset


class Advances(progress.Reporter):
    """(what, units done, total) at every change of a step."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, float, float | None]] = []

    def changed(self, step: progress.Step) -> None:
        self.events.append((step.what, step.completed, step.total))


def kept_movies(dataset) -> int:
    kept = dataset.column("movie_id")[dataset.column("rating") >= config.MIN_RATING]
    return len(np.unique(kept))


def test_the_bundled_big_catalogue_gets_the_large_catalogue_preset(small) -> None:
    assert kept_movies(small) > config.DENSE_ITEMS_LIMIT
    assert default_preset(small) == config.LARGE_CATALOGUE_PRESET


def test_the_limit_itself_still_gets_the_dense_default(small, monkeypatch) -> None:
    movies = kept_movies(small)
    monkeypatch.setattr(config, "DENSE_ITEMS_LIMIT", movies)
    assert default_preset(small) == "default"
    monkeypatch.setattr(config, "DENSE_ITEMS_LIMIT", movies - 1)
    assert default_preset(small) == config.LARGE_CATALOGUE_PRESET


def test_the_large_catalogue_preset_holds_no_items_by_items_matrix() -> None:
    spec = parse_model_spec(config.LARGE_CATALOGUE_PRESET)
    assert not issubclass(MODELS[spec.model], ItemItemModel)


def test_the_large_catalogue_preset_reports_each_iteration() -> None:
    spec = parse_model_spec(config.LARGE_CATALOGUE_PRESET)
    if "iterations" not in MODELS[spec.model].parameters:
        pytest.skip(f"{spec.model} does not iterate")
    small_spec = parse_model_spec(f"{config.LARGE_CATALOGUE_PRESET}:iterations=3:factors=4")
    matrix = sp.random(30, 20, density=0.3, format="csr", random_state=0, dtype=np.float32)
    matrix.data = np.ceil(matrix.data * 5)  # ratings 1-5, as the preset's weighting expects
    reporter = Advances()
    with progress.reporting(reporter):
        small_spec.build(config.SEED).fit(matrix)
    fitting = [(done, total) for what, done, total in reporter.events if "fitting" in what]
    assert [done for done, _ in fitting] == [1, 2, 3]
    assert {total for _, total in fitting} == {3}
