"""The command line: a thin shell that parses, calls the library, and prints (rich or --json)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

try:  # typer ≥ 0.2x vendors click; older releases use click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from . import config
from .errors import MovieRecError

app = typer.Typer(
    name="movierec",
    help="Movie recommendations from MovieLens: explore the data, train ALS, get recommendations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DatasetOpt = Annotated[
    Optional[str],
    typer.Option(
        "--dataset", "-d",
        help="ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m or ml-latest-small "
        "[default: ml-1m if available, else the bundled ml-latest-small]",
    ),
]
DataDirOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--data-dir", help=f"folder holding <dataset>/ in GroupLens' layout [env: {config.DATA_DIR_ENV}]"
    ),
]
MinRatingOpt = Annotated[
    float, typer.Option("--min-rating", help="ratings below this are dropped")
]
ModelOpt = Annotated[
    Optional[Path],
    typer.Option("--model", "-m", help="a model saved by `movierec train --out DIR` [default: train and cache]"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
CountOpt = Annotated[int, typer.Option("-n", "--n", help="how many results")]
LikeOpt = Annotated[
    list[str], typer.Option("--like", "-l", help="a movie you like (repeat the option)")
]


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _check_n(n: int) -> None:
    if n <= 0:
        raise MovieRecError(f"-n must be at least 1, got {n}")


def _dataset(dataset: str | None, data_dir: Path | None) -> Any:
    from .datasets import load_dataset

    return load_dataset(dataset, data_dir)


def _resolve(dataset: Any, titles: list[str], min_rating: float) -> list[int]:
    from .recommender import resolve_movies

    if not titles:
        raise MovieRecError("name at least one movie you like with --like TITLE")
    return resolve_movies(dataset, titles, min_rating)


def _recommender(dataset: Any, min_rating: float, model: Path | None) -> Any:
    from .recommender import Recommender, Settings, cached_recommender, model_cache_dir

    if model is not None:
        return Recommender.load(model, dataset)
    settings = Settings.preset("default", min_rating=min_rating)
    if not (model_cache_dir(dataset, settings) / "meta.json").is_file():
        _console(stderr=True).print(
            f"Training the default ALS model on {dataset.name} (cached for next time)…"
        )
    return cached_recommender(dataset, settings, show_progress=sys.stderr.isatty())


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        numeric = column in {"#", "count", "score", "movie_id", "year"}
        table.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row])
    _console().print(table)


def _scored_rows(results: list[Any], explain: bool = False) -> list[list[Any]]:
    rows = []
    for rank, item in enumerate(results, start=1):
        row = [rank, item.movie.movie_id, item.movie.title, item.score]
        if explain:
            row.append("; ".join(item.because or ()))
        rows.append(row)
    return rows


@app.command()
def stats(
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    as_json: JsonOpt = False,
) -> None:
    """Ratings before and after the min-rating filter, unique users and movies."""
    from .analysis import stats as compute

    result = compute(_dataset(dataset, data_dir), min_rating)
    if as_json:
        keys = ("dataset", "ratings_total", "ratings_kept", "kept_ratio", "users", "movies")
        _emit({k: getattr(result, k) for k in keys})
        return
    _table(
        f"{result.dataset} (ratings ≥ {min_rating:g} kept)",
        ["", "total", "kept"],
        [
            ["ratings", f"{result.ratings_total:,}", f"{result.ratings_kept:,} ({result.kept_ratio:.2%})"],
            ["users", f"{result.users_total:,}", f"{result.users:,}"],
            ["movies", f"{result.movies_total:,}", f"{result.movies:,}"],
        ],
    )


@app.command()
def popular(
    n: CountOpt = 30,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    as_json: JsonOpt = False,
) -> None:
    """The N movies with the most kept ratings."""
    from .analysis import popular as compute

    _check_n(n)
    frame = compute(_dataset(dataset, data_dir), n, min_rating)
    if as_json:
        _emit(
            [
                {"movie_id": int(r.movie_id), "title": r.title, "count": int(r.count)}
                for r in frame.itertuples()
            ]
        )
        return
    _table(
        f"The {len(frame)} most popular movies",
        ["#", "movie_id", "title", "genres", "count"],
        [[i, r.movie_id, r.title, r.genres.replace("|", ", "), r.count]
         for i, r in enumerate(frame.itertuples(), start=1)],
    )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="part of a title; typos are fine")],
    n: CountOpt = 10,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    as_json: JsonOpt = False,
) -> None:
    """Find movies by title."""
    from .analysis import movie_counts
    from .titles import TitleIndex

    _check_n(n)
    ds = _dataset(dataset, data_dir)
    index = TitleIndex(ds.movies, movie_counts(ds, min_rating))
    movie_ids = index.search(query, n)
    movies = ds.movies.loc[movie_ids]
    results = [
        {"movie_id": int(mid), "title": row.title, "genres": [g for g in row.genres.split("|") if g]}
        for mid, row in zip(movie_ids, movies.itertuples())
    ]
    if as_json:
        _emit(results)
        return
    _table(
        f"Movies matching {query!r}",
        ["movie_id", "title", "genres"],
        [[r["movie_id"], r["title"], ", ".join(r["genres"])] for r in results],
    )


@app.command()
def similar(
    title: Annotated[str, typer.Argument(help="a movie title, as you would type it")],
    n: CountOpt = 10,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Movies similar to one movie (cosine of the ALS item factors)."""
    _check_n(n)
    ds = _dataset(dataset, data_dir)
    (movie_id,) = _resolve(ds, [title], min_rating)
    rec = _recommender(ds, min_rating, model)
    movie = rec.movie(movie_id)
    results = rec.similar(movie_id, n)
    if as_json:
        _emit([r.to_dict() for r in results])
        return
    _table(f"Similar to {movie.title}", ["#", "movie_id", "title", "score"], _scored_rows(results))


@app.command()
def recommend(
    like: LikeOpt,
    n: CountOpt = 10,
    explain: Annotated[bool, typer.Option("--explain", help="say which liked movies led to each")] = False,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recommendations for someone who likes the given movies (folded in, no retraining)."""
    _check_n(n)
    ds = _dataset(dataset, data_dir)
    liked_ids = _resolve(ds, like, min_rating)
    rec = _recommender(ds, min_rating, model)
    results = rec.recommend(liked_ids, n, explain=explain)
    if as_json:
        _emit([r.to_dict() for r in results])
        return
    columns = ["#", "movie_id", "title", "score"] + (["because you liked"] if explain else [])
    liked = ", ".join(rec.movie(m).title for m in liked_ids)
    _table(f"Because you like {liked}", columns, _scored_rows(results, explain))


@app.command()
def score(
    title: Annotated[str, typer.Argument(help="the movie to score")],
    like: LikeOpt,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The preference score for one movie of someone who likes the given movies."""
    ds = _dataset(dataset, data_dir)
    liked_ids = _resolve(ds, like, min_rating)
    (movie_id,) = _resolve(ds, [title], min_rating)
    rec = _recommender(ds, min_rating, model)
    result = rec.score(liked_ids, movie_id)
    if as_json:
        _emit(result.to_dict())
        return
    _console().print(f"{result.movie.title}: preference score {result.score:.4f}")


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to save the model in")],
    preset: Annotated[str, typer.Option(help="default (tuned on ML-1M) or notebook")] = "default",
    factors: Annotated[Optional[int], typer.Option(help="latent factors")] = None,
    regularization: Annotated[Optional[float], typer.Option(help="L2 regularization")] = None,
    alpha: Annotated[Optional[float], typer.Option(help="confidence = alpha × weight")] = None,
    iterations: Annotated[Optional[int], typer.Option(help="ALS sweeps")] = None,
    weighting: Annotated[Optional[str], typer.Option(help="rating, binary or bm25")] = None,
    seed: Annotated[Optional[int], typer.Option(help="random seed")] = None,
    gpu: Annotated[bool, typer.Option("--gpu", help="train with implicit's CUDA ALS")] = False,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    as_json: JsonOpt = False,
) -> None:
    """Train an ALS model and save it for --model."""
    from .recommender import Recommender, Settings

    settings = Settings.preset(
        preset, factors=factors, regularization=regularization, alpha=alpha,
        iterations=iterations, weighting=weighting, seed=seed, min_rating=min_rating,
    )
    ds = _dataset(dataset, data_dir)
    started = time.perf_counter()
    rec = Recommender.train(ds, settings, show_progress=sys.stderr.isatty(), use_gpu=gpu)
    seconds = time.perf_counter() - started
    rec.save(out)
    summary = {
        "dataset": ds.name, "out": str(out), "settings": settings.to_dict(),
        "users": len(rec.users), "movies": len(rec.items), "fit_seconds": round(seconds, 3),
    }
    if as_json:
        _emit(summary)
        return
    _console().print(
        f"Trained ALS {settings.params} on {ds.name} ({len(rec.users):,} users × "
        f"{len(rec.items):,} movies) in {seconds:.2f} s; saved to {out}"
    )


DEFAULT_FAVOURITES = [
    "Toy Story (1995)",
    "Star Wars: Episode IV - A New Hope (1977)",
    "Matrix, The (1999)",
    "Fargo (1996)",
    "Pulp Fiction (1994)",
]


@app.command()
def demo(
    like: Annotated[
        Optional[list[str]], typer.Option("--like", "-l", help="your five favourites [default: five classics]")
    ] = None,
    n: CountOpt = 10,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    as_json: JsonOpt = False,
) -> None:
    """The course notebook's whole story in one run, done right."""
    from .demo import run_demo

    _check_n(n)
    report = run_demo(_dataset(dataset, data_dir), like or DEFAULT_FAVOURITES, n, min_rating,
                      show=None if as_json else _console())
    if as_json:
        _emit(report)


@app.command()
def datasets(as_json: JsonOpt = False) -> None:
    """The MovieLens variants movierec can download, and which are on this machine."""
    from .datasets import REGISTRY
    from .datasets.fetch import data_dir_from, find_local

    local = data_dir_from(None)
    rows = []
    for spec in REGISTRY.values():
        folder = find_local(spec, local)
        rows.append({"name": spec.name, "description": spec.description, "url": spec.url,
                     "local": str(folder) if folder else None})
    if as_json:
        _emit(rows)
        return
    _table("MovieLens datasets", ["name", "description", "on this machine"],
           [[r["name"], r["description"], r["local"] or "download on first use"] for r in rows])


@app.command()
def report(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="folder for index.html and the PNG charts")
    ],
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
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
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .recommender import Recommender, Settings, cached_recommender
    from .report import build_report, prepare_output, read_evaluation

    directory = prepare_output(out)  # fail fast, before any slow work
    evaluation = read_evaluation(eval_file) if eval_file is not None else None
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=_console(stderr=True), transient=True,
    )
    with progress:
        task = progress.add_task("Loading the data", total=None)
        ds = _dataset(dataset, data_dir)
        if model is not None:
            progress.update(task, description=f"Loading the model from {model}")
            rec = Recommender.load(model, ds)
        else:
            progress.update(task, description=f"Training ALS on {ds.name} (cached for next time)")
            rec = cached_recommender(ds, Settings.preset("default", min_rating=min_rating))

        def step(what: str, done: int, total: int) -> None:
            progress.update(task, description=what, completed=done, total=total)

        written = build_report(ds, rec, directory, min_rating, evaluation, on_step=step)
    _console(stderr=True).print(
        f"Report written: {written.index} ({len(written.images)} charts)"
    )


@app.command()
def serve(
    model: ModelOpt = None,
    host: Annotated[
        str, typer.Option(help="address to listen on (127.0.0.1: this machine only)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port")] = 8000,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="log each request")
    ] = True,
) -> None:
    """Serve the web page and JSON API (API docs at /docs) until Ctrl+C."""
    import uvicorn
    from threadpoolctl import threadpool_limits

    from .web import create_app

    rec = _recommender(_dataset(dataset, data_dir), min_rating, model)
    web_app = create_app(rec)
    # Each request is one small solve; BLAS threads would only contend with the server's own.
    threadpool_limits(limits=1, user_api="blas")
    _console(stderr=True).print(
        f"Serving {rec.dataset.name} at http://{host}:{port}/ (API docs at /docs); Ctrl+C stops"
    )
    uvicorn.run(web_app, host=host, port=port, access_log=access_log, log_level="info")

def main(argv: list[str] | None = None) -> int:
    """Run the CLI; people's errors become one line on stderr and exit code 2."""
    try:
        app(args=argv, prog_name="movierec", standalone_mode=False)
    except MovieRecError as exc:
        print(f"movierec: error: {exc}", file=sys.stderr)
        return 2
    except click_exceptions.NoArgsIsHelpError as exc:
        print(exc.format_message(), file=sys.stderr)
        return 0
    except click_exceptions.UsageError as exc:
        command = f" {exc.ctx.command_path.split(' ', 1)[1]}" if exc.ctx and " " in exc.ctx.command_path else ""
        print(f"movierec: error: {exc.format_message()} (see `movierec{command} --help`)", file=sys.stderr)
        return 2
    except click_exceptions.ClickException as exc:
        print(f"movierec: error: {exc.format_message()}", file=sys.stderr)
        return 2
    except click_exceptions.Exit as exc:
        return exc.exit_code
    except click_exceptions.Abort:
        print("movierec: interrupted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("movierec: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
