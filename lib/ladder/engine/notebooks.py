"""Where the runbooks and the assessment notebook are, and editable copies of them for a person."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import CopyRefused, RunbookError

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


@dataclass(frozen=True)
class Copy:
    """One notebook to copy: where it comes from and where it goes."""

    source: Path
    target: Path


def copies(dest: str | Path) -> list[Copy]:
    """Every runbook (with its README) and every notebook (the assessment, onboarding), laid out as in the repository."""
    dest = Path(dest)
    books = runbooks_dir()
    sources = sorted(books.glob("*.ipynb")) + sorted(books.glob("README.md"))
    if not any(s.suffix == ".ipynb" for s in sources):
        raise RunbookError(f"no runbooks found in {books}; set LADDER_RUNBOOKS to the folder that holds them")
    assessment = notebooks_dir() / ASSESSMENT
    if not assessment.is_file():
        raise RunbookError(f"{assessment}: assessment notebook not found; set LADDER_NOTEBOOKS to its folder")
    plan = [Copy(s, dest / RUNBOOKS / s.name) for s in sources]
    return plan + [Copy(n, dest / NOTEBOOKS / n.name) for n in sorted(assessment.parent.glob("*.ipynb"))]


def copy(dest: str | Path, *, force: bool = False) -> list[Copy]:
    """Copy every runbook and notebook under dest; refuse to overwrite a file unless force."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise CopyRefused(f"{dest} is a file, not a folder", existing=[dest])
    plan = copies(dest)
    same = [c.target for c in plan if c.target.exists() and c.target.samefile(c.source)]
    if same:
        raise CopyRefused(f"{dest} holds the very notebooks Ladder runs; copy them to another folder", existing=same)
    existing = [c.target for c in plan if c.target.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise CopyRefused(f"would overwrite {names}; nothing copied (--force overwrites)", existing=existing)
    for c in plan:
        c.target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(c.source, c.target)
    return plan
