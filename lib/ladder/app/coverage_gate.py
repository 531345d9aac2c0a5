"""The coverage ratchet: the trunk build measures the app's coverage with coverage.py, and it may not drop.

The figure compared is coverage.py's total percent rounded to one decimal, the precision a reader sees: a change
that moves coverage by less than 0.05 points neither fails nor raises the bar.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import ParameterError
from .verdict import Verdict

q = shlex.quote
GATE = "coverage"
PIN = "coverage==7.17.5"  # installed into the test step's venv when the app's requirements lack it
REPORT = "coverage.json"  # written by the trunk build's test step in its checkout; the gate step reads it
# The app's own coverage settings win; without them, measure the app's files and leave its tests out.
DEFAULT_OPTIONS = "--source=. --omit='tests/*,*/tests/*'"


@dataclass(frozen=True)
class Coverage:
    """coverage.py's totals for one test run."""

    percent: float  # rounded to one decimal
    covered: int
    statements: int

    def as_dict(self) -> dict[str, Any]:
        """The figures as the journal keeps them."""
        return {"percent": self.percent, "covered": self.covered, "statements": self.statements}


def parse_report(text: str, path: str = REPORT) -> Coverage:
    """The totals of a `coverage json` report; ParameterError naming the file when it is not one."""
    try:
        totals = json.loads(text)["totals"]
        return Coverage(
            round(float(totals["percent_covered"]), 1), int(totals["covered_lines"]), int(totals["num_statements"])
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ParameterError(
            f"parameter 'report': {path} is not a `coverage json` report ({exc!r}); "
            "make it with: coverage run -m pytest && coverage json -o coverage.json"
        ) from None


def read_report(path: str | Path) -> Coverage | None:
    """The report's totals; None when the file is missing (the app has no tests/ folder yet)."""
    p = Path(path)
    return parse_report(p.read_text(), str(p)) if p.is_file() else None


def judge(current: Coverage | None, baseline: Mapping[str, Any] | None, baseline_version: str | None) -> Verdict:
    """The ratchet: fail when coverage is below the last release's; the first build records and passes."""
    figures = current.as_dict() if current else {}
    base = dict(baseline or {})
    if current is None:
        if not base:
            return Verdict(GATE, True, "no coverage report (no tests yet): nothing to ratchet", figures)
        return Verdict(
            GATE,
            False,
            f"no coverage report, but trunk measured {base['percent']:.1f}% ({baseline_version}); "
            "the test step must write coverage.json",
            figures,
            base,
            baseline_version,
        )
    if not base:
        return Verdict(GATE, True, f"coverage {current.percent:.1f}%: the first figure, recorded", figures)
    if current.percent < float(base["percent"]):
        reason = f"coverage {current.percent:.1f}% < trunk's {float(base['percent']):.1f}% ({baseline_version})"
        return Verdict(GATE, False, reason, figures, base, baseline_version)
    reason = f"coverage {current.percent:.1f}% >= trunk's {float(base['percent']):.1f}% ({baseline_version})"
    return Verdict(GATE, True, reason, figures, base, baseline_version)


def measure_command(venv: str) -> str:
    """Shell that runs the tests under coverage.py in venv and writes coverage.json (a test failure still fails)."""
    pip = f"{venv} -m pip install -q --disable-pip-version-check"
    return (
        f"{venv} -m coverage --version >/dev/null 2>&1 || {pip} {q(PIN)}; "
        "if [ -f .coveragerc ] || grep -qs '^\\[tool.coverage' pyproject.toml setup.cfg; "
        f"then opts=''; else opts={q(DEFAULT_OPTIONS)}; fi; "
        f'eval "{venv} -m coverage run $opts -m pytest -q -p no:cacheprovider"; '
        f"{venv} -m coverage json -q -o {REPORT}; {venv} -m coverage report | tail -1"
    )
