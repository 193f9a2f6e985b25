"""Apache Spark as an engine (``--engine spark``): MLlib ALS trained in Spark serves as a normal
saved model, fold-in follows Spark's objective, and ``recommend-all`` writes the same file with or
without Spark. One local[2] session (conftest's ``spark``) serves every Spark test: starting one
takes seconds.

These tests need pyspark and Java (``pip install 'movierec[spark]'``); CI installs both and sets
``MOVIEREC_REQUIRE_SPARK``, so there a missing Spark fails instead of skipping.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import require_spark_or_skip

from movierec.cli import main
from movierec.errors import MovieRecError

SMALL = ["--dataset", "ml-latest-small"]
QUICK = ["--factors", "8", "--iterations", "3"]


@pytest.fixture(scope="module")
def spark_model(spark, tmp_path_factory) -> Path:
    """ml-latest-small trained by `movierec train --engine spark --preset spark-als`."""
    out = tmp_path_factory.mktemp("spark") / "model"
    args = ["train", *SMALL, "--engine", "spark", "--preset", "spark-als", *QUICK, "--out"]
    assert main([*args, str(out)]) == 0
    return out


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_fold_in_gives_back_sparks_own_user_factors(spark_model: Path, small) -> None:
    """Spark solves the users last, so folding a training user back in with the learned item
    factors must reproduce Spark's factors: the NumPy fold-in has Spark's objective (confidence
    1 + α·r, λ scaled by the user's rating count)."""
    from movierec import Recommender
    from movierec.models import SparkALS

    rec = Recommender.load(spark_model, small)
    model, rows = rec.model, rec.interactions.matrix[:50]
    assert isinstance(model, SparkALS)
    trained = np.asarray(model.user_factors)[:50]
    np.testing.assert_allclose(model.fold_in_factors(rows), trained, rtol=1e-3, atol=1e-5)
    # implicit's objective (one λ, confidence α·r) would not give them back
    params = {**model.get_params(), "regularization": model.regularization * 20}
    other = SparkALS(**params).set_factors(model.user_factors, model.item_factors)
    assert not np.allclose(other.fold_in_factors(rows), trained, rtol=1e-3, atol=1e-5)


def test_nonnegative_fold_in_solves_sparks_constrained_problem() -> None:
    """With ``nonnegative`` Spark solves each user's normal equations under x ≥ 0 (NNLS); the
    fold-in meets that problem's optimality conditions: A x − b is zero where x > 0 and ≥ 0
    where x = 0 (no Spark needed: the factors are given)."""
    from movierec.models import SparkALS

    rng = np.random.default_rng(5)
    items = rng.normal(size=(30, 6)).astype(np.float32)
    model = SparkALS(factors=6, regularization=0.1, alpha=2.0, nonnegative=True)
    model.set_factors(np.abs(rng.normal(size=(4, 6))).astype(np.float32), items)
    liked, values = np.array([1, 4, 9, 17]), np.array([5.0, 3.0, 4.0, 5.0], dtype=np.float32)
    x = model._fold_in_row(liked, values)
    a, weights = model._system(liked, values)
    gradient = a @ x - model._items64[liked].T @ weights
    assert (x >= 0).all() and (x == 0).any()  # the constraint binds here
    np.testing.assert_allclose(gradient[x > 0], 0.0, atol=1e-8)
    assert (gradient[x == 0] >= -1e-8).all()


def test_spark_trained_model_answers_without_spark(spark_model: Path) -> None:
    """The saved model is an ordinary bundle: a fresh process answers recommend from it
    without importing pyspark."""
    code = (
        "import sys, json; from movierec.cli import main; "
        f"rc = main(['recommend', '--model', {str(spark_model)!r}, '--like', 'Toy Story', "
        "'--like', 'The Matrix', '-n', '3', '--json']); "
        "assert 'pyspark' not in sys.modules, 'pyspark was imported'; sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 3 and all(r["movie_id"] not in (1, 2571) for r in results)
    meta = json.loads((spark_model / "meta.json").read_text())
    assert meta["settings"]["model"] == "spark-als"
    assert meta["settings"]["params"]["factors"] == 8


def test_recommend_all_is_the_same_file_with_or_without_spark(
    spark_model: Path, tmp_path: Path, capsys, small
) -> None:
    local, distributed = tmp_path / "local.parquet", tmp_path / "spark.parquet"
    common = ["recommend-all", *SMALL, "--model", str(spark_model), "-n", "5"]
    assert run(capsys, *common, "--out", str(local))[0] == 0
    assert run(capsys, *common, "--engine", "spark", "--out", str(distributed))[0] == 0
    assert local.read_bytes() == distributed.read_bytes()

    from movierec import Recommender

    recs = pd.read_parquet(local)
    rec = Recommender.load(spark_model, small)
    assert list(recs.columns) == ["user_id", "rank", "movie_id", "score"]
    assert len(recs) == 5 * len(rec.users)
    for user_id in (1, int(rec.users.ids[-1])):
        expected = rec.recommend_for_user(user_id, n=5)
        mine = recs[recs.user_id == user_id].sort_values("rank")
        assert mine.movie_id.tolist() == [s.movie.movie_id for s in expected]
        np.testing.assert_allclose(mine.score, [s.score for s in expected], rtol=1e-5)


def test_the_default_model_built_on_spark_is_the_local_fit(spark) -> None:
    """The EASE family on Spark: the Gram matrix summed over partitions, then the same solve
    (user weighting and low-pass filter included): the same weights as a local fit."""
    from movierec.config import PRESETS
    from movierec.models import EASE, make_model
    from movierec.spark.engine import fit

    rng = np.random.default_rng(3)
    matrix = sp.csr_matrix((rng.random((400, 120)) < 0.08).astype(np.float32))
    params = {k: v for k, v in PRESETS["default"].items() if k not in ("model", "weighting")}
    params["lowpass_rank"] = 16
    local = make_model("ease", **params).fit(matrix)
    on_spark = fit(make_model("ease", **params), matrix, None)
    assert isinstance(on_spark, EASE)
    np.testing.assert_allclose(on_spark.weights, local.weights, rtol=1e-4, atol=1e-6)
    assert np.abs(local.weights).max() > 0.01  # a model, not zeros on both sides


def test_evaluation_fits_spark_als_with_spark(spark, small) -> None:
    """`movierec evaluate --models spark-als` fits it through the Spark engine (the model
    alone cannot), on the session already running."""
    from movierec.evaluation import evaluate, get_protocol, parse_model_spec

    spec = parse_model_spec("spark-als:factors=4:iterations=2")
    result = evaluate(small, get_protocol("recbole"), [spec])
    assert 0 < result.summary(spec.label, "ndcg", 10).mean < 1


def test_the_spark_als_model_imports_no_spark() -> None:
    """models/ never imports spark/: SparkALS holds and serves factors and, fitted without the
    Spark engine, says how to train it, in a process that never loads movierec.spark."""
    code = (
        "import sys, numpy as np, scipy.sparse as sp; "
        "from movierec.errors import MovieRecError; from movierec.models import make_model; "
        "model = make_model('spark-als', factors=2); "
        "model.set_factors(np.ones((3, 2), np.float32), np.eye(4, 2, dtype=np.float32)); "
        "assert model.fold_in_scores(sp.csr_matrix(np.eye(1, 4))).shape == (1, 4)\n"
        "try: model.fit(sp.csr_matrix(np.eye(3, 4)))\n"
        "except MovieRecError as error: print(error)\n"
        "assert not [m for m in sys.modules if m.startswith(('movierec.spark', 'pyspark'))]"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "spark-als is trained by Spark: train it with --engine spark "
        "(in Python, movierec.spark.engine.fit)\n"
    )


def test_recommend_all_never_overwrites_a_file_it_did_not_write(
    spark_model: Path, tmp_path: Path, capsys
) -> None:
    mine = tmp_path / "mine.parquet"
    mine.write_text("my notes\n")
    code, _, err = run(
        capsys, "recommend-all", *SMALL, "--model", str(spark_model), "--out", str(mine)
    )
    assert code == 2 and err.count("\n") == 1 and "not written by movierec" in err
    assert mine.read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.parquet"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "spark", "--preset", "als-tuned"], "--engine spark trains spark-als"),
        (["--spark-master", "local[1]", "--preset", "spark-als"], "needs --engine spark"),
        (["--preset", "spark-als"], "spark-als is trained by Spark: add --engine spark"),
        (["--engine", "flink"], "unknown engine"),
    ],
)
def test_engine_mistakes_are_one_line_before_any_work(
    args: list[str], message: str, tmp_path: Path, capsys
) -> None:
    code, _, err = run(capsys, "train", *SMALL, "--out", str(tmp_path / "m"), *args)
    assert code == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "m").exists()


def test_without_pyspark_or_java_the_error_says_what_to_install(monkeypatch) -> None:
    from movierec.spark.session import require_spark

    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark → ImportError
    with pytest.raises(MovieRecError, match=r"pip install 'movierec\[spark\]'"):
        require_spark()
    monkeypatch.undo()
    require_spark_or_skip()  # pyspark is here: now without Java
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MovieRecError, match="needs Java 17"):
        require_spark()


def test_other_commands_never_import_pyspark(tmp_path: Path) -> None:
    code = (
        "import sys; import movierec; from movierec.cli import main; "
        "main(['stats', '--dataset', 'ml-latest-small', '--json']); "
        "assert 'pyspark' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# ---- Spark's noise: movierec's one line first and alone, no JVM left behind ----------------


@pytest.mark.parametrize(
    "args,message",
    [
        (["--spark-master", "bogus"], "unknown Spark master 'bogus'"),
        (["--spark-master", "local[x]"], "unknown Spark master"),
        (["--spark-master", "local[2"], "unknown Spark master"),
        (["--spark-master", "http://host:7077"], "unknown Spark master"),
        (["--spark-master", "spark:/host"], "unknown Spark master"),
    ],
)
@pytest.mark.parametrize("command", ["train", "recommend-all"])
def test_a_bad_spark_master_is_one_line_before_spark_starts(
    args: list[str], message: str, command: str, tmp_path: Path, capsys
) -> None:
    out = tmp_path / ("m" if command == "train" else "r.parquet")
    code, _, err = run(capsys, command, *SMALL, "--engine", "spark", *args, "--out", str(out))
    assert (code, err.count("\n")) == (2, 1), err
    assert err.startswith("movierec: error: ") and message in err
    assert not out.exists()


@pytest.mark.parametrize("memory", ["bogus", "2 gigs", "-1g", "2gg", "1.5g", ""])
def test_a_bogus_driver_memory_is_one_line_before_spark_starts(
    memory: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("MOVIEREC_SPARK_DRIVER_MEMORY", memory)
    out = tmp_path / "m"
    code, _, err = run(capsys, "train", *SMALL, "--engine", "spark", "--out", str(out))
    assert (code, err.count("\n")) == (2, 1), err
    assert "MOVIEREC_SPARK_DRIVER_MEMORY" in err and "not an amount of memory" in err
    assert not out.exists()


def _descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (Linux: read from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _is_java(pid: int) -> bool:
    try:
        return b"java" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a parent that never reaps it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _spark_child(tmp_path: Path, data: Path, *args: str, **env: str) -> subprocess.Popen:
    """``movierec train --engine spark`` on ``data`` in a child, its temporary files (Spark's
    log among them) in ``tmp_path/tmp``."""
    import os

    (tmp_path / "tmp").mkdir()
    environment = {
        **os.environ,
        "TMPDIR": str(tmp_path / "tmp"),
        "MOVIEREC_CACHE_DIR": str(tmp_path / "cache"),
        "MOVIEREC_DATA_DIR": str(data),
        **env,
    }
    program = Path(sys.executable).with_name("movierec")
    command = [str(program), "train", "-d", "ml-1m", "--engine", "spark", *args]
    return subprocess.Popen(
        [*command, "--out", str(tmp_path / "out")],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture()
def tiny_ml1m(tmp_path: Path) -> Path:
    from conftest import write_dat_dataset

    ratings = [f"{u}::{m}::{(u * m) % 5 + 1}" for u in range(1, 60) for m in range(1, 5)]
    write_dat_dataset(tmp_path / "data", ratings)
    return tmp_path / "data"


@pytest.mark.slow  # starts a JVM that cannot start
def test_a_jvm_that_cannot_start_is_one_line_naming_spark_s_log(
    tmp_path: Path, tiny_ml1m: Path
) -> None:
    require_spark_or_skip()
    child = _spark_child(tmp_path, tiny_ml1m, MOVIEREC_SPARK_DRIVER_MEMORY="999999t")
    _, err = child.communicate(timeout=300)
    assert child.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("movierec: error: Spark did not start"), err
    log = Path(err.rsplit("Spark's log: ", 1)[1].strip())
    assert log.parent == tmp_path / "tmp" and log.read_text().strip()  # the JVM's own words
    assert [p.name for p in (tmp_path / "tmp").iterdir()] == [log.name]  # nothing else kept


@pytest.mark.slow  # a Spark session per case
@pytest.mark.parametrize("after", [0.0, 2.0, 5.0], ids=["JVM starting", "2 s on", "5 s on"])
@pytest.mark.parametrize("signum", [2, 15], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_spark_fit_says_only_movierec_s_line_and_ends_its_jvm(
    tmp_path: Path, tiny_ml1m: Path, after: float, signum: int
) -> None:
    """The signal lands as the JVM starts or while Spark works: exit 130/143 and
    ``movierec: interrupted`` alone (no Java or py4j stack traces after it), no JVM or Python
    worker of Spark's left running, and Spark's temporary files gone."""
    import time

    require_spark_or_skip()
    child = _spark_child(tmp_path, tiny_ml1m)
    try:
        deadline = time.monotonic() + 240
        while not any(_is_java(pid) for pid in _descendants(child.pid)):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "Spark never started"
            time.sleep(0.05)
        time.sleep(after)
        below = _descendants(child.pid)
        finished = child.poll() is not None
        child.send_signal(signum)
        out, err = child.communicate(timeout=240)
    finally:
        if child.poll() is None:
            child.kill()
    if finished:  # done before the signal
        assert child.returncode == 0, err
    else:
        assert child.returncode == 128 + signum, err
        lines = err.splitlines()
        assert lines[-1] == "movierec: interrupted", err
        assert all(line.startswith("movierec: ") and "error" not in line for line in lines), err
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in below if _alive(pid)], "a JVM or a Spark worker outlived movierec"
    assert list((tmp_path / "tmp").iterdir()) == []
