"""movierec: movie recommendations from MovieLens, correct, fast and measurably good.

>>> from movierec import load_dataset, Recommender
>>> rec = Recommender.train(load_dataset("ml-latest-small"))  # doctest: +SKIP
>>> rec.recommend(["Toy Story", "The Matrix"], n=5)  # doctest: +SKIP
"""

from .analysis import movie_counts, popular, stats
from .datasets import REGISTRY, Dataset, load_dataset
from .errors import DataError, ModelError, MovieRecError, TitleError
from .interactions import Interactions, Vocabulary
from .recommender import Movie, Recommender, Scored, Settings, cached_recommender

__version__ = "0.1.0"

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
    "movie_counts",
    "popular",
    "stats",
]
