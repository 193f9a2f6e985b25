"""Which model answers: a saved one (``--model``), the cached default for the data, or the
default trained now — and where its ratings come from. The command line (every answering
command, ``serve`` included) and the notebook share this one decision.

>>> from movierec.serving import Source, serving_recommender
>>> rec = serving_recommender(Source("ml-latest-small"), min_rating=3)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import config
from .errors import MovieRecError

if TYPE_CHECKING:
    from .catalogue import Catalogue
    from .datasets import Dataset, DataSource
    from .recommender import Recommender


@dataclass(frozen=True)
class Source:
    """Where ratings come from: a MovieLens dataset (``dataset``, ``data_dir``) or the user's
    own files (``ratings``, ``movies``; with Spark also URIs). Nothing is read until asked."""

    dataset: str | None = None
    data_dir: Path | None = None
    ratings: str | None = None
    movies: str | None = None

    @property
    def named(self) -> str | None:
        """The dataset's name as a model records it, when the source names one."""
        if self.ratings is None:
            return self.dataset
        from .datasets.dataset import is_uri

        if is_uri(self.ratings):
            from .spark.source import RemoteSource

            return RemoteSource(self.ratings).name
        return Path(self.ratings).name

    @property
    def option(self) -> str:
        """The command-line option that named the data (for errors that say to drop it)."""
        return "--ratings" if self.ratings is not None else "--dataset"

    def find(self) -> DataSource:
        """Where the ratings are (nothing read yet)."""
        from .datasets import find_source

        return find_source(self.dataset, self.data_dir, ratings=self.ratings, movies=self.movies)

    def load(self, min_rating: float | None = None) -> Dataset:
        """The dataset, with ``min_rating`` (unless None) checked against its rating scale."""
        loaded = self.find().load()
        if min_rating is not None:
            loaded.check_min_rating(min_rating)
        return loaded

    def of_model(self, model: Path | None) -> Source:
        """A saved model brings its dataset with it: this source, or, when ``model`` is given
        and no data is named, the MovieLens dataset the model was trained on. A model of your
        own ratings cannot find them alone: the error says to name them."""
        if model is None or self.dataset is not None or self.ratings is not None:
            return self
        from .bundle import read_meta
        from .datasets import REGISTRY

        name = read_meta(model)["dataset"]["name"]
        if name in REGISTRY:
            return replace(self, dataset=name)
        raise MovieRecError(  # the name: at most 100 characters (bundle's meta.json shape)
            f"--model {model} was trained on your own ratings ({name}); name them with "
            "--ratings (and --movies, if it had titles)"
        )


def serving_recommender(
    source: Source,
    min_rating: float = config.MIN_RATING,
    model: Path | None = None,
    titles: Sequence[str] | None = None,
    loaded: Dataset | None = None,
) -> Recommender:
    """The model that answers for ``source``: the saved one in ``model``, or the default one —
    cached (both answer from their folder alone, never reading ratings, when self-contained)
    or trained now, after ``titles`` are checked so that a typo fails before a training run.
    ``loaded``: the dataset, when the caller needs its ratings anyway (they are then used)."""
    from .bundle import self_contained
    from .recommender import Recommender

    if model is not None and loaded is None and self_contained(model):
        rec = Recommender.load(model)
        if source.named is not None and source.named != rec.dataset.name:
            raise MovieRecError(
                f"--model {model} was trained on {rec.dataset.name}, not {source.named}; drop "
                f"{source.option}, or pick a model of that dataset"
            )
        return rec
    if model is None and loaded is None:
        return _cached_default(source, min_rating, titles)
    dataset = loaded if loaded is not None else source.of_model(model).load(min_rating)
    if model is not None:
        return Recommender.load(model, dataset)
    from .model_cache import cached_recommender
    from .settings import default_settings

    return cached_recommender(dataset, default_settings(dataset, min_rating))


def _cached_default(source: Source, min_rating: float, titles: Sequence[str] | None) -> Recommender:
    """The cached default model, or the default trained now (its progress shows) once the
    ``titles`` are found in the data."""
    from .model_cache import cached_default
    from .recommender import resolve_movies

    def check_titles(dataset: Dataset) -> None:
        if titles:
            resolve_movies(dataset, list(titles), min_rating)

    return cached_default(source.find(), min_rating, check_titles)


def serving_catalogue(
    source: Source, min_rating: float = config.MIN_RATING, model: Path | None = None
) -> Catalogue:
    """The movies with their popularity: a saved model's (``model``) or the cached default
    model's (no ratings read), or else the dataset's."""
    if model is not None:
        return serving_recommender(source, min_rating, model).catalogue
    from .model_cache import cached_default_if_any

    cached = cached_default_if_any(source.find(), min_rating)
    if cached is not None:
        return cached.catalogue
    from .catalogue import Catalogue

    return Catalogue.from_dataset(source.load(min_rating), min_rating)
