"""Centralized logs with rsyslog: a log host receiving over TCP, app hosts forwarding their app log to it.

The log host keeps one file per host per day (`<dir>/<host>/<YYYY-MM-DD>.log`), each line
`<received, RFC 3339> <host> <the app's JSON line>`. Each app host runs an rsyslogd of its own that
follows the app's log file (imfile) and forwards it (omfwd, TCP, a disk-assisted queue that retries).
Both run unprivileged, from a folder `rsyslog/` under the host's base, as `rsyslogd -n -f CONF -i PID`.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..core import ops
from ..core.errors import LadderError
from ..core.hosts import Host
from .layout import Layout
from .service import get_process

q = shlex.quote
SBIN = 'PATH="$PATH:/usr/sbin:/sbin"'  # Debian puts rsyslogd and logrotate in /usr/sbin, off a user's PATH
RSYSLOGD = f"{SBIN} rsyslogd"
LOGROTATE = f"{SBIN} logrotate"
START_TIMEOUT = 30
CHECK_TIMEOUT = 30
KEEP_DAYS = 14
APP_LOG = "app.log"  # the app's JSON request log (APP_LOG_FILE) in the layout's logs/ folder


class LogsError(LadderError):
    """rsyslog or logrotate refused a config, or rsyslogd did not start."""


@dataclass(frozen=True)
class Daemon:
    """The files of one host's rsyslogd, all in `rsyslog/` under the host's base."""

    base: str
    role: str  # "central" on the log host, "forward" on an app host

    @property
    def folder(self) -> str:
        """rsyslogd's folder."""
        return f"{self.base.rstrip('/')}/rsyslog"

    def _path(self, name: str) -> str:
        return f"{self.folder}/{name}"

    @property
    def conf(self) -> str:
        """Its config."""
        return self._path(f"{self.role}.conf")

    @property
    def pid_file(self) -> str:
        """The pid file rsyslogd -i writes."""
        return self._path("rsyslogd.pid")

    @property
    def work(self) -> str:
        """Its work directory: imfile's state files and the forwarding queue's spool."""
        return self._path("spool")

    @property
    def out(self) -> str:
        """What rsyslogd itself says (start-up errors)."""
        return self._path("rsyslogd.out")

    @property
    def logrotate_conf(self) -> str:
        """The logrotate config for this host's files (run from cron: logrotate -s STATE CONF)."""
        return self._path("logrotate.conf")

    @property
    def logrotate_state(self) -> str:
        """logrotate's state file for this host's files."""
        return self._path("logrotate.state")


def _string(value: str) -> str:
    """A RainerScript string constant: backslash and double quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_receiver(*, port: int, central_dir: str, work_dir: str, name: str = "logs") -> str:
    """The log host's rsyslog.conf: imtcp on 127.0.0.1:port, a file per sending host per day (the day it arrived)."""
    day_file = f"{central_dir.rstrip('/')}/%hostname:::secpath-replace%/%timegenerated:1:10:date-rfc3339%.log"
    return "\n".join(
        [
            "# Written by Ladder: the central log host. Check with: rsyslogd -N1 -f THIS",
            f"global(workDirectory={_string(work_dir)} localHostname={_string(name)})",
            'module(load="imtcp")',
            f'template(name="centralFile" type="string" string={_string(day_file)})',
            'template(name="centralLine" type="string"',
            '         string="%timegenerated:::date-rfc3339% %hostname% %msg:::drop-last-lf%\\n")',
            'ruleset(name="central") {',
            '    action(type="omfile" dynaFile="centralFile" template="centralLine"',
            '           dirCreateMode="0750" fileCreateMode="0640" asyncWriting="off" flushOnTXEnd="on")',
            "}",
            f'input(type="imtcp" address="127.0.0.1" port="{int(port)}" ruleset="central")',
            "",
        ]
    )


def render_forwarder(*, name: str, files: Sequence[str], target: str, port: int, work_dir: str) -> str:
    """An app host's rsyslog.conf: follow each file (imfile) and forward its lines over TCP (omfwd, RFC 5424).

    The queue is disk-assisted and retries forever, so a log host that is down loses nothing; the
    state files (persistStateInterval) let a restart resume where it stopped.
    """
    if not files:
        raise LogsError("render_forwarder needs at least one file to follow")
    inputs = [
        f'input(type="imfile" file={_string(f)} tag="app:" facility="local0" severity="info" '
        f'persistStateInterval="100" ruleset="forward")'
        for f in files
    ]
    return "\n".join(
        [
            "# Written by Ladder: forward this host's app log to the central log host. Check with: rsyslogd -N1 -f THIS",
            f"global(workDirectory={_string(work_dir)} localHostname={_string(name)})",
            'module(load="imfile")',
            *inputs,
            'ruleset(name="forward") {',
            f'    action(type="omfwd" target={_string(target)} port="{int(port)}" protocol="tcp"',
            '           template="RSYSLOG_SyslogProtocol23Format"',
            '           queue.type="LinkedList" queue.filename="forward" queue.saveOnShutdown="on"',
            '           action.resumeRetryCount="-1" action.resumeInterval="1")',
            "}",
            "",
        ]
    )


def render_logrotate(patterns: Sequence[str], *, keep_days: int = KEEP_DAYS, postrotate: str = "") -> str:
    """A logrotate config: daily, kept keep_days, compressed a day late, for these file patterns."""
    if keep_days < 1:
        raise LogsError(f"keep_days must be at least 1, not {keep_days}")
    body = ["daily", f"rotate {int(keep_days)}", f"maxage {int(keep_days)}", "missingok", "notifempty"]
    body += ["compress", "delaycompress", "dateext", "create 0640"]
    if postrotate:
        body += ["sharedscripts", "postrotate", f"    {postrotate}", "endscript"]
    head = "# Written by Ladder. Run daily, e.g. from cron: logrotate -s STATE THIS\n"
    return head + " ".join(q(p) for p in patterns) + " {\n" + "".join(f"    {line}\n" for line in body) + "}\n"


def _checked(host: Host, command: str, what: str, *, errors: str = "") -> None:
    """Run a checker; fail on its exit code, or on lines starting with `errors` (logrotate -d exits 0 on them)."""
    result = host.run(command, warn=True, timeout=CHECK_TIMEOUT)
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    flagged = [line for line in lines if errors and line.startswith(errors)]
    if result.failed or flagged:
        raise LogsError(f"{what} is not valid:\n" + "\n".join(flagged or lines))


def check_rsyslog(host: Host, conf: str) -> None:
    """Validate an rsyslog config on the host (rsyslogd -N1); LogsError with rsyslog's words when it is wrong."""
    _checked(host, f"{RSYSLOGD} -N1 -f {q(conf)}", f"{conf} on {host.name} (rsyslogd -N1)")


def check_logrotate(host: Host, conf: str, state: str) -> None:
    """Validate a logrotate config on the host (logrotate -d: a dry run that rotates nothing)."""
    _checked(host, f"{LOGROTATE} -d -s {q(state)} {q(conf)}", f"{conf} on {host.name} (logrotate -d)", errors="error:")


def running(host: Host, daemon: Daemon) -> bool:
    """True while the rsyslogd named by the daemon's pid file is alive."""
    return get_process(host, daemon.pid_file, timeout=CHECK_TIMEOUT) is not None


def start_command(daemon: Daemon) -> str:
    """Start rsyslogd in its own session (-n: no fork of its own, setsid detaches it) and wait for its pid file."""
    pid = q(daemon.pid_file)
    return (
        f"cd {q(daemon.folder)} && ({SBIN} setsid rsyslogd -n -f {q(daemon.conf)} -i {pid} "
        f"</dev/null >>{q(daemon.out)} 2>&1 &) && "
        f'for i in $(seq 1 {START_TIMEOUT * 10}); do [ -s {pid} ] && kill -0 "$(cat {pid})" 2>/dev/null && exit 0; '
        f"sleep 0.1; done; echo 'rsyslogd did not start; see {daemon.out}' >&2; exit 1"
    )


def stop_command(daemon: Daemon) -> str:
    """Stop rsyslogd (TERM: it saves its queue and imfile state) and wait until it is gone."""
    pid = q(daemon.pid_file)
    return (
        f'p=$(cat {pid} 2>/dev/null | tr -dc 0-9); [ -n "$p" ] || exit 0; kill -TERM "$p" 2>/dev/null; '
        f'for i in $(seq 1 {START_TIMEOUT * 10}); do kill -0 "$p" 2>/dev/null || exit 0; sleep 0.1; done; exit 1'
    )


def _settle(host: Host, daemon: Daemon, conf: str, rotate: str, *, dry_run: bool) -> list[ops.Change]:
    """Folders, config (validated before rsyslogd sees it), logrotate config, then rsyslogd (re)started if needed."""
    changes = [
        ops.directory(host, daemon.folder, 0o700, dry_run=dry_run),
        ops.directory(host, daemon.work, 0o700, dry_run=dry_run),
    ]
    config = ops.file(host, daemon.conf, conf, 0o600, dry_run=dry_run)
    rotation = ops.file(host, daemon.logrotate_conf, rotate, 0o600, dry_run=dry_run)
    changes += [config, rotation]
    if not dry_run:
        check_rsyslog(host, daemon.conf)
        check_logrotate(host, daemon.logrotate_conf, daemon.logrotate_state)
    alive = not changes[0].changed and running(host, daemon)
    actions: list[ops.Action] = []
    if alive and config.changed:
        actions.append(ops.command(host, stop_command(daemon), timeout=START_TIMEOUT + 5))
    if not alive or config.changed:
        actions.append(ops.command(host, start_command(daemon), timeout=START_TIMEOUT + 5))
    reason = "config changed" if alive else "not running"
    changes.append(ops.settle(host, "rsyslogd", daemon.pid_file, actions, reason, dry_run=dry_run))
    return changes


def receiver(host: Host, central_dir: str = "") -> tuple[Daemon, str]:
    """The log host's rsyslogd and its folder of central files (default: central/ under its base)."""
    return Daemon(host.base, "central"), central_dir or f"{host.base.rstrip('/')}/central"


def install_receiver(host: Host, *, port: int, central_dir: str = "", dry_run: bool = True) -> list[ops.Change]:
    """Make the host the central log host: rsyslogd receiving on port, files per host per day, rotated daily."""
    daemon, folder = receiver(host, central_dir)
    conf = render_receiver(port=port, central_dir=folder, work_dir=daemon.work, name=host.name)
    # rsyslogd keeps day files open; HUP makes it close them so logrotate's moves take effect.
    hup = f'kill -HUP "$(cat {q(daemon.pid_file)})" 2>/dev/null || true'
    rotate = render_logrotate([f"{folder}/*/*.log"], postrotate=hup)
    return [ops.directory(host, folder, 0o750, dry_run=dry_run), *_settle(host, daemon, conf, rotate, dry_run=dry_run)]


def app_logs(host: Host) -> list[str]:
    """The app's log files on an app host that are forwarded: its JSON request log."""
    return [f"{Layout(host.base).logs}/{APP_LOG}"]


def install_forwarder(host: Host, *, target: str, port: int, dry_run: bool = True) -> list[ops.Change]:
    """Make an app host forward its app log to the log host at target:port, and rotate its logs daily."""
    daemon = Daemon(host.base, "forward")
    conf = render_forwarder(name=host.name, files=app_logs(host), target=target, port=port, work_dir=daemon.work)
    # The app reopens its log when moved (WatchedFileHandler), gunicorn on USR1; imfile follows the move.
    usr1 = f'kill -USR1 "$(cat {q(Layout(host.base).pid_file)})" 2>/dev/null || true'
    rotate = render_logrotate([f"{Layout(host.base).logs}/*.log"], postrotate=usr1)
    return _settle(host, daemon, conf, rotate, dry_run=dry_run)


def stop(host: Host, role: str) -> bool:
    """Stop the host's rsyslogd of this role ("central" or "forward"); False when it was not running."""
    daemon = Daemon(host.base, role)
    if not running(host, daemon):
        return False
    host.run(stop_command(daemon), timeout=START_TIMEOUT + 5)
    deadline = time.monotonic() + START_TIMEOUT
    while running(host, daemon) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True
