"""The ratings table: a loaded MovieLens dataset with typed columns and a parsed cache."""

from __future__ import annotations

import errno
import hashlib
import json
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import config, progress
from ..atomic import replace_folder
from ..errors import DataError, MovieRecError
from .fetch import (
    cache_root,
    data_dir_from,
    failed_ago,
    find_local,
    locate,
    not_a_file,
    open_regular,
)
from .registry import DatasetSpec, get_spec

if TYPE_CHECKING:
    import pandas as pd

_CACHE_VERSION = 3


class Dataset:
    """A MovieLens dataset as loaded: every rating, and the movies' titles, genres and years.

    ``ratings`` has columns ``user_id`` (int64), ``movie_id`` (int64), ``rating`` (float32) and,
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

    @cached_property
    def rating_scale(self) -> tuple[float, float]:
        """The lowest and highest rating the dataset allows: the registry's scale for a known
        MovieLens release; for other data (whose ratings cannot be negative), 0 up to the
        highest rating in it. Not the data's own minimum: a file whose ratings all lie from 4 to
        5 must still take the default ``--min-rating 3`` (it keeps everything)."""
        from .registry import REGISTRY

        if self.name in REGISTRY:
            return REGISTRY[self.name].rating_scale
        ratings = self.column("rating")
        return (0.0, float(ratings.max()) if len(ratings) else 0.0)

    def check_min_rating(self, min_rating: float) -> None:
        """Refuse a ``min_rating`` outside the rating scale (it would keep nothing, or keep
        everything while the number looks like it filters), naming the scale."""
        from .rules import check_min_rating

        check_min_rating(min_rating, *self.rating_scale, self.name)

    def __repr__(self) -> str:
        rated = len(np.unique(self.column("movie_id")))
        return (
            f"Dataset({self.name!r}, {len(self.column('rating')):,} ratings of {rated:,} movies; "
            f"the movies file lists {len(self.movies):,})"
        )


class RatingsElsewhere(Dataset):
    """A dataset's identity and movies without its ratings, which are elsewhere (with a saved
    model's original data, or on a Spark cluster): enough for a model trained on them to
    answer. Asking for the ratings raises :meth:`missing`, which says where they are."""

    @property
    def ratings(self) -> Any:
        raise self.missing()

    def column(self, key: str) -> np.ndarray:
        raise self.missing()

    def missing(self) -> MovieRecError:
        """The error that says where the ratings are and how to use them."""
        raise NotImplementedError


def _fingerprint(columns: Mapping[str, np.ndarray]) -> str:
    """Identifies the exact ratings. Ids are hashed as int32 when they fit, so fingerprints (and
    the models that record them) stay those of movierec versions that stored ids as int32."""
    digest = hashlib.blake2b(digest_size=8)
    step = 1 << 22  # in blocks: no full-size copy of a 25M-row column
    for key in ("user_id", "movie_id", "rating"):
        column = columns[key]
        narrow = column.dtype.kind == "i" and (not column.size or _fits_int32(column))
        for start in range(0, max(len(column), 1), step):
            block = column[start : start + step]
            digest.update(np.ascontiguousarray(block.astype(np.int32) if narrow else block).data)
    return digest.hexdigest()


def _fits_int32(column: np.ndarray) -> bool:
    info = np.iinfo(np.int32)
    return bool(column.min() >= info.min and column.max() <= info.max)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (about 1.5 GB/s here: 9 ms for ML-1M's
    ratings, under half a second for a 25M-rating file)."""
    digest = hashlib.sha256()
    try:
        with open_regular(path) as source:
            while block := source.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {exc.strerror or exc}; check the file, or point --data-dir at "
            "an intact copy"
        ) from None
    return digest.hexdigest()


_COLUMN_KINDS = {"user_id": "i", "movie_id": "i", "rating": "f", "timestamp": "i"}


def _cache_path(spec: DatasetSpec, source_digest: str) -> Path:
    """A folder holding one ``.npy`` per column and ``meta.json``."""
    return (
        cache_root() / "parsed" / f"{safe_name(spec.name)}-v{_CACHE_VERSION}-{source_digest[:32]}"
    )


def safe_name(name: str) -> str:
    """``name`` as a file-name part: letters, digits, ``.``, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80]


def _open_cached(folder: Path) -> dict[str, np.ndarray]:
    """The entry's columns, memory-mapped (read as they are used, never copied)."""
    stored = {path.stem: path for path in folder.glob("*.npy")}
    order = [*(k for k in _COLUMN_KINDS if k in stored), *sorted(set(stored) - set(_COLUMN_KINDS))]
    return {k: np.load(stored[k], mmap_mode="r", allow_pickle=False) for k in order}


def _read_cached(folder: Path, source_digest: str) -> tuple[dict[str, np.ndarray], str] | None:
    """The cached columns (:func:`_open_cached`), only if every check passes: the source digest
    they were parsed from, the column names, kinds and lengths, and the fingerprint recomputed
    from them. A broken entry is removed (it is movierec's)."""
    if not folder.is_dir():
        return None
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        columns = _open_cached(folder)
        fingerprint = str(meta["fingerprint"])
        lengths = {len(column) for column in columns.values()}
        valid = (
            meta["source_sha256"] == source_digest
            and {"user_id", "movie_id", "rating"} <= set(columns) <= set(_COLUMN_KINDS)
            and all(c.ndim == 1 and c.dtype.kind == _COLUMN_KINDS[k] for k, c in columns.items())
            and len(lengths) == 1
            and _fingerprint(columns) == fingerprint
        )
    except Exception:
        valid = False
    if not valid:
        print(f"movierec: rebuilding the broken parsed-ratings cache {folder}", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return columns, fingerprint


class _Parsed(Exception):
    """Carries a parse's DataError out of the cache writer, so that only the cache's own
    failures (a read-only or full disk) fall back to parsing in memory."""


def _parse_into_cache(
    folder: Path, parse: Callable[[Path | None], dict[str, np.ndarray]], source_digest: str
) -> tuple[dict[str, np.ndarray], str]:
    """Parse straight into a new cache entry, written whole
    (:func:`movierec.atomic.replace_folder`: a reader sees all of it or none), and return its
    columns memory-mapped; where the cache cannot be written, parse into memory instead (it
    only costs speed next time)."""
    fingerprints: list[str] = []

    def fill(staging: Path) -> None:
        try:
            columns = parse(staging)
        except DataError as exc:
            raise _Parsed() from exc
        for key, column in columns.items():
            if not isinstance(column, np.memmap):  # Parquet, or a denser file than expected
                np.save(staging / f"{key}.npy", np.ascontiguousarray(column), allow_pickle=False)
        fingerprints.append(_fingerprint(columns))
        del columns
        meta = {"fingerprint": fingerprints[0], "source_sha256": source_digest}
        (staging / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        replace_folder(folder, fill, lambda _: True, "parsed cache", "the cache", last="meta.json")
        return _open_cached(folder), fingerprints[0]
    except _Parsed as parsed:
        assert isinstance(parsed.__cause__, DataError)
        raise parsed.__cause__ from None
    except (OSError, ValueError, MovieRecError) as exc:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            print(
                f"movierec: cannot cache the parsed ratings ({_no_room(exc, folder.parent)}); "
                "parsing in memory instead (free some space there, or set "
                f"{config.CACHE_DIR_ENV} to a roomier folder)",
                file=sys.stderr,
            )
        columns = parse(None)
        return columns, _fingerprint(columns)


def _no_room(exc: OSError, place: Path) -> str:
    """Where the disk is full and by how much, as far as known."""
    from .parse import NoRoom

    for cause in (exc, exc.__cause__, exc.__context__):  # atomic.system_error wraps it
        if isinstance(cause, NoRoom):
            return cause.strerror or "no room"
    if exc.strerror:
        return exc.strerror
    try:
        free = f"{shutil.disk_usage(place).free / 1e6:,.1f} MB free"
    except OSError:
        free = "full"
    return f"no room in {place}: {free}"


def load_ratings_columns(
    spec: DatasetSpec, folder: Path, source_digest: str | None = None
) -> tuple[dict[str, np.ndarray], str]:
    """Parse the ratings file, or reuse its parsed cache, keyed by the SHA-256 of the file's
    bytes (an edit that keeps the size and the modification time still misses the cache);
    ``source_digest``: that SHA-256, when the caller has it already."""
    ratings_path = folder / spec.ratings_file
    source_digest = source_digest or file_digest(ratings_path)
    cached_at = _cache_path(spec, source_digest)
    cached = _read_cached(cached_at, source_digest)
    if cached is not None:
        return cached
    from .parse import changed_while_read, read_parquet_ratings, read_ratings

    def parse(into: Path | None) -> dict[str, np.ndarray]:
        """The columns of the file whose SHA-256 is ``source_digest``: a file written since it
        was hashed is refused, never cached under the old bytes' key."""
        try:
            if spec.layout != "parquet":
                return read_ratings(ratings_path, spec.layout, into, sha256=source_digest)
            columns = read_parquet_ratings(ratings_path)
        except DataError:
            # a line broken by a write in progress is the write's fault, not the file's
            if file_digest(ratings_path) != source_digest:
                raise changed_while_read(ratings_path) from None
            raise
        if file_digest(ratings_path) != source_digest:  # Parquet is read by Arrow, unhashed
            raise changed_while_read(ratings_path)
        return columns

    size = f"{ratings_path.stat().st_size / 1e6:,.1f} MB"
    what = f"{spec.name}'s {spec.ratings_file} ({size})"
    if spec.name == spec.ratings_file:  # the user's own file
        what = f"{spec.ratings_file} ({size})"
    with progress.step(f"parsing {what}", done=f"parsed {what}") as step:
        columns, fingerprint = _parse_into_cache(cached_at, parse, source_digest)
        step.done = f"parsed {len(columns['rating']):,} ratings from {what}"
    return columns, fingerprint


@dataclass(frozen=True)
class DataSource:
    """Where a dataset's files are, found without reading them: a MovieLens release (its spec
    and folder) or your own files (``own``; ``movies`` the optional movies file). The SHA-256 of
    the ratings file (:attr:`digest`) identifies the ratings before they are parsed, so a cached
    model can be found without loading them."""

    spec: DatasetSpec
    folder: Path
    movies: Path | None = None
    own: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ratings_path(self) -> Path:
        return self.folder / self.spec.ratings_file

    @cached_property
    def digest(self) -> str:
        return file_digest(self.ratings_path)

    def load(self) -> Dataset:
        """Parse the ratings (or reuse their parsed cache); the movies are read on first use."""
        columns, fingerprint = load_ratings_columns(self.spec, self.folder, self.digest)
        if self.own:
            return Dataset(
                self.name,
                columns,
                lambda: own_movies(columns, self.movies),
                fingerprint,
                self.ratings_path,
            )
        spec, folder = self.spec, self.folder

        def movies() -> pd.DataFrame:
            from .parse import read_movies

            return read_movies(folder / spec.movies_file, spec.layout)

        return Dataset(spec.name, columns, movies, fingerprint, folder)


def resolve_name(name: str | None, data_dir: str | Path | None = None) -> tuple[DatasetSpec, Path]:
    """Which dataset to use and where its files are.

    An explicit ``name`` never falls back. Without one, ml-1m is used when it is in the data dir,
    the cache, or can be downloaded; otherwise the bundled ml-latest-small, said in one line
    once per process (a notebook or a server resolves again and again).
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
        if spec.name not in _TOLD_OFFLINE:
            _TOLD_OFFLINE.add(spec.name)
            failed = failed_ago(spec)
            why = f"its download failed {failed}" if failed else "could not be downloaded"
            print(
                f"movierec: {spec.name} is not in the data dir or cache and {why}; using the "
                f"bundled {fallback.name} (`movierec fetch {spec.name}` tries again)",
                file=sys.stderr,
            )
        return fallback, locate(fallback, local_dir)


_TOLD_OFFLINE: set[str] = set()
"""The datasets this process has already said it falls back from."""


def find_source(
    name: str | None = None,
    data_dir: str | Path | None = None,
    *,
    ratings: str | Path | None = None,
    movies: str | Path | None = None,
) -> DataSource:
    """Where the ratings are: a MovieLens dataset by name (see :func:`resolve_name`), or your
    own ``ratings`` file with an optional ``movies`` file (see :func:`load_ratings_file`)."""
    if ratings is not None:
        if name is not None:
            raise DataError(
                f"give a MovieLens dataset ({name}) or your own ratings file (--ratings), not both"
            )
        return _own_source(ratings, movies)
    if movies is not None:
        raise DataError("a movies file goes with your own ratings file: add --ratings FILE")
    spec, folder = resolve_name(name, data_dir)
    return DataSource(spec, folder)


def load_dataset(
    name: str | None = None,
    data_dir: str | Path | None = None,
    *,
    ratings: str | Path | None = None,
    movies: str | Path | None = None,
) -> Dataset:
    """Load a MovieLens dataset by name (``"ml-1m"``, ``"ml-latest-small"``, …), or your own
    ratings file (``ratings=``, with an optional ``movies=`` file: see
    :func:`load_ratings_file`).

    >>> ds = load_dataset("ml-latest-small")
    >>> ds.ratings.columns.tolist()
    ['user_id', 'movie_id', 'rating', 'timestamp']
    """
    return find_source(name, data_dir, ratings=ratings, movies=movies).load()


OWN_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".dat": "dat"}
"""Your own files: CSV with a header, Parquet, or MovieLens' ``::``-separated ``.dat``."""


def own_layout(path: Path, what: str) -> str:
    """The format of your own file (``csv``, ``parquet``, ``dat``) from its name; DataError,
    naming the option ``what``, when the name says none or the file is not there."""
    layout = OWN_FORMATS.get(path.suffix.lower())
    if layout is None:
        formats = ", ".join(OWN_FORMATS)
        raise DataError(f"{what} {path}: name a file ending in {formats} (that says its format)")
    kind = not_a_file(path)
    if kind is not None:
        raise DataError(
            f"{what} {path} is {kind}, not a file; name your {what.lstrip('-')} file (a regular "
            "file: movierec reads it twice, which a pipe or a device cannot give)"
        )
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist; name your {what.lstrip('-')} file")
    return layout


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(location: str | Path) -> bool:
    """Whether ``location`` is a URI (``hdfs://…``, ``s3a://…``, ``file://…``) rather than a
    path: only Spark reads those (``movierec train --engine spark --ratings URI``)."""
    return isinstance(location, str) and _URI.match(location) is not None


def _own_source(ratings: str | Path, movies: str | Path | None) -> DataSource:
    for option, location in (("--ratings", ratings), ("--movies", movies)):
        if location is not None and is_uri(location):
            raise DataError(
                f"{option} {str(location)[:200]} is a URI, which only Spark reads: add "
                "--engine spark (`movierec train` and `recommend-all` take it), or copy the file "
                "here"
            )
    path = Path(ratings).expanduser()
    layout = own_layout(path, "--ratings")
    movies_path = Path(movies).expanduser() if movies is not None else None
    if movies_path is not None:
        own_layout(movies_path, "--movies")
    spec = DatasetSpec(
        name=path.name[:100],
        folder=str(path.parent),
        layout=layout,
        ratings_file=path.name,
        movies_file=movies_path.name if movies_path else "",
        known_hash=None,
        description=f"your ratings in {path}",
    )
    return DataSource(spec, path.parent, movies_path, own=True)


def load_ratings_file(ratings: str | Path, movies: str | Path | None = None) -> Dataset:
    """Your own ratings in MovieLens' shape: a CSV or Parquet file with columns ``user_id``,
    ``movie_id``, ``rating`` and optionally ``timestamp`` (MovieLens' ``userId``/``movieId``
    too, any order), or a ``::``-separated ``.dat``; checked by the same rules as MovieLens'
    files and cached the same way (by the file's SHA-256). ``movies``: an optional file with
    ``movie_id``, ``title`` and optionally ``genres``; rated movies it does not list, and all of
    them without one, are titled ``Movie <id>``. The dataset is named after the file."""
    return _own_source(ratings, movies).load()


def own_movies(columns: Mapping[str, np.ndarray], movies_path: Path | None) -> pd.DataFrame:
    """The movies file's movies, then every other rated movie as ``Movie <id>``."""
    import pandas as pd

    from .parse import read_movies

    rated = np.unique(np.asarray(columns["movie_id"]))
    listed = None
    if movies_path is not None:
        listed = read_movies(movies_path, own_layout(movies_path, "--movies"))
        rated = rated[~np.isin(rated, listed.index.to_numpy())]
        if len(rated):
            print(
                f"movierec: {len(rated):,} rated movies are not in {movies_path.name}; "
                "they are called 'Movie <id>'",
                file=sys.stderr,
            )
    unnamed = pd.DataFrame(
        {
            "title": [f"Movie {movie_id}" for movie_id in rated.tolist()],
            "genres": "",
            "year": np.zeros(len(rated), dtype=np.int32),
        },
        index=pd.Index(rated.astype(np.int64), name="movie_id"),
    )
    return unnamed if listed is None else pd.concat([listed, unnamed])
