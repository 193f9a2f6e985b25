"""The command line on the bundled dataset: JSON shapes, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from movierec.cli import main

SMALL = ["--dataset", "ml-latest-small"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *args: str):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "als"
    args = ["train", *SMALL, "--out", str(out), "--preset", "als-tuned", "--iterations", "4"]
    assert main(args) == 0
    return out


def test_stats_json(capsys) -> None:
    data = run_json(capsys, "stats", *SMALL)
    assert set(data) == {
        "dataset",
        "ratings_total",
        "ratings_kept",
        "kept_ratio",
        "users",
        "movies",
    }
    assert data["dataset"] == "ml-latest-small" and data["ratings_total"] == 100_836
    assert data["ratings_kept"] / data["ratings_total"] == pytest.approx(
        data["kept_ratio"], abs=1e-6
    )


def test_popular_json(capsys) -> None:
    data = run_json(capsys, "popular", "-n", "30", *SMALL)
    assert len(data) == 30 and set(data[0]) == {"movie_id", "title", "count"}
    counts = [row["count"] for row in data]
    assert counts == sorted(counts, reverse=True)


def test_search_json(capsys) -> None:
    data = run_json(capsys, "search", "matrix", "-n", "5", *SMALL)
    assert set(data[0]) == {"movie_id", "title", "genres"}
    assert data[0]["title"] == "Matrix, The (1999)" and isinstance(data[0]["genres"], list)


def test_similar_json(capsys, model_dir: Path) -> None:
    data = run_json(capsys, "similar", "Toy Story", "-n", "10", *SMALL, "--model", str(model_dir))
    assert len(data) == 10 and set(data[0]) == {"movie_id", "title", "score"}
    assert all(row["movie_id"] != 1 for row in data)


def test_recommend_json_with_explain(capsys, model_dir: Path) -> None:
    data = run_json(
        capsys,
        "recommend",
        "--like",
        "Toy Story",
        "--like",
        "The Matrix",
        "-n",
        "10",
        "--explain",
        *SMALL,
        "--model",
        str(model_dir),
    )
    assert len(data) == 10 and set(data[0]) == {"movie_id", "title", "score", "because"}
    assert {row["title"] for row in data}.isdisjoint({"Toy Story (1995)", "Matrix, The (1999)"})


def test_score_json(capsys, model_dir: Path) -> None:
    data = run_json(
        capsys, "score", "Toy Story 2", "--like", "Toy Story", *SMALL, "--model", str(model_dir)
    )
    assert set(data) == {"movie_id", "title", "score", "liked"}
    assert data["title"] == "Toy Story 2 (1999)" and data["liked"] is False


def test_recommend_without_model_trains_and_caches(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path))
    first = run_json(capsys, "recommend", "--like", "Toy Story", "-n", "3", *SMALL)
    assert list((tmp_path / "models").iterdir())
    assert run_json(capsys, "recommend", "--like", "Toy Story", "-n", "3", *SMALL) == first


def test_train_json_reports_settings(capsys, tmp_path) -> None:
    data = run_json(
        capsys,
        "train",
        *SMALL,
        "--out",
        str(tmp_path / "m"),
        "--preset",
        "notebook",
        "--iterations",
        "2",
        "--factors",
        "16",
    )
    assert data["settings"]["params"]["factors"] == 16
    assert data["settings"]["params"]["regularization"] == 0.001


def test_demo_json_tells_the_whole_story(capsys) -> None:
    data = run_json(capsys, "demo", *SMALL, "-n", "5")
    assert {"stats", "popular", "favourites", "score", "similar", "recommended", "overlap"} <= set(
        data
    )
    assert len(data["popular"]) == 30 and len(data["recommended"]) == 5
    # The course's five (Toy Story first), and step 5 finds Toy Story 2 beside Toy Story.
    assert [m["movie_id"] for m in data["favourites"]] == [1, 2, 1580, 6, 7]
    assert 3114 in [m["movie_id"] for m in data["similar"][:3]]
    liked = {m["movie_id"] for m in data["favourites"]}
    assert liked.isdisjoint(
        r["movie_id"] for r in data["recommended"] + data["recommended_trained_in"]
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["similar", "Qwzxy Plorb", *SMALL], "no movie matches"),
        (["similar", "Star Wars", *SMALL], "give more of the title"),
        (["popular", "-n", "0", *SMALL], "from 1 to"),
        (["popular", "-n", "many", *SMALL], "Invalid value"),
        (["stats", "--dataset", "ml-2m"], "unknown dataset"),
        (["stats", "--data-dir", "/nonexistent/dir"], "does not exist"),
        (["recommend", "-n", "3", *SMALL], "--like"),
        (["train", "--preset", "fastest", "--out", "/tmp/x", *SMALL], "unknown preset"),
        (["bogus"], "No such command"),
    ],
)
def test_errors_are_one_line_exit_2(capsys, args: list[str], needle: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_corrupt_model_dir_is_one_line(capsys, tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text("{")
    code, _, err = run(capsys, "similar", "Toy Story", *SMALL, "--model", str(tmp_path))
    assert code == 2 and "corrupt" in err and len(err.strip().splitlines()) == 1


def test_malformed_data_file_is_one_line(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::1::5\n1,2,3\n")
    (folder / "movies.dat").write_text("1::Toy Story (1995)::Comedy\n")
    code, _, err = run(capsys, "stats", "--dataset", "ml-1m", "--data-dir", str(tmp_path))
    assert code == 2 and "line 2" in err and len(err.strip().splitlines()) == 1


def test_console_script_exit_code() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "movierec.cli", "similar", "Qwzxy Plorb", *SMALL],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_help_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "movierec.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    for command in ("stats", "popular", "search", "similar", "recommend", "score", "train", "demo"):
        assert command in result.stdout


def test_version_is_the_installed_one(capsys) -> None:
    from importlib.metadata import version

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out == f"movierec {version('movierec')}\n"


def test_gpu_without_cuda_is_one_line(capsys, tmp_path: Path) -> None:
    import implicit.gpu

    if implicit.gpu.HAS_CUDA:
        pytest.skip("this machine has CUDA; the error path is for machines without it")
    code, _, err = run(capsys, "train", *SMALL, "--gpu", "--out", str(tmp_path / "m"))
    assert code == 2 and "CUDA" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()
