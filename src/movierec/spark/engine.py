"""``--engine spark``: which models Spark trains, and the fit that sends the work there.

Spark fits ``spark-als`` (MLlib ALS) itself, and only Spark does; for the EASE family (the
default preset) it sums the Gram matrix ``XᵀX`` over its partitions and the driver solves it as a
local fit does. Other models have no Spark trainer, which is refused before any data loads.
"""

from __future__ import annotations

from functools import partial

import scipy.sparse as sp

from ..errors import MovieRecError
from ..models import Model
from ..models.ease import EASE
from ..models.spark_als import SparkALS
from .session import check_settings

ENGINES = ("local", "spark")
SPARK_MODELS = (SparkALS.name, EASE.name)


def check_engine(engine: str, model: str | None, master: str | None = None) -> None:
    """MovieRecError, before any data loads, for an unknown engine, a model Spark does not
    train (``model`` None: no training), one only Spark trains on the local engine, a
    Spark master given without the Spark engine, or a master URL or driver memory Spark would
    refuse."""
    if engine not in ENGINES:
        raise MovieRecError(f"unknown engine {engine[:40]!r}; choose one of {', '.join(ENGINES)}")
    if engine == "local" and master is not None:
        raise MovieRecError("--spark-master needs --engine spark")
    if engine == "local" and model == SparkALS.name:
        raise MovieRecError(
            f"{model} is trained by Spark: add --engine spark, or pick another preset"
        )
    if engine == "spark":
        check_settings(master)
    if engine == "spark" and model is not None and model not in SPARK_MODELS:
        raise MovieRecError(
            f"--engine spark trains spark-als and the EASE family, not {model}; pick --preset "
            "spark-als or --preset default, or drop --engine spark"
        )


def fit(
    model: Model, user_items: sp.csr_matrix, master: str | None, show_progress: bool = False
) -> Model:
    """Fit ``model`` with Spark on ``master`` (default ``local[2]``); returns it. Spark learns
    a ``spark-als`` model's factors (:func:`movierec.spark.als.fit_matrix`) and the EASE
    family's Gram matrix (:func:`movierec.spark.gram.spark_gram`); the model does the rest."""
    from .session import spark_session

    check_engine("spark", model.name, master)
    spark_session(master)  # started here, so that the jobs of the model's fit join it
    if isinstance(model, EASE):
        from .gram import spark_gram

        return model.fit(user_items, show_progress, gram_of=partial(spark_gram, master=master))
    if isinstance(model, SparkALS):
        from .als import fit_matrix

        return model.fit(user_items, show_progress, factors_of=fit_matrix)
    return model.fit(user_items, show_progress)
