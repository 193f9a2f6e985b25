"""Progress of long work: the library says what it is doing; the interface decides how to show it.

Library code wraps each step that can take more than a moment::

    with progress.step("fitting ALS (20 iterations)", done="fitted ALS (20 iterations)",
                       total=20, unit="iterations") as step:
        for _ in range(20):
            ...
            step.advance()

Nothing is shown unless a reporter is installed: a Python API user sees nothing unless they opt
in (``with progress.reporting(progress_display.for_stream()):``, or ``show_progress=True``
where an API takes it), and the command line installs one for every command. How steps are
shown — a live bar on a terminal, plain timed lines elsewhere — is the interfaces' business:
:mod:`movierec.progress_display`, which the package installs as the display that
``show_progress=True`` uses (:func:`use_display`).

Steps nest (an evaluation fits one model per run): a step knows its ``parent``. A step left by
an exception (an error, Ctrl+C) is reported as not ``ok``.

This module is in the foundation layer: it imports nothing of movierec's, and nothing outside
the standard library.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar

Clock = Callable[[], float]
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean(text: object) -> str:
    """Text safe for a terminal, control characters (escape sequences, line breaks) removed: a
    step's texts are cleaned as they are reported."""
    return _UNSAFE.sub(" ", str(text))


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
        detail: str = "",
    ) -> None:
        self.reporter = reporter
        self.what = clean(what)
        self.detail = clean(detail)
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
        self._counting_from = self.started_at  # when the units began to be counted

    @property
    def described(self) -> str:
        """What the step does, with its detail: ``fitting DLAE on 6,038 users × 3,533 items``."""
        return f"{self.what} {self.detail}" if self.detail else self.what

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
            self.status = clean(status)
        if completed is not None:
            self.completed = completed
            if completed:
                self._mark()
            else:  # counting again from zero: what came before was set-up, not units
                self._first = None
                self._counting_from = self.reporter.clock()
        self.reporter.changed(self)

    def note(self, text: str) -> None:
        """A result worth a line of its own (a run's score, a trial's value)."""
        self.last_note = clean(text)
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
        time per unit since the first (set-up excluded); after one unit, that unit's time (since
        the step began, or since ``update(completed=0)`` restarted the count). None
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
            per_unit = (first_at - self._counting_from) / max(first_done, 1e-9)
        return max(per_unit * (self.total - self.completed) - (now - self._last_at), 0.0)


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
    detail: str = "",
) -> Iterator[Step]:
    """Run the ``with`` block as one reported step: ``what`` it does (``fitting ALS``), what the
    end line says it ``done`` (``fitted ALS``), and, when it counts units, their ``total`` and
    ``unit`` (``iterations``; ``bytes`` shows MB, ``flops`` GFLOP). ``estimate=False`` when units
    take very different times (a sweep over model sizes): the time left is then never
    estimated. ``detail`` (``on 6,038 users × 3,533 items``) follows ``what`` and ``done`` where
    the line has room; it is the first thing a narrow line drops."""
    reporter = _reporter.get()
    parent = _innermost.get()
    if parent is not None and parent.reporter is not reporter:
        parent = None
    running = Step(reporter, what, done, total, unit, parent, estimate, detail)
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


_display: list[Callable[[], Reporter]] = []  # the interfaces' display, once installed


def use_display(make: Callable[[], Reporter]) -> None:
    """Install how ``show_progress=True`` shows steps: a function that makes a reporter for
    stderr. The package installs :func:`movierec.progress_display.for_stream` on import (the
    display lives with the interfaces; this module only reports)."""
    _display[:] = [make]


@contextlib.contextmanager
def shown(show: bool = True) -> Iterator[None]:
    """With ``show``, no reporter installed and a display installed (:func:`use_display`),
    show progress on stderr inside the block; otherwise leave things as they are. What
    ``show_progress=True`` means."""
    if show and _reporter.get() is SILENT and _display:
        with reporting(_display[0]()):
            yield
    else:
        yield
