"""`ladder schedule`: a runbook run every so often by cron or a systemd user timer; --list, --remove, --print."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import ScheduleError
from ..engine import scheduler
from ..engine.schedule import name_of, plan


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder schedule` to the CLI's subcommands."""
    p = sub.add_parser(
        "schedule", help="run a runbook every so often (a systemd user timer, else cron); --list, --remove"
    )
    p.add_argument("runbook", nargs="?", help="runbook name, rung or path")
    p.add_argument("--every", help="how often: 15m, 1h, 6h, 1d, 7d (cron repeats only what divides an hour or a day)")
    p.add_argument(
        "-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="set a parameter"
    )
    p.add_argument("--config", default=None, help="ladder.yml the runs use (default: the one `ladder run` would use)")
    p.add_argument("--apply", action="store_true", help="the runs make their changes, as `ladder run --apply`")
    p.add_argument("--backend", choices=("auto", "cron", "systemd"), default="auto", help="default: systemd, else cron")
    p.add_argument("--root", type=Path, default=None, help="folder of runbooks (default ./runbooks)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--print", dest="show", action="store_true", help="show what would be installed; change nothing")
    mode.add_argument("--list", action="store_true", help="list Ladder's schedules")
    mode.add_argument("--remove", metavar="RUNBOOK", help="remove a runbook's schedule")
    p.set_defaults(func=cmd_schedule)


def cmd_schedule(args: argparse.Namespace) -> int:
    """Install, show, list or remove a schedule."""
    if args.list:
        return _list()
    if args.remove:
        name = name_of(args.remove, args.root)
        print(f"removed the schedule of {name} from {' and '.join(scheduler.remove(name))}")
        return 0
    missing = [flag for flag, value in (("RUNBOOK", args.runbook), ("--every", args.every)) if not value]
    if missing:
        raise ScheduleError(f"give {' and '.join(missing)}: ladder schedule RUNBOOK --every 1h (or --list, --remove)")
    schedule = plan(args.runbook, args.every, params=args.param, config=args.config, apply=args.apply, root=args.root)
    on = scheduler.backend(args.backend, usable=not args.show)
    if args.show:
        print(scheduler.render(schedule, on), end="")
        return 0
    scheduler.install(schedule, on)
    upcoming = next((e.next for e in scheduler.listing() if e.runbook == schedule.runbook), None)
    print(f"scheduled {schedule.runbook} every {schedule.every.text} ({on}); next run: {upcoming or 'unknown'}")
    print(f"  log:    {schedule.log}")
    print(f"  remove: ladder schedule --remove {schedule.runbook}")
    return 0


def _list() -> int:
    rows = [("runbook", "every", "backend", "next", "last", "log")]
    for e in scheduler.listing():
        last = f"{e.last['status']} {e.last['started'][:19]}" if e.last else "-"
        rows.append((e.runbook, e.every, e.backend, e.next or "-", last, str(e.log or "-")))
    if len(rows) == 1:
        print("no schedules installed")
        return 0
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0
