"""A frozen prod host (its sshd and sessions stopped with SIGSTOP): the step fails within the configured limits,
names the host, and keeps the other hosts' results."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from ladder import load_config, sandbox
from ladder.app import checkout
from ladder.app.layout import layout_of
from ladder.core.errors import FleetError, HostError
from ladder.core.fleet import run_all
from ladder.core.hosts import environment_hosts

pytestmark = pytest.mark.ssh
COMMAND_TIMEOUT = 3  # seconds: short, so the test is; the bound below is derived from it


def family(pid: int) -> list[int]:
    """pid and every process below it (an sshd and the sessions it forked)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


@pytest.fixture
def two_prod_ssh(tmp_path):
    from conftest import require_sshd

    require_sshd()
    box = sandbox.up(tmp_path / "sandbox", ssh=True, hosts=2)
    data = yaml.safe_load(box.config_path.read_text())
    data["ssh"]["command_timeout"] = COMMAND_TIMEOUT
    box.config_path.write_text(yaml.safe_dump(data))
    frozen: list[int] = []
    yield load_config(box.config_path), box, frozen
    for pid in frozen:  # thaw before teardown, or the sandbox could not stop it
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    sandbox.down(box.dir)


def test_a_frozen_host_fails_within_the_configured_timeout_naming_it_and_keeping_the_others(two_prod_ssh):
    cfg, box, frozen = two_prod_ssh
    hosts = environment_hosts(cfg, "prod")
    try:
        run_all(hosts, lambda h: h.run("true"))  # both connected
        sshd = json.loads((box.dir / sandbox.STATE).read_text())["pids"]["sshd-prod2"]
        frozen.extend(family(sshd))
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        # A bound from the config: the command's limit, the grace past it and the connect limit, with room to spare.
        bound = 2 * (cfg.ssh.command_timeout + cfg.ssh.connect_timeout + 5)
        started = time.monotonic()
        with pytest.raises(FleetError) as err:
            run_all(hosts, lambda h: checkout.get_status(h, layout_of(h).app), deadline=10 * bound)
        assert time.monotonic() - started < bound
    finally:
        for host in hosts:
            host.close()
    results = err.value.results
    assert isinstance(results["prod2"], HostError) and results["prod2"].host == "prod2"
    assert [name for name, r in results.items() if isinstance(r, BaseException)] == ["prod2"]
    assert "prod2" in str(err.value) and f"{COMMAND_TIMEOUT:g}" in str(results["prod2"])  # the configured limit
    assert isinstance(results["prod1"], checkout.Status)  # the healthy host's result is kept
