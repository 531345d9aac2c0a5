"""`ladder gate coverage|load`: the pipeline's gates before prod; exit 1 with the reason when a gate fails."""

from __future__ import annotations

import argparse
import sys

from ..app import load_gate
from ..app.coverage_gate import REPORT
from ..app.verdict import Verdict
from ..core.config import ENVIRONMENTS
from ..rungs import gates
from .flags import CONFIG_HELP


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder gate coverage` and `ladder gate load` to the CLI's subcommands."""
    actions = sub.add_parser("gate", help="the pipeline's gates: coverage ratchet, load test").add_subparsers(
        dest="action", required=True
    )
    p = actions.add_parser("coverage", help="fail when the build's coverage is below the last release's")
    p.add_argument("--report", default=REPORT, help=f"the build's `coverage json` report (default: {REPORT})")
    p.add_argument("--version", required=True, help="the build's version, kept with its figure")
    p.add_argument("--sha", required=True, help="the build's commit, kept with its figure")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_coverage)
    p = actions.add_parser("load", help="locust against an environment (loopback); fail on p99 or error rate")
    p.add_argument("--env", default="staging", choices=ENVIRONMENTS, help="the environment to load (default: staging)")
    p.add_argument("--version", required=True, help="the version it serves (its routes are loaded)")
    p.add_argument("--users", type=int, default=load_gate.DEFAULT_USERS, help="concurrent users (default: %(default)s)")
    p.add_argument("--duration", type=int, default=load_gate.DEFAULT_DURATION,
                   help="seconds of load (default: %(default)s)")  # fmt: skip
    p.add_argument("--p99-factor", type=float, default=load_gate.P99_FACTOR,
                   help="p99 may reach the release's times this, plus the slack (default: %(default)s)")  # fmt: skip
    p.add_argument("--p99-slack-ms", type=float, default=load_gate.P99_SLACK_MS, help="(default: %(default)s)")
    p.add_argument("--error-budget", type=float, default=load_gate.ERROR_BUDGET,
                   help="the error rate allowed when the release's was lower (default: %(default)s)")  # fmt: skip
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_load)


def _report(verdict: Verdict) -> int:
    print(verdict.line(), file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


def cmd_coverage(args: argparse.Namespace) -> int:
    """Judge the build's coverage, journal the figure; exit 1 when it dropped."""
    return _report(gates.coverage(args.config, args.report, args.version, args.sha))


def cmd_load(args: argparse.Namespace) -> int:
    """Run locust, judge its figures, journal them; exit 1 when p99 or the error rate broke its threshold."""
    limits = load_gate.Limits(args.users, args.duration, args.p99_factor, args.p99_slack_ms, args.error_budget)
    return _report(gates.load_test(args.config, args.env, args.version, limits))
