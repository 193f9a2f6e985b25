"""The course notebook's story, end to end: load, look, add yourself, train, score, similar,
recommend — with the model's indices mapped back to movies correctly."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .analysis import popular, stats
from .console import clean
from .console import markup_safe as safe
from .datasets import Dataset
from .recommender import Recommender
from .settings import default_settings


def run_demo(
    dataset: Dataset,
    favourites: Sequence[str],
    n: int = 10,
    min_rating: float = 3,
    show: Any = None,
) -> dict[str, Any]:
    """Run the story on ``dataset``; print it to a rich console ``show`` when given; return
    every result (and the seconds each step took) as plain data."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(now - clock, 4)
        clock = now

    def say(text: str) -> None:
        if show is not None:
            show.print(text)

    summary = stats(dataset, min_rating)
    top = popular(dataset, 30, min_rating)
    lap("stats_and_popular")
    say(
        f"[bold]1. The data[/bold] — {safe(dataset.name)}: {summary.ratings_total:,} ratings, "
        f"{summary.ratings_kept:,} kept at rating ≥ {min_rating:g} ({summary.kept_ratio:.2%}); "
        f"{summary.users:,} users, {summary.movies:,} movies."
    )
    if show is not None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title="2. The 30 most popular movies", title_justify="left", box=None)
        table.add_column("#", justify="right")
        table.add_column("title")
        table.add_column("kept ratings", justify="right")
        for rank, row in enumerate(top.itertuples(), start=1):
            table.add_row(str(rank), Text(clean(row.title)), f"{row.count:,}")
        show.print(table)

    settings = default_settings(dataset, min_rating)
    model, user_id = Recommender.train_with_user(dataset, favourites, settings)
    lap("add_user_and_train")
    liked = [model.movie(title) for title in favourites]
    liked_ids = [m.movie_id for m in liked]
    say("[bold]3. You[/bold], a new user who loves: " + "; ".join(safe(m.title) for m in liked))
    say(
        f"   Added as user {user_id} and trained {settings.model} "
        f"({timings['add_user_and_train']:.2f} s), as the notebook does."
    )

    probe = model.similar(liked[0].movie_id, 1)[0].movie
    user_score = model.score_for_user(user_id, probe.movie_id)
    fold_score = model.score(liked_ids, probe.movie_id)
    similar = model.similar(liked[0].movie_id, n)
    retrained_recs = model.recommend_for_user(user_id, n)
    folded_recs = model.recommend(liked_ids, n, explain=True)
    lap("score_similar_recommend")
    overlap = len(
        {r.movie.movie_id for r in retrained_recs} & {r.movie.movie_id for r in folded_recs}
    )

    say(
        f"[bold]4. Preference score[/bold] for {safe(probe.title)}: {user_score.score:.4f} "
        f"(as user {user_id}), {fold_score.score:.4f} (folded in from your five, no retraining)"
    )
    say(
        f"[bold]5. Similar to {safe(liked[0].title)}[/bold]: "
        + "; ".join(safe(s.movie.title) for s in similar)
    )
    say("[bold]6. Recommended for you[/bold] (with reasons):")
    for rank, r in enumerate(folded_recs, start=1):
        say(
            f"   {rank:2d}. {safe(r.movie.title)}  "
            f"[dim]because you liked {', '.join(safe(b) for b in r.because or ())}[/dim]"
        )
    say(
        f"   Your trained-in recommendations (as user {user_id}) agree with the folded-in ones "
        f"on {overlap} of the top {n}."
    )
    steps = {
        "stats_and_popular": "stats and popular",
        "add_user_and_train": "add the user and train",
        "score_similar_recommend": "score, similar, recommend",
    }
    spent = "; ".join(f"{steps[step]} {seconds:.2f} s" for step, seconds in timings.items())
    say(f"[dim]Timings: {spent}[/dim]")
    return {
        "stats": summary.to_dict(),
        "popular": top[["movie_id", "title", "count"]].to_dict("records"),
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
        "overlap": overlap,
        "timings": timings,
    }
