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


def _settings(change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    def tamper(meta: Any) -> None:
        change(meta["settings"])
        meta["summary"] = None  # no summary to disagree with: the settings alone are checked

    return tamper


SETTINGS_TAMPERING = {
    "min_rating NaN": (
        _settings(lambda s: s.__setitem__("min_rating", float("nan"))),
        r"malformed meta\.json \(settings\.min_rating: must be a finite number",
    ),
    "min_rating Infinity": (
        _settings(lambda s: s.__setitem__("min_rating", float("inf"))),
        r"malformed meta\.json \(settings\.min_rating: must be a finite number",
    ),
    "a negative hyperparameter": (
        _settings(lambda s: s["params"].__setitem__("l2", -5.0)),
        r"malformed settings \(.*l2",
    ),
    "an unknown hyperparameter": (
        _settings(lambda s: s["params"].__setitem__("no_such_knob", 1)),
        r"malformed settings \(.*no_such_knob",
    ),
}


@pytest.mark.parametrize("case", SETTINGS_TAMPERING)
def test_saved_settings_go_through_the_settings_check(
    saved: Path, tmp_path: Path, case: str, small: Any
) -> None:
    """Settings read from a bundle are checked as settings made in code (Settings.check): a NaN
    filter or an impossible hyperparameter is refused on load, in one line."""
    change, named = SETTINGS_TAMPERING[case]
    folder = _tampered(saved, tmp_path, "meta.json", change)
    with pytest.raises(ModelError, match=rf"{named}.*retrain") as caught:
        Recommender.load(folder, small)
    assert "\n" not in str(caught.value)


def _favourite(value: float, *, summary: bool = True) -> Callable[[Any], None]:
    def change(meta: Any) -> None:
        meta["favourite_weight"] = value
        if not summary:
            meta["summary"] = None  # checked against the dataset's own best rating instead

    return change


FAVOURITE_TAMPERING = {
    "absurdly large": _favourite(1e300),
    "absurdly small": _favourite(1e-300),
    "above the best rating": _favourite(5.5),
    "below the best rating": _favourite(4.0),
    "a tenth": _favourite(0.1),
    "absurd, checked against the dataset": _favourite(1e300, summary=False),
    "small, checked against the dataset": _favourite(1e-9, summary=False),
}


@pytest.mark.parametrize("case", FAVOURITE_TAMPERING)
def test_a_tampered_favourite_weight_is_refused(
    saved: Path, tmp_path: Path, case: str, small: Any
) -> None:
    """The favourite weight is what the settings' weighting makes of the data's best rating
    (interactions.favourite_confidence): anything else is refused on load, in one line, instead
    of answering with every score Inf or 0 (0 results)."""
    folder = _tampered(saved, tmp_path, "meta.json", FAVOURITE_TAMPERING[case])
    with pytest.raises(
        ModelError, match=r"malformed meta\.json \(favourite_weight: .*retrain"
    ) as caught:
        Recommender.load(folder, small)
    assert "\n" not in str(caught.value)


def test_a_binary_models_favourite_weight_must_be_one(tmp_path: Path, small: Any) -> None:
    from movierec.settings import Settings

    folder = tmp_path / "binary"
    Recommender.train(small, Settings(model="pop", weighting="binary")).save(folder)
    assert Recommender.load(folder).favourite_weight == 1.0
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    for weight in (5.0, 1e300, 1e-300):
        meta["favourite_weight"] = weight
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        with pytest.raises(ModelError, match=r"favourite_weight: .* 'binary' weighting.*\(1\)"):
            Recommender.load(folder)
