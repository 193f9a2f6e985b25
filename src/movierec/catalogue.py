"""The movies a recommender speaks of: ids, titles, genres, years and popularity.

A movie's popularity is its number of kept ratings (ratings ≥ ``min_rating``): the one
quantity the statistics, the ``popular`` answers, the web's ``ratings`` and title tie-breaks
all use.

A :class:`Catalogue` is built once from a dataset and saved beside a trained model, so a saved
model answers in titles without parsing the movies file or importing pandas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import config
from .atomic import write_atomically
from .datasets.rules import is_kept
from .errors import TitleError
from .titles import Resolution, TitleIndex

if TYPE_CHECKING:
    import pandas as pd

    from .datasets import Dataset


@dataclass(frozen=True)
class Movie:
    """A movie of the dataset."""

    movie_id: int
    title: str
    genres: tuple[str, ...]
    year: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "movie_id": self.movie_id,
            "title": self.title,
            "genres": list(self.genres),
            "year": self.year,
        }


def by_popularity(ids: np.ndarray, popularity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, popularity)`` reordered most popular first, ties by lower id."""
    order = np.lexsort((ids, -popularity))
    return ids[order], popularity[order]


def popularity_of(
    movie_ids: np.ndarray, ratings: np.ndarray, min_rating: float = config.MIN_RATING
) -> tuple[np.ndarray, np.ndarray]:
    """The popularity of each movie given one ``(movie_id, rating)`` pair per rating:
    ``(movie_ids, popularity)``, most popular first, ties by lower id; a movie with no rating
    ≥ ``min_rating`` is left out."""
    from .datasets.summary import id_counts

    return by_popularity(*id_counts(movie_ids[is_kept(ratings, min_rating)]))


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Every movie of a dataset, in its movies file's order, with its popularity (0 for a movie
    with no kept rating)."""

    movie_ids: np.ndarray
    titles: list[str]
    genres: list[str]  # "|"-joined, "" when none
    years: np.ndarray  # 0 when unknown
    popularity: np.ndarray  # kept ratings (≥ min_rating), saved as the column "count"

    def movies_frame(self) -> pd.DataFrame:
        """The movies as :attr:`Dataset.movies` has them: indexed by ``movie_id``, with
        ``title``, ``genres`` and ``year``."""
        import pandas as pd

        return pd.DataFrame(
            {"title": self.titles, "genres": self.genres, "year": self.years.astype(np.int32)},
            index=pd.Index(self.movie_ids, name="movie_id"),
        )

    @classmethod
    def from_dataset(cls, dataset: Dataset, min_rating: float = config.MIN_RATING) -> Catalogue:
        ids, popularity = popularity_of(
            dataset.column("movie_id"), dataset.column("rating"), min_rating
        )
        return cls.from_counts(dataset.movies, ids, popularity)

    @classmethod
    def from_counts(
        cls, movies: pd.DataFrame, ids: np.ndarray, popularity: np.ndarray
    ) -> Catalogue:
        """The movies of a movies frame (as :attr:`Dataset.movies`), each with its number of
        kept ratings from ``ids`` and ``popularity`` (0 for a movie not among them)."""
        movie_ids = movies.index.to_numpy().astype(np.int64)
        counts = np.zeros(len(movie_ids), dtype=np.int64)  # by a binary search for each id
        order = np.argsort(np.asarray(ids, dtype=np.int64), kind="stable")
        if len(order):
            counted = np.asarray(ids, dtype=np.int64)[order]
            places = np.minimum(np.searchsorted(counted, movie_ids), len(order) - 1)
            found = counted[places] == movie_ids
            counts[found] = np.asarray(popularity, dtype=np.int64)[order][places[found]]
        return cls(
            movie_ids,
            [str(t) for t in movies["title"].tolist()],
            [str(g) for g in movies["genres"].tolist()],
            movies["year"].to_numpy().astype(np.int64),
            counts,
        )

    @cached_property
    def _position(self) -> dict[int, int]:
        return {int(m): p for p, m in enumerate(self.movie_ids.tolist())}

    @cached_property
    def _numeric_titles(self) -> list[str]:
        """The titles that start with a digit: the only ones a bare number could also mean."""
        return [title for title in self.titles if title[:1].isdigit()]

    @cached_property
    def titles_index(self) -> TitleIndex:
        """Title resolution and search over these movies; popularity breaks ties."""
        return TitleIndex(self.movie_ids, self.titles, self.popularity)

    def resolve(self, ref: str | int, where: str = "") -> Resolution:
        """The movie a ``movie_id`` or a typed name (a title, or a bare number that is a
        ``movie_id``: see :mod:`movierec.titles`) names, with a note when it was the most rated
        of several; TitleError when none or several fit. ``where`` names the dataset in
        messages."""
        if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
            if int(ref) not in self._position:
                raise TitleError(f"no movie has id {int(ref)}{f' in {where}' if where else ''}")
            return Resolution(int(ref))
        if isinstance(ref, str):
            number = ref.strip()
            if (
                number.isascii()
                and number.isdigit()
                and int(number) in self._position
                and not any(title.startswith(number) for title in self._numeric_titles)
            ):  # a movie id no title could mean: no need to build the title index
                return Resolution(int(number))
            return self.titles_index.resolution(ref)
        raise TitleError(f"a movie is a title or a movie id, not {type(ref).__name__}")

    @cached_property
    def _made(self) -> dict[int, Movie]:
        return {}

    def movie(self, movie_id: int) -> Movie | None:
        """The movie with this id, or None (each is built once, on its first lookup)."""
        made = self._made.get(movie_id)
        if made is not None:
            return made
        position = self._position.get(int(movie_id))
        if position is None:
            return None
        year = int(self.years[position])
        genres = tuple(g for g in self.genres[position].split("|") if g)
        made = self._made[int(movie_id)] = Movie(
            int(movie_id), self.titles[position], genres, year or None
        )
        return made

    def most_popular(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(movie_ids, popularity)`` of the ``n`` most popular movies (all with kept ratings
        when ``n`` is None), most first, ties by lower id."""
        rated = self.popularity > 0
        ids, popularity = by_popularity(self.movie_ids[rated], self.popularity[rated])
        return ids[:n], popularity[:n]

    def save(self, path: Path) -> None:
        """Write as columnar JSON (no pickle), atomically."""
        data = {
            "movie_id": self.movie_ids.tolist(),
            "title": self.titles,
            "genres": self.genres,
            "year": self.years.tolist(),
            "count": self.popularity.tolist(),
        }
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        write_atomically(path, lambda out: out.write(text))

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read what :meth:`save` wrote; ValueError/KeyError/TypeError when it is malformed.

        JSON integers are exact, so int64 ids round-trip; a column of the wrong type (a float or
        a string id, a number as a title), ids outside int64 or listed twice, or columns of
        different lengths are refused rather than rounded, wrapped or silently dropped."""
        from .datasets.fetch import open_regular

        with open_regular(Path(path)) as source:  # a FIFO is refused, never waited on
            data = json.loads(source.read().decode("utf-8"))
        if not isinstance(data, dict):
            raise TypeError("a catalogue is a JSON object of columns")
        catalogue = cls(
            _integers(data, "movie_id"),
            _strings(data, "title"),
            _strings(data, "genres"),
            _integers(data, "year"),
            _integers(data, "count"),
        )
        sizes = {len(catalogue.titles), len(catalogue.genres), len(catalogue.years)}
        if sizes | {len(catalogue.popularity)} != {len(catalogue.movie_ids)}:
            raise ValueError("catalogue columns differ in length")
        if len(np.unique(catalogue.movie_ids)) != len(catalogue.movie_ids):
            raise ValueError("catalogue lists a movie_id twice")
        if np.any(catalogue.popularity < 0):
            raise ValueError("catalogue counts fewer than zero ratings for a movie")
        return catalogue


def _column(data: dict[str, Any], key: str, kind: type) -> list[Any]:
    values = data[key]
    if not isinstance(values, list) or not set(map(type, values)) <= {kind}:
        raise TypeError(f"catalogue column {key!r} must be a list of {kind.__name__}")
    return values


def _integers(data: dict[str, Any], key: str) -> np.ndarray:
    """A column of JSON integers as int64 (bools and floats refused, never truncated)."""
    try:
        return np.array(_column(data, key, int), dtype=np.int64)
    except OverflowError:
        raise ValueError(f"catalogue column {key!r} holds a number outside int64") from None


def _strings(data: dict[str, Any], key: str) -> list[str]:
    return _column(data, key, str)
