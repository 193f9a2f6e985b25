"""The model cache: one trained model per dataset and settings, in movierec's cache folder.

A cached model answers with the titles saved beside it, so its key holds everything that shapes
an answer: the ratings, the movies (titles, genres, years), the min-rating and the settings. A
changed movies file is a different key, never a stale title.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import bundle, config, progress
from .atomic import write_atomically
from .datasets import Dataset, DataSource, cache_root
from .datasets.dataset import file_digest, safe_name
from .errors import ModelError, MovieRecError
from .models import make_model
from .recommender import Recommender
from .settings import Settings, default_settings


def model_cache_dir(dataset: Dataset, settings: Settings) -> Path:
    """Where the trained model for this dataset (its ratings and its movies) and these settings
    (min-rating included) is cached."""
    name = f"{dataset.name}-{dataset.fingerprint}-{movies_fingerprint(dataset)}-{settings.key()}"
    return cache_root() / "models" / name


def movies_fingerprint(dataset: Dataset) -> str:
    """A digest of the dataset's movies as a model's catalogue keeps them (ids, titles, genres,
    years): the same movies read from another file or format give the same digest."""
    movies = dataset.movies
    digest = hashlib.blake2b(digest_size=8)
    digest.update(movies.index.to_numpy().astype(np.int64).tobytes())
    digest.update(movies["year"].to_numpy().astype(np.int64).tobytes())
    for column in ("title", "genres"):
        text = json.dumps([str(value) for value in movies[column]], ensure_ascii=False)
        digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def cached_recommender(
    dataset: Dataset, settings: Settings | None = None, show_progress: bool = False
) -> Recommender:
    """Load the cached model for these settings, or train and cache it."""
    settings = settings or default_settings(dataset)
    directory = model_cache_dir(dataset, settings)
    if directory.exists():
        try:
            recommender = Recommender.load(directory, dataset)
        except ModelError:
            # The folder is movierec's own cache entry (named by dataset and settings).
            print(f"movierec: retraining over the broken cached model {directory}", file=sys.stderr)
            shutil.rmtree(directory, ignore_errors=True)
        else:
            if not (directory / bundle.CATALOGUE_FILE).is_file():  # cached by an older movierec
                with contextlib.suppress(OSError):
                    recommender.catalogue.save(directory / bundle.CATALOGUE_FILE)
            return recommender
    what = f"{make_model(settings.model, **settings.params).family()} on {dataset.name}"
    with (
        progress.shown(show_progress),
        progress.step(
            f"training {what}", done=f"trained and cached {what}", detail="(cached for next time)"
        ),
    ):
        recommender = Recommender.train(dataset, settings)
        with contextlib.suppress(OSError, MovieRecError):  # an unwritable cache only costs speed
            recommender.save(directory)
    return recommender


def default_link(source: DataSource, min_rating: float) -> Path:
    """The file naming the cached default model for these ratings and movies (by the SHA-256 of
    each file, so found before either is parsed) and this ``min_rating``."""
    name = (
        f"{safe_name(source.name)}-{source.digest[:32]}-{movies_file_digest(source)[:16]}-"
        f"{min_rating:g}.json"
    )
    return cache_root() / "models" / "default" / name


def movies_file_digest(source: DataSource) -> str:
    """The SHA-256 of ``source``'s movies file; of nothing when it has none (your own ratings
    without ``--movies``: every movie is ``Movie <id>``) or it is missing (loading says so)."""
    path = source.movies if source.own else source.folder / source.spec.movies_file
    if path is None or not path.is_file():
        return hashlib.sha256(b"").hexdigest()
    return file_digest(path)


def cached_default(
    source: DataSource,
    min_rating: float = config.MIN_RATING,
    before_training: Callable[[Dataset], object] | None = None,
) -> Recommender:
    """The default model for ``source``'s ratings: loaded from the model cache alone — its
    folder holds all it needs, so the ratings are never parsed or read beyond their SHA-256 —
    or else (the first time, or after the cache was cleared) the ratings loaded, the default
    preset chosen, ``before_training(dataset)`` run (e.g. checking titles before a long fit),
    and the model trained, cached and linked for next time."""
    cached = cached_default_if_any(source, min_rating)
    if cached is not None:
        return cached
    link = default_link(source, min_rating)
    dataset = source.load()
    dataset.check_min_rating(min_rating)
    settings = default_settings(dataset, min_rating)
    directory = model_cache_dir(dataset, settings)
    if before_training is not None and not (directory / bundle.META_FILE).is_file():
        before_training(dataset)
    recommender = cached_recommender(dataset, settings)
    if (directory / bundle.META_FILE).is_file():
        with contextlib.suppress(OSError):
            link.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps({"model": directory.name}).encode()
            write_atomically(link, lambda out: out.write(text))
    return recommender


def cached_default_if_any(
    source: DataSource, min_rating: float = config.MIN_RATING
) -> Recommender | None:
    """The cached default model for ``source``'s ratings and ``min_rating`` when there is a
    sound one (never training, never parsing the ratings), else None."""
    folder = _linked_model(default_link(source, min_rating))
    if folder is not None:
        with contextlib.suppress(ModelError):
            return Recommender.load(folder)
    return None


def _linked_model(link: Path) -> Path | None:
    """The model folder a link names, if the link is well-formed and the folder one of the
    cache's self-contained models."""
    try:
        name = json.loads(link.read_text(encoding="utf-8"))["model"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        return None
    folder = cache_root() / "models" / name
    return folder if bundle.self_contained(folder) else None
