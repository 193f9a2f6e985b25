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
