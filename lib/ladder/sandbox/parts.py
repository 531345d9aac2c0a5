"""What the sandbox's optional parts (ci, logs, lb) share: a host of their own and the tools they need here."""

from __future__ import annotations

import getpass
import os
import shutil
import sys
from pathlib import Path

from ..core.errors import LadderError
from . import sshd


def own_host(folder: Path, name: str, ssh: bool, pids: dict[str, int]) -> dict:
    """Make a host outside the environments (a folder; with ssh, its own sshd, in pids and known_hosts): its entry."""
    base = folder / "hosts" / name
    base.mkdir(parents=True)
    host: dict = {"name": name, "address": "local", "base": f"hosts/{name}", "python": sys.executable}
    if ssh:
        ssh_dir = folder / "ssh"
        server = sshd.start(name, ssh_dir / "hosts" / name, ssh_dir / "authorized_keys")
        pids[f"sshd-{name}"] = server.pid
        with open(ssh_dir / "known_hosts", "a") as known:
            known.write(sshd.known_hosts_line(server) + "\n")
        host.update(address="127.0.0.1", port=server.port, user=getpass.getuser(), base=str(base))
    return host


def require_tools(tools: tuple[str, ...], part: str, packages: str, flag: str) -> None:
    """Refuse, before anything is built, when a tool a part runs is missing on this machine."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    missing = [tool for tool in tools if shutil.which(tool, path=path) is None]
    if missing:
        raise LadderError(
            f"the sandbox's {part} needs {' and '.join(missing)}; install with: apt-get install {packages} (or pass {flag})"
        )
