"""Benchmark: our iALS's NDCG@10 against its embedding size and sweeps (Rendle et al. 2022's
recipe: frequency-scaled λ, unobserved weight α0, init stddev 0.1/√d), on ML-1M's recbole split.

One fit per size, measured after chosen sweeps on the validation part (what tuning sees) and on
test, with the wall time of the sweeps so far. Writes ``bench/results/ials_curve.json``.

    MOVIEREC_DATA_DIR=../shared/data python bench/bench_ials_curve.py
    python bench/bench_ials_curve.py --factors 256,512 --at 4,8,12,16 --set regularization=0.003
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from movierec import config
from movierec.datasets import load_dataset
from movierec.evaluation import get_protocol, parse_model_specs
from movierec.evaluation.runner import model_input, score_and_measure

RESULTS = Path(__file__).resolve().parent / "results" / "ials_curve.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="ials-tuned", help="the iALS settings to start from")
    parser.add_argument("--factors", default="128,256,512,1024")
    parser.add_argument("--at", default="2,4,8,12,16", help="sweeps after which to measure")
    parser.add_argument("--set", action="append", default=[], help="key=value overrides")
    parser.add_argument("--seed", type=int, default=config.SEED)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    at = sorted({int(v) for v in args.at.split(",")})
    protocol = get_protocol("recbole")
    data = protocol.prepare(load_dataset("ml-1m"))
    split = protocol.splits(data, args.seed)[0]
    points = []
    for factors in [int(v) for v in args.factors.split(",")]:
        overrides = "".join(f":{item}" for item in args.set)
        text = f"{args.preset}:factors={factors}:iterations={at[-1]}{overrides}"
        (spec,) = parse_model_specs(text)
        train_input, fold_in_input = model_input(split, spec.weighting)
        model = spec.build(args.seed)
        started = time.perf_counter()
        fitting = 0.0
        for sweep in model.sweeps(train_input):
            fitting = time.perf_counter() - started
            if sweep in at:
                measured = {
                    part: score_and_measure(model, split, train_input, fold_in_input, part, [10])
                    for part in ("valid", "test")
                }
                point = {
                    "factors": factors,
                    "sweeps": sweep,
                    "valid_ndcg@10": measured["valid"][("ndcg", 10)],
                    "test_ndcg@10": measured["test"][("ndcg", 10)],
                    "fit_seconds": fitting,
                    "settings": spec.build(args.seed).get_params() | {"iterations": sweep},
                }
                points.append(point)
                print(
                    f"{factors:>5} factors, {sweep:>3} sweeps: valid {point['valid_ndcg@10']:.4f}"
                    f"  test {point['test_ndcg@10']:.4f}  fit {fitting:6.1f} s",
                    flush=True,
                )
                started = time.perf_counter() - fitting  # measuring is not fitting
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"dataset": "ml-1m", "protocol": "recbole", "seed": args.seed, "points": points}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
