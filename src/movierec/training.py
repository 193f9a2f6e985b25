"""What trains a model: a preset (named, or chosen from the data) with overrides, on an engine
(local or Spark), checked before any data loads, then trained and saved. ``movierec train`` is
this module's options and a print; the notebook can use it as it is.

>>> from movierec.serving import Source
>>> plan = TrainingPlan(preset="als-tuned", overrides={"factors": 64})  # doctest: +SKIP
>>> plan.run(Source("ml-latest-small")).recommender  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import config
from .errors import MovieRecError
from .models.params import ParameterError
from .settings import Settings, catalogue_preset, default_preset

if TYPE_CHECKING:
    from .datasets import Dataset
    from .profiles.picks import ProfilesAdded
    from .recommender import Recommender
    from .serving import Source

OverrideHint = Callable[[str, object], str]
"""How the caller's user gives an override, as the way out of an error about its value:
``(parameter, example) → "pass e.g. --factors 64"`` on the command line."""


@dataclass(frozen=True)
class TrainedRun:
    """A model just trained: the recommender, the folder it was saved to (None: not saved),
    the seconds its training took (loading the data not counted) and what profiles added to
    the data (None: none were asked for)."""

    recommender: Recommender
    out: Path | None
    seconds: float
    profiles: ProfilesAdded | None = None

    def to_dict(self) -> dict[str, Any]:
        rec = self.recommender
        out = {
            "dataset": rec.dataset.name,
            "out": str(self.out),
            "settings": rec.settings.to_dict(),
            "description": rec.describe(),
            "users": len(rec.users),
            "movies": len(rec.items),
            "fit_seconds": round(self.seconds, 3),
        }
        if self.profiles is not None:
            out["profiles"] = self.profiles.to_dict()
        return out


@dataclass(frozen=True)
class TrainingPlan:
    """A training run as asked for: ``preset`` (None: the one :mod:`movierec.settings` picks
    for the data and engine), hyperparameter ``overrides`` (also ``min_rating`` and
    ``weighting``; None values ignored), the ``engine`` (``local`` or ``spark`` on
    ``spark_master``), ``gpu``, and ``out``, the folder to save to. Made, it has refused in one
    line (MovieRecError) what it can before any data loads: an ``out`` it may not replace, then
    a bad preset or override, an unknown engine or a model the engine does not train."""

    preset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    engine: str = "local"
    gpu: bool = False
    spark_master: str | None = None
    out: Path | None = None
    hint: OverrideHint | None = None
    with_profiles: str | Path | None = None

    def __post_init__(self) -> None:
        from .spark.engine import check_engine

        if self.out is not None:
            from .atomic import check_replaceable
            from .bundle import is_model_folder

            check_replaceable(self.out, is_model_folder, "movierec model")
        model = self.settings(self.preset).model if self.preset is not None else None
        check_engine(self.engine, model, self.spark_master)
        if self.with_profiles is not None:  # a database that holds no profiles, refused now
            from .profiles import ProfileStore

            ProfileStore.open(self.with_profiles, create=False).close()

    @property
    def warning(self) -> str | None:
        """The one line a named preset whose results mislead comes with, or None."""
        from .presets import preset_warning

        return preset_warning(self.preset) if self.preset is not None else None

    @property
    def spark(self) -> bool:
        return self.engine == "spark"

    @property
    def min_rating(self) -> float:
        value = self.overrides.get("min_rating")
        return config.MIN_RATING if value is None else float(value)

    def settings(self, preset: str) -> Settings:
        """``preset`` with the overrides, checked; an error about an override's value says
        how to give it (``hint``)."""
        try:
            return Settings.preset(preset, **self.overrides).check(use_gpu=self.gpu)
        except ParameterError as exc:
            if self.hint is None or self.overrides.get(exc.parameter) is None:
                raise
            raise exc.rephrased(self.hint(exc.parameter, exc.example)) from None

    def settings_for(self, dataset: Dataset) -> Settings:
        """The settings that train on ``dataset``: the named preset's, or the default's for
        its movies with kept ratings (and the engine)."""
        return self.settings(self.preset or default_preset(dataset, self.min_rating, self.spark))

    def settings_for_catalogue(self, movies: int) -> Settings:
        """The settings Spark trains with once it has counted the ``movies`` with kept
        ratings (ratings read by Spark itself)."""
        return self.settings(self.preset or catalogue_preset(movies, spark=True))

    def run(self, source: Source) -> TrainedRun:
        """Load (or have Spark read) the ratings, train, and save to ``out`` when given."""
        from .datasets.dataset import is_uri
        from .recommender import Recommender

        added = None
        if self.spark and source.ratings is not None and is_uri(source.ratings):
            if self.with_profiles is not None:
                raise MovieRecError(
                    "--with-profiles adds profiles' ratings to ratings movierec reads itself, "
                    "not to ratings Spark reads from a URI; give a local --ratings file"
                )
            if source.dataset is not None:
                raise MovieRecError(
                    f"give a MovieLens dataset ({source.dataset}) or your own ratings (--ratings), "
                    "not both"
                )
            started = time.perf_counter()
            rec = Recommender.train_on_spark(
                source.ratings,
                self.settings_for_catalogue,
                movies=source.movies,
                master=self.spark_master,
            )
        else:
            dataset = source.load(self.min_rating)
            if self.with_profiles is not None:
                from .profiles.picks import with_profiles

                dataset, added = with_profiles(dataset, self.with_profiles)
            settings = self.settings_for(dataset)
            started = time.perf_counter()
            rec = Recommender.train(
                dataset,
                settings,
                use_gpu=self.gpu,
                spark=self.spark,
                spark_master=self.spark_master,
            )
        seconds = time.perf_counter() - started
        return TrainedRun(rec, None if self.out is None else rec.save(self.out), seconds, added)
