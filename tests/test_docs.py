"""README.md and docs/ say what is true: every output they show is what the program prints now
(see ``doc_outputs``), the README stays a five-minute read, its links lead somewhere, and the
command reference covers every command."""

from __future__ import annotations

import doctest
import importlib.util
import re
from pathlib import Path

import pytest
from doc_outputs import ROOT, Block, blocks, commands, documents, fresh_cache, matches, run_console

README = ROOT / "README.md"
ALL_BLOCKS = [block for path in documents() for block in blocks(path)]
CHECKED = [block for block in ALL_BLOCKS if block.mode is not None]


def tiered(found: list[Block]) -> list:
    """Each block as a test parameter: the README's offline blocks in the fast tier; a block on
    ML-1M (a fit of the default model) or elsewhere in the docs in the slow one."""
    return [
        pytest.param(
            block,
            id=block.name,
            marks=() if block.path == README and block.mode == "bundled" else pytest.mark.slow,
        )
        for block in found
    ]


def test_the_readme_is_a_five_minute_read() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_the_readme_starts_with_the_two_commands() -> None:
    first = README.read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert "pip install -e . && movierec demo" in first
    assert 'pip install -e ".[dev]" && python -m pytest' in first


def test_every_shown_output_is_checked() -> None:
    """A block that shows what a command prints carries an output marker, so a test runs it;
    markers name known data."""
    unchecked = []
    for block in ALL_BLOCKS:
        if block.mode is not None:
            assert block.mode in ("ml-1m", "bundled"), f"{block.name}: unknown data {block.mode}"
            assert block.lang in ("console", "pycon"), f"{block.name}: cannot check {block.lang}"
            continue
        shows_console = block.lang == "console" and any(c.shown for c in commands(block))
        shows_python = block.lang == "pycon" and re.search(r"^(?!>>>|\.\.\.)\S", block.text, re.M)
        if shows_console or shows_python:
            unchecked.append(block.name)
    assert unchecked == [], f"outputs shown without an <!-- output: … --> marker: {unchecked}"


def test_the_readme_and_the_docs_show_outputs() -> None:
    """The checks below check something: the README's story and the guide's pages are there."""
    assert sum(block.path == README for block in CHECKED) >= 2
    assert {block.mode for block in CHECKED} == {"ml-1m", "bundled"}


@pytest.fixture(scope="session")
def ml1m_cache(tmp_path_factory) -> Path:
    """One cache for every ML-1M block: the default model is trained once."""
    return tmp_path_factory.mktemp("doc-ml1m-cache")


def data_for(block: Block, request) -> Path | None:
    return request.getfixturevalue("ml1m_dir") if block.mode == "ml-1m" else None


CONSOLE = [block for block in CHECKED if block.lang == "console"]


@pytest.mark.parametrize("block", tiered(CONSOLE))
def test_a_shown_console_output_is_what_the_program_prints(block: Block, request) -> None:
    data_dir = data_for(block, request)
    shared = request.getfixturevalue("ml1m_cache") if block.mode == "ml-1m" else None
    with fresh_cache(shared) as cache:
        ran = run_console(block, cache, data_dir)
    wrong = [each.report() for each in ran if not each.ok]
    assert not wrong, (
        f"{block.name} shows other output than the program prints "
        f"(refresh: python tests/doc_outputs.py {block.path.relative_to(ROOT)}):\n\n"
        + "\n\n".join(wrong)
    )


PYCON = [block for block in CHECKED if block.lang == "pycon"]


@pytest.mark.parametrize("block", tiered(PYCON))
def test_a_shown_python_session_is_what_python_prints(
    block: Block, request, tmp_path, monkeypatch
) -> None:
    data_dir = data_for(block, request)
    monkeypatch.chdir(tmp_path)
    if data_dir is not None:
        monkeypatch.setenv("MOVIEREC_DATA_DIR", str(data_dir))
    else:
        monkeypatch.delenv("MOVIEREC_DATA_DIR", raising=False)
    test = doctest.DocTestParser().get_doctest(block.text, {}, block.name, str(block.path), 0)
    runner = doctest.DocTestRunner(optionflags=0)
    report: list[str] = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, f"{block.name}:\n" + "".join(report)


# ---- the checker itself ------------------------------------------------------------------------
def test_outputs_match_whatever_the_interleaving_and_durations() -> None:
    stdout = ["Trained X in 3.2 s", "│ 1 │ Toy Story 2 │"]
    stderr = ["movierec: a note", "movierec: fitting X…", "movierec: fitted X in 9.9 s"]
    assert matches(
        ["movierec: a note", "Trained X in 8.1 s", "│ 1 │ Toy Story 2 │"], stdout, stderr
    )
    assert matches(["Trained X in 1 s", "movierec: a note", "│ 1 │ Toy Story 2 │"], stdout, stderr)


@pytest.mark.parametrize(
    "shown",
    [
        ["Trained X in 3.2 s", "│ 1 │ Toy Story 2 │"],  # the note left out
        ["movierec: a note", "Trained X in 3.2 s", "│ 1 │ Toy Story 2 │}]"],  # a glitch
        ["movierec: a note", "Trained X in 3.2 s"],  # a row left out
        ["movierec: a note", "│ 1 │ Toy Story 2 │", "Trained X in 3.2 s"],  # out of order
    ],
)
def test_outputs_differing_in_anything_else_do_not_match(shown: list[str]) -> None:
    stdout = ["Trained X in 3.2 s", "│ 1 │ Toy Story 2 │"]
    stderr = ["movierec: a note", "movierec: fitted X in 9.9 s"]
    assert not matches(shown, stdout, stderr)


def test_a_console_block_is_read_as_commands_and_their_output(tmp_path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- output: bundled -->\n```console\n$ movierec similar 'Toy Story' \\\n"
        "    -n 2   # two\nline 1\nline 2\n$ movierec stats\n```\n",
        encoding="utf-8",
    )
    (block,) = blocks(page)
    assert block.mode == "bundled" and block.line == 2
    first, second = commands(block)
    assert first.args == ["movierec", "similar", "Toy Story", "-n", "2"]
    assert first.shown == ["line 1", "line 2"] and second.shown == []


# ---- links and the generated reference -----------------------------------------------------
def test_the_readmes_relative_links_lead_to_files() -> None:
    text = README.read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)#\s]+)[^)]*\)", text) if "://" not in t]
    assert targets, "the README links into docs/"
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert missing == []


def load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_command_reference_shows_every_commands_own_help(capsys) -> None:
    from movierec.cli import main

    hooks = load_hooks()
    page = hooks.cli_reference()
    names = re.findall(r"^## `movierec (\S+)`$", page, re.M)
    assert main(["--help"]) == 0
    listed = re.findall(r"^  (\S+)  ", capsys.readouterr().out.split("Commands:")[1], re.M)
    assert names == listed and len(names) >= 15
    for name in names:
        help_text = hooks.help_text([name])
        assert help_text.startswith(f"Usage: movierec {name} ")
        assert help_text in page
