"""`ladder ci status`: the CI server's recent builds, journaled as they are read."""

from __future__ import annotations

import argparse

from ..core.config import load_config
from ..core.errors import LadderError
from ..rungs import ci_builds
from .console import CONFIG_HELP


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder ci ...` to the CLI's subcommands."""
    actions = sub.add_parser("ci", help="the CI server (Buildbot): recent builds").add_subparsers(
        dest="action", required=True
    )
    p = actions.add_parser("status", help="recent builds: builder, number, branch, commit, result, push -> result")
    p.add_argument("--limit", type=int, default=20, help="how many of the latest builds (default 20)")
    p.add_argument("--config", default=None, help=CONFIG_HELP)
    p.set_defaults(func=cmd_status)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def cmd_status(args: argparse.Namespace) -> int:
    """Print the latest builds, newest last, after journaling the finished ones."""
    if args.limit < 1:
        raise LadderError(f"--limit must be at least 1, got {args.limit}")
    config = load_config(args.config)
    builds, added = ci_builds.sync(config, limit=args.limit)
    if not builds:
        print(f"no builds yet on {config.ci.url if config.ci else 'the CI server'}: push a commit")
        return 0
    rows = [("build", "branch", "commit", "result", "pushed (UTC)", "push -> result")]
    for b in builds:
        pushed = b.pushed.strftime("%Y-%m-%d %H:%M:%S") if b.pushed else "-"
        rows.append(
            (f"{b.builder} #{b.number}", b.branch, b.revision[:10], b.result, pushed, _seconds(b.push_to_result))
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    print(f"{added} new build(s) journaled in {config.runs_dir}")
    return 0
