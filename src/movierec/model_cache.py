"""The model cache: one trained model per dataset and settings, in movierec's cache folder."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from . import bundle, config, progress
from .atomic import write_atomically
from .datasets import Dataset, DataSource, cache_root
from .datasets.dataset import safe_name
from .errors import ModelError, MovieRecError
from .recommender import Recommender
from .settings import Settings, default_settings


def model_cache_dir(dataset: Dataset, settings: Settings) -> Path:
    """Where the trained model for this dataset and these settings is cached."""
    return cache_root() / "models" / f"{dataset.name}-{dataset.fingerprint}-{settings.key()}"


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
    what = f"the {settings.model} model on {dataset.name}"
    with (
        progress.shown(show_progress),
        progress.step(f"training {what} (cached for next time)", done=f"trained and cached {what}"),
    ):
        recommender = Recommender.train(dataset, settings)
        with contextlib.suppress(OSError, MovieRecError):  # an unwritable cache only costs speed
            recommender.save(directory)
    return recommender


def default_link(source: DataSource, min_rating: float) -> Path:
    """The file naming the cached default model for these ratings (by the SHA-256 of the ratings
    file, so found before they are parsed) and this ``min_rating``."""
    name = f"{safe_name(source.name)}-{source.digest[:32]}-{min_rating:g}.json"
    return cache_root() / "models" / "default" / name


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
    link = default_link(source, min_rating)
    folder = _linked_model(link)
    if folder is not None:
        with contextlib.suppress(ModelError):
            return Recommender.load(folder)
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
