"""MLlib's implicit-feedback ALS (``pyspark.ml.recommendation.ALS``, ``implicitPrefs=True``).

Spark's objective differs from ``implicit``'s in two ways the fold-in of a saved model must
follow (:class:`movierec.models.spark_als.SparkALS`): confidence is ``1 + α·r`` and each user's
(item's) λ is multiplied by their number of ratings (ALS-WR), so Spark's λ ≈ 0.1 does what
``implicit``'s λ ≈ 10–50 does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

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


def fit_frame(
    frame: Any,
    n_users: int,
    n_items: int,
    factors: int,
    regularization: float,
    alpha: float,
    iterations: int,
    seed: int,
    blocks: int,
    nonnegative: bool,
    checkpoint_interval: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit on a DataFrame of (user_index, item_index, confidence); returns the user and item
    factors as float32 arrays. ``blocks`` 0: the session's default parallelism."""
    from pyspark.ml.recommendation import ALS

    session = frame.sparkSession
    blocks = blocks or parallelism(session)
    estimator = ALS(
        rank=factors,
        maxIter=iterations,
        regParam=regularization,
        alpha=alpha,
        implicitPrefs=True,
        nonnegative=nonnegative,
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        checkpointInterval=checkpoint_interval,
        seed=seed,
        userCol=USER,
        itemCol=ITEM,
        ratingCol=RATING,
    )
    model = estimator.fit(frame)
    return (
        factors_of(model.userFactors, n_users, factors),
        factors_of(model.itemFactors, n_items, factors),
    )


def fit_matrix(matrix: sp.csr_matrix, **params: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fit on a users × items confidence matrix held here (sent to Spark)."""
    session = spark_session()
    n_users, n_items = matrix.shape
    return fit_frame(frame_of(matrix, session), n_users, n_items, **params)
