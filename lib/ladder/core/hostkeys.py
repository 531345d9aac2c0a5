"""Host keys: fingerprints, what known_hosts records, and recording a server's key once a person has checked it."""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import paramiko

from .config import HostConfig
from .errors import HostError, HostKeyError, UnreachableHost


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style SHA256 fingerprint of a public key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_hosts_name(address: str, port: int) -> str:
    """The name OpenSSH records a host under in known_hosts."""
    return address if port == 22 else f"[{address}]:{port}"


def scan_host_key(address: str, port: int = 22, timeout: float = 10) -> paramiko.PKey:
    """Fetch a server's host key without authenticating (like ssh-keyscan)."""
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        raise UnreachableHost(f"cannot connect to {address}:{port} ({exc})", host=address) from None
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key()
    finally:
        transport.close()


def recorded_key(known_hosts: str | Path, address: str, port: int, key_type: str) -> paramiko.PKey | None:
    """The key of this type known_hosts records for a server, or None."""
    path = Path(known_hosts).expanduser()
    keys = paramiko.HostKeys(str(path)) if path.is_file() else paramiko.HostKeys()
    return (keys.lookup(known_hosts_name(address, port)) or {}).get(key_type)


def record_key(
    address: str, port: int, key: paramiko.PKey, known_hosts: str | Path, *, replace: bool = False
) -> str | None:
    """Record a key a person has checked in known_hosts; return the fingerprint it replaced."""
    path = Path(known_hosts).expanduser()
    name = known_hosts_name(address, port)
    previous = recorded_key(path, address, port, key.get_name())
    if previous is not None and previous != key and not replace:
        raise HostKeyError(
            f"{name} already has a different {key.get_name()} key recorded",
            host=name,
            fingerprint=fingerprint(key),
            fix="Pass --replace to overwrite it once you are sure the change is expected",
        )
    keys = paramiko.HostKeys(str(path)) if path.is_file() else paramiko.HostKeys()
    keys.add(name, key.get_name(), key)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys.save(str(path))
    return fingerprint(previous) if previous is not None and previous != key else None


def trust(
    address: str, port: int, known_hosts: str | Path, *, replace: bool = False, timeout: float = 10
) -> tuple[paramiko.PKey, str | None]:
    """Record a server's current key in known_hosts; return it and the fingerprint it replaced."""
    key = scan_host_key(address, port, timeout)
    return key, record_key(address, port, key, known_hosts, replace=replace)


@dataclass(frozen=True)
class KeyReview:
    """One server's key against known_hosts: 'new', 'known', 'changed', or 'unreachable' (with the error)."""

    hosts: tuple[str, ...]  # the config's hosts at this address and port
    address: str
    port: int
    status: str
    key: paramiko.PKey | None = None
    error: str = ""

    @property
    def fingerprint(self) -> str:
        """The scanned key's SHA256 fingerprint ('' when none was read)."""
        return fingerprint(self.key) if self.key is not None else ""


def review(hosts: Iterable[HostConfig], known_hosts: str | Path, *, timeout: float = 10) -> list[KeyReview]:
    """Scan each SSH server of these hosts once and say what known_hosts holds for its key; records nothing."""
    servers: dict[tuple[str, int], list[str]] = {}
    for h in hosts:
        if not h.is_local:
            servers.setdefault((h.address, h.port), []).append(h.name)
    found = []
    for (address, port), names in servers.items():
        try:
            key = scan_host_key(address, port, timeout)
        except (HostError, OSError, paramiko.SSHException) as exc:
            found.append(KeyReview(tuple(names), address, port, "unreachable", error=str(exc)))
            continue
        recorded = recorded_key(known_hosts, address, port, key.get_name())
        status = "new" if recorded is None else ("known" if recorded == key else "changed")
        found.append(KeyReview(tuple(names), address, port, status, key))
    return found
