"""Titles resolve the way people type them, on real data: ML-1M (when MOVIEREC_DATA_DIR holds
it) and the bundled ml-latest-small. Each example of issue 11 (items 3–5) is a test here, through
the library and through the command line; the rules themselves are specified on small built
catalogues in tests/test_titles.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movierec.catalogue import Catalogue
from movierec.cli import main
from movierec.datasets.title_format import article_first, split_year
from movierec.errors import TitleError
from movierec.titles import canonical

DATASETS = ["ml-1m", "ml-latest-small"]
SABRINA_1995, SABRINA_1954 = 7, 915
HEAT_1995, THE_HEAT_2013 = 6, 103372
TOY_STORY, TOY_STORY_2, MATRIX, EMPIRE = 1, 3114, 2571, 1196
FATHER_OF_THE_BRIDE_2, CITY_OF_INDUSTRY = 5, 1472
SABRINA_NOTE = (
    '"Sabrina" is Sabrina (1995), the most rated of 2; for another, give the year: Sabrina (1954)'
)


@pytest.fixture(scope="module", params=DATASETS)
def dataset(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("ml1m" if request.param == "ml-1m" else "small")


@pytest.fixture(scope="module")
def catalogue(dataset: Any) -> Catalogue:
    return Catalogue.from_dataset(dataset)


@pytest.fixture(scope="module")
def small_catalogue(small: Any) -> Catalogue:
    return Catalogue.from_dataset(small)


@pytest.fixture(scope="module")
def ml1m_catalogue(ml1m: Any) -> Catalogue:
    return Catalogue.from_dataset(ml1m)


def title_of(catalogue: Catalogue, typed: str | int) -> str:
    movie = catalogue.movie(catalogue.resolve(typed).movie_id)
    assert movie is not None
    return movie.title


def popularity_of(catalogue: Catalogue, movie_id: int) -> int:
    return int(catalogue.popularity[catalogue.movie_ids.tolist().index(movie_id)])


# ---- 3. an exact title beats a partial one; the same exact title goes to the most rated --------


def test_sabrina_is_the_more_rated_sabrina_and_the_note_names_the_other(
    catalogue: Catalogue,
) -> None:
    assert popularity_of(catalogue, SABRINA_1995) > popularity_of(catalogue, SABRINA_1954)
    resolution = catalogue.resolve("Sabrina")
    assert resolution.movie_id == SABRINA_1995
    assert resolution.note == SABRINA_NOTE


def test_sabrina_with_its_year_is_that_sabrina_without_a_note(catalogue: Catalogue) -> None:
    assert catalogue.resolve("Sabrina (1954)").movie_id == SABRINA_1954
    assert catalogue.resolve("sabrina (1954)").note is None


def test_heat_is_heat_not_the_heat(catalogue: Catalogue) -> None:
    resolution = catalogue.resolve("Heat")
    assert resolution.movie_id == HEAT_1995 and resolution.note is None


def test_the_heat_is_the_heat_where_the_data_has_it(small_catalogue: Catalogue) -> None:
    assert small_catalogue.resolve("The Heat").movie_id == THE_HEAT_2013


def test_hamlet_is_the_most_rated_of_five_and_the_note_lists_the_others(
    ml1m_catalogue: Catalogue,
) -> None:
    resolution = ml1m_catalogue.resolve("Hamlet")
    assert title_of(ml1m_catalogue, "Hamlet") == "Hamlet (1996)"
    assert resolution.note == (
        '"Hamlet" is Hamlet (1996), the most rated of 5; for another, give the year: '
        "Hamlet (1990), Hamlet (2000), Hamlet (1948), Hamlet (1964)"
    )


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("The Matrix", "Matrix, The (1999)"),
        ("matrix", "Matrix, The (1999)"),
        ("Se7en", "Seven"),
        ("Star Wars: Episode IV", "Star Wars: Episode IV - A New Hope (1977)"),
        ("Toy Stroy", "Toy Story (1995)"),
        ("the shawshank redemption", "Shawshank Redemption, The (1994)"),
    ],
)
def test_the_readmes_examples_still_resolve(catalogue: Catalogue, typed: str, title: str) -> None:
    assert title_of(catalogue, typed).startswith(title)


# ---- 4. a bare number that is a movie id is that movie; other numbers are titles ---------------


def test_a_movie_id_names_that_movie(catalogue: Catalogue) -> None:
    assert catalogue.resolve("3114") == catalogue.resolve(TOY_STORY_2)
    assert title_of(catalogue, "3114") == "Toy Story 2 (1999)"


def test_1941_is_hamlet_by_id_and_the_note_says_how_to_get_the_film_1941(
    small_catalogue: Catalogue,
) -> None:
    resolution = small_catalogue.resolve("1941")
    assert title_of(small_catalogue, "1941") == "Hamlet (1948)"
    assert resolution.note == (
        '"1941" is movie id 1941, Hamlet (1948); for the title "1941", give its year: 1941 (1979)'
    )
    assert title_of(small_catalogue, "1941 (1979)") == "1941 (1979)"


def test_1941_is_hamlet_without_a_note_where_no_title_is_1941(ml1m_catalogue: Catalogue) -> None:
    assert title_of(ml1m_catalogue, "1941") == "Hamlet (1948)"
    assert ml1m_catalogue.resolve("1941").note is None


def test_2010_is_metropolis_by_id_and_2010_with_its_year_is_the_film(
    ml1m_catalogue: Catalogue,
) -> None:
    assert title_of(ml1m_catalogue, "2010") == "Metropolis (1926)"
    assert 'for the title "2010", give its year: 2010 (1984)' in str(
        ml1m_catalogue.resolve("2010").note
    )
    assert title_of(ml1m_catalogue, "2010 (1984)") == "2010 (1984)"


def test_a_numeric_title_that_is_no_movie_id_is_that_title(small_catalogue: Catalogue) -> None:
    assert title_of(small_catalogue, "1776") == "1776 (1972)"


def test_an_unknown_movie_id_is_an_error(catalogue: Catalogue) -> None:
    with pytest.raises(TitleError, match="no movie has id 99999999"):
        catalogue.resolve("99999999")
    with pytest.raises(TitleError, match="no movie has id 99999999"):
        catalogue.resolve(99_999_999)


# ---- 5. search finds what was meant ------------------------------------------------------------


def search(catalogue: Catalogue, query: str, n: int = 10) -> list[int]:
    return catalogue.titles_index.search(query, n)


def test_the_matrix_finds_the_matrix_and_not_father_of_the_bride(catalogue: Catalogue) -> None:
    found = search(catalogue, "the matrix")
    assert found[0] == MATRIX and FATHER_OF_THE_BRIDE_2 not in found


def test_the_matrixs_sequels_follow_it(small_catalogue: Catalogue) -> None:
    titles = [title_of(small_catalogue, m) for m in search(small_catalogue, "the matrix", 3)]
    assert titles == [
        "Matrix, The (1999)",
        "Matrix Reloaded, The (2003)",
        "Matrix Revolutions, The (2003)",
    ]


def test_stroy_finds_stories_not_city_of_industry(catalogue: Catalogue) -> None:
    found = search(catalogue, "stroy")
    assert found[:2] == [TOY_STORY, TOY_STORY_2] and CITY_OF_INDUSTRY not in found
    assert all("Story" in title_of(catalogue, m) for m in found[:4])


def test_star_wars_5_is_the_empire_strikes_back(catalogue: Catalogue) -> None:
    assert search(catalogue, "star wars 5")[0] == EMPIRE
    assert catalogue.resolve("star wars 5").movie_id == EMPIRE


@pytest.mark.parametrize("query", ["xyzzyq", "qwzxy plorb"])
def test_nonsense_finds_nothing_and_names_no_movie(catalogue: Catalogue, query: str) -> None:
    assert search(catalogue, query) == []
    with pytest.raises(TitleError, match=f"no movie matches '{query}'"):
        catalogue.resolve(query)


# ---- any title typed exactly finds a movie with that title ---------------------------------------


def typed_forms(title: str) -> st.SearchStrategy[str]:
    """The title as a person might type it exactly: any case, article moved, year dropped."""
    name, year = split_year(title)
    names = st.sampled_from([name, article_first(name)])
    cased = st.tuples(names, st.sampled_from([str, str.lower, str.upper, str.title])).map(
        lambda pair: pair[1](pair[0])
    )
    return st.tuples(cased, st.booleans()).map(
        lambda pair: pair[0] if pair[1] or year is None else f"{pair[0]} ({year})"
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(data=st.data())
def test_any_title_typed_exactly_resolves_to_a_movie_with_that_title(
    catalogue: Catalogue, data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(catalogue.titles) - 1))
    title = catalogue.titles[position]
    typed = data.draw(typed_forms(title))
    resolution = catalogue.resolve(typed)
    if typed.isdigit() and catalogue.movie(int(typed)) is not None:
        assert resolution.movie_id == int(typed)  # a bare number that is a movie id
    else:
        assert canonical(title_of(catalogue, resolution.movie_id)) == canonical(title)


# ---- the command line: one note on stderr, nothing else changed -------------------------------


@pytest.fixture(scope="module")
def cli_args(request: pytest.FixtureRequest, dataset: Any, tmp_path_factory) -> dict[str, list]:
    """Arguments naming the dataset, and a quickly trained model saved for it."""
    if dataset.name == "ml-1m":
        data = ["--dataset", "ml-1m", "--data-dir", str(request.getfixturevalue("ml1m_dir"))]
    else:
        data = ["--dataset", "ml-latest-small"]
    out = tmp_path_factory.mktemp("model") / dataset.name
    train = ["train", *data, "--out", str(out), "--preset", "als-tuned", "--factors", "16"]
    assert main([*train, "--iterations", "2"]) == 0
    return {"data": data, "model": [*data, "--model", str(out)]}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_recommend_like_sabrina_notes_the_choice_once_on_stderr_and_json_is_unchanged(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list]
) -> None:
    like = ["--like", "Sabrina", "--like", "sabrina", "-n", "3", "--json"]
    code, out, err = run(capsys, "recommend", *like, *cli_args["model"])
    assert code == 0 and err == f"movierec: {SABRINA_NOTE}\n"  # once, for either spelling
    assert "most rated" not in out
    by_id = run(capsys, "recommend", "--like", "7", "-n", "3", "--json", *cli_args["model"])
    assert json.loads(out) == json.loads(by_id[1]) and by_id[2] == ""


def test_one_note_per_title_however_often_it_is_given(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list]
) -> None:
    likes = ["--like", "Sabrina", "--like", "Sabrina", "--like", "Toy Story"]
    code, out, err = run(capsys, "recommend", *likes, "-n", "3", *cli_args["model"])
    assert code == 0 and err == f"movierec: {SABRINA_NOTE}\n"
    assert "Because you like Sabrina (1995), Toy Story (1995)" in out


def test_similar_heat_is_heat_1995_without_a_note(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list]
) -> None:
    code, out, err = run(capsys, "similar", "Heat", "-n", "3", *cli_args["model"])
    assert code == 0 and err == "" and out.startswith("Similar to Heat (1995)")


def test_similar_by_movie_id_is_similar_by_title(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list]
) -> None:
    by_id = run(capsys, "similar", "3114", "--json", *cli_args["model"])
    by_title = run(capsys, "similar", "Toy Story 2", "--json", *cli_args["model"])
    assert by_id[0] == 0 and by_id[2] == "" and json.loads(by_id[1]) == json.loads(by_title[1])


def test_score_names_the_liked_and_scored_movies_by_id_or_title(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list]
) -> None:
    by_id = run(capsys, "score", "3114", "--like", "1", "--json", *cli_args["model"])
    by_title = run(
        capsys, "score", "Toy Story 2", "--like", "Toy Story", "--json", *cli_args["model"]
    )
    assert by_id[0] == 0 and json.loads(by_id[1]) == json.loads(by_title[1])


def test_similar_star_wars_5_is_similar_to_the_empire_strikes_back(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list]
) -> None:
    code, out, err = run(capsys, "similar", "star wars 5", "-n", "3", *cli_args["model"])
    assert code == 0 and err == ""
    assert out.startswith("Similar to Star Wars: Episode V - The Empire Strikes Back (1980)")


def test_a_number_read_as_a_movie_id_is_noted_when_a_title_is_that_number(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list], dataset: Any
) -> None:
    number, movie = ("2010", "Metropolis (1926)") if dataset.name == "ml-1m" else ("1941", "Hamlet")
    code, out, err = run(capsys, "similar", number, "-n", "3", *cli_args["model"])
    assert code == 0 and out.startswith(f"Similar to {movie}")
    assert err.startswith(f'movierec: "{number}" is movie id {number}, ') and err.count("\n") == 1


@pytest.mark.parametrize(
    ("query", "first", "absent"),
    [("the matrix", MATRIX, FATHER_OF_THE_BRIDE_2), ("stroy", TOY_STORY, CITY_OF_INDUSTRY)],
)
def test_search_lists_what_was_meant(
    capsys: pytest.CaptureFixture[str],
    cli_args: dict[str, list],
    query: str,
    first: int,
    absent: int,
) -> None:
    code, out, err = run(capsys, "search", query, "--json", *cli_args["data"])
    found = [row["movie_id"] for row in json.loads(out)]
    assert code == 0 and err == "" and found[0] == first and absent not in found


def test_search_that_matches_nothing_says_so_and_exits_0(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list]
) -> None:
    assert run(capsys, "search", "xyzzyq", *cli_args["data"]) == (
        0,
        "no movie matches 'xyzzyq'\n",
        "",
    )
    assert run(capsys, "search", "xyzzyq", "--json", *cli_args["data"]) == (0, "[]\n", "")


def test_a_movie_that_matches_nothing_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list]
) -> None:
    code, out, err = run(capsys, "similar", "xyzzyq", *cli_args["model"])
    assert (code, out) == (2, "")
    assert err.startswith("movierec: error: no movie matches 'xyzzyq'") and err.count("\n") == 1


def test_demo_checks_every_title_before_printing_anything(
    capsys: pytest.CaptureFixture[str], cli_args: dict[str, list]
) -> None:
    likes = ["--like", "Toy Story", "--like", "Sabrina", "--like", "Xyzzyq"]
    code, out, err = run(capsys, "demo", *likes, *cli_args["data"])
    assert (code, out) == (2, "")
    assert err.startswith("movierec: error: no movie matches 'Xyzzyq'") and err.count("\n") == 1


def test_demo_takes_the_most_rated_sabrina_and_says_so_once(
    capsys: pytest.CaptureFixture[str], small: Any
) -> None:
    likes = ["--like", "Toy Story", "--like", "Sabrina", "--like", "Heat"]
    code, out, err = run(capsys, "demo", *likes, "-n", "3", "--json", "--dataset", small.name)
    assert code == 0 and err.splitlines().count(f"movierec: {SABRINA_NOTE}") == 1
    favourites = [m["movie_id"] for m in json.loads(out)["favourites"]]
    assert favourites == [TOY_STORY, SABRINA_1995, HEAT_1995]


# ---- the web app searches with the same ranking --------------------------------------------------


def test_the_web_search_ranks_like_the_command_line(small_recommender: Any) -> None:
    from fastapi.testclient import TestClient

    from movierec.web.app import create_app

    with TestClient(create_app(small_recommender)) as client:
        for query in ("the matrix", "stroy", "star wars 5", "xyzzyq"):
            answer = client.get("/api/movies/search", params={"q": query, "n": 5})
            found = [movie["movie_id"] for movie in answer.json()]
            assert found == small_recommender.titles.search(query, 5)
    assert small_recommender.titles.search("stroy", 1) == [TOY_STORY]
