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
