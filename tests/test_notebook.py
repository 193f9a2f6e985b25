"""The walkthrough notebook runs top to bottom on the bundled data without a cell error, and the
copy in the repository (with its outputs, from a run on ML-1M) stays light and shows no rows of
the data files: ML-1M's licence forbids redistributing them."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")  # running it needs more: @pytest.mark.needs("notebook")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "movielens_walkthrough.ipynb"
TIMEOUT_S = 900  # per cell: the course's ALS (500 factors, 100 iterations) is slow when busy


@pytest.fixture
def venv_python3_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make the kernel name ``python3`` start this interpreter (the venv's), whatever
    kernelspecs the machine has: JUPYTER_PATH is searched before every other kernel folder."""
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (movierec tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "python3"


MAX_BYTES = 1_000_000
ROWS_OF_A_TABLE = re.compile(r"\.(head|tail|sample|to_string)\(|\b(ratings|movies)\.i?loc\b")


def _code_cells() -> list:
    return [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]


def _text(output) -> str:
    return output.get("text", "") or output.get("data", {}).get("text/plain", "")


def test_the_stored_notebook_has_the_outputs_of_one_clean_run() -> None:
    cells = _code_cells()
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    outputs = [out for cell in cells for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert not [out for out in outputs if out.get("name") == "stderr"]
    assert len([out for out in outputs if "image/png" in out.get("data", {})]) >= 6


def test_the_stored_notebook_stays_light() -> None:
    assert NOTEBOOK.stat().st_size < MAX_BYTES


def test_no_cell_shows_rows_of_the_ratings_or_movies_files() -> None:
    """Counts, statistics, charts, top-N lists and recommendations only (ML-1M's licence)."""
    for cell in _code_cells():
        assert not ROWS_OF_A_TABLE.search(cell.source), cell.source
        last = cell.source.strip().splitlines()[-1]
        assert not re.fullmatch(r"(dataset\.)?(ratings|movies)", last.strip()), cell.source
        for out in cell.outputs:
            for line in _text(out).splitlines():
                columns = set(line.split())
                assert not {"user_id", "rating"} <= columns, line  # a ratings table's header
                assert not {"title", "genres"} <= columns, line  # a movies table's header


@pytest.mark.slow
@pytest.mark.needs("notebook")
def test_notebook_runs_on_the_bundled_data(
    venv_python3_kernel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbclient

    monkeypatch.setenv("MOVIEREC_NOTEBOOK_DATASET", "ml-latest-small")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=venv_python3_kernel,
        timeout=TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working folder
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error

    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "\n".join(
        out.get("text", "") or out.get("data", {}).get("text/plain", "") for out in outputs
    )
    assert "ml-latest-small" in text
    assert "you are user" in text
    assert "with star values as confidence and" in text  # the one model, two inputs
    # The course as it was: its settings, its csr_matrix and its index mistake beside the fix.
    assert "500 factors, λ = 0.001" in text and "csr_matrix: 609 users × 8,452 movies" in text
    assert "The course asked about column 1, which is Jumanji (1995), not Toy Story." in text
    assert "movierec default: Toy Story 2 is #" in text
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) >= 6  # the charts were drawn
