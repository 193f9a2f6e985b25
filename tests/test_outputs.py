"""Outputs never destroy: what movierec accepts as an output folder, and what survives a failure
or an interruption in the middle of writing."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from movierec import Recommender
from movierec.atomic import MARKER, claim_folder, replace_folder, write_atomically
from movierec.bundle import is_model_folder
from movierec.cli import main
from movierec.errors import MovieRecError

SMALL = ["--dataset", "ml-latest-small"]


def snapshot(root: Path) -> dict[str, str]:
    """Every file below ``root`` (hidden ones too) with a digest of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def leftovers(parent: Path) -> list[str]:
    """Temporary files or folders movierec may have left beside its outputs."""
    return sorted(p.name for p in parent.rglob(".*") if p.name != MARKER)


@pytest.fixture(scope="module")
def trained(small_recommender) -> Recommender:
    return small_recommender


def train_args(out: Path, *extra: str) -> list[str]:
    return [
        "train",
        *SMALL,
        "--preset",
        "als-sparse",
        "--iterations",
        "2",
        "--out",
        str(out),
        *extra,
    ]


# ---- what a folder may hold ---------------------------------------------------------------
FOREIGN = {
    "a file": {"notes.txt": "mine"},
    "a hidden file": {".env": "SECRET=1"},
    "a sub-folder": {"photos/cat.jpg": "jpeg"},
    "a meta.json that is not a model's": {"meta.json": '{"author": "me"}'},
    "a model plus a file of mine": {"meta.json": "MODEL", "notes.txt": "mine"},
    "a report marker of another kind": {MARKER: '{"kind": "report"}', "x.png": "png"},
}


def fill_with(folder: Path, files: dict[str, str], model_meta: str) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(model_meta if text == "MODEL" else text)


@pytest.mark.parametrize("contents", list(FOREIGN), ids=list(FOREIGN))
def test_train_refuses_a_folder_holding_other_files(capsys, tmp_path: Path, contents: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    meta = json.dumps({"format_version": 1, "settings": {}, "dataset": {}})
    fill_with(out, FOREIGN[contents], meta)
    before = snapshot(tmp_path)
    code = main(train_args(out))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "movierec writes only into" in err
    assert snapshot(tmp_path) == before


def test_train_refuses_a_file(capsys, tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.write_text("not a folder")
    assert main(train_args(target)) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "not a folder"


def test_the_current_folder_is_refused_unless_empty(capsys, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "thesis.tex").write_text("years of work")
    monkeypatch.chdir(tmp_path)
    assert main(train_args(Path("."))) == 2
    assert (tmp_path / "thesis.tex").read_text() == "years of work"
    capsys.readouterr()


def test_an_empty_current_folder_is_filled_and_still_there(tmp_path: Path, monkeypatch) -> None:
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(train_args(Path("."))) == 0
    assert Path.cwd() == here and is_model_folder(here)
    assert leftovers(tmp_path) == []


def test_a_missing_folder_is_created_with_normal_permissions(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "model"
    old_mask = os.umask(0o022)
    try:
        assert main(train_args(out)) == 0
    finally:
        os.umask(old_mask)
    assert is_model_folder(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o644}
    assert leftovers(tmp_path) == []


def test_a_model_folder_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "model"
    assert main(train_args(out, "--factors", "8")) == 0
    assert main(train_args(out, "--factors", "16")) == 0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["settings"]["params"]["factors"] == 16
    assert leftovers(tmp_path) == []


def test_a_link_to_a_model_folder_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    assert main(train_args(real)) == 0
    link = tmp_path / "link"
    link.symlink_to(real)
    assert main(train_args(link, "--factors", "8")) == 0
    assert link.is_symlink() and is_model_folder(real)
    assert json.loads((real / "meta.json").read_text())["settings"]["params"]["factors"] == 8


def test_an_unwritable_place_is_refused_before_training(capsys, monkeypatch) -> None:
    def must_not_train(*args, **kwargs):
        raise AssertionError("trained before checking --out")

    monkeypatch.setattr(Recommender, "train", must_not_train)
    assert main(train_args(Path("/proc/movierec-test/model"))) == 2
    assert "not writable" in capsys.readouterr().err


def test_report_refuses_a_folder_holding_other_files(capsys, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("my homepage")
    assert main(["report", *SMALL, "--out", str(tmp_path)]) == 2
    assert (tmp_path / "index.html").read_text() == "my homepage"
    assert "movierec writes only into" in capsys.readouterr().err


def test_evaluate_refuses_a_plot_folder_before_evaluating(capsys, tmp_path: Path) -> None:
    (tmp_path / "figure.png").write_text("mine")
    code = main(
        ["evaluate", *SMALL, "--protocol", "ratio", "--models", "pop", "--plot", str(tmp_path)]
    )
    assert code == 2
    assert (tmp_path / "figure.png").read_text() == "mine"
    assert "--plot" in capsys.readouterr().err


def test_claimed_folders_can_be_written_again_but_not_by_another_kind(tmp_path: Path) -> None:
    folder = claim_folder(tmp_path / "report", "report")
    (folder / "index.html").write_text("page")
    assert claim_folder(folder, "report") == folder
    with pytest.raises(MovieRecError, match="did not write"):
        claim_folder(folder, "plots")


# ---- failures midway ----------------------------------------------------------------------
class Boom(Exception):
    pass


@pytest.mark.parametrize("failure", [Boom, KeyboardInterrupt])
def test_a_failed_file_write_leaves_the_old_file(tmp_path: Path, failure: type) -> None:
    path = tmp_path / "page.html"
    path.write_text("old")

    def half_then_fail(out) -> None:
        out.write(b"new, half")
        out.flush()
        raise failure()

    with pytest.raises(failure):
        write_atomically(path, half_then_fail)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


def test_a_written_file_has_normal_permissions(tmp_path: Path) -> None:
    old_mask = os.umask(0o022)
    try:
        path = write_atomically(tmp_path / "x", lambda out: out.write(b"x"))
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def saved_model(trained: Recommender, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    out = trained.save(tmp_path / "model")
    return out, snapshot(out)


@pytest.mark.parametrize("failure", [Boom, KeyboardInterrupt])
def test_a_save_failing_midway_leaves_the_old_model(
    trained: Recommender, tmp_path: Path, monkeypatch, failure: type
) -> None:
    out, before = saved_model(trained, tmp_path)
    from movierec import catalogue

    def fail(*args, **kwargs):
        raise failure()

    monkeypatch.setattr(catalogue.Catalogue, "save", fail)  # after the arrays are written
    with pytest.raises(failure):
        trained.save(out)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failing_call", [1, 2])
def test_a_save_failing_at_the_swap_leaves_the_old_model(
    trained: Recommender, tmp_path: Path, monkeypatch, failing_call: int
) -> None:
    """The swap is: old folder renamed aside (call 1), new folder renamed in (call 2). Whichever
    rename fails, the folder holds the old model, whole, afterwards."""
    out, before = saved_model(trained, tmp_path)
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append((src, dst))
        if len(calls) == failing_call:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError):
        trained.save(out)
    monkeypatch.undo()
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_a_model_is_never_seen_half_written(trained: Recommender, tmp_path: Path, monkeypatch):
    """While a save runs, the target folder holds the old model or nothing new: every file of
    the new one appears at once, by one rename."""
    out, before = saved_model(trained, tmp_path)
    seen = []
    from movierec import bundle

    real_savez = np.savez

    def watching_savez(*args, **kwargs):
        seen.append(snapshot(out))
        return real_savez(*args, **kwargs)

    monkeypatch.setattr(bundle.np, "savez", watching_savez)
    trained.save(out)
    assert seen == [before]


def test_replace_folder_refuses_before_filling(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("x")
    filled = []
    with pytest.raises(MovieRecError):
        replace_folder(tmp_path, filled.append, lambda d: False, "movierec model")
    assert filled == []
