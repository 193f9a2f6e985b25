"""How MovieLens writes a title: ``"Matrix, The (1999)"``.

The release year ends the title in parentheses, and a leading article is moved behind a comma
(``"Misérables, Les"``, ``"Postino, Il (The Postman)"``). Parsing reads the year from here,
title resolution and the report's labels move the article back with the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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
_ARTICLE_AT_LINE_END = re.compile(
    r", (" + "|".join(re.escape(a) for a in ARTICLES) + r")$", re.IGNORECASE | re.MULTILINE
)
# ASCII digits only: \d would also take "(١٩٩٥)", a year no MovieLens file writes.
_YEAR = re.compile(r"\s*\(([0-9]{4})\)\s*$")
# The same, for many titles at once: the parenthesis before the year, replaced by a mark.
_BEFORE_YEAR_LINES = re.compile(r"\((?=[0-9]{4}\)[^\S\n]*$)", re.MULTILINE)
_MARK = "\x00"


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
    return name if match is None else _front(match.group(2), match.group(1))


def _as_lines(texts: Sequence[str]) -> str | None:
    """``texts`` joined by line breaks, or None when one holds a line break or NUL itself (then
    the many-at-once functions below fall back to one call per text)."""
    joined = "\n".join(texts)
    if _MARK in joined or joined.count("\n") != len(texts) - 1:
        return None
    return joined


def split_years(titles: Sequence[str]) -> tuple[list[str], list[int | None]]:
    """:func:`split_year` of every title, in one regex pass over them all (a catalogue's worth
    in a few milliseconds, where one call per title takes several times longer).

    >>> split_years(["Toy Story (1995)", "Hamlet"])
    (['Toy Story', 'Hamlet'], [1995, None])
    """
    joined = _as_lines(titles)
    if joined is None or not titles:
        pairs = [split_year(title) for title in titles]
        return [name for name, _ in pairs], [year for _, year in pairs]
    names: list[str] = []
    years: list[int | None] = []
    for line in _BEFORE_YEAR_LINES.sub(_MARK, joined).split("\n"):
        name, mark, year = line.rpartition(_MARK)  # year: "1995)" and any spaces after it
        names.append((name if mark else line).strip())
        years.append(int(year[:4]) if mark else None)
    return names, years


def _front(article: str, rest: str) -> str:
    return f"{article}{rest}" if article.endswith("'") else f"{article} {rest}"


def articles_first(names: Sequence[str]) -> list[str]:
    """:func:`article_first` of every name, in one regex pass over them all.

    >>> articles_first(["Matrix, The", "Bye Bye, Love"])
    ['The Matrix', 'Bye Bye, Love']
    """
    joined = _as_lines(names)
    if joined is None or not names:
        return [article_first(name) for name in names]
    pieces, done = [], 0
    for match in _ARTICLE_AT_LINE_END.finditer(joined):  # a few names in ten: no regex per name
        line_start = joined.rfind("\n", 0, match.start()) + 1
        rest, article = joined[line_start : match.start()], match.group(1)
        pieces += [joined[done:line_start], _front(article, rest)]
        done = match.end()
    pieces.append(joined[done:])
    return "".join(pieces).split("\n")
