"""Find a dataset's files: a local data dir, the bundled copy, the cache, or a verified download."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .. import config
from ..errors import DataError
from .registry import DatasetSpec

BUNDLED_DIR = Path(__file__).parent / "bundled"


def cache_root() -> Path:
    """The per-user cache folder (``MOVIEREC_CACHE_DIR`` overrides it)."""
    override = os.environ.get(config.CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("movierec"))


def data_dir_from(data_dir: str | Path | None) -> Path | None:
    """The explicit data dir: the argument, else ``MOVIEREC_DATA_DIR``, else None."""
    chosen = data_dir if data_dir is not None else os.environ.get(config.DATA_DIR_ENV)
    if not chosen:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise DataError(
            f"data dir {path} does not exist; pass a folder holding <dataset>/ folders "
            f"in GroupLens' layout, or unset {config.DATA_DIR_ENV}"
        )
    return path


def _complete(folder: Path, spec: DatasetSpec) -> bool:
    return (folder / spec.ratings_file).is_file() and (folder / spec.movies_file).is_file()


def find_local(spec: DatasetSpec, data_dir: Path | None) -> Path | None:
    """The dataset's folder if it is already on this machine, without downloading."""
    candidates = []
    if data_dir is not None:
        candidates += [data_dir / spec.name, data_dir / spec.folder]
    candidates.append(BUNDLED_DIR / spec.folder)
    candidates.append(cache_root() / "datasets" / spec.folder)
    for folder in candidates:
        if _complete(folder, spec):
            return folder
    return None


def download(spec: DatasetSpec, progress: bool = True) -> Path:
    """Download the dataset's archive, verify its checksum and unpack it into the cache.

    The archive lands in a temporary file first and is only unpacked once verified, so a failed
    or interrupted download leaves nothing behind that a later run would trust.
    """
    import pooch

    target_root = cache_root() / "datasets"
    target_root.mkdir(parents=True, exist_ok=True)
    staging = target_root / f".{spec.folder}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        pooch.retrieve(
            spec.url,
            known_hash=spec.known_hash,
            fname=f"{spec.name}.zip",
            path=cache_root() / "downloads",
            processor=pooch.Unzip(extract_dir=str(staging)),
            progressbar=progress and sys.stderr.isatty(),
        )
    except ValueError as exc:  # pooch's checksum mismatch
        shutil.rmtree(staging, ignore_errors=True)
        raise DataError(
            f"checksum mismatch for {spec.url} ({str(exc).splitlines()[0][:120]}); "
            "the download was discarded: try again later, or pass --data-dir with a copy"
        ) from None
    except Exception as exc:  # network errors come from requests/urllib3 in many types
        shutil.rmtree(staging, ignore_errors=True)
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise DataError(
            f"could not download {spec.name} from {spec.url} ({reason}); check the network, "
            f"or pass --data-dir (or set {config.DATA_DIR_ENV}) to a folder holding {spec.name}/"
        ) from None
    unpacked = staging / spec.folder
    if not _complete(unpacked, spec):
        shutil.rmtree(staging, ignore_errors=True)
        raise DataError(f"the {spec.name} archive lacks {spec.ratings_file}; try again later")
    final = target_root / spec.folder
    shutil.rmtree(final, ignore_errors=True)
    os.replace(unpacked, final)
    shutil.rmtree(staging, ignore_errors=True)
    return final


def locate(spec: DatasetSpec, data_dir: Path | None, allow_download: bool = True) -> Path:
    """The dataset's folder: local copies first, then a download."""
    folder = find_local(spec, data_dir)
    if folder is not None:
        return folder
    if not allow_download:
        raise DataError(f"{spec.name} is not on this machine; run without --offline to download")
    return download(spec)
