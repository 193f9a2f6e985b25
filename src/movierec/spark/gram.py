"""The EASE family's Gram matrix ``XᵀX`` summed over Spark partitions.

``XᵀX = Σ_u x_uᵀ x_u`` is a sum over users, so each partition (a block of users' rows) computes
its own items × items part with the local :func:`movierec.models.base.gram` and Spark adds the
parts up in a tree (``treeReduce``), never all at the driver at once. The driver then solves as
a local fit does (:meth:`movierec.models.ease.EASE.weights_from_gram`): the cost that grows with
the users is spread, the one that grows with the movies² stays where the model is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..models.base import gram
from .session import parallelism, spark_session


def _add(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    left += right  # a partial sum Spark owns: added in place, no third matrix
    return left


def spark_gram(matrix: sp.csr_matrix, master: str | None = None, depth: int = 2) -> np.ndarray:
    """``XᵀX`` (items × items, float32) of the users × items ``matrix``, its blocks of rows
    computed as Spark tasks and summed by ``treeReduce`` of ``depth`` levels."""
    session: Any = spark_session(master)
    rows = matrix.shape[0]
    parts = max(1, min(rows, 2 * parallelism(session)))
    bounds = np.linspace(0, rows, parts + 1).astype(np.int64)
    blocks = [sp.csr_matrix(matrix[a:b]) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    partials = session.sparkContext.parallelize(blocks, len(blocks)).map(gram)
    return np.asarray(partials.treeReduce(_add, depth=depth), dtype=np.float32)


def frame_gram(frame: Any, n_items: int, user_weight_exponent: float) -> np.ndarray:
    """``XᵀX`` (items × items, float32) of a DataFrame of (user_index, item_index, confidence)
    that Spark holds: partitioned by user, so that each partition has its users' whole rows
    (their weights ``|I_u|^(−γ)`` need them), each partition's part computed by the local
    :func:`movierec.models.base.gram` from its Arrow batches, the parts summed by
    ``treeReduce``. The same matrix as :func:`spark_gram` of the same rows."""
    from ..models.ease import user_weighted

    session: Any = frame.sparkSession
    parts = 2 * parallelism(session)

    def part_gram(batches: Any) -> Any:
        import pyarrow as pa

        users, items, values = [], [], []
        for batch in batches:
            users.append(batch.column(0).to_numpy())
            items.append(batch.column(1).to_numpy())
            values.append(batch.column(2).to_numpy())
        if not users or not sum(len(u) for u in users):
            return
        rows = np.unique(np.concatenate(users), return_inverse=True)[1]
        matrix = sp.csr_matrix(
            (np.concatenate(values), (rows, np.concatenate(items))),
            shape=(int(rows.max()) + 1, n_items),
            dtype=np.float32,
        )
        part = gram(user_weighted(matrix, user_weight_exponent))
        yield pa.RecordBatch.from_arrays([pa.array([part.tobytes()], pa.large_binary())], ["gram"])

    grams = frame.repartition(parts, frame.columns[0]).mapInArrow(part_gram, "gram binary")
    total = grams.rdd.map(
        lambda row: np.frombuffer(row[0], dtype=np.float32).reshape(n_items, n_items).copy()
    ).treeReduce(_add, depth=2)
    return np.asarray(total, dtype=np.float32)
