"""Hyperparameters are checked at every boundary, and a fit never hands back NaN or infinity.

The allowed ranges are written out here, apart from the code, as the specification: every bad
value of every parameter of every model is refused in one line by ``make_model``, the class
itself, ``set_params`` and ``fit`` (after assignment), and every boundary value is accepted.
"""

from __future__ import annotations

import inspect
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from movierec import config
from movierec.errors import ModelError, MovieRecError
from movierec.evaluation import parse_model_spec, tuning
from movierec.models import MODELS, Model, make_model
from movierec.models.base import hyperparameter, hyperparameters, non_finite
from movierec.models.params import SEED, ParameterError, Whole
from movierec.presets import get_preset, save_user_preset


@dataclass(frozen=True)
class Spec:
    """What one parameter accepts: ``kind`` int, float, bool or choice; bounds for numbers
    (``open_low``, ``open_high``: that bound itself is refused); ``choices`` for names."""

    kind: str
    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False
    choices: tuple[str, ...] = ()


def whole(low: int, high: int) -> Spec:
    return Spec("int", low, high)


def number(
    low: float = -math.inf, high: float = math.inf, open_low: bool = False, open_high: bool = False
) -> Spec:
    return Spec("float", low, high, open_low, open_high)


SEED_SPEC = whole(0, 2**32 - 1)
FACTORS_SPEC = whole(1, 4096)
ITERATIONS_SPEC = whole(1, 100_000)

EXPECTED: dict[str, dict[str, Spec]] = {
    "als": {
        "factors": FACTORS_SPEC,
        "regularization": number(0.0),
        "alpha": number(0.0, open_low=True),
        "iterations": ITERATIONS_SPEC,
        "seed": SEED_SPEC,
        "use_gpu": Spec("bool"),
    },
    "ials": {
        "factors": FACTORS_SPEC,
        "regularization": number(0.0),
        "unobserved_weight": number(0.0, open_low=True),
        "regularization_exponent": number(0.0, 2.0),
        "iterations": ITERATIONS_SPEC,
        "cg_steps": whole(1, 1000),
        "init_scale": number(0.0, open_low=True),
        "seed": SEED_SPEC,
    },
    "ease": {
        "regularization": number(0.0),
        "dropout": number(0.0, 1.0, open_high=True),
        "zero_diagonal": Spec("bool"),
        "user_weight_exponent": number(0.0, 2.0),
        "lowpass_rank": whole(0, 4096),
        "lowpass_weight": number(0.0),
        "min_item_ratings": whole(0, 1_000_000),
        "max_head_items": whole(0, 20_000),
        "tail_neighbours": whole(0, 1000),
        "seed": SEED_SPEC,
    },
    "admm-slim": {
        "l1": number(0.0),
        "l2": number(0.0),
        "rho": number(0.0, open_low=True),
        "iterations": ITERATIONS_SPEC,
        "user_weight_exponent": number(0.0, 2.0),
        "seed": SEED_SPEC,
    },
    "mult-vae": {
        "hidden": whole(1, 4096),
        "latent": whole(1, 1024),
        "dropout": number(0.0, 1.0, open_high=True),
        "beta": number(0.0),
        "anneal_epochs": whole(1, 10_000),
        "epochs": whole(1, 10_000),
        "learning_rate": number(0.0, open_low=True),
        "batch_size": whole(1, 1_000_000),
        "seed": SEED_SPEC,
    },
    "recvae": {
        "hidden": whole(1, 4096),
        "latent": whole(1, 1024),
        "dropout": number(0.0, 1.0, open_high=True),
        "gamma": number(0.0),
        "epochs": whole(1, 10_000),
        "encoder_epochs": whole(1, 100),
        "learning_rate": number(0.0, open_low=True),
        "batch_size": whole(1, 1_000_000),
        "seed": SEED_SPEC,
    },
    "itemknn": {
        "neighbours": whole(1, 1_000_000),
        "shrink": number(0.0),
        "similarity": Spec("choice", choices=("cosine", "bm25")),
        "bm25_k1": number(0.0),
        "bm25_b": number(0.0, 1.0),
        "seed": SEED_SPEC,
    },
    "bpr": {
        "factors": FACTORS_SPEC,
        "learning_rate": number(0.0, open_low=True),
        "regularization": number(0.0),
        "iterations": ITERATIONS_SPEC,
        "seed": SEED_SPEC,
        "num_threads": whole(0, 1024),
    },
    "pop": {"seed": SEED_SPEC},
    "spark-als": {
        "factors": FACTORS_SPEC,
        "regularization": number(0.0),
        "alpha": number(0.0),
        "iterations": ITERATIONS_SPEC,
        "seed": SEED_SPEC,
        "blocks": whole(0, 100_000),
        "nonnegative": Spec("bool"),
        "checkpoint_interval": whole(1, 100_000),
    },
}


def bad_values(spec: Spec) -> list[Any]:
    """Values the parameter must refuse: out of range, non-finite, of the wrong type."""
    wrong_types: list[Any] = ["abc", None, [1], {"a": 1}]
    if spec.kind == "int":
        out = [spec.low - 1, spec.high + 1, 2.5, float("nan"), float("inf"), True, False, "5"]
        if spec.low > 0:
            out.append(0)
        if spec.low >= 0:
            out.append(-5)
        return out + wrong_types
    if spec.kind == "float":
        out = [float("nan"), float("inf"), float("-inf"), True, "1.0", "nan", np.float64("nan")]
        if math.isfinite(spec.low):
            out += [spec.low - 1, spec.low - 1e-9, -5.0]
            if spec.open_low:
                out += [spec.low, 0]
        if math.isfinite(spec.high):
            out += [spec.high + 1e-9, spec.high + 1]
            if spec.open_high:
                out += [spec.high]
        return out + wrong_types
    if spec.kind == "bool":
        return [0, 1, "true", "yes", 1.0, np.int64(1)] + wrong_types[1:]
    return ["pearson", "", spec.choices[0].upper(), 1, True] + wrong_types[1:]


def good_values(spec: Spec) -> list[tuple[Any, Any]]:
    """(value given, value kept) pairs the parameter must accept, boundaries included."""
    if spec.kind == "int":
        low, high = int(spec.low), int(spec.high)
        return [(low, low), (high, high), (np.int64(low), low), (float(high), high)]
    if spec.kind == "float":
        low = spec.low + 1e-9 if spec.open_low else spec.low
        high = spec.high if math.isfinite(spec.high) else 1e30
        if spec.open_high:
            high -= 1e-9
        ones = [(1, 1.0)] if high > 1 else []
        return [(low, low), *ones, (np.float32(0.5), 0.5), (high, high)]
    if spec.kind == "bool":
        return [(True, True), (False, False), (np.bool_(True), True)]
    return [(choice, choice) for choice in spec.choices]


BAD = [
    pytest.param(model, parameter, value, id=f"{model}-{parameter}-{value!r}")
    for model, parameters in EXPECTED.items()
    for parameter, spec in parameters.items()
    for value in bad_values(spec)
]
GOOD = [
    pytest.param(model, parameter, value, kept, id=f"{model}-{parameter}-{value!r}")
    for model, parameters in EXPECTED.items()
    for parameter, spec in parameters.items()
    for value, kept in good_values(spec)
]
TINY = sp.csr_matrix(np.eye(4, 6, dtype=np.float32) + np.eye(4, 6, k=1, dtype=np.float32))
LIKES = sp.csr_matrix(np.random.default_rng(0).random((30, 12)) < 0.4, dtype=np.float32)


QUICK = {
    "als": {"factors": 3, "iterations": 3},
    "ials": {"factors": 3, "iterations": 3},
    "bpr": {"factors": 3, "iterations": 3},
    "ease": {"regularization": 1.0},
    "admm-slim": {"l2": 1.0, "rho": 10.0, "iterations": 3},
    "mult-vae": {"hidden": 4, "latent": 2, "epochs": 2},
    "recvae": {"hidden": 4, "latent": 2, "epochs": 1, "encoder_epochs": 1},
    "itemknn": {},
    "pop": {},
    "spark-als": {"factors": 3, "iterations": 3},
}
FITTED_HERE = [
    pytest.param(name, marks=pytest.mark.needs("torch")) if name in ("mult-vae", "recvae") else name
    for name in MODELS
    if name != "spark-als"
]
"""Models these tests fit (the VAEs need PyTorch); Spark's needs a JVM and is fitted in
tests/test_spark.py."""


def assert_one_line_naming(error: BaseException, parameter: str, value: Any) -> None:
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"{parameter} must be ")
    assert ", got " in message and "; " in message.split(", got ", 1)[1]
    shown = message.split(", got ", 1)[1].rsplit("; ", 1)[0]
    assert len(shown) <= 40
    assert shown.rstrip("…") in " ".join(repr(value).split())


# ---- the specification matches the models -----------------------------------------------------
def test_every_model_and_every_parameter_is_specified_here() -> None:
    assert set(EXPECTED) == set(MODELS)
    for name, cls in MODELS.items():
        assert list(cls.parameters) == list(EXPECTED[name]), name


@pytest.mark.parametrize("name", list(MODELS))
def test_parameters_are_those_of_init_and_read_only(name: str) -> None:
    cls = MODELS[name]
    signature = inspect.signature(cls.__init__).parameters
    assert dict(cls.parameters) == {
        key: parameter.default for key, parameter in signature.items() if key != "self"
    }
    with pytest.raises(TypeError):
        cls.parameters["factors"] = 1  # type: ignore[index]


@pytest.mark.parametrize("name", list(MODELS))
def test_every_default_is_valid_and_kept_as_is(name: str) -> None:
    model = make_model(name)
    assert model.get_params() == dict(MODELS[name].parameters)


# ---- bad values are refused at every boundary -------------------------------------------------
@pytest.mark.parametrize("model, parameter, value", BAD)
def test_make_model_refuses_a_bad_value_in_one_line(model: str, parameter: str, value: Any) -> None:
    with pytest.raises(ParameterError) as caught:
        make_model(model, **{parameter: value})
    assert_one_line_naming(caught.value, parameter, value)
    assert isinstance(caught.value, MovieRecError)


@pytest.mark.parametrize("model, parameter, value", BAD)
def test_the_class_itself_refuses_a_bad_value(model: str, parameter: str, value: Any) -> None:
    with pytest.raises(ParameterError, match=f"^{parameter} must be"):
        MODELS[model](**{parameter: value})


@pytest.mark.parametrize("model, parameter, value", BAD)
def test_set_params_refuses_a_bad_value_and_changes_nothing(
    model: str, parameter: str, value: Any
) -> None:
    built = make_model(model)
    before = built.get_params()
    others = {
        key: good_values(spec)[-1][0]
        for key, spec in EXPECTED[model].items()
        if key != parameter and spec.kind != "bool"
    }
    with pytest.raises(ParameterError, match=f"^{parameter} must be"):
        built.set_params(**others, **{parameter: value})
    assert built.get_params() == before


@pytest.mark.parametrize("model, parameter, value", BAD)
def test_fit_refuses_a_bad_value_assigned_after_construction(
    model: str, parameter: str, value: Any
) -> None:
    built = make_model(model)
    setattr(built, parameter, value)
    with pytest.raises(ParameterError, match=f"^{parameter} must be"):
        built.fit(TINY)
    assert all(getattr(built, attribute) is None for attribute in built.learned)


@pytest.mark.parametrize("model", list(MODELS))
def test_an_unknown_parameter_is_refused_everywhere(model: str) -> None:
    with pytest.raises(MovieRecError, match="has no parameter 'wings'"):
        make_model(model, wings=2)
    with pytest.raises(MovieRecError, match="has no parameter 'wings'"):
        make_model(model).set_params(wings=2)
    with pytest.raises(TypeError):
        MODELS[model](wings=2)


class Trusting(Model):
    """A model whose ``__init__`` checks nothing (like a test double): only the base checks."""

    name = "trusting"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> Trusting:
        return self

    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return np.zeros((len(user_indices), user_items.shape[1]))

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        return np.zeros(user_items.shape)

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.empty(0, dtype=np.int64), np.empty(0)

    def state(self) -> dict[str, np.ndarray]:
        return {}

    def set_state(self, arrays: dict[str, np.ndarray]) -> Trusting:
        return self


def test_make_model_checks_even_a_model_whose_init_does_not(monkeypatch) -> None:
    monkeypatch.setitem(MODELS, "trusting", Trusting)
    assert Trusting(seed=-1).seed == -1
    with pytest.raises(ParameterError, match="^seed must be a whole number from 0"):
        make_model("trusting", seed=-1)
    assert make_model("trusting", seed=np.int64(3)).get_params() == {"seed": 3}


def test_a_long_value_is_cut_in_the_message() -> None:
    with pytest.raises(ParameterError) as caught:
        make_model("itemknn", similarity="x" * 10_000)
    assert len(str(caught.value)) < 200
    assert "…" in str(caught.value)


# ---- good values are accepted, normalized ----------------------------------------------------
@pytest.mark.parametrize("model, parameter, value, expected", GOOD)
def test_a_boundary_value_is_accepted_at_every_boundary(
    model: str, parameter: str, value: Any, expected: Any
) -> None:
    spec = EXPECTED[model][parameter]
    kept = make_model(model, **{parameter: value}).get_params()[parameter]
    expected_type = {"int": int, "float": float, "bool": bool, "choice": str}[spec.kind]
    assert type(kept) is expected_type
    assert kept == expected
    assert MODELS[model](**{parameter: value}).get_params()[parameter] == kept
    assert make_model(model).set_params(**{parameter: value}).get_params()[parameter] == kept


def test_the_shipped_figures_are_kept_exactly() -> None:
    notebook = make_model("als", factors=500, regularization=0.001, alpha=1, iterations=100)
    assert notebook.get_params() == {
        "factors": 500,
        "regularization": 0.001,
        "alpha": 1.0,
        "iterations": 100,
        "seed": 42,
        "use_gpu": False,
    }


# ---- get_params / set_params round trip -------------------------------------------------------
def non_default(model: str) -> dict[str, Any]:
    """A valid value other than the default for every parameter."""
    out = {}
    for parameter, spec in EXPECTED[model].items():
        default = MODELS[model].parameters[parameter]
        out[parameter] = next(given for given, _ in good_values(spec) if given != default)
    return out


@pytest.mark.parametrize("model", list(MODELS))
def test_get_params_rebuilds_the_same_model(model: str) -> None:
    original = make_model(model, **non_default(model))
    params = original.get_params()
    assert set(params) == set(MODELS[model].parameters)
    rebuilt = type(original)(**params)
    assert rebuilt.get_params() == params
    assert make_model(model, **params).get_params() == params
    assert json.loads(json.dumps(params)) == params  # what a saved model's meta.json holds


@pytest.mark.parametrize(
    "model, switch, value", [("als", "use_gpu", True), ("bpr", "num_threads", 4)]
)
def test_run_switches_round_trip_too(model: str, switch: str, value: Any) -> None:
    built = make_model(model, **{switch: value})
    assert make_model(model, **built.get_params()).get_params()[switch] == value


@pytest.mark.parametrize("model", FITTED_HERE)
def test_a_rebuilt_model_learns_the_same_state(model: str) -> None:
    first = make_model(model, **QUICK[model], seed=7).fit(TINY)
    again = type(first)(**first.get_params()).fit(TINY)
    for key, array in first.state().items():
        np.testing.assert_array_equal(array, again.state()[key])


@pytest.mark.parametrize("model", list(MODELS))
def test_set_params_sets_returns_self_and_agrees_with_init(model: str) -> None:
    params = non_default(model)
    built = make_model(model)
    assert built.set_params(**params) is built
    assert built.get_params() == make_model(model, **params).get_params()


# ---- declaring a model -----------------------------------------------------------------------
def test_a_parameter_without_a_constraint_is_a_definition_error() -> None:
    with pytest.raises(TypeError, match="missing \\['depth'\\]"):

        class Unchecked(Model):
            name = "unchecked"

            def __init__(self, depth: int = 3, seed: int = 0) -> None:
                self.depth, self.seed = depth, seed


def test_a_constraint_for_no_parameter_is_a_definition_error() -> None:
    with pytest.raises(TypeError, match="not parameters \\['k'\\]"):

        class Stray(Model):
            name = "stray"
            constraints = {"seed": SEED, "k": Whole(1, 10)}

            def __init__(self, seed: int = 0) -> None:
                self.seed = seed


def test_a_default_the_constraints_refuse_is_a_definition_error() -> None:
    with pytest.raises(TypeError, match="default"):

        class BadDefault(Model):
            name = "bad-default"
            constraints = {"seed": SEED, "depth": Whole(1, 10)}

            def __init__(self, depth: int = 0, seed: int = 0) -> None:
                self.depth, self.seed = depth, seed


def test_a_declared_model_takes_its_fields_in_order_and_checks_them() -> None:
    """``@hyperparameters``: each field is one hyperparameter with its default and constraint;
    the generated ``__init__`` takes them by position or name, checks them, and leaves what
    the model learns unset."""

    @hyperparameters
    class Declared(Trusting):
        name = "declared"
        learned = ("weights",)

        depth: int = hyperparameter(3, Whole(1, 10))
        seed: int = hyperparameter(0, SEED)

    assert Declared.parameters == {"depth": 3, "seed": 0}
    assert dict(Declared.constraints) == {"depth": Whole(1, 10), "seed": SEED}
    built = Declared(4, seed=np.int64(7))
    assert built.get_params() == {"depth": 4, "seed": 7} and type(built.seed) is int
    assert repr(built) == "Declared(depth=4, seed=7)" and built.weights is None
    assert built != Declared(4, 7)  # models compare by identity, as without the decorator
    with pytest.raises(ParameterError, match="^depth must be a whole number from 1 to 10"):
        Declared(depth=0)


def test_a_field_without_a_constraint_is_a_definition_error() -> None:
    with pytest.raises(TypeError, match="missing \\['depth'\\]"):

        @hyperparameters
        class Unchecked(Trusting):
            name = "unchecked"

            depth: int = 3
            seed: int = hyperparameter(0, SEED)


def test_a_field_default_its_constraint_refuses_is_a_definition_error() -> None:
    with pytest.raises(TypeError, match="default"):

        @hyperparameters
        class BadDefault(Trusting):
            name = "bad-default"

            depth: int = hyperparameter(0, Whole(1, 10))
            seed: int = hyperparameter(0, SEED)


def test_catch_all_keyword_arguments_are_a_definition_error() -> None:
    with pytest.raises(TypeError, match="name its parameters"):

        class Loose(Model):
            name = "loose"

            def __init__(self, seed: int = 0, **kwargs: Any) -> None:
                self.seed = seed


# ---- search spaces name only real parameters, inside their ranges ----------------------------
SPACES = sorted(set(tuning.SEARCH_SPACES) | set(MODELS) - {"pop"})


@pytest.mark.parametrize("model", SPACES)
def test_every_search_space_names_only_real_parameters_within_range(model: str) -> None:
    space = tuning.search_space(model)
    cls = MODELS[model]
    for name, dims in space.items():
        if name == "weighting":
            assert set(dims[1]) <= {"rating", "binary", "bm25"}
            continue
        assert name in cls.parameters and name not in tuning.NOT_TUNED, (model, name)
        values = list(dims[1]) if dims[0] == "categorical" else [dims[1], dims[2]]
        for value in values:
            cls.valid_params({name: value})
    assert set(space) == set(tuning.SEARCH_SPACES.get(model, space))  # nothing dropped


def test_a_search_space_naming_no_parameter_is_refused(monkeypatch) -> None:
    with pytest.raises(MovieRecError, match="names 'k', which is not a tunable parameter"):
        tuning.check_space("itemknn", {"k": ("int_log", 10, 1000)})
    monkeypatch.setitem(tuning.SEARCH_SPACES, "itemknn", {"k": ("int_log", 10, 1000)})
    with pytest.raises(MovieRecError, match="names 'k'"):
        tuning.search_space("itemknn")


def test_a_model_with_nothing_to_tune_says_so() -> None:
    with pytest.raises(MovieRecError, match="no hyperparameters to tune"):
        tuning.search_space("pop")


# ---- nothing non-finite comes out of a fit ---------------------------------------------------
def poisoned(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``arrays`` with a NaN in the first floating-point one."""
    out = dict(arrays)
    for key, array in arrays.items():
        if np.asarray(array).dtype.kind == "f":
            copy = np.array(array, copy=True)
            copy.flat[0] = np.nan
            out[key] = copy
            return out
    raise AssertionError("no floating-point array to poison")


@pytest.mark.parametrize("value", [1e39, float("inf"), float("nan")])
@pytest.mark.parametrize("model", list(MODELS))
def test_an_input_float32_cannot_hold_is_refused_before_fitting(model: str, value: float) -> None:
    matrix = sp.csr_matrix(TINY, dtype=np.float64)
    matrix.data[0] = value
    built = make_model(model, **QUICK[model])
    with pytest.raises(MovieRecError, match="float32 holds finite numbers up to 3.4e\\+38"):
        built.fit(matrix)
    assert all(getattr(built, attribute) is None for attribute in built.learned)


@pytest.mark.parametrize("model", ["als", "ials", "ease"])
def test_huge_ratings_that_overflow_are_refused_naming_the_cause(model: str) -> None:
    matrix = LIKES.copy()
    matrix.data[:] = 1e30
    built = make_model(model, **QUICK[model])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one line, no NumPy warnings before it
        with pytest.raises(MovieRecError, match="learned NaN or infinite .*\\(up to 1e\\+30"):
            built.fit(matrix)
    with pytest.raises(MovieRecError, match="not trained yet"):
        built.fold_in_scores(TINY[:1])


def test_a_diverging_fit_names_the_parameter_to_change() -> None:
    built = make_model("bpr", factors=4, learning_rate=10.0, iterations=30)
    with pytest.raises(MovieRecError, match="diverged; lower learning_rate \\(now 10\\)"):
        built.fit(LIKES)
    assert built.user_factors is None and built.item_factors is None


@pytest.mark.parametrize("model", FITTED_HERE)
def test_non_finite_learned_state_is_refused_and_discarded(model: str, monkeypatch) -> None:
    cls = MODELS[model]
    real_state = cls.state
    monkeypatch.setattr(cls, "state", lambda self: poisoned(real_state(self)))
    built = make_model(model, **QUICK[model])
    with pytest.raises(MovieRecError, match=f"^{model} learned NaN or infinite values"):
        built.fit(TINY)
    monkeypatch.undo()
    assert all(getattr(built, attribute) is None for attribute in built.learned)
    with pytest.raises(MovieRecError, match="not trained yet"):
        built.fold_in_scores(TINY[:1])


@pytest.mark.parametrize("model", FITTED_HERE)
def test_check_state_refuses_loaded_arrays_holding_nan(model: str) -> None:
    fitted = make_model(model, **QUICK[model]).fit(TINY)
    assert fitted.check_state() is fitted
    restored = make_model(model, **fitted.get_params()).set_state(poisoned(fitted.state()))
    with pytest.raises(ModelError, match="hold NaN or infinite values; retrain it"):
        restored.check_state()


def test_non_finite_names_only_the_arrays_with_nan_or_infinity(tmp_path: Path) -> None:
    path = tmp_path / "big.npy"
    np.save(path, np.array([[1.0, np.inf]], dtype=np.float32))
    arrays = {
        "clean": np.ones(3, dtype=np.float32),
        "nan64": np.array([0.0, np.nan]),
        "huge": np.full(4, np.finfo(np.float32).max, dtype=np.float32),
        "ints": np.array([1, 2]),
        "mapped": np.load(path, mmap_mode="r"),
        "empty": np.empty(0, dtype=np.float32),
    }
    assert non_finite(arrays) == ["nan64", "mapped"]


# ---- --models name:param=value ---------------------------------------------------------------
@pytest.mark.parametrize(
    "text, message",
    [
        ("als:factors=abc", "factors must be a whole number from 1 to 4096, got 'abc'; "),
        ("als:factors=2.5", "factors must be a whole number from 1 to 4096, got 2.5"),
        ("als:factors=0", "got 0; write e.g. als:factors=64"),
        ("als:factors=true", "factors must be a whole number from 1 to 4096, got True"),
        ("als:alpha=0", "alpha must be a finite number > 0, got 0; write e.g. als:alpha=1.0"),
        ("als:alpha=nan", "alpha must be a finite number > 0, got 'nan'"),
        ("als:alpha=NaN", "alpha must be a finite number > 0, got nan"),
        ("als:regularization=Infinity", "regularization must be a finite number ≥ 0, got inf"),
        ("notebook:iterations=-3", "got -3; write e.g. notebook:iterations=10"),
        ("itemknn:similarity=pearson", "write e.g. itemknn:similarity=cosine"),
        ("als:use_gpu=1", "use_gpu must be true or false, got 1; write e.g. als:use_gpu=false"),
        ("ease:seed=-1", "seed must be a whole number from 0 to 4294967295, got -1"),
    ],
)
def test_a_model_spec_with_a_bad_value_is_one_line(text: str, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        parse_model_spec(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_model_spec_keeps_values_normalized() -> None:
    spec = parse_model_spec("als:factors=64.0:alpha=2")
    assert spec.params == {"factors": 64, "alpha": 2.0}
    assert type(spec.params["factors"]) is int and type(spec.params["alpha"]) is float


# ---- presets, shipped and the user's ---------------------------------------------------------
@pytest.mark.parametrize("name", list(config.PRESETS))
def test_every_shipped_preset_passes_the_checks_unchanged(name: str) -> None:
    preset = get_preset(name)
    shipped = dict(config.PRESETS[name])
    assert preset.model == shipped.pop("model")
    assert preset.weighting == shipped.pop("weighting", "rating")
    assert preset.params == shipped
    assert make_model(preset.model, **preset.params).get_params().items() >= shipped.items()


def write_presets(folder: Path, presets: dict[str, Any]) -> Path:
    path = folder / "presets.json"
    path.write_text(json.dumps({"presets": presets, "provenance": {}}))
    return path


BROKEN_PRESETS = [
    ({"model": "als", "factors": 0}, "factors must be a whole number from 1 to 4096, got 0"),
    ({"model": "als", "factors": "abc"}, "got 'abc'"),
    ({"model": "als", "alpha": -1}, "alpha must be a finite number > 0, got -1"),
    ({"model": "ease", "regularization": None}, "regularization must be"),
    ({"model": "als", "wings": 2}, "has no parameter 'wings'"),
    ({"model": "svd"}, "names model 'svd'"),
    ({"model": "als", "weighting": "loud"}, "has weighting 'loud'"),
    ({"model": "als", "min_rating": "high"}, "has min_rating 'high', not a finite number"),
    (["als"], "is not a mapping"),
]


@pytest.mark.parametrize("preset, message", BROKEN_PRESETS)
def test_a_broken_user_preset_is_refused_naming_the_file(
    preset: Any, message: str, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path))
    path = write_presets(tmp_path, {"mine": preset, "fine": {"model": "als", "factors": 8}})
    for attempt in (lambda: get_preset("mine"), lambda: parse_model_spec("mine")):
        with pytest.raises(MovieRecError) as caught:
            attempt()
        text = str(caught.value)
        assert message in text and "'mine'" in text and str(path) in text, text
        assert "\n" not in text
    assert get_preset("fine").params == {"factors": 8}  # the others still work


@pytest.mark.parametrize("preset, message", BROKEN_PRESETS[:-1])
def test_an_invalid_preset_is_never_saved(
    preset: Any, message: str, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path))
    with pytest.raises(MovieRecError, match=message.replace("(", "\\(")):
        save_user_preset("mine", preset)
    assert not (tmp_path / "presets.json").exists()


def test_a_saved_preset_holds_normalized_values(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path))
    save_user_preset("mine", {"model": "als", "factors": np.int64(32), "alpha": 2})
    saved = json.loads((tmp_path / "presets.json").read_text())["presets"]["mine"]
    assert saved == {"model": "als", "weighting": "rating", "factors": 32, "alpha": 2.0}


# ---- the command line ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "option, message",
    [
        (["--factors", "0"], "factors must be a whole number from 1 to 4096, got 0"),
        (["--factors", "-5"], "factors must be a whole number from 1 to 4096, got -5"),
        (["--iterations", "-3"], "iterations must be a whole number from 1 to 100000, got -3"),
        (["--regularization", "nan"], "regularization must be a finite number ≥ 0, got nan"),
        (["--alpha", "0"], "alpha must be a finite number > 0, got 0.0"),
        (["--seed", "-1"], "seed must be a whole number from 0 to 4294967295, got -1"),
    ],
)
def test_train_with_a_bad_hyperparameter_saves_nothing_and_says_one_line(
    option: list[str], message: str, capsys, tmp_path: Path
) -> None:
    from movierec.cli import main

    out = tmp_path / "model"
    args = ["train", "--dataset", "ml-latest-small", "--preset", "als-sparse", "--out", str(out)]
    code = main([*args, *option])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
