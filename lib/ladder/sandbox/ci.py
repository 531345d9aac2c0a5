"""The sandbox's CI: a `ci` host running the Buildbot master, a worker on dev, and the app repository's push hook."""

from __future__ import annotations

from pathlib import Path

from ..app import ci_server
from ..core.config import load_config
from . import sshd
from .parts import own_host

NAME = "ci"


def ci_entry(folder: Path, ssh: bool, pids: dict[str, int]) -> dict:
    """Make the ci host (a folder; with ssh, its own sshd, recorded in pids) and return its ladder.yml ci: section."""
    host = own_host(folder, NAME, ssh, pids)
    return {"host": host, "url": f"http://127.0.0.1:{sshd.free_port()}/", "pb_port": sshd.free_port(), "worker": "dev"}


def start_ci(folder: Path) -> None:
    """Start the master on ci and the worker on dev, and install the post-receive hook, as ladder.yml's ci: says."""
    ci_server.install(load_config(folder / "ladder.yml"), dry_run=False)
