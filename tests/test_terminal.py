"""What reaches the terminal: data and user input shown as plain text (no markup, no control
characters), --json exact, messages one line and short, exit codes as documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from movierec.cli import main
from movierec.console import clean

HOSTILE_TITLES = {
    "ansi colour": "\x1b[31mRed Alert\x1b[0m (1999)",
    "clear screen": "Gone\x1b[2J\x1b[H Girl (2014)",
    "osc title": "Title\x1b]0;pwned\x07 Bar (2000)",
    "c1 csi": "Eight\x9b31m Bit (2001)",
    "markup": "[bold red]Loud[/bold red] (1995)",
    "closing tag": "Broken [/x] Tag (1996)",
    "link markup": "[link=http://evil]Click[/link] (1997)",
    "bidi override": "Evil \u202egnp.exe (1998)",
    "newline": "Two\nLines (2002)",
    "backspace": "Back\x08space (2004)",
    "emoji code": ":smile: Face (2005)",
}
# Anything a terminal acts on: C0 and C1 controls, DEL, bidi controls.
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    titles = list(HOSTILE_TITLES.values())
    movies = [f"{i}::{t}::Drama" for i, t in enumerate(titles, start=1)]
    ratings = [
        f"{u}::{m}::{4 + (u + m) % 2}" for u in range(1, 40) for m in range(1, len(titles) + 1)
    ]
    folder = root / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("".join(line + "\n" for line in ratings))
    (folder / "movies.dat").write_bytes(
        "".join(m.replace("\n", "\\n") + "\n" for m in movies).encode("utf-8")
    )
    # movies.dat lines cannot hold a newline: that title is stored with a literal "\n"
    return root


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_hostile_titles_reach_the_table_as_plain_text(capsys, hostile_dir: Path) -> None:
    code, out, err = run(
        capsys, "popular", "-n", "20", "-d", "ml-1m", "--data-dir", str(hostile_dir)
    )
    assert code == 0, err
    assert not UNSAFE.search(out)
    assert "[bold red]Loud[/bold red]" in out  # markup shown, not interpreted
    assert "Broken [/x] Tag" in out
    assert "[link=http://evil]Click[/link]" in out
    assert ":smile: Face" in out


@pytest.mark.parametrize("command", ["popular", "search"])
def test_json_keeps_hostile_titles_exact(capsys, hostile_dir: Path, command: str) -> None:
    args = ["-n", "20"] if command == "popular" else ["e", "-n", "20"]
    code, out, err = run(
        capsys, command, *args, "-d", "ml-1m", "--data-dir", str(hostile_dir), "--json"
    )
    assert code == 0, err
    assert not UNSAFE.search(out)  # escaped as \\u001b and the like
    titles = {row["title"] for row in json.loads(out)}
    expected = {t.replace("\n", "\\n") for t in HOSTILE_TITLES.values()}
    assert titles <= expected and len(titles) >= (len(expected) if command == "popular" else 1)


@pytest.mark.parametrize(
    "query",
    ["[/x]", "[bold]", "[/]", "[link=x]", "\x1b[31m", "\\[", "[[[[", "]" * 50, "\u202e", "%s%n"],
)
def test_any_query_is_searched_without_crashing(capsys, query: str) -> None:
    code, out, err = run(capsys, "search", query, "-d", "ml-latest-small")
    assert code in (0, 2), err
    assert "Traceback" not in err and not UNSAFE.search(out + err)
    if code == 0:
        assert out.startswith(("Movies matching", "no movie matches"))


def test_a_query_s_markup_is_kept_in_the_heading(capsys) -> None:
    code, out, _ = run(capsys, "search", "[bold]toy", "-d", "ml-latest-small")
    assert code == 0
    assert "'[bold]toy'" in out


@pytest.mark.parametrize(
    "args",
    [
        ["similar", "x" * 5000],
        ["recommend", "--like", "y" * 5000],
        ["stats", "--dataset", "z" * 5000],
        ["similar", "\x1b[2J" * 200],
        ["score", "a" * 3000, "--like", "b" * 3000],
    ],
    ids=["similar", "recommend", "dataset", "escapes", "score"],
)
def test_long_or_hostile_input_gives_a_short_clean_line(capsys, args: list[str]) -> None:
    code, out, err = run(capsys, *args, *(["-d", "ml-latest-small"] if args[0] != "stats" else []))
    assert code == 2
    assert err.count("\n") == 1 and len(err) <= 700
    assert not UNSAFE.search(err)


def test_clean_removes_controls_and_cuts() -> None:
    assert clean("a\x1b[31mb\tc\nd") == "a [31mb c d"
    assert clean("x" * 100, 10) == "x" * 9 + "…"


# ---- the rating scale ------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["9", "5.5", "-1", "0", "nan", "inf", "-inf"])
@pytest.mark.parametrize("command", ["stats", "popular", "search"])
def test_min_rating_outside_the_scale_names_the_scale(capsys, command: str, value: str) -> None:
    args = [command, *(["toy"] if command == "search" else []), "-d", "ml-latest-small"]
    code, _, err = run(capsys, *args, f"--min-rating={value}")
    assert code == 2
    assert "rating scale (0.5 to 5)" in err and err.count("\n") == 1


@pytest.mark.parametrize("value", ["0.5", "5"])
def test_min_rating_at_the_ends_of_the_scale_is_fine(capsys, value: str) -> None:
    code, _, err = run(capsys, "stats", "-d", "ml-latest-small", f"--min-rating={value}", "--json")
    assert code == 0, err


# ---- exit codes ------------------------------------------------------------------------------
def test_an_internal_error_is_one_line_and_exit_1(capsys, monkeypatch) -> None:
    from movierec import analysis

    def broken(*args, **kwargs):
        raise RuntimeError("a bug\nwith two lines")

    monkeypatch.setattr(analysis, "stats", broken)
    code, _, err = run(capsys, "stats", "-d", "ml-latest-small")
    assert code == 1
    assert err.count("\n") == 1 and "internal error (RuntimeError" in err
    monkeypatch.setenv("MOVIEREC_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["stats", "-d", "ml-latest-small"])


def test_a_disk_error_is_one_line_and_exit_1(capsys, monkeypatch) -> None:
    from movierec import analysis

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", "/tmp/x")

    monkeypatch.setattr(analysis, "stats", full)
    code, _, err = run(capsys, "stats", "-d", "ml-latest-small")
    assert (code, err.count("\n")) == (1, 1)
    assert "No space left on device (/tmp/x)" in err


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_undecodable_argument_bytes_are_shown_not_crashed_on(capsys, as_json: bool) -> None:
    """Bytes of an argument that are not UTF-8 arrive as lone surrogates (PEP 383)."""
    query = b"To\xffy".decode("utf-8", "surrogateescape")
    code, out, err = run(
        capsys,
        "search",
        query,
        "-d",
        "ml-latest-small",
        "-n",
        "2",
        *(["--json"] if as_json else []),
    )
    assert code == 0, err
    out.encode("utf-8")  # writable to any UTF-8 terminal
    assert not re.search(r"[\ud800-\udfff]", out)


@pytest.fixture(scope="module")
def long_ids_dir(tmp_path_factory) -> Path:
    """ml-1m-shaped data whose movie ids are eleven digits and whose titles are long."""
    from conftest import write_dat_dataset

    ids = [98765432101 + i for i in range(4)]
    movies = [
        f"{movie}::An Extraordinarily Long-Winded Title Number {i} (19{90 + i})::Drama|Comedy"
        for i, movie in enumerate(ids)
    ]
    ratings = [f"{u}::{m}::{4 + (u + i) % 2}" for u in range(1, 30) for i, m in enumerate(ids)]
    write_dat_dataset(tmp_path_factory.mktemp("long") / "data", ratings, movies)
    return tmp_path_factory.getbasetemp()


@pytest.mark.parametrize("columns", [12, 20, 32, 48, 64, 80, 120])
@pytest.mark.parametrize(
    "args",
    [
        ["popular", "-d", "ml-latest-small", "-n", "3"],
        ["search", "Star Wars", "-d", "ml-latest-small", "-n", "3"],
        ["popular", "-d", "ml-1m", "-n", "4"],
    ],
    ids=["popular", "search", "eleven-digit ids"],
)
def test_a_narrow_terminal_never_cuts_an_id(
    capsys, monkeypatch, long_ids_dir: Path, columns: int, args: list[str]
) -> None:
    """Every id the command answers (read from its --json) is on the screen whole, at any
    width: a table too wide is stacked, one ``column: value`` line per cell."""
    monkeypatch.setenv("MOVIEREC_DATA_DIR", str(next(long_ids_dir.glob("long*/data"))))
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    answer = json.loads(out)
    items = answer if isinstance(answer, list) else answer.get("results") or answer["movies"]
    ids = [str(item["movie_id"]) for item in items]
    assert ids
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, err = run(capsys, *args)
    assert code == 0, err
    shown = [re.sub(r"[│┃ ]", " ", line) for line in out.splitlines()]
    for movie_id in ids:
        assert any(re.search(rf"(?<!\d){movie_id}(?!\d)", line) for line in shown), out
    assert "…" not in out  # no word of any cell is cut either
    assert all(len(line.rstrip()) <= columns for line in out.splitlines()), out


DEVICE_FULL = Path("/dev/full")


@pytest.mark.skipif(not DEVICE_FULL.exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["popular", "-d", "ml-latest-small", "-n", "3"],
        ["popular", "-d", "ml-latest-small", "-n", "300"],
        ["popular", "-d", "ml-latest-small", "-n", "3", "--json"],
        ["search", "toy", "-d", "ml-latest-small"],
        ["datasets"],
        ["--version"],
        ["--help"],
    ],
    ids=["small table", "big table", "json", "search", "datasets", "version", "help"],
)
def test_stdout_on_a_full_device_is_one_line_and_exit_1(tmp_path: Path, args: list[str]) -> None:
    """``movierec … > /dev/full``: not Python's exit 120 and ``Exception ignored …``, but the
    exit code of a refusal of the system and one line naming stdout."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MOVIEREC_CACHE_DIR": str(tmp_path)}
    with DEVICE_FULL.open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "movierec.cli", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        "movierec: error: cannot write the output: No space left on device (stdout)\n"
    )
