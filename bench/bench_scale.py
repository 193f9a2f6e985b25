"""How movierec's costs grow with the data: synthetic MovieLens-shaped ratings at 1M, 10M and 25M.

Per size it writes a synthetic dataset in that MovieLens variant's own layout (ml-1m's
``ratings.dat``/``movies.dat``, ml-10m's ``ml-10M100K/`` folder, ml-25m's ``ratings.csv``/
``movies.csv``; ``100k`` adds ml-100k's ``u.data``/``u.item`` as a quick check) into a temporary
data dir, then measures the command line, each step in its own process so that its peak RSS is
its own, with ``MOVIEREC_DATA_DIR`` and a fresh ``MOVIEREC_CACHE_DIR`` in temporary folders:

- parse: ``movierec stats -d NAME --json`` on a cold cache (wall, peak RSS), and again cached;
- fit: ``movierec train -d NAME --out DIR --json`` with the default preset for the size;
- ``movierec recommend --model DIR --like ID ×5 --json`` (five popular movies; median of 3),
  with the ratings file moved away first: a saved model answers from its folder alone;
- ``movierec serve --model DIR``: seconds until ``/healthz`` answers 200 and the RSS then, the
  bundle's array bytes (``model.*.npy`` + ``arrays.npz``) and the RSS of a Python that has only
  imported what ``serve`` imports (the baseline), then ~1,000 ``POST /api/recommend``
  from 16 keep-alive clients (``bench_web_load``'s client): requests/s, p99, errors.

The data: users and movies each belong to one of eight taste groups (a movie's genres come from
its group). A movie's popularity is a power law in its rank, ``(rank + r0)^-s`` (plus a small
floor at 25M), fitted per size to MovieLens' ratings per movie; each user rates 20 + a lognormal
number of movies (MovieLens keeps users with at least 20), drawn without repeats half from their
own group, a fifth from a second group and the rest from all, each by popularity. Ratings are user
bias + movie quality (higher for popular movies) + group affinity + noise, centred on MovieLens'
mean, in whole stars (100k, 1m) or half stars for the 40% of users who use them (10m, 25m). The
same ``--seed`` writes the same files.

Run from the repository root. One size at a time: at 25M the generator needs about 3 GB of
memory and its files 0.7 GB of disk (plus movierec's cache and model); the temporary folders go
afterwards, also on Ctrl+C::

    python bench/bench_scale.py                     # 1m, 10m and 25m
    python bench/bench_scale.py --sizes 100k,1m     # a quick check

Prints one row per size with the targets underneath and writes ``bench/results/scale.json``. A
command that fails is recorded with the last line of its stderr; the rest carries on.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import contextlib
import csv
import io
import json
import math
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from bench_web_load import HOST, cpu_seconds, fire, free_port

from movierec.datasets.parse import GENRES_100K
from movierec.datasets.registry import DatasetSpec, get_spec

RESULTS = Path(__file__).parent / "results" / "scale.json"
MB = 1e6
MIN_RATING = 3.0  # movierec's default filter: popular movies are counted on kept ratings
TARGETS = {
    "recommend_wall_s": 1.0,  # every size
    "recommend_rss_mb": 200.0,  # every size
    "serve_ready_s": 3.0,  # at 25M ratings
    "serve_rss_per_bundle_arrays": 1.5,  # at 25M ratings
    "parse_s": 8.0,  # at 25M ratings
    "parse_rss_mb": 1200.0,  # at 25M ratings
    "fit_growth_exponent": 1.0,  # fit time ∝ ratings^k, k ≤ 1, between sizes of one preset
}
LARGEST = "25m"  # the size the serve and parse targets are set for


def _utc(day: str) -> int:
    return calendar.timegm(time.strptime(day, "%Y-%m-%d"))


@dataclass(frozen=True)
class Variant:
    """One size: which MovieLens release it imitates and the shape of that release's data."""

    dataset: str  # the registry name, which sets the folder, file names and layout
    ratings: int
    users: int
    movies_rated: int
    movies_listed: int  # the movies file lists some movies nobody rated, as MovieLens' do
    max_movie_id: int  # ids have gaps, as MovieLens' do
    half_stars: bool
    years: tuple[int, int]  # release years in the titles
    period: tuple[str, str]  # when the ratings were given
    popularity: tuple[float, float, float]  # (s, r0, floor): see generate()
    activity_sigma: float  # ratings per user: 20 + lognormal(σ), scaled to the total
    text_encoding: str  # of the movies file


# Shapes from the real releases. Popularity (s, r0, floor): fitted on generated data to ratings
# per movie, median/mean and most/mean (ml-100k 0.45 and 9.8, ml-1m 0.46 and 12.7, ml-10m 0.14
# and 37, fitted with a tenth of the users; ml-25m 0.014 and 193, with a floor so that about 58k
# of its 59k movies get a rating). σ from ratings per user, mean/median (ml-1m 166/96, ml-10m
# 143/69, ml-25m 154/71).
# fmt: off
VARIANTS: dict[str, Variant] = {
    "100k": Variant(
        dataset="ml-100k", ratings=100_000, users=943, movies_rated=1_682, movies_listed=1_682,
        max_movie_id=1_682, half_stars=False, years=(1922, 1998),
        period=("1997-09-20", "1998-04-22"), popularity=(1.6, 40.0, 0.0), activity_sigma=1.14,
        text_encoding="latin-1",
    ),
    "1m": Variant(
        dataset="ml-1m", ratings=1_000_209, users=6_040, movies_rated=3_706, movies_listed=3_883,
        max_movie_id=3_952, half_stars=False, years=(1919, 2000),
        period=("2000-04-25", "2003-02-28"), popularity=(1.35, 40.0, 0.0), activity_sigma=1.14,
        text_encoding="latin-1",
    ),
    "10m": Variant(
        dataset="ml-10m", ratings=10_000_054, users=69_878, movies_rated=10_677,
        movies_listed=10_681, max_movie_id=65_133, half_stars=True, years=(1915, 2008),
        period=("1996-01-29", "2009-01-05"), popularity=(2.0, 120.0, 0.0), activity_sigma=1.36,
        text_encoding="utf-8",
    ),
    "25m": Variant(
        dataset="ml-25m", ratings=25_000_095, users=162_541, movies_rated=59_047,
        movies_listed=62_423, max_movie_id=209_171, half_stars=True, years=(1874, 2019),
        period=("1995-01-09", "2019-11-21"), popularity=(2.4, 250.0, 0.007), activity_sigma=1.39,
        text_encoding="utf-8",
    ),
}
# fmt: on
DEFAULT_SIZES = "1m,10m,25m"

# Taste groups and the genres their movies draw from (ml-1m's genre names).
GROUPS = (
    ("Action", "Adventure", "Thriller"),
    ("Comedy", "Romance"),
    ("Drama", "War"),
    ("Animation", "Children's", "Comedy", "Fantasy", "Musical"),
    ("Sci-Fi", "Fantasy", "Adventure"),
    ("Horror", "Thriller", "Mystery"),
    ("Crime", "Film-Noir", "Thriller", "Drama"),
    ("Western", "Documentary", "Musical", "Drama"),
)
GROUP_SHARES = (0.5, 0.2)  # of a user's ratings: from their own group, from a second one
MIN_PER_USER = 20  # MovieLens keeps users with at least 20 ratings
MOST_PER_USER = 0.5  # share of the catalogue the most active user may rate
MEAN_SCORE = 3.6  # before rounding; MovieLens' mean ratings are 3.5–3.6
HALF_STAR_USERS = 0.4  # in half-star releases, users who use half stars
HEAVY_SHARE = 0.05  # users rating more of the catalogue than this are drawn in one go
LINES_PER_BLOCK = 1 << 20  # ratings written per block of text

# fmt: off
ADJECTIVES = (
    "Dark", "Last", "Lost", "Silent", "Broken", "Golden", "Hidden", "Wild", "Little", "Big",
    "Secret", "Eternal", "Crimson", "Frozen", "Midnight", "Blue", "Red", "Final", "Lonely",
    "Electric", "Burning", "Sweet", "Bitter", "Strange", "Perfect", "Savage", "Quiet", "Deadly",
    "Empty", "Endless", "Fallen", "Iron", "Stolen", "Sacred", "Wicked", "Young", "Old", "Naked",
    "Invisible", "Fast", "Cold", "Hot", "Black", "White", "Green", "Dangerous", "Crazy", "Happy",
    "Brave", "Forgotten", "Distant",
)
NOUNS = (
    "River", "City", "Night", "Heart", "Dream", "Road", "Garden", "Kingdom", "Summer", "Winter",
    "Shadow", "Storm", "Island", "Mountain", "Star", "Ghost", "House", "Game", "Story", "Journey",
    "Promise", "Mirror", "Letter", "Song", "Wedding", "Detective", "Stranger", "Empire", "Machine",
    "Planet", "Angel", "Bridge", "Circus", "Desert", "Dragon", "Forest", "Harbor", "Hunter",
    "Killer", "Legend", "Lover", "Mission", "Ocean", "Prince", "Queen", "Sister", "Brother",
    "Soldier", "Train", "Witness", "Café", "Señor", "Fräulein",
)
PLACES = (
    "Paris", "Texas", "Tokyo", "Berlin", "Rome", "Chicago", "Brooklyn", "Mars", "Venice", "Alaska",
    "Havana", "Vienna", "Casablanca", "Montréal", "Zürich", "Lagos", "Mumbai", "Sicily", "Nowhere",
    "Eden",
)
ARTICLES = ("The", "A", "La", "Le", "Les", "Il", "El", "Das")
# fmt: on


# ---- the synthetic data ----------------------------------------------------------------------


@dataclass
class Synthetic:
    """A generated dataset: ratings sorted by user then movie, and the catalogue."""

    user_id: np.ndarray  # int64, 1..users
    movie_id: np.ndarray  # int64, MovieLens-like ids with gaps
    rating: np.ndarray  # float32 stars
    timestamp: np.ndarray  # int64 Unix seconds
    catalogue_ids: np.ndarray  # every listed movie id, ascending
    titles: list[str]
    genres: list[list[str]]

    def popular(self, n: int) -> list[int]:
        """The ``n`` movie ids with the most ratings kept by movierec's default filter."""
        counts = np.bincount(self.movie_id[self.rating >= MIN_RATING])
        most = np.argsort(-counts, kind="stable")[:n]  # ties: the lower id first
        return [int(movie_id) for movie_id in most if counts[movie_id]]


def _user_counts(variant: Variant, rng: np.random.Generator) -> np.ndarray:
    """Ratings per user: at least 20, lognormal above that, summing to the exact total."""
    spare = variant.ratings - MIN_PER_USER * variant.users
    cap = int(MOST_PER_USER * variant.movies_rated) - MIN_PER_USER
    extra = rng.lognormal(0.0, variant.activity_sigma, variant.users)
    for _ in range(20):  # scale to the total; the capped users' excess goes to the others
        capped = extra * spare / extra.sum() >= cap
        if not capped.any():
            break
        free = spare - cap * int(capped.sum())
        extra = np.where(capped, cap * extra[~capped].sum() / free, extra)
    wanted = extra * spare / extra.sum()
    counts = np.minimum(np.floor(wanted).astype(np.int64), cap)
    short = spare - int(counts.sum())  # the largest remainders take the rest, one each
    order = np.argsort(counts - wanted, kind="stable")
    counts[order[counts[order] < cap][:short]] += 1
    return counts + MIN_PER_USER


@dataclass(frozen=True)
class Popularity:
    """The rated movies' popularity, arranged for drawing by taste group.

    ``cumulative`` is the popularity summed over the movies in group order (``movie_order``);
    group g's stretch of it runs from ``mass_bounds[g, 0]`` to ``mass_bounds[g, 1]``, its movies
    from ``index_bounds[g, 0]`` to before ``index_bounds[g, 1]``; the row after the last group is
    "any group": all of them."""

    weight: np.ndarray  # per rated movie
    groups: np.ndarray  # per rated movie
    movie_order: np.ndarray
    cumulative: np.ndarray
    mass_bounds: np.ndarray
    index_bounds: np.ndarray

    @classmethod
    def of(cls, weight: np.ndarray, groups: np.ndarray) -> Popularity:
        n_groups = len(GROUPS)
        movie_order = np.argsort(groups, kind="stable")
        cumulative = np.cumsum(weight[movie_order])
        starts = np.searchsorted(groups[movie_order], np.arange(n_groups + 1))
        edges = np.concatenate([[0.0], cumulative])
        mass_bounds = np.vstack(
            [np.column_stack([edges[starts[:-1]], edges[starts[1:]]]), [0.0, cumulative[-1]]]
        )
        index_bounds = np.vstack(
            [np.column_stack([starts[:-1], starts[1:]]), [0, len(weight)]]
        ).astype(np.int64)
        return cls(weight, groups, movie_order, cumulative, mass_bounds, index_bounds)

    @property
    def group_mass(self) -> np.ndarray:
        return self.mass_bounds[:-1, 1] - self.mass_bounds[:-1, 0]

    def draw(self, user_groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One movie index per row of ``user_groups`` (own, second group): from the own group,
        the second or any, by ``GROUP_SHARES``, then by popularity within it."""
        which = rng.random(len(user_groups))
        group = np.where(
            which < GROUP_SHARES[0],
            user_groups[:, 0],
            np.where(which < sum(GROUP_SHARES), user_groups[:, 1], len(GROUPS)),
        )
        low, high = self.mass_bounds[group, 0], self.mass_bounds[group, 1]
        target = low + rng.random(len(group)) * (high - low)
        index = np.searchsorted(self.cumulative, target, side="right")
        index = np.clip(index, self.index_bounds[group, 0], self.index_bounds[group, 1] - 1)
        return self.movie_order[index]

    def log_weights(self, user_groups: np.ndarray) -> np.ndarray:
        """Each user's (row's) log chance of drawing each movie, up to a constant: what
        :meth:`draw` does, in one matrix."""
        mass, rows = self.group_mass, np.arange(len(user_groups))
        mix = np.full((len(user_groups), len(GROUPS)), 1 - sum(GROUP_SHARES)) / mass.sum()
        mix[rows, user_groups[:, 0]] += GROUP_SHARES[0] / mass[user_groups[:, 0]]
        mix[rows, user_groups[:, 1]] += GROUP_SHARES[1] / mass[user_groups[:, 1]]
        return np.log(self.weight)[None, :] + np.log(mix[:, self.groups])


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, by sorting: NumPy 2.4's hash-based ``np.unique`` takes several
    times as long on millions of int64."""
    ordered = np.sort(values)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def _distinct_first(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_index=True)``: the distinct values, sorted, and where each
    first occurs."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    return ordered[first], order[first]


def _draw_pairs(
    counts: np.ndarray,
    user_groups: np.ndarray,
    popularity: Popularity,
    rng: np.random.Generator,
) -> np.ndarray:
    """Distinct (user index, movie index) pairs, ``counts[u]`` for user u, as sorted keys
    ``user × movies + movie``: each user's movies drawn by :meth:`Popularity.draw` without
    replacement. Most users draw with replacement and keep the first draw of each movie, in draw
    order, until they have enough (which is sampling without replacement), drawing more than
    they miss where earlier rounds saw many repeats. Users who rate more than ``HEAVY_SHARE`` of
    the catalogue would see mostly repeats; they take the top of Gumbel-perturbed log weights
    instead (the same distribution, exactly, in one go)."""
    n_users, n_movies = len(counts), len(popularity.weight)
    heavy = np.flatnonzero(counts > HEAVY_SHARE * n_movies)
    found: list[np.ndarray] = []  # sorted arrays of keys, disjoint
    rows = max(1, (1 << 22) // n_movies)  # bounded temporaries
    for start in range(0, len(heavy), rows):
        users = heavy[start : start + rows]
        keyed = popularity.log_weights(user_groups[users])
        keyed += rng.gumbel(size=keyed.shape)
        for user, row in zip(users.tolist(), keyed):
            top = np.argpartition(-row, counts[user] - 1)[: counts[user]]
            found.append(user * n_movies + np.sort(top))
    if found:
        found = [np.concatenate(found)]  # in user order: sorted
    missing = counts.copy()
    missing[heavy] = 0
    draws = missing.copy()
    while missing.any():
        users = np.repeat(np.arange(n_users, dtype=np.int64), draws)
        movies = np.empty(len(users), dtype=np.int64)
        for start in range(0, len(users), 1 << 22):  # bounded temporaries
            part = users[start : start + (1 << 22)]
            movies[start : start + len(part)] = popularity.draw(user_groups[part], rng)
        drawn = users * n_movies + movies
        del users, movies
        if (draws == missing).all():  # every distinct movie drawn is kept
            new, first = _distinct(drawn), None
        else:  # keep the first draws of distinct movies, in draw order, as many as missing
            new, first = _distinct_first(drawn)
        del drawn
        for earlier in found:
            at = np.minimum(np.searchsorted(earlier, new), len(earlier) - 1)
            fresh = earlier[at] != new
            new = new[fresh]
            first = None if first is None else first[fresh]
        user_of = new // n_movies
        fresh_per_user = np.bincount(user_of, minlength=n_users)
        if first is not None:  # draw order is user-major: sorting by it groups the users
            order = np.argsort(first, kind="stable")
            new, user_of = new[order], user_of[order]
            rank = np.arange(len(new)) - np.searchsorted(user_of, user_of)
            new = np.sort(new[rank < missing[user_of]])
        found.append(new)
        missing -= np.bincount(new // n_movies, minlength=n_users)
        # Draw next as many as the repeats seen so far suggest, within bounds.
        fresh_share = fresh_per_user / np.maximum(draws, 1)
        draws = np.ceil(missing * np.clip(1.2 / np.maximum(fresh_share, 1e-9), 1, 100))
        draws = draws.astype(np.int64)
    # Sorted runs (the heavy users', one per round): a stable sort merges them.
    return np.sort(np.concatenate(found), kind="stable")


def _titles(years: np.ndarray, rng: np.random.Generator) -> list[str]:
    """MovieLens-style titles: ``"Silent River (1987)"``, ``"Lost Harbor, The (1954)"``,
    ``"Storm in Havana (2001)"``, ``"Red Dragon 2 (1999)"``, ``"Ghost and the Cold Queen (1971)"``;
    some names repeat, mostly with another year."""
    n = len(years)
    adjective = rng.integers(0, len(ADJECTIVES), n)
    noun = rng.integers(0, len(NOUNS), n)
    place = rng.integers(0, len(PLACES), n)
    article = rng.integers(0, len(ARTICLES), n)
    other = rng.integers(0, len(NOUNS), n)
    form = rng.choice(6, n, p=[0.25, 0.2, 0.1, 0.1, 0.05, 0.3])
    sequel = rng.integers(2, 5, n)
    titles = []
    for i in range(n):
        adj, noun_, place_ = ADJECTIVES[adjective[i]], NOUNS[noun[i]], PLACES[place[i]]
        name = (
            f"{adj} {noun_}",
            f"{adj} {noun_}, {ARTICLES[article[i]]}",
            f"{noun_} in {place_}",
            f"{adj} {noun_} {sequel[i]}",
            f"{noun_} of {place_}, The",
            f"{noun_} and the {adj} {NOUNS[other[i]]}",
        )[form[i]]
        titles.append(f"{name} ({years[i]})")
    return titles


def generate(variant: Variant, seed: int) -> Synthetic:
    """A MovieLens-shaped dataset of ``variant``'s size, the same for the same seed."""
    rng = np.random.default_rng(seed)
    n_groups = len(GROUPS)

    # The catalogue: ids with gaps; years rising with the id, as MovieLens adds movies in time,
    # and more of them recent.
    listed = np.sort(rng.choice(variant.max_movie_id, variant.movies_listed, replace=False)) + 1
    first, last = variant.years
    years = np.sort(last - (last - first) * rng.beta(1.2, 5.0, len(listed)))
    years = np.clip(np.rint(years + rng.normal(0, 3, len(listed))), first, last).astype(int)
    titles = _titles(years, rng)
    listed_groups = rng.integers(0, n_groups, len(listed))
    # One to three of the group's genres, in the group's order: the lowest random keys win.
    sizes = np.array([len(names) for names in GROUPS])[listed_groups]
    keys = rng.random((len(listed), max(len(names) for names in GROUPS)))
    keys[np.arange(keys.shape[1]) >= sizes[:, None]] = np.inf
    wanted = rng.integers(1, np.minimum(3, sizes) + 1)
    picked = np.argsort(keys, axis=1).argsort(axis=1) < wanted[:, None]
    genres = [
        [names[i] for i in np.flatnonzero(row)]
        for names, row in zip((GROUPS[g] for g in listed_groups.tolist()), picked)
    ]

    # The rated movies and their popularity: older (lower id) movies tend to be more popular.
    rated = np.sort(rng.choice(len(listed), variant.movies_rated, replace=False))
    groups = listed_groups[rated]
    s, r0, floor = variant.popularity
    rank_key = np.linspace(0, 1, len(rated)) + rng.normal(0, 0.35, len(rated))
    rank = np.empty(len(rated), dtype=np.int64)
    rank[np.argsort(rank_key, kind="stable")] = np.arange(len(rated))
    weight = (rank + 1 + r0) ** -s  # a power law in the rank, with a floor: a long thin tail
    weight = weight / weight.sum() * (1 - floor) + floor / len(weight)
    popularity = Popularity.of(weight, groups)

    # Users: an own and a second group, in proportion to the groups' popularity, so that each
    # movie's expected share of the ratings is its popularity's.
    counts = _user_counts(variant, rng)
    share = popularity.group_mass / popularity.group_mass.sum()
    own = rng.choice(n_groups, variant.users, p=share)
    second = (own + rng.integers(1, n_groups, variant.users)) % n_groups
    keys = _draw_pairs(counts, np.column_stack([own, second]), popularity, rng)
    user_index = keys // variant.movies_rated
    movie_index = keys - user_index * variant.movies_rated
    del keys

    # Ratings: user bias + movie quality (better for popular movies) + group affinity + noise,
    # centred on MovieLens' mean rating, rounded to the release's scale.
    user_bias = rng.normal(0, 0.35, variant.users)
    log_weight = np.log(weight)
    quality = rng.normal(0, 0.45, len(rated))
    quality += 0.3 * (log_weight - log_weight.mean()) / max(float(log_weight.std()), 1e-9)
    movie_group = groups[movie_index]
    affinity = np.where(
        movie_group == own[user_index],
        0.55,
        np.where(movie_group == second[user_index], 0.25, -0.25),
    )
    del movie_group
    score = user_bias[user_index] + quality[movie_index] + affinity
    score += rng.normal(0, 0.9, len(user_index))
    score += MEAN_SCORE - score.mean()
    del affinity
    whole = np.clip(np.rint(score), 1, 5)
    if variant.half_stars:
        halves = rng.random(variant.users) < HALF_STAR_USERS
        half = np.clip(np.rint(score * 2) / 2, 0.5, 5)
        rating = np.where(halves[user_index], half, whole).astype(np.float32)
        del half
    else:
        rating = whole.astype(np.float32)
    del score, whole

    # Times: each user starts somewhere in the period; half of their ratings come that day, the
    # rest spread over the weeks or years after.
    begin, end = _utc(variant.period[0]), _utc(variant.period[1])
    user_start = rng.integers(begin, end - 86_400, variant.users)
    user_span = rng.lognormal(math.log(60 * 86_400), 1.5, variant.users)
    first_day = rng.random(len(user_index)) < 0.5
    offset = np.where(
        first_day,
        rng.random(len(user_index)) * 86_400,
        rng.exponential(1.0, len(user_index)) * user_span[user_index],
    )
    start = user_start[user_index]
    late = start + offset > end  # past the release's end: between the start and the end instead
    offset[late] = rng.random(int(late.sum())) * (end - start[late])
    timestamp = start + offset.astype(np.int64)
    del offset, first_day, start, late

    return Synthetic(
        user_id=user_index + 1,
        movie_id=listed[rated][movie_index].astype(np.int64),
        rating=rating,
        timestamp=timestamp,
        catalogue_ids=listed.astype(np.int64),
        titles=titles,
        genres=genres,
    )


# ---- writing it in the variant's layout ------------------------------------------------------


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Whole numbers ≥ 0 as ASCII digits, right-aligned in ``width`` bytes, NUL-padded."""
    out = np.zeros((len(values), width), dtype=np.uint8)
    remaining = values.astype(np.int64)
    for column in range(width - 1, -1, -1):
        shown = (remaining > 0) | (column == width - 1)  # no leading zeros; 0 is "0"
        out[:, column] = np.where(shown, 48 + remaining % 10, 0)
        remaining //= 10
    return out


def _rating_text(layout: str, half_stars: bool) -> np.ndarray:
    """Each star value 0.5, 1, …, 5 as the layout writes it (``4.0`` in CSV, ``4`` in ``.dat``
    and ``u.data``), NUL-padded to 3 bytes; row ``2 × rating − 1``."""
    table = np.zeros((10, 3), dtype=np.uint8)
    for row in range(10):
        value = (row + 1) / 2
        text = f"{value:.1f}" if layout == "csv" or not value.is_integer() else f"{value:.0f}"
        if not half_stars and not value.is_integer():
            continue
        encoded = np.frombuffer(text.encode(), dtype=np.uint8)
        table[row, 3 - len(encoded) :] = encoded
    return table


def write_ratings(data: Synthetic, spec: DatasetSpec, half_stars: bool, path: Path) -> None:
    """The ratings file, built a block of lines at a time as a byte matrix whose NUL padding is
    then dropped: no Python per line."""
    separator = {"dat": b"::", "100k": b"\t", "csv": b","}[spec.layout]
    sep = np.frombuffer(separator, dtype=np.uint8)
    ratings_text = _rating_text(spec.layout, half_stars)
    id_width = len(str(max(int(data.user_id.max()), int(data.movie_id.max()))))
    time_width = len(str(int(data.timestamp.max())))
    with open(path, "wb") as out:
        if spec.layout == "csv":
            out.write(b"userId,movieId,rating,timestamp\n")
        for start in range(0, len(data.rating), LINES_PER_BLOCK):
            block = slice(start, start + LINES_PER_BLOCK)
            n = len(data.rating[block])
            gap = np.broadcast_to(sep, (n, len(sep)))
            star = (np.rint(data.rating[block] * 2).astype(np.int64)) - 1
            matrix = np.concatenate(
                [
                    _digits(data.user_id[block], id_width),
                    gap,
                    _digits(data.movie_id[block], id_width),
                    gap,
                    ratings_text[star],
                    gap,
                    _digits(data.timestamp[block], time_width),
                    np.full((n, 1), 10, dtype=np.uint8),
                ],
                axis=1,
            )
            out.write(matrix[matrix != 0].tobytes())


def write_movies(data: Synthetic, spec: DatasetSpec, variant: Variant, path: Path) -> None:
    """The movies file: ``id::Title (Year)::Genres`` (``.dat``), ``u.item``'s 24 ``|`` fields, or
    ``movies.csv`` with a header, quoted where a title holds a comma."""
    ids = data.catalogue_ids.tolist()
    if spec.layout == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["movieId", "title", "genres"])
        for movie_id, title, genres in zip(ids, data.titles, data.genres):
            names = [g.replace("Children's", "Children") for g in genres]
            writer.writerow([movie_id, title, "|".join(names) or "(no genres listed)"])
        text = buffer.getvalue()
    elif spec.layout == "dat":
        text = "".join(
            f"{movie_id}::{title}::{'|'.join(genres)}\n"
            for movie_id, title, genres in zip(ids, data.titles, data.genres)
        )
    else:  # ml-100k's u.item
        lines = []
        for movie_id, title, genres in zip(ids, data.titles, data.genres):
            flags = "|".join("1" if g in genres else "0" for g in GENRES_100K)
            year = title[-5:-1]
            url = "http://us.imdb.com/M/title-exact?" + title.replace(" ", "%20")
            lines.append(f"{movie_id}|{title}|01-Jan-{year}||{url}|{flags}\n")
        text = "".join(lines)
    path.write_bytes(text.encode(variant.text_encoding))


def write_dataset(data: Synthetic, variant: Variant, data_dir: Path) -> Path:
    """The dataset's folder in ``data_dir``, named and laid out as the registry says."""
    spec = get_spec(variant.dataset)
    folder = data_dir / spec.folder
    folder.mkdir(parents=True)
    write_ratings(data, spec, variant.half_stars, folder / spec.ratings_file)
    write_movies(data, spec, variant, folder / spec.movies_file)
    return folder


# ---- running movierec ------------------------------------------------------------------------

# Runs a command in a process forked from this small one and reports its own wall time and peak
# RSS: Linux counts the memory a process had before exec in its peak, so a child started straight
# from this script (holding the generated arrays) would inherit this script's peak.
LAUNCHER = """
import os, sys, time
report, command = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(command[0], command)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(report, "w") as out:
    out.write(f"{wall} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""

_live: set[subprocess.Popen[bytes]] = set()  # process groups to end on the way out


def _kill_group(process: subprocess.Popen[bytes], first: int = signal.SIGKILL) -> None:
    """End a process started in its own session, with whatever it started, and reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, first)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    _live.discard(process)


def movierec_command() -> list[str]:
    """The ``movierec`` console script of this environment (as people run it), else ``-m``."""
    script = Path(sys.executable).parent / "movierec"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "movierec.cli"]


def _last_line(text: str, code: int) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1][:300] if lines else "") or f"exit code {code}"


def run_measured(
    arguments: list[str], env: dict[str, str], scratch: Path, timeout: float
) -> dict[str, Any]:
    """Run ``movierec ARGUMENTS`` in its own process: wall seconds, peak RSS (MB), its stdout
    parsed as JSON; or ``error``: the last line of its stderr, or why it stopped."""
    report, out, err = scratch / "measure.txt", scratch / "stdout.txt", scratch / "stderr.txt"
    report.unlink(missing_ok=True)
    command = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *movierec_command()]
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(
            command + arguments, env=env, stdout=stdout, stderr=stderr, start_new_session=True
        )
        _live.add(process)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _kill_group(process)
    result: dict[str, Any] = {
        "command": "movierec " + " ".join(arguments),
        "load_average_1min": round(load_before, 2),
    }
    if report.is_file():
        wall, maxrss_kib, cpu = report.read_text().split()
        result["wall_s"] = round(float(wall), 3)
        result["cpu_s"] = round(float(cpu), 3)  # user + system: what a busy machine cannot spoil
        result["peak_rss_mb"] = round(int(maxrss_kib) * 1024 / MB, 1)
    if code is None:
        result["error"] = f"timed out after {timeout:.0f} s"
    elif code != 0:
        result["error"] = _last_line(err.read_text(errors="replace"), code)
    else:
        try:
            result["output"] = json.loads(out.read_text())
        except ValueError:
            result["error"] = "its output is not JSON: " + _last_line(out.read_text(), code)
    return result


def _proc_status_mb(pid: int, field: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) * 1024 / MB, 1)
    except OSError:
        return None
    return None


def bundle_array_bytes(model_dir: Path) -> int:
    """The saved model's array files: ``model.*.npy`` and ``arrays.npz``."""
    files = [*model_dir.glob("model.*.npy"), model_dir / "arrays.npz"]
    return sum(path.stat().st_size for path in files if path.is_file())


BASELINE = """
import resource, sys
import fastapi, numpy, scipy.sparse, uvicorn
import movierec.cli, movierec.bundle, movierec.recommender, movierec.web.app
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        print(int(line.split()[1]) * 1024)
"""


def serve_baseline_rss(env: dict[str, str]) -> float | None:
    """RSS (MB) of a Python that has imported what `serve` imports, with no model loaded: what
    any model's server costs before its arrays, catalogue and titles."""
    done = subprocess.run(
        [sys.executable, "-c", BASELINE], env=env, capture_output=True, text=True, check=False
    )
    return round(int(done.stdout.split()[-1]) / MB, 1) if done.returncode == 0 else None


def measure_serve(
    dataset: str,
    model_dir: Path,
    env: dict[str, str],
    scratch: Path,
    popular: list[int],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Start ``movierec serve --model DIR``, time it until ``/healthz`` answers 200, read its
    RSS, load it with ``POST /api/recommend`` from ``args.concurrency`` clients, stop it."""
    port = free_port()
    # --model alone: the bundle holds all it needs (the ratings file is moved away by now)
    arguments = ["serve", "--model", str(model_dir), "--host", HOST]
    arguments += ["--port", str(port), "--no-access-log"]
    result: dict[str, Any] = {"command": "movierec " + " ".join(arguments)}
    err_path = scratch / "serve-stderr.txt"
    with open(err_path, "wb") as stderr:
        started = time.perf_counter()
        server = subprocess.Popen(
            movierec_command() + arguments,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    _live.add(server)
    try:
        deadline = started + args.serve_timeout
        with httpx.Client(timeout=2) as client:
            while True:
                if server.poll() is not None:
                    text = err_path.read_text(errors="replace")
                    result["error"] = _last_line(text, server.returncode)
                    return result
                if time.perf_counter() > deadline:
                    result["error"] = f"/healthz did not answer within {args.serve_timeout:.0f} s"
                    return result
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"http://{HOST}:{port}/healthz").status_code == 200:
                        break
                time.sleep(0.05)
        result["ready_s"] = round(time.perf_counter() - started, 3)
        result["rss_ready_mb"] = _proc_status_mb(server.pid, "VmRSS")
        result["peak_rss_ready_mb"] = _proc_status_mb(server.pid, "VmHWM")

        rng = random.Random(args.seed)
        liked_from = popular[:100]

        def bodies(count: int) -> list[bytes]:
            return [
                json.dumps({"liked": rng.sample(liked_from, 5), "n": 10}).encode()
                for _ in range(count)
            ]

        asyncio.run(fire(port, bodies(args.warmup), args.concurrency, args.web_time_limit, "lean"))
        cpu_before = cpu_seconds(server.pid)
        run = asyncio.run(
            fire(port, bodies(args.requests), args.concurrency, args.web_time_limit, "lean")
        )
        cpu_after = cpu_seconds(server.pid)
        ms = run["latencies"] * 1000
        sent = run["sent"]
        result["web"] = {
            "requests": sent,
            "concurrency": args.concurrency,
            "errors": sum(run["errors"].values()),
            "error_kinds": run["errors"],
            "requests_per_s": round(sent / run["wall_s"], 1),
            "latency_ms": {
                "p50": round(float(np.percentile(ms, 50)), 2),
                "p99": round(float(np.percentile(ms, 99)), 2),
                "max": round(float(ms.max()), 2),
            },
            "server_cpu_ms_per_request": round((cpu_after - cpu_before) * 1000 / max(sent, 1), 3),
            "rss_after_mb": _proc_status_mb(server.pid, "VmRSS"),
        }
    except (OSError, httpx.HTTPError, ValueError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        _kill_group(server, first=signal.SIGINT)
    return result


def measure_size(
    size: str, args: argparse.Namespace, root: Path, movierec_env: dict[str, str]
) -> dict[str, Any]:
    """Generate one size, run every step on it, and remove its files."""
    variant = VARIANTS[size]
    spec = get_spec(variant.dataset)
    workdir = root / size
    data_dir, cache_dir, model_dir = workdir / "data", workdir / "cache", workdir / "model"
    scratch = workdir / "scratch"
    for folder in (data_dir, cache_dir, scratch):
        folder.mkdir(parents=True)
    env = {**movierec_env, "MOVIEREC_DATA_DIR": str(data_dir), "MOVIEREC_CACHE_DIR": str(cache_dir)}
    row: dict[str, Any] = {"size": size, "dataset": variant.dataset, "layout": spec.layout}
    print(
        f"[{size}] generating {variant.ratings:,} ratings, {variant.dataset}'s layout", flush=True
    )
    try:
        started = time.perf_counter()
        data = generate(variant, args.seed)
        generated = time.perf_counter() - started
        folder = write_dataset(data, variant, data_dir)
        os.sync()  # the parse step must not pay for writing the generator's files back
        written = time.perf_counter() - started - generated
        popular = data.popular(100)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB
        row["data"] = {
            "ratings": len(data.rating),
            "users": variant.users,
            "movies_rated": int(np.count_nonzero(np.bincount(data.movie_id))),
            "movies_listed": len(data.catalogue_ids),
            "mean_rating": round(float(data.rating.mean()), 3),
            "kept_share": round(float((data.rating >= MIN_RATING).mean()), 3),
            "files_mb": {p.name: round(p.stat().st_size / MB, 1) for p in sorted(folder.iterdir())},
            "generate_s": round(generated, 2),
            "write_s": round(written, 2),
            "popular_liked": popular[:5],
            "bench_peak_rss_mb": round(peak, 1),  # this script's, so far: the generator's
        }
        del data
        print(f"[{size}] generated in {generated:.1f} s, written in {written:.1f} s", flush=True)

        name = variant.dataset
        steps = row["steps"] = {}
        timeout = args.step_timeout
        print(f"[{size}] parse (cold), cached load, fit …", flush=True)
        steps["parse"] = run_measured(["stats", "-d", name, "--json"], env, scratch, timeout)
        steps["cached_load"] = run_measured(["stats", "-d", name, "--json"], env, scratch, timeout)
        train = ["train", "-d", name, "--out", str(model_dir), "--json"]
        steps["fit"] = run_measured(train, env, scratch, timeout)
        if "error" in steps["fit"]:
            return row
        fit = steps["fit"]["output"]
        steps["fit"]["preset_model"] = fit.get("settings", {}).get("model")
        steps["fit"]["fit_s"] = fit.get("fit_seconds", steps["fit"].get("wall_s"))
        row["bundle_arrays_mb"] = round(bundle_array_bytes(model_dir) / MB, 1)
        extras = row["also"] = {}
        for preset in args.also_presets:  # other presets beside the default, same data
            print(f"[{size}] fit --preset {preset} …", flush=True)
            extra_dir = workdir / f"model-{preset}"
            command = ["train", "-d", name, "--preset", preset, "--out", str(extra_dir), "--json"]
            extras[preset] = {"fit": run_measured(command, env, scratch, timeout)}
            if "error" not in extras[preset]["fit"]:
                output = extras[preset]["fit"]["output"]
                extras[preset]["fit"]["fit_s"] = output.get("fit_seconds")
                extras[preset]["bundle_arrays_mb"] = round(bundle_array_bytes(extra_dir) / MB, 1)

        print(f"[{size}] recommend --model ×{args.recommend_runs}, serve …", flush=True)
        liked = [a for movie_id in popular[:5] for a in ("--like", str(movie_id))]
        # Self-contained models: the ratings go away before recommend and serve run.
        ratings = folder / get_spec(name).ratings_file
        ratings.rename(ratings.with_suffix(".away"))
        recommend = ["recommend", "--model", str(model_dir), *liked, "--json"]
        runs = [run_measured(recommend, env, scratch, timeout) for _ in range(args.recommend_runs)]
        good = [r for r in runs if "error" not in r]
        for run in good:  # the answers are the same each time: the first three say enough
            if isinstance(run["output"], list):
                run["output"] = {"results": len(run["output"]), "first": run["output"][:3]}
        steps["recommend"] = {"command": runs[0]["command"], "runs": runs}
        if good:
            steps["recommend"]["wall_s"] = statistics.median(r["wall_s"] for r in good)
            steps["recommend"]["peak_rss_mb"] = statistics.median(r["peak_rss_mb"] for r in good)
        if len(good) < len(runs):
            steps["recommend"]["error"] = next(r["error"] for r in runs if "error" in r)
        for preset, extra in extras.items():
            if "error" in extra["fit"]:
                continue
            command = ["recommend", "--model", str(workdir / f"model-{preset}"), *liked, "--json"]
            asked = range(args.recommend_runs)
            runs = [run_measured(command, env, scratch, timeout) for _ in asked]
            extra["recommend"] = [{k: v for k, v in r.items() if k != "output"} for r in runs]
        steps["serve"] = measure_serve(name, model_dir, env, scratch, popular, args)
        steps["serve"]["baseline_rss_mb"] = serve_baseline_rss(env)
        return row
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ---- the table -------------------------------------------------------------------------------


def _get(row: dict[str, Any], *path: str) -> Any:
    value: Any = row
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _cell(value: Any, form: str = "{:,.2f}") -> str:
    return "-" if value is None else form.format(value)


def _step_cell(row: dict[str, Any], step: str, key: str, form: str = "{:,.2f}") -> str:
    if _get(row, "steps", step, "error") is not None and _get(row, "steps", step, key) is None:
        return "FAIL"
    return _cell(_get(row, "steps", step, key), form)


def fit_growth(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fit seconds per million ratings, and the exponent k of time ∝ ratings^k between
    consecutive sizes trained with the same model (k ≤ 1: no worse than linear)."""
    growth = []
    fitted = [r for r in rows if _get(r, "steps", "fit", "fit_s") is not None]
    for before, after in zip(fitted, fitted[1:]):
        if before["steps"]["fit"]["preset_model"] != after["steps"]["fit"]["preset_model"]:
            continue
        t0, t1 = before["steps"]["fit"]["fit_s"], after["steps"]["fit"]["fit_s"]
        n0, n1 = before["data"]["ratings"], after["data"]["ratings"]
        c0, c1 = before["steps"]["fit"].get("cpu_s"), after["steps"]["fit"].get("cpu_s")
        growth.append(
            {
                "from": before["size"],
                "to": after["size"],
                "model": after["steps"]["fit"]["preset_model"],
                "exponent": round(math.log(t1 / t0) / math.log(n1 / n0), 2),
                # the whole train command's CPU seconds (load and save included)
                "cpu_exponent": (
                    round(math.log(c1 / c0) / math.log(n1 / n0), 2) if c0 and c1 else None
                ),
            }
        )
    return growth


def verdicts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each target: met (True/False) where the sizes run say, None where they do not."""
    t = TARGETS
    recommend = [r for r in rows if _get(r, "steps", "recommend", "wall_s") is not None]
    failed = any(_get(r, "steps", "recommend", "error") for r in rows)
    met: dict[str, Any] = {
        "recommend_every_size": (
            None
            if not recommend and not failed
            else not failed
            and all(
                r["steps"]["recommend"]["wall_s"] <= t["recommend_wall_s"]
                and r["steps"]["recommend"]["peak_rss_mb"] <= t["recommend_rss_mb"]
                for r in recommend
            )
        )
    }
    largest = next((r for r in rows if r["size"] == LARGEST), None)
    met["serve_at_25m"] = met["parse_at_25m"] = None
    if largest is not None:
        ready = _get(largest, "steps", "serve", "ready_s")
        over = serve_over_baseline(largest)
        arrays = largest.get("bundle_arrays_mb")
        met["serve_at_25m"] = bool(
            ready is not None
            and over is not None
            and arrays
            and ready <= t["serve_ready_s"]
            and over <= t["serve_rss_per_bundle_arrays"] * arrays
        )
        wall = _get(largest, "steps", "parse", "wall_s")
        peak = _get(largest, "steps", "parse", "peak_rss_mb")
        met["parse_at_25m"] = bool(
            _get(largest, "steps", "parse", "error") is None
            and wall is not None
            and wall <= t["parse_s"]
            and peak <= t["parse_rss_mb"]
        )
    growth = fit_growth(rows)
    met["fit_growth"] = (
        all(g["exponent"] <= t["fit_growth_exponent"] for g in growth) if growth else None
    )
    return met


def serve_over_baseline(row: dict[str, Any]) -> float | None:
    """What the model adds to the server's RSS: RSS when ready less the imports' baseline."""
    rss = _get(row, "steps", "serve", "rss_ready_mb")
    baseline = _get(row, "steps", "serve", "baseline_rss_mb")
    return rss - baseline if rss is not None and baseline is not None else None


def memory_ceiling(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Where this machine's memory runs out: each step's peak RSS extrapolated linearly in the
    ratings from the two largest sizes run; the step that reaches the machine's RAM first. Fit is
    left out unless both sizes' default model is the same sparse one: EASE's memory follows the
    movies (a movies × movies matrix), not the ratings."""
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / MB
    done = sorted((r for r in rows if "data" in r), key=lambda r: r["data"]["ratings"])
    if len(done) < 2:
        return None
    small, large = done[-2:]
    n_small, n_large = small["data"]["ratings"], large["data"]["ratings"]
    first = None
    models = {
        _get(small, "steps", "fit", "preset_model"),
        _get(large, "steps", "fit", "preset_model"),
    }
    for step, key in STEP_MEMORY:
        if step == "fit" and (len(models) > 1 or "ease" in models):
            continue
        before, after = _get(small, "steps", step, key), _get(large, "steps", step, key)
        if before is None or after is None or after <= before:
            continue
        per_rating = (after - before) / (n_large - n_small)
        ratings = n_large + (ram_mb - after) / per_rating
        if first is None or ratings < first["ratings"]:
            first = {"step": step, "ratings": int(ratings), "mb_per_million": per_rating * 1e6}
    if first is None:
        return None
    return {**first, "ram_mb": round(ram_mb), "from_sizes": [small["size"], large["size"]]}


STEP_MEMORY = (
    ("parse", "peak_rss_mb"),
    ("cached_load", "peak_rss_mb"),
    ("fit", "peak_rss_mb"),
    ("recommend", "peak_rss_mb"),
    ("serve", "rss_ready_mb"),
)


# fmt: off
COLUMNS = (
    "size", "ratings", "movies", "gen+write s", "parse s", "parse MB", "cached s", "cached MB",
    "model", "fit s", "train cpu s", "fit MB", "fit s/M", "rec s", "rec MB", "arrays MB",
    "serve s", "serve MB", "base MB", "(serve-base)/arr", "req/s", "p99 ms", "errors",
)
# fmt: on


def print_table(rows: list[dict[str, Any]], met: dict[str, Any]) -> None:
    header = COLUMNS
    table = []
    for row in rows:
        data = row.get("data", {})
        fit_s = _get(row, "steps", "fit", "fit_s")
        ratings = data.get("ratings")
        over = serve_over_baseline(row)
        arrays = row.get("bundle_arrays_mb")
        gen = data["generate_s"] + data["write_s"] if "generate_s" in data else None
        web_errors = _get(row, "steps", "serve", "web", "errors")
        table.append(
            [
                row["size"],
                _cell(ratings, "{:,}"),
                _cell(data.get("movies_rated"), "{:,}"),
                _cell(gen, "{:.1f}"),
                _step_cell(row, "parse", "wall_s"),
                _step_cell(row, "parse", "peak_rss_mb", "{:,.0f}"),
                _step_cell(row, "cached_load", "wall_s"),
                _step_cell(row, "cached_load", "peak_rss_mb", "{:,.0f}"),
                _cell(_get(row, "steps", "fit", "preset_model"), "{}"),
                _step_cell(row, "fit", "fit_s"),
                _step_cell(row, "fit", "cpu_s", "{:,.1f}"),
                _step_cell(row, "fit", "peak_rss_mb", "{:,.0f}"),
                _cell(fit_s / ratings * 1e6 if fit_s and ratings else None),
                _step_cell(row, "recommend", "wall_s"),
                _step_cell(row, "recommend", "peak_rss_mb", "{:,.0f}"),
                _cell(arrays, "{:,.1f}"),
                _step_cell(row, "serve", "ready_s"),
                _step_cell(row, "serve", "rss_ready_mb", "{:,.0f}"),
                _cell(_get(row, "steps", "serve", "baseline_rss_mb"), "{:,.0f}"),
                _cell(over / arrays if over is not None and arrays else None, "{:.1f}×"),
                _cell(_get(row, "steps", "serve", "web", "requests_per_s"), "{:,.0f}"),
                _cell(_get(row, "steps", "serve", "web", "latency_ms", "p99"), "{:.1f}"),
                _cell(web_errors, "{}"),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
    print()
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for cells in table:
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths)))

    def verdict(key: str) -> str:
        return {True: "met", False: "NOT met", None: "not run"}[met[key]]

    t = TARGETS
    growth = ", ".join(
        f"{g['from']}→{g['to']} ({g['model']}) k = {g['exponent']} (train's CPU seconds: "
        f"k = {g['cpu_exponent']})"
        for g in fit_growth(rows)
    )
    print(
        "\nparse: `stats --json`, first run (parses, writes the cache); cached: the same again;"
        "\nfit s: train's own fit time (train cpu s and fit MB: the whole command's CPU seconds"
        "\nand peak); fit s/M: per million"
        "\nratings; rec: `recommend --model DIR --like ×5 --json`, wall and peak RSS, median of"
        "\nruns; arrays: the bundle's model.*.npy + arrays.npz; serve s/MB: until /healthz"
        "\nanswers 200, RSS then; base: RSS of a Python with serve's imports and no model;"
        "\nreq/s, p99: POST /api/recommend from 16 clients. recommend and serve run with the"
        "\nratings file moved away (self-contained models). MB = 10^6 B."
    )
    print("targets on this machine:")
    print(
        f"  recommend --model ≤ {t['recommend_wall_s']} s and ≤ {t['recommend_rss_mb']:.0f} MB "
        f"at every size: {verdict('recommend_every_size')}"
    )
    print(
        f"  serve --model ready ≤ {t['serve_ready_s']:.0f} s at 25M, RSS over the imports' "
        f"baseline ≤ {t['serve_rss_per_bundle_arrays']}× bundle arrays: {verdict('serve_at_25m')}"
    )
    print(
        f"  parse 25M ≤ {t['parse_s']:.0f} s and ≤ {t['parse_rss_mb'] / 1000:.1f} GB: "
        f"{verdict('parse_at_25m')}"
    )
    print(
        f"  fit no worse than linear (time ∝ ratings^k, k ≤ 1, same model): "
        f"{verdict('fit_growth')}{'; ' + growth if growth else ''}"
    )
    ceiling = memory_ceiling(rows)
    if ceiling:
        print(
            f"memory, extrapolated linearly from {' and '.join(ceiling['from_sizes'])}: "
            f"`{ceiling['step']}` ({ceiling['mb_per_million']:,.0f} MB per million ratings) "
            f"fills this machine's {ceiling['ram_mb'] / 1000:.1f} GB first, at about "
            f"{ceiling['ratings'] / 1e6:,.0f}M ratings"
        )
    failures = [
        (row["size"], step, result["error"])
        for row in rows
        for step, result in row.get("steps", {}).items()
        if result.get("error")
    ] + [(row["size"], "benchmark", row["error"]) for row in rows if row.get("error")]
    for size, step, error in failures:
        print(f"  FAILED {size} {step}: {error}")


# ---- main ------------------------------------------------------------------------------------


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"comma-separated, of {', '.join(VARIANTS)} (default {DEFAULT_SIZES})",
    )
    parser.add_argument("--seed", type=int, default=42, help="same seed, same files")
    parser.add_argument("--requests", type=int, default=1_000, help="measured web requests")
    parser.add_argument("--warmup", type=int, default=100, help="web requests before those")
    parser.add_argument("--concurrency", type=int, default=16, help="web clients")
    parser.add_argument("--recommend-runs", type=int, default=3)
    parser.add_argument("--step-timeout", type=float, default=1800.0, help="seconds per command")
    parser.add_argument("--serve-timeout", type=float, default=600.0, help="seconds to start")
    parser.add_argument("--web-time-limit", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where the data goes")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--also-presets",
        type=lambda text: [p.strip() for p in text.split(",") if p.strip()],
        default=[],
        help="comma-separated presets also fitted (train --preset) and asked (recommend --model) "
        "at each size, e.g. ials-large",
    )
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in VARIANTS]
    if unknown or not sizes:
        parser.error(f"--sizes takes {', '.join(VARIANTS)}; got {args.sizes!r}")
    if not 1 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 1..100000 and --concurrency 1..256")

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in background
    movierec_env = {
        k: v for k, v in os.environ.items() if k not in ("MOVIEREC_DATA_DIR", "MOVIEREC_CACHE_DIR")
    }
    root = Path(tempfile.mkdtemp(prefix="movierec-bench-scale-", dir=args.tmp_dir))
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    try:
        for size in sizes:
            try:
                rows.append(measure_size(size, args, root, movierec_env))
            except Exception as exc:  # record it, go on to the next size (Ctrl+C still stops)
                rows.append({"size": size, "error": f"{type(exc).__name__}: {exc}"[:300]})
            met = verdicts(rows)
            result = {
                "sizes": rows,
                "seed": args.seed,
                "targets": TARGETS,
                "met": met,
                "fit_growth": fit_growth(rows),
                "memory_ceiling": memory_ceiling(rows),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average_1min": round(os.getloadavg()[0], 2),
                },
                "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            }
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=2) + "\n")  # after each size
    except KeyboardInterrupt:
        print("\ninterrupted: stopping what runs and removing the data", file=sys.stderr)
        return 130
    finally:
        for process in list(_live):
            _kill_group(process)
        shutil.rmtree(root, ignore_errors=True)
    print_table(rows, result["met"])
    for row in rows:
        fit = _get(row, "steps", "fit") or {}
        print(
            f"[{row['size']}] default ({fit.get('preset_model')}): fit {fit.get('wall_s')} s wall, "
            f"{fit.get('cpu_s')} CPU s, {fit.get('peak_rss_mb')} MB peak, load "
            f"{fit.get('load_average_1min')}"
        )
        for preset, extra in (row.get("also") or {}).items():
            fit = extra["fit"]
            answers = extra.get("recommend") or []
            print(
                f"[{row['size']}] {preset}: fit {fit.get('wall_s')} s wall, {fit.get('cpu_s')} CPU "
                f"s, {fit.get('peak_rss_mb')} MB peak, load {fit.get('load_average_1min')}; "
                f"recommend {[a.get('wall_s') for a in answers]} s, "
                f"{[a.get('peak_rss_mb') for a in answers]} MB {fit.get('error', '')}"
            )
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
