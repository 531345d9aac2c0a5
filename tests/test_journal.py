"""The run journal: rows, WAL mode, overlapping writers, and processes killed mid-write."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from ladder.engine import journal

pytestmark = pytest.mark.local


@pytest.fixture
def path(tmp_path):
    return tmp_path / "runs" / journal.FILENAME


def test_a_run_is_running_until_finished(path):
    journal.start(path, run_id="r1", runbook="1-separate-dev-and-prod", rung="1", params={"dry_run": True})
    (row,) = journal.history(path)
    assert row["status"] == "running" and row["ended"] is None and row["kind"] == "runbook"
    assert row["params"] == {"dry_run": True}
    journal.finish(
        path, "r1", status="failed", changes=3, hosts={"prod1": "changed", "prod2": "failed"}, error="prod2: boom"
    )
    (row,) = journal.history(path)
    assert row["status"] == "failed" and row["changes"] == 3 and row["error"] == "prod2: boom"
    assert row["hosts"] == {"prod1": "changed", "prod2": "failed"}
    assert row["started"] <= row["ended"]


def test_finishing_may_replace_the_params_with_redacted_ones(path):
    journal.start(path, run_id="r1", runbook="x", params={"ref": "v1", "note": "found-out-later"})
    journal.finish(path, "r1", status="ok", params={"ref": "v1", "note": "[redacted]"})
    journal.start(path, run_id="r2", runbook="x", params={"ref": "v2"})
    journal.finish(path, "r2", status="ok")
    assert [row["params"] for row in journal.history(path)] == [{"ref": "v1", "note": "[redacted]"}, {"ref": "v2"}]


def test_the_journal_is_in_wal_mode(path):
    journal.start(path, run_id="r1", runbook="x")
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_secrets_are_redacted_before_they_are_written(path, monkeypatch):
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-abcdef-123")
    journal.start(path, run_id="r1", runbook="x", params={"url": "https://x/?t=tok-abcdef-123"})
    journal.finish(path, "r1", status="failed", error="auth failed with tok-abcdef-123")
    assert b"tok-abcdef-123" not in path.read_bytes()
    (row,) = journal.history(path)
    assert row["params"]["url"] == "https://x/?t=[redacted]" and row["error"] == "auth failed with [redacted]"


def test_assessments_are_rows_of_their_own_kind_with_a_summary(path):
    journal.start(path, run_id="r1", runbook="x")
    journal.add(path, run_id="a1", kind="assessment", summary={"level": 1, "rungs": {"1": "met"}})
    assert [r["id"] for r in journal.history(path, kind="assessment")] == ["a1"]
    (row,) = journal.history(path, kind="assessment")
    assert row["summary"] == {"level": 1, "rungs": {"1": "met"}} and row["status"] == "ok"
    assert len(journal.history(path)) == 2
    assert [r["id"] for r in journal.history(path, limit=1)] == ["a1"]


def test_bad_finishes_are_refused(path):
    journal.start(path, run_id="r1", runbook="x")
    with pytest.raises(KeyError, match="no run 'nope'"):
        journal.finish(path, "nope", status="ok")
    with pytest.raises(ValueError, match="status"):
        journal.finish(path, "r1", status="running")


def test_no_journal_yet_means_no_history(tmp_path):
    assert journal.history(tmp_path / "none.sqlite") == []
    assert not (tmp_path / "none.sqlite").exists()


WRITER = textwrap.dedent(
    """
    import sys
    from ladder.engine import journal
    path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for i in range(count):
        journal.start(path, run_id=f"{prefix}-{i:04d}", runbook=prefix)
        journal.finish(path, f"{prefix}-{i:04d}", status="ok", changes=i)
        print(i, flush=True)
    """
)


def test_overlapping_writers_all_land(path):
    journal.start(path, run_id="seed", runbook="x")  # create the file before the race
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "40"], stdout=subprocess.PIPE, text=True)
        for name in ("a", "b", "c")
    ]
    for p in procs:
        p.communicate(timeout=120)
        assert p.returncode == 0
    rows = journal.history(path)
    assert len(rows) == 121
    assert sum(r["status"] == "ok" for r in rows) == 120


def _integrity(path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_a_writer_killed_mid_stream_leaves_a_consistent_journal(path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "k", "100000"], stdout=subprocess.PIPE, text=True)
    for _ in range(25):  # let it commit a few runs, then kill it while it keeps writing
        proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _integrity(path) == "ok"
    rows = journal.history(path)
    assert len(rows) >= 25
    # Every row is whole: either still 'running' (killed between start and finish) or finished.
    assert all(r["status"] in ("running", "ok") for r in rows)
    assert sum(r["status"] == "running" for r in rows) <= 1
    journal.start(path, run_id="after", runbook="x")
    journal.finish(path, "after", status="ok")
    assert journal.history(path)[-1]["id"] == "after"


HOLDER = textwrap.dedent(
    """
    import sys, time
    from ladder.engine import journal
    conn = journal.connect(sys.argv[1])
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE runs SET status = 'ok', error = 'half-written' WHERE id = 'r1'")
    conn.execute("INSERT INTO runs (id, runbook, started, status) VALUES ('ghost', 'x', 'now', 'running')")
    print("in transaction", flush=True)
    time.sleep(600)
    """
)


def test_a_process_killed_inside_a_write_leaves_the_previous_state(path):
    journal.start(path, run_id="r1", runbook="x")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "in transaction"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _integrity(path) == "ok"
    (row,) = journal.history(path)
    assert row["id"] == "r1" and row["status"] == "running" and row["error"] is None
    journal.finish(path, "r1", status="failed", error="killed")
    assert journal.history(path)[0]["status"] == "failed"


def test_run_ids_sort_by_time_and_are_unique():
    ids = [journal.new_run_id() for _ in range(50)]
    stamps = [i.split("Z-")[0] for i in ids]
    assert stamps == sorted(stamps)  # within one millisecond only the random suffix differs
    assert len(set(ids)) == 50 and ids[0][8] == "T"


def test_a_run_started_by_the_schedule_says_so_and_is_found_as_the_last_one(path):
    journal.start(path, run_id="r1", runbook="x", trigger=journal.SCHEDULE)
    journal.finish(path, "r1", status="ok")
    journal.start(path, run_id="r2", runbook="x")
    assert [r["trigger"] for r in journal.history(path)] == ["schedule", None]
    assert journal.last_run(path, runbook="x")["id"] == "r2"
    assert journal.last_run(path, runbook="x", trigger=journal.SCHEDULE)["id"] == "r1"
    assert journal.last_run(path, runbook="y") is None
    assert journal.last_run(path.parent / "none" / journal.FILENAME, runbook="x") is None


# The schema of the first journals: no trigger, pid or host, and a CHECK that knew three statuses.
FIRST_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL DEFAULT 'runbook', runbook TEXT, rung TEXT, params TEXT,
    started TEXT NOT NULL, ended TEXT, status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    changes INTEGER, hosts TEXT, error TEXT, summary TEXT
);
CREATE INDEX runs_started ON runs (started);
"""


def test_a_journal_written_before_runs_had_a_trigger_gains_the_columns_and_the_abandoned_status(path):
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.executescript(FIRST_SCHEMA)
    conn.execute("INSERT INTO runs (id, runbook, started, status) VALUES ('old', 'x', '2025-01-01', 'ok')")
    conn.execute("INSERT INTO runs (id, runbook, started, status) VALUES ('hung', 'x', '2025-01-02', 'running')")
    conn.commit()
    conn.close()
    journal.start(path, run_id="new", runbook="x", trigger=journal.SCHEDULE)
    rows = journal.history(path)
    assert [(r["id"], r["status"], r["trigger"]) for r in rows] == [
        ("old", "ok", None),
        ("hung", "running", None),  # no pid: nobody can tell whether it still runs
        ("new", "running", "schedule"),
    ]
    assert journal.reap(path) == []  # "new" is this process, alive
    conn = sqlite3.connect(path)
    conn.execute("UPDATE runs SET status = 'abandoned' WHERE id = 'old'")  # the CHECK now allows it
    conn.commit()
    conn.close()
    assert journal.history(path)[0]["status"] == "abandoned"


def test_a_running_row_whose_process_is_gone_is_marked_abandoned_by_the_next_look(path):
    code = textwrap.dedent(
        f"""
        import os, signal
        from ladder.engine import journal
        journal.start({str(path)!r}, run_id="killed", runbook="x")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert proc.returncode == -signal.SIGKILL
    journal.start(path, run_id="alive", runbook="x")
    (killed, alive) = journal.history(path)
    assert killed["status"] == "running" and killed["pid"] not in (None, os.getpid()) and killed["host"]
    assert journal.reap(path) == ["killed"]
    (killed, alive) = journal.history(path)
    assert killed["status"] == "abandoned" and killed["ended"] is not None
    assert f"pid {killed['pid']} on {killed['host']}" in killed["error"] and "no notebook" in killed["error"]
    assert alive["status"] == "running"
    assert journal.reap(path) == []  # once
