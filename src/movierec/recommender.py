"""The facade people use: titles (or movie ids) in, titles out.

A :class:`Recommender` joins a dataset, its interactions and a trained model; callers never see
a matrix index. It folds in new users from favourite movies, finds similar movies, explains
recommendations, and saves/loads itself without pickle.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import bundle, config
from .catalogue import Catalogue, Movie
from .datasets import Dataset
from .errors import ModelError, MovieRecError, TitleError
from .interactions import Interactions, Vocabulary
from .models import Model, top_n
from .models.base import FactorModel, one_row
from .movie_night import MISERY_PERCENTILE, average_without_misery, check_group_size
from .settings import Settings, default_settings
from .titles import Resolution, TitleIndex
from .trained import Summary, Trained, fit, fit_on_spark, spark_default_settings

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp

Explainer = tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]
"""The liked item indices, and how much each adds to the scores of given items (liked × given)."""

MovieRef = str | int
"""A movie as callers name it: a title as a person types it, or a MovieLens ``movie_id``."""

MAX_REASONS = 3
REASON_SHARE = 0.5


@dataclass(frozen=True)
class Scored:
    """A movie with a score; ``because`` lists the liked titles that explain it (when asked);
    ``liked`` (from :meth:`Recommender.score`) says whether the movie is one of the likes."""

    movie: Movie
    score: float
    because: tuple[str, ...] | None = None
    liked: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "movie_id": self.movie.movie_id,
            "title": self.movie.title,
            "score": round(float(self.score), 6),
        }
        if self.because is not None:
            out["because"] = list(self.because)
        if self.liked is not None:
            out["liked"] = self.liked
        return out


class Ranked(list[Scored]):
    """Scored movies, best first: a list, which also says why it is empty when it is
    (:attr:`why_empty`, e.g. every movie the model knows is already liked), so that an
    interface can tell the person instead of showing nothing."""

    def __init__(self, items: Iterable[Scored] = (), why_empty: str | None = None) -> None:
        super().__init__(items)
        self.why_empty = None if self else why_empty


@dataclass(frozen=True)
class Taste:
    """What one person has told: ``ratings``, stars by movie (a title or ``movie_id``), and
    the movies they are not interested in (``hidden``). Ratings ≥ the model's ``min_rating``
    are likes, the others dislikes (see :meth:`Recommender.recommend_for_profile`)."""

    ratings: Mapping[MovieRef, float]
    hidden: Collection[MovieRef] = ()
    name: str = ""  # who, in a group's messages ("profile ab12cd"): a refusal names them


@dataclass(frozen=True)
class GroupPick:
    """A movie night's pick: ``score`` is the group's (the mean of the members' normalised
    scores, in (0, 1]), ``members`` each member's normalised score in the order the tastes
    were given, ``serves`` the positions of the members whose taste it serves most."""

    movie: Movie
    score: float
    members: tuple[float, ...]
    serves: tuple[int, ...]

    def to_dict(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """JSON-ready; ``names`` (one per member) name the members, else their positions."""
        label = list(names) if names is not None else list(range(len(self.members)))
        return {
            "movie_id": self.movie.movie_id,
            "title": self.movie.title,
            "score": round(float(self.score), 6),
            "members": {str(label[i]): round(float(v), 6) for i, v in enumerate(self.members)},
            "serves_most": [label[i] for i in self.serves],
        }


class GroupPicks(list[GroupPick]):
    """A movie night's picks, best first, with how many ``candidates`` there were and how many
    misery ``vetoed``; :attr:`why_empty` says why there are none, when there are none."""

    def __init__(
        self,
        items: Iterable[GroupPick] = (),
        candidates: int = 0,
        vetoed: int = 0,
        why_empty: str | None = None,
    ) -> None:
        super().__init__(items)
        self.candidates = candidates
        self.vetoed = vetoed
        self.why_empty = None if self else why_empty


class Recommender:
    """Recommendations from a trained model, in MovieLens ids and titles.

    >>> from movierec import load_dataset, Recommender
    >>> rec = Recommender.train(load_dataset("ml-latest-small"))
    >>> [s.movie.title for s in rec.similar("Toy Story", n=3)]  # doctest: +SKIP
    """

    def __init__(
        self,
        trained: Trained,
        dataset: Dataset | None = None,
        interactions: Interactions | None = None,
    ) -> None:
        """``trained`` answers; ``dataset`` (its ratings, or what stands for them) is needed
        only for its users' recommendations and for retraining: without it, a dataset of the
        model's own movies stands in. ``interactions`` are those it was fitted on, if at
        hand (otherwise rebuilt from ``dataset`` on first use)."""
        self.trained = trained
        self.dataset = trained.without_ratings() if dataset is None else dataset
        if interactions is not None:
            self.__dict__["interactions"] = interactions
        # The trained value's parts, by their names (read them; to change one, build anew).
        self.model: Model = trained.model
        self.users: Vocabulary = trained.users  # the users the model has rows for
        self.items: Vocabulary = trained.items  # the movies it knows
        self.settings: Settings = trained.settings
        self.catalogue: Catalogue = trained.catalogue  # movies with their popularity
        self.favourite_weight: float = trained.favourite_weight  # a liked movie's, in a fold-in

    def describe(self) -> str:
        """The loaded model in words, as the web page, the report and ``movierec train`` name
        it: ``EASE (λ = 50, users weighted, low-pass filtered), binary feedback, ratings ≥ 3``."""
        return self.settings.describe(self.model)

    def __repr__(self) -> str:
        return (
            f"Recommender({self.describe()}; {self.dataset.name}, "
            f"{len(self.users):,} users × {len(self.items):,} movies)"
        )

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        dataset: Dataset,
        settings: Settings | None = None,
        show_progress: bool = False,
        use_gpu: bool = False,
        spark: bool = False,
        spark_master: str | None = None,
    ) -> Recommender:
        """Filter the dataset's ratings, build the interactions and fit the model;
        ``show_progress`` shows the fit's progress on stderr (see :mod:`movierec.progress`).
        ``spark`` fits with Apache Spark on ``spark_master`` (default ``local[2]``; see
        :mod:`movierec.spark`)."""
        trained, interactions = fit(
            dataset,
            settings or default_settings(dataset),
            show_progress=show_progress,
            use_gpu=use_gpu,
            spark=spark,
            spark_master=spark_master,
        )
        return cls(trained, dataset, interactions)

    @classmethod
    def train_on_spark(
        cls,
        ratings: str,
        settings: Settings | Callable[[int], Settings] | None = None,
        *,
        movies: str | None = None,
        min_rating: float = config.MIN_RATING,
        master: str | None = None,
    ) -> Recommender:
        """Train on ratings Spark reads itself: ``ratings`` a URI (``hdfs://…``, ``s3a://…``,
        ``file://…``) or a path on the cluster's default filesystem, ``movies`` likewise
        (optional). Spark checks, filters, indexes and fits on ``master`` (or the running
        session, or ``local[2]``); only the model and what it keeps about the data come back
        (:mod:`movierec.spark.source`). ``settings``: Settings, or a function of how many
        movies have kept ratings; None: ``default`` up to ``config.DENSE_ITEMS_LIMIT`` movies,
        ``spark-als`` above, at ``min_rating``. The result answers and saves like any
        recommender; its ratings stay with Spark.

        >>> rec = Recommender.train_on_spark("hdfs://nn:8020/ratings.parquet")  # doctest: +SKIP
        """
        from .spark.source import RemoteSource

        settings_for: Callable[[int], Settings]
        if settings is None:
            settings_for = partial(spark_default_settings, min_rating=min_rating)
        elif isinstance(settings, Settings):
            settings_for = partial(_same_settings, settings)
        else:
            settings_for = settings
        return cls(*fit_on_spark(RemoteSource(ratings, movies), settings_for, master))

    @cached_property
    def interactions(self) -> Interactions:
        """The training interactions, rebuilt from the dataset on first use after a load."""
        built = Interactions.from_ratings(
            self.dataset.ratings, self.settings.min_rating, self.settings.weighting
        )
        if not (
            np.array_equal(built.users.ids, self.users.ids)
            and np.array_equal(built.items.ids, self.items.ids)
        ):
            raise ModelError("the dataset's ids differ from the model's; retrain the model")
        return built

    @cached_property
    def popularity(self) -> pd.Series:
        """Kept ratings per ``movie_id`` (its popularity), most popular first."""
        import pandas as pd

        ids, popularity = self.catalogue.most_popular()
        return pd.Series(popularity, index=pd.Index(ids, name="movie_id"), name="count")

    @property
    def titles(self) -> TitleIndex:
        return self.catalogue.titles_index

    # ---- ids, titles, movies --------------------------------------------------------------
    def resolve(self, ref: MovieRef) -> Resolution:
        """Which movie a title, a bare number that is a ``movie_id``, or a ``movie_id`` names
        (the rules: :mod:`movierec.titles`), with a note for the person who typed it when it
        was the most rated of several with that title: the CLI prints it, the library never
        does. TitleError when none fits, or several that only partly match."""
        return self.catalogue.resolve(ref, self.dataset.name)

    def movie(self, ref: MovieRef) -> Movie:
        """The movie a title or ``movie_id`` names (see :meth:`resolve`; its note dropped)."""
        is_id = isinstance(ref, (int, np.integer)) and not isinstance(ref, bool)
        movie_id = int(ref) if is_id else self.resolve(ref).movie_id
        movie = self.catalogue.movie(movie_id)
        if movie is None:
            raise TitleError(f"no movie has id {movie_id} in {self.dataset.name}")
        return movie

    def _movies(self, movie_ids: Sequence[int] | np.ndarray) -> list[Movie]:
        return [self.movie(int(m)) for m in movie_ids]

    def _item_index(self, movie: Movie) -> int:
        index = self.items.find(movie.movie_id)
        if index is None:
            raise TitleError(
                f"{movie.title} has no ratings ≥ {self.settings.min_rating:g} in "
                f"{self.dataset.name}, so the model knows nothing about it; pick another movie"
            )
        return index

    def _liked(self, liked: Sequence[MovieRef]) -> tuple[list[Movie], np.ndarray]:
        """The liked movies (each once) and their item indices, sorted: a new user's row, each
        liked movie weighing :attr:`favourite_weight` (the model folds it in from the indices,
        no sparse matrix built per request)."""
        if isinstance(liked, (str, int)):
            liked = [liked]
        if not liked:
            raise MovieRecError("no liked movies were given; name at least one (--like TITLE)")
        movies = list({m.movie_id: m for m in (self.movie(ref) for ref in liked)}.values())
        indices = np.sort(np.array([self._item_index(m) for m in movies], dtype=np.int32))
        return movies, indices

    def search(self, query: str, n: int = 10) -> list[Movie]:
        """Movies whose titles match ``query`` (partial, accent- and typo-tolerant)."""
        return self._movies(self.titles.search(query, config.check_n(n)))

    def popular(self, n: int = 30) -> list[tuple[Movie, int]]:
        """The ``n`` most popular movies, with their popularity (kept ratings)."""
        ids, popularity = self.catalogue.most_popular(config.check_n(n))
        return [(m, int(p)) for m, p in zip(self._movies(ids), popularity)]

    # ---- the model's item vectors (for maps and reports) -----------------------------------
    @property
    def has_item_vectors(self) -> bool:
        """Whether the model represents movies as vectors (matrix factorization: ALS, iALS,
        BPR); EASE, ItemKNN and MostPopular do not."""
        return isinstance(self.model, FactorModel) and self.model.item_factors is not None

    def item_vectors(self, movie_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The model's vectors of these movies (len(movie_ids) × factors, float64, a copy);
        MovieRecError when the model has none, TitleError for a movie it does not know."""
        if not isinstance(self.model, FactorModel) or self.model.item_factors is None:
            raise MovieRecError(
                f"the {self.settings.model} model has no item vectors; use a factor model "
                "(e.g. --preset als-tuned)"
            )
        indices = [self._item_index(self.movie(int(m))) for m in movie_ids]
        rows = self.model.item_vectors()[np.asarray(indices, dtype=np.int64)]
        return np.asarray(rows, dtype=np.float64)

    # ---- the model's answers --------------------------------------------------------------
    def similar(self, ref: MovieRef, n: int = 10) -> Ranked:
        """The ``n`` movies most similar to one movie (never the movie itself); when there are
        none, :attr:`Ranked.why_empty` says why."""
        movie = self.movie(ref)
        indices, scores = self.model.similar_items(self._item_index(movie), config.check_n(n))
        movies = self._movies(self.items.id_of(indices))
        if len(indices):
            return Ranked(Scored(m, float(s)) for m, s in zip(movies, scores))
        if len(self.items) == 1:
            return Ranked((), f"{movie.title} is the only movie the model knows")
        catalogue = self.catalogue
        kept = int(catalogue.popularity[catalogue.movie_ids == movie.movie_id].sum())
        return Ranked(
            (),
            f"the {self.model.family()} model relates no other movie to {movie.title}, which has "
            f"{kept:,} kept rating{'' if kept == 1 else 's'}",
        )

    def _ranked(
        self,
        scores: np.ndarray,
        exclude: np.ndarray,
        n: int,
        explain: Explainer | None,
        who: str,
    ) -> Ranked:
        """The top ``n`` of ``scores`` less ``exclude``: the movies ``who`` ("you like", "user 7
        rated") names for the reason an empty list gives; ``explain`` (the liked item indices
        and how each adds to given items' scores) gives each its ``because``."""
        best = top_n(scores, config.check_n(n), exclude=exclude)
        because: list[tuple[str, ...] | None] = [None] * len(best)
        if explain is not None and len(best):
            because = self._because(explain[0], explain[1](best))
        movies = self._movies(self.items.id_of(best))
        ranked = (Scored(m, float(scores[i]), b) for m, i, b in zip(movies, best, because))
        if len(best):
            return Ranked(ranked)
        known = len(self.items)
        if len(np.unique(exclude)) >= known:
            what = "the only movie" if known == 1 else f"all {known:,} movies"
            return Ranked((), f"{who} {what} the model knows, so none is left to recommend")
        return Ranked((), "the model gives no usable score to any other movie")

    def _because(
        self, liked: np.ndarray, contributions: np.ndarray
    ) -> list[tuple[str, ...] | None]:
        """Each recommended movie's reasons from ``contributions`` (liked × recommended)."""
        liked_titles = [self.movie(int(m)).title for m in self.items.id_of(liked)]
        out: list[tuple[str, ...] | None] = []
        for column in contributions.T:
            order = np.argsort(-column, kind="stable")[:MAX_REASONS]
            # A reason is a liked movie that adds at least half as much as the strongest one.
            cutoff = REASON_SHARE * column[order[0]]
            chosen = [liked_titles[j] for j in order if column[j] > 0 and column[j] >= cutoff]
            out.append(tuple(chosen or [liked_titles[order[0]]]))
        return out

    def recommend(self, liked: Sequence[MovieRef], n: int = 10, explain: bool = False) -> Ranked:
        """Top-``n`` movies for someone who liked ``liked`` (titles or ids), folded in without
        retraining; liked movies never come back (so when they are all the model knows, the
        list is empty and :attr:`Ranked.why_empty` says so). ``explain`` adds ``because``."""
        _, indices = self._liked(liked)
        weight = self.favourite_weight
        known = len(self.items)
        scores = self.model.liked_scores(indices, weight, known)
        explainer: Explainer = (
            indices,
            lambda best: self.model.liked_contributions(indices, weight, known, best),
        )
        return self._ranked(scores, indices, n, explainer if explain else None, "you like")

    def score(self, liked: Sequence[MovieRef], ref: MovieRef) -> Scored:
        """The preference score of someone who liked ``liked`` for one movie; ``liked`` on the
        result says whether the movie is one of them (its score then says little: EASE and
        ItemKNN never count a movie towards itself, so one like alone scores 0)."""
        likes, indices = self._liked(liked)
        movie = self.movie(ref)
        scores = self.model.liked_scores(indices, self.favourite_weight, len(self.items))
        is_liked = any(m.movie_id == movie.movie_id for m in likes)
        return Scored(movie, float(scores[self._item_index(movie)]), liked=is_liked)

    # ---- a profile's ratings: likes, dislikes and hidden movies ---------------------------
    def _one_row(self, indices: np.ndarray, weights: np.ndarray) -> sp.csr_matrix:
        """A one-row matrix of ``weights`` at the distinct ``indices`` (in any order)."""
        order = np.argsort(indices, kind="stable")
        return one_row(np.asarray(indices)[order], np.asarray(weights)[order], len(self.items))

    def _known(self, refs: Iterable[MovieRef]) -> tuple[np.ndarray, np.ndarray]:
        """The ``movie_id``\\ s of ``refs`` and their item indices (−1: a movie this model
        does not know, e.g. rated with another dataset's model)."""
        ids = np.array(
            [int(r) if isinstance(r, (int, np.integer)) else self.movie(r).movie_id for r in refs],
            dtype=np.int64,
        )
        return ids, self.items.lookup(ids)

    @cached_property
    def _blank_scores(self) -> np.ndarray:
        """The fold-in of an empty row (what a dislike's pull is measured from), made once."""
        blank = self._one_row(np.zeros(0, dtype=np.int32), np.zeros(0))
        return np.asarray(self.model.fold_in_scores(blank)[0])

    def taste_scores(self, taste: Taste) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix]:
        """One person's scores for every movie the model knows (by item index), the item
        indices they rated or hid (never to be offered), and the row of their likes.

        Ratings ≥ ``min_rating`` (the dataset's rule) are likes, each weighing what the same
        rating weighs for a user of the dataset (its confidence under the weighting). Lower
        ratings are dislikes and count against: the scores are the fold-in of the likes
        minus what the dislikes add to a fold-in (the fold-in of the dislikes, each weighing
        a favourite's weight, less that of an empty row), so movies the model ties to a
        disliked one sink. Movies the model does not know are left out."""
        from .datasets.rules import is_kept
        from .interactions import confidence

        _, indices = self._known(taste.ratings)
        stars = np.array(list(taste.ratings.values()), dtype=np.float32)
        known = indices >= 0
        indices, stars = indices[known], stars[known]
        kept = is_kept(stars, self.settings.min_rating)
        if not kept.any():
            raise MovieRecError(
                f"no movie is rated {self.settings.min_rating:g} stars or more yet, so there "
                "is no taste to start from; rate a movie you liked"
            )
        likes = self._one_row(indices[kept], confidence(stars[kept], self.settings.weighting))
        scores = self.model.fold_in_scores(likes)[0].astype(np.float64)
        if not kept.all():  # the dislikes' row is of one weight: scored from its indices
            disliked = np.sort(indices[~kept])
            against = self.model.liked_scores(disliked, self.favourite_weight, len(self.items))
            scores -= against - self._blank_scores
        _, hidden = self._known(taste.hidden)
        exclude = np.union1d(indices, hidden[hidden >= 0])
        return scores, exclude, likes

    def recommend_for_profile(
        self,
        ratings: Mapping[MovieRef, float],
        hidden: Collection[MovieRef] = (),
        n: int = 10,
        explain: bool = False,
    ) -> Ranked:
        """Top-``n`` movies for someone who gave ``ratings`` (stars by title or ``movie_id``)
        and is not interested in ``hidden``, folded in without retraining: likes draw, dislikes
        push away (see :meth:`taste_scores`); nothing rated or hidden comes back. ``explain``
        gives each the liked movies behind it."""
        scores, exclude, likes = self.taste_scores(Taste(ratings, hidden))
        explainer: Explainer = (likes.indices, lambda best: self.model.contributions(likes, best))
        return self._ranked(scores, exclude, n, explainer if explain else None, "you rated or hid")

    def recommend_for_group(self, tastes: Sequence[Taste], n: int = 10) -> GroupPicks:
        """Movie night: the top-``n`` movies for 2 to 6 people together, by average without
        misery (:mod:`movierec.movie_night`: a movie anyone would like less than three
        quarters of the candidates is dropped; the rest ranked by the members' mean
        normalised score). Nothing any member rated or hid comes back."""
        check_group_size(len(tastes))
        config.check_n(n)
        rows, excluded = [], []
        for taste in tastes:
            try:
                scores, exclude, _ = self.taste_scores(taste)
            except MovieRecError as exc:
                if not taste.name:
                    raise
                raise MovieRecError(f"{taste.name}: {exc}") from None
            rows.append(scores)
            excluded.append(exclude)
        ranking = average_without_misery(np.vstack(rows), np.unique(np.concatenate(excluded)), n)
        movies = self._movies(self.items.id_of(ranking.items))
        picks = (
            GroupPick(movie, float(score), tuple(float(v) for v in column), serves)
            for movie, score, column, serves in zip(
                movies, ranking.group_scores, ranking.member_scores.T, ranking.serves
            )
        )
        why = (
            "the members have rated or hidden every movie the model knows"
            if ranking.candidates == 0
            else f"every one of the {ranking.candidates:,} candidates is below some member's "
            f"{MISERY_PERCENTILE}"
        )
        return GroupPicks(picks, ranking.candidates, ranking.vetoed, why)

    def _user_index(self, user_id: int) -> int:
        index = self.users.find(int(user_id))
        if index is None:
            raise MovieRecError(f"user {user_id} has no kept ratings in {self.dataset.name}")
        return index

    def recommend_for_user(self, user_id: int, n: int = 10, explain: bool = False) -> Ranked:
        """Top-``n`` movies for a user of the dataset, excluding everything they rated (also
        below ``min_rating``: a movie rated 1 star is not a discovery); empty, with
        :attr:`Ranked.why_empty`, when they rated every movie the model knows."""
        index = self._user_index(user_id)
        row = self.interactions.matrix[index]
        scores = self.model.scores(np.array([index]), row)[0]
        rated = self.dataset.column("movie_id")[self.dataset.column("user_id") == user_id]
        known = self.items.lookup(rated)
        exclude = np.union1d(row.indices, known[known >= 0])
        explainer: Explainer = (row.indices, lambda best: self.model.contributions(row, best))
        return self._ranked(
            scores, exclude, n, explainer if explain else None, f"user {user_id} rated"
        )

    def score_for_user(self, user_id: int, ref: MovieRef) -> Scored:
        """A dataset user's preference score for one movie."""
        index = self._user_index(user_id)
        movie = self.movie(ref)
        row = self.interactions.matrix[index]
        return Scored(
            movie, float(self.model.scores(np.array([index]), row)[0][self._item_index(movie)])
        )

    @classmethod
    def train_with_user(
        cls,
        dataset: Dataset,
        liked: Sequence[MovieRef],
        settings: Settings | None = None,
        show_progress: bool = False,
    ) -> tuple[Recommender, int]:
        """The course notebook's way: add a new user who gave ``liked`` the top rating to the
        data, then train. Returns the recommender and the new user's ``user_id``."""
        settings = settings or default_settings(dataset)
        movie_ids = list(dict.fromkeys(resolve_movies(dataset, liked, settings.min_rating)))
        if not movie_ids:
            raise MovieRecError("no liked movies were given; name at least one (--like TITLE)")
        import pandas as pd

        ratings = dataset.ratings
        user_ids = ratings["user_id"].to_numpy()
        user_id = int(user_ids.max()) + 1
        if user_id > np.iinfo(np.int64).max:  # the largest id is taken: use the smallest free one
            taken = np.unique(user_ids)
            gaps = np.flatnonzero(taken != np.arange(len(taken)))
            user_id = int(gaps[0]) if len(gaps) else len(taken)
        new_rows = pd.DataFrame(
            {
                "user_id": np.full(len(movie_ids), user_id, dtype=np.int64),
                "movie_id": np.array(movie_ids, dtype=np.int64),
                "rating": np.full(len(movie_ids), float(ratings["rating"].max()), dtype=np.float32),
            }
        )
        if "timestamp" in ratings:  # just after the last rating: deterministic, and the latest
            new_rows["timestamp"] = np.int64(ratings["timestamp"].max() + 1)
        extended = Dataset(
            dataset.name,
            pd.concat([ratings, new_rows], ignore_index=True),
            dataset.movies,
            f"{dataset.fingerprint}+user{user_id}",
            dataset.source,
        )
        return cls.train(extended, settings, show_progress), user_id

    def with_new_user(
        self, liked: Sequence[MovieRef], show_progress: bool = False
    ) -> tuple[Recommender, int]:
        """Add a user who gave ``liked`` the top rating to this recommender's data and retrain
        with the same settings (see :meth:`train_with_user`)."""
        movies, _ = self._liked(liked)  # the same checks as recommend()
        return Recommender.train_with_user(
            self.dataset, [m.movie_id for m in movies], self.settings, show_progress
        )

    # ---- saving and loading ---------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the model, vocabularies, settings and dataset identity to ``directory`` (see
        :mod:`movierec.bundle`; no pickle). The folder must be missing, empty or a movierec
        model, which is replaced whole: a failed save leaves it as it was."""
        return bundle.write(self.trained, directory)

    def summary(self) -> Summary:
        """The data in numbers: ``{"stats": Stats as a dict, "ratings": [[rating, all, kept],
        …]}`` (see :mod:`movierec.datasets.summary`), as kept with the model (a copy)."""
        saved = self.trained.summary
        return {"stats": dict(saved["stats"]), "ratings": [list(r) for r in saved["ratings"]]}

    @classmethod
    def load(cls, directory: str | Path, dataset: Dataset | None = None) -> Recommender:
        """Load a saved recommender (see :func:`movierec.bundle.read`): without ``dataset`` it
        answers from the folder alone, never reading ratings (``recommend_for_user`` and
        retraining then need the dataset); ModelError if it is corrupt, from a newer movierec,
        or was trained on other data."""
        return cls(*bundle.read(Path(directory), dataset))


def _same_settings(settings: Settings, n_items: int) -> Settings:
    return settings


def resolve_all(
    dataset: Dataset, refs: Sequence[MovieRef], min_rating: float = config.MIN_RATING
) -> list[Resolution]:
    """Each title (or id) resolved without any model, so typos fail before a training run,
    with the notes a person should see (see :meth:`Recommender.resolve`)."""
    catalogue = Catalogue.from_dataset(dataset, min_rating)
    return [catalogue.resolve(ref, dataset.name) for ref in refs]


def resolve_movies(
    dataset: Dataset, refs: Sequence[MovieRef], min_rating: float = config.MIN_RATING
) -> list[int]:
    """``movie_id``s of titles (or ids) without any model, so typos fail before a training run."""
    return [resolution.movie_id for resolution in resolve_all(dataset, refs, min_rating)]
