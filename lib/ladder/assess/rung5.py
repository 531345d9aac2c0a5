"""Rung 5, beyond: canary, rollback, logging and monitoring, schema migrations."""

from __future__ import annotations

import re

from ..app.history import is_sample_path
from . import ci
from .checks import (
    DORA,
    ELSEWHERE,
    HOST,
    INFERRED,
    MEASURED,
    REPO,
    SAMPLES,
    CheckResult,
    CheckSpec,
    inconclusive,
    result,
)
from .dora import DoraReport
from .host_facts import HostFacts, HostReport, per_prod
from .probes import Logs, Migrations
from .repo_facts import CODE_SPECS, MANIFEST, RepoFacts, sample_paths

# ---- the repository --------------------------------------------------------------------------------


CANARY = re.compile(r"canary|kind:\s*Rollout|setWeight|flagger|trafficSplit|5-canary-rollback", re.I)


def canary(facts: RepoFacts) -> CheckResult:
    """Canary or progressive rollout config in CI or deploy manifests."""
    hits = sorted(p for p, text in facts.deploy_texts.items() if CANARY.search(text))
    if hits:
        return result(
            "canary", REPO, 10, f"canary or rollout config in {hits[0]}", label=INFERRED, files=hits[:SAMPLES]
        )
    # Rollouts are often a platform's setting: not finding one here is no sign there is none.
    return inconclusive("canary", REPO, "no canary or rollout config in CI or deploy files" + ELSEWHERE)


ROLLBACK = re.compile(r"rollback|roll back|rollout undo|deploy:rollback|5-canary-rollback", re.I)
ROLLBACK_FILE = re.compile(r"(^|/)[^/]*roll_?back[^/]*$", re.I)
# Undoing a schema change or a transaction is not rolling a deployment back.
DATABASE_ROLLBACK = re.compile(
    r"db:rollback|migrat|downgrade|alembic|transaction|session\.rollback|\.rollback\(|savepoint|sql", re.I
)
DOC_SUFFIXES = (".md", ".rst", ".txt", ".ipynb", ".html", ".adoc")


def _rollback_lines(text: str) -> bool:
    return any(ROLLBACK.search(line) and not DATABASE_ROLLBACK.search(line) for line in text.splitlines())


def rollback_tooling(facts: RepoFacts) -> CheckResult:
    """One-command rollback of a deployment: a rollback script, make target or pipeline job (not a migration)."""
    in_migrations = tuple(f"{folder}/" for folder in migration_folders(facts))
    files = [
        f.path
        for f in facts.matching(ROLLBACK_FILE)
        if not f.path.endswith(DOC_SUFFIXES)
        and not is_sample_path(f.path)
        and not f.path.startswith(in_migrations)
        and not DATABASE_ROLLBACK.search(f.path)
    ]
    in_pipeline = sorted(p for p, text in facts.deploy_texts.items() if _rollback_lines(text))
    found = sorted(set(files)) + [p for p in in_pipeline if p not in files]
    if found:
        return result(
            "rollback-tooling", REPO, 10, f"rollback tooling in {found[0]}", label=INFERRED, files=found[:SAMPLES]
        )
    why = "no rollback script, target or pipeline job (a migration or database rollback is not one)"
    return inconclusive("rollback-tooling", REPO, why + ELSEWHERE)


def canary_runs(report: DoraReport) -> CheckResult:
    """Canaries the journal shows judged by metrics: promoted or rolled back automatically (rung 5a's rows)."""
    done = [r for r in report.canaries if r.status == "ok" and r.params.get("outcome") in ("promoted", "rolled back")]
    if not done:
        return inconclusive("canary-runs", DORA, "no canary release in the journal's window (rung 5a journals them)")
    promoted = sum(r.params.get("outcome") == "promoted" for r in done)
    versions = [str(r.params.get("version")) for r in done]
    return result(
        "canary-runs",
        DORA,
        10,
        f"{len(done)} canary release(s) judged by their metrics in the journal: {promoted} promoted, "
        f"{len(done) - promoted} rolled back automatically",
        label=MEASURED,
        canaries=len(done),
        versions=versions[-SAMPLES:],
    )


def rollback_ready(facts: HostFacts) -> CheckResult:
    """Each prod host serves a release and keeps the one before it: rolling back is one switch, no rebuild."""

    def judge(r: HostReport) -> CheckResult | None:
        d = r.deployment
        if d is None or not d.found:
            return None
        if not d.runs_release:
            return result("rollback-ready", HOST, 0, "no kept releases: a rollback means redeploying", host=r.name)
        current = d.current.rsplit("/", 1)[-1] if d.current else ""
        others = [v for v in d.releases if v != current]
        if not others:
            return result(
                "rollback-ready", HOST, 4, f"serves {current}, keeps no release before it", host=r.name,
                releases=list(d.releases),
            )  # fmt: skip
        return result(
            "rollback-ready", HOST, 10, f"serves {current}, keeps {len(others)} other release(s) to switch back to ({others[-1]}, ...)", host=r.name,
            label=MEASURED, releases=list(d.releases[-SAMPLES:]),
        )  # fmt: skip

    return per_prod(facts, "rollback-ready", judge)


OBSERVABILITY_LIBS = (
    "structlog",
    "opentelemetry",
    "sentry-sdk",
    "sentry_sdk",
    "@sentry/",
    "prometheus-client",
    "prometheus_client",
    "prom-client",
    "ddtrace",
    "datadog",
    "newrelic",
    "elastic-apm",
    "honeycomb",
    "python-json-logger",
    "statsd",
    "loki",
)
OBSERVABILITY_FILES = re.compile(
    r"(^|/)(prometheus\.ya?ml|alertmanager\.ya?ml|otel[^/]*\.ya?ml|fluent-?bit\.(conf|ya?ml)|fluentd?\.conf"
    r"|vector\.(toml|ya?ml)|promtail[^/]*\.ya?ml|filebeat\.ya?ml|datadog\.ya?ml|newrelic\.(ini|yml)|grafana/)"
)


def observability(facts: RepoFacts) -> CheckResult:
    """Logging and monitoring: structlog, OpenTelemetry, Sentry, Prometheus libraries or collector config."""
    libs = sorted({lib for lib in OBSERVABILITY_LIBS if lib in facts.manifests})
    files = sample_paths(facts.matching(OBSERVABILITY_FILES))
    if not libs and not files:
        # An agent on the hosts or the platform's own logs and metrics need nothing in the repository.
        return inconclusive("observability", REPO, "no logging or monitoring library or config" + ELSEWHERE)
    score = 10 if libs and files else 7
    reason = "monitoring: " + ", ".join((libs + files)[:4])
    return result("observability", REPO, score, reason, label=INFERRED, libraries=libs, config_files=files)


# Numbered migration files: Django's app/migrations/0001_*.py, Rails' db/migrate/2024..._*.rb, knex,
# golang-migrate and Flyway's db/migration/V1__*.sql, Prisma's migrations/<stamp>_name/migration.sql.
MIGRATION_FILES = re.compile(
    r"(^|/)(migrations|migrate|migration)/(V\d+|\d+)[^/]*\.(py|rb|sql|js|ts|go|php)$"
    r"|(^|/)V\d+(_\d+)*__[^/]+\.sql$"
    r"|(^|/)migrations/\d+[^/]*/migration\.sql$"
)
# Alembic's revisions: <script_location>/versions/*.py beside its env.py (or in a folder named alembic).
ALEMBIC_VERSION = re.compile(r"^((.*/)?([^/]+))/versions/[^/_][^/]*\.py$")
# Liquibase names its changelogs freely; its content says what it is (a CHANGELOG.md or changelogs/ is not one).
LIQUIBASE_CANDIDATE = re.compile(r"(^|/)[^/]*changelog[^/]*\.(xml|ya?ml|json|sql)$", re.IGNORECASE)
LIQUIBASE_CONTENT = re.compile(r"databaseChangeLog|--\s*liquibase formatted sql", re.IGNORECASE)


def migration_folders(facts: RepoFacts) -> list[str]:
    """Folders holding real schema migrations (alembic, Django, Rails, Flyway, Liquibase, knex, Prisma)."""
    paths = {f.path for f in facts.source_files}
    found = [f.path for f in facts.matching(MIGRATION_FILES) if not is_sample_path(f.path)]
    for f in facts.source_files:
        m = ALEMBIC_VERSION.search(f.path) if not is_sample_path(f.path) else None
        if m and (m.group(3) == "alembic" or f"{m.group(1)}/env.py" in paths):
            found.append(f.path)
    candidates = [f.path for f in facts.matching(LIQUIBASE_CANDIDATE) if not is_sample_path(f.path)]
    found += [p for p, text in facts.read(candidates).items() if LIQUIBASE_CONTENT.search(text)]
    # Prisma keeps one folder per migration: the folder that holds them all is the migrations folder.
    folders = {p.rsplit("/", 2)[0] if p.endswith("/migration.sql") else p.rpartition("/")[0] for p in found}
    return sorted(f or "." for f in folders)


DATABASE_USE = r"import sqlite3|sqlalchemy|psycopg|pymysql|mysqlclient|django\.db|mongoose|typeorm|prisma|ActiveRecord|knex|sequelize|gorm"


def migrations(facts: RepoFacts) -> CheckResult:
    """Schema migrations: a migrations folder (alembic, django, flyway) and a migrate step in the pipeline."""
    folders = migration_folders(facts)
    step = sorted(p for p, text in facts.deploy_texts.items() if ci.MIGRATE.search(text) and not is_sample_path(p))
    if not folders and not step:
        # Examples, docs and tests may use a database; the project itself is what needs migrations.
        uses_db = any(not is_sample_path(h[0]) for h in facts.grep([DATABASE_USE], CODE_SPECS, tests=False))
        manifests = facts.read(f.path for f in facts.matching(MANIFEST) if not is_sample_path(f.path))
        uses_db = uses_db or any(re.search(DATABASE_USE.lower(), t.lower()) for t in manifests.values())
        if not uses_db:
            return inconclusive("migrations", REPO, "no database use found, so no migrations are expected")
        return result(
            "migrations",
            REPO,
            0,
            "the app uses a database but has no migrations folder or migrate step",
            folders=[],
            pipeline=[],
        )
    score = 5 * bool(folders) + 5 * bool(step)
    parts = []
    parts.append(f"migrations in {folders[0]}/" if folders else "no migrations folder")
    parts.append(f"migrate step in {step[0]}" if step else "no migrate step in the pipeline")
    return result("migrations", REPO, score, "; ".join(parts), folders=folders[:SAMPLES], pipeline=step)


# ---- the hosts --------------------------------------------------------------------------------


def logs_collected(facts: HostFacts) -> CheckResult:
    """Logs leave prod: a log shipper runs (promtail, fluent-bit, vector, ...)."""

    def judge(r: HostReport) -> CheckResult | None:
        logs = r.logs or Logs()
        if logs.shippers:
            return result(
                "logs-collected",
                HOST,
                10,
                f"log shipper running: {', '.join(logs.shippers)}",
                host=r.name,
                shippers=list(logs.shippers),
            )
        if logs.files:
            return result(
                "logs-collected",
                HOST,
                4,
                f"{len(logs.files)} log file(s) kept on the host, none shipped",
                host=r.name,
                files=list(logs.files[:SAMPLES]),
            )
        return result("logs-collected", HOST, 0, "no log shipper and no log files", host=r.name)

    return per_prod(facts, "logs-collected", judge)


def migrations_current(facts: HostFacts) -> CheckResult:
    """The running code's migrations are all applied to prod's database."""

    def judge(r: HostReport) -> CheckResult | None:
        m = r.migrations or Migrations()
        if not m.kind:
            return inconclusive("migrations-current", HOST, m.error or "no migrations in the running code", host=r.name)
        if m.db is None:
            return inconclusive(
                "migrations-current",
                HOST,
                f"{m.files} {m.kind} migration(s), but no sqlite database under shared/ records them",
                host=r.name,
                error=m.error,
            )
        if m.pending:
            return result(
                "migrations-current",
                HOST,
                0,
                f"{len(m.pending)} migration(s) not applied to {m.db}",
                host=r.name,
                pending=list(m.pending[:SAMPLES]),
            )
        return result("migrations-current", HOST, 10, f"all {m.kind} migrations applied to {m.db}", host=r.name)

    return per_prod(facts, "migrations-current", judge)


CHECKS = (
    CheckSpec("canary", REPO, canary),
    CheckSpec("canary-runs", DORA, canary_runs),
    CheckSpec("rollback-tooling", REPO, rollback_tooling),
    CheckSpec("rollback-ready", HOST, rollback_ready),
    CheckSpec("observability", REPO, observability),
    CheckSpec("migrations", REPO, migrations),
    CheckSpec("logs-collected", HOST, logs_collected),
    CheckSpec("migrations-current", HOST, migrations_current),
)
