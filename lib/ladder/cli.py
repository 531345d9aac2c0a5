"""`ladder ...`: the library's work from a shell or a scheduler."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .commands import artifact as artifact_command
from .commands import assess as assess_command
from .commands import ci as ci_command
from .commands import config as config_command
from .commands import db as db_command
from .commands import deploy as deploy_command
from .commands import flags as flags_command
from .commands import gate as gate_command
from .commands import init as init_command
from .commands import pipeline as pipeline_command
from .commands import schedule as schedule_command
from .commands.console import shown as _shown
from .commands.console import skip_iri_grammar as _skip_iri_grammar
from .core.errors import LadderError, RunLocked
from .sandbox.servers import MANAGERS, SERVERS


# --- sandbox -----------------------------------------------------------------
def cmd_sandbox_up(args: argparse.Namespace) -> int:
    """Build the sandbox (or reuse an identical running one)."""
    from . import sandbox

    box = sandbox.up(
        args.dir,
        ssh=args.ssh,
        hosts=args.hosts,
        server=args.server,
        manager=args.manager,
        balancer=args.balancer,
        ci=args.ci,
        logs=args.logs,
        monitoring=args.monitoring,
    )
    kind = "SSH hosts on 127.0.0.1" if box.ssh else "folder hosts"
    serving = f"{box.serving.server}, manager {box.serving.manager}"
    extra = (" + staging + lb (HAProxy)" if box.balancer else "") + (" + ci (Buildbot)" if box.ci else "")
    extra += " + logs (rsyslog)" if box.logs else ""
    extra += " + mon (Prometheus)" if box.monitoring else ""
    print(f"sandbox up at {box.dir}: dev + {box.hosts} prod{extra} ({kind}; {serving})")
    print(f"config: {box.config_path}")
    return 0


def cmd_sandbox_down(args: argparse.Namespace) -> int:
    """Stop the sandbox's processes and remove it."""
    from . import sandbox

    stopped = sandbox.down(args.dir)
    print(f"sandbox down: stopped {len(stopped)} process(es)")
    return 0


def cmd_sandbox_release(args: argparse.Namespace) -> int:
    """Commit and tag the sandbox team's next release, built here or pushed through the pipeline; print its version."""
    from .sandbox.release import release

    done = release(args.dir, args.fault, push=args.push)
    print(done.version)
    if done.run is not None:
        print(done.summary(), file=sys.stderr)
    if not done.as_expected:
        what = "a good release was stopped" if done.fault is None else "a bad release went through every stage"
        print(f"ladder: {what}; see the build on the CI server's web page", file=sys.stderr)
        return 1
    return 0


# --- hosts -------------------------------------------------------------------
def cmd_hosts_trust(args: argparse.Namespace) -> int:
    """Show a host's key and record it in known_hosts."""
    from .core.config import load_config
    from .core.hostkeys import fingerprint, trust

    config = load_config(args.config)
    host = config.host_config(args.name)
    if host.is_local:
        print(f"{host.name} is a local folder host; there is no key to trust")
        return 0
    key, replaced = trust(
        host.address, host.port, config.ssh.known_hosts, replace=args.replace, timeout=config.ssh.connect_timeout
    )
    if replaced:
        print(f"replaced {replaced}")
    print(f"trusted {host.name} ({host.address}:{host.port}) {key.get_name()} {fingerprint(key)}")
    print(f"recorded in {config.ssh.known_hosts}")
    return 0


def cmd_hosts_check(args: argparse.Namespace) -> int:
    """Connect to every host of the config and run a trivial command."""
    from .core.config import load_config
    from .core.fleet import answers
    from .core.hosts import environment_hosts

    config = load_config(args.config)
    hosts = [h for env in config.environments for h in environment_hosts(config, env)]
    results = answers(hosts, timeout=config.ssh.connect_timeout)
    failed = 0
    for name, r in results.items():
        if isinstance(r, BaseException):
            failed += 1
            print(f"FAIL {name}: {r}")
        else:
            print(f"ok   {name}: {r.stdout.strip()}")
    return 1 if failed else 0


def cmd_hosts_facts(args: argparse.Namespace) -> int:
    """Print what serves the app on a host: the server, its version, config, master, manager and reloads."""
    from .app.server import get_server
    from .core.config import load_config
    from .core.hosts import connect

    config = load_config(args.config)
    entry = config.host_config(args.name)
    with connect(entry, config.ssh) as host:
        found = get_server(host, config.app_port(entry))
    print(f"{entry.name}:")
    for line in found.lines():
        print(f"  {line}")
    return 0


# --- runbook engine: list, run, history ----------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    """List runbooks: rung, name, title, and parameters with types and defaults."""
    _skip_iri_grammar()
    from .engine.runbooks import list_runbooks

    books = list_runbooks(args.root)
    if not books:
        print("no runbooks found")
    for rb in books:
        print(f"{rb.rung or '-':<4} {rb.name}  {rb.title}")
        for p in rb.parameters.values():
            kind = p.type_name + (" | None" if p.optional and p.type_name != "any" else "")
            line = f"       {p.name}: {kind} = {p.default}"
            print(f"{line:<56}  {p.help}" if p.help else line)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run a runbook headless; exit 1 with one readable block when it fails."""
    _skip_iri_grammar()
    from .engine.parameters import load_file
    from .engine.runner import run

    params = load_file(args.params_file) if args.params_file else {}
    text = {name: value for name, value in args.param}
    try:
        outcome = run(
            args.runbook,
            params,
            text_params=text,
            config=args.config,
            apply=args.apply,
            out_dir=args.out,
            root=args.root,
            scheduled=args.scheduled,
            wait=args.wait,
        )
    except RunLocked as skipped:  # the scheduler's next tick comes; a runbook's second apply changes nothing
        print(f"skipped: {skipped}")
        return 0
    s = outcome.summary
    mode = "dry run" if s["params"].get("dry_run", not args.apply) else "apply"
    hosts = len(s["hosts"])
    if outcome.ok:
        # Counted from the outcomes, not the mode: a notebook may apply on dev while it only plans for prod.
        outcomes = [c.get("outcome") for c in (s.get("result") or {}).get("changes", [])]
        made, planned = outcomes.count("changed"), outcomes.count("planned")
        parts = [f"{made} change(s) made"] if made else []
        parts += [f"{planned} {'' if made else 'change(s) '}planned"] if planned else []
        done = ", ".join(parts) or "no changes"
        print(f"ok: {outcome.runbook.name} ({mode}): {done} on {hosts} host(s) in {s['duration_s']:.1f} s")
    else:
        error = outcome.error.describe() if outcome.error else f"recorded status {s.get('recorded_status')!r}"
        print(f"ladder: runbook {outcome.runbook.name} ({mode}) {error}", file=sys.stderr)
    stream = sys.stdout if outcome.ok else sys.stderr
    print(f"  run:    {outcome.run_id}", file=stream)
    if outcome.report.exists():
        print(f"  report: {_shown(outcome.report)}", file=stream)
    print(f"  result: {_shown(outcome.result)}", file=stream)
    return 0 if outcome.ok else 1


def cmd_history(args: argparse.Namespace) -> int:
    """Show the run journal as a table, or as JSON."""
    import json

    from .engine.journal import history, journal_path, reap
    from .engine.runner import runs_dir_for

    runs = args.out if args.out is not None else runs_dir_for(args.config)
    reap(journal_path(runs))  # a run killed since the last look shows as abandoned, not running forever
    rows = history(journal_path(runs), limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"journal: {_shown(journal_path(runs))}")
    if not rows:
        print("no runs yet")
        return 0
    table = history_table(rows)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


HISTORY_COLUMNS = ("id", "kind", "runbook", "rung", "status", "started", "changes", "level", "score", "via", "hosts")


def history_table(rows: list[dict]) -> list[tuple[str, ...]]:
    """The journal as a table, one line per run: an assessment's own row folds into the run that made it."""
    from .engine.journal import runs

    lines: list[tuple[str, ...]] = [HISTORY_COLUMNS]
    for r, assessed in runs(rows):
        doc = (assessed or {}).get("summary") or {}
        score = (doc.get("overall") or {}).get("score")
        lines.append(
            (
                r["id"],
                "assessment" if doc else r["kind"],
                r["runbook"] or "",
                r["rung"] or "",
                r["status"],
                r["started"][:19],
                "" if r["changes"] is None else str(r["changes"]),
                str(doc.get("level") or ""),
                "" if score is None else f"{score:.1f}",
                r.get("trigger") or "",
                " ".join(f"{h}:{o}" for h, o in (r["hosts"] or {}).items()),
            )
        )
    return lines


# --- notebooks: editable copies -------------------------------------------------
def cmd_notebooks_copy(args: argparse.Namespace) -> int:
    """Copy every runbook and the assessment notebook into a folder, to edit and open in JupyterLab."""
    from .engine.notebooks import copy

    done = copy(args.dir, force=args.force)
    for c in done:
        print(f"copied {_shown(c.target)}")
    print(f"open them with: jupyter lab {_shown(args.dir)}")
    print(f"run from {_shown(args.dir)}, `ladder list`, `ladder run` and `ladder assess` use these copies")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="ladder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    init_command.add_parser(sub)  # commands/: groups kept out of this file
    schedule_command.add_parser(sub)
    config_command.add_parser(sub)
    flags_command.add_parser(sub)
    artifact_command.add_parser(sub)
    db_command.add_parser(sub)
    deploy_command.add_parser(sub)
    pipeline_command.add_parser(sub)
    gate_command.add_parser(sub)

    sb = sub.add_parser("sandbox", help="build or remove the sandbox team").add_subparsers(dest="action", required=True)
    p = sb.add_parser("up", help="build the app, a dev host and prod hosts on this machine")
    p.add_argument("--ssh", action="store_true", help="make each host a real sshd on 127.0.0.1")
    p.add_argument("--hosts", type=int, default=1, help="number of prod hosts (default 1)")
    p.add_argument("--dir", type=Path, default=None, help="where to build it (default $LADDER_HOME/sandbox)")
    # The story's team: uWSGI under supervisor. (sandbox.up's own default stays Ladder's gunicorn for tests.)
    p.add_argument("--server", choices=SERVERS, default="uwsgi", help="prod's app server (default uwsgi)")
    p.add_argument(
        "--manager", choices=MANAGERS, default="supervisor", help="prod's process manager (default supervisor)"
    )
    p.add_argument(
        "--no-balancer",
        dest="balancer",
        action="store_false",
        help="leave out the staging host and the HAProxy load balancer in front of prod",
    )
    p.add_argument(
        "--no-monitoring",
        dest="monitoring",
        action="store_false",
        help="leave out the mon host running Prometheus, which scrapes the app hosts and the load balancer",
    )
    p.add_argument("--no-ci", dest="ci", action="store_false", help="no ci host (Buildbot master, worker on dev)")
    p.add_argument("--no-logs", dest="logs", action="store_false", help="no logs host (rsyslog receiving the app logs)")
    p.set_defaults(func=cmd_sandbox_up)
    p = sb.add_parser("down", help="stop every sandbox process and remove the sandbox")
    p.add_argument("--dir", type=Path, default=None)
    p.set_defaults(func=cmd_sandbox_down)
    p = sb.add_parser(
        "release", help="commit and tag the sandbox team's next release, built or pushed; print its version"
    )
    p.add_argument("--fault", choices=("error", "slow"), default=None,
                   help="a bad release: the app's fault switch left on (500s or slow answers), for a canary to catch")  # fmt: skip
    p.add_argument("--push", action="store_true",
                   help="push to trunk and follow the trunk build through the pipeline (rungs 4, 5a), not build here")  # fmt: skip
    p.add_argument("--dir", type=Path, default=None)
    p.set_defaults(func=cmd_sandbox_release)

    hs = sub.add_parser("hosts", help="host keys and reachability").add_subparsers(dest="action", required=True)
    p = hs.add_parser("trust", help="show a host's key and record it in known_hosts")
    p.add_argument("name", help="host name from ladder.yml")
    p.add_argument("--replace", action="store_true", help="replace a different key already recorded")
    p.add_argument(
        "--config", default=None, help="ladder.yml, or 'sandbox' (default: $LADDER_CONFIG, ./ladder.yml, the sandbox)"
    )
    p.set_defaults(func=cmd_hosts_trust)
    p = hs.add_parser("check", help="connect to every host and run a trivial command")
    p.add_argument(
        "--config", default=None, help="ladder.yml, or 'sandbox' (default: $LADDER_CONFIG, ./ladder.yml, the sandbox)"
    )
    p.set_defaults(func=cmd_hosts_check)
    p = hs.add_parser("facts", help="what serves the app on a host: uWSGI or gunicorn, and its manager (read-only)")
    p.add_argument("name", help="host name from ladder.yml")
    p.add_argument(
        "--config", default=None, help="ladder.yml, or 'sandbox' (default: $LADDER_CONFIG, ./ladder.yml, the sandbox)"
    )
    p.set_defaults(func=cmd_hosts_facts)

    # --- runbook engine: list, run, history ---
    p = sub.add_parser("list", help="list runbooks: rung, title, parameters")
    p.add_argument("--root", type=Path, default=None, help="folder of runbooks (default ./runbooks)")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("run", help="run a runbook headless: executed notebook, report.html, result.json, journal row")
    p.add_argument("runbook", help="runbook name (1-separate-dev-and-prod), rung (1) or path")
    p.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter; the value is read as the parameter's declared type",
    )
    p.add_argument("-f", "--params-file", type=Path, default=None, help="YAML file of parameters (-p wins)")
    p.add_argument("--config", default=None, help="ladder.yml, or 'sandbox' (default: the runbook's default)")
    p.add_argument(
        "--apply", action="store_true", help="make the changes (dry_run defaults to False) and confirm changes to prod"
    )
    p.add_argument(
        "--out", type=Path, default=None, help="runs folder for artifacts and journal (default: the runs home)"
    )
    p.add_argument("--root", type=Path, default=None, help="folder of runbooks (default ./runbooks)")
    p.add_argument(
        "--scheduled",
        action="store_true",
        help="as a schedule runs it: skipped while this runbook's previous scheduled run goes on; journaled as such",
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help="an apply waits while another apply holds an environment (default: exit 2 naming who holds it)",
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("history", help="show the run journal")
    p.add_argument("--json", action="store_true", help="print rows as JSON")
    p.add_argument("--config", default=None, help="ladder.yml whose runs: holds the journal")
    p.add_argument("--out", type=Path, default=None, help="runs folder holding journal.sqlite")
    p.add_argument("--limit", type=int, default=None, help="only the last N rows")
    p.set_defaults(func=cmd_history)
    nb = sub.add_parser("notebooks", help="the runbooks and the assessment notebook")
    nb_actions = nb.add_subparsers(dest="action", required=True)
    p = nb_actions.add_parser("copy", help="copy every runbook and notebook (assessment, onboarding) into DIR, to edit")
    p.add_argument("dir", type=Path, metavar="DIR", help="folder to copy into (DIR/runbooks, DIR/notebooks)")
    p.add_argument("--force", action="store_true", help="overwrite files already there")
    p.set_defaults(func=cmd_notebooks_copy)
    assess_command.add_parser(sub)
    ci_command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ladder` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LadderError as exc:
        print(f"ladder: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`ladder history --json | head`): stop quietly, as a Unix tool does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
