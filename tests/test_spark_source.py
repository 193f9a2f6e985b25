"""Ratings Spark reads itself (``train --engine spark --ratings URI``): the same model as from a
local file, every kind of bad input refused in one line with nothing written, and a model that
answers like any other. ``file://`` URIs stand for ``hdfs://`` and ``s3a://`` ones: Spark reads
them all through the same Hadoop filesystem layer.

Needs pyspark and Java, as tests/test_spark.py (CI requires both)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movierec.cli import main


@pytest.fixture(scope="module")
def files(small, tmp_path_factory) -> Path:
    """ml-latest-small's 120 most rated movies and the first 150 users, as CSV, Parquet and
    ``.dat`` ratings files, with a movies CSV listing all but 3 of the movies."""
    folder = tmp_path_factory.mktemp("uri")
    ratings = small.ratings
    top = ratings.movie_id.value_counts().index[:120]
    part = ratings[ratings.movie_id.isin(top) & (ratings.user_id <= 150)]
    part = part[["user_id", "movie_id", "rating"]].reset_index(drop=True)
    part.to_csv(folder / "r.csv", index=False)
    pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / "r.parquet")
    lines = [f"{u}::{m}::{r:g}" for u, m, r in part.itertuples(index=False)]
    (folder / "r.dat").write_text("\n".join(lines) + "\n")
    movies = small.movies.loc[sorted(top)[3:]]
    movies = movies.reset_index()[["movie_id", "title", "genres"]]
    movies.to_csv(folder / "movies.csv", index=False)
    return folder


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(capsys, ratings: str, out: Path, message: str, *args: str) -> None:
    """``train --engine spark --ratings RATINGS … --out OUT`` exits 2 with one error line
    holding ``message`` (anything before it is progress: a Spark job takes long enough for
    ``reading … with Spark`` to show), and writes nothing."""
    code, stdout, err = run(
        capsys, "train", "--engine", "spark", "--ratings", ratings, *args, "--out", str(out)
    )
    assert code == 2 and stdout == ""
    *before, error = err.splitlines()
    assert error.startswith("movierec: error: ") and message in error, err
    assert all(line.startswith("movierec: reading ") for line in before), err
    assert "Traceback" not in err and err.endswith("\n")
    assert not out.exists()


def uri(path: Path) -> str:
    return f"file://{path}"


def saved(folder: Path) -> tuple[dict, dict, dict, np.ndarray]:
    """A model folder's meta, catalogue, vocabularies and EASE weights."""
    meta = json.loads((folder / "meta.json").read_text())
    catalogue = json.loads((folder / "catalogue.json").read_text())
    with np.load(folder / "arrays.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    for path in folder.glob("model.*.npy"):
        arrays[path.stem] = np.load(path)
    return meta, catalogue, arrays, arrays.pop("model.weights")


@pytest.mark.parametrize("name", ["r.csv", "r.parquet"])  # .dat: read as the same ratings below
def test_ratings_spark_reads_make_the_local_files_model(
    spark, files: Path, tmp_path: Path, capsys, name: str
) -> None:
    """The default model (DLAE, users weighted, low-pass filtered) from a URI Spark reads is the
    model of the same file read here: same vocabularies, catalogue and summary, weights equal to
    float tolerance; only the fingerprint is of another kind (Spark's, order-free)."""
    local, remote = tmp_path / "local", tmp_path / "remote"
    movies = ["--movies", str(files / "movies.csv")]
    code, _, err = run(
        capsys, "train", "--ratings", str(files / name), *movies, "--out", str(local)
    )
    assert code == 0, err
    code, out, err = run(
        capsys, "train", "--engine", "spark", "--ratings", uri(files / name), *movies,
        "--out", str(remote), "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["dataset"] == name
    meta_l, catalogue_l, arrays_l, weights_l = saved(local)
    meta_r, catalogue_r, arrays_r, weights_r = saved(remote)
    assert meta_r["dataset"]["fingerprint"].startswith("xxh64sum-")
    for meta in (meta_l, meta_r):
        meta.pop("dataset")
    assert meta_r == meta_l
    assert catalogue_r == catalogue_l
    assert "Movie " in str(catalogue_r["title"])  # the 3 movies the movies file leaves out
    assert arrays_r.keys() == arrays_l.keys()
    for key in arrays_l:
        assert np.array_equal(arrays_r[key], arrays_l[key]), key
    np.testing.assert_allclose(weights_r, weights_l, rtol=1e-4, atol=1e-6)
    assert np.abs(weights_l).max() > 0.01


def test_the_fingerprint_is_the_ratings_not_the_format(spark, files: Path, capsys) -> None:
    """The same ratings as CSV, gzipped CSV, Parquet and .dat: one fingerprint; one rating
    changed: another."""
    import gzip

    from movierec.spark.source import RemoteSource, count, read_ratings

    (files / "r.csv.gz").write_bytes(gzip.compress((files / "r.csv").read_bytes()))
    prints = {
        count(read_ratings(spark, RemoteSource(uri(files / name))), 3.0).fingerprint
        for name in ("r.csv", "r.csv.gz", "r.parquet", "r.dat")
    }
    assert len(prints) == 1
    edited = files / "edited.csv"
    text = (files / "r.csv").read_text().splitlines()
    user, movie, rating = text[5].split(",")
    text[5] = f"{user},{movie},{5.0 if float(rating) != 5.0 else 4.0}"
    edited.write_text("\n".join(text) + "\n")
    assert count(read_ratings(spark, RemoteSource(uri(edited))), 3.0).fingerprint not in prints


def test_spark_als_from_a_uri_answers_like_any_model(
    spark, files: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "als"
    code, _, err = run(
        capsys, "train", "--engine", "spark", "--ratings", uri(files / "r.parquet"),
        "--preset", "spark-als", "--factors", "8", "--iterations", "3", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    code, out_text, err = run(
        capsys, "recommend", "--model", str(out), "--like", "1", "--like", "260", "-n", "3",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    assert len(json.loads(out_text)) == 3
    meta = json.loads((out / "meta.json").read_text())
    ratings = pq.read_table(files / "r.parquet").to_pandas()
    kept = ratings[ratings.rating >= 3]
    assert meta["settings"]["model"] == "spark-als"
    assert (meta["n_users"], meta["n_items"]) == (kept.user_id.nunique(), kept.movie_id.nunique())


BAD = [
    ("r.csv", "user_id,movie_id,rating\n1,2,4\nx,3,5\n", "1 value in column 'user_id' is not a"),
    ("r.csv", "user_id,movie_id,rating\n1,-2,-4\n", "column 'movie_id' is not a whole"),
    ("r.csv", "user_id,movie_id,rating\n1,2,4\n1,99999999999999999999,5\n", "'movie_id'"),
    ("r.csv", "user_id,movie_id,rating\n1,2,four\n1,3,5\n", "column 'rating' is not a number"),
    ("r.csv", "user_id,movie_id,rating\n1,2,-1\n1,3,5\n", "column 'rating' is not a number"),
    ("r.csv", "user_id,movie_id,rating\n1,2,1e39\n1,3,5\n", "column 'rating'"),
    ("r.csv", "user_id,movie_id,rating\n1,2,\n1,3,5\n", "(e.g. '(missing)')"),
    ("r.csv", "user_id,movie_id,rating\n1,2,4,9\n", "has a line that is not CSV with the"),
    ("r.csv", "user,movie,rating\n1,2,4\n", "the header should name user_id"),
    ("r.csv", "user_id,movie_id,rating\n", "has no ratings"),
    ("r.csv", "user_id,movie_id,rating\n1,2,4\n1,2,5\n", "1 (user, movie) pair is rated more"),
    ("r.dat", "1::2::4\n1::3\n1::2::3::4::5\n", "2 lines have not 3 or 4 '::'-separated"),
    ("r.dat", "1::2::4::978300760\n1::3::5::yesterday\n", "'timestamp' is not a whole"),
    ("r.csv", "userId,movieId,rating,timestamp\n1,2,4,1.5\n", "'timestamp' is not a whole"),
    ("r.txt", "1,2,4\n", "name a file ending in .parquet"),
    ("missing.csv", None, "Spark cannot read"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD)
def test_bad_ratings_spark_reads_are_one_line_and_nothing_is_written(
    spark, tmp_path: Path, capsys, name: str, text: str | None, message: str
) -> None:
    if text is not None:
        (tmp_path / name).write_text(text)
    assert_refused(capsys, uri(tmp_path / name), tmp_path / "model", message)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"user_id": [1.0, 2.0], "movie_id": [1, 2], "rating": [4.0, 5.0]}, "holds double, not"),
        ({"user_id": [1, 2], "movie_id": [1, 2], "rating": ["4", "5"]}, "'rating'"),
        ({"user_id": [1, None], "movie_id": [1, 2], "rating": [4.0, 5.0]}, "(missing)"),
        ({"user_id": [1, 2], "movie_id": [1, 2], "rating": [4.0, float("nan")]}, "'rating'"),
        ({"userId": [1, 2], "movieId": [1, 2], "rating": [4.0, 5.0], "x": [0, 0]}, "header"),
        (
            {"user_id": pa.array([1, 2**63], pa.uint64()), "movie_id": [1, 2], "rating": [4, 5]},
            "1 value in column 'user_id' is not a whole number from 0",
        ),
    ],
)
def test_bad_parquet_spark_reads_is_one_line(
    spark, tmp_path: Path, capsys, columns: dict, message: str
) -> None:
    pq.write_table(pa.table(columns), tmp_path / "r.parquet")
    assert_refused(capsys, uri(tmp_path / "r.parquet"), tmp_path / "model", message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-rating", "6"], "outside r.csv's rating scale (0 to 5)"),
        (["--weighting", "bm25"], "pick --weighting rating or binary"),
        (["--preset", "als-tuned"], "--engine spark trains spark-als"),
        (["--dataset", "ml-latest-small"], "not both"),
        (["--movies", "file:///nonexistent/movies.csv"], "Input path does not exist"),
        (
            ["--movies", "/nonexistent/movies.csv"],
            "--movies /nonexistent/movies.csv does not exist",
        ),
        (
            ["--movies", "file:///nonexistent/movies.txt"],
            "--movies file:///nonexistent/movies.txt: name",
        ),
    ],
)
def test_bad_options_with_a_uri_are_one_line(
    spark, files: Path, tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    assert_refused(capsys, uri(files / "r.csv"), tmp_path / "model", message, *args)


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--ratings", "hdfs://nn:8020/r.parquet", "--out", "{tmp}/m"],
        ["stats", "--ratings", "s3a://bucket/r.csv"],
        ["popular", "--ratings", "/tmp/r.csv", "--movies", "gs://bucket/movies.csv"],
        ["recommend-all", "--ratings", "hdfs://nn:8020/r.parquet", "--out", "{tmp}/m"],
    ],
)
def test_only_spark_reads_a_uri(tmp_path: Path, capsys, args: list[str]) -> None:
    code, _, err = run(capsys, *(a.format(tmp=tmp_path) for a in args))
    assert code == 2 and err.count("\n") == 1
    assert "is a URI, which only Spark reads: add --engine spark" in err
    assert not (tmp_path / "m").exists()


def test_spark_trains_the_default_model_up_to_the_dense_limit_and_spark_als_above() -> None:
    from movierec.config import DENSE_ITEMS_LIMIT
    from movierec.settings import catalogue_preset

    assert catalogue_preset(DENSE_ITEMS_LIMIT, spark=True) == "default"
    assert catalogue_preset(DENSE_ITEMS_LIMIT + 1, spark=True) == "spark-als"


def test_the_filter_compares_as_the_local_one(spark, tmp_path: Path, capsys) -> None:
    """Ratings are float32: 3.3 is kept by --min-rating 3.3 (compared as doubles it would fall
    below), and uint64 ids within int64 are ids, as in a local read."""
    table = pa.table(
        {
            "user_id": pa.array([1, 1, 2, 2], pa.uint64()),
            "movie_id": [1, 2, 1, 2],
            "rating": pa.array([3.3, 3.2, 3.3, 4.0], pa.float32()),
        }
    )
    pq.write_table(table, tmp_path / "r.parquet")
    local, remote = tmp_path / "local", tmp_path / "remote"
    common = ["--min-rating", "3.3", "--preset", "ease-tuned"]
    code, _, err = run(
        capsys, "train", "--ratings", str(tmp_path / "r.parquet"), *common, "--out", str(local)
    )
    assert code == 0, err
    code, _, err = run(
        capsys, "train", "--engine", "spark", "--ratings", uri(tmp_path / "r.parquet"), *common,
        "--out", str(remote),
    )  # fmt: skip
    assert code == 0, err
    meta_l, meta_r = (json.loads((f / "meta.json").read_text()) for f in (local, remote))
    assert meta_r["summary"] == meta_l["summary"]
    assert meta_r["summary"]["stats"]["ratings_kept"] == 3


def test_recommend_all_from_a_uri_is_the_local_batch_of_the_same_model(
    spark, files: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch job with the ratings read by Spark (blocks built and ranked on executors)
    writes the file a local run writes for the same model and ratings, byte for byte; blocks
    of 16 users, so that there are several, and users rated below --min-rating only."""
    from movierec import Recommender, load_dataset
    from movierec.batch import recommend_all

    monkeypatch.setattr("movierec.batch.BLOCK_USERS", 16)
    model, remote, local = tmp_path / "m", tmp_path / "remote.parquet", tmp_path / "local.parquet"
    ratings = uri(files / "r.parquet")
    common = ["--engine", "spark", "--ratings", ratings]
    assert run(capsys, "train", *common, "--min-rating", "4", "--out", str(model))[0] == 0
    code, out, err = run(
        capsys, "recommend-all", *common, "--model", str(model), "-n", "7", "--out", str(remote),
        "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["users"] > 16 * 5
    rec = Recommender.load(model)
    here = load_dataset(ratings=files / "r.parquet")  # the same ratings, read here
    recommend_all(Recommender(rec.trained, here), 7, local)
    assert remote.read_bytes() == local.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "{model}", "--ratings", "{other}"], "holds other ratings than the model"),
        (["--ratings", "{ratings}"], "takes the model trained on it (--model DIR)"),
        (["--model", "{model}", "--ratings", "{ratings}", "-d", "ml-1m"], "no --dataset"),
        (["--model", "{local}", "--ratings", "{ratings}"], "trained on ratings read here, not"),
    ],
)
def test_recommend_all_from_a_uri_refuses_other_ratings_in_one_line(
    spark, files: Path, tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    model = tmp_path / "m"
    common = ["--engine", "spark", "--preset", "ease-tuned"]
    assert (
        run(capsys, "train", *common, "--ratings", uri(files / "r.csv"), "--out", str(model))[0]
        == 0
    )
    lines = (files / "r.csv").read_text().splitlines()
    (tmp_path / "edited").mkdir()
    (tmp_path / "edited" / "r.csv").write_text("\n".join(lines[:-1]) + "\n")  # one fewer
    other = uri(tmp_path / "edited" / "r.csv")
    local = tmp_path / "local"
    assert run(capsys, "train", "--preset", "ease-tuned", "--ratings", str(files / "r.csv"),
               "--out", str(local))[0] == 0  # fmt: skip
    values = {"model": model, "ratings": uri(files / "r.csv"), "other": other, "local": local}
    out = tmp_path / "recs.parquet"
    code, stdout, err = run(
        capsys, "recommend-all", "--engine", "spark", *(a.format(**values) for a in args),
        "--out", str(out),
    )  # fmt: skip
    assert code == 2 and stdout == "" and message in err.splitlines()[-1], err
    assert not out.exists()


def test_a_filesystem_spark_has_no_connector_for_is_named(spark, tmp_path: Path, capsys) -> None:
    assert_refused(capsys, "s3a://bucket/r.csv", tmp_path / "m", "S3AFileSystem not found")


def test_the_python_api_trains_from_a_uri_with_or_without_settings(spark, files: Path) -> None:
    from movierec import Recommender, Settings

    default = Recommender.train_on_spark(uri(files / "r.parquet"), min_rating=4)
    assert default.settings.model == "ease" and default.settings.min_rating == 4
    assert default.settings == Settings.preset("default", min_rating=4)
    tuned = Recommender.train_on_spark(
        uri(files / "r.csv"), Settings.preset("ease-tuned"), movies=str(files / "movies.csv")
    )
    assert tuned.settings == Settings.preset("ease-tuned")
    kept = [rec.summary()["stats"]["ratings_kept"] for rec in (default, tuned)]
    assert kept[0] < kept[1]  # fewer ratings are 4 or more
    assert tuned.movie(int(tuned.items.ids[-1])).title  # titles from the movies file
    assert [s.movie.movie_id for s in tuned.recommend([1, 260], n=3)]


def test_ctrl_c_during_a_spark_job_is_one_line_and_exit_130(
    spark, files: Path, tmp_path: Path
) -> None:
    """pyspark's own SIGINT handler calls the JVM from inside the signal and py4j logs the
    broken call's tracebacks; the CLI keeps its handler: one line, exit 130, no model, no JVM
    left behind (it stops at exit)."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "m"
    command = [sys.executable, "-m", "movierec.cli", "train", "--engine", "spark"]
    command += ["--ratings", uri(files / "r.csv"), "--out", str(out)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # the JVM is up once movierec starts reading
        seen.append(line)
        if line.startswith("movierec: reading"):
            break
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=120)[1]
    err = "".join(seen) + rest
    assert process.returncode == 130, err
    assert err.splitlines()[-1] == "movierec: interrupted", err
    assert "Traceback" not in err and "ERROR" not in err, err
    assert not out.exists()
