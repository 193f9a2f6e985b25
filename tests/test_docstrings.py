"""The examples in docstrings are true: each module's doctests run against the real code."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import movierec


def modules_with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    names = []
    for info in pkgutil.walk_packages(movierec.__path__, "movierec."):
        module = importlib.import_module(info.name)
        if any(test.examples for test in finder.find(module)):
            names.append(info.name)
    return names


MODULES = modules_with_examples()
NEEDS = {"movierec.models.vae": "torch"}
"""Modules whose examples need an optional extra."""


def test_examples_are_found() -> None:
    assert {"movierec.titles", "movierec.interactions", "movierec.datasets.dataset"} <= set(MODULES)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.needs(NEEDS[name])) if name in NEEDS else name
        for name in MODULES
    ],
)
def test_docstring_examples(name: str) -> None:
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(importlib.import_module(name), optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see above)"
