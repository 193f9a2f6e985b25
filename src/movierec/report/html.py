"""The report's HTML page: one ``index.html`` beside its PNG charts, readable offline.

Nothing is fetched from the network: the style is inline and the images are relative paths to
the PNGs in the same folder, so the folder can be zipped, mailed or opened from disk.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ..atomic import write_atomically
from .results import EvaluationResults

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1100px; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.5; }
h1 { margin-bottom: 0.2rem; }
.subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ddd; padding: 0.35rem 0.8rem; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
thead th { background: #f3f5f8; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.92rem; }
nav ul { columns: 2; }
code { background: #f3f5f8; padding: 0 0.2rem; border-radius: 3px; }
details { margin: 1rem 0; }
footer { color: #777; font-size: 0.85rem; margin-top: 3rem; }
"""


@dataclass(frozen=True)
class Section:
    """One chart with its heading and a short explanation."""

    anchor: str
    heading: str
    text: str
    image: str
    alt: str


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], numeric_from: int = 1) -> str:
    head = "".join(
        f'<th{" class=num" if i >= numeric_from else ""} scope="col">{escape(str(h))}</th>'
        for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<th scope="row">{escape(str(v))}</th>'
            if i == 0
            else f"<td{' class=num' if i >= numeric_from else ''}>{escape(str(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(section: Section) -> str:
    return (
        f'<section id="{escape(section.anchor)}"><h2>{escape(section.heading)}</h2>'
        f"<p>{escape(section.text)}</p>"
        f'<figure><img src="{escape(section.image)}" alt="{escape(section.alt)}">'
        f"<figcaption>{escape(section.alt)}</figcaption></figure></section>"
    )


PROTOCOL_SHOWN = (
    "name",
    "description",
    "dataset",
    "min_rating",
    "k_core",
    "split",
    "users",
    "items",
    "interactions",
    "k",
    "seeds",
)
"""Protocol settings shown in the table; the rest go in a collapsed block."""


def _value(value: object) -> str:
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, (str, float, bool)) or value is None:
        return str(value)
    if isinstance(value, dict):  # a model's settings: their leaves, as name=value
        return ", ".join(
            f"{k}={_value(v)}" if not isinstance(v, dict) else _value(v) for k, v in value.items()
        )
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def evaluation_html(results: EvaluationResults, image: str | None) -> str:
    """The evaluation section: the protocol, a metric@k × models table and the chart."""
    protocol = results.protocol
    one_run = results.runs() == 1
    spread = (
        f"these are {escape(results.spread())}: no spread to show"
        if one_run
        else "± is the standard deviation over seeds and folds"
    )
    where = f" on {escape(results.where())}" if results.where() else ""
    parts = [
        '<section id="evaluation"><h2>Offline evaluation</h2>',
        "<p>How well each model ranks the held-out movies that test users liked, as "
        f"measured by <code>movierec evaluate</code>{where}. Higher is better for the ranking "
        f"metrics; {spread}.</p>",
    ]
    if image is not None:
        labels = ", ".join(results.label(m, k) for m, k in results.chart_keys())
        bars = "" if one_run else ", with standard-deviation error bars"
        caption = "one run" if one_run else "error bars show ± one standard deviation"
        parts.append(
            f'<figure><img src="{escape(image)}" alt="Bar charts of {escape(labels)} per '
            f'model{bars}"><figcaption>{escape(labels)}: mean per model; {caption}.'
            "</figcaption></figure>"
        )
    header, rows = results.rows_by_metric()
    parts.append("<h3>Results</h3>" + _table(header, rows))
    shown = [[key, _value(protocol[key])] for key in PROTOCOL_SHOWN if key in protocol]
    if shown:
        parts.append("<h3>Protocol</h3>" + _table(["setting", "value"], shown, numeric_from=2))
    models = protocol.get("models")
    if isinstance(models, dict) and models:
        parts.append(
            "<h3>Models</h3>"
            + _table(
                ["model", "settings"],
                [[label, _value(spec)] for label, spec in models.items()],
                numeric_from=2,
            )
        )
    rest = {k: v for k, v in protocol.items() if k not in PROTOCOL_SHOWN and k != "models"}
    if rest:
        parts.append(
            "<details><summary>All protocol settings</summary>"
            + _table(
                ["setting", "value"], [[k, _value(v)] for k, v in rest.items()], numeric_from=2
            )
            + "</details>"
        )
    parts.append("</section>")
    return "".join(parts)


def render(
    title: str,
    subtitle: str,
    stats_rows: Sequence[Sequence[object]],
    model_rows: Sequence[Sequence[object]],
    sections: Sequence[Section],
    evaluation: str = "",
    footer: str = "",
) -> str:
    """The whole page as a string."""
    toc = [(s.anchor, s.heading) for s in sections]
    if evaluation:
        toc.append(("evaluation", "Offline evaluation"))
    nav = "".join(f'<li><a href="#{escape(a)}">{escape(h)}</a></li>' for a, h in toc)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p class=subtitle>{escape(subtitle)}</p></header>"
        f'<nav aria-label="contents"><ul>{nav}</ul></nav>'
        '<section id="dataset"><h2>The data</h2><p>Ratings below the threshold are dropped; '
        "the rest are read as implicit feedback (this user liked this movie).</p>"
        + _table(["", "before the filter", "after the filter"], stats_rows)
        + "<h3>The model</h3>"
        + _table(["setting", "value"], model_rows, numeric_from=2)
        + "</section>"
        + "".join(_figure(s) for s in sections)
        + evaluation
        + f"<footer>{escape(footer)}</footer></body></html>\n"
    )


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file and a rename."""
    return write_atomically(path, lambda out: out.write(text.encode("utf-8")))
