"""The course notebook's story, end to end: load, look, add yourself, train, score, similar,
recommend — with the model's indices mapped back to movies correctly.

Each step computes plain data; :func:`run_demo` prints each part (when given a console) as soon
as it is known, so the data shows before the model trains.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .analysis import Stats, popular, stats
from .console import clean
from .console import markup_safe as safe
from .datasets import Dataset
from .recommender import MovieRef, Recommender, resolve_all
from .settings import default_settings
from .titles import notes_of

STEP_NAMES = {
    "stats_and_popular": "stats and popular",
    "add_user_and_train": "add the user and train",
    "score_similar_recommend": "score, similar, recommend",
}


class _Clock:
    """Seconds spent in each named step."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round(now - self._last, 4)
        self._last = now


def _show_data(show: Any, dataset: Dataset, summary: Stats, top: Any, min_rating: float) -> None:
    from rich.table import Table
    from rich.text import Text

    show.print(
        f"[bold]1. The data[/bold] — {safe(dataset.name)}: {summary.ratings_total:,} ratings, "
        f"{summary.ratings_kept:,} kept at rating ≥ {min_rating:g} ({summary.kept_ratio:.2%}); "
        f"{summary.users:,} users, {summary.movies:,} movies."
    )
    table = Table(title="2. The 30 most popular movies", title_justify="left", box=None)
    table.add_column("#", justify="right")
    table.add_column("title")
    table.add_column("kept ratings", justify="right")
    for rank, row in enumerate(top.itertuples(), start=1):
        table.add_row(str(rank), Text(clean(row.title)), f"{row.count:,}")
    show.print(table)


def _show_model(show: Any, story: dict[str, Any], model_description: str, timings: dict) -> None:
    user_id, n = story["new_user_id"], len(story["similar"])
    show.print(
        "[bold]3. You[/bold], a new user who loves: "
        + "; ".join(safe(m["title"]) for m in story["favourites"])
    )
    show.print(
        f"   Added as user {user_id} and trained {safe(model_description)} "
        f"({timings['add_user_and_train']:.2f} s), as the notebook does."
    )
    score = story["score"]
    show.print(
        f"[bold]4. Preference score[/bold] for {safe(score['title'])}: "
        f"{score['trained_in']:.4f} (as user {user_id}), {score['folded_in']:.4f} "
        "(folded in from your five, no retraining)"
    )
    show.print(
        f"[bold]5. Similar to {safe(story['favourites'][0]['title'])}[/bold]: "
        + "; ".join(safe(s["title"]) for s in story["similar"])
    )
    show.print("[bold]6. Recommended for you[/bold] (with reasons):")
    for rank, r in enumerate(story["recommended"], start=1):
        because = ", ".join(safe(b) for b in r.get("because", ()))
        show.print(f"   {rank:2d}. {safe(r['title'])}  [dim]because you liked {because}[/dim]")
    show.print(
        f"   Your trained-in recommendations (as user {user_id}) agree with the folded-in ones "
        f"on {story['overlap']} of the top {n}."
    )


def _model_story(
    dataset: Dataset, favourites: Sequence[int], n: int, min_rating: float, clock: _Clock
) -> tuple[dict[str, Any], str]:
    """Steps 3–6: add the user, train, score, similar, recommend (trained in and folded in)."""
    settings = default_settings(dataset, min_rating)
    model, user_id = Recommender.train_with_user(dataset, favourites, settings)
    clock.lap("add_user_and_train")
    liked = [model.movie(movie_id) for movie_id in favourites]
    liked_ids = [m.movie_id for m in liked]
    probe = model.similar(liked[0].movie_id, 1)[0].movie
    user_score = model.score_for_user(user_id, probe.movie_id)
    fold_score = model.score(liked_ids, probe.movie_id)
    similar = model.similar(liked[0].movie_id, n)
    retrained_recs = model.recommend_for_user(user_id, n)
    folded_recs = model.recommend(liked_ids, n, explain=True)
    clock.lap("score_similar_recommend")
    overlap = {r.movie.movie_id for r in retrained_recs} & {r.movie.movie_id for r in folded_recs}
    story = {
        "favourites": [m.to_dict() for m in liked],
        "new_user_id": user_id,
        "score": {
            "movie_id": probe.movie_id,
            "title": probe.title,
            "trained_in": round(user_score.score, 6),
            "folded_in": round(fold_score.score, 6),
        },
        "similar": [s.to_dict() for s in similar],
        "recommended": [r.to_dict() for r in folded_recs],
        "recommended_trained_in": [r.to_dict() for r in retrained_recs],
        "overlap": len(overlap),
    }
    return story, model.describe()


def run_demo(
    dataset: Dataset,
    favourites: Sequence[MovieRef],
    n: int = 10,
    min_rating: float = 3,
    show: Any = None,
    notify: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the story on ``dataset``; print it to a rich console ``show`` when given; return
    every result (and the seconds each step took) as plain data. Every favourite (a title or a
    ``movie_id``) is checked before anything is printed; ``notify`` gets each note on a choice
    made (the most rated of several movies with one title)."""
    resolved = resolve_all(dataset, favourites, min_rating)
    for note in notes_of(resolved):
        if notify is not None:
            notify(note)
    favourite_ids = [r.movie_id for r in resolved]
    clock = _Clock()
    summary = stats(dataset, min_rating)
    top = popular(dataset, 30, min_rating)
    clock.lap("stats_and_popular")
    if show is not None:
        _show_data(show, dataset, summary, top, min_rating)
    story, model_description = _model_story(dataset, favourite_ids, n, min_rating, clock)
    if show is not None:
        _show_model(show, story, model_description, clock.timings)
        spent = "; ".join(f"{STEP_NAMES[k]} {v:.2f} s" for k, v in clock.timings.items())
        show.print(f"[dim]Timings: {spent}[/dim]")
    return {
        "stats": summary.to_dict(),
        "popular": top[["movie_id", "title", "count"]].to_dict("records"),
        **story,
        "timings": clock.timings,
    }
