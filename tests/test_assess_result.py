"""assessment.json: the documented schema, writing and reading it, and what changed between two."""

from __future__ import annotations

import json

import pytest

from gitrepo import NOW
from ladder.assess import (
    Answers,
    changes_since,
    journal_history,
    load_assessment,
    load_history,
    load_model,
    record_assessment,
    score,
    write_assessment,
)
from ladder.assess.catalogue import CHECKS
from ladder.assess.checks import result
from ladder.assess.deploys import Deploy
from ladder.assess.dora import compute
from ladder.assess.result import SCHEMA
from ladder.core.errors import LadderError

TOP_KEYS = [
    "schema",
    "generated",
    "model_version",
    "pass_mark",
    "repo",
    "as_of",
    "level",
    "level_title",
    "kind",
    "unconfirmed",
    "overall",
    "rungs",
    "practices",
    "checks",
    "contradictions",
    "next_steps",
    "dora",
]


@pytest.fixture(scope="module")
def model():
    return load_model()


def assessment(model, good: set[str], answers=None):
    checks = {}
    for p in model.practices:
        for cid in p.checks:
            checks[cid] = result(cid, CHECKS[cid].source, 10 if p.rung in good else 1, f"{cid} test", found=["a"])
    dora = compute([Deploy(NOW - i * 86400, "tag", f"v{i}") for i in range(3)], now=NOW, source="tags")
    return score(model, checks.values(), answers, repo={"path": "shop", "trunk": "master"}, dora=dora)


@pytest.mark.unit
def test_schema_keys_are_stable(model):
    doc = assessment(model, {"1"}, Answers({"canary": "yes"})).to_dict()
    assert list(doc) == TOP_KEYS
    assert doc["schema"] == SCHEMA and doc["level"] == "1" and doc["pass_mark"] == 7
    assert list(doc["overall"]) == ["score", "coverage"]
    assert list(doc["rungs"][0]) == [
        "id",
        "title",
        "score",
        "coverage",
        "met",
        "reached",
        "runbook",
        "practices",
        "status",
        "unanswered",
    ]
    assert list(doc["practices"][0]) == [
        "id",
        "rung",
        "title",
        "why",
        "score",
        "met",
        "label",
        "answer",
        "question",
        "reason",
        "runbook",
        "checks",
    ]
    assert list(doc["checks"][0]) == ["id", "source", "score", "label", "reason", "evidence"]
    assert list(doc["next_steps"][0]) == [
        "order",
        "rung",
        "practice",
        "title",
        "runbook",
        "score",
        "reason",
        "step",
        "effort_days",
        "effort_why",
        "moves",
        "benefit",
    ]
    assert list(doc["contradictions"][0]) == [
        "practice",
        "answer",
        "answer_score",
        "evidence_score",
        "evidence_label",
        "kept",
        "note",
    ]
    assert [m["key"] for m in doc["dora"]["metrics"]] == [
        "deploy_frequency",
        "lead_time",
        "change_fail_rate",
        "recovery_time",
    ]
    labels = {p["label"] for p in doc["practices"]}
    assert labels <= {"measured", "inferred", "self-reported", "inconclusive", "n/a"}
    json.loads(json.dumps(doc))


@pytest.mark.local
def test_write_and_load_round_trip(model, tmp_path):
    a = assessment(model, {"1", "1+"})
    path = write_assessment(a, tmp_path / "out" / "assessment.json")
    assert load_assessment(path) == json.loads(a.to_json())


@pytest.mark.local
def test_load_refuses_other_documents(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"schema": "something/9"}')
    with pytest.raises(LadderError, match="not a ladder.assessment/1 document"):
        load_assessment(bad)
    broken = tmp_path / "y.json"
    broken.write_text("{")
    with pytest.raises(LadderError, match="cannot read assessment"):
        load_assessment(broken)


@pytest.mark.unit
def test_changes_since_the_last_assessment(model):
    before = assessment(model, set())
    after = assessment(model, {"1"})
    changes = changes_since(before, after.to_dict())
    kinds = [c["kind"] for c in changes]
    assert kinds[0] == "level" and changes[0]["note"] == "level 0 -> 1"
    assert {"id": "1", "kind": "rung"}.items() <= next(c for c in changes if c["kind"] == "rung").items()
    moved = {c["id"] for c in changes if c["kind"] == "practice"}
    assert moved == {p.id for p in model.rung("1").practices if p.applies("service")}
    assert changes_since(after, after) == []


@pytest.mark.local
def test_history_from_a_runs_folder(model, tmp_path):
    older, newer = assessment(model, set()), assessment(model, {"1"})
    older.generated, newer.generated = 1_700_000_000, 1_700_100_000
    write_assessment(newer, tmp_path / "runs" / "b" / "assessment.json")
    write_assessment(older, tmp_path / "runs" / "a" / "nested" / "assessment.json")
    (tmp_path / "runs" / "c").mkdir()
    (tmp_path / "runs" / "c" / "assessment.json").write_text("{}")
    history = load_history(tmp_path / "runs")
    assert [d["level"] for d in history] == ["0", "1"]
    assert load_history(tmp_path / "nothing-here") == []


@pytest.mark.local
def test_assessments_are_kept_in_the_journal(model, tmp_path):
    from ladder.engine import journal

    path = journal.journal_path(tmp_path / "runs")
    first, second = assessment(model, set()), assessment(model, {"1"})
    first.generated, second.generated = 1_700_000_000, 1_700_100_000
    record_assessment(second, path)
    record_assessment(first, path)
    journal.add(
        path,
        run_id="r1",
        kind="runbook",
        runbook="runbooks/1-separate-dev-and-prod.ipynb",
        rung="1",
        status="ok",
        changes=2,
    )
    history = journal_history(path)
    assert [d["level"] for d in history] == ["0", "1"]
    assert changes_since(history[-2], history[-1])[0]["note"] == "level 0 -> 1"
    assert journal_history(tmp_path / "none" / "journal.sqlite") == []
