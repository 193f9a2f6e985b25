"""What mutation testing found unguarded in :mod:`movierec.titles`
(``python bench/mutation.py titles``): each kind of exact title beating a partial one, the exact
messages and notes (cut lengths, escapes, counts), the order of fuzzy suggestions and of search
results, and roman numerals. Small built catalogues; movie ids 1, 2, … in the order given."""

from __future__ import annotations

import pytest

from movierec import titles
from movierec.errors import TitleError
from movierec.titles import Resolution, TitleIndex, notes_of


def catalogue(names: list[str], popularity: list[int] | None = None) -> TitleIndex:
    """Movies 1, 2, … titled ``names``."""
    return TitleIndex(list(range(1, len(names) + 1)), names, popularity)


def error_of(index: TitleIndex, typed: str) -> str:
    with pytest.raises(TitleError) as info:
        index.resolve(typed)
    return str(info.value)


@pytest.mark.parametrize(
    ("number", "numeral"),
    [(1, "i"), (2, "ii"), (3, "iii"), (4, "iv"), (5, "v"), (6, "vi"), (7, "vii"), (8, "viii")]
    + [(9, "ix"), (10, "x"), (24, "xxiv"), (39, "xxxix")],
)
def test_roman_numerals(number: int, numeral: str) -> None:
    assert titles._roman(number) == numeral  # read once, when the module is imported


# ---- each kind of exact title, against a more rated movie that only starts with it ----------
# Catalogues are built by each test (function-scoped fixtures), not at import or once per
# module: mutmut imports the test modules once, forks a run per mutant and runs only the tests
# that called the mutated function themselves.
@pytest.fixture
def kinds() -> TitleIndex:
    return catalogue(
        [
            "Seven (Se7en) (1995)",
            "Se7en Returns (2000)",
            "Man Bites Dog (C'est arrivé près de chez vous) (1992)",
            "Man Bites Dog Again (2001)",
            "Foo (a.k.a. Bar) (1999)",
            "Bar Room (2000)",
            "Heat (1995)",
            "Heat! (1995)",
            "HEAT (1995)",
            "Hamlet (1948)",
            "Hamlet (1996)",
        ],
        [1, 9, 1, 9, 1, 9, 5, 9, 1, 9, 1],
    )


@pytest.mark.parametrize(
    ("typed", "movie_id"),
    [
        ("Se7en", 1),  # an alternate title
        ("Seven", 1),  # the name without it
        ("Man Bites Dog", 3),
        ("Bar", 5),  # "a.k.a." dropped
        ("Heat (1995)", 7),  # the whole title, verbatim
        ("HEAT (1995)", 9),
        ("heat! (1995)", 8),  # the whole title in another case
        ("HAMLET! (1996)", 11),  # the name, in the year typed
    ],
)
def test_each_kind_of_exact_title_wins_without_a_note(
    kinds: TitleIndex, typed: str, movie_id: int
) -> None:
    assert kinds.resolution(typed) == Resolution(movie_id)


def test_the_whole_title_in_another_case_is_the_most_rated_that_has_it(kinds: TitleIndex) -> None:
    note = '"heat (1995)" is Heat (1995), the most rated of 2; for another, give the year: '
    assert kinds.resolution("heat (1995)") == Resolution(7, note + "HEAT (1995)")


def test_a_nul_in_a_title_reads_as_a_space() -> None:
    index = catalogue(["Nul\x00Title (1999)", "Nul:Title (1999)"], [1, 9])
    assert index.resolution("Nul Title (1999)") == Resolution(1)


def test_punctuation_alone_names_no_title() -> None:
    index = catalogue(["!!! (2000)", "Foo (!!!) (1999)"])
    assert index.resolution("!!! (2000)") == Resolution(1)
    nothing = "no movie matches '???'; try `movierec search` with part of the title"
    assert error_of(index, "???") == nothing
    assert index.search("???") == []


# ---- messages and notes ----------------------------------------------------------------------
def test_the_plain_errors(kinds: TitleIndex) -> None:
    assert error_of(kinds, " ") == "an empty title was given; type part of a movie's title"
    nothing = "no movie matches 'qwzxy plorb'; try `movierec search` with part of the title"
    assert error_of(kinds, "qwzxy plorb") == nothing
    long = catalogue(["Toy Story of the Long Lost Summer (2005)"])  # "to" is no word of it
    assert error_of(long, "stroy to") == (
        "no movie matches 'stroy to'; try `movierec search` with part of the title"
    )
    undated = catalogue(["Foo", "Foo (1999)"])  # a title without a year is from none
    assert error_of(undated, "Foo (0001)") == (
        "no movie matches 'Foo (0001)'; did you mean: Foo; Foo (1999)? Try `movierec search`"
    )
    with pytest.raises(ValueError, match="^movie_ids and titles differ in length$"):
        TitleIndex([1, 2], ["Heat (1995)"])


@pytest.mark.parametrize(("count", "more"), [(8, ""), (9, " and 1 more")])
def test_an_ambiguous_title_lists_eight_and_counts_the_rest(count: int, more: str) -> None:
    sagas = catalogue([f"Saga {i} ({2000 + i})" for i in range(1, count + 1)])
    listed = "; ".join(f"Saga {i} ({2000 + i})" for i in range(1, 9))
    assert error_of(sagas, "Saga") == (
        f"'Saga' matches {count} movies: {listed}{more}; give more of the title, or its year"
    )


def test_a_note_of_six_counts_one_more() -> None:
    hamlets = catalogue([f"Hamlet ({1940 + m})" for m in range(1, 7)], list(range(9, 3, -1)))
    assert hamlets.resolution("Hamlet").note == (
        '"Hamlet" is Hamlet (1941), the most rated of 6; for another, give the year: '
        "Hamlet (1942), Hamlet (1943), Hamlet (1944), Hamlet (1945) and 1 more"
    )


def test_a_movie_id_note_lists_every_title_of_that_number() -> None:
    index = TitleIndex([1941, 5, 6], ["Hamlet (1948)", "1941 (1979)", "1941 (2011)"], [1, 5, 3])
    assert index.resolution("1941").note == (
        '"1941" is movie id 1941, Hamlet (1948); for the title "1941", give its year: '
        "1941 (1979), 1941 (2011)"
    )


def test_notes_are_one_per_movie_in_the_order_given() -> None:
    given = [Resolution(1, "a"), Resolution(2, "b"), Resolution(1, "c"), Resolution(3)]
    assert notes_of(given) == ["a", "b"]


def test_titles_in_messages_are_cut_after_100_characters_and_escaped() -> None:
    long = "Long " + "a" * 88 + " (2000)"  # 100 characters
    longer = "Long " + "b" * 89 + " (2001)"
    index = catalogue([long, longer, "Long Back\\slash (1999)", "Long Tab\there (2000)"])
    listed = f"{long}; {longer[:100]}…; Long Back\\slash (1999); Long Tab\\there (2000)"
    assert error_of(index, "Long") == (
        f"'Long' matches 4 movies: {listed}; give more of the title, or its year"
    )


@pytest.mark.parametrize(("length", "shown"), [(80, "q" * 80), (81, "q" * 80 + "…")])
def test_what_was_typed_is_cut_after_80_characters_in_an_error(
    kinds: TitleIndex, length: int, shown: str
) -> None:
    assert error_of(kinds, "q" * length).startswith(f"no movie matches '{shown}';")


@pytest.mark.parametrize(
    ("name", "quoted"), [("Z" * 80, "Z" * 80), ("Z" * 81, "Z" * 80 + "…"), ("Amélie", "Amélie")]
)
def test_what_was_typed_is_cut_after_80_characters_in_a_note(name: str, quoted: str) -> None:
    note = catalogue([f"{name} (1990)", f"{name} (1991)"]).resolution(name).note
    assert note is not None and note.startswith(f'"{quoted}" is {name} (1990), the most rated')


# ---- partial and fuzzy titles ----------------------------------------------------------------
def test_the_start_of_a_title_beats_a_title_with_every_word() -> None:
    wars = catalogue(
        [
            "Aardvark (1990)",
            "Wayward Star (2000)",
            "Star Wars: Episode IV - A New Hope (1977)",
            "Episode IV of Star Wars Fans (2000)",
        ],
        [1, 9, 1, 1],
    )
    assert wars.resolution("Star Wars: Episode IV") == Resolution(3)
    assert wars.search("star wa") == [3, 2, 4]  # the start as typed, then every word


def test_a_close_enough_title_is_taken_at_exactly_the_threshold() -> None:
    assert titles.FUZZY_ACCEPT == 85.0  # this spelling is 85.0 from the title
    assert catalogue(["abcdefghijklmnopqrst (2000)"]).resolve("xbcdefghijxlmnopqrsx") == 1


def test_a_title_exactly_four_points_less_close_is_not_tied() -> None:
    typed = "abcdefghijklmnopqrstuvwxy"
    index = catalogue(["abcdefghijklmnopqrstuvw12 (2000)", "1bcdefghijklmnopqrstuvw23 (2001)"])
    assert titles.FUZZY_MARGIN == 4.0  # 92.0 and 88.0 from what is typed
    assert index.resolution(typed) == Resolution(1)


def test_a_title_is_as_close_as_its_closest_name() -> None:
    seven = catalogue(["Seven (Se7en) (1995)"])  # 95 from its whole title, 67 from "seven"
    assert seven.resolution("seven se7e") == Resolution(1)


def test_two_equally_close_titles_are_ambiguous() -> None:
    index = catalogue(["Toy Story (1995)", "Toy Storm (2000)"])
    assert error_of(index, "Toy Stori") == (
        "'Toy Stori' matches 2 movies: Toy Story (1995); Toy Storm (2000); "
        "give more of the title, or its year"
    )


def test_suggestions_with_every_word_near_come_fewest_typos_first() -> None:
    index = catalogue(
        [
            "Story Lamp and a Long Forgotten Summer (1990)",  # two typos away
            "Story Lamps and a Long Forgotten Winter (2000)",  # one
        ]
    )
    assert error_of(index, "stroy lamps") == (
        "no movie matches 'stroy lamps'; did you mean: "
        "Story Lamps and a Long Forgotten Winter (2000); "
        "Story Lamp and a Long Forgotten Summer (1990)? Try `movierec search`"
    )


def test_the_five_closest_titles_are_suggested_closest_first() -> None:
    index = catalogue(
        [
            "Tom Story (1990)",
            "Toy Stay (1991)",
            "Tiny Story (1992)",
            "Toy Story 2 (1999)",
            "Tony Story (1993)",
            "Toy Story (1995)",
        ]
    )
    suggested = "Toy Story (1995); Tiny Story (1992); Tony Story (1993); Toy Stay (1991); "
    assert error_of(index, "tpy stry") == (
        f"no movie matches 'tpy stry'; did you mean: {suggested}Toy Story 2 (1999)? "
        "Try `movierec search`"
    )


# ---- search ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("stroy to", [2, 3]),  # a typo, then the start of a word
        ("stroy toy", [2, 3]),  # a typo, then a short word as it is
        ("toy summer stroy", [3]),  # a short word as it is, not last
        ("heat stroy", []),  # each word in another movie
        ("toystory", [2]),  # the whole title close
    ],
)
def test_search_with_typos_needs_every_word_in_one_title(query: str, found: list[int]) -> None:
    toys = catalogue(
        ["Heat (1995)", "Toy Story (1995)", "Toy Summer Story of the Lost Lamp (2000)"]
    )
    assert toys.search(query) == found


def test_search_finds_every_word_one_typo_away() -> None:
    names = ["Stars", "Start", "Stark", "Stare", "Scars", "Spars", "Stairs"]
    index = catalogue([f"{name} ({2000 + i})" for i, name in enumerate(names)])
    assert index.search("stars") == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    ("names", "popularity", "query", "found"),
    [
        (["Stars Gates (2000)", "Start Gates (2001)"], [1, 9], "stars gatez", [1, 2]),  # typos
        (["Toy Storyy (2000)", "Toy Story (1995)"], [9, 1], "toystory", [2, 1]),  # closeness
        # one typo each; a word typed whole counts no typo, nor does one being typed
        (["Story To Go (2000)", "Toy Story (1995)"], [9, 1], "stroy to", [1, 2]),
        (["Story To Go (2000)", "Toy Story (1995)"], [1, 9], "stroy to", [2, 1]),
        # a word typed whole counts no typo even where another word of the title is one away
        (["Story Stork Gates (2000)", "Stork Gates (2001)"], [1, 9], "story gatez", [1, 2]),
    ],
)
def test_search_ranks_the_closer_before_the_more_rated(names, popularity, query, found) -> None:
    assert catalogue(names, popularity).search(query) == found


def test_search_gives_ten_by_default() -> None:
    sagas = catalogue([f"Saga {i} ({2000 + i})" for i in range(1, 12)])
    assert sagas.search("saga") == list(range(1, 11))
    assert len(sagas.search("saga", n=11)) == 11
