"""movierec: movie recommendations from MovieLens, correct, fast and measurably good.

>>> from movierec import load_dataset, Recommender
>>> rec = Recommender.train(load_dataset("ml-latest-small"))  # doctest: +SKIP
>>> rec.recommend(["Toy Story", "The Matrix"], n=5)  # doctest: +SKIP

Names are imported on first use, so ``import movierec`` (and the command line serving a saved
model) does not pay for pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import progress as _progress
from ._version import __version__ as __version__


def _display() -> _progress.Reporter:
    """How ``show_progress=True`` shows steps: the interfaces' display, imported when used."""
    from .progress_display import for_stream

    return for_stream()


_progress.use_display(_display)

_EXPORTS = {
    "REGISTRY": ".datasets",
    "DataError": ".errors",
    "Dataset": ".datasets",
    "Interactions": ".interactions",
    "ModelError": ".errors",
    "Movie": ".catalogue",
    "MovieRecError": ".errors",
    "Recommender": ".recommender",
    "Scored": ".recommender",
    "Settings": ".settings",
    "TitleError": ".errors",
    "Vocabulary": ".interactions",
    "cached_recommender": ".model_cache",
    "load_dataset": ".datasets",
    "popular": ".analysis",
    "popularity": ".analysis",
    "stats": ".analysis",
}

__all__ = [
    "REGISTRY",
    "DataError",
    "Dataset",
    "Interactions",
    "ModelError",
    "Movie",
    "MovieRecError",
    "Recommender",
    "Scored",
    "Settings",
    "TitleError",
    "Vocabulary",
    "cached_recommender",
    "load_dataset",
    "popular",
    "popularity",
    "stats",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'movierec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .analysis import popular, popularity, stats
    from .catalogue import Movie
    from .datasets import REGISTRY, Dataset, load_dataset
    from .errors import DataError, ModelError, MovieRecError, TitleError
    from .interactions import Interactions, Vocabulary
    from .model_cache import cached_recommender
    from .recommender import Recommender, Scored
    from .settings import Settings
