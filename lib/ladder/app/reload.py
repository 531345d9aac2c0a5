"""Reload or restart a detected app server the gentlest way that fits, then prove it: health over HTTP, new workers.

Which method drops no requests (bench/reloads.py, README's "Reloads" table) decides the order below:
a uWSGI chain reload (lazy-apps + touch-chain-reload, or the master FIFO's `c`) and gunicorn's HUP replace
workers while the listening socket stays open; a manager's restart closes it for a moment.
"""

from __future__ import annotations

import shlex
import time

from ..core import ops
from ..core.errors import HostError, ReloadFailed
from ..core.hosts import Host
from . import health
from .server import AppServer, Reload, get_server, master_pid_command

q = shlex.quote
CONTROL_TIMEOUT = 30.0  # a manager or a signal answers within this, or the host is in trouble
VERIFY_DEADLINE = 90.0  # a chain reload of slow-starting workers takes a while
LOG_LINES = 20
# Gentlest first, as measured (bench/reloads.py): a chain reload and HUP dropped nothing; a manager's restart of
# uWSGI dropped fewer requests than its graceful reload (FIFO r, SIGHUP), which also re-execs the master's binary.
RELOAD_ORDER = (
    "uwsgi-touch-chain-reload",
    "hup",
    "systemctl-reload",
    "supervisorctl-restart",
    "systemctl-restart",
    "uwsgi-fifo",
    "uwsgi-touch-reload",
    "uwsgi-reload-pidfile",
)
KEEPS_MASTER = frozenset({"uwsgi-touch-chain-reload", "hup"})  # the master's pid stays, only its workers are new
# uWSGI ignores a touch while a chain reload is still running ("chain reload is already running"): the chain
# then ends having replaced only the workers it had not yet reached, so old ones may stay. A touch is safe to
# repeat (a HUP would replace workers twice): while old workers remain and none changed for a while, touch again.
RETOUCH = frozenset({"uwsgi-touch-chain-reload"})
RETOUCH_AFTER = 2  # seconds with old workers left and no worker changed before the touch is repeated
RESTART_ORDER = ("systemctl-restart", "supervisorctl-restart", "usr2-quit", "uwsgi-fifo", "uwsgi-reload-pidfile")


def choose(host: str, server: AppServer, *, restart: bool = False) -> Reload:
    """The reload (or restart) to use on this server; a HostError naming what was found when none fits."""
    if not server.known:
        raise HostError(
            f"no uWSGI or gunicorn found on port {server.port}, so nothing was reloaded; looked at: "
            + "; ".join(server.looked_at),
            host=host,
        )
    order = RESTART_ORDER if restart else RELOAD_ORDER
    for method in order:
        for r in server.reloads:
            if r.method == method:
                return r
    found = ", ".join(str(r) for r in server.reloads) or "no reload method"
    raise HostError(
        f"{server.summary()}: {found}, none of which can {'restart' if restart else 'reload'} it; "
        "set touch-chain-reload or master-fifo in its ini, or run it under supervisor or systemd",
        host=host,
    )


def fifo_command(fifo: str, letter: str) -> str:
    """Write one command letter to uWSGI's master FIFO (c: chain reload, r: graceful reload, R: brutal reload)."""
    return f"test -p {q(fifo)} && printf %s {q(letter)} > {q(fifo)}"


def command(r: Reload, server: AppServer, *, restart: bool = False) -> str:
    """The shell command that carries out a reload (or restart) method."""
    t = q(r.target)
    ctl = " ".join(q(a) for a in server.control)
    commands = {
        "uwsgi-touch-chain-reload": f"touch {t}",
        "uwsgi-touch-reload": f"touch {t}",
        "uwsgi-fifo": fifo_command(r.target, "R" if restart else "r"),
        "uwsgi-reload-pidfile": f'kill -HUP "$(tr -dc 0-9 < {t})"',
        "hup": f"kill -HUP {int(r.target) if r.target.isdigit() else t}",
        "systemctl-reload": f"systemctl reload {t}",
        "systemctl-restart": f"systemctl restart {t}",
        "supervisorctl-restart": f"{ctl} restart {t}",
    }
    if r.method == "usr2-quit":
        pid = int(r.target)
        # The new master is the old one's child with workers of its own; QUIT the old one once it is there.
        wait_new = (
            f"for i in $(seq 1 300); do for c in $(cat /proc/{pid}/task/*/children 2>/dev/null); do "
            '[ -n "$(cat /proc/$c/task/*/children 2>/dev/null)" ] && break 2; done; sleep 0.1; done'
        )
        return f"kill -USR2 {pid} && {wait_new} && kill -QUIT {pid}"
    return commands[r.method]


def script_command(r: Reload, server: AppServer) -> str:
    """The reload for a script kept on the host: HUP goes to the master found on the port when the script runs."""
    if r.method != "hup":
        return command(r, server)
    return f'master=$( {master_pid_command(server.port)} ) && kill -HUP "$master"'


def preflight_command(r: Reload, server: AppServer) -> str:
    """Shell that succeeds only when the method's target is there and its manager answers; it changes nothing."""
    t = q(r.target)
    if r.method.startswith("systemctl"):
        return f'[ "$(systemctl show -p LoadState --value {t} 2>&1)" = loaded ] || {{ echo "unit {r.target} is not loaded"; exit 1; }}'
    if r.method == "supervisorctl-restart":
        ctl = " ".join(q(a) for a in server.control)
        return f"{ctl} status {t} 2>&1 | grep -q ' RUNNING ' || {{ {ctl} status {t} 2>&1; exit 1; }}"
    if r.method == "uwsgi-fifo":
        return f"test -p {t} || {{ echo 'no FIFO at {r.target}'; exit 1; }}"
    if r.method in ("hup", "usr2-quit"):
        return f"kill -0 {int(r.target)} || {{ echo 'no process {int(r.target)}'; exit 1; }}"
    return f"test -d \"$(dirname {t})\" || {{ echo 'no folder for {r.target}'; exit 1; }}"


def preflight(host: Host, r: Reload, server: AppServer) -> None:
    """Raise HostError, changing nothing, when the method's target is missing or its manager does not answer."""
    check = host.run(preflight_command(r, server), timeout=CONTROL_TIMEOUT, warn=True)
    if check.failed:
        raise HostError(
            f"{r.method} {r.target} cannot be used on {server.summary()}, so nothing was changed: "
            f"{(check.stdout + check.stderr).strip()[-300:]}",
            host=host.name,
        )


def replace_workers_command(r: Reload, server: AppServer, deadline: float = VERIFY_DEADLINE) -> str | None:
    """Shell that reloads, then waits on the host until every worker of the master is a new one.

    None when the method replaces the master itself (a manager's restart, USR2): those are verified from here.
    Waiting on the host spares a round trip per poll, which under load is most of a switch's time.
    """
    if r.method not in KEEPS_MASTER or server.pid is None:
        return None
    kids = f"cat /proc/{int(server.pid)}/task/*/children 2>/dev/null"
    cmd = command(r, server)
    later = f"$(( $(date +%s) + {RETOUCH_AFTER} ))"
    retouch = (
        f'if [ "$now" != "$seen" ]; then seen="$now"; again={later}; '
        f'elif [ "$(date +%s)" -ge "$again" ]; then {cmd}; again={later}; fi; '
        if r.method in RETOUCH
        else ""
    )
    return (
        f'before=" $({kids}) "; {cmd} || exit 3; end=$(( $(date +%s) + {int(deadline)} )); '
        f'seen="$before"; again={later}; '
        f'while :; do now=$({kids}); old=; for w in $now; do case "$before" in *" $w "*) old=1;; esac; done; '
        '[ -n "$now" ] && [ -z "$old" ] && break; '
        f"{retouch}"
        f'if [ "$(date +%s)" -ge "$end" ]; then echo "workers not replaced within {int(deadline)}s: '
        'before$before now $now"; exit 4; fi; sleep 0.05; done'
    )


def parse_pids(output: str) -> frozenset[int]:
    """The pids in whitespace-separated text."""
    return frozenset(int(w) for w in output.split() if w.isdigit())


def get_workers(host: Host, pid: int | None) -> frozenset[int]:
    """The master's children: its workers."""
    if pid is None:
        return frozenset()
    out = host.run(f"cat /proc/{int(pid)}/task/*/children 2>/dev/null || true", timeout=CONTROL_TIMEOUT, warn=True)
    return parse_pids(out.stdout)


def last_log(host: Host, server: AppServer, lines: int = LOG_LINES) -> str:
    """The server's last log lines: its log file, else what supervisor kept of its output."""
    if server.log_file:
        cmd = f"tail -n {int(lines)} {q(server.log_file)} 2>&1"
    elif server.manager == "supervisor" and server.control and server.manager_name:
        cmd = f"{' '.join(q(a) for a in server.control)} tail {q(server.manager_name)} 2>&1 | tail -n {int(lines)}"
    elif server.manager == "systemd" and server.manager_name:
        cmd = f"journalctl -u {q(server.manager_name)} -n {int(lines)} --no-pager 2>&1"
    else:
        return ""
    return host.run(cmd, timeout=CONTROL_TIMEOUT, warn=True).stdout.strip()


def verify(
    host: Host, server: AppServer, r: Reload, before: frozenset[int], *, path: str, python: str, deadline: float
) -> AppServer:
    """Wait until the server on the port has none of the old workers, then check its health; ReloadFailed if not."""
    end = time.monotonic() + deadline
    again = time.monotonic() + RETOUCH_AFTER
    now: AppServer | None = None
    workers = seen = before
    while time.monotonic() < end:
        now = get_server(host, server.port)
        workers = get_workers(host, now.pid) if now.known else frozenset()
        if workers and not workers & before:
            break
        if workers != seen:  # a worker changed: the chain is moving
            seen, again = workers, time.monotonic() + RETOUCH_AFTER
        elif r.method in RETOUCH and time.monotonic() >= again:
            host.run(command(r, server), timeout=CONTROL_TIMEOUT, warn=True)
            again = time.monotonic() + RETOUCH_AFTER
        time.sleep(0.3)
    else:
        what = now.summary() if now else "nothing"
        raise ReloadFailed(
            f"the workers were not replaced within {deadline:g}s (before {sorted(before)}, now {sorted(workers)}; "
            f"found {what})",
            host=host.name,
            method=r.method,
            log=last_log(host, server),
        )
    result = health.check_on(host, server.port, path, python=python, timeout=max(1.0, end - time.monotonic()))
    if not result.ok:
        raise ReloadFailed(
            f"the app is not healthy afterwards at {result.url}: {result.error or result.status}",
            host=host.name,
            method=r.method,
            log=last_log(host, now or server),
        )
    return now or server


def _drive(
    host: Host, server: AppServer, restart: bool, path: str, python: str, dry_run: bool, deadline: float
) -> ops.Change:
    r = choose(host.name, server, restart=restart)
    preflight(host, r, server)
    cmd = command(r, server, restart=restart)

    def go() -> None:
        before = get_workers(host, server.pid)
        result = host.run(cmd, timeout=CONTROL_TIMEOUT, warn=True)
        if result.failed:
            raise ReloadFailed(
                f"`{cmd}` failed: {(result.stdout + result.stderr).strip()[-300:]}",
                host=host.name,
                method=r.method,
                log=last_log(host, server),
            )
        verify(host, server, r, before, path=path, python=python, deadline=deadline)

    verb = "restart" if restart else "reload"
    target = f"{server.kind} on port {server.port}"
    return ops.settle(host, f"app server {verb}", target, [(cmd, go)], f"{verb} by {r.method}", dry_run=dry_run)


def reload(
    host: Host,
    server: AppServer,
    *,
    path: str = "/health",
    python: str = "python3",
    dry_run: bool = True,
    deadline: float = VERIFY_DEADLINE,
) -> ops.Change:
    """Make the server serve new code the gentlest way it allows, then check new workers answer `path`."""
    return _drive(host, server, False, path, python, dry_run, deadline)


def restart(
    host: Host,
    server: AppServer,
    *,
    path: str = "/health",
    python: str = "python3",
    dry_run: bool = True,
    deadline: float = VERIFY_DEADLINE,
) -> ops.Change:
    """Restart the server (its manager's restart first, else a new master), then check new workers answer `path`."""
    return _drive(host, server, True, path, python, dry_run, deadline)
