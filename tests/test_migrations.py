"""Schema migrations with backups: real SQLite and real Alembic on a folder host (and the sandbox's prod over SSH)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from ladder.app import migrations
from ladder.app.migrations import Backup, DbState, TableSum
from ladder.cli import main
from ladder.core.errors import MigrationFailed, ParameterError, UnknownBackup
from ladder.core.hosts import LocalHost
from ladder.rungs import rung5c

ROOT = Path(__file__).resolve().parents[1]
APP_SCHEMA = """CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)"""
ROWS = 300

# Fails halfway: a table is created and every item renamed, then the revision raises.
BROKEN = '''"""Broken on purpose: creates a table, rewrites rows, then fails."""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT)")
    op.execute("INSERT INTO audit (what) SELECT name FROM items")
    op.execute("UPDATE items SET name = name || ' (half-migrated)'")
    raise RuntimeError("broken revision 0003 failed halfway")
'''

# Writes rows, tells the test its pid, then waits while the pause file exists: the test kills it there.
SLOW = '''"""Slow on purpose: fills a table and a column, then waits while a pause file exists."""
import os
import time
from pathlib import Path

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PAUSE = Path(__file__).with_name("pause")


def upgrade():
    op.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT)")
    op.execute("UPDATE items SET updated_at = 'killed mid-way'")
    if PAUSE.exists():
        PAUSE.with_name("pid").write_text(str(os.getpid()))
        for _ in range(3000):
            if not PAUSE.exists():
                break
            time.sleep(0.1)
'''


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_site(tmp_path: Path) -> tuple[LocalHost, migrations.Site, Path]:
    """A folder host as Ladder lays prod out: app.env naming the database, the team's migrations, rows in the db."""
    host = LocalHost("prod1", tmp_path / "prod1")
    data = Path(host.base) / "data"
    data.mkdir(parents=True)
    db = data / "app.db"
    (Path(host.base) / "app.env").write_text(f"APP_ENV=prod\nAPP_DB_PATH={db}\n")
    for rel, text in rung5c.migration_files().items():
        (Path(host.base) / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
        (Path(host.base) / "app" / rel).write_text(text)
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(APP_SCHEMA)
        conn.executemany("INSERT INTO items (name) VALUES (?)", [(f"item {i}",) for i in range(ROWS)])
        conn.execute("DELETE FROM items WHERE id % 7 = 0")  # gaps, as a real table has
    return host, migrations.site_of(host, python=sys.executable), db


# --- unit -----------------------------------------------------------------------------
@pytest.mark.unit
def test_compare_keeps_counts_and_checksums_and_honours_declared_changes():
    before = DbState(True, "f", {"items": TableSum(("id",), ("id",), 10, "a")}, "0001", ("0002",), {"items": 2})
    after = DbState(True, "g", {"items": TableSum(("id", "x"), ("id",), 12, "b")}, "0002", ("0002",))
    (check,) = migrations.compare(before, after)
    assert (check.rows_before, check.rows_after, check.expected_change) == (10, 12, 2)
    assert check.rows_ok and check.checksum_ok
    same = DbState(True, "g", {"items": TableSum(("id",), ("id",), 10, "b")}, "0002", ("0002",))
    (changed,) = migrations.compare(DbState(True, "f", before.tables, "0001", ("0002",)), same)
    assert changed.rows_ok and not changed.checksum_ok


@pytest.mark.unit
def test_parse_state_backups_env_and_pruning():
    line = json.dumps(
        {
            "exists": True,
            "file_sha256": "ab",
            "wal": False,
            "pending": "20260101T000000Z-0001",
            "tables": {"items": {"columns": ["id"], "over": ["id"], "rows": 3, "sha256": "cd"}},
            "revision": "0001",
            "heads": ["0002"],
            "declared": {},
        }
    )
    got = migrations.parse_state("INFO noise\n" + line)
    assert got.pending == "20260101T000000Z-0001" and got.tables["items"].rows == 3 and not got.at_head
    assert migrations.parse_env("# c\nexport APP_DB_PATH='/srv/x.db'\nAPP_ENV=prod\n") == {
        "APP_DB_PATH": "/srv/x.db",
        "APP_ENV": "prod",
    }
    kept = [Backup(f"b{i}", "0001", "", "", {}) for i in range(5)]
    assert [b.id for b in migrations.to_prune(kept, 2, protect="b1")] == ["b0", "b2"]
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ParameterError, match="keep_backups"):
            migrations.check_keep(bad)  # type: ignore[arg-type]


# --- local: a folder host -------------------------------------------------------------
@pytest.mark.local
def test_good_migration_upgrades_keeping_every_row_checksum(tmp_path):
    host, site, db = make_site(tmp_path)
    before_sha = sha(db)
    plan = migrations.migrate(host, site, keep_backups=2, dry_run=True)
    assert [c.outcome for c in plan.changes] == ["planned", "planned"] and sha(db) == before_sha
    done = migrations.migrate(host, site, keep_backups=2, dry_run=False)
    assert done.after is not None and done.after.revision == "0002" and done.after.at_head
    (items,) = done.checks
    assert items.table == "items" and items.rows_before == items.rows_after == ROWS - ROWS // 7
    assert items.checksum_ok and items.sha256_before == items.sha256_after
    (kept,) = migrations.get_backups(host, site)
    assert kept.id == done.backup and kept.revision == "none" and kept.file_sha256 == before_sha
    with closing(sqlite3.connect(db)) as conn:
        assert (
            conn.execute("SELECT count(*) FROM items WHERE updated_at = created_at").fetchone()[0] == items.rows_after
        )
    again = migrations.migrate(host, site, keep_backups=2, dry_run=False)
    assert [c.outcome for c in again.changes] == ["ok"] and len(migrations.get_backups(host, site)) == 1


@pytest.mark.local
def test_broken_revision_leaves_the_database_byte_identical(tmp_path):
    host, site, db = make_site(tmp_path)
    migrations.migrate(host, site, keep_backups=3, dry_run=False)
    before_sha, before = sha(db), migrations.get_state(host, site)
    (Path(site.code) / "migrations/versions/0003_broken.py").write_text(BROKEN)
    with pytest.raises(MigrationFailed, match="broken revision 0003 failed halfway") as failed:
        migrations.migrate(host, site, keep_backups=3, dry_run=False)
    assert failed.value.restored
    after = migrations.get_state(host, site)
    assert sha(db) == before_sha and after.revision == "0002" and "audit" not in after.tables
    assert {t: (s.rows, s.sha256) for t, s in after.tables.items()} == {
        t: (s.rows, s.sha256) for t, s in before.tables.items()
    }
    assert not any(Path(f"{db}{s}").exists() for s in ("-wal", "-journal"))


@pytest.mark.local
def test_kill_9_mid_upgrade_then_rerun_ends_at_head_with_no_row_lost(tmp_path):
    host, site, db = make_site(tmp_path)
    before = migrations.get_state(host, site)
    versions = Path(site.code) / "migrations/versions"
    (versions / "0003_slow.py").write_text(SLOW)
    (versions / "pause").touch()
    run = subprocess.Popen(
        [sys.executable, "-c", RUN_MIGRATE, host.base, site.python],
        env={**os.environ, "PYTHONPATH": str(ROOT / "lib")},
        start_new_session=True,
    )
    try:
        for _ in range(600):  # wait for the event (the revision's pid file), not for a time
            if (versions / "pid").exists() or run.poll() is not None:
                break
            time.sleep(0.1)
        upgrade_pid = int((versions / "pid").read_text())
        os.kill(run.pid, signal.SIGKILL)  # Ladder dies first, so nothing restores behind the test's back
        os.kill(upgrade_pid, signal.SIGKILL)
    finally:
        run.kill()
        run.wait()
    (versions / "pause").unlink()
    killed = migrations.get_state(host, site)
    assert killed.pending is not None and killed.revision != "0003"
    done = migrations.migrate(host, site, keep_backups=5, dry_run=False)
    assert [c.operation for c in done.changes][:2] == ["db restore", "db backup"]
    assert done.after is not None and done.after.revision == "0003" and done.after.pending is None
    final = migrations.get_state(host, site, {t: s.columns for t, s in before.tables.items()})
    assert final.tables["items"].rows == before.tables["items"].rows  # 0 rows lost
    assert final.tables["items"].sha256 == before.tables["items"].sha256  # every value of the old columns kept


RUN_MIGRATE = """
import sys
import threading
from ladder.app import migrations
from ladder.core.hosts import LocalHost
host = LocalHost("prod1", sys.argv[1])
migrations.migrate(host, migrations.site_of(host, python=sys.argv[2]), dry_run=False)
"""


@pytest.mark.local
def test_restore_cli_refuses_an_unknown_backup_naming_the_kept_ones(tmp_path, capsys):
    host, site, db = make_site(tmp_path)
    migrations.migrate(host, site, dry_run=False)
    (kept,) = migrations.get_backups(host, site)
    with pytest.raises(UnknownBackup, match=kept.id):
        migrations.restore(host, site, "20200101T000000Z-nope", dry_run=True)
    cfg = tmp_path / "ladder.yml"
    cfg.write_text(
        f"app: {{name: items, repo: {tmp_path / 'repo.git'}}}\n"
        f"environments: {{prod: {{hosts: [{{name: prod1, address: local, base: {host.base}}}]}}}}\n"
    )
    assert main(["db", "restore", "--backup", "nope", "--config", str(cfg)]) == 2
    assert kept.id in capsys.readouterr().err
    upgraded = sha(db)
    assert main(["db", "restore", "--backup", kept.id, "--config", str(cfg)]) == 0 and sha(db) == upgraded
    assert main(["db", "restore", "--backup", kept.id, "--config", str(cfg), "--apply"]) == 0
    assert sha(db) == kept.file_sha256


@pytest.mark.local
def test_an_upgrade_killed_under_a_living_run_is_restored_at_once(tmp_path):
    host, site, db = make_site(tmp_path)
    before_sha = sha(db)
    versions = Path(site.code) / "migrations/versions"
    (versions / "0003_slow.py").write_text(SLOW)
    (versions / "pause").touch()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            migrations.migrate(host, site, dry_run=False)
        except MigrationFailed as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    for _ in range(600):  # wait for the event (the revision's pid file), not for a time
        if (versions / "pid").exists() or not worker.is_alive():
            break
        time.sleep(0.1)
    os.kill(int((versions / "pid").read_text()), signal.SIGKILL)
    worker.join()
    (failed,) = outcome
    assert isinstance(failed, MigrationFailed) and failed.restored and "killed" in str(failed)
    assert sha(db) == before_sha and migrations.get_state(host, site).pending is None
