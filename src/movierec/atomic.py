"""Outputs that never destroy: atomic files, atomic folders, and folders movierec may write into.

movierec writes only into a folder that is missing, empty, or one it wrote itself, and never
deletes or overwrites anything else. A file appears whole or not at all (a temporary file beside
it, then a rename). A model folder is replaced whole: the new folder is written beside the old
one, the old one is renamed aside, the new one renamed in, then the old one is removed.

What movierec may replace is decided at the start and checked again at the end: a file or
folder that appears (or changes) at an output path meanwhile is never replaced. A FIFO, a
device or a socket is never opened as an output: it is refused in one line, so nothing can
wait on it. A full disk or a read-only place is one line naming the output, not a temporary.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from .errors import MovieRecError

MARKER = ".movierec.json"
"""Written first into every report or plot folder movierec creates: the folder is movierec's."""

FileState = tuple[int, int, int, int]
"""What identifies one file at one path: (device, inode, size, modification time in ns)."""

ANY = object()
"""``write_atomically(expect=ANY)``: replace whatever is at the path (movierec's own files)."""

_CLAIMS: dict[Path, dict[str, FileState]] = {}
"""Folders claimed by this process (:func:`claim_folder`) → the regular files each held then:
the only ones :func:`filling` may replace."""

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISREG, "a file"),
)


def kind_of(mode: int) -> str:
    """What a ``st_mode`` is, in words: "a FIFO (named pipe)", "a socket", "a file"…"""
    return next((words for test, words in _KINDS if test(mode)), "not a file")


def file_state(path: str | Path) -> FileState | None:
    """The state of the entry at ``path`` itself (a link is not followed); None when missing."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"  # pragma: no cover


def _free(where: Path) -> str:
    try:
        vfs = os.statvfs(where)
    except OSError:
        return "unknown"
    return _size(vfs.f_bavail * vfs.f_frsize)


def _written(where: Path) -> int:
    if where.is_file():
        return where.stat().st_size
    return sum(p.stat().st_size for p in where.rglob("*") if p.is_file() and not p.is_symlink())


def system_error(exc: OSError, target: Path, written: Path | None = None) -> OSError:
    """``exc`` (the system refused a write) as one line naming ``target``, the place the user
    gave, not a temporary file; a full disk says how much was free and how much had been
    written (``written``: the temporary file or folder) when it filled. Printed by the CLI as
    a system refusal (exit 1)."""
    # numpy reports a short write (the disk filled) as "N requested and M written", no errno
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT) or "requested and" in str(exc)
    if full:
        done = ""
        if written is not None:
            with contextlib.suppress(OSError):
                done = f", {_size(_written(written))} of it written when the disk filled"
        parent = target.parent if not target.is_dir() else target
        why = f"no space left on the disk for {_shown(target)} ({_free(parent)} free{done})"
    else:
        why = f"cannot write {_shown(target)}: {exc.strerror or exc}"
    error = OSError(exc.errno or (errno.ENOSPC if full else errno.EIO), why)
    error.__cause__ = exc
    return error


def _changed(path: Path, flag: str) -> MovieRecError:
    return MovieRecError(
        f"{flag} {_shown(path)} was created or changed by another program while movierec "
        f"worked; it is left as it is and nothing was written: pick another {flag}, or run again"
    )


def _publish(temp: Path, path: Path, expect: object, flag: str) -> None:
    """Rename ``temp`` to ``path``: over anything (``expect`` ANY); only where nothing is
    (None: a hard link, which never replaces); or only over the file ``expect`` names."""
    if expect is ANY:
        os.replace(temp, path)
        return
    if expect is not None and file_state(path) not in (expect, None):
        raise _changed(path, flag)
    if expect is not None and file_state(path) == expect:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)  # fails if anything is at path: it is never replaced
    except FileExistsError:
        raise _changed(path, flag) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if file_state(path) is not None:  # no hard links here: check, then rename
            raise _changed(path, flag) from None
        os.replace(temp, path)
        return
    os.unlink(temp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def normal_mode(directory: bool = False) -> int:
    """The permissions a plain ``open``/``mkdir`` would give under the current umask
    (``mkstemp``/``mkdtemp`` make 0600/0700, which would hide outputs from other readers)."""
    return (0o777 if directory else 0o666) & ~_umask()


def write_atomically(
    path: str | Path,
    write: Callable[[IO[bytes]], object],
    expect: object = ANY,
    flag: str = "--out",
) -> Path:
    """Call ``write`` with a binary file that becomes ``path`` only once ``write`` returns;
    on any failure (an interruption too) the temporary file is removed and ``path`` is left
    as it was. ``expect``: what may be at ``path`` at the end — anything (ANY), nothing
    (None), or the file of that :func:`file_state`; else a MovieRecError naming ``flag``.
    A disk full or a refusal of the system is an OSError naming ``path`` (not the temporary
    file) and, for a full disk, the space free."""
    path = Path(path)
    try:
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise system_error(exc, path) from None
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.chmod(temp, normal_mode())
        _publish(Path(temp), path, expect, flag)
    except OSError as exc:
        error = system_error(exc, path, Path(temp))
        Path(temp).unlink(missing_ok=True)
        raise error from None
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


def _mode(path: Path) -> int | None:
    """``path``'s ``st_mode`` (a link followed), None when nothing is there; never opens it,
    so a FIFO or a device cannot make movierec wait."""
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # a link loop, a name too long…
        raise MovieRecError(
            f"{_shown(path)} cannot be checked ({exc.strerror or exc}); pick another path"
        ) from None


def _not_plain(directory: Path, entries: list[Path], flag: str) -> None:
    """Refuse a folder holding a FIFO, a device or a socket: movierec never opens one."""
    for entry in entries:
        mode = os.lstat(entry).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            raise _refuse(directory, f"holds {kind_of(mode)} ({entry.name})", flag)


def _check_writable_parent(directory: Path, flag: str) -> None:
    """The nearest existing folder above ``directory`` must take a new folder (a real try,
    removed at once: permission bits alone do not tell, e.g. under /proc or read-only mounts)."""
    parent = directory.parent
    while _mode(parent) is None and parent != parent.parent:
        parent = parent.parent
    mode = _mode(parent)
    if mode is not None and not stat.S_ISDIR(mode):
        raise _refuse(directory, f"is inside {_shown(parent)}, which is {kind_of(mode)}", flag)
    try:
        # Signals wait the few microseconds of the probe: a Ctrl+C between its two calls would
        # leave the probe behind.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            os.rmdir(tempfile.mkdtemp(dir=parent, prefix=".movierec-write-check."))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    except OSError as exc:
        raise MovieRecError(
            f"cannot write {flag} {_shown(directory)}: {_shown(parent)} is not writable "
            f"({exc.strerror or exc}); pick another {flag}"
        ) from None


def target_folder(path: str | Path, flag: str) -> Path:
    """``path`` resolved (a link to a folder stays a link: its target is written), refusing a
    file, an unreadable folder or an unwritable parent."""
    directory = Path(path).expanduser().resolve()
    mode = _mode(directory)
    if mode is not None and not stat.S_ISDIR(mode):
        raise _refuse(directory, f"is {kind_of(mode)}, not a folder", flag)
    _check_writable_parent(directory, flag)
    if directory.is_dir() and not os.access(directory, os.W_OK | os.X_OK):
        raise MovieRecError(
            f"cannot write into {_shown(directory)}: permission denied; pick another {flag}"
        )
    return directory


def _marker_kind(directory: Path) -> str | None:
    marker = directory / MARKER
    try:
        if not stat.S_ISREG(os.lstat(marker).st_mode):  # a FIFO would never answer
            return None
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("kind") if isinstance(data, dict) else None


def claim_folder(path: str | Path, kind: str, flag: str = "--out") -> Path:
    """A folder to write ``kind`` outputs (a report, plots) into, file by file.

    Accepted: a missing folder (created), an empty one, or one whose marker says movierec wrote
    ``kind`` there; the marker is written first, so an interrupted run can be repeated. Anything
    else is a MovieRecError, checked before any slow work."""
    directory = target_folder(path, flag)
    created = False
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir()  # exclusive: a folder that appears meanwhile is checked below
        created = True
    except FileExistsError:
        pass
    except OSError as exc:
        raise MovieRecError(
            f"cannot write {flag} {_shown(directory)}: {exc.strerror or exc}; pick another {flag}"
        ) from None
    try:
        entries = _entries(directory, flag)
        _not_plain(directory, entries, flag)
        if entries and _marker_kind(directory) != kind:
            raise _refuse(
                directory, f"holds files movierec did not write ({entries[0].name})", flag
            )
        if _marker_kind(directory) != kind:
            text = json.dumps({"kind": kind, "written_by": "movierec"}) + "\n"
            write_atomically(
                directory / MARKER, lambda out: out.write(text.encode()), expect=None, flag=flag
            )
    except BaseException as exc:
        if created:
            with contextlib.suppress(OSError):
                os.rmdir(directory)
        if isinstance(exc, OSError):
            raise MovieRecError(
                f"cannot write {flag} {_shown(directory)}: {exc.strerror or exc}; "
                f"pick another {flag}"
            ) from None
        raise
    # Claimed again by this process (the CLI, then the API it calls): what the folder held at
    # the first claim is what may be replaced.
    _CLAIMS.setdefault(directory, _regular_files(directory))
    return directory


def _regular_files(directory: Path) -> dict[str, FileState]:
    found = {}
    for entry in directory.iterdir():
        state = os.lstat(entry)
        if stat.S_ISREG(state.st_mode):
            found[entry.name] = (state.st_dev, state.st_ino, state.st_size, state.st_mtime_ns)
    return found


@contextlib.contextmanager
def filling(directory: str | Path, flag: str = "--out", last: str | None = None) -> Iterator[Path]:
    """A new hidden folder inside the claimed ``directory`` to write every file into; when the
    block ends well, its files are moved into ``directory`` (``last`` last), each one only
    where nothing is or over a file ``directory`` held when :func:`claim_folder` claimed it
    (else one line, MovieRecError, and nothing moved). On any failure (a full disk, an
    interruption) the new folder is removed and ``directory`` is left as it was."""
    directory = Path(directory).expanduser().resolve()
    claimed = _CLAIMS.pop(directory, None)
    if claimed is None:
        directory.mkdir(parents=True, exist_ok=True)
        claimed = _regular_files(directory)
    try:
        staging = Path(tempfile.mkdtemp(dir=directory, prefix=".movierec-new-"))
    except OSError as exc:
        raise system_error(exc, directory) from None
    try:
        try:
            yield staging
        except OSError as exc:
            raise system_error(exc, directory, staging) from None
        names = sorted(p.name for p in staging.iterdir())
        names.sort(key=lambda name: name == last)
        for name in names:  # all checked before any is moved
            if file_state(directory / name) not in (claimed.get(name), None):
                raise _changed(directory / name, flag)
        for name in names:
            _publish(staging / name, directory / name, claimed.get(name), flag)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_replaceable(
    path: str | Path, owns: Callable[[Path], bool], what: str, flag: str = "--out"
) -> Path:
    """The folder ``replace_folder`` may write: missing, empty, or one that ``owns`` recognizes
    as movierec's (``what`` names it in the refusal). Call it before any slow work."""
    directory = target_folder(path, flag)
    if directory.is_dir():
        entries = _entries(directory, flag)
        _not_plain(directory, entries, flag)
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
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.new-"))
    except OSError as exc:
        raise system_error(exc, directory) from None
    aside: Path | None = None
    try:
        os.chmod(staging, normal_mode(directory=True))
        fill(staging)
        check_replaceable(directory, owns, what, flag)  # still ours, after the slow part?
        if directory.is_dir() and not any(directory.iterdir()) and directory == Path.cwd():
            # Renaming over the working folder would leave the shell in a deleted folder.
            _move_into(staging, directory, last)
            return directory
        if directory.is_dir() and any(directory.iterdir()):
            aside = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.old-"))
            os.replace(directory, aside)
            if not owns(aside):  # changed between the check and the rename: put it back
                os.replace(aside, directory)
                aside = None
                raise _changed(directory, flag)
        try:
            os.replace(staging, directory)  # onto a missing or empty folder: atomic
        except BaseException:
            if aside is not None:
                os.replace(aside, directory)  # put the old folder back
                aside = None
            raise
    except OSError as exc:
        raise system_error(exc, directory, staging) from None
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
