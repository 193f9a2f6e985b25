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
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from .title_format import split_year

ID_MAX = int(np.iinfo(np.int64).max)
_UNIT_SEP = b"\x1f"  # stands in for '::' so pandas' fast C engine can split the lines
_BOM = b"\xef\xbb\xbf"
_NEWLINE = re.compile(rb"\r\n|\r|\n")  # the line breaks pandas' C engine splits on
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
        """Every byte a ratings line may hold; anything else is refused before pandas sees it."""
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
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DataError(f"cannot read {_shown(path)}: {reason}; {_fix_hint(path)}") from None
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


def read_ratings(path: Path, layout: str) -> dict[str, np.ndarray]:
    """Read a ratings file into columns ``user_id`` (int64), ``movie_id`` (int64), ``rating``
    (float32) and, when the file has them, ``timestamp`` (int64). Lines have 3 or 4 fields, the
    same on every line (three-field ``ratings.dat`` lines: no timestamp column). The module
    docstring says what each field may hold; anything else is a DataError naming the line."""
    spec = _RATINGS_LAYOUTS[layout]
    raw = _read(path)
    if _NOT_SPACE.search(raw) is None:
        raise DataError(f"{_shown(path)} is empty; {_fix_hint(path)}")
    start, number, n_fields = 0, 1, None
    if spec.has_header:
        first = _NEWLINE.search(raw)
        line = raw[: first.start()] if first else raw
        names = tuple(name.strip() for name in line.decode("utf-8", "replace").split(","))
        if names not in (_CSV_HEADER[:3], _CSV_HEADER):
            raise _line_error(path, 1, f"the header should be {','.join(_CSV_HEADER)!r}", line)
        start, number, n_fields = (first.end() if first else len(raw)), 2, len(names)
    columns = _read_ratings_fast(raw, start, spec, n_fields)
    if columns is None:  # something is off: find the first bad line (or vouch for each chunk)
        columns = _read_ratings_in_chunks(path, raw, start, number, spec, n_fields)
    return columns


def _read_ratings_in_chunks(
    path: Path, raw: bytes, start: int, number: int, spec: _RatingsLayout, n_fields: int | None
) -> dict[str, np.ndarray]:
    """The fast path again, a few thousand lines at a time; a chunk it does not vouch for is
    read line by line, which raises a DataError at its first bad line. So a bad line in a large
    file is found in about the time a parse takes, and it is always the first bad line."""
    parts = []
    for begin, end in _chunk_bounds(raw, start, _CHUNK_LINES_BYTES):
        chunk = raw[begin:end]
        part = _read_ratings_fast(chunk, 0, spec, n_fields)
        if part is None:
            part = _read_ratings_by_line(path, chunk, number, spec, n_fields)
        if len(part["rating"]):
            parts.append(part)
            n_fields = len(part)  # every later line must have as many fields
        number += len(_NEWLINE.findall(chunk))
    if not parts:
        raise DataError(f"{_shown(path)} has no ratings; {_fix_hint(path)}")
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _chunk_bounds(raw: bytes, start: int, size: int) -> Iterator[tuple[int, int]]:
    """``(begin, end)`` offsets of about ``size`` bytes each, every one ending just after a
    ``\n`` (so never inside a ``\r\n``) or at the end of ``raw``."""
    begin = start
    while begin < len(raw):
        newline = raw.find(b"\n", min(begin + size, len(raw)) - 1)
        end = len(raw) if newline < 0 else newline + 1
        yield begin, end
        begin = end


def _only_allowed_bytes(raw: bytes, start: int, allowed: bytes) -> bool:
    """True when ``raw[start:]`` holds only ``allowed`` bytes. translate() writes only the
    bytes it keeps, so on a clean file it touches no memory (0.1 s per 140 MB)."""
    return len(raw.translate(None, allowed)) == len(raw[:start].translate(None, allowed))


def _read_ratings_fast(
    raw: bytes, start: int, spec: _RatingsLayout, n_fields: int | None
) -> dict[str, np.ndarray] | None:
    """pandas' C engine, trusted only where its result is certainly what the file says: the
    bytes are limited to digits, signs, points and separators (so no lenient parsing of spaces,
    quotes, NUL or words), and every column must come out with its exact type. None otherwise."""
    if not _only_allowed_bytes(raw, start, spec.allowed):
        return None
    if spec.separator == b"::":  # no '\x1f' in the file: the check above refused it
        raw = raw.replace(b"::", _UNIT_SEP)
    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            sep=(_UNIT_SEP if spec.separator == b"::" else spec.separator).decode(),
            header=0 if start else None,  # (skiprows=1 would take twice as long)
            engine="c",
            quoting=csv.QUOTE_NONE,
            skip_blank_lines=True,
        )
    except (ValueError, OverflowError):  # pandas' parser and empty-data errors are ValueErrors
        return None
    del raw
    if frame.shape[1] not in ((n_fields,) if n_fields else (3, 4)) or frame.empty:
        return None
    if not isinstance(frame.index, pd.RangeIndex):
        return None  # rows one field wider than the header: pandas made the first an index
    frame.columns = range(frame.shape[1])
    integer_columns = [0, 1] + ([3] if frame.shape[1] == 4 else [])
    if any(frame[c].dtype != np.int64 for c in integer_columns):
        return None
    if frame[2].dtype.kind not in "iuf":
        return None
    columns = {"user_id": frame[0].to_numpy(), "movie_id": frame[1].to_numpy()}
    if columns["user_id"].min() < 0 or columns["movie_id"].min() < 0:
        return None
    ratings = frame[2].to_numpy()
    if ratings.dtype != np.float64:  # whole-number ratings: via float64, as the text reads
        ratings = ratings.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        columns["rating"] = ratings.astype(np.float32)
    del ratings
    if not np.isfinite(columns["rating"]).all() or (columns["rating"] < 0).any():
        return None
    if frame.shape[1] == 4:
        columns["timestamp"] = frame[3].to_numpy()
    del frame
    for values in columns.values():
        values.flags.writeable = True  # pandas hands out read-only views; these are ours now
    return columns


def _read_ratings_by_line(
    path: Path, raw: bytes, number: int, spec: _RatingsLayout, n_fields: int | None
) -> dict[str, np.ndarray]:
    """Check every line of ``raw`` (its first is line ``number`` of the file) and read it in
    Python; the first bad line raises a DataError naming it. Slow (about 10 µs a line)."""
    values: list[list[int | float]] = [[], [], [], []]
    expected = n_fields
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
            values[column].append(_id(path, line_number, name, fields[column], line))
        values[2].append(_rating(path, line_number, fields[2], line))
        if expected == 4:
            stamp = whole_number(fields[3])
            if stamp is None or not -ID_MAX - 1 <= stamp <= ID_MAX:
                reason = f"timestamp {_excerpt(fields[3])} is not a whole number that fits int64"
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


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # ml-1m's movies.dat is ISO-8859-1


def read_movies(path: Path, layout: str) -> pd.DataFrame:
    """Read a movies file into a frame indexed by ``movie_id`` (int64, each id once) with
    ``title``, ``genres`` (a ``|``-joined string) and ``year`` (0 when the title carries none).

    ``movies.dat`` is UTF-8 or, failing that, Latin-1 (as ml-1m's is); ``u.item`` Latin-1;
    ``movies.csv`` UTF-8 with a ``movieId,title,genres`` header. A bad line, or an id listed
    twice, is a DataError naming the line."""
    raw = _read(path)
    rows = _movies_csv(path, raw) if layout == "csv" else _movies_lines(path, raw, layout)
    if not rows:
        raise DataError(f"{_shown(path)} lists no movies; {_fix_hint(path)}")
    first_line: dict[int, int] = {}
    for line_number, movie_id, _, _ in rows:
        seen = first_line.setdefault(movie_id, line_number)
        if seen != line_number:
            raise DataError(
                f"{_shown(path)} line {line_number}: movie id {movie_id} is listed again "
                f"(first on line {seen}); {_fix_hint(path)}"
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
    text = raw.decode("latin-1") if layout == "100k" else _decode(raw)
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
                header = [name.strip() for name in record]
                if not {"movieId", "title", "genres"} <= set(header):
                    reason = "the header should be 'movieId,title,genres'"
                    raise _line_error(path, start, reason, ",".join(record))
                where = [header.index(name) for name in ("movieId", "title", "genres")]
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
            rows.append((start, movie_id, record[where[1]], record[where[2]]))
    except csv.Error as exc:
        reason = f"not valid CSV ({exc})"
        raise _line_error(path, reader.line_num or line_number + 1, reason, None) from None
    if header is None:
        raise DataError(f"{_shown(path)} is empty; {_fix_hint(path)}")
    return rows
