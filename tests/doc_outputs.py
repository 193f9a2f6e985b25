"""The outputs README.md and docs/ show, read from their Markdown and run against the program.

A shown output is a fenced block with a marker on the line before it, naming the data it ran
on::

    <!-- output: ml-1m -->        (MOVIEREC_DATA_DIR holding ml-1m/, as the README's story)
    <!-- output: bundled -->      (no data dir and no network: a fresh machine, offline)

- A ``console`` block holds ``$ movierec …`` lines, each followed by what it prints. The
  commands of a block run in order in one fresh folder, as a user would type them.
- A ``pycon`` block is a doctest, run in process in a fresh folder.

What a console command prints must be what the block shows, line for line: all of stdout, and
the lines of stderr in the order printed (a terminal interleaves the two; any interleaving is
accepted). Two things a block may differ in, because they change from run to run: durations
(``8.1 s``, ``23 ms``) compare as equal whatever their value, and stderr lines that report
progress (they carry a duration or end a running step with "…") may be left out. Anything
else — a notice, an error, a table border, a trailing ``}]`` — must be shown as printed.

Run as a script to rewrite the console blocks of the given files with what the program prints
now (``python tests/doc_outputs.py README.md docs/guide/titles.md``); it prints the files whose
blocks changed, and leaves pycon blocks to the test's doctest report.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!--\s*output:\s*(?P<mode>[\w-]+)\s*-->\s*$")
MODES = ("ml-1m", "bundled")
FENCE = re.compile(r"^(?P<fence>```+)(?P<lang>[\w-]*)\s*$")
DURATION = re.compile(r"\b\d[\d,]*(?:\.\d+)?\s?(?:ms|s|min|h)\b")
OFFLINE = "http://127.0.0.1:9"  # a closed port: downloads fail at once, as without a network


@dataclass
class Block:
    """One fenced block of a Markdown file."""

    path: Path
    line: int  # of the opening fence, from 1
    lang: str
    text: str
    mode: str | None  # the marker's data, None when unmarked

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


@dataclass
class Command:
    """One ``$ …`` line of a console block and the lines shown under it."""

    args: list[str]
    source: list[str]  # the block's lines that write it
    shown: list[str] = field(default_factory=list)


def documents() -> list[Path]:
    """README.md and every page of the documentation site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path``, each with the output marker on the line before it."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != opening["fence"]:
            end += 1
        previous = lines[index - 1] if index else ""
        marker = MARKER.match(previous)
        text = "\n".join(lines[index + 1 : end])
        found.append(Block(path, index + 1, opening["lang"], text, marker and marker["mode"]))
        index = end + 1
    return found


def commands(block: Block) -> list[Command]:
    """The commands of a console block: ``$ `` lines (``\\`` continues one on the next line,
    ``#`` starts a comment) and the output lines under each."""
    parsed: list[Command] = []
    pending = ""
    source: list[str] = []
    for raw in block.text.splitlines():
        if pending or raw.startswith("$ "):
            text = pending + (raw[2:] if not pending else raw.strip())
            source.append(raw)
            if text.endswith("\\"):
                pending = text[:-1] + " "
                continue
            pending = ""
            parsed.append(Command(shlex.split(text, comments=True), source))
            source = []
        elif parsed:
            parsed[-1].shown.append(raw)
    return parsed


def normalise(line: str) -> str:
    """``line`` with its durations replaced (normalising twice changes nothing)."""
    return DURATION.sub("<duration>", line.rstrip())


def trimmed(lines: list[str]) -> list[str]:
    out = [line.rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def is_progress(line: str) -> bool:
    """A stderr line whose presence depends on the machine's speed."""
    shown = normalise(line)
    return "<duration>" in shown or shown.endswith("…")


def matches(shown: list[str], stdout: list[str], stderr: list[str]) -> bool:
    """Whether ``shown`` is all of ``stdout`` interleaved with the stderr lines, progress lines
    optional; durations compare equal whatever their value."""
    want = [normalise(line) for line in trimmed(shown)]
    out = [normalise(line) for line in trimmed(stdout)]
    err = [normalise(line) for line in trimmed(stderr)]

    def fits(i: int, j: int, k: int) -> bool:  # want[i:], out[j:], err[k:]
        if i == len(want):
            return j == len(out) and all(is_progress(line) for line in err[k:])
        if j < len(out) and want[i] == out[j] and fits(i + 1, j + 1, k):
            return True
        while k < len(err):
            if want[i] == err[k]:
                return fits(i + 1, j, k + 1)
            if not is_progress(err[k]):
                return False
            k += 1
        return False

    return fits(0, 0, 0)


def suggested(stdout: list[str], stderr: list[str]) -> list[str]:
    """What a block should show for this output: stderr's notices, then stdout."""
    return [line for line in trimmed(stderr) if not is_progress(line)] + trimmed(stdout)


def program() -> list[str]:
    """How to run ``movierec``: the installed script beside this Python, else the module."""
    script = Path(sys.executable).with_name("movierec")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "movierec.cli"]


def environment(mode: str, cache_dir: Path, data_dir: Path | None) -> dict[str, str]:
    """A user's plain environment: no COLUMNS (stdout is piped, so tables keep their width),
    UTF-8, a cache of the test's own, and the data the marker names."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cache_dir),
        "LANG": "C.UTF-8",
        "MOVIEREC_CACHE_DIR": str(cache_dir),
    }
    if mode == "ml-1m":
        if data_dir is None:
            raise ValueError("the ml-1m outputs need a data dir holding ml-1m/")
        env["MOVIEREC_DATA_DIR"] = str(data_dir)
    else:
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
            env[name] = OFFLINE
    return env


@dataclass
class Ran:
    command: Command
    code: int
    stdout: list[str]
    stderr: list[str]

    @property
    def ok(self) -> bool:
        errors = any("movierec: error:" in line for line in self.command.shown)
        expected_code = 2 if errors else 0
        return self.code == expected_code and matches(self.command.shown, self.stdout, self.stderr)

    def report(self) -> str:
        shown = "\n".join(self.command.shown)
        now = "\n".join(suggested(self.stdout, self.stderr))
        return (
            f"$ {shlex.join(self.command.args)}  (exit {self.code})\n"
            f"--- shown ---\n{shown}\n--- printed now (stderr's notices, then stdout) ---\n{now}"
        )


def run_console(block: Block, cache_dir: Path, data_dir: Path | None) -> list[Ran]:
    """Run a console block's commands in order in one fresh folder."""
    assert block.mode is not None
    env = environment(block.mode, cache_dir, data_dir)
    ran = []
    with tempfile.TemporaryDirectory(prefix="movierec-doc-") as here:
        for command in commands(block):
            if command.args[:1] != ["movierec"]:
                raise ValueError(f"{block.name}: a checked block runs movierec only: {command}")
            done = subprocess.run(
                [*program(), *command.args[1:]],
                cwd=here,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            ran.append(
                Ran(command, done.returncode, done.stdout.splitlines(), done.stderr.splitlines())
            )
    return ran


@contextlib.contextmanager
def fresh_cache(shared: Path | None) -> Iterator[Path]:
    """``shared`` when given (ML-1M: train the default once a session), else a new cache: the
    bundled blocks show a fresh machine's first run, notices included."""
    if shared is not None:
        yield shared
        return
    with tempfile.TemporaryDirectory(prefix="movierec-doc-cache-") as made:
        yield Path(made)


def refresh(path: Path, data_dir: Path | None, shared: Path) -> bool:
    """Rewrite ``path``'s checked console blocks with today's output (ML-1M blocks share the
    cache ``shared``); whether any changed."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = False
    for block in reversed(blocks(path)):
        if block.lang != "console" or block.mode is None:
            continue
        with fresh_cache(shared if block.mode == "ml-1m" else None) as cache:
            ran = run_console(block, cache, data_dir)
        text: list[str] = []
        for each in ran:
            text.extend(each.command.source)
            text.extend(each.command.shown if each.ok else suggested(each.stdout, each.stderr))
        new = [line + "\n" for line in text]
        start, end = block.line, block.line + len(block.text.splitlines())
        if lines[start:end] != new:
            lines[start:end] = new
            changed = True
    if changed:
        path.write_text("".join(lines), encoding="utf-8")
    return changed


if __name__ == "__main__":
    data = os.environ.get("MOVIEREC_DATA_DIR")
    with tempfile.TemporaryDirectory(prefix="movierec-doc-cache-") as cache:
        for name in sys.argv[1:]:
            if refresh(Path(name).resolve(), Path(data) if data else None, Path(cache)):
                print(f"refreshed {name}")
