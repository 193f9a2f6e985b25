"""Parsing MovieLens files: both ml-1m ratings forms, Latin-1 titles, and malformed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_dat_dataset

from movierec.datasets.parse import read_movies, read_ratings
from movierec.errors import DataError


def test_three_field_ratings_have_no_timestamp_column(tmp_path: Path) -> None:
    folder = write_dat_dataset(tmp_path, ["1::1::5", "1::2::3", "2::1::4"])
    columns = read_ratings(folder / "ratings.dat", "dat")
    assert set(columns) == {"user_id", "movie_id", "rating"}
    assert columns["user_id"].tolist() == [1, 1, 2]
    assert columns["rating"].dtype == np.float32


def test_four_field_ratings_keep_their_timestamps(tmp_path: Path) -> None:
    folder = write_dat_dataset(tmp_path, ["1::1::5::978300760", "2::2::3::978302109"])
    columns = read_ratings(folder / "ratings.dat", "dat")
    assert columns["timestamp"].tolist() == [978300760, 978302109]


def test_latin1_titles_decode_with_accents(tmp_path: Path) -> None:
    folder = write_dat_dataset(tmp_path, ["1::1::5"])
    movies = read_movies(folder / "movies.dat", "dat")
    assert movies.loc[3, "title"] == "Man Bites Dog (C'est arrivé près de chez vous) (1992)"
    assert movies.loc[4, "year"] == 1999
    assert movies.loc[1, "genres"] == "Animation|Children's|Comedy"


def test_ml100k_layout(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    flags = "|".join(["0"] * 3 + ["1"] + ["0"] * 15)
    (tmp_path / "u.item").write_bytes(
        f"242|Kolya (1996)|24-Jan-1997||http://x|{flags}\n".encode("latin-1")
    )
    assert read_ratings(tmp_path / "u.data", "100k")["movie_id"].tolist() == [242, 302]
    movies = read_movies(tmp_path / "u.item", "100k")
    assert movies.loc[242, "genres"] == "Animation"


def test_csv_layout(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.5,964982703\n")
    (tmp_path / "movies.csv").write_text('movieId,title,genres\n1,"Toy Story, The (1995)",Comedy\n')
    assert read_ratings(tmp_path / "ratings.csv", "csv")["rating"].tolist() == [4.5]
    assert read_movies(tmp_path / "movies.csv", "csv").loc[1, "title"] == "Toy Story, The (1995)"


@pytest.mark.parametrize(
    ("lines", "needle"),
    [
        (["1,1,5", "1,2,3"], "line 1"),  # wrong separator
        (["1::1", "2::2"], "line 1"),  # missing columns
        (["1::1::5", "x::2::3"], "line 2"),  # non-numeric id
        (["1::1::5", "1::2::4", "2::3"], "line 3"),  # truncated last line
        (["1::1::5", "1::2::4::5::6"], "line 2"),  # extra fields
    ],
)
def test_malformed_ratings_name_the_bad_line(tmp_path: Path, lines: list[str], needle: str) -> None:
    folder = write_dat_dataset(tmp_path, lines)
    with pytest.raises(DataError, match=needle) as info:
        read_ratings(folder / "ratings.dat", "dat")
    assert "ratings.dat" in str(info.value)


def test_empty_ratings_file_is_an_error(tmp_path: Path) -> None:
    folder = write_dat_dataset(tmp_path, [])
    with pytest.raises(DataError, match="empty"):
        read_ratings(folder / "ratings.dat", "dat")


def test_csv_with_wrong_header_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("user,item,score\n1,1,4\n")
    with pytest.raises(DataError, match="header"):
        read_ratings(tmp_path / "ratings.csv", "csv")


def test_malformed_movies_file_names_the_line(tmp_path: Path) -> None:
    folder = write_dat_dataset(
        tmp_path, ["1::1::5"], movies=["1::Toy Story (1995)::Comedy", "oops"]
    )
    with pytest.raises(DataError, match="line 2"):
        read_movies(folder / "movies.dat", "dat")


# ---- hostile input, family by family (tests/test_parse_properties.py fuzzes the same) ---------

INT64_MAX = 2**63 - 1


def read_dat(tmp_path: Path, lines: list[str]) -> dict[str, np.ndarray]:
    return read_ratings(write_dat_dataset(tmp_path, lines) / "ratings.dat", "dat")


def one_line(error: pytest.ExceptionInfo[DataError]) -> str:
    message = str(error.value)
    assert message.isprintable(), message
    assert "delete" not in message.rsplit("; ", 1)[-1], message  # the way out
    return message


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [("99999999999", 99999999999), (str(2**32 + 1), 2**32 + 1), (str(INT64_MAX), INT64_MAX)],
)
def test_ids_beyond_int32_are_kept_exactly(tmp_path: Path, user_id: str, expected: int) -> None:
    columns = read_dat(tmp_path, ["1::1::5", f"{user_id}::{user_id}::4"])
    assert columns["user_id"].dtype == columns["movie_id"].dtype == np.int64
    assert columns["user_id"].tolist() == [1, expected]  # 2**32 + 1 used to wrap to 1
    assert columns["movie_id"].tolist() == [1, expected]


def test_ids_may_carry_a_plus_sign_and_leading_zeros(tmp_path: Path) -> None:
    assert read_dat(tmp_path, ["+7::007::5"])["user_id"].tolist() == [7]


@pytest.mark.parametrize(
    "token",
    ["²", "٣", "１", "abc", "", "1.5", "1.0", "1e3", "-1", " 1", '"1"', "0x1f", "1_000", "\x00"]
    + [str(2**63), str(2**64), "9" * 30],
)
@pytest.mark.parametrize("column", [0, 1])
def test_a_bad_id_names_its_line(tmp_path: Path, token: str, column: int) -> None:
    fields = ["1", "2", "3"]
    fields[column] = token
    with pytest.raises(DataError, match="ratings.dat line 2 ") as info:
        read_dat(tmp_path, ["1::1::5", "::".join(fields), "3::3::3"])
    one_line(info)


@pytest.mark.parametrize(
    ("rating", "reason"),
    [
        ("nan", "unexpected"),
        ("inf", "unexpected"),
        ("-inf", "unexpected"),
        ("1e39", "unexpected"),  # an exponent: ratings are plain decimals
        ("1" + "0" * 39, "too large"),  # 1e39 written out: float32 would make it inf
        ("9" * 60, "too large"),
        ("-4", "negative"),
        ("-0.5", "negative"),
        ("", "not a plain decimal"),
        (".", "not a plain decimal"),
        ("4.5.1", "not a plain decimal"),
        ("+-4", "not a plain decimal"),
    ],
)
def test_a_bad_rating_names_its_line(tmp_path: Path, rating: str, reason: str) -> None:
    with pytest.raises(DataError, match=f"line 2 .*{reason}") as info:
        read_dat(tmp_path, ["1::1::5", f"1::2::{rating}"])
    one_line(info)


@pytest.mark.parametrize("rating", ["0", "-0", "+4", "4.", ".5", "3.4e38".replace("e38", "0" * 37)])
def test_unusual_but_valid_ratings_are_read(tmp_path: Path, rating: str) -> None:
    columns = read_dat(tmp_path, [f"1::2::{rating}"])
    assert columns["rating"].tolist() == [np.float32(float(rating))]


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [("x", "unexpected 'x'"), ("1.5", "timestamp"), (str(2**63), "timestamp"), ("", "timestamp")],
)
def test_a_bad_timestamp_names_its_line(tmp_path: Path, stamp: str, reason: str) -> None:
    with pytest.raises(DataError, match=f"line 2 .*{reason}"):
        read_dat(tmp_path, ["1::1::5::10", f"1::2::3::{stamp}"])


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        (["1::1::5", "1::2"], 2),  # two fields
        (["1::1::5::1", "1::2::3::4::5"], 2),  # five fields
        (["1::1::5", "1::2::3::4"], 2),  # a timestamp on some lines only
        (["1::1::5::1", "1::2::3"], 2),
        (["1::1::5", "", "1::2::3:4"], 3),  # blank lines still count
        (["1::1::5", "1::2::3", "UserID::MovieID::Rating"], 3),  # a header in the wrong place
        (["1::1::5", "1:::2::3"], 2),
        (["1::1::5", "1\t2\t3"], 2),  # another layout's separator
    ],
)
def test_a_misshapen_line_is_named(tmp_path: Path, lines: list[str], line: int) -> None:
    with pytest.raises(DataError, match=f"ratings.dat line {line} ") as info:
        read_dat(tmp_path, lines)
    one_line(info)


def test_bom_crlf_lone_cr_and_trailing_blank_lines_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "ratings.dat"
    path.write_bytes(b"\xef\xbb\xbf1::1::5\r\n2::2::4\r3::3::3\n\n\r\n\n")
    assert read_ratings(path, "dat")["user_id"].tolist() == [1, 2, 3]
    csv_path = tmp_path / "ratings.csv"
    csv_path.write_bytes(b"\xef\xbb\xbfuserId,movieId,rating\r\n1,2,3.5\r\n\r\n")
    assert read_ratings(csv_path, "csv")["rating"].tolist() == [3.5]


@pytest.mark.parametrize("odd", [b"\xff", b"\xe9", b"\x00", b"\x0b", b"\x85", b" "])
def test_non_ascii_and_control_bytes_name_their_line(tmp_path: Path, odd: bytes) -> None:
    path = tmp_path / "ratings.dat"
    path.write_bytes(b"1::1::5\n2::2::4\n3::3" + odd + b"::3\n")
    with pytest.raises(DataError, match="line 3 ") as info:
        read_ratings(path, "dat")
    one_line(info)


def test_csv_header_rules(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("1,1,4\n")  # no header
    with pytest.raises(DataError, match="line 1 .*header"):
        read_ratings(path, "csv")
    path.write_text("userId,movieId,rating\n1,1,4,5\n")  # data wider than the header
    with pytest.raises(DataError, match="line 2 "):
        read_ratings(path, "csv")
    path.write_text("userId,movieId,rating\n\n")
    with pytest.raises(DataError, match="no ratings"):
        read_ratings(path, "csv")


def test_a_bad_line_deep_in_a_large_file_is_named_exactly(tmp_path: Path) -> None:
    # Past the first chunks of the line-by-line fallback, with CRLF and blank lines on the way.
    lines = [f"{i}::{i % 50}::4" for i in range(1, 150_001)]
    lines[1000] = ""
    lines[2000] = "1::1::4\r1::2::4"  # a lone CR ends a line too: one more line from here
    lines[123_455] = "5::5::x"
    path = tmp_path / "ratings.dat"
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    with pytest.raises(DataError, match="line 123457 '5::5::x'"):
        read_ratings(path, "dat")


def test_a_valid_file_the_fast_path_cannot_vouch_for_is_still_read_exactly(
    tmp_path: Path,
) -> None:
    # A rating with more digits than uint64 holds leaves pandas with Python ints in one chunk.
    lines = [f"{i}::{i}::4" for i in range(1, 100_001)]
    lines[70_000] = "7::7::" + "1" * 25
    columns = read_dat(tmp_path, lines)
    assert len(columns["rating"]) == 100_000
    assert columns["rating"][70_000] == np.float32(float("1" * 25))
    assert columns["user_id"][-1] == 100_000 and columns["rating"][-1] == 4


def test_real_shaped_files_never_take_the_slow_path(tmp_path: Path, monkeypatch) -> None:
    from movierec.datasets import parse
    from movierec.datasets.fetch import BUNDLED_DIR

    def refuse(*args: object) -> None:
        raise AssertionError("the line-by-line fallback ran on a well-formed file")

    monkeypatch.setattr(parse, "_read_ratings_by_line", refuse)
    small = read_ratings(BUNDLED_DIR / "ml-latest-small" / "ratings.csv", "csv")
    assert len(small["rating"]) == 100_836
    assert len(read_dat(tmp_path, ["1::1193::5::978300760", "6040::1097::4::956715518"])) == 4


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "ratings.dat").mkdir()
    with pytest.raises(DataError, match="cannot read") as info:
        read_ratings(tmp_path / "ratings.dat", "dat")
    one_line(info)


def test_the_way_out_never_deletes_your_files_but_may_clear_the_cache(
    tmp_path: Path, monkeypatch
) -> None:
    folder = write_dat_dataset(tmp_path / "mine", ["1::x::5"])
    with pytest.raises(DataError, match="point --data-dir at an intact copy") as info:
        read_ratings(folder / "ratings.dat", "dat")
    assert "delete" not in str(info.value).rsplit("; ", 1)[-1]
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    cached = write_dat_dataset(tmp_path / "cache" / "datasets", ["1::x::5"])
    with pytest.raises(DataError, match="movierec's download cache"):
        read_ratings(cached / "ratings.dat", "dat")


# ---- movies files ---------------------------------------------------------------------------


def movies_dat(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "movies.dat"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_movie_ids_beyond_int32_are_valid(tmp_path: Path) -> None:
    movies = read_movies(movies_dat(tmp_path, ["1::A (1995)::", "99999999999::B (2001)::"]), "dat")
    assert movies.index.dtype == np.int64
    assert movies.index.tolist() == [1, 99999999999]
    assert movies.loc[99999999999, "year"] == 2001


@pytest.mark.parametrize("token", ["²", "abc", "", "1.5", "-3", "NaN", str(2**64), "٣"])
def test_a_bad_movie_id_names_its_line(tmp_path: Path, token: str) -> None:
    with pytest.raises(DataError, match="movies.dat line 2 .*movie id") as info:
        read_movies(movies_dat(tmp_path, ["1::A::", f"{token}::B::", "3::C::"]), "dat")
    one_line(info)


def test_a_movie_listed_twice_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="line 3: movie id 1 is listed again .first on line 1"):
        read_movies(movies_dat(tmp_path, ["1::A::", "2::B::", "1::A again::"]), "dat")


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("1,A,\nabc,B,\n", 3),
        ("1,A,\n,B,\n", 3),
        ("1,A,\nNaN,B,\n", 3),
        ("1,A,\n1.5,B,\n", 3),
        ("1,A,\n²,B,\n", 3),
        ('1,"A\nlong, title",\n2,B,\n1,C,\n', 5),  # a quoted newline is still one record
        ("1,A,\n2,B\n", 3),  # two fields under a three-field header
    ],
)
def test_a_bad_movies_csv_line_is_named(tmp_path: Path, body: str, line: int) -> None:
    path = tmp_path / "movies.csv"
    path.write_text("movieId,title,genres\n" + body, encoding="utf-8")
    with pytest.raises(DataError, match=f"movies.csv line {line}[ :]") as info:
        read_movies(path, "csv")
    one_line(info)


def test_movies_csv_valid_oddities(tmp_path: Path) -> None:
    path = tmp_path / "movies.csv"
    path.write_bytes(
        b'\xef\xbb\xbfmovieId,title,genres\r\n99999999999,"Big, The (2020)",(no genres listed)\r\n'
    )
    movies = read_movies(path, "csv")
    assert movies.index.tolist() == [99999999999]
    assert movies.loc[99999999999].tolist() == ["Big, The (2020)", "", 2020]


def test_non_utf8_movies_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "movies.csv"
    path.write_bytes(b"movieId,title,genres\n1,A,\n2,Caf\xe9,\n")
    with pytest.raises(DataError, match="line 3 .*0xE9 is not UTF-8") as info:
        read_movies(path, "csv")
    one_line(info)


def test_u_item_genre_flags_must_be_zero_or_one(tmp_path: Path) -> None:
    path = tmp_path / "u.item"
    flags = "|".join(["0"] * 18 + ["x"])
    path.write_text(f"1|A (1995)|01-Jan-1995||http://x|{flags}\n", encoding="latin-1")
    with pytest.raises(DataError, match="line 1 .*genre flags"):
        read_movies(path, "100k")


def test_a_year_needs_ascii_digits(tmp_path: Path) -> None:
    movies = read_movies(movies_dat(tmp_path, ["1::Arabic (١٩٩٥)::", "2::Plain (1995)::"]), "dat")
    assert movies["year"].tolist() == [0, 1995]


@pytest.mark.parametrize(
    "header",
    ["userId,movieId,rating,rating", "userId,movieId", "userId,movieId,rating,title", "a,b,c"],
)
def test_a_csv_header_must_name_each_column_once_and_nothing_else(
    tmp_path: Path, header: str
) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(f"{header}\n1,2,3,4\n")
    with pytest.raises(DataError, match="line 1 .*should name user_id") as info:
        read_ratings(path, "csv")
    one_line(info)


def test_csv_columns_may_come_in_any_order_under_either_name(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("rating,movie_id,timestamp,userId\n4.5,10,99,7\n3,11,98,8\n")
    columns = read_ratings(path, "csv")
    assert columns["user_id"].tolist() == [7, 8]
    assert columns["movie_id"].tolist() == [10, 11]
    assert columns["rating"].tolist() == [4.5, 3.0]
    assert columns["timestamp"].tolist() == [99, 98]


def test_a_bad_line_in_a_late_block_is_named_exactly(tmp_path: Path, monkeypatch) -> None:
    from movierec.datasets import parse

    monkeypatch.setattr(parse, "_BLOCK_BYTES", 1000)  # many blocks, the bad line in a late one
    lines = [f"{i}::{i % 97}::{1 + i % 5}" for i in range(1, 2001)]
    lines[1733] = "1734::x::5"
    folder = write_dat_dataset(tmp_path / "big", lines)
    with pytest.raises(DataError, match="line 1734 '1734::x::5'"):
        read_ratings(folder / "ratings.dat", "dat")


@pytest.mark.parametrize("layout", ["dat", "csv"])
@pytest.mark.parametrize("grows", [False, True])
def test_parsing_into_a_folder_gives_the_same_columns_as_in_memory(
    tmp_path: Path, monkeypatch, layout: str, grows: bool
) -> None:
    from movierec.datasets import parse

    if grows:  # small blocks, later ones denser than the first: the columns outgrow the files
        monkeypatch.setattr(parse, "_BLOCK_BYTES", 64)
    sep = "::" if layout == "dat" else ","
    lines = [f"{i}{sep}{i % 7}{sep}{1 + i % 5}" for i in range(1, 400)]
    lines[:5] = [f"{10**12 + i}{sep}{10**12}{sep}4.5" for i in range(5)]  # long first lines
    header = ["userId,movieId,rating"] if layout == "csv" else []
    path = tmp_path / f"ratings.{layout}"
    path.write_text("\n".join(header + lines) + "\n")
    expected = read_ratings(path, layout)
    into = tmp_path / "columns"
    into.mkdir()
    columns = read_ratings(path, layout, into)
    assert all(isinstance(c, np.memmap) != grows for c in columns.values())
    assert set(columns) == set(expected)
    for key, column in expected.items():
        assert np.array_equal(columns[key], column) and columns[key].dtype == column.dtype


@pytest.mark.parametrize("header_grows", [False, True])
def test_a_column_file_is_cut_to_its_rows(tmp_path: Path, monkeypatch, header_grows) -> None:
    from movierec.datasets import parse

    path = tmp_path / "user_id.npy"
    column = np.lib.format.open_memmap(path, "w+", np.int64, (1000,))
    column[:10] = np.arange(10)
    if header_grows:  # a header of another length: the rows are saved anew
        write = np.lib.format.write_array_header_1_0
        monkeypatch.setattr(
            np.lib.format,
            "write_array_header_1_0",
            lambda fp, d: write(fp, {**d, "shape": (10,), "fortran_order": False, "x": "y" * 99}),
        )
    parse._trim_npy(path, column, 10)
    del column
    monkeypatch.undo()
    assert np.load(path).tolist() == list(range(10))
