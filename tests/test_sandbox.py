"""ladder.sandbox: the team from the story, up and down, leaving nothing behind."""

import json
import subprocess
import sys
import urllib.request

import pytest
from conftest import require_sshd

from ladder import sandbox
from ladder.core.config import load_config
from ladder.core.errors import LadderError


def served(port: int, path: str = "/health") -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
        return json.loads(resp.read())


@pytest.mark.local
def test_local_sandbox_is_the_story(local_sandbox):
    cfg = load_config(local_sandbox.config_path)
    assert [h.name for h in cfg.environment("dev").hosts] == ["dev"]
    (prod,) = cfg.environment("prod").hosts
    assert served(cfg.app_port(prod))["status"] == "ok"
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=f"{prod.base}/app", capture_output=True, text=True, check=True
    ).stdout
    assert " M app.py" in status and "?? app.py.bak" in status, "prod has its in-place edit"
    assert (local_sandbox.repo / ".git").is_dir()


@pytest.mark.local
def test_up_twice_reuses_and_a_different_up_is_refused(local_sandbox):
    again = sandbox.up(local_sandbox.dir)
    assert again == local_sandbox
    with pytest.raises(LadderError, match="ladder sandbox down --dir"):
        sandbox.up(local_sandbox.dir, hosts=2)


@pytest.mark.ssh
def test_cli_ssh_three_hosts_up_and_down_leaves_no_process(tmp_path):
    require_sshd()
    folder = tmp_path / "box"
    cli = [sys.executable, "-m", "ladder.cli"]
    subprocess.run(cli + ["sandbox", "up", "--ssh", "--hosts", "3", "--dir", str(folder)], check=True, timeout=120)
    try:
        procs = sandbox.processes(folder)
        # dev, three prod, staging, the load balancer, ci, logs and mon (all on by default from the CLI).
        assert sum(name.startswith("sshd-") for name in procs) == 9
        # The CLI's sandbox has its log host: rsyslog receiving (rung 5b installs the forwarders).
        assert "hosts/logs/rsyslog/rsyslogd.pid" in procs
        # The CLI's sandbox has its CI: a Buildbot master on ci, its worker on dev.
        assert {name for name in procs if name.endswith("twistd.pid")} == {
            "hosts/ci/buildbot-master/twistd.pid",
            "hosts/dev/buildbot-worker/twistd.pid",
        }
        # The default is the story's: each prod host (and staging) serves with uWSGI under a supervisord of its own.
        assert sum(name.endswith("/uwsgi.pid") for name in procs) == 4
        assert sum(name.endswith("supervisord.pid") for name in procs) == 4
        assert "hosts/lb/haproxy.pid" in procs and "hosts/mon/prometheus.pid" in procs
        cfg = load_config(folder / "ladder.yml")
        for prod in cfg.environment("prod").hosts:
            assert served(cfg.app_port(prod))["status"] == "ok"
        assert cfg.balancer is not None and served(cfg.balancer.port)["status"] == "ok"
    finally:
        subprocess.run(cli + ["sandbox", "down", "--dir", str(folder)], check=True, timeout=60)
    leftover = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True).stdout
    assert leftover == "", f"processes left behind: {leftover}"
    assert not folder.exists()


def ladder_down(folder) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "ladder.cli", "sandbox", "down", "--dir", str(folder)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.mark.local
def test_down_refuses_a_folder_up_did_not_make_and_leaves_it_whole(tmp_path):
    precious = tmp_path / "precious"
    (precious / "deep").mkdir(parents=True)
    (precious / "thesis.txt").write_text("years of work\n")
    (precious / "deep" / "data.csv").write_text("1,2\n")
    (precious / "state.json").write_text(json.dumps({"pids": {}}))  # a state.json alone is not a sandbox's
    done = ladder_down(precious)
    assert done.returncode == 2, done
    assert f"--dir {precious}: not a sandbox made by `ladder sandbox up`" in done.stderr
    assert "nothing was stopped or removed" in done.stderr
    assert (precious / "thesis.txt").read_text() == "years of work\n" and (precious / "deep" / "data.csv").is_file()


@pytest.mark.local
def test_down_refuses_a_symlink_to_a_sandbox_which_keeps_running(local_sandbox, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(local_sandbox.dir)
    running = sandbox.processes(local_sandbox.dir)
    done = ladder_down(link)
    assert done.returncode == 2 and f"it is a symlink to {local_sandbox.dir}" in done.stderr, done
    assert link.is_symlink() and local_sandbox.config_path.is_file()
    assert sandbox.processes(local_sandbox.dir) == running and running


@pytest.mark.local
def test_down_stops_only_processes_whose_command_line_is_the_sandboxs(local_sandbox):
    other = subprocess.Popen(["sleep", "600"])
    try:
        state_file = local_sandbox.dir / sandbox.STATE
        state = json.loads(state_file.read_text())
        state["pids"]["forged"] = other.pid  # a pid the sandbox did not start (as a reused pid would be)
        state_file.write_text(json.dumps(state))
        servers = sandbox.processes(local_sandbox.dir)
        assert "forged" not in servers and servers
        stopped = sandbox.down(local_sandbox.dir)
        assert sorted(stopped) == sorted(servers) and other.poll() is None
        assert not local_sandbox.dir.exists()
        leftover = subprocess.run(["pgrep", "-f", str(local_sandbox.dir)], capture_output=True, text=True).stdout
        assert leftover == "", f"processes left behind: {leftover}"
    finally:
        other.kill()
        other.wait()


@pytest.mark.local
def test_cli_no_balancer_leaves_out_staging_and_haproxy(tmp_path):
    folder = tmp_path / "box"
    cli = [sys.executable, "-m", "ladder.cli", "sandbox"]
    fast = ["--server", "gunicorn", "--manager", "none"]
    done = subprocess.run(cli + ["up", "--no-balancer", *fast, "--dir", str(folder)], capture_output=True, text=True)
    try:
        assert done.returncode == 0, done.stderr
        assert "staging" not in done.stdout
        assert json.loads((folder / "state.json").read_text())["balancer"] is False
        cfg = load_config(folder / "ladder.yml")
        assert cfg.balancer is None and list(cfg.environments) == ["dev", "prod"]
    finally:
        subprocess.run(cli + ["down", "--dir", str(folder)], check=True, timeout=60)
