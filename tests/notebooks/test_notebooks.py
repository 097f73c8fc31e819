"""Every analysis notebook runs at small size without an error and prints its headline.

The notebooks are executed with nbclient in a kernel started from the interpreter running the
tests (so the editable `sim` of this checkout is the one imported), from the repository root,
with ``PUSHSIM_NOTEBOOK_SIZE=small``. Stored notebooks must have no outputs and no execution
counts, and open with a markdown cell stating their question.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = {
    "reachability.ipynb",
    "stale_tokens.ipynb",
    "shared_devices.ipynb",
    "calibration.ipynb",
}
#: the sentence each notebook prints in its last code cell starts with this
HEADLINE = "Headline:"
#: the size switch every notebook reads in its first code cell
SIZE_LINE = 'SIZE = os.environ.get("PUSHSIM_NOTEBOOK_SIZE", "full")'
CELL_TIMEOUT = 120
KERNEL = "pushsim-tests"


def ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def read(path: Path) -> Any:
    return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]


def code_cells(notebook: Any) -> list[Any]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def text_of(outputs: list[Any]) -> str:
    """Everything a cell printed or displayed as plain text."""
    parts = []
    for output in outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernel spec starting ipykernel with this very interpreter, whatever else is installed."""
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels"
    spec = kernels / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "pushsim (tests)",
                "language": "python",
            }
        )
    )
    return KernelSpecManager(kernel_dirs=[str(kernels)])


def test_the_notebooks_are_there() -> None:
    assert {path.name for path in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_stored_without_outputs(path: Path) -> None:
    notebook = read(path)
    nbformat.validate(notebook)
    for index, cell in enumerate(code_cells(notebook)):
        assert cell.outputs == [], f"{path.name}: code cell {index} has stored outputs"
        assert cell.execution_count is None, f"{path.name}: code cell {index} has a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_opens_with_its_question(path: Path) -> None:
    notebook = read(path)
    first = notebook.cells[0]
    assert first.cell_type == "markdown", f"{path.name}: the first cell is not markdown"
    assert first.source.strip().endswith("?"), f"{path.name}: the first cell asks no question"
    assert SIZE_LINE in code_cells(notebook)[0].source, f"{path.name}: no size switch"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_runs_at_small_size(
    path: Path, kernel_specs: KernelSpecManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSHSIM_NOTEBOOK_SIZE", "small")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = read(path)
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(ROOT)}},  # the kernel's working directory
    )
    client.execute()

    for index, cell in enumerate(code_cells(notebook)):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, f"{path.name}: code cell {index} raised {errors[0].ename}"
    last = code_cells(notebook)[-1]
    printed = text_of(last.outputs)
    assert HEADLINE in printed, f"{path.name}: the last code cell printed no headline"
    sentence = printed[printed.index(HEADLINE) :]
    assert any(char.isdigit() for char in sentence), f"{path.name}: the headline has no number"
    assert not re.search(r"\bnan\b", sentence, re.IGNORECASE), f"{path.name}: NaN in headline"
