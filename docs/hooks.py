"""MkDocs hook: the command reference (docs/reference/cli.md) is generated from the command line
itself — each command's ``--help`` as movierec prints it — so it can never drift from the code.

mkdocs-click cannot read movierec's commands: typer vendors its own copy of click
(``typer._click``), whose command classes are not click's. So the pages are built from typer's
test runner, the way a user sees them at 80 columns.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- cli-reference -->"
WIDTH = 80


def help_text(args: list[str]) -> str:
    """What ``movierec ARGS --help`` prints on an 80-column terminal."""
    from typer.testing import CliRunner

    from movierec.cli import app

    result = CliRunner().invoke(
        app, [*args, "--help"], prog_name="movierec", terminal_width=WIDTH, env={"COLUMNS": None}
    )
    if result.exit_code != 0:
        raise RuntimeError(f"movierec {' '.join(args)} --help failed: {result.output}")
    return result.output.rstrip() + "\n"


def command_names() -> list[str]:
    """The commands in the order ``movierec --help`` lists them."""
    import typer.main

    from movierec.cli import app

    group = typer.main.get_command(app)
    context = group.make_context("movierec", [], resilient_parsing=True)
    return list(group.list_commands(context))  # type: ignore[attr-defined]


def cli_reference() -> str:
    """The generated part of the command reference: the overview, then each command."""
    parts = ["```text", help_text([]).rstrip(), "```", ""]
    for name in command_names():
        parts += [f"## `movierec {name}`", "", "```text", help_text([name]).rstrip(), "```", ""]
        for sub in subcommand_names(name):  # a group's (profile create, …)
            page = help_text([name, sub]).rstrip()
            parts += [f"### `movierec {name} {sub}`", "", "```text", page, "```", ""]
    return "\n".join(parts)


def subcommand_names(name: str) -> list[str]:
    """The commands of the group ``name`` (``profile``), in its order; none for a command."""
    import typer.main

    from movierec.cli import app

    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    return list(getattr(command, "commands", {}))


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Fill the marker of the command reference page."""
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
