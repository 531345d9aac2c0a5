"""`ladder ...`: the library's work from a shell or a scheduler."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import LadderError


# --- sandbox -----------------------------------------------------------------
def cmd_sandbox_up(args: argparse.Namespace) -> int:
    """Build the sandbox (or reuse an identical running one)."""
    from . import sandbox

    box = sandbox.up(args.dir, ssh=args.ssh, hosts=args.hosts)
    kind = "SSH hosts on 127.0.0.1" if box.ssh else "folder hosts"
    print(f"sandbox up at {box.dir}: dev + {box.hosts} prod ({kind})")
    print(f"config: {box.config_path}")
    return 0


def cmd_sandbox_down(args: argparse.Namespace) -> int:
    """Stop the sandbox's processes and remove it."""
    from . import sandbox

    stopped = sandbox.down(args.dir)
    print(f"sandbox down: stopped {len(stopped)} process(es)")
    return 0


# --- hosts -------------------------------------------------------------------
def cmd_hosts_trust(args: argparse.Namespace) -> int:
    """Show a host's key and record it in known_hosts."""
    from .config import load_config
    from .hosts import fingerprint, trust

    config = load_config(args.config)
    host = config.host_config(args.name)
    if host.is_local:
        print(f"{host.name} is a local folder host; there is no key to trust")
        return 0
    key, replaced = trust(host.address, host.port, config.ssh.known_hosts, replace=args.replace,
                          timeout=config.ssh.connect_timeout)
    if replaced:
        print(f"replaced {replaced}")
    print(f"trusted {host.name} ({host.address}:{host.port}) {key.get_name()} {fingerprint(key)}")
    print(f"recorded in {config.ssh.known_hosts}")
    return 0


def cmd_hosts_check(args: argparse.Namespace) -> int:
    """Connect to every host of the config and run a trivial command."""
    from .config import load_config
    from .fleet import run_all

    config = load_config(args.config)
    hosts = [h for env in config.environments for h in config.hosts(env)]
    results = run_all(hosts, lambda h: h.run("uname -n", timeout=config.ssh.connect_timeout), raise_on_error=False)
    failed = 0
    for name, r in results.items():
        if isinstance(r, BaseException):
            failed += 1
            print(f"FAIL {name}: {r}")
        else:
            print(f"ok   {name}: {r.stdout.strip()}")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="ladder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sb = sub.add_parser("sandbox", help="build or remove the sandbox team").add_subparsers(dest="action", required=True)
    p = sb.add_parser("up", help="build the app, a dev host and prod hosts on this machine")
    p.add_argument("--ssh", action="store_true", help="make each host a real sshd on 127.0.0.1")
    p.add_argument("--hosts", type=int, default=1, help="number of prod hosts (default 1)")
    p.add_argument("--dir", type=Path, default=None, help="where to build it (default $LADDER_HOME/sandbox)")
    p.set_defaults(func=cmd_sandbox_up)
    p = sb.add_parser("down", help="stop every sandbox process and remove the sandbox")
    p.add_argument("--dir", type=Path, default=None)
    p.set_defaults(func=cmd_sandbox_down)

    hs = sub.add_parser("hosts", help="host keys and reachability").add_subparsers(dest="action", required=True)
    p = hs.add_parser("trust", help="show a host's key and record it in known_hosts")
    p.add_argument("name", help="host name from ladder.yml")
    p.add_argument("--replace", action="store_true", help="replace a different key already recorded")
    p.add_argument("--config", default=None, help="ladder.yml, or 'sandbox'")
    p.set_defaults(func=cmd_hosts_trust)
    p = hs.add_parser("check", help="connect to every host and run a trivial command")
    p.add_argument("--config", default=None, help="ladder.yml, or 'sandbox'")
    p.set_defaults(func=cmd_hosts_check)

    # --- runbook engine: list, run, history (added below) ---
    # --- assessment: assess (added below) ---
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ladder` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LadderError as exc:
        print(f"ladder: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
