"""Outputs that never destroy: atomic files, atomic folders, and folders movierec may write into.

movierec writes only into a folder that is missing, empty, or one it wrote itself, and never
deletes or overwrites anything else. A file appears whole or not at all (a temporary file beside
it, then a rename). A model folder is replaced whole: the new folder is written beside the old
one, the old one is renamed aside, the new one renamed in, then the old one is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from .errors import MovieRecError

MARKER = ".movierec.json"
"""Written first into every report or plot folder movierec creates: the folder is movierec's."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def normal_mode(directory: bool = False) -> int:
    """The permissions a plain ``open``/``mkdir`` would give under the current umask
    (``mkstemp``/``mkdtemp`` make 0600/0700, which would hide outputs from other readers)."""
    return (0o777 if directory else 0o666) & ~_umask()


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write`` with a binary file that becomes ``path`` only once ``write`` returns;
    on any failure (an interruption too) the temporary file is removed and ``path`` is left
    as it was."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.chmod(temp, normal_mode())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _shown(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 80 else f"…{text[-79:]}"


def _refuse(path: Path, why: str, flag: str) -> MovieRecError:
    return MovieRecError(
        f"{flag} {_shown(path)} {why}; movierec writes only into a new or empty folder or one it "
        f"wrote itself: pick another {flag}"
    )


def _entries(directory: Path, flag: str) -> list[Path]:
    try:
        return sorted(directory.iterdir())
    except OSError as exc:
        raise _refuse(directory, f"cannot be read ({exc.strerror or exc})", flag) from None


def _check_writable_parent(directory: Path, flag: str) -> None:
    """The nearest existing folder above ``directory`` must take a new folder (a real try,
    removed at once: permission bits alone do not tell, e.g. under /proc or read-only mounts)."""
    parent = directory.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise _refuse(directory, f"is inside {_shown(parent)}, which is a file", flag)
    try:
        os.rmdir(tempfile.mkdtemp(dir=parent, prefix=".movierec-write-check."))
    except OSError as exc:
        raise MovieRecError(
            f"cannot write {flag} {_shown(directory)}: {_shown(parent)} is not writable "
            f"({exc.strerror or exc}); pick another {flag}"
        ) from None


def target_folder(path: str | Path, flag: str) -> Path:
    """``path`` resolved (a link to a folder stays a link: its target is written), refusing a
    file, an unreadable folder or an unwritable parent."""
    directory = Path(path).expanduser().resolve()
    if directory.exists() and not directory.is_dir():
        raise _refuse(directory, "is a file, not a folder", flag)
    _check_writable_parent(directory, flag)
    if directory.is_dir() and not os.access(directory, os.W_OK | os.X_OK):
        raise MovieRecError(
            f"cannot write into {_shown(directory)}: permission denied; pick another {flag}"
        )
    return directory


def _marker_kind(directory: Path) -> str | None:
    try:
        data = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("kind") if isinstance(data, dict) else None


def claim_folder(path: str | Path, kind: str, flag: str = "--out") -> Path:
    """A folder to write ``kind`` outputs (a report, plots) into, file by file.

    Accepted: a missing folder (created), an empty one, or one whose marker says movierec wrote
    ``kind`` there; the marker is written first, so an interrupted run can be repeated. Anything
    else is a MovieRecError, checked before any slow work."""
    directory = target_folder(path, flag)
    if directory.is_dir():
        entries = _entries(directory, flag)
        if entries and _marker_kind(directory) != kind:
            raise _refuse(
                directory, f"holds files movierec did not write ({entries[0].name})", flag
            )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if _marker_kind(directory) != kind:
            text = json.dumps({"kind": kind, "written_by": "movierec"}) + "\n"
            write_atomically(directory / MARKER, lambda out: out.write(text.encode()))
    except OSError as exc:
        raise MovieRecError(
            f"cannot write {flag} {_shown(directory)}: {exc.strerror or exc}; pick another {flag}"
        ) from None
    return directory


def check_replaceable(
    path: str | Path, owns: Callable[[Path], bool], what: str, flag: str = "--out"
) -> Path:
    """The folder ``replace_folder`` may write: missing, empty, or one that ``owns`` recognizes
    as movierec's (``what`` names it in the refusal). Call it before any slow work."""
    directory = target_folder(path, flag)
    if directory.is_dir():
        entries = _entries(directory, flag)
        if entries and not owns(directory):
            raise _refuse(
                directory, f"is not empty and holds no {what} ({entries[0].name} is in it)", flag
            )
    return directory


def replace_folder(
    path: str | Path,
    fill: Callable[[Path], object],
    owns: Callable[[Path], bool],
    what: str,
    flag: str = "--out",
    last: str | None = None,
) -> Path:
    """Write a folder whole: ``fill`` writes into a new folder beside ``path``, which then takes
    the place of ``path`` (missing, empty, or a folder ``owns`` recognizes). On any failure,
    interruption included, ``path`` is left as it was and the new folder is removed. ``last``
    names the file whose presence marks the folder complete: where the folder must be filled
    in place (the empty working folder), it is moved in after the others."""
    directory = check_replaceable(path, owns, what, flag)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.new-"))
    aside: Path | None = None
    try:
        os.chmod(staging, normal_mode(directory=True))
        fill(staging)
        if directory.is_dir() and not any(directory.iterdir()) and directory == Path.cwd():
            # Renaming over the working folder would leave the shell in a deleted folder.
            _move_into(staging, directory, last)
            return directory
        if directory.is_dir() and any(directory.iterdir()):
            aside = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.old-"))
            os.replace(directory, aside)
        try:
            os.replace(staging, directory)  # onto a missing or empty folder: atomic
        except BaseException:
            if aside is not None:
                os.replace(aside, directory)  # put the old folder back
                aside = None
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    return directory


def _move_into(source: Path, directory: Path, last: str | None) -> None:
    """Move ``source``'s files into the empty ``directory``, ``last`` at the end (it is what
    marks the folder complete); on failure the moved files are taken back out."""
    names = sorted(p.name for p in source.iterdir())
    names.sort(key=lambda name: name == last)
    moved: list[str] = []
    try:
        for name in names:
            os.replace(source / name, directory / name)
            moved.append(name)
    except BaseException:
        for name in moved:
            with contextlib.suppress(OSError):
                (directory / name).unlink()
        raise


def only_names(directory: Path, allowed: Iterable[str], patterns: Iterable[str] = ()) -> bool:
    """Whether every entry of ``directory`` is a file named in ``allowed`` or matching one of
    ``patterns`` (glob)."""
    allowed = set(allowed)
    patterns = list(patterns)
    for entry in directory.iterdir():
        if not entry.is_file() or entry.is_symlink():
            return False
        if entry.name not in allowed and not any(entry.match(p) for p in patterns):
            return False
    return True
