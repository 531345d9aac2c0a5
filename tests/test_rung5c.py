"""Rung 5c's steps: the team's Alembic setup lands on trunk, and the sandbox's prod is migrated over SSH."""

from __future__ import annotations

import shlex

import pytest

from ladder.app import migrations
from ladder.app.git import open_repo
from ladder.core.config import PROD, load_config
from ladder.core.hosts import environment_hosts
from ladder.rungs import rung1, rung5c

APP_SCHEMA = """CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)"""
SEED = f"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute({APP_SCHEMA!r})
db.executemany("INSERT INTO items (name) VALUES (?)", [(f"item {{i}}",) for i in range(500)])
db.commit()
"""


@pytest.mark.unit
def test_landing_adds_alembic_files_and_pins_once():
    files = {"app.py": "", "requirements.txt": "gunicorn==27.0.1\n"}
    changed = rung5c.with_migrations(files)
    assert {"alembic.ini", "migrations/env.py", "migrations/versions/0001_baseline.py"} <= set(changed)
    assert "render_as_batch=True" in changed["migrations/env.py"]
    assert "expand" in changed["migrations/versions/0002_items_updated_at.py"]
    assert changed["requirements.txt"].startswith("gunicorn==27.0.1\nalembic==")
    assert rung5c.with_migrations({**files, **changed}) == {}


@pytest.mark.ssh
def test_the_steps_migrate_prod_over_ssh_keeping_every_row_and_checksum(ssh_sandbox):
    cfg = load_config(ssh_sandbox.config_path)
    (host,) = environment_hosts(cfg, PROD)
    with host:
        site = migrations.site_of(host, python=rung1.prod_target(cfg, host).python)
        host.run(f"{shlex.quote(site.python)} -c {shlex.quote(SEED)} {shlex.quote(site.db)}", timeout=60)
    plan = rung5c.migrate(cfg, 2, dry_run=True)
    (planned,) = plan.runs.values()
    assert [c.outcome for c in planned.changes] == ["planned", "planned"] and planned.after is None
    assert rung5c.land_migrations(cfg, dry_run=False).commit
    rung5c.prod_requirements(cfg, dry_run=False)
    rung5c.ship(cfg, dry_run=False)
    report = rung5c.migrate(cfg, 2, dry_run=False)
    (done,) = report.runs.values()
    assert done.after is not None and done.after.revision == "0002" and done.health == "ok"
    (items,) = done.checks
    assert items.rows_before == items.rows_after >= 500 and items.checksum_ok
    assert rung5c.figures(report)["checksums matched"] == 1
    print(report)  # the migration figures, for the run's log
    kept = rung5c.backups(cfg)
    assert list(kept["backup"]) == [done.backup] and list(kept["revision"]) == ["none"]
    again = rung5c.migrate(cfg, 2, dry_run=False)
    assert [c.outcome for c in next(iter(again.runs.values())).changes] == ["ok"]


@pytest.mark.local
def test_the_pipelines_stage_migrates_a_versions_commit_and_is_a_no_op_before_alembic(local_sandbox):
    cfg = load_config(local_sandbox.config_path)
    repo = open_repo(local_sandbox.repo)
    before = repo.text("rev-parse", "HEAD").strip()
    assert rung5c.migrations_in(repo, before) == {}
    assert rung5c.migrate_version(cfg, PROD, before, dry_run=False) is None  # no Alembic yet: nothing touched
    rung5c.land_migrations(cfg, dry_run=False)
    landed = repo.text("rev-parse", "HEAD").strip()
    assert {"alembic.ini", "migrations/env.py"} <= set(rung5c.migrations_in(repo, landed))
    rung5c.prod_requirements(cfg, dry_run=False)
    report = rung5c.migrate_version(cfg, PROD, landed, 2, dry_run=False)
    assert report is not None
    (done,) = report.runs.values()
    assert done.after is not None and done.after.revision == "0002" and done.health == "ok" and done.backup
    assert any(c.target.endswith(f"/schema/{landed[:12]}/alembic.ini") for c in done.changes)
