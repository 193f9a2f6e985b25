"""The ratings table: a loaded MovieLens dataset with typed columns and a parsed cache."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import config
from ..atomic import write_atomically
from ..errors import DataError
from .fetch import cache_root, data_dir_from, find_local, locate
from .registry import DatasetSpec, get_spec

if TYPE_CHECKING:
    import pandas as pd

_CACHE_VERSION = 1


class Dataset:
    """A MovieLens dataset as loaded: every rating, and the movies' titles, genres and years.

    ``ratings`` has columns ``user_id`` (int32), ``movie_id`` (int32), ``rating`` (float32) and,
    only where the files carry it, ``timestamp`` (int64). ``movies`` is indexed by ``movie_id``
    with ``title``, ``genres`` (``|``-joined) and ``year`` (0 when unknown). ``fingerprint``
    identifies the exact ratings, so a saved model can refuse other data.

    Both tables are built on first use: ``ratings`` may be given as NumPy ``columns`` and
    ``movies`` as a loader, so a command that serves a saved model never parses movies or
    imports pandas.
    """

    def __init__(
        self,
        name: str,
        ratings: pd.DataFrame | Mapping[str, np.ndarray],
        movies: pd.DataFrame | Callable[[], pd.DataFrame],
        fingerprint: str,
        source: Path,
    ) -> None:
        self.name = name
        self.fingerprint = fingerprint
        self.source = source
        if isinstance(ratings, Mapping):
            self._columns = dict(ratings)
        else:
            self.__dict__["ratings"] = ratings
        if callable(movies):
            self._load_movies = movies
        else:
            self.__dict__["movies"] = movies

    @cached_property
    def ratings(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self._columns, copy=False)

    @cached_property
    def movies(self) -> pd.DataFrame:
        return self._load_movies()

    def column(self, key: str) -> np.ndarray:
        """One ratings column as a NumPy array (no pandas needed when loaded from files)."""
        if "ratings" in self.__dict__:
            return self.ratings[key].to_numpy()
        return self._columns[key]

    @property
    def has_timestamps(self) -> bool:
        if "ratings" in self.__dict__:
            return "timestamp" in self.ratings.columns
        return "timestamp" in self._columns

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, {len(self.column('rating')):,} ratings, "
            f"{len(self.movies):,} movies)"
        )


def _fingerprint(columns: dict[str, np.ndarray]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for key in ("user_id", "movie_id", "rating"):
        digest.update(np.ascontiguousarray(columns[key]).tobytes())
    return digest.hexdigest()


def _cache_path(spec: DatasetSpec, ratings_path: Path) -> Path:
    stat = ratings_path.stat()
    key = f"{_CACHE_VERSION}|{ratings_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return cache_root() / "parsed" / f"{spec.name}-{digest}.npz"


def _read_cached(path: Path) -> tuple[dict[str, np.ndarray], str] | None:
    try:
        with np.load(path, allow_pickle=False) as archive:
            columns = {k: archive[k] for k in archive.files if k != "fingerprint"}
            fingerprint = str(archive["fingerprint"])
    except FileNotFoundError:
        return None
    except Exception:  # a corrupt cache file is rebuilt, never trusted
        print(f"movierec: rebuilding corrupt cache file {path}", file=sys.stderr)
        return None
    if not {"user_id", "movie_id", "rating"} <= set(columns):
        return None
    return columns, fingerprint


def _write_cached(path: Path, columns: dict[str, np.ndarray], fingerprint: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(
            path, lambda out: np.savez(out, fingerprint=np.array(fingerprint), **columns)
        )
    except OSError:
        pass  # a read-only cache only costs speed


def load_ratings_columns(spec: DatasetSpec, folder: Path) -> tuple[dict[str, np.ndarray], str]:
    """Parse the ratings file, or reuse its parsed cache when the file is unchanged."""
    ratings_path = folder / spec.ratings_file
    cached_at = _cache_path(spec, ratings_path)
    cached = _read_cached(cached_at)
    if cached is not None:
        return cached
    from .parse import read_ratings

    columns = read_ratings(ratings_path, spec.layout)
    fingerprint = _fingerprint(columns)
    _write_cached(cached_at, columns, fingerprint)
    return columns, fingerprint


def _load_spec(spec: DatasetSpec, folder: Path) -> Dataset:
    columns, fingerprint = load_ratings_columns(spec, folder)

    def movies() -> pd.DataFrame:
        from .parse import read_movies

        return read_movies(folder / spec.movies_file, spec.layout)

    return Dataset(spec.name, columns, movies, fingerprint, folder)


def resolve_name(name: str | None, data_dir: str | Path | None = None) -> tuple[DatasetSpec, Path]:
    """Which dataset to use and where its files are.

    An explicit ``name`` never falls back. Without one, ml-1m is used when it is in the data dir,
    the cache, or can be downloaded; otherwise the bundled ml-latest-small, said in one line.
    """
    local_dir = data_dir_from(data_dir)
    if name is not None:
        spec = get_spec(name)
        return spec, locate(spec, local_dir)
    spec = get_spec(config.DEFAULT_DATASET)
    folder = find_local(spec, local_dir)
    if folder is not None:
        return spec, folder
    try:
        return spec, locate(spec, local_dir)
    except DataError:
        fallback = get_spec(config.FALLBACK_DATASET)
        print(
            f"movierec: {spec.name} is not in the data dir or cache and could not be downloaded; "
            f"using the bundled {fallback.name}",
            file=sys.stderr,
        )
        return fallback, locate(fallback, local_dir)


def load_dataset(name: str | None = None, data_dir: str | Path | None = None) -> Dataset:
    """Load a MovieLens dataset by name (``"ml-1m"``, ``"ml-latest-small"``, …).

    >>> ds = load_dataset("ml-latest-small")
    >>> ds.ratings.columns.tolist()
    ['user_id', 'movie_id', 'rating', 'timestamp']
    """
    spec, folder = resolve_name(name, data_dir)
    return _load_spec(spec, folder)
