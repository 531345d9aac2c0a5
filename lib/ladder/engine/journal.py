"""The run journal: one SQLite row per run, written so overlapping and killed runs stay consistent."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.private import private_file
from .redact import redact_value

FILENAME = "journal.sqlite"
BUSY_TIMEOUT_MS = 30_000
STATUSES = ("running", "ok", "failed", "abandoned")  # abandoned: its process died before it wrote its end
ASSESSMENT = "assessment"  # the kind of an assessment's own row
ASSESSMENT_PREFIX = ASSESSMENT + "-"
BUILD = "build"  # the kind of a CI server's build, imported from its REST API (rung 3b)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'runbook',
    runbook TEXT,
    rung TEXT,
    params TEXT,
    started TEXT NOT NULL,
    ended TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'abandoned')),
    changes INTEGER,
    hosts TEXT,
    error TEXT,
    summary TEXT,
    trigger TEXT,
    pid INTEGER,
    host TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
"""
# Columns added since the first journals; a journal without them gains them when opened (see _migrate).
_ADDED = ("trigger", "pid", "host")
_JSON_COLUMNS = ("params", "hosts", "summary")
# What started a run, where Ladder knows it: "schedule" for `ladder schedule`'s runs; NULL otherwise.
SCHEDULE = "schedule"


def now() -> str:
    """The current time as an ISO 8601 UTC timestamp."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    """A sortable, unique run id: UTC time to the millisecond plus a random suffix."""
    t = datetime.now(UTC)
    return t.strftime("%Y%m%dT%H%M%S") + f"{t.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def journal_path(runs_dir: str | Path) -> Path:
    """Where the journal of a runs folder lives."""
    return Path(runs_dir) / FILENAME


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) a journal in WAL mode with a busy timeout."""
    path = private_file(path)  # sqlite makes its -wal and -shm files with the journal's mode
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # WAL lets a reader and one writer work at once; every write is one short
    # transaction, so a killed process leaves either the old row or the new one.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(SCHEMA)
    if not _current(conn):
        _migrate(conn)
    return conn


def _current(conn: sqlite3.Connection) -> bool:
    """True when the runs table has today's columns and accepts every status."""
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    return "'abandoned'" in sql and set(_ADDED) <= columns


def _migrate(conn: sqlite3.Connection) -> None:
    """Rebuild an older journal's table under today's schema, keeping every row (SQLite cannot alter a CHECK)."""
    conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then find it done
    try:
        if not _current(conn):
            old = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
            conn.execute("ALTER TABLE runs RENAME TO runs_before_migration")
            conn.execute("DROP INDEX IF EXISTS runs_started")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            cols = ", ".join(old)
            conn.execute(f"INSERT INTO runs ({cols}) SELECT {cols} FROM runs_before_migration")
            conn.execute("DROP TABLE runs_before_migration")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(redact_value(value), sort_keys=True, default=str)


def start(
    path: str | Path,
    *,
    run_id: str,
    runbook: str,
    rung: str | None = None,
    params: Mapping[str, Any] | None = None,
    kind: str = "runbook",
    started: str | None = None,
    trigger: str | None = None,
) -> None:
    """Insert a 'running' row before a run executes; trigger says what started it (None: not known).

    The row names this process (pid, host), so a later command can tell a run that died (see reap).
    """
    conn = connect(path)
    try:
        conn.execute(
            "INSERT INTO runs (id, kind, runbook, rung, params, started, status, trigger, pid, host)"
            " VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
            (
                run_id,
                kind,
                runbook,
                rung,
                _json(dict(params or {})),
                started or now(),
                trigger,
                os.getpid(),
                socket.gethostname(),
            ),
        )
    finally:
        conn.close()


def finish(
    path: str | Path,
    run_id: str,
    *,
    status: str,
    changes: int | None = None,
    hosts: Mapping[str, Any] | None = None,
    error: str | None = None,
    summary: Any = None,
    ended: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> None:
    """Close a run's row with its outcome; params, when given, replace the ones start() wrote (e.g. redacted)."""
    if status not in STATUSES[1:3]:
        raise ValueError(f"status must be 'ok' or 'failed', got {status!r}")
    conn = connect(path)
    try:
        cur = conn.execute(
            "UPDATE runs SET ended = ?, status = ?, changes = ?, hosts = ?, error = ?, summary = ?,"
            " params = COALESCE(?, params) WHERE id = ?",
            (
                ended or now(),
                status,
                changes,
                _json(hosts),
                redact_value(error),
                _json(summary),
                _json(dict(params)) if params is not None else None,
                run_id,
            ),
        )
        if cur.rowcount != 1:
            raise KeyError(f"no run {run_id!r} in {path}")
    finally:
        conn.close()


def add(
    path: str | Path,
    *,
    run_id: str,
    kind: str,
    runbook: str | None = None,
    rung: str | None = None,
    params: Mapping[str, Any] | None = None,
    started: str | None = None,
    ended: str | None = None,
    status: str = "ok",
    changes: int | None = None,
    hosts: Mapping[str, Any] | None = None,
    error: str | None = None,
    summary: Any = None,
    if_new: bool = False,
) -> bool:
    """Insert one finished row in a single write, e.g. an assessment with its JSON summary; True when written.

    if_new keeps a row already there under this id (an import read twice writes each row once).
    """
    if status not in STATUSES[1:3]:
        raise ValueError(f"status must be 'ok' or 'failed', got {status!r}")
    stamp = now()
    conn = connect(path)
    try:
        cur = conn.execute(
            ("INSERT OR IGNORE" if if_new else "INSERT")
            + " INTO runs (id, kind, runbook, rung, params, started, ended, status, changes, hosts, error, summary)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                kind,
                runbook,
                rung,
                _json(dict(params or {})),
                started or stamp,
                ended or stamp,
                status,
                changes,
                _json(hosts),
                redact_value(error),
                _json(summary),
            ),
        )
    finally:
        conn.close()
    return cur.rowcount == 1


def alive(pid: int) -> bool:
    """True when a process with this pid exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


ABANDONED = (
    "abandoned: its process (pid {pid} on {host}) ended without finishing the run, e.g. killed; "
    "no notebook, report or result.json was kept (a run's notebook stays in memory until its end, "
    "so that nothing unredacted reaches disk); check its hosts, then run it again"
)


def reap(path: str | Path) -> list[str]:
    """Mark 'abandoned' each 'running' row of this machine whose process is gone; return their ids.

    A row from another machine, or without a pid (an older journal), is left as it is: nobody here can tell.
    """
    path = Path(path)
    if not path.exists():
        return []
    conn = connect(path)
    here = socket.gethostname()
    try:
        rows = conn.execute(
            "SELECT id, pid FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL", [here]
        )
        gone = [(run_id, pid) for run_id, pid in rows.fetchall() if not alive(pid)]
        for run_id, pid in gone:
            conn.execute(
                "UPDATE runs SET status = 'abandoned', ended = ?, error = ? WHERE id = ? AND status = 'running'",
                (now(), ABANDONED.format(pid=pid, host=here), run_id),
            )
    finally:
        conn.close()
    return [run_id for run_id, _ in gone]


def history(path: str | Path, *, kind: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Every row, oldest first, with JSON columns decoded; [] when there is no journal yet."""
    path = Path(path)
    if not path.exists():
        return []
    conn = connect(path)
    conn.row_factory = sqlite3.Row
    try:
        sql = "SELECT * FROM runs"
        args: list[Any] = []
        if kind is not None:
            sql += " WHERE kind = ?"
            args.append(kind)
        sql += " ORDER BY started, rowid"  # same millisecond: insertion order
        rows = [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()
    for row in rows:
        for col in _JSON_COLUMNS:
            if row[col] is not None:
                row[col] = json.loads(row[col])
    return rows[-limit:] if limit else rows


def runs(rows: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """One entry per run, in the rows' order: (row, its assessment's row or None).

    An assessment keeps its own row, with the id `assessment-<run id>` (see assessment_id): it folds into
    the run that made it. One kept without a run (e.g. from the library) stands alone, as its own assessment.
    """
    assessed = {str(r["id"]).removeprefix(ASSESSMENT_PREFIX): r for r in rows if r["kind"] == ASSESSMENT}
    made = {r["id"] for r in rows if r["kind"] != ASSESSMENT}
    out: list[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = []
    for r in rows:
        if r["kind"] == ASSESSMENT:
            if str(r["id"]).removeprefix(ASSESSMENT_PREFIX) not in made:
                out.append((r, r))
        else:
            out.append((r, assessed.get(r["id"])))
    return out


def assessment_id(run_id: str) -> str:
    """The journal id of the assessment made by run run_id."""
    return ASSESSMENT_PREFIX + run_id


def last_run(path: str | Path, *, runbook: str, trigger: str | None = None) -> dict[str, Any] | None:
    """The latest row of a runbook (started by trigger, when given), or None; JSON columns stay encoded."""
    path = Path(path)
    if not path.exists():
        return None
    conn = connect(path)
    conn.row_factory = sqlite3.Row
    try:
        sql = "SELECT * FROM runs WHERE runbook = ?" + (" AND trigger = ?" if trigger else "")
        row = conn.execute(
            sql + " ORDER BY started DESC, rowid DESC LIMIT 1", [runbook, *([trigger] if trigger else [])]
        )
        found = row.fetchone()
    finally:
        conn.close()
    return dict(found) if found is not None else None
