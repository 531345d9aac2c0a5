"""What the command line shows and how it starts: paths shown short, imports kept light."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

CONFIG_HELP = "ladder.yml, or 'sandbox' (default: $LADDER_CONFIG, ./ladder.yml, the sandbox)"


def shown(path: Path) -> str:
    """A path relative to the working directory when it is under it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def skip_iri_grammar() -> None:
    """Keep jsonschema (imported by nbformat) from building rfc3987_syntax's IRI grammar at import.

    That grammar takes most of a second to build (python-jsonschema/jsonschema#1428);
    notebook schemas never check IRI formats, and jsonschema skips the checker
    when the import fails. Only this short-lived CLI process is affected.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def table(rows: Sequence[Sequence[str]]) -> None:
    """Print rows as left-aligned columns, the first row as the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
