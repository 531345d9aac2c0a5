"""ladder.core.hostkeys: each server's key against known_hosts (new, known, changed, unreachable), on real sshd."""

from __future__ import annotations

import dataclasses

import paramiko
import pytest

from ladder.core.config import HostConfig, load_config
from ladder.core.errors import HostKeyError
from ladder.core.hostkeys import fingerprint, record_key, recorded_key, review
from ladder.sandbox.sshd import free_port


@pytest.mark.ssh
def test_a_key_is_new_then_known_once_recorded_and_changed_when_another_is_recorded(ssh_sandbox, tmp_path):
    config = load_config(ssh_sandbox.config_path)
    dev, prod = config.environment("dev").hosts[0], config.environment("prod").hosts[0]
    known = tmp_path / "known_hosts"
    twin = dataclasses.replace(prod, name="prod-again", user="deploy")  # the same server under two names
    closed = dataclasses.replace(prod, name="gone", port=free_port())
    first = {r.hosts: r for r in review([dev, prod, twin, closed], known, timeout=5)}
    assert set(first) == {("dev",), ("prod1", "prod-again"), ("gone",)}  # one scan per server
    assert first[("dev",)].status == "new" and first[("dev",)].fingerprint.startswith("SHA256:")
    assert first[("gone",)].status == "unreachable" and "cannot connect" in first[("gone",)].error
    assert not known.exists()  # reviewing records nothing

    key = first[("dev",)].key
    assert record_key(dev.address, dev.port, key, known) is None
    assert recorded_key(known, dev.address, dev.port, key.get_name()) == key
    (again,) = review([dev], known, timeout=5)
    assert again.status == "known"

    impostor = paramiko.Ed25519Key.from_private_key_file(str(config.ssh.identity_file))
    record_key(prod.address, prod.port, impostor, known)
    (changed,) = review([prod], known, timeout=5)
    assert changed.status == "changed" and changed.fingerprint != fingerprint(impostor)
    with pytest.raises(HostKeyError, match="already has a different ssh-ed25519 key"):
        record_key(prod.address, prod.port, changed.key, known)
    assert record_key(prod.address, prod.port, changed.key, known, replace=True) == fingerprint(impostor)


@pytest.mark.unit
def test_local_folder_hosts_have_no_key_to_review(tmp_path):
    here = HostConfig("dev", "local", str(tmp_path))
    assert review([here], tmp_path / "known_hosts") == [] and not (tmp_path / "known_hosts").exists()
