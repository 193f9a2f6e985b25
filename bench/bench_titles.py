"""Title resolution speed: building the title index, resolving a title, and searching as typed.

Run: ``MOVIEREC_DATA_DIR=../shared/data python bench/bench_titles.py [--repeats 15]``. Prints a
table of medians measured in this one run (ML-1M and the bundled ml-latest-small) and writes
``bench/results/titles.json``. The index is on the CLI's path for every title it resolves; the
search runs per keystroke in the web page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from movierec import load_dataset
from movierec.catalogue import Catalogue
from movierec.titles import TitleIndex

TYPED = ("t", "th", "the", "the m", "the ma", "the matr", "stroy", "star wars 5")


def median_ms(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)


def measure(name: str, repeats: int) -> dict[str, object]:
    catalogue = Catalogue.from_dataset(load_dataset(name))

    def build() -> TitleIndex:
        return TitleIndex(catalogue.movie_ids, catalogue.titles, catalogue.popularity)

    index = build()
    index.search("warm up", 10)  # the word index is built on first use
    return {
        "dataset": name,
        "movies": len(catalogue.movie_ids),
        "build_index_ms": median_ms(build, repeats),
        "resolve_ms": median_ms(lambda: index.resolve("Toy Story"), repeats),
        "search_per_keystroke_ms": round(
            median_ms(lambda: [index.search(t, 10) for t in TYPED], repeats) / len(TYPED), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rows = [measure(name, args.repeats) for name in ("ml-1m", "ml-latest-small")]
    columns = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths)))
    out = Path(__file__).parent / "results" / "titles.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"repeats": args.repeats, "rows": rows}, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
