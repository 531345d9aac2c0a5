"""How a sandbox prod host serves the app: gunicorn or uWSGI, alone or under a supervisord of its own."""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass

from ..app import health, manager, service
from ..app.layout import Layout
from ..app.manager import Program
from ..core.errors import LadderError
from ..core.hosts import Host

q = shlex.quote
SERVERS = ("gunicorn", "uwsgi")
MANAGERS = ("none", "supervisor")
START_TIMEOUT = 60
UNIX_SOCKET_MAX = 100  # sun_path holds 107 bytes; supervisord first binds PATH.<pid>, then renames it


@dataclass(frozen=True)
class Serving:
    """The sandbox's choice of app server and process manager."""

    server: str = "gunicorn"
    manager: str = "none"

    def __post_init__(self) -> None:
        if self.server not in SERVERS:
            raise LadderError(f"--server must be one of {', '.join(SERVERS)}, not {self.server!r}")
        if self.manager not in MANAGERS:
            raise LadderError(f"--manager must be one of {', '.join(MANAGERS)}, not {self.manager!r}")


@dataclass(frozen=True)
class Paths:
    """The files of a host's uWSGI and supervisord, all in the host's folder."""

    base: str

    def _path(self, name: str) -> str:
        return f"{self.base.rstrip('/')}/{name}"

    @property
    def uwsgi_ini(self) -> str:
        """uWSGI's settings."""
        return self._path("uwsgi.ini")

    @property
    def uwsgi_pid(self) -> str:
        """The uWSGI master's pid file."""
        return self._path("uwsgi.pid")

    @property
    def uwsgi_reload(self) -> str:
        """The file whose touch makes uWSGI chain-reload its workers (touch-chain-reload)."""
        return self._path("uwsgi.reload")

    @property
    def uwsgi_fifo(self) -> str:
        """uWSGI's master FIFO (write 'c' to chain-reload, 'q' to stop gracefully)."""
        return self._path("uwsgi.fifo")

    @property
    def supervisor(self) -> str:
        """supervisord's folder: its config, socket, pid file and logs."""
        return self._path("supervisor")

    @property
    def supervisord_conf(self) -> str:
        """supervisord's config, which supervisorctl reads too."""
        return f"{self.supervisor}/supervisord.conf"

    @property
    def supervisor_socket(self) -> str:
        """supervisord's control socket: in the host's folder, or in a private short folder when that path is too long."""
        inside = self._path("supervisor.sock")
        if len(inside.encode()) <= UNIX_SOCKET_MAX:
            return inside
        # As tmux does: a folder of this user's under the temp dir, one socket per host folder.
        key = hashlib.sha256(self.base.encode()).hexdigest()[:16]
        return f"{self.socket_dir}/{key}.sock"

    @property
    def socket_dir(self) -> str:
        """This user's private folder for sockets whose natural path is too long."""
        return f"{tempfile.gettempdir()}/ladder-{os.getuid()}"


def uwsgi_ini(lay: Layout, port: int, wsgi: str, *, daemonize: bool, virtualenv: str | None = None) -> str:
    """uWSGI's ini: HTTP on the app's port, lazy apps and a chain-reload file (pyuwsgi's re-exec loses the venv).

    The master empties the workers' metrics folder as it starts, as gunicorn.conf.py's on_starting does.
    With a virtualenv, the ini is for a distribution's uwsgi binary: its python3 plugin, the app's venv.
    """
    paths = Paths(lay.base)
    metrics = q(lay.metrics)
    lines = [
        "[uwsgi]",
        *(["plugins = python3", f"virtualenv = {virtualenv}"] if virtualenv else []),
        f"chdir = {lay.app}",
        f"module = {wsgi}",
        f"http-socket = 127.0.0.1:{int(port)}",
        "master = true",
        "processes = 2",
        "lazy-apps = true",
        f"touch-chain-reload = {paths.uwsgi_reload}",
        f"master-fifo = {paths.uwsgi_fifo}",
        f"pidfile = {paths.uwsgi_pid}",
        "need-app = true",
        "die-on-term = true",
        "vacuum = true",
        f"exec-asap = rm -rf {metrics} && mkdir -p {metrics}",
        # The app logs each request as JSON itself (APP_LOG_FILE); uWSGI's own request lines would repeat it.
        "disable-logging = true",
    ]
    lines.append(f"daemonize = {lay.logs}/uwsgi.log" if daemonize else f"logto = {lay.logs}/uwsgi.log")
    return "\n".join(lines) + "\n"


def bare_command(lay: Layout, python: str, port: int, wsgi: str, serving: Serving) -> str:
    """The server's command line, run in the foreground."""
    if serving.server == "uwsgi":
        return f"{q(lay.venv + '/bin/uwsgi')} --ini {q(Paths(lay.base).uwsgi_ini)}"
    return (
        f"{q(python)} -m gunicorn --chdir {q(lay.app)} --bind {q(f'127.0.0.1:{int(port)}')} --workers 2 "
        f"--access-logfile {q(lay.logs + '/access.log')} --access-logformat {q(service.ACCESS_LOG_FORMAT)} "
        f"--error-logfile {q(lay.logs + '/error.log')} {q(wsgi)}"
    )


def server_command(lay: Layout, python: str, port: int, wsgi: str, serving: Serving) -> str:
    """The shell command that runs the server in the foreground with the env file's settings exported."""
    return f"set -a && . {q(lay.env_file)} && set +a && exec {bare_command(lay, python, port, wsgi, serving)}"


def supervisord_conf(lay: Layout, program: Program) -> str:
    """supervisord's config: a socket only this user may use, and one program that serves the app."""
    paths = Paths(lay.base)
    head = "\n".join(
        [
            "[unix_http_server]",
            f"file = {paths.supervisor_socket}",
            "chmod = 0700",
            "",
            "[supervisord]",
            f"pidfile = {paths.supervisor}/supervisord.pid",
            f"logfile = {paths.supervisor}/supervisord.log",
            f"childlogdir = {paths.supervisor}",
            f"directory = {lay.base}",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]",
            f"serverurl = unix://{paths.supervisor_socket}",
            "",
        ]
    )
    return head + "\n" + manager.supervisor_program(program)


def supervisorctl(conf: str) -> str:
    """The supervisorctl that talks to the supervisord started with this config."""
    return f"{q(sys.executable)} -m supervisor.supervisorctl -c {q(conf)}"


def serve(host: Host, lay: Layout, *, python: str, port: int, wsgi: str, program: str, serving: Serving) -> None:
    """Start the app server the way serving says, and wait until the app answers its health check."""
    if serving.server == "uwsgi":
        paths = Paths(lay.base)
        daemonize = serving.manager == "none"
        host.run(f"touch {q(paths.uwsgi_reload)}")
        host.write_text(paths.uwsgi_ini, uwsgi_ini(lay, port, wsgi, daemonize=daemonize))
    if serving.manager == "supervisor":
        command = bare_command(lay, python, port, wsgi, serving)
        log = f"{lay.logs}/{program}.out.log"
        _supervise(host, lay, Program(program, serving.server, command, lay.app, lay.env_file, log))
    elif serving.server == "uwsgi":
        host.run(f"bash -c {q(server_command(lay, python, port, wsgi, serving))}", timeout=START_TIMEOUT)
    else:
        service.start(
            host,
            chdir=lay.app,
            python=python,
            port=port,
            wsgi=wsgi,
            env_file=lay.env_file,
            pid_file=lay.pid_file,
            logs=lay.logs,
        )
    health.wait(f"http://127.0.0.1:{port}/health")
    if serving.manager == "supervisor":
        _wait_running(host, Paths(lay.base).supervisord_conf, program)


def _wait_running(host: Host, conf: str, program: str) -> None:
    """Wait until supervisord calls the program RUNNING (after its startsecs): the app answers before that."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        out = host.run(f"{supervisorctl(conf)} status {q(program)}", warn=True, timeout=30).stdout
        if " RUNNING " in f" {out} ":
            return
        time.sleep(0.2)
    raise LadderError(f"supervisord did not report {program} RUNNING within {START_TIMEOUT}s; see its log in {conf}")


def _supervise(host: Host, lay: Layout, program: Program) -> None:
    """Start a supervisord of the host's own (it daemonizes) with one program: the app server."""
    paths = Paths(lay.base)
    if len(paths.supervisor_socket.encode()) > UNIX_SOCKET_MAX:
        raise LadderError(
            f"supervisord's socket path {paths.supervisor_socket} is longer than {UNIX_SOCKET_MAX} bytes, "
            "which a unix socket cannot be; set TMPDIR to a shorter folder"
        )
    host.run(
        f"mkdir -p {q(paths.supervisor)} && mkdir -p -m 0700 {q(paths.socket_dir)} && test -O {q(paths.socket_dir)}"
    )
    host.write_text(paths.supervisord_conf, supervisord_conf(lay, program))
    host.run(f"{q(sys.executable)} -m supervisor.supervisord -c {q(paths.supervisord_conf)}", timeout=START_TIMEOUT)
