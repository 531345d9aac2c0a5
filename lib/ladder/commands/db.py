"""`ladder db backups|restore`: the database backups a migration keeps on prod, and putting one back."""

from __future__ import annotations

import argparse

from ..app import migrations
from ..core import ops
from ..core.config import PROD, load_config
from ..core.hosts import Host
from ..rungs import rung1, steps
from .console import CONFIG_HELP


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder db ...` to the CLI's subcommands."""
    actions = sub.add_parser("db", help="database backups on prod: list, restore").add_subparsers(
        dest="action", required=True
    )
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
