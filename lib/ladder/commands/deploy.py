"""`ladder deploy` and `ladder rollback`: a rolling deploy or rollback of an environment, a plan unless --apply."""

from __future__ import annotations

import argparse
import sys

from ..app.rollout import Rollout
from ..core.config import ENVIRONMENTS
from ..core.errors import RolloutFailed
from ..rungs import delivery
from .console import CONFIG_HELP, table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder deploy` and `ladder rollback` to the CLI's subcommands."""
    p = sub.add_parser("deploy", help="roll a version from the store out to an environment, host by host")
    p.add_argument("--env", required=True, choices=ENVIRONMENTS, help="the environment to deploy to")
    p.add_argument("--version", required=True, help="a version in the artifact store (ladder artifact list)")
    _common(p, "deploy it (default: only show the plan per host)")
    p.set_defaults(func=cmd_deploy)
    p = sub.add_parser("rollback", help="put every host of an environment back on its previous release")
    p.add_argument("--env", required=True, choices=ENVIRONMENTS, help="the environment to roll back")
    p.add_argument("--to", default=None, help="a release the hosts keep (default: the one before the current)")
    _common(p, "roll back (default: only show the plan per host)")
    p.set_defaults(func=cmd_rollback)


def _common(p: argparse.ArgumentParser, apply_help: str) -> None:
    p.add_argument("--apply", action="store_true", help=apply_help)
    p.add_argument("--approver", default=None, help="who decided to ship, for the journal (default: this user)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)


def cmd_deploy(args: argparse.Namespace) -> int:
    """Plan or run a rolling deploy; exit 1 when a host fails (2 on bad input, before any host changes)."""
    return _shown(lambda: delivery.deploy(args.config, args.env, args.version, dry_run=not args.apply,
                                          approver=args.approver), args.apply)  # fmt: skip


def cmd_rollback(args: argparse.Namespace) -> int:
    """Plan or run a rollback; exit 1 when a host fails (2 on bad input, before any host changes)."""
    return _shown(lambda: delivery.rollback(args.config, args.env, args.to, dry_run=not args.apply,
                                            approver=args.approver), args.apply)  # fmt: skip


def _shown(call, applied: bool) -> int:
    try:
        done: Rollout = call()
    except RolloutFailed as exc:
        _print(exc.result)
        print(f"ladder: error: {exc}", file=sys.stderr)
        return 1
    _print(done)
    if not applied:
        print("dry run: nothing was changed; run again with --apply")
    return 0


def _print(done: Rollout) -> None:
    print(f"{done.action} {done.version} to {done.environment}:")
    rows = [("host", "outcome", "from", "to", "out of rotation", "switch", "ready")]
    for h in done.hosts:
        ready = "" if h.ready is None else "yes" if h.ready else "NO"
        rows.append((h.host, h.outcome, str(h.previous), str(h.current), f"{h.out_of_rotation:.2f} s",
                     f"{h.switch_seconds:.2f} s", ready))  # fmt: skip
    table(rows)
    for h in done.hosts:
        for step in h.steps if done.dry_run else ():
            print(f"  {h.host}: {step}")
