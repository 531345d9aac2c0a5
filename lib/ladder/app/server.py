"""What serves the app on a host, found and never assumed: uWSGI or gunicorn, and systemd, supervisor or nothing.

Read-only facts: the listening socket -> its process -> the server's master -> its manager. Each
get_x(host, ...) runs one command; each parse_x(output) is pure (pyinfra style).

For rung 4's rolling deploy, measured under load on loopback (bench/reloads.py, README "Reloads"): a uWSGI
chain reload (lazy-apps with touch-chain-reload, or FIFO `c`) and gunicorn's HUP dropped no request; uWSGI's
graceful reload (FIFO `r`, SIGHUP), gunicorn's USR2+QUIT and any `supervisorctl restart` dropped some.
"""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass

from ..core.hosts import Host
from .procs import Proc, absolute, config_file, gunicorn_app, kind_of, option, parse_chain, supervisorctl_argv

q = shlex.quote
FACT_TIMEOUT = 15.0
CHAIN_LIMIT = 32  # ancestors walked at most; a process tree is never this deep


@dataclass(frozen=True)
class Reload:
    """One way to make the server serve new code: how (method) and on what (a file, pid, unit or program)."""

    method: str  # uwsgi-touch-chain-reload|uwsgi-touch-reload|uwsgi-fifo|uwsgi-reload-pidfile|hup|usr2-quit|systemctl-reload|systemctl-restart|supervisorctl-restart
    target: str

    def __str__(self) -> str:
        return f"{self.method} {self.target}"


@dataclass(frozen=True)
class AppServer:
    """What answers on a port: the server's kind, version, config, master pid, manager and the reloads that fit."""

    port: int
    kind: str  # uwsgi|gunicorn|unknown
    pid: int | None = None  # the master
    version: str | None = None
    config_file: str | None = None
    app: str | None = None
    manager: str = "none"  # systemd|supervisor|none
    manager_name: str | None = None  # the unit or the program
    vassal: bool = False  # a uWSGI vassal of an emperor
    log_file: str | None = None  # where the server writes its log (uWSGI logto/daemonize, gunicorn --error-logfile)
    control: tuple[str, ...] = ()  # the supervisorctl (argv, with its -c CONF) that talks to the manager
    reloads: tuple[Reload, ...] = ()
    looked_at: tuple[str, ...] = ()  # what was read, said when the kind is unknown

    @property
    def known(self) -> bool:
        """True when a uWSGI or gunicorn was found on the port."""
        return self.kind != "unknown"

    def summary(self) -> str:
        """One line: e.g. 'uwsgi 2.0.30 (pid 41, /srv/uwsgi.ini) under supervisor program shop'."""
        if not self.known:
            return f"unknown server on port {self.port}: " + "; ".join(self.looked_at)
        where = ", ".join(str(x) for x in (f"pid {self.pid}", self.config_file or self.app) if x)
        head = f"{self.kind} {self.version or '(version unknown)'} ({where})"
        if self.manager == "none":
            return head + " with no process manager"
        return f"{head} under {self.manager} {self.manager_name or '(name unknown)'}"

    def lines(self) -> list[str]:
        """Every fact, one per line, for `ladder hosts facts`."""
        if not self.known:
            return [f"server: unknown (port {self.port})"] + [f"looked at: {x}" for x in self.looked_at]
        manager = self.manager if self.manager == "none" else f"{self.manager} {self.manager_name or '(unknown)'}"
        return [
            f"server: {self.kind}" + (" (emperor vassal)" if self.vassal else ""),
            f"version: {self.version or 'unknown'}",
            f"port: {self.port}",
            f"master pid: {self.pid}",
            f"config: {self.config_file or 'none'}",
            f"app: {self.app or 'unknown'}",
            f"manager: {manager}",
        ] + [f"reload: {r}" for r in self.reloads]


# --- the listening socket ------------------------------------------------------
def parse_ss(output: str, port: int) -> tuple[int, ...]:
    """The pids `ss -Hltnp` shows listening on a TCP port (none when ss may not see other users' processes)."""
    pids: list[int] = []
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] != "LISTEN" or not fields[3].endswith(f":{port}"):
            continue
        for chunk in line.split("pid=")[1:]:
            digits = chunk.split(",", 1)[0]
            if digits.isdigit() and int(digits) not in pids:
                pids.append(int(digits))
    return tuple(pids)


def parse_proc_net_tcp(output: str, port: int) -> tuple[int, ...]:
    """The socket inodes /proc/net/tcp{,6} lists as listening (state 0A) on a port."""
    inodes = []
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 10 or ":" not in fields[1] or fields[3] != "0A":
            continue
        try:
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] != "0":
                inodes.append(int(fields[9]))
        except ValueError:
            continue
    return tuple(inodes)


def parse_fd_owners(output: str) -> tuple[int, ...]:
    """The pids in `find /proc/*/fd -lname 'socket:[N]'` output lines (/proc/PID/fd/FD)."""
    pids: list[int] = []
    for line in output.splitlines():
        parts = line.strip().split("/")
        if len(parts) >= 3 and parts[1] == "proc" and parts[2].isdigit() and int(parts[2]) not in pids:
            pids.append(int(parts[2]))
    return tuple(pids)


def get_listeners(host: Host, port: int, timeout: float = FACT_TIMEOUT) -> tuple[tuple[int, ...], list[str]]:
    """The pids listening on a port, and what was looked at to find them: ss first, else /proc."""
    port = int(port)
    out = host.run(
        f"ss -Hltnp {q(f'sport = :{port}')} 2>&1 || echo 'ss: not available'", timeout=timeout, warn=True
    ).stdout
    pids = parse_ss(out, port)
    shown = out.strip() or "nothing listening"
    looked = [f"`ss -Hltnp 'sport = :{port}'` showed: {shown}"]
    if pids:
        return pids, looked
    tcp = host.run("cat /proc/net/tcp /proc/net/tcp6 2>/dev/null", timeout=timeout, warn=True).stdout
    inodes = parse_proc_net_tcp(tcp, port)
    looked.append(f"/proc/net/tcp{{,6}}: {len(inodes)} listening socket(s) on port {port}")
    if not inodes:
        return (), looked
    # -lname takes a glob: the brackets of 'socket:[N]' are escaped.
    names = " -o ".join("-lname " + q("socket:\\[%d\\]" % i) for i in inodes)
    found = host.run(f"find /proc/[0-9]*/fd -maxdepth 1 \\( {names} \\) 2>/dev/null", timeout=timeout, warn=True).stdout
    pids = parse_fd_owners(found)
    looked.append(f"/proc/*/fd: {len(pids)} process(es) own them" + ("" if pids else " (or are not readable)"))
    return pids, looked


def master_pid_command(port: int) -> str:
    """Shell printing the pid of the master listening on a port (the listener whose parent is not one); exit 1 if none.

    For a script kept on the host: a pid read when the script was written goes stale once the server restarts.
    """
    port = int(port)
    listeners = f"ss -Hltnp {q(f'sport = :{port}')} 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u"
    return (
        f"(pids=\" $({listeners} | tr '\\n' ' ')\"; for p in $pids; do "
        'pp=$(sed "s/.*) //" /proc/$p/stat 2>/dev/null | cut -d" " -f2); '
        'case "$pids" in *" $pp "*) ;; *) echo "$p"; exit 0;; esac; done; '
        f'echo "no process listens on port {port} (ss -Hltnp)" >&2; exit 1)'
    )


# --- the processes -------------------------------------------------------------
def chain_command(pid: int) -> str:
    """Shell printing a process and its ancestors: stat, exe, cwd and base64 cmdline and cgroup."""
    return (
        f'p={int(pid)}; n=0; while [ "$p" -gt 0 ] && [ $n -lt {CHAIN_LIMIT} ]; do n=$((n+1)); '
        'stat=$(cat /proc/$p/stat 2>/dev/null) || break; echo "== $p"; echo "stat $stat"; '
        'echo "exe $(readlink /proc/$p/exe 2>/dev/null)"; echo "cwd $(readlink /proc/$p/cwd 2>/dev/null)"; '
        'echo "cmdline $(base64 -w0 /proc/$p/cmdline 2>/dev/null)"; echo "cgroup $(base64 -w0 /proc/$p/cgroup 2>/dev/null)"; '
        "p=${stat##*) }; p=$(echo \"$p\" | cut -d' ' -f2); done"
    )


def get_chain(host: Host, pid: int, timeout: float = FACT_TIMEOUT) -> list[Proc]:
    """A process and its ancestors, the process first."""
    return parse_chain(host.run(chain_command(pid), timeout=timeout, warn=True).stdout)


def master_of(chain: list[Proc], kind: str) -> tuple[int, bool]:
    """Index in chain of the server's master (the topmost process of its kind below an emperor), and vassal-ness."""
    top = 0
    for i, proc in enumerate(chain[1:], start=1):
        if kind_of(proc) != kind:
            break
        if kind == "uwsgi" and proc.is_emperor:
            return top, True
        top = i
    return top, False


def manager_of(chain: list[Proc], master: int) -> tuple[str, int | None, str | None]:
    """The manager above the master: supervisor (its chain index), a systemd unit (from the cgroup), or none."""
    for i, proc in enumerate(chain[master + 1 :], start=master + 1):
        if proc.is_supervisord:
            return "supervisor", i, None
    unit = chain[master].systemd_unit
    return ("systemd", None, unit) if unit else ("none", None, None)


# --- version, config and the supervisor program ---------------------------------------------
def details_command(master: Proc, kind: str, config: str | None, ctl: list[str] | None) -> str:
    """Shell printing the server's version, its uWSGI ini (base64) and `supervisorctl status`, in sections."""
    package = "pyuwsgi" if kind == "uwsgi" else "gunicorn"
    if master.python:
        probe = f"import importlib.metadata as m; print(m.version({package!r}))"
        version = f"{q(master.python)} -c {q(probe)}"
    else:
        version = f"{q(master.exe)} --version"
    parts = [f"echo '== version'; {version} 2>&1 | head -n 1"]
    if config and kind == "uwsgi":
        parts.append(f"echo '== config'; base64 -w0 {q(config)} 2>/dev/null; echo")
    if ctl:
        parts.append(f"echo '== supervisor'; {' '.join(q(a) for a in ctl)} status 2>&1")
    return "; ".join(parts)


def parse_sections(output: str) -> dict[str, str]:
    """Split '== name' sections into {name: text}."""
    found: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("== "):
            current = line[3:].strip()
            found[current] = []
        elif current is not None:
            found[current].append(line)
    return {k: "\n".join(v).strip() for k, v in found.items()}


def parse_version(text: str) -> str | None:
    """A version from `--version` or metadata output ('2.0.30', 'gunicorn (version 23.0.0)')."""
    for word in text.replace("(", " ").replace(")", " ").split():
        if word[:1].isdigit() and "." in word:
            return word
    return None


def parse_supervisor_status(output: str, pids: set[int]) -> str | None:
    """The program `supervisorctl status` shows running as one of pids."""
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "RUNNING" and fields[2] == "pid":
            pid = fields[3].rstrip(",")
            if pid.isdigit() and int(pid) in pids:
                return fields[0]
    return None


def parse_uwsgi_ini(text: str) -> dict[str, str]:
    """The [uwsgi] section of an ini, keys with '-' (uWSGI takes '_' too); later lines win, as in uWSGI."""
    out: dict[str, str] = {}
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == "uwsgi" and "=" in line:
            key, _, value = line.partition("=")
            out[key.strip().replace("_", "-")] = value.strip()
    return out


def reloads_for(
    kind: str, master: Proc, settings: dict[str, str], manager: str, name: str | None
) -> tuple[Reload, ...]:
    """The reloads that fit what was found, the gentlest first."""
    found: list[Reload] = []
    if kind == "uwsgi":
        for key, method in (
            ("touch-chain-reload", "uwsgi-touch-chain-reload"),
            ("touch-reload", "uwsgi-touch-reload"),
            ("master-fifo", "uwsgi-fifo"),
            ("pidfile", "uwsgi-reload-pidfile"),
        ):
            if settings.get(key):
                found.append(Reload(method, settings[key]))
    elif kind == "gunicorn":
        found += [Reload("hup", str(master.pid)), Reload("usr2-quit", str(master.pid))]
    if manager == "systemd" and name:
        found += [Reload("systemctl-reload", name), Reload("systemctl-restart", name)]
    if manager == "supervisor" and name:
        found.append(Reload("supervisorctl-restart", name))
    return tuple(found)


def get_server(host: Host, port: int, timeout: float = FACT_TIMEOUT) -> AppServer:
    """What serves the given port on the host; kind 'unknown', with what was looked at, when nothing clear is found."""
    port = int(port)
    pids, looked = get_listeners(host, port, timeout)
    if not pids:
        return AppServer(port, "unknown", looked_at=tuple(looked))
    chain = get_chain(host, min(pids), timeout)
    if not chain:
        return AppServer(port, "unknown", looked_at=(*looked, f"/proc/{min(pids)}: gone or not readable"))
    kind = kind_of(chain[0])
    if kind == "unknown":
        argv = " ".join(chain[0].argv) or chain[0].exe
        return AppServer(port, "unknown", pid=chain[0].pid, looked_at=(*looked, f"pid {chain[0].pid} runs: {argv}"))
    index, vassal = master_of(chain, kind)
    master = chain[index]
    manager, at, unit = manager_of(chain, index)
    ctl = supervisorctl_argv(chain[at]) if at is not None else None
    config = config_file(master, kind)
    out = host.run(details_command(master, kind, config, ctl), timeout=timeout, warn=True).stdout
    sections = parse_sections(out)
    settings: dict[str, str] = {}
    if "config" in sections:
        try:
            settings = parse_uwsgi_ini(base64.b64decode(sections["config"]).decode(errors="replace"))
        except ValueError:
            settings = {}
    if kind == "uwsgi":
        settings.update(
            {
                k: v
                for k in ("touch-chain-reload", "touch-reload", "master-fifo", "pidfile")
                if (v := option(master.argv, k))
            }
        )
    name = unit
    log = (
        settings.get("logto") or settings.get("daemonize") or option(master.argv, "logto")
        if kind == "uwsgi"
        else option(master.argv, "error-logfile") or option(master.argv, "log-file")
    )
    if manager == "supervisor":
        name = parse_supervisor_status(sections.get("supervisor", ""), {p.pid for p in chain[: at or 0]})
    return AppServer(
        port,
        kind,
        pid=master.pid,
        version=parse_version(sections.get("version", "")),
        config_file=config,
        app=settings.get("module")
        or settings.get("wsgi-file")
        or (gunicorn_app(master.argv) if kind == "gunicorn" else None),
        manager=manager,
        manager_name=name,
        vassal=vassal,
        log_file=absolute(log, master.cwd) if log and log != "-" else None,
        control=tuple(ctl or ()),
        reloads=reloads_for(kind, master, settings, manager, name),
        looked_at=tuple(looked),
    )
