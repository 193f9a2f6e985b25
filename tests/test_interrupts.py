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


def assert_says_interrupted(err: str) -> None:
    """The last line is exactly ``movierec: interrupted``; before it, at most progress lines (a
    step that ran long enough says what it does: movierec.progress), never an error."""
    assert err.endswith("\nmovierec: interrupted\n") or err == "movierec: interrupted\n", err
    before = err.splitlines()[:-1]
    assert all(line.startswith("movierec: ") and "error" not in line for line in before), err
    assert "\x1b" not in err  # stderr is a pipe here: no bar, no escape sequences


@pytest.fixture()
def tiny_ml1m(tmp_path: Path) -> Path:
    from conftest import write_dat_dataset

    ratings = [f"{u}::{m}::{(u * m) % 5 + 1}" for u in range(1, 40) for m in range(1, 5)]
    write_dat_dataset(tmp_path / "data", ratings)
    return tmp_path / "data"


@pytest.mark.slow  # a child process per case
@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_command_says_so_and_leaves_nothing(
    tmp_path: Path, tiny_ml1m: Path, step: str, signum: int
) -> None:
    code, err, out = interrupt(tmp_path, step, signum, tiny_ml1m)
    assert code == 128 + signum
    assert_says_interrupted(err)
    if step == "report":  # claimed before the slow work: its marker, and charts written whole
        assert all(not p.name.endswith(".tmp") for p in out.iterdir())
    else:
        assert not out.exists()
    hidden = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert hidden == []
    parsed = tmp_path / "cache" / "parsed"
    assert not parsed.exists() or not [p for p in parsed.iterdir() if p.name.startswith(".")]


def test_on_a_terminal_the_bar_leaves_the_screen_before_the_one_line(
    tmp_path: Path, tiny_ml1m: Path
) -> None:
    """stderr a terminal: the live progress bar of the running step is erased, and
    ``movierec: interrupted`` is all that is left on the screen after it."""
    import pty
    import re
    import select

    started = tmp_path / "started"
    env = {
        **os.environ,
        "MOVIEREC_CACHE_DIR": str(tmp_path / "cache"),
        "MOVIEREC_DATA_DIR": str(tiny_ml1m),
        "TERM": "xterm-256color",
    }
    terminal, child_side = pty.openpty()
    target = "movierec.datasets.parse.read_ratings"  # inside the parse step: its bar shows
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, target, str(started), "stats", "-d", "ml-1m"],
        stdout=subprocess.DEVNULL,
        stderr=child_side,
        env=env,
    )
    os.close(child_side)
    shown = b""

    def read(timeout: float) -> bool:
        nonlocal shown
        if not select.select([terminal], [], [], timeout)[0]:
            return False
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # the child is gone and the terminal closed
            return False
        shown += chunk
        return bool(chunk)

    try:
        deadline = time.monotonic() + 120
        while b"parsing" not in shown:  # the bar is on the screen
            assert child.poll() is None and time.monotonic() < deadline, shown
            read(0.1)
        assert started.exists()
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=60) == 130
        while read(0.5):
            pass
    finally:
        os.close(terminal)
        if child.poll() is None:
            child.kill()
    text = shown.decode()
    left_on_screen = text.rsplit("\x1b[2K", 1)[1]  # after the bar's last line is erased
    visible = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", left_on_screen)
    assert visible.strip() == "movierec: interrupted"


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
    assert code == 130
    assert_says_interrupted(err)
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
