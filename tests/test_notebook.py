"""The walkthrough notebook runs top to bottom on the bundled data without a cell error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "movielens_walkthrough.ipynb"
TIMEOUT_S = 300


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


def test_notebook_is_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells
    assert all(not cell.outputs and cell.execution_count is None for cell in code_cells)


def test_notebook_runs_on_the_bundled_data(
    venv_python3_kernel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) >= 5  # the charts were drawn
