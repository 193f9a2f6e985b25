"""Top-N recommendations for every user of a model at once, written as one Parquet file.

The nightly batch job: each user of the model's vocabulary gets their ``n`` best movies, never
one they rated (at any rating, as :meth:`Recommender.recommend_for_user`), by the one ranking
(:func:`movierec.models.top_n`), in rows of ``(user_id, rank, movie_id, score)`` ordered by user
and rank. Users are scored in blocks, here or, with ``spark=True``, as Spark tasks; either way
the blocks come back in order and go through the same writer, so the file is the same.

The file appears whole or not at all (:func:`movierec.atomic.write_atomically`) and replaces only
a file movierec wrote: Parquet whose metadata says so, and only if it is still the file checked
at the start (a file that appears meanwhile is left as it is: the run is refused in one line).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from . import config
from .atomic import FileState, file_state, kind_of, write_atomically
from .errors import MovieRecError
from .models import Model
from .models.ranking import NO_ITEM, top_n

if TYPE_CHECKING:
    from .recommender import Recommender
    from .serving import Source

BLOCK_USERS = 1024
ROWS_PER_GROUP = 1 << 20  # Parquet row group: about a million rows
METADATA_KEY = b"movierec"
COLUMNS = ("user_id", "rank", "movie_id", "score")


@dataclass(frozen=True)
class Block:
    """One block of users: their model rows (what they liked, weighted), what they rated (to
    exclude) and their user indices."""

    user_indices: np.ndarray
    liked: sp.csr_matrix
    rated: sp.csr_matrix


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise MovieRecError(
            "writing Parquet needs pyarrow: pip install pyarrow (or 'movierec[spark]')"
        ) from None
    return pa


def check_output(path: str | Path) -> Path:
    """``path`` if movierec may write its Parquet file there: missing, or a file movierec wrote
    (replaced whole). Anything else is refused before any slow work, a FIFO, a device or a
    socket without being opened (it could make movierec wait for ever)."""
    path = Path(path).expanduser().absolute()
    try:
        mode: int | None = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:
        raise MovieRecError(
            f"--out {path} cannot be checked ({exc.strerror or exc}); pick another --out"
        ) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise MovieRecError(f"--out {path} is a folder; give a file name, e.g. recs.parquet")
    if mode is not None and not stat.S_ISREG(mode):
        raise MovieRecError(
            f"--out {path} is {kind_of(mode)}, not a file; movierec writes a Parquet file only "
            "to a new name or over one it wrote: pick another --out, e.g. recs.parquet"
        )
    if not path.parent.is_dir():
        if path.parent.exists():
            kind = kind_of(os.stat(path.parent).st_mode)
            raise MovieRecError(f"--out {path} is inside {kind}, not a folder; pick another --out")
        raise MovieRecError(f"--out {path}: folder {path.parent} does not exist; create it first")
    try:  # a real try, removed at once: a read-only place is refused before the slow work
        probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(probe[0])
        os.unlink(probe[1])
    except OSError as exc:
        raise MovieRecError(
            f"cannot write --out {path}: folder {path.parent} is not writable "
            f"({exc.strerror or exc}); pick another --out"
        ) from None
    if mode is not None and not written_by_movierec(path):
        raise MovieRecError(
            f"--out {path} exists and was not written by movierec recommend-all; movierec never "
            "overwrites it: pick another --out"
        )
    return path


def written_by_movierec(path: Path) -> bool:
    """Whether ``path`` is a Parquet file of movierec's recommendations (never opened unless
    it is a regular file)."""
    pa = _pyarrow()
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        metadata = pa.parquet.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return False
    return METADATA_KEY in metadata


def rated_matrix(rec: Recommender) -> sp.csr_matrix:
    """users × items, a stored entry for every movie a user of the model rated (any rating)."""
    ratings = rec.dataset.ratings
    user_ids = ratings["user_id"].to_numpy()
    movie_ids = ratings["movie_id"].to_numpy()
    users = rec.users.lookup(user_ids)
    items = rec.items.lookup(movie_ids)
    known = (users >= 0) & (items >= 0)
    ones = np.ones(int(known.sum()), dtype=np.int8)
    shape = (len(rec.users), len(rec.items))
    matrix = sp.csr_matrix((ones, (users[known], items[known])), shape=shape)
    matrix.sum_duplicates()
    return matrix


def blocks(rec: Recommender, size: int = BLOCK_USERS) -> Iterator[Block]:
    """The model's users in blocks of ``size``, in user-index order."""
    liked, rated = rec.interactions.matrix, rated_matrix(rec)
    for start in range(0, len(rec.users), size):
        stop = min(start + size, len(rec.users))
        yield Block(np.arange(start, stop), liked[start:stop], rated[start:stop])


def block_top_n(model: Model, block: Block, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each user's best ``n`` item indices (users × n, :data:`NO_ITEM` where none is left)
    and their scores, rated items excluded. BLAS runs single-threaded, as in a Spark task:
    threads split a product differently and change float32 scores in the last bit."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        scores = model.scores(block.user_indices, block.liked)
    best = top_n(scores, n, exclude=block.rated)
    chosen = np.take_along_axis(scores, np.maximum(best, 0), axis=1).astype(np.float32)
    return best, chosen


@dataclass(frozen=True)
class Written:
    """What :func:`recommend_all` wrote; ``movies``: how many the model knows."""

    out: Path
    users: int
    rows: int
    n: int
    engine: str
    movies: int = 0

    @property
    def why_empty(self) -> str | None:
        """Why no row was written, when none was (None otherwise). A user's list leaves out
        only the movies they rated and those with a score that is not finite, and a model holds
        finite numbers only (a saved one is checked on load), so an empty file means that
        every user rated every movie."""
        if self.rows:
            return None
        if not self.users:
            return "the model has no users"
        return (
            f"every one of the {self.users:,} users rated all {self.movies:,} movies the model "
            "knows, so none is left to recommend"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "users": self.users,
            "rows": self.rows,
            "n": self.n,
            "engine": self.engine,
        }


def recommend_all(
    rec: Recommender,
    n: int,
    out: str | Path,
    spark: bool = False,
    spark_master: str | None = None,
    ratings: str | None = None,
) -> Written:
    """Write every user's top ``n`` to the Parquet file ``out`` (see the module docstring);
    ``spark`` scores the blocks as Spark tasks on ``spark_master``. ``ratings``: a URI Spark
    reads the model's ratings from (``hdfs://…``; with ``spark``), so that the driver never
    holds them: each block is built and ranked on an executor
    (:func:`movierec.spark.source.ranked_blocks`); without it, the ratings are the dataset's."""
    n = config.check_n(n)
    path = check_output(out)
    seen = file_state(path)  # replaced at the end only if it is still this (or still absent)
    if ratings is not None and not spark:
        raise MovieRecError("--ratings URI needs --engine spark: only Spark reads a URI")
    ranker = BlockRanker(rec.model, n, rec.users.ids, rec.items.ids)
    tables = _ranked_tables(rec, ranker, spark, spark_master, ratings)
    pa = _pyarrow()
    schema = _schema(pa).with_metadata(
        {METADATA_KEY: json.dumps({"n": n, "settings": rec.settings.to_dict()})}
    )
    users = len(rec.users)
    what = f"{n} movies for each of {users:,} users"
    rows = _write_tables(path, tables, schema, what, users, seen)
    return Written(path, users, rows, n, "spark" if spark else "local", len(rec.items))


def recommend_all_for(
    source: Source,
    n: int,
    out: str | Path,
    *,
    model: Path | None = None,
    min_rating: float = config.MIN_RATING,
    spark: bool = False,
    spark_master: str | None = None,
) -> Written:
    """:func:`recommend_all` for the model that serves ``source``
    (:func:`movierec.serving.serving_recommender`), its ratings read here — or, when
    ``source.ratings`` is a URI and ``spark``, read by Spark for the model trained on them."""
    from .datasets.dataset import is_uri
    from .serving import serving_recommender

    check_output(out)  # before any slow work
    if source.ratings is not None and is_uri(source.ratings) and spark:
        if model is None or source.dataset is not None or source.movies is not None:
            raise MovieRecError(
                "with --ratings URI, recommend-all takes the model trained on it (--model DIR) "
                "and no --dataset or --movies"
            )
        rec = serving_recommender(source, min_rating, model)  # its ratings are read by Spark
        return recommend_all(rec, n, out, True, spark_master, ratings=source.ratings)
    dataset = source.of_model(model).load(min_rating)
    rec = serving_recommender(source, min_rating, model, loaded=dataset)  # exclusions: ratings
    return recommend_all(rec, n, out, spark, spark_master)


def _ranked_tables(
    rec: Recommender,
    ranker: BlockRanker,
    spark: bool,
    spark_master: str | None,
    ratings: str | None,
) -> Iterator[Any]:
    """The Arrow tables of every block of users, in user order: ranked here, as Spark tasks,
    or (``ratings`` a URI) built and ranked by Spark from the ratings it reads."""
    if ratings is not None:
        from .spark.source import RemoteSource, ranked_blocks

        return ranked_blocks(
            ranker,
            BLOCK_USERS,
            rec.settings,
            rec.dataset.fingerprint,
            RemoteSource(ratings),
            spark_master,
        )
    if spark:
        from .spark.tasks import map_in_order

        return map_in_order(ranker, list(blocks(rec, BLOCK_USERS)), spark_master)
    return (ranker(block) for block in blocks(rec, BLOCK_USERS))


def _write_tables(
    path: Path,
    tables: Iterator[Any],
    schema: Any,
    what: str,
    users: int,
    seen: FileState | None = None,
) -> int:
    """Write ``tables`` to the Parquet file ``path`` whole (a temp file, then renamed), in row
    groups of ``ROWS_PER_GROUP``, showing progress per block; returns the rows written. The
    rename happens only where nothing is, or over the file ``seen`` (its
    :func:`movierec.atomic.file_state` when it was checked): a file that appeared or changed
    meanwhile is left as it is, and the run refused in one line."""
    from . import progress

    pa = _pyarrow()
    total = 0

    def write(handle: Any) -> None:
        nonlocal total
        with (
            pa.parquet.ParquetWriter(handle, schema) as writer,
            progress.step(
                f"ranking {what}",
                done=f"ranked {what}",
                total=-(-users // BLOCK_USERS),
                unit="blocks",
            ) as step,
        ):
            pending: list[Any] = []
            pending_rows = 0
            for table in tables:
                table = table.replace_schema_metadata(schema.metadata)
                pending.append(table)
                pending_rows += table.num_rows
                total += table.num_rows
                if pending_rows >= ROWS_PER_GROUP:
                    writer.write_table(pa.concat_tables(pending), row_group_size=ROWS_PER_GROUP)
                    pending, pending_rows = [], 0
                step.advance()
            if pending:
                writer.write_table(pa.concat_tables(pending), row_group_size=ROWS_PER_GROUP)

    write_atomically(path, write, expect=seen)
    return total


def _schema(pa: Any) -> Any:
    return pa.schema(
        [
            ("user_id", pa.int64()),
            ("rank", pa.int32()),
            ("movie_id", pa.int64()),
            ("score", pa.float32()),
        ]
    )


class BlockRanker:
    """A block of users → the Arrow table of their rows (:func:`block_top_n` with the model,
    ``n`` and the vocabularies bound); picklable, for Spark's tasks."""

    def __init__(self, model: Model, n: int, user_ids: np.ndarray, item_ids: np.ndarray) -> None:
        self.model = model
        self.n = n
        self.user_ids = user_ids
        self.item_ids = item_ids

    def __call__(self, block: Block) -> Any:
        pa = _pyarrow()
        best, scores = block_top_n(self.model, block, self.n)
        found = best != NO_ITEM
        rows, ranks = np.nonzero(found)
        columns = [
            self.user_ids[block.user_indices[rows]],
            (ranks + 1).astype(np.int32),
            self.item_ids[best[found]],
            scores[found],
        ]
        return pa.table([pa.array(c) for c in columns], schema=_schema(pa))

    def block(
        self,
        start: int,
        stop: int,
        user_indices: np.ndarray,
        item_indices: np.ndarray,
        confidences: np.ndarray,
    ) -> Any:
        """The table of users ``start``..``stop`` − 1 from their ratings as (user index, item
        index, confidence) triples, the confidence NaN for a movie rated but not liked (below
        ``min_rating``): the same block :func:`blocks` makes from a dataset."""
        rows = np.asarray(user_indices, dtype=np.int64) - start
        items = np.asarray(item_indices, dtype=np.int64)
        shape = (stop - start, len(self.item_ids))
        liked = ~np.isnan(confidences)
        liked_matrix = sp.csr_matrix(
            (confidences[liked].astype(np.float32), (rows[liked], items[liked])), shape=shape
        )
        rated = sp.csr_matrix((np.ones(len(rows), np.int8), (rows, items)), shape=shape)
        return self(Block(np.arange(start, stop), liked_matrix, rated))
