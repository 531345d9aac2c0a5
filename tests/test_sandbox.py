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
        assert sum(name.startswith("sshd-") for name in procs) == 4
        assert sum(name.endswith("gunicorn.pid") for name in procs) == 3
        cfg = load_config(folder / "ladder.yml")
        for prod in cfg.environment("prod").hosts:
            assert served(cfg.app_port(prod))["status"] == "ok"
    finally:
        subprocess.run(cli + ["sandbox", "down", "--dir", str(folder)], check=True, timeout=60)
    leftover = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True).stdout
    assert leftover == "", f"processes left behind: {leftover}"
    assert not folder.exists()
