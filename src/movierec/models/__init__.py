"""Interactions → model: each algorithm behind the one :class:`Model` interface.

``pop`` (most popular), ``itemknn`` (cosine or BM25 item kNN), ``bpr`` (implicit's BPR),
``als`` (implicit's ALS), ``ials`` (iALS with frequency-scaled regularization), ``ease``
(EASE, optionally user-weighted, with dropout emphasis (DLAE/EDLAE) and a low-pass graph filter:
the default preset), ``admm-slim`` (sparse non-negative item–item weights by ADMM), the
variational autoencoders ``mult-vae`` and ``recvae`` (trained with PyTorch, served in NumPy)
and ``spark-als`` (Spark MLlib's ALS, trained in Spark, served in NumPy). A model's
``weighting`` class attribute is the input weighting it expects when a preset names none.
"""

from __future__ import annotations

from typing import Any

from ..errors import MovieRecError
from .admm_slim import ADMMSLIM
from .als import ALS
from .base import Model
from .bpr import BPR
from .ease import EASE
from .ials import IALS
from .itemknn import ItemKNN
from .params import ParameterError, unknown_parameter
from .popular import MostPopular
from .ranking import NO_ITEM, top_n
from .spark_als import SparkALS
from .vae import MultVAE, RecVAE

MODELS: dict[str, type[Model]] = {
    model.name: model
    for model in (
        ALS,
        IALS,
        EASE,
        ADMMSLIM,
        MultVAE,
        RecVAE,
        ItemKNN,
        BPR,
        MostPopular,
        SparkALS,
    )
}


def make_model(name: str, **params: Any) -> Model:
    """A model by name with its hyperparameters, checked (:meth:`Model.valid_params`):
    MovieRecError names what the model takes, ParameterError what a value may be."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise MovieRecError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None
    unknown = [key for key in params if key not in cls.parameters]
    if "use_gpu" in unknown:
        raise MovieRecError(
            f"--gpu trains implicit's CUDA ALS only; model {name!r} runs on the CPU: "
            "drop --gpu, or pick an ALS preset (e.g. --preset als-tuned)"
        )
    if unknown:
        raise MovieRecError(
            unknown_parameter(name, unknown[0], cls.parameters)
            + " (or pick a preset of a model that has it, e.g. --preset als-tuned)"
        )
    return cls(**cls.valid_params(params))


__all__ = [
    "ADMMSLIM",
    "ALS",
    "BPR",
    "EASE",
    "IALS",
    "ItemKNN",
    "MODELS",
    "Model",
    "MostPopular",
    "MultVAE",
    "NO_ITEM",
    "ParameterError",
    "RecVAE",
    "SparkALS",
    "make_model",
    "top_n",
]
