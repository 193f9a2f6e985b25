"""The library decides what the command line only asks for: which settings train a model and on
which engine (``movierec.training``), and which model answers (``movierec.serving``). Each
refusal is one line, made before any data loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec import Recommender, Settings, config
from movierec.errors import MovieRecError, TitleError
from movierec.models.params import ParameterError
from movierec.serving import Source, serving_catalogue, serving_recommender
from movierec.training import TrainingPlan

NOWHERE = Source(ratings="/nonexistent/ratings.csv")
"""Ratings that cannot be read: a plan that refused before loading never notices."""


def bundled(tmp_path: Path) -> Source:
    """The bundled ml-latest-small (an empty data dir: no other copy is looked for)."""
    (tmp_path / "data").mkdir(exist_ok=True)
    return Source("ml-latest-small", tmp_path / "data")


def flag(parameter: str, example: object) -> str:
    return f"pass e.g. --{parameter} {example}"


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"preset": "nope"}, "unknown preset 'nope'; choose one of default, "),
        ({"engine": "flink"}, "unknown engine 'flink'; choose one of local, spark"),
        ({"spark_master": "local[1]"}, "--spark-master needs --engine spark"),
        (
            {"engine": "spark", "preset": "als-tuned"},
            "--engine spark trains spark-als and the EASE family, not als; pick --preset "
            "spark-als or --preset default, or drop --engine spark",
        ),
        # Both wrong: the preset is named first, as `movierec train` always said.
        ({"engine": "flink", "preset": "nope"}, "unknown preset 'nope'"),
        (
            {"preset": "default", "overrides": {"weighting": "tfidf"}},
            "unknown weighting 'tfidf'; choose one of ",
        ),
    ],
)
def test_a_plan_refuses_in_one_line_before_any_data_loads(plan: dict, message: str) -> None:
    with pytest.raises(MovieRecError) as caught:
        TrainingPlan(**plan).run(NOWHERE)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_an_out_folder_it_may_not_replace_is_refused_before_the_preset(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(MovieRecError, match="holds no movierec model"):
        TrainingPlan(preset="nope", out=tmp_path)


def test_an_overridden_value_is_refused_in_the_callers_words() -> None:
    overrides = {"factors": 0}
    with pytest.raises(ParameterError) as caught:
        TrainingPlan("als-tuned", overrides, hint=flag)
    assert str(caught.value) == (
        f"factors must be a whole number from 1 to 4096, got 0; pass e.g. --factors "
        f"{caught.value.example}"
    )
    with pytest.raises(ParameterError, match="use e.g. factors="):  # no hint: Python's words
        TrainingPlan("als-tuned", overrides)


def test_the_default_preset_depends_on_the_data_and_the_engine(small) -> None:
    """The bundled data (8,452 movies, a dense head) gets default-head locally, Spark's ALS
    with --engine spark; a named preset is used as named, with the overrides."""
    local = TrainingPlan().settings_for(small)
    assert local == Settings.preset(config.DENSE_HEAD_PRESET)
    assert TrainingPlan(engine="spark").settings_for(small).model == "spark-als"
    named = TrainingPlan("als-tuned", {"factors": 8, "min_rating": 4.0}).settings_for(small)
    assert (named.model, named.params["factors"], named.min_rating) == ("als", 8, 4.0)


@pytest.mark.parametrize(
    ("movies", "model"), [(100, "ease"), (config.DENSE_ITEMS_LIMIT + 1, "spark-als")]
)
def test_spark_read_ratings_get_the_default_for_their_catalogue(movies: int, model: str) -> None:
    assert TrainingPlan(engine="spark").settings_for_catalogue(movies).model == model
    assert TrainingPlan("spark-als", engine="spark").settings_for_catalogue(100).model == (
        "spark-als"
    )


def test_only_a_misleading_preset_comes_with_a_warning() -> None:
    assert "overfit" in str(TrainingPlan("notebook").warning)
    assert TrainingPlan("als-tuned").warning is None and TrainingPlan().warning is None


def test_spark_read_ratings_and_a_movielens_dataset_are_not_both_taken() -> None:
    source = Source("ml-1m", ratings="hdfs://namenode/ratings.parquet")
    with pytest.raises(MovieRecError, match=r"give a MovieLens dataset \(ml-1m\) or your own"):
        TrainingPlan(engine="spark").run(source)


def test_a_run_trains_saves_and_reports(tmp_path: Path) -> None:
    plan = TrainingPlan("als-tuned", {"factors": 4, "iterations": 1}, out=tmp_path / "model")
    run = plan.run(bundled(tmp_path))
    assert (
        run.out == tmp_path / "model" and Recommender.load(run.out).settings.params["factors"] == 4
    )
    summary = run.to_dict()
    assert summary["dataset"] == "ml-latest-small" and summary["out"] == str(run.out)
    assert summary["settings"]["model"] == "als" and summary["fit_seconds"] >= 0


@pytest.fixture
def own_model(tmp_path: Path) -> Path:
    """A model trained on your own ratings (mine.csv)."""
    ratings = tmp_path / "mine.csv"
    ratings.write_text("user_id,movie_id,rating\n1,1,5\n1,2,4\n2,1,4\n2,3,5\n3,2,5\n3,3,4\n")
    plan = TrainingPlan("als-tuned", {"factors": 2, "iterations": 1}, out=tmp_path / "own")
    return Path(str(plan.run(Source(ratings=str(ratings))).out))


def test_a_model_of_your_own_ratings_asks_for_them(own_model: Path) -> None:
    with pytest.raises(MovieRecError) as caught:
        Source().of_model(own_model)
    assert str(caught.value) == (
        f"--model {own_model} was trained on your own ratings (mine.csv); name them with "
        "--ratings (and --movies, if it had titles)"
    )


def test_a_saved_model_answers_only_for_its_own_dataset(tmp_path: Path, small_recommender) -> None:
    model = small_recommender.save(tmp_path / "model")
    assert serving_recommender(Source(), model=model).dataset.name == "ml-latest-small"
    with pytest.raises(MovieRecError) as caught:
        serving_recommender(Source("ml-100k"), model=model)
    assert str(caught.value) == (
        f"--model {model} was trained on ml-latest-small, not ml-100k; drop --dataset, or pick "
        "a model of that dataset"
    )
    assert Source().of_model(model) == Source("ml-latest-small")


def test_a_title_typo_fails_before_the_default_model_is_trained(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    source = bundled(tmp_path)
    with pytest.raises(TitleError):
        serving_recommender(source, titles=["Qwzxy Plorb"])
    assert not (tmp_path / "cache" / "models").exists()  # nothing trained, nothing cached


def test_without_a_model_the_catalogue_comes_from_the_ratings(tmp_path: Path, small, monkeypatch):
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    catalogue = serving_catalogue(bundled(tmp_path), 4.0)
    ids, counts = catalogue.most_popular(3)
    kept = small.ratings[small.ratings["rating"] >= 4.0]["movie_id"].value_counts()
    assert list(counts) == list(kept.iloc[:3]) and kept[int(ids[0])] == counts[0]
