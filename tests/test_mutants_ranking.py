"""The promises of :func:`movierec.models.ranking.top_n` that mutation testing found unguarded
(``python bench/mutation.py ranking``): any real dtype, the caller's scores left alone, empty
exclusions and results with the documented int64 dtype."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.models import NO_ITEM, top_n

ROW = np.array([3.0, 1.0, 2.0, 5.0, 4.0])


def _ranked(row: np.ndarray, n: int, excluded: list[int], block: bool) -> list[list[int]]:
    """``top_n`` of ``row`` alone, or of a block of two copies of it, with the same items
    excluded: one list per row."""
    if not block:
        return [top_n(row, n, exclude=excluded).tolist()]
    marks = np.zeros((2, len(row)), dtype=bool)
    marks[:, excluded] = True
    return top_n(np.vstack([row, row]), n, exclude=sp.csr_matrix(marks)).tolist()


BLOCK = pytest.mark.parametrize("block", [False, True], ids=["row", "block"])


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.float16])
@BLOCK
def test_any_real_dtype_ranks_as_its_values(dtype: type, block: bool) -> None:
    assert _ranked(ROW.astype(dtype), 3, [4], block) == [[3, 0, 2]] * (1 + block)


@BLOCK
def test_float64_scores_are_not_rounded_to_float32(block: bool) -> None:
    row = np.array([1.0, 1.0 + 1e-12, 0.5])  # equal in float32: a tie the lower index would win
    assert _ranked(row, 2, [], block) == [[1, 0]] * (1 + block)


@pytest.mark.parametrize(
    "scores",
    [np.array([0.4, np.nan, 0.9, np.inf, 0.1]), np.array([[0.4, np.nan, 0.9], [np.inf, 0.1, 0.2]])],
    ids=["row", "block"],
)
def test_the_callers_scores_are_left_alone(scores: np.ndarray) -> None:
    before = scores.copy()
    excluded = [2] if scores.ndim == 1 else sp.csr_matrix([[0, 0, 1], [1, 0, 0]])
    top_n(scores, 2, exclude=excluded)
    np.testing.assert_array_equal(scores, before)


@pytest.mark.parametrize("exclude", [[], (), np.array([], dtype=np.int64)], ids=repr)
def test_a_row_with_nothing_excluded(exclude) -> None:
    assert top_n(ROW, 2, exclude=exclude).tolist() == [3, 4]


@pytest.mark.parametrize(
    ("scores", "n", "shape"),
    [
        (ROW, 0, (0,)),
        (np.full(3, np.nan), 2, (0,)),
        (np.vstack([ROW, ROW]), 0, (2, 0)),
        (np.empty((2, 0)), 3, (2, 3)),  # no items at all: every slot empty
    ],
    ids=["row-n0", "row-nothing-qualifies", "block-n0", "block-no-items"],
)
def test_empty_results_keep_the_shape_and_int64(scores: np.ndarray, n: int, shape) -> None:
    ranked = top_n(scores, n)
    assert ranked.shape == shape
    assert ranked.dtype == np.int64
    assert (ranked == NO_ITEM).all()


def test_a_third_dimension_is_refused_with_the_shape_named() -> None:
    with pytest.raises(ValueError, match=r"one row or a users × items block, got \(2, 2, 2\)"):
        top_n(np.zeros((2, 2, 2)), 1)
