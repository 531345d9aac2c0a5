"""The sandbox's log host: a `logs` host running rsyslog that receives the app hosts' logs over TCP."""

from __future__ import annotations

from pathlib import Path

from ..app import central_logs
from ..core.config import load_config
from ..core.errors import LadderError
from ..core.hosts import connect
from . import sshd
from .parts import own_host, require_tools

NAME = "logs"


def require() -> None:
    """Refuse, before anything is built, when rsyslogd or logrotate is missing on this machine (the log host's)."""
    require_tools(("rsyslogd", "logrotate"), "log host", "rsyslog logrotate", "--no-logs")


def logs_entry(folder: Path, ssh: bool, pids: dict[str, int]) -> dict:
    """Make the logs host (a folder; with ssh, its own sshd, recorded in pids) and return ladder.yml's logs: section."""
    return {"host": own_host(folder, NAME, ssh, pids), "port": sshd.free_port()}


def start_logs(folder: Path) -> None:
    """Start the log host's rsyslogd as ladder.yml's logs: says (the app hosts' forwarding is rung 5b's step)."""
    cfg = load_config(folder / "ladder.yml")
    if cfg.logs is None:
        raise LadderError(f"{folder / 'ladder.yml'} has no logs: section; `up` writes it before starting the log host")
    with connect(cfg.logs.host, cfg.ssh) as host:
        central_logs.install_receiver(host, port=cfg.logs.port, central_dir=cfg.logs.dir, dry_run=False)
