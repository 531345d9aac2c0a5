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
