"""Scores: evidence and answers combined per practice, then per rung, the level and the next steps."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .benefit import benefit, rungs_above
from .catalogue import CHECKS
from .checks import INCONCLUSIVE, INFERRED, MEASURED, NOT_APPLICABLE, SELF_REPORTED, CheckResult, inconclusive
from .kind import SERVICE, ProjectKind
from .model import Model, Practice, Rung
from .questionnaire import Answers

NOT_GATHERED = {
    "host": "not gathered: no ladder.yml given",
    "dora": "not gathered: no DORA metrics computed",
    "repo": "not gathered: no repository given",
}


@dataclass(frozen=True)
class Contradiction:
    """An answer that disagrees with the evidence, and which side was kept."""

    practice: str
    answer: str
    answer_score: float
    evidence_score: float
    evidence_label: str
    kept: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class PracticeScore:
    """One practice's score (None when inconclusive), how it was obtained, and its checks."""

    practice: Practice
    score: float | None
    label: str
    reason: str
    answer: str | None
    checks: tuple[CheckResult, ...]
    met: bool
    contradiction: Contradiction | None = None

    @property
    def id(self) -> str:
        """The practice id."""
        return self.practice.id

    @property
    def applies(self) -> bool:
        """False when the practice does not fit the kind of project (n/a)."""
        return self.label != NOT_APPLICABLE


MET, FAILED, UNCONFIRMED = "met", "failed", "unconfirmed"
GATE_CAP = 3.9  # the most a rung scores while a gate practice of it is low, as good as absent (model.yml header)
GATE_LOW = 4.0  # below this a gate practice is low: no tests at all, no recipe, no CI running tests


@dataclass(frozen=True)
class RungScore:
    """One rung: mean of its scored practices, how many were scored, whether it is met and reached.

    status is met, failed (scored below the pass mark with enough coverage, or a practice of it measured
    below the pass mark whatever the coverage), unconfirmed (too little coverage to say, and nothing
    measured below the pass mark) or n/a (no practice fits the kind of project). Only a failed rung blocks
    those above it.
    """

    rung: Rung
    score: float | None
    coverage: float
    met: bool
    reached: bool
    status: str = MET
    unanswered: int = 0  # applicable practices neither measured nor answered

    @property
    def id(self) -> str:
        """The rung id."""
        return self.rung.id


@dataclass(frozen=True)
class NextStep:
    """A practice to fix, in the order to fix it, the runbook that does it, its cost and its benefit."""

    order: int
    rung: str
    practice: str
    title: str
    runbook: str
    score: float | None
    reason: str
    step: str = ""
    effort_days: float | None = None  # the model's estimate; None when it gives none
    effort_why: str = ""
    moves: tuple[str, ...] = ()  # the DORA metrics it moves
    benefit: float = 0.0  # 0-10, ladder.assess.benefit

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        d = dict(self.__dict__)
        d["score"] = None if self.score is None else round(self.score, 2)
        d["moves"] = list(self.moves)
        return d


@dataclass
class Assessment:
    """The outcome of one assessment: level, scores, evidence, contradictions and next steps."""

    model: Model
    practices: list[PracticeScore]
    rungs: list[RungScore]
    level: str
    level_title: str
    overall: float | None
    coverage: float
    checks: list[CheckResult]
    contradictions: list[Contradiction]
    next_steps: list[NextStep]
    generated: float = field(default_factory=time.time)
    repo: dict[str, Any] | None = None
    dora: Any = None
    as_of: dict[str, Any] | None = None  # where the time windows end, and the last activity (as_of.AsOf.to_dict)
    kind: ProjectKind | None = None

    @property
    def unconfirmed(self) -> list[RungScore]:
        """Ladder rungs below the level left unconfirmed: they did not block it, but are not shown to be met."""
        top = next((i for i, r in reversed(list(enumerate(self.rungs))) if r.reached and r.rung.ladder), 0)
        return [r for r in self.rungs[:top] if r.rung.ladder and r.status == UNCONFIRMED]

    def practice(self, practice_id: str) -> PracticeScore:
        """The score of one practice."""
        return next(p for p in self.practices if p.id == practice_id)

    def rung(self, rung_id: str) -> RungScore:
        """The score of one rung."""
        return next(r for r in self.rungs if r.id == rung_id)

    def to_dict(self) -> dict[str, Any]:
        """The assessment.json document (schema in ladder.assess.result)."""
        from .result import assessment_dict

        return assessment_dict(self)

    def to_json(self, indent: int = 2) -> str:
        """The assessment.json text."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, ensure_ascii=False)


def _mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return statistics.fmean(vals) if vals else None


def score_practice(
    practice: Practice, results: dict[str, CheckResult], answer: str | None, model: Model, kind: str = SERVICE
) -> PracticeScore:
    """Combine a practice's checks and its answer: measured beats self-reported, which beats inferred.

    A practice that does not fit the kind of project is n/a: its checks are shown, but nothing is scored.
    """
    checks = []
    for cid in practice.checks:
        if cid in results:
            checks.append(results[cid])
        else:
            source = CHECKS[cid].source if cid in CHECKS else "repo"
            checks.append(inconclusive(cid, source, NOT_GATHERED.get(source, "not gathered")))
    if not practice.applies(kind):
        reason = f"does not apply to a {kind}; applies to a {' or a '.join(practice.applies_to)}"
        return PracticeScore(practice, None, NOT_APPLICABLE, reason, answer, tuple(checks), False)
    scored = [c for c in checks if c.score is not None]
    measured_checks = [c for c in scored if c.label == MEASURED]
    # A sign measured absent (no setup file) gives way to the thing itself observed working (a built dev host).
    if any(
        c.score is not None and c.score >= model.pass_mark and not c.evidence.get("absent") for c in measured_checks
    ):
        measured_checks = [c for c in measured_checks if not c.evidence.get("absent")]
    measured = bool(measured_checks)
    # Measured checks outrank inferred ones: when something was observed directly, the indirect
    # signs are shown as evidence but do not move the score.
    evidence = _mean(c.score for c in (measured_checks or scored) if c.score is not None)
    evidence_label = MEASURED if measured else INFERRED
    answer_score = model.answers.get(answer) if answer is not None else None
    reasons = "; ".join(c.reason for c in (measured_checks or scored or checks))
    pass_mark = model.pass_mark

    contradiction = None
    if (
        evidence is not None
        and answer is not None
        and answer_score is not None
        and (evidence >= pass_mark) != (answer_score >= pass_mark)
    ):
        kept = "evidence" if measured else "answer"
        note = f"answered {answer!r}, but {evidence_label} evidence scores {evidence:.1f}: " + (
            "the measurement is kept" if measured else "the answer is kept over an inference"
        )
        contradiction = Contradiction(practice.id, answer, answer_score, round(evidence, 2), evidence_label, kept, note)

    if evidence is not None and (measured or answer_score is None or contradiction is None):
        score, label, reason = evidence, evidence_label, reasons
    elif answer_score is not None:
        score, label, reason = answer_score, SELF_REPORTED, f"answered {answer!r}: {practice.question}"
    else:
        score, label, reason = None, INCONCLUSIVE, reasons + "; not answered"
    met = score is not None and score >= pass_mark
    return PracticeScore(practice, score, label, reason, answer, tuple(checks), met, contradiction)


def _level(model: Model, rungs: list[RungScore]) -> tuple[str, str]:
    reached = [r for r in rungs if r.reached and r.rung.ladder]
    if not reached:
        return "0", "not yet on the ladder"
    top = reached[-1].rung
    if top.group:
        group = [r for r in rungs if r.rung.group == top.group]
        if all(r.reached for r in group):
            return top.group, " and ".join(r.rung.title for r in group)
    return top.id, top.title


def levels(model: Model) -> list[str]:
    """Every level a team can be at, lowest first: 0, each ladder rung, and a group once all its rungs are."""
    out = ["0"]
    ladder = model.ladder
    for i, rung in enumerate(ladder):
        out.append(rung.id)
        if rung.group and all(later.group != rung.group for later in ladder[i + 1 :]):
            out.append(rung.group)
    return out


def next_steps(model: Model, practices: list[PracticeScore], rungs: list[RungScore]) -> list[NextStep]:
    """Practices below the pass mark, lowest rung first (ladder rungs before the rest), then most benefit per day."""
    order = {r.id: i + (0 if r.ladder else 1000) for i, r in enumerate(model.rungs)}
    failing = [p for p in practices if p.score is not None and not p.met]
    gains = {
        p.id: benefit(p.score or 0.0, len(p.practice.moves), rungs_above(model, p.practice.rung), len(model.ladder))
        for p in failing
    }
    # A rung is met only when its practices are, so within one the quickest wins come first; unestimated last.
    per_day = {p.id: gains[p.id] / p.practice.effort.days if p.practice.effort else -1.0 for p in failing}
    failing.sort(key=lambda p: (order[p.practice.rung], -per_day[p.id], p.score))
    return [
        NextStep(
            i + 1,
            p.practice.rung,
            p.id,
            p.practice.title,
            p.practice.runbook,
            p.score,
            p.reason,
            p.practice.step,
            p.practice.effort.days if p.practice.effort else None,
            p.practice.effort.why if p.practice.effort else "",
            p.practice.moves,
            gains[p.id],
        )
        for i, p in enumerate(failing)
    ]


def score(
    model: Model,
    evidence: Iterable[CheckResult],
    answers: Answers | None = None,
    *,
    repo: dict[str, Any] | None = None,
    dora: Any = None,
    kind: ProjectKind | None = None,
) -> Assessment:
    """Score every practice and rung for the kind of project (a service unless given), the level and the next steps."""
    answers = answers or Answers()
    checks = list(evidence)
    results = {c.id: c for c in checks}
    kind_id = kind.kind if kind is not None else SERVICE
    practices = [score_practice(p, results, answers.get(p.id), model, kind_id) for p in model.practices]
    by_rung: dict[str, list[PracticeScore]] = {}
    for p in practices:
        if p.applies:
            by_rung.setdefault(p.practice.rung, []).append(p)
    rungs = score_rungs(model, by_rung)
    level, title = _level(model, rungs)
    applicable = [p for p in practices if p.applies]
    scored_all = [p.score for p in applicable if p.score is not None]
    overall = _mean(scored_all)
    coverage = len(scored_all) / len(applicable) if applicable else 0.0
    contradictions = [p.contradiction for p in practices if p.contradiction]
    return Assessment(
        model,
        practices,
        rungs,
        level,
        title,
        overall,
        coverage,
        checks,
        contradictions,
        next_steps(model, practices, rungs),
        repo=repo,
        dora=dora,
        kind=kind,
    )


def rung_mean(ps: list[PracticeScore]) -> float | None:
    """The mean of a rung's scored practices; guards count only when failing, a low gate caps it."""
    scored = [(p, p.score) for p in ps if p.score is not None]
    kept = [s for p, s in scored if not (p.practice.guard and p.met)]
    # A rung whose scored practices are all met guards is met on them: nothing but the absence of harm was seen.
    mean = _mean(kept or [s for _, s in scored])
    # A weak but present gate (a few tests) is scored like any practice; only its absence caps the rung.
    if mean is not None and any(p.practice.gate and s < GATE_LOW for p, s in scored):
        mean = min(mean, GATE_CAP)
    return mean


def score_rungs(model: Model, by_rung: dict[str, list[PracticeScore]]) -> list[RungScore]:
    """Each rung from its applicable practices; reached when met and no rung it requires failed on evidence."""
    rungs: list[RungScore] = []
    reached: dict[str, bool] = {}
    clear: dict[str, bool] = {}  # met, unconfirmed or n/a, and so is every rung it requires
    for rung in model.rungs:
        ps = by_rung.get(rung.id, [])
        scored = [p.score for p in ps if p.score is not None]
        rung_score = rung_mean(ps)
        coverage = len(scored) / len(ps) if ps else 0.0
        met = rung_score is not None and rung_score >= model.pass_mark and coverage >= model.min_coverage
        if not ps:
            status = NOT_APPLICABLE
        elif met:
            status = MET
        elif coverage < model.min_coverage and not any(p.label == MEASURED and not p.met for p in ps):
            # Inferences and gaps alone must not collapse the level; a bad practice measured in place does.
            status = UNCONFIRMED
        else:
            status = FAILED
        below = all(clear.get(req, False) for req in rung.requires)
        reached[rung.id] = met and below
        clear[rung.id] = status != FAILED and below
        rungs.append(RungScore(rung, rung_score, coverage, met, reached[rung.id], status, len(ps) - len(scored)))
    return rungs
