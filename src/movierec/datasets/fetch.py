"""Find a dataset's files: a local data dir, the bundled copy, the cache, or a verified download."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import time
from pathlib import Path
from typing import BinaryIO

from .. import config
from ..atomic import kind_of as atomic_kind_of
from ..atomic import write_atomically
from ..errors import DataError
from ..progress import Step, step
from .registry import DatasetSpec

BUNDLED_DIR = Path(__file__).parent / "bundled"


def cache_root() -> Path:
    """The per-user cache folder (``MOVIEREC_CACHE_DIR`` overrides it)."""
    override = os.environ.get(config.CACHE_DIR_ENV)
    if override:
        root = Path(override).expanduser()
    else:
        import platformdirs

        root = Path(platformdirs.user_cache_dir("movierec"))
    if root.exists() and not root.is_dir():
        raise DataError(
            f"the cache dir {root} is a file, not a folder; set {config.CACHE_DIR_ENV} to a "
            "folder movierec may write"
        )
    return root


def kind_of(mode: int) -> str | None:
    """What a file of ``mode`` (``st_mode``) is when it is not a regular file, in words
    (:func:`movierec.atomic.kind_of`); None for a regular file."""
    return None if stat.S_ISREG(mode) else atomic_kind_of(mode)


def not_a_file(path: Path) -> str | None:
    """What ``path`` is when it is there but not a regular file (``"a FIFO (named pipe)"``,
    ``"a socket"``, ...); None when it is a regular file or cannot be looked at (opening it
    then says why). Looking never blocks, where opening a FIFO waits for a writer."""
    try:
        return kind_of(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None


class NotAFile(OSError):
    """A path that movierec reads is there but is not a regular file."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"it is {kind}, not a regular file")
        self.strerror = f"it is {kind}, not a regular file"
        self.filename = str(path)
        self.kind = kind


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading in binary, only if it is a regular file: a FIFO, a device or
    a socket is :class:`NotAFile` (an OSError naming what it is) at once, never a wait. Opened
    without blocking, then checked on the open file, so nothing can be swapped in between."""
    kind = not_a_file(path)
    if kind is not None:
        raise NotAFile(path, kind)
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_BINARY", 0))
    try:
        kind = kind_of(os.fstat(descriptor).st_mode)
        if kind is not None:
            raise NotAFile(path, kind)
        if nonblocking:
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def data_dir_from(data_dir: str | Path | None) -> Path | None:
    """The explicit data dir: the argument, else ``MOVIEREC_DATA_DIR``, else None."""
    chosen = data_dir if data_dir is not None else os.environ.get(config.DATA_DIR_ENV)
    if not chosen:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise DataError(
            f"data dir {path} {what}; pass a folder holding <dataset>/ folders "
            f"in GroupLens' layout, or unset {config.DATA_DIR_ENV}"
        )
    return path


RETRY_AFTER_SECONDS = 600
"""After a failed download, runs within this many seconds fail at once instead of waiting on the
network again (``movierec fetch NAME`` retries now)."""


def _complete(folder: Path, spec: DatasetSpec) -> bool:
    return (folder / spec.ratings_file).is_file() and (folder / spec.movies_file).is_file()


def _local_problem(folder: Path, spec: DatasetSpec) -> str | None:
    """What is wrong with a dataset folder that is there but unusable (None if it is fine)."""
    if folder.is_symlink() and not folder.exists():
        return f"{folder} is a link that leads nowhere (or to itself)"
    if not folder.is_dir():
        return f"{folder} is a file, not a folder"
    for name in (spec.ratings_file, spec.movies_file):
        path = folder / name
        if path.is_symlink() and not path.exists():
            return f"{path} is a link that leads nowhere (or to itself)"
        if not path.exists():
            return f"{folder} has no {name}"
        kind = not_a_file(path)
        if kind is not None:
            return f"{path} is not a file (it is {kind})"
        if not os.access(path, os.R_OK):
            return f"{path} cannot be read (permission denied)"
    return None


def _candidates(spec: DatasetSpec, data_dir: Path | None) -> list[Path]:
    names = dict.fromkeys([spec.name, spec.folder])
    return [data_dir / name for name in names] if data_dir is not None else []


def find_local(spec: DatasetSpec, data_dir: Path | None) -> Path | None:
    """The dataset's folder if it is already on this machine, without downloading. A folder of
    that name in ``data_dir`` that is broken (a file missing, a dangling link) is a DataError
    naming what is wrong: movierec never silently downloads past the user's own copy."""
    for folder in _candidates(spec, data_dir):
        if not (folder.exists() or folder.is_symlink()):
            continue
        if _complete(folder, spec):
            return folder
        problem = _local_problem(folder, spec)
        if problem:
            raise DataError(
                f"{problem}; fix it, or point --data-dir (or {config.DATA_DIR_ENV}) at a folder "
                f"holding an intact {spec.name}/"
            )
    for folder in (BUNDLED_DIR / spec.folder, cache_root() / "datasets" / spec.folder):
        if _complete(folder, spec):
            return folder
    return None


def _failure_note(spec: DatasetSpec) -> Path:
    return cache_root() / "downloads" / f"{spec.name}.failed.json"


def _recent_failure(spec: DatasetSpec) -> tuple[float, str] | None:
    """(seconds ago, reason) of a download that failed within ``RETRY_AFTER_SECONDS``."""
    try:
        note = json.loads(_failure_note(spec).read_text(encoding="utf-8"))
        ago = time.time() - float(note["time"])
        reason = str(note["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (ago, reason) if 0 <= ago < RETRY_AFTER_SECONDS else None


def time_ago(seconds: float) -> str:
    """``just now``, ``1 min ago``, ``12 min ago``: how long ago, as a person says it."""
    minutes = round(seconds / 60)
    return "just now" if minutes < 1 else f"{minutes} min ago"


def failed_ago(spec: DatasetSpec) -> str | None:
    """When the dataset's last download failed (``just now``, ``3 min ago``), if that failure
    still stands (within ``RETRY_AFTER_SECONDS``)."""
    failed = _recent_failure(spec)
    return time_ago(failed[0]) if failed is not None else None


def _remember_failure(spec: DatasetSpec, reason: str) -> None:
    note = json.dumps({"time": time.time(), "reason": reason, "url": spec.url}).encode()
    with contextlib.suppress(OSError):  # an unwritable cache only means retrying next time
        _failure_note(spec).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(_failure_note(spec), lambda out: out.write(note))


def _where_else(spec: DatasetSpec) -> str:
    return f"pass --data-dir (or set {config.DATA_DIR_ENV}) to a folder holding {spec.name}/"


class _PoochBar:
    """pooch's progress-bar protocol (``total``, ``update``, ``reset``, ``close``), reported as
    a progress step in bytes."""

    def __init__(self, download: Step) -> None:
        self._step = download

    @property
    def total(self) -> float | None:
        return self._step.total

    @total.setter
    def total(self, value: float | None) -> None:
        self._step.update(total=value or None)

    def update(self, amount: float) -> None:
        self._step.advance(amount)

    def reset(self) -> None:
        self._step.update(completed=0)

    def close(self) -> None:
        self._step.update(status="verifying and unpacking")


def _retrieve(spec: DatasetSpec, staging: Path, progress: bool) -> None:
    """Download the archive with pooch, verify its checksum and unpack it into ``staging``; a
    failure removes ``staging``, is remembered, and raises a DataError naming the way out."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # no "Downloading …" chatter before our own line
    try:
        with step(
            f"downloading {spec.name}",
            done=f"downloaded, verified and unpacked {spec.name}",
            unit="bytes",
            detail=f"from {spec.url}",
        ) as download:
            pooch.retrieve(
                spec.url,
                known_hash=spec.known_hash,
                fname=f"{spec.name}.zip",
                path=cache_root() / "downloads",
                processor=pooch.Unzip(extract_dir=str(staging)),
                progressbar=_PoochBar(download) if progress else False,
            )
    except ValueError as exc:  # pooch's checksum mismatch
        shutil.rmtree(staging, ignore_errors=True)
        reason = f"checksum mismatch: {str(exc).splitlines()[0][:120]}"
        _remember_failure(spec, reason)
        raise DataError(
            f"{reason} for {spec.url}; the download was discarded: try again later with "
            f"`movierec fetch {spec.name}`, or {_where_else(spec)}"
        ) from None
    except Exception as exc:  # network errors come from requests/urllib3 in many types
        shutil.rmtree(staging, ignore_errors=True)
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        _remember_failure(spec, reason)
        raise DataError(
            f"could not download {spec.name} from {spec.url} ({reason}); check the network, "
            f"or {_where_else(spec)}"
        ) from None
    finally:
        logger.setLevel(level)


def download(spec: DatasetSpec, progress: bool = True, retry: bool = False) -> Path:
    """Download the dataset's archive, verify its checksum and unpack it into the cache.

    The archive lands in a temporary file first and is only unpacked once verified, so a failed
    or interrupted download leaves nothing behind that a later run would trust. A failure is
    remembered for ``RETRY_AFTER_SECONDS``: until then, runs fail at once (``retry`` tries now).
    """
    failed = None if retry else _recent_failure(spec)
    if failed is not None:
        seconds, reason = failed
        wait = max(1, round((RETRY_AFTER_SECONDS - seconds) / 60))
        raise DataError(
            f"{spec.name} is not on this machine and its download failed {time_ago(seconds)} "
            f"({reason}); movierec tries again in {wait} min, or now with `movierec fetch "
            f"{spec.name}`; or {_where_else(spec)}"
        )
    target_root = cache_root() / "datasets"
    target_root.mkdir(parents=True, exist_ok=True)
    staging = target_root / f".{spec.folder}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    _retrieve(spec, staging, progress)
    unpacked = staging / spec.folder
    if not _complete(unpacked, spec):
        shutil.rmtree(staging, ignore_errors=True)
        raise DataError(f"the {spec.name} archive lacks {spec.ratings_file}; try again later")
    final = target_root / spec.folder
    shutil.rmtree(final, ignore_errors=True)  # movierec's own cache entry
    os.replace(unpacked, final)
    shutil.rmtree(staging, ignore_errors=True)
    _failure_note(spec).unlink(missing_ok=True)
    return final


def locate(spec: DatasetSpec, data_dir: Path | None) -> Path:
    """The dataset's folder: local copies first, then a download."""
    folder = find_local(spec, data_dir)
    if folder is not None:
        return folder
    try:
        return download(spec)
    except DataError as exc:
        if data_dir is None:
            raise
        raise DataError(f"{data_dir} holds no {spec.name}/ folder, and {exc}") from None
