"""Interactions → model: each algorithm behind the one :class:`Model` interface."""

from __future__ import annotations

from typing import Any

from ..errors import MovieRecError
from .als import ALS
from .base import Model, top_n
from .bpr import BPR
from .ease import EASE
from .ials import IALS
from .itemknn import ItemKNN
from .popular import MostPopular

MODELS: dict[str, type[Model]] = {
    model.name: model for model in (ALS, IALS, EASE, ItemKNN, BPR, MostPopular)
}


def make_model(name: str, **params: Any) -> Model:
    """A model by name with its hyperparameters."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise MovieRecError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None
    return cls(**params)


__all__ = [
    "ALS", "BPR", "EASE", "IALS", "ItemKNN", "MODELS", "Model", "MostPopular",
    "make_model", "top_n",
]
