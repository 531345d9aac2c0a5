"""`ladder smoke` and `ladder approve`: the delivery pipeline's HTTP smoke suite and its ship gate."""

from __future__ import annotations

import argparse
import sys

from ..core.config import ENVIRONMENTS
from ..rungs import pipeline
from .flags import CONFIG_HELP


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder smoke` and `ladder approve` to the CLI's subcommands."""
    p = sub.add_parser("smoke", help="smoke-test an environment over HTTP: every route answers, /health the version")
    p.add_argument("--env", required=True, choices=ENVIRONMENTS, help="the environment to test")
    p.add_argument("--version", required=True, help="the version it should serve (ladder artifact list)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_smoke)
    p = sub.add_parser("approve", help="release the pipeline's gate: ship a version to an environment")
    p.add_argument("--env", required=True, choices=ENVIRONMENTS, help="the environment to ship to")
    p.add_argument("--version", required=True, help="the version to ship")
    p.add_argument("--approver", default=None, help="who decides, for the journal (default: this user)")
    p.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                   help="instead of approving, wait this long for someone's approval and print the approver")  # fmt: skip
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_approve)


def cmd_smoke(args: argparse.Namespace) -> int:
    """Run the suite; exit 1 naming each failing route."""
    report = pipeline.smoke(args.config, args.env, args.version)
    for probe in report.probes:
        print(f"{'ok  ' if probe.ok else 'FAIL'} {probe.method} {probe.path} {probe.status or '-'} {probe.error}")
    print(report.summary(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def cmd_approve(args: argparse.Namespace) -> int:
    """Journal an approval, or (--wait) block until one comes and print who gave it."""
    if args.wait is not None:
        print(pipeline.wait_for_approval(args.config, args.env, args.version, args.wait))
        return 0
    row = pipeline.approve(args.config, args.env, args.version, args.approver)
    print(f"approved {row['version']} for {row['environment']} by {row['approver']} (journaled)")
    return 0
