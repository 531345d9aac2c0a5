"""Every committed notebook is stripped of outputs and starts with a `parameters` cell whose default is a dry run."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


def committed_notebooks() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if line]


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """What makes a notebook unfit to commit: outputs, execution counts, no first parameters cell."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {i} has execution count {cell.execution_count}")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and "parameters" not in code[0].metadata.get("tags", []):
        found.append("first code cell is not tagged 'parameters'")
    elif code and unsafe_default(code[0].source):
        found.append("the parameters cell sets dry_run = False; commit the safe default, dry_run = True")
    return found


def unsafe_default(source: str) -> bool:
    """True when a parameters cell makes changes by default (dry_run = False), as a notebook saved after an apply is."""
    for node in ast.parse(source).body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        if any(isinstance(t, ast.Name) and t.id == "dry_run" for t in targets) and isinstance(value, ast.Constant):
            return value.value is False
    return False


def test_the_check_catches_outputs_counts_and_a_missing_parameters_tag():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1", execution_count=3, outputs=[nbformat.v4.new_output("stream", text="1\n")])
    ]
    assert problems(nb) == [
        "cell 0 has outputs",
        "cell 0 has execution count 3",
        "first code cell is not tagged 'parameters'",
    ]


def test_a_notebook_saved_after_an_apply_is_caught():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('config = "sandbox"\ndry_run = False  # True: plan only')]
    nb.cells[0].metadata["tags"] = ["parameters"]
    assert problems(nb) == ["the parameters cell sets dry_run = False; commit the safe default, dry_run = True"]
    nb.cells[0].source = "dry_run: bool = True"
    assert problems(nb) == []


def test_the_repository_has_committed_notebooks():
    assert "tests/notebooks/1-record-changes.ipynb" in committed_notebooks()


@pytest.mark.parametrize("path", committed_notebooks())
def test_committed_notebook_is_clean(path):
    nb = nbformat.read(ROOT / path, as_version=4)
    assert problems(nb) == [], f"{path}: strip it with: jupyter nbconvert --clear-output --inplace {path}"
