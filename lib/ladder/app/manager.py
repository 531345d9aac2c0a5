"""Bring an app server under a process manager: a supervisor program or a systemd unit, rendered from data templates.

supervisor runs for real in the sandbox (its [program:] section comes from here). systemd cannot run as PID 1 on
the machines Ladder is tested on, so a unit is rendered and checked with `systemd-analyze verify`, not started.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from string import Template

from ..core import ops
from ..core.errors import HostError, LadderError
from ..core.hosts import Host

q = shlex.quote
UNITS = Path(__file__).with_name("units")
VERIFY_TIMEOUT = 60.0
KINDS = ("uwsgi", "gunicorn")


@dataclass(frozen=True)
class Program:
    """What a manager runs: a name, the server's kind and command line, where it runs, as whom, its env file and log."""

    name: str
    kind: str
    command: str  # the server's command line (an absolute executable first)
    chdir: str
    env_file: str
    log: str
    user: str | None = None  # None: the manager's own user (a supervisord that is not root cannot switch)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise LadderError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.name or not all(c.isalnum() or c in "-_." for c in self.name):
            raise LadderError(f"program name {self.name!r} must be letters, digits, '-', '_' or '.'")
        if not self.command.startswith("/"):
            raise LadderError(f"command must start with an absolute executable (systemd requires it): {self.command!r}")

    @property
    def stop_signal(self) -> str:
        """uWSGI stops gracefully on QUIT (INT or TERM kill its workers at once); gunicorn on TERM."""
        return "QUIT" if self.kind == "uwsgi" else "TERM"


def server_command(kind: str, venv: str, *, chdir: str, port: int, wsgi: str, ini: str | None = None) -> str:
    """The server's command line from a venv: uWSGI from its ini, gunicorn on loopback with two workers."""
    if kind == "uwsgi":
        if not ini:
            raise LadderError("a uWSGI program needs its ini file (ini=...)")
        return f"{q(venv + '/bin/uwsgi')} --ini {q(ini)}"
    return f"{q(venv + '/bin/gunicorn')} --chdir {q(chdir)} --bind {q(f'127.0.0.1:{int(port)}')} --workers 2 {q(wsgi)}"


def supervisor_program(p: Program) -> str:
    """supervisor's [program:NAME] section: the env file exported, then the server exec'd so signals reach it."""
    command = f"set -a && . {q(p.env_file)} && set +a && exec {p.command}"
    text = Template((UNITS / "supervisor.conf").read_text()).substitute(
        name=p.name,
        kind=p.kind,
        quoted=q(command).replace("%", "%%"),  # supervisor expands %(name)s; gunicorn's log format has some
        chdir=p.chdir,
        user=p.user or "",
        stop_signal=p.stop_signal,
        log=p.log,
    )
    return "\n".join(line for line in text.splitlines() if line != "user = ") + "\n"


def systemd_unit(p: Program) -> str:
    """A systemd service for the server (Type=notify: uWSGI and gunicorn both tell systemd when they are ready)."""
    return Template((UNITS / "systemd.service").read_text()).substitute(
        name=p.name,
        kind=p.kind,
        service_type="notify",
        user=p.user or "root",
        chdir=p.chdir,
        env_file=p.env_file,
        command=p.command,
        stop_signal=f"SIG{p.stop_signal}",
    )


def verify_unit(host: Host, name: str, text: str) -> str | None:
    """`systemd-analyze verify` on the host for a unit's text; its complaints, '' when clean, None without the tool."""
    if host.run("command -v systemd-analyze", timeout=VERIFY_TIMEOUT, warn=True).failed:
        return None
    folder = host.run("mktemp -d", timeout=VERIFY_TIMEOUT).stdout.strip()
    path = f"{folder}/{name}.service"  # verify wants the unit's own file name
    try:
        host.write_text(path, text)
        result = host.run(f"systemd-analyze verify {q(path)} 2>&1", timeout=VERIFY_TIMEOUT, warn=True)
    finally:
        host.run(f"rm -rf {q(folder)}", timeout=VERIFY_TIMEOUT, warn=True)
    complaints = result.stdout.strip().replace(folder + "/", "")
    return complaints if (result.failed or complaints) else ""


def install_unit(host: Host, p: Program, path: str, *, dry_run: bool = True) -> ops.Change:
    """Write the systemd unit to path once `systemd-analyze verify` passes on the host (not started: see the module)."""
    text = systemd_unit(p)
    complaints = verify_unit(host, p.name, text)
    if complaints:
        raise HostError(f"systemd-analyze verify refuses the unit for {p.name}: {complaints[-500:]}", host=host.name)
    return ops.file(host, path, text, mode=0o644, dry_run=dry_run)


def install_program(host: Host, p: Program, path: str, *, dry_run: bool = True) -> ops.Change:
    """Write the supervisor program section to path (a file supervisord's [include] reads)."""
    return ops.file(host, path, supervisor_program(p), mode=0o644, dry_run=dry_run)
