"""The sandbox's CI: a `ci` host running the Buildbot master, a worker on dev, and the app repository's push hook."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from ..app import ci_server
from ..app.ci_render import CISetup
from ..app.git import open_repo
from ..core.hosts import Host, LocalHost
from . import sshd

NAME = "ci"


def ci_entry(folder: Path, ssh: bool, pids: dict[str, int]) -> dict:
    """Make the ci host (a folder; with ssh, its own sshd, recorded in pids) and return its ladder.yml ci: section."""
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
    return {"host": host, "url": f"http://127.0.0.1:{sshd.free_port()}/", "pb_port": sshd.free_port(), "worker": "dev"}


def setup_of(folder: Path, section: dict) -> CISetup:
    """What the sandbox's Buildbot builds: the app repository's trunk, on the dev host's worker."""
    trunk = open_repo(folder / "app").trunk
    return CISetup(
        app="shop",
        repo=str(folder / "app"),
        trunk=trunk.short if trunk else "master",
        worker=section["worker"],
        python=sys.executable,
        www_port=int(section["url"].rsplit(":", 1)[1].strip("/")),
        pb_port=section["pb_port"],
    )


def start_ci(folder: Path, section: dict, master: Host, worker: Host) -> None:
    """Start the master on ci and the worker on dev, and install the post-receive hook on the app repository."""
    setup = setup_of(folder, section)
    with master, worker:
        ci_server.apply(
            master, worker, setup, master_python=sys.executable, worker_python=sys.executable, dry_run=False
        )
    ci_server.install_hook(LocalHost("app", folder), setup.repo, setup.url, dry_run=False)
