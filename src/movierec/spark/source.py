"""Ratings that Spark reads itself: ``movierec train --engine spark --ratings URI`` for data that
lives where a cluster reads it (``hdfs://``, ``s3a://``, ``gs://``, ``abfss://``, ``file://`` —
any filesystem the Spark installation has a connector for).

The driver never holds the ratings. Spark reads the file (or a folder of part files), checks it
by the rules movierec's own parser applies (whole-number ids from 0, ratings from 0 that float32
holds, nothing missing, each (user, movie) pair kept once), and sends back only what a saved
model keeps: the id vocabularies, each movie's kept ratings, the rating histogram and a
fingerprint. The fit runs on the cluster too (MLlib ALS, or the EASE family's Gram matrix summed
over partitions of users) and the result is an ordinary saved model.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import progress
from ..datasets.dataset import RatingsElsewhere
from ..datasets.parse import CSV_HEADER_RULE, ID_MAX, csv_header
from ..datasets.rules import check_min_rating, nothing_kept, repeated_pairs, threshold
from ..errors import DataError, MovieRecError
from ..interactions import PER_RATING

if TYPE_CHECKING:
    import pandas as pd

    from ..catalogue import Catalogue
    from ..models import Model

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".dat": "dat"}
"""What a URI's name says about its format; a URI ending in ``/`` is a folder of Parquet files.
CSV and ``.dat`` may be compressed (``.gz``, ``.bz2``): Spark reads those by their suffix."""
COMPRESSED = (".gz", ".bz2")
FLOAT32_MAX = float(np.finfo(np.float32).max)
_WHOLE = r"^\+?0*[0-9]{1,19}$"  # a decimal whole number from 0; within int64 is checked after
_DECIMAL = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$"
_RULES = {
    "user_id": f"not a whole number from 0 to {ID_MAX:,}",
    "movie_id": f"not a whole number from 0 to {ID_MAX:,}",
    "rating": "not a number from 0 that float32 holds",
    "timestamp": "not a whole number within int64",
}
_TIMESTAMP = r"^[+-]?0*[0-9]{1,19}$"
FINGERPRINT_KIND = "xxh64sum-"
"""How the fingerprint of ratings Spark read begins (a local read's is a blake2b digest)."""


@dataclass(frozen=True)
class RemoteSource:
    """Ratings (and optionally movies) at URIs or paths Spark reads."""

    ratings: str
    movies: str | None = None

    @property
    def name(self) -> str:
        """The dataset's name: the last part of the ratings URI's path (``ratings.parquet``)."""
        path = self.ratings.split("://", 1)[-1].split("?", 1)[0].rstrip("/")
        return (PurePosixPath(path).name or self.ratings)[:100]

    @property
    def layout(self) -> str:
        return layout_of(self.ratings, "--ratings")


def layout_of(uri: str, option: str) -> str:
    """``parquet``, ``csv`` or ``dat`` from the URI's name; DataError when it says none."""
    path = uri.split("?", 1)[0]
    if path.endswith("/"):
        return "parquet"
    name = PurePosixPath(path).name.lower()
    for ending in COMPRESSED:
        name = name.removesuffix(ending)
    layout = FORMATS.get(PurePosixPath(name).suffix)
    if layout is None:
        raise DataError(
            f"{option} {uri[:200]}: name a file ending in {', '.join(FORMATS)} (CSV and .dat may "
            "add .gz or .bz2), or a folder of Parquet files ending in /"
        )
    return layout


class RemoteDataset(RatingsElsewhere):
    """The identity and movies of ratings that Spark read: what a model trained on them needs
    to answer. Asking for the ratings themselves is a DataError: they never left the cluster."""

    def __init__(self, source: RemoteSource, movies: pd.DataFrame, fingerprint: str) -> None:
        super().__init__(source.name, {}, movies, fingerprint, Path(source.name))
        self.uri = source.ratings

    def missing(self) -> DataError:
        return DataError(
            f"the ratings of {self.name} are at {self.uri[:200]}, which only Spark reads; save "
            "the model (movierec train --engine spark --out DIR) and use it with --model DIR"
        )


def _reason(exc: Exception) -> str:
    """A Spark failure's first line: the Java exception's own words where there is one (Py4J's
    message is only "An error occurred while calling o45.csv")."""
    java = getattr(exc, "java_exception", None)
    text = str(java.toString() if java is not None else exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:240]


def _unreadable(uri: str, exc: Exception) -> DataError:
    return DataError(
        f"Spark cannot read {uri[:200]} ({_reason(exc)}); check the URI, and that this Spark has "
        "the connector for its filesystem (s3a://: hadoop-aws, gs://: the GCS connector)"
    )


def _checked_columns(session: Any, source: RemoteSource) -> tuple[Any, dict[str, Any]]:
    """The ratings as Spark reads them and, per column, ``(value, bad)``: the raw value and
    a condition true where it breaks the column's rule (:data:`_RULES`)."""
    from pyspark.sql import functions as F

    uri, layout = source.ratings, source.layout
    try:
        if layout == "parquet":
            frame = session.read.parquet(uri)
        elif layout == "csv":
            frame = session.read.options(header=True, mode="FAILFAST").csv(uri)
        else:
            frame = session.read.text(uri)
        names = frame.columns
    except Exception as exc:  # pyspark's AnalysisException, Py4J errors: not one base class
        raise _unreadable(uri, exc) from None
    if layout == "dat":
        fields = F.split(F.col("value"), "::")
        frame = frame.select(
            F.col("value"),
            *(F.get(fields, i).alias(key) for i, key in enumerate(_RULES)),  # NULL if absent
            F.size(fields).alias("fields"),
        )
        present = ["user_id", "movie_id", "rating"]  # a timestamp only where a line has one
        checks = {"fields": (F.col("value"), ~F.col("fields").isin(3, 4))}
    else:
        keys = csv_header(names)
        if keys is None:
            shown = ", ".join(repr(name) for name in names[:8])
            raise DataError(f"{source.name} has columns {shown}: {CSV_HEADER_RULE}")
        frame = frame.select(*(F.col(f"`{n}`").alias(k) for n, k in zip(names, keys)))
        checks = {}
        present = list(keys)
    for key in present:
        value = F.col(key)
        bad = _breaks_rule(key, value, frame.schema[key].dataType, layout == "parquet")
        if bad is None:
            wanted = "numbers" if key == "rating" else "whole numbers"
            raise DataError(
                f"{source.name}: column {key!r} holds {dict(frame.dtypes)[key]}, not {wanted}; "
                "fix the file"
            )
        checks[key] = (value, value.isNull() | bad)
    if layout == "dat":  # a 4th field is a timestamp
        stamp = F.col("timestamp")
        checks["timestamp"] = (stamp, stamp.isNotNull() & _not_whole(stamp, signed=True))
    return frame, checks


def _breaks_rule(key: str, value: Any, kind: Any, parquet: bool) -> Any:
    """A Spark condition true where ``value`` (column ``key`` of type ``kind``) breaks the
    column's rule (:data:`_RULES`); None when the type can hold no valid value."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(kind, T.StringType) and not parquet:  # text: check its spelling
        if key == "rating":
            number = value.try_cast("double")
            return ~value.rlike(_DECIMAL) | (number < 0) | (number > FLOAT32_MAX)
        return _not_whole(value, key == "timestamp")
    if key == "rating" and isinstance(kind, T.NumericType):
        number = value.cast("double")
        return F.isnan(number) | (number < 0) | (number > FLOAT32_MAX)
    if key == "timestamp" and isinstance(kind, (T.IntegralType, T.TimestampType)):
        return F.lit(False)
    if isinstance(kind, T.IntegralType):
        return value < 0
    if isinstance(kind, T.DecimalType) and kind.scale == 0:  # Parquet's uint64, say
        return (value < 0) | (value > ID_MAX)
    return None


def _not_whole(text: Any, signed: bool) -> Any:
    """A Spark condition: ``text`` does not spell a whole number within int64 (from 0 unless
    ``signed``)."""
    from pyspark.sql import functions as F

    value = F.abs(text.try_cast("decimal(20,0)"))
    return ~text.rlike(_TIMESTAMP if signed else _WHOLE) | (value > ID_MAX)


def read_ratings(session: Any, source: RemoteSource) -> Any:
    """The ratings as a DataFrame of ``user_id`` (long), ``movie_id`` (long) and ``rating``
    (float), after one pass that checks every row (DataError naming the column, how many
    values break its rule, and one of them)."""
    from pyspark.sql import functions as F

    frame, checks = _checked_columns(session, source)
    counts = [F.count(F.lit(1)).alias("rows")]
    for key, (value, bad) in checks.items():
        shown = F.coalesce(value.cast("string"), F.lit("(missing)"))
        counts.append(F.sum(F.when(bad, 1).otherwise(0)).alias(f"{key}_bad"))
        counts.append(F.first(F.when(bad, shown), ignorenulls=True).alias(f"{key}_example"))
    try:
        found = frame.agg(*counts).collect()[0]
    except Exception as exc:  # a malformed CSV line (FAILFAST), a file gone, a bad codec
        if "MALFORMED_RECORD" in str(exc):
            raise DataError(
                f"{source.name} has a line that is not CSV with the header's columns "
                f"({_reason(exc)}); fix the file"
            ) from None
        raise _unreadable(source.ratings, exc) from None
    if not found["rows"]:
        raise DataError(f"{source.name} has no ratings; fix the file")
    for key in checks:
        bad = found[f"{key}_bad"]
        if bad:
            if key == "fields":
                what = (
                    f"{'line has' if bad == 1 else 'lines have'} not 3 or 4 '::'-separated fields"
                )
            else:
                value_is = "value in column {} is" if bad == 1 else "values in column {} are"
                what = f"{value_is.format(repr(key))} {_RULES[key]}"
            raise DataError(
                f"{source.name}: {bad:,} {what} (e.g. {str(found[f'{key}_example'])[:60]!r}); "
                "fix the file"
            )
    return frame.select(
        F.col("user_id").cast("long"),
        F.col("movie_id").cast("long"),
        F.col("rating").cast("float"),
    )


@dataclass(frozen=True)
class Counted:
    """What Spark sends back about the ratings: enough for a saved model, nothing per rating."""

    histogram: list[tuple[float, int, int]]  # (rating, all, kept), lowest first
    top_rating: float
    fingerprint: str
    user_ids: np.ndarray  # users with a kept rating, sorted
    users_total: int
    movie_ids: np.ndarray  # every rated movie, sorted
    movie_kept: np.ndarray  # its kept ratings

    @property
    def ratings_total(self) -> int:
        return sum(count for _, count, _ in self.histogram)

    @property
    def ratings_kept(self) -> int:
        return sum(kept for _, _, kept in self.histogram)

    def summary(self, name: str, min_rating: float) -> dict[str, Any]:
        """The data's summary, as :func:`movierec.trained.summary_of` makes it from ratings
        read here."""
        from ..datasets.summary import Stats

        stats = Stats(
            dataset=name,
            ratings_total=self.ratings_total,
            ratings_kept=self.ratings_kept,
            kept_ratio=round(self.ratings_kept / self.ratings_total, 6),
            users=len(self.user_ids),
            movies=int(np.count_nonzero(self.movie_kept)),
            users_total=self.users_total,
            movies_total=len(self.movie_ids),
            min_rating=float(min_rating),
        )
        return {"stats": stats.to_dict(), "ratings": [list(r) for r in self.histogram]}


def is_kept(min_rating: float) -> Any:
    """The min-rating rule (:func:`movierec.datasets.rules.is_kept`) as a Spark condition:
    ``rating ≥ min_rating``, both float32."""
    from pyspark.sql import functions as F

    return F.col("rating") >= F.lit(threshold(min_rating)).cast("float")


def rating_bins(ratings: Any) -> tuple[list[Any], str]:
    """One job: the ratings' distinct values with their counts (rows of ``rating``, ``n``,
    lowest first) and the ratings' fingerprint, order-free: the sum of each rating's 64-bit
    hash (exact as a decimal), with the count."""
    from pyspark.sql import functions as F

    hashed = F.xxhash64("user_id", "movie_id", "rating").cast("decimal(38,0)")
    bins = ratings.groupBy("rating").agg(F.count(F.lit(1)).alias("n"), F.sum(hashed).alias("h"))
    rows = sorted(bins.collect(), key=lambda row: row["rating"])
    digest = sum(int(r["h"]) for r in rows) % (1 << 64)
    return rows, f"{FINGERPRINT_KIND}{digest:016x}-{sum(int(r['n']) for r in rows)}"


def count(ratings: Any, min_rating: float) -> Counted:
    """Three jobs over the (cached) ratings: :func:`rating_bins`, the movies' counts, the
    users'."""
    from pyspark.sql import functions as F

    from ..datasets.summary import histogram

    kept = F.when(is_kept(min_rating), 1).otherwise(0)
    rows, fingerprint = rating_bins(ratings)
    counts = histogram(
        np.array([r["rating"] for r in rows], dtype=np.float32),  # as the local parse holds them
        np.array([r["n"] for r in rows], dtype=np.int64),
        min_rating,
    )
    movies = ratings.groupBy("movie_id").agg(F.sum(kept).alias("kept")).toArrow()
    users = ratings.groupBy("user_id").agg(F.sum(kept).alias("kept")).toArrow()
    movie_ids = movies.column("movie_id").to_numpy()
    order = np.argsort(movie_ids)
    user_ids = users.column("user_id").to_numpy()
    user_kept = users.column("kept").to_numpy()
    return Counted(
        histogram=counts,
        top_rating=float(rows[-1]["rating"]),
        fingerprint=fingerprint,
        user_ids=np.sort(user_ids[user_kept > 0]).astype(np.int64),
        users_total=len(user_ids),
        movie_ids=movie_ids[order].astype(np.int64),
        movie_kept=movies.column("kept").to_numpy()[order].astype(np.int64),
    )


def check_pairs(kept: Any) -> None:
    """DataError when a (user, movie) pair is kept twice (its confidences would add up)."""
    from pyspark.sql import functions as F

    repeated = kept.groupBy("user_id", "movie_id").count().where(F.col("count") > 1)
    found = repeated.agg(
        F.count(F.lit(1)).alias("pairs"), F.min(F.struct("user_id", "movie_id")).alias("first")
    ).collect()[0]
    if found["pairs"]:
        first = found["first"]
        raise repeated_pairs(found["pairs"], first["user_id"], first["movie_id"])


def check_movies(source: RemoteSource) -> None:
    """DataError, before any Spark job, when the movies URI's name says no format, or a local
    movies file is not there."""
    from ..datasets.dataset import is_uri, own_layout

    if source.movies is None:
        return
    if is_uri(source.movies):
        layout_of(source.movies, "--movies")
    else:
        own_layout(Path(source.movies).expanduser(), "--movies")


def read_movies(session: Any, source: RemoteSource, rated: np.ndarray) -> pd.DataFrame:
    """The movies frame (as :attr:`Dataset.movies`): the movies file's movies (fetched whole to
    the driver — a movies file is small — and read by movierec's own reader), then every other
    rated movie as ``Movie <id>``. Its name is checked first, by :func:`check_movies`."""
    from ..datasets.dataset import is_uri, own_movies

    if source.movies is None:
        return own_movies({"movie_id": rated}, None)
    if not is_uri(source.movies):
        return own_movies({"movie_id": rated}, Path(source.movies).expanduser())
    try:
        files = session.sparkContext.binaryFiles(source.movies).collect()
    except Exception as exc:
        raise _unreadable(source.movies, exc) from None
    if len(files) != 1:
        raise DataError(f"--movies {source.movies[:200]} is {len(files)} files; name one file")
    name = PurePosixPath(source.movies.split("?", 1)[0]).name
    with tempfile.TemporaryDirectory(prefix="movierec-movies-") as folder:
        local = Path(folder, name)
        local.write_bytes(files[0][1])
        return own_movies({"movie_id": rated}, local)


def indexed(
    session: Any,
    ratings: Any,
    users: np.ndarray,
    items: np.ndarray,
    weighting: str,
    min_rating: float | None = None,
) -> Any:
    """The ratings of these users and movies as (user_index, item_index, confidence): ids
    replaced by their places in the sorted vocabularies (joins; the movies' table is broadcast),
    the rating read through the weighting as :func:`movierec.interactions.confidence` reads it.
    With ``min_rating``, ratings below it stay, with a null confidence (rated, not liked)."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    def vocabulary(key: str, index: str, ids: np.ndarray) -> Any:
        table = pa.table({key: ids, index: np.arange(len(ids), dtype=np.int32)})
        return session.createDataFrame(table)

    constant = PER_RATING[weighting]  # the weighting's rule, as a column
    weight = F.col("rating") if constant is None else F.lit(constant)
    if min_rating is not None:
        weight = F.when(is_kept(min_rating), weight)
    return (
        ratings.join(F.broadcast(vocabulary("movie_id", "item_index", items)), "movie_id")
        .join(vocabulary("user_id", "user_index", users), "user_id")
        .select("user_index", "item_index", weight.cast("float").alias("confidence"))
    )


def ranked_blocks(
    rank: Any,
    block_users: int,
    settings: Any,
    fingerprint: str,
    source: RemoteSource,
    master: str | None = None,
) -> Iterator[Any]:
    """The batch job on ratings Spark reads: each block of ``block_users`` consecutive users of
    a model (all of them, as a local run makes them) is built on an executor from the ratings
    (liked: the kept ones, weighted; rated: all) and ranked by ``rank.block`` into an Arrow
    table of rows (``rank`` holds the model and its vocabularies ``user_ids``, ``item_ids``, and
    is broadcast once); the tables come back to the driver in user order, about two partitions
    at a time. The ratings must be the model's own: their fingerprint is checked first."""
    import pyarrow as pa

    from .session import parallelism, spark_session

    if not fingerprint.startswith(FINGERPRINT_KIND):
        raise DataError(
            "the model was trained on ratings read here, not by Spark: recommend-all reads a URI "
            "only for a model trained from one (train --engine spark --ratings URI); give this "
            "model its --dataset or --ratings FILE"
        )
    session = spark_session(master)
    ratings = _own_ratings(session, source, fingerprint)
    n_users = len(rank.user_ids)
    frame = indexed(
        session, ratings, rank.user_ids, rank.item_ids, settings.weighting, settings.min_rating
    )
    n_blocks = -(-n_users // block_users)
    shared = session.sparkContext.broadcast(rank)

    parts = max(1, min(n_blocks, 4 * parallelism(session)))
    answers = (
        _blocked(session, frame, n_users, block_users)
        .groupBy("block")
        .applyInArrow(_block_task(shared, block_users, n_users), "block int, data binary")
        .repartitionByRange(parts, "block")
        .sortWithinPartitions("block")
    )
    try:
        for row in answers.toLocalIterator(prefetchPartitions=True):
            yield pa.ipc.open_stream(row["data"]).read_all()
    finally:
        shared.unpersist()


def _block_task(shared: Any, block_users: int, n_users: int) -> Callable[[Any], Any]:
    """:func:`_rank_block` as the one-argument function Spark's ``applyInArrow`` takes (it
    reads the function's own signature, so no ``functools.partial``)."""

    def one_block(table: Any) -> Any:
        return _rank_block(shared, block_users, n_users, table)

    return one_block


def _rank_block(shared: Any, block_users: int, n_users: int, table: Any) -> Any:
    """On an executor: one block's rows (:func:`_blocked`) ranked by the broadcast ``rank``, as
    one row of the block's number and its Arrow table, serialised."""
    import pyarrow as pa
    import pyarrow.compute as pc

    block = table.column("block")[0].as_py()
    rows = table.filter(pc.greater_equal(table.column("user_index"), 0))
    ranked = shared.value.block(
        block * block_users,
        min((block + 1) * block_users, n_users),
        rows.column("user_index").to_numpy(),
        rows.column("item_index").to_numpy(),
        rows.column("confidence").to_numpy(zero_copy_only=False),
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, ranked.schema) as writer:
        writer.write_table(ranked)
    data = pa.array([sink.getvalue().to_pybytes()], pa.binary())
    return pa.table({"block": pa.array([block], pa.int32()), "data": data})


def _own_ratings(session: Any, source: RemoteSource, fingerprint: str) -> Any:
    """The ratings at ``source``, once their fingerprint is the model's (DataError otherwise)."""
    ratings = read_ratings(session, source)
    if rating_bins(ratings)[1] != fingerprint:
        raise DataError(
            f"{source.name} at {source.ratings[:200]} holds other ratings than the model was "
            f"trained on (fingerprint {fingerprint}); give the model's own ratings"
        )
    return ratings


def _blocked(session: Any, frame: Any, n_users: int, block_users: int) -> Any:
    """``frame`` (:func:`indexed`) with each row's ``block`` of ``block_users`` users, and one
    empty row (indices −1) per block, so that no block is ever missing."""
    from pyspark.sql import functions as F

    frame = frame.withColumn("block", (F.col("user_index") / block_users).cast("int"))
    every = session.range(-(-n_users // block_users)).select(
        F.lit(-1).alias("user_index"),
        F.lit(-1).alias("item_index"),
        F.lit(None).cast("float").alias("confidence"),
        F.col("id").cast("int").alias("block"),
    )
    return frame.unionByName(every)


@dataclass(frozen=True)
class Fitted:
    """A model Spark fitted, with what a saved model keeps about its data (from which
    :func:`movierec.trained.fit_on_spark` makes a :class:`~movierec.trained.Trained`)."""

    dataset: RemoteDataset
    model: Model
    users: np.ndarray  # user ids of the model's rows, sorted
    items: np.ndarray  # movie ids of its items, sorted
    catalogue: Catalogue
    summary: dict[str, Any]  # as movierec.trained.Summary
    top_rating: float  # the highest rating in the data


def train(
    source: RemoteSource,
    min_rating: float,
    weighting: str,
    model_for: Callable[[int], Model],
    master: str | None = None,
) -> Fitted:
    """Read, check and count the ratings with Spark and fit there the model ``model_for``
    gives for the number of movies with kept ratings; nothing per rating comes to the driver.
    ``weighting``: one of :data:`~movierec.interactions.PER_RATING` (BM25 needs the whole
    matrix in one place)."""
    from pyspark import StorageLevel

    from ..catalogue import Catalogue
    from .session import spark_session

    layout_of(source.ratings, "--ratings")
    check_movies(source)
    if weighting not in PER_RATING:
        raise DataError(
            f"--weighting {weighting} needs the whole matrix in one place; with ratings Spark "
            f"reads, pick --weighting {' or '.join(PER_RATING)}"
        )
    session = spark_session(master)
    with progress.step(f"reading {source.name} with Spark", done=f"read {source.name}") as step:
        ratings = read_ratings(session, source).persist(StorageLevel.MEMORY_AND_DISK)
        step.update(status="counting")
        counted = count(ratings, min_rating)
        check_min_rating(min_rating, 0.0, counted.top_rating, source.name)
        if not counted.ratings_kept:
            raise nothing_kept(min_rating)
        kept = ratings.where(is_kept(min_rating))
        check_pairs(kept)
        movies = read_movies(session, source, counted.movie_ids)  # before the fit: it may fail
    items = counted.movie_ids[counted.movie_kept > 0]
    model = model_for(len(items))
    frame = indexed(session, kept, counted.user_ids, items, weighting)
    fit_frame_with(model, frame, len(counted.user_ids), len(items))
    ratings.unpersist()
    return Fitted(
        dataset=RemoteDataset(source, movies, counted.fingerprint),
        model=model,
        users=counted.user_ids,
        items=items,
        catalogue=Catalogue.from_counts(movies, items, counted.movie_kept[counted.movie_kept > 0]),
        summary=counted.summary(source.name, min_rating),
        top_rating=counted.top_rating,
    )


def fit_frame_with(model: Model, frame: Any, n_users: int, n_items: int) -> None:
    """Fit ``model`` (spark-als, or the EASE family on every movie) on Spark from ``frame``:
    the kept ratings as (user_index, item_index, confidence) of ``n_users`` × ``n_items``."""
    from pyspark.sql import functions as F

    from ..models.ease import EASE, check_dense_items
    from ..models.spark_als import SparkALS

    with progress.step(
        f"fitting {model.name} with Spark on {n_users:,} users × {n_items:,} items",
        done=f"fitted {model.name} on {n_users:,} users × {n_items:,} items",
    ):
        if isinstance(model, SparkALS):
            from .als import fit_frame

            frame = frame.where(F.col("confidence") != 0)  # as the local fit drops zeros
            model.set_factors(*fit_frame(frame, n_users, n_items, **model.get_params()))
        elif isinstance(model, EASE):
            from .gram import frame_gram

            check_dense_items("EASE", n_items)
            if model.min_item_ratings > 1:  # the Gram matrix below is of every movie
                raise MovieRecError(
                    "--engine spark with ratings Spark reads fits the EASE family on every "
                    "movie, not on a dense head; name a preset without min_item_ratings "
                    "(e.g. --preset default)"
                )
            gram_matrix = frame_gram(frame, n_items, model.user_weight_exponent)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                model.set_state({"weights": model.weights_from_gram(gram_matrix)}).check_state()
        else:
            raise MovieRecError(
                f"--engine spark trains spark-als and the EASE family, not {model.name}"
            )
