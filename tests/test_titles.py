"""Resolving what a person types to one movie."""

from __future__ import annotations

import pytest

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


def test_ambiguous_title_lists_candidates(index: TitleIndex) -> None:
    with pytest.raises(TitleError, match="matches 2 movies") as info:
        index.resolve("Hamlet")
    assert "Hamlet (1948)" in str(info.value) and "Hamlet (1996)" in str(info.value)


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
