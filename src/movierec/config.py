"""Defaults in one place: the filter, the model presets and the environment variables."""

from __future__ import annotations

MIN_RATING = 3
"""Ratings below this are dropped; the rest are read as implicit feedback (a "play count")."""

DATA_DIR_ENV = "MOVIEREC_DATA_DIR"
CACHE_DIR_ENV = "MOVIEREC_CACHE_DIR"
DEFAULT_DATASET = "ml-1m"
FALLBACK_DATASET = "ml-latest-small"
SEED = 42
DEMO_FAVOURITES = [
    "Toy Story (1995)",
    "Star Wars: Episode IV - A New Hope (1977)",
    "Matrix, The (1999)",
    "Fargo (1996)",
    "Pulp Fiction (1994)",
]
"""Five well-known favourites in both ML-1M and the bundled ml-latest-small, for `movierec demo`."""

PRESETS: dict[str, dict[str, float | int | str]] = {
    # Each preset names a model (`movierec.models.MODELS`), its hyperparameters and the weighting.
    # Chosen on a held-out validation part of ML-1M (see `movierec tune` and the README).
    "default": {
        "model": "als",
        "factors": 64,
        "regularization": 50.0,
        "alpha": 1.0,
        "iterations": 10,
        "weighting": "rating",
    },
    # The course notebook's settings: 500 factors, regularization 0.001, 100 iterations.
    "notebook": {
        "model": "als",
        "factors": 500,
        "regularization": 0.001,
        "alpha": 1.0,
        "iterations": 100,
        "weighting": "rating",
    },
}
