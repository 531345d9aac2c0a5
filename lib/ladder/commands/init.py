"""`ladder init`: a real team's ladder.yml from flags (or questions in a terminal), its hosts' keys, and a check."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core import hostkeys, team
from ..core.config import Config
from ..core.errors import MissingOptions, OptionError
from ..core.fleet import answers
from ..core.hosts import connect

# flag, attribute, question asked in a terminal when the flag is missing
REQUIRED = (
    ("--repo", "repo", "the app's git repository (URL, or path of a clone)"),
    ("--wsgi", "wsgi", "its WSGI app (module:callable)"),
    ("--dev", "dev", "the dev server (user@host:port)"),
    ("--prod", "prod", "the prod servers (user@host:port, several separated by spaces)"),
    ("--base", "base", "the app's folder on those servers (absolute path)"),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `ladder init` to the CLI's subcommands."""
    p = sub.add_parser("init", help="write ladder.yml for your team, record its servers' keys, check they answer")
    p.add_argument("--repo", help="the app's git repository: a URL, or the path of a clone")
    p.add_argument("--wsgi", help="the WSGI app as module:callable (e.g. shop.wsgi:application)")
    p.add_argument("--health", default="/health", help="the app's health-check path (default /health)")
    p.add_argument("--dev", help="the dev server, user@host:port")
    p.add_argument("--prod", action="append", default=[], help="a prod server, user@host:port (repeat for several)")
    p.add_argument("--base", help="the app's folder on the servers, e.g. /srv/shop")
    p.add_argument("--name", default=None, help="the app's name (default: the repository's)")
    p.add_argument("--port", type=int, default=8000, help="the port the app listens on (default 8000)")
    p.add_argument("--known-hosts", type=Path, default=None, help="known_hosts file (default ~/.ssh/known_hosts)")
    p.add_argument("--identity", type=Path, default=None, help="SSH private key file (default: ssh-agent, ~/.ssh)")
    p.add_argument("--out", type=Path, default=Path("ladder.yml"), help="where to write (default ./ladder.yml)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--trust-new-keys", action="store_true", help="record servers' new host keys without asking")
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    """Write the config, then review each server's key and check that every trusted host answers."""
    out = args.out.absolute()
    if out.exists() and not args.force:  # before any question
        raise OptionError("--out", str(out), "exists; pass --force to overwrite it")
    interactive = sys.stdin.isatty()
    config = team.write(_team(args, interactive), out, force=args.force)
    print(f"wrote {out}")
    trusted = _review_keys(config, out, trust_new=args.trust_new_keys, interactive=interactive)
    ok = _check(config, trusted)
    if ok:
        print(f"next: ladder assess --config {out}")
    else:
        print(f"next, once every host answers (ladder hosts check --config {out}): ladder assess --config {out}")
    return 0 if ok else 1


def _team(args: argparse.Namespace, interactive: bool) -> team.Team:
    """Every answer, from its flag or (in a terminal) asked for, each parsed and checked."""
    parsers: dict[str, Callable[[str], Any]] = {
        "repo": team.parse_repo,
        "wsgi": team.parse_wsgi,
        "dev": lambda text: team.parse_host(text, "--dev"),
        "prod": lambda text: tuple(team.parse_host(t, "--prod") for t in text.replace(",", " ").split()),
        "base": team.parse_base,
    }
    health = team.parse_url_path(args.health, "--health")
    name = team.parse_name(args.name) if args.name else ""
    if not 1 <= args.port <= 65535:
        raise OptionError("--port", str(args.port), "give a port from 1 to 65535")
    if args.identity is not None and not args.identity.is_file():
        raise OptionError("--identity", str(args.identity), "no such file; give the private key that logs in")
    values = {
        attr: parsers[attr](getattr(args, attr)) for _, attr, _ in REQUIRED if attr != "prod" and getattr(args, attr)
    }
    if args.prod:  # each --prod is one server; a typed answer may list several
        values["prod"] = tuple(team.parse_host(text, "--prod") for text in args.prod)
    missing = [flag for flag, attr, _ in REQUIRED if attr not in values]
    if missing and not interactive:
        raise MissingOptions(missing)
    for flag, attr, question in REQUIRED:
        if attr not in values:
            values[attr] = _ask(question, flag, parsers[attr])
    return team.Team(
        health_path=health,
        name=name,
        port=args.port,
        known_hosts=args.known_hosts.absolute() if args.known_hosts else None,
        identity_file=args.identity.absolute() if args.identity else None,
        **values,
    )


def _ask(question: str, flag: str, parse: Callable[[str], Any]) -> Any:
    """Ask in the terminal until the answer parses."""
    while True:
        try:
            answer = input(f"{question}: ").strip()
        except EOFError:
            raise MissingOptions([flag]) from None
        if not answer:
            continue
        try:
            return parse(answer)
        except OptionError as exc:
            print(f"  {exc.fix}")


def _confirm(question: str) -> bool:
    """A y/N question in the terminal; anything but yes is no."""
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _review_keys(config: Config, out: Path, *, trust_new: bool, interactive: bool) -> set[str]:
    """Show each server's key; record a new one only when confirmed. The names of hosts whose key is recorded."""
    known = config.ssh.known_hosts
    hosts = [h for env in config.environments.values() for h in env.hosts]
    trusted = {h.name for h in hosts if h.is_local}
    for r in hostkeys.review(hosts, known, timeout=config.ssh.connect_timeout):
        where = f"{', '.join(r.hosts)} ({r.address}:{r.port})"
        if r.status == "unreachable":
            print(f"no key from {where}: {r.error}")
            continue
        key = f"{r.key.get_name() if r.key else ''} {r.fingerprint}"
        if r.status == "known":
            print(f"key of {where}: {key}, already in {known}")
            trusted.update(r.hosts)
        elif r.status == "changed":
            print(f"key of {where} CHANGED: {key} is not the one in {known}; not recorded")
            print(f"  if the change is expected: ladder hosts trust {r.hosts[0]} --replace --config {out}")
        else:
            print(f"new key of {where}: {key}")
            if trust_new or (interactive and _confirm(f"  record it in {known}? [y/N] ")):
                assert r.key is not None
                hostkeys.record_key(r.address, r.port, r.key, known)
                print(f"  recorded in {known}")
                trusted.update(r.hosts)
            else:
                why = "" if interactive else " (stdin is not a terminal: --trust-new-keys records it)"
                print(f"  not recorded{why}; once checked: ladder hosts trust {r.hosts[0]} --config {out}")
    return trusted


def _check(config: Config, trusted: set[str]) -> bool:
    """Run a trivial command on every host whose key is recorded, as `ladder hosts check` does; True if all answer."""
    hosts = [connect(h, config.ssh) for env in config.environments.values() for h in env.hosts]
    skipped = [h.name for h in hosts if h.name not in trusted]
    results = answers([h for h in hosts if h.name in trusted], timeout=config.ssh.connect_timeout)
    for h in hosts:
        h.close()
    for name, r in results.items():
        print(
            f"FAIL {name}: {getattr(r, 'detail', r)}"
            if isinstance(r, BaseException)
            else f"ok   {name}: {r.stdout.strip()}"
        )
    for name in skipped:
        print(f"skip {name}: its host key is not recorded")
    return not skipped and not any(isinstance(r, BaseException) for r in results.values())
