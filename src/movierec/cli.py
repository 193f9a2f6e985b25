"""The command line: a thin shell that parses, calls the library, and prints (rich or --json)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

try:  # typer ≥ 0.2x vendors click; older releases use click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from . import config
from .console import (
    clean,
    console,
    emit_json,
    error,
    evaluation_table,
    line,
    notice,
    scored_rows,
    table,
)
from .errors import MovieRecError

app = typer.Typer(
    name="movierec",
    help="Movie recommendations from MovieLens: explore the data, train models (EASE, ALS, …), "
    "get recommendations, evaluate, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        sys.stdout.write(f"movierec {__version__}\n")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """Options before the command name."""


DatasetOpt = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        "-d",
        help="ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m or ml-latest-small "
        "[default: ml-1m if available, else the bundled ml-latest-small]",
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help=f"folder holding <dataset>/ in GroupLens' layout [env: {config.DATA_DIR_ENV}]",
    ),
]
RatingsOpt = Annotated[
    str | None,
    typer.Option(
        "--ratings",
        metavar="<path|uri>",
        help="your own ratings instead of a MovieLens dataset: a .csv or .parquet file with "
        "columns user_id, movie_id, rating[, timestamp] (or a '::'-separated .dat); "
        "with --engine spark, train and recommend-all also take a URI Spark reads (hdfs://, "
        "s3a://, file://…)",
    ),
]
MoviesOpt = Annotated[
    str | None,
    typer.Option(
        "--movies",
        metavar="<path|uri>",
        help="with --ratings: a .csv or .parquet file with movie_id, title[, genres] "
        "[default: movies are called 'Movie <id>']",
    ),
]
MinRatingOpt = Annotated[float, typer.Option("--min-rating", help="ratings below this are dropped")]
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        help="a model saved by `movierec train --out DIR` [default: train and cache]",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
CountOpt = Annotated[int, typer.Option("-n", "--n", help="how many results")]
MOVIE_HELP = (
    "a title as you would type it, or a movie_id: a bare number is the movie with that id when "
    'there is one, else a title (add the year for a title that is a number: "2010 (1984)")'
)
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine", help="local, or spark (Apache Spark: pip install 'movierec[spark]', Java 17)"
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="with --engine spark: local[N], spark://HOST:PORT, yarn, k8s://… [default: the "
        "running session's (spark-submit), else local[2]]",
    ),
]
LikeOpt = Annotated[
    list[str],
    typer.Option("--like", "-l", help=f"a movie you like (repeat the option): {MOVIE_HELP}"),
]


def _named(rec: Any, names: list[str]) -> list[Any]:
    """The movies named on the command line (titles or movie ids); a note on a choice made (the
    most rated of several movies with one title) goes to stderr, once per movie."""
    from .titles import notes_of

    resolutions = [rec.resolve(name) for name in names]
    for note in notes_of(resolutions):
        notice(note)
    return [rec.movie(r.movie_id) for r in resolutions]


@dataclass(frozen=True)
class Source:
    """Where a command's ratings come from: a MovieLens dataset (``--dataset``, ``--data-dir``)
    or the user's own files (``--ratings``, ``--movies``)."""

    dataset: str | None
    data_dir: Path | None
    ratings: str | None = None
    movies: str | None = None

    @property
    def named(self) -> str | None:
        """The dataset's name as a model records it, when the command line gives one."""
        if self.ratings is None:
            return self.dataset
        from .datasets.dataset import is_uri

        if is_uri(self.ratings):
            from .spark.source import RemoteSource

            return RemoteSource(self.ratings).name
        return Path(self.ratings).name

    @property
    def option(self) -> str:
        return "--ratings" if self.ratings is not None else "--dataset"


def _model_source(source: Source, model: Path | None) -> Source:
    """A saved model brings its dataset with it: ``source``, or, when ``--model`` is given and
    no data is named, the MovieLens dataset the model was trained on. A model of your own
    ratings cannot find them alone: the error says to name them."""
    if model is None or source.dataset is not None or source.ratings is not None:
        return source
    from dataclasses import replace

    from .bundle import read_meta
    from .datasets import REGISTRY

    name = read_meta(model)["dataset"]["name"]
    if name in REGISTRY:
        return replace(source, dataset=name)
    raise MovieRecError(
        f"--model {model} was trained on your own ratings ({clean(name, 100)}); name them with "
        "--ratings (and --movies, if it had titles)"
    )


def _source(source: Source) -> Any:
    """Where the command's ratings are (nothing read yet)."""
    from .datasets import find_source

    return find_source(
        source.dataset, source.data_dir, ratings=source.ratings, movies=source.movies
    )


def _dataset(source: Source, min_rating: float | None = None) -> Any:
    """The dataset, with ``min_rating`` checked against its rating scale."""
    loaded = _source(source).load()
    if min_rating is not None:
        loaded.check_min_rating(min_rating)
    return loaded


def _recommender(
    source: Source,
    min_rating: float,
    model: Path | None,
    titles: list[str] | None = None,
    loaded: Any = None,
) -> Any:
    """The saved model (``--model``), or the default one: cached (both answer from their folder
    alone, never reading ratings, when self-contained) or trained now — after ``titles`` are
    checked, so a typo fails before a training run. ``loaded``: the dataset, if the command has
    loaded it already."""
    from threadpoolctl import threadpool_limits

    rec = _loaded_recommender(source, min_rating, model, titles, loaded)
    # What follows is a few small solves per answer: BLAS threads only add contention.
    threadpool_limits(limits=1, user_api="blas")
    return rec


def _loaded_recommender(
    source: Source,
    min_rating: float,
    model: Path | None,
    titles: list[str] | None,
    loaded: Any,
) -> Any:
    from .bundle import self_contained
    from .model_cache import cached_default, cached_recommender
    from .recommender import Recommender, resolve_movies
    from .settings import default_settings

    if model is not None and loaded is None and self_contained(model):
        rec = Recommender.load(model)
        if source.named is not None and source.named != rec.dataset.name:
            raise MovieRecError(
                f"--model {model} was trained on {rec.dataset.name}, not {source.named}; drop "
                f"{source.option}, or pick a model of that dataset"
            )
        return rec
    if model is None and loaded is None:

        def check_titles(dataset: Any) -> None:
            if titles:
                resolve_movies(dataset, titles, min_rating)

        return cached_default(_source(source), min_rating, check_titles)  # its progress shows
    ds = loaded if loaded is not None else _dataset(_model_source(source, model), min_rating)
    if model is not None:
        return Recommender.load(model, ds)
    return cached_recommender(ds, default_settings(ds, min_rating))


@app.command()
def stats(
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    as_json: JsonOpt = False,
) -> None:
    """Ratings before and after the min-rating filter, unique users and movies."""
    from .analysis import stats as compute

    result = compute(
        _dataset(Source(dataset, data_dir, ratings_file, movies_file), min_rating), min_rating
    )
    if as_json:
        keys = ("dataset", "ratings_total", "ratings_kept", "kept_ratio", "users", "movies")
        emit_json({k: getattr(result, k) for k in keys})
        return
    table(
        f"{result.dataset} (ratings ≥ {min_rating:g} kept)",
        ["", "total", "kept"],
        [
            [
                "ratings",
                f"{result.ratings_total:,}",
                f"{result.ratings_kept:,} ({result.kept_ratio:.2%})",
            ],
            ["users", f"{result.users_total:,}", f"{result.users:,}"],
            ["movies", f"{result.movies_total:,}", f"{result.movies:,}"],
        ],
    )


def _catalogue(source: Source, min_rating: float, model: Path | None) -> Any:
    """The movies with their popularity: a saved model's (``--model``, no ratings read), or the
    dataset's."""
    from .catalogue import Catalogue

    if model is not None:
        return _recommender(source, min_rating, model).catalogue
    return Catalogue.from_dataset(_dataset(source, min_rating), min_rating)


@app.command()
def popular(
    n: CountOpt = 30,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The N movies with the most kept ratings."""
    config.check_n(n, "-n")
    catalogue = _catalogue(Source(dataset, data_dir, ratings_file, movies_file), min_rating, model)
    ids, popularity = catalogue.most_popular(n)
    movies = [(catalogue.movie(int(i)), int(p)) for i, p in zip(ids, popularity)]
    if as_json:
        emit_json([{"movie_id": m.movie_id, "title": m.title, "count": p} for m, p in movies])
        return
    table(
        f"The {len(movies)} most popular movies",
        ["#", "movie_id", "title", "genres", "count"],
        [
            [i, m.movie_id, m.title, ", ".join(m.genres), p]
            for i, (m, p) in enumerate(movies, start=1)
        ],
    )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="part of a title; typos are fine")],
    n: CountOpt = 10,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find movies by title: exact matches first, then titles that start with the query, then
    those holding every word of it, then near misses (typos)."""
    config.check_n(n, "-n")
    catalogue = _catalogue(Source(dataset, data_dir, ratings_file, movies_file), min_rating, model)
    movies = [catalogue.movie(movie_id) for movie_id in catalogue.titles_index.search(query, n)]
    found = [m for m in movies if m is not None]
    if as_json:
        emit_json(
            [{"movie_id": m.movie_id, "title": m.title, "genres": list(m.genres)} for m in found]
        )
        return
    if not found:
        line(f"no movie matches {clean(query, 60)!r}")
        return
    table(
        f"Movies matching {clean(query, 60)!r}",
        ["movie_id", "title", "genres"],
        [[m.movie_id, m.title, ", ".join(m.genres)] for m in found],
    )


@app.command()
def similar(
    title: Annotated[str, typer.Argument(help=f"the movie: {MOVIE_HELP}")],
    n: CountOpt = 10,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Movies similar to one movie, by the model's item-item similarity."""
    config.check_n(n, "-n")
    rec = _recommender(
        Source(dataset, data_dir, ratings_file, movies_file), min_rating, model, [title]
    )
    movie = _named(rec, [title])[0]
    results = rec.similar(movie.movie_id, n)
    if results.why_empty:
        notice(f"no similar movies: {results.why_empty}")
    if as_json:
        emit_json([r.to_dict() for r in results])
        return
    if results:
        table(
            f"Similar to {movie.title}", ["#", "movie_id", "title", "score"], scored_rows(results)
        )


@app.command()
def recommend(
    like: LikeOpt,
    n: CountOpt = 10,
    explain: Annotated[
        bool, typer.Option("--explain", help="say which liked movies led to each")
    ] = False,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recommendations for someone who likes the given movies (folded in, no retraining)."""
    config.check_n(n, "-n")
    rec = _recommender(
        Source(dataset, data_dir, ratings_file, movies_file), min_rating, model, like
    )
    liked_movies = _named(rec, like)
    liked_ids = [m.movie_id for m in liked_movies]
    results = rec.recommend(liked_ids, n, explain=explain)
    if results.why_empty:
        notice(f"no recommendations: {results.why_empty}")
    if as_json:
        emit_json([r.to_dict() for r in results])
        return
    if not results:
        return
    columns = ["#", "movie_id", "title", "score"] + (["because you liked"] if explain else [])
    liked = ", ".join(dict.fromkeys(m.title for m in liked_movies))
    table(f"Because you like {liked}", columns, scored_rows(results, explain))


@app.command()
def score(
    title: Annotated[str, typer.Argument(help=f"the movie to score: {MOVIE_HELP}")],
    like: LikeOpt,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The preference score for one movie of someone who likes the given movies."""
    rec = _recommender(
        Source(dataset, data_dir, ratings_file, movies_file), min_rating, model, [*like, title]
    )
    *liked_movies, movie = _named(rec, [*like, title])
    result = rec.score([m.movie_id for m in liked_movies], movie.movie_id)
    if as_json:
        emit_json(result.to_dict())
        return
    liked = " (one of your likes, so not a recommendation)" if result.liked else ""
    line(f"{result.movie.title}: preference score {result.score:.4f}{liked}")


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to save the model in")],
    preset: Annotated[
        str | None,
        typer.Option(
            help="default (a DLAE of the EASE family, best on ML-1M), "
            + ", ".join(name for name in config.PRESETS if name != "default")
            + " (spark-als: with --engine spark), or a preset saved "
            "by `movierec tune --save-preset` "
            f"[default: default; above {config.DENSE_ITEMS_LIMIT:,} movies "
            f"{config.LARGE_CATALOGUE_PRESET}, or spark-als with --engine spark]"
        ),
    ] = None,
    factors: Annotated[int | None, typer.Option(help="latent factors (ALS/iALS presets)")] = None,
    regularization: Annotated[float | None, typer.Option(help="L2 regularization")] = None,
    alpha: Annotated[
        float | None, typer.Option(help="confidence = alpha × weight (ALS presets)")
    ] = None,
    iterations: Annotated[int | None, typer.Option(help="sweeps (ALS/iALS presets)")] = None,
    weighting: Annotated[str | None, typer.Option(help="rating, binary or bm25")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    gpu: Annotated[bool, typer.Option("--gpu", help="train with implicit's CUDA ALS")] = False,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = None,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    as_json: JsonOpt = False,
) -> None:
    """Train a model (a preset, with any hyperparameters overridden) and save it for --model."""
    from .atomic import check_replaceable
    from .bundle import is_model_folder
    from .datasets.dataset import is_uri
    from .models.params import ParameterError
    from .recommender import Recommender
    from .settings import Settings, catalogue_preset, default_preset
    from .spark.engine import check_engine

    check_replaceable(out, is_model_folder, "movierec model")  # before any slow work
    overrides = {
        "factors": factors,
        "regularization": regularization,
        "alpha": alpha,
        "iterations": iterations,
        "weighting": weighting,
        "seed": seed,
        "min_rating": min_rating,
    }

    def checked(name: str) -> Settings:
        try:
            return Settings.preset(name, **overrides).check(use_gpu=gpu)
        except ParameterError as exc:
            if overrides.get(exc.parameter) is None:
                raise
            flag = f"--{exc.parameter.replace('_', '-')}"
            raise exc.rephrased(f"pass e.g. {flag} {exc.example}") from None

    if preset is not None:  # an unknown preset or a bad value fails before any loading
        check_engine(engine, checked(preset).model, spark_master)
        from .presets import preset_warning

        if preset_warning(preset):
            line(f"movierec: warning: {preset_warning(preset)}", stderr=True)
    spark = engine == "spark"
    if spark and ratings_file is not None and is_uri(ratings_file):
        if dataset is not None:
            raise MovieRecError(
                f"give a MovieLens dataset ({dataset}) or your own ratings (--ratings), not both"
            )
        started = time.perf_counter()
        rec = Recommender.train_on_spark(
            ratings_file,
            lambda movies: checked(preset or catalogue_preset(movies, spark=True)),
            movies=movies_file,
            master=spark_master,
        )
    else:
        ds = _dataset(Source(dataset, data_dir, ratings_file, movies_file), min_rating)
        settings = checked(preset or default_preset(ds, min_rating, spark))
        check_engine(engine, settings.model, spark_master)
        started = time.perf_counter()
        rec = Recommender.train(ds, settings, use_gpu=gpu, spark=spark, spark_master=spark_master)
    seconds = time.perf_counter() - started
    saved = rec.save(out)
    settings = rec.settings
    summary = {
        "dataset": rec.dataset.name,
        "out": str(saved),
        "settings": settings.to_dict(),
        "description": rec.describe(),
        "users": len(rec.users),
        "movies": len(rec.items),
        "fit_seconds": round(seconds, 3),
    }
    if as_json:
        emit_json(summary)
        return
    line(
        f"Trained {rec.describe()} on {rec.dataset.name} ({len(rec.users):,} users × "
        f"{len(rec.items):,} movies) in {seconds:.2f} s; saved to {saved}"
    )


@app.command("recommend-all")
def recommend_all(
    out: Annotated[Path, typer.Option("--out", "-o", help="the Parquet file to write")],
    n: CountOpt = 10,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = None,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Top-N for every user (movies they rated left out) as Parquet: user_id, rank, movie_id,
    score; --engine spark scores the users as Spark tasks (same file), and with --ratings URI
    Spark reads the model's ratings itself."""
    from .batch import check_output
    from .batch import recommend_all as run_batch
    from .datasets.dataset import is_uri
    from .spark.engine import check_engine

    config.check_n(n, "-n")
    check_engine(engine, None, spark_master)
    check_output(out)  # before any slow work
    source = Source(dataset, data_dir, ratings_file, movies_file)
    if ratings_file is not None and is_uri(ratings_file) and engine == "spark":
        if model is None or dataset is not None or movies_file is not None:
            raise MovieRecError(
                "with --ratings URI, recommend-all takes the model trained on it (--model DIR) "
                "and no --dataset or --movies"
            )
        rec = _recommender(source, min_rating, model)  # its ratings are read by Spark
        written = run_batch(rec, n, out, True, spark_master, ratings=ratings_file)
    else:
        ds = _dataset(_model_source(source, model), min_rating)
        rec = _recommender(source, min_rating, model, loaded=ds)  # exclusions: ratings
        written = run_batch(rec, n, out, engine == "spark", spark_master)
    if as_json:
        emit_json(written.to_dict())
    else:
        line(f"Wrote {written.rows:,} recommendations for {written.users:,} users to {written.out}")
    if written.why_empty:
        notice(f"no recommendations: {written.why_empty}")


@app.command()
def demo(
    like: Annotated[
        list[str] | None,
        typer.Option(
            "--like",
            "-l",
            help=f"your five favourites [default: five classics]; each {MOVIE_HELP}",
        ),
    ] = None,
    n: CountOpt = 10,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    as_json: JsonOpt = False,
) -> None:
    """The course notebook's whole story in one run, done right."""
    from .demo import run_demo

    config.check_n(n, "-n")
    report = run_demo(
        _dataset(Source(dataset, data_dir, ratings_file, movies_file), min_rating),
        like or config.DEMO_FAVOURITES,
        n,
        min_rating,
        show=None if as_json else console(markup=True),
        notify=notice,
    )
    if as_json:
        emit_json(report)


@app.command()
def datasets(as_json: JsonOpt = False) -> None:
    """The MovieLens variants movierec can download, and which are on this machine."""
    from .datasets import REGISTRY
    from .datasets.fetch import data_dir_from, find_local

    local = data_dir_from(None)
    rows = []
    for spec in REGISTRY.values():
        folder = find_local(spec, local)
        rows.append(
            {
                "name": spec.name,
                "description": spec.description,
                "url": spec.url,
                "local": str(folder) if folder else None,
            }
        )
    if as_json:
        emit_json(rows)
        return
    table(
        "MovieLens datasets",
        ["name", "description", "on this machine"],
        [[r["name"], r["description"], r["local"] or "download on first use"] for r in rows],
    )


@app.command()
def fetch(
    name: Annotated[str, typer.Argument(help="the dataset: ml-100k, ml-1m, …, ml-latest-small")],
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download a dataset now (verified by checksum, cached), even right after a failed try."""
    from .datasets import get_spec
    from .datasets.fetch import data_dir_from, download, find_local

    spec = get_spec(name)
    folder = find_local(spec, data_dir_from(data_dir)) or download(spec, retry=True)
    if as_json:
        emit_json({"name": spec.name, "folder": str(folder)})
        return
    line(f"{spec.name} is at {folder}")


@app.command()
def report(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="folder for index.html and the PNG charts")
    ],
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    eval_file: Annotated[
        Path | None,
        typer.Option(
            "--eval", help="results of `movierec evaluate --json`, to add their table and plot"
        ),
    ] = None,
) -> None:
    """Write an HTML report with charts of the data and the model (no network needed to view)."""
    from .report import build_report, prepare_output, read_evaluation

    # Fail fast, before any slow work, and leave nothing behind when the results are bad.
    evaluation = read_evaluation(eval_file) if eval_file is not None else None
    directory = prepare_output(out)
    source = Source(dataset, data_dir, ratings_file, movies_file)
    ds = _dataset(_model_source(source, model), min_rating)
    rec = _recommender(source, min_rating, model, loaded=ds)  # charts need ratings
    written = build_report(ds, rec, directory, min_rating, evaluation)
    line(f"Report written: {written.index} ({len(written.images)} charts)", stderr=True)


@app.command()
def serve(
    model: ModelOpt = None,
    host: Annotated[
        str, typer.Option(help="address to listen on (127.0.0.1: this machine only)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port")] = 8000,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="log each request")
    ] = True,
) -> None:
    """Serve the web page and JSON API (API docs at /docs) until Ctrl+C."""
    import uvicorn

    from .web import create_app

    # Each request is one small solve: _recommender limits BLAS to one thread, which would
    # otherwise only contend with the server's own.
    rec = _recommender(Source(dataset, data_dir, ratings_file, movies_file), min_rating, model)
    web_app = create_app(rec)
    line(
        f"Serving {rec.dataset.name} at http://{host}:{port}/ (API docs at /docs); Ctrl+C stops",
        stderr=True,
    )
    uvicorn.run(
        web_app,
        host=host,
        port=port,
        access_log=access_log,
        log_level="info",
        server_header=False,  # say nothing about the server software
    )


ProtocolOpt = Annotated[
    str,
    typer.Option(
        "--protocol",
        "-p",
        help="recbole (ratings ≥ 3, 10-core, 8:1:1), ratio, loo, loo-latest, kfold or strong",
    ),
]
ProtocolMinRatingOpt = Annotated[
    float | None,
    typer.Option(
        "--min-rating", help="ratings below this are dropped [default: the protocol's, 3]"
    ),
]


@app.command()
def evaluate(
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: ProtocolMinRatingOpt = None,
    protocol: ProtocolOpt = "recbole",
    models: Annotated[
        str,
        typer.Option(
            "--models",
            help="comma-separated presets (default, notebook, …) or models (als, ease, …), each "
            "optionally with overrides: als:factors=128:weighting=bm25",
        ),
    ] = "default",
    k: Annotated[int, typer.Option("-k", help="length K of each ranked list")] = 10,
    seeds: Annotated[
        int, typer.Option("--seeds", help="how many seeded splits to average over")
    ] = 1,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="also write PNG plots into this folder")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Models side by side on a held-out test part: each metric as mean ± std over seeds.

    `default` is the model movierec uses when none is named, `notebook` the course notebook's
    settings. --json prints {"protocol": {…}, "results": [{model, metric, k, mean, std}, …]};
    training time is the metric fit_seconds (k null).
    """
    from .evaluation import evaluate as run_evaluation
    from .evaluation import get_protocol, parse_model_specs

    chosen = get_protocol(protocol).with_min_rating(min_rating)
    specs = parse_model_specs(models)
    if not 1 <= k <= 1000:
        raise MovieRecError(f"-k must be from 1 to 1000, got {k}")
    if not 1 <= seeds <= 100:
        raise MovieRecError(f"--seeds must be from 1 to 100, got {seeds}")
    if plot is not None:
        from .atomic import claim_folder

        plot = claim_folder(plot, "plots", "--plot")  # before any slow work
    ds = _dataset(Source(dataset, data_dir, ratings_file, movies_file))
    if min_rating is not None:
        ds.check_min_rating(min_rating)
    data = chosen.prepare(ds)
    extra_ks = range(1, max(k, 20) + 1) if plot is not None else ()
    result = run_evaluation(
        ds,
        chosen,
        specs,
        k=k,
        seeds=[config.SEED + i for i in range(seeds)],
        extra_ks=extra_ks,
        prepared=data,
    )
    if plot is not None:
        from .evaluation.plots import write_plots

        written = write_plots(result, data, chosen, plot, config.SEED)
        line(f"Plots written: {', '.join(str(p) for p in written)}", stderr=True)
    if as_json:
        emit_json(result.to_json())
        return
    evaluation_table(result, k)


@app.command()
def tune(
    model: Annotated[str, typer.Argument(help="the model to tune: als, ease, itemknn, bpr, …")],
    trials: Annotated[int, typer.Option("--trials", "-t", help="how many settings to try")] = 20,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: ProtocolMinRatingOpt = None,
    protocol: ProtocolOpt = "recbole",
    seed: Annotated[
        int, typer.Option(help="seed of the split and of the TPE sampler")
    ] = config.SEED,
    timeout: Annotated[
        float | None, typer.Option(help="stop starting trials after this many seconds")
    ] = None,
    save_preset: Annotated[
        str | None,
        typer.Option("--save-preset", help="save the winners as this user preset (cache dir)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search a model's hyperparameters with optuna, scored on validation NDCG@10 (never test).

    The shipped presets (listed by `movierec train --help`) come from runs of this command on
    ML-1M, protocol recbole; --save-preset keeps your winners in the cache dir for `evaluate
    --models NAME` and `train --preset NAME`.
    """
    from .evaluation import get_protocol
    from .evaluation.tuning import search_space
    from .evaluation.tuning import tune as run_tuning
    from .presets import save_user_preset

    chosen = get_protocol(protocol).with_min_rating(min_rating)
    search_space(model)  # unknown or untunable models fail before the data loads
    if not 1 <= trials <= 10_000:
        raise MovieRecError(f"--trials must be from 1 to 10000, got {trials}")
    ds = _dataset(Source(dataset, data_dir, ratings_file, movies_file))
    result = run_tuning(ds, chosen, model, trials, seed=seed, timeout=timeout)
    saved = None
    if save_preset:
        provenance = {
            "dataset": ds.name,
            "protocol": chosen.name,
            "trials": len(result.trials),
            "seed": seed,
            "valid_ndcg@10": result.best_value,
        }
        saved = save_user_preset(save_preset, result.preset(), provenance)
    if as_json:
        emit_json({**result.to_json(), "saved_preset": str(saved) if saved else None})
        return
    line(
        f"Best {model} of {len(result.trials)} trials on {ds.name} (protocol {chosen.name}, "
        f"seed {seed}): validation NDCG@10 {result.best_value:.4f}"
    )
    winners = {**result.best_params, "weighting": result.best_weighting}
    table(
        "",
        ["parameter", "value"],
        [
            [name, f"{value:.4g}" if isinstance(value, float) else str(value)]
            for name, value in winners.items()
        ],
    )
    if saved:
        line(f"Saved as preset {save_preset!r} in {saved}; use --models {save_preset}")


class Interrupted(BaseException):
    """Raised by the SIGINT/SIGTERM handlers, past typer (which turns KeyboardInterrupt into an
    exit code) and past ``except Exception``, so every ``finally`` cleans up on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame: object) -> None:
    # A second Ctrl+C during the clean-up stops at once.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Interrupted(signum)


def _run(argv: list[str] | None) -> int:
    from . import progress

    try:
        # Long steps show on stderr: a live bar on a terminal, timed lines otherwise.
        with progress.reporting(progress.for_stream(sys.stderr)):
            code = app(args=argv, prog_name="movierec", standalone_mode=False)
    except MovieRecError as exc:
        error(exc)
        return 2
    except click_exceptions.NoArgsIsHelpError as exc:
        print(exc.format_message(), file=sys.stderr)
        return 0
    except click_exceptions.UsageError as exc:
        command = (
            f" {exc.ctx.command_path.split(' ', 1)[1]}"
            if exc.ctx and " " in exc.ctx.command_path
            else ""
        )
        error(f"{exc.format_message()} (see `movierec{command} --help`)")
        return 2
    except click_exceptions.ClickException as exc:
        error(exc.format_message())
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        notice("interrupted")
        return 130
    if code == 130:  # typer's answer to a KeyboardInterrupt it caught
        notice("interrupted")
        return 130
    return code if isinstance(code, int) else 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI. Exit codes: 0 done; 2 a problem you can fix (one line on stderr saying
    how); 1 an internal error (one line; ``MOVIEREC_DEBUG=1`` shows the traceback);
    130/143 interrupted by SIGINT (Ctrl+C)/SIGTERM, with nothing half-written left behind."""
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: signals stay as they are
            previous[signum] = signal.signal(signum, _on_signal)
    try:
        return _run(argv)
    except Interrupted as exc:
        notice("interrupted")
        return 128 + exc.signum
    except BrokenPipeError:
        # The reader went away (`movierec … | head`): not an error; silence the final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except MemoryError:
        error("out of memory; try a smaller dataset or model (fewer --factors)")
        return 1
    except OSError as exc:
        if os.environ.get("MOVIEREC_DEBUG"):
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        error(f"{exc.strerror or exc}{where}; check the path, free space and permissions")
        return 1
    except Exception as exc:
        if os.environ.get("MOVIEREC_DEBUG"):
            raise
        error(
            f"internal error ({type(exc).__name__}: {clean(exc, 120)}); please report it, and run "
            "with MOVIEREC_DEBUG=1 for the traceback"
        )
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
