"""Resolving what a person types to one movie, and searching titles: the rules of
:mod:`movierec.titles` on small built catalogues (real data: tests/test_title_resolution.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.datasets.title_format import article_first, articles_first, split_year, split_years
from movierec.errors import TitleError
from movierec.titles import TitleIndex, canonical, typos_allowed

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


def test_canonical_moves_articles_and_drops_year() -> None:
    assert canonical("Matrix, The (1999)") == canonical("the matrix")
    assert canonical("Man Bites Dog (C'est arrivé près de chez vous)") != ""


# ---- an exact title beats a partial one; the same exact title goes to the most rated ----------


def index_of(titles: dict[int, tuple[str, int]]) -> TitleIndex:
    """An index of ``{movie_id: (title, popularity)}``."""
    return TitleIndex(
        list(titles), [t for t, _ in titles.values()], [p for _, p in titles.values()]
    )


HEATS = index_of(
    {
        6: ("Heat (1995)", 900),
        103372: ("Heat, The (2013)", 20),
        1285: ("Heathers (1989)", 300),
        2917: ("Body Heat (1981)", 100),
    }
)


@pytest.mark.parametrize(
    ("typed", "movie_id"),
    [("Heat", 6), ("heat (1995)", 6), ("The Heat", 103372), ("Heat (2013)", 103372)],
)
def test_an_exact_title_beats_titles_that_start_with_it_or_drop_their_article(
    typed: str, movie_id: int
) -> None:
    resolution = HEATS.resolution(typed)
    assert resolution.movie_id == movie_id and resolution.note is None


def test_a_whole_name_beats_the_same_name_without_its_alternate_title() -> None:
    sevens = index_of({1: ("Seven (1979)", 1), 47: ("Seven (Se7en) (1995)", 999)})
    assert sevens.resolution("Seven").movie_id == 1  # "Seven" is that whole title
    assert sevens.resolution("Seven (Se7en)").movie_id == 47
    assert sevens.resolution("se7en").movie_id == 47


@pytest.mark.parametrize("order", [[7, 915], [915, 7]])
def test_the_same_exact_title_takes_the_most_rated_whatever_the_order(order: list[int]) -> None:
    sabrinas = {7: ("Sabrina (1995)", 391), 915: ("Sabrina (1954)", 346)}
    resolution = index_of({m: sabrinas[m] for m in order}).resolution("sabrina")
    assert resolution.movie_id == 7
    assert resolution.note == (
        '"sabrina" is Sabrina (1995), the most rated of 2; '
        "for another, give the year: Sabrina (1954)"
    )


def test_equal_popularity_goes_to_the_lower_movie_id() -> None:
    twins = index_of({20: ("Twins (1988)", 5), 10: ("Twins (1950)", 5)})
    assert twins.resolution("Twins").movie_id == 10


def test_a_note_names_four_others_and_counts_the_rest() -> None:
    hamlets = index_of({m: (f"Hamlet ({1940 + m})", 10 - m) for m in range(1, 8)})
    note = hamlets.resolution("Hamlet").note
    assert note is not None and note.startswith('"Hamlet" is Hamlet (1941), the most rated of 7;')
    assert note.endswith("Hamlet (1942), Hamlet (1943), Hamlet (1944), Hamlet (1945) and 2 more")


def test_the_same_title_and_year_twice_is_told_apart_by_movie_id() -> None:
    emmas = index_of({838: ("Emma (1996)", 40), 26958: ("Emma (1996)", 2)})
    resolution = emmas.resolution("Emma (1996)")
    assert resolution.movie_id == 838
    assert resolution.note is not None
    assert "give the year or the movie id: Emma (1996) (movie id 26958)" in resolution.note


def test_a_year_picks_one_of_the_same_title_without_a_note() -> None:
    sabrinas = index_of({7: ("Sabrina (1995)", 391), 915: ("Sabrina (1954)", 346)})
    assert sabrinas.resolution("Sabrina (1954)").movie_id == 915
    assert sabrinas.resolution("Sabrina (1954)").note is None


def test_a_year_no_movie_of_that_title_has_is_an_error_naming_those_that_exist() -> None:
    sabrinas = index_of({7: ("Sabrina (1995)", 391), 915: ("Sabrina (1954)", 346)})
    with pytest.raises(TitleError, match=r"did you mean: Sabrina \(1995\); Sabrina \(1954\)"):
        sabrinas.resolve("Sabrina (1960)")


def test_a_typo_in_a_shared_title_takes_the_most_rated_with_a_note() -> None:
    sabrinas = index_of({7: ("Sabrina (1995)", 391), 915: ("Sabrina (1954)", 346)})
    resolution = sabrinas.resolution("Sabrnia")
    assert resolution.movie_id == 7 and resolution.note is not None
    assert "Sabrina (1954)" in resolution.note


# ---- numbers: a bare number that is a movie id is that movie; anything else is a title ---------

NUMBERED = index_of(
    {
        2010: ("Metropolis (1926)", 200),
        2311: ("2010 (1984)", 400),
        3114: ("Toy Story 2 (1999)", 900),
        5472: ("1776 (1972)", 2),
        924: ("2001: A Space Odyssey (1968)", 800),
        2001: ("Lethal Weapon 2 (1989)", 300),
    }
)


@pytest.mark.parametrize("typed", ["3114", " 3114 ", "03114"])
def test_a_bare_number_that_is_a_movie_id_is_that_movie(typed: str) -> None:
    assert NUMBERED.resolution(typed) == NUMBERED.resolution("Toy Story 2")
    assert NUMBERED.resolution(typed).note is None


def test_a_movie_id_that_is_also_a_title_is_the_movie_id_and_the_note_names_the_title() -> None:
    resolution = NUMBERED.resolution("2010")
    assert resolution.movie_id == 2010
    assert resolution.note == (
        '"2010" is movie id 2010, Metropolis (1926); '
        'for the title "2010", give its year: 2010 (1984)'
    )


def test_a_movie_id_that_only_starts_a_title_is_the_movie_id_without_a_note() -> None:
    assert NUMBERED.resolution("2001") == NUMBERED.resolution("Lethal Weapon 2")


@pytest.mark.parametrize(
    ("typed", "movie_id"),
    [("2010 (1984)", 2311), ("1776", 5472), ("1776 (1972)", 5472), ("2001: a space odyssey", 924)],
)
def test_a_number_with_its_year_or_that_is_no_movie_id_is_a_title(
    typed: str, movie_id: int
) -> None:
    assert NUMBERED.resolve(typed) == movie_id


@pytest.mark.parametrize("typed", ["３１１４", "+3114", "3114.0", "#3114"])
def test_only_plain_ascii_digits_name_a_movie_id(typed: str) -> None:
    with pytest.raises(TitleError):
        NUMBERED.resolve(typed)


def test_an_unknown_number_says_neither_an_id_nor_a_title_has_it() -> None:
    with pytest.raises(TitleError, match="no movie has id 99999999 or a title matching it"):
        NUMBERED.resolve("99999999")


# ---- partial titles: the start of a title, every word, typos -----------------------------------

SEQUELS = index_of(
    {
        858: ("Godfather, The (1972)", 900),
        1221: ("Godfather: Part II, The (1974)", 700),
        2023: ("Godfather: Part III, The (1990)", 300),
        1954: ("Rocky (1976)", 500),
        2409: ("Rocky II (1979)", 200),
        2410: ("Rocky III (1982)", 150),
        260: ("Star Wars: Episode IV - A New Hope (1977)", 990),
        1196: ("Star Wars: Episode V - The Empire Strikes Back (1980)", 980),
        1210: ("Star Wars: Episode VI - Return of the Jedi (1983)", 970),
        2628: ("Star Wars: Episode I - The Phantom Menace (1999)", 600),
        1779: ("Star Maps (1997)", 5),
    }
)


@pytest.mark.parametrize(
    ("typed", "movie_id"),
    [
        ("Star Wars: Episode V", 1196),  # the start of a title
        ("empire strikes back", 1196),  # every word, any order
        ("star wars 5", 1196),  # a number for a roman numeral
        ("star wars v", 1196),
        ("star wars episode 1", 2628),
        ("godfather 2", 1221),
        ("godfather part iii", 2023),
        ("rocky 2", 2409),
        ("the godfater", 858),  # a typo
        ("godfather", 858),  # the exact title, article dropped, beats its sequels
    ],
)
def test_partial_titles_resolve_to_the_one_movie_they_fit(typed: str, movie_id: int) -> None:
    assert SEQUELS.resolve(typed) == movie_id


def test_a_partial_title_that_fits_several_lists_them_most_rated_first() -> None:
    with pytest.raises(TitleError, match="'Star Wars' matches 4 movies: Star Wars: Episode IV"):
        SEQUELS.resolve("Star Wars")


@pytest.mark.parametrize(("word", "typos"), [("heat", 0), ("stroy", 1), ("godfahter", 2)])
def test_longer_words_may_hold_more_typos(word: str, typos: int) -> None:
    assert typos_allowed(word) == typos


# ---- search: exact, then prefix, then every word, then fuzzy; nothing unrelated -----------------


def test_search_ranks_exact_then_prefix_then_every_word_then_typos() -> None:
    # Popularity runs against the tiers, to show a better kind of match beats a more rated one.
    stories = index_of(
        {
            1: ("Story (1990)", 1),
            2: ("Story of Us, The (1999)", 2),
            3: ("Toy Story (1995)", 3),
            4: ("Stroy Time (2001)", 4),
            5: ("Unrelated (2000)", 5),
        }
    )
    assert stories.search("story", 10) == [1, 2, 3, 4]


def test_search_within_a_kind_of_match_is_most_rated_first(index: TitleIndex) -> None:
    assert index.search("toy", 2) == [1, 3114]
    assert index.search("star wars", 5)[:2] == [260, 1196]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("star wars 5", 1196),
        ("star wars emp", 1196),  # the last word still being typed
        ("the godf", 858),
        ("godfather 2", 1221),
        ("rocky ii", 2409),
        ("empire strikes", 1196),
    ],
)
def test_search_finds_what_was_meant_first(query: str, first: int) -> None:
    assert SEQUELS.search(query, 5)[0] == first


@pytest.mark.parametrize("query", ["xyzzyq", "star wars 9", "qwzxy plorb"])
def test_search_finds_nothing_rather_than_something_unrelated(query: str) -> None:
    assert SEQUELS.search(query, 10) == []


def test_search_misses_a_typo_in_a_short_word_but_not_in_a_long_one(index: TitleIndex) -> None:
    assert index.search("hamlte", 3)[:2] == [1411, 1412]
    assert index.search("toy stroy", 1) == [1]


def test_search_with_a_year_keeps_that_year(index: TitleIndex) -> None:
    assert index.search("Hamlet (1996)", 5) == [1412]


def test_search_prefers_prefix_then_popularity(index: TitleIndex) -> None:
    assert index.search("toy", 2) == [1, 3114]
    assert index.search("star wars", 5)[:2] == [260, 1196]
    assert index.search("hamlte", 3)  # typos still find something


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


@settings(max_examples=150, deadline=None)
@given(st.lists(titles, min_size=1, max_size=8))
def test_many_titles_split_at_once_as_one_by_one(names: list[str]) -> None:
    one_by_one = [split_year(name) for name in names]
    assert split_years(names) == ([n for n, _ in one_by_one], [y for _, y in one_by_one])
    bare = [split_year(name)[0] for name in names]
    assert articles_first(bare) == [article_first(name) for name in bare]


@settings(max_examples=150, deadline=None)
@given(st.lists(titles, min_size=1, max_size=8), st.data())
def test_any_title_typed_without_year_in_lower_case_finds_a_movie_of_that_name(
    names: list[str], data: st.DataObject
) -> None:
    movie_ids = list(range(2**40, 2**40 + len(names)))
    index = TitleIndex(movie_ids, names, list(range(len(names))))
    position = data.draw(st.integers(0, len(names) - 1))
    typed = split_year(names[position])[0].lower()
    if not canonical(typed) or split_year(typed)[1] is not None:
        return  # nothing to type, or a name that itself ends in a year
    found = index.resolve(typed)
    assert canonical(names[movie_ids.index(found)]) == canonical(typed)
