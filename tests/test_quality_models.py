"""The quality models of issue 14 (DLAE/EDLAE as EASE options, ADMM-SLIM, Mult-VAE, RecVAE),
each behind the one Model interface: fitted on a small built fixture, checked against their
definitions, saved and loaded, folded in, and refused in one line when mis-set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import require, write_dat_dataset
from test_models import CLUSTER_ITEMS as CLUSTER
from test_models import FACTORIES, N_ITEMS, two_clusters

from movierec import Recommender, load_dataset
from movierec.errors import MovieRecError
from movierec.models import Model, ParameterError, make_model
from movierec.settings import Settings

MATRIX = two_clusters()


@pytest.mark.parametrize(
    ("model", "parameter", "value"),
    [
        ("ease", "dropout", 1.0),
        ("ease", "dropout", -0.1),
        ("ease", "zero_diagonal", 1),
        ("admm-slim", "l1", -1.0),
        ("admm-slim", "rho", 0.0),
        ("admm-slim", "iterations", 0),
    ],
)
def test_a_bad_hyperparameter_is_one_line_naming_it(model: str, parameter: str, value) -> None:
    with pytest.raises(ParameterError, match=f"^{parameter} must be ") as caught:
        make_model(model, **{parameter: value})
    assert "\n" not in str(caught.value)


# ---- each model is what its paper defines -----------------------------------------------------
def dropout_penalty(dense: np.ndarray, regularization: float, dropout: float) -> np.ndarray:
    """Λ = λI + p/(1−p)·diag(XᵀX), Steck 2020's penalty for a dropout-emphasized LAE."""
    return np.diag(regularization + dropout / (1 - dropout) * np.diag(dense.T @ dense))


def test_dlae_is_the_closed_form_with_the_dropout_penalty() -> None:
    dense = MATRIX.toarray().astype(np.float64)
    gram = dense.T @ dense
    expected = np.linalg.solve(gram + dropout_penalty(dense, 1.0, 0.5), gram)
    model = FACTORIES["dlae"](0).fit(MATRIX)
    np.testing.assert_allclose(model.weights, expected, atol=1e-4)
    assert model.describe().startswith("DLAE")


def test_edlae_is_ease_with_the_dropout_penalty_and_a_zero_diagonal() -> None:
    dense = MATRIX.toarray().astype(np.float64)
    precision = np.linalg.inv(dense.T @ dense + dropout_penalty(dense, 1.0, 0.3))
    expected = np.eye(N_ITEMS) - precision / np.diag(precision)
    model = FACTORIES["edlae"](0).fit(MATRIX)
    np.testing.assert_allclose(model.weights, expected, atol=1e-4)
    np.testing.assert_array_equal(np.diag(model.weights), 0.0)
    assert model.describe().startswith("EDLAE")


def slim_objective(dense: np.ndarray, weights: np.ndarray, l1: float, l2: float) -> float:
    residual = dense - dense @ weights
    return float(
        0.5 * (residual**2).sum() + l1 * np.abs(weights).sum() + 0.5 * l2 * (weights**2).sum()
    )


def test_admm_slim_weights_are_non_negative_with_a_zero_diagonal() -> None:
    model = FACTORIES["admm-slim"](0).fit(MATRIX)
    assert (model.weights >= 0).all()
    np.testing.assert_array_equal(np.diag(model.weights), 0.0)


def test_admm_slim_beats_clipped_ease_on_its_own_objective() -> None:
    """Converged ADMM solves SLIM's problem: no feasible point (non-negative, zero diagonal)
    scores lower, e.g. EASE's solution with the negative weights cut off."""
    dense = MATRIX.toarray().astype(np.float64)
    l1, l2 = 0.5, 2.0
    model = make_model("admm-slim", l1=l1, l2=l2, rho=5.0, iterations=300).fit(MATRIX)
    ease = make_model("ease", regularization=l2).fit(MATRIX).weights
    learned = slim_objective(dense, model.weights.astype(np.float64), l1, l2)
    assert learned < slim_objective(dense, np.maximum(ease, 0.0).astype(np.float64), l1, l2)
    assert learned < slim_objective(dense, np.zeros((N_ITEMS, N_ITEMS)), l1, l2)


def test_a_larger_l1_gives_sparser_admm_slim_weights() -> None:
    counts = [
        np.count_nonzero(make_model("admm-slim", l1=l1, l2=1.0, rho=10.0).fit(MATRIX).weights)
        for l1 in (0.01, 1.0, 5.0)
    ]
    assert counts[0] > counts[1] > counts[2]


def test_admm_slim_refuses_a_catalogue_too_large_for_dense_matrices(monkeypatch) -> None:
    import movierec.models.ease as ease_module

    monkeypatch.setattr(ease_module, "MAX_ITEMS", 10)
    with pytest.raises(MovieRecError, match="ADMM-SLIM holds dense .* ALS preset"):
        make_model("admm-slim").fit(MATRIX)


# ---- through the facade: a saved model answers as the trained one ---------------------------
@pytest.fixture(scope="module")
def built_dataset(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("quality-data")
    rows = MATRIX.tocoo()
    ratings = [f"{u + 1}::{i + 1}::5::97830{u:04d}" for u, i in zip(rows.row, rows.col)]
    movies = [f"{i + 1}::Movie {i + 1} ({1990 + i})::Drama" for i in range(N_ITEMS)]
    write_dat_dataset(root, ratings, movies)
    return load_dataset("ml-1m", root)


SETTINGS = {
    "dlae": Settings("ease", {"regularization": 1.0, "dropout": 0.5, "zero_diagonal": False}),
    "admm-slim": Settings("admm-slim", {"l1": 0.1, "l2": 1.0, "rho": 10.0}),
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_a_saved_model_recommends_as_the_trained_one_and_never_a_liked_movie(
    name: str, built_dataset, tmp_path: Path
) -> None:
    settings = Settings(SETTINGS[name].model, SETTINGS[name].params, weighting="binary")
    trained = Recommender.train(built_dataset, settings)
    liked = [14, 16, 21]  # movie ids of the second cluster
    answers = trained.recommend(liked, n=8, explain=True)
    assert not {s.movie.movie_id for s in answers} & set(liked)
    assert all(s.movie.movie_id > CLUSTER for s in answers[:5])
    loaded = Recommender.load(trained.save(tmp_path / "model"))
    again = loaded.recommend(liked, n=8, explain=True)
    assert [(s.movie.movie_id, s.score, s.because) for s in again] == [
        (s.movie.movie_id, s.score, s.because) for s in answers
    ]


# ---- paired differences: models compared split by split --------------------------------------
def evaluation_of(ndcgs: dict[str, list[float]], valid: bool = False):
    """An Evaluation whose model ``label`` scored ``ndcgs[label][s]`` (every metric) on split
    ``s``, and half that on validation with ``valid``."""
    from movierec.evaluation.metrics import METRICS
    from movierec.evaluation.runner import Evaluation, ModelSpec, RunResult

    def metrics(value: float) -> dict[tuple[str, int], float]:
        return {(metric, 10): value for metric in METRICS}

    specs = [ModelSpec(label, "pop") for label in ndcgs]
    runs = [
        RunResult(label, 42 + s, 0, 1.0, 0.1, metrics(value), metrics(value / 2) if valid else {})
        for label, values in ndcgs.items()
        for s, value in enumerate(values)
    ]
    protocol = {"name": "recbole", "dataset": "built", "interactions": 9, "seeds": [42, 43]}
    return Evaluation(protocol, specs, runs, [10])


def test_a_paired_difference_is_the_mean_difference_and_its_standard_error() -> None:
    base, other = [0.30, 0.25, 0.28], [0.31, 0.27, 0.28]
    result = evaluation_of({"base": base, "other": other})
    paired = result.paired("other", "base", "ndcg", 10)
    differences = np.subtract(other, base)
    assert paired.mean == pytest.approx(differences.mean())
    assert paired.stderr == pytest.approx(differences.std(ddof=1) / np.sqrt(3))
    assert (paired.runs, paired.wins) == (3, 2)
    # far below the spread of either model's own mean: the split's difficulty cancels out
    assert paired.stderr < result.summary("other", "ndcg", 10).std / np.sqrt(3)


def test_the_json_pairs_every_model_with_the_first_on_test_and_on_validation() -> None:
    result = evaluation_of({"base": [0.3, 0.2], "a": [0.4, 0.2], "b": [0.1, 0.1]}, valid=True)
    data = result.to_json()
    assert [(row["model"], row["baseline"]) for row in data["paired"]] == [
        ("a", "base"),
        ("b", "base"),
    ]
    assert data["paired"][0]["mean"] == pytest.approx(0.05)
    assert data["paired_validation"][0]["mean"] == pytest.approx(0.025)
    assert {row["model"] for row in data["validation"]} == {"base", "a", "b"}
    assert "validation" not in evaluation_of({"base": [0.3], "a": [0.2]}).to_json()


def test_asking_for_validation_figures_that_were_not_measured_says_so() -> None:
    result = evaluation_of({"base": [0.3], "a": [0.2]})
    with pytest.raises(MovieRecError, match="no valid metrics were measured for base"):
        result.summary("base", "ndcg", 10, part="valid")


def test_the_evaluation_table_shows_each_models_paired_difference(capsys) -> None:
    from movierec.console import evaluation_table

    evaluation_table(evaluation_of({"base": [0.3, 0.2], "better": [0.35, 0.21]}), 10)
    out = capsys.readouterr().out
    assert "ΔNDCG@10" in out and "+0.0300" in out and "±0.0200" in out
    assert "minus base's on the same splits" in " ".join(out.split())


# ---- Mult-VAE and RecVAE: trained with PyTorch, served in NumPy -------------------------------
VAES = {
    "mult-vae": {"hidden": 16, "latent": 4, "epochs": 40, "batch_size": 20, "learning_rate": 0.01},
    "recvae": {"hidden": 16, "latent": 4, "epochs": 12, "batch_size": 20, "learning_rate": 0.01},
}


@pytest.fixture(scope="module")
def torch_one_thread():
    """PyTorch on one thread: these fits are tiny, and on a busy machine two threads spin."""
    require("torch")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", params=list(VAES))
def vae(request: pytest.FixtureRequest, torch_one_thread) -> tuple[str, Model]:
    return request.param, make_model(request.param, seed=3, **VAES[request.param]).fit(MATRIX)


def test_a_vae_prefers_each_users_own_cluster_with_finite_scores(vae) -> None:
    _, model = vae
    scores = np.asarray(model.scores(np.arange(MATRIX.shape[0]), MATRIX), dtype=np.float64)
    assert scores.shape == MATRIX.shape and np.isfinite(scores).all()
    own = np.arange(N_ITEMS) < CLUSTER
    assert np.all(scores[:20, own].mean(axis=1) > scores[:20, ~own].mean(axis=1))
    assert np.all(scores[20:, ~own].mean(axis=1) > scores[20:, own].mean(axis=1))


def test_a_vae_folds_in_a_new_user_by_encoding_their_row(vae) -> None:
    _, model = vae
    liked = [13, 15, 20]
    row = sp.csr_matrix((np.ones(3, np.float32), ([0, 0, 0], liked)), shape=(1, N_ITEMS))
    scores = model.fold_in_scores(row)[0]
    unseen = np.setdiff1d(np.arange(N_ITEMS), liked)
    assert np.all(unseen[np.argsort(-scores[unseen])[:5]] >= CLUSTER)
    # a training user folded in is that user: the encoder reads the same row
    np.testing.assert_array_equal(
        model.fold_in_scores(MATRIX[[4]]), model.scores(np.array([4]), MATRIX[[4]])
    )
    indices, _ = model.similar_items(2, 3)
    assert 2 not in indices.tolist() and np.all(indices < CLUSTER)


def test_a_vae_state_is_numpy_and_restores_the_same_answers(vae) -> None:
    name, model = vae
    arrays = {key: np.array(value) for key, value in model.state().items()}
    assert all(array.dtype == np.float32 for array in arrays.values())
    restored = make_model(name, **model.get_params()).set_state(arrays)
    np.testing.assert_array_equal(restored.fold_in_scores(MATRIX), model.fold_in_scores(MATRIX))
    arrays["out_w"] = arrays["out_w"][:, :-1]
    with pytest.raises(MovieRecError, match="do not match the saved settings; retrain"):
        make_model(name, **model.get_params()).set_state(arrays)


def test_a_vae_seed_reproduces_its_fit_and_another_seed_differs(vae) -> None:
    name, model = vae
    again = make_model(name, seed=3, **VAES[name]).fit(MATRIX)
    other = make_model(name, seed=4, **VAES[name]).fit(MATRIX)
    for key, array in model.state().items():
        np.testing.assert_array_equal(array, again.state()[key])
    assert not np.allclose(model.state()["out_w"], other.state()["out_w"])


@pytest.mark.parametrize("name", list(VAES))
def test_a_vae_trained_epoch_by_epoch_yields_each_epoch_and_ends_where_fit_ends(
    name: str, torch_one_thread
) -> None:
    params = {**VAES[name], "epochs": 3}
    stepped = make_model(name, seed=3, **params)
    seen = [(epoch, stepped.state()) for epoch in stepped.training(MATRIX)]
    assert [epoch for epoch, _ in seen] == [1, 2, 3]
    assert not np.allclose(seen[0][1]["out_w"], seen[-1][1]["out_w"])
    fitted = make_model(name, seed=3, **params).fit(MATRIX)
    for key, array in fitted.state().items():
        np.testing.assert_array_equal(array, seen[-1][1][key])
    # no schedule depends on the epochs asked for: a shorter fit ends at that epoch
    shorter = make_model(name, seed=3, **{**params, "epochs": 2}).fit(MATRIX)
    for key, array in shorter.state().items():
        np.testing.assert_array_equal(array, seen[1][1][key])


def test_a_vae_fit_leaves_the_callers_torch_generator_alone(torch_one_thread) -> None:
    torch = torch_one_thread
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_model("mult-vae", hidden=4, latent=2, epochs=1).fit(MATRIX)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())


def test_a_vae_reports_each_epoch_as_progress(torch_one_thread) -> None:
    from movierec import progress

    finished: list[tuple[float, float | None]] = []

    class Recording(progress.Reporter):
        def finished(self, step: progress.Step, ok: bool) -> None:
            finished.append((step.completed, step.total))

    with progress.reporting(Recording()):
        make_model("recvae", hidden=4, latent=2, epochs=3, encoder_epochs=1).fit(MATRIX)
    assert finished == [(3, 3)]


def test_without_pytorch_a_vae_fit_says_how_to_install_it(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    for name in VAES:
        model = make_model(name, epochs=1)
        with pytest.raises(
            MovieRecError, match=r'^\S+ trains with PyTorch.*pip install -e "\.\[torch\]"'
        ) as caught:
            model.fit(MATRIX)
        assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("model", "parameter", "value"),
    [
        ("mult-vae", "dropout", 1.0),
        ("mult-vae", "latent", 0),
        ("mult-vae", "learning_rate", 0.0),
        ("recvae", "gamma", -0.1),
        ("recvae", "encoder_epochs", 0),
    ],
)
def test_a_bad_vae_hyperparameter_is_one_line_naming_it(model: str, parameter: str, value) -> None:
    with pytest.raises(ParameterError, match=f"^{parameter} must be "):
        make_model(model, **{parameter: value})


def test_a_saved_vae_recommends_as_the_trained_one(
    built_dataset, torch_one_thread, tmp_path
) -> None:
    settings = Settings("mult-vae", {"seed": 3, **VAES["mult-vae"]}, weighting="binary")
    trained = Recommender.train(built_dataset, settings)
    liked = [14, 16, 21]
    answers = trained.recommend(liked, n=8, explain=True)
    assert not {s.movie.movie_id for s in answers} & set(liked)
    loaded = Recommender.load(trained.save(tmp_path / "model"))
    again = loaded.recommend(liked, n=8, explain=True)
    assert [(s.movie.movie_id, s.score, s.because) for s in again] == [
        (s.movie.movie_id, s.score, s.because) for s in answers
    ]


# ---- iALS sweep by sweep, for its learning curve ---------------------------------------------
def test_ials_sweeps_yield_each_sweep_and_end_where_fit_ends() -> None:
    params = {"factors": 6, "regularization": 0.01, "unobserved_weight": 0.2, "iterations": 4}
    swept = make_model("ials", **params)
    seen = []
    for sweep in swept.sweeps(MATRIX):
        seen.append((sweep, swept.item_factors.copy()))
    assert [sweep for sweep, _ in seen] == [1, 2, 3, 4]
    assert not np.allclose(seen[0][1], seen[-1][1])  # the factors move from sweep to sweep
    fitted = make_model("ials", **params).fit(MATRIX)
    np.testing.assert_array_equal(swept.item_factors, fitted.item_factors)
    np.testing.assert_array_equal(swept.user_factors, fitted.user_factors)
