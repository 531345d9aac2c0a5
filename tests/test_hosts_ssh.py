"""End to end against real sshd servers: run/put/get, host-key refusals, timeouts, fan-out."""

from __future__ import annotations

import os
import socket
import threading
import time

import paramiko
import pytest
from conftest import require_sshd

from ladder import sandbox
from ladder.cli import main as ladder_main
from ladder.core.config import load_config
from ladder.core.errors import AuthenticationFailed, CommandTimeout, FleetError, HostKeyError, UnreachableHost
from ladder.core.fleet import run_all
from ladder.core.hostkeys import fingerprint
from ladder.core.hosts import SSHHost, environment_hosts

pytestmark = pytest.mark.ssh


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Ten bare sshd hosts (plus dev) from the sandbox, shared by this module."""
    require_sshd()
    box = sandbox.up(tmp_path_factory.mktemp("fleet") / "sandbox", ssh=True, hosts=10, serve=False)
    yield box
    sandbox.down(box.dir)


@pytest.fixture
def config(fleet):
    return load_config(fleet.config_path)


@pytest.fixture
def prod1(config):
    (host,) = [h for h in environment_hosts(config, "prod") if h.name == "prod1"]
    with host:
        yield host


def test_run_put_get(prod1, tmp_path):
    r = prod1.run("echo $((6*7)); echo warn >&2", cwd=prod1.base)
    assert r.ok and r.stdout == "42\n" and r.stderr == "warn\n"
    src = tmp_path / "up.txt"
    src.write_text("über\n")
    prod1.put(src, prod1.path("up.txt"))
    assert prod1.run(f"cat {prod1.path('up.txt')}").stdout == "über\n"
    prod1.get(prod1.path("up.txt"), tmp_path / "down.txt")
    assert (tmp_path / "down.txt").read_text() == "über\n"
    prod1.write_text(prod1.path("w.txt"), "a\n", mode=0o640)
    assert prod1.read_text(prod1.path("w.txt")) == "a\n" and prod1.exists(prod1.path("w.txt"))
    assert oct(prod1.sftp.stat(prod1.path("w.txt")).st_mode & 0o777) == "0o640"


def test_unknown_host_key_is_refused_with_fingerprint_and_fix(config, tmp_path):
    hc = config.host_config("prod2")
    host = SSHHost(
        hc.name,
        hc.address,
        hc.base,
        port=hc.port,
        user=hc.user,
        known_hosts=tmp_path / "empty_known_hosts",
        identity_file=config.ssh.identity_file,
    )
    with pytest.raises(HostKeyError) as err:
        host.run("true")
    assert err.value.fingerprint.startswith("SHA256:")
    assert "ladder hosts trust prod2" in str(err.value)


def test_changed_host_key_is_refused(config, tmp_path):
    hc = config.host_config("prod3")
    impostor = paramiko.Ed25519Key.from_private_key_file(str(config.ssh.identity_file))
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{hc.port} ssh-ed25519 {impostor.get_base64()}\n")
    host = SSHHost(
        hc.name,
        hc.address,
        hc.base,
        port=hc.port,
        user=hc.user,
        known_hosts=known,
        identity_file=config.ssh.identity_file,
    )
    with pytest.raises(HostKeyError, match="CHANGED") as err:
        host.run("true")
    assert "--replace" in err.value.fix
    assert err.value.fingerprint != fingerprint(impostor)


def test_trust_records_the_key_then_refuses_a_changed_one(fleet, tmp_path, capsys):
    cfg_text = fleet.config_path.read_text().replace("known_hosts: ssh/known_hosts", f"known_hosts: {tmp_path / 'kh'}")
    cfg = fleet.dir / "trust-test.yml"
    cfg.write_text(cfg_text)
    assert ladder_main(["hosts", "trust", "prod4", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "SHA256:" in out and "trusted prod4" in out
    (host,) = [h for h in environment_hosts(load_config(cfg), "prod") if h.name == "prod4"]
    with host:
        assert host.run("true").ok
    # A different key recorded for the same name is not silently replaced.
    line = (tmp_path / "kh").read_text().split()
    other = paramiko.Ed25519Key.from_private_key_file(str(fleet.dir / "ssh" / "id_ed25519"))
    (tmp_path / "kh").write_text(f"{line[0]} ssh-ed25519 {other.get_base64()}\n")
    assert ladder_main(["hosts", "trust", "prod4", "--config", str(cfg)]) == 2
    assert "--replace" in capsys.readouterr().err
    assert ladder_main(["hosts", "trust", "prod4", "--config", str(cfg), "--replace"]) == 0


def test_timeout_really_ends_the_remote_process(prod1):
    tag = f"ladder-timeout-{os.getpid()}-{time.monotonic_ns()}"
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        prod1.run(f"bash -c 'sleep 60; : {tag}' & sleep 60", timeout=1)
    assert time.monotonic() - started < 15
    time.sleep(0.5)
    # The bracket keeps pgrep from matching the shell that runs it.
    assert prod1.run(f"pgrep -f '[{tag[0]}]{tag[1:]}'", warn=True).failed, "the remote process outlived its timeout"


def test_missing_identity_file_named_before_connecting(config, tmp_path):
    hc = config.host_config("prod1")
    host = SSHHost(
        hc.name,
        hc.address,
        hc.base,
        port=hc.port,
        known_hosts=config.ssh.known_hosts,
        identity_file=tmp_path / "no_such_key",
    )
    with pytest.raises(AuthenticationFailed, match="no_such_key.*does not exist"):
        host.run("true")


def test_refused_port_fails_fast():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(UnreachableHost, match=f"127.0.0.1:{port}"):
        SSHHost("gone", "127.0.0.1", "/", port=port, connect_timeout=2).run("true")
    assert time.monotonic() - started < 2


def test_silent_host_errors_within_the_connect_timeout():
    # A port that accepts TCP but never speaks SSH: what a black-holed or hung server looks like.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(UnreachableHost):
            SSHHost("silent", "127.0.0.1", "/", port=server.getsockname()[1], connect_timeout=1).run("true")
        assert time.monotonic() - started < 8
    finally:
        server.close()
        for conn, _ in held:
            conn.close()


def test_fanout_over_ten_hosts_names_exactly_the_one_down(fleet, config):
    hosts = environment_hosts(config, "prod")
    assert len(hosts) == 10
    state = fleet.dir / "state.json"
    import json

    victim = "prod7"
    pid = json.loads(state.read_text())["pids"][f"sshd-{victim}"]
    os.kill(pid, 15)
    time.sleep(0.3)
    try:
        with pytest.raises(FleetError) as err:
            run_all(hosts, lambda h: h.run("hostname").ok, deadline=30)
        assert set(err.value.failed) == {victim}
        assert isinstance(err.value.failed[victim], UnreachableHost)
        assert sum(1 for r in err.value.results.values() if r is True) == 9
    finally:
        for h in hosts:
            h.close()


def through_jump(config, tmp_path, monkeypatch, known_lines) -> tuple[SSHHost, int]:
    """prod10 reached through prod9 by a ProxyJump in ~/.ssh/config (HOME is a tmp folder), with these known_hosts."""
    jump, hc = config.host_config("prod9"), config.host_config("prod10")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host {hc.address}\n  ProxyJump jumpbox\n"
        f"Host jumpbox\n  HostName 127.0.0.1\n  Port {jump.port}\n  User {jump.user}\n"
        f"  IdentityFile {config.ssh.identity_file}\n  IdentitiesOnly yes\n"
    )
    monkeypatch.setenv("HOME", str(home))
    known = tmp_path / "known_hosts"
    known.write_text("".join(line + "\n" for line in known_lines(jump.port)))
    host = SSHHost(
        hc.name, hc.address, hc.base, port=hc.port, user=hc.user, known_hosts=known,
        identity_file=config.ssh.identity_file, connect_timeout=5,
    )  # fmt: skip
    return host, jump.port


def recorded(config) -> list[str]:
    return config.ssh.known_hosts.read_text().splitlines()


def test_an_unknown_jump_host_key_is_refused_naming_the_jump_host(config, tmp_path, monkeypatch):
    host, port = through_jump(
        config,
        tmp_path,
        monkeypatch,
        lambda port: [k for k in recorded(config) if not k.startswith(f"[127.0.0.1]:{port} ")],
    )
    with host, pytest.raises(HostKeyError) as err:
        host.run("touch ran-through-an-unknown-jump-host")
    assert err.value.host == "prod10" and f"unknown host key for jump host [127.0.0.1]:{port}" in str(err.value)
    assert err.value.fingerprint.startswith("SHA256:") and f"ssh-keyscan -p {port} 127.0.0.1 >>" in err.value.fix
    assert not os.path.exists(os.path.join(host.base, "ran-through-an-unknown-jump-host"))


def test_a_changed_jump_host_key_is_refused(config, tmp_path, monkeypatch):
    impostor = paramiko.Ed25519Key.from_private_key_file(str(config.ssh.identity_file)).get_base64()
    host, port = through_jump(
        config,
        tmp_path,
        monkeypatch,
        lambda port: [
            f"[127.0.0.1]:{port} ssh-ed25519 {impostor}" if k.startswith(f"[127.0.0.1]:{port} ") else k
            for k in recorded(config)
        ],
    )
    with host, pytest.raises(HostKeyError, match=rf"host key for jump host \[127.0.0.1\]:{port} has CHANGED"):
        host.run("true")


def test_a_trusted_jump_host_carries_the_connection(config, tmp_path, monkeypatch):
    host, port = through_jump(config, tmp_path, monkeypatch, lambda port: recorded(config))
    with host:
        assert host.run("echo through").stdout == "through\n"
        gateway = host.connection.gateway
        assert gateway.is_connected and (gateway.host, gateway.port) == ("127.0.0.1", port)
