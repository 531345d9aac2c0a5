"""The sandbox's log host: a `logs` host running rsyslog that receives the app hosts' logs over TCP."""

from __future__ import annotations

import getpass
import os
import shutil
import sys
from pathlib import Path

from ..app import central_logs
from ..core.config import load_config
from ..core.errors import LadderError
from ..core.hosts import connect
from . import sshd

NAME = "logs"


def require() -> None:
    """Refuse, before anything is built, when rsyslogd or logrotate is missing on this machine (the log host's)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    missing = [tool for tool in ("rsyslogd", "logrotate") if shutil.which(tool, path=path) is None]
    if missing:
        raise LadderError(
            f"the sandbox's log host needs {' and '.join(missing)}; install with: "
            "apt-get install rsyslog logrotate (or pass --no-logs)"
        )


def logs_entry(folder: Path, ssh: bool, pids: dict[str, int]) -> dict:
    """Make the logs host (a folder; with ssh, its own sshd, recorded in pids) and return ladder.yml's logs: section."""
    base = folder / "hosts" / NAME
    base.mkdir(parents=True)
    host: dict = {"name": NAME, "address": "local", "base": f"hosts/{NAME}", "python": sys.executable}
    if ssh:
        ssh_dir = folder / "ssh"
        server = sshd.start(NAME, ssh_dir / "hosts" / NAME, ssh_dir / "authorized_keys")
        pids[f"sshd-{NAME}"] = server.pid
        with open(ssh_dir / "known_hosts", "a") as known:
            known.write(sshd.known_hosts_line(server) + "\n")
        host.update(address="127.0.0.1", port=server.port, user=getpass.getuser(), base=str(base))
    return {"host": host, "port": sshd.free_port()}


def start_logs(folder: Path) -> None:
    """Start the log host's rsyslogd as ladder.yml's logs: says (the app hosts' forwarding is rung 5b's step)."""
    cfg = load_config(folder / "ladder.yml")
    if cfg.logs is None:
        raise LadderError(f"{folder / 'ladder.yml'} has no logs: section; `up` writes it before starting the log host")
    with connect(cfg.logs.host, cfg.ssh) as host:
        central_logs.install_receiver(host, port=cfg.logs.port, central_dir=cfg.logs.dir, dry_run=False)
