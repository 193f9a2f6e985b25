"""Title search and resolution: what a person types → one movie.

**Resolution** (a movie is required) takes the first rule that answers:

1. A bare number (ASCII digits only) is the movie with that ``movie_id``, when there is one;
   any other text — a number with its year, ``"1941 (1979)"``, included — is a title.
2. An exact title, best kind first: the whole title in any case; its name (case, accents,
   punctuation and year aside, a trailing article moved back: "The Matrix" ↔ "Matrix, The
   (1999)"); that name without its alternate titles in parentheses ("Seven" for "Seven
   (Se7en)"); an alias (an alternate title, "Se7en", or the name without a leading article,
   "Matrix"). When several movies share the best exact title, the most rated (popularity: kept
   ratings) is taken, and :attr:`Resolution.note` says which and how to name another (the year).
3. The start of a title, at a word boundary ("Star Wars: Episode IV").
4. Every word typed, in any order ("empire strikes back"), roman numerals and numbers alike
   ("star wars 5" → Episode V, "godfather 2" → Part II).
5. Fuzzy: every word within a typo (two from 9 letters; none under 5) of a title's word, or the
   whole title close (rapidfuzz ratio); the closest is taken when clearly ahead.

A year in parentheses ("Sabrina (1954)") must match at every rule. Several matches under rules
3–5 raise a :class:`TitleError` listing them; no match raises one with the closest suggestions.

**Search** ranks by the same rules — exact, then prefix (as typed so far), then every word (the
last may be unfinished), then fuzzy — most rated first within each, and finds nothing rather
than something unrelated.

The index of exact titles is built in one regex pass over all titles (milliseconds for ML-1M);
what prefix, word and fuzzy matching need is built on first use.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .datasets.title_format import ARTICLES, article_first, articles_first, split_year, split_years
from .errors import TitleError

_PARENS = re.compile(r"\(([^()]*)\)")
_PARENS_LINES = re.compile(r"\([^()\n]*\)")
_NON_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")
# What _NON_WORD and _SPACES replace by a space among ASCII characters, but a line break.
_ASCII_TO_SPACE = str.maketrans(
    {c: " " for c in map(chr, range(128)) if c != "\n" and not (c.isalnum() or c == "_")}
)
_LEADING_ARTICLE_LINES = re.compile(
    r"^(?:" + "|".join(re.escape(a) for a in ARTICLES if a.isalpha()) + r") (?=\S)", re.MULTILINE
)
_AKA = re.compile(r"^(a\.k\.a\.|aka)\s+", re.IGNORECASE)


def _roman(number: int) -> str:
    tens, ones = divmod(number, 10)
    return "x" * tens + ["", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"][ones]


# Roman numerals up to 39 read as numbers: "Part II" is "part 2", "Episode V" is "episode 5".
ROMAN_NUMERALS = {_roman(n): str(n) for n in range(1, 40)}
_ROMAN_WORDS = re.compile(r"\b(?:" + "|".join(sorted(ROMAN_NUMERALS, key=len)[::-1]) + r")\b")

FUZZY_ACCEPT = 85.0  # rapidfuzz ratio at or above which a whole title is taken as meant
FUZZY_MARGIN = 4.0  # how far ahead of the runner-up a fuzzy match must be
SUGGEST_MIN = 60.0  # rapidfuzz ratio below which a title is not worth suggesting
LISTED = 8  # candidates named in an error
ALTERNATIVES_NOTED = 4  # other movies named in a note


def typos_allowed(word: str) -> int:
    """How many typos (edits, a swap of neighbours counting as one) a typed word may hold: none
    under 5 letters, one from 5, two from 9 — as search engines commonly allow."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def _shown(title: str, limit: int = 100) -> str:
    """A title (from a data file) fit for a one-line message: control characters escaped."""
    title = title if len(title) <= limit else title[:limit] + "…"
    return title if title.isprintable() else repr(title)[1:-1]


def _quoted(query: str, limit: int = 80) -> str:
    """What someone typed, quoted and escaped for a message, and cut when long."""
    return repr(query if len(query) <= limit else query[:limit] + "…")


def _in_quotes(query: str, limit: int = 80) -> str:
    """What someone typed, in double quotes and escaped, for a note."""
    return json.dumps(query if len(query) <= limit else query[:limit] + "…", ensure_ascii=False)


def _fold(text: str) -> str:
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _one_line(text: str) -> str:
    """A title as the index stores it: no line break or NUL inside (keys ignore them anyway)."""
    return text.replace("\n", " ").replace("\x00", " ")


def _words_of(names: str) -> str:
    """Lines of names as comparison keys: punctuation to spaces, spaces collapsed and trimmed
    (what :func:`canonical` does to one name, for many at once: str methods, not a regex per
    character)."""
    text = names.translate(_ASCII_TO_SPACE)
    if not text.isascii():
        text = "\n".join(
            line if line.isascii() else _SPACES.sub(" ", _NON_WORD.sub(" ", line))
            for line in text.split("\n")
        )
    while "  " in text:
        text = text.replace("  ", " ")
    return text.replace("\n ", "\n").replace(" \n", "\n").strip(" ")


def canonical(text: str) -> str:
    """A comparison key: no accents, case, punctuation or year; leading article restored.

    >>> canonical("Matrix, The (1999)"), canonical("Postino, Il (The Postman)")
    ('the matrix', 'postino il the postman')
    """
    text = article_first(_fold(split_year(text)[0]).strip())
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _numbered(key: str) -> str:
    """A key with its roman numerals as numbers: "star wars episode v" → "… episode 5"."""
    return _ROMAN_WORDS.sub(lambda match: ROMAN_NUMERALS[match.group()], key)


def _keys_lines(folded_names: list[str]) -> list[str]:
    """Comparison keys of many folded names at once (the same as :func:`canonical` of each)."""
    return _words_of("\n".join(articles_first(folded_names))).split("\n")


@dataclass(frozen=True)
class Resolution:
    """What a typed name resolved to: a ``movie_id``, and a note for the person who typed it when
    the movie was one of several that fit (which was taken, and how to name another) — None when
    nothing else fit. Interfaces show the note (the CLI on stderr); the library never prints.

    >>> index = TitleIndex([7, 915], ["Sabrina (1995)", "Sabrina (1954)"], [600, 300])
    >>> index.resolution("Sabrina").note
    '"Sabrina" is Sabrina (1995), the most rated of 2; for another, give the year: Sabrina (1954)'
    """

    movie_id: int
    note: str | None = None


def notes_of(resolutions: Iterable[Resolution]) -> list[str]:
    """What a person should be told about these resolutions: one note per movie (a title given
    twice, or in two spellings, is noted once), in the order given."""
    noted: dict[int, str] = {}
    for resolution in resolutions:
        if resolution.note is not None:
            noted.setdefault(resolution.movie_id, resolution.note)
    return list(noted.values())


class TitleIndex:
    """Resolves and searches the titles of movies (``movie_ids[i]`` is titled ``titles[i]``).

    ``popularity`` (a count per movie, aligned with ``movie_ids``) decides between movies that
    fit equally well: the most rated first, ties to the lower ``movie_id``.

    >>> TitleIndex([2571, 1], ["Matrix, The (1999)", "Toy Story (1995)"]).resolve("the matrix")
    2571
    """

    def __init__(
        self,
        movie_ids: Sequence[int] | np.ndarray,
        titles: Sequence[str],
        popularity: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        self.movie_ids = np.asarray(movie_ids)
        self.titles = [str(t) for t in titles]
        if len(self.titles) != len(self.movie_ids):
            raise ValueError("movie_ids and titles differ in length")
        popularity = np.zeros(len(self.titles)) if popularity is None else popularity
        self._popularity = np.asarray(popularity, dtype=np.float64)
        order = np.lexsort((self.movie_ids, -self._popularity))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        self._rank: list[int] = rank.tolist()  # 0 for the most rated

        lines = [_one_line(t) for t in self.titles] if self._needs_cleaning() else self.titles
        names, years = split_years(lines)
        self.years = np.array([year or 0 for year in years], dtype=np.int64)
        folded = [_fold(name).strip() for name in names]
        # Exact kinds, best first: whole title; name; name without parentheses; aliases.
        self._folded_names, self._title_years = folded, years  # whole titles, in _by_name
        self._full_keys = _keys_lines(folded)
        self._by_name = _group(self._full_keys)
        with_parens = [p for p, name in enumerate(folded) if "(" in name]
        bare = _PARENS_LINES.sub("", "\n".join(folded[p] for p in with_parens)).split("\n")
        self._main_keys = dict(zip(with_parens, _keys_lines(bare) if with_parens else []))
        self._by_main = _group_pairs(
            (p, key) for p, key in self._main_keys.items() if key != self._full_keys[p]
        )
        self._aliases: dict[int, list[str]] = {}
        for position in with_parens:
            for alternate in _PARENS.findall(names[position]):
                alternate = _AKA.sub("", alternate.strip())
                if alternate:
                    self._aliases.setdefault(position, []).append(canonical(alternate))
        owned = [
            *enumerate(self._full_keys),
            *self._main_keys.items(),
            *((p, alias) for p, aliases in self._aliases.items() for alias in aliases),
        ]
        keys = "\n".join(key for _, key in owned)
        for (position, key), short in zip(owned, _LEADING_ARTICLE_LINES.sub("", keys).split("\n")):
            if short != key:  # "matrix" for "the matrix"
                self._aliases.setdefault(position, []).append(short)
        self._by_alias = _group_pairs(
            (p, key) for p, aliases in self._aliases.items() for key in dict.fromkeys(aliases)
        )

    def _needs_cleaning(self) -> bool:
        joined = "\n".join(self.titles)
        return "\x00" in joined or joined.count("\n") != max(len(self.titles) - 1, 0)

    # ---- what prefix, word and fuzzy matching need (built on first use) ----------------------
    def _keys_of(self, position: int) -> list[str]:
        """Every key a movie answers to: name, name without parentheses, aliases."""
        main = self._main_keys.get(position)
        keys = [self._full_keys[position], *([main] if main else [])]
        return [k for k in dict.fromkeys([*keys, *self._aliases.get(position, ())]) if k]

    @cached_property
    def _all_keys(self) -> tuple[list[str], list[int]]:
        """Every key of every movie, and its owner (for prefixes and whole-title fuzzy
        matching), gathered column by column rather than movie by movie."""
        aliases = self._aliases.items()
        pairs = dict.fromkeys(
            [
                *zip(self._full_keys, range(len(self._full_keys))),
                *((key, p) for p, key in self._main_keys.items()),
                *((key, p) for p, keys in aliases for key in keys),
            ]
        )
        return [k for k, _ in pairs if k], [p for k, p in pairs if k]

    @cached_property
    def _sorted_keys(self) -> tuple[list[str], list[int]]:
        """Every key, and each with its roman numerals as numbers, sorted (for prefixes)."""
        keys, owners = self._all_keys
        numbered = _numbered("\n".join(keys)).split("\n") if keys else []
        differing = [i for i, (n, k) in enumerate(zip(numbered, keys)) if n != k]
        keys = keys + [numbered[i] for i in differing]
        owners = owners + [owners[i] for i in differing]
        order = sorted(range(len(keys)), key=keys.__getitem__)
        return [keys[i] for i in order], [owners[i] for i in order]

    @cached_property
    def _postings(self) -> dict[str, tuple[int, ...]]:
        """Each word of any title → the movies whose titles hold it (roman numerals also as
        numbers). Tuples, not sets: a fifth of the memory (16 MB less for 62k titles)."""
        postings: dict[str, dict[int, None]] = {}
        for position, key in enumerate(self._full_keys):
            for word in key.split():
                postings.setdefault(word, {})[position] = None
        for numeral, number in ROMAN_NUMERALS.items():
            if numeral in postings:
                postings.setdefault(number, {}).update(postings[numeral])
        return {word: tuple(positions) for word, positions in postings.items()}

    @cached_property
    def _vocabulary(self) -> list[str]:
        return sorted(self._postings)

    def _starting(self, key: str, word_boundary: bool) -> set[int]:
        """Movies with a key that starts with ``key`` (as typed, or with numerals as numbers);
        at a word boundary when asked (``key`` then must be followed by a space)."""
        keys, owners = self._sorted_keys
        found: set[int] = set()
        for prefix in dict.fromkeys([key, _numbered(key)]):
            prefix = prefix + " " if word_boundary else prefix
            start = bisect_left(keys, prefix)
            for i in range(start, len(keys)):
                if not keys[i].startswith(prefix):
                    break
                found.add(owners[i])
        return found

    def _word_starting(self, word: str) -> set[int]:
        """Movies with a title word that starts with ``word`` (one being typed)."""
        vocabulary, found = self._vocabulary, set[int]()
        for prefix in dict.fromkeys([word, _numbered(word)]):
            for i in range(bisect_left(vocabulary, prefix), len(vocabulary)):
                if not vocabulary[i].startswith(prefix):
                    break
                found.update(self._postings[vocabulary[i]])
        return found

    def _with_words(self, words: list[str], last_unfinished: bool = False) -> set[int]:
        """Movies whose titles hold every word (the last one possibly unfinished)."""
        found: set[int] | None = None
        for i, word in enumerate(words):
            if last_unfinished and i == len(words) - 1:
                matching = self._word_starting(word)
            else:
                matching = set(self._postings.get(_numbered(word), ()))
            found = matching if found is None else found & matching
            if not found:
                return set()
        return found or set()

    def _with_words_near(self, words: list[str], last_unfinished: bool = False) -> dict[int, int]:
        """Movies whose titles hold every word within its typos (:func:`typos_allowed`), with the
        typos they need in all; a word being typed may also be the start of a title's word."""
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        total: dict[int, int] | None = None
        for i, word in enumerate(words):
            typos: dict[int, int] = {p: 0 for p in self._postings.get(_numbered(word), ())}
            if last_unfinished and i == len(words) - 1:
                typos.update({p: 0 for p in self._word_starting(word) if p not in typos})
            allowed = typos_allowed(word)
            if allowed:
                near = process.extract(
                    word, self._vocabulary, scorer=OSA.distance, score_cutoff=allowed, limit=None
                )
                for matched, distance, _ in near:
                    for p in self._postings[matched]:
                        if distance < typos.get(p, allowed + 1):
                            typos[p] = int(distance)
            total = (
                typos
                if total is None
                else {p: total[p] + t for p, t in typos.items() if p in total}
            )
            if not total:
                return {}
        return total or {}

    def _close(self, key: str, limit: int, cutoff: float) -> dict[int, float]:
        """Movies with a key close to ``key`` as a whole (rapidfuzz ratio ≥ ``cutoff``)."""
        from rapidfuzz import fuzz, process

        keys, owners = self._all_keys
        close: dict[int, float] = {}
        for _, score, i in process.extract(
            key, keys, scorer=fuzz.ratio, limit=limit, score_cutoff=cutoff
        ):
            close[owners[i]] = max(score, close.get(owners[i], 0.0))
        return close

    def _closeness(self, key: str, position: int) -> float:
        from rapidfuzz import fuzz

        return max((fuzz.ratio(key, k) for k in self._keys_of(position)), default=0.0)

    # ---- resolution ---------------------------------------------------------------------------
    def _by_rank(self, positions: Iterable[int]) -> list[int]:
        return sorted(set(positions), key=self._rank.__getitem__)

    def _exact(self, query: str, key: str) -> list[list[int]]:
        """The movies an exact title names, one list per kind of exactness, best kind first."""
        name, year = split_year(_one_line(query))
        folded = _fold(name).strip()
        named = self._by_name.get(key, [])  # a whole title's movies have its key
        whole = [
            p for p in named if self._folded_names[p] == folded and self._title_years[p] == year
        ]
        verbatim = [p for p in whole if self.titles[p] == query]
        return [
            verbatim,
            whole,
            named if key else [],
            self._by_main.get(key, []),
            self._by_alias.get(key, []),
        ]

    def _in_year(self, positions: Iterable[int], year: int | None) -> list[int]:
        return [p for p in positions if year is None or self.years[p] == year]

    def _shown_movie(self, position: int) -> str:
        return _shown(self.titles[position])

    def _most_rated(self, query: str, positions: list[int]) -> Resolution:
        """The most rated of movies that fit equally well, with a note naming the others."""
        ranked = self._by_rank(positions)
        chosen = ranked[0]
        if len(ranked) == 1:
            return Resolution(int(self.movie_ids[chosen]))
        others = ranked[1 : ALTERNATIVES_NOTED + 1]
        titles = [self.titles[p] for p in ranked]
        shared = {t for t in titles if titles.count(t) > 1}  # the same title and year twice
        listed = ", ".join(
            f"{self._shown_movie(p)} (movie id {self.movie_ids[p]})"
            if self.titles[p] in shared
            else self._shown_movie(p)
            for p in others
        )
        more = f" and {len(ranked) - len(others) - 1} more" if len(ranked) > len(others) + 1 else ""
        way = "give the year" if not shared else "give the year or the movie id"
        return Resolution(
            int(self.movie_ids[chosen]),
            f"{_in_quotes(query)} is {self._shown_movie(chosen)}, the most rated of "
            f"{len(ranked)}; for another, {way}: {listed}{more}",
        )

    def _ambiguous(self, query: str, positions: Iterable[int]) -> TitleError:
        ranked = self._by_rank(positions)
        listed = "; ".join(self._shown_movie(p) for p in ranked[:LISTED])
        more = f" and {len(ranked) - LISTED} more" if len(ranked) > LISTED else ""
        return TitleError(
            f"{_quoted(query)} matches {len(ranked)} movies: {listed}{more}; "
            "give more of the title, or its year"
        )

    @cached_property
    def _position_of(self) -> dict[int, int]:
        return {int(m): p for p, m in enumerate(self.movie_ids.tolist())}

    def _movie_numbered(self, query: str) -> Resolution | None:
        """The movie a bare number names by its ``movie_id``, if any, with a note when a movie
        is also titled that number."""
        if not (query.isascii() and query.isdigit()):
            return None
        position = self._position_of.get(int(query))
        if position is None:
            return None
        titled = next((group for group in self._exact(query, query) if group), [])
        titled = [p for p in self._by_rank(titled) if p != position]
        note = None
        if titled:
            listed = ", ".join(self._shown_movie(p) for p in titled[:ALTERNATIVES_NOTED])
            note = (
                f"{_in_quotes(query)} is movie id {self.movie_ids[position]}, "
                f"{self._shown_movie(position)}; for the title {_in_quotes(query)}, give its "
                f"year: {listed}"
            )
        return Resolution(int(self.movie_ids[position]), note)

    def resolve(self, query: str) -> int:
        """The ``movie_id`` a typed title (or bare ``movie_id``) means; TitleError when
        ambiguous or unknown. :meth:`resolution` also says when it was one of several."""
        return self.resolution(query).movie_id

    def resolution(self, query: str) -> Resolution:
        """The movie a typed title (or bare ``movie_id``) means, by the rules of this module,
        with a note when it was the most rated of several with the same title."""
        query = query.strip()
        if not query:
            raise TitleError("an empty title was given; type part of a movie's title")
        numbered = self._movie_numbered(query)
        if numbered is not None:
            return numbered
        year = split_year(query)[1]
        key = canonical(query)
        exact_other_years: list[int] = []
        for group in self._exact(query, key):
            if group and self._in_year(group, year):
                return self._most_rated(query, self._in_year(group, year))
            exact_other_years += group
        if key:
            for partial in (self._starting(key, True), self._with_words(key.split())):
                partial_in_year = self._in_year(partial, year)
                if len(partial_in_year) == 1:
                    return Resolution(int(self.movie_ids[partial_in_year[0]]))
                if partial_in_year:
                    raise self._ambiguous(query, partial_in_year)
        return self._fuzzy(query, key, year, exact_other_years)

    def _fuzzy(
        self, query: str, key: str, year: int | None, exact_other_years: list[int]
    ) -> Resolution:
        near = self._with_words_near(key.split()) if key else {}
        scores = self._close(key, 12, SUGGEST_MIN) if key else {}
        for position in near:
            scores[position] = max(scores.get(position, 0.0), self._closeness(key, position))
        ranked = sorted(scores, key=lambda p: (-scores[p], self._rank[p]))
        in_year = self._in_year(ranked, year)
        if in_year and scores[in_year[0]] >= FUZZY_ACCEPT:
            best = scores[in_year[0]]
            tied = [p for p in in_year if scores[p] > best - FUZZY_MARGIN]
            if len({self._full_keys[p] for p in tied}) == 1:  # one title, several years
                return self._most_rated(query, tied)
            raise self._ambiguous(query, tied)
        # Suggested: the title in other years, then titles with every word near, then the closest.
        suggested = [
            *self._by_rank(exact_other_years),
            *sorted(near, key=lambda p: (near[p], self._rank[p])),
            *ranked,
        ]
        listed = "; ".join(list(dict.fromkeys(self._shown_movie(p) for p in suggested))[:5])
        what = (
            f"no movie has id {query} or a title matching it"
            if query.isascii() and query.isdigit()
            else f"no movie matches {_quoted(query)}"
        )
        if listed:
            raise TitleError(f"{what}; did you mean: {listed}? Try `movierec search`")
        raise TitleError(f"{what}; try `movierec search` with part of the title")

    # ---- search -------------------------------------------------------------------------------
    def search(self, query: str, n: int = 10) -> list[int]:
        """Up to ``n`` ``movie_id``s whose titles match a partial or misspelt title, best first:
        exact, then prefix, then every word, then fuzzy; none when nothing comes close."""
        found: list[int] = []
        if n <= 0 or not query.strip():
            return found
        year = split_year(query)[1]
        key = canonical(query)
        seen: set[int] = set()

        def take(positions: Iterable[int], ranked: bool = False) -> bool:
            for p in positions if ranked else self._by_rank(positions):
                if p not in seen and (year is None or self.years[p] == year):
                    seen.add(p)
                    found.append(p)
            return len(found) >= n

        done = any(take(group) for group in self._exact(query.strip(), key))
        if key and not done:
            words = key.split()
            done = take(self._starting(key, False)) or take(self._with_words(words, True))
            if not done:
                near = self._with_words_near(words, True)
                done = take(sorted(near, key=lambda p: (near[p], self._rank[p])), ranked=True)
            if not done:
                close = self._close(key, 3 * n, FUZZY_ACCEPT)
                take(sorted(close, key=lambda p: (-close[p], self._rank[p])), ranked=True)
        return [int(self.movie_ids[p]) for p in found[:n]]


def _group(keys: Iterable[str]) -> dict[str, list[int]]:
    """``key → positions`` of the key at each position; the empty key too (a title of
    punctuation alone is still found by its whole title)."""
    grouped: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        grouped.setdefault(key, []).append(position)
    return grouped


def _group_pairs(pairs: Iterable[tuple[int, str]]) -> dict[str, list[int]]:
    """``key → positions`` of ``(position, key)`` pairs (empty keys left out)."""
    grouped: dict[str, list[int]] = {}
    for position, key in pairs:
        grouped.setdefault(key, []).append(position)
    grouped.pop("", None)
    return grouped
