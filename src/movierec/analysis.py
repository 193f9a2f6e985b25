"""Data analysis of a ratings table: what the filter keeps, and what is popular."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import config
from .catalogue import kept_counts
from .datasets import Dataset
from .errors import MovieRecError

if TYPE_CHECKING:
    from .recommender import Recommender


@dataclass(frozen=True)
class Stats:
    """Counts before and after the ``min_rating`` filter (users and movies with kept ratings)."""

    dataset: str
    ratings_total: int
    ratings_kept: int
    kept_ratio: float
    users: int
    movies: int
    users_total: int
    movies_total: int
    min_rating: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def kept_mask(dataset: Dataset, min_rating: float = config.MIN_RATING) -> np.ndarray:
    return dataset.ratings["rating"].to_numpy() >= min_rating


def stats(dataset: Dataset, min_rating: float = config.MIN_RATING) -> Stats:
    """How many ratings, users and movies there are, and how many the filter keeps.

    ``kept_ratio`` is ``ratings_kept / ratings_total`` (0.8363 on ML-1M at min_rating 3).
    """
    ratings = dataset.ratings
    keep = kept_mask(dataset, min_rating)
    total, kept = len(ratings), int(keep.sum())
    return Stats(
        dataset=dataset.name,
        ratings_total=total,
        ratings_kept=kept,
        kept_ratio=round(kept / total, 6) if total else 0.0,
        users=int(np.unique(ratings["user_id"].to_numpy()[keep]).size),
        movies=int(np.unique(ratings["movie_id"].to_numpy()[keep]).size),
        users_total=int(ratings["user_id"].nunique()),
        movies_total=int(ratings["movie_id"].nunique()),
        min_rating=float(min_rating),
    )


def movie_counts(dataset: Dataset, min_rating: float = config.MIN_RATING) -> pd.Series:
    """Kept ratings per ``movie_id``, most first (ties: lower ``movie_id`` first)."""
    ids, counts = kept_counts(dataset.column("movie_id"), dataset.column("rating"), min_rating)
    return pd.Series(counts, index=pd.Index(ids, name="movie_id"), name="count")


def popular(dataset: Dataset, n: int = 30, min_rating: float = config.MIN_RATING) -> pd.DataFrame:
    """The ``n`` movies with the most kept ratings: ``movie_id, title, genres, year, count``,
    most popular first (ties keep the lower ``movie_id`` first)."""
    top = movie_counts(dataset, min_rating).iloc[:n]
    ids, counts = top.index.to_numpy(), top.to_numpy()
    order = np.arange(len(top))
    movies = dataset.movies.reindex(ids[order])
    return pd.DataFrame(
        {
            "movie_id": ids[order].astype(int),
            "title": movies["title"].fillna("").to_numpy(),
            "genres": movies["genres"].fillna("").to_numpy(),
            "year": movies["year"].fillna(0).astype(int).to_numpy(),
            "count": counts[order].astype(int),
        }
    )


def rating_distribution(dataset: Dataset, min_rating: float = config.MIN_RATING) -> pd.DataFrame:
    """Ratings per star value before and after the filter: indexed by ``rating``, with columns
    ``all`` and ``kept`` (0 below ``min_rating``), lowest star value first."""
    values, counts = np.unique(dataset.ratings["rating"].to_numpy(), return_counts=True)
    index = pd.Index(values.astype(float), name="rating")
    return pd.DataFrame(
        {"all": counts.astype(int), "kept": np.where(values >= min_rating, counts, 0).astype(int)},
        index=index,
    )


def user_counts(dataset: Dataset, min_rating: float = config.MIN_RATING) -> pd.Series:
    """Kept ratings per ``user_id``, most first (users with no kept rating are absent)."""
    keep = kept_mask(dataset, min_rating)
    ids, counts = np.unique(dataset.ratings["user_id"].to_numpy()[keep], return_counts=True)
    order = np.lexsort((ids, -counts))
    return pd.Series(counts[order], index=pd.Index(ids[order], name="user_id"), name="count")


def long_tail(dataset: Dataset, min_rating: float = config.MIN_RATING) -> pd.DataFrame:
    """The popularity curve: with movies ranked most popular first, ``movie_share`` is the
    fraction of movies up to each rank and ``rating_share`` the fraction of kept ratings they
    hold (both end at 1.0)."""
    counts = movie_counts(dataset, min_rating).to_numpy()
    ranks = np.arange(1, len(counts) + 1)
    return pd.DataFrame(
        {
            "movie_share": ranks / max(len(counts), 1),
            "rating_share": np.cumsum(counts) / max(int(counts.sum()), 1),
        }
    )


def top_share(curve: pd.DataFrame, movie_share: float) -> float:
    """The fraction of kept ratings held by the top ``movie_share`` of movies (0.2 → top 20%),
    read off a :func:`long_tail` curve."""
    x = np.concatenate([[0.0], curve["movie_share"].to_numpy()])
    y = np.concatenate([[0.0], curve["rating_share"].to_numpy()])
    return float(np.interp(movie_share, x, y))


def _kept_genres(dataset: Dataset, min_rating: float) -> pd.Series:
    """Each movie's genres as a list, for movies with at least one kept rating."""
    counts = movie_counts(dataset, min_rating)
    genres = dataset.movies["genres"].reindex(counts.index).fillna("")
    return genres.str.split("|").map(lambda names: [g for g in names if g])


def genre_counts(dataset: Dataset, min_rating: float = config.MIN_RATING) -> pd.Series:
    """Kept ratings per genre, most first. A rating of a movie with several genres counts once
    for each of them; movies with no genre listed are left out."""
    counts = movie_counts(dataset, min_rating)
    exploded = _kept_genres(dataset, min_rating).explode().dropna()
    totals = counts.reindex(exploded.index).groupby(exploded.to_numpy()).sum()
    totals = totals.sort_index().sort_values(ascending=False, kind="stable")
    totals.index.name, totals.name = "genre", "count"
    return totals.astype(int)


def main_genres(dataset: Dataset, min_rating: float = config.MIN_RATING, top: int = 9) -> pd.Series:
    """One genre per movie with kept ratings, for colouring a map: among the ``top`` genres
    that the most of these movies have, the movie's rarest (so "Animation|Children's|Comedy"
    reads as Children's rather than Comedy); "Other" when it has none of them. Indexed by
    ``movie_id``."""
    genres = _kept_genres(dataset, min_rating)
    movies_per_genre = genres.explode().dropna().value_counts()
    movies_per_genre = movies_per_genre.sort_index().sort_values(ascending=False, kind="stable")
    rarity = {genre: position for position, genre in enumerate(movies_per_genre.index[:top])}

    def pick(names: list[str]) -> str:
        candidates = [g for g in names if g in rarity]
        return max(candidates, key=rarity.__getitem__) if candidates else "Other"

    out = genres.map(pick)
    out.name = "main_genre"
    return out


def principal_components(matrix: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Rows of ``matrix`` projected on its first principal components (PCA by SVD of the
    centred matrix); each component's sign is fixed so its largest loading is positive."""
    centred = np.asarray(matrix, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:n_components]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    return centred @ (components * signs[:, None]).T


def item_map(recommender: Recommender, max_movies: int = 1500, min_count: int = 20) -> pd.DataFrame:
    """A 2-D map of the model's item factors: the ``max_movies`` most popular movies with at
    least ``min_count`` kept ratings, their unit-length factors (the cosine space of
    ``similar``) projected by PCA. Columns ``movie_id, title, main_genre, count, x, y``, most
    popular first. Needs a factor model (ALS)."""
    factors = getattr(recommender.model, "item_factors", None)
    if factors is None:
        raise MovieRecError(
            f"the {recommender.settings.model} model has no item factors to map; use an ALS model"
        )
    counts = recommender.popularity
    chosen = counts[counts >= min_count].iloc[:max_movies]
    if len(chosen) < 3:
        chosen = counts.iloc[:max_movies]
    movie_ids = chosen.index.to_numpy()
    rows = np.asarray(factors, dtype=np.float64)[recommender.items.index_of(movie_ids)]
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    coords = principal_components(rows, 2)
    genres = main_genres(recommender.dataset, recommender.settings.min_rating)
    return pd.DataFrame(
        {
            "movie_id": movie_ids.astype(int),
            "title": recommender.dataset.movies["title"].reindex(movie_ids).fillna("").to_numpy(),
            "main_genre": genres.reindex(movie_ids).fillna("Other").to_numpy(),
            "count": chosen.to_numpy().astype(int),
            "x": coords[:, 0],
            "y": coords[:, 1],
        }
    )
