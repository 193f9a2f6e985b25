"""The model cache: one trained model per dataset and settings, in movierec's cache folder."""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path

from . import bundle, progress
from .datasets import Dataset, cache_root
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
