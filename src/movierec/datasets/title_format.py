"""How MovieLens writes a title: ``"Matrix, The (1999)"``.

The release year ends the title in parentheses, and a leading article is moved behind a comma
(``"Misérables, Les"``, ``"Postino, Il (The Postman)"``). Parsing reads the year from here,
title resolution and the report's labels move the article back with the same rules.
"""

from __future__ import annotations

import re

# The articles MovieLens moves to the end, as found in ml-100k, ml-1m and ml-latest-small
# (plus "las" and "den", the plural/common forms of ones found). Left out although MovieLens moves
# them a few times ("I", "O", "En", "De", "Da"): they also begin English titles or are words
# ("I Spy", "Passion, En"), so reading them as articles would make titles collide.
ARTICLES = (
    "the",
    "a",
    "an",
    "la",
    "le",
    "les",
    "l'",
    "il",
    "lo",
    "el",
    "los",
    "las",
    "un",
    "una",
    "une",
    "der",
    "die",
    "das",
    "det",
    "den",
)
_TRAILING_ARTICLE = re.compile(
    r"^(.*), (" + "|".join(re.escape(a) for a in ARTICLES) + r")$", re.IGNORECASE
)
# ASCII digits only: \d would also take "(١٩٩٥)", a year no MovieLens file writes.
_YEAR = re.compile(r"\s*\(([0-9]{4})\)\s*$")


def split_year(title: str) -> tuple[str, int | None]:
    """``"Toy Story (1995)"`` → ``("Toy Story", 1995)``; ``(title, None)`` without a year.

    >>> split_year("Matrix, The (1999)"), split_year("Hamlet")
    (('Matrix, The', 1999), ('Hamlet', None))
    """
    match = _YEAR.search(title)
    if match is None:
        return title.strip(), None
    return title[: match.start()].strip(), int(match.group(1))


def article_first(name: str) -> str:
    """A title without its year, with a trailing article moved back to the front (its case
    kept): ``"Matrix, The"`` → ``"The Matrix"``, ``"Uomo delle stelle, L'"`` →
    ``"L'Uomo delle stelle"``; any other title as it is.

    >>> article_first("Matrix, The"), article_first("Bye Bye, Love")
    ('The Matrix', 'Bye Bye, Love')
    """
    match = _TRAILING_ARTICLE.match(name)
    if match is None:
        return name
    rest, article = match.groups()
    return f"{article}{rest}" if article.endswith("'") else f"{article} {rest}"
