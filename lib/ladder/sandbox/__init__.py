"""The team from the story on one machine: an app repo, a dev host and prod hosts serving a checkout."""

from __future__ import annotations

import getpass
import json
import os
import secrets
import shlex
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..app.devenv import PIP_TIMEOUT, VENV_TIMEOUT
from ..app.layout import Layout
from ..core.config import sandbox_dir
from ..core.errors import LadderError, NotASandbox
from ..core.fleet import run_all
from ..core.hosts import Host, LocalHost, SSHHost
from . import balancer as lb
from . import logging_host, sshd
from . import monitoring as mon
from .ci import ci_entry, start_ci
from .prod import legacy_prod
from .servers import Serving

q = shlex.quote
STATE = "state.json"
MARKER = ".ladder-sandbox"  # written first by `up`; holds the id state.json also holds, so `down` knows its own
APP_NAME = "shop"


@dataclass(frozen=True)
class Sandbox:
    """A built sandbox: where it lives and how it was made."""

    dir: Path
    ssh: bool
    hosts: int
    serving: Serving = Serving()
    balancer: bool = False
    ci: bool = False
    logs: bool = False
    monitoring: bool = False

    @property
    def config_path(self) -> Path:
        """The ladder.yml describing this sandbox."""
        return self.dir / "ladder.yml"

    @property
    def repo(self) -> Path:
        """The app's git repository (the team's 'origin')."""
        return self.dir / "app"


def _alive(pid: int) -> bool:
    """True for a live process; a zombie (orphaned, not yet reaped) counts as gone."""
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owned(pid: int, marker: str) -> bool:
    """True when a live process's command line names the sandbox folder (so a reused pid is spared)."""
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False


def _read_state(folder: Path) -> dict | None:
    path = folder / STATE
    return json.loads(path.read_text()) if path.is_file() else None


def _check_own(folder: Path) -> dict:
    """The state of a sandbox `up` made at folder; NotASandbox for any other folder, or a symlink to one."""
    if folder.is_symlink():
        raise NotASandbox(folder, f"it is a symlink to {folder.resolve()}; pass the folder itself")
    marker, state_file = folder / MARKER, folder / STATE
    if not marker.is_file() or marker.is_symlink() or not state_file.is_file() or state_file.is_symlink():
        raise NotASandbox(folder, f"it has no {MARKER} and {STATE} written by `up`")
    try:
        state = json.loads(state_file.read_text())
    except ValueError:
        state = None
    if not isinstance(state, dict) or not state.get("id") or state["id"] != marker.read_text().strip():
        raise NotASandbox(folder, f"{STATE} does not hold the id in {MARKER}")
    return state


def up(
    folder: str | Path | None = None,
    *,
    ssh: bool = False,
    hosts: int = 1,
    serve: bool = True,
    server: str = "gunicorn",
    manager: str = "none",
    balancer: bool = False,
    ci: bool = False,
    logs: bool = False,
    monitoring: bool = False,
) -> Sandbox:
    """Build the sandbox, or reuse an identical running one; refuse to clobber a different one.

    With serve=False the prod hosts stay empty (no checkout, no app server): bare hosts for
    tests and benchmarks that only need many reachable servers. server (gunicorn or uwsgi) and
    manager (none or supervisor) choose how prod serves the app. balancer=True adds a staging host
    served like prod and an `lb` host running HAProxy in front of the prod hosts. ci adds a `ci` host
    running a Buildbot master, a worker on dev and the repository's push hook (off by default: seconds).
    logs adds a `logs` host running rsyslog, which receives the app hosts' logs over TCP (rung 5b forwards them).
    monitoring adds a `mon` host running Prometheus, which scrapes every app host, the balancer's exporter
    and a node exporter started on every host.
    """
    if hosts < 1:
        raise LadderError("--hosts must be at least 1")
    serving = Serving(server, manager)
    if balancer:
        lb.require()
    if logs:
        logging_host.require()
    if monitoring:
        mon.require()
    folder = Path(folder or sandbox_dir()).absolute()
    state = _read_state(folder)
    if state is not None:
        built = (state.get("server", "gunicorn"), state.get("manager", "none"))
        wanted = (ssh, hosts, serve, (server, manager), balancer, ci, logs, monitoring)
        parts = tuple(state.get(part, False) for part in ("balancer", "ci", "logs", "monitoring"))
        same = (state["ssh"], state["hosts"], state.get("serve", True), built, *parts) == wanted
        servers = all(_alive(pid) for pid in state["pids"].values())
        apps = len(processes(folder)) > len(state["pids"])
        running = servers and (apps or not serve)
        if same and running:
            return Sandbox(folder, ssh, hosts, serving, balancer, ci, logs, monitoring)
        raise LadderError(
            f"a sandbox already exists at {folder} (ssh={state['ssh']}, hosts={state['hosts']}, "
            f"server={built[0]}, manager={built[1]}, balancer={parts[0]}, ci={parts[1]}, logs={parts[2]}, "
            f"monitoring={parts[3]}, "
            f"{'running' if running else 'stopped'}); remove it first with: ladder sandbox down --dir {folder}"
        )
    if folder.exists() and any(folder.iterdir()):
        raise LadderError(f"{folder} exists and is not empty; choose another --dir or remove it")
    folder.mkdir(parents=True, exist_ok=True)
    from .repo import seed_repo

    pids: dict[str, int] = {}
    state = {
        "id": secrets.token_hex(16),
        "ssh": ssh,
        "hosts": hosts,
        "serve": serve,
        "server": server,
        "manager": manager,
        "balancer": balancer,
        "ci": ci,
        "logs": logs,
        "monitoring": monitoring,
        "pids": pids,
    }
    (folder / MARKER).write_text(state["id"] + "\n")
    (folder / STATE).write_text(json.dumps(state))
    names = ["dev"] + [f"prod{i}" for i in range(1, hosts + 1)] + (list(lb.NAMES) if balancer else [])
    names += [mon.MON] if monitoring else []
    try:
        seed_repo(folder / "app")
        entries = _start_hosts(folder, names, ssh, serve, pids)
        section = ci_entry(folder, ssh, pids) if ci else None
        log_section = logging_host.logs_entry(folder, ssh, pids) if logs else None
        (folder / STATE).write_text(json.dumps(state))
        mon_entry = entries.pop() if monitoring else None
        prod, extra = entries[1 : hosts + 1], entries[hosts + 1 :]
        lb_metrics = sshd.free_port() if balancer and monitoring else None
        _write_config(
            folder,
            entries[: hosts + 1],
            ssh,
            extra,
            section,
            log_section,
            mon.section(mon_entry) if mon_entry else None,
        )
        if serve:
            _serve_prod(folder, prod + extra[:1], ssh, serving)
        if balancer:
            _start_balancer(folder, extra[1], prod, ssh, serve, lb_metrics)
        if section:
            start_ci(folder)
        if log_section:
            logging_host.start_logs(folder)
        if mon_entry:
            watched = {"prod": prod, **({lb.STAGING: extra[:1]} if extra else {})}
            jobs = mon.jobs(watched, extra[1] if extra else None, lb_metrics)
            every = [*entries, mon_entry, *(part["host"] for part in (section, log_section) if part)]
            jobs.append(mon.node_job(_start_node_exporters(folder, every, ssh)))
            _start_monitoring(folder, mon_entry, jobs, ssh, serve)
    except BaseException:
        down(folder)
        raise
    return Sandbox(folder, ssh, hosts, serving, balancer, ci, logs, monitoring)


def _start_hosts(folder: Path, names: list[str], ssh: bool, serve: bool, pids: dict[str, int]) -> list[dict]:
    entries = []
    ssh_dir = folder / "ssh"
    if ssh:
        ssh_dir.mkdir()
        sshd.keygen(ssh_dir / "id_ed25519", "ladder-sandbox")
        (ssh_dir / "authorized_keys").write_text((ssh_dir / "id_ed25519.pub").read_text())
    known = []
    for name in names:
        base = folder / "hosts" / name
        base.mkdir(parents=True)
        entry = {
            "name": name,
            "address": "local",
            "base": f"hosts/{name}",
            "app_port": sshd.free_port(),
            # Dev makes its venv from this interpreter (rung 1); a serving prod has a venv of its own.
            "python": Layout(str(base)).venv_python if serve and name != "dev" else sys.executable,
        }
        if ssh:
            server = sshd.start(name, ssh_dir / "hosts" / name, ssh_dir / "authorized_keys")
            pids[f"sshd-{name}"] = server.pid
            known.append(sshd.known_hosts_line(server))
            entry.update(address="127.0.0.1", port=server.port, user=getpass.getuser(), base=str(base))
        entries.append(entry)
    if ssh:
        (ssh_dir / "known_hosts").write_text("\n".join(known) + "\n")
    return entries


def _write_config(
    folder: Path,
    entries: list[dict],
    ssh: bool,
    extra: list[dict] | None = None,
    ci: dict | None = None,
    logs: dict | None = None,
    monitoring: dict | None = None,
) -> None:
    config = {
        "app": {
            "name": APP_NAME,
            "repo": "app",
            "wsgi": "app:application",
            "health_path": "/health",
            "port": entries[1]["app_port"],
        },
        # extra: staging and lb, in lb.NAMES's order
        "environments": {"dev": {"hosts": entries[:1]}, **({"staging": {"hosts": extra[:1]}} if extra else {})},
    }
    config["environments"]["prod"] = {"hosts": entries[1:]}
    if extra:
        config["balancer"] = lb.section(folder, extra[1])
    if monitoring:
        config["monitoring"] = monitoring
    if ssh:
        config["ssh"] = {"known_hosts": "ssh/known_hosts", "identity_file": "ssh/id_ed25519", "connect_timeout": 5}
    if ci:
        config["ci"] = ci
    if logs:
        config["logs"] = logs
    header = "# Written by `ladder sandbox up`: the team from the story, on this machine.\n"
    (folder / "ladder.yml").write_text(header + yaml.safe_dump(config, sort_keys=False))


def _host(folder: Path, entry: dict, ssh: bool) -> Host:
    if not ssh:
        return LocalHost(entry["name"], folder / entry["base"])
    return SSHHost(
        entry["name"],
        "127.0.0.1",
        entry["base"],
        port=entry["port"],
        user=entry["user"],
        known_hosts=folder / "ssh" / "known_hosts",
        identity_file=folder / "ssh" / "id_ed25519",
        connect_timeout=5,
    )


def _serve_prod(folder: Path, entries: list[dict], ssh: bool, serving: Serving) -> None:
    """Set up every prod host as the story has it, in parallel (their venv installs are most of the time)."""
    by_name = {entry["name"]: entry for entry in entries}
    hosts = [_host(folder, entry, ssh) for entry in entries]
    try:
        run_all(
            hosts,
            lambda h: legacy_prod(h, folder / "app", by_name[h.name], serving, APP_NAME),
            workers=os.cpu_count() or 1,
            deadline=VENV_TIMEOUT + PIP_TIMEOUT + 60,
        )
    finally:
        for host in hosts:
            host.close()


def _start_balancer(
    folder: Path, entry: dict, prod: list[dict], ssh: bool, serve: bool, metrics_port: int | None = None
) -> None:
    """HAProxy on the lb host in front of the prod hosts; with serve, wait until it calls them all UP."""
    with _host(folder, entry, ssh) as host:
        socket = lb.section(folder, entry)["socket"]
        lb.start(host, entry, prod, socket=socket, health_path="/health", wait=serve, metrics_port=metrics_port)


def _start_monitoring(folder: Path, entry: dict, jobs: list, ssh: bool, serve: bool) -> None:
    """Prometheus on the mon host; with serve, wait until it has scraped every target UP."""
    with _host(folder, entry, ssh) as host:
        prom = mon.start(host, entry, jobs)
    if serve:
        mon.wait_up(prom, sum(len(job.targets) for job in jobs))


def _start_node_exporters(folder: Path, entries: list[dict], ssh: bool) -> list:
    """A node exporter on every host, each on a free loopback port of its own; their scrape targets."""
    targets = []
    for entry in entries:
        with _host(folder, entry, ssh) as host:
            targets.append(mon.start_node_exporter(host, sshd.free_port()))
    return targets


def _signal(pid: int, sig: int) -> None:
    """Signal a process, and its whole group when it leads one (sshd's pre-auth children hold its port)."""
    if os.getpgid(pid) == pid:
        os.killpg(pid, sig)
    else:
        os.kill(pid, sig)


def _stop(pid: int, grace: float = 5) -> None:
    try:
        _signal(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid):
        try:  # reap it if it is our own child
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    if _alive(pid):
        try:
            _signal(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def processes(folder: str | Path) -> dict[str, int]:
    """Every live process this sandbox started: sshd servers and anything with a pid file on a host.

    A pid counts only while its process's command line names the folder, so a reused pid is never one.
    """
    folder = Path(folder).absolute()
    state = _read_state(folder) or {"pids": {}}
    found = {name: pid for name, pid in state["pids"].items() if _alive(pid) and _owned(pid, str(folder))}
    for pidfile in sorted((folder / "hosts").glob("**/*.pid")):
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            continue
        if _alive(pid) and _owned(pid, str(folder)):
            found[str(pidfile.relative_to(folder))] = pid
    return found


def down(folder: str | Path | None = None) -> list[str]:
    """Stop every process the sandbox started, by pid, and remove its folder; NotASandbox for a folder `up` did not make."""
    import shutil

    folder = Path(folder or sandbox_dir()).absolute()
    if not folder.exists() and not folder.is_symlink():
        return []
    _check_own(folder)
    stopped = []

    # supervisord first (else it restarts what it manages), then app servers while their hosts' sshd are up.
    def order(item: tuple[str, int]) -> tuple[bool, bool]:
        return (item[0].startswith("sshd-"), not item[0].endswith("supervisord.pid"))

    for name, pid in sorted(processes(folder).items(), key=order):
        _stop(pid)
        stopped.append(name)
    lb.forget(folder)
    shutil.rmtree(folder)
    return stopped
