"""`ladder flags list|set`: feature flags on an environment's hosts, flipped without a deploy."""

from __future__ import annotations

import argparse

from ..app.flags import shown
from ..core.config import load_config
from ..rungs import feature_flags
from .console import CONFIG_HELP, table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder flags ...` to the CLI's subcommands."""
    actions = sub.add_parser("flags", help="feature flags on the hosts: list, set").add_subparsers(
        dest="action", required=True
    )
    p = actions.add_parser("list", help="every flag's value on every host: flag, env, host, value")
    p.add_argument("--env", default=None, help="one environment (default: all)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("set", help="turn a flag on or off on an environment's hosts (a plan unless --apply)")
    p.add_argument("name", help="the flag, as `ladder flags list` shows it")
    p.add_argument("value", help="on or off")
    p.add_argument("--env", required=True, help="the environment whose hosts change (dev, staging, prod)")
    p.add_argument("--apply", action="store_true", help="make the change and journal it (default: only show the plan)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_set)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the flags table."""
    config = load_config(args.config)
    found = feature_flags.values(config, args.env)
    if not found:
        print("no flags on these hosts yet (rung 2 installs them)")
        return 0
    table([("flag", "env", "host", "value")] + [(v.flag, v.env, v.host, shown(v.value)) for v in found])
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    """Plan or make one flag's change on every host of an environment; exit 1 when a host failed."""
    config = load_config(args.config)
    done = feature_flags.flip(config, args.name, args.value, env=args.env, dry_run=not args.apply)
    table(
        [("host", "flag", "old", "new", "outcome")]
        + [(f.host, f.flag, shown(f.old), shown(f.new), f.change.outcome) for f in done]
    )
    changed = sum(f.change.changed for f in done)
    if args.apply:
        print(f"{changed} host(s) changed; journaled in {config.runs_dir}")
    else:
        print(f"dry run: {changed} host(s) would change; run again with --apply to make the change")
    return 1 if any(f.change.failed for f in done) else 0
