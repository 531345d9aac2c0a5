"""ladder.core.copy: skipped when the sha256 matches, atomic when not, the old file intact when a copy fails."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import paramiko
import pytest
from conftest import require_sshd

from ladder import sandbox
from ladder.core.config import load_config
from ladder.core.copy import copy, copy_all
from ladder.core.errors import HostError, SourceMissing
from ladder.core.hosts import LocalHost, SSHHost, environment_hosts
from tree import snapshot


def listing(host, folder: str) -> list[str]:
    """Every name in a folder on the host, hidden ones included, as the host itself lists them."""
    return sorted(host.run(f"ls -A -- {folder}").stdout.split())


def converge(host, tmp_path) -> None:
    """Plan, copy, copy again, change only the mode, then the content: each step does only what is left."""
    src = tmp_path / "app.whl"
    src.write_bytes(os.urandom(300_000))
    folder = host.path("releases")
    host.run(f"mkdir -p {folder}")
    target = f"{folder}/app.whl"

    plan = copy(host, src, target, 0o640)
    assert plan.outcome == "planned" and plan.reason == "missing" and plan.operation == "copy"
    assert "300000 bytes" in plan.commands[0] and "mode 640" in plan.commands[0]
    assert listing(host, folder) == [], "a dry run changed the host"

    done = copy(host, src, target, 0o640, dry_run=False)
    assert done.outcome == "changed" and done.commands == plan.commands
    assert host.run(f"sha256sum {target}").stdout.split()[0] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert host.run(f"stat -c %a {target}").stdout.strip() == "640"
    again = copy(host, src, target, 0o640, dry_run=False)
    assert again.outcome == "ok" and again.commands == () and again.reason == "already as wanted"

    mode_only = copy(host, src, target, 0o600, dry_run=False)
    assert mode_only.reason == "mode 640 -> 600" and mode_only.commands[0].startswith("chmod 600 ")
    assert host.run(f"stat -c %a {target}").stdout.strip() == "600"

    src.write_bytes(os.urandom(1000))
    replaced = copy(host, src, target, dry_run=False)  # no mode given: the file keeps the one it had
    assert replaced.reason == "content differs" and "mode 600" in replaced.commands[0]
    assert host.run(f"stat -c %a {target}").stdout.strip() == "600"
    assert copy(host, src, target, dry_run=False).outcome == "ok"
    assert listing(host, folder) == ["app.whl"], "a temp file was left behind"


@pytest.mark.local
def test_copy_converges_on_a_folder_host(tmp_path):
    host = LocalHost("here", tmp_path / "host")
    os.mkdir(host.base)
    converge(host, tmp_path)
    with open(host.path("releases/app.whl"), "rb") as f:
        assert f.read() == (tmp_path / "app.whl").read_bytes()


@pytest.mark.local
def test_a_dry_run_changes_nothing(tmp_path):
    host = LocalHost("here", tmp_path / "host")
    os.mkdir(host.base)
    (tmp_path / "host/app.conf").write_text("old\n")
    (tmp_path / "new.conf").write_text("new\n")
    before = snapshot(tmp_path / "host")
    assert copy(host, tmp_path / "new.conf", host.path("app.conf"), 0o600).outcome == "planned"
    assert copy(host, tmp_path / "new.conf", host.path("app.conf")).outcome == "planned"
    assert snapshot(tmp_path / "host") == before


@pytest.mark.local
def test_a_failed_rename_leaves_the_old_target_and_no_temp_file(tmp_path):
    host = LocalHost("here", tmp_path / "host")
    os.makedirs(tmp_path / "host/conf.d")
    (tmp_path / "host/conf.d/keep").write_text("kept\n")
    (tmp_path / "new.conf").write_text("new\n")
    before = snapshot(tmp_path / "host")
    with pytest.raises(OSError):  # a file cannot be renamed over a folder that holds files
        host.replace(tmp_path / "new.conf", host.path("conf.d"), 0o644)
    assert snapshot(tmp_path / "host") == before


@pytest.mark.local
def test_bad_input_is_refused_before_any_host_is_touched(tmp_path):
    nowhere = SSHHost("nowhere", "127.0.0.1", "/srv", port=1, connect_timeout=1)  # connecting would fail
    with pytest.raises(SourceMissing, match="no such file to copy"):
        copy(nowhere, tmp_path / "missing.whl", "/srv/app.whl", dry_run=False)
    with pytest.raises(SourceMissing):
        copy_all([nowhere], tmp_path / "missing.whl", "/srv/app.whl", dry_run=False)
    host = LocalHost("here", tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    with pytest.raises(HostError, match="is a directory, not a file"):
        copy(host, tmp_path / "f", host.path("d"), dry_run=False)
    assert (tmp_path / "d").is_dir()


@pytest.mark.local
def test_a_missing_folder_is_a_host_error_naming_it(tmp_path):
    host = LocalHost("here", tmp_path / "host")
    os.mkdir(host.base)
    (tmp_path / "app.conf").write_text("x\n")
    with pytest.raises(
        HostError, match=r"here: copying app.conf to .*/host/etc/app.conf failed .* Check that .*/host/etc exists"
    ):
        copy(host, tmp_path / "app.conf", "etc/app.conf", dry_run=False)
    assert os.listdir(host.base) == []


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Two bare sshd prod hosts from the sandbox, shared by this module's ssh tests."""
    require_sshd()
    box = sandbox.up(tmp_path_factory.mktemp("copy") / "sandbox", ssh=True, hosts=2, serve=False)
    yield environment_hosts(load_config(box.config_path), "prod")
    sandbox.down(box.dir)


@pytest.mark.ssh
def test_copy_converges_over_ssh(fleet, tmp_path):
    host = fleet[0]
    with host:
        converge(host, tmp_path)
        local = (tmp_path / "app.whl").read_bytes()
        assert host.sftp.open(host.path("releases/app.whl")).read() == local


@pytest.mark.ssh
def test_copy_all_copies_each_host_once(fleet, tmp_path):
    src = tmp_path / "settings.toml"
    src.write_text("debug = false\n")
    for h in fleet:
        h.run(f"mkdir -p {h.path('conf')}")
    try:
        first = copy_all(fleet, src, "conf/settings.toml", 0o640, dry_run=False)  # under each host's base folder
        assert {c.outcome for c in first.values()} == {"changed"} and set(first) == {h.name for h in fleet}
        assert {c.target for c in first.values()} == {h.path("conf/settings.toml") for h in fleet}
        assert len({c.target for c in first.values()}) == len(fleet)
        second = copy_all(fleet, src, "conf/settings.toml", 0o640, dry_run=False)
        assert {c.outcome for c in second.values()} == {"ok"}
    finally:
        for h in fleet:
            h.close()


@pytest.mark.ssh
def test_a_transfer_killed_part_way_leaves_the_old_file_and_no_temp_file(fleet, tmp_path):
    host = fleet[0]
    folder = host.path("killed")
    target = f"{folder}/app.whl"
    big = tmp_path / "big.whl"
    big.write_bytes(os.urandom(48 << 20))
    (tmp_path / "old.whl").write_bytes(b"the release that serves\n")
    with host:
        host.run(f"mkdir -p {folder}")
        copy(host, tmp_path / "old.whl", target, dry_run=False)

        killed = threading.Event()

        def kill_when_half_sent() -> None:
            """Drop the connection once the temp file holds a few megabytes: the transfer dies part-way."""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed.is_set():
                temps = [e.path for e in os.scandir(folder) if e.name.startswith(".app.whl.ladder-")]
                if temps and os.path.getsize(temps[0]) > 4 << 20:
                    host.close()
                    killed.set()
                time.sleep(0.002)

        killer = threading.Thread(target=kill_when_half_sent)
        killer.start()
        try:
            with pytest.raises((HostError, EOFError, paramiko.SSHException)):  # whichever the dropped session raised
                copy(host, big, target, dry_run=False)
        finally:
            killed.set()
            killer.join()
        assert host.read_text(target) == "the release that serves\n"
        assert listing(host, folder) == ["app.whl"], "the temp file of the killed copy was left behind"
