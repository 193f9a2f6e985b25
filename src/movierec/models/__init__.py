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

import importlib
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from ..errors import MovieRecError
from .base import Model
from .params import ParameterError, unknown_parameter
from .ranking import NO_ITEM, top_n

if TYPE_CHECKING:
    from .admm_slim import ADMMSLIM
    from .als import ALS
    from .bpr import BPR
    from .ease import EASE
    from .ials import IALS
    from .itemknn import ItemKNN
    from .popular import MostPopular
    from .spark_als import SparkALS
    from .vae import MultVAE, RecVAE

SPARK_ALS = "spark-als"
"""Spark MLlib's ALS: the model ``--engine spark`` trains for a large catalogue."""
_CLASSES = {
    # name → (module, class): a model's module is imported when the model is first used, so
    # answering from a saved EASE model never imports implicit, PyTorch or the other models.
    "als": (".als", "ALS"),
    "ials": (".ials", "IALS"),
    "ease": (".ease", "EASE"),
    "admm-slim": (".admm_slim", "ADMMSLIM"),
    "mult-vae": (".vae", "MultVAE"),
    "recvae": (".vae", "RecVAE"),
    "itemknn": (".itemknn", "ItemKNN"),
    "bpr": (".bpr", "BPR"),
    "pop": (".popular", "MostPopular"),
    SPARK_ALS: (".spark_als", "SparkALS"),
}
_BY_CLASS = {cls: (module, name) for name, (module, cls) in _CLASSES.items()}


def _model_class(module: str, cls: str) -> type[Model]:
    return getattr(importlib.import_module(module, __name__), cls)


class _Models(MutableMapping[str, "type[Model]"]):
    """Every model class by its name, each shipped one imported on first look-up; a class
    registered here (``MODELS["mine"] = Mine``) is used as it is."""

    def __init__(self) -> None:
        self._registered: dict[str, type[Model]] = {}

    def __getitem__(self, name: str) -> type[Model]:
        if name in self._registered:
            return self._registered[name]
        return _model_class(*_CLASSES[name])

    def __setitem__(self, name: str, cls: type[Model]) -> None:
        self._registered[name] = cls

    def __delitem__(self, name: str) -> None:
        del self._registered[name]  # the shipped models stay

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(_CLASSES), **dict.fromkeys(self._registered)})

    def __len__(self) -> int:
        return len(set(_CLASSES) | set(self._registered))


MODELS: MutableMapping[str, type[Model]] = _Models()


def __getattr__(name: str) -> Any:
    """The model classes (``from movierec.models import EASE``), imported on first use."""
    if name in _BY_CLASS:
        return _model_class(_BY_CLASS[name][0], name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "SPARK_ALS",
    "SparkALS",
    "make_model",
    "top_n",
]
