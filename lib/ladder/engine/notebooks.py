"""Where the runbooks and the assessment notebook are: an override, the working folder, the source tree, the wheel."""

from __future__ import annotations

import os
from pathlib import Path

RUNBOOKS = "runbooks"
NOTEBOOKS = "notebooks"
ASSESSMENT = "assessment.ipynb"
# The wheel carries copies of the repository's top-level runbooks/ and notebooks/ here (see setup.py).
SHIPPED = Path(__file__).resolve().parents[1] / "shipped"


def source_tree() -> Path | None:
    """The Ladder checkout this package is imported from (an editable install), else None."""
    root = Path(__file__).resolve().parents[3]
    if Path(__file__).resolve().parents[2].name == "lib" and (root / "pyproject.toml").is_file():
        return root
    return None


def _found(folder: str, override: str, holds: str | None = None) -> Path:
    """$override, else ./folder, else the source tree's folder, else the installed package's copy."""
    if os.environ.get(override):
        return Path(os.environ[override])
    tree = source_tree()
    candidates = [Path(folder), *([tree / folder] if tree else []), SHIPPED / folder]
    for candidate in candidates:
        if candidate.is_dir() and (holds is None or (candidate / holds).is_file()):
            return candidate
    return candidates[-1]


def runbooks_dir() -> Path:
    """Where runbooks live: $LADDER_RUNBOOKS, ./runbooks, the source tree's runbooks/, or the installed copies."""
    return _found(RUNBOOKS, "LADDER_RUNBOOKS")


def notebooks_dir() -> Path:
    """Where the assessment notebook lives: $LADDER_NOTEBOOKS, ./notebooks, the source tree's, or the installed copy."""
    return _found(NOTEBOOKS, "LADDER_NOTEBOOKS", holds=ASSESSMENT)
