"""MLlib's implicit-feedback ALS (``pyspark.ml.recommendation.ALS``, ``implicitPrefs=True``).

Spark's objective differs from ``implicit``'s in two ways the fold-in of a saved model must
follow (:class:`movierec.models.spark_als.SparkALS`, the model that holds what Spark learns
here): confidence is ``1 + α·r`` and each user's (item's) λ is multiplied by their number of
ratings (ALS-WR), so Spark's λ ≈ 0.1 does what ``implicit``'s λ ≈ 10–50 does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..models.spark_als import SparkALS
from .session import parallelism, spark_session

USER, ITEM, RATING = "user_index", "item_index", "confidence"


def frame_of(matrix: sp.csr_matrix, session: Any) -> Any:
    """A Spark DataFrame of ``matrix``'s stored entries (user_index, item_index, confidence),
    sent through Arrow."""
    import pyarrow as pa

    coo = sp.coo_matrix(matrix)
    table = pa.table(
        {
            USER: pa.array(coo.row.astype(np.int32)),
            ITEM: pa.array(coo.col.astype(np.int32)),
            RATING: pa.array(coo.data.astype(np.float32)),
        }
    )
    return session.createDataFrame(table)


def factors_of(frame: Any, rows: int, rank: int) -> np.ndarray:
    """A factors DataFrame (id, features) as a rows × rank float32 array; an id Spark never
    saw (no ratings) keeps a row of zeros."""
    table = frame.toArrow()
    ids = table.column("id").to_numpy()
    features = table.column("features").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    out = np.zeros((rows, rank), dtype=np.float32)
    out[ids] = features.reshape(len(ids), rank)
    return out


MLLIB_NAMES = {
    # a SparkALS parameter → MLlib ALS's (``blocks`` sets numUserBlocks and numItemBlocks)
    "factors": "rank",
    "regularization": "regParam",
    "alpha": "alpha",
    "iterations": "maxIter",
    "seed": "seed",
    "nonnegative": "nonnegative",
    "checkpoint_interval": "checkpointInterval",
}


def fit_frame(
    frame: Any, n_users: int, n_items: int, **params: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Fit on a DataFrame of (user_index, item_index, confidence) with a :class:`SparkALS`'s
    parameters (checked; a parameter not given keeps its default); returns the user and item
    factors as float32 arrays. ``blocks`` 0: the session's default parallelism."""
    from pyspark.ml.recommendation import ALS

    params = {**SparkALS.parameters, **SparkALS.valid_params(params)}
    blocks = params["blocks"] or parallelism(frame.sparkSession)
    estimator = ALS(
        implicitPrefs=True,
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        userCol=USER,
        itemCol=ITEM,
        ratingCol=RATING,
        **{MLLIB_NAMES[name]: value for name, value in params.items() if name in MLLIB_NAMES},
    )
    model = estimator.fit(frame)
    users = factors_of(model.userFactors, n_users, params["factors"])
    return users, factors_of(model.itemFactors, n_items, params["factors"])


def fit_matrix(matrix: sp.csr_matrix, **params: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fit on a users × items confidence matrix held here (sent to Spark): the job
    :meth:`SparkALS.fit` runs (its ``factors_of``)."""
    session = spark_session()
    n_users, n_items = matrix.shape
    return fit_frame(frame_of(matrix, session), n_users, n_items, **params)
