"""What profiles bring to a trained model: recommendations for one profile, picks for a movie
night of several, and (with consent) ratings to train on.

The rules themselves live where they belong — likes, dislikes and hidden movies in
:meth:`movierec.Recommender.taste_scores`, the group's aggregation in
:mod:`movierec.movie_night` — this module only reads profiles and hands them over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import MovieRecError
from ..recommender import GroupPicks, Ranked, Recommender, Taste
from .store import ProfileData, ProfileStore

if TYPE_CHECKING:
    from ..datasets import Dataset


def taste_of(data: ProfileData) -> Taste:
    """A profile's ratings and "not interested" list as the recommender reads them."""
    return Taste(
        {rating.movie_id: rating.stars for rating in data.ratings},
        [kept.movie_id for kept in data.not_interested],
        name=f"profile {data.profile.profile_id}",
    )


def recommend_for_profile(
    recommender: Recommender, data: ProfileData, n: int = 10, explain: bool = False
) -> Ranked:
    """Top-``n`` movies for one profile (see :meth:`Recommender.recommend_for_profile`)."""
    taste = taste_of(data)
    try:
        return recommender.recommend_for_profile(taste.ratings, taste.hidden, n, explain)
    except MovieRecError as exc:
        raise MovieRecError(f"{taste.name}: {exc}") from None


def movie_night(
    recommender: Recommender, members: Sequence[ProfileData], n: int = 10
) -> GroupPicks:
    """Movie night for 2–6 profiles (see :meth:`Recommender.recommend_for_group`); each
    profile once."""
    ids = [m.profile.profile_id for m in members]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise MovieRecError(
            f"profile {repeated[0]} is named twice; name each member of the movie night once"
        )
    # a member with nothing to start from is named (Taste.name) in the refusal
    return recommender.recommend_for_group([taste_of(m) for m in members], n)


# ---- training with profiles ----------------------------------------------------------------
@dataclass(frozen=True)
class ProfilesAdded:
    """What ``train --with-profiles`` added to the dataset's ratings: how many consenting
    ``profiles`` and ``ratings`` (``left_out``: ratings of movies the dataset does not have),
    and the user ids they got (``first_user_id`` on, above every id of the dataset)."""

    database: str
    profiles: int
    ratings: int
    left_out: int
    first_user_id: int
    digest: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "profiles": self.profiles,
            "ratings": self.ratings,
            "left_out": self.left_out,
            "first_user_id": self.first_user_id,
            "last_user_id": self.first_user_id + self.profiles - 1,
            "digest": self.digest,
        }

    @property
    def mark(self) -> str:
        """How the trained model's data fingerprint records it (saved in ``meta.json``)."""
        return (
            f"+profiles({self.profiles} profiles, {self.ratings} ratings, user ids "
            f"{self.first_user_id}-{self.first_user_id + self.profiles - 1}, "
            f"sha256:{self.digest})"
        )


def with_profiles(dataset: Dataset, db: str | Path) -> tuple[Dataset, ProfilesAdded]:
    """``dataset`` with the ratings of every profile in ``db`` that consents to training
    added, each profile a new user with an id above the dataset's largest (in the order of
    their profile ids); its fingerprint marks them (:attr:`ProfilesAdded.mark`), so a model
    trained on it records what it was trained on."""
    import pandas as pd

    from ..datasets import Dataset

    with ProfileStore.open(db, create=False) as store:
        rows = store.consenting_ratings()
        shown_as = store.database.shown_as
    if not rows:
        raise MovieRecError(
            f"no profile in {shown_as} consents to training (or those that do have no "
            "ratings); drop --with-profiles, or let a profile consent: movierec profile "
            "consent --profile ID"
        )
    ratings = dataset.ratings
    known_movies = np.isin(
        np.array([r[1] for r in rows], dtype=np.int64), dataset.movies.index.to_numpy()
    )
    kept = [row for row, known in zip(rows, known_movies) if known]
    if not kept:
        raise MovieRecError(
            f"the consenting profiles in {shown_as} rated no movie of {dataset.name}; train on "
            "the dataset they rated, or drop --with-profiles"
        )
    profile_ids = sorted({row[0] for row in kept})
    first_user_id = int(ratings["user_id"].max()) + 1
    user_of = {profile_id: first_user_id + i for i, profile_id in enumerate(profile_ids)}
    added = pd.DataFrame(
        {
            "user_id": np.array([user_of[r[0]] for r in kept], dtype=np.int64),
            "movie_id": np.array([r[1] for r in kept], dtype=np.int64),
            "rating": np.array([r[2] for r in kept], dtype=np.float32),
        }
    )
    if "timestamp" in ratings:
        added["timestamp"] = np.array([r[3] for r in kept], dtype=ratings["timestamp"].dtype)
    digest = hashlib.sha256(
        "\n".join(f"{p}\t{m}\t{s!r}\t{t}" for p, m, s, t in kept).encode()
    ).hexdigest()[:16]
    report = ProfilesAdded(
        shown_as, len(profile_ids), len(kept), len(rows) - len(kept), first_user_id, digest
    )
    extended = Dataset(
        dataset.name,
        pd.concat([ratings, added[ratings.columns]], ignore_index=True),
        dataset.movies,
        dataset.fingerprint + report.mark,
        dataset.source,
    )
    return extended, report


def rating_scale(dataset_name: str | None, model: Path | None = None) -> tuple[float, float, float]:
    """The stars a profile may give for ``dataset_name``'s movies (or ``model``'s data):
    (lowest, highest, step) — whole stars 1–5 for ml-100k and ml-1m, half stars 0.5–5
    otherwise (MovieLens' own scale, which the web page offers)."""
    from ..datasets.registry import REGISTRY
    from .store import DEFAULT_SCALE

    name = dataset_name
    if model is not None:
        from ..bundle import read_meta

        name = read_meta(model)["dataset"]["name"]
    if name in REGISTRY:
        low, high = REGISTRY[name].rating_scale
        return (low, high, 1.0 if low == 1.0 else 0.5)
    return DEFAULT_SCALE
