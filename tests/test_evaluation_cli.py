"""`movierec evaluate` and `movierec tune` end to end on the bundled data, and the runner's
guarantees: models fit on train only, validation and train items are masked at test time,
tuning never looks at test."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from movierec import config
from movierec.cli import main
from movierec.errors import MovieRecError
from movierec.evaluation import evaluate, get_protocol, parse_model_spec, parse_model_specs
from movierec.evaluation import runner as runner_module
from movierec.evaluation.metrics import METRICS
from movierec.models import MODELS
from movierec.models.base import Model

SMALL = ["--dataset", "ml-latest-small"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow  # two models evaluated on the bundle
def test_evaluate_json_on_bundled_data(capsys):
    code, out, err = run(
        capsys,
        "evaluate",
        *SMALL,
        "--protocol",
        "ratio",
        "--models",
        "default,als:factors=16:iterations=3",
        "-k",
        "10",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"protocol", "results", "paired"}
    assert [(row["model"], row["baseline"]) for row in data["paired"]] == [
        ("als:factors=16:iterations=3", "default")
    ]
    assert data["protocol"]["name"] == "ratio" and data["protocol"]["dataset"] == "ml-latest-small"
    assert data["protocol"]["models"]["default"]["model"] == config.PRESETS["default"]["model"]
    for row in data["results"]:
        assert set(row) == {"model", "metric", "k", "mean", "std"}
    models = [row["model"] for row in data["results"]]
    assert list(dict.fromkeys(models)) == ["default", "als:factors=16:iterations=3"]
    metrics = {(row["model"], row["metric"], row["k"]) for row in data["results"]}
    for model in ("default", "als:factors=16:iterations=3"):
        assert {(model, metric, 10) for metric in METRICS} <= metrics
        assert (model, "fit_seconds", None) in metrics
    for row in data["results"]:
        assert row["std"] == 0.0  # one seed
        if row["metric"] == "fit_seconds":
            assert row["mean"] > 0
        else:
            assert 0.0 <= row["mean"] <= 1.0
    ndcg = {row["model"]: row["mean"] for row in data["results"] if row["metric"] == "ndcg"}
    assert ndcg["default"] > 0.05  # a trained ALS finds something; random would be ~0.002


def test_evaluate_json_feeds_the_report(capsys):
    from movierec.report import parse_evaluation

    code, out, err = run(
        capsys,
        "evaluate",
        *SMALL,
        "--protocol",
        "loo",
        "--models",
        "als:factors=8:iterations=2",
        "--seeds",
        "2",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["protocol"]["seeds"] == [config.SEED, config.SEED + 1]
    results = parse_evaluation(data)
    assert results.models() == ["als:factors=8:iterations=2"]
    stds = [row["std"] for row in data["results"] if row["metric"] in METRICS]
    assert any(std > 0 for std in stds)  # two different splits do not agree exactly


def test_evaluate_table_names_models_and_metrics(capsys):
    code, out, err = run(
        capsys, "evaluate", *SMALL, "--protocol", "ratio", "--models", "als:factors=8:iterations=2"
    )
    assert code == 0, err
    assert "als:factors=8:iterations=2" in out and "NDCG@10" in out
    assert "±" not in out and "one run (seed 42)" in out  # one seed: no spread to show


@pytest.mark.parametrize(
    "args, message",
    [
        (["--models", "nosuchmodel"], "unknown model 'nosuchmodel'; choose a preset (default"),
        (["--protocol", "nosuch"], "unknown protocol 'nosuch'; choose one of recbole"),
        (["--models", "als:wings=2"], "has no parameter 'wings'"),
        (["--models", "als:weighting=loud"], "unknown weighting 'loud'"),
        (["--models", "als,als"], "named twice"),
        (["-k", "0"], "-k must be"),
    ],
)
def test_evaluate_bad_input_is_one_line_and_exit_2(capsys, args, message):
    code, out, err = run(capsys, "evaluate", *SMALL, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "spec, message",
    [
        ("als:factors=abc", "factors must be a whole number from 1 to 4096, got 'abc'"),
        ("als:alpha=NaN", "alpha must be a finite number > 0, got nan"),
        ("itemknn:neighbours=0", "neighbours must be a whole number from 1 to 1000000, got 0"),
    ],
)
def test_evaluate_with_a_bad_model_parameter_is_one_line_and_exit_2(capsys, spec, message):
    code, _, err = run(capsys, "evaluate", *SMALL, "--models", spec)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_latest_split_without_timestamps_fails_clearly(capsys, tmp_path):
    from conftest import write_dat_dataset

    lines = [f"{user}::{movie}::5" for user in range(1, 6) for movie in range(1, 5)]
    write_dat_dataset(tmp_path, lines)
    code, _, err = run(
        capsys,
        "evaluate",
        "--dataset",
        "ml-1m",
        "--data-dir",
        str(tmp_path),
        "--protocol",
        "loo-latest",
    )
    assert code == 2
    assert "no rating timestamps" in err and "--protocol loo" in err


def test_presets_and_model_names_resolve():
    default = parse_model_spec("default")
    assert default.model == config.PRESETS["default"]["model"]
    expected = {
        k: v
        for k, v in config.PRESETS["default"].items()
        if k not in ("model", "weighting", "min_rating")
    }
    assert default.params == expected
    notebook = parse_model_spec("notebook")
    assert notebook.params["factors"] == config.PRESETS["notebook"]["factors"]
    tweaked = parse_model_spec("notebook:iterations=3:weighting=binary")
    assert tweaked.params["iterations"] == 3 and tweaked.weighting == "binary"
    assert parse_model_spec("als").model == "als"


class Oracle(Model):
    """Knows the split: scores validation items highest, then test items, the rest at random.

    With validation items masked at test time it ranks the test items first (NDCG 1); if they
    were not masked, validation items would crowd the top of the list."""

    name = "oracle"
    split: Any = None
    fitted_on: list[sp.csr_matrix] = []
    fold_in_calls = 0

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, user_items, show_progress=False):
        type(self).fitted_on.append(user_items.copy())
        return self

    def _scores(self, users):
        rng = np.random.default_rng(self.seed)
        split = type(self).split
        scores = rng.random((len(users), split.test.shape[1])) * 0.5
        scores += 2.0 * split.test[users].toarray() + 3.0 * split.valid[users].toarray()
        return scores

    def scores(self, user_indices, user_items):
        return self._scores(np.asarray(user_indices))

    def fold_in_scores(self, user_items):
        type(self).fold_in_calls += 1
        users = np.flatnonzero(np.diff(type(self).split.fold_in.indptr) > 0)
        rows = sp.csr_matrix(user_items)
        # find which held-out users these rows are, by their fold-in items
        lookup = {tuple(type(self).split.fold_in[u].indices): u for u in users}
        found = [lookup[tuple(rows[i].indices)] for i in range(rows.shape[0])]
        return self._scores(np.array(found))

    def similar_items(self, item_index, n):
        return np.array([], dtype=int), np.array([])

    def get_params(self):
        return {"seed": self.seed}

    def state(self):
        return {}

    def set_state(self, arrays):
        return self


@pytest.fixture
def oracle(monkeypatch):
    monkeypatch.setitem(MODELS, "oracle", Oracle)
    Oracle.fitted_on = []
    Oracle.fold_in_calls = 0
    return Oracle


@pytest.mark.parametrize("protocol_name", ["ratio", "strong"])
def test_models_fit_on_train_only_and_known_items_are_masked(small, oracle, protocol_name):
    protocol = get_protocol(protocol_name)
    data = protocol.prepare(small)
    split = protocol.splits(data, 5)[0]
    oracle.split = split
    result = evaluate(
        small,
        protocol,
        parse_model_specs("oracle:weighting=binary"),
        k=10,
        seeds=[5],
        prepared=data,
    )
    (fitted,) = oracle.fitted_on
    assert (fitted != sp.csr_matrix(split.train, dtype=np.float32).sign()).nnz == 0
    held_out = split.test + split.valid
    assert fitted.multiply(held_out).nnz == 0
    assert result.summary("oracle:weighting=binary", "ndcg", 10).mean == pytest.approx(1.0)
    assert result.summary("oracle:weighting=binary", "hit", 10).mean == 1.0
    assert (oracle.fold_in_calls > 0) == (protocol_name == "strong")


def test_tuning_scores_on_validation_only(small, oracle, monkeypatch):
    from movierec.evaluation import tuning

    parts = []
    original = runner_module.score_and_measure

    def spy(model, split, train_input, fold_in_input, part, ks, batch_size=1024):
        parts.append(part)
        return original(model, split, train_input, fold_in_input, part, ks, batch_size)

    monkeypatch.setattr(tuning, "score_and_measure", spy)
    monkeypatch.setattr(
        tuning, "SEARCH_SPACES", {"als": {"factors": ("int", 4, 8), "iterations": ("int", 1, 2)}}
    )
    result = tuning.tune(small, get_protocol("ratio"), "als", trials=3, seed=1)
    assert parts == ["valid", "valid", "valid"]
    assert 0.0 <= result.best_value <= 1.0
    assert set(result.best_params) == {"factors", "iterations"}
    assert len(result.trials) == 3


def test_tuning_refuses_a_protocol_without_validation(small):
    from movierec.evaluation.tuning import tune

    with pytest.raises(MovieRecError, match="no validation part"):
        tune(small, get_protocol("kfold"), "als", trials=1)


def test_tune_cli_saves_a_preset_that_evaluate_can_use(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path))
    code, out, err = run(
        capsys,
        "tune",
        "als",
        "--trials",
        "2",
        *SMALL,
        "--protocol",
        "ratio",
        "--save-preset",
        "mine",
        "--json",
    )
    assert code == 0, err
    tuned = json.loads(out)
    assert tuned["metric"] == "ndcg@10" and 0.0 <= tuned["best_value"] <= 1.0
    assert {"factors", "regularization", "alpha", "iterations"} <= set(tuned["best_params"])
    saved = json.loads((tmp_path / "presets.json").read_text())
    assert saved["presets"]["mine"]["model"] == "als"
    assert saved["provenance"]["mine"]["valid_ndcg@10"] == pytest.approx(tuned["best_value"])
    spec = parse_model_spec("mine")
    assert spec.params["factors"] == tuned["best_params"]["factors"]
    assert spec.weighting == tuned["weighting"]


def test_tune_unknown_model_lists_the_models(capsys):
    code, _, err = run(capsys, "tune", "nosuch", "--trials", "1", *SMALL)
    assert code == 2 and "choose one of" in err and "als" in err


def test_plots_are_png_files(small, tmp_path):
    from movierec.evaluation.plots import write_plots

    protocol = get_protocol("ratio")
    data = protocol.prepare(small)
    result = evaluate(
        small,
        protocol,
        parse_model_specs("als:factors=8:iterations=2"),
        k=5,
        seeds=[0],
        extra_ks=range(1, 6),
        prepared=data,
    )
    written = write_plots(
        result,
        data,
        protocol,
        tmp_path / "plots",
        seed=0,
        factor_grid=(4, 8),
        iteration_grid=(1, 2),
    )
    assert [p.name for p in written] == [
        "precision_recall_at_k.png",
        "als_ndcg_vs_factors.png",
        "als_ndcg_vs_iterations.png",
    ]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000


def test_mean_and_std_are_over_runs(small):
    protocol = get_protocol("ratio")
    result = evaluate(
        small, protocol, parse_model_specs("als:factors=8:iterations=2"), k=10, seeds=[1, 2, 3]
    )
    values = [run.metrics[("ndcg", 10)] for run in result.runs]
    summary = result.summary("als:factors=8:iterations=2", "ndcg", 10)
    assert summary.mean == pytest.approx(np.mean(values))
    assert summary.std == pytest.approx(np.std(values, ddof=1))
    assert summary.runs == 3 and not math.isnan(summary.std)


def test_user_presets_cannot_replace_shipped_ones(monkeypatch, tmp_path):
    from movierec.presets import save_user_preset

    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path))
    with pytest.raises(MovieRecError, match="shipped preset"):
        save_user_preset("default", {"model": "als", "factors": 3})
    assert not (tmp_path / "presets.json").exists()
