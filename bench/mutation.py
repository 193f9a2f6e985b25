"""Mutation testing of the core modules with mutmut 3 (``pip install -e ".[mutation]"``).

For each module named (all of them by default) the working tree's ``src/``, ``tests/`` and
``pyproject.toml`` are copied into a scratch folder, a ``[tool.mutmut]`` section limited to that
module and to the test files that cover it is appended to the copy's ``pyproject.toml``, and
``mutmut run`` runs there (mutmut writes its mutated copy into that folder's ``mutants/``; the
checkout is never touched). Then a table: mutants, killed, survived, timeout, other (no tests,
suspicious, segfault), and the kill ratio, (killed + timeout) / mutants.

    python bench/mutation.py                      # all six modules, one mutant at a time
    python bench/mutation.py ranking metrics      # some of them
    python bench/mutation.py titles --show        # with the diff of each survivor
    python bench/mutation.py bundle --workdir /tmp/mm   # keep the folder: `cd /tmp/mm/bundle`
                                                        # then `mutmut show NAME`, `mutmut browse`

Exit status 1 when a module's kill ratio is below ``--min-ratio`` (0.9).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    source: str
    tests: tuple[str, ...]


def _doctests(module: str) -> str:
    return f"tests/test_docstrings.py::test_docstring_examples[movierec.{module}]"


TARGETS = {
    "ranking": Target(
        "src/movierec/models/ranking.py",
        (
            "tests/test_models.py",
            "tests/test_evaluation_metrics.py",
            "tests/test_mutants_ranking.py",
            _doctests("models.ranking"),
        ),
    ),
    "metrics": Target(
        "src/movierec/evaluation/metrics.py",
        (
            "tests/test_evaluation_metrics.py",
            "tests/test_mutants_metrics.py",
            _doctests("evaluation.metrics"),
        ),
    ),
    "titles": Target(
        "src/movierec/titles.py",
        (
            "tests/test_titles.py",
            "tests/test_title_resolution.py",
            "tests/test_mutants_titles.py",
            _doctests("titles"),
        ),
    ),
    "interactions": Target(
        "src/movierec/interactions.py",
        (
            "tests/test_interactions.py",
            "tests/test_rules.py",
            "tests/test_evaluation_splits.py",
            "tests/test_mutants_interactions.py",
            _doctests("interactions"),
        ),
    ),
    "bundle": Target(
        "src/movierec/bundle.py",
        (
            "tests/test_bundles_and_caches.py",
            "tests/test_bundle_tampering.py",
            "tests/test_big_ids.py",
            "tests/test_mutants_bundle.py",
        ),
    ),
    "recommender": Target(
        "src/movierec/recommender.py",
        (
            "tests/test_recommender.py",
            "tests/test_fold_in.py",
            "tests/test_empty_results.py",
            "tests/test_big_ids.py",
            "tests/test_mutants_recommender.py",
            _doctests("recommender"),
        ),
    ),
}
"""Each module: its source and the tests run against its mutants (those that cover it; the whole
fast tier takes minutes, too slow for hundreds of mutants). Missing test files are left out."""

STATUS = {1: "killed", 3: "killed", 0: "survived", 36: "timeout", 24: "timeout", -24: "timeout"}
STATUS |= {152: "timeout", 255: "timeout", 37: "killed"}  # 37: caught by a type check
"""mutmut's exit codes (mutmut/stats.py); any other code counts as "other"."""

SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""mutmut forks each mutant's run from a process whose BLAS thread pool is already started; the
child's first multi-threaded matrix product then spins until mutmut's CPU limit, and the mutant
counts as a timeout (a false kill). With one thread there is no pool to inherit."""

COPIED = ("src", "tests", "pyproject.toml", "README.md")
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis", ".pytest_cache")


def _config(target: Target) -> str:
    tests = [t for t in target.tests if (ROOT / t.split("::")[0]).is_file()]
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = [{json.dumps(target.source)}]\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]\n'
    )


def _prepare(folder: Path, target: Target) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in COPIED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, folder / name, ignore=IGNORED)
        elif path.is_file():
            shutil.copy2(path, folder / name)
    with open(folder / "pyproject.toml", "a", encoding="utf-8") as file:
        file.write(_config(target))


def _mutmut() -> str:
    beside = Path(sys.executable).parent / "mutmut"
    found = str(beside) if beside.is_file() else shutil.which("mutmut")
    if found is None:
        sys.exit('mutmut is not installed: pip install -e ".[mutation]"')
    return found


def _results(folder: Path, target: Target) -> dict[str, str]:
    meta = json.loads((folder / "mutants" / f"{target.source}.meta").read_text("utf-8"))
    return {name: STATUS.get(code, "other") for name, code in meta["exit_code_by_key"].items()}


def _row(module: str, results: dict[str, str]) -> tuple[str, int, int, int, int, int, float]:
    counts = {s: list(results.values()).count(s) for s in ("killed", "survived", "timeout")}
    total = len(results)
    other = total - sum(counts.values())
    ratio = (counts["killed"] + counts["timeout"]) / total if total else 1.0
    return (module, total, counts["killed"], counts["survived"], counts["timeout"], other, ratio)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"some of {', '.join(TARGETS)} (all)")
    parser.add_argument("--max-children", type=int, default=1, help="mutants run at once (1)")
    parser.add_argument("--workdir", type=Path, help="keep the scratch folders here")
    parser.add_argument("--show", action="store_true", help="print each survivor's diff")
    parser.add_argument("--min-ratio", type=float, default=0.9)
    args = parser.parse_args()
    modules = args.modules or list(TARGETS)
    unknown = sorted(set(modules) - set(TARGETS))
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}: choose among {', '.join(TARGETS)}")
    mutmut = _mutmut()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="movierec-mutation-"))
    env = dict(os.environ, MOVIEREC_CACHE_DIR=tempfile.mkdtemp(prefix="movierec-mutation-cache-"))
    env |= SINGLE_THREADED
    rows = []
    for module in modules:
        target, folder = TARGETS[module], workdir.resolve() / module
        _prepare(folder, target)
        print(f"== {module}: {target.source} in {folder}", flush=True)
        command = [mutmut, "run", "--max-children", str(args.max_children)]
        subprocess.run(command, cwd=folder, env=env, check=True)
        results = _results(folder, target)
        rows.append(_row(module, results))
        for name, status in sorted(results.items()):
            if status not in ("killed", "timeout"):
                print(f"   {status}: {name}")
                if args.show:
                    subprocess.run([mutmut, "show", name], cwd=folder, env=env, check=False)
    line = "{:<13}{:>8}{:>8}{:>9}{:>8}{:>6}  {}"
    print()
    print(line.format("module", "mutants", "killed", "survived", "timeout", "other", "ratio"))
    for *counts, ratio in rows:
        print(line.format(*counts, f"{ratio:.1%}"))
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    shutil.rmtree(env["MOVIEREC_CACHE_DIR"], ignore_errors=True)
    return 1 if any(row[-1] < args.min_ratio for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
