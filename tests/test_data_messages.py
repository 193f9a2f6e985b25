"""Messages that tell the truth about data: a broken local copy is named as such (never "check
the network"), a failed download is remembered, and nothing but our one line is printed."""

from __future__ import annotations

import json
from pathlib import Path

import pooch
import pytest
from conftest import write_dat_dataset

from movierec.cli import main
from movierec.datasets import dataset, fetch

RATINGS = ["1::1::5", "1::2::3", "2::1::4", "2::3::5"]


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path: Path) -> list[str]:
    """No network: every download attempt is recorded and fails as a refused connection."""
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MOVIEREC_DATA_DIR", raising=False)
    monkeypatch.setattr(dataset, "_TOLD_OFFLINE", set())  # a fresh process, as for a command
    attempts: list[str] = []

    def refused(url, *args, **kwargs):
        attempts.append(url)
        pooch.get_logger().info("Downloading data from '%s' to file", url)  # pooch's chatter
        raise ConnectionError("[Errno 111] Connection refused")

    monkeypatch.setattr(pooch, "retrieve", refused)
    return attempts


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def broken(kind: str, root: Path) -> Path:
    """A data dir whose ml-1m/ is there but broken in one way."""
    folder = write_dat_dataset(root, RATINGS)
    if kind == "ratings.dat is a folder":
        (folder / "ratings.dat").unlink()
        (folder / "ratings.dat").mkdir()
    elif kind == "movies.dat missing":
        (folder / "movies.dat").unlink()
    elif kind == "ratings.dat a dangling link":
        (folder / "ratings.dat").unlink()
        (folder / "ratings.dat").symlink_to(root / "nowhere")
    elif kind == "ratings.dat a link loop":
        (folder / "ratings.dat").unlink()
        (folder / "ratings.dat").symlink_to(folder / "ratings.dat")
    elif kind == "ml-1m a link loop":
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
        folder.symlink_to(folder)
    elif kind == "ml-1m a file":
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
        folder.write_text("not a folder")
    return root


BROKEN = {
    "ratings.dat is a folder": "is not a file",
    "movies.dat missing": "has no movies.dat",
    "ratings.dat a dangling link": "leads nowhere",
    "ratings.dat a link loop": "leads nowhere",
    "ml-1m a link loop": "leads nowhere",
    "ml-1m a file": "is a file, not a folder",
}


@pytest.mark.parametrize("kind", list(BROKEN))
@pytest.mark.parametrize("named", [True, False], ids=["-d ml-1m", "default dataset"])
def test_a_broken_local_copy_is_named_not_downloaded(
    capsys, tmp_path: Path, offline: list[str], kind: str, named: bool
) -> None:
    data_dir = broken(kind, tmp_path / "data")
    code, err = run(
        capsys, "stats", *(["-d", "ml-1m"] if named else []), "--data-dir", str(data_dir)
    )
    assert code == 2
    assert BROKEN[kind] in err and "network" not in err
    assert err.count("\n") == 1
    assert offline == []


def test_a_data_dir_without_the_dataset_says_so(capsys, tmp_path: Path, offline) -> None:
    code, err = run(capsys, "stats", "-d", "ml-1m", "--data-dir", str(tmp_path))
    assert code == 2
    assert f"{tmp_path} holds no ml-1m/ folder" in err
    assert err.count("\n") == 1 and err.startswith("movierec: error:")  # no pooch chatter first


def test_a_failed_download_is_remembered_and_retried_on_demand(
    capsys, tmp_path: Path, offline: list[str]
) -> None:
    code, err = run(capsys, "stats", "-d", "ml-100k")
    assert code == 2 and "could not download" in err and len(offline) == 1
    code, err = run(capsys, "stats", "-d", "ml-100k")
    assert code == 2 and len(offline) == 1  # no second wait on the network
    assert "tries again in 10 min" in err and "movierec fetch ml-100k" in err
    code, err = run(capsys, "fetch", "ml-100k")
    assert code == 2 and len(offline) == 2  # fetch tries now
    assert err.count("\n") == 1


def test_the_memory_of_a_failure_expires(capsys, tmp_path: Path, offline: list[str]) -> None:
    run(capsys, "stats", "-d", "ml-100k")
    note = tmp_path / "cache" / "downloads" / "ml-100k.failed.json"
    old = note.stat().st_mtime - fetch.RETRY_AFTER_SECONDS - 1
    data = json.loads(note.read_text())
    data["time"] = old
    note.write_text(json.dumps(data))
    run(capsys, "stats", "-d", "ml-100k")
    assert len(offline) == 2


def test_without_a_name_the_bundled_data_is_used_once_offline(
    capsys, tmp_path: Path, offline: list[str]
) -> None:
    code, err = run(capsys, "stats", "--json")
    assert code == 0 and "using the bundled ml-latest-small" in err
    assert err.count("\n") == 1
    run(capsys, "stats", "--json")
    assert len(offline) == 1


def test_the_offline_notice_is_said_once_per_process_with_its_age(
    capsys, tmp_path: Path, offline: list[str], monkeypatch
) -> None:
    from movierec import load_dataset

    code, err = run(capsys, "stats", "--json")
    assert code == 0 and err == (
        "movierec: ml-1m is not in the data dir or cache and its download failed just now; "
        "using the bundled ml-latest-small (`movierec fetch ml-1m` tries again)\n"
    )
    assert run(capsys, "popular", "-n", "3") == (0, "")  # the same process: said once
    assert load_dataset().name == "ml-latest-small" and capsys.readouterr().err == ""
    monkeypatch.setattr(dataset, "_TOLD_OFFLINE", set())  # the next command, 3 minutes on
    note = tmp_path / "cache" / "downloads" / "ml-1m.failed.json"
    failure = json.loads(note.read_text())
    note.write_text(json.dumps({**failure, "time": failure["time"] - 180}))
    code, err = run(capsys, "stats", "--json")
    assert code == 0 and "its download failed 3 min ago; using the bundled" in err
    assert len(offline) == 1  # not tried again within 10 min


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "just now"), (29, "just now"), (31, "1 min ago"), (180, "3 min ago"), (599, "10 min ago")],
)
def test_how_long_ago_reads_as_people_say_it(seconds: float, said: str) -> None:
    assert fetch.time_ago(seconds) == said


def test_a_named_dataset_s_recent_failure_never_says_0_min_ago(capsys, offline: list[str]) -> None:
    run(capsys, "stats", "-d", "ml-100k")
    code, err = run(capsys, "stats", "-d", "ml-100k")
    assert code == 2 and "its download failed just now (" in err and "0 min ago" not in err


def test_fetch_reports_a_local_copy(capsys, tmp_path: Path) -> None:
    write_dat_dataset(tmp_path / "data", RATINGS)
    code = main(["fetch", "ml-1m", "--data-dir", str(tmp_path / "data"), "--json"])
    out = capsys.readouterr().out
    assert code == 0 and str(tmp_path / "data" / "ml-1m") in out


@pytest.mark.parametrize("variable", ["MOVIEREC_CACHE_DIR", "MOVIEREC_DATA_DIR"])
def test_a_file_where_a_folder_should_be_is_named(
    capsys, tmp_path: Path, monkeypatch, variable: str
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    monkeypatch.setenv(variable, str(a_file))
    code, err = run(capsys, "stats", "-d", "ml-100k")
    assert code == 2 and err.count("\n") == 1
    assert f"{a_file} is" in err and "not a folder" in err
