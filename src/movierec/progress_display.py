"""How progress shows: a live rich bar on a terminal, plain timed lines elsewhere (a log file,
a notebook, CI). The library reports steps (:mod:`movierec.progress`); this interfaces-layer
module presents them, and :func:`for_stream` is what the command line installs for every
command and what ``show_progress=True`` uses.

Plain lines:

- a start line once the step has run ``SHOW_AFTER`` seconds (a quick step says nothing); a
  step that counts units waits for its first (at most ``STATUS_EVERY`` seconds), so the line
  can say how long the rest may take from the measured rate (never a guess);
- a status line at most every ``STATUS_EVERY`` seconds;
- an end line: ``movierec: fitted ALS (20 iterations) in 12.3 s``.

Every line fits the width (a terminal's, ``PLAIN_WIDTH`` for plain lines) by dropping whole
parts in one fixed order, :data:`DROP_ORDER`: a description's ``detail`` (``on 6,038 users ×
3,533 items``) first, then the latest note, the status texts, the time so far, the counts, the
inner steps (whose time left may be the only one told) and the bar; only then is the
description itself cut (``…``), and the time left is the last thing to go.

Nested steps: the outermost step gets the start and end lines; inner ones show as rows under
its bar, or inside its status lines. A step left by an exception prints no end line, and a live
bar is taken off the screen first. Everything goes to the reporter's stream (stderr), never to
stdout. rich is imported only when a bar is shown.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from .progress import Clock, Reporter, Step, clean

SHOW_AFTER = 1.0  # seconds a step runs before it is shown
PLAIN_WIDTH = 80  # columns plain lines fit (a log has no width of its own)
DROP_ORDER = ("detail", "note", "status", "elapsed", "counts", "inner", "bar")
"""What a line too wide for its width loses first; then the description is cut, then the time
left goes. A display drops only the parts it has (a bar only on a terminal)."""
_BAR_WIDTHS = (10, 30)  # a terminal bar's narrowest and widest
STATUS_EVERY = 10.0  # seconds between plain status lines, at least
_TICK = 0.25  # how often the display wakes up to check


def duration(seconds: float) -> str:
    """``0.4 s``, ``12.3 s``, ``2 min 05 s``, ``1 h 02 min``."""
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def count_text(step: Step) -> str:
    """``7/20 iterations``, ``1.2/5.9 MB``, ``16/102 GFLOP``; empty without a total."""
    if not step.total:
        return ""
    if step.unit == "bytes":
        return f"{step.completed / 1e6:.1f}/{step.total / 1e6:.1f} MB"
    if step.unit == "flops":
        digits = 0 if step.total >= 10e9 else 1
        return f"{step.completed / 1e9:.{digits}f}/{step.total / 1e9:.{digits}f} GFLOP"
    done = int(step.completed) if float(step.completed).is_integer() else step.completed
    total = int(step.total) if float(step.total).is_integer() else step.total
    return f"{done}/{total} {step.unit}".rstrip()


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


def _cells(text: str) -> int:
    """Columns ``text`` takes on a terminal (wide East Asian characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, its end replaced by ``…`` when cut."""
    if _cells(text) <= width:
        return text
    if width <= 1:
        return "…"[: max(width, 0)]
    while text and _cells(text) > width - 1:
        text = text[:-1]
    return text.rstrip() + "…"


MIN_DESCRIPTION = 12
"""A description is cut to no fewer columns than this before the time left is dropped too."""


def _fit(build: Callable[[frozenset[str], int], tuple[str, int]], width: int) -> str:
    """The line ``build(dropped, cut)`` makes, with the first parts of :data:`DROP_ORDER`
    dropped until it fits ``width``; then with its description cut by ``cut`` columns, then
    without the time left as well. ``build`` returns the line and its description's width."""
    dropped: frozenset[str] = frozenset()
    for part in (None, *DROP_ORDER):
        if part is not None:
            dropped |= {part}
        line, _ = build(dropped, 0)
        if _cells(line) <= width:
            return line
    for last in (dropped, dropped | {"left"}):
        full, described = build(last, 0)
        over = _cells(full) - width
        line, _ = build(last, over)
        if described - over >= MIN_DESCRIPTION or "left" in last:
            break
    return _cut(line, width)


def _described(step: Step, dropped: frozenset[str], cut: int, text: str | None = None) -> str:
    """The step's description (or ``text``) with its detail unless dropped, ``cut`` columns
    shorter."""
    text = step.what if text is None else clean(text)
    if step.detail and "detail" not in dropped:
        text = f"{text} {step.detail}"
    return _cut(text, _cells(text) - cut) if cut > 0 else text


def end_line(step: Step, now: float, width: int | None = None) -> str:
    """``movierec: fitted ALS (20 iterations) on 6,038 users × 3,533 items in 12.3 s``, in
    ``width`` columns when given (the detail goes first)."""
    elapsed = duration(step.elapsed(now))

    def build(dropped: frozenset[str], cut: int) -> tuple[str, int]:
        done = _described(step, dropped, cut, step.done)
        return f"movierec: {done} in {elapsed}", _cells(done)

    return build(frozenset(), 0)[0] if width is None else _fit(build, width)


def _left(step: Step, now: float) -> str:
    left = step.seconds_left(now)
    return f"about {duration(left)} left" if left is not None and left >= 0.5 else ""


def _how_far(step: Step, now: float, dropped: frozenset[str]) -> str:
    """``12/20 iterations in 10.2 s, about 6.8 s left (status)``, less what is ``dropped``."""
    counts = "" if "counts" in dropped else count_text(step)
    elapsed = "" if "elapsed" in dropped else duration(step.elapsed(now))
    left = "" if "left" in dropped else _left(step, now)
    said = [counts + (f" in {elapsed}" if elapsed else "") if counts else ""]
    said[0] = said[0] or (f"{elapsed} so far" if elapsed else "")
    text = ", ".join(part for part in (*said, left) if part)
    if step.status and "status" not in dropped:
        text += f" ({step.status})" if text else f"({step.status})"
    return text


class PlainReporter(_Display):
    """Plain lines for a log file, a notebook or CI: the outermost step's start line once it
    has run ``show_after`` seconds (and, when it counts units, finished its first, so the line
    can say how long the rest may take: at most ``status_every`` seconds are waited for it),
    status lines at most every ``status_every`` seconds, and its end line; inner steps and
    notes appear inside the status lines. No escape sequences; every line fits ``width``
    columns (:data:`PLAIN_WIDTH`), parts dropped in the order of :data:`DROP_ORDER`."""

    def __init__(
        self,
        stream: TextIO | None = None,
        clock: Clock = time.monotonic,
        show_after: float | None = None,
        status_every: float | None = None,
        ticking: bool = True,
        width: int = PLAIN_WIDTH,
    ) -> None:
        super().__init__(clock, show_after, ticking)
        self._stream = stream
        self.status_every = STATUS_EVERY if status_every is None else status_every
        self.width = width
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
        self._write(self.start_line(now))
        self._last_line = now

    def start_line(self, now: float) -> str:
        """``movierec: fitting ALS (20 iterations) on 6,038 users × 3,533 items… about 38.0 s
        left``."""
        top = self._steps[0]
        left = _left(top, now)

        def build(dropped: frozenset[str], cut: int) -> tuple[str, int]:
            what = _described(top, dropped, cut)
            shown_left = left if left and "left" not in dropped else ""
            running = "" if what.endswith("…") else "…"  # a cut description has its own
            line = f"movierec: {what}{running}" + (f" {shown_left}" if shown_left else "")
            return line, _cells(what)

        return _fit(build, self.width)

    def _refresh(self, now: float) -> None:
        if now - self._last_line >= self.status_every:
            self._write(self.status_line(now))
            self._last_line = now

    def status_line(self, now: float) -> str:
        """``movierec: fitting ALS: 12/20 iterations in 10.2 s, about 6.8 s left``, then what the
        inner steps are doing and the latest note, as far as the width allows."""

        def build(dropped: frozenset[str], cut: int) -> tuple[str, int]:
            top = self._steps[0]
            what = _described(top, dropped, cut)
            inner_steps = [] if "inner" in dropped else self._steps[1:]
            said = _how_far(top, now, dropped)
            if not (said or inner_steps):
                said = f"{duration(top.elapsed(now))} so far"
            text = f"movierec: {what}" + (f": {said}" if said else "")
            for inner in inner_steps:
                # an inner step's time so far is the outer one's, near enough: not repeated
                said = _how_far(inner, now, dropped | {"elapsed"})
                text += f"; {_described(inner, dropped, 0)}" + (f": {said}" if said else "")
            notes = [s.last_note for s in self._steps if s.last_note]
            if notes and "note" not in dropped:
                text += f"; last: {notes[-1]}"
            return text, _cells(what)

        return _fit(build, self.width)

    def _end(self, step: Step, ok: bool, shown: bool) -> None:
        if ok and shown:
            self._write(end_line(step, self.clock(), self.width))


class RichReporter(_Display):
    """A live rich bar on a terminal (one row per running step, taken off the screen when the
    outermost step ends), notes printed above it, and the end line. Rows fit the terminal's
    width: whole parts are dropped in the order of :data:`DROP_ORDER` (the bar narrows from 30
    columns to 10 before it goes), never every column cut a little."""

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
        self._progress: Any = None  # the rich Live display while shown
        self._spinner: Any = None
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
        from rich.live import Live
        from rich.spinner import Spinner

        super()._show(now)
        self._spinner = Spinner("dots", style="progress.spinner")
        self._progress = Live(
            get_renderable=self._render,
            console=self.console,
            auto_refresh=False,  # the ticker and the steps' changes refresh it
            transient=True,
            redirect_stdout=False,  # stdout is for results, and may be a pipe
            redirect_stderr=True,  # other stderr lines print above the bar
        )
        self._progress.start(refresh=True)

    def rows(
        self, now: float, width: int, steps: list[Step] | None = None
    ) -> tuple[list[str], list[str], int]:
        """Each running step's description and its tail (counts, time so far, time left,
        status), and the bar's width (0: no bar), fitted to ``width`` columns."""
        steps = list(self._steps) if steps is None else steps
        dropped: frozenset[str] = frozenset()

        def texts(dropped: frozenset[str], cut: int) -> tuple[list[str], list[str]]:
            labels, tails = [], []
            for running in steps:
                label = "  " * running.depth + _described(running, dropped, 0)
                labels.append(_cut(label, _cells(label) - cut) if cut > 0 else label)
                tails.append(_how_far(running, now, dropped))
            return labels, tails

        def room(labels: list[str], tails: list[str]) -> int:
            """Columns left for the bar (and the space before it)."""
            tail = max(map(_cells, tails))
            return width - 2 - max(map(_cells, labels)) - (tail + 1 if tail else 0)

        for part in (None, *DROP_ORDER):
            if part is not None:
                dropped |= {part}
            labels, tails = texts(dropped, 0)
            if "bar" not in dropped and room(labels, tails) - 1 >= _BAR_WIDTHS[0]:
                return labels, tails, min(room(labels, tails) - 1, _BAR_WIDTHS[1])
            if "bar" in dropped and room(labels, tails) >= 0:
                return labels, tails, 0
        for last in (dropped, dropped | {"left"}):
            labels, tails = texts(last, 0)
            over = -room(labels, tails)
            widest = max(map(_cells, labels))
            if widest - over >= MIN_DESCRIPTION or "left" in last:
                break
        labels, tails = texts(last, over)
        return [_cut(label, width - 2) for label in labels], tails, 0

    def _render(self) -> Any:
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        # No lock taken: rich renders from whichever thread prints while holding its own lock,
        # which a thread holding ours may be waiting for. A copy of the list is enough.
        now = self.clock()
        steps = list(self._steps)
        width = self.console.width - 1  # a row as wide as the terminal may wrap on some
        labels, tails, bar = self.rows(now, width, steps) if steps else ([], [], 0)
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        if bar:
            table.add_column(width=bar, no_wrap=True)
        table.add_column(no_wrap=True)
        for running, label, tail in zip(steps, labels, tails, strict=True):
            cells: list[Any] = [self._spinner.render(now), Text(label)]
            if bar:
                total = running.total
                cells.append(
                    ProgressBar(
                        total=max(0.0, total) if total else None,
                        completed=max(0.0, running.completed),
                        width=bar,
                        pulse=not total,
                        animation_time=now,
                    )
                )
            cells.append(Text(tail))
            table.add_row(*cells)
        return table

    def changed(self, step: Step) -> None:
        # A download advances per kilobyte: the bar redraws 10 times a second at most anyway.
        now = self.clock()
        if now - self._updated.get(id(step), -1.0) >= 0.1 or step.completed == step.total:
            self._updated[id(step)] = now
            super().changed(step)

    def _update(self, step: Step) -> None:
        if self._progress is not None:
            self._progress.refresh()

    def _add(self, step: Step) -> None:
        self._update(step)

    def _remove(self, step: Step) -> None:
        self._update(step)

    def _refresh(self, now: float) -> None:
        if self._progress is not None:
            self._progress.refresh()

    def noted(self, step: Step, text: str) -> None:
        with self._lock:
            self.console.print(text, soft_wrap=True, markup=False, highlight=False)

    def _end(self, step: Step, ok: bool, shown: bool) -> None:
        if self._progress is not None:
            self._progress.stop()  # transient: the bar leaves the screen
            self._progress = None
        self._updated = {}
        if ok and shown:
            line = end_line(step, self.clock(), self.console.width)
            self.console.print(line, soft_wrap=True, markup=False, highlight=False)
