"""SIGINT and SIGTERM at every instant of a real ``movierec`` run, not one instant per phase.

The installed program trains a model on a small dataset (parsing cold, fitting EASE, saving)
and gets the signal after a sweep of delays spread over its whole run, from the moment its
handlers are installed (read from ``/proc``) to its last instant. The child is stopped
(SIGSTOP) while the signal is sent, so the signal reaches it alive or not at all. Each time it
exits 130/143 with ``movierec: interrupted`` as its last line and leaves no temporary file, or
it had already finished (checked without reaping it) and then exited 0 with its model whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from movierec.cli import main

PROGRAM = Path(sys.executable).with_name("movierec")
FRACTIONS = [i / 14 for i in range(15)]  # of the run's length: start to finish and a bit past

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists() or not PROGRAM.exists(),
    reason="needs Linux's /proc and the installed program",
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import write_dat_dataset

    root = tmp_path_factory.mktemp("signals")
    ratings = [f"{u}::{m}::{(u * m) % 5 + 1}" for u in range(1, 300) for m in range(1, 5)]
    write_dat_dataset(root / "data", ratings)
    return root / "data"


def _command(tmp: Path, data: Path) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "MOVIEREC_CACHE_DIR": str(tmp / "cache"), "MOVIEREC_DATA_DIR": str(data)}
    env.pop("COLUMNS", None)
    args = [str(PROGRAM), "train", "-d", "ml-1m", "--preset", "ease-tuned", "--out"]
    return [*args, str(tmp / "out")], env


def _handles_sigterm(pid: int) -> bool:
    """Whether the process catches SIGTERM: movierec's handlers are in (Python's own catch
    only SIGINT), so what runs from now on is movierec's to answer."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # gone already
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def _finished(pid: int) -> bool:
    """Whether the child has exited, without reaping it."""
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    return os.waitid(os.P_PID, pid, flags) is not None


def _stopped_or_finished(pid: int) -> bool:
    """Stop the child (SIGSTOP) and wait until it is stopped or has exited: True when it had
    exited. A stopped child cannot exit, so a signal sent now reaches a live process, and is
    answered when it is continued; without the stop, a child that ends between a check and
    the signal would look like one that ignored the signal."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _finished(pid):
            return True
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state in ("T", "t"):
            return False
        time.sleep(0.001)
    raise AssertionError(f"child {pid} neither stopped nor exited")


@pytest.fixture(scope="module")
def run_length(small: Path, tmp_path_factory: pytest.TempPathFactory) -> float:
    """Seconds a whole uninterrupted run takes here, from its handlers in to its exit."""
    command, env = _command(tmp_path_factory.mktemp("whole"), small)
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while not _handles_sigterm(child.pid):
        time.sleep(0.002)
    began = time.monotonic()
    _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    return time.monotonic() - began


def _left_behind(tmp: Path) -> list[str]:
    """Temporary files and folders anywhere under ``tmp`` (hidden, ``.new-*``, ``*.tmp``)."""
    return [
        str(p.relative_to(tmp))
        for p in tmp.rglob("*")
        if p.name.startswith(".") or p.name.endswith(".tmp") or ".new" in p.name
    ]


@pytest.mark.slow  # a child process per case
@pytest.mark.parametrize("fraction", FRACTIONS, ids=[f"{f:.0%}" for f in FRACTIONS])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_at_any_instant_of_train_ends_it_cleanly(
    tmp_path: Path, small: Path, run_length: float, fraction: float, signum: int
) -> None:
    command, env = _command(tmp_path, small)
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not _handles_sigterm(child.pid):
            assert time.monotonic() < deadline, "the handlers never went in"
            time.sleep(0.002)
        time.sleep(fraction * run_length * 1.1)
        finished = _stopped_or_finished(child.pid)
        os.kill(child.pid, signum)  # to a finished child: a zombie (not reaped), which ignores it
        os.kill(child.pid, signal.SIGCONT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    if finished:  # it was done before the signal: a success, whole
        assert child.returncode == 0, err
        assert "saved to" in out
    else:
        assert child.returncode == 128 + signum, (child.returncode, err)
        lines = err.splitlines()
        assert lines[-1] == "movierec: interrupted", err
        assert all(line.startswith("movierec: ") and "error" not in line for line in lines), err
        assert "Traceback" not in err and "Exception ignored" not in err
    assert _left_behind(tmp_path) == []
    out_dir = tmp_path / "out"
    if out_dir.exists():  # saved whole before the signal, or not at all
        assert (out_dir / "meta.json").exists()


class _SignalsWhenCollected:
    """An object whose finaliser gets the SIGINT: Python swallows what its handler raises
    there (``Exception ignored in …``) and goes on."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("then", ["returns", "prints", "fails"])
def test_an_interrupt_swallowed_by_a_finaliser_still_ends_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], then: str
) -> None:
    from movierec import analysis
    from movierec.errors import DataError

    def stats(*args: object, **kwargs: object) -> object:
        _SignalsWhenCollected()  # collected at once: the interrupt is raised and swallowed
        if then == "fails":
            raise DataError("a problem you can fix")
        import typer

        if then == "prints":
            print("some output")
        raise typer.Exit(0)

    monkeypatch.setattr(analysis, "stats", stats)
    code = main(["stats", "--dataset", "ml-latest-small"])
    err = capsys.readouterr().err
    assert "Exception ignored" not in err and "Traceback" not in err
    if then == "fails":  # the error is already the run's one line, and the signal ends it
        assert code == 130 and err.splitlines()[-1] == "movierec: interrupted"
    else:
        assert (code, err) == (130, "movierec: interrupted\n")


STRETCHED = """
import atexit, importlib.abc, sys, time
from pathlib import Path

phase, started, *args = sys.argv[1:]
sys.argv = ["movierec", *args]  # the program itself, as its console script runs it


def stretch():
    Path(started).touch()
    time.sleep(60)


class Slow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == phase:
            sys.meta_path.remove(self)
            stretch()
        return None


if phase != "cleanup":
    sys.meta_path.insert(0, Slow())
from movierec.cli import main

if phase == "cleanup":  # an atexit callback that takes long (a JVM stopping, say)
    atexit.register(stretch)
sys.exit(main())
"""


@pytest.mark.slow  # a child process per case
@pytest.mark.parametrize(
    "phase",
    ["typer", "movierec.serving", "rich.console", "numpy", "cleanup"],
    ids=["importing typer", "importing serving", "importing rich", "importing numpy", "atexit"],
)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_program_starts_or_ends_is_still_one_line(
    tmp_path: Path, small: Path, phase: str, signum: int
) -> None:
    """The instants before the command runs (the program importing what it needs) and after
    it has its answer (Python's clean-up) are stretched, and the signal sent there."""
    started = tmp_path / "started"
    env = {
        **os.environ,
        "MOVIEREC_CACHE_DIR": str(tmp_path / "cache"),
        "MOVIEREC_DATA_DIR": str(small),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", STRETCHED, phase, str(started), "stats", "-d", "ml-1m"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the stretched instant never came"
            time.sleep(0.02)
        child.send_signal(signum)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert (child.returncode, err) == (128 + signum, "movierec: interrupted\n")
    if phase == "cleanup":  # the answer was complete before the signal
        assert "ratings" in out
    else:
        assert out == ""
