"""The catalogue of checks: every check of every rung, listed here and nowhere else, keyed by id.

A rung's checks live in its own module (rung1, rung1plus, rung2, rung3a, rung3b, rung4, rung5,
all_rungs), each of which lists them in its CHECKS; adding a check is a function there plus its id
in model.yml.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import all_rungs, rung1, rung1plus, rung2, rung3a, rung3b, rung4, rung5
from .checks import CheckResult, CheckSpec, run_check


def index(specs: Iterable[CheckSpec]) -> dict[str, CheckSpec]:
    """Checks keyed by id, in order; an id used twice is a ValueError."""
    out: dict[str, CheckSpec] = {}
    for spec in specs:
        if spec.id in out:
            raise ValueError(f"check {spec.id!r} is in the catalogue twice")
        out[spec.id] = spec
    return out


CHECKS: dict[str, CheckSpec] = index(
    [
        *rung1.CHECKS,
        *rung1plus.CHECKS,
        *rung2.CHECKS,
        *rung3a.CHECKS,
        *rung3b.CHECKS,
        *rung4.CHECKS,
        *rung5.CHECKS,
        *all_rungs.CHECKS,
    ]
)


def of_source(source: str | None = None) -> dict[str, CheckSpec]:
    """Every check in the catalogue, or those whose evidence comes from one source (repo, host, dora)."""
    return {k: v for k, v in CHECKS.items() if source is None or v.source == source}


def run_checks(source: str, facts: Any, only: Iterable[str] | None = None) -> list[CheckResult]:
    """Run every check of a source (or the named ones) on what was read; a failing check is inconclusive."""
    wanted = set(only) if only is not None else None
    return [run_check(spec, facts) for spec in of_source(source).values() if wanted is None or spec.id in wanted]
