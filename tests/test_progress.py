"""Long work is never silent and never in the way: each long step reports its progress
(movierec.progress); the command line shows it on stderr (a live bar on a terminal, a start line,
status lines at most every 10 s and an end line elsewhere); the library alone prints nothing."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from movierec import progress, progress_display
from movierec.cli import main

SMALL = ["--dataset", "ml-latest-small"]
ANSI = re.compile(r"\x1b")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def plain(clock: FakeClock, **options) -> tuple[io.StringIO, progress_display.PlainReporter]:
    out = io.StringIO()
    return out, progress_display.PlainReporter(stream=out, clock=clock, ticking=False, **options)


class Recording(progress.Reporter):
    """Every event, as (event, step what, units done, total, status, note)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple] = []

    def _record(self, event: str, step: progress.Step, note: str = "") -> None:
        parent = step.parent.what if step.parent else None
        self.events.append(
            (event, step.described, step.completed, step.total, step.status, note, parent)
        )

    def started(self, step: progress.Step) -> None:
        self._record("started", step)

    def changed(self, step: progress.Step) -> None:
        self._record("changed", step)

    def noted(self, step: progress.Step, text: str) -> None:
        self._record("noted", step, text)

    def finished(self, step: progress.Step, ok: bool) -> None:
        self._record("finished" if ok else "failed", step)
        self.done = step.done

    def steps(self, event: str = "finished") -> list[tuple]:
        return [e for e in self.events if e[0] == event]


# ---- the plain lines (stderr not a terminal) ---------------------------------------------------


def test_a_step_quicker_than_a_second_says_nothing() -> None:
    clock = FakeClock()
    out, reporter = plain(clock)
    with progress.reporting(reporter), progress.step("parsing", done="parsed"):
        clock.advance(0.9)
        reporter.tick()
    assert out.getvalue() == ""


def test_plain_lines_say_what_runs_how_long_it_may_take_and_what_was_done() -> None:
    clock = FakeClock()
    out, reporter = plain(clock, width=120)
    what = "fitting als (20 iterations)"
    with (
        progress.reporting(reporter),
        progress.step(what, "fitted als (20 iterations)", 20, "iterations") as step,
    ):
        for second in range(1, 22):
            clock.advance(1.0)
            if second >= 2:  # set-up takes the first second; then one iteration a second
                step.advance()
            reporter.tick()
    assert out.getvalue().splitlines() == [
        # the start line waits for the first iteration, so that it can tell the time left;
        # from the second on, the set-up no longer counts
        "movierec: fitting als (20 iterations)… about 38.0 s left",  # 2 s for the first
        "movierec: fitting als (20 iterations): 11/20 iterations in 12.0 s, about 9.0 s left",
        "movierec: fitted als (20 iterations) in 21.0 s",
    ]


def test_status_lines_come_at_most_every_10_seconds_however_often_asked() -> None:
    clock = FakeClock()
    out, reporter = plain(clock)
    with progress.reporting(reporter), progress.step("fitting ease", done="fitted ease"):
        for _ in range(3550):  # 35.5 s, asked 100 times a second
            clock.advance(0.01)
            reporter.tick()
    lines = out.getvalue().splitlines()
    assert lines[0] == "movierec: fitting ease…"  # after 1 s
    assert [line.split(": ", 2)[2] for line in lines[1:-1]] == [
        "11.0 s so far",
        "21.0 s so far",
        "31.0 s so far",
    ]
    assert lines[-1] == "movierec: fitted ease in 35.5 s"


def test_a_counting_step_waits_at_most_10_seconds_for_its_first_unit() -> None:
    clock = FakeClock()
    out, reporter = plain(clock)
    with progress.reporting(reporter), progress.step("tuning", "tuned", 5, "trials"):
        for _ in range(9):
            clock.advance(1.0)
            reporter.tick()
        assert out.getvalue() == ""
        clock.advance(1.0)
        reporter.tick()
        assert out.getvalue() == "movierec: tuning…\n"


def test_inner_steps_and_notes_show_in_the_status_line_and_only_the_outer_step_ends() -> None:
    clock = FakeClock()
    out, reporter = plain(clock, status_every=8.0, width=200)
    with (
        progress.reporting(reporter),
        progress.step("evaluating 2 models", "evaluated 2 models", 2, "runs") as outer,
    ):
        for run in range(2):
            with progress.step(f"fitting model {run}", f"fitted {run}", 4, "iterations") as f:
                for _ in range(4):
                    clock.advance(3.0)
                    f.advance()
                    reporter.tick()
            outer.advance()
            outer.note(f"model {run}: ndcg@10 0.3{run}")
    lines = out.getvalue().splitlines()
    assert lines[0] == "movierec: evaluating 2 models…"  # at 9 s: no run done in 8 s
    assert lines[1] == (
        "movierec: evaluating 2 models: 1/2 runs in 18.0 s, about 6.0 s left; "
        "fitting model 1: 2/4 iterations, about 6.0 s left; last: model 0: ndcg@10 0.30"
    )
    assert lines[-1] == "movierec: evaluated 2 models in 24.0 s"
    assert len(lines) == 3 and not any("fitted" in line for line in lines)


def test_a_step_left_by_an_exception_prints_no_end_line() -> None:
    clock = FakeClock()
    out, reporter = plain(clock)
    with (
        pytest.raises(KeyboardInterrupt),
        progress.reporting(reporter),
        progress.step("fitting als", "fitted als"),
    ):
        clock.advance(5.0)
        reporter.tick()
        raise KeyboardInterrupt
    assert out.getvalue() == "movierec: fitting als…\n"


def test_the_time_left_is_measured_never_guessed() -> None:
    clock = FakeClock()
    with progress.reporting(progress.Reporter(clock)), progress.step("x", total=10) as step:
        clock.advance(5.0)
        assert step.seconds_left(clock()) is None  # nothing done yet: nothing to say
        step.advance()  # the first unit took 5 s, set-up included
        assert step.seconds_left(clock()) == pytest.approx(45.0)
        clock.advance(1.0)
        step.advance()  # then 1 s a unit: the set-up no longer counts
        assert step.seconds_left(clock()) == pytest.approx(8.0)


def test_no_time_left_is_told_for_units_too_unlike_to_tell() -> None:
    clock = FakeClock()
    out, reporter = plain(clock)
    with (
        progress.reporting(reporter),
        progress.step("sweeping factors", "swept", 6, "fits", estimate=False) as step,
    ):
        for _ in range(4):
            clock.advance(4.0)
            step.advance()
            reporter.tick()
        assert step.seconds_left(clock()) is None
    assert out.getvalue().splitlines() == [
        "movierec: sweeping factors…",  # at the first tick after 1 s; no time left told
        "movierec: sweeping factors: 4/6 fits in 16.0 s",
        "movierec: swept in 16.0 s",
    ]


def test_durations_read_naturally() -> None:
    assert [progress_display.duration(s) for s in (0.04, 12.34, 59.96, 125, 3720)] == [
        "0.0 s",
        "12.3 s",
        "1 min 00 s",
        "2 min 05 s",
        "1 h 02 min",
    ]


# ---- the terminal (a live rich bar) ----------------------------------------------------------


def terminal(clock: FakeClock) -> tuple[io.StringIO, progress_display.RichReporter]:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    return out, progress_display.RichReporter(
        console=console, clock=clock, ticking=False, show_after=0
    )


def test_on_a_terminal_a_bar_is_drawn_then_taken_away_for_the_end_line() -> None:
    clock = FakeClock()
    out, reporter = terminal(clock)
    with (
        progress.reporting(reporter),
        progress.step("fitting als", "fitted als (3 iterations)", 3, "iterations") as step,
    ):
        for _ in range(3):
            clock.advance(1.0)
            step.advance()
            step.note("an iteration")
            reporter.tick()
        reporter._progress.refresh()
        drawn = out.getvalue()
    assert "fitting als" in drawn and "iterations" in drawn and "━" in drawn  # the bar
    assert "an iteration" in drawn  # notes print above the bar
    rest = out.getvalue()[len(drawn) :]
    assert "\x1b[2K" in rest  # the bar is erased…
    assert rest.rstrip().endswith("movierec: fitted als (3 iterations) in 3.0 s")  # …then the end
    assert reporter._progress is None


def test_on_a_terminal_an_interrupted_step_takes_its_bar_away_and_says_nothing() -> None:
    clock = FakeClock()
    out, reporter = terminal(clock)
    with (
        pytest.raises(KeyboardInterrupt),
        progress.reporting(reporter),
        progress.step("fitting als", "fitted als", 3, "iterations") as step,
    ):
        step.advance()
        reporter._progress.refresh()
        raise KeyboardInterrupt
    text = out.getvalue()
    assert "fitting als" in text and "fitted" not in text
    after_erasing = text.rsplit("\x1b[2K", 1)[1]
    assert re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", after_erasing).strip() == ""
    assert reporter._progress is None


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_on_a_terminal_plain_lines_elsewhere(monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(progress_display.for_stream(FakeTerminal()), progress_display.RichReporter)
    assert isinstance(progress_display.for_stream(io.StringIO()), progress_display.PlainReporter)
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(progress_display.for_stream(FakeTerminal()), progress_display.PlainReporter)


# ---- what reports what ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix() -> sp.csr_matrix:
    return sp.random(60, 30, density=0.2, format="csr", random_state=0, dtype=np.float32)


@pytest.mark.parametrize(
    ("name", "params", "family", "units"),
    [
        ("als", {"factors": 4, "iterations": 3}, "implicit's ALS", 3),
        ("ials", {"factors": 4, "iterations": 2}, "iALS", 2),
        ("bpr", {"factors": 4, "iterations": 5}, "implicit's BPR", 5),
        ("ease", {}, "EASE", 30**3),  # flops of the solve: n³/3 to factor, 2n³/3 to invert
        ("ease", {"dropout": 0.3, "zero_diagonal": False}, "DLAE", 30**3),
        ("itemknn", {}, "item kNN", None),
    ],
)
def test_every_fit_reports_a_step_naming_its_model_as_described(
    matrix, name, params, family, units
) -> None:
    from movierec.models import make_model

    model = make_model(name, **params)
    assert model.describe().startswith(f"{family} (")
    recording = Recording()
    with progress.reporting(recording):
        model.fit(matrix)
    (finished,) = recording.steps()
    assert finished[1].startswith(f"fitting {family}") and "60 users × 30 items" in finished[1]
    assert finished[3] == units and (units is None or finished[2] == units)
    assert recording.done.startswith(f"fitted {family}")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    """An ML-1M-format folder: 120 users, each liking 12 of 40 movies."""
    from conftest import write_dat_dataset

    rng = np.random.default_rng(0)
    ratings = [
        f"{user}::{movie}::{rng.integers(3, 6)}::{978300000 + movie}"
        for user in range(1, 121)
        for movie in sorted(rng.choice(np.arange(1, 41), 12, replace=False))
    ]
    movies = [f"{m}::Movie {m} (1990)::Drama" for m in range(1, 41)]
    root = tmp_path_factory.mktemp("tiny")
    write_dat_dataset(root, ratings, movies)
    return root


@pytest.fixture(scope="module")
def tiny(tiny_dir: Path):
    from movierec import load_dataset

    return load_dataset("ml-1m", tiny_dir)


def test_evaluation_counts_runs_and_notes_each_result(tiny) -> None:
    from movierec.evaluation import evaluate, get_protocol, parse_model_specs

    recording = Recording()
    specs = parse_model_specs("ease,als:factors=4:iterations=2")
    with progress.reporting(recording):
        evaluate(tiny, get_protocol("ratio"), specs, seeds=[1, 2])
    outer = [e for e in recording.steps() if e[6] is None]
    assert len(outer) == 1 and outer[0][1].startswith("evaluating 2 models on ml-1m")
    assert outer[0][2:4] == (2, 2)  # a unit per split (2 seeds), both models fitted on each
    notes = [e[5] for e in recording.steps("noted")]
    assert len(notes) == 4 and all("ndcg@10" in note for note in notes)
    fits = [e for e in recording.steps() if e[6] is not None]
    assert len(fits) == 4 and all(e[1].startswith("fitting") for e in fits)


def test_tuning_counts_trials_with_the_best_value_so_far(tiny) -> None:
    from movierec.evaluation import get_protocol
    from movierec.evaluation.tuning import tune

    recording = Recording()
    with progress.reporting(recording):
        result = tune(tiny, get_protocol("ratio"), "ease", 2)
    (outer,) = [e for e in recording.steps() if e[6] is None]
    assert outer[1].startswith("tuning ease") and outer[2:4] == (2, 2)
    assert f"best valid ndcg@10 {result.best_value:.4f}" in outer[4]
    assert [e[5][:11] for e in recording.steps("noted")] == ["trial 1/2: ", "trial 2/2: "]
    assert f"2 trials, best validation NDCG@10 {result.best_value:.4f}" in recording.done


def test_the_library_alone_prints_nothing(capsys, tmp_path, monkeypatch, matrix) -> None:
    from conftest import write_dat_dataset

    from movierec import Recommender, Settings, load_dataset
    from movierec.models import make_model

    monkeypatch.setattr(progress_display, "SHOW_AFTER", 0.0)  # anything shown at all would show
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    ratings = [f"{u}::{m}::{(u * m) % 5 + 1}" for u in range(1, 40) for m in range(1, 5)]
    write_dat_dataset(tmp_path / "data", ratings)
    dataset = load_dataset("ml-1m", tmp_path / "data")  # a parse: the cache is cold
    Recommender.train(dataset, Settings.preset("als-tuned", iterations=2))
    make_model("bpr", iterations=2).fit(matrix)
    assert capsys.readouterr() == ("", "")
    make_model("als", iterations=2).fit(matrix, show_progress=True)  # asked for: shown
    out, err = capsys.readouterr()
    assert out == "" and "movierec: fitted implicit's ALS (2 iterations)" in err


# ---- the command line: stderr only ---------------------------------------------------------


def run(capsys, monkeypatch, show_after: float, *args: str) -> tuple[str, str]:
    monkeypatch.setattr(progress_display, "SHOW_AFTER", show_after)
    assert main(list(args)) == 0
    return capsys.readouterr()


def without_timings(evaluation_json: str) -> str:
    evaluation = json.loads(evaluation_json)
    evaluation["results"] = [r for r in evaluation["results"] if r["metric"] != "fit_seconds"]
    return json.dumps(evaluation)


@pytest.mark.slow  # ten cold runs
@pytest.mark.parametrize(
    "args",
    [
        ["stats", *SMALL, "--json"],
        ["recommend", "--like", "Toy Story", "-n", "3", *SMALL, "--json"],
        ["recommend", "--like", "Toy Story", "-n", "3", *SMALL],
        ["popular", "-n", "3", *SMALL],
        ["evaluate", *SMALL, "-p", "ratio", "--models", "pop,als:iterations=2", "--json"],
    ],
    ids=["stats --json", "recommend --json", "recommend", "popular", "evaluate --json"],
)
def test_progress_goes_to_stderr_and_leaves_stdout_byte_identical(
    capsys, monkeypatch, tmp_path, args
) -> None:
    results = []
    for show_after in (1e9, 0.0):  # never shown, then every step shown
        monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / f"cache-{show_after}"))  # cold
        results.append(run(capsys, monkeypatch, show_after, *args))
    (quiet_out, quiet_err), (shown_out, shown_err) = results
    if args[0] == "evaluate":  # fit timings differ from run to run; nothing else may
        quiet_out, shown_out = (without_timings(out) for out in (quiet_out, shown_out))
    assert shown_out == quiet_out
    assert quiet_err == ""
    lines = shown_err.splitlines()
    assert lines and not ANSI.search(shown_err)
    assert all(line.startswith("movierec: ") for line in lines)
    starts = [line for line in lines if line.endswith("…")]
    ends = [line for line in lines if re.search(r" in \d+\.\d s$", line)]
    assert len(starts) == len(ends) >= 1  # every step shown: its start line, then its end line


def test_a_piped_train_says_what_it_fits_and_how_long_it_took(tmp_path) -> None:
    child = textwrap.dedent(
        """
        import sys
        from movierec import progress_display
        from movierec.cli import main
        progress_display.SHOW_AFTER = 0.0
        sys.exit(main(sys.argv[1:]))
        """
    )
    args = ["train", *SMALL, "--preset", "als-tuned", "--iterations", "3", "--out"]
    result = subprocess.run(
        [sys.executable, "-c", child, *args, str(tmp_path / "model")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("movierec: fitting implicit's ALS (3 iterations)") for line in lines)
    assert re.fullmatch(r"movierec: fitted implicit's ALS \(3 iterations\) in \d+\.\d s", lines[-1])
    assert all(len(line) <= progress_display.PLAIN_WIDTH for line in lines)  # the sizes did not fit
    assert not ANSI.search(result.stderr)
    assert result.stdout.startswith("Trained ") and "movierec:" not in result.stdout


def test_reporting_uses_the_stream_at_write_time(capsys) -> None:
    clock = FakeClock()
    reporter = progress_display.PlainReporter(clock=clock, ticking=False, show_after=0)
    with progress.reporting(reporter), progress.step("x", done="did x"):
        clock.advance(1.0)
    assert capsys.readouterr() == ("", "movierec: x…\nmovierec: did x in 1.0 s\n")


def test_progress_is_in_the_foundation_layer() -> None:
    source = (Path(progress.__file__)).read_text()
    assert "from ." not in source and "import movierec" not in source


# ---- every line fits its width: parts dropped in one fixed order ------------------------------

WIDTHS = [40, 60, 80, 100, 120]
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# What each part of a fit's line looks like once shown, in the order they are dropped.
PARTS = {
    "detail": "on 609 users × 8,452 items",
    "status": "(the rank-128 low-pass filter)",
    "elapsed": re.compile(r" in \d+\.\d s\b|\d+\.\d s so far"),
    "counts": "5/15 iterations",
    "bar": "━",
}


def shown_parts(line: str) -> list[str]:
    return [
        name
        for name, look in PARTS.items()
        if (look.search(line) if isinstance(look, re.Pattern) else look in line)
    ]


def a_fit_shown(clock: FakeClock, reporter: progress.Reporter, draw) -> None:
    """A fit of 15 iterations with a status, 5 done at a measured rate; ``draw()`` at that
    moment."""
    with (
        progress.reporting(reporter),
        progress.step(
            "fitting iALS (15 iterations)",
            "fitted iALS (15 iterations)",
            15,
            "iterations",
            detail="on 609 users × 8,452 items",
        ) as fit,
    ):
        clock.advance(1.0)
        fit.advance()
        clock.advance(0.8)
        fit.advance(4)
        fit.update(status="the rank-128 low-pass filter")
        clock.advance(0.1)
        draw()


def check_fitted(line: str, width: int, order: tuple[str, ...]) -> None:
    """``line`` fits ``width``; what it dropped is the first parts of ``order``; only the
    description may be cut, and only once everything droppable is gone."""
    from rich.cells import cell_len

    assert cell_len(line) <= width, line
    shown = shown_parts(line)
    dropped = [part for part in order if part not in shown]
    assert dropped == list(order[: len(dropped)]), (line, dropped)
    assert "about 1.9 s left" in line or width < 40, line  # the time left goes last
    if "…" in line:
        assert line.count("…") == 1 and dropped == list(order), line  # the description, last
        assert "about 1.9 s left" in line.split("…", 1)[1], line


@pytest.mark.parametrize("width", WIDTHS)
def test_a_live_bar_fits_its_terminal_by_dropping_whole_parts_in_order(width: int) -> None:
    from rich.console import Console

    clock = FakeClock()
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=width, color_system=None)
    reporter = progress_display.RichReporter(
        console=console, clock=clock, ticking=False, show_after=0
    )
    frames: list[str] = []

    def draw() -> None:
        out.seek(0)
        out.truncate()
        reporter.tick()
        reporter._progress.refresh()
        rows = ESCAPES.sub("", out.getvalue()).replace("\r", "\n").splitlines()
        frames.extend(row.rstrip() for row in rows if "fitting" in row)

    a_fit_shown(clock, reporter, draw)
    assert frames
    for row in frames:
        check_fitted(row, width, ("detail", "status", "elapsed", "counts", "bar"))
    if width >= 80:  # at 80 columns: the whole description, a bar, the counts, the time left
        assert "fitting iALS (15 iterations) ━" in frames[-1]
        assert "5/15 iterations" in frames[-1]
    if width >= 120:
        assert shown_parts(frames[-1]) == ["status", "elapsed", "counts", "bar"]


@pytest.mark.parametrize("width", WIDTHS)
def test_plain_lines_fit_their_width_by_dropping_whole_parts_in_order(width: int) -> None:
    clock = FakeClock()
    out, reporter = plain(clock, width=width, status_every=0.0)  # a status line every tick
    a_fit_shown(clock, reporter, lambda: (reporter.tick(), reporter.tick()))
    start, status, end = out.getvalue().splitlines()
    check_fitted(re.sub("…( about|$)", r"\1", start, count=1), width, ("detail",))  # "…" runs
    check_fitted(status, width, ("detail", "status", "elapsed", "counts"))
    assert end.startswith("movierec: fitted iALS") and end.endswith(" in 1.9 s")
    assert len(end) <= width and ("…" not in end or "on 609" not in end)
    if width >= 80:
        assert "…" not in status and "5/15 iterations" in status
    assert (
        progress_display.PlainReporter().width == progress_display.PLAIN_WIDTH == 80
    )  # logs: 80 columns


@pytest.mark.parametrize(
    "params",
    [{}, {"dropout": 0.4, "zero_diagonal": False, "lowpass_rank": 4, "lowpass_weight": 0.1}],
    ids=["EASE", "DLAE with the low-pass filter"],
)
def test_an_ease_fit_tells_its_time_left_from_its_first_measured_part(matrix, params) -> None:
    """EASE has no iterations: it counts the flops of its parts (the factorization n³/3, the
    inverse 2n³/3, each sweep of the low-pass filter), so its time left is measured from the
    first part on, the Gram matrix before it being set-up."""
    from movierec.models import make_model

    class Lefts(progress.Reporter):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[tuple[float, float, float | None]] = []

        def changed(self, step: progress.Step) -> None:
            now = self.clock()
            self.seen.append((step.completed, step.total or 0, step.seconds_left(now)))

    lefts = Lefts()
    with progress.reporting(lefts):
        make_model("ease", **params).fit(matrix)
    counted = [(done, total, left) for done, total, left in lefts.seen if total]
    assert counted[0][0] == 0 and counted[-1][0] == pytest.approx(counted[-1][1])  # all counted
    first = next(done for done, total, left in counted if done)
    assert first == pytest.approx(30**3 / 3)  # the first part: the factorization
    assert all(left is not None for done, total, left in counted if 0 < done < total)
