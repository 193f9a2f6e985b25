"""What mutation testing found unguarded in :mod:`movierec.bundle`
(``python bench/mutation.py bundle``): the bounds of ``meta.json``'s shape and of the summary's
and favourite weight's checks, the exact refusals, what counts as a model folder, memory-mapped
arrays and their on-disk finiteness check, and the retries of a read that saw its folder change.

One small ALS model of a dataset of its own (2 users, 5 movies rated 1–5 by each), trained once;
each test saves it itself (mutmut runs only the tests that called the mutated function)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from movierec import Recommender, Settings, bundle
from movierec.datasets import Dataset
from movierec.errors import ModelError

RETRAIN = "retrain it with `movierec train --out DIR`"
Change = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def own() -> Dataset:
    ratings = pd.DataFrame(
        {
            "user_id": np.repeat([1, 2], 5),
            "movie_id": np.tile(np.arange(1, 6), 2),
            "rating": np.array([1, 2, 3, 4, 5, 5, 4, 3, 2, 1], dtype=np.float32),
            "timestamp": np.arange(10),
        }
    )
    movies = pd.DataFrame(
        {
            "title": [f"Movie {i} (2000)" for i in range(1, 6)],
            "genres": ["Drama"] * 5,
            "year": np.full(5, 2000, dtype=np.int32),
        },
        index=pd.Index(np.arange(1, 6), name="movie_id"),
    )
    return Dataset("own", ratings, movies, "fp-own", Path("/nowhere/own"))


@pytest.fixture(scope="module")
def trained(own: Dataset) -> Recommender:
    settings = Settings(model="als", params={"factors": 4, "iterations": 2}, min_rating=1.0)
    return Recommender.train(own, settings)


@pytest.fixture
def saved(trained: Recommender, tmp_path: Path) -> Path:
    return trained.save(tmp_path / "model")


def edit_meta(folder: Path, change: Change) -> None:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    change(meta)
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def edit_arrays(folder: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    with np.load(folder / "arrays.npz") as archive:
        arrays = {k: archive[k] for k in archive.files}
    change(arrays)
    np.savez(folder / "arrays.npz", **arrays)  # type: ignore[arg-type]


def refusal(folder: Path, dataset: Dataset | None = None) -> str:
    with pytest.raises(ModelError) as info:
        Recommender.load(folder, dataset)
    return str(info.value)


def _set(*path: str | int, to: Any) -> Change:
    def change(meta: dict[str, Any]) -> None:
        *parents, last = path
        target: Any = meta
        for key in parents:
            target = target[key]
        target[last] = to

    return change


def _drop(key: str) -> Change:
    return lambda meta: meta.pop(key)


def _rows(*ratings: float) -> list[list[float | int]]:
    return [[rating, 2, 2] for rating in ratings]


# ---- meta.json: what loads and what is refused, and the message ------------------------------
MALFORMED = "has a malformed meta.json"
META_CASES: dict[str, tuple[Change, str | None]] = {
    "a model name of 41 characters": (_set("settings", "model", to="x" * 41), MALFORMED),
    "a model name of 1 character": (_set("settings", "model", to="a"), "unknown model 'a' in {f}"),
    "a dataset name of 101 characters": (_set("dataset", "name", to="n" * 101), MALFORMED),
    "a dataset name of 1 character": (_set("dataset", "name", to="n"), None),
    "a fingerprint of 201 characters": (_set("dataset", "fingerprint", to="f" * 201), MALFORMED),
    "a fingerprint of 1 character": (_set("dataset", "fingerprint", to="f"), None),
    "no movies": (_set("n_items", to=0), "(n_items: must be at least 1)"),
    "a favourite weight of 0": (
        _set("favourite_weight", to=0),
        "(favourite_weight: must be above 0)",
    ),
    "a parameter that is a list": (
        _set("settings", "params", "factors", to=[4]),
        "(settings.params.factors: must be a number, a string or true/false)",
    ),
    "1,000 ratings in the summary": (_set("summary", "ratings", to=_rows(*range(-994, 6))), None),
    "1,001 ratings in the summary": (
        _set("summary", "ratings", to=_rows(*range(-995, 6))),
        "(summary.ratings",
    ),
    "a rating that is no number": (_set("summary", "ratings", 0, 0, to="one"), "(summary.ratings"),
    "no movies kept": (_set("summary", "stats", "movies", to=0), None),
    "a kept ratio of 0": (_set("summary", "stats", "kept_ratio", to=0.0), None),
    "a rating nobody gave": (_set("summary", "ratings", 0, to=[1.0, 0, 0]), None),
    "a negative kept count": (
        _set("summary", "ratings", 0, 2, to=-1),
        "(summary: a rating's counts are negative or more kept than rated)",
    ),
}


@pytest.mark.parametrize("case", META_CASES)
def test_meta_json_is_read_to_its_bounds(saved: Path, case: str) -> None:
    change, refused = META_CASES[case]
    edit_meta(saved, change)
    if refused is None:
        assert Recommender.load(saved).recommend(["Movie 1"], n=1)
    else:
        message = refusal(saved)
        assert refused.format(f=saved) in message and message.endswith(RETRAIN)


def test_a_model_saved_before_the_favourite_weight_loads_with_its_dataset(
    saved: Path, own: Dataset
) -> None:
    edit_meta(saved, _drop("favourite_weight"))
    assert Recommender.load(saved, own).favourite_weight == 5.0


def test_a_model_saved_before_the_summary_and_catalogue(saved: Path, own: Dataset) -> None:
    edit_meta(saved, _drop("summary"))
    (saved / "catalogue.json").unlink()
    assert not bundle.self_contained(saved)
    assert refusal(saved) == (
        f"the model at {saved} was saved by an older movierec without its catalogue and data "
        "summary: load it with its dataset (--dataset/--data-dir), or retrain it"
    )
    loaded = Recommender.load(saved, own)  # the catalogue rebuilt from the dataset
    assert loaded.summary()["ratings"] == _rows(1, 2, 3, 4, 5)
    assert loaded.popularity.loc[1] == 2  # rated 1 and 5: both kept at the model's min_rating 1


# ---- the favourite weight of a dataset of one's own: its best rating, up to a bin's width ----
@pytest.mark.parametrize(
    ("rows", "weight", "span"),
    [
        (_rows(1, 2, 3, 4, 5), 6.3, None),  # 5 to 5 + 4/3
        (_rows(1, 2, 3, 4, 5), 5.0 * (1 - 1e-6), None),  # the tolerance is inclusive
        (_rows(1, 2, 3, 4, 5), float(np.float32(5 + 4 / 3)) * (1 + 1e-6), None),
        (_rows(1, 2, 3, 4, 5), 6.4, "5 to 6.33333"),
        (_rows(1, 2, 3, 4, 5), 4.9, "5 to 6.33333"),
        (_rows(1, 5), 8.9, None),  # two rows: 5 to 9
        (_rows(1, 3, 5), 8.9, None),  # three rows: 5 to 9 too
        (_rows(1, 3, 5), 9.1, "5 to 9"),
    ],
)
def test_a_favourite_weight_within_a_bin_of_the_best_rating(
    saved: Path, rows: list, weight: float, span: str | None
) -> None:
    edit_meta(saved, _set("summary", "ratings", to=rows))
    edit_meta(saved, _set("favourite_weight", to=weight))
    if span is None:
        assert Recommender.load(saved).favourite_weight == weight
    else:
        assert f"(favourite_weight: {weight:g} is not what 'rating' weighting gives this " in (
            refusal(saved)
        )
        assert f"data's best rating ({span})); " in refusal(saved)


# ---- what counts as a model folder, and writing over one --------------------------------------
def _meta_of(keys: list[str]) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        (folder / "meta.json").write_text(json.dumps({k: meta[k] for k in keys}))

    return change


FOLDERS: dict[str, tuple[Callable[[Path], None], bool]] = {
    "as saved": (lambda folder: None, True),
    "a model array more": (lambda f: (f / "model.extra.npy").write_bytes(b""), True),
    "a file of its own": (lambda f: (f / "notes.txt").write_text("mine"), False),
    "only the three keys": (_meta_of(["format_version", "settings", "dataset"]), True),
    "no format_version": (_meta_of(["settings", "dataset"]), False),
    "no settings": (_meta_of(["format_version", "dataset"]), False),
    "no dataset": (_meta_of(["format_version", "settings"]), False),
    "a list for meta": (lambda f: (f / "meta.json").write_text("[1]"), False),
    "no meta": (lambda f: (f / "meta.json").unlink(), False),
}


@pytest.mark.parametrize("case", FOLDERS)
def test_a_model_folder_holds_a_model_and_nothing_else(saved: Path, case: str) -> None:
    change, is_model = FOLDERS[case]
    change(saved)
    assert bundle.is_model_folder(saved) is is_model


def test_saving_replaces_a_model_and_refuses_anything_else(
    trained: Recommender, saved: Path, tmp_path: Path
) -> None:
    assert trained.save(saved) == saved  # a model folder is replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="holds no movierec model \\(notes.txt is in it\\)"):
        trained.save(mine)


def test_an_array_of_exactly_the_mapped_size_is_saved_apart(
    trained: Recommender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "MMAP_BYTES", trained.model.state()["item_factors"].nbytes)
    folder = trained.save(tmp_path / "model")
    assert (folder / "model.item_factors.npy").is_file()
    arrays = bundle.read_arrays(folder)
    assert isinstance(arrays["model.item_factors"], np.memmap)


# ---- refusals, each with its reason ----------------------------------------------------------
def _as_directory(name: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        if path.exists():
            path.unlink()
        path.mkdir()

    return change


FOLDER_REFUSALS: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty": (
        lambda f: [p.unlink() for p in f.iterdir()],
        "no saved model at {f} (meta.json missing); " + RETRAIN,
    ),
    "meta is not JSON": (
        lambda f: (f / "meta.json").write_text("{"),
        "the model at {f} has an unreadable meta.json (JSONDecodeError: Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1)); " + RETRAIN,
    ),
    "meta is a folder": (
        _as_directory("meta.json"),
        "the model at {f} is corrupt (meta.json is a folder, not a file); " + RETRAIN,
    ),
    "a model array is a folder": (
        _as_directory("model.extra.npy"),
        "the model at {f} is corrupt (model.extra.npy is a folder, not a file); " + RETRAIN,
    ),
    "an archive that is no zip (read as a pickle)": (
        lambda f: (f / "arrays.npz").write_bytes(b"junk"),
        "the model at {f} is corrupt (ValueError: This file contains pickled (object) data. "
        "If you trust the file you can load it ); " + RETRAIN,  # cut at 80 characters
    ),
    "an array of Python objects": (
        lambda f: edit_arrays(f, lambda a: a.update({"model.junk": np.array([{}], dtype=object)})),
        "the model at {f} is corrupt (ValueError: Object arrays cannot be loaded when "
        "allow_pickle=False); " + RETRAIN,
    ),
    "users out of order": (
        lambda f: edit_arrays(f, lambda a: a.update(user_ids=a["user_ids"][::-1].copy())),
        "the model at {f} is corrupt (user_ids are not sorted and unique); " + RETRAIN,
    ),
    "a movie twice": (
        lambda f: edit_arrays(f, lambda a: a.update(item_ids=np.array([1, 2, 2, 4, 5]))),
        "the model at {f} is corrupt (item_ids are not sorted and unique); " + RETRAIN,
    ),
    "movies out of order after the first": (
        lambda f: edit_arrays(f, lambda a: a.update(item_ids=np.array([1, 3, 2, 4, 5]))),
        "the model at {f} is corrupt (item_ids are not sorted and unique); " + RETRAIN,
    ),
    "a user's factors missing": (
        lambda f: edit_arrays(
            f, lambda a: a.update({"model.user_factors": a["model.user_factors"][:1].copy()})
        ),
        "the model at {f} is corrupt (its arrays do not fit together: IndexError: index 1 is "
        "out of bounds for axis 0 with size 1); " + RETRAIN,
    ),
}


@pytest.mark.parametrize("case", FOLDER_REFUSALS)
def test_a_damaged_folder_is_refused_saying_why(saved: Path, case: str) -> None:
    change, message = FOLDER_REFUSALS[case]
    change(saved)
    assert refusal(saved) == message.format(f=saved)


@pytest.mark.parametrize("name", ["extra", "notes.npy", "model.txt"])
def test_folders_of_other_names_are_left_alone(saved: Path, name: str) -> None:
    (saved / name).mkdir()
    assert Recommender.load(saved).recommend(["Movie 1"], n=1)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (ValueError(), "ValueError"),
        (ValueError("first\nsecond"), "ValueError: first"),
        (OSError("x" * 90), "OSError: " + "x" * 80),
    ],
)
def test_the_reason_of_an_error_is_its_type_and_first_line(exc: Exception, reason: str) -> None:
    assert bundle.reason_of(exc) == reason


# ---- memory-mapped arrays: checked on disk, in blocks -----------------------------------------
def test_nan_in_a_mapped_array_is_refused(
    trained: Recommender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "MMAP_BYTES", 1)  # every model array in a .npy of its own
    folder = trained.save(tmp_path / "model")
    factors = np.load(folder / "model.item_factors.npy")
    factors[-1, -1] = np.nan
    np.save(folder / "model.item_factors.npy", factors)
    assert refusal(folder) == (
        f"the model at {folder} holds NaN or infinite values in model.item_factors; {RETRAIN}"
    )


def _mapped(tmp_path: Path, values: list[float]) -> np.memmap:
    np.save(tmp_path / "array.npy", np.array(values, dtype=np.float32))
    return np.load(tmp_path / "array.npy", mmap_mode="r")


@pytest.mark.parametrize(
    ("values", "finite"),
    [
        ([1.0] * 9, True),
        ([np.nan] + [1.0] * 8, False),
        ([1.0] * 8 + [np.inf], False),  # in the last block
    ],
)
def test_finite_on_disk_reads_every_block(tmp_path: Path, values: list, finite: bool) -> None:
    assert bundle._finite_on_disk(_mapped(tmp_path, values), block_bytes=10) is finite


@pytest.mark.parametrize("values", [[1.0, np.nan, 2.0, np.nan], [1.0, 2.0, 3.0, 4.0]])
def test_finite_on_disk_of_a_strided_view_reads_the_view(tmp_path: Path, values: list) -> None:
    assert bundle._finite_on_disk(_mapped(tmp_path, values)[::2]) is True


def test_finite_on_disk_of_a_file_cut_short_is_false(tmp_path: Path) -> None:
    mapped = _mapped(tmp_path, [1.0] * 64)
    os.truncate(tmp_path / "array.npy", mapped.offset + 100)
    assert bundle._finite_on_disk(mapped, block_bytes=64) is False


# ---- a read that sees its folder change starts again ------------------------------------------
class Reads:
    """Stands in for one :func:`bundle._read_once` per entry of ``outcomes`` (an exception to
    raise, or a result to return) and for the folder's identity, which changes at the moments
    ``changes`` names (``"each"``: on every look; ``"once"``: after the first; ``"never"``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, outcomes: list, changes: str) -> None:
        self.outcomes, self.calls, self.looks, self.sleeps = list(outcomes), 0, 0, []
        self.changes = changes
        monkeypatch.setattr(bundle, "_read_once", self.read_once)
        monkeypatch.setattr(bundle, "_folder_identity", self.identity)
        monkeypatch.setattr("time.sleep", self.sleeps.append)

    def read_once(self, directory: Path, dataset: Any) -> Any:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def identity(self, directory: Path) -> tuple[int, ...]:
        self.looks += 1
        if self.changes == "each":
            return (self.looks,)
        return (1,) if self.changes == "never" or self.looks == 1 else (2,)


@pytest.mark.parametrize(
    ("outcomes", "changes", "calls", "retries", "raised"),
    [
        ([ModelError("corrupt")], "never", 1, 0, "corrupt"),
        ([FileNotFoundError("gone")], "never", 1, 0, "cannot be read (FileNotFoundError: gone)"),
        ([FileNotFoundError("gone"), "model"], "once", 2, 1, None),
        ([ModelError("corrupt")], "each", 4, 3, "corrupt"),
        ([FileNotFoundError("gone")], "each", 4, 3, "was replaced again and again"),
        (["model"], "each", 4, 0, "was replaced again and again while it was read (4 tries)"),
    ],
    ids=["corrupt", "unreadable", "replaced once", "corrupt, replaced", "gone, replaced", "busy"],
)
def test_a_read_starts_again_while_the_folder_changes(
    monkeypatch: pytest.MonkeyPatch,
    outcomes: list,
    changes: str,
    calls: int,
    retries: int,
    raised: str | None,
) -> None:
    reads = Reads(monkeypatch, outcomes, changes)
    if raised is None:
        assert bundle.read(Path("model")) == "model"
    else:
        with pytest.raises(ModelError, match=re.escape(raised)):
            bundle.read(Path("model"))
    assert reads.calls == calls
    assert reads.sleeps == [0.01 * (attempt + 1) for attempt in range(retries)]


# ---- a model loaded alone stands on a dataset of its own identity, without ratings -----------
def test_a_model_loaded_alone_knows_its_data_but_not_its_ratings(saved: Path) -> None:
    dataset = Recommender.load(saved).dataset
    assert (dataset.name, dataset.fingerprint, Path(dataset.source)) == ("own", "fp-own", saved)
    assert dataset.movies["title"].tolist() == [f"Movie {i} (2000)" for i in range(1, 6)]
    with pytest.raises(ModelError) as info:
        dataset.ratings  # noqa: B018
    assert str(info.value) == (
        f"this needs the ratings of own, which the saved model at {saved} does not hold: load it "
        "with its dataset (--dataset/--data-dir or --ratings, or Recommender.load(DIR, dataset))"
    )
    assert bundle.self_contained(saved)
    again = Recommender.load(saved).save(saved.parent / "again")
    assert (again / "meta.json").read_text() == (saved / "meta.json").read_text()
    edit_meta(saved, _set("summary", to=None))
    assert not bundle.self_contained(saved)
