"""`ladder init`: a real team's ladder.yml against real sshd servers; keys recorded only when confirmed."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ladder.core.config import load_config
from ladder.core.hostkeys import recorded_key


def ladder(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ladder.cli", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,  # not a terminal: nobody to ask
        capture_output=True,
        text=True,
        timeout=300,
    )


def flags(box, tmp_path: Path, *, without: str = "") -> list[str]:
    """Every flag of `ladder init` for the sandbox's servers, with a known_hosts of the test's own."""
    config = load_config(box.config_path)
    dev, prod = config.environment("dev").hosts[0], config.environment("prod").hosts[0]
    given = {
        "--repo": str(box.repo),
        "--wsgi": "app:application",
        "--dev": f"{dev.user}@{dev.address}:{dev.port}",
        "--prod": f"{prod.user}@{prod.address}:{prod.port}",
        "--base": str(tmp_path / "srv" / "shop"),
        "--identity": str(config.ssh.identity_file),
        "--known-hosts": str(tmp_path / "known_hosts"),
    }
    return [word for flag, value in given.items() if flag != without for word in (flag, value)]


@pytest.mark.ssh
def test_init_with_flags_writes_a_config_whose_hosts_answer(ssh_sandbox, tmp_path):
    done = ladder("init", *flags(ssh_sandbox, tmp_path), "--trust-new-keys", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = tmp_path / "ladder.yml"
    config = load_config(out)
    assert config.app.repo == str(ssh_sandbox.repo) and config.app.name == "app"
    assert [h.name for h in config.environment("prod").hosts] == ["prod1"]
    for host in (config.environment("dev").hosts[0], config.environment("prod").hosts[0]):
        assert recorded_key(tmp_path / "known_hosts", host.address, host.port, "ssh-ed25519") is not None
    lines = done.stdout.splitlines()
    assert lines[0] == f"wrote {out}"
    assert sum(line.startswith("new key of ") and " ssh-ed25519 SHA256:" in line for line in lines) == 2
    assert lines[-1] == f"next: ladder assess --config {out}"
    check = ladder("hosts", "check", "--config", str(out), cwd=tmp_path)
    assert check.returncode == 0 and check.stdout.count("ok   ") == 2, check.stdout + check.stderr


@pytest.mark.ssh
def test_without_a_terminal_or_trust_new_keys_no_key_is_recorded(ssh_sandbox, tmp_path):
    done = ladder("init", *flags(ssh_sandbox, tmp_path), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.count("not recorded (stdin is not a terminal: --trust-new-keys records it)") == 2
    assert (
        "ladder hosts trust dev --config" in done.stdout and "skip prod1: its host key is not recorded" in done.stdout
    )
    assert not (tmp_path / "known_hosts").exists()
    assert load_config(tmp_path / "ladder.yml").app.wsgi == "app:application"  # the config itself is written


def read_until(fd: int, text: str, seen: list[str], times: int = 1) -> None:
    """Read the terminal until text has shown up that many times (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + 120
    while "".join(seen).count(text) < times:
        assert time.monotonic() < deadline, f"never saw {text!r} in {''.join(seen)!r}"
        if select.select([fd], [], [], 1)[0]:
            try:
                seen.append(os.read(fd, 4096).decode(errors="replace"))
            except OSError:  # the terminal closed: the command ended
                raise AssertionError(f"ended before {text!r}: {''.join(seen)!r}") from None


@pytest.mark.ssh
def test_in_a_terminal_it_asks_for_what_is_missing_and_records_only_a_confirmed_key(ssh_sandbox, tmp_path):
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ladder.cli", "init", *flags(ssh_sandbox, tmp_path, without="--base")],
        cwd=tmp_path,
        stdin=child,
        stdout=child,
        stderr=child,
    )
    os.close(child)
    seen: list[str] = []
    try:
        read_until(main, "folder on those servers (absolute path): ", seen)
        os.write(main, b"srv/shop\n")  # not absolute: asked again
        read_until(main, "give an absolute folder on the servers", seen)
        os.write(main, f"{tmp_path / 'srv'}\n".encode())
        read_until(main, "[y/N] ", seen)
        os.write(main, b"y\n")  # dev's key
        read_until(main, "[y/N] ", seen, times=2)
        os.write(main, b"\n")  # prod1's key: the default is no
        assert proc.wait(timeout=300) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        os.close(main)
    config = load_config(tmp_path / "ladder.yml")
    dev, prod = config.environment("dev").hosts[0], config.environment("prod").hosts[0]
    assert dev.base == str(tmp_path / "srv")
    assert recorded_key(tmp_path / "known_hosts", dev.address, dev.port, "ssh-ed25519") is not None
    assert recorded_key(tmp_path / "known_hosts", prod.address, prod.port, "ssh-ed25519") is None


@pytest.mark.local
def test_a_bad_server_spec_exits_2_naming_the_flag_before_any_host_is_touched(tmp_path):
    done = ladder(
        "init",
        "--repo",
        "https://git.example/shop.git",
        "--wsgi",
        "app:application",
        "--dev",
        "deploy@web1:0",
        "--prod",
        "deploy@web2",
        "--base",
        "/srv/shop",
        cwd=tmp_path,
    )
    assert done.returncode == 2 and done.stderr.startswith("ladder: error: --dev 'deploy@web1:0': give an SSH server")
    assert not (tmp_path / "ladder.yml").exists()


@pytest.mark.local
def test_without_a_terminal_the_missing_flags_are_named(tmp_path):
    done = ladder("init", "--wsgi", "app:application", "--prod", "deploy@web2", cwd=tmp_path)
    assert done.returncode == 2
    assert "missing --repo, --dev, --base; stdin is not a terminal" in done.stderr
    assert not (tmp_path / "ladder.yml").exists()


@pytest.mark.local
def test_an_existing_file_is_refused_without_force_before_anything_else(tmp_path):
    (tmp_path / "ladder.yml").write_text("# the team's own\n")
    done = ladder("init", cwd=tmp_path)
    assert done.returncode == 2 and "--out" in done.stderr and "pass --force to overwrite it" in done.stderr
    assert (tmp_path / "ladder.yml").read_text() == "# the team's own\n"
