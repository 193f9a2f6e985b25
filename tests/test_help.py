"""Help that helps: every command shows examples that work, option help that is true for that
command, readable metavars, and a command list that is not cut."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from pathlib import Path

import pytest
import typer

from movierec.cli import app, main

TOP_LEVEL = typer.main.get_command(app).commands  # type: ignore[attr-defined]
COMMANDS = [
    f"{name} {sub}" if hasattr(command, "commands") else name
    for name, command in TOP_LEVEL.items()
    for sub in getattr(command, "commands", [None])
]
"""Every command, a group's (``profile``) as ``profile create``, …"""
NEVER_RUN = {
    "serve": "serves until Ctrl+C",
    "fetch": "downloads from the network",
    **{
        c: "needs a profile made at run time (tests/test_profiles_cli.py runs it)"
        for c in COMMANDS
        if c.startswith("profile ")
    },
}
"""Commands whose examples are only parsed here, with why."""
SLOW_TO_RUN = {"demo", "report"}
"""Commands whose examples take several seconds each: run in the slow tier."""
SPEED = {
    "train": ["--preset", "als-tuned", "--iterations", "3"],
    "evaluate": ["--models", "pop", "--seeds", "1"],
    "tune": ["--trials", "1"],
}
"""Options added to an example when the tests run it (the last of a repeated option wins): the
same command, quicker, on the bundled data."""
TRAINS_THE_DEFAULT = {"similar", "recommend", "score", "recommend-all", "report", "serve"}
MODEL = "my-model"
"""The folder the ``train --out my-model`` example writes, which other examples read."""


def help_text(capsys, *command: str) -> str:
    assert main([*command, "--help"]) == 0
    return capsys.readouterr().out


def examples(text: str) -> list[str]:
    """The example command lines of a help page: the lines under ``Examples:``."""
    _, found, rest = text.partition("\n  Examples:\n")
    assert found, "no Examples: section"
    lines = []
    for line in rest.splitlines():
        if not line.startswith("    movierec "):
            break
        lines.append(line.strip())
    return lines


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """Every command's help page, as a person sees it in an 80-column terminal."""
    out = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "80")
        for command in COMMANDS:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                assert main([*command.split(), "--help"]) == 0
            out[command] = buffer.getvalue()
    return out


def test_the_command_list_shows_each_description_whole(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = help_text(capsys)
    listed = text.split("\nCommands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed] == list(TOP_LEVEL)
    for line in listed:
        assert not line.endswith(("...", "…")), line
        assert line.endswith(".") and len(line) <= 80, line


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_shows_one_or_two_examples(pages: dict[str, str], command: str) -> None:
    found = examples(pages[command])
    assert 1 <= len(found) <= 2
    words = ["movierec", *command.split()]
    assert all(shlex.split(line)[: len(words)] == words for line in found)
    assert all(len(line) <= 76 for line in found)  # one line each in 80 columns


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_values_readably(pages: dict[str, str], command: str) -> None:
    page = pages[command]
    assert not re.search(r"<(int|float|str|path|bool|list\[[a-z]+\])>", page), page
    usage = page.splitlines()[0]
    assert re.fullmatch(rf"Usage: movierec {command} \[OPTIONS\]( [A-Z]+)*", usage), usage
    for option_line in re.findall(r"^  (-.*?)  ", page.split("\nOptions:\n", 1)[1], re.M):
        metavar = option_line.split()[-1]
        assert metavar.startswith("-") or re.fullmatch(r"[A-Z]+(\|[A-Z]+)?", metavar), option_line


def option_help(page: str, option: str) -> str:
    """The help of one option on a help page, its wrapped lines joined."""
    lines = page.split("\nOptions:\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"  (-\w, )?{option}\b", line))
    text = [lines[start]]
    for line in lines[start + 1 :]:
        if re.match(r"  -", line):  # the next option (wrapped lines are indented further)
            break
        text.append(line.strip())
    return " ".join(text)


@pytest.mark.parametrize(
    "command",
    [c for c in COMMANDS if c not in ("datasets", "fetch") and not c.startswith("profile ")],
)
def test_ratings_help_offers_a_uri_only_where_one_works(pages: dict[str, str], command: str):
    if "--ratings" not in pages[command]:
        pytest.skip(f"{command} takes no --ratings")
    takes_uri = command in ("train", "recommend-all")
    assert ("--engine spark" in option_help(pages[command], "--ratings")) == takes_uri


@pytest.mark.parametrize("command", ["popular", "search"])
def test_model_help_promises_no_training_where_none_happens(pages: dict[str, str], command: str):
    text = option_help(pages[command], "--model")
    assert "train and cache" not in text and "trained" not in text
    assert "no ratings" in text


@pytest.mark.parametrize("command", sorted(TRAINS_THE_DEFAULT))
def test_model_help_says_the_default_is_trained_and_cached(pages: dict[str, str], command: str):
    text = option_help(pages[command], "--model")
    assert "trained on first use and cached" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_every_example_parses(pages: dict[str, str], command: str) -> None:
    found = typer.main.get_command(app)
    for part in command.split():
        found = found.commands[part]  # type: ignore[attr-defined]
    for line in examples(pages[command]):
        args = shlex.split(line)[1 + len(command.split()) :]
        found.make_context(command, args)


def runnable(command: str, args: list[str]) -> list[str]:
    """An example's arguments as the tests run it: on the bundled data, with the model the
    ``train`` example wrote where it would otherwise train the default, and quicker (SPEED)."""
    if command in TRAINS_THE_DEFAULT and "--model" not in args:
        args = [*args, "--model", MODEL]
    named = {"--dataset", "-d", "--ratings", "--model", "-m"}
    if command not in ("datasets", "fetch") and not named & set(args):
        args = [*args, "--dataset", "ml-latest-small"]
    return [*args, *SPEED.get(command, [])]


@pytest.fixture(scope="module")
def workspace(pages: dict[str, str], tmp_path_factory) -> Path:
    """A folder holding the files the examples name (mine.csv, and the model the ``train``
    examples write there), with a cache of its own."""
    folder = tmp_path_factory.mktemp("examples")
    rows = ["user_id,movie_id,rating"] + [
        f"{user},{movie},{(user * movie) % 5 + 1}"
        for user in range(1, 21)
        for movie in (1, 2, 3, 6, 32, 47, 50, 110, 260, 296, 318, 356, 480, 527, 589)
    ]
    (folder / "mine.csv").write_text("\n".join(rows) + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("MOVIEREC_CACHE_DIR", str(folder / "cache"))
        run_examples(pages, ["train"])
    assert (folder / MODEL / "meta.json").is_file()
    return folder


def run_examples(pages: dict[str, str], commands: list[str]) -> list[str]:
    """Run every example of ``commands`` (see :func:`runnable`); the lines run."""
    ran = []
    for command in commands:
        for line in examples(pages[command]):
            args = runnable(command, shlex.split(line)[2:])
            stderr = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
                code = main([command, *args])
            assert code == 0, f"{line}\n{stderr.getvalue()}"
            ran.append(line)
    return ran


@pytest.fixture()
def in_workspace(workspace: Path, monkeypatch) -> Path:
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(workspace / "cache"))
    return workspace


def test_every_quick_example_runs(pages: dict[str, str], in_workspace: Path) -> None:
    """The examples of every command but those that serve, download (NEVER_RUN) or take
    several seconds (SLOW_TO_RUN), on the bundled data; train's ran in the workspace."""
    quick = [c for c in COMMANDS if c not in {"train", *NEVER_RUN, *SLOW_TO_RUN}]
    ran = run_examples(pages, quick)
    assert len(ran) >= len(quick)
    assert (in_workspace / "recs.parquet").is_file()


@pytest.mark.slow
def test_every_slow_example_runs(pages: dict[str, str], in_workspace: Path) -> None:
    assert len(run_examples(pages, sorted(SLOW_TO_RUN))) >= len(SLOW_TO_RUN)
    assert (in_workspace / "report" / "index.html").is_file()


def test_evaluate_help_names_every_field_of_its_json(pages: dict[str, str], capsys) -> None:
    args = ["evaluate", "--models", "pop,itemknn", "--dataset", "ml-latest-small", "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    page = " ".join(pages["evaluate"].split())
    fields = {*result, *result["results"][0], *result["paired"][0]}
    missing = sorted(f for f in fields if not re.search(rf"\b{f}\b", page))
    assert not missing, missing
