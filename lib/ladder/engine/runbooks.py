"""Runbooks on disk: find them, and read each one's rung, title and declared parameters."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import RunbookError
from .notebooks import runbooks_dir
from .parameters import Parameter, declared
from .requirements import Requires, read

RUNBOOK_NAME = re.compile(r"^(?P<rung>\d+[a-z]?)-(?P<slug>.+)$")


@dataclass(frozen=True)
class RunbookInfo:
    """A runbook file: its rung, title and declared parameters."""

    name: str
    path: Path
    rung: str | None
    title: str
    parameters: dict[str, Parameter] = field(repr=False)
    requires: Requires = field(
        default_factory=lambda: Requires.model_validate({}), repr=False
    )  # what it needs from the config (metadata)


def default_root() -> Path:
    """Where runbooks live: $LADDER_RUNBOOKS, ./runbooks, the source tree's runbooks/, or the installed copies."""
    return runbooks_dir()


def _title(nb: Any, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def info(path: str | Path) -> RunbookInfo:
    """Read one runbook's rung, title, parameters and requirements."""
    import nbformat

    path = Path(path)
    m = RUNBOOK_NAME.match(path.stem)
    nb = nbformat.read(path, as_version=4)
    return RunbookInfo(
        path.stem, path, m.group("rung") if m else None, _title(nb, path), declared(path), read(nb.metadata, path)
    )


def _rung_key(path: Path) -> tuple:
    m = re.match(r"^(\d+)([a-z]?)-", path.stem)
    return (int(m.group(1)), m.group(2), path.stem) if m else (sys.maxsize, "", path.stem)


def list_runbooks(root: str | Path | None = None) -> list[RunbookInfo]:
    """Every runbook under root, in rung order."""
    root = Path(root) if root is not None else default_root()
    return [info(p) for p in sorted(root.glob("*.ipynb"), key=_rung_key)]


def resolve(runbook: str | Path, root: str | Path | None = None) -> RunbookInfo:
    """A runbook by path, file name, name without rung, or rung; else RunbookError listing them."""
    candidate = Path(runbook)
    if candidate.suffix == ".ipynb" and candidate.is_file():
        return info(candidate)
    root = Path(root) if root is not None else default_root()
    paths = sorted(root.glob("*.ipynb"), key=_rung_key) if root.is_dir() else []
    wanted = candidate.name.removesuffix(".ipynb")
    for match in (
        lambda p: p.stem == wanted,
        lambda p: (m := RUNBOOK_NAME.match(p.stem)) is not None and m.group("slug") == wanted,
        lambda p: (m := RUNBOOK_NAME.match(p.stem)) is not None and m.group("rung") == wanted,
    ):
        found = [p for p in paths if match(p)]
        if len(found) == 1:
            return info(found[0])
    names = ", ".join(p.stem for p in paths) or "none"
    raise RunbookError(f"unknown runbook {str(runbook)!r}; available in {root}: {names}")
