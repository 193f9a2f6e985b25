"""A trained model as one value: the model, its vocabularies and settings, and what it keeps
about its data (the catalogue, the data's summary, the weight of a favourite movie).

Every way to train produces a :class:`Trained` — :func:`fit` on a loaded dataset, and
:func:`fit_on_spark` on ratings Spark reads — and :mod:`movierec.bundle` writes and reads one;
:class:`movierec.Recommender` is a ``Trained`` plus, optionally, the dataset's ratings. Nothing
here knows about titles in, titles out: that is the facade's job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalogue import Catalogue
from .datasets.dataset import Dataset, RatingsElsewhere
from .errors import MovieRecError
from .interactions import Interactions, Vocabulary, favourite_confidence
from .models import Model, make_model
from .settings import Settings, catalogue_preset

if TYPE_CHECKING:
    from .spark.source import RemoteSource

Summary = dict[str, Any]
"""The data in numbers: ``{"stats": Stats as a dict, "ratings": [[rating, all, kept], …]}``
(see :mod:`movierec.datasets.summary`)."""


@dataclass(frozen=True, eq=False)
class Trained:
    """A fitted model and everything a saved model keeps: enough to answer in titles without
    the ratings. ``data_name`` and ``fingerprint`` identify the ratings it was trained on."""

    model: Model
    users: Vocabulary
    items: Vocabulary
    settings: Settings
    catalogue: Catalogue
    summary: Summary
    favourite_weight: float
    data_name: str
    fingerprint: str

    def without_ratings(self) -> RatingsElsewhere:
        """A dataset that stands for the data this model was trained on: its identity and
        movies, without ratings (asking for them says so)."""
        return _DataOf(self)


class _DataOf(RatingsElsewhere):
    def __init__(self, trained: Trained) -> None:
        super().__init__(
            trained.data_name,
            {},
            trained.catalogue.movies_frame,
            trained.fingerprint,
            Path(trained.data_name),
        )

    def missing(self) -> MovieRecError:
        return MovieRecError(
            f"this needs the ratings of {self.name}, which this recommender does not hold: "
            "give it its dataset (Recommender(trained, dataset))"
        )


def summary_of(dataset: Dataset, min_rating: float) -> Summary:
    """:data:`Summary` of a loaded dataset's ratings."""
    from .datasets.summary import rating_counts, stats

    return {
        "stats": stats(dataset, min_rating).to_dict(),
        "ratings": [list(r) for r in rating_counts(dataset, min_rating)],
    }


def favourite_weight_of(dataset: Dataset, weighting: str) -> float:
    """The weight a liked movie gets in a fold-in: the best rating in the data (5 stars, as in
    the notebook), read through the weighting like every kept rating."""
    return favourite_confidence(float(dataset.column("rating").max()), weighting)


def fit(
    dataset: Dataset,
    settings: Settings,
    *,
    show_progress: bool = False,
    use_gpu: bool = False,
    spark: bool = False,
    spark_master: str | None = None,
) -> tuple[Trained, Interactions]:
    """Filter the dataset's ratings, build the interactions and fit the model ``settings``
    name (with Apache Spark on ``spark_master`` when ``spark``): the trained value, and the
    interactions it was fitted on."""
    settings = settings.check(use_gpu)
    dataset.check_min_rating(settings.min_rating)
    interactions = Interactions.from_ratings(
        dataset.ratings, settings.min_rating, settings.weighting
    )
    params = dict(settings.params)
    if use_gpu:
        params["use_gpu"] = True
    model = make_model(settings.model, **params)
    if spark:
        from .spark.engine import fit as fit_with_spark

        model = fit_with_spark(model, interactions.matrix, spark_master, show_progress)
    else:
        model.fit(interactions.matrix, show_progress)
    trained = Trained(
        model,
        interactions.users,
        interactions.items,
        settings,
        Catalogue.from_dataset(dataset, settings.min_rating),
        summary_of(dataset, settings.min_rating),
        favourite_weight_of(dataset, settings.weighting),
        dataset.name,
        dataset.fingerprint,
    )
    return trained, interactions


def fit_on_spark(
    source: RemoteSource,
    settings_for: Callable[[int], Settings],
    master: str | None = None,
) -> tuple[Trained, RatingsElsewhere]:
    """Fit on ratings Spark reads itself (:mod:`movierec.spark.source`): ``settings_for``
    gives the settings for the number of movies with kept ratings (its filter and weighting
    must not depend on it). The trained value, and the dataset that stands for the ratings,
    which stay with Spark."""
    from .spark.engine import check_engine
    from .spark.source import train

    chosen: list[Settings] = []

    def model_for(n_items: int) -> Model:
        settings = settings_for(n_items)
        check_engine("spark", settings.model, master)
        chosen.append(settings)
        return make_model(settings.model, **settings.params)

    first = settings_for(0)  # the filter and the weighting do not depend on the catalogue
    fitted = train(source, first.min_rating, first.weighting, model_for, master)
    settings = chosen[-1]
    trained = Trained(
        fitted.model,
        Vocabulary(fitted.users),
        Vocabulary(fitted.items),
        settings,
        fitted.catalogue,
        fitted.summary,
        favourite_confidence(fitted.top_rating, settings.weighting),
        fitted.dataset.name,
        fitted.dataset.fingerprint,
    )
    return trained, fitted.dataset


def spark_default_settings(n_items: int, min_rating: float) -> Settings:
    """The settings Spark trains with when none are named: by the catalogue's size."""
    return Settings.preset(catalogue_preset(n_items, spark=True), min_rating=min_rating)
