"""Rung 5c, schema migrations with backups: one function per runbook step, each taking the config."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..app import devenv, migrations, parity, trunk
from ..app.git import GitRepo, open_repo
from ..app.layout import layout_of
from ..core import ops
from ..core.config import PROD, STAGING, Config
from ..core.errors import SeedError
from ..core.hosts import Host
from ..core.markup import styler
from ..engine import pausepoint
from ..engine.record import record_step
from . import landing, rung1, rung2, steps

RUNBOOK = "5c-schema-migrations"  # runbooks/<RUNBOOK>.ipynb, whose steps these are
TEMPLATE = Path(__file__).with_name("template") / "migrations"
PINNED = ("alembic", "SQLAlchemy")  # pinned into the app's requirements at the versions installed next to Ladder
SCHEMA_DIR = "schema"  # shared/schema/<commit>/: the migrations of the code about to ship, sent before the switch
GOOD, BAD = "#c8e6c9", "#ffcdd2"  # a table whose rows and checksums held, and one whose did not
MIGRATE_DEADLINE = migrations.BACKUP_TIMEOUT + migrations.UPGRADE_TIMEOUT + 120


def migration_files() -> dict[str, str]:
    """What lands in the team's repository: alembic.ini, migrations/env.py, the baseline and the expand revision."""
    return {
        p.relative_to(TEMPLATE).as_posix(): p.read_text()
        for p in sorted(TEMPLATE.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def pins() -> list[str]:
    """alembic and SQLAlchemy pinned at the versions installed here."""
    try:
        return [f"{name}=={metadata.version(name)}" for name in PINNED]
    except metadata.PackageNotFoundError as exc:
        raise SeedError(f"{exc.name} is not installed; run `pip install alembic SQLAlchemy`", path=TEMPLATE) from None


def with_migrations(files: Mapping[str, str]) -> dict[str, str]:
    """The files to change in the app for migrations: the missing or different ones, and requirements with the pins."""
    changed = {path: text for path, text in migration_files().items() if files.get(path) != text}
    requirements = files.get("requirements.txt", "")
    have = devenv.parse_requirements(requirements)
    missing = [p for p in pins() if parity.normalize(p.split("==")[0]) not in have]
    if missing:
        changed["requirements.txt"] = requirements.rstrip("\n") + ("\n" if requirements.strip() else "")
        changed["requirements.txt"] += "\n".join(missing) + "\n"
    return changed


def setup(config: Config | str | Path, keep_backups: int = 5) -> Config:
    """Load the config and check the parameters, before anything changes."""
    migrations.check_keep(keep_backups)
    cfg = steps.config_of(config)
    steps.declare(RUNBOOK, cfg)
    pausepoint.point("setup")
    return cfg


def land_migrations(config: Config | str | Path, *, dry_run: bool = True) -> landing.Landing:
    """Land Alembic on trunk: alembic.ini, migrations/ (baseline + the expand revision) and the pinned requirements."""
    cfg = steps.config_of(config)
    pausepoint.point("migrations code")
    return landing.land(
        cfg,
        "migrations code",
        "Add Alembic migrations: a baseline of today's schema and items.updated_at (expand, backfilled)",
        lambda files, _: with_migrations(files),
        dry_run=dry_run,
    )


def prod_requirements(config: Config | str | Path, *, dry_run: bool = True) -> dict[str, ops.Change]:
    """Install trunk's requirements (now with Alembic) into the Python of every host migrated: staging's and prod's."""
    cfg = steps.config_of(config)
    migrated = tuple(e for e in (STAGING, PROD) if e in cfg.environments)
    return rung2.prod_requirements(cfg, dry_run=dry_run, environments=migrated)


def _schema_folder(host: Host, commit: str) -> str:
    return f"{layout_of(host).shared}/{SCHEMA_DIR}/{commit[:12]}"


def migrations_in(repo: GitRepo, rev: str) -> dict[str, str]:
    """A commit's alembic.ini and migrations/ files by path; {} when it has no alembic.ini."""
    paths = [f.path for f in repo.files(rev) if f.path == "alembic.ini" or f.path.startswith("migrations/")]
    return repo.read(rev, paths) if "alembic.ini" in paths else {}


def _trunk_migrations(cfg: Config) -> tuple[str, dict[str, str]]:
    """Trunk's head commit and its alembic.ini and migrations/ files."""
    with trunk.workspace(cfg.app.repo) as ws:
        head = trunk.git(ws.path, "rev-parse", "HEAD")
        return head, migrations_in(open_repo(ws.path), head)


def _send(host: Host, commit: str, files: Mapping[str, str], *, dry_run: bool) -> list[ops.Change]:
    """The migrations of commit into shared/schema/<commit>/ on host."""
    folder = _schema_folder(host, commit)
    dirs = sorted({str(Path(folder, p).parent) for p in files})
    made = [ops.directory(host, d, dry_run=dry_run) for d in dirs]
    return made + [ops.file(host, f"{folder}/{p}", t, dry_run=dry_run) for p, t in sorted(files.items())]


def ship(config: Config | str | Path, *, dry_run: bool = True) -> dict[str, list[ops.Change]]:
    """Send trunk's migrations to shared/schema/<commit>/ on each prod host: the schema moves before the code does."""
    cfg = steps.config_of(config)
    pausepoint.point("ship migrations")
    head, files = _trunk_migrations(cfg)
    changes = steps.on_hosts(cfg, PROD, lambda host: _send(host, head, files, dry_run=dry_run), rung1.CHECK_DEADLINE)
    record_step("ship migrations", [c for cs in changes.values() for c in cs])
    return changes


@dataclass(frozen=True)
class MigrationReport:
    """Each prod host's migration: rows before and after per table, and whether every checksum matched."""

    runs: dict[str, migrations.Migration]

    def table(self) -> pd.DataFrame:
        """One row per table per host."""
        rows = [
            {
                "host": m.host,
                "table": c.table,
                "rows before": c.rows_before,
                "rows after": c.rows_after,
                "declared change": c.expected_change,
                "checksum before": c.sha256_before[:12],
                "checksum after": c.sha256_after[:12],
                "checksum matched": c.checksum_ok,
            }
            for m in self.runs.values()
            for c in m.checks
        ]
        columns = ["host", "table", "rows before", "rows after", "declared change"]
        return steps.table(rows, columns + ["checksum before", "checksum after", "checksum matched"])

    def summary(self) -> str:
        """One line: each host's revision move, or what a dry run would do."""
        parts = []
        for m in self.runs.values():
            heads = ", ".join(m.before.heads) or "?"
            if m.after is None:
                parts.append(f"{m.host}: would back up and upgrade {m.before.revision or 'no revision'} -> {heads}")
            else:
                matched = sum(c.checksum_ok and c.rows_ok for c in m.checks)
                parts.append(
                    f"{m.host}: {m.before.revision or 'no revision'} -> {m.after.revision}, backup {m.backup or '-'}, "
                    f"{matched}/{len(m.checks)} tables' rows and checksums held, health {m.health}"
                )
        return "; ".join(parts) or "no prod host"

    def _repr_html_(self) -> str:
        align = [{"selector": "th, td", "props": "text-align: left; vertical-align: top; padding: 2px 8px"}]
        styled = styler(self.table()).hide(axis="index").set_table_styles(align)
        styled = styled.map(lambda ok: f"background-color: {GOOD if ok else BAD}", subset=["checksum matched"])
        return f"<p>{html.escape(self.summary())}</p>" + styled.to_html()

    def __repr__(self) -> str:
        return self.summary() + "\n" + self.table().to_string(index=False)


def migrate(config: Config | str | Path, keep_backups: int = 5, *, dry_run: bool = True) -> MigrationReport:
    """On each prod host: back up, `alembic upgrade head` with trunk's migrations, verify, restore on failure."""
    cfg = steps.config_of(config)
    migrations.check_keep(keep_backups)
    pausepoint.point("migrate")
    head, _ = _trunk_migrations(cfg)

    def one(host: Host) -> migrations.Migration:
        target = rung1.prod_target(cfg, host)
        folder = _schema_folder(host, head)
        site = migrations.site_of(host, python=target.python, code=folder if host.exists(folder) else "")
        return migrations.migrate(
            host,
            site,
            keep_backups=keep_backups,
            health_port=target.port,
            health_path=target.health_path,
            dry_run=dry_run,
        )

    done = steps.on_hosts(cfg, PROD, one, MIGRATE_DEADLINE)
    record_step("migrate", [c for m in done.values() for c in m.changes])
    return MigrationReport(done)


def migrate_version(
    config: Config | str | Path, environment: str, commit: str, keep_backups: int = 5, *, dry_run: bool = True
) -> MigrationReport | None:
    """The pipeline's stage before a deploy: ship commit's migrations to each host of environment, then back up,
    upgrade, verify and restore on failure there (the old release keeps serving); None when commit has no Alembic."""
    cfg = steps.config_of(config)
    migrations.check_keep(keep_backups)
    files = migrations_in(open_repo(Path(cfg.app.repo)), commit)
    if not files:
        return None

    def one(host: Host) -> migrations.Migration:
        sent = _send(host, commit, files, dry_run=dry_run)
        target = rung1.prod_target(cfg, host)
        folder = _schema_folder(host, commit)
        site = migrations.site_of(host, python=target.python, code=folder if host.exists(folder) else "")
        done = migrations.migrate(host, site, keep_backups=keep_backups, health_port=target.port,
                                  health_path=target.health_path, dry_run=dry_run)  # fmt: skip
        return replace(done, changes=(*sent, *done.changes))

    return MigrationReport(steps.on_hosts(cfg, environment, one, MIGRATE_DEADLINE))


def backups(config: Config | str | Path) -> pd.DataFrame:
    """The backups kept on each prod host, oldest first: id, revision, rows per table."""
    cfg = steps.config_of(config)

    def one(host: Host) -> list[dict]:
        site = migrations.site_of(host, python=rung1.prod_target(cfg, host).python)
        return [
            {"host": host.name, "backup": b.id, "revision": b.revision, "rows": sum(t.rows for t in b.tables.values())}
            for b in migrations.get_backups(host, site)
        ]

    found = steps.on_hosts(cfg, PROD, one, rung1.CHECK_DEADLINE)
    return steps.table([r for rows in found.values() for r in rows], ["host", "backup", "revision", "rows"])


def figures(report: MigrationReport) -> dict[str, object]:
    """The run's key figures for ladder.record."""
    checks = [c for m in report.runs.values() for c in m.checks]
    return {
        "tables checked": len(checks),
        "rows before": sum(c.rows_before for c in checks),
        "rows after": sum(c.rows_after for c in checks),
        "checksums matched": sum(c.checksum_ok for c in checks),
    }
