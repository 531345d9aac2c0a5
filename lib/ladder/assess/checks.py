"""A check's result, a check's spec (its id, evidence source and function), and running one safely."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import MissingObjects

MEASURED = "measured"
INFERRED = "inferred"
SELF_REPORTED = "self-reported"
INCONCLUSIVE = "inconclusive"
LABELS = (MEASURED, INFERRED, SELF_REPORTED, INCONCLUSIVE)
NOT_APPLICABLE = "n/a"  # a practice's label when it does not fit the kind of project; never a check's

REPO, HOST, DORA = "repo", "host", "dora"
SOURCES = (REPO, HOST, DORA)
SAMPLES = 20  # items of one kind a check lists in its evidence, at most
# Why a repository check that found nothing is inconclusive rather than a 0: the practice may live elsewhere.
ELSEWHERE = " (it may live outside the repository: on the servers or a platform; the question settles it)"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: a 0-10 score or None (inconclusive), its evidence and a one-line reason.

    label is "measured" when the thing itself was observed (a file, a count, a host's state) and
    "inferred" when the practice is deduced from an indirect sign (a library in the dependencies).
    """

    id: str
    source: str
    score: float | None
    reason: str
    label: str = MEASURED
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def inconclusive(self) -> bool:
        """True when the check could not measure anything."""
        return self.score is None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, as written into assessment.json."""
        return {
            "id": self.id,
            "source": self.source,
            "score": None if self.score is None else round(float(self.score), 2),
            "label": INCONCLUSIVE if self.score is None else self.label,
            "reason": self.reason,
            "evidence": self.evidence,
        }


def result(
    check_id: str, source: str, score: float | None, reason: str, *, label: str = MEASURED, **evidence: Any
) -> CheckResult:
    """Build a CheckResult with its score clamped to 0-10."""
    if score is not None:
        score = round(min(10.0, max(0.0, float(score))), 2)
    return CheckResult(check_id, source, score, reason, label, evidence)


def inconclusive(check_id: str, source: str, reason: str, **evidence: Any) -> CheckResult:
    """A check that could not measure anything, with the reason why."""
    return CheckResult(check_id, source, None, reason, INCONCLUSIVE, evidence)


@dataclass(frozen=True)
class CheckSpec:
    """A check in the catalogue: its id, where its evidence comes from, and the function that judges it."""

    id: str
    source: str
    fn: Callable[[Any], CheckResult]

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"check {self.id!r}: unknown source {self.source!r}; use one of {SOURCES}")


def run_check(spec: CheckSpec, facts: Any) -> CheckResult:
    """Run one check; an unexpected error becomes an inconclusive result naming it, never a crash."""
    try:
        return spec.fn(facts)
    except MissingObjects as exc:  # a partial clone: this check's evidence is absent, not wrong
        return inconclusive(spec.id, spec.source, str(exc), missing_objects=exc.count)
    except Exception as exc:  # a bug in one check must not sink the whole assessment
        return inconclusive(spec.id, spec.source, f"check error: {type(exc).__name__}: {exc}")
