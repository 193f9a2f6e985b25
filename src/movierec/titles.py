"""Title search and resolution: what a person types → one ``movie_id``.

Tried in order: the exact title; the same ignoring case; ignoring the year, accents and
punctuation, with MovieLens' trailing articles moved back ("Matrix, The" ↔ "The Matrix") and
alternate titles in parentheses; then fuzzy matching for typos. Several equally good matches
raise an error listing them; no good match raises one with the closest suggestions.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .datasets.title_format import ARTICLES, article_first, split_year
from .errors import TitleError

_PARENS = re.compile(r"\(([^()]*)\)")
_NON_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")
_AKA = re.compile(r"^(a\.k\.a\.|aka)\s+", re.IGNORECASE)
FUZZY_ACCEPT = 85.0  # rapidfuzz ratio at or above which a typo is taken as meant
FUZZY_MARGIN = 4.0  # how far ahead of the runner-up a fuzzy match must be
SEARCH_MIN_SCORE = 75.0  # rapidfuzz WRatio below which search drops a candidate


def _shown(title: str, limit: int = 100) -> str:
    """A title (from a data file) fit for a one-line message: control characters escaped."""
    title = title if len(title) <= limit else title[:limit] + "…"
    return title if title.isprintable() else repr(title)[1:-1]


def _quoted(query: str, limit: int = 80) -> str:
    """What someone typed, quoted and escaped for a message, and cut when long."""
    return repr(query if len(query) <= limit else query[:limit] + "…")


def _fold(text: str) -> str:
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def canonical(text: str) -> str:
    """A comparison key: no accents, case, punctuation or year; leading article restored."""
    text = article_first(_fold(split_year(text)[0]).strip())
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def title_keys(title: str) -> set[str]:
    """Every key a title answers to: its main title and each alternate title in parentheses."""
    bare = split_year(title)[0]
    keys = {canonical(bare)}
    alternates = _PARENS.findall(bare)
    main = _PARENS.sub("", bare).strip()
    if alternates:
        keys.add(canonical(main))
    for alternate in alternates:
        alternate = _AKA.sub("", alternate.strip())
        if alternate:
            keys.add(canonical(alternate))
    for key in list(keys):  # "Matrix" finds "Matrix, The" too
        first, _, rest = key.partition(" ")
        if first in ARTICLES and rest:
            keys.add(rest)
    keys.discard("")
    return keys


class TitleIndex:
    """Resolves and searches the titles of movies (``movie_ids[i]`` is titled ``titles[i]``).

    ``popularity`` (a count per movie, aligned with ``movie_ids``) breaks ties.

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
        self.years = np.array([split_year(t)[1] or 0 for t in self.titles])
        self._popularity = (
            np.asarray(popularity, dtype=np.float64)
            if popularity is not None
            else np.zeros(len(self.movie_ids))
        )
        self._by_title: dict[str, list[int]] = defaultdict(list)
        self._by_folded: dict[str, list[int]] = defaultdict(list)
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._by_series: dict[str, list[int]] = defaultdict(list)  # "Star Wars" → its episodes
        for position, title in enumerate(self.titles):
            self._by_title[title].append(position)
            self._by_folded[_fold(title).strip()].append(position)
            for key in title_keys(title):
                self._by_key[key].append(position)
            if ":" in title:
                self._by_series[canonical(title.split(":")[0])].append(position)
        self._keys = list(self._by_key)
        self._folded_titles = [_fold(t) for t in self.titles]

    def _ambiguous(self, query: str, positions: list[int]) -> TitleError:
        ranked = sorted(positions, key=lambda p: -self._popularity[p])
        listed = "; ".join(_shown(self.titles[p]) for p in ranked[:8])
        more = f" and {len(ranked) - 8} more" if len(ranked) > 8 else ""
        return TitleError(
            f"{_quoted(query)} matches {len(ranked)} movies: {listed}{more}; "
            "give the full title with its year"
        )

    def _pick(self, query: str, positions: list[int]) -> int:
        unique = sorted(set(positions))
        if len(unique) > 1:
            raise self._ambiguous(query, unique)
        return int(self.movie_ids[unique[0]])

    def resolve(self, query: str) -> int:
        """The ``movie_id`` a typed title means; TitleError when ambiguous or unknown."""
        query = query.strip()
        if not query:
            raise TitleError("an empty title was given; type part of a movie's title")
        for table, key in ((self._by_title, query), (self._by_folded, _fold(query))):
            if key in table:
                return self._pick(query, table[key])
        bare, year = split_year(query)
        key = canonical(bare)
        if key in self._by_key:
            positions = self._by_key[key]
            if year is not None:
                positions = [p for p in positions if self.years[p] == year] or positions
            return self._pick(query, positions)
        if key in self._by_series:
            return self._pick(query, self._by_series[key])
        starting = {
            p for k, ps in self._by_key.items() if k.startswith(key + " ") for p in ps
        }  # "Star Wars: Episode IV" → "… - A New Hope"
        if year is not None:
            starting = {p for p in starting if self.years[p] == year}
        if 0 < len(starting) <= 8:
            return self._pick(query, list(starting))
        return self._fuzzy(query, key, year)

    def _fuzzy(self, query: str, key: str, year: int | None) -> int:
        from rapidfuzz import fuzz, process

        matches = process.extract(key, self._keys, scorer=fuzz.ratio, limit=12)
        candidates: list[tuple[float, int]] = []
        for matched_key, score, _ in matches:
            for position in self._by_key[matched_key]:
                if year is None or self.years[position] == year:
                    candidates.append((score, position))
        candidates.sort(key=lambda c: (-c[0], -self._popularity[c[1]]))
        if candidates:
            best_score = candidates[0][0]
            tied = [p for s, p in candidates if s > best_score - FUZZY_MARGIN]
            if best_score >= FUZZY_ACCEPT and len(set(tied)) == 1:
                return int(self.movie_ids[tied[0]])
            if best_score >= FUZZY_ACCEPT:
                raise self._ambiguous(query, list(dict.fromkeys(tied)))
        suggestions = "; ".join(dict.fromkeys(_shown(self.titles[p]) for _, p in candidates[:5]))
        hint = f"; did you mean: {suggestions}" if suggestions else ""
        raise TitleError(f"no movie titled {_quoted(query)}{hint}? Try `movierec search`")

    def search(self, query: str, n: int = 10) -> list[int]:
        """Up to ``n`` ``movie_id``s matching a partial or misspelt title, best first."""
        from rapidfuzz import fuzz, process

        folded = _fold(query).strip()
        if not folded:
            return []
        key = canonical(query) or folded
        contains = [p for p, t in enumerate(self._folded_titles) if folded in t]
        starts = {p for p in contains if canonical(self.titles[p]).startswith(key)}
        ranked = sorted(
            contains, key=lambda p: (p not in starts, -self._popularity[p], self.titles[p])
        )
        if len(ranked) < n:
            fuzzy = process.extract(key, self._keys, scorer=fuzz.WRatio, limit=n * 4)
            seen = set(ranked)
            for matched_key, score, _ in fuzzy:
                if score < SEARCH_MIN_SCORE:
                    break
                if len(matched_key) < min(len(key), 4):
                    continue  # "M" is not a fuzzy match for "matrix"
                for p in sorted(self._by_key[matched_key], key=lambda p: -self._popularity[p]):
                    if p not in seen:
                        ranked.append(p)
                        seen.add(p)
        return [int(self.movie_ids[p]) for p in ranked[:n]]
