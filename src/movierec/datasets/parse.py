"""Fast, strict parsers for the MovieLens file formats.

Each parser returns plain columns; a malformed file raises DataError naming the file, the first
bad line and the way out, never a pandas traceback.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError

RATING_COLUMNS = ("user_id", "movie_id", "rating", "timestamp")
_UNIT_SEP = "\x1f"  # stands in for '::' so pandas' fast C engine can split the lines
_YEAR = re.compile(r"\((\d{4})\)\s*$")

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


def _fix_hint(path: Path) -> str:
    return f"check the file, or delete {path.parent} to download a fresh copy"


def _bad_line(path: Path, lines: list[bytes], line_number: int, expected: str) -> DataError:
    got = lines[line_number - 1].decode("latin-1", "replace").rstrip("\r\n")[:80]
    return DataError(
        f"{path.name} line {line_number}: expected {expected}, got {got!r}; {_fix_hint(path)}"
    )


def read_ratings(path: Path, layout: str) -> dict[str, np.ndarray]:
    """Read a ratings file into columns ``user_id``, ``movie_id``, ``rating`` and, when the file
    has them, ``timestamp``. Three-field ``ratings.dat`` lines (no timestamp) are accepted."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}; {_fix_hint(path)}") from None
    if layout == "dat":
        expected, header, sep = "'UserID::MovieID::Rating[::Timestamp]'", False, _UNIT_SEP
        raw = raw.replace(b"::", _UNIT_SEP.encode())
    elif layout == "100k":
        expected, header, sep = "'user id<TAB>item id<TAB>rating<TAB>timestamp'", False, "\t"
    else:
        expected, header, sep = "'userId,movieId,rating,timestamp'", True, ","
    if not raw.strip():
        raise DataError(f"{path.name} is empty; {_fix_hint(path)}")
    if header:
        first_end = raw.find(b"\n")
        names = raw[: first_end if first_end >= 0 else None].decode("utf-8", "replace").strip()
        if [c.strip() for c in names.split(",")][:3] != ["userId", "movieId", "rating"]:
            raise DataError(
                f"{path.name}: header should start 'userId,movieId,rating', got {names[:60]!r}; "
                f"{_fix_hint(path)}"
            )
        raw = raw[first_end + 1 :]
    try:
        frame = pd.read_csv(
            io.BytesIO(raw), sep=sep, header=None, engine="c", skip_blank_lines=True
        )
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line_number = int(match.group(1)) if match else 1
        lines = raw.splitlines()
        raise _bad_line(path, lines, line_number, expected) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path.name} has no ratings; {_fix_hint(path)}") from None
    n_columns = frame.shape[1]
    if n_columns < 3 or n_columns > 4:
        raise _bad_line(path, raw.splitlines(), 1, expected)
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or values.isna().any():
            numeric = pd.to_numeric(values, errors="coerce")
            bad = int(np.flatnonzero(numeric.isna().to_numpy())[0])
            raise _bad_line(path, raw.splitlines(), bad + 1, expected)
    columns = {
        "user_id": frame[0].to_numpy(np.int64),
        "movie_id": frame[1].to_numpy(np.int64),
        "rating": frame[2].to_numpy(np.float32),
    }
    if n_columns == 4:
        columns["timestamp"] = frame[3].to_numpy(np.int64)
    for key in ("user_id", "movie_id"):
        if not np.array_equal(columns[key], frame[RATING_COLUMNS.index(key)].to_numpy()):
            raise DataError(f"{path.name}: {key} values must be whole numbers; {_fix_hint(path)}")
        columns[key] = columns[key].astype(np.int32)
    return columns


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # ml-1m's movies.dat is ISO-8859-1


def _year(title: str) -> int:
    match = _YEAR.search(title)
    return int(match.group(1)) if match else 0


def read_movies(path: Path, layout: str) -> pd.DataFrame:
    """Read a movies file into a frame indexed by ``movie_id`` with ``title``, ``genres``
    (a ``|``-joined string) and ``year`` (0 when the title carries none)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}; {_fix_hint(path)}") from None
    rows: list[tuple[int, str, str]] = []
    if layout == "csv":
        try:
            frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8", dtype={"title": str})
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError):
            raise DataError(f"{path.name} is not a valid movies CSV; {_fix_hint(path)}") from None
        if not {"movieId", "title", "genres"} <= set(frame.columns):
            raise DataError(
                f"{path.name}: expected columns movieId,title,genres; {_fix_hint(path)}"
            )
        rows = list(zip(frame["movieId"], frame["title"].fillna(""), frame["genres"].fillna("")))
    else:
        text = raw.decode("latin-1") if layout == "100k" else _decode(raw)
        for line_number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if layout == "dat":
                fields = line.split("::")
                ok = len(fields) == 3 and fields[0].isdigit()
                if ok:
                    rows.append((int(fields[0]), fields[1], fields[2]))
            else:
                fields = line.split("|")
                ok = len(fields) == 5 + len(GENRES_100K) and fields[0].isdigit()
                if ok:
                    flags = fields[5:]
                    genres = "|".join(g for g, f in zip(GENRES_100K, flags) if f == "1")
                    rows.append((int(fields[0]), fields[1], genres))
            if not ok:
                form = "'MovieID::Title::Genres'" if layout == "dat" else "u.item's 24 '|' fields"
                lines = raw.splitlines()
                raise _bad_line(path, lines, line_number, form)
    if not rows:
        raise DataError(f"{path.name} lists no movies; {_fix_hint(path)}")
    movie_ids, titles, genres = zip(*rows)
    movies = pd.DataFrame(
        {
            "title": list(titles),
            "genres": [g if g != "(no genres listed)" else "" for g in genres],
            "year": np.array([_year(t) for t in titles], dtype=np.int32),
        },
        index=pd.Index(np.asarray(movie_ids, dtype=np.int32), name="movie_id"),
    )
    return movies[~movies.index.duplicated()]
