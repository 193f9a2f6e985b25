"""A saved model is self-contained: with the ratings file gone, every command that serves it
answers from the model's folder alone, the same as with the ratings there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from movierec import Recommender
from movierec.cli import main
from movierec.errors import ModelError
from movierec.web import create_app

SMALL = ["--dataset", "ml-latest-small"]
QUERIES = [
    ["recommend", "--like", "Toy Story", "--like", "Heat", "-n", "5", "--explain"],
    ["similar", "The Matrix", "-n", "5"],
    ["score", "Toy Story 2", "--like", "Toy Story"],
    ["search", "star wars", "-n", "5"],
    ["popular", "-n", "5"],
]


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> tuple[Path, Path]:
    """A data dir holding a copy of the bundled data, and a model trained on it."""
    from movierec.datasets.fetch import BUNDLED_DIR

    root = tmp_path_factory.mktemp("self-contained")
    shutil.copytree(BUNDLED_DIR / "ml-latest-small", root / "data" / "ml-latest-small")
    model = root / "model"
    args = ["train", *SMALL, "--data-dir", str(root / "data"), "--preset", "als-sparse"]
    assert main([*args, "--iterations", "3", "--out", str(model)]) == 0
    return root / "data", model


def answers(capsys, data: Path, model: Path) -> list[object]:
    out = []
    for query in QUERIES:
        code = main([*query, *SMALL, "--data-dir", str(data), "--model", str(model), "--json"])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        out.append(json.loads(captured.out))
    return out


def test_commands_answer_the_same_without_the_ratings(capsys, copies, monkeypatch) -> None:
    data, model = copies
    with_ratings = answers(capsys, data, model)
    ratings = data / "ml-latest-small" / "ratings.csv"
    moved = ratings.with_suffix(".moved")
    ratings.rename(moved)
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(data.parent / "empty-cache"))  # no parsed copy
    try:
        assert answers(capsys, data, model) == with_ratings
        code = main(["recommend", "--like", "Heat", "--model", str(model), "--json"])
        assert code == 0  # no --dataset either: the model knows its data
    finally:
        moved.rename(ratings)


def test_the_web_app_serves_without_the_ratings(copies) -> None:
    _, model = copies
    recommender = Recommender.load(model)
    with TestClient(create_app(recommender)) as client:
        stats = client.get("/api/stats").json()
        assert stats["dataset"] == "ml-latest-small" and stats["ratings_total"] == 100_836
        assert sum(r["all"] for r in stats["rating_distribution"]) == 100_836
        liked = client.get("/api/movies/search", params={"q": "Toy Story"}).json()[0]
        answer = client.post("/api/recommend", json={"liked": [liked["movie_id"]], "n": 3})
        assert answer.status_code == 200 and len(answer.json()) == 3


def test_what_needs_the_ratings_says_so(copies) -> None:
    _, model = copies
    recommender = Recommender.load(model)
    with pytest.raises(ModelError, match="needs the ratings of ml-latest-small"):
        recommender.recommend_for_user(1)


def test_another_dataset_named_with_a_model_is_refused(capsys, copies) -> None:
    _, model = copies
    assert main(["similar", "Heat", "-d", "ml-1m", "--model", str(model)]) == 2
    assert "was trained on ml-latest-small, not ml-1m" in capsys.readouterr().err


def test_a_model_without_a_summary_still_loads_with_its_dataset(copies, tmp_path: Path) -> None:
    from movierec import load_dataset

    data, model = copies
    old = tmp_path / "old"
    shutil.copytree(model, old)
    meta = json.loads((old / "meta.json").read_text())
    meta.pop("summary")
    (old / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="older movierec"):
        Recommender.load(old)
    loaded = Recommender.load(old, load_dataset("ml-latest-small", data))
    assert loaded.summary()["stats"]["ratings_total"] == 100_836


def test_the_cached_default_model_answers_without_parsing_the_ratings(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    """The first call trains and caches the default model; later calls find it by the ratings
    file's SHA-256 alone and never parse, map or count the ratings. An edit of the file (same
    size) misses the link and retrains."""
    from movierec.datasets import dataset as dataset_module
    from movierec.datasets.fetch import BUNDLED_DIR

    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DIR / "ml-latest-small", data / "ml-latest-small")
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    query = ["recommend", "--like", "Toy Story", *SMALL, "--data-dir", str(data), "--json"]
    links = tmp_path / "cache" / "models" / "default"
    assert main(query) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert len(list(links.glob("*.json"))) == 1  # trained, cached, linked by the file's digest

    def must_not_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ratings were loaded for a cached default model")

    with monkeypatch.context() as patch:
        patch.setattr(dataset_module, "load_ratings_columns", must_not_load)
        for again in (query, ["similar", "Heat", *SMALL, "--data-dir", str(data), "--json"]):
            assert main(again) == 0, capsys.readouterr().err
            assert capsys.readouterr().err == ""
    ratings = data / "ml-latest-small" / "ratings.csv"
    text = ratings.read_bytes()
    ratings.write_bytes(text.replace(b"1,1,4.0,", b"1,1,5.0,", 1))  # same size, other data
    assert len(ratings.read_bytes()) == len(text)
    with monkeypatch.context() as patch:  # the edited file is parsed (and trained on) again
        loaded = []
        real = dataset_module.load_ratings_columns
        patch.setattr(
            dataset_module,
            "load_ratings_columns",
            lambda *args, **kwargs: loaded.append(1) or real(*args, **kwargs),
        )
        assert main(query) == 0, capsys.readouterr().err
    assert loaded and len(list(links.glob("*.json"))) == 2
