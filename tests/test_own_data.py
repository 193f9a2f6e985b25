"""Your own ratings (``--ratings FILE [--movies FILE]``): CSV, Parquet or ``::`` files in
MovieLens' shape, checked by the same rules as MovieLens' files, and models trained on them
that answer from their folder alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movierec import load_dataset
from movierec.cli import main
from movierec.datasets.fetch import BUNDLED_DIR
from movierec.datasets.parse import read_parquet_ratings, read_ratings
from movierec.errors import DataError

SMALL = BUNDLED_DIR / "ml-latest-small"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def truth() -> dict[str, np.ndarray]:
    return read_ratings(SMALL / "ratings.csv", "csv")


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory, truth: dict[str, np.ndarray]) -> Path:
    """ml-latest-small's ratings as the user's own: a CSV under movierec's column names, a
    Parquet file, and a Parquet movies file listing only some of the movies."""
    folder = tmp_path_factory.mktemp("own")
    table = pa.table(
        {
            "user_id": truth["user_id"],
            "movie_id": truth["movie_id"],
            "rating": truth["rating"],
            "timestamp": truth["timestamp"],
        }
    )
    pq.write_table(table, folder / "mine.parquet", row_group_size=20_000)
    lines = ["timestamp,rating,user_id,movie_id"]  # any column order
    lines += [
        f"{t},{r:g},{u},{m}"
        for u, m, r, t in zip(
            *(truth[k].tolist() for k in ("user_id", "movie_id", "rating", "timestamp"))
        )
    ]
    (folder / "mine.csv").write_text("\n".join(lines) + "\n")
    movies = load_dataset("ml-latest-small").movies.head(500)
    pq.write_table(
        pa.table({"movie_id": movies.index.to_numpy(), "title": movies["title"].tolist()}),
        folder / "movies.parquet",
    )
    return folder


@pytest.mark.parametrize("name", ["mine.csv", "mine.parquet"])
def test_own_files_read_as_the_same_ratings(own: Path, truth, name: str) -> None:
    dataset = load_dataset(ratings=own / name)
    assert dataset.name == name
    for key, column in truth.items():
        assert np.array_equal(dataset.column(key), column), key
        assert dataset.column(key).dtype == column.dtype
    assert dataset.rating_scale == (0.0, 5.0)  # 0 to the data's highest: no registry entry


def test_movies_file_titles_and_the_rest_are_named_by_id(own: Path, capsys) -> None:
    dataset = load_dataset(ratings=own / "mine.parquet", movies=own / "movies.parquet")
    movies = dataset.movies
    assert movies.loc[1, "title"] == "Toy Story (1995)"
    unlisted = int(np.setdiff1d(dataset.column("movie_id"), movies.index[:500])[0])
    assert movies.loc[unlisted, "title"] == f"Movie {unlisted}"
    assert set(np.unique(dataset.column("movie_id"))) <= set(movies.index)
    assert "are not in movies.parquet" in capsys.readouterr().err


def test_a_model_of_own_data_answers_without_the_files(own: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    ratings, movies = folder / "r.parquet", folder / "m.parquet"
    ratings.write_bytes((own / "mine.parquet").read_bytes())
    movies.write_bytes((own / "movies.parquet").read_bytes())
    model = tmp_path / "model"
    code, _, err = run(
        capsys,
        "train",
        "--ratings",
        str(ratings),
        "--movies",
        str(movies),
        "--out",
        str(model),
        "--preset",
        "als-sparse",
        "--iterations",
        "2",
    )
    assert code == 0, err
    ratings.unlink()
    movies.unlink()
    code, out, err = run(
        capsys, "recommend", "--model", str(model), "--like", "Toy Story", "-n", "3", "--json"
    )
    assert code == 0, err
    assert len(json.loads(out)) == 3
    code, _, err = run(
        capsys,
        "recommend",
        "--model",
        str(model),
        "--ratings",
        str(own / "mine.csv"),
        "--like",
        "1",
    )
    assert code == 2 and "trained on r.parquet, not mine.csv" in err


def write_parquet(path: Path, **columns: list) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


PARQUET_FAULTS = {
    "a missing rating": (
        {"user_id": [1, 2, 3], "movie_id": [1, 2, 3], "rating": [4.0, None, 3.0]},
        "column 'rating' has 1 missing values (row 2 first)",
    ),
    "a negative id": (
        {"user_id": [1, -2, 3], "movie_id": [1, 2, 3], "rating": [4.0, 5.0, 3.0]},
        "column 'user_id' holds a negative id (ids are 0 or more) (row 2 first)",
    ),
    "ids as decimals": (
        {"user_id": [1.0, 2.0], "movie_id": [1, 2], "rating": [4.0, 5.0]},
        "column 'user_id' holds double, not whole numbers",
    ),
    "ratings as text": (
        {"user_id": [1, 2], "movie_id": [1, 2], "rating": ["4", "5"]},
        "column 'rating' holds string, not numbers",
    ),
    "a rating that is not finite": (
        {"user_id": [1, 2], "movie_id": [1, 2], "rating": [4.0, float("inf")]},
        "holds a rating that is negative, not finite, or too large (row 2 first)",
    ),
    "an id past int64": (
        {"user_id": pa.array([1, 2**64 - 1], pa.uint64()), "movie_id": [1, 2], "rating": [4, 5]},
        "holds a value larger than",
    ),
    "an extra column": (
        {"user_id": [1], "movie_id": [1], "rating": [4.0], "title": ["x"]},
        "should name user_id",
    ),
    "no rating column": ({"user_id": [1], "movie_id": [1]}, "should name user_id"),
    "no rows": (
        {
            "user_id": pa.array([], pa.int64()),
            "movie_id": pa.array([], pa.int64()),
            "rating": pa.array([], pa.float64()),
        },
        "has no ratings",
    ),
}


@pytest.mark.parametrize("fault", list(PARQUET_FAULTS))
def test_a_bad_parquet_file_is_one_line_naming_column_and_row(tmp_path: Path, fault: str) -> None:
    columns, message = PARQUET_FAULTS[fault]
    path = write_parquet(tmp_path / "r.parquet", **columns)
    with pytest.raises(DataError) as info:
        read_parquet_ratings(path)
    assert message in str(info.value)
    assert str(info.value).isprintable() and "r.parquet" in str(info.value)


def test_parquet_timestamps_become_seconds(tmp_path: Path) -> None:
    stamps = pa.array([0, 1_000_000], pa.timestamp("ms"))
    path = write_parquet(
        tmp_path / "r.parquet",
        user_id=[1, 2],
        movie_id=[3, 4],
        rating=pa.array([4, 5], pa.int8()),
        timestamp=stamps,
    )
    columns = read_parquet_ratings(path)
    assert columns["timestamp"].tolist() == [0, 1000]
    assert columns["rating"].dtype == np.float32 and columns["rating"].tolist() == [4.0, 5.0]


def test_not_parquet_at_all_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    path.write_text("user_id,movie_id,rating\n1,2,3\n")
    with pytest.raises(DataError, match="cannot read .*r.parquet as Parquet"):
        read_parquet_ratings(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ratings", "{own}/nope.csv"], "does not exist"),
        (["--ratings", "{own}"], "name a file ending in .csv, .parquet"),
        (["--ratings", "{own}/mine.txt"], "name a file ending in .csv, .parquet"),
        (["--ratings", "{own}/mine.csv", "-d", "ml-1m"], "not both"),
        (["--movies", "{own}/movies.parquet"], "add --ratings FILE"),
        (["--ratings", "{own}/mine.csv", "--movies", "{own}/none.csv"], "does not exist"),
        (["--ratings", "{own}/mine.csv", "--min-rating", "9"], "outside mine.csv's rating scale"),
    ],
)
def test_bad_own_data_options_are_one_line_exit_2(own: Path, capsys, args, message) -> None:
    code, out, err = run(capsys, "stats", *(a.format(own=own) for a in args))
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_stats_of_an_own_csv_match_the_dataset_it_copies(own: Path, capsys) -> None:
    code, out, err = run(capsys, "stats", "--ratings", str(own / "mine.csv"), "--json")
    assert code == 0, err
    stats = json.loads(out)
    assert stats["dataset"] == "mine.csv"
    assert stats["ratings_total"] == 100_836 and stats["movies"] == 8_452


@pytest.mark.parametrize(
    ("ratings", "min_rating", "kept"),
    [
        ("4,5", "3", 2),  # the default keeps all: the data's lowest rating is no floor
        ("4,5", "0", 2),
        ("4,4.5", "4.5", 1),
        ("1,10", "10", 1),  # a 10-point scale's top
        ("0,1", "0", 2),
    ],
)
def test_own_data_takes_any_min_rating_from_zero_to_its_highest(
    tmp_path: Path, capsys, ratings: str, min_rating: str, kept: int
) -> None:
    low, high = ratings.split(",")
    path = tmp_path / "r.csv"
    path.write_text(f"user_id,movie_id,rating\n1,2,{low}\n3,4,{high}\n")
    code, out, err = run(
        capsys, "stats", "--ratings", str(path), "--min-rating", min_rating, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["ratings_kept"] == kept


@pytest.mark.parametrize("min_rating", ["5.5", "-0.5", "nan"])
def test_own_data_refuses_a_min_rating_past_its_scale(tmp_path: Path, capsys, min_rating) -> None:
    path = tmp_path / "r.csv"
    path.write_text("user_id,movie_id,rating\n1,2,4\n3,4,5\n")
    code, out, err = run(capsys, "stats", "--ratings", str(path), "--min-rating", min_rating)
    assert code == 2 and out == ""
    assert "outside r.csv's rating scale (0 to 5)" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "genres"),
    [
        ("movie_id,title\n1,Toy Story (1995)\n", ""),
        ('movieId,genres,title\n1,Animation|Comedy,"Toy Story, The (1995)"\n', "Animation|Comedy"),
    ],
)
def test_a_csv_movies_file_names_its_columns(own: Path, tmp_path: Path, text: str, genres: str):
    movies = tmp_path / "movies.csv"
    movies.write_text(text)
    dataset = load_dataset(ratings=own / "mine.parquet", movies=movies)
    assert dataset.movies.loc[1, "title"].startswith("Toy Story")
    assert dataset.movies.loc[1, "genres"] == genres
    assert dataset.movies.loc[1, "year"] == 1995


def test_a_movies_file_listing_a_movie_twice_names_both_rows(own: Path, tmp_path: Path) -> None:
    movies = write_parquet(tmp_path / "m.parquet", movie_id=[1, 2, 1], title=["a", "b", "c"])
    dataset = load_dataset(ratings=own / "mine.parquet", movies=movies)
    with pytest.raises(DataError, match="row 3: movie id 1 is listed again \\(first on row 1\\)"):
        _ = dataset.movies


def test_ratings_of_thousands_of_values_save_a_model_that_loads(tmp_path: Path, capsys) -> None:
    """A summary holds at most MAX_RATING_ROWS rating rows (meta.json refuses more): play-count
    data of thousands of distinct values is counted in bins, with kept counts exact."""
    from movierec.datasets.summary import MAX_RATING_ROWS

    rng = np.random.default_rng(0)
    pairs = rng.choice(300 * 200, size=5000, replace=False)
    ratings = np.round(rng.random(5000) * 5, 4)
    lines = [f"{p // 200},{p % 200},{r}" for p, r in zip(pairs.tolist(), ratings.tolist())]
    (tmp_path / "plays.csv").write_text("user_id,movie_id,rating\n" + "\n".join(lines) + "\n")
    args = ["--ratings", str(tmp_path / "plays.csv"), "--min-rating", "1.2345"]
    code, _, err = run(capsys, "train", *args, "--out", str(tmp_path / "m"))
    assert code == 0, err
    code, out, err = run(capsys, "recommend", "--model", str(tmp_path / "m"), "--like", "3")
    assert code == 0, err
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    rows = meta["summary"]["ratings"]
    kept = int((ratings >= np.float32(1.2345)).sum())
    assert len(np.unique(ratings)) > MAX_RATING_ROWS >= len(rows) > MAX_RATING_ROWS // 2
    assert sum(r[1] for r in rows) == 5000 and sum(r[2] for r in rows) == kept
    assert meta["summary"]["stats"]["ratings_kept"] == kept
