"""Tests for ladder.sandbox.sshd: real OpenSSH servers on 127.0.0.1, reached with the real ssh client."""

from __future__ import annotations

import getpass
import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest
from conftest import require_sshd

from ladder.core.errors import LadderError
from ladder.sandbox import sshd


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def stop(pid: int, timeout: float = 10) -> None:
    """SIGTERM a server and wait until its process is gone (reaped, whoever reaps it)."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # already reaped, by subprocess's own clean-up of a dropped Popen
            pass
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"sshd {pid} still running {timeout}s after SIGTERM")


def ssh(server: sshd.Server, client: Path, known_hosts: str, command: str) -> subprocess.CompletedProcess[str]:
    """Run `command` on a server with the real ssh client, trusting only the given known_hosts text."""
    known = client.with_name(f"known_hosts-{server.name}-{server.port}")
    known.write_text(known_hosts + "\n")
    return subprocess.run(
        ["ssh", "-F", "/dev/null", "-p", str(server.port), "-i", str(client)]
        + ["-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null"]
        + ["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
        + ["-o", "ConnectTimeout=5", f"{getpass.getuser()}@127.0.0.1", command],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """A client key pair and an authorized_keys file that lets it in: (private key, authorized_keys)."""
    client = tmp_path / "id_ed25519"
    sshd.keygen(client, "ladder-test")
    authorized = tmp_path / "authorized_keys"
    authorized.write_text(client.with_suffix(".pub").read_text())
    return client, authorized


@pytest.fixture
def servers():
    """The servers a test started and has not stopped itself; they are stopped at its end."""
    started: list[sshd.Server] = []
    yield started
    for server in started:
        stop(server.pid)


@pytest.mark.unit
def test_free_port_is_a_loopback_port_nothing_listens_on() -> None:
    port = sshd.free_port()
    assert 1024 <= port <= 65535
    assert not listening(port)
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


@pytest.mark.unit
def test_find_sshd_takes_the_one_on_path_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "sshd"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert sshd.find_sshd() == str(fake)


@pytest.mark.unit
def test_find_sshd_off_path_looks_in_the_sbin_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    expected = next((p for p in sshd.SSHD_CANDIDATES if os.access(p, os.X_OK)), None)
    assert sshd.find_sshd() == expected


@pytest.mark.unit
def test_config_allows_only_this_users_keys_on_loopback(tmp_path: Path) -> None:
    lines = sshd.sshd_config(tmp_path, 2222, tmp_path / "authorized_keys").splitlines()
    assert "Port 2222" in lines and "ListenAddress 127.0.0.1" in lines
    assert f"AllowUsers {getpass.getuser()}" in lines
    assert f"AuthorizedKeysFile {tmp_path / 'authorized_keys'}" in lines
    assert f"HostKey {tmp_path / 'ssh_host_ed25519_key'}" in lines
    assert {"PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes"} <= set(lines)


@pytest.mark.ssh
def test_a_started_server_has_its_own_host_key_and_lets_the_client_key_in(keys, servers, tmp_path: Path) -> None:
    require_sshd()
    client, authorized = keys
    server = sshd.start("dev", tmp_path / "dev", authorized)
    servers.append(server)
    assert (server.name, server.host_key) == ("dev", tmp_path / "dev" / "ssh_host_ed25519_key")
    assert server.host_key.with_suffix(".pub").read_text().split()[2] == "ladder-sandbox-dev"
    assert f"Port {server.port}" in (tmp_path / "dev" / "sshd_config").read_text()
    assert listening(server.port)
    done = ssh(server, client, sshd.known_hosts_line(server), "echo hello from $(whoami)")
    assert (done.returncode, done.stdout) == (0, f"hello from {getpass.getuser()}\n"), done.stderr


@pytest.mark.ssh
def test_a_client_holding_another_servers_key_is_refused(keys, servers, tmp_path: Path) -> None:
    require_sshd()
    client, authorized = keys
    dev = sshd.start("dev", tmp_path / "dev", authorized)
    servers.append(dev)
    prod = sshd.start("prod1", tmp_path / "prod1", authorized)
    servers.append(prod)
    assert dev.host_key.with_suffix(".pub").read_text() != prod.host_key.with_suffix(".pub").read_text()
    _, keytype, blob = sshd.known_hosts_line(prod).split()
    impostor = f"[127.0.0.1]:{dev.port} {keytype} {blob}"
    refused = ssh(dev, client, impostor, "true")
    assert refused.returncode == 255 and "Host key verification failed" in refused.stderr


@pytest.mark.ssh
def test_a_stopped_server_frees_its_port_and_a_restart_keeps_its_host_key(keys, servers, tmp_path: Path) -> None:
    require_sshd()
    client, authorized = keys
    first = sshd.start("dev", tmp_path / "dev", authorized)
    servers.append(first)
    assert listening(first.port)
    stop(first.pid)
    servers.remove(first)
    with pytest.raises(ProcessLookupError):
        os.kill(first.pid, 0)
    # A connection's pre-auth child may hold the listening socket a moment longer, until it exits.
    deadline = time.monotonic() + 10
    while listening(first.port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not listening(first.port)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # still refused while anything listens
        s.bind(("127.0.0.1", first.port))
    again = sshd.start("dev", tmp_path / "dev", authorized, port=first.port)
    servers.append(again)
    assert sshd.known_hosts_line(again) == sshd.known_hosts_line(first)
    assert ssh(again, client, sshd.known_hosts_line(first), "true").returncode == 0


@pytest.mark.ssh
def test_a_server_that_cannot_load_its_host_key_is_reported_with_its_log(keys, tmp_path: Path) -> None:
    require_sshd()
    _, authorized = keys
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "ssh_host_ed25519_key").write_text("not a key\n")
    (folder / "ssh_host_ed25519_key").chmod(0o600)
    with pytest.raises(LadderError, match=r"sshd for dev exited at once; see .*sshd\.log"):
        sshd.start("dev", folder, authorized)
    assert "host key" in (folder / "sshd.log").read_text().lower()
