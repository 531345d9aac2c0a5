"""assessment.json: the stable, documented record of one assessment, and comparing two of them.

Schema ``ladder.assessment/1`` (every key is always present; unknown values are null)::

    {
      "schema": "ladder.assessment/1",
      "generated": "2025-01-31T12:00:00+00:00",      # ISO 8601, UTC
      "model_version": 1,
      "pass_mark": 7.0,                                # a practice or rung at or above it is met
      "repo": {"path": "shop", "trunk": "master", "head": "<sha>", "detached_head": false,
               "shallow": false, "empty": false, "bare": false,
               "missing_objects": 0} | null,                 # objects a partial or damaged clone lacks
      "as_of": {"date": "2025-01-31T23:59:59+00:00",   # where every time window ends (now by default)
                "option": "" | "2025-01-31" | "last-commit", "window_days": 90,
                "last_activity": {"date": "...", "ref": "main"} | null} | null,  # the newest commit
      "level": "0" | "1" | "1+" | "2" | "3a" | "3b" | "3" | "4" | "5",  # "3" = 3a and 3b both reached
      "level_title": "not yet on the ladder",
      "kind": {"kind": "service" | "library" | "self-hosted", "confidence": "high" | "medium" | "low" | "set",
               "evidence": ["deploy target: Procfile", ...], "overridden": false} | null,  # set by --kind: true
      "unconfirmed": ["1"],                          # rungs below the level, too little evidence to confirm them
      "overall": {"score": 4.2 | null, "coverage": 0.8},  # mean of scored practices, 0-10; share scored
      "rungs": [
        {"id": "1", "title": "...", "score": 3.5 | null, "coverage": 0.67, "met": false,
         "reached": false, "runbook": "runbooks/1-separate-dev-and-prod.ipynb",
         "practices": ["env-separation", ...],
         "status": "met" | "failed" | "unconfirmed" | "n/a",   # only a failed rung blocks those above it
         "unanswered": 2}                                      # applicable practices neither measured nor answered
      ],
      "practices": [
        {"id": "env-separation", "rung": "1", "title": "...", "why": "...",
         "score": 6.5 | null, "met": false,
         "label": "measured" | "inferred" | "self-reported" | "inconclusive" | "n/a",  # n/a: not for this kind
         "answer": "yes" | "partly" | "no" | null,          # null = not answered
         "question": "...", "reason": "one line", "runbook": "runbooks/....ipynb",
         "checks": ["env-separation", "separate-hosts"]}
      ],
      "checks": [
        {"id": "env-separation", "source": "repo" | "host" | "dora", "score": 3.0 | null,
         "label": "measured" | "inferred" | "inconclusive", "reason": "one line",
         "evidence": {...}}                                  # check-specific, JSON values only
      ],
      "contradictions": [
        {"practice": "dev-setup", "answer": "yes", "answer_score": 10.0, "evidence_score": 0.0,
         "evidence_label": "measured", "kept": "evidence" | "answer", "note": "..."}
      ],
      "next_steps": [
        {"order": 1, "rung": "1", "practice": "dev-setup", "title": "...",
         "runbook": "runbooks/1-separate-dev-and-prod.ipynb", "score": 0.0, "reason": "...",
         "step": "Route versions" | "",                       # the runbook's step that does it, when named
         "effort_days": 1.0 | null, "effort_why": "...",     # the model's estimate in person-days, and why
         "moves": ["lead-time", ...],                          # DORA metrics it moves (model.yml ids)
         "benefit": 4.0}                                       # 0-10, ladder.assess.benefit
      ],
      "dora": {"source": "journal" | "tags" | "none", "window_days": 90, "deploys": 12,
               "metrics": [{"key": "deploy_frequency" | "lead_time" | "change_fail_rate" | "recovery_time",
                            "name": "...", "value": 0.43 | null, "display": "3.00 per week",
                            "band": "elite" | "high" | "medium" | "low" | null,
                            "score": 7.9 | null, "samples": 39, "note": "..."}]} | null
    }

Scores are 0-10 rounded to 2 decimals. Units of DORA values: deploys per day, seconds, a
fraction (0-1), seconds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.errors import LadderError
from ..core.private import write_private

SCHEMA = "ladder.assessment/1"


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def assessment_dict(a: Any) -> dict[str, Any]:
    """The assessment.json document for an Assessment."""
    return {
        "schema": SCHEMA,
        "generated": datetime.fromtimestamp(a.generated, UTC).isoformat(timespec="seconds"),
        "model_version": a.model.version,
        "pass_mark": a.model.pass_mark,
        "repo": a.repo,
        "as_of": a.as_of,
        "level": a.level,
        "level_title": a.level_title,
        "kind": a.kind.to_dict() if a.kind is not None else None,
        "unconfirmed": [r.id for r in a.unconfirmed],
        "overall": {"score": _r(a.overall), "coverage": _r(a.coverage)},
        "rungs": [
            {
                "id": r.id,
                "title": r.rung.title,
                "score": _r(r.score),
                "coverage": _r(r.coverage),
                "met": r.met,
                "reached": r.reached,
                "runbook": r.rung.runbook,
                "practices": [p.id for p in r.rung.practices],
                "status": r.status,
                "unanswered": r.unanswered,
            }
            for r in a.rungs
        ],
        "practices": [
            {
                "id": p.id,
                "rung": p.practice.rung,
                "title": p.practice.title,
                "why": p.practice.why,
                "score": _r(p.score),
                "met": p.met,
                "label": p.label,
                "answer": p.answer,
                "question": p.practice.question,
                "reason": p.reason,
                "runbook": p.practice.runbook,
                "checks": list(p.practice.checks),
            }
            for p in a.practices
        ],
        "checks": [c.to_dict() for c in a.checks],
        "contradictions": [c.to_dict() for c in a.contradictions],
        "next_steps": [s.to_dict() for s in a.next_steps],
        "dora": a.dora.to_dict() if a.dora is not None else None,
    }


def as_dict(assessment: Any) -> dict[str, Any]:
    """An assessment.json document from an Assessment or an already-loaded dict."""
    return dict(assessment) if isinstance(assessment, Mapping) else assessment.to_dict()


def write_assessment(assessment: Any, path: str | Path) -> Path:
    """Write assessment.json."""
    return write_private(path, json.dumps(as_dict(assessment), indent=2, ensure_ascii=False) + "\n")


def load_assessment(path: str | Path) -> dict[str, Any]:
    """Read an assessment.json, refusing files of another schema."""
    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise LadderError(f"{file}: cannot read assessment ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise LadderError(f"{file}: not a {SCHEMA} document; re-run the assessment to regenerate it")
    return data


def load_history(folder: str | Path, name: str = "assessment.json") -> list[dict[str, Any]]:
    """Every readable assessment.json under a folder, oldest first; other files are skipped."""
    docs = []
    for file in Path(folder).rglob(name) if Path(folder).is_dir() else []:
        try:
            docs.append(load_assessment(file))
        except LadderError:
            continue
    return sorted(docs, key=lambda d: d["generated"])


def record_assessment(assessment: Any, journal_path: str | Path, *, run_id: str | None = None) -> str:
    """Keep an assessment in the run journal (kind 'assessment', the document as its summary)."""
    from ..engine import journal

    doc = as_dict(assessment)
    stamp = doc["generated"].replace(":", "").replace("+0000", "Z")
    run_id = run_id or journal.assessment_id(f"{stamp}-{uuid.uuid4().hex[:6]}")
    journal.add(
        journal_path,
        run_id=run_id,
        kind=journal.ASSESSMENT,
        runbook="notebooks/assessment.ipynb",
        params={"repo": (doc.get("repo") or {}).get("path")},
        started=doc["generated"],
        ended=doc["generated"],
        status="ok",
        changes=0,
        summary=doc,
    )
    return run_id


def journal_history(journal_path: str | Path) -> list[dict[str, Any]]:
    """Assessments kept in the journal, oldest first (rows of other kinds or schemas are skipped)."""
    from ..engine import journal

    rows = journal.history(journal_path, kind=journal.ASSESSMENT)
    docs = [r["summary"] for r in rows if isinstance(r.get("summary"), dict) and r["summary"].get("schema") == SCHEMA]
    return sorted(docs, key=lambda d: d["generated"])


def changes_since(
    previous: Mapping[str, Any] | Any, current: Mapping[str, Any] | Any, *, threshold: float = 0.5
) -> list[dict[str, Any]]:
    """What changed between two assessments: level, rungs met, practice scores moved by threshold or more."""
    prev, cur = as_dict(previous), as_dict(current)
    out: list[dict[str, Any]] = []
    if prev["level"] != cur["level"]:
        out.append(
            {
                "kind": "level",
                "id": "level",
                "before": prev["level"],
                "after": cur["level"],
                "note": f"level {prev['level']} -> {cur['level']}",
            }
        )
    before_rungs = {r["id"]: r for r in prev["rungs"]}
    for r in cur["rungs"]:
        b = before_rungs.get(r["id"])
        if b and b["met"] != r["met"]:
            out.append(
                {
                    "kind": "rung",
                    "id": r["id"],
                    "before": b["score"],
                    "after": r["score"],
                    "note": f"rung {r['id']} {'now met' if r['met'] else 'no longer met'}",
                }
            )
    before_practices = {p["id"]: p for p in prev["practices"]}
    for p in cur["practices"]:
        b = before_practices.get(p["id"])
        if b is None:
            continue
        s0, s1 = b["score"], p["score"]
        moved = (s0 is None) != (s1 is None) or (s0 is not None and s1 is not None and abs(s1 - s0) >= threshold)
        if moved:
            fmt = lambda s: "inconclusive" if s is None else f"{s:g}"  # noqa: E731
            out.append(
                {
                    "kind": "practice",
                    "id": p["id"],
                    "before": s0,
                    "after": s1,
                    "note": f"{p['title']}: {fmt(s0)} -> {fmt(s1)}",
                }
            )
    return out
