"""A real Spark cluster, not local mode: a standalone master and two workers on 127.0.0.1,
started from the pyspark install, train a model through ``--spark-master spark://…``.

Steps: start ``org.apache.spark.deploy.master.Master`` and two ``…deploy.worker.Worker`` (one
core, 1 GiB each) with ``spark-class``; wait until the master lists both workers (its JSON page);
``movierec train -d ml-latest-small --engine spark --spark-master spark://127.0.0.1:PORT --preset
spark-als --out DIR``; ``movierec recommend --model DIR`` (no Spark: the bundle answers alone);
``movierec recommend-all --engine spark`` on the cluster and without Spark, compared byte for
byte; ``movierec train --ratings file://… --movies file://…`` on the cluster, the executors
reading the files themselves (as they would ``hdfs://``), its users, movies, catalogue and data
summary compared with the first model's, its ``recommend-all --ratings file://…`` (the
executors read the ratings and rank the users) compared byte for byte with a local run of the
same model, and its model asked to ``recommend``; then stop the
daemons and remove their folders (also on failure or Ctrl+C).

Too slow for CI (a cluster's JVMs take a minute to start on 2 cores): run it by hand,
``python bench/bench_spark_cluster.py``. Prints each step's time and writes
``bench/results/spark_cluster.json``; exits 1 if a check fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_web_load import free_port

RESULTS = Path(__file__).parent / "results" / "spark_cluster.json"
HOST = "127.0.0.1"
WORKERS = 2
LIKES = ["--like", "Toy Story", "--like", "The Matrix", "--like", "Fargo"]


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def daemon(cls: str, args: list[str], folder: Path, name: str) -> subprocess.Popen[bytes]:
    """One Spark daemon in the foreground of its own process group, logging to ``folder``."""
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": HOST,
        "SPARK_LOG_DIR": str(folder),
        "SPARK_NO_DAEMONIZE": "1",
    }
    log = (folder / f"{name}.log").open("wb")
    return subprocess.Popen(
        [str(spark_home() / "bin" / "spark-class"), cls, *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def cluster(folder: Path) -> Iterator[tuple[str, dict[str, float]]]:
    """A master and ``WORKERS`` workers; yields the master URL and start-up times."""
    port, ui = free_port(), free_port()
    started = time.perf_counter()
    processes = [
        daemon(
            "org.apache.spark.deploy.master.Master",
            ["--host", HOST, "--port", str(port), "--webui-port", str(ui)],
            folder,
            "master",
        )
    ]
    url = f"spark://{HOST}:{port}"
    try:
        for index in range(WORKERS):
            work = folder / f"worker{index}"
            work.mkdir()
            args = [url, "--host", HOST, "--cores", "1", "--memory", "1g"]
            args += ["--webui-port", str(free_port()), "--work-dir", str(work)]
            processes.append(
                daemon("org.apache.spark.deploy.worker.Worker", args, folder, f"worker{index}")
            )
        alive = wait_for_workers(ui, processes)
        yield url, {"cluster_ready_s": round(time.perf_counter() - started, 2), "workers": alive}
    finally:
        for process in reversed(processes):
            stop(process)


def wait_for_workers(
    ui: int, processes: list[subprocess.Popen[bytes]], timeout: float = 180
) -> int:
    """Poll the master's JSON page until every worker is ALIVE; the number alive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a Spark daemon exited; see its log")
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(f"http://{HOST}:{ui}/json/", timeout=5) as page:
                state = json.load(page)
            alive = sum(w.get("state") == "ALIVE" for w in state.get("workers", []))
            if alive >= WORKERS:
                return alive
        time.sleep(1)
    raise RuntimeError(f"the workers did not register within {timeout:.0f} s")


def movierec(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "movierec.cli", *args], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"movierec {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return seconds, done


def same_vocabularies(model: Path, other: Path) -> bool:
    """Whether two saved models have the same users, movies, catalogue and data summary (the
    dataset's name aside)."""
    import numpy as np

    arrays = [np.load(folder / "arrays.npz") for folder in (model, other)]
    metas = [json.loads((folder / "meta.json").read_text()) for folder in (model, other)]
    catalogues = [(folder / "catalogue.json").read_text() for folder in (model, other)]
    return (
        all(np.array_equal(arrays[0][k], arrays[1][k]) for k in ("user_ids", "item_ids"))
        and metas[0]["summary"]["ratings"] == metas[1]["summary"]["ratings"]
        and all(
            metas[0]["summary"]["stats"][k] == metas[1]["summary"]["stats"][k]
            for k in metas[0]["summary"]["stats"]
            if k != "dataset"  # a MovieLens release's name, or the file's
        )
        and catalogues[0] == catalogues[1]
    )


def local_batch(model: Path, ratings: Path, out: Path) -> bytes:
    """The file ``recommend-all`` writes here, without Spark, for ``model`` and the ratings in
    ``ratings`` read here (the model was trained from a URI: its fingerprint is Spark's)."""
    from movierec import Recommender, load_dataset
    from movierec.batch import recommend_all

    rec = Recommender.load(model)
    here = load_dataset(ratings=ratings)
    recommend_all(Recommender(rec.trained, here), 10, out)
    return out.read_bytes()


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="movierec-spark-cluster-"))
    result: dict[str, Any] = {"workers_requested": WORKERS}
    ok = False
    try:
        with cluster(folder) as (url, startup):
            result.update(startup, master=url)
            model = folder / "model"
            seconds, done = movierec(
                "train", "-d", "ml-latest-small", "--engine", "spark", "--spark-master", url,
                "--preset", "spark-als", "--out", str(model), "--json",
            )  # fmt: skip
            result["train_s"] = round(seconds, 2)
            result["fit_s"] = json.loads(done.stdout)["fit_seconds"]
            spark_recs = folder / "spark.parquet"
            seconds, _ = movierec(
                "recommend-all", "-d", "ml-latest-small", "--model", str(model), "--engine",
                "spark", "--spark-master", url, "--out", str(spark_recs),
            )  # fmt: skip
            result["recommend_all_spark_s"] = round(seconds, 2)
            # The executors read the ratings themselves: a file:// URI stands for hdfs://.
            from movierec.datasets.fetch import BUNDLED_DIR

            files = BUNDLED_DIR / "ml-latest-small"
            read_by_spark = folder / "model-uri"
            seconds, done = movierec(
                "train", "--ratings", (files / "ratings.csv").as_uri(), "--movies",
                (files / "movies.csv").as_uri(), "--engine", "spark", "--spark-master", url,
                "--preset", "spark-als", "--out", str(read_by_spark), "--json",
            )  # fmt: skip
            result["train_uri_s"] = round(seconds, 2)
            result["uri_same_vocabularies"] = same_vocabularies(model, read_by_spark)
            uri_recs = folder / "uri.parquet"
            seconds, _ = movierec(
                "recommend-all", "--model", str(read_by_spark), "--ratings",
                (files / "ratings.csv").as_uri(), "--engine", "spark", "--spark-master", url,
                "--out", str(uri_recs),
            )  # fmt: skip
            result["recommend_all_uri_s"] = round(seconds, 2)
            result["uri_same_file"] = uri_recs.read_bytes() == local_batch(
                read_by_spark, files / "ratings.csv", folder / "uri-local.parquet"
            )
        seconds, _ = movierec("recommend", "--model", str(read_by_spark), *LIKES, "--json")
        seconds, done = movierec("recommend", "--model", str(model), *LIKES, "-n", "5", "--json")
        result["recommend_s"] = round(seconds, 2)
        result["recommended"] = [r["title"] for r in json.loads(done.stdout)]
        local_recs = folder / "local.parquet"
        seconds, _ = movierec(
            "recommend-all",
            "-d",
            "ml-latest-small",
            "--model",
            str(model),
            "--out",
            str(local_recs),
        )
        result["recommend_all_local_s"] = round(seconds, 2)
        result["same_file"] = local_recs.read_bytes() == spark_recs.read_bytes()
        ok = len(result["recommended"]) == 5 and result["same_file"]
        ok = ok and result["uri_same_vocabularies"] and result["uri_same_file"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result["passed"] = ok
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
