"""ladder.core.hosts on a local folder host: run, files, timeouts that really kill."""

import time

import pytest

from ladder.core.errors import CommandTimeout, UnexpectedExit
from ladder.core.hosts import LocalHost, environment_hosts, shell_command

pytestmark = pytest.mark.local


@pytest.fixture
def host(tmp_path):
    return LocalHost("here", tmp_path)


def test_run_returns_a_result(host):
    r = host.run("echo out; echo err >&2")
    assert r.ok and r.exited == 0 and r.stdout == "out\n" and r.stderr == "err\n" and r.host == "here"


def test_non_zero_raises_with_the_result_unless_warn(host):
    with pytest.raises(UnexpectedExit) as err:
        host.run("echo boom >&2; exit 3")
    assert err.value.result.exited == 3 and "boom" in str(err.value)
    assert host.run("exit 3", warn=True).failed


def test_cwd_and_env_are_quoted(host, tmp_path):
    odd = tmp_path / "a dir; rm -rf x"
    odd.mkdir()
    r = host.run('pwd; printf %s "$WEIRD"', cwd=str(odd), env={"WEIRD": "$(echo no) 'q'"})
    assert r.stdout.splitlines() == [str(odd), "$(echo no) 'q'"]
    assert "'a dir; rm -rf x'" in shell_command("true", cwd="a dir; rm -rf x")


def test_stdin_is_closed_so_nothing_prompts(host):
    assert host.run("cat", timeout=5).stdout == ""


def test_timeout_kills_the_whole_process_tree(host, tmp_path):
    marker = tmp_path / "alive"
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as err:
        host.run(f"(sleep 3; touch {marker}) & sleep 30", timeout=1)
    assert err.value.timeout == 1
    assert time.monotonic() - started < 10
    time.sleep(3.5)
    assert not marker.exists(), "a child of the timed-out command kept running"


def test_files(host, tmp_path):
    p = host.path("f.txt")
    host.write_text(p, "hello\n", mode=0o600)
    assert host.read_text(p) == "hello\n" and host.exists(p)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o600
    host.get(p, tmp_path / "copy")
    host.put(tmp_path / "copy", host.path("back"))
    assert host.read_text(host.path("back")) == "hello\n"
    assert not host.exists(host.path("missing"))


def test_the_host_default_timeout_applies_when_a_command_names_none(tmp_path):
    host = LocalHost("here", tmp_path, timeout=1)
    with pytest.raises(CommandTimeout) as err:
        host.run("sleep 30")
    assert err.value.timeout == 1
    assert host.run("sleep 0", timeout=5).ok


def test_config_command_timeout_reaches_the_hosts(tmp_path):
    from ladder.core.config import load_config

    (tmp_path / "ladder.yml").write_text(
        "app: {name: shop, repo: app}\n"
        "environments:\n  prod:\n    hosts: [{name: p, address: local, base: p}]\n"
        "ssh: {command_timeout: 7}\n"
    )
    (host,) = environment_hosts(load_config(tmp_path / "ladder.yml"), "prod")
    assert host.timeout == 7
