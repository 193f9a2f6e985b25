"""Data analysis of a ratings table: what the filter keeps, and what is popular."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from . import config
from .datasets import Dataset


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
    keep = kept_mask(dataset, min_rating)
    ids, counts = np.unique(dataset.ratings["movie_id"].to_numpy()[keep], return_counts=True)
    order = np.lexsort((ids, -counts))
    return pd.Series(counts[order], index=pd.Index(ids[order], name="movie_id"), name="count")


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
