"""Rung 5's checks: canary, rollback, monitoring, migrations; logs shipped and migrations applied on prod."""

from __future__ import annotations

import sqlite3
import sys

import pytest

from assessing import by_id, check, make_release_host
from gitrepo import GitRepo
from ladder.assess.evidence import assess_hosts
from ladder.core.hosts import LocalHost

pytestmark = pytest.mark.local


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


# ---- the repository ------------------------------------------------------------------------


def test_canary_and_rollback_in_deploy_files(repo):
    repo.commit(
        {
            "deploy/rollout.yaml": "kind: Rollout\nstrategy:\n  canary:\n    steps: []\n",
            "scripts/rollback.sh": "#!/bin/sh\n",
        }
    )
    assert check(repo, "canary").score == 10
    assert check(repo, "rollback-tooling").evidence["files"][0] == "scripts/rollback.sh"


def test_migration_or_database_rollback_is_not_rollback_tooling(repo):
    repo.commit(
        {
            "shop/migrations/versions/9a1b_rollback_price_column.py": "revision = '9a1b'\n",
            "shop/migrations/env.py": "",
            "tests/test_rollback.py": "def test_rollback(): pass\n",
            "Makefile": "undo-migration:\n\trake db:rollback\n",
            "shop/store.py": "def save(session):\n    session.rollback()\n",
        }
    )
    res = check(repo, "rollback-tooling")
    assert res.inconclusive and "a migration or database rollback is not one" in res.reason
    repo.commit({"Makefile": "rollback:\n\t./scripts/release.sh --to previous\n"})
    assert check(repo, "rollback-tooling").evidence["files"] == ["Makefile"]


def test_canary_in_docs_does_not_count(repo):
    repo.commit({"docs/canary.md": "We should try canary deploys.\n"})
    res = check(repo, "canary")
    assert res.score is None and res.label == "inconclusive"


def test_observability_libraries_and_config(repo):
    repo.commit({"requirements.txt": "structlog\nsentry-sdk\n", "prometheus.yml": "scrape_configs: []\n"})
    res = check(repo, "observability")
    assert res.score == 10 and res.evidence["libraries"] == ["sentry-sdk", "structlog"]


def test_migrations_folder_and_pipeline_step(repo):
    repo.commit(
        {
            "alembic.ini": "[alembic]\n",
            "alembic/versions/1_init.py": "revision = '1'\n",
            ".gitlab-ci.yml": "deploy:\n  script: [alembic upgrade head, pytest]\n",
        }
    )
    assert check(repo, "migrations").score == 10


@pytest.mark.parametrize(
    ("files", "folder"),
    [
        ({"shop/migrations/0001_initial.py": "", "shop/migrations/__init__.py": ""}, "shop/migrations"),
        ({"db/migrate/20240105120000_create_users.rb": "class CreateUsers; end\n"}, "db/migrate"),
        (
            {"src/main/resources/db/migration/V1_2__add_items.sql": "create table items (id int);\n"},
            "src/main/resources/db/migration",
        ),
        ({"app/db/versions/3f2a_add_items.py": "revision = '3f2a'\n", "app/db/env.py": ""}, "app/db/versions"),
        ({"db/changelog/db.changelog-master.yaml": "databaseChangeLog:\n  - changeSet: {id: 1}\n"}, "db/changelog"),
        (
            {"prisma/migrations/20240101_init/migration.sql": "create table t (id int);\n"},
            "prisma/migrations",
        ),
    ],
)
def test_real_migration_folders(repo, files, folder):
    repo.commit({**files, "app.py": "import sqlite3\n"})
    res = check(repo, "migrations")
    assert res.evidence["folders"] == [folder] and res.score == 5
    assert f"migrations in {folder}/" in res.reason


def test_changelogs_and_docs_are_not_migrations(repo):
    repo.commit(
        {
            "changelogs/changelog.yaml": "releases:\n  2.17.0:\n    changes: {}\n",
            "changelogs/fragments/123-fix.yml": "bugfixes: [a fix]\n",
            "CHANGELOG.md": "# 1.0\n",
            "docs/migrations/upgrading-to-2.md": "# Upgrading\n",
            "app/versions/v2.py": "API = 2\n",
            "app.py": "import sqlite3\n",
        }
    )
    res = check(repo, "migrations")
    assert res.score == 0 and res.evidence["folders"] == []


def test_migrations_missing_for_database_app(repo):
    repo.commit({"app.py": "import sqlite3\n"})
    assert check(repo, "migrations").score == 0
    nodb = GitRepo(repo.path.parent / "nodb")
    nodb.commit({"app.py": "print(1)\n"})
    assert check(nodb, "migrations").inconclusive


def test_database_in_examples_does_not_call_for_migrations(repo):
    repo.commit(
        {
            "src/webkit/app.py": "def route(path):\n    return path\n",
            "examples/notes/notes/db.py": "import sqlite3\n",
            "examples/notes/pyproject.toml": "[project]\nname = 'notes'\ndependencies = ['sqlalchemy']\n",
            "examples/notes/migrations/0001_initial.py": "",
            "docs/db.md": "import sqlite3\n",
        }
    )
    res = check(repo, "migrations")
    assert res.inconclusive and "no database use" in res.reason


# ---- the hosts ------------------------------------------------------------------------------


def test_log_files_without_a_shipper(tmp_path):
    (tmp_path / "p" / "logs").mkdir(parents=True)
    (tmp_path / "p" / "logs" / "error.log").write_text("boom\n")
    got = by_id(assess_hosts({"prod": [LocalHost("prod1", tmp_path / "p")]}))
    assert got["logs-collected"].score in (4, 10)  # 10 only if this machine happens to run a shipper
    if got["logs-collected"].score == 4:
        assert got["logs-collected"].evidence["hosts"][0]["files"] == [str(tmp_path / "p" / "logs" / "error.log")]


def test_migrations_pending_then_applied(tmp_path):
    prod = make_release_host(tmp_path / "prod")
    mig = tmp_path / "prod" / "releases" / "v3" / "migrations"
    mig.mkdir()
    (mig / "001_init.sql").write_text("create table a (x);\n")
    (mig / "002_items.sql").write_text("create table b (x);\n")
    db = sqlite3.connect(tmp_path / "prod" / "shared" / "app.db")
    db.execute("create table schema_migrations (version text)")
    db.execute("insert into schema_migrations values ('001_init')")
    db.commit()
    got = by_id(assess_hosts({"prod": [prod]}, python={"prod1": sys.executable}))
    assert got["migrations-current"].score == 0
    assert got["migrations-current"].evidence["hosts"][0]["pending"] == ["002_items"]
    db.execute("insert into schema_migrations values ('002_items')")
    db.commit()
    db.close()
    got = by_id(assess_hosts({"prod": [prod]}, python={"prod1": sys.executable}))
    assert got["migrations-current"].score == 10


def test_no_migrations_is_inconclusive(tmp_path):
    prod = make_release_host(tmp_path / "prod")
    got = by_id(assess_hosts({"prod": [prod]}, python={"prod1": sys.executable}))
    assert got["migrations-current"].inconclusive


# ---- measured: kept releases and the journal's canaries ---------------------------------------------


def test_rollback_ready_when_each_prod_host_keeps_a_release_besides_current(tmp_path):
    got = by_id(assess_hosts({"prod": [make_release_host(tmp_path / "kept")]}))
    assert got["rollback-ready"].score == 10 and got["rollback-ready"].label == "measured"
    assert "keeps 2 other release(s)" in got["rollback-ready"].reason
    got = by_id(assess_hosts({"prod": [make_release_host(tmp_path / "one", versions=("v1",))]}))
    assert got["rollback-ready"].score == 4


def test_canary_runs_are_read_from_the_journal(tmp_path):
    from ladder.assess import rung5
    from ladder.assess.dora import dora_metrics
    from ladder.engine import journal

    path = journal.journal_path(tmp_path)
    assert rung5.canary_runs(dora_metrics(None, path)).inconclusive
    for version, outcome in (("2.0.0", "promoted"), ("2.1.0", "rolled back")):
        run_id = journal.new_run_id()
        journal.start(path, run_id=run_id, runbook="5a-canary-release", rung="5a", kind="canary",
                      params={"version": version})  # fmt: skip
        journal.finish(path, run_id, status="ok", params={"version": version, "outcome": outcome})
    report = dora_metrics(None, path)
    got = rung5.canary_runs(report)
    assert got.score == 10 and got.label == "measured" and got.evidence["versions"] == ["2.0.0", "2.1.0"]
    assert "1 promoted, 1 rolled back automatically" in got.reason
    assert report.journal_deploys == 0, "a canary row is not a deploy: its rollouts are"
