"""Hostile outputs (issue 22, families 1, 4 and 6 for outputs): a file that appears at the output
path while movierec works is never replaced; a FIFO, a device or a socket given as an output is
refused in one line without being opened (so nothing can wait on it); a full disk or a
read-only place is one line naming the place, with no temporary or half-written folder left."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from movierec import Recommender, atomic, batch
from movierec.atomic import MARKER, claim_folder
from movierec.cli import main
from movierec.errors import MovieRecError

SMALL = ["--dataset", "ml-latest-small"]
MOVIEREC = str(Path(sys.executable).with_name("movierec"))


@pytest.fixture(scope="module")
def model_dir(small_recommender: Recommender, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_recommender.save(tmp_path_factory.mktemp("hostile") / "model")


def commands(model: Path | None = None) -> dict[str, list[str]]:
    """Each command with an output path (OUT: a folder; OUT is the file for recommend-all)."""
    with_model = ["--model", str(model)] if model is not None else []
    return {
        "train --out": ["train", *SMALL, "--preset", "als-sparse", "--iterations", "2", "--out"],
        "report --out": ["report", *SMALL, *with_model, "--out"],
        "evaluate --plot": [
            "evaluate",
            *SMALL,
            "--protocol",
            "ratio",
            "--models",
            "pop",
            "--plot",
        ],
        "recommend-all --out": ["recommend-all", *SMALL, *with_model, "-n", "50", "--out"],
    }


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def no_slow_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """An output must be refused before any data is read or any model trained."""

    def slow(*args: object, **kwargs: object) -> None:
        raise AssertionError("slow work started before the output was refused")

    from movierec.serving import Source

    monkeypatch.setattr(Source, "load", slow)
    monkeypatch.setattr(Recommender, "train", slow)


# ---- family 4: FIFOs, devices, sockets, links to them --------------------------------------
class FifoWatch:
    """Opens the FIFO's writing end whenever a reader waits on it (so a test never hangs) and
    remembers that someone opened it."""

    def __init__(self, fifo: Path) -> None:
        self.fifo, self.opened, self._stop = fifo, False, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            try:
                os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # ENXIO: nobody reads it
                continue
            self.opened = True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def make_nonfile(
    kind: str, place: Path, stack: contextlib.ExitStack
) -> tuple[Path, str, FifoWatch | None]:
    """A non-file of ``kind`` at ``place`` (or a device); returns it, the words naming it and
    the watch on the FIFO, if it is one."""
    if kind == "device":
        return Path("/dev/null"), "a character device", None
    if kind == "socket":
        server = stack.enter_context(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        server.bind(str(place))
        return place, "a socket", None
    fifo = place if kind == "FIFO" else place.with_name(place.name + ".real")
    os.mkfifo(fifo)
    watch = FifoWatch(fifo)
    stack.callback(watch.stop)
    if kind == "link to a FIFO":
        place.symlink_to(fifo)
    if kind == "inside a FIFO":
        return fifo / "out", "a FIFO (named pipe)", watch
    return place, "a FIFO (named pipe)", watch


@pytest.mark.parametrize("kind", ["FIFO", "link to a FIFO", "inside a FIFO", "socket", "device"])
@pytest.mark.parametrize("command", list(commands()))
def test_a_non_file_output_is_refused_in_one_line_without_being_opened(
    capsys, tmp_path: Path, no_slow_work: None, command: str, kind: str
) -> None:
    with contextlib.ExitStack() as stack:
        out, words, watch = make_nonfile(kind, tmp_path / "out", stack)
        code = main([*commands()[command], str(out)])
    message = one_line(capsys.readouterr().err)
    assert code == 2
    assert words in message and command.split()[-1] in message
    assert watch is None or not watch.opened, "movierec opened the FIFO"


INSIDE = {
    "train --out": ("meta.json", False),
    "report --out": ("index.html", True),
    "evaluate --plot": ("precision_recall_at_k.png", True),
}


@pytest.mark.parametrize("name", ["its own file", "the marker"])
@pytest.mark.parametrize("command", list(INSIDE))
def test_a_fifo_inside_an_output_folder_is_refused_without_being_opened(
    capsys, tmp_path: Path, no_slow_work: None, command: str, name: str
) -> None:
    inside, marked = INSIDE[command]
    out = tmp_path / "out"
    out.mkdir()
    kind = "plots" if command == "evaluate --plot" else "report"
    if name == "the marker":
        inside = MARKER
    elif marked:
        (out / MARKER).write_text(f'{{"kind": "{kind}", "written_by": "movierec"}}\n')
    os.mkfifo(out / inside)
    watch = FifoWatch(out / inside)
    try:
        code = main([*commands()[command], str(out)])
    finally:
        watch.stop()
    message = one_line(capsys.readouterr().err)
    assert code == 2 and "FIFO" in message and inside in message
    assert not watch.opened


# ---- family 1: outputs that appear while movierec works -----------------------------------
def no_temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*") if p.name != MARKER)


def appear_with_ranking(monkeypatch: pytest.MonkeyPatch, make: object) -> None:
    real = batch.BlockRanker.__call__
    done: list[bool] = []

    def ranking(self: batch.BlockRanker, block: batch.Block) -> object:
        if not done:
            done.append(True)
            make()  # type: ignore[operator]
        return real(self, block)

    monkeypatch.setattr(batch.BlockRanker, "__call__", ranking)


def appear_before_the_rename(monkeypatch: pytest.MonkeyPatch, make: object) -> None:
    real = batch.write_atomically

    def writing(path: Path, write: object, **kwargs: object) -> Path:
        def then_appear(handle: object) -> None:
            write(handle)  # type: ignore[operator]
            make()  # type: ignore[operator]

        return real(path, then_appear, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "write_atomically", writing)


@pytest.mark.parametrize("moment", ["while ranking", "just before the rename"])
@pytest.mark.parametrize("what", ["a new file", "a link", "the old file replaced by mine"])
def test_recommend_all_never_replaces_a_file_that_appears_meanwhile(
    capsys, tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch, moment: str, what: str
) -> None:
    out = tmp_path / "recs.parquet"
    args = [*commands(model_dir)["recommend-all --out"], str(out)]
    mine = tmp_path / "mine.txt"
    mine.write_bytes(b"mine")
    if what == "the old file replaced by mine":
        assert main(args) == 0  # movierec's own file: it may be replaced, but it changes
        capsys.readouterr()

    def make() -> None:
        if what == "a link":
            out.symlink_to(mine)
        else:
            tmp = tmp_path / "incoming"
            tmp.write_bytes(b"mine")
            os.replace(tmp, out)

    hook = appear_with_ranking if moment == "while ranking" else appear_before_the_rename
    hook(monkeypatch, make)
    code = main(args)
    message = one_line(capsys.readouterr().err)
    assert code == 2 and "--out" in message and "changed by another program" in message
    assert out.read_bytes() == b"mine" and mine.read_bytes() == b"mine"
    assert (what == "a link") == out.is_symlink()
    assert no_temporaries(tmp_path) == []


def test_recommend_all_replaces_its_own_unchanged_file(
    capsys, tmp_path: Path, model_dir: Path
) -> None:
    out = tmp_path / "recs.parquet"
    args = [*commands(model_dir)["recommend-all --out"], str(out)]
    assert main(args) == 0
    assert main(args) == 0
    assert batch.written_by_movierec(out) and no_temporaries(tmp_path) == []


@pytest.mark.parametrize(
    "moment", ["after the claim", "with the first chart", "with the page", "old page replaced"]
)
def test_a_report_never_replaces_a_file_that_appears_meanwhile(
    tmp_path: Path, small, small_recommender: Recommender, monkeypatch, moment: str
) -> None:
    from movierec.report import build, build_report, prepare_output

    out = tmp_path / "report"
    if moment == "old page replaced":
        build_report(small, small_recommender, out)
    prepare_output(out)  # the CLI claims first, loads and trains, then builds
    name = "top_movies.png" if moment == "with the page" else "index.html"

    def make() -> None:
        (out / name).write_text("mine")

    if moment in ("after the claim", "old page replaced"):
        make()
    else:  # at the first chart, or once every chart is drawn (the page is rendered)
        target = build.charts if moment == "with the first chart" else build.html
        attribute = "save_png" if moment == "with the first chart" else "render"
        real = getattr(target, attribute)

        def hooked(*args: object, **kwargs: object) -> object:
            if not (out / name).exists():
                make()
            return real(*args, **kwargs)

        monkeypatch.setattr(target, attribute, hooked)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(MovieRecError, match="changed by another program"):
        build_report(small, small_recommender, out)
    assert (out / name).read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == sorted({*before, name})  # nothing moved in


def test_plots_never_replace_a_file_that_appears_meanwhile(small, tmp_path: Path, monkeypatch):
    from movierec.evaluation import evaluate, get_protocol, parse_model_specs, plots

    protocol = get_protocol("ratio")
    data = protocol.prepare(small)
    specs = parse_model_specs("als:factors=8:iterations=2")
    result = evaluate(small, protocol, specs, k=5, seeds=[0], extra_ks=range(1, 6), prepared=data)
    out = claim_folder(tmp_path / "plots", "plots", "--plot")
    real = plots.plot_sweep

    def sweep_then_appear(*args: object, **kwargs: object) -> Path:
        (out / "als_ndcg_vs_iterations.png").write_text("mine")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plots, "plot_sweep", sweep_then_appear)
    with pytest.raises(MovieRecError, match="--plot .* changed by another program"):
        plots.write_plots(result, data, protocol, out, 0, (4, 8), (1, 2))
    assert (out / "als_ndcg_vs_iterations.png").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "als_ndcg_vs_iterations.png"]


@pytest.mark.parametrize("moment", ["while saving", "between the check and the swap"])
@pytest.mark.parametrize("existing", [True, False], ids=["over a model", "a new folder"])
def test_a_model_folder_is_never_replaced_once_a_file_of_yours_is_in_it(
    small_recommender: Recommender, tmp_path: Path, monkeypatch, moment: str, existing: bool
) -> None:
    out = tmp_path / "model"
    if existing:
        small_recommender.save(out)
    before = sorted(p.name for p in out.iterdir()) if existing else []

    def make() -> None:
        out.mkdir(exist_ok=True)
        (out / "notes.txt").write_text("mine")

    if moment == "while saving":
        from movierec import catalogue

        real_save = catalogue.Catalogue.save

        def save_then_appear(self: object, path: Path) -> object:
            make()
            return real_save(self, path)  # type: ignore[arg-type]

        monkeypatch.setattr(catalogue.Catalogue, "save", save_then_appear)
    else:
        real_replace = os.replace

        def replace(src: object, dst: object) -> None:
            if Path(str(src)) == out and not (out / "notes.txt").exists():
                make()
            real_replace(src, dst)  # type: ignore[arg-type]

        monkeypatch.setattr(atomic.os, "replace", replace)
        if not existing:  # nothing to rename aside: the folder appears just before the swap
            real_owns = atomic.check_replaceable
            calls: list[int] = []

            def check_then_appear(*args: object, **kwargs: object) -> Path:
                calls.append(1)
                found = real_owns(*args, **kwargs)  # type: ignore[arg-type]
                if len(calls) == 2:
                    make()
                return found

            monkeypatch.setattr(atomic, "check_replaceable", check_then_appear)
    with pytest.raises((MovieRecError, OSError)):
        small_recommender.save(out)
    monkeypatch.undo()
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == sorted([*before, "notes.txt"])
    assert no_temporaries(tmp_path) == []


# ---- family 6: full disks and read-only places --------------------------------------------
def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True
    )
    return done.returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs unshare (a private tmpfs)")

RUN_ON_TMPFS = (
    'd="$1"; opts="$2"; shift 2; mount -t tmpfs -o "$opts" tmpfs "$d" || exit 99; '
    '"$@"; echo "rc=$?"; find "$d" -mindepth 1 -printf "LEFT %P\\n"'
)


def on_tmpfs(tmp_path: Path, options: str, args: list[str]) -> tuple[int, str, list[str]]:
    """Run movierec with ``tmp_path/place`` a private tmpfs mounted with ``options``; returns
    its exit code, its stderr and what is left on the tmpfs afterwards."""
    place = tmp_path / "place"
    place.mkdir()
    args = [a.replace("PLACE", str(place)) for a in args]
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount"]
        + ["sh", "-c", RUN_ON_TMPFS, "sh", str(place), options, MOVIEREC, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.splitlines()
    codes = [int(line[3:]) for line in lines if line.startswith("rc=")]
    assert codes, done
    return codes[0], done.stderr, sorted(line[5:] for line in lines if line.startswith("LEFT "))


FULL = {  # command → (output given, what may be left: a claimed folder holds its marker only)
    "train --out": ("PLACE/model", []),
    "report --out": ("PLACE/report", ["report", f"report/{MARKER}"]),
    "recommend-all --out": ("PLACE/recs.parquet", []),
    "evaluate --plot": ("PLACE/plots", ["plots", f"plots/{MARKER}"]),
}


@needs_mount
@pytest.mark.parametrize(
    "command",
    [*list(FULL)[:3], pytest.param("evaluate --plot", marks=pytest.mark.slow)],
)
def test_a_full_disk_is_one_line_naming_the_place_and_leaves_nothing_half_written(
    tmp_path: Path, model_dir: Path, command: str
) -> None:
    given, allowed = FULL[command]
    code, err, left = on_tmpfs(tmp_path, "size=64k", [*commands(model_dir)[command], given])
    last = err.strip().splitlines()[-1]
    assert code == 1, err  # the system refused (docs/reliability.md's exit codes)
    assert "Traceback" not in err and last.startswith("movierec: ")
    assert "no space left on the disk for" in last and "free" in last
    assert given.replace("PLACE/", "") in last
    assert left == allowed


@needs_mount
@pytest.mark.parametrize("command", list(FULL))
def test_a_read_only_place_is_refused_before_any_work(
    tmp_path: Path, model_dir: Path, command: str
) -> None:
    given, _ = FULL[command]
    code, err, left = on_tmpfs(tmp_path, "ro,size=64k", [*commands(model_dir)[command], given])
    message = one_line(err)
    assert code == 2 and "not writable" in message and "Read-only" in message
    assert left == []


def test_a_full_disk_midway_leaves_an_old_report_as_it_was(
    tmp_path: Path, small, small_recommender: Recommender, monkeypatch
) -> None:
    """The charts are drawn into a new folder: a disk that fills at the third chart leaves the
    previous report whole, and the new folder is removed."""
    import errno

    from movierec.report import build, build_report

    out = tmp_path / "report"
    build_report(small, small_recommender, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = build.charts.save_png
    calls: list[int] = []

    def fill_up(*args: object, **kwargs: object) -> Path:
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build.charts, "save_png", fill_up)
    with pytest.raises(OSError, match="no space left on the disk for"):
        build_report(small, small_recommender, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
