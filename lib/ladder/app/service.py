"""The app server on a host: a gunicorn daemon with a pid file, started, reloaded and looked at."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..core.errors import HostError
from ..core.hosts import Host

q = shlex.quote
CONF = "gunicorn.conf.py"  # gunicorn's own default config file, kept in the app's code
START_WAIT_TICKS = 200  # tenths of a second
# gunicorn's access log as one JSON object a line: the path without its query (which may hold secrets), no header
# but the request id the app echoes back. Every atom is a number or has no quote to escape (gunicorn escapes none).
ACCESS_LOG_FORMAT = (
    '{"time": "%(t)s", "remote": "%(h)s", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, '
    '"bytes": "%(b)s", "ms": %(M)s, "request_id": "%({x-request-id}o)s"}'
)


@dataclass(frozen=True)
class Process:
    """A running app server: its pid and command line."""

    pid: int
    argv: tuple[str, ...]

    @property
    def python(self) -> str | None:
        """The interpreter serving the app when started as `python -m gunicorn` or `python .../bin/gunicorn`, else None."""
        if len(self.argv) >= 3 and self.argv[1:3] == ("-m", "gunicorn"):
            return self.argv[0]
        if len(self.argv) >= 2 and self.argv[1].rsplit("/", 1)[-1] == "gunicorn":
            return self.argv[0]
        return None


def parse_process(output: str) -> Process | None:
    """Parse get_process's output: 'pid' on the first line, then NUL-separated argv; None when not running."""
    head, _, rest = output.partition("\n")
    if not head.strip().isdigit():
        return None
    argv = tuple(a for a in rest.split("\0") if a)
    return Process(int(head.strip()), argv)


def get_process(host: Host, pid_file: str, timeout: float | None = None) -> Process | None:
    """The live process named by a pid file, or None when the file is missing or the process is gone."""
    p = q(pid_file)
    cmd = (
        f"pid=$(cat {p} 2>/dev/null | tr -dc 0-9); "
        'if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; cat "/proc/$pid/cmdline" 2>/dev/null; '
        "else echo stopped; fi"
    )
    return parse_process(host.run(cmd, timeout=timeout).stdout)


def is_running(host: Host, pid_file: str) -> bool:
    """True when the pid file names a live process."""
    return get_process(host, pid_file) is not None


def start_command(
    *,
    chdir: str,
    python: str,
    port: int,
    wsgi: str,
    env_file: str,
    pid_file: str,
    logs: str,
    bind: str = "127.0.0.1",
    workers: int = 2,
    pythonpath: str = "",
) -> str:
    """The shell command that starts gunicorn as a daemon (env file's settings exported) and waits for its pid file.

    pythonpath goes first on sys.path as a string, resolved by each worker as it imports: through a symlink
    such as releases' `current`, a HUP then serves whatever the link points at. The code's gunicorn.conf.py
    (in pythonpath, else in chdir) is passed with -c when it exists.

    gunicorn runs from its console script next to the interpreter (as `python .../bin/gunicorn`), and by
    `python -m gunicorn` only where there is none: USR2 re-executes sys.argv, which under -m names gunicorn's
    __main__.py, and its folder then comes first on sys.path, where gunicorn/http.py hides the standard
    library's http (benoitc/gunicorn#3281): the new master or its workers fail to import the app.
    """
    pid = q(pid_file)
    # --daemon returns before the daemon writes its pid file; wait for it, bounded, so callers see it.
    wait = (
        f'for i in $(seq 1 {START_WAIT_TICKS}); do [ -s {pid} ] && kill -0 "$(cat {pid})" 2>/dev/null && exit 0; '
        f'sleep 0.1; done; echo "gunicorn did not start; see {logs}/error.log" >&2; exit 1'
    )
    path = f"--pythonpath {q(pythonpath)} " if pythonpath else ""
    # gunicorn reads ./gunicorn.conf.py before it moves to --chdir: name the code's own explicitly, since under
    # the release layout the working folder (shared/) is not where the code is.
    found = " ".join(q(f"{d}/{CONF}") for d in dict.fromkeys(filter(None, (pythonpath, chdir))))
    conf = f'set -- && for c in {found}; do if [ -f "$c" ]; then set -- -c "$c"; break; fi; done && '
    script = f'g="$(dirname "$(command -v {q(python)})")/gunicorn"'
    launch = f'{script} && if [ -x "$g" ]; then set -- "$g" "$@"; else set -- -m gunicorn "$@"; fi && '
    return (
        f"(set -a && . {q(env_file)} && set +a && {conf}{launch}"
        f'{q(python)} "$@" --daemon --chdir {q(chdir)} --pid {pid} {path}'
        f"--bind {q(f'{bind}:{port}')} --workers {int(workers)} "
        f"--access-logfile {q(logs + '/access.log')} --access-logformat {q(ACCESS_LOG_FORMAT)} "
        f"--error-logfile {q(logs + '/error.log')} {q(wsgi)}) && "
        f"({wait})"
    )


def start(
    host: Host,
    *,
    chdir: str,
    python: str,
    port: int,
    wsgi: str,
    env_file: str,
    pid_file: str,
    logs: str,
    timeout: float | None = None,
    pythonpath: str = "",
) -> None:
    """Start gunicorn as a daemon serving chdir; the env file is sourced so its secrets never pass through Ladder."""
    cmd = start_command(
        chdir=chdir,
        python=python,
        port=port,
        wsgi=wsgi,
        env_file=env_file,
        pid_file=pid_file,
        logs=logs,
        pythonpath=pythonpath,
    )
    host.run(cmd, timeout=timeout)


def reload_command(pid_file: str) -> str:
    """The shell command that makes gunicorn re-import the app (HUP: new workers, same socket)."""
    p = q(pid_file)
    # On HUP gunicorn deletes its pid file and writes a new one. Wait for the new file, so that the
    # next look at it does not find no server and start a second one.
    return (
        f'(before=$(stat -c %i.%y {p}) && kill -HUP "$(cat {p})" && '
        f"for i in $(seq 1 {START_WAIT_TICKS}); do now=$(stat -c %i.%y {p} 2>/dev/null) && "
        f'[ "$now" != "$before" ] && [ -s {p} ] && exit 0; sleep 0.1; done; '
        f'echo "gunicorn did not finish reloading" >&2; exit 1)'
    )


def reload(host: Host, pid_file: str, timeout: float | None = None) -> None:
    """Reload a running gunicorn so new code is served; raise when it is not running."""
    if not is_running(host, pid_file):
        raise HostError(f"no app server running (pid file {pid_file}); start it first", host=host.name)
    host.run(reload_command(pid_file), timeout=timeout)


def stop(host: Host, pid_file: str, timeout: float = 20) -> bool:
    """Stop gunicorn gracefully (TERM, then wait for it); return False when it was not running."""
    proc = get_process(host, pid_file)
    if proc is None:
        return False
    # Wait on the pid we read: gunicorn removes its pid file as it exits.
    host.run(
        f"kill -TERM {proc.pid}; for i in $(seq 1 {int(timeout * 10)}); do "
        f"kill -0 {proc.pid} 2>/dev/null || exit 0; sleep 0.1; done; exit 1",
        timeout=timeout + 5,
    )
    return True
