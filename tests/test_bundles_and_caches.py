"""Saved models and the parsed-ratings cache cannot lie: every tampering is refused (models) or
rebuilt (caches), never served."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import write_dat_dataset

from movierec import Recommender, Settings, load_dataset
from movierec.bundle import FORMAT_VERSION
from movierec.cli import main
from movierec.datasets import dataset as dataset_module
from movierec.errors import ModelError


@pytest.fixture(scope="module")
def small_recommender(small) -> Recommender:
    """A factor model, whatever the bundled data's default is: the tamperings below edit its
    user and item factors."""
    return Recommender.train(small, Settings.preset("ials-large"))


@pytest.fixture(scope="module")
def saved(small_recommender, tmp_path_factory) -> Path:
    return small_recommender.save(tmp_path_factory.mktemp("bundle") / "model")


@pytest.fixture()
def copy(saved: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    target.mkdir()
    for path in saved.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def edit_meta(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        meta = json.loads((folder / "meta.json").read_text())
        result = change(meta)
        text = json.dumps(meta if result is None else result)
        (folder / "meta.json").write_text(text)

    return apply


def edit_arrays(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        with np.load(folder / "arrays.npz") as archive:
            arrays = {k: archive[k] for k in archive.files}
        for path in folder.glob("model.*.npy"):
            arrays[path.stem] = np.load(path)
            path.unlink()
        change(arrays)
        np.savez(folder / "arrays.npz", **arrays)

    return apply


def poison(key: str, value: float) -> Callable[[dict], None]:
    def change(arrays: dict) -> None:
        array = arrays[key].astype(np.float32).copy()
        array.flat[len(array.flat) // 2] = value
        arrays[key] = array

    return change


TAMPERINGS: dict[str, tuple[Callable[[Path], None], str]] = {
    "meta is {}": (edit_meta(lambda m: {}), "malformed meta.json"),
    "meta is a list": (edit_meta(lambda m: [1, 2]), "malformed meta.json"),
    "meta is not JSON": (lambda f: (f / "meta.json").write_text("{oops"), "unreadable meta.json"),
    "meta is binary": (lambda f: (f / "meta.json").write_bytes(b"\xff\xfe\x00"), "meta.json"),
    "meta nested deep": (
        lambda f: (f / "meta.json").write_text("[" * 100_000 + "]" * 100_000),
        "meta.json",
    ),
    "newer format": (
        edit_meta(lambda m: m.update(format_version=FORMAT_VERSION + 1)),
        "newer movierec",
    ),
    "format 0": (edit_meta(lambda m: m.update(format_version=0)), "format_version"),
    "another dataset": (
        edit_meta(lambda m: m["dataset"].update(name="ml-1m")),
        "was trained on ml-1m",
    ),
    "another fingerprint": (
        edit_meta(lambda m: m["dataset"].update(fingerprint="0" * 16)),
        "was trained on",
    ),
    "n_items as text": (edit_meta(lambda m: m.update(n_items="5")), "n_items"),
    "n_users negative": (edit_meta(lambda m: m.update(n_users=-1)), "n_users"),
    "n_items off by one": (edit_meta(lambda m: m.update(n_items=m["n_items"] + 1)), "item_ids"),
    "unknown key": (edit_meta(lambda m: m.update(extra=1)), "extra"),
    "unknown model": (edit_meta(lambda m: m["settings"].update(model="svd")), "svd"),
    "unknown weighting": (edit_meta(lambda m: m["settings"].update(weighting="log")), "weighting"),
    "bad hyperparameter": (
        edit_meta(lambda m: m["settings"]["params"].update(factors=-5)),
        "factors",
    ),
    "NaN favourite weight": (
        lambda f: (f / "meta.json").write_text(
            re.sub(
                r'"favourite_weight": [0-9.]+',
                '"favourite_weight": NaN',
                (f / "meta.json").read_text(),
            )
        ),
        "favourite_weight",
    ),
    "NaN in item factors": (edit_arrays(poison("model.item_factors", np.nan)), "NaN"),
    "Inf in user factors": (edit_arrays(poison("model.user_factors", np.inf)), "NaN or infinite"),
    "item factors of another width": (
        edit_arrays(
            lambda a: a.update({"model.item_factors": a["model.item_factors"][:, :-1].copy()})
        ),
        "corrupt",
    ),
    "item factors for fewer movies": (
        edit_arrays(
            lambda a: a.update({"model.item_factors": a["model.item_factors"][:-3].copy()})
        ),
        "corrupt",
    ),
    "user factors for fewer users": (
        edit_arrays(
            lambda a: a.update({"model.user_factors": a["model.user_factors"][:-3].copy()})
        ),
        "corrupt",
    ),
    "unsorted item ids": (
        edit_arrays(lambda a: a.update(item_ids=a["item_ids"][::-1].copy())),
        "sorted",
    ),
    "ids as floats": (
        edit_arrays(lambda a: a.update(user_ids=a["user_ids"].astype(np.float64))),
        "whole numbers",
    ),
    "missing item ids": (edit_arrays(lambda a: a.pop("item_ids")), "item_ids is missing"),
    "arrays cut short": (
        lambda f: (f / "arrays.npz").write_bytes((f / "arrays.npz").read_bytes()[:500]),
        "corrupt",
    ),
    "a pickled array": (
        edit_arrays(lambda a: a.update(user_ids=np.array([object()], dtype=object))),
        "corrupt",
    ),
    "catalogue of other movies": (
        lambda f: (f / "catalogue.json").write_text(
            json.dumps({"movie_id": [1], "title": ["x"], "genres": [""], "year": [0], "count": [1]})
        ),
        "catalogue",
    ),
    "catalogue columns swapped": (
        lambda f: (f / "catalogue.json").write_text(
            (f / "catalogue.json")
            .read_text()
            .replace('"title"', '"tmp"')
            .replace('"genres"', '"title"')
        ),
        "corrupt",
    ),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_a_tampered_model_is_refused_in_one_line(
    small_recommender: Recommender, copy: Path, tampering: str, capsys
) -> None:
    damage, needle = TAMPERINGS[tampering]
    damage(copy)
    with pytest.raises(ModelError, match=needle) as raised:
        Recommender.load(copy, small_recommender.dataset)
    assert "\n" not in str(raised.value)
    if tampering == "another fingerprint":
        return  # the CLI serves a self-contained model without reading ratings to compare
    code = main(
        ["recommend", "--like", "Toy Story", "--dataset", "ml-latest-small", "--model", str(copy)]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("movierec: error:")


def test_an_untouched_copy_loads(small_recommender: Recommender, copy: Path) -> None:
    loaded = Recommender.load(copy, small_recommender.dataset)
    assert [s.movie.movie_id for s in loaded.recommend(["Toy Story"], n=5)] == [
        s.movie.movie_id for s in small_recommender.recommend(["Toy Story"], n=5)
    ]


def test_a_model_from_an_older_movierec_still_loads(small_recommender, copy: Path) -> None:
    """Format 1 without the keys this version adds (written_by) and with int32 ids."""
    meta = json.loads((copy / "meta.json").read_text())
    meta.pop("written_by")
    (copy / "meta.json").write_text(json.dumps(meta))
    edit_arrays(lambda a: a.update(user_ids=a["user_ids"].astype(np.int32)))(copy)
    assert Recommender.load(copy, small_recommender.dataset).recommend(["Toy Story"], n=3)


# ---- the parsed-ratings cache ----------------------------------------------------------------
RATINGS = [f"{u}::{m}::{(u + m) % 5 + 1}" for u in range(1, 30) for m in range(1, 5)]


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    write_dat_dataset(tmp_path / "data", RATINGS)
    return tmp_path / "data"


def cached_file(tmp_path: Path) -> Path:
    """The one parsed-cache entry (a folder of .npy columns and meta.json)."""
    (found,) = (tmp_path / "cache" / "parsed").iterdir()
    return found


def test_a_same_size_edit_with_the_old_mtime_is_not_served_stale(data_dir: Path) -> None:
    first = load_dataset("ml-1m", data_dir)
    assert first.column("rating")[0] == 3.0
    ratings = data_dir / "ml-1m" / "ratings.dat"
    stat = ratings.stat()
    text = ratings.read_text()
    ratings.write_text(text.replace("1::1::3", "1::1::4", 1))  # same size
    os.utime(ratings, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ratings.stat().st_size == stat.st_size
    second = load_dataset("ml-1m", data_dir)
    assert second.column("rating")[0] == 4.0
    assert second.fingerprint != first.fingerprint


def rewrite_cache(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """Rewrite the entry's columns and meta (``fingerprint``, ``source_sha256``) as ``change``
    leaves them."""

    def apply(folder: Path) -> None:
        meta = json.loads((folder / "meta.json").read_text())
        arrays = {p.stem: np.load(p) for p in folder.glob("*.npy")}
        arrays |= {k: np.array(v) for k, v in meta.items()}
        change(arrays)
        for path in folder.glob("*.npy"):
            path.unlink()
        kept = {k: str(arrays.pop(k)) for k in ("fingerprint", "source_sha256") if k in arrays}
        (folder / "meta.json").write_text(json.dumps(kept))
        for key, array in arrays.items():
            np.save(folder / f"{key}.npy", array, allow_pickle=array.dtype == object)

    return apply


CACHE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "columns swapped": rewrite_cache(
        lambda a: a.update(user_id=a["movie_id"], movie_id=a["user_id"])
    ),
    "a column shorter": rewrite_cache(lambda a: a.update(rating=a["rating"][:-1])),
    "ratings as ints": rewrite_cache(lambda a: a.update(rating=a["rating"].astype(np.int64))),
    "a column missing": rewrite_cache(lambda a: a.pop("movie_id")),
    "an extra column": rewrite_cache(lambda a: a.update(extra=a["rating"])),
    "fingerprint missing": rewrite_cache(lambda a: a.pop("fingerprint")),
    "another source": rewrite_cache(lambda a: a.update(source_sha256=np.array("0" * 64))),
    "values edited": rewrite_cache(lambda a: a.update(rating=a["rating"] + 1)),
    "2-D column": rewrite_cache(lambda a: a.update(rating=a["rating"].reshape(-1, 1))),
    "garbage": lambda p: (p / "rating.npy").write_bytes(b"not an array at all"),
    "empty": lambda p: (p / "rating.npy").write_bytes(b""),
    "meta not JSON": lambda p: (p / "meta.json").write_text("{"),
    "a pickle": rewrite_cache(lambda a: a.update(rating=np.array([object()], dtype=object))),
}


@pytest.mark.parametrize("damage", list(CACHE_DAMAGE))
def test_a_damaged_cache_is_rebuilt_with_one_notice(
    data_dir: Path, tmp_path: Path, capsys, damage: str
) -> None:
    loaded = load_dataset("ml-1m", data_dir)
    # copies: the loaded columns map the cache's files, which the damage rewrites in place
    truth = {key: np.array(loaded.column(key)) for key in ("user_id", "movie_id", "rating")}
    CACHE_DAMAGE[damage](cached_file(tmp_path))
    capsys.readouterr()
    again = load_dataset("ml-1m", data_dir)
    assert capsys.readouterr().err.count("rebuilding") == 1
    for key, column in truth.items():
        assert np.array_equal(again.column(key), column)
    assert again.fingerprint == loaded.fingerprint
    capsys.readouterr()
    load_dataset("ml-1m", data_dir)  # rebuilt: no notice the second time
    assert capsys.readouterr().err == ""


def test_fingerprints_of_int32_era_ids_are_unchanged() -> None:
    """Saved models record the dataset fingerprint: ids now held as int64 hash as before."""
    columns32 = {
        "user_id": np.array([1, 2], np.int32),
        "movie_id": np.array([3, 4], np.int32),
        "rating": np.array([5, 4], np.float32),
    }
    columns64 = {**columns32, "user_id": np.array([1, 2], np.int64)}
    fingerprint = dataset_module._fingerprint
    assert fingerprint(columns64) == fingerprint(columns32)
    big = {**columns64, "user_id": np.array([1, 2**40], np.int64)}
    assert fingerprint(big) != fingerprint({**columns64, "user_id": np.array([1, 0], np.int64)})
