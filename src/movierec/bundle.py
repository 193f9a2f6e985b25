"""Saved models: the folder format, written whole and read back only after every check.

A model folder holds ``meta.json`` (validated against :class:`Meta`), ``arrays.npz`` (the id
vocabularies and small model arrays), one ``model.<name>.npy`` per large model array (loaded
memory-mapped) and ``catalogue.json``. No pickle anywhere. Reading refuses a folder whose meta is
malformed or from a newer movierec, whose arrays disagree in shape with each other or with the
vocabularies, or which holds NaN/Inf: a corrupt model never serves.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .atomic import only_names, replace_folder
from .datasets import Dataset
from .datasets.dataset import RatingsElsewhere
from .datasets.fetch import NotAFile, not_a_file, open_regular
from .errors import ModelError, MovieRecError
from .strict_json import (
    AnyOf,
    Fields,
    Flag,
    Items,
    Mapping,
    Maybe,
    OneOf,
    Real,
    Shape,
    Text,
    Whole,
    problem_of,
)

if TYPE_CHECKING:
    from .catalogue import Catalogue
    from .models import Model
    from .settings import Settings
    from .trained import Trained

FORMAT_VERSION = 1
"""The model folder format this movierec writes and the newest it reads."""
MMAP_BYTES = 1 << 20  # model arrays this large are saved as .npy and loaded memory-mapped
META_FILE = "meta.json"
ARRAYS_FILE = "arrays.npz"
CATALOGUE_FILE = "catalogue.json"
MODEL_FILES = (META_FILE, ARRAYS_FILE, CATALOGUE_FILE)
RETRAIN = "retrain it with `movierec train --out DIR`"


def _meta_shape() -> Shape:
    """The shape of ``meta.json`` (:mod:`movierec.strict_json`), built on first use."""
    from dataclasses import fields

    from .datasets.summary import Stats
    from .interactions import WEIGHTINGS

    scalar = {"str": Text(), "int": Whole(), "float": Real()}
    settings = Fields(
        {
            "model": Text(1, 40),
            "params": Mapping(
                AnyOf([Whole(), Real(), Text(), Flag()], "a number, a string or true/false")
            ),
            "min_rating": Real(),
            "weighting": OneOf(WEIGHTINGS),
        }
    )
    summary = Fields(
        {
            "stats": Fields({f.name: scalar[str(f.type)] for f in fields(Stats)}),
            "ratings": Items(Items(fixed=[Real(), Whole(), Whole()]), max_length=1000),
        }
    )
    return Fields(
        {
            "format_version": Whole(low=1),
            "settings": settings,
            "dataset": Fields({"name": Text(1, 100), "fingerprint": Text(1, 200)}),
            "n_users": Whole(low=0),
            "n_items": Whole(low=1),
            "favourite_weight": Maybe(Real(above=0)),
            "summary": Maybe(summary),  # absent in models saved before movierec 0.2
        },
        optional=frozenset({"favourite_weight", "summary"}),
    )


def _raw_meta(directory: Path) -> Any:
    """``meta.json`` as JSON, unchecked; None when it is missing or not JSON at all."""
    try:
        with open_regular(directory / META_FILE) as source:
            return json.loads(source.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None


def is_model_folder(directory: Path) -> bool:
    """Whether ``directory`` holds a movierec model and nothing else (so it may be replaced)."""
    meta = _raw_meta(directory)
    try:
        return (
            isinstance(meta, dict)
            and {"format_version", "settings", "dataset"} <= set(meta)
            and only_names(directory, MODEL_FILES, ["model.*.npy"])
        )
    except OSError:  # the folder cannot be listed
        return False


def write(trained: Trained, directory: str | Path) -> Path:
    """Save ``trained`` to ``directory`` (missing, empty, or a movierec model, replaced
    whole); anything else there is refused before a byte is written."""
    from ._version import __version__

    def fill(staging: Path) -> None:
        meta = {
            "format_version": FORMAT_VERSION,
            "written_by": f"movierec {__version__}",
            "settings": trained.settings.to_dict(),
            "dataset": {"name": trained.data_name, "fingerprint": trained.fingerprint},
            "n_users": len(trained.users),
            "n_items": len(trained.items),
            "favourite_weight": trained.favourite_weight,
            "summary": trained.summary,
        }
        small: dict[str, np.ndarray] = {
            "user_ids": trained.users.ids,
            "item_ids": trained.items.ids,
        }
        for key, array in trained.model.state().items():
            if array.nbytes >= MMAP_BYTES:
                np.save(staging / f"model.{key}.npy", np.ascontiguousarray(array))
            else:
                small[f"model.{key}"] = array
        np.savez(staging / ARRAYS_FILE, **small)  # type: ignore[arg-type]  # numpy's stub
        trained.catalogue.save(staging / CATALOGUE_FILE)
        # meta.json last: a folder with it is complete.
        (staging / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")

    return replace_folder(directory, fill, is_model_folder, "movierec model", last=META_FILE)


def read_meta(directory: Path) -> dict[str, Any]:
    """``meta.json`` parsed and validated (ModelError naming the first problem)."""
    path = directory / META_FILE
    _check_kinds(directory)
    if not path.is_file():
        raise ModelError(f"no saved model at {directory} ({META_FILE} missing); {RETRAIN}")
    try:
        with open_regular(path) as source:
            raw = json.loads(source.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(
            f"the model at {directory} has an unreadable {META_FILE} ({reason_of(exc)}); {RETRAIN}"
        ) from None
    if isinstance(raw, dict):
        raw.pop("written_by", None)
        version = raw.get("format_version")
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise ModelError(
                f"the model at {directory} was saved by a newer movierec (format {version}; this "
                f"one reads up to {FORMAT_VERSION}): upgrade with `pip install -U movierec`, or "
                f"{RETRAIN}"
            )
    # Strict types as JSON has them (5 is a valid real, "5" no number, true no integer).
    problem = problem_of(raw, _meta_shape())
    if problem:
        raise ModelError(
            f"the model at {directory} has a malformed {META_FILE} ({problem}); {RETRAIN}"
        )
    checked = {"favourite_weight": None, "summary": None, **raw}
    problem = _summary_problem(checked)
    if problem:
        raise ModelError(
            f"the model at {directory} has a malformed {META_FILE} (summary: {problem}); {RETRAIN}"
        )
    return checked


def _check_kinds(directory: Path) -> None:
    """ModelError naming the first of the folder's model files that is there but is not a
    regular file (a FIFO would make reading it wait forever; a device, read without end)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return  # reading meta.json says what is wrong with the folder
    for name in names:
        if name in MODEL_FILES or (name.startswith("model.") and name.endswith(".npy")):
            kind = not_a_file(directory / name)
            if kind is not None:
                raise ModelError(
                    f"the model at {directory} is corrupt ({name} is {kind}, not a file); {RETRAIN}"
                )


def _summary_problem(meta: dict[str, Any]) -> str | None:
    """What makes the data summary impossible (counts below zero, more kept than total, a
    filter other than the settings'), or None: a tampered summary would be served as fact."""
    summary = meta.get("summary")
    if summary is None:
        return None
    stats = summary["stats"]
    wanted = meta["settings"]["min_rating"]
    if stats["min_rating"] != wanted:  # NaN equals nothing
        return f"min_rating {stats['min_rating']} is not the settings' {wanted}"
    counts = ("ratings_total", "ratings_kept", "users", "movies", "users_total", "movies_total")
    negative = [name for name in counts if stats[name] < 0]
    if negative:
        return f"{negative[0]} is negative"
    for kept, total in (
        ("ratings_kept", "ratings_total"),
        ("users", "users_total"),
        ("movies", "movies_total"),
    ):
        if stats[kept] > stats[total]:
            return f"{kept} exceeds {total}"
    if not 0.0 <= stats["kept_ratio"] <= 1.0:
        return f"kept_ratio {stats['kept_ratio']} is not from 0 to 1"
    if any(count < 0 or kept < 0 or kept > count for _, count, kept in summary["ratings"]):
        return "a rating's counts are negative or more kept than rated"
    return None


def _favourite_weight_problem(
    meta: dict[str, Any], weighting: str, dataset: Dataset | None
) -> str | None:
    """What makes the saved favourite weight one that training could not have made, or None.
    Training sets it to :func:`movierec.interactions.favourite_confidence` of the data's best
    rating; a tampered one (1e300, 1e-300) scores every movie Inf or 0 and answers nothing."""
    from .interactions import PER_RATING, favourite_confidence

    weight = meta["favourite_weight"]
    if weight is None:
        return None
    constant = PER_RATING.get(weighting)
    if constant is not None:  # 'binary': every kept rating, the favourite too, weighs the same
        wanted: tuple[float, float] = (constant, constant)
    elif meta["summary"] is not None and meta["summary"]["ratings"]:
        rows = meta["summary"]["ratings"]
        top, low = float(rows[-1][0]), float(rows[0][0])
        # Rows are the distinct ratings, lowest first; for data of more than MAX_RATING_ROWS
        # values (not a MovieLens release), bins labelled by their lower edge, the best rating
        # then within one bin's width above the last label: at most the span over the rows.
        from .datasets.registry import REGISTRY

        width = 0.0
        if meta["dataset"]["name"] not in REGISTRY and len(rows) > 1:
            width = (top - low) / max(len(rows) - 2, 1)
        wanted = (
            favourite_confidence(top, weighting),
            favourite_confidence(top + width, weighting),
        )
    elif dataset is not None:
        from .trained import favourite_weight_of

        best = favourite_weight_of(dataset, weighting)
        wanted = (best, best)
    else:
        return None  # read() refuses such a folder: no summary and no dataset
    low_end, high_end = wanted
    if not low_end * (1 - 1e-6) <= weight <= high_end * (1 + 1e-6):
        span = f"{low_end:g}" if low_end == high_end else f"{low_end:g} to {high_end:g}"
        return (
            f"{weight:g} is not what {weighting!r} weighting gives this data's best rating ({span})"
        )
    return None


def reason_of(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:80] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_arrays(directory: Path) -> dict[str, np.ndarray]:
    """The id vocabularies and model arrays (large ones memory-mapped), without pickle."""
    try:
        with (
            open_regular(directory / ARRAYS_FILE) as source,
            np.load(source, allow_pickle=False) as archive,
        ):
            arrays = {k: archive[k] for k in archive.files}
        for path in sorted(directory.glob("model.*.npy")):
            kind = not_a_file(path)
            if kind is not None:
                raise NotAFile(path, kind)
            # Memory-mapped: a fold-in reads only the rows it needs, so loading is instant.
            arrays[path.stem] = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        raise ModelError(
            f"the model at {directory} is corrupt ({reason_of(exc)}); {RETRAIN}"
        ) from None
    return arrays


def check_ids(directory: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """The vocabularies: present, whole numbers, sorted and unique, of the sizes meta says."""
    for key, size in (("user_ids", meta["n_users"]), ("item_ids", meta["n_items"])):
        ids = arrays.get(key)
        problem = None
        if ids is None:
            problem = f"{key} is missing"
        elif ids.ndim != 1 or ids.dtype.kind not in "iu":
            problem = f"{key} is not a list of whole numbers"
        elif len(ids) != size:
            problem = f"{len(ids)} {key} where {META_FILE} says {size}"
        elif len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            problem = f"{key} are not sorted and unique"
        if problem:
            raise ModelError(f"the model at {directory} is corrupt ({problem}); {RETRAIN}")


def check_finite(directory: Path, arrays: dict[str, np.ndarray]) -> None:
    """Refuse a saved model holding NaN or Inf in any model array. Memory-mapped arrays are
    checked by reading their files in blocks, not through the mapping: a mapped page, once
    read, counts in the process's memory, and a server that answers new users never needs most
    of its user factors."""
    from .models.base import non_finite

    mapped = {k: v for k, v in arrays.items() if isinstance(v, np.memmap) and v.dtype.kind == "f"}
    broken = [k for k, v in mapped.items() if not _finite_on_disk(v)]
    broken += non_finite({k: v for k, v in arrays.items() if k not in mapped})
    if broken:
        raise ModelError(
            f"the model at {directory} holds NaN or infinite values in {broken[0]}; {RETRAIN}"
        )


def _finite_on_disk(array: np.memmap, block_bytes: int = 1 << 23) -> bool:
    """Whether every value of a memory-mapped array is finite, read from its file in blocks of
    ``block_bytes`` (8 MiB) through one reused buffer."""
    if not array.flags.c_contiguous or array.filename is None:
        return bool(np.isfinite(array).all())
    itemsize = array.dtype.itemsize
    buffer = bytearray(block_bytes - block_bytes % itemsize)
    remaining = array.size * itemsize
    with open(array.filename, "rb") as source:
        source.seek(array.offset)
        while remaining > 0:
            count = source.readinto(memoryview(buffer)[: min(len(buffer), remaining)])
            if not count or count % itemsize:
                return False  # the file is shorter than its header says
            remaining -= count
            if not np.isfinite(
                np.frombuffer(buffer, dtype=array.dtype, count=count // itemsize)
            ).all():
                return False
    return True


def check_answers(directory: Path, model: Any, n_users: int, n_items: int) -> None:
    """Ask the restored model for one new user's and one known user's scores: arrays whose
    shapes disagree with each other or with the vocabularies fail here, not on a request."""
    from .models.base import FactorModel

    try:
        shapes = [(1, *model.liked_scores(np.zeros(1, np.int32), 1.0, n_items).shape)]
        if n_users and isinstance(model, FactorModel):  # the only models with user arrays
            shapes.append(model.scores(np.array([n_users - 1])).shape)
        similar, _ = model.similar_items(0, 1)
        valid = all(s == (1, n_items) for s in shapes) and all(0 <= i < n_items for i in similar)
    except Exception as exc:
        raise ModelError(
            f"the model at {directory} is corrupt (its arrays do not fit together: "
            f"{reason_of(exc)}); {RETRAIN}"
        ) from None
    if not valid:
        raise ModelError(
            f"the model at {directory} is corrupt (its arrays do not match its {n_users:,} users "
            f"and {n_items:,} movies); {RETRAIN}"
        )


def self_contained(directory: Path) -> bool:
    """Whether the model in ``directory`` answers without its dataset's ratings: it holds its
    catalogue and the data's summary (models saved before movierec 0.2 may not)."""
    return _answers_alone(_raw_meta(directory), directory)


def _answers_alone(meta: Any, directory: Path) -> bool:
    return (
        isinstance(meta, dict)
        and meta.get("summary") is not None
        and (directory / CATALOGUE_FILE).is_file()
    )


class SavedDataset(RatingsElsewhere):
    """The identity of the data a model was trained on and its movies (from the saved
    catalogue), without the ratings: what a saved model needs to answer. Asking for the
    ratings is a ModelError that says how to load the model with its dataset."""

    def __init__(self, meta: dict[str, Any], directory: Path, catalogue: Catalogue) -> None:
        dataset = meta["dataset"]
        super().__init__(
            dataset["name"], {}, catalogue.movies_frame, dataset["fingerprint"], directory
        )

    def missing(self) -> ModelError:
        return ModelError(
            f"this needs the ratings of {self.name}, which the saved model at {self.source} "
            "does not hold: load it with its dataset (--dataset/--data-dir or --ratings, or "
            "Recommender.load(DIR, dataset))"
        )


READ_TRIES = 4
"""How often :func:`read` starts again when the folder was replaced while it was read."""


def _folder_identity(directory: Path) -> tuple[int, ...] | None:
    """The folder now at ``directory`` and its ``meta.json`` (device, inode; the meta's inode,
    size and time); None while there is none (between the two renames of a replacement). A
    replaced model is a new folder (:func:`write`), or one filled in place, meta.json last."""
    try:
        found = os.stat(directory)
        meta = os.stat(directory / META_FILE)
    except (OSError, ValueError):
        return None
    return (found.st_dev, found.st_ino, meta.st_ino, meta.st_size, meta.st_mtime_ns)


def read(directory: Path, dataset: Dataset | None = None) -> tuple[Trained, Dataset]:
    """The trained model saved in ``directory`` after every check above (ModelError naming the
    first problem otherwise), and its dataset: ``dataset`` itself, whose identity must match
    the model's, or without it a :class:`SavedDataset`, so that the model answers from the
    folder alone and never reads ratings (see :func:`self_contained`).

    Another process may replace the model while it is read (:func:`write` swaps in a new
    folder): a read that saw the folder change under it starts again, so the answer is the old
    model or the new one, whole, never a mix of both; a ModelError if it keeps changing. An
    OSError (a file gone with the old folder) is a ModelError, never raised as it is."""
    import time

    for attempt in range(READ_TRIES):
        before = _folder_identity(directory)
        try:
            result = _read_once(directory, dataset)
        except Exception as exc:
            changed = before is None or _folder_identity(directory) != before
            if changed and attempt + 1 < READ_TRIES:
                time.sleep(0.01 * (attempt + 1))  # the other process's rename, meanwhile
                continue
            if changed and not isinstance(exc, MovieRecError):
                break
            if isinstance(exc, OSError):
                raise ModelError(
                    f"the model at {directory} cannot be read ({reason_of(exc)}); check the "
                    f"folder, or {RETRAIN}"
                ) from None
            raise
        if before is not None and _folder_identity(directory) == before:
            return result
    raise ModelError(
        f"the model at {directory} was replaced again and again while it was read "
        f"({READ_TRIES} tries); load it again once it is no longer being saved"
    )


def _read_once(directory: Path, dataset: Dataset | None) -> tuple[Trained, Dataset]:
    """One :func:`read`, the folder assumed to stay put."""
    from threadpoolctl import threadpool_limits

    from .catalogue import Catalogue
    from .interactions import Vocabulary
    from .trained import Trained, favourite_weight_of, summary_of

    meta = read_meta(directory)
    _check_identity(directory, meta, dataset)
    settings = _settings(directory, meta)
    problem = _favourite_weight_problem(meta, settings.weighting, dataset)
    if problem:
        raise ModelError(
            f"the model at {directory} has a malformed {META_FILE} (favourite_weight: {problem}); "
            f"{RETRAIN}"
        )
    arrays = read_arrays(directory)
    check_ids(directory, arrays, meta)
    users = Vocabulary(arrays.pop("user_ids").astype(np.int64, copy=False))
    items = Vocabulary(arrays.pop("item_ids").astype(np.int64, copy=False))
    check_finite(directory, arrays)
    model, catalogue = _restored(directory, settings, arrays)
    # One small solve: BLAS threads only add start-up and, on a busy machine, seconds of
    # contention (a 58k-movie ALS probe: 3.6 s with two threads under load, 0.07 s with one).
    with threadpool_limits(limits=1, user_api="blas"):
        check_answers(directory, model, len(users), len(items))
    if catalogue is None and dataset is None:  # gone since the folder was looked at
        raise ModelError(f"the model at {directory} has no {CATALOGUE_FILE}; {RETRAIN}")
    if catalogue is None:  # saved before the catalogue was: rebuilt from the dataset
        assert dataset is not None  # (mypy)
        catalogue = Catalogue.from_dataset(dataset, settings.min_rating)
    elif not np.all(np.isin(items.ids, catalogue.movie_ids)):
        raise ModelError(
            f"the model at {directory} is corrupt (its catalogue lacks some of its movies); "
            f"{RETRAIN}"
        )
    trained = Trained(
        model,
        users,
        items,
        settings,
        catalogue,
        meta["summary"] or summary_of(_given(dataset), settings.min_rating),
        meta["favourite_weight"] or favourite_weight_of(_given(dataset), settings.weighting),
        meta["dataset"]["name"],
        meta["dataset"]["fingerprint"],
    )
    return trained, dataset or SavedDataset(meta, directory, catalogue)


def _given(dataset: Dataset | None) -> Dataset:
    assert dataset is not None  # a folder without a summary is read only with its dataset
    return dataset


def _check_identity(directory: Path, meta: dict[str, Any], dataset: Dataset | None) -> None:
    """ModelError when ``dataset`` is not the model's, or is missing where the folder needs it
    (a model saved before its catalogue and summary were)."""
    if dataset is None and not _answers_alone(meta, directory):
        raise ModelError(
            f"the model at {directory} was saved by an older movierec without its catalogue "
            "and data summary: load it with its dataset (--dataset/--data-dir), or retrain it"
        )
    saved = meta["dataset"]
    if dataset is not None and (
        saved["name"] != dataset.name or saved["fingerprint"] != dataset.fingerprint
    ):
        raise ModelError(
            f"the model at {directory} was trained on {saved['name']} "
            f"(fingerprint {saved['fingerprint']}), not on this {dataset.name} "
            f"({dataset.fingerprint}); pass the matching --dataset/--data-dir or retrain"
        )


def _settings(directory: Path, meta: dict[str, Any]) -> Settings:
    """The saved settings, checked as settings made in code are (:meth:`Settings.check`)."""
    from .models import MODELS
    from .settings import Settings

    settings = Settings(**meta["settings"])
    if settings.model not in MODELS:
        raise ModelError(f"unknown model {settings.model!r} in {directory}; {RETRAIN}")
    try:
        return settings.check()
    except MovieRecError as exc:
        raise ModelError(
            f"the model at {directory} has malformed settings ({exc}); {RETRAIN}"
        ) from None


def _restored(
    directory: Path, settings: Settings, arrays: dict[str, np.ndarray]
) -> tuple[Model, Catalogue | None]:
    """The model ``settings`` name with the saved arrays, and the saved catalogue (None in
    folders saved before it was)."""
    from .catalogue import Catalogue
    from .models import make_model

    try:
        model = make_model(settings.model, **settings.params).set_state(
            {k.removeprefix("model."): v for k, v in arrays.items()}
        )
        catalogue_path = directory / CATALOGUE_FILE
        catalogue = Catalogue.load(catalogue_path) if catalogue_path.is_file() else None
    except Exception as exc:
        raise ModelError(
            f"the model at {directory} is corrupt ({reason_of(exc)}); {RETRAIN}"
        ) from None
    return model, catalogue
