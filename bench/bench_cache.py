"""What the content-keyed parsed-ratings cache costs: the SHA-256 of the source file on every
load, and the checks of a cache hit (recomputed fingerprint, shapes), on ML-1M and on a
25M-rating file.

Run: ``MOVIEREC_DATA_DIR=../shared/data python bench/bench_cache.py [--repeats 5] [--rows N]``.
The 25M-rating file is made here (ML-1M's ratings tiled with shifted user ids into a
``ratings.csv`` of ML-25M's layout, written once to a temporary folder and removed at the end).
Prints a table of medians measured in this one run and writes ``bench/results/cache.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import median_seconds, print_rows, write_results

from movierec.datasets import get_spec
from movierec.datasets.dataset import _fingerprint, file_digest, load_ratings_columns
from movierec.datasets.parse import read_ratings


def write_big_csv(folder: Path, source: dict[str, np.ndarray], rows: int) -> Path:
    """A ``ratings.csv`` of ``rows`` ratings: the source tiled, user ids shifted per copy."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(source["rating"])
    copies = -(-rows // n)
    step = int(source["user_id"].max()) + 1
    path = folder / "ratings.csv"
    with open(path, "w") as out:
        out.write("userId,movieId,rating,timestamp\n")
        for copy in range(copies):
            take = min(n, rows - copy * n)
            users = source["user_id"][:take].astype(np.int64) + copy * step
            block = np.column_stack(
                [users, source["movie_id"][:take], source["rating"][:take].astype(np.int64)]
            )
            lines = "\n".join(f"{u},{m},{r}.0,978300760" for u, m, r in block.tolist())
            out.write(lines + "\n")
    return path


def measure(label: str, folder: Path, spec_name: str, repeats: int) -> dict[str, float | str]:
    spec = get_spec(spec_name)
    path = folder / spec.ratings_file
    size_mb = path.stat().st_size / 1e6
    started = time.perf_counter()
    columns, fingerprint = load_ratings_columns(spec, folder)  # cold: parse and write the cache
    cold = time.perf_counter() - started
    digest = median_seconds(lambda: file_digest(path), repeats)
    verify = median_seconds(lambda: _fingerprint(columns), repeats)
    warm = median_seconds(lambda: load_ratings_columns(spec, folder), repeats)
    parse = median_seconds(lambda: read_ratings(path, spec.layout), 1 if size_mb > 100 else repeats)
    return {
        "file": label,
        "ratings": len(columns["rating"]),
        "size_mb": round(size_mb, 1),
        "sha256_s": round(digest, 4),
        "sha256_mb_per_s": round(size_mb / digest),
        "fingerprint_check_s": round(verify, 4),
        "cached_load_s": round(warm, 4),
        "parse_s": round(parse, 3),
        "cold_load_s": round(cold, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=25_000_095, help="ratings in the big file")
    args = parser.parse_args()
    data_dir = Path(os.environ.get("MOVIEREC_DATA_DIR", "../shared/data"))
    scratch = Path(tempfile.mkdtemp(prefix="movierec-bench-cache-"))
    os.environ["MOVIEREC_CACHE_DIR"] = str(scratch / "cache")
    try:
        rows = [measure("ml-1m ratings.dat", data_dir / "ml-1m", "ml-1m", args.repeats)]
        ml1m = read_ratings(data_dir / "ml-1m" / "ratings.dat", "dat")
        big = scratch / "ml-25m"
        write_big_csv(big, ml1m, args.rows)
        rows.append(measure(f"{args.rows:,}-rating csv", big, "ml-25m", args.repeats))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_rows(rows)
    write_results("cache", {"repeats": args.repeats, "rows": rows})


if __name__ == "__main__":
    main()
