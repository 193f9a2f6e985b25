"""The command line: a thin shell that parses, calls the library, and prints (rich or --json)."""

# ruff: noqa: E402  (the signal handlers go in before the slow imports)

from __future__ import annotations

import contextlib
import os
import signal
import sys


def _stopped_early(signum: int, frame: object) -> None:
    """SIGINT/SIGTERM before :func:`main` runs (while the program imports): nothing has been
    written yet, so say so and go."""
    os.write(2, b"movierec: interrupted\n")
    os._exit(128 + signum)


_EXIT: list[int] = []
"""The program's exit code, once :func:`main` has it."""
_LATE: list[int] = []
"""Signals that came after :func:`main` had its exit code: recorded, and raised only to cut
short an ``atexit`` callback (:func:`_on_late_signal`)."""
_CLEANING_UP: list[bool] = []
"""Non-empty once Python runs the ``atexit`` callbacks (:func:`_cleaning_up`)."""


def _on_late_signal(signum: int, frame: object) -> None:
    """SIGINT/SIGTERM once the work is done: the exit code becomes 130/143; during the
    ``atexit`` callbacks (a JVM stopping, say), the one running is cut short, quietly."""
    _LATE.append(signum)
    if _CLEANING_UP:
        raise Interrupted(signum)


def _cleaning_up() -> None:
    """The first ``atexit`` callback (registered last, by :func:`_end`)."""
    _CLEANING_UP.append(True)


def _last_word() -> None:
    """The program's last ``atexit`` callback (registered first): once everything else has
    been cleaned up, exit with :func:`main`'s code, or 130/143 if a signal came meanwhile.
    Exiting here skips Python's own teardown, during which a signal would end the process
    as Python saw fit (ignored: exit 0; or, once it restores the default, death by signal)."""
    if not _EXIT:
        return
    _CLEANING_UP.clear()  # a signal from here on is only recorded: this is the way out
    code = _EXIT[-1]
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if _LATE and code not in (130, 143):
        os.write(2, b"movierec: interrupted\n")
        code = 128 + _LATE[0]
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    os._exit(code)


if __name__ == "__main__" or os.path.basename(sys.argv[0]) in ("movierec", "movierec.exe"):
    # The program itself (not an import): the one line and 130/143 from the first instant
    # to the last.
    import atexit

    for _signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(_signum, _stopped_early)
    atexit.register(_last_word)

import functools
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

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
from .serving import Source, serving_catalogue


class _Command(TyperCommand):
    """A command whose help names each argument by its metavar alone (``TITLE``), where typer
    writes ``{title}`` in the usage line and ``title <str>`` in the list of arguments."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or str(param.name).upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((param.metavar or record[0], record[1]))
            else:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


class _Typer(typer.Typer):
    """Typer whose commands are :class:`_Command`."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["cls"] = kwargs.get("cls") or _Command
        return super().command(*args, **kwargs)


app = _Typer(
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
        from ._version import __version__

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


# Option types shared by the commands. Each says only what is true for the commands that take
# it: where that differs (a URI for Spark, a model that is trained or only read), there are two.
DATASETS_HELP = "ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m or ml-latest-small"
DatasetOpt = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        "-d",
        metavar="NAME",
        help=f"{DATASETS_HELP} [default: ml-1m if available, else the bundled ml-latest-small]",
    ),
]
ModelDatasetOpt = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        "-d",
        metavar="NAME",
        help=f"{DATASETS_HELP} [default: the --model's; else ml-1m if available, else the "
        "bundled ml-latest-small]",
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help=f"folder holding each dataset's folder (ml-1m/, …) in GroupLens' layout [env: "
        f"{config.DATA_DIR_ENV}]",
    ),
]
RATINGS_HELP = (
    "your own ratings instead of a MovieLens dataset: a .csv or .parquet file with columns "
    "user_id, movie_id, rating[, timestamp] (or a '::'-separated .dat)"
)
URI_HELP = "; with --engine spark also a URI that Spark reads (hdfs://, s3a://, file://…)"
MOVIES_HELP = (
    "with --ratings: a .csv or .parquet file with movie_id, title[, genres] [default: movies "
    "are called 'Movie <id>']"
)
RatingsOpt = Annotated[str | None, typer.Option("--ratings", metavar="FILE", help=RATINGS_HELP)]
RatingsUriOpt = Annotated[
    str | None, typer.Option("--ratings", metavar="FILE|URI", help=RATINGS_HELP + URI_HELP)
]
MoviesOpt = Annotated[str | None, typer.Option("--movies", metavar="FILE", help=MOVIES_HELP)]
MoviesUriOpt = Annotated[
    str | None, typer.Option("--movies", metavar="FILE|URI", help=MOVIES_HELP + URI_HELP)
]
MinRatingOpt = Annotated[
    float, typer.Option("--min-rating", metavar="RATING", help="ratings below this are dropped")
]
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        metavar="DIR",
        help="a model saved by `movierec train --out DIR` [default: the default model for the "
        "data, trained on first use and cached]",
    ),
]
CatalogueModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        metavar="DIR",
        help="read the movies and their popularity from a model saved by `movierec train --out "
        "DIR`, no ratings [default: from the dataset's ratings]",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
CountOpt = Annotated[int, typer.Option("-n", "--n", metavar="N", help="how many results")]
MOVIE_HELP = (
    "a title as you would type it, or a movie_id: a bare number is the movie with that id when "
    'there is one, else a title (add the year for a title that is a number: "2010 (1984)")'
)
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        metavar="ENGINE",
        help="local, or spark (Apache Spark: pip install 'movierec[spark]', Java 17)",
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: local[N], spark://HOST:PORT, yarn, k8s://… [default: the "
        "running session's (spark-submit), else local[2]]",
    ),
]
LIKE_OPTION = typer.Option(
    "--like", "-l", metavar="TITLE", help=f"a movie you like (repeat the option): {MOVIE_HELP}"
)
LikeOpt = Annotated[list[str], LIKE_OPTION]


def _named(rec: Any, names: list[str]) -> list[Any]:
    """The movies named on the command line (titles or movie ids); a note on a choice made (the
    most rated of several movies with one title) goes to stderr, once per movie."""
    from .titles import notes_of

    resolutions = [rec.resolve(name) for name in names]
    for note in notes_of(resolutions):
        notice(note)
    return [rec.movie(r.movie_id) for r in resolutions]


def _recommender(
    source: Source,
    min_rating: float,
    model: Path | None,
    titles: list[str] | None = None,
    loaded: Any = None,
) -> Any:
    """The model that answers (:func:`movierec.serving.serving_recommender`), with BLAS held to
    one thread for the rest of the command."""
    from threadpoolctl import threadpool_limits

    from .serving import serving_recommender

    rec = serving_recommender(source, min_rating, model, titles, loaded)
    # What follows is a few small solves per answer: BLAS threads only add contention. The
    # limit lasts for the command (restored by _run), so a later fit in the same process,
    # a notebook's or a test's, runs as it would have.
    _COMMAND.enter_context(threadpool_limits(limits=1, user_api="blas"))
    return rec


@app.command()
def stats(
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    as_json: JsonOpt = False,
) -> None:
    """Ratings, users and movies before and after --min-rating.

    \b
    Examples:
      movierec stats
      movierec stats --ratings mine.csv --min-rating 4 --json
    """
    from .analysis import stats as compute

    result = compute(
        Source(dataset, data_dir, ratings_file, movies_file).load(min_rating), min_rating
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


@app.command()
def popular(
    n: CountOpt = 30,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: CatalogueModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The N movies with the most kept ratings.

    \b
    Examples:
      movierec popular -n 10
      movierec popular --model my-model --json
    """
    config.check_n(n, "-n")
    source = Source(dataset, data_dir, ratings_file, movies_file)
    catalogue = serving_catalogue(source, min_rating, model)
    ids, popularity = catalogue.most_popular(n)
    listed = ((catalogue.movie(int(i)), int(p)) for i, p in zip(ids, popularity))
    movies = [(m, p) for m, p in listed if m is not None]  # its own ids: every one is a movie
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
    query: Annotated[str, typer.Argument(metavar="QUERY", help="part of a title; typos are fine")],
    n: CountOpt = 10,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: CatalogueModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find movies by title; typos are fine.

    Exact matches first, then titles that start with the query, then those holding every word
    of it, then near misses (typos).

    \b
    Examples:
      movierec search "star wars"
      movierec search amelie -n 3 --json
    """
    config.check_n(n, "-n")
    source = Source(dataset, data_dir, ratings_file, movies_file)
    catalogue = serving_catalogue(source, min_rating, model)
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
    title: Annotated[str, typer.Argument(metavar="TITLE", help=f"the movie: {MOVIE_HELP}")],
    n: CountOpt = 10,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Movies similar to one movie.

    By the model's item-item similarity; the movie itself never comes back.

    \b
    Examples:
      movierec similar "Toy Story"
      movierec similar 260 -n 5 --model my-model --json
    """
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


DB_HELP = (
    "the profile database: a SQLite file's path or postgresql://USER:PASSWORD@HOST/DB "
    "[default: profiles.db in the cache folder]"
)
DbOpt = Annotated[str | None, typer.Option("--db", metavar="DB", help=DB_HELP)]


ProfilesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--profile",
        "-p",
        metavar="ID",
        help="instead of --like: a profile of --db (its ratings and hidden movies); two to "
        "six: picks for a movie night, average without misery",
    ),
]
ExplainOpt = Annotated[bool, typer.Option("--explain", help="say which liked movies led to each")]


@app.command()
def recommend(
    like: Annotated[list[str] | None, LIKE_OPTION] = None,
    profile: ProfilesOpt = None,
    db: DbOpt = None,
    n: CountOpt = 10,
    explain: ExplainOpt = False,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recommendations for the movies you like, or for profiles.

    The likes are folded into the model (no retraining) and never come back. With --profile,
    ratings below --min-rating count against, and nothing rated or hidden comes back; with
    two or more profiles, each pick says whose taste it serves most.

    \b
    Examples:
      movierec recommend --like "Toy Story" --like Jumanji --like Heat
      movierec recommend -l 1 -l 2 --explain --model my-model
    """
    config.check_n(n, "-n")
    source = Source(dataset, data_dir, ratings_file, movies_file)
    if _for_profiles(like, profile, db):
        _recommend_for_profiles(source, min_rating, model, db, profile or [], n, explain, as_json)
        return
    like = like or []
    rec = _recommender(source, min_rating, model, like)
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
    title: Annotated[
        str, typer.Argument(metavar="TITLE", help=f"the movie to score: {MOVIE_HELP}")
    ],
    like: LikeOpt,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One movie's score for someone who likes the given movies.

    \b
    Examples:
      movierec score "Toy Story 2" --like "Toy Story"
      movierec score 3114 -l 1 -l 2 --model my-model --json
    """
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


PresetOpt = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="default (a DLAE of the EASE family, best on ML-1M), "
        + ", ".join(name for name in config.PRESETS if name != "default")
        + " (spark-als: with --engine spark), or a preset saved "
        "by `movierec tune --save-preset` "
        f"[default: default; above {config.DENSE_ITEMS_LIMIT:,} movies "
        f"{config.DENSE_HEAD_PRESET} (default on the movies with ≥ "
        f"{config.DENSE_HEAD_MIN_RATINGS} ratings) where those are ≤ "
        f"{config.DENSE_ITEMS_LIMIT:,} and all ≤ {config.DENSE_HEAD_ITEMS_LIMIT:,}, else "
        f"{config.CAPPED_HEAD_PRESET} (default on the {config.DENSE_HEAD_CAP:,} most-rated) "
        f"where they hold ≥ {config.CAPPED_HEAD_MIN_SHARE:.0%} of the kept ratings, else "
        f"{config.LARGE_CATALOGUE_PRESET}; spark-als with --engine spark]",
    ),
]
FactorsOpt = Annotated[
    int | None, typer.Option(metavar="N", help="latent factors (ALS/iALS presets)")
]
RegularizationOpt = Annotated[
    float | None, typer.Option(metavar="LAMBDA", help="L2 regularization")
]
AlphaOpt = Annotated[
    float | None,
    typer.Option(metavar="ALPHA", help="confidence = alpha × weight (ALS presets)"),
]
IterationsOpt = Annotated[int | None, typer.Option(metavar="N", help="sweeps (ALS/iALS presets)")]
WeightingOpt = Annotated[str | None, typer.Option(metavar="NAME", help="rating, binary or bm25")]
SeedOpt = Annotated[int | None, typer.Option(metavar="N", help="random seed")]
GpuOpt = Annotated[bool, typer.Option("--gpu", help="train with implicit's CUDA ALS")]


def _flag_hint(parameter: str, example: object) -> str:
    """How a hyperparameter is given on the command line, as an error's way out."""
    return f"pass e.g. --{parameter.replace('_', '-')} {example}"


WithProfilesOpt = Annotated[
    str | None,
    typer.Option(
        "--with-profiles",
        metavar="DB",
        help="add the ratings of the profiles in this profile database that consent to "
        "training (each a new user, ids above the data's); the model records it",
    ),
]
OVERRIDES = ("factors", "regularization", "alpha", "iterations", "weighting", "seed", "min_rating")
"""The options of ``train`` that override a preset's settings, in its parameters' order."""


@app.command()
def train(
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="folder to save the model in")
    ],
    preset: PresetOpt = None,
    factors: FactorsOpt = None,
    regularization: RegularizationOpt = None,
    alpha: AlphaOpt = None,
    iterations: IterationsOpt = None,
    weighting: WeightingOpt = None,
    seed: SeedOpt = None,
    gpu: GpuOpt = False,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = None,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsUriOpt = None,
    movies_file: MoviesUriOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    with_profiles: WithProfilesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a model and save it for --model.

    A preset, with any hyperparameters overridden.

    \b
    Examples:
      movierec train --out my-model
      movierec train --ratings mine.csv --preset als-tuned --factors 64 --out mine
    """
    from .training import TrainingPlan

    given = (factors, regularization, alpha, iterations, weighting, seed, min_rating)
    overrides = dict(zip(OVERRIDES, given, strict=True))
    # An --out it may not replace, a bad preset or value, or an engine that cannot train the
    # model: refused here, before any loading.
    plan = TrainingPlan(
        preset,
        overrides,
        engine,
        gpu,
        spark_master,
        out,
        hint=_flag_hint,
        with_profiles=with_profiles,
    )
    if plan.warning:
        line(f"movierec: warning: {plan.warning}", stderr=True)
    run = plan.run(Source(dataset, data_dir, ratings_file, movies_file))
    if as_json:
        emit_json(run.to_dict())
        return
    rec = run.recommender
    if run.profiles is not None:
        _say_added(run.profiles)
    line(
        f"Trained {rec.describe()} on {rec.dataset.name} ({len(rec.users):,} users × "
        f"{len(rec.items):,} movies) in {run.seconds:.2f} s; saved to {run.out}"
    )


def _for_profiles(like: list[str] | None, profile: list[str] | None, db: str | None) -> bool:
    """Whether ``recommend`` answers profiles (else liked movies); one line for a mix."""
    if profile:
        if like:
            raise MovieRecError("give movies you like (--like) or profiles (--profile), not both")
        return True
    if not like:
        raise MovieRecError(
            "name movies you like (--like TITLE, repeated) or profiles (--profile ID --db DB)"
        )
    if db is not None:
        raise MovieRecError("--db is for --profile; drop it, or name profiles with --profile ID")
    return False


def _say_added(added: Any) -> None:
    """What ``train --with-profiles`` added to the data."""
    left_out = f"; {added.left_out:,} of movies not in the data left out" if added.left_out else ""
    line(
        f"Added {added.ratings:,} ratings of {added.profiles:,} consenting profiles (user ids "
        f"from {added.first_user_id}) from {added.database}{left_out}"
    )


def _recommend_for_profiles(
    source: Source,
    min_rating: float,
    model: Path | None,
    db: str | None,
    profile_ids: list[str],
    n: int,
    explain: bool,
    as_json: bool,
) -> None:
    """``recommend --profile``: one profile's recommendations, or a movie night's picks."""
    from .movie_night import check_group_size
    from .profiles import ProfileStore

    if len(profile_ids) > 1:
        check_group_size(len(profile_ids))
    with ProfileStore.open(db, create=False) as store:
        members = [store.profile_data(profile_id) for profile_id in profile_ids]
    rec = _recommender(source, min_rating, model)
    if len(members) == 1:
        _one_profile(rec, members[0], n, explain, as_json)
        return
    if explain:
        notice("--explain is for one profile; a movie night's picks say whose taste they serve")
    _movie_night(rec, members, n, as_json)


def _one_profile(rec: Any, member: Any, n: int, explain: bool, as_json: bool) -> None:
    """``recommend --profile ID``: one profile's recommendations."""
    from .profiles.picks import recommend_for_profile

    results = recommend_for_profile(rec, member, n, explain)
    if results.why_empty:
        notice(f"no recommendations: {results.why_empty}")
    if as_json:
        emit_json([r.to_dict() for r in results])
    elif results:
        columns = ["#", "movie_id", "title", "score"] + (["because you liked"] * explain)
        title = member.profile.name or member.profile.profile_id
        table(f"For {title}", columns, scored_rows(results, explain))


def _movie_night(rec: Any, members: list[Any], n: int, as_json: bool) -> None:
    """``recommend --profile A --profile B …``: a movie night's picks."""
    from .movie_night import MISERY_PERCENTILE
    from .profiles.picks import movie_night

    picks = movie_night(rec, members, n)
    if picks.why_empty:
        notice(f"no picks: {picks.why_empty}")
    ids = [m.profile.profile_id for m in members]
    if as_json:
        emit_json(
            {
                "profiles": ids,
                "aggregation": f"average without misery ({MISERY_PERCENTILE})",
                "candidates": picks.candidates,
                "vetoed": picks.vetoed,
                "picks": [pick.to_dict(ids) for pick in picks],
            }
        )
        return
    names = [m.profile.name or m.profile.profile_id for m in members]
    rows = [
        [rank, p.movie.movie_id, p.movie.title, p.score, ", ".join(names[i] for i in p.serves)]
        for rank, p in enumerate(picks, start=1)
    ]
    if rows:
        table(
            f"Movie night for {', '.join(names)}",
            ["#", "movie_id", "title", "score", "serves most"],
            rows,
            caption=f"average without misery: {picks.vetoed:,} of {picks.candidates:,} "
            f"candidates dropped, below some member's {MISERY_PERCENTILE}",
        )


profile_app = _Typer(
    name="profile",
    help="Your ratings, hidden movies and watch list, kept.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(profile_app)
ProfileOpt = Annotated[str, typer.Option("--profile", "-p", metavar="ID", help="the profile")]
TitleArg = Annotated[str, typer.Argument(metavar="TITLE", help=f"the movie: {MOVIE_HELP}")]
UndoOpt = Annotated[bool, typer.Option("--undo", help="take it off the list")]


def _store(db: str | None, create: bool = False) -> Any:
    from .profiles import ProfileStore

    return ProfileStore.open(db, create=create)


def _movie_of(source: Source, min_rating: float, model: Path | None, title: str) -> Any:
    """The movie ``title`` names in the data's (or the model's) catalogue; its note on a
    choice made goes to stderr."""
    catalogue = serving_catalogue(source, min_rating, model)
    resolution = catalogue.resolve(title, source.named or "")
    if resolution.note is not None:
        notice(resolution.note)
    return catalogue.movie(resolution.movie_id)


@profile_app.command("create")
def profile_create(
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="a name to show")] = "",
    consent: Annotated[
        bool,
        typer.Option("--consent", help="its ratings may join training (train --with-profiles)"),
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a profile: its id, and its secret, shown this once.

    \b
    Examples:
      movierec profile create --name Ana --db profiles.db
      movierec profile create --consent --json
    """
    with _store(db, create=True) as store:
        new = store.create(name, consent)
        where = store.database.shown_as
    if as_json:
        emit_json(new.to_dict())
        return
    line(f"Profile {new.profile_id} made in {where}")
    line(f"Its secret (shown this once; the web page asks for it): {new.secret}")


@profile_app.command("list")
def profile_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The profiles of a database, oldest first.

    \b
    Examples:
      movierec profile list --db profiles.db
    """
    import time

    with _store(db) as store:
        found = store.profiles()
    if as_json:
        emit_json([p.to_dict() for p in found])
        return
    table(
        "Profiles",
        ["profile", "name", "created", "consents"],
        [
            [
                p.profile_id,
                p.name,
                time.strftime("%Y-%m-%d %H:%M", time.gmtime(p.created)),
                "yes" if p.consent_to_training else "no",
            ]
            for p in found
        ],
    )


@profile_app.command("show")
def profile_show(
    profile: ProfileOpt,
    db: DbOpt = None,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    model: CatalogueModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A profile's ratings, hidden movies and watch list.

    \b
    Examples:
      movierec profile show --profile PROFILE_ID --db profiles.db
    """
    with _store(db) as store:
        data = store.profile_data(profile)
    if as_json:
        emit_json(data.to_dict())
        return
    catalogue = serving_catalogue(Source(dataset, data_dir), config.MIN_RATING, model)

    def title(movie_id: int) -> str:
        movie = catalogue.movie(movie_id)
        return movie.title if movie is not None else f"(movie {movie_id}, not in this data)"

    own = data.profile
    table(
        f"{own.name or own.profile_id}: {len(data.ratings)} ratings",
        ["movie_id", "title", "stars"],
        [[r.movie_id, title(r.movie_id), f"{r.stars:g}"] for r in data.ratings],
    )
    for heading, kept in (("Not interested", data.not_interested), ("Watch list", data.watchlist)):
        if kept:
            table(heading, ["movie_id", "title"], [[k.movie_id, title(k.movie_id)] for k in kept])


@profile_app.command("rate")
def profile_rate(
    title: TitleArg,
    stars: Annotated[
        float, typer.Argument(metavar="STARS", help="0.5 to 5 in half stars (1 to 5 in ml-1m)")
    ],
    profile: ProfileOpt,
    db: DbOpt = None,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    model: CatalogueModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rate a movie for a profile (again: the new rating replaces it).

    \b
    Examples:
      movierec profile rate --profile PROFILE_ID "Toy Story" 4.5
    """
    from .profiles.picks import rating_scale

    source = Source(dataset, data_dir)
    with _store(db) as store:
        store.profile(profile)  # an unknown profile is named before any data loads
        movie = _movie_of(source, config.MIN_RATING, model, title)
        store.scale = rating_scale(source.named, model)
        store.rate(profile, movie.movie_id, stars)
    if as_json:
        emit_json(
            {"profile": profile, "movie_id": movie.movie_id, "title": movie.title, "stars": stars}
        )
        return
    line(f"{movie.title}: {stars:g} star{'' if stars == 1 else 's'}")


def _listed(
    action: str,
    profile: str,
    title: str,
    db: str | None,
    source: Source,
    model: Path | None,
    as_json: bool,
) -> None:
    """hide, watch, unrate: a movie put on (or taken off) one of a profile's lists."""
    with _store(db) as store:
        store.profile(profile)
        movie = _movie_of(source, config.MIN_RATING, model, title)
        changed = getattr(store, action)(profile, movie.movie_id)
    if as_json:
        emit_json(
            {
                "profile": profile,
                "movie_id": movie.movie_id,
                "title": movie.title,
                "done": action,
                "changed": changed is not False,
            }
        )
        return
    words = {
        "hide": "not interested",
        "unhide": "no longer hidden",
        "watch": "on the watch list",
        "unwatch": "off the watch list",
        "unrate": "rating removed",
    }
    if changed is False:
        line(f"{movie.title}: nothing to undo")
    else:
        line(f"{movie.title}: {words[action]}")


@profile_app.command("unrate")
def profile_unrate(
    title: TitleArg,
    profile: ProfileOpt,
    db: DbOpt = None,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    model: CatalogueModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a profile's rating of a movie.

    \b
    Examples:
      movierec profile unrate --profile PROFILE_ID "Toy Story"
    """
    _listed("unrate", profile, title, db, Source(dataset, data_dir), model, as_json)


@profile_app.command("hide")
def profile_hide(
    title: TitleArg,
    profile: ProfileOpt,
    undo: UndoOpt = False,
    db: DbOpt = None,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    model: CatalogueModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark a movie "not interested": it never comes back as a pick.

    \b
    Examples:
      movierec profile hide --profile PROFILE_ID "Toy Story 3"
    """
    action = "unhide" if undo else "hide"
    _listed(action, profile, title, db, Source(dataset, data_dir), model, as_json)


@profile_app.command("watch")
def profile_watch(
    title: TitleArg,
    profile: ProfileOpt,
    undo: UndoOpt = False,
    db: DbOpt = None,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    model: CatalogueModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a movie on a profile's watch list (rating it takes it off).

    \b
    Examples:
      movierec profile watch --profile PROFILE_ID Heat
    """
    action = "unwatch" if undo else "watch"
    _listed(action, profile, title, db, Source(dataset, data_dir), model, as_json)


@profile_app.command("consent")
def profile_consent(
    profile: ProfileOpt,
    withdraw: Annotated[bool, typer.Option("--withdraw", help="withdraw the consent")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Let a profile's ratings join training (train --with-profiles).

    \b
    Examples:
      movierec profile consent --profile PROFILE_ID --db profiles.db
    """
    with _store(db) as store:
        store.set_consent(profile, not withdraw)
    if as_json:
        emit_json({"profile": profile, "consent_to_training": not withdraw})
        return
    line(f"Profile {profile} {'withdrew its' if withdraw else 'gave its'} consent to training")


@profile_app.command("export")
def profile_export(profile: ProfileOpt, db: DbOpt = None) -> None:
    """Print everything a profile holds as JSON (for profile import).

    \b
    Examples:
      movierec profile export --profile PROFILE_ID --db profiles.db
    """
    with _store(db) as store:
        emit_json(store.export(profile))


@profile_app.command("import")
def profile_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="a file written by profile export")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a profile from an export: a new id, and a new secret.

    \b
    Examples:
      movierec profile import me.json --db profiles.db
    """
    import json

    try:
        exported = json.loads(file.read_bytes())
    except OSError as exc:
        raise MovieRecError(f"cannot read {file}: {exc.strerror}; check the path") from None
    except (ValueError, RecursionError):
        raise MovieRecError(
            f"{file} is not JSON; give a file written by `movierec profile export`"
        ) from None
    with _store(db, create=True) as store:
        new = store.import_profile(exported)
    if as_json:
        emit_json(new.to_dict())
        return
    line(f"Profile {new.profile_id} made from {file}")
    line(f"Its secret (shown this once): {new.secret}")


@profile_app.command("delete")
def profile_delete(profile: ProfileOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Delete a profile and every rating and list entry it holds.

    \b
    Examples:
      movierec profile delete --profile PROFILE_ID --db profiles.db
    """
    with _store(db) as store:
        removed = store.delete(profile)
    if as_json:
        emit_json({"profile": profile, "deleted": removed})
        return
    line(
        f"Profile {profile} deleted, with its {removed['ratings']:,} ratings, "
        f"{removed['not_interested']:,} hidden movies and {removed['watchlist']:,} on its "
        "watch list"
    )


@app.command("recommend-all")
def recommend_all(
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE", help="the Parquet file to write")
    ],
    n: CountOpt = 10,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = None,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsUriOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Top-N for every user, written as one Parquet file.

    Columns user_id, rank, movie_id, score; the movies each user rated are left out. --engine
    spark scores the users as Spark tasks (same file), and with --ratings URI Spark reads the
    model's ratings itself. --json prints {"out", "users", "rows", "n", "engine"}.

    \b
    Examples:
      movierec recommend-all --out recs.parquet
      movierec recommend-all --model my-model -n 20 --out recs.parquet
    """
    from .batch import recommend_all_for
    from .spark.engine import check_engine

    config.check_n(n, "-n")
    check_engine(engine, None, spark_master)
    written = recommend_all_for(
        Source(dataset, data_dir, ratings_file, movies_file),
        n,
        out,
        model=model,
        min_rating=min_rating,
        spark=engine == "spark",
        spark_master=spark_master,
    )
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
            metavar="TITLE",
            help="your five favourites [default: the course notebook's five: "
            + ", ".join(config.DEMO_FAVOURITES)
            + f"]; each {MOVIE_HELP}",
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
    """The course notebook's whole story in one run, done right.

    \b
    Examples:
      movierec demo
      movierec demo -l "Toy Story" -l Heat -l Sabrina --json
    """
    from .demo import run_demo

    config.check_n(n, "-n")
    report = run_demo(
        Source(dataset, data_dir, ratings_file, movies_file).load(min_rating),
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
    """The MovieLens variants, and which are on this machine.

    \b
    Examples:
      movierec datasets
      movierec datasets --json
    """
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
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="the dataset: ml-100k, ml-1m, …, ml-latest-small")
    ],
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download a dataset now (checked and cached).

    Verified by its checksum and kept in the cache, even right after a failed try.

    \b
    Examples:
      movierec fetch ml-1m
      movierec fetch ml-100k --json
    """
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
        Path,
        typer.Option("--out", "-o", metavar="DIR", help="folder for index.html and the PNG charts"),
    ],
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    model: ModelOpt = None,
    eval_file: Annotated[
        Path | None,
        typer.Option(
            "--eval",
            metavar="FILE",
            help="results of `movierec evaluate --json`, to add their table and plot",
        ),
    ] = None,
) -> None:
    """Write an HTML report with charts of the data and model.

    index.html and its PNG charts; no network is needed to view them.

    \b
    Examples:
      movierec report --out report
      movierec report --model my-model --out report
    """
    from .report import build_report, prepare_output, read_evaluation

    # Fail fast, before any slow work, and leave nothing behind when the results are bad.
    evaluation = read_evaluation(eval_file) if eval_file is not None else None
    directory = prepare_output(out)
    source = Source(dataset, data_dir, ratings_file, movies_file)
    ds = source.of_model(model).load(min_rating)
    rec = _recommender(source, min_rating, model, loaded=ds)  # charts need ratings
    written = build_report(ds, rec, directory, min_rating, evaluation)
    line(f"Report written: {written.index} ({len(written.images)} charts)", stderr=True)


@app.command()
def serve(
    model: ModelOpt = None,
    host: Annotated[
        str,
        typer.Option(metavar="ADDRESS", help="address to listen on (127.0.0.1: this machine only)"),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, metavar="N", help="TCP port")] = 8000,
    dataset: ModelDatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: MinRatingOpt = config.MIN_RATING,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="log each request")
    ] = True,
    db: DbOpt = None,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote", help="serve on an address other machines reach (behind HTTPS)"
        ),
    ] = False,
) -> None:
    """Serve the web page and JSON API until Ctrl+C.

    The API is documented at /docs.

    \b
    Examples:
      movierec serve
      movierec serve --model my-model --port 8080
    """
    import uvicorn

    from .web import check_listen_address, create_app
    from .web.app import SERVER_OPTIONS

    check_listen_address(host, allow_remote)
    # Each request is one small solve: _recommender limits BLAS to one thread, which would
    # otherwise only contend with the server's own.
    rec = _recommender(Source(dataset, data_dir, ratings_file, movies_file), min_rating, model)
    web_app = create_app(rec, db)
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
        **SERVER_OPTIONS,  # type: ignore[arg-type]
    )


ProtocolOpt = Annotated[
    str,
    typer.Option(
        "--protocol",
        "-p",
        metavar="NAME",
        help="recbole (ratings ≥ 3, 10-core, 8:1:1), ratio, loo, loo-latest, kfold or strong",
    ),
]
ProtocolMinRatingOpt = Annotated[
    float | None,
    typer.Option(
        "--min-rating",
        metavar="RATING",
        help="ratings below this are dropped [default: the protocol's, 3]",
    ),
]


ModelsOpt = Annotated[
    str,
    typer.Option(
        "--models",
        metavar="LIST",
        help="comma-separated presets (default, notebook, …) or models (als, ease, …), each "
        "optionally with overrides: als:factors=128:weighting=bm25",
    ),
]
KOpt = Annotated[int, typer.Option("-k", metavar="K", help="length K of each ranked list")]
SeedsOpt = Annotated[
    int, typer.Option("--seeds", metavar="N", help="how many seeded splits to average over")
]
PlotOpt = Annotated[
    Path | None,
    typer.Option("--plot", metavar="DIR", help="also write PNG plots into this folder"),
]


@app.command()
def evaluate(
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: ProtocolMinRatingOpt = None,
    protocol: ProtocolOpt = "recbole",
    models: ModelsOpt = "default",
    k: KOpt = 10,
    seeds: SeedsOpt = 1,
    plot: PlotOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare models on held-out ratings (NDCG, recall, …).

    Models side by side on a held-out test part: each metric as mean ± std over seeds, and
    each model's paired difference in NDCG from the first one named. `default` is the model
    movierec uses when none is named, `notebook` the course notebook's settings. --json prints
    {"protocol": {…}, "results": [{model, metric, k, mean, std}, …], "paired": [{model,
    baseline, metric, k, mean, stderr, runs, wins}, …]}; training time is the metric
    fit_seconds (k null); "paired" holds NDCG@k of each model after the first minus the
    first's, on the same splits (empty for one model).

    \b
    Examples:
      movierec evaluate --models default,notebook,pop
      movierec evaluate --protocol loo --seeds 3 --json
    """
    from .evaluation.study import compare_models

    source = Source(dataset, data_dir, ratings_file, movies_file)
    compared = compare_models(source, protocol, models, k, seeds, min_rating, plot)
    if plot is not None:
        line(f"Plots written: {', '.join(str(p) for p in compared.plots)}", stderr=True)
    if as_json:
        emit_json(compared.evaluation.to_json())
        return
    evaluation_table(compared.evaluation, k)


TrialsOpt = Annotated[
    int, typer.Option("--trials", "-t", metavar="N", help="how many settings to try")
]
TuneSeedOpt = Annotated[
    int, typer.Option(metavar="N", help="seed of the split and of the TPE sampler")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(metavar="SECONDS", help="stop starting trials after this many seconds"),
]
SavePresetOpt = Annotated[
    str | None,
    typer.Option(
        "--save-preset",
        metavar="NAME",
        help="save the winners as this user preset (cache dir)",
    ),
]


@app.command()
def tune(
    model: Annotated[
        str, typer.Argument(metavar="MODEL", help="the model to tune: als, ease, itemknn, bpr, …")
    ],
    trials: TrialsOpt = 20,
    dataset: DatasetOpt = None,
    data_dir: DataDirOpt = None,
    ratings_file: RatingsOpt = None,
    movies_file: MoviesOpt = None,
    min_rating: ProtocolMinRatingOpt = None,
    protocol: ProtocolOpt = "recbole",
    seed: TuneSeedOpt = config.SEED,
    timeout: TimeoutOpt = None,
    save_preset: SavePresetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search a model's hyperparameters with optuna.

    Scored on validation NDCG@10, never test. The shipped presets (listed by `movierec train
    --help`) come from runs of this command on ML-1M, protocol recbole; --save-preset keeps
    your winners in the cache dir for `evaluate --models NAME` and `train --preset NAME`.

    \b
    Examples:
      movierec tune ease --trials 20
      movierec tune als --trials 50 --save-preset my-als
    """
    from .evaluation.study import tune_model

    source = Source(dataset, data_dir, ratings_file, movies_file)
    tuned = tune_model(source, model, trials, protocol, min_rating, seed, timeout, save_preset)
    if as_json:
        emit_json(tuned.to_json())
        return
    result = tuned.result
    line(
        f"Best {model} of {len(result.trials)} trials on {tuned.dataset} (protocol "
        f"{tuned.protocol}, seed {seed}): validation NDCG@10 {result.best_value:.4f}"
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
    if tuned.saved:
        line(f"Saved as preset {save_preset!r} in {tuned.saved}; use --models {save_preset}")


class Interrupted(BaseException):
    """Raised by the SIGINT/SIGTERM handlers, past typer (which turns KeyboardInterrupt into an
    exit code) and past ``except Exception``, so every ``finally`` cleans up on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_SIGNALLED: list[int] = []
"""The signals :func:`_on_signal` took during this run. One whose :class:`Interrupted` was
swallowed on the way (raised inside a finaliser: ``Exception ignored in …``) still ends the run
as interrupted."""


def _on_signal(signum: int, frame: object) -> None:
    _SIGNALLED.append(signum)
    # A second Ctrl+C during the clean-up stops at once.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Interrupted(signum)


def _quiet_interrupts(hook: Any, unraisable: Any) -> None:
    """``sys.unraisablehook`` while a command runs: an interrupt that lands in a finaliser says
    nothing there (:data:`_SIGNALLED` ends the run); anything else goes to ``hook``."""
    if not isinstance(unraisable.exc_value, (Interrupted, KeyboardInterrupt)):
        hook(unraisable)


_COMMAND = contextlib.ExitStack()
"""What a command changed for its own run (the BLAS thread limit), undone when it ends."""


def _run(argv: list[str] | None) -> int:
    from . import progress, progress_display

    try:
        # Long steps show on stderr: a live bar on a terminal, timed lines otherwise.
        with progress.reporting(progress_display.for_stream(sys.stderr)), _COMMAND:
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
    how); 1 an internal error or a refusal of the system, such as stdout on a full disk (one
    line; ``MOVIEREC_DEBUG=1`` shows the traceback); 130/143 interrupted by SIGINT
    (Ctrl+C)/SIGTERM, with nothing half-written left behind. Without ``argv`` it is the program
    itself: stdout is flushed here, and the signals stay answered until the process is gone."""
    program = argv is None
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: signals stay as they are
            previous[signum] = signal.signal(signum, _on_signal)
    _SIGNALLED.clear()
    hook = sys.unraisablehook
    sys.unraisablehook = functools.partial(_quiet_interrupts, hook)
    try:
        code = _outcome(argv)
        if program and previous:
            code = _end(code)
        elif _SIGNALLED and code not in (130, 143):
            notice("interrupted")
            code = 128 + _SIGNALLED[0]
        return code
    finally:
        if not program:  # the program keeps both till it is gone: atexit's errors go there
            sys.unraisablehook = hook
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _outcome(argv: list[str] | None) -> int:
    """The exit code of the command, its one line printed."""
    try:
        return _run(argv)
    except Interrupted as exc:
        notice("interrupted")
        return 128 + exc.signum
    except BrokenPipeError:
        # The reader went away (`movierec … | head`): not an error; silence the final flush.
        _silence_stdout()
        return 0
    except MemoryError:
        error("out of memory; try a smaller dataset or model (fewer --factors)")
        return 1
    except OSError as exc:
        if os.environ.get("MOVIEREC_DEBUG"):
            raise
        if exc.filename is None and (_writing_stdout(exc) or _stdout_broken()):
            _silence_stdout()
            error(f"cannot write the output: {exc.strerror or exc} (stdout)")
            return 1
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


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's last flush of what it still holds succeeds
    (instead of exit 120 and ``Exception ignored …``)."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _writing_stdout(exc: BaseException) -> bool:
    """Whether ``exc`` was raised writing to stdout: a frame on its way holds stdout as
    ``file``, or as the ``file`` of its ``self`` (click's echo, rich's console), or the last
    one writes to ``sys.stdout`` itself."""
    streams = (sys.stdout, sys.__stdout__)
    tb = exc.__traceback__
    while tb is not None:
        names = tb.tb_frame.f_locals
        if names.get("file") in streams or getattr(names.get("self"), "file", None) in streams:
            return True
        if tb.tb_next is None:
            return "stdout" in tb.tb_frame.f_code.co_names
        tb = tb.tb_next
    return False


def _stdout_broken() -> bool:
    """Whether stdout refuses what it holds (a full disk, a closed pipe); if so it is silenced."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        _silence_stdout()
        return True
    return False


def _end(code: int) -> int:
    """The program's exit code once stdout is written out. A signal from here on is recorded
    (:data:`_LATE`): the work is done, and :func:`_last_word` makes it the exit code once
    Python's own clean-up has run."""
    import atexit

    atexit.register(_cleaning_up)
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _on_late_signal)
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
        except (OSError, ValueError) as exc:
            _silence_stdout()
            if code == 0:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                error(f"cannot write the output: {reason} (stdout)")
                code = 1
    except Interrupted as exc:
        _LATE.append(exc.signum)
    signalled = _SIGNALLED or _LATE
    if signalled and code not in (130, 143):
        notice("interrupted")
        code = 128 + signalled[0]
    _LATE.clear()
    _EXIT.append(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
