"""Ctrl+C (SIGINT) and SIGTERM: one line, exit 130/143, nothing half-written left behind.

Each case runs the real CLI in a child process with one slow step stretched (it writes a file
when it starts, then sleeps), so the signal lands exactly there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from movierec.cli import main

# target to stretch, and the CLI arguments (OUT is replaced by the output folder)
STEPS = {
    "parse (cold stats)": ("movierec.datasets.parse.read_ratings", ["stats"]),
    "fit (train)": (
        "movierec.recommender.Recommender.train",
        ["train", "--preset", "als-sparse", "--out", "OUT"],
    ),
    "save (train)": (
        "movierec.catalogue.Catalogue.save",
        ["train", "--preset", "als-sparse", "--out", "OUT"],
    ),
    "report": ("movierec.report.charts.save_png", ["report", "--out", "OUT"]),
}

CHILD = textwrap.dedent(
    """
    import importlib, sys, time
    from pathlib import Path

    target, started, *args = sys.argv[1:]
    module_name, _, attribute = target.rpartition(".")
    try:
        owner = importlib.import_module(module_name)
    except ImportError:  # a class attribute: module.Class.method
        module_name, _, class_name = module_name.rpartition(".")
        owner = getattr(importlib.import_module(module_name), class_name)
    real = getattr(owner, attribute)

    def stretched(*a, **k):
        result = real(*a, **k)
        Path(started).touch()
        time.sleep(60)
        return result

    setattr(owner, attribute, stretched)  # a plain function: binds as the original did
    from movierec.cli import main
    sys.exit(main(args))
    """
)


def interrupt(tmp_path: Path, step: str, signum: int, data_dir: Path) -> tuple[int, str, Path]:
    target, args = STEPS[step]
    out = tmp_path / "out"
    started = tmp_path / "started"
    args = [str(out) if a == "OUT" else a for a in args]
    env = {
        **os.environ,
        "MOVIEREC_CACHE_DIR": str(tmp_path / "cache"),  # cold: parsing really happens
        "MOVIEREC_DATA_DIR": str(data_dir),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, target, str(started), *args, "-d", "ml-1m"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while not started.exists():
        assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.05)
    child.send_signal(signum)
    _, err = child.communicate(timeout=60)
    return child.returncode, err, out


@pytest.fixture()
def tiny_ml1m(tmp_path: Path) -> Path:
    from conftest import write_dat_dataset

    ratings = [f"{u}::{m}::{(u * m) % 5 + 1}" for u in range(1, 40) for m in range(1, 5)]
    write_dat_dataset(tmp_path / "data", ratings)
    return tmp_path / "data"


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_command_says_so_and_leaves_nothing(
    tmp_path: Path, tiny_ml1m: Path, step: str, signum: int
) -> None:
    code, err, out = interrupt(tmp_path, step, signum, tiny_ml1m)
    assert code == 128 + signum
    assert err == "movierec: interrupted\n"
    if step == "report":  # claimed before the slow work: its marker, and charts written whole
        assert all(not p.name.endswith(".tmp") for p in out.iterdir())
    else:
        assert not out.exists()
    hidden = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert hidden == []
    parsed = tmp_path / "cache" / "parsed"
    assert not parsed.exists() or all(p.suffix == ".npz" for p in parsed.iterdir())


def test_an_interrupted_save_keeps_the_old_model(tmp_path: Path, tiny_ml1m: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "MOVIEREC_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run(
        [
            sys.executable,
            "-m",
            "movierec.cli",
            "train",
            "-d",
            "ml-1m",
            "--data-dir",
            str(tiny_ml1m),
            "--preset",
            "als-sparse",
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err, _ = interrupt(tmp_path, "save (train)", signal.SIGINT, tiny_ml1m)
    assert (code, err) == (130, "movierec: interrupted\n")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_typer_s_own_keyboard_interrupt_is_exit_130(capsys, monkeypatch) -> None:
    """A KeyboardInterrupt that typer catches itself (no handler of ours installed, e.g. off the
    main thread) still ends as exit 130 and one line, not as success."""
    from movierec import analysis

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(analysis, "stats", interrupted)
    assert main(["stats", "--dataset", "ml-latest-small"]) == 130
    assert capsys.readouterr().err == "movierec: interrupted\n"
