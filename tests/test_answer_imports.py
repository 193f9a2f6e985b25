"""Answering from a saved or cached model imports only what answering needs: NumPy and
movierec's own modules, never SciPy, pandas, Arrow, pydantic, implicit or PyTorch (each costs
tens to hundreds of milliseconds of a command that should take a few hundred in all)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from movierec import Recommender, Settings
from movierec.models import MODELS

HEAVY = (
    *("scipy", "pandas", "pyarrow", "pydantic", "implicit", "torch", "sklearn", "matplotlib"),
    *("sqlalchemy", "alembic"),  # profiles: imported only when a profile database is named
)
ANSWERS = {
    "recommend": ["recommend", "--like", "Toy Story", "--like", "Heat", "-n", "3", "--explain"],
    "similar": ["similar", "Toy Story", "-n", "3"],
    "score": ["score", "Jumanji", "--like", "Toy Story"],
    "search": ["search", "toy story", "-n", "3"],
    "popular": ["popular", "-n", "3"],
}
PROBE = """
import json, sys
from movierec.cli import main
code = main(json.loads(sys.argv[1]))
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def heavy_imports(argv: list[str], env: dict[str, str]) -> list[str]:
    """The heavy packages a command loaded (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return report["heavy"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, small, small_recommender) -> dict[str, Path]:
    """The bundled data's default model (an EASE-family one) and an iALS model, saved."""
    folder = tmp_path_factory.mktemp("saved")
    models = {"default": folder / "default", "ials-large": folder / "ials-large"}
    small_recommender.save(models["default"])
    Recommender.train(small, Settings.preset("ials-large")).save(models["ials-large"])
    return models


@pytest.mark.parametrize("preset", ["default", "ials-large"])
@pytest.mark.parametrize("command", ANSWERS)
def test_a_saved_model_answers_with_numpy_alone(saved, preset: str, command: str) -> None:
    argv = [*ANSWERS[command], "--model", str(saved[preset])]
    assert heavy_imports(argv, dict(os.environ)) == []


@pytest.mark.slow  # trains the bundled data's default in a child process
def test_the_cached_default_answers_with_numpy_alone(tmp_path: Path) -> None:
    env = {**os.environ, "MOVIEREC_CACHE_DIR": str(tmp_path)}
    env.pop("MOVIEREC_DATA_DIR", None)
    first = ["similar", "Toy Story", "--dataset", "ml-latest-small"]
    heavy_imports(first, env)  # trains and caches the default model
    for command, argv in ANSWERS.items():
        assert heavy_imports([*argv, "--dataset", "ml-latest-small"], env) == [], command


def test_the_registry_names_each_model_by_its_own_name() -> None:
    assert all(MODELS[name].name == name for name in MODELS)


@pytest.mark.parametrize("preset", ["default", "ials-large"])
def test_folding_in_from_indices_is_the_sparse_rows_answer(small, saved, preset: str) -> None:
    """The answer path's fold-in from liked indices gives exactly what the sparse row gives."""
    import scipy.sparse as sp

    model = Recommender.load(saved[preset]).model
    n_items = 8452
    rng = np.random.default_rng(0)
    for size in (1, 2, 5, 40):
        liked = np.sort(rng.choice(n_items, size=size, replace=False)).astype(np.int32)
        row = sp.csr_matrix(
            (np.full(size, 5.0, np.float32), liked, np.array([0, size])), shape=(1, n_items)
        )
        items = rng.choice(n_items, size=7, replace=False)
        np.testing.assert_array_equal(
            model.liked_scores(liked, 5.0, n_items), model.fold_in_scores(row)[0]
        )
        np.testing.assert_array_equal(
            model.liked_contributions(liked, 5.0, n_items, items), model.contributions(row, items)
        )
