"""Build the report: every chart as a PNG and an ``index.html`` that shows them, in one folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .. import analysis, config, progress
from .._version import __version__
from ..atomic import claim_folder, filling
from ..datasets import Dataset
from ..recommender import Recommender
from . import charts, html
from .results import EvaluationResults
from .taste_map import factor_model, vector_size

"""Told ``(what is being done, steps done, steps in all)`` before each step."""

INDEX = "index.html"
DATA_CHARTS = (
    "ratings_distribution.png",
    "long_tail.png",
    "top_movies.png",
    "genres.png",
    "ratings_per_user.png",
    "factor_map.png",
)
EVALUATION_CHART = "evaluation.png"


@dataclass(frozen=True)
class Report:
    """A written report: its folder, its page and its charts."""

    directory: Path
    index: Path
    images: tuple[Path, ...]


def prepare_output(out: str | Path) -> Path:
    """The report folder, claimed before any slow work: missing (created), empty, or a
    movierec report (see :func:`movierec.atomic.claim_folder`); anything else is refused. Only
    the files it holds now may be replaced when the report is written."""
    return claim_folder(out, "report")


def _stats_rows(dataset: Dataset, min_rating: float) -> list[list[object]]:
    summary = analysis.stats(dataset, min_rating)
    per_user = analysis.user_counts(dataset, min_rating)
    per_movie = analysis.popularity(dataset, min_rating)
    all_per_user = dataset.ratings.groupby("user_id").size()
    all_per_movie = dataset.ratings.groupby("movie_id").size()
    density_all = summary.ratings_total / max(summary.users_total * summary.movies_total, 1)
    density_kept = summary.ratings_kept / max(summary.users * summary.movies, 1)
    return [
        [
            "ratings",
            f"{summary.ratings_total:,}",
            f"{summary.ratings_kept:,} ({summary.kept_ratio:.1%})",
        ],
        ["users", f"{summary.users_total:,}", f"{summary.users:,}"],
        ["movies", f"{summary.movies_total:,}", f"{summary.movies:,}"],
        ["density (ratings ÷ users × movies)", f"{density_all:.2%}", f"{density_kept:.2%}"],
        [
            "median ratings per user",
            f"{np.median(all_per_user):,.0f}",
            f"{np.median(per_user):,.0f}",
        ],
        [
            "median ratings per movie",
            f"{np.median(all_per_movie):,.0f}",
            f"{np.median(per_movie):,.0f}",
        ],
    ]


def _model_rows(recommender: Recommender) -> list[list[object]]:
    settings = recommender.settings
    algorithm = f"{recommender.model.family()} (movierec's {settings.model} model)"
    rows: list[list[object]] = [["model", recommender.describe()], ["algorithm", algorithm]]
    rows += [[name, value] for name, value in settings.params.items()]
    rows += [
        ["weighting", settings.weighting],
        ["min rating", f"{settings.min_rating:g}"],
        ["users × movies", f"{len(recommender.users):,} × {len(recommender.items):,}"],
    ]
    return rows


def _ratings_section(dataset: Dataset, min_rating: float, model: str) -> html.Section:
    summary = analysis.stats(dataset, min_rating)
    distribution = analysis.rating_distribution(dataset, min_rating)
    lowest, highest = distribution.index.min(), distribution.index.max()
    return html.Section(
        "ratings",
        "Ratings before and after the filter",
        f"Ratings run from {lowest:g} to {highest:g} stars. Keeping those ≥ {min_rating:g} "
        f"keeps {summary.ratings_kept:,} of {summary.ratings_total:,} "
        f"({summary.kept_ratio:.1%}); "
        f'what is left is read as "liked", the implicit feedback the model learns from ({model}).',
        "ratings_distribution.png",
        f"Bar chart of ratings per star value: grey bars before the filter, blue bars after "
        f"keeping ratings of {min_rating:g} stars or more.",
    )


def _long_tail_section(dataset: Dataset, min_rating: float) -> html.Section:
    curve = analysis.long_tail(dataset, min_rating)
    top20 = analysis.top_share(curve, 0.2)
    half = float(np.interp(0.5, curve["rating_share"], curve["movie_share"]))
    return html.Section(
        "long-tail",
        "The long tail of popularity",
        f"Rank the movies by kept ratings: the top 20% of them hold {top20:.0%} of the kept "
        f"ratings, and half of all kept ratings go to just {half:.1%} of the movies. A "
        "recommender that only echoes popularity looks good on paper; the tail is where "
        "personal taste shows.",
        "long_tail.png",
        f"Cumulative share of kept ratings against the share of movies, most popular first; "
        f"the top 20% of movies hold {top20:.0%}.",
    )


def _top_movies_section(dataset: Dataset, min_rating: float) -> html.Section:
    top = analysis.popular(dataset, 1, min_rating)
    return html.Section(
        "top-movies",
        "The 30 most popular movies",
        f"Movies with the most kept ratings; {top['title'].iloc[0]} leads with "
        f"{int(top['count'].iloc[0]):,}.",
        "top_movies.png",
        "Horizontal bar chart of the 30 movies with the most kept ratings, most popular on top.",
    )


def _genres_section(dataset: Dataset, min_rating: float) -> html.Section:
    genres = analysis.genre_counts(dataset, min_rating)
    return html.Section(
        "genres",
        "Ratings per genre",
        f"Kept ratings per genre. A movie has up to several genres and its ratings count for "
        f"each, so the bars add up to more than the ratings. {genres.index[0]} and "
        f"{genres.index[1]} lead.",
        "genres.png",
        f"Horizontal bar chart of kept ratings per genre, from {genres.index[0]} down to "
        f"{genres.index[-1]}.",
    )


def _users_section(dataset: Dataset, min_rating: float) -> html.Section:
    per_user = analysis.user_counts(dataset, min_rating)
    return html.Section(
        "users",
        "Ratings per user",
        f"Most users rate a few dozen movies and a few rate hundreds or thousands: the "
        f"median user has {np.median(per_user):,.0f} kept ratings, the most active "
        f"{int(per_user.max()):,} and the least {int(per_user.min()):,} (the filter can leave "
        "a user with few). The x axis is logarithmic.",
        "ratings_per_user.png",
        "Histogram of kept ratings per user on a logarithmic axis, with the median, the fewest "
        "and the most marked.",
    )


def _taste_map_section(recommender: Recommender, map_model: Recommender) -> html.Section:
    borrowed = (
        f" The served model, {recommender.describe()}, has no low-dimensional factors, so "
        f"this map comes from {map_model.describe()}, trained on the same ratings for the "
        "purpose (once: later reports take it from movierec's model cache)."
        if map_model is not recommender
        else ""
    )
    groups = ", ".join(analysis.GENRE_GROUPS)
    return html.Section(
        "factor-map",
        "The model's taste map",
        f"Each movie's {vector_size(map_model)} ALS item factors, scaled to unit length (the "
        "space `similar` uses for ALS) and projected onto their first two principal components "
        "(PCA), for the most popular movies. Movies close together are liked by the same "
        f"people. Colour shows a broad genre: the first of {groups} that one of the movie's "
        "genres falls in (so Star Wars is Sci-Fi, Forrest Gump comedy)." + borrowed,
        "factor_map.png",
        "Scatter plot of movies on the first two principal components of their ALS factors, "
        "coloured by main genre, with some well-known titles labelled.",
    )


def _sections(
    dataset: Dataset, recommender: Recommender, map_model: Recommender, min_rating: float
) -> list[html.Section]:
    """The page's sections, one per chart of :data:`DATA_CHARTS`, in the same order."""
    return [
        _ratings_section(dataset, min_rating, recommender.describe()),
        *(
            section(dataset, min_rating)
            for section in (
                _long_tail_section,
                _top_movies_section,
                _genres_section,
                _users_section,
            )
        ),
        _taste_map_section(recommender, map_model),
    ]


def _chart_steps(
    dataset: Dataset,
    map_model: Recommender,
    min_rating: float,
    evaluation: EvaluationResults | None,
) -> list[tuple[str, str, Callable[[], Figure]]]:
    """``(what is done, file name, drawing)`` for each chart, the evaluation's when given."""
    steps: list[tuple[str, str, Callable[[], Figure]]] = [
        (
            "Drawing the ratings distribution",
            DATA_CHARTS[0],
            partial(charts.ratings_distribution, dataset, min_rating),
        ),
        ("Drawing the long tail", DATA_CHARTS[1], partial(charts.long_tail, dataset, min_rating)),
        (
            "Drawing the top 30 movies",
            DATA_CHARTS[2],
            partial(charts.top_movies, dataset, 30, min_rating),
        ),
        ("Drawing ratings per genre", DATA_CHARTS[3], partial(charts.genres, dataset, min_rating)),
        (
            "Drawing ratings per user",
            DATA_CHARTS[4],
            partial(charts.ratings_per_user, dataset, min_rating),
        ),
        ("Mapping the ALS factors", DATA_CHARTS[5], partial(charts.factor_map, map_model)),
    ]
    if evaluation is not None:
        steps.append(
            ("Drawing the evaluation", EVALUATION_CHART, partial(charts.evaluation, evaluation))
        )
    return steps


def build_report(
    dataset: Dataset,
    recommender: Recommender,
    out: str | Path,
    min_rating: float = config.MIN_RATING,
    evaluation: EvaluationResults | None = None,
) -> Report:
    """Write every chart and ``index.html`` to ``out``; ``evaluation`` adds its section.

    Every file is drawn into a new folder and moved into ``out`` at the end, the page last
    (:func:`movierec.atomic.filling`): a failure (a full disk, an interruption) leaves ``out``
    as it was, and a file someone else put there meanwhile is never replaced. Progress: one
    unit per chart (:mod:`movierec.progress`).
    """
    directory = prepare_output(out)
    with filling(directory, last=INDEX) as staging:  # moved in together, the page last
        images = _write_report(staging, dataset, recommender, min_rating, evaluation)
    return Report(directory, directory / INDEX, tuple(directory / p.name for p in images))


def _write_report(
    directory: Path,
    dataset: Dataset,
    recommender: Recommender,
    min_rating: float,
    evaluation: EvaluationResults | None,
) -> list[Path]:
    """Every chart and the page into ``directory``; returns the charts written."""
    map_model = factor_model(recommender)
    plot_evaluation = evaluation is not None and bool(evaluation.chart_keys())
    steps = _chart_steps(dataset, map_model, min_rating, evaluation if plot_evaluation else None)
    what = f"{len(steps)} charts of the report"
    with progress.step(
        f"drawing {what}",
        done=f"drew {what}",
        total=len(steps),
        unit="charts",
        detail=f"on {dataset.name}",
    ) as step:
        images = []
        for what_now, filename, draw in steps:
            step.update(status=what_now[:1].lower() + what_now[1:])
            images.append(charts.save_png(draw(), directory / filename))
            step.advance()
    page = html.render(
        title=f"MovieLens {dataset.name}: a movierec report",
        subtitle=f"Ratings ≥ {min_rating:g} kept · generated {time.strftime('%Y-%m-%d %H:%M')} "
        f"by movierec {__version__}",
        stats_rows=_stats_rows(dataset, min_rating),
        model_rows=_model_rows(recommender),
        sections=_sections(dataset, recommender, map_model, min_rating),
        evaluation=html.evaluation_html(evaluation, EVALUATION_CHART if plot_evaluation else None)
        if evaluation is not None
        else "",
        footer=f"Data: {dataset.name} by GroupLens (grouplens.org), cited as its README asks. "
        "Charts by movierec with matplotlib.",
    )
    html.write_text_atomic(directory / INDEX, page)
    return images
