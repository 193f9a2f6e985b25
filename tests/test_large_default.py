"""Which model movierec trains when none is named (``settings.catalogue_preset``): ``default``
up to ``config.DENSE_ITEMS_LIMIT`` movies (ML-1M: unchanged); above, the default on its dense
head (``config.DENSE_HEAD_PRESET``) where the head and the catalogue fit — the bundled
ml-latest-small, whose first answer then reads right (Toy Story 2 beside Toy Story) — else
``config.LARGE_CATALOGUE_PRESET``, a model without a dense movies × movies matrix, whose fit
reports its progress as it goes."""

from __future__ import annotations

import json

import numpy as np
import pooch
import pytest
import scipy.sparse as sp

from movierec import config, progress
from movierec.cli import main
from movierec.evaluation import parse_model_spec
from movierec.models import MODELS
from movierec.models.base import ItemItemModel
from movierec.settings import Settings, catalogue_preset, default_preset, default_settings

TOY_STORY_2 = 3114


class Advances(progress.Reporter):
    """(what, units done, total) at every change of a step."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, float, float | None]] = []

    def changed(self, step: progress.Step) -> None:
        self.events.append((step.what, step.completed, step.total))


def kept_counts(dataset) -> np.ndarray:
    kept = dataset.column("movie_id")[dataset.column("rating") >= config.MIN_RATING]
    return np.unique(kept, return_counts=True)[1]


def test_the_bundled_catalogue_gets_the_default_on_its_dense_head(small) -> None:
    counts = kept_counts(small)
    head = int((counts >= config.DENSE_HEAD_MIN_RATINGS).sum())
    assert len(counts) > config.DENSE_ITEMS_LIMIT >= head
    assert default_preset(small) == config.DENSE_HEAD_PRESET
    settings = default_settings(small)
    assert settings.params["min_item_ratings"] == config.DENSE_HEAD_MIN_RATINGS


def test_the_head_preset_is_the_default_on_the_head() -> None:
    head = Settings.preset(config.DENSE_HEAD_PRESET)
    assert head.params == {
        **Settings.preset("default").params,
        "min_item_ratings": config.DENSE_HEAD_MIN_RATINGS,
    }


def test_ml1m_keeps_the_dense_default_exactly(ml1m) -> None:
    assert len(kept_counts(ml1m)) <= config.DENSE_ITEMS_LIMIT
    assert default_preset(ml1m) == "default"
    assert default_settings(ml1m) == Settings.preset("default")


def test_the_rule() -> None:
    limit = config.DENSE_ITEMS_LIMIT
    assert catalogue_preset(limit) == "default"
    assert catalogue_preset(limit, head_movies=10) == "default"
    assert catalogue_preset(8_452, head_movies=4_154) == config.DENSE_HEAD_PRESET
    assert catalogue_preset(8_452, head_movies=limit + 1) == config.LARGE_CATALOGUE_PRESET
    assert catalogue_preset(8_452) == config.LARGE_CATALOGUE_PRESET  # head not counted
    too_many = config.DENSE_HEAD_ITEMS_LIMIT + 1  # the head's weights keep the whole shape
    assert catalogue_preset(too_many, head_movies=10) == config.LARGE_CATALOGUE_PRESET
    assert catalogue_preset(8_452, spark=True, head_movies=4_154) == "spark-als"


def test_the_limit_itself_still_gets_the_dense_default(small, monkeypatch) -> None:
    movies = len(kept_counts(small))
    monkeypatch.setattr(config, "DENSE_ITEMS_LIMIT", movies)
    assert default_preset(small) == "default"
    monkeypatch.setattr(config, "DENSE_ITEMS_LIMIT", movies - 1)
    assert default_preset(small) == config.DENSE_HEAD_PRESET


def test_a_head_beyond_the_limit_gets_the_capped_head(small, monkeypatch) -> None:
    """The capped head holds most of the ratings (95% with the 5,000 most-rated)."""
    head = int((kept_counts(small) >= config.DENSE_HEAD_MIN_RATINGS).sum())
    monkeypatch.setattr(config, "DENSE_ITEMS_LIMIT", head - 1)
    assert default_preset(small) == config.CAPPED_HEAD_PRESET


def test_a_capped_head_holding_too_few_ratings_gets_the_large_catalogue_preset(
    small, monkeypatch
) -> None:
    head = int((kept_counts(small) >= config.DENSE_HEAD_MIN_RATINGS).sum())
    monkeypatch.setattr(config, "DENSE_ITEMS_LIMIT", head - 1)
    monkeypatch.setattr(config, "DENSE_HEAD_CAP", 100)  # 100 movies: a fifth of the ratings
    assert default_preset(small) == config.LARGE_CATALOGUE_PRESET


def test_offline_similar_to_toy_story_has_toy_story_2_in_its_top_three(
    capsys, monkeypatch, tmp_path
) -> None:
    """The first answer a newcomer without ML-1M gets: no data dir, an empty cache, no network
    (ML-1M's download refused), so the bundled ml-latest-small and its default."""
    monkeypatch.delenv(config.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(config.CACHE_DIR_ENV, str(tmp_path / "cache"))

    def refused(url, *args, **kwargs):
        raise ConnectionError("[Errno 111] Connection refused")

    monkeypatch.setattr(pooch, "retrieve", refused)
    code = main(["similar", "Toy Story", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "ml-latest-small" in err
    assert TOY_STORY_2 in [row["movie_id"] for row in json.loads(out)[:3]]


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
