"""`ladder db backups|restore|migrate`: the backups a migration keeps, putting one back, and the pipeline's migration."""

from __future__ import annotations

import argparse

from ..app import migrations
from ..core import ops
from ..core.config import ENVIRONMENTS, PROD, load_config
from ..core.hosts import Host
from ..rungs import pipeline, rung1, rung5c, steps
from .console import CONFIG_HELP


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder db ...` to the CLI's subcommands."""
    actions = sub.add_parser(
        "db", help="database backups on prod: list, restore; the migration before a deploy"
    ).add_subparsers(dest="action", required=True)
    p = actions.add_parser("backups", help="the backups kept on each host, oldest first")
    p.add_argument("--env", default=PROD, help="the environment whose hosts hold the database (default: prod)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_backups)
    p = actions.add_parser("restore", help="put a backup back over the database (a plan unless --apply)")
    p.add_argument("--backup", required=True, help="the backup's id, as `ladder db backups` shows it")
    p.add_argument("--env", default=PROD, help="the environment whose hosts hold the database (default: prod)")
    p.add_argument("--apply", action="store_true", help="restore it (default: only show the plan)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_restore)
    p = actions.add_parser(
        "migrate", help="a version's migrations on an environment: back up, upgrade, verify, restore"
    )
    p.add_argument("--env", required=True, choices=ENVIRONMENTS, help="the environment about to get the version")
    p.add_argument("--version", required=True, help="the version whose migrations run (ladder artifact list)")
    p.add_argument("--keep-backups", type=int, default=5, help="backups kept per host (default: %(default)s)")
    p.add_argument("--apply", action="store_true", help="migrate (default: only show the plan)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_migrate)


def cmd_backups(args: argparse.Namespace) -> int:
    """Print each host's backups: host, id, revision, rows."""
    cfg = load_config(args.config)

    def one(host: Host) -> list[migrations.Backup]:
        return migrations.get_backups(host, migrations.site_of(host))

    found = steps.on_hosts(cfg, args.env, one, rung1.CHECK_DEADLINE)
    for name, kept in sorted(found.items()):
        for b in kept:
            print(f"{name}  {b.id}  revision {b.revision}  {sum(t.rows for t in b.tables.values())} rows")
        if not kept:
            print(f"{name}  no backup yet (a migration makes one before it upgrades)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Plan, or with --apply make, the restore on every host; an unknown id exits 2 naming the kept ones."""
    cfg = load_config(args.config)
    hosts = steps.on_hosts(cfg, args.env, lambda h: migrations.site_of(h), rung1.CHECK_DEADLINE)

    def one(host: Host) -> ops.Change:
        return migrations.restore(host, hosts[host.name], args.backup, dry_run=not args.apply)

    for name, change in sorted(steps.on_hosts(cfg, args.env, one, migrations.BACKUP_TIMEOUT + 60).items()):
        print(f"{name}: {change.outcome}: {'; '.join(change.commands)}")
    if not args.apply:
        print("dry run: run again with --apply to restore")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Migrate every host of the environment to the version's schema; a failure restores the backup and exits 2."""
    migrations.check_keep(args.keep_backups)
    cfg = load_config(args.config)
    sha = pipeline.version_sha(cfg, args.version)
    report = rung5c.migrate_version(cfg, args.env, sha, args.keep_backups, dry_run=not args.apply)
    if report is None:
        print(f"{args.version} ({sha[:12]}) has no alembic.ini: nothing to migrate (rung 5c adds migrations)")
        return 0
    print(report.summary())
    if not args.apply:
        print("dry run: run again with --apply to migrate")
    return 0
