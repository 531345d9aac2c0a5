"""Where deploys come from: Ladder's journal, read defensively, and the runs it counts as deploys."""

from __future__ import annotations

import sqlite3

import pytest

from gitrepo import NOW
from ladder.assess.deploys import read_journal
from ladder.assess.dora import dora_metrics

pytestmark = pytest.mark.local


def test_journal_is_read_defensively(tmp_path):
    assert read_journal(None) is None
    assert read_journal(tmp_path / "missing.sqlite") is None
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 10)
    assert read_journal(junk) is None
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE something (x)").connection.commit()
    assert read_journal(other) is None
    odd = tmp_path / "odd.sqlite"
    db = sqlite3.connect(odd)
    db.execute("CREATE TABLE runs (runbook TEXT, status TEXT, started TEXT, params TEXT, changes TEXT)")
    db.execute("INSERT INTO runs VALUES ('x', 'ok', 'not a date', '{broken', 'many')")
    db.commit()
    db.close()
    (run,) = read_journal(odd)
    assert run.params == {} and run.changes == 0 and run.started is None and not run.is_deploy
    assert dora_metrics(None, odd, now=NOW).source == "none"


def test_reads_the_journal_ladder_writes(tmp_path):
    from ladder.engine import journal

    path = journal.journal_path(tmp_path / "runs")
    for i in range(3):
        journal.add(
            path,
            run_id=f"d{i}",
            kind="runbook",
            runbook="runbooks/4-continuous-delivery.ipynb",
            rung="4",
            params={"dry_run": False},
            status="ok",
            changes=1,
        )
    journal.add(
        path,
        run_id="a1",
        kind="assessment",
        runbook="notebooks/assessment.ipynb",
        status="ok",
        changes=5,
        rung="4",
        summary={"schema": "x"},
    )
    journal.add(
        path,
        run_id="plan",
        kind="runbook",
        runbook="runbooks/4-continuous-delivery.ipynb",
        rung="4",
        params={"dry_run": True},
        status="ok",
        changes=4,  # planned, never made
    )
    runs = read_journal(path)
    assert [r.id for r in runs] == ["d0", "d1", "d2", "plan"]
    assert [r.is_deploy for r in runs] == [True, True, True, False]
    report = dora_metrics(None, path)
    assert report.source == "journal" and report.journal_deploys == 3


def _rollout(path, run_id: str, kind: str, env: str, ended: str, status: str = "ok", **extra) -> None:
    from ladder.engine import journal

    params = {"action": kind, "environment": env, "version": "1.0.0", "dry_run": False, **extra}
    journal.add(path, run_id=run_id, kind=kind, runbook=kind, rung="4", params=params,
                started=ended, ended=ended, status=status, changes=3)  # fmt: skip


def test_rollout_rows_give_lead_time_failures_and_time_to_restore(tmp_path):
    from ladder.engine import journal

    path = journal.journal_path(tmp_path / "runs")
    commit = "2026-01-10T10:00:00+00:00"
    _rollout(path, "d1", "deploy", "staging", "2026-01-10T10:30:00+00:00", commit_time=commit)  # not prod
    _rollout(path, "d2", "deploy", "prod", "2026-01-10T11:00:00+00:00", commit_time=commit)
    _rollout(path, "d3", "deploy", "prod", "2026-01-11T10:00:00+00:00", "failed", commit_time=commit)
    _rollout(path, "d4", "deploy", "prod", "2026-01-11T10:20:00+00:00", commit_time=commit)  # a fix forward
    _rollout(path, "d5", "deploy", "prod", "2026-01-12T10:00:00+00:00", commit_time=commit)
    _rollout(path, "r1", "rollback", "prod", "2026-01-12T10:05:00+00:00")
    _rollout(path, "r2", "rollback", "staging", "2026-01-12T12:00:00+00:00")
    runs = read_journal(path)
    assert [r.id for r in runs if r.is_deploy] == ["d2", "d4", "d5"]
    assert [r.id for r in runs if r.is_failed_deploy] == ["d3"] and [r.id for r in runs if r.is_rollback] == ["r1"]
    from ladder.assess.deploys import deploys_from_journal

    found = deploys_from_journal(runs)
    assert [d.lead_times for d in found] == [(3600.0,), (86400.0,), (87600.0,), (172800.0,)]
    assert [(d.failed, d.recovery) for d in found] == [(False, None), (True, 1200.0), (False, None), (True, 300.0)]
