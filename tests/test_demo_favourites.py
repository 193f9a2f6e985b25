"""`movierec demo` and the walkthrough notebook start from the course notebook's own five
favourites — Toy Story, Jumanji, Men in Black, Heat and Sabrina (the 1995 film) — and each
resolves, without a note, to the same movie in ML-1M and in the bundled ml-latest-small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from movierec import config
from movierec.recommender import resolve_all
from movierec.titles import notes_of

COURSE_FIVE = [1, 2, 1580, 6, 7]  # Toy Story, Jumanji, Men in Black, Heat, Sabrina (1995)
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "movielens_walkthrough.ipynb"


@pytest.mark.parametrize("name", ["small", "ml1m"])
def test_the_demo_favourites_are_the_courses_five(name: str, request) -> None:
    dataset = request.getfixturevalue(name)
    resolved = resolve_all(dataset, config.DEMO_FAVOURITES)
    assert [r.movie_id for r in resolved] == COURSE_FIVE
    assert notes_of(resolved) == []  # nothing chosen for the user: the titles are exact enough


def test_the_notebook_starts_from_the_demo_favourites() -> None:
    nbformat = pytest.importorskip("nbformat")
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    sources = [c.source for c in cells if c.cell_type == "code" and "FAVOURITES = [" in c.source]
    assert len(sources) == 1
    assignment = next(
        node
        for node in ast.parse(sources[0]).body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "FAVOURITES"
    )
    assert ast.literal_eval(assignment.value) == config.DEMO_FAVOURITES
