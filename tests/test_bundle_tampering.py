"""A saved model whose numbers were tampered with is refused on load with one line, never served:
every number a bundle carries is range-checked (the data summary against itself and the
settings, the catalogue's counts)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from movierec import Recommender
from movierec.errors import ModelError


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, small_recommender: Recommender) -> Path:
    folder = tmp_path_factory.mktemp("bundle") / "model"
    small_recommender.save(folder)
    return folder


def _tampered(saved: Path, tmp_path: Path, name: str, change: Callable[[Any], None]) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(saved, folder)
    path = folder / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")  # NaN and Infinity as Python writes them
    return folder


def _stats(field: str, value: float) -> Callable[[Any], None]:
    def change(meta: Any) -> None:
        meta["summary"]["stats"][field] = value

    return change


SUMMARY_TAMPERING = {
    "min_rating NaN": _stats("min_rating", float("nan")),
    "min_rating other than the settings'": _stats("min_rating", 1.0),
    "negative ratings_kept": _stats("ratings_kept", -1),
    "negative users": _stats("users", -5),
    "more kept than total": _stats("ratings_kept", 10**9),
    "more movies than in total": _stats("movies", 10**6),
    "kept_ratio above 1": _stats("kept_ratio", 1.5),
    "a negative count per rating": lambda meta: meta["summary"]["ratings"][0].__setitem__(1, -3),
    "more kept than rated for a rating": lambda meta: meta["summary"]["ratings"][-1].__setitem__(
        2, meta["summary"]["ratings"][-1][1] + 1
    ),
}


def test_the_untampered_bundle_loads(saved: Path) -> None:
    assert Recommender.load(saved).recommend(["Toy Story"], n=3)


@pytest.mark.parametrize("case", SUMMARY_TAMPERING)
def test_a_tampered_summary_is_refused_naming_it(saved: Path, tmp_path: Path, case: str) -> None:
    folder = _tampered(saved, tmp_path, "meta.json", SUMMARY_TAMPERING[case])
    with pytest.raises(ModelError, match=r"malformed meta\.json \(summary[.:].*retrain") as caught:
        Recommender.load(folder)
    assert "\n" not in str(caught.value)


def test_negative_catalogue_counts_are_refused(saved: Path, tmp_path: Path) -> None:
    folder = _tampered(
        saved, tmp_path, "catalogue.json", lambda data: data["count"].__setitem__(0, -7)
    )
    with pytest.raises(ModelError, match="corrupt .*fewer than zero ratings"):
        Recommender.load(folder)
