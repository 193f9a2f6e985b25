"""Progress of long work: the library says what it is doing; the interface decides how to show it.

Library code wraps each step that can take more than a moment::

    with progress.step("fitting ALS (20 iterations)", done="fitted ALS (20 iterations)",
                       total=20, unit="iterations") as step:
        for _ in range(20):
            ...
            step.advance()

Nothing is shown unless a reporter is installed: a Python API user sees nothing unless they opt
in (``with progress.reporting(progress.for_stream()):``, or ``show_progress=True`` where an API
takes it), and the command line installs one for every command. :func:`for_stream` picks a live
rich bar when stderr is a terminal, and plain lines otherwise (a log file, a notebook, CI):

- a start line once the step has run ``SHOW_AFTER`` seconds (a quick step says nothing); a
  step that counts units waits for its first (at most ``STATUS_EVERY`` seconds), so the line
  can say how long the rest may take from the measured rate (never a guess);
- a status line at most every ``STATUS_EVERY`` seconds;
- an end line: ``movierec: fitted ALS (20 iterations) in 12.3 s``.

Steps nest (an evaluation fits one model per run): the outermost step gets the start and end
lines; inner ones show as rows under its bar, or inside its status lines. A step left by an
exception (an error, Ctrl+C) prints no end line, and a live bar is taken off the screen first.
Everything goes to the reporter's stream (stderr), never to stdout.

This module is in the foundation layer: it imports nothing of movierec's, and rich only when a
bar is shown.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TextIO

SHOW_AFTER = 1.0  # seconds a step runs before it is shown
STATUS_EVERY = 10.0  # seconds between plain status lines, at least
_TICK = 0.25  # how often the display wakes up to check

Clock = Callable[[], float]
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _clean(text: object) -> str:
    """Text safe for a terminal: control characters (escape sequences, line breaks) removed."""
    return _UNSAFE.sub(" ", str(text))


def duration(seconds: float) -> str:
    """``0.4 s``, ``12.3 s``, ``2 min 05 s``, ``1 h 02 min``."""
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Step:
    """One running step, as the library sees it: count units with :meth:`advance`, say what is
    going on with :meth:`update` (``status``), and report a result worth a line with
    :meth:`note` (a terminal prints it above the bar; plain output puts the latest one in the
    next status line). ``done`` (what the end line says) may be changed until the step ends."""

    def __init__(
        self,
        reporter: Reporter,
        what: str,
        done: str | None,
        total: float | None,
        unit: str,
        parent: Step | None,
        estimate: bool = True,
    ) -> None:
        self.reporter = reporter
        self.what = _clean(what)
        self.done = done if done is not None else f"{what}: done"
        self.total = total
        self.unit = unit
        self.parent = parent
        self.estimate = estimate
        self.completed: float = 0
        self.status = ""
        self.last_note = ""
        self.started_at = reporter.clock()
        self._first: tuple[float, float] | None = None  # (time, completed) of the first unit
        self._last_at = self.started_at

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1

    def advance(self, amount: float = 1) -> None:
        """``amount`` more units done."""
        self.completed += amount
        self._mark()
        self.reporter.changed(self)

    def update(
        self,
        completed: float | None = None,
        total: float | None = None,
        status: str | None = None,
    ) -> None:
        """Set the units done, the total (when it becomes known) or the status text."""
        if total is not None:
            self.total = total
        if status is not None:
            self.status = _clean(status)
        if completed is not None:
            self.completed = completed
            if completed:
                self._mark()
            else:  # counting again from zero
                self._first = None
        self.reporter.changed(self)

    def note(self, text: str) -> None:
        """A result worth a line of its own (a run's score, a trial's value)."""
        self.last_note = _clean(text)
        self.reporter.noted(self, self.last_note)

    def _mark(self) -> None:
        now = self.reporter.clock()
        if self._first is None:
            self._first = (now, self.completed)
        self._last_at = now

    def elapsed(self, now: float) -> float:
        return max(now - self.started_at, 0.0)

    def seconds_left(self, now: float) -> float | None:
        """How long the rest may take at the rate measured so far: from the second unit on, the
        time per unit since the first (set-up excluded); after one unit, that unit's time. None
        while nothing is measured (no total, no unit done yet), when done, or when the units
        differ too much for a rate to tell (``estimate=False``)."""
        if not (self.estimate and self.total) or self._first is None:
            return None
        if self.completed >= self.total:
            return None
        first_at, first_done = self._first
        if self.completed > first_done and self._last_at > first_at:
            per_unit = (self._last_at - first_at) / (self.completed - first_done)
        else:
            per_unit = (first_at - self.started_at) / max(first_done, 1e-9)
        return max(per_unit * (self.total - self.completed) - (now - self._last_at), 0.0)

    def counts(self) -> str:
        """``7/20 iterations``, ``1.2/5.9 MB``; empty without a total."""
        if not self.total:
            return ""
        if self.unit == "bytes":
            return f"{self.completed / 1e6:.1f}/{self.total / 1e6:.1f} MB"
        done = int(self.completed) if float(self.completed).is_integer() else self.completed
        total = int(self.total) if float(self.total).is_integer() else self.total
        return f"{done}/{total} {self.unit}".rstrip()


class Reporter:
    """Receives the steps' events; this base class shows nothing (the default)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock

    def started(self, step: Step) -> None:
        """``step`` began (its ``parent`` is the step it runs inside, if any)."""

    def changed(self, step: Step) -> None:
        """``step`` advanced, or its total or status changed."""

    def noted(self, step: Step, text: str) -> None:
        """``step`` reported a result worth a line."""

    def finished(self, step: Step, ok: bool) -> None:
        """``step`` ended: ``ok`` when it completed, False when an exception left it."""

    def close(self) -> None:
        """The reporter is uninstalled: release what it holds (a live display, a thread)."""


SILENT = Reporter()
_reporter: ContextVar[Reporter] = ContextVar("movierec_progress_reporter", default=SILENT)
_innermost: ContextVar[Step | None] = ContextVar("movierec_progress_step", default=None)


def current() -> Reporter:
    """The installed reporter (:data:`SILENT` when none is)."""
    return _reporter.get()


@contextlib.contextmanager
def step(
    what: str,
    done: str | None = None,
    total: float | None = None,
    unit: str = "",
    estimate: bool = True,
) -> Iterator[Step]:
    """Run the ``with`` block as one reported step: ``what`` it does (``fitting ALS``), what the
    end line says it ``done`` (``fitted ALS``), and, when it counts units, their ``total`` and
    ``unit`` (``iterations``; ``bytes`` shows MB). ``estimate=False`` when units take very
    different times (a sweep over model sizes): the time left is then never estimated."""
    reporter = _reporter.get()
    parent = _innermost.get()
    if parent is not None and parent.reporter is not reporter:
        parent = None
    running = Step(reporter, what, done, total, unit, parent, estimate)
    token = _innermost.set(running)
    reporter.started(running)
    ok = False
    try:
        yield running
        ok = True
    finally:
        _innermost.reset(token)
        reporter.finished(running, ok)


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Show the steps run inside the ``with`` block with ``reporter``."""
    token = _reporter.set(reporter)
    try:
        yield reporter
    finally:
        _reporter.reset(token)
        reporter.close()


@contextlib.contextmanager
def shown(show: bool = True) -> Iterator[None]:
    """With ``show`` and no reporter installed, show progress on stderr (:func:`for_stream`)
    inside the block; otherwise leave things as they are. What ``show_progress=True`` means."""
    if show and _reporter.get() is SILENT:
        with reporting(for_stream()):
            yield
    else:
        yield


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal that can redraw a bar (not a file, pipe or dumb one)."""
    import os

    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError, OSError):
        return False


def for_stream(stream: TextIO | None = None) -> Reporter:
    """The reporter for ``stream`` (stderr by default): a live rich bar on a terminal, plain
    timed lines otherwise."""
    target = stream if stream is not None else sys.stderr
    if is_terminal(target):
        return RichReporter(stream=stream)
    return PlainReporter(stream=stream)


class _Display(Reporter):
    """What both displays share: the stack of running steps, showing the outermost once it has
    run ``show_after`` seconds, and a ticker thread that wakes up every ``_TICK`` seconds to do
    so and to refresh (``ticking=False`` leaves that to calls of :meth:`tick`, for tests)."""

    def __init__(
        self,
        clock: Clock = time.monotonic,
        show_after: float | None = None,
        ticking: bool = True,
    ) -> None:
        super().__init__(clock)
        self.show_after = SHOW_AFTER if show_after is None else show_after
        self.ticking = ticking
        self._lock = threading.RLock()
        self._steps: list[Step] = []  # running, outermost first
        self._shown = False
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    # ---- events ------------------------------------------------------------------------------
    def started(self, step: Step) -> None:
        with self._lock:
            self._steps.append(step)
            if len(self._steps) > 1:
                if self._shown:
                    self._add(step)
                return
            self._shown = False
            if self.show_after <= 0:
                self._show(self.clock())
        if self.ticking:
            self._start_ticker()

    def changed(self, step: Step) -> None:
        with self._lock:
            if self._shown and step in self._steps:
                self._update(step)

    def finished(self, step: Step, ok: bool) -> None:
        outermost = bool(self._steps) and self._steps[0] is step
        if outermost:
            self._stop_ticker()  # before taking the lock: the ticker may be waiting for it
        with self._lock:
            if step not in self._steps:
                return
            if not outermost:
                self._steps.remove(step)
                if self._shown:
                    self._remove(step)
                return
            shown, self._shown = self._shown, False
            self._steps.clear()
            self._end(step, ok, shown)

    def close(self) -> None:
        self._stop_ticker()
        with self._lock:
            if self._steps:
                shown, self._shown = self._shown, False
                top = self._steps[0]
                self._steps.clear()
                self._end(top, False, shown)

    def tick(self) -> None:
        """Show the outermost step once it is due, then refresh what is shown."""
        with self._lock:
            if not self._steps:
                return
            now = self.clock()
            if not self._shown:
                if self._due(self._steps[0], now):
                    self._show(now)
                return
            self._refresh(now)

    # ---- the ticker thread -------------------------------------------------------------------
    def _start_ticker(self) -> None:
        self._stop = threading.Event()
        stop = self._stop

        def run() -> None:
            while not stop.wait(_TICK):
                self.tick()

        self._ticker = threading.Thread(target=run, name="movierec-progress", daemon=True)
        self._ticker.start()

    def _stop_ticker(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            self._stop.set()
            if ticker is not threading.current_thread():
                ticker.join()

    # ---- what a display does -----------------------------------------------------------------
    def _due(self, top: Step, now: float) -> bool:
        """Whether the outermost step is to be shown now."""
        return top.elapsed(now) >= self.show_after

    def _show(self, now: float) -> None:
        self._shown = True

    def _add(self, step: Step) -> None:
        pass

    def _update(self, step: Step) -> None:
        pass

    def _remove(self, step: Step) -> None:
        pass

    def _refresh(self, now: float) -> None:
        pass

    def _end(self, step: Step, ok: bool, shown: bool) -> None:
        pass


def end_line(step: Step, now: float) -> str:
    """``movierec: fitted ALS (20 iterations) in 12.3 s``."""
    return f"movierec: {_clean(step.done)} in {duration(step.elapsed(now))}"


def _left(step: Step, now: float) -> str:
    left = step.seconds_left(now)
    return f"about {duration(left)} left" if left is not None and left >= 0.5 else ""


class PlainReporter(_Display):
    """Plain lines for a log file, a notebook or CI: the outermost step's start line once it
    has run ``show_after`` seconds (and, when it counts units, finished its first, so the line
    can say how long the rest may take: at most ``status_every`` seconds are waited for it),
    status lines at most every ``status_every`` seconds, and its end line; inner steps and
    notes appear inside the status lines. No escape sequences."""

    def __init__(
        self,
        stream: TextIO | None = None,
        clock: Clock = time.monotonic,
        show_after: float | None = None,
        status_every: float | None = None,
        ticking: bool = True,
    ) -> None:
        super().__init__(clock, show_after, ticking)
        self._stream = stream
        self.status_every = STATUS_EVERY if status_every is None else status_every
        self._last_line = 0.0

    def _due(self, top: Step, now: float) -> bool:
        # A step that counts units waits for its first one (at most until a status line would
        # be due), so that its start line can say how long it may take.
        waiting = bool(top.total and top.estimate) and not top.completed
        waiting = waiting and top.elapsed(now) < self.status_every
        return super()._due(top, now) and not waiting

    def _write(self, text: str) -> None:
        out = self._stream if self._stream is not None else sys.stderr
        out.write(text + "\n")
        out.flush()

    def _show(self, now: float) -> None:
        super()._show(now)
        top = self._steps[0]
        left = _left(top, now)
        self._write(f"movierec: {top.what}…" + (f" {left}" if left else ""))
        self._last_line = now

    def _refresh(self, now: float) -> None:
        if now - self._last_line >= self.status_every:
            self._write(self.status_line(now))
            self._last_line = now

    def status_line(self, now: float) -> str:
        """``movierec: fitting ALS: 12/20 iterations in 10.2 s, about 6.8 s left``, then what the
        inner steps are doing and the latest note."""
        top = self._steps[0]
        elapsed, counts, left = duration(top.elapsed(now)), top.counts(), _left(top, now)
        text = f"movierec: {top.what}: " + (
            f"{counts} in {elapsed}" if counts else f"{elapsed} so far"
        )
        if left:
            text += f", {left}"
        if top.status:
            text += f" ({top.status})"
        for inner in self._steps[1:]:
            counts, left = inner.counts(), _left(inner, now)
            text += (
                f"; {inner.what}"
                + (f": {counts}" if counts else "")
                + (f", {left}" if left else "")
            )
            if inner.status:
                text += f" ({inner.status})"
        notes = [s.last_note for s in self._steps if s.last_note]
        if notes:
            text += f"; last: {notes[-1]}"
        return text

    def _end(self, step: Step, ok: bool, shown: bool) -> None:
        if ok and shown:
            self._write(end_line(step, self.clock()))


class RichReporter(_Display):
    """A live rich bar on a terminal (one row per running step, taken off the screen when the
    outermost step ends), notes printed above it, and the end line."""

    def __init__(
        self,
        console: Any = None,
        stream: TextIO | None = None,
        clock: Clock = time.monotonic,
        show_after: float | None = None,
        ticking: bool = True,
    ) -> None:
        super().__init__(clock, show_after, ticking)
        self._console = console
        self._stream = stream
        self._progress: Any = None
        self._tasks: dict[int, Any] = {}  # id(step) → rich task id
        self._updated: dict[int, float] = {}  # id(step) → when its row was last updated

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                file=self._stream,
                stderr=self._stream is None,
                highlight=False,
                markup=False,
                emoji=False,
            )
        return self._console

    def _show(self, now: float) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        super()._show(now)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[counts]}", markup=False),
            TextColumn("{task.fields[elapsed]}", markup=False),
            TextColumn("{task.fields[left]}", markup=False),
            TextColumn("{task.fields[status]}", markup=False),
            console=self.console,
            transient=True,
            redirect_stdout=False,  # stdout is for results, and may be a pipe
            redirect_stderr=True,  # other stderr lines print above the bar
            get_time=self.clock,
        )
        self._progress.start()
        self._tasks = {}
        for running in self._steps:
            self._add(running)

    def _fields(self, step: Step, now: float) -> dict[str, Any]:
        return {
            "counts": step.counts(),
            "elapsed": duration(step.elapsed(now)),
            "left": _left(step, now),
            "status": step.status,
        }

    def _add(self, step: Step) -> None:
        indent = "  " * step.depth
        self._tasks[id(step)] = self._progress.add_task(
            indent + step.what,
            total=step.total,
            completed=step.completed,
            **self._fields(step, self.clock()),
        )

    def changed(self, step: Step) -> None:
        # A download advances per kilobyte: the bar redraws 10 times a second at most anyway.
        now = self.clock()
        if now - self._updated.get(id(step), -1.0) >= 0.1 or step.completed == step.total:
            self._updated[id(step)] = now
            super().changed(step)

    def _update(self, step: Step) -> None:
        task = self._tasks.get(id(step))
        if task is not None:
            self._progress.update(
                task,
                total=step.total,
                completed=step.completed,
                **self._fields(step, self.clock()),
            )

    def _remove(self, step: Step) -> None:
        task = self._tasks.pop(id(step), None)
        if task is not None:
            self._progress.remove_task(task)

    def _refresh(self, now: float) -> None:
        for running in self._steps:
            self._update(running)

    def noted(self, step: Step, text: str) -> None:
        with self._lock:
            self.console.print(text, soft_wrap=True, markup=False, highlight=False)

    def _end(self, step: Step, ok: bool, shown: bool) -> None:
        if self._progress is not None:
            self._progress.stop()  # transient: the bar leaves the screen
            self._progress = None
            self._tasks = {}
        self._updated = {}
        if ok and shown:
            self.console.print(
                end_line(step, self.clock()), soft_wrap=True, markup=False, highlight=False
            )
