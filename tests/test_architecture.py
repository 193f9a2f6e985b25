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
    "model_cache": 4,
    "analysis": 5,
    "batch": 5,
    "evaluation": 5,
    "serving": 5,  # which model answers: saved, cached default, or trained now
    "training": 5,  # preset, overrides and engine → a trained, saved model
    "cli": 6,
    "web": 6,
    "report": 6,
    "demo": 6,
    "console": 6,
    "__init__": 6,  # the package's lazy exports name every layer
}


def layer_of(module: str) -> int:
    """The layer of a dotted module path inside movierec (``models.als`` → models)."""
    return LAYERS[module.split(".")[0]]


def is_module(name: str) -> bool:
    """Whether ``name`` is a module or package directly inside movierec."""
    return (SOURCE / f"{name}.py").is_file() or (SOURCE / name / "__init__.py").is_file()


def movierec_imports(text: str, package: tuple[str, ...]) -> list[str]:
    """Every movierec module a source ``text`` in ``package`` (``("models",)`` for
    movierec/models/) imports, as dotted paths relative to movierec."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1])
            target = ".".join([*base, node.module] if node.module else base)
            if target:
                found.append(target)
            else:  # `from . import x` at the top: x is a module, or a name of the package root
                found += [
                    alias.name if is_module(alias.name) else "__init__" for alias in node.names
                ]
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
        ("from .. import Recommender", ("web",), "__init__"),
        ("from .base import top_n", ("models",), "models.base"),
        ("import movierec.cli", ("models",), "cli"),
    ],
)
def test_imports_are_read_as_the_package_sees_them(line, package, expected) -> None:
    """The check above can fail: each form of import is resolved to its module."""
    assert movierec_imports(line, package) == [expected]
