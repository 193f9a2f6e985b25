"""Statistics of a ratings table: what the ``min_rating`` filter keeps, and what is popular.

A movie's popularity is its number of kept ratings (see :mod:`movierec.catalogue`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import config
from .catalogue import popularity_of
from .datasets import Dataset
from .datasets.rules import is_kept
from .datasets.summary import Stats, rating_counts, stats

__all__ = [
    "Stats",
    "genre_counts",
    "kept_mask",
    "long_tail",
    "main_genres",
    "popular",
    "popularity",
    "rating_distribution",
    "stats",
    "top_share",
    "user_counts",
]


def kept_mask(dataset: Dataset, min_rating: float = config.MIN_RATING) -> np.ndarray:
    return is_kept(dataset.ratings["rating"].to_numpy(), min_rating)


def popularity(dataset: Dataset, min_rating: float = config.MIN_RATING) -> pd.Series:
    """Kept ratings per ``movie_id``, most first (ties: lower ``movie_id`` first); movies with
    no kept rating are absent."""
    ids, kept = popularity_of(dataset.column("movie_id"), dataset.column("rating"), min_rating)
    return pd.Series(kept, index=pd.Index(ids, name="movie_id"), name="count")


def popular(dataset: Dataset, n: int = 30, min_rating: float = config.MIN_RATING) -> pd.DataFrame:
    """The ``n`` most popular movies: ``movie_id, title, genres, year, count`` (``count``: kept
    ratings), most popular first (ties keep the lower ``movie_id`` first)."""
    top = popularity(dataset, min_rating).iloc[:n]
    ids = top.index.to_numpy()
    movies = dataset.movies.reindex(ids)
    return pd.DataFrame(
        {
            "movie_id": ids.astype(int),
            "title": movies["title"].fillna("").to_numpy(),
            "genres": movies["genres"].fillna("").to_numpy(),
            "year": movies["year"].fillna(0).astype(int).to_numpy(),
            "count": top.to_numpy().astype(int),
        }
    )


def rating_distribution(dataset: Dataset, min_rating: float = config.MIN_RATING) -> pd.DataFrame:
    """Ratings per star value before and after the filter: indexed by ``rating``, with columns
    ``all`` and ``kept`` (0 below ``min_rating``), lowest star value first."""
    rows = rating_counts(dataset, min_rating)
    return pd.DataFrame(
        {"all": [a for _, a, _ in rows], "kept": [k for _, _, k in rows]},
        index=pd.Index([r for r, _, _ in rows], name="rating", dtype=float),
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
    kept = popularity(dataset, min_rating).to_numpy()
    ranks = np.arange(1, len(kept) + 1)
    return pd.DataFrame(
        {
            "movie_share": ranks / max(len(kept), 1),
            "rating_share": np.cumsum(kept) / max(int(kept.sum()), 1),
        }
    )


def top_share(curve: pd.DataFrame, movie_share: float) -> float:
    """The fraction of kept ratings held by the top ``movie_share`` of movies (0.2 → top 20%),
    read off a :func:`long_tail` curve."""
    x = np.concatenate([[0.0], curve["movie_share"].to_numpy()])
    y = np.concatenate([[0.0], curve["rating_share"].to_numpy()])
    return float(np.interp(movie_share, x, y))


def _genre_lists(dataset: Dataset, movie_ids: pd.Index) -> pd.Series:
    """The genres of these movies, each as a list (empty when none is listed)."""
    genres = dataset.movies["genres"].reindex(movie_ids).fillna("")
    return genres.str.split("|").map(lambda names: [g for g in names if g])


def genre_counts(dataset: Dataset, min_rating: float = config.MIN_RATING) -> pd.Series:
    """Kept ratings per genre, most first. A rating of a movie with several genres counts once
    for each of them; movies with no genre listed are left out."""
    kept = popularity(dataset, min_rating)
    exploded = _genre_lists(dataset, kept.index).explode().dropna()
    totals = kept.reindex(exploded.index).groupby(exploded.to_numpy()).sum()
    totals = totals.sort_index().sort_values(ascending=False, kind="stable")
    totals.index.name, totals.name = "genre", "count"
    return totals.astype(int)


GENRE_GROUPS: dict[str, tuple[str, ...]] = {
    "Children's & animation": ("Animation", "Children's", "Children"),
    "Sci-Fi, fantasy & horror": ("Sci-Fi", "Fantasy", "Horror"),
    "Action & adventure": ("Action", "Adventure", "Western"),
    "Crime & thriller": ("Crime", "Thriller", "Mystery", "Film-Noir"),
    "Comedy & musical": ("Comedy", "Musical"),
    "Drama, romance & war": ("Drama", "Romance", "War", "Documentary"),
}
"""Broad genre groups for colouring a map, in priority order: a movie belongs to the first
group any of its MovieLens genres falls in (ml-latest-small's "Children" included)."""


def main_genres(dataset: Dataset, min_rating: float = config.MIN_RATING) -> pd.Series:
    """One broad genre group per movie with kept ratings, for colouring a map: the first of
    :data:`GENRE_GROUPS` that one of its genres falls in, so the more distinctive genres win
    ("Animation|Children's|Comedy" is Children's & animation, "Action|Sci-Fi|Thriller" Sci-Fi,
    "Comedy|Romance|War" comedy); "Other" when none does. Indexed by ``movie_id``."""
    group_of = {
        genre: rank for rank, members in enumerate(GENRE_GROUPS.values()) for genre in members
    }
    names = list(GENRE_GROUPS)

    def pick(genres: list[str]) -> str:
        ranks = [group_of[g] for g in genres if g in group_of]
        return names[min(ranks)] if ranks else "Other"

    out = _genre_lists(dataset, popularity(dataset, min_rating).index).map(pick)
    out.name = "main_genre"
    return out
