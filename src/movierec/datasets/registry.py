"""The MovieLens variants movierec knows: where each lives, how to verify it, how its files read."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DataError, shown

BASE_URL = "https://files.grouplens.org/datasets/movielens"


@dataclass(frozen=True)
class DatasetSpec:
    """One MovieLens release: its archive, checksum and file layout.

    ``layout`` picks the parser: ``"dat"`` (``::``-separated ``ratings.dat``/``movies.dat``),
    ``"100k"`` (tab-separated ``u.data``, pipe-separated ``u.item``) or ``"csv"``
    (``ratings.csv``/``movies.csv`` with a header row).
    """

    name: str
    folder: str
    layout: str
    ratings_file: str
    movies_file: str
    known_hash: str | None
    description: str

    @property
    def rating_scale(self) -> tuple[float, float]:
        """The lowest and highest rating GroupLens allows: whole stars 1–5 in the older
        releases (``dat`` and ``100k`` layouts, ml-10m aside), half stars 0.5–5 since ml-10m."""
        return (1.0, 5.0) if self.name in ("ml-100k", "ml-1m") else (0.5, 5.0)

    @property
    def url(self) -> str:
        return f"{BASE_URL}/{self.name}.zip"


_SPECS = [
    DatasetSpec(
        "ml-100k",
        "ml-100k",
        "100k",
        "u.data",
        "u.item",
        "sha256:50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        "100,000 ratings from 943 users on 1,682 movies (1998)",
    ),
    DatasetSpec(
        "ml-1m",
        "ml-1m",
        "dat",
        "ratings.dat",
        "movies.dat",
        "sha256:a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        "1,000,209 ratings from 6,040 users on 3,706 movies (2003)",
    ),
    DatasetSpec(
        "ml-10m",
        "ml-10M100K",
        "dat",
        "ratings.dat",
        "movies.dat",
        "sha256:813c411ccb6122564edfe752e7f80c4dcc5aa25fa94c93622f6877a7ba252862",
        "10,000,054 ratings from 69,878 users on 10,677 movies (2009)",
    ),
    DatasetSpec(
        "ml-20m",
        "ml-20m",
        "csv",
        "ratings.csv",
        "movies.csv",
        "sha256:96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
        "20,000,263 ratings from 138,493 users on 26,744 movies (2016)",
    ),
    DatasetSpec(
        "ml-25m",
        "ml-25m",
        "csv",
        "ratings.csv",
        "movies.csv",
        "sha256:8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
        "25,000,095 ratings from 162,541 users on 59,047 movies (2019)",
    ),
    DatasetSpec(
        "ml-32m",
        "ml-32m",
        "csv",
        "ratings.csv",
        "movies.csv",
        "sha256:e4a68655d7386b8f95f2f2424b2ff975dfdd15ffd59e0d864a14dca43e99d6ee",
        "32,000,204 ratings from 200,948 users on 87,585 movies (2024)",
    ),
    DatasetSpec(
        "ml-latest-small",
        "ml-latest-small",
        "csv",
        "ratings.csv",
        "movies.csv",
        "sha256:696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        "100,836 ratings from 610 users on 9,724 movies (September 2018); bundled",
    ),
]

REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}


def get_spec(name: str) -> DatasetSpec:
    """The spec of a dataset by name, or a DataError listing the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise DataError(f"unknown dataset {shown(name)}; choose one of: {known}") from None
