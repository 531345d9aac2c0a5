"""Real OpenSSH servers on 127.0.0.1, one per sandbox host, started as child processes."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import LadderError

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd")


def find_sshd() -> str | None:
    """Path of the sshd binary, or None when OpenSSH's server is not installed."""
    found = shutil.which("sshd")
    if found:
        return found
    return next((p for p in SSHD_CANDIDATES if os.access(p, os.X_OK)), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path, comment: str) -> None:
    """Create an ed25519 key pair with no passphrase."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )


@dataclass(frozen=True)
class Server:
    """One running sshd: its port, pid and host key."""

    name: str
    port: int
    pid: int
    host_key: Path


def sshd_config(folder: Path, port: int, authorized_keys: Path) -> str:
    """A minimal sshd_config: key auth only, this user only, loopback only."""
    return "\n".join(
        [
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {folder / 'ssh_host_ed25519_key'}",
            f"PidFile {folder / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized_keys}",
            f"AllowUsers {getpass.getuser()}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "UsePAM no",
            "StrictModes no",
            "MaxStartups 200:30:400",
            "MaxSessions 50",
            "Subsystem sftp internal-sftp",
            "LogLevel ERROR",
            "",
        ]
    )


def start(name: str, folder: Path, authorized_keys: Path, *, port: int | None = None, timeout: float = 15) -> Server:
    """Start one sshd in the foreground of its own session and wait until it accepts connections."""
    sshd = find_sshd()
    if sshd is None:
        raise LadderError("sshd is not installed; install openssh-server (apt-get install openssh-server)")
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "ssh_host_ed25519_key"
    if not key.exists():
        keygen(key, f"ladder-sandbox-{name}")
    if os.geteuid() == 0:
        # sshd insists on its privilege-separation folder when run as root.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    port = port or free_port()
    config = folder / "sshd_config"
    config.write_text(sshd_config(folder, port, authorized_keys))
    log = open(folder / "sshd.log", "ab")
    proc = subprocess.Popen(
        [sshd, "-D", "-e", "-f", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LadderError(f"sshd for {name} exited at once; see {folder / 'sshd.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return Server(name, port, proc.pid, key)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise LadderError(f"sshd for {name} did not listen on port {port} within {timeout:g}s")


def known_hosts_line(server: Server) -> str:
    """The known_hosts entry for a server's host key."""
    keytype, blob = server.host_key.with_suffix(".pub").read_text().split()[:2]
    return f"[127.0.0.1]:{server.port} {keytype} {blob}"
