"""The maturity model: model.yml loaded and validated into Model, Rung and Practice."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import ModelError
from .catalogue import CHECKS
from .kind import KINDS

DEFAULT_MODEL = Path(__file__).with_name("model.yml")
# The DORA metrics a practice can move (its `moves:`), and how each reads in a report.
DORA_METRICS = {
    "deployment-frequency": "deployment frequency",
    "lead-time": "lead time",
    "change-fail-rate": "change fail rate",
    "time-to-restore": "time to restore",
}


@dataclass(frozen=True)
class Effort:
    """An estimate of the work a practice takes, in person-days for a team of one or two, and why."""

    days: float
    why: str


@dataclass(frozen=True)
class Practice:
    """One practice: what it is, why it matters, how it is checked and asked, and what climbs it."""

    id: str
    rung: str
    title: str
    why: str
    checks: tuple[str, ...]
    question: str
    runbook: str
    step: str = ""
    applies_to: tuple[str, ...] = KINDS

    def applies(self, kind: str) -> bool:
        """Whether the practice fits a project of this kind (service, library, self-hosted)."""
        return kind in self.applies_to

    effort: Effort | None = None  # None: the model gives no estimate
    moves: tuple[str, ...] = ()  # DORA_METRICS ids
    guard: bool = False  # the absence of a harm: enters its rung's mean only when below the pass mark
    gate: bool = False  # essential to its rung: below the pass mark, it caps the rung's score


@dataclass(frozen=True)
class Rung:
    """One rung of the ladder and its practices."""

    id: str
    title: str
    runbook: str
    practices: tuple[Practice, ...]
    requires: tuple[str, ...] = ()
    group: str | None = None
    ladder: bool = True


@dataclass(frozen=True)
class Model:
    """The whole model: rungs in ladder order, the pass mark and the answer scale."""

    version: int
    rungs: tuple[Rung, ...]
    pass_mark: float
    min_coverage: float
    answers: dict[str, float] = field(default_factory=dict)
    path: Path | None = None

    @property
    def practices(self) -> list[Practice]:
        """Every practice, in ladder order."""
        return [p for r in self.rungs for p in r.practices]

    def practice(self, practice_id: str) -> Practice:
        """The practice with this id."""
        for p in self.practices:
            if p.id == practice_id:
                return p
        raise KeyError(practice_id)

    def rung(self, rung_id: str) -> Rung:
        """The rung with this id."""
        for r in self.rungs:
            if r.id == rung_id:
                return r
        raise KeyError(rung_id)

    @property
    def ladder(self) -> list[Rung]:
        """Rungs that count towards the level (not the 'every rung' group)."""
        return [r for r in self.rungs if r.ladder]

    @property
    def runbooks(self) -> list[str]:
        """Every runbook the model names, in ladder order, without repeats."""
        seen = dict.fromkeys([r.runbook for r in self.rungs] + [p.runbook for p in self.practices])
        return list(seen)


def _str_id(value: Any) -> Any:
    # YAML reads `id: 2` as an int; ids are strings.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _need(mapping: dict, key: str, kind: type | tuple, where: str, path: Path, fix: str) -> Any:
    value = _str_id(mapping.get(key)) if kind is str else mapping.get(key)
    if value is None or not isinstance(value, kind) or (kind is str and not str(value).strip()):
        raise ModelError(
            f"is missing or not {getattr(kind, '__name__', 'valid')}; {fix}", path=path, key=f"{where}.{key}"
        )
    return value


def _effort(p: dict, where: str, path: Path) -> Effort | None:
    raw = p.get("effort")
    if raw is None:
        return None
    fix = "write effort: {days: 2, why: <what the work is, in one line>}"
    if not isinstance(raw, dict):
        raise ModelError(f"must be a mapping with days and why; {fix}", path=path, key=f"{where}.effort")
    days = raw.get("days")
    if not isinstance(days, (int, float)) or isinstance(days, bool) or not 0 < days < 1000:
        raise ModelError(
            f"must be a positive number of person-days, got {days!r}; {fix}", path=path, key=f"{where}.effort.days"
        )
    why = _need(raw, "why", str, f"{where}.effort", path, "say in one line what the work is")
    return Effort(float(days), why)


def _moves(p: dict, where: str, path: Path) -> tuple[str, ...]:
    raw = p.get("moves", [])
    known = ", ".join(DORA_METRICS)
    if not isinstance(raw, list):
        raise ModelError(f"must be a list of DORA metric ids ({known})", path=path, key=f"{where}.moves")
    for m in raw:
        if m not in DORA_METRICS:
            raise ModelError(f"unknown DORA metric {m!r}; use one of {known}", path=path, key=f"{where}.moves")
    return tuple(dict.fromkeys(raw))


def _flag(p: dict, key: str, where: str, path: Path) -> bool:
    value = p.get(key, False)
    if not isinstance(value, bool):
        raise ModelError(f"must be true or false, got {value!r}", path=path, key=f"{where}.{key}")
    return value


def parse_model(data: Any, path: Path | None = None, known_checks: set[str] | None = None) -> Model:
    """Validate model data (as read from YAML) and build a Model; known_checks limits check ids."""
    path = path or Path("model.yml")
    if not isinstance(data, dict):
        raise ModelError("the top level must be a mapping with version, pass_mark and rungs", path=path)
    version = _need(data, "version", int, "model", path, "set version: 1")
    pass_mark = float(data.get("pass_mark", 7))
    min_coverage = float(data.get("min_coverage", 0.5))
    if not 0 <= pass_mark <= 10:
        raise ModelError("must be between 0 and 10", path=path, key="pass_mark")
    if not 0 <= min_coverage <= 1:
        raise ModelError("must be between 0 and 1", path=path, key="min_coverage")
    answers_raw = data.get("answers", {"yes": 10, "partly": 5, "no": 0})
    if not isinstance(answers_raw, dict) or not answers_raw:
        raise ModelError("must map each answer to a score, e.g. yes: 10", path=path, key="answers")
    answers = {}
    for k, v in answers_raw.items():
        name = {True: "yes", False: "no"}.get(k, str(k)) if isinstance(k, bool) else str(k)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 10:
            raise ModelError(f"score must be a number 0-10, got {v!r}", path=path, key=f"answers.{name}")
        answers[name] = float(v)
    rungs_raw = data.get("rungs")
    if not isinstance(rungs_raw, list) or not rungs_raw:
        raise ModelError("must be a non-empty list of rungs", path=path, key="rungs")
    rung_ids: list[str] = []
    practice_ids: set[str] = set()
    rungs = []
    for i, r in enumerate(rungs_raw):
        where = f"rungs[{i}]"
        if not isinstance(r, dict):
            raise ModelError("must be a mapping with id, title, runbook and practices", path=path, key=where)
        rid = _need(r, "id", str, where, path, "give the rung an id such as 1, 1+, 2, 3a")
        where = f"rungs[{rid}]"
        if rid in rung_ids:
            raise ModelError(f"duplicate rung id {rid!r}; rung ids must be unique", path=path, key=where)
        title = _need(r, "title", str, where, path, "give the rung a title")
        runbook = _need(r, "runbook", str, where, path, "name the runbook that climbs it, e.g. runbooks/1-....ipynb")
        requires = tuple(_str_id(x) for x in (r.get("requires") or []))
        for req in requires:
            if req not in rung_ids:
                raise ModelError(
                    f"requires {req!r}, which is not a rung listed before it; list rungs in ladder order",
                    path=path,
                    key=f"{where}.requires",
                )
        practices_raw = r.get("practices")
        if not isinstance(practices_raw, list) or not practices_raw:
            raise ModelError("must be a non-empty list of practices", path=path, key=f"{where}.practices")
        practices = []
        for j, p in enumerate(practices_raw):
            pwhere = f"{where}.practices[{j}]"
            if not isinstance(p, dict):
                raise ModelError("must be a mapping with id, title, why and question", path=path, key=pwhere)
            pid = _need(p, "id", str, pwhere, path, "give the practice an id")
            pwhere = f"{where}.practices[{pid}]"
            if pid in practice_ids:
                raise ModelError(f"duplicate practice id {pid!r}; practice ids must be unique", path=path, key=pwhere)
            practice_ids.add(pid)
            checks = p.get("checks", [pid])
            if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
                raise ModelError("must be a list of check ids", path=path, key=f"{pwhere}.checks")
            if known_checks is not None:
                for c in checks:
                    if c not in known_checks:
                        raise ModelError(
                            f"unknown check {c!r}; add a check function under this id to its rung's CHECKS "
                            f"(known: {', '.join(sorted(known_checks))})",
                            path=path,
                            key=f"{pwhere}.checks",
                        )
            applies_to = p.get("applies_to", list(KINDS))
            if (
                not isinstance(applies_to, list)
                or not applies_to
                or any(k not in KINDS for k in applies_to)
                or len(set(applies_to)) != len(applies_to)
            ):
                raise ModelError(
                    f"must be a non-empty list of distinct project kinds out of {', '.join(KINDS)}, "
                    f"got {applies_to!r}; leave it out when the practice fits every kind",
                    path=path,
                    key=f"{pwhere}.applies_to",
                )
            practices.append(
                Practice(
                    id=pid,
                    rung=rid,
                    title=_need(p, "title", str, pwhere, path, "give the practice a title"),
                    why=_need(p, "why", str, pwhere, path, "say in a sentence why it matters"),
                    checks=tuple(checks),
                    question=_need(p, "question", str, pwhere, path, "add a yes/no question for the questionnaire"),
                    runbook=_str_id(p.get("runbook")) or runbook,
                    step=_str_id(p.get("step")) or "",
                    applies_to=tuple(applies_to),
                    effort=_effort(p, pwhere, path),
                    moves=_moves(p, pwhere, path),
                    guard=_flag(p, "guard", pwhere, path),
                    gate=_flag(p, "gate", pwhere, path),
                )
            )
        rung_ids.append(rid)
        rungs.append(
            Rung(rid, title, runbook, tuple(practices), requires, _str_id(r.get("group")), bool(r.get("ladder", True)))
        )
    return Model(version, tuple(rungs), pass_mark, min_coverage, answers, path)


def load_model(path: str | Path | None = None) -> Model:
    """Load and validate a model.yml (Ladder's own by default), checking every check id is in the catalogue."""
    file = Path(path).expanduser() if path else DEFAULT_MODEL
    if not file.is_file():
        raise ModelError("file not found; pass the path of a model.yml", path=file)
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise ModelError(f"not valid YAML: {exc}", path=file) from None
    return parse_model(data, file, set(CHECKS))
