"""Whatever bytes a ratings or movies file holds, the parsers return exactly what it says or
raise a one-line DataError naming the bad line — never another exception, never a wrong value.

Valid files are generated from known values (the truth is the generator's input); hostile ones
are valid files with one line mutated (swapped or missing fields, extra separators, huge and
unicode numbers, control characters, a header in the wrong place, non-UTF-8 bytes, …) or plain
random bytes, and are checked against ``reference_ratings``/``reference_movies`` below: a slow,
obvious reading of the documented format, written apart from the parser.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import write_dat_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movierec.datasets import parse
from movierec.datasets.parse import _UTF8_SEQUENCE, GENRES_100K, read_movies, read_ratings
from movierec.errors import DataError

INT64_MAX = 2**63 - 1
CANONICAL = ["user_id", "movie_id", "rating", "timestamp"]
ALIASES = {"userId": "user_id", "movieId": "movie_id", **{name: name for name in CANONICAL}}
CSV_COLUMNS = [set(CANONICAL[:3]), set(CANONICAL)]  # a CSV header names these, in any order
BOM = b"\xef\xbb\xbf"
SEPARATORS = {"dat": "::", "100k": "\t", "csv": ","}
RATINGS_FILES = {"dat": "ratings.dat", "100k": "u.data", "csv": "ratings.csv"}
MOVIES_FILES = {"dat": "movies.dat", "100k": "u.item", "csv": "movies.csv"}
BOUNDED = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


# ---- the reference reading --------------------------------------------------------------------


def split_lines(data: bytes) -> list[bytes]:
    """Lines as pandas' C engine splits them: at \\r\\n, \\r or \\n."""
    lines = re.split(rb"\r\n|\r|\n", data)
    return lines[:-1] if lines and lines[-1] == b"" else lines


def ref_whole(token: bytes, low: int, high: int) -> int | None:
    if not token.isascii():
        return None
    digits = token[1:] if token[:1] in (b"+", b"-") else token
    if not digits or not digits.isdigit():
        return None
    value = int(token)
    return value if low <= value <= high else None


def ref_rating(token: bytes) -> float | None:
    if not token.isascii():
        return None
    body = token[1:] if token[:1] in (b"+", b"-") else token
    whole, _, fraction = body.partition(b".")
    if not (whole + fraction) or not (whole + fraction).isdigit() or b"." in fraction:
        return None
    value = float(token)
    with np.errstate(over="ignore"):
        as_stored = np.float32(value)  # ratings are stored as float32: 1e39 would become inf
    return value if value >= 0 and math.isfinite(as_stored) else None


class Invalid(Exception):
    """The reference's verdict: the file is bad at ``line`` (0: the file as a whole)."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def reference_ratings(data: bytes, layout: str) -> dict[str, list]:
    """Columns of a ratings file read by the documented rules, or Invalid(first bad line)."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    if not data.strip():
        raise Invalid(0)
    lines = split_lines(data)
    n_fields, first, order = None, 1, [0, 1, 2, 3]
    if layout == "csv":
        names = [ALIASES.get(n.strip()) for n in lines[0].decode("utf-8", "replace").split(",")]
        if None in names or len(set(names)) != len(names) or set(names) not in CSV_COLUMNS:
            raise Invalid(1)
        n_fields, first = len(names), 2
        order = [names.index(key) for key in CANONICAL if key in names]
    columns: dict[str, list] = {"user_id": [], "movie_id": [], "rating": [], "timestamp": []}
    for number, line in enumerate(lines[first - 1 :], start=first):
        if line == b"":
            continue
        fields = line.split(SEPARATORS[layout].encode())
        if n_fields is None and len(fields) in (3, 4):
            n_fields = len(fields)
        if len(fields) != n_fields:
            raise Invalid(number)
        fields = [fields[i] for i in order[: len(fields)]]
        user = ref_whole(fields[0], 0, INT64_MAX)
        movie = ref_whole(fields[1], 0, INT64_MAX)
        rating = ref_rating(fields[2])
        stamp = ref_whole(fields[3], -(2**63), INT64_MAX) if n_fields == 4 else 0
        if user is None or movie is None or rating is None or stamp is None:
            raise Invalid(number)
        columns["user_id"].append(user)
        columns["movie_id"].append(movie)
        columns["rating"].append(rating)
        columns["timestamp"].append(stamp)
    if not columns["rating"]:
        raise Invalid(0)
    if n_fields == 3:
        del columns["timestamp"]
    return columns


def reference_movies(data: bytes, layout: str) -> list[tuple[int, str, str]]:
    """``(movie_id, title, genres)`` of a ``::`` or ``|`` movies file, or Invalid(line)."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:  # UTF-8 when all of it is, else Latin-1; never a mix (refused, naming a UTF-8 line)
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        found = _UTF8_SEQUENCE.search(data)
        if found is not None:
            raise Invalid(len(re.findall(rb"\r\n|\r|\n", data[: found.start()])) + 1) from None
        text = data.decode("latin-1")
    rows, first_seen = [], {}
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if line.strip() == "":
            continue
        fields = line.split(SEPARATORS[layout] if layout == "dat" else "|")
        if len(fields) != (3 if layout == "dat" else 24):
            raise Invalid(number)
        movie_id = ref_whole(fields[0].encode("utf-8"), 0, INT64_MAX)
        if movie_id is None or movie_id in first_seen:
            raise Invalid(number)
        first_seen[movie_id] = number
        if layout == "dat":
            genres = fields[2]
        else:
            if not set(fields[5:]) <= {"0", "1"}:
                raise Invalid(number)
            genres = "|".join(g for g, f in zip(GENRES_100K, fields[5:]) if f == "1")
        rows.append((movie_id, fields[1], genres))
    if not rows:
        raise Invalid(0)
    return rows


def year_of(title: str) -> int:
    stripped = title.rstrip()
    inner = stripped[-5:-1]
    if stripped[-6:-5] == "(" and stripped.endswith(")") and inner.isascii() and inner.isdigit():
        return int(inner)
    return 0


# ---- checking one file ------------------------------------------------------------------------


def assert_one_line_error(error: DataError, path: Path, line: int) -> None:
    message = str(error)
    assert message.isprintable(), message  # no newline, no control character: one line
    assert path.name in message
    assert "delete" not in message.rsplit("; ", 1)[-1]  # never advises deleting your files
    if line:
        assert f"line {line} " in message or f"line {line}:" in message, (line, message)


def check_ratings(path: Path, data: bytes, layout: str) -> dict[str, np.ndarray] | None:
    """Write ``data``, read it, and compare with the reference. Returns the columns when valid."""
    path.write_bytes(data)
    try:
        expected = reference_ratings(data, layout)
    except Invalid as invalid:
        with pytest.raises(DataError) as info:
            read_ratings(path, layout)
        assert_one_line_error(info.value, path, invalid.line)
        return None
    columns = read_ratings(path, layout)
    assert set(columns) == set(expected)
    for key in ("user_id", "movie_id", "timestamp"):
        if key in expected:
            assert columns[key].dtype == np.int64
            assert columns[key].tolist() == expected[key], key
    assert columns["rating"].dtype == np.float32
    assert np.array_equal(columns["rating"], np.array(expected["rating"]).astype(np.float32))
    return columns


def check_movies(path: Path, data: bytes, layout: str):
    path.write_bytes(data)
    if layout == "csv":  # no second CSV reader here: any outcome is a frame or a DataError
        try:
            movies = read_movies(path, layout)
        except DataError as error:
            assert_one_line_error(error, path, 0)
            return None
        assert movies.index.dtype == np.int64 and movies.index.is_unique
        assert (movies.index >= 0).all()
        return movies
    try:
        expected = reference_movies(data, layout)
    except Invalid as invalid:
        with pytest.raises(DataError) as info:
            read_movies(path, layout)
        assert_one_line_error(info.value, path, invalid.line)
        return None
    movies = read_movies(path, layout)
    assert movies.index.dtype == np.int64
    assert movies.index.tolist() == [m for m, _, _ in expected]
    assert movies["title"].tolist() == [t for _, t, _ in expected]
    genres = ["" if g == "(no genres listed)" else g for _, _, g in expected]
    assert movies["genres"].tolist() == genres
    assert movies["year"].tolist() == [year_of(t) for _, t, _ in expected]
    return movies


# ---- generated files --------------------------------------------------------------------------

ids = st.one_of(
    st.integers(0, 10_000), st.integers(0, INT64_MAX), st.sampled_from([0, 2**31, INT64_MAX])
)
id_tokens = st.one_of(ids.map(str), st.sampled_from(["+7", "007", "-0", "+0"]))
rating_tokens = st.one_of(
    st.sampled_from(["1", "2", "3", "4", "5", "0.5", "3.5", "4.0", ".5", "5.", "0", "+4"]),
    st.floats(0, 3e38, allow_nan=False).map(lambda v: np.format_float_positional(v, trim="-")),
)
stamp_tokens = st.integers(-(2**63), INT64_MAX).map(str)


@st.composite
def ratings_lines(draw, layout: str) -> tuple[list[str], str]:
    """Valid lines (no header) of ``layout``, and the line ending to join them with."""
    fields = [id_tokens, id_tokens, rating_tokens]
    if layout == "100k" or draw(st.booleans()):
        fields.append(stamp_tokens)
    rows = draw(st.lists(st.tuples(*fields), min_size=1, max_size=12))
    return [SEPARATORS[layout].join(row) for row in rows], draw(
        st.sampled_from(["\n", "\r\n", "\r"])
    )


def join(draw, layout: str, lines: list[str], ending: str) -> bytes:
    if layout == "csv":  # columns in any order, named either way
        width = lines[0].count(",") + 1
        order = draw(st.permutations(range(width)))
        spellings = [
            draw(st.sampled_from(sorted(n for n, c in ALIASES.items() if c == key)))
            for key in CANONICAL[:width]
        ]
        header = ",".join(spellings[i] for i in order)
        lines = [header, *(",".join(line.split(",")[i] for i in order) for line in lines)]
    if draw(st.booleans()):
        lines = [*lines, *([""] * draw(st.integers(1, 3)))]  # trailing blank lines
    text = ending.join(lines) + draw(st.sampled_from([ending, ""]))
    data = text.encode("ascii")
    return (BOM + data) if draw(st.integers(0, 9)) == 0 else data


HOSTILE_TOKENS = [
    "",
    "²",
    "٣",
    "１",
    "1²",
    "abc",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e39",
    "1e3",
    "-1",
    "-0",
    "1.5",
    "1.0",
    "1,5",
    " 1",
    "1 ",
    '"1"',
    "0x10",
    "1_000",
    "99999999999",
    str(2**31),
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    str(10**20),
    "9" * 40,
    "1" + "0" * 39,
    "\x00",
    "1\x00",
    "\x0b",
    "\x1f",
    "\x85",
    "\u2028",
    "é",
    ".",
    "+",
    "-",
    "..5",
    "--1",
    "+-1",
]


@st.composite
def mutated(draw, lines: list[str], separator: str) -> list[str]:
    """``lines`` with one line damaged (or a line added) the way hostile files are."""
    lines = list(lines)
    where = draw(st.integers(0, len(lines) - 1))
    fields = lines[where].split(separator)
    kind = draw(
        st.sampled_from(
            ["token", "token", "swap", "drop", "extra", "separator", "header", "truncate", "raw"]
        )
    )
    if kind == "token":
        fields[draw(st.integers(0, len(fields) - 1))] = draw(
            st.one_of(st.sampled_from(HOSTILE_TOKENS), st.text(max_size=4))
        )
    elif kind == "swap" and len(fields) > 1:
        i, j = draw(st.permutations(range(len(fields))))[:2]
        fields[i], fields[j] = fields[j], fields[i]
    elif kind == "drop":
        del fields[draw(st.integers(0, len(fields) - 1))]
    elif kind == "extra":
        fields.insert(draw(st.integers(0, len(fields))), draw(st.sampled_from(["", "5", "x"])))
    elif kind == "separator":
        fields[-1] += draw(st.sampled_from([separator, separator * 2, ":", ";", "\t", ","]))
    elif kind == "header":
        lines.insert(where, draw(st.sampled_from(["userId,movieId,rating,timestamp", "UserID"])))
    elif kind == "truncate":
        text = separator.join(fields)
        fields = [text[: draw(st.integers(0, len(text)))]]
        separator = ""
    else:
        fields.insert(0, draw(st.text(min_size=1, max_size=3)))
    lines[where] = separator.join(fields)
    return lines


def as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


LAYOUTS = ["dat", "100k", "csv"]


@pytest.fixture(params=["32 MiB blocks", "tiny blocks"])
def blocks(request: pytest.FixtureRequest) -> Iterator[None]:
    """The reader's block and chunk sizes as shipped, or a few bytes, so that block edges fall
    inside lines, line endings and headers."""
    if request.param == "tiny blocks":
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(parse, "_BLOCK_BYTES", 7)
            patch.setattr(parse, "_CHUNK_LINES_BYTES", 5)
            yield
    else:
        yield


@pytest.mark.parametrize("layout", LAYOUTS)
@BOUNDED
@given(data=st.data())
def test_valid_ratings_files_read_exactly(folder: Path, blocks: None, layout: str, data) -> None:
    lines, ending = data.draw(ratings_lines(layout))
    raw = join(data.draw, layout, lines, ending)
    columns = check_ratings(folder / RATINGS_FILES[layout], raw, layout)
    assert columns is not None  # generated valid: never refused
    assert len(columns["rating"]) == len(lines)


@pytest.mark.parametrize("layout", LAYOUTS)
@BOUNDED
@given(data=st.data())
def test_mutated_ratings_files_read_exactly_or_name_the_line(
    folder: Path, blocks: None, layout: str, data
) -> None:
    lines, ending = data.draw(ratings_lines(layout))
    lines = data.draw(mutated(lines, SEPARATORS[layout]))
    if layout == "csv":
        header = "userId,movieId,rating" + (",timestamp" if len(lines[0].split(",")) == 4 else "")
        lines = [header, *lines]
    raw = as_bytes(ending.join(lines) + ending)
    if data.draw(st.booleans()):  # non-UTF-8 bytes somewhere
        at = data.draw(st.integers(0, len(raw)))
        raw = (
            raw[:at]
            + data.draw(st.sampled_from([b"\xff", b"\xe9", b"\x85", b"\xfe\xff"]))
            + raw[at:]
        )
    check_ratings(folder / RATINGS_FILES[layout], raw, layout)


@pytest.mark.parametrize("layout", LAYOUTS)
@BOUNDED
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        st.text(alphabet="0123456789:.,+-\t\r\n", max_size=120).map(str.encode),
    )
)
def test_random_bytes_read_exactly_or_raise_one_line(folder: Path, layout: str, raw: bytes) -> None:
    check_ratings(folder / RATINGS_FILES[layout], raw, layout)


titles = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n|:\x1c\x1d\x1e"),
    max_size=30,
)


@st.composite
def movies_file(draw, layout: str) -> tuple[bytes, list[tuple[int, str, str]]]:
    """A valid movies file and the ``(movie_id, title, genres)`` it lists."""
    movie_ids = draw(st.lists(ids, min_size=1, max_size=10, unique=True))
    rows = []
    for movie_id in movie_ids:
        title = draw(titles).strip() or "Untitled"
        if draw(st.booleans()):
            title += f" ({draw(st.integers(1000, 9999))})"
        if layout == "100k":
            flags = list(f"{draw(st.integers(0, 2**19 - 1)):019b}")
            genres = "|".join(g for g, f in zip(GENRES_100K, flags) if f == "1")
            line = "|".join([str(movie_id), title, "01-Jan-1995", "", "http://x", *flags])
        else:
            genres = "|".join(draw(st.lists(st.sampled_from(GENRES_100K[1:]), max_size=3)))
            line = f"{movie_id}::{title}::{genres}"
        rows.append((movie_id, title, genres, line))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    if layout == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=ending)
        writer.writerow(["movieId", "title", "genres"])
        writer.writerows([(m, t, g or "(no genres listed)") for m, t, g, _ in rows])
        raw = out.getvalue().encode("utf-8")
    else:
        text = ending.join(line for *_, line in rows) + ending
        encoding = "latin-1" if layout == "100k" else draw(st.sampled_from(["utf-8", "latin-1"]))
        raw = text.encode(encoding, "replace")
        read_as = encoding
        try:  # movies.dat and u.item read as UTF-8 whenever their bytes are valid UTF-8
            raw.decode("utf-8")
            read_as = "utf-8"
        except UnicodeDecodeError:
            if _UTF8_SEQUENCE.search(raw):  # Latin-1 that spells UTF-8 too ('Ã©'): a mixed
                encoding = read_as = "utf-8"  # file, refused (test_hostile_inputs); UTF-8 here
                raw = text.encode(encoding, "replace")
        rows = [(m, t.encode(encoding, "replace").decode(read_as), g, x) for m, t, g, x in rows]
    return raw, [(m, t, g) for m, t, g, _ in rows]


@pytest.mark.parametrize("layout", LAYOUTS)
@BOUNDED
@given(data=st.data())
def test_valid_movies_files_read_exactly(folder: Path, layout: str, data) -> None:
    raw, rows = data.draw(movies_file(layout))
    path = folder / MOVIES_FILES[layout]
    movies = check_movies(path, raw, layout)
    assert movies is not None
    assert movies.index.tolist() == [m for m, _, _ in rows]
    assert movies["title"].tolist() == [t for _, t, _ in rows]
    assert movies["genres"].tolist() == [g for _, _, g in rows]


MOVIE_ID_TOKENS = [t for t in HOSTILE_TOKENS if "\x00" not in t and t != ""] + ["", "NaN", "1.5"]


@pytest.mark.parametrize("layout", LAYOUTS)
@BOUNDED
@given(data=st.data())
def test_mutated_movies_files_read_exactly_or_name_the_line(
    folder: Path, layout: str, data
) -> None:
    raw, rows = data.draw(movies_file(layout))
    text = raw.decode("utf-8" if layout == "csv" else "latin-1")
    lines = text.splitlines(keepends=True)
    start = 1 if layout == "csv" else 0
    where = data.draw(st.integers(start, len(lines) - 1))
    kind = data.draw(st.sampled_from(["id", "id", "duplicate", "fields", "bytes"]))
    if kind == "id":
        token = data.draw(st.one_of(st.sampled_from(MOVIE_ID_TOKENS), st.text(max_size=3)))
        separator = {"dat": "::", "100k": "|", "csv": ","}[layout]
        lines[where] = token + separator + lines[where].split(separator, 1)[-1]
    elif kind == "duplicate":
        lines.append(lines[where])
    elif kind == "fields":
        lines[where] = data.draw(st.sampled_from(["1::x\n", "1|x\n", "1\n", "::::\n", '"1\n']))
    new = "".join(lines).encode("utf-8" if layout == "csv" else "latin-1", "replace")
    if kind == "bytes":
        at = data.draw(st.integers(0, len(new)))
        new = new[:at] + data.draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\r"])) + new[at:]
    check_movies(folder / MOVIES_FILES[layout], new, layout)


@pytest.mark.parametrize("layout", LAYOUTS)
@BOUNDED
@given(raw=st.binary(max_size=300))
def test_random_movies_bytes_read_or_raise_one_line(folder: Path, layout: str, raw: bytes) -> None:
    check_movies(folder / MOVIES_FILES[layout], raw, layout)


# ---- through the command line -----------------------------------------------------------------


@pytest.mark.parametrize(
    "ratings",
    [
        ["1::1::5", "1::²::3"],  # a superscript digit
        ["1::1::5", "1::2::1e39"],  # a rating float32 cannot hold
        ["1::1::5", "1::2::nan"],
        ["1::1::5", "1::2::-4"],
        ["1::1::5", "99999999999999999999::2::3"],  # beyond int64
        ["1::1::5", "1::2"],  # two fields
        ["1::1::5", "1::2::3::4::5"],  # five fields
        ["1::1::5", "UserID::MovieID::Rating"],  # a header in the wrong place
    ],
)
def test_a_broken_ratings_file_is_exit_2_and_one_line(
    capsys, tmp_path: Path, ratings: list[str]
) -> None:
    from movierec.cli import main

    write_dat_dataset(tmp_path, ratings)
    code = main(["stats", "-d", "ml-1m", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "ratings.dat line 2" in err


def test_large_ids_are_counted_apart_through_the_command_line(capsys, tmp_path: Path) -> None:
    # 2**32 + 1 wrapped to 1 as int32, merging two users into one.
    import json

    from movierec.cli import main

    write_dat_dataset(tmp_path, ["1::1::5", f"{2**32 + 1}::2::4", f"{INT64_MAX}::1::3"])
    code = main(["stats", "-d", "ml-1m", "--data-dir", str(tmp_path), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["users"] == 3


@pytest.mark.parametrize("movie_id", ["²", "abc", "", "1.5", "-2", str(2**64), "1"])  # "1": twice
def test_a_broken_movies_file_is_exit_2_and_one_line(capsys, tmp_path: Path, movie_id: str) -> None:
    from movierec.cli import main

    write_dat_dataset(tmp_path, ["1::1::5"], movies=["1::Toy Story (1995)::", f"{movie_id}::B::"])
    code = main(["search", "Toy", "-d", "ml-1m", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "movies.dat line 2" in err


def test_a_movie_id_beyond_int32_is_found_through_the_command_line(capsys, tmp_path: Path) -> None:
    import json

    from movierec.cli import main

    big = 99_999_999_999
    write_dat_dataset(
        tmp_path, ["1::1::5", f"2::{big}::4"], movies=["1::Toy Story (1995)::", f"{big}::Big::"]
    )
    code = main(["search", "Big", "-d", "ml-1m", "--data-dir", str(tmp_path), "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)[0]["movie_id"] == big
