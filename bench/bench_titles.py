"""Title resolution speed: building the title index, resolving a title, and searching as typed.

Run: ``MOVIEREC_DATA_DIR=../shared/data python bench/bench_titles.py [--repeats 15]``. Prints a
table of medians measured in this one run (ML-1M and the bundled ml-latest-small) and writes
``bench/results/titles.json``. The index is on the CLI's path for every title it resolves; the
search runs per keystroke in the web page.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from timing import median_seconds, print_rows, write_results

from movierec import load_dataset
from movierec.catalogue import Catalogue
from movierec.titles import TitleIndex

TYPED = ("t", "th", "the", "the m", "the ma", "the matr", "stroy", "star wars 5")


def median_ms(action: Callable[[], object], repeats: int) -> float:
    return round(median_seconds(action, repeats) * 1000, 3)


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
    print_rows(rows)
    write_results("titles", {"repeats": args.repeats, "rows": rows})


if __name__ == "__main__":
    main()
