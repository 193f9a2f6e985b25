"""The report's taste map: the model's item vectors of the most popular movies, in 2-D.

The vectors come from the facade (:meth:`Recommender.item_vectors`), by ``movie_id``; this
module only chooses the movies and projects them (PCA).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import main_genres
from ..model_cache import cached_recommender
from ..recommender import Recommender
from ..settings import Settings


def factor_model(recommender: Recommender) -> Recommender:
    """The recommender itself when its model has item vectors; otherwise (EASE, ItemKNN) an
    ALS model of the same ratings, so the taste map can still be drawn: taken from the model
    cache, keyed like every cached model (ratings, movies, min-rating, settings), or trained and
    cached there the first time, so a second report fits nothing."""
    if recommender.has_item_vectors:
        return recommender
    settings = Settings(model="als", params={}, min_rating=recommender.settings.min_rating)
    return cached_recommender(recommender.dataset, settings)


def principal_components(matrix: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Rows of ``matrix`` projected on its first principal components (PCA by SVD of the
    centred matrix); each component's sign is fixed so its largest loading is positive."""
    centred = np.asarray(matrix, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:n_components]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    return centred @ (components * signs[:, None]).T


def item_map(
    recommender: Recommender, max_movies: int = 1500, min_popularity: int = 20
) -> pd.DataFrame:
    """A 2-D map of the model's item vectors: the ``max_movies`` most popular movies with at
    least ``min_popularity`` kept ratings, their unit-length vectors (the cosine space of
    ``similar``) projected by PCA. Columns ``movie_id, title, main_genre, popularity, x, y``,
    most popular first. MovieRecError when the model has no item vectors (see
    :func:`factor_model`)."""
    popularity = recommender.popularity
    chosen = popularity[popularity >= min_popularity].iloc[:max_movies]
    if len(chosen) < 3:
        chosen = popularity.iloc[:max_movies]
    movie_ids = chosen.index.to_numpy()
    rows = recommender.item_vectors(movie_ids)
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    coords = principal_components(rows, 2)
    genres = main_genres(recommender.dataset, recommender.settings.min_rating)
    return pd.DataFrame(
        {
            "movie_id": movie_ids.astype(int),
            "title": recommender.dataset.movies["title"].reindex(movie_ids).fillna("").to_numpy(),
            "main_genre": genres.reindex(movie_ids).fillna("Other").to_numpy(),
            "popularity": chosen.to_numpy().astype(int),
            "x": coords[:, 0],
            "y": coords[:, 1],
        }
    )


def vector_size(recommender: Recommender) -> int:
    """How many numbers the model's item vectors have (its factors)."""
    return int(recommender.item_vectors(recommender.popularity.index[:1]).shape[1])
