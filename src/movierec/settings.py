"""What decides a trained model: the rating filter, the input weighting, the model and its
hyperparameters — from a named preset with overrides, checked before any data loads."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import config
from .datasets.rules import is_kept
from .datasets.summary import distinct_count, id_counts
from .errors import MovieRecError
from .models import SPARK_ALS, Model, make_model

if TYPE_CHECKING:
    from .datasets import Dataset


@dataclass(frozen=True)
class Settings:
    """Everything that decides a trained model: the filter, the weighting and the model."""

    model: str = "als"
    params: dict[str, Any] = field(default_factory=dict)
    min_rating: float = config.MIN_RATING
    weighting: str = "rating"

    @classmethod
    def preset(cls, name: str = "default", **overrides: Any) -> Settings:
        """Settings of a named preset (``config.PRESETS``, or one saved by ``movierec tune
        --save-preset``), checked, with overrides applied; overrides that are None are ignored.
        ``min_rating`` and ``weighting`` overrides set the filter and the weighting; the rest
        are hyperparameters."""
        from .presets import get_preset

        chosen = get_preset(name)
        given = {k: v for k, v in overrides.items() if v is not None}
        min_rating = given.pop("min_rating", chosen.min_rating)
        weighting = given.pop("weighting", chosen.weighting)
        return cls(
            model=chosen.model,
            params={**chosen.params, **given},
            min_rating=config.MIN_RATING if min_rating is None else float(min_rating),
            weighting=str(weighting),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "params": self.params,
            "min_rating": self.min_rating,
            "weighting": self.weighting,
        }

    def check(self, use_gpu: bool = False) -> Settings:
        """Refuse unknown models, weightings and out-of-range hyperparameters now (MovieRecError
        naming the value and the way out), before any data loads; returns self."""
        from .interactions import WEIGHTINGS

        if self.weighting not in WEIGHTINGS:
            raise MovieRecError(
                f"unknown weighting {str(self.weighting)[:40]!r}; choose one of "
                f"{', '.join(WEIGHTINGS)}"
            )
        if not math.isfinite(self.min_rating):
            raise MovieRecError(f"min_rating must be a finite number, got {self.min_rating}")
        make_model(self.model, **self.params, **({"use_gpu": True} if use_gpu else {}))
        return self

    def describe(self, model: Model | None = None) -> str:
        """The model these settings make, in words, e.g. ``EASE (λ = 50, users weighted,
        low-pass filtered), binary feedback, ratings ≥ 3``; ``model`` is the one they made (a
        loaded model), otherwise one is built from the settings (unfitted)."""
        from .interactions import WEIGHTING_WORDS

        model = model or make_model(self.model, **self.params)
        weighting = WEIGHTING_WORDS.get(self.weighting, f"{self.weighting} weighting")
        return f"{model.describe()}, {weighting}, ratings ≥ {self.min_rating:g}"

    def key(self) -> str:
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def catalogue_preset(
    movies: int,
    spark: bool = False,
    head_movies: int | None = None,
    capped_share: float | None = None,
) -> str:
    """The preset movierec uses when none is named, given how many movies have kept ratings
    (``movies``), how many have at least ``config.DENSE_HEAD_MIN_RATINGS`` (``head_movies``) and
    the share of the kept ratings that the ``config.DENSE_HEAD_CAP`` most-rated of those hold
    (``capped_share``; None: not counted). The rule, measured by ``bench/bench_small_default.py``
    and ``bench/bench_scale.py`` (docs/large-catalogues.md):

    - up to ``config.DENSE_ITEMS_LIMIT`` movies: ``default`` (DLAE, best on ML-1M's 3,628);
    - with ``spark`` (``--engine spark``) above it: ``spark-als``;
    - above it, when the head is within that limit and the catalogue within
      ``config.DENSE_HEAD_ITEMS_LIMIT``: ``config.DENSE_HEAD_PRESET``, the default on the
      head (the bundled ml-latest-small: 4,154 of 8,452 movies);
    - above that, when the capped head holds at least ``config.CAPPED_HEAD_MIN_SHARE`` of the
      kept ratings: ``config.CAPPED_HEAD_PRESET``, the default on that capped head (dense
      matrices of at most 5,000 × 5,000 whatever the catalogue: synthetic ML-25M, 58,266 movies,
      95.7% of the ratings in the head);
    - else ``config.LARGE_CATALOGUE_PRESET``, which holds no movies × movies matrix.

    Both head presets beat ``ials-large`` on recommend and on similar on the real data measured
    (on synthetic ML-10M-shaped data ``ials-large`` led recommend: docs/large-catalogues.md)."""
    if movies <= config.DENSE_ITEMS_LIMIT:
        return "default"
    if spark:
        return SPARK_ALS
    if (
        head_movies is not None
        and head_movies <= config.DENSE_ITEMS_LIMIT
        and movies <= config.DENSE_HEAD_ITEMS_LIMIT
    ):
        return config.DENSE_HEAD_PRESET
    if capped_share is not None and capped_share >= config.CAPPED_HEAD_MIN_SHARE:
        return config.CAPPED_HEAD_PRESET
    return config.LARGE_CATALOGUE_PRESET


def default_preset(
    dataset: Dataset, min_rating: float = config.MIN_RATING, spark: bool = False
) -> str:
    """:func:`catalogue_preset` for the movies of ``dataset`` with ratings ≥ ``min_rating``
    (the head counted only where the rule needs it)."""
    liked = dataset.column("movie_id")[is_kept(dataset.column("rating"), min_rating)]
    movies = distinct_count(liked)
    if movies <= config.DENSE_ITEMS_LIMIT or spark:
        return catalogue_preset(movies, spark)
    counts = id_counts(liked)[1]
    head = int(np.count_nonzero(counts >= config.DENSE_HEAD_MIN_RATINGS))
    return catalogue_preset(movies, spark, head, capped_share(counts))


def capped_share(counts: np.ndarray) -> float:
    """The share of the ratings (``counts``: per movie) held by the ``config.DENSE_HEAD_CAP``
    most-rated movies of those with at least ``config.DENSE_HEAD_MIN_RATINGS``: what
    ``config.CAPPED_HEAD_PRESET`` fits on."""
    total = int(counts.sum())
    if not total:
        return 0.0
    head = np.sort(counts[counts >= config.DENSE_HEAD_MIN_RATINGS])[::-1]
    return float(head[: config.DENSE_HEAD_CAP].sum() / total)


def default_settings(dataset: Dataset, min_rating: float = config.MIN_RATING) -> Settings:
    """Settings of :func:`default_preset`."""
    return Settings.preset(default_preset(dataset, min_rating), min_rating=min_rating)
