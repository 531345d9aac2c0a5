"""Switch a host to a release: `current` renamed atomically, the app server reloaded, health must report the version.

The app server imports the app through the path string `current/site` first on sys.path (uWSGI `pythonpath`,
gunicorn `--pythonpath`), with its working folder in `shared/`: each new worker resolves the string as it
imports, so a chain reload (uWSGI lazy-apps) or HUP (gunicorn) serves whatever `current` points at then.
A server still configured by rung 1 (working in the `app/` checkout) is moved over once: its config is
rewritten and it is restarted through its manager (uWSGI) or stopped and started again (bare gunicorn).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..core import ops
from ..core.errors import HostError
from ..core.hosts import Host
from . import health, importcheck, reload, service
from .layout import Layout
from .release import SITE, Pause, get_releases, no_pause
from .server import AppServer, get_server

q = shlex.quote
VERSION_DEADLINE = 60.0


@dataclass(frozen=True)
class Target:
    """How a prod host serves the app: its port, WSGI callable, the server's Python and the health path."""

    port: int
    wsgi: str = "app:application"
    python: str = "python3"  # the app server's interpreter (a venv with uWSGI or gunicorn), also runs the probe
    health_path: str = "/health"
    version_deadline: float = VERSION_DEADLINE  # how long health may take to report the new version


@dataclass(frozen=True)
class Switched:
    """What a switch did on one host, and how long symlink + reload + health took (0 when nothing was done)."""

    change: ops.Change
    previous: str | None
    seconds: float = 0.0
    method: str = ""

    def to_dict(self) -> dict:
        """A plain dict for tables and the record."""
        return {**self.change.to_dict(), "previous": self.previous, "seconds": round(self.seconds, 3)}


# --- facts -----------------------------------------------------------------------
def parse_cwds(output: str) -> tuple[str, str]:
    """The master's working folder and shared/'s real path, from `cwd X` / `shared Y` lines."""
    found = {k: v for k, _, v in (line.partition(" ") for line in output.splitlines())}
    return found.get("cwd", ""), found.get("shared", "")


def serves_from_current(host: Host, lay: Layout, server: AppServer) -> bool:
    """True when the server's master works in shared/, as release_ini and serve_gunicorn start it."""
    if server.pid is None:
        return False
    cmd = f'echo "cwd $(readlink /proc/{int(server.pid)}/cwd)"; echo "shared $(readlink -f {q(lay.shared)})"'
    cwd, real = parse_cwds(host.run(cmd, timeout=30, warn=True).stdout)
    return bool(real) and cwd == real


def release_ini(text: str, lay: Layout) -> str:
    """A uWSGI ini made to serve `current`: chdir to shared/, `current/site` first on sys.path; lazy-apps kept."""
    keep = [
        line
        for line in text.splitlines()
        if line.split("=", 1)[0].strip().replace("_", "-") not in ("chdir", "pythonpath", "lazy-apps")
    ]
    at = next((i + 1 for i, line in enumerate(keep) if line.strip() == "[uwsgi]"), len(keep))
    added = [f"chdir = {lay.shared}", f"pythonpath = {lay.current}/{SITE}", "lazy-apps = true"]
    return "\n".join(keep[:at] + added + keep[at:]) + "\n"


# --- operations ------------------------------------------------------------------
def _move_server(host: Host, lay: Layout, server: AppServer, target: Target, pause: Pause) -> str:
    """Rewrite a rung-1 server's config to serve current, and start it again that way; the method used."""
    if server.kind == "uwsgi" and server.config_file:
        host.write_text(server.config_file, release_ini(host.read_text(server.config_file), lay))
        pause(f"move:{host.name}")
        reload.restart(host, server, path=target.health_path, python=target.python, dry_run=False)
        return "restart"
    if server.kind == "gunicorn" and server.manager == "none":
        start = service.start_command(
            chdir=lay.shared,
            python=target.python,
            port=target.port,
            wsgi=target.wsgi,
            env_file=lay.env_file,
            pid_file=lay.pid_file,
            logs=lay.logs,
            pythonpath=f"{lay.current}/{SITE}",
        )
        stop = f'p=$(cat {q(lay.pid_file)}) && kill -TERM "$p" && while kill -0 "$p" 2>/dev/null; do sleep 0.05; done'
        # In a session of its own: a deploy killed (or a connection lost) between stop and start leaves no host down.
        both = f"({stop}); {start}"
        pause(f"move:{host.name}")
        host.run(f"setsid bash -c {q(both)} </dev/null >>{q(lay.logs + '/ladder-move.log')} 2>&1 & wait $!", timeout=60)
        return "stop+start"
    raise HostError(
        f"{server.summary()}: Ladder moves to releases only uWSGI with an ini or gunicorn it started; "
        f"point the server at {lay.current}/{SITE} (pythonpath) with its working folder in {lay.shared}",
        host=host.name,
    )


def _serve(host: Host, lay: Layout, target: Target, version: str, pause: Pause = no_pause) -> str:
    """Make the server serve `current` (reload, or move it over once), then wait for health to report version."""
    server = get_server(host, target.port)
    if not server.known:
        raise HostError(server.summary(), host=host.name)
    if serves_from_current(host, lay, server):
        change = reload.reload(host, server, path=target.health_path, python=target.python, dry_run=False)
        method = change.reason.removeprefix("reload by ")
    else:
        method = _move_server(host, lay, server, target, pause)
    result = health.check_on(
        host, target.port, target.health_path, python=target.python, timeout=target.version_deadline, version=version
    )
    if not result.ok:
        raise HostError(
            f"after {method}, {result.url} does not report version {version}: {result.error or result.status}"
            f" (it reports {result.version})",
            host=host.name,
        )
    return method


def _at_once(host: Host, lay: Layout, server: AppServer, target: Target, version: str) -> Callable[[], str] | None:
    """The switch as one command on the host: swap current, reload, wait for new workers, probe health.

    Only for a server already serving current whose reload keeps its master (HUP, uWSGI's chain reload); checked
    (preflight) before anything changes. One round trip instead of a dozen keeps the switch near the server's own time.
    """
    if not serves_from_current(host, lay, server):
        return None
    r = reload.choose(host.name, server)
    replace = reload.replace_workers_command(r, server, target.version_deadline)
    if replace is None:
        return None
    reload.preflight(host, r, server)
    probe, url = health.probe_command(
        target.port, target.health_path, python=target.python, timeout=target.version_deadline, version=version
    )
    cmd = f"{ops.symlink_command(lay.current, f'releases/{version}')} && {{ {replace}; }} && {probe}"

    def go() -> str:
        done = host.run(cmd, timeout=2 * target.version_deadline + 30, warn=True)
        result = health.parse_probe(done.stdout, url, host.name)
        if done.failed or not result.ok:
            why = (result.error or result.status) if done.stdout.strip() else done.stderr.strip()[-300:]
            raise HostError(
                f"after {r.method}, {url} does not report version {version}: {why} (it reports {result.version})",
                host=host.name,
            )
        return r.method

    return go


def served_version(host: Host, target: Target) -> str | None:
    """The version the app reports over HTTP on the host, None when it does not answer."""
    result = health.check_on(host, target.port, target.health_path, python=target.python, timeout=5)
    return result.version if result.ok else None


def no_op() -> None:
    """What a planned-only action does."""


def switch(
    host: Host, lay: Layout, version: str, target: Target, *, dry_run: bool = True, pause: Pause = no_pause
) -> Switched:
    """Check the release loads, point `current` at it, reload, verify the version over HTTP; switch back if that fails."""
    found = get_releases(host, lay)
    if not found.is_complete(version) and dry_run:  # planned before the release is sent and installed
        cmd = f"after install: import {target.wsgi}; current -> releases/{version}; reload; health"
        return Switched(ops.settle(host, "switch", lay.current, [(cmd, no_op)], "not installed yet"), found.current)
    if not found.is_complete(version):
        raise HostError(
            f"release {version} is not complete on this host (complete: {', '.join(found.complete) or 'none'}); "
            "send and install it first",
            host=host.name,
        )
    link = lay.current
    previous = found.current
    server = get_server(host, target.port)
    if previous == version and serves_from_current(host, lay, server) and served_version(host, target) == version:
        return Switched(ops.settle(host, "switch", link, [], dry_run=dry_run), previous)
    timing: dict[str, float | str] = {}
    at_once = _at_once(host, lay, server, target, version) if server.known and not dry_run else None

    def go() -> None:
        site = f"{lay.release(version)}/{SITE}"
        try:
            importcheck.check(host, target.python, site, target.wsgi, server.pid)
        except HostError as exc:
            still = f"{previous} still serves" if previous else "nothing was serving"
            raise HostError(f"release {version} was not switched to, {still}: {exc.detail}", host=host.name) from exc
        started = time.monotonic()
        if at_once is None:
            ops.symlink(host, link, f"releases/{version}", dry_run=False)
        pause(f"switch:{host.name}")
        try:
            timing["method"] = _serve(host, lay, target, version, pause) if at_once is None else at_once()
        except Exception as exc:
            if previous is None or previous == version:
                raise
            ops.symlink(host, link, f"releases/{previous}", dry_run=False)
            _serve(host, lay, target, previous)
            raise HostError(f"{exc}; switched back to {previous}, which serves again", host=host.name) from exc
        timing["seconds"] = time.monotonic() - started

    cmd = (
        f"import {target.wsgi} from the release; "
        f"ln -sfn releases/{version} {link}.ladder-new && mv -T {link}.ladder-new {link}; reload; health"
    )
    reason = f"{previous or 'no release'} -> {version}"
    change = ops.settle(host, "switch", link, [(cmd, go)], reason, dry_run=dry_run)
    return Switched(change, previous, float(timing.get("seconds", 0.0)), str(timing.get("method", "")))
