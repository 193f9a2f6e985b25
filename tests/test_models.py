"""Every model behind the one Model interface, on small built fixtures with a known answer."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec import config
from movierec.errors import MovieRecError
from movierec.models import (
    ADMMSLIM,
    ALS,
    BPR,
    EASE,
    IALS,
    MODELS,
    NO_ITEM,
    ItemKNN,
    Model,
    MostPopular,
    make_model,
    top_n,
)

N_USERS, N_ITEMS, CLUSTER_ITEMS = 40, 24, 12

FACTORIES: dict[str, Callable[[int], Model]] = {
    "pop": lambda seed: MostPopular(seed=seed),
    "itemknn": lambda seed: ItemKNN(neighbours=10, shrink=1.0, seed=seed),
    "itemknn-bm25": lambda seed: ItemKNN(neighbours=10, similarity="bm25", seed=seed),
    "ease": lambda seed: EASE(regularization=5.0, seed=seed),
    "ease-user-weighted": lambda seed: EASE(regularization=1.0, user_weight_exponent=0.5),
    "ease-lowpass": lambda seed: EASE(
        regularization=1.0,
        user_weight_exponent=0.5,
        lowpass_rank=3,
        lowpass_weight=0.4,
        seed=seed,
    ),
    "dlae": lambda seed: EASE(regularization=1.0, dropout=0.5, zero_diagonal=False, seed=seed),
    "edlae": lambda seed: EASE(regularization=1.0, dropout=0.3, seed=seed),
    "admm-slim": lambda seed: ADMMSLIM(l1=0.1, l2=1.0, rho=10.0, seed=seed),
    "als": lambda seed: ALS(factors=6, regularization=1.0, iterations=8, seed=seed),
    "ials": lambda seed: IALS(
        factors=6, regularization=0.01, unobserved_weight=0.2, iterations=8, seed=seed
    ),
    "bpr": lambda seed: BPR(factors=6, learning_rate=0.05, iterations=60, seed=seed),
}
PERSONALIZED = [name for name in FACTORIES if name != "pop"]
SEEDED = ["ials", "bpr", "als"]


def two_clusters(seed: int = 0) -> sp.csr_matrix:
    """Users 0–19 like only items 0–11, users 20–39 only items 12–23 (each a random 60%)."""
    rng = np.random.default_rng(seed)
    dense = np.zeros((N_USERS, N_ITEMS), dtype=np.float32)
    half = N_USERS // 2
    dense[:half, :CLUSTER_ITEMS] = rng.random((half, CLUSTER_ITEMS)) < 0.6
    dense[half:, CLUSTER_ITEMS:] = rng.random((half, N_ITEMS - CLUSTER_ITEMS)) < 0.6
    return sp.csr_matrix(dense)


@pytest.fixture(scope="module")
def matrix() -> sp.csr_matrix:
    return two_clusters()


@pytest.fixture(scope="module", params=list(FACTORIES))
def fitted(request: pytest.FixtureRequest, matrix: sp.csr_matrix) -> tuple[str, Model]:
    return request.param, FACTORIES[request.param](3).fit(matrix)


def new_user(items: list[int]) -> sp.csr_matrix:
    row = sp.csr_matrix(
        (np.ones(len(items), np.float32), ([0] * len(items), items)), shape=(1, N_ITEMS)
    )
    row.sort_indices()
    return row


# ---- the interface, for every model ------------------------------------------------------------
def test_every_model_is_registered_under_its_name() -> None:
    for name in ("pop", "itemknn", "bpr", "ease", "admm-slim", "als", "ials"):
        assert MODELS[name].name == name
        assert isinstance(make_model(name), MODELS[name])


def test_an_unknown_model_name_says_which_exist() -> None:
    with pytest.raises(MovieRecError, match="choose one of"):
        make_model("svd++")


def test_scores_have_a_row_per_user_and_a_column_per_item(fitted, matrix) -> None:
    _, model = fitted
    users = np.array([0, 5, 30])
    assert model.scores(users, matrix[users]).shape == (3, N_ITEMS)
    assert model.fold_in_scores(matrix[users]).shape == (3, N_ITEMS)


@pytest.mark.parametrize("name", PERSONALIZED)
def test_learned_users_prefer_their_own_cluster(name: str, matrix) -> None:
    model = FACTORIES[name](3).fit(matrix)
    scores = np.asarray(model.scores(np.arange(N_USERS), matrix), dtype=np.float64)
    own = np.r_[np.ones(CLUSTER_ITEMS), np.zeros(N_ITEMS - CLUSTER_ITEMS)].astype(bool)
    assert np.all(scores[:20, own].mean(axis=1) > scores[:20, ~own].mean(axis=1))
    assert np.all(scores[20:, ~own].mean(axis=1) > scores[20:, own].mean(axis=1))


@pytest.mark.parametrize("name", PERSONALIZED)
def test_a_folded_in_user_gets_the_cluster_they_liked(name: str, matrix) -> None:
    model = FACTORIES[name](3).fit(matrix)
    liked = [13, 15, 20]
    scores = model.fold_in_scores(new_user(liked))[0]
    unseen = np.setdiff1d(np.arange(N_ITEMS), liked)
    top = unseen[np.argsort(-scores[unseen])[:5]]
    assert np.all(top >= CLUSTER_ITEMS)


@pytest.mark.parametrize("name", PERSONALIZED)
def test_fold_in_of_a_training_user_agrees_with_the_learned_user(name: str, matrix) -> None:
    model = FACTORIES[name](3).fit(matrix)
    users = np.arange(0, N_USERS, 7)
    learned = np.asarray(model.scores(users, matrix[users]), dtype=np.float64)
    folded = np.asarray(model.fold_in_scores(matrix[users]), dtype=np.float64)
    for row in range(len(users)):
        assert np.corrcoef(learned[row], folded[row])[0, 1] > 0.9


def test_similar_items_never_include_the_item_itself(fitted) -> None:
    _, model = fitted
    for item in range(N_ITEMS):
        indices, similarity = model.similar_items(item, 10)
        assert item not in indices.tolist()
        assert len(indices) == len(similarity) <= 10
        assert np.all(np.diff(similarity) <= 1e-6)


@pytest.mark.parametrize("name", PERSONALIZED)
def test_similar_items_stay_in_the_cluster(name: str, matrix) -> None:
    model = FACTORIES[name](3).fit(matrix)
    indices, _ = model.similar_items(2, 3)
    assert np.all(indices < CLUSTER_ITEMS)


def test_state_round_trips_through_npz_without_pickle(fitted, matrix) -> None:
    name, model = fitted
    buffer = BytesIO()
    np.savez(buffer, **model.state())
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    restored = type(model)(**model.get_params()).set_state(arrays)
    users = np.arange(N_USERS)
    np.testing.assert_array_equal(restored.scores(users, matrix), model.scores(users, matrix))
    row = new_user([1, 4])
    np.testing.assert_array_equal(restored.fold_in_scores(row), model.fold_in_scores(row))


def test_an_unfitted_model_says_to_fit_first(fitted) -> None:
    name, _ = fitted
    with pytest.raises(MovieRecError, match="fit"):
        FACTORIES[name](3).fold_in_scores(new_user([1]))


@pytest.mark.parametrize("name", SEEDED)
def test_the_same_seed_reproduces_and_another_differs(name: str, matrix) -> None:
    first = FACTORIES[name](5).fit(matrix).state()
    again = FACTORIES[name](5).fit(matrix).state()
    other = FACTORIES[name](6).fit(matrix).state()
    for key in first:
        np.testing.assert_allclose(first[key], again[key], rtol=1e-5, atol=1e-6)
    assert not np.allclose(first["item_factors"], other["item_factors"])


@pytest.mark.parametrize(
    "name",
    [
        "ease",
        "ease-user-weighted",
        "ease-lowpass",
        "dlae",
        "edlae",
        "admm-slim",
        "itemknn",
        "itemknn-bm25",
        "ials",
    ],
)
def test_contributions_sum_to_the_fold_in_score(name: str, matrix) -> None:
    model = FACTORIES[name](3).fit(matrix)
    row = sp.csr_matrix(matrix[4])
    items = np.arange(N_ITEMS)
    parts = model.contributions(row, items)
    assert parts.shape == (row.nnz, N_ITEMS)
    np.testing.assert_allclose(
        parts.sum(axis=0), model.fold_in_scores(row)[0], rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("name", SEEDED)
def test_derived_values_are_forgotten_by_fit_and_set_state(name: str, matrix) -> None:
    model = FACTORIES[name](3).fit(matrix)
    model.similar_items(0, 5)  # caches the normalized item vectors
    other = FACTORIES[name](4).fit(two_clusters(1))
    expected = other.similar_items(0, 5)
    restored = model.set_state(other.state())
    np.testing.assert_array_equal(restored.similar_items(0, 5)[0], expected[0])
    np.testing.assert_allclose(restored.similar_items(0, 5)[1], expected[1], rtol=1e-6)
    refitted = model.fit(matrix)
    fresh = FACTORIES[name](3).fit(matrix)
    row = new_user([1])
    np.testing.assert_allclose(refitted.fold_in_scores(row), fresh.fold_in_scores(row), rtol=1e-5)
    np.testing.assert_allclose(refitted.similar_items(0, 5)[1], fresh.similar_items(0, 5)[1])


def test_bpr_item_vectors_leave_the_bias_out(matrix) -> None:
    model = FACTORIES["bpr"](3).fit(matrix)
    np.testing.assert_array_equal(model.item_vectors(), model.item_factors[:, :-1])


# ---- the one ranking -------------------------------------------------------------------------
def test_top_n_breaks_ties_towards_the_lower_item_index() -> None:
    scores = np.array([1.0, 2.0, 2.0, 2.0, 0.0, 2.0])
    assert top_n(scores, 3).tolist() == [1, 2, 3]
    assert top_n(scores, 3, exclude=[2]).tolist() == [1, 3, 5]


def test_top_n_never_returns_excluded_nan_or_infinite_scores() -> None:
    scores = np.array([np.nan, 0.1, np.inf, -np.inf, 0.3, 0.2])
    assert top_n(scores, 10, exclude=np.array([5])).tolist() == [4, 1]
    assert top_n(scores, 0).tolist() == []


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 12),
    st.integers(0, 14),
    st.integers(0, 2**32 - 1),
)
def test_top_n_of_one_row_is_that_row_of_a_block(users: int, items: int, n: int, seed: int) -> None:
    """Serving ranks one row, evaluation a block: the same items, in the same order."""
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=(users, items)).astype(np.float32)  # ties everywhere
    scores[rng.random((users, items)) < 0.1] = np.nan
    excluded = sp.csr_matrix(rng.random((users, items)) < 0.3)
    block = top_n(scores, n, exclude=excluded)
    assert block.shape == (users, n)
    for user in range(users):
        row = top_n(scores[user], n, exclude=excluded[user].indices)
        assert block[user].tolist() == row.tolist() + [NO_ITEM] * (n - len(row))
        # the rule itself: by score descending, then index ascending, skipping what cannot count
        allowed = [i for i in range(items) if i not in excluded[user].indices]
        allowed = [i for i in allowed if np.isfinite(scores[user, i])]
        assert row.tolist() == sorted(allowed, key=lambda i: (-scores[user, i], i))[:n]


# ---- model by model --------------------------------------------------------------------------
def test_most_popular_scores_are_the_item_counts(matrix) -> None:
    model = MostPopular().fit(matrix)
    counts = np.asarray((matrix > 0).sum(axis=0)).ravel()
    np.testing.assert_array_equal(model.scores(np.array([0, 1]), matrix[:2]), [counts, counts])
    assert not model.contributions(new_user([1, 2]), np.arange(4)).any()


def test_ease_matches_the_closed_form_computed_densely() -> None:
    dense = np.array(
        [[1, 1, 0, 0, 1], [0, 1, 1, 0, 0], [1, 0, 1, 1, 0], [1, 1, 1, 0, 0], [0, 0, 1, 1, 1]],
        dtype=np.float64,
    )
    regularization = 0.7
    precision = np.linalg.inv(dense.T @ dense + regularization * np.eye(5))
    expected = np.eye(5) - precision / np.diag(precision)
    model = EASE(regularization=regularization).fit(sp.csr_matrix(dense))
    np.testing.assert_allclose(model.weights, expected, atol=1e-5)
    np.testing.assert_array_equal(np.diag(model.weights), 0.0)
    np.testing.assert_allclose(
        model.fold_in_scores(sp.csr_matrix(dense[:2])), dense[:2] @ expected, atol=1e-5
    )


def test_ease_refuses_a_catalogue_too_large_for_dense_matrices(monkeypatch) -> None:
    import movierec.models.ease as ease_module

    monkeypatch.setattr(ease_module, "MAX_ITEMS", 10)
    with pytest.raises(MovieRecError, match="ALS preset"):
        EASE().fit(two_clusters())


@pytest.mark.parametrize("route", ["dense blocks", "sparse"])
def test_gram_is_xtx_by_either_route(route: str, monkeypatch) -> None:
    import movierec.models.base as base_module

    monkeypatch.setattr(base_module, "GRAM_BLOCK_ENTRIES", 7 * N_ITEMS)  # several blocks
    monkeypatch.setattr(base_module, "DENSE_GRAM_RATIO", 1e12 if route == "dense blocks" else 0)
    matrix = two_clusters(2)
    np.testing.assert_allclose(base_module.gram(matrix), (matrix.T @ matrix).toarray())


def test_ease_user_weighting_matches_a_row_scaled_gram() -> None:
    dense = np.array([[1, 1, 0, 1], [0, 1, 1, 0], [1, 0, 1, 1], [1, 1, 1, 1]], dtype=np.float64)
    scaled = dense / np.sqrt(dense.sum(axis=1, keepdims=True))  # γ = 1: weight 1/|I_u|
    precision = np.linalg.inv(scaled.T @ scaled + 0.3 * np.eye(4))
    expected = np.eye(4) - precision / np.diag(precision)
    model = EASE(regularization=0.3, user_weight_exponent=1.0).fit(sp.csr_matrix(dense))
    np.testing.assert_allclose(model.weights, expected, atol=1e-5)


def test_lowpass_filter_spans_the_top_eigenvectors_of_the_normalized_graph() -> None:
    from movierec.models.ease import lowpass_filter

    rng = np.random.default_rng(0)
    dense = (rng.random((60, 15)) < 0.4).astype(np.float64)
    gram_matrix = dense.T @ dense
    degrees = gram_matrix.sum(axis=1)
    normalized = gram_matrix / np.sqrt(np.outer(degrees, degrees))
    top = np.linalg.eigh(normalized)[1][:, -4:]
    expected = (top / np.sqrt(degrees)[:, None]) @ (top * np.sqrt(degrees)[:, None]).T
    np.fill_diagonal(expected, 0.0)
    found = lowpass_filter(gram_matrix.astype(np.float32), 4, seed=1, sweeps=60)
    np.testing.assert_allclose(found, expected, atol=1e-4)


def test_a_full_rank_lowpass_filter_passes_everything_and_adds_nothing(matrix) -> None:
    from movierec.models.base import gram
    from movierec.models.ease import lowpass_filter

    # U·Uᵀ = I at full rank, so the filter is the identity, and its off-diagonal part is zero.
    np.testing.assert_allclose(lowpass_filter(gram(matrix), N_ITEMS), 0.0, atol=1e-4)


def test_ease_with_a_zero_lowpass_weight_is_plain_ease(matrix) -> None:
    plain = EASE(regularization=2.0).fit(matrix).weights
    unfiltered = EASE(regularization=2.0, lowpass_rank=4, lowpass_weight=0.0).fit(matrix).weights
    np.testing.assert_array_equal(plain, unfiltered)


def test_itemknn_cosine_matches_a_direct_computation() -> None:
    dense = np.array([[1, 1, 0, 1], [0, 1, 1, 0], [1, 0, 1, 1], [1, 1, 1, 0]], dtype=np.float64)
    shrink = 0.5
    norms = np.linalg.norm(dense, axis=0)
    expected = dense.T @ dense / (np.outer(norms, norms) + shrink)
    np.fill_diagonal(expected, 0.0)
    model = ItemKNN(neighbours=3, shrink=shrink).fit(sp.csr_matrix(dense))
    np.testing.assert_allclose(model.weights.toarray(), expected, atol=1e-6)


def test_itemknn_keeps_at_most_k_neighbours_per_item(matrix) -> None:
    model = ItemKNN(neighbours=3).fit(matrix)
    assert np.all(np.diff(model.weights.tocsc().indptr) <= 3)
    assert model.weights.diagonal().sum() == 0


def test_itemknn_rejects_an_unknown_similarity() -> None:
    with pytest.raises(MovieRecError, match="cosine"):
        ItemKNN(similarity="pearson")


def test_ials_fold_in_minimizes_the_documented_loss(matrix) -> None:
    """Per user, with items fixed: Σ_obs w(⟨x,y⟩ − t)² + α0 Σ_all ⟨x,y⟩² + λ(|I_u| + α0|I|)^ν‖x‖²,
    with the observed target t = 1 + α0/w that implicit's parameterization implies."""
    alpha0, regularization, exponent = 0.3, 0.05, 0.8
    model = IALS(
        factors=5,
        regularization=regularization,
        unobserved_weight=alpha0,
        regularization_exponent=exponent,
        iterations=10,
        seed=1,
    ).fit(matrix)
    items = model.item_factors.astype(np.float64)
    row = sp.csr_matrix(matrix[7])
    liked, weights = row.indices, row.data.astype(np.float64) * 2.0  # weighted, not binary
    penalty = regularization * (len(liked) + alpha0 * N_ITEMS) ** exponent
    a = alpha0 * items.T @ items + (items[liked].T * weights) @ items[liked] + penalty * np.eye(5)
    b = items[liked].T @ (weights * (1 + alpha0 / weights))
    expected = np.linalg.solve(a, b)
    scaled_row = row.copy()
    scaled_row.data = scaled_row.data * 2.0
    np.testing.assert_allclose(model.fold_in_factors(scaled_row)[0], expected, rtol=1e-6, atol=1e-8)


def test_ials_training_converges_to_its_own_fold_in(matrix) -> None:
    """Training solves the same per-user problems (penalty pseudo-items and all): after enough
    sweeps, the learned user factors are what fold-in computes from the final item factors."""
    model = IALS(
        factors=5, regularization=0.05, unobserved_weight=0.3, iterations=40, cg_steps=8, seed=1
    ).fit(matrix)
    users = np.arange(0, N_USERS, 5)
    np.testing.assert_allclose(
        model.fold_in_factors(matrix[users]), model.user_factors[users], atol=5e-3
    )


def test_ials_penalty_grows_with_activity_only_when_frequency_scaled() -> None:
    counts = np.array([1, 10, 100])
    scaled = IALS(regularization=0.1, unobserved_weight=0.5, regularization_exponent=1.0)
    flat = IALS(regularization=0.1, unobserved_weight=0.5, regularization_exponent=0.0)
    assert np.all(np.diff(scaled._penalty(counts, 20)) > 0)
    np.testing.assert_allclose(flat._penalty(counts, 20), 0.1 / 0.5)


def test_bpr_has_a_bias_column_fixed_at_one_for_users(matrix) -> None:
    model = BPR(factors=4, iterations=5).fit(matrix)
    assert model.item_factors.shape == (N_ITEMS, 5)
    np.testing.assert_array_equal(model.user_factors[:, -1], 1.0)
    np.testing.assert_array_equal(model.fold_in_factors(new_user([0, 3]))[:, -1], 1.0)


# ---- presets -------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", list(config.PRESETS))
def test_every_preset_builds_its_model(preset: str) -> None:
    from movierec.settings import Settings

    settings = Settings.preset(preset)
    model = make_model(settings.model, **settings.params)
    assert model.name == settings.model
    assert settings.weighting in ("rating", "binary", "bm25")


def test_an_unknown_parameter_names_what_the_model_takes() -> None:
    with pytest.raises(MovieRecError, match="has no parameter 'factors'; it takes regularization"):
        make_model("ease", factors=8)


def test_asking_a_cpu_model_for_the_gpu_is_a_clear_error() -> None:
    with pytest.raises(MovieRecError, match="CUDA ALS only"):
        make_model("ease", use_gpu=True)
