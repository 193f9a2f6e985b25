"""The layers of docs/architecture.md: no module imports a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "movierec"

LAYERS: dict[str, int] = {
    "_version": 0,
    "errors": 0,
    "config": 0,
    "strict_json": 0,
    "atomic": 0,
    "progress": 0,
    "datasets": 1,
    "interactions": 2,
    "catalogue": 2,
    "titles": 2,
    "models": 3,
    "spark": 3,  # a training engine beside the models, imported only when Spark is asked for
    "recommender": 4,
    "settings": 4,
    "presets": 4,
    "bundle": 4,
    "trained": 4,  # a trained model as one value: what training makes and bundle saves
    "model_cache": 4,
    "movie_night": 4,  # the group aggregation (average without misery), arrays only
    "analysis": 5,
    "batch": 5,
    "evaluation": 5,
    "serving": 5,  # which model answers: saved, cached default, or trained now
    "training": 5,  # preset, overrides and engine → a trained, saved model
    "profiles": 5,  # profiles in a database, and what they bring: picks, movie night, training
    "cli": 6,
    "web": 6,
    "report": 6,
    "demo": 6,
    "console": 6,
    "progress_display": 6,  # how steps show: a live bar, or plain timed lines
    "__init__": 6,  # the package's lazy exports name every layer
}


def layer_of(module: str) -> int:
    """The layer of a dotted module path inside movierec (``models.als`` → models)."""
    return LAYERS[module.split(".")[0]]


def is_module(name: str) -> bool:
    """Whether ``name`` (dotted: ``report.charts``) is a module or package inside movierec."""
    path = SOURCE.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def movierec_imports(text: str, package: tuple[str, ...]) -> list[str]:
    """Every movierec module a source ``text`` in ``package`` (``("models",)`` for
    movierec/models/) imports, as dotted paths relative to movierec."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1])
            if node.module:
                found.append(".".join([*base, node.module]))
                continue
            for alias in node.names:  # `from . import x`: x is a module, or a package's name
                module = ".".join([*base, alias.name])
                found.append(module if is_module(module) else ".".join(base) or "__init__")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            found += [n.removeprefix("movierec.") for n in names if n and n.startswith("movierec.")]
    return found


MODULES = sorted(SOURCE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    top_level = {p.relative_to(SOURCE).with_suffix("").parts[0] for p in MODULES}
    assert top_level <= set(LAYERS), top_level - set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SOURCE)) for p in MODULES])
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    own = layer_of(".".join(parts))
    imported = movierec_imports(path.read_text(), parts[:-1])
    upward = [m for m in imported if m.split(".")[0] in LAYERS and layer_of(m) > own]
    assert upward == [], f"{path.relative_to(SOURCE)} (layer {own}) imports {upward}"


@pytest.mark.parametrize(
    ("line", "package", "expected"),
    [
        ("from ..recommender import Recommender", ("models",), "recommender"),
        ("from . import bundle", (), "bundle"),
        ("from . import __version__", (), "__init__"),
        ("from . import charts", ("report",), "report.charts"),
        ("from . import EvaluationResults", ("report",), "report"),
        ("from .. import Recommender", ("web",), "__init__"),
        ("from .base import top_n", ("models",), "models.base"),
        ("import movierec.cli", ("models",), "cli"),
    ],
)
def test_imports_are_read_as_the_package_sees_them(line, package, expected) -> None:
    """The check above can fail: each form of import is resolved to its module."""
    assert movierec_imports(line, package) == [expected]


def module_name(path: Path) -> str:
    """``models/als.py`` → ``models.als``; a package's ``__init__.py`` → the package."""
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def import_graph() -> dict[str, set[str]]:
    """Module → the movierec modules it imports anywhere (at the top, inside functions or under
    TYPE_CHECKING), each taken to the longest known module it names."""
    known = {module_name(p) for p in MODULES}

    def owner(target: str) -> str:
        parts = target.split(".")
        while parts and ".".join(parts) not in known:
            parts.pop()
        return ".".join(parts) or "__init__"

    graph = {}
    for path in MODULES:
        name = module_name(path)
        package = path.relative_to(SOURCE).with_suffix("").parts[:-1]
        graph[name] = {owner(t) for t in movierec_imports(path.read_text(), package)} - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (its modules in order, the first repeated last), or None."""
    state: dict[str, int] = {}  # 1: on the path being explored, 2: explored, no cycle through
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    """No module imports, even inside a function, one that imports it back (at any depth)."""
    cycle = find_cycle(import_graph())
    assert cycle is None, " → ".join(cycle or [])


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        (
            {"bundle": {"recommender"}, "recommender": {"bundle"}},
            ["bundle", "recommender", "bundle"],
        ),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),
    ],
)
def test_find_cycle_sees_cycles(graph, expected) -> None:
    """The cycle check can fail: a cycle at any depth is found, and a diamond is none."""
    assert find_cycle(graph) == expected


def test_the_graph_sees_imports_inside_functions() -> None:
    """`bundle.read` once imported `Recommender` inside the function: such imports count."""
    text = "def read():\n    from .recommender import Recommender\n"
    assert movierec_imports(text, ()) == ["recommender"]
