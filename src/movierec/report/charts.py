"""The report's charts: one function per chart, each returning a matplotlib ``Figure``.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot, no global backend
state), so they render headless; :func:`save_png` writes one atomically. The numbers come from
:mod:`movierec.analysis` and :mod:`.taste_map`; this module only draws them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter
from matplotlib.transforms import Bbox

from .. import analysis, config
from ..atomic import write_atomically
from ..datasets import Dataset
from ..datasets.title_format import article_first, split_year
from ..errors import MovieRecError
from ..recommender import Recommender
from .results import EvaluationResults
from .taste_map import item_map

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType  # matplotlib ≥ 3.9; only for the checker

DPI = 130
STYLE: dict[RcKeyType, Any] = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.axisbelow": True,
}
KEPT_COLOUR = "#1f77b4"
GREY = "#7f7f7f"
TAB10 = [  # matplotlib's tab10
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    GREY,
    "#bcbd22",
    "#17becf",
]
DROPPED_COLOUR = "#b0b0b0"
_ALTERNATE = re.compile(r"\s*\([^()]*\)")


@contextmanager
def _style() -> Iterator[None]:
    with rc_context(STYLE):
        yield


def _figure(width: float, height: float, constrained: bool = True) -> Figure:
    """A figure drawn by Agg, whatever backend pyplot may be using."""
    figure = Figure(figsize=(width, height), layout="constrained" if constrained else None)
    FigureCanvasAgg(figure)
    return figure


def _thousands(value: float, _position: int = 0) -> str:
    return f"{value:,.0f}"


def display_title(title: str, max_length: int = 42, year: bool = True) -> str:
    """A MovieLens title as people write it: "Matrix, The (1999)" → "The Matrix (1999)",
    alternate titles in parentheses dropped ("Seven (a.k.a. Se7en)" → "Seven"), shortened with
    an ellipsis past ``max_length`` characters."""
    name, release = split_year(title)
    suffix = f"({release:04d})" if release is not None else ""
    name = article_first(_ALTERNATE.sub("", name).strip() or name)
    room = max_length - (len(suffix) + 1 if year and suffix else 0)
    if len(name) > room:
        name = name[: room - 1].rstrip(" :,-") + "…"
    return f"{name} {suffix}" if year and suffix else name


def save_png(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` as a PNG at ``path`` atomically (a temporary file, then a rename)."""
    return write_atomically(
        path, lambda out: figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    )


def ratings_distribution(dataset: Dataset, min_rating: float = config.MIN_RATING) -> Figure:
    """Ratings per star value before and after the ``min_rating`` filter (paired bars)."""
    table = analysis.rating_distribution(dataset, min_rating)
    kept, total = int(table["kept"].sum()), int(table["all"].sum())
    with _style():
        figure = _figure(8.5, 5)
        axes = figure.add_subplot()
        positions = np.arange(len(table))
        width = 0.4
        axes.bar(
            positions - width / 2,
            table["all"],
            width,
            color=DROPPED_COLOUR,
            label="before the filter (all ratings)",
        )
        axes.bar(
            positions + width / 2,
            table["kept"],
            width,
            color=KEPT_COLOUR,
            label=f"after the filter (rating ≥ {min_rating:g})",
        )
        axes.set_xticks(positions, [f"{value:g}" for value in table.index])
        axes.set_xlabel("rating (stars)")
        axes.set_ylabel("number of ratings")
        axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
        axes.grid(axis="x", visible=False)
        axes.set_title(f"Ratings by star value — {dataset.name}")
        axes.legend(
            loc="upper left",
            frameon=False,
            alignment="left",
            title=f"kept {kept:,} of {total:,} ratings ({kept / max(total, 1):.1%})",
        )
        axes.set_ylim(0, table["all"].max() * 1.2)
    return figure


def long_tail(
    dataset: Dataset, min_rating: float = config.MIN_RATING, marked_share: float = 0.2
) -> Figure:
    """The long-tail curve: the share of kept ratings held by the top x% of movies, with the
    ``marked_share`` point annotated."""
    curve = analysis.long_tail(dataset, min_rating)
    marked = analysis.top_share(curve, marked_share)
    half_movies = float(np.interp(0.5, curve["rating_share"], curve["movie_share"]))
    with _style():
        figure = _figure(8.5, 5.2)
        axes = figure.add_subplot()
        x = np.concatenate([[0.0], curve["movie_share"].to_numpy()]) * 100
        y = np.concatenate([[0.0], curve["rating_share"].to_numpy()]) * 100
        axes.plot(x, y, color=KEPT_COLOUR, linewidth=2.2, label="movies ranked by popularity")
        axes.plot(
            [0, 100],
            [0, 100],
            linestyle="--",
            color="grey",
            linewidth=1,
            label="if every movie were equally popular",
        )
        axes.fill_between(x, y, x, color=KEPT_COLOUR, alpha=0.08)
        axes.plot([marked_share * 100] * 2, [0, marked * 100], color="#d62728", linestyle=":")
        axes.plot([0, marked_share * 100], [marked * 100] * 2, color="#d62728", linestyle=":")
        axes.scatter([marked_share * 100], [marked * 100], color="#d62728", zorder=3, s=40)
        axes.annotate(
            f"the top {marked_share:.0%} of movies\nhold {marked:.0%} of the kept ratings",
            (marked_share * 100, marked * 100),
            xytext=(30, -45),
            textcoords="offset points",
            arrowprops={"arrowstyle": "->", "color": "#d62728"},
            color="#d62728",
        )
        axes.set_xlim(0, 100)
        axes.set_ylim(0, 101)
        axes.xaxis.set_major_formatter(PercentFormatter())
        axes.yaxis.set_major_formatter(PercentFormatter())
        axes.set_xlabel("top x% of movies (most popular first)")
        axes.set_ylabel("share of kept ratings")
        axes.set_title(f"The long tail — {dataset.name}")
        axes.text(
            0.98,
            0.04,
            f"half of all kept ratings go to {half_movies:.1%} of the {len(curve):,} movies",
            transform=axes.transAxes,
            ha="right",
            va="bottom",
        )
        axes.legend(loc="center right", frameon=False)
    return figure


def top_movies(dataset: Dataset, n: int = 30, min_rating: float = config.MIN_RATING) -> Figure:
    """The ``n`` most popular movies (kept ratings), as horizontal bars, most popular on top."""
    top = analysis.popular(dataset, n, min_rating)
    with _style():
        figure = _figure(9, 0.28 * len(top) + 1.6)
        axes = figure.add_subplot()
        positions = np.arange(len(top))
        axes.barh(positions, top["count"], color=KEPT_COLOUR, height=0.7)
        axes.set_yticks(positions, [display_title(t, max_length=56) for t in top["title"]])
        axes.margins(y=0.01)
        axes.invert_yaxis()
        axes.tick_params(axis="y", length=0)
        axes.grid(axis="y", visible=False)
        for position, count in zip(positions, top["count"], strict=True):
            axes.text(count, float(position), f" {count:,}", va="center", ha="left", fontsize=9)
        axes.set_xlim(0, top["count"].max() * 1.12)
        axes.xaxis.set_major_formatter(FuncFormatter(_thousands))
        axes.set_xlabel(f"kept ratings (rating ≥ {min_rating:g})")
        axes.set_title(f"The {len(top)} most popular movies — {dataset.name}", loc="left")
    return figure


def genres(dataset: Dataset, min_rating: float = config.MIN_RATING) -> Figure:
    """Kept ratings per genre (a movie with several genres counts for each)."""
    counts = analysis.genre_counts(dataset, min_rating)
    with _style():
        figure = _figure(8.5, 0.32 * len(counts) + 1.8)
        axes = figure.add_subplot()
        positions = np.arange(len(counts))
        axes.barh(positions, counts.to_numpy(), color=KEPT_COLOUR, height=0.7)
        axes.set_yticks(positions, list(counts.index))
        axes.margins(y=0.01)
        axes.invert_yaxis()
        axes.tick_params(axis="y", length=0)
        axes.grid(axis="y", visible=False)
        for position, count in zip(positions, counts.to_numpy(), strict=True):
            axes.text(count, float(position), f" {count:,}", va="center", ha="left", fontsize=9)
        axes.set_xlim(0, counts.max() * 1.15)
        axes.xaxis.set_major_formatter(FuncFormatter(_thousands))
        axes.set_xlabel("kept ratings (a movie with several genres counts for each)")
        axes.set_title(f"Ratings per genre — {dataset.name}", loc="left")
    return figure


def ratings_per_user(dataset: Dataset, min_rating: float = config.MIN_RATING) -> Figure:
    """How many kept ratings each user has: a histogram on log-spaced bins, with the median,
    the fewest and the most marked (a bar of one user is too low to see)."""
    counts = analysis.user_counts(dataset, min_rating).to_numpy()
    median = float(np.median(counts))
    with _style():
        figure = _figure(8.5, 5)
        axes = figure.add_subplot()
        bins = np.unique(np.geomspace(1, counts.max() + 1, 40).round()).tolist()
        axes.hist(counts, bins=bins, color=KEPT_COLOUR, edgecolor="white", linewidth=0.5)
        axes.set_xscale("log")
        axes.set_xlim(left=max(0.8, counts.min() * 0.7))
        axes.xaxis.set_major_formatter(FuncFormatter(_thousands))
        axes.axvline(median, color="#d62728", linestyle="--", linewidth=1.2)
        axes.text(
            median * 1.06,
            0.95,
            f"median {median:,.0f}",
            color="#d62728",
            transform=axes.get_xaxis_transform(),
            va="top",
        )
        for value, where, align in (
            (counts.min(), "fewest", "left"),
            (counts.max(), "most", "right"),
        ):
            users = int((counts == value).sum())
            axes.annotate(
                f"{where}: {value:,}\n({users:,} user{'s' if users != 1 else ''})",
                (value, 0),
                xytext=(0, 38),
                textcoords="offset points",
                ha=align,
                fontsize=9.5,
                color="#444444",
                arrowprops={"arrowstyle": "->", "color": "#444444", "lw": 0.8},
            )
        axes.set_xlabel(f"kept ratings per user (log scale; rating ≥ {min_rating:g})")
        axes.set_ylabel("number of users")
        axes.set_title(f"Ratings per user — {dataset.name} ({len(counts):,} users)")
    return figure


def _spread_apart(points: np.ndarray, order: np.ndarray, count: int, distance: float) -> list[int]:
    """Up to ``count`` rows of ``points``, taken in ``order``, each at least ``distance`` from
    those already taken (greedy)."""
    chosen: list[int] = []
    for row in order:
        if all(np.hypot(*(points[row] - points[other])) >= distance for other in chosen):
            chosen.append(int(row))
            if len(chosen) == count:
                break
    return chosen


# Label offsets tried in turn (points from the marker): beside, above/below, then further out.
_OFFSETS = [
    (8, 6),
    (-8, 6),
    (8, -6),
    (-8, -6),
    (0, 12),
    (0, -12),
    (18, 18),
    (-18, 18),
    (18, -18),
    (-18, -18),
    (0, 28),
    (0, -28),
    (34, 0),
    (-34, 0),
]


def _place_labels(figure: Figure, axes: Axes, points: np.ndarray, texts: list[str]) -> None:
    """Label ``points`` (data coordinates) with ``texts``, trying offsets until a label's box
    overlaps no other label, no other labelled marker and not the axes' edge; the least bad
    offset otherwise."""
    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):  # _figure attaches one; a figure from elsewhere
        canvas = FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()
    inside = axes.get_window_extent(renderer)
    markers = axes.transData.transform(points)
    placed: list[Bbox] = []
    for index, (point, text) in enumerate(zip(points, texts, strict=True)):
        best, best_cost = None, np.inf
        for dx, dy in _OFFSETS:
            label = axes.annotate(
                text,
                point,
                xytext=(dx, dy),
                textcoords="offset points",
                ha="left" if dx > 0 else "right" if dx < 0 else "center",
                va="bottom" if dy > 0 else "top" if dy < 0 else "center",
                fontsize=9.5,
                fontweight="bold",
                color="#222222",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
                arrowprops={"arrowstyle": "-", "color": "#444444", "lw": 0.7}
                if abs(dx) + abs(dy) > 20
                else None,
                zorder=5,
            )
            box = label.get_window_extent(renderer).expanded(1.04, 1.1)
            cost = sum(box.overlaps(other) for other in placed) * 10.0
            cost += (
                sum(box.contains(*marker) for j, marker in enumerate(markers) if j != index) * 3.0
            )
            cost += 0 if inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1) else 20
            cost += (abs(dx) + abs(dy)) / 100  # prefer labels close to their marker
            if cost < best_cost:
                if best is not None:
                    best.remove()
                best, best_cost, best_box = label, cost, box
            else:
                label.remove()
            if cost < 1:
                break
        placed.append(best_box)


GROUP_COLOURS = dict(
    zip(
        analysis.GENRE_GROUPS,
        ["#2ca02c", "#9467bd", "#d62728", "#8c564b", "#ff7f0e", "#1f77b4"],
        strict=True,
    )
)
"""One colour per genre group of :data:`movierec.analysis.GENRE_GROUPS`, the same on every map."""


def _scatter_by_genre(axes: Axes, points: pd.DataFrame, sizes: pd.Series) -> None:
    """One scatter per genre group, in :data:`~movierec.analysis.GENRE_GROUPS` order and
    "Other" (in grey) last, so the legend reads in that order."""
    present = set(points["main_genre"])
    genre_order = [g for g in [*analysis.GENRE_GROUPS, "Other"] if g in present]
    for genre in genre_order:
        rows = points["main_genre"] == genre
        colour = GROUP_COLOURS.get(genre, "#9a9a9a")
        axes.scatter(
            points.loc[rows, "x"],
            points.loc[rows, "y"],
            s=sizes[rows],
            c=colour,
            alpha=0.55,
            linewidths=0,
            label=genre,
        )


def _label_well_known(
    figure: Figure, axes: Axes, points: pd.DataFrame, sizes: pd.Series, labels: int
) -> None:
    """Fit the axes to the points, then ring and label up to ``labels`` of the most popular
    movies, spread across the map."""
    xy = points[["x", "y"]].to_numpy()
    span = np.ptp(xy, axis=0)
    margin = span * 0.06
    axes.set_xlim(xy[:, 0].min() - margin[0], xy[:, 0].max() + margin[0])
    axes.set_ylim(xy[:, 1].min() - margin[1], xy[:, 1].max() + margin[1])
    scaled = (xy - xy.min(axis=0)) / np.where(span > 0, span, 1)
    chosen = _spread_apart(scaled, np.arange(min(len(points), 120)), labels, 0.13)
    axes.scatter(
        xy[chosen, 0],
        xy[chosen, 1],
        s=sizes.to_numpy()[chosen],
        c="none",
        edgecolors="black",
        linewidths=1.2,
        zorder=4,
    )
    titles = points["title"].iloc[chosen]
    _place_labels(
        figure, axes, xy[chosen], [display_title(t, max_length=36, year=False) for t in titles]
    )


def factor_map(recommender: Recommender, labels: int = 12, max_movies: int = 1500) -> Figure:
    """The most popular movies' ALS item factors projected to 2-D by PCA, coloured by main
    genre, with ``labels`` well-known titles spread across the map labelled."""
    points = item_map(recommender, max_movies=max_movies)
    with _style():
        figure = _figure(11, 8, constrained=False)
        figure.subplots_adjust(left=0.07, right=0.75, top=0.94, bottom=0.1)
        axes = figure.add_subplot()
        sizes = 6 + 60 * np.sqrt(points["popularity"] / points["popularity"].max())
        _scatter_by_genre(axes, points, sizes)
        _label_well_known(figure, axes, points, sizes, labels)
        axes.set_xlabel("first principal component")
        axes.set_ylabel("second principal component")
        axes.set_title(
            f"Movies on the ALS taste map — {recommender.dataset.name}, "
            f"{len(points):,} most popular movies"
        )
        axes.legend(
            title="genre (first group\nthat applies)",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            markerscale=1.6,
        )
        figure.text(
            0.07,
            0.012,
            "Each dot is a movie; dot size shows its kept ratings. "
            "Nearby movies have similar factors: the same people like them.",
            fontsize=9.5,
            color="#444444",
        )
    return figure


def evaluation(results: EvaluationResults, max_panels: int = 4) -> Figure:
    """Mean ± std per model of the headline metrics (NDCG@10 and Recall@10 first): one panel
    per metric@k, at most ``max_panels``, one bar per model with a std error bar."""
    keys = results.chart_keys(max_panels)
    if not keys:
        raise MovieRecError("the evaluation results hold no ranking metric at any k to plot")
    models = results.models()
    spread = results.runs() != 1  # one run: no error bars
    with _style():
        columns = len(keys) if len(keys) <= 2 else 2  # a 2 × 2 grid stays readable on a page
        rows_of_panels = -(-len(keys) // columns)
        figure = _figure(4.8 * columns + 0.6, 3.9 * rows_of_panels + 0.6)
        panels = figure.subplots(rows_of_panels, columns, squeeze=False).ravel()
        for unused in panels[len(keys) :]:
            unused.remove()
        for axes, (metric, k) in zip(panels, keys, strict=False):
            rows = results.rows(metric, k)
            _evaluation_panel(axes, rows, models, spread, EvaluationResults.label(metric, k))
        runs = results.runs()
        label = "users' mean, one run" if runs == 1 else f"mean ± std over {runs or 'the'} runs"
        for axes in panels[: len(keys) : columns]:
            axes.set_ylabel(label)
        where = results.where()
        figure.suptitle(
            f"Offline evaluation — {where} (test, {results.spread()})"
            if where
            else f"Offline evaluation (test, {results.spread()})",
            fontweight="bold",
            fontsize=13,
        )
    return figure


def _evaluation_panel(
    axes: Axes, rows: pd.DataFrame, models: list[str], spread: bool, title: str
) -> None:
    """The panel ``title`` (one metric@k) of :func:`evaluation`: a bar per model (a colour
    each) with its mean written on it, and its std as an error bar when the runs have a
    ``spread``."""
    positions = np.arange(len(models))
    errors = rows["std"].fillna(0).to_numpy() if spread else np.zeros(len(models))
    axes.bar(
        positions,
        rows["mean"].fillna(0),
        yerr=errors if spread else None,
        capsize=4,
        color=[TAB10[i % len(TAB10)] for i in positions],
        width=0.65,
        error_kw={"elinewidth": 1.2, "ecolor": "#333333"},
    )
    for position, mean in enumerate(rows["mean"]):
        if pd.notna(mean):
            axes.text(
                position,
                mean / 2,
                f"{mean:.3f}",
                ha="center",
                va="center",
                color="white",
                fontsize=9,
                fontweight="bold",
            )
    crowded = len(models) > 3 or max(len(m) for m in models) * len(models) > 30
    axes.set_xticks(
        positions,
        models,
        rotation=25 if crowded else 0,
        ha="right" if crowded else "center",
        rotation_mode="anchor",
    )
    axes.grid(axis="x", visible=False)
    axes.set_title(title)
    axes.set_ylim(0, max(float((rows["mean"] + errors).max()) * 1.15, 1e-3))
