"""What the command line shows: tables, lines and JSON, safe for any terminal.

Every string that comes from data (titles, genres) or from the user (queries, paths) reaches the
terminal as plain text: rich markup in it is never interpreted, and control characters (escape
sequences, bidi overrides, line breaks inside a cell) are removed. ``--json`` output keeps every
string exact: characters a terminal could act on are JSON-escaped, which parses to the same text.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Collection
from typing import Any

# C0/C1 controls, DEL, bidi marks and overrides, and lone surrogates (undecodable bytes of
# command-line arguments, which no terminal encoding can write).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
NUMERIC_COLUMNS = {"#", "count", "score", "movie_id", "year"}
UNWRAPPED_WIDTH = 10_000
"""The width of stdout when it is not a terminal (a pipe, a file) and ``COLUMNS`` is unset: wide
enough that no line wraps, so a table keeps its natural width and a line stays one line."""


def clean(text: object, limit: int | None = None) -> str:
    """``text`` with control characters replaced by spaces (tabs and line breaks too), cut to
    ``limit`` characters with an ellipsis when longer."""
    shown = _UNSAFE.sub(" ", str(text))
    if limit is not None and len(shown) > limit:
        shown = shown[: max(limit - 1, 1)] + "…"
    return shown


def markup_safe(text: object) -> str:
    """Data text to embed in a string that rich reads as markup: cleaned, brackets escaped."""
    from rich.markup import escape

    return escape(clean(text))


def console(stderr: bool = False, width: int | None = None, markup: bool = False) -> Any:
    """A rich console that reads no markup (unless asked: then embed data via
    :func:`markup_safe`) and no emoji codes. On a terminal it is the terminal's width (or
    ``COLUMNS``); stdout piped or redirected is never wrapped (:data:`UNWRAPPED_WIDTH`)."""
    from rich.console import Console

    if width is None and not stderr and not os.environ.get("COLUMNS"):
        isatty = getattr(sys.stdout, "isatty", None)
        if not (isatty and isatty()):
            width = UNWRAPPED_WIDTH
    return Console(stderr=stderr, highlight=False, markup=markup, emoji=False, width=width)


def line(text: object, stderr: bool = False) -> None:
    """One line of plain text (never markup) on stdout or stderr."""
    console(stderr).print(clean(text), soft_wrap=True)


MAX_MESSAGE = 600


def error(message: object) -> None:
    """The one-line error a failed command prints on stderr (cut if ever that long)."""
    sys.stderr.write(f"movierec: error: {clean(message, MAX_MESSAGE)}\n")


def notice(message: object) -> None:
    """A one-line notice on stderr (``movierec: …``)."""
    sys.stderr.write(f"movierec: {clean(message)}\n")


def emit_json(data: Any) -> None:
    """``data`` as JSON on stdout; every string stays exact."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def _cell(value: Any) -> Any:
    """A cell as plain text: floats to 4 places, anything else cleaned; a rich ``Text`` (our
    own, e.g. a two-line mean ± std) as it is."""
    from rich.text import Text

    if isinstance(value, Text):
        return value
    return Text(f"{value:.4f}" if isinstance(value, float) else clean(value))


def table(
    title: str,
    columns: list[str],
    rows: list[list[Any]],
    caption: str | None = None,
    numeric: Collection[str] = NUMERIC_COLUMNS,
) -> None:
    """A table on stdout; cells are plain text; ``numeric`` columns are right-aligned. Ids
    are never cut: on a terminal too narrow for every column at its narrowest, each row is
    stacked instead, one ``column: value`` line per cell, long values wrapped."""
    from rich.table import Table

    out = Table(
        title=_cell(title) if title else None,
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )
    cells = [[_cell(v) for v in row] for row in rows]
    for index, column in enumerate(columns):
        whole = column in _WHOLE_COLUMNS  # never wrapped, never cut
        out.add_column(
            _cell(column),
            justify="right" if column in numeric else "left",
            no_wrap=whole,
            min_width=max((len(row[index]) for row in cells), default=None) if whole else None,
        )
    for row in cells:
        out.add_row(*row)
    shown = console()  # piped: the table keeps its natural width
    if shown.width < UNWRAPPED_WIDTH and _narrowest(columns, cells) > shown.width:
        _stacked(shown, title, columns, cells, caption)
    else:
        shown.print(out)


def _narrowest(columns: list[str], cells: list[list[Any]]) -> int:
    """The width of the table with each column as wide as its longest word (its padding and
    borders included): narrower, rich would cut words, ids among them."""
    from rich.cells import cell_len

    widths = [
        max(
            cell_len(word)
            for text in (column, *(row[i].plain for row in cells))
            for word in [*str(text).split(), ""]
        )
        for i, column in enumerate(columns)
    ]
    return sum(widths) + 3 * len(columns) + 1


_WHOLE_COLUMNS = {"#", "movie_id", "user_id"}
"""Columns whose values are ids: a table shows them whole or is stacked (:func:`_stacked`)."""


def _stacked(
    shown: Any, title: str, columns: list[str], cells: list[list[Any]], caption: str | None
) -> None:
    """``cells`` as one block per row, a ``column: value`` line per cell (for a terminal too
    narrow for the table): long values wrap onto the next lines, folding only a word wider
    than the terminal, so nothing is ever cut."""
    from rich.text import Text

    if title:
        shown.print(Text(clean(title)), overflow="fold")
    for number, row in enumerate(cells):
        if number or title:
            shown.print()
        for column, value in zip(columns, row, strict=True):
            shown.print(Text(f"{clean(column)}: ") + Text(" ").join(value.split()), overflow="fold")
    if caption:
        shown.print()
        shown.print(Text(clean(caption)), overflow="fold")


def scored_rows(results: list[Any], explain: bool = False) -> list[list[Any]]:
    """Rows ``#, movie_id, title, score[, because you liked]`` of scored movies."""
    rows = []
    for rank, item in enumerate(results, start=1):
        row = [rank, item.movie.movie_id, item.movie.title, item.score]
        if explain:
            row.append("; ".join(item.because or ()))
        rows.append(row)
    return rows


def evaluation_table(result: Any, k: int) -> None:
    """One row per model, each metric as mean over std (two lines; the mean alone for one
    run, which has no spread), then fit seconds and, with several models, each one's paired
    difference in NDCG from the first model named, over its standard error."""
    from .evaluation.metrics import METRICS, SHORT_METRIC_LABELS

    described = result.protocol
    first = result.specs[0].label
    runs = len(result.runs_of(first))
    paired = len(result.specs) > 1
    rows = [
        _evaluation_row(result, spec.label, k, runs, first if paired else None)
        for spec in result.specs
    ]
    seeds = described.get("seeds") or []
    spread = (
        f"test mean ± std over {runs} runs"
        if runs > 1
        else f"test, one run (seed {seeds[0]})"
        if len(seeds) == 1
        else "test, one run"
    )
    metric_columns = [f"{SHORT_METRIC_LABELS[metric]}@{k}" for metric in METRICS]
    paired_columns = [f"ΔNDCG@{k}"] if paired else []
    paired_caption = (
        f"; ΔNDCG@{k}: NDCG@{k} minus {clean(first)}'s on the same splits"
        + (", ± its standard error" if runs > 1 else "")
        if paired
        else ""
    )
    table(
        f"{described['dataset']}, protocol {described['name']} "
        f"({described['interactions']:,} interactions): {spread}",
        ["model", *metric_columns, "fit s", *paired_columns],
        rows,
        caption="P precision, R recall, Cov catalog coverage, PopBias mean popularity percentile "
        "of recommended items (0.5 neutral, 1 only the most popular); fit s: seconds to train"
        + paired_caption,
        numeric={*metric_columns, "fit s", *paired_columns},
    )


def _evaluation_row(result: Any, label: str, k: int, runs: int, first: str | None) -> list[Any]:
    """``label``'s row of :func:`evaluation_table`: each metric@``k`` and the fit seconds as
    mean over std (the mean alone for one run), then, given the ``first`` model, the paired
    difference in NDCG@``k`` from it over its standard error (blank for ``first`` itself)."""
    from rich.text import Text

    from .evaluation.metrics import METRICS

    def shown(mean: float, spread: float, digits: int, sign: str = "") -> Text:
        alone = f"{mean:{sign}.{digits}f}"
        return Text(f"{alone}\n±{spread:.{digits}f}" if runs > 1 else alone)

    summaries = [result.summary(label, metric, k) for metric in METRICS]
    cells: list[Any] = [label, *(shown(summary.mean, summary.std, 4) for summary in summaries)]
    fit = result.summary(label, "fit_seconds", None)
    cells.append(shown(fit.mean, fit.std, 2))
    if first is not None and label == first:
        cells.append("")
    elif first is not None:
        difference = result.paired(label, first, "ndcg", k)
        cells.append(shown(difference.mean, difference.stderr, 4, sign="+"))
    return cells
