"""Texts people read say what is true: the model named is the model loaded, a liked movie's
score says it is a like, one run shows no spread, and piped output is never wrapped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from movierec import Recommender, Settings, config
from movierec.cli import main
from movierec.console import table

SMALL = ["--dataset", "ml-latest-small"]
STATIC = Path(__file__).resolve().parents[1] / "src" / "movierec" / "web" / "static"


@pytest.fixture(scope="module")
def quick_als(small) -> Recommender:
    """An ALS model, trained in a moment, to tell apart from the default model's words."""
    return Recommender.train(small, Settings.preset("als-sparse", iterations=2, factors=8))


@pytest.mark.parametrize(
    ("preset", "start"),
    [
        (
            "default",
            "DLAE (λ = 906, dropout 0.414, users weighted, low-pass filtered), ratings as weights",
        ),
        ("ease-lowpass", "EASE (λ = 50, users weighted, low-pass filtered), binary feedback"),
        ("ease-tuned", "EASE (λ = 800), binary feedback"),
        ("als-tuned", "implicit's ALS (256 factors, λ = 46, α = 0.66, 20 iterations), ratings as"),
        ("ials-tuned", "iALS (256 factors"),
        ("bpr-tuned", "implicit's BPR (25 factors"),
        ("notebook", "implicit's ALS (500 factors, λ = 0.001"),
    ],
)
def test_each_preset_describes_its_own_model(preset: str, start: str) -> None:
    assert Settings.preset(preset).describe().startswith(start)


def test_the_description_follows_the_settings() -> None:
    described = Settings.preset("ease-tuned", min_rating=4, weighting="rating").describe()
    assert described == "EASE (λ = 800), ratings as weights, ratings ≥ 4"
    assert Settings(model="itemknn").describe().startswith("item kNN (cosine, 100 neighbours)")


def test_a_loaded_model_describes_itself_as_trained(quick_als, small, tmp_path) -> None:
    loaded = Recommender.load(quick_als.save(tmp_path / "m"), small)
    assert loaded.describe() == quick_als.describe()
    assert loaded.describe().startswith("implicit's ALS (8 factors, λ = 10, α = 0.66, 2 iter")


def test_repr_names_the_model_the_data_and_its_size(quick_als) -> None:
    shown = repr(quick_als)
    assert shown.startswith("Recommender(implicit's ALS (8 factors")
    assert "ml-latest-small" in shown
    assert f"{len(quick_als.users):,} users × {len(quick_als.items):,} movies" in shown


@pytest.mark.slow  # an EASE fit on 8,452 movies
def test_train_says_what_it_trained_in_words(capsys, tmp_path) -> None:
    args = ["train", *SMALL, "--out", str(tmp_path / "m"), "--preset", "ease-tuned"]
    assert main([*args, "--regularization", "500"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Trained EASE (λ = 500), binary feedback, ratings ≥ 3 on ml-latest-small")
    assert "{" not in out  # no raw dict of parameters


@pytest.mark.slow  # an EASE fit on 8,452 movies
def test_train_json_carries_the_description(capsys, tmp_path) -> None:
    args = ["train", *SMALL, "--out", str(tmp_path / "m"), "--preset", "ease-tuned", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["description"].startswith("EASE (λ = 800)")


# ---- a liked movie's score ---------------------------------------------------------------------
def test_score_of_a_liked_movie_says_it_is_one(small_recommender) -> None:
    assert small_recommender.score(["Toy Story"], "Toy Story").liked is True
    assert small_recommender.score(["Toy Story"], "Toy Story 2").liked is False
    assert small_recommender.score(["Toy Story"], "Toy Story").to_dict()["liked"] is True
    assert "liked" not in small_recommender.recommend(["Toy Story"], 1)[0].to_dict()


def test_cli_score_of_a_liked_movie_says_so(capsys) -> None:
    assert main(["score", "Toy Story", "--like", "Toy Story", "--like", "Heat (1995)", *SMALL]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Toy Story (1995): preference score ")
    assert "(one of your likes" in out
    assert main(["score", "Toy Story 2", "--like", "Toy Story", *SMALL]) == 0
    assert "likes" not in capsys.readouterr().out


# ---- the web page and API ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(quick_als) -> Any:
    from fastapi.testclient import TestClient

    from movierec.web import create_app

    with TestClient(create_app(quick_als)) as test_client:
        yield test_client


def test_api_stats_describe_the_served_model(client, quick_als) -> None:
    stats = client.get("/api/stats").json()
    assert stats["model"] == "als"
    assert stats["model_description"] == quick_als.describe()


def test_api_score_of_a_liked_movie_says_so(client) -> None:
    liked = client.post("/api/score", json={"liked": [1, 260], "movie_id": 1}).json()
    other = client.post("/api/score", json={"liked": [1, 260], "movie_id": 3114}).json()
    assert liked["liked"] is True and other["liked"] is False


def test_the_page_names_no_model_of_its_own() -> None:
    """The footer's model and the search box's examples come from the server's data."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    assert "ALS" not in page and "EASE" not in page and "Amélie" not in page
    assert 'id="model-description"' in page
    assert '$("model-description").textContent' in script and "stats.model_description" in script
    assert "suggestTitles(state.popular)" in script


def test_genres_never_break_at_a_hyphen() -> None:
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    style = (STATIC / "style.css").read_text(encoding="utf-8")
    assert 'el("span", "genre", genre)' in script
    assert ".genre { white-space: nowrap; }" in style


# ---- the command line's output -----------------------------------------------------------------
def test_a_piped_table_is_never_wrapped(capsys, monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    long_title = "A Title Long Enough To Wrap At Eighty Columns, Or At A Hundred And Sixty " * 2
    table("Long", ["#", "title"], [[1, long_title.strip()], [2, "Short"]])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 3 + 2 + 1  # title, head (3 lines), two rows, bottom
    assert long_title.strip() in lines[4]


@pytest.mark.slow  # a child process fits the default
def test_piped_command_output_keeps_each_row_on_one_line(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "MOVIEREC_CACHE_DIR": str(tmp_path), "LANG": "C.UTF-8"}
    likes = ["Toy Story", "The Matrix", "Fargo", "Pulp Fiction", "Star Wars: Episode IV"]
    args = [arg for like in likes for arg in ("--like", like)]
    command = [sys.executable, "-m", "movierec.cli", "recommend", *args, "-n", "5", "--explain"]
    done = subprocess.run(
        [*command, *SMALL], capture_output=True, text=True, env=env, timeout=300, check=True
    )
    rows = [line for line in done.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 5  # a wrapped cell would add lines
    assert max(len(line) for line in done.stdout.splitlines()) > 80


# ---- one run has no spread ---------------------------------------------------------------------
def test_evaluate_with_one_seed_shows_no_spread(capsys) -> None:
    assert main(["evaluate", *SMALL, "--protocol", "ratio", "--models", "pop", "--seeds", "1"]) == 0
    out = capsys.readouterr().out
    assert "±" not in out and "one run" in out


def test_evaluate_with_two_seeds_shows_the_spread(capsys) -> None:
    assert main(["evaluate", *SMALL, "--protocol", "ratio", "--models", "pop", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "±" in out and "mean ± std over 2 runs" in out


def test_evaluation_json_says_how_many_runs(capsys) -> None:
    assert main(["evaluate", *SMALL, "--models", "pop", "--seeds", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["protocol"]["runs"] == 1


def test_the_tune_help_names_no_module(capsys) -> None:
    assert main(["tune", "--help"]) == 0
    assert "config." not in capsys.readouterr().out


def test_shipped_presets_are_listed_where_tune_points(capsys) -> None:
    assert main(["train", "--help"]) == 0
    out = "".join(capsys.readouterr().out.split())  # a name may wrap at its hyphen
    assert all(name in out for name in config.PRESETS)


def test_report_of_one_run_shows_no_spread(tmp_path) -> None:
    from movierec.report import charts, parse_evaluation
    from movierec.report.html import evaluation_html

    data = {
        "protocol": {"name": "ratio", "dataset": "ml-latest-small", "seeds": [42], "runs": 1},
        "results": [
            {"model": "pop", "metric": "ndcg", "k": 10, "mean": 0.1, "std": 0.0},
            {"model": "ease", "metric": "ndcg", "k": 10, "mean": 0.2, "std": 0.0},
        ],
    }
    results = parse_evaluation(data)
    assert results.runs() == 1 and results.spread() == "one run, seed 42"
    assert not any("±" in cell for row in results.rows_by_metric()[1] for cell in row)
    section = evaluation_html(results, "evaluation.png")
    assert "one run, seed 42" in section and "error bar" not in section
    figure = charts.evaluation(results)
    title = figure.get_suptitle()
    assert "ml-latest-small, protocol ratio" in title and "one run" in title and "±" not in title
    assert all("±" not in axes.get_ylabel() for axes in figure.axes)


def test_report_of_several_runs_shows_the_spread() -> None:
    from movierec.report import charts, parse_evaluation

    data = {
        "protocol": {"name": "kfold", "split": "kfold", "n_folds": 5, "seeds": [42], "k": [10]},
        "results": [{"model": "pop", "metric": "ndcg", "k": 10, "mean": 0.1, "std": 0.01}],
    }
    results = parse_evaluation(data)
    assert results.runs() == 5  # an older file without "runs": seeds × folds
    assert results.rows_by_metric()[1][0][1] == "0.1000 ± 0.0100"
    assert "mean ± std over 5 runs" in charts.evaluation(results).get_suptitle()


def test_plots_of_one_run_say_so(small) -> None:
    from movierec.evaluation import evaluate, get_protocol, parse_model_specs
    from movierec.evaluation.plots import _runs_shown

    one = evaluate(small, get_protocol("ratio"), parse_model_specs("pop"), seeds=[42])
    two = evaluate(small, get_protocol("ratio"), parse_model_specs("pop"), seeds=[42, 43])
    assert _runs_shown(one) == "one run, seed 42"
    assert _runs_shown(two) == "mean ± std over 2 runs, shaded"


# ---- the report's words and charts -------------------------------------------------------------
@pytest.fixture(scope="module")
def pop_report(small, tmp_path_factory) -> str:
    """A report of a model without item vectors: the page names it and the map's own model."""
    from movierec.report import build_report

    recommender = Recommender.train(small, Settings(model="pop", weighting="binary"))
    out = tmp_path_factory.mktemp("report") / "out"
    return build_report(small, recommender, out).index.read_text(encoding="utf-8")


def test_the_report_names_the_model_it_was_given(pop_report) -> None:
    served = "most popular (the same list for everyone), binary feedback, ratings ≥ 3"
    assert pop_report.count(served) >= 3  # the model table, the ratings and the map sections
    assert "ALS learns from" not in pop_report
    assert "this map comes from implicit&#x27;s ALS (64 factors" in pop_report


def test_the_map_colours_by_a_stated_genre_rule(small) -> None:
    from movierec.analysis import main_genres

    groups = main_genres(small)
    assert groups[1] == "Children's & animation"  # Toy Story: Adventure|Animation|Children|…
    assert groups[260] == "Sci-Fi, fantasy & horror"  # Star Wars: Action|Adventure|Sci-Fi
    assert groups[356] == "Comedy & musical"  # Forrest Gump: Comedy|Drama|Romance|War
    assert groups[608] == "Crime & thriller"  # Fargo: Comedy|Crime|Drama|Thriller
    assert groups.nunique() <= 7


def test_ratings_per_user_marks_the_fewest_and_the_most(small) -> None:
    from movierec import analysis
    from movierec.report import charts

    counts = analysis.user_counts(small)
    texts = [text.get_text() for text in charts.ratings_per_user(small).axes[0].texts]
    assert any(text.startswith(f"fewest: {counts.min():,}") for text in texts)
    assert any(text.startswith(f"most: {counts.max():,}") for text in texts)


def test_a_dataset_says_how_many_movies_are_rated_and_how_many_listed(small) -> None:
    rated = small.ratings["movie_id"].nunique()
    assert repr(small) == (
        f"Dataset('ml-latest-small', {len(small.ratings):,} ratings of {rated:,} movies; "
        f"the movies file lists {len(small.movies):,})"
    )
