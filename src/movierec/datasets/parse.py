"""Fast, strict parsers for the MovieLens file formats.

Each parser returns plain columns, or raises a one-line DataError naming the file, the first bad
line and the way out: whatever bytes a file holds, never another exception and never a value
other than the one written.

What a ratings file may hold, line by line (blank lines are skipped; line breaks may be ``\\n``,
``\\r\\n`` or ``\\r``; a UTF-8 byte-order mark at the start is ignored):

- ids (``user_id``, ``movie_id``): ASCII decimal whole numbers from 0 to 2⁶³ − 1, an optional
  sign allowed (``+7``); stored as int64, so no id wraps or merges with another. Negative ids
  are refused: MovieLens ids are positive, and a minus sign in an id marks a damaged line.
- ``rating``: a plain decimal number (``4``, ``3.5``, ``.5``; no exponent, ``nan`` or ``inf``),
  finite as float32 and not negative; stored as float32.
- ``timestamp`` (optional, the same on every line): a whole number that fits int64.

A movies file lists each ``movie_id`` (same rules as above) once.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from ..errors import DataError
from .fetch import NotAFile, not_a_file, open_regular
from .title_format import split_year

ID_MAX = int(np.iinfo(np.int64).max)
_UNIT_SEP = b"\x1f"  # stands in for '::' so Arrow's CSV reader can split the lines
_BOM = b"\xef\xbb\xbf"
_NEWLINE = re.compile(rb"\r\n|\r|\n")  # the line breaks Arrow's CSV reader splits on
_TEXT_NEWLINE = re.compile(r"\r\n|\r|\n")  # the same, for decoded text (not str.splitlines)
_WHOLE = re.compile(rb"[+-]?[0-9]+")  # ASCII only: str.isdigit() takes '²', int() takes '٣'
_DECIMAL = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_NOT_SPACE = re.compile(rb"\S")
_CHUNK_LINES_BYTES = 1 << 20  # about 40,000 ratings lines: under a second line by line

# ml-100k's u.item genre flags, in file order (u.genre).
GENRES_100K = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)


@dataclass(frozen=True)
class _RatingsLayout:
    separator: bytes
    form: str  # what a line looks like, for messages
    has_header: bool  # csv: a 'userId,movieId,rating[,timestamp]' first line

    @property
    def allowed(self) -> bytes:
        """Every byte a ratings line may hold; anything else is refused before Arrow sees it."""
        return b"0123456789.+-\r\n" + self.separator[:1]


_RATINGS_LAYOUTS = {
    "dat": _RatingsLayout(b"::", "'UserID::MovieID::Rating[::Timestamp]'", False),
    "100k": _RatingsLayout(b"\t", "'user id<TAB>item id<TAB>rating[<TAB>timestamp]'", False),
    "csv": _RatingsLayout(b",", "'userId,movieId,rating[,timestamp]'", True),
}
_CSV_HEADER = ("userId", "movieId", "rating", "timestamp")


def _shown(path: Path) -> str:
    """A path as one printable line (a name may hold newlines or undecodable bytes)."""
    text = str(path)
    return text if text.isprintable() else ascii(text)


def _fix_hint(path: Path) -> str:
    """The way out for a bad data file. movierec never tells anyone to delete their own files;
    only its download cache may go, since it fetches a verified copy again."""
    try:
        from .fetch import cache_root

        cache = (cache_root() / "datasets").resolve()
        if path.resolve().is_relative_to(cache):
            return f"delete {_shown(path.parent)} (movierec's download cache) to fetch it again"
    except Exception:  # the hint must never turn into another error
        pass
    return "fix the file, or point --data-dir at an intact copy of the dataset"


def _excerpt(line: bytes | str) -> str:
    """The start of a line as a quoted, escaped, single-line string."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "backslashreplace")
    return repr(line[:60] + ("…" if len(line) > 60 else ""))


def _line_error(path: Path, number: int, reason: str, line: bytes | str | None) -> DataError:
    """``<file> line 7 '1::x::5': <reason>; <way out>`` (one line, whatever the line holds)."""
    quoted = f" {_excerpt(line)}" if line is not None else ""
    return DataError(f"{_shown(path)} line {number}{quoted}: {reason}; {_fix_hint(path)}")


def _read(path: Path) -> bytes:
    try:
        with open_regular(path) as source:
            raw = source.read()
    except OSError as exc:
        raise _read_error(path, exc) from None
    return raw[len(_BOM) :] if raw.startswith(_BOM) else raw


def _lines(raw: bytes, number: int) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` of ``raw`` without line breaks; the first is line ``number``."""
    position = 0
    for match in _NEWLINE.finditer(raw):
        yield number, raw[position : match.start()]
        number += 1
        position = match.end()
    if position < len(raw):
        yield number, raw[position:]


def whole_number(token: bytes | str) -> int | None:
    """The integer an ASCII decimal token spells (``"+7"`` → 7), or None."""
    if isinstance(token, str):
        if not token.isascii():
            return None
        token = token.encode("ascii")
    return int(token) if _WHOLE.fullmatch(token) else None


def _id(path: Path, line_number: int, name: str, token: bytes, line: bytes | str) -> int:
    """The id ``token`` spells; a DataError naming the line when it is not one."""
    value = whole_number(token)
    if value is None:
        raise _line_error(
            path, line_number, f"{name} {_excerpt(token)} is not a whole number", line
        )
    if value < 0:
        raise _line_error(
            path, line_number, f"{name} {value} is negative (ids are 0 or more)", line
        )
    if value > ID_MAX:
        reason = f"{name} {token.decode()} is larger than {ID_MAX:,}"
        raise _line_error(path, line_number, reason, line)
    return value


# ---- ratings ---------------------------------------------------------------------------------

_BLOCK_BYTES = 1 << 25
"""Text handed to Arrow's CSV reader at a time (32 MiB, about 1.3M ratings): big enough that
each call's overhead vanishes, small enough that a load's memory stays the parsed columns plus
a block or two, whatever the file's size."""
_COLUMNS = ("user_id", "movie_id", "rating", "timestamp")
_DTYPES = {"user_id": np.int64, "movie_id": np.int64, "rating": np.float32, "timestamp": np.int64}
_HEADER_NAMES = {
    "userId": "user_id",
    "user_id": "user_id",
    "movieId": "movie_id",
    "movie_id": "movie_id",
    "rating": "rating",
    "timestamp": "timestamp",
}
CSV_HEADER_RULE = (
    "the header should name user_id (or userId), movie_id (or movieId), rating and, "
    "optionally, timestamp, each once and nothing else"
)


def csv_header(names: list[str]) -> tuple[str, ...] | None:
    """The columns a CSV header names, in file order, as movierec's names (``userId`` →
    ``user_id``); None unless it names each of user, movie and rating once, and at most a
    timestamp besides."""
    columns = tuple(_HEADER_NAMES.get(name.strip(), "") for name in names)
    required = {"user_id", "movie_id", "rating"}
    if "" in columns or len(set(columns)) != len(columns) or not required <= set(columns):
        return None
    return columns


def read_ratings(
    path: Path, layout: str, into: Path | None = None, sha256: str | None = None
) -> dict[str, np.ndarray]:
    """Read a ratings file into columns ``user_id`` (int64), ``movie_id`` (int64), ``rating``
    (float32) and, when the file has them, ``timestamp`` (int64). Lines have 3 or 4 fields, the
    same on every line (three-field ``ratings.dat`` lines: no timestamp column); a CSV's header
    names its columns (any order). The module docstring says what each field may hold; anything
    else is a DataError naming the line.

    The file is read in blocks of about 32 MiB, each parsed by Arrow's multithreaded CSV reader
    straight into the final columns, so memory stays near the size of the result. With
    ``into`` (a folder), the columns are written there as ``<column>.npy`` files as they are
    parsed and returned memory-mapped: no second copy is made to save them.

    ``sha256``: the digest the file was looked up by (the parsed cache's key). The bytes are
    hashed as they are parsed, and a file that no longer has that digest, because it was
    written while it was read, is a DataError: what is parsed is always what is keyed."""
    spec = _RATINGS_LAYOUTS[layout]
    try:
        size = path.stat().st_size
        source = open_regular(path)  # closed below, after the blocks are read
    except OSError as exc:
        raise _read_error(path, exc) from None
    digest = _Hasher() if sha256 is not None else None
    with source:
        blocks = _blocks(path, source, digest)
        first = next(blocks, b"")
        offset = len(_BOM) if first.startswith(_BOM) else 0
        while _NOT_SPACE.search(first, offset) is None:
            more = next(blocks, b"")
            if not more:
                raise DataError(f"{_shown(path)} is empty; {_fix_hint(path)}")
            first += more
        names = None
        if spec.has_header:
            newline = _NEWLINE.search(first, offset)
            line = first[offset : newline.start() if newline else len(first)]
            names = csv_header(line.decode("utf-8", "replace").split(","))
            if names is None:
                raise _line_error(path, 1, CSV_HEADER_RULE, line)
            offset = newline.end() if newline else len(first)
        reader = _BlockReader(path, spec, names, size, into)
        reader.read(first[offset:] if offset else first, offset)
        offset = len(first)
        del first
        for block in blocks:
            reader.read(block, offset)
            offset += len(block)
    if digest is not None and digest.hexdigest() != sha256:
        raise changed_while_read(path)
    return reader.result()


class _Hasher:
    """SHA-256 of the blocks handed to :meth:`update`, computed on a thread while the caller
    parses them (hashlib lets go of the GIL): the digest costs next to no time of its own."""

    def __init__(self) -> None:
        import threading

        self._digest = hashlib.sha256()
        self._threading = threading
        self._thread: Any = None

    def update(self, data: bytes) -> None:
        self._wait()
        self._thread = self._threading.Thread(target=self._digest.update, args=(data,))
        self._thread.start()

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        self._wait()
        return self._digest.hexdigest()


def changed_while_read(path: Path) -> DataError:
    """The error for a file whose bytes changed between being looked up and being parsed."""
    return DataError(
        f"{_shown(path)} changed while it was read (its bytes are no longer those it was looked "
        "up by, so nothing parsed from it is kept); run again once it is no longer being written"
    )


def _read_error(path: Path, exc: OSError) -> DataError:
    reason = exc.strerror or type(exc).__name__
    return DataError(f"cannot read {_shown(path)}: {reason}; {_fix_hint(path)}")


def _blocks(path: Path, source: BinaryIO, digest: Any = None) -> Iterator[bytes]:
    """The file in pieces of about ``_BLOCK_BYTES``, each ending just after a ``\\n`` (so never
    inside a ``\\r\\n``) or at the end of the file; ``digest`` (a hashlib object), when given,
    is fed every byte read."""
    try:
        while data := source.read(_BLOCK_BYTES):
            if not data.endswith(b"\n"):
                data += source.readline()  # one copy of the block, where pieces need two
            if digest is not None:
                digest.update(data)
            yield data
    except OSError as exc:
        raise _read_error(path, exc) from None


def _line_number(path: Path, offset: int, known: tuple[int, int] = (0, 1)) -> int:
    """The number of the line that starts at byte ``offset`` of the file, counted on from
    ``known`` (an earlier line start and its number). Only when a line must be named: the fast
    path never counts lines."""
    start, breaks, previous = known[0], 0, b""
    with open(path, "rb") as source:
        source.seek(start)
        while start < offset:
            piece = source.read(min(offset - start, 1 << 20))
            if not piece:
                break
            start += len(piece)
            breaks += piece.count(b"\n") + piece.count(b"\r") - piece.count(b"\r\n")
            breaks -= previous == b"\r" and piece[:1] == b"\n"  # a \\r\\n cut in two
            previous = piece[-1:]
    return known[1] + breaks


class _BlockReader:
    """Fills the result columns block by block. They are allocated once, for the number of
    ratings the first block's density predicts (pages never written cost no memory), and grow
    only if the file turns out denser."""

    def __init__(
        self,
        path: Path,
        spec: _RatingsLayout,
        names: tuple[str, ...] | None,
        size: int,
        into: Path | None = None,
    ) -> None:
        self.path, self.spec, self.names, self.size, self.into = path, spec, names, size, into
        self.n_fields = len(names) if names else None
        self.bytes_read = 0
        self.rows = 0
        self.columns: dict[str, np.ndarray] = {}
        self.known_line = (0, 1)  # a line start (byte offset) and its number

    def read(self, block: bytes, offset: int) -> None:
        """Parse one block, found at byte ``offset`` of the file."""
        self.bytes_read = offset + len(block)
        names = self.names or _guess_names(block, self.spec, self.n_fields)
        if names is not None and self._read_fast(block, names):
            return
        for begin, end in _chunk_bounds(block, 0, _CHUNK_LINES_BYTES):
            chunk = block[begin:end]
            if names is None or not self._read_fast(chunk, names):
                number = _line_number(self.path, offset + begin, self.known_line)
                self.known_line = (offset + begin, number)
                part = _read_ratings_by_line(
                    self.path, chunk, number, self.spec, self.n_fields, self.names
                )
                self._append(part)

    def _read_fast(self, block: bytes, names: tuple[str, ...]) -> bool:
        """Arrow's reader, trusted only where its result is certainly what the file says: the
        bytes are limited to digits, signs, points and separators (no spaces, quotes or words),
        and every value must convert exactly to its column's type. False otherwise."""
        if block.translate(None, self.spec.allowed) or _NOT_SPACE.search(block) is None:
            return False
        import pyarrow as pa
        from pyarrow import csv as arrow_csv

        if self.spec.separator == b"::":  # no '\\x1f' in the block: the check above refused it
            block = block.replace(b"::", _UNIT_SEP)
        types = {"user_id": pa.int64(), "movie_id": pa.int64(), "rating": pa.float64()}
        try:
            table = arrow_csv.read_csv(
                pa.py_buffer(block),
                read_options=arrow_csv.ReadOptions(column_names=list(names), block_size=1 << 22),
                parse_options=arrow_csv.ParseOptions(
                    delimiter=(
                        _UNIT_SEP if self.spec.separator == b"::" else self.spec.separator
                    ).decode(),
                    quote_char=False,
                    double_quote=False,
                    escape_char=False,
                    newlines_in_values=False,
                    ignore_empty_lines=True,
                ),
                convert_options=arrow_csv.ConvertOptions(
                    column_types={name: types.get(name, pa.int64()) for name in names},
                    null_values=[],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
            return False
        del block
        if self.n_fields is None:
            self.n_fields = len(names)
        start = self.rows
        self._reserve(table.num_rows)
        for name in names:
            target = self.columns[name]
            position = start
            for chunk in table.column(name).chunks:
                values = chunk.to_numpy(zero_copy_only=True)
                with np.errstate(over="ignore", invalid="ignore"):
                    target[position : position + len(values)] = values
                position += len(values)
        del table
        written = {name: self.columns[name][start : start + (position - start)] for name in names}
        ratings = written["rating"]
        if (
            written["user_id"].min() < 0
            or written["movie_id"].min() < 0
            or not np.isfinite(ratings).all()
            or (ratings < 0).any()
        ):
            return False  # the slow path finds the line (and overwrites these rows)
        self.rows = position
        return True

    def _reserve(self, extra: int) -> None:
        needed = self.rows + extra
        if not self.columns:
            assert self.n_fields is not None
            # as many rows again per byte as read so far, with room to spare
            expected = int(needed * 1.15 * self.size / max(self.bytes_read, 1))
            capacity = max(needed, expected)
            keys = _COLUMNS[: self.n_fields]
            if self.into is None:
                self.columns = {key: np.empty(capacity, _DTYPES[key]) for key in keys}
            else:  # the files' pages are the columns: written once, straight into the cache
                self.columns = {key: self._mapped(key, capacity, keys) for key in keys}
            return
        capacity = len(self.columns["rating"])
        if needed > capacity:  # a denser file than its first block said: go on in memory
            self.into = None
            grown = max(needed, int(capacity * 1.5))
            for key, column in self.columns.items():
                bigger = np.empty(grown, dtype=column.dtype)
                bigger[: self.rows] = column[: self.rows]
                self.columns[key] = bigger

    def _mapped(self, key: str, capacity: int, keys: tuple[str, ...]) -> np.memmap:
        """A new ``.npy`` file in ``into`` for ``capacity`` rows, mapped. Its blocks are
        allocated first: a page of a sparse file written through a mapping on a full disk
        kills the process (SIGBUS), where an allocation fails as :class:`NoRoom`."""
        assert self.into is not None
        path = self.into / f"{key}.npy"
        allocate = getattr(os, "posix_fallocate", None)
        try:
            column = np.lib.format.open_memmap(path, "w+", _DTYPES[key], (capacity,))
            if allocate is not None:
                with open(path, "r+b") as target:
                    allocate(target.fileno(), 0, column.offset + column.nbytes)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise
            needed = sum(capacity * np.dtype(_DTYPES[k]).itemsize for k in keys)
            raise NoRoom(self.into.parent, needed) from None
        return column

    def _append(self, part: dict[str, np.ndarray]) -> None:
        count = len(part["rating"])
        if not count:
            return
        if self.n_fields is None:
            self.n_fields = len(part)
        self._reserve(count)
        for key, values in part.items():
            self.columns[key][self.rows : self.rows + count] = values
        self.rows += count

    def result(self) -> dict[str, np.ndarray]:
        if not self.rows:
            raise DataError(f"{_shown(self.path)} has no ratings; {_fix_hint(self.path)}")
        if self.into is None:
            return {key: column[: self.rows] for key, column in self.columns.items()}
        written, self.columns = self.columns, {}
        for key, column in written.items():
            assert isinstance(column, np.memmap)
            _trim_npy(self.into / f"{key}.npy", column, self.rows)
        del written, column
        return {
            key: np.load(self.into / f"{key}.npy", mmap_mode="r", allow_pickle=False)
            for key in _COLUMNS[: self.n_fields]
        }


class NoRoom(OSError):
    """The disk under the parsed-ratings cache has no room for an entry; says how much."""

    def __init__(self, place: Path, needed: int) -> None:
        import shutil

        try:
            free = f"{shutil.disk_usage(place).free / 1e6:,.1f} MB free"
        except OSError:
            free = "less free"
        self.place, self.needed = place, needed
        super().__init__(
            errno.ENOSPC, f"no room in {_shown(place)}: {needed / 1e6:,.1f} MB needed, {free}"
        )


def _trim_npy(path: Path, column: np.memmap, rows: int) -> None:
    """Cut a ``.npy`` file written with room for more rows down to its first ``rows``: a new
    header for the true length, then the file truncated after the last row. Should the header
    come out of another length (its digits crossing a 64-byte step), the rows are saved anew."""
    import io

    column.flush()
    header = io.BytesIO()
    fields = {"descr": np.lib.format.dtype_to_descr(column.dtype), "fortran_order": False}
    np.lib.format.write_array_header_1_0(header, {**fields, "shape": (rows,)})
    if column.offset == len(header.getvalue()):
        with open(path, "r+b") as target:
            target.write(header.getvalue())
            target.truncate(column.offset + rows * column.itemsize)
        return
    kept = np.array(column[:rows])
    np.save(path, kept, allow_pickle=False)


def _guess_names(
    block: bytes, spec: _RatingsLayout, n_fields: int | None
) -> tuple[str, ...] | None:
    """The columns of a header-less block: as many as earlier blocks had, else as many as its
    first line's fields (None when that is not 3 or 4: the slow path says what is wrong)."""
    if n_fields is None:
        content = _NOT_SPACE.search(block)
        if content is None:
            return None
        end = _NEWLINE.search(block, content.start())
        line = block[content.start() : end.start() if end else len(block)]
        n_fields = len(line.split(spec.separator))
    return _COLUMNS[:n_fields] if n_fields in (3, 4) else None


def _chunk_bounds(raw: bytes, start: int, size: int) -> Iterator[tuple[int, int]]:
    """``(begin, end)`` offsets of about ``size`` bytes each, every one ending just after a
    ``\\n`` (so never inside a ``\\r\\n``) or at the end of ``raw``."""
    begin = start
    while begin < len(raw):
        newline = raw.find(b"\n", min(begin + size, len(raw)) - 1)
        end = len(raw) if newline < 0 else newline + 1
        yield begin, end
        begin = end


def _read_ratings_by_line(
    path: Path,
    raw: bytes,
    number: int,
    spec: _RatingsLayout,
    n_fields: int | None,
    names: tuple[str, ...] | None = None,
) -> dict[str, np.ndarray]:
    """Check every line of ``raw`` (its first is line ``number`` of the file; ``names``: the
    columns in file order, when a header named them) and read it in Python; the first bad line
    raises a DataError naming it. Slow (about 10 µs a line)."""
    values: list[list[int | float]] = [[], [], [], []]
    expected = n_fields
    where = [names.index(key) for key in _COLUMNS if key in names] if names else [0, 1, 2, 3]
    for line_number, line in _lines(raw, number):
        if not line:
            continue
        odd = line.translate(None, spec.allowed)[:1]
        if odd:
            shown = repr(odd.decode()) if odd.isascii() else f"byte 0x{odd[0]:02X}"
            raise _line_error(path, line_number, f"unexpected {shown}, expected {spec.form}", line)
        fields = line.split(spec.separator)
        if len(fields) != expected and (expected or len(fields) not in (3, 4)):
            want = expected or "3 or 4"
            reason = f"{len(fields)} fields where {want} were expected ({spec.form})"
            raise _line_error(path, line_number, reason, line)
        expected = len(fields)
        for column, name in enumerate(("user id", "movie id")):
            values[column].append(_id(path, line_number, name, fields[where[column]], line))
        values[2].append(_rating(path, line_number, fields[where[2]], line))
        if expected == 4:
            stamp = whole_number(fields[where[3]])
            if stamp is None or not -ID_MAX - 1 <= stamp <= ID_MAX:
                reason = (
                    f"timestamp {_excerpt(fields[where[3]])} is not a whole number that fits int64"
                )
                raise _line_error(path, line_number, reason, line)
            values[3].append(stamp)
    columns: dict[str, np.ndarray] = {
        "user_id": np.array(values[0], dtype=np.int64),
        "movie_id": np.array(values[1], dtype=np.int64),
        "rating": np.array(values[2], dtype=np.float64).astype(np.float32),
    }
    if expected == 4:
        columns["timestamp"] = np.array(values[3], dtype=np.int64)
    return columns


def _rating(path: Path, line_number: int, token: bytes, line: bytes) -> float:
    if not _DECIMAL.fullmatch(token):
        reason = f"rating {_excerpt(token)} is not a plain decimal number like 4 or 3.5"
        raise _line_error(path, line_number, reason, line)
    value = float(token)
    with np.errstate(over="ignore"):
        single = np.float32(value)
    if not np.isfinite(single):
        reason = f"rating {token.decode()} is too large (more than float32 holds)"
        raise _line_error(path, line_number, reason, line)
    if value < 0:
        raise _line_error(path, line_number, f"rating {token.decode()} is negative", line)
    return value


# ---- movies ----------------------------------------------------------------------------------


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
"""A character UTF-8 spells in two to four bytes: in a Latin-1 file, 'Ã©' where 'é' was meant
(ml-1m's movies.dat and ml-100k's u.item hold none)."""


def _decode(path: Path, raw: bytes) -> str:
    """The text of a movies file in its one encoding: UTF-8 when all of it is, else Latin-1 (as
    ml-1m's ``movies.dat`` and ml-100k's ``u.item`` are). A file that is neither, because some
    of its lines are UTF-8 and others not, is a DataError naming a line of each: decoding it
    either way would garble one kind ('AmÃ©lie')."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        latin = exc.start
    found = _UTF8_SEQUENCE.search(raw)
    if found is not None:

        def line_at(offset: int) -> tuple[int, bytes]:
            start = max(raw.rfind(b"\n", 0, offset), raw.rfind(b"\r", 0, offset)) + 1
            end = _NEWLINE.search(raw, offset)
            return len(_NEWLINE.findall(raw, 0, start)) + 1, raw[
                start : end.start() if end else len(raw)
            ]

        number, line = line_at(found.start())
        other, _ = line_at(latin)
        reason = (
            f"this line is UTF-8 but line {other} is not (byte 0x{raw[latin]:02X}, Latin-1?): "
            "the file mixes two encodings, so its titles would come out garbled; save it all "
            "as UTF-8"
        )
        raise _line_error(path, number, reason, line)
    return raw.decode("latin-1")


def read_movies(path: Path, layout: str) -> pd.DataFrame:
    """Read a movies file into a frame indexed by ``movie_id`` (int64, each id once) with
    ``title``, ``genres`` (a ``|``-joined string) and ``year`` (0 when the title carries none).

    ``movies.dat`` and ``u.item`` are UTF-8 or, failing that, Latin-1 (as ml-1m's and
    ml-100k's are), never a mix of the two (refused, naming a line of each); ``movies.csv``
    UTF-8 with a ``movieId,title,genres`` header (``movie_id`` too; genres optional); a Parquet
    file (``layout="parquet"``) the same columns. A bad line, or an id listed twice, is a
    DataError naming the line (the row, in Parquet)."""
    if layout == "parquet":
        rows = _movies_parquet(path)
    else:
        raw = _read(path)
        rows = _movies_csv(path, raw) if layout == "csv" else _movies_lines(path, raw, layout)
    if not rows:
        raise DataError(f"{_shown(path)} lists no movies; {_fix_hint(path)}")
    first_line: dict[int, int] = {}
    for line_number, movie_id, _, _ in rows:
        seen = first_line.setdefault(movie_id, line_number)
        if seen != line_number:
            where = "row" if layout == "parquet" else "line"
            raise DataError(
                f"{_shown(path)} {where} {line_number}: movie id {movie_id} is listed again "
                f"(first on {where} {seen}); {_fix_hint(path)}"
            )
    _, movie_ids, titles, genres = zip(*rows)
    return pd.DataFrame(
        {
            "title": list(titles),
            "genres": [g if g != "(no genres listed)" else "" for g in genres],
            "year": np.array([split_year(t)[1] or 0 for t in titles], dtype=np.int32),
        },
        index=pd.Index(np.array(movie_ids, dtype=np.int64), name="movie_id"),
    )


def _movies_lines(path: Path, raw: bytes, layout: str) -> list[tuple[int, int, str, str]]:
    """``(line number, movie_id, title, genres)`` of a ``::`` or ``|``-separated movies file."""
    text = _decode(path, raw)
    separator, n_fields = ("::", 3) if layout == "dat" else ("|", 5 + len(GENRES_100K))
    form = "'MovieID::Title::Genres'" if layout == "dat" else "u.item's 24 '|'-separated fields"
    rows = []
    for line_number, line in enumerate(_TEXT_NEWLINE.split(text), start=1):
        if not line.strip():
            continue
        fields = line.split(separator)
        if len(fields) != n_fields:
            reason = f"{len(fields)} fields where {n_fields} were expected ({form})"
            raise _line_error(path, line_number, reason, line)
        movie_id = _id(
            path, line_number, "movie id", fields[0].encode("utf-8", "surrogateescape"), line
        )
        if layout == "dat":
            rows.append((line_number, movie_id, fields[1], fields[2]))
            continue
        flags = fields[5:]
        if any(flag not in ("0", "1") for flag in flags):
            raise _line_error(path, line_number, "genre flags must each be 0 or 1", line)
        genres = "|".join(g for g, flag in zip(GENRES_100K, flags) if flag == "1")
        rows.append((line_number, movie_id, fields[1], genres))
    return rows


_MOVIE_COLUMNS = ("movie_id", "title", "genres")
_MOVIE_ALIASES = {"movieId": "movie_id"}


def _movies_csv(path: Path, raw: bytes) -> list[tuple[int, int, str, str]]:
    """``(line number, movie_id, title, genres)`` of a ``movies.csv`` (quoted fields allowed)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_number = len(_NEWLINE.findall(raw, 0, exc.start)) + 1
        line = raw[raw.rfind(b"\n", 0, exc.start) + 1 :].split(b"\n", 1)[0]
        reason = f"byte 0x{raw[exc.start]:02X} is not UTF-8 (save the file as UTF-8)"
        raise _line_error(path, line_number, reason, line) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, int, str, str]] = []
    header: list[str] | None = None
    line_number = 0
    try:
        for record in reader:
            start, line_number = line_number + 1, reader.line_num
            if len(record) <= 1 and not "".join(record).strip():
                continue  # a blank line
            if header is None:
                header = [_MOVIE_ALIASES.get(name.strip(), name.strip()) for name in record]
                if not {"movie_id", "title"} <= set(header):
                    reason = "the header should be 'movieId,title,genres' (genres optional)"
                    raise _line_error(path, start, reason, ",".join(record))
                where = [header.index(name) if name in header else -1 for name in _MOVIE_COLUMNS]
                continue
            if len(record) != len(header):
                reason = f"{len(record)} fields where the header has {len(header)}"
                raise _line_error(path, start, reason, ",".join(record))
            movie_id = _id(
                path,
                start,
                "movie id",
                record[where[0]].encode("utf-8", "surrogateescape"),
                ",".join(record),
            )
            genres = record[where[2]] if where[2] >= 0 else ""
            rows.append((start, movie_id, record[where[1]], genres))
    except csv.Error as exc:
        reason = f"not valid CSV ({exc})"
        raise _line_error(path, reader.line_num or line_number + 1, reason, None) from None
    if header is None:
        raise DataError(f"{_shown(path)} is empty; {_fix_hint(path)}")
    return rows


# ---- Parquet ---------------------------------------------------------------------------------


def _first_line(exc: Exception) -> str:
    """An Arrow error as one short line (its messages run over several)."""
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _parquet(path: Path) -> Any:
    """The open Parquet file; a DataError when it cannot be read as one."""
    import pyarrow as pa
    from pyarrow import parquet

    kind = not_a_file(path)
    if kind is not None:
        raise _read_error(path, NotAFile(path, kind))
    try:
        return parquet.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        reason = _first_line(exc)
        raise DataError(
            f"cannot read {_shown(path)} as Parquet: {reason}; {_fix_hint(path)}"
        ) from None


def _parquet_column(path: Path, file: Any, name: str, key: str) -> np.ndarray:
    """Column ``name`` of a Parquet file as ``key``'s NumPy type, under the rules a text file's
    fields follow: no missing values; ids whole numbers from 0; ratings finite, from 0;
    timestamps whole numbers (or Parquet timestamps, as seconds)."""
    import pyarrow as pa
    import pyarrow.compute as arrow

    try:
        values = file.read(columns=[name]).column(0)
    except (OSError, pa.ArrowException) as exc:
        reason = _first_line(exc)
        raise DataError(f"cannot read column {name!r} of {_shown(path)}: {reason}") from None

    def refuse(reason: str, bad: np.ndarray | None = None) -> DataError:
        row = f" (row {int(np.argmax(bad)) + 1} first)" if bad is not None else ""
        return DataError(f"{_shown(path)}: column {name!r} {reason}{row}; {_fix_hint(path)}")

    kind = values.type
    if values.null_count:
        missing = arrow.is_null(values).to_numpy(zero_copy_only=False)
        raise refuse(f"has {values.null_count:,} missing values", missing)
    if key == "timestamp" and pa.types.is_timestamp(kind):
        values = arrow.cast(arrow.cast(values, pa.timestamp("s")), pa.int64())
        kind = values.type
    if key == "rating":
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            raise refuse(f"holds {kind}, not numbers")
        ratings = values.to_numpy().astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            single = ratings.astype(np.float32)
        bad = ~np.isfinite(single) | (ratings < 0)
        if bad.any():
            raise refuse("holds a rating that is negative, not finite, or too large", bad)
        return single
    if not pa.types.is_integer(kind):
        raise refuse(f"holds {kind}, not whole numbers")
    raw = values.to_numpy()
    if raw.dtype.kind == "u" and len(raw) and raw.max() > ID_MAX:
        raise refuse(f"holds a value larger than {ID_MAX:,}", raw > ID_MAX)
    column = raw.astype(np.int64)
    if key != "timestamp" and len(column) and column.min() < 0:
        raise refuse("holds a negative id (ids are 0 or more)", column < 0)
    return column


def read_parquet_ratings(path: Path) -> dict[str, np.ndarray]:
    """The columns :func:`read_ratings` returns, from a Parquet file whose columns are named as a
    CSV header's (any order, nothing else); each column read on its own, so memory stays near
    the result's size."""
    file = _parquet(path)
    names = list(file.schema_arrow.names)
    keys = csv_header(names)
    if keys is None:
        shown_names = ", ".join(repr(name) for name in names[:8])
        raise DataError(f"{_shown(path)} has columns {shown_names}: {CSV_HEADER_RULE}")
    if not file.metadata.num_rows:
        raise DataError(f"{_shown(path)} has no ratings; {_fix_hint(path)}")
    found = dict(zip(keys, names))
    return {key: _parquet_column(path, file, found[key], key) for key in _COLUMNS if key in found}


def _movies_parquet(path: Path) -> list[tuple[int, int, str, str]]:
    """``(row, movie_id, title, genres)`` of a Parquet movies file."""
    file = _parquet(path)
    names = [_MOVIE_ALIASES.get(name, name) for name in file.schema_arrow.names]
    if not {"movie_id", "title"} <= set(names):
        raise DataError(
            f"{_shown(path)} needs columns movie_id (or movieId) and title (genres optional)"
        )
    original = dict(zip(names, file.schema_arrow.names))
    movie_ids = _parquet_column(path, file, original["movie_id"], "movie_id")
    text = {}
    for key in ("title", "genres"):
        if key in original:
            column = file.read(columns=[original[key]]).column(0)
            if column.null_count or str(column.type) not in ("string", "large_string"):
                raise DataError(
                    f"{_shown(path)}: column {original[key]!r} must be text with no missing "
                    f"values (it is {column.type}, {column.null_count:,} missing)"
                )
            text[key] = column.to_pylist()
    genres = text.get("genres", [""] * len(movie_ids))
    return list(zip(range(1, len(movie_ids) + 1), movie_ids.tolist(), text["title"], genres))
