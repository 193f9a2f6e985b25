"""Resolving what a person types to one movie."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.errors import TitleError
from movierec.titles import TitleIndex, canonical

MOVIE_IDS = [1, 3114, 2571, 1411, 1412, 3, 47, 260, 1196, 29]
TITLES = [
    "Toy Story (1995)",
    "Toy Story 2 (1999)",
    "Matrix, The (1999)",
    "Hamlet (1948)",
    "Hamlet (1996)",
    "Man Bites Dog (C'est arrivé près de chez vous) (1992)",
    "Seven (Se7en) (1995)",
    "Star Wars: Episode IV - A New Hope (1977)",
    "Star Wars: Episode V - The Empire Strikes Back (1980)",
    "City of Lost Children, The (1995)",
]
POPULARITY = {1: 10, 3114: 5, 260: 9, 1196: 8}


@pytest.fixture(scope="module")
def index() -> TitleIndex:
    return TitleIndex(MOVIE_IDS, TITLES, [POPULARITY.get(m, 0) for m in MOVIE_IDS])


@pytest.mark.parametrize(
    ("typed", "movie_id"),
    [
        ("Toy Story (1995)", 1),  # exact
        ("toy story (1995)", 1),  # case
        ("Toy Story", 1),  # no year
        ("The Matrix", 2571),  # article moved
        ("matrix", 2571),  # article dropped
        ("Matrix, The (1999)", 2571),
        ("Hamlet (1996)", 1412),  # year picks one of several
        ("Man Bites Dog", 3),  # alternate title in parentheses
        ("C'est arrive pres de chez vous", 3),  # accents optional
        ("Se7en", 47),
        ("Toy Stroy", 1),  # typo
        ("the city of lost children", 29),
        ("Star Wars: Episode IV", 260),  # the start of a longer title
    ],
)
def test_resolves(index: TitleIndex, typed: str, movie_id: int) -> None:
    assert index.resolve(typed) == movie_id


def test_same_exact_title_takes_the_most_rated_and_names_the_other(index: TitleIndex) -> None:
    resolution = TitleIndex([1411, 1412], ["Hamlet (1948)", "Hamlet (1996)"], [3, 8]).resolution(
        "Hamlet"
    )
    assert resolution.movie_id == 1412
    assert resolution.note == (
        '"Hamlet" is Hamlet (1996), the most rated of 2; for another, give the year: Hamlet (1948)'
    )


def test_a_partial_title_of_several_movies_lists_them(index: TitleIndex) -> None:
    with pytest.raises(TitleError, match="matches 2 movies") as info:
        index.resolve("Toy")
    assert "Toy Story (1995)" in str(info.value) and "Toy Story 2 (1999)" in str(info.value)


def test_series_name_is_ambiguous_not_unknown(index: TitleIndex) -> None:
    with pytest.raises(TitleError, match="Episode IV"):
        index.resolve("Star Wars")


def test_unknown_title_suggests_the_closest(index: TitleIndex) -> None:
    with pytest.raises(TitleError, match="did you mean") as info:
        index.resolve("Toy Storm Rising")
    assert "Toy Story" in str(info.value)


def test_empty_title_is_an_error(index: TitleIndex) -> None:
    with pytest.raises(TitleError, match="empty"):
        index.resolve("  ")


def test_search_prefers_prefix_then_popularity(index: TitleIndex) -> None:
    assert index.search("toy", 2) == [1, 3114]
    assert index.search("star wars", 5)[:2] == [260, 1196]
    assert index.search("hamlte", 3)  # typos still find something


def test_canonical_moves_articles_and_drops_year() -> None:
    assert canonical("Matrix, The (1999)") == canonical("the matrix")
    assert canonical("Man Bites Dog (C'est arrivé près de chez vous)") != ""


# ---- titles straight from a data file, and whatever a person types ----------------------------


def test_titles_with_control_characters_stay_one_line_in_messages() -> None:
    hostile = TitleIndex(
        [99_999_999_999, 2], ["Evil\n\x1b[31mRed (1999)", "Evil\rTwin (1999)"], [1, 1]
    )
    with pytest.raises(TitleError) as info:
        hostile.resolve("Evil")
    message = str(info.value)
    assert message.isprintable() and "\\x1b[31m" in message and "matches 2 movies" in message
    assert hostile.resolve("Evil\n\x1b[31mRed (1999)") == 99_999_999_999  # exact still works


def test_a_long_query_is_cut_in_the_message(index: TitleIndex) -> None:
    with pytest.raises(TitleError) as info:
        index.resolve("q" * 100_000)
    assert len(str(info.value)) < 400


titles = st.one_of(
    st.text(max_size=25),
    st.sampled_from(["", " ", "()", "(1995)", ", The", "(a.k.a. )", "\x00", "[/x]", "\u0301"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(titles, min_size=1, max_size=8), titles, st.integers(0, 12))
def test_any_titles_and_query_resolve_or_raise_title_error(
    names: list[str], query: str, n: int
) -> None:
    movie_ids = list(range(2**40, 2**40 + len(names)))  # ids beyond int32 come back exactly
    hostile = TitleIndex(movie_ids, names, list(range(len(names))))
    try:
        assert hostile.resolve(query) in movie_ids
    except TitleError as error:
        assert str(error).isprintable()
    found = hostile.search(query, n)
    assert set(found) <= set(movie_ids) and len(found) <= n
