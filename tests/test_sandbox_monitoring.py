"""ladder.sandbox.monitoring: the mon host's scrape jobs, and a local sandbox whose Prometheus `down` stops."""

from __future__ import annotations

import json
import subprocess

import pytest

from ladder import sandbox
from ladder.app import prometheus
from ladder.core.config import load_config
from ladder.core.errors import LadderError
from ladder.core.hosts import LocalHost
from ladder.sandbox import monitoring


@pytest.mark.unit
def test_jobs_label_every_app_host_with_its_env_and_add_haproxy_when_it_exports():
    apps = {"prod": [{"name": "prod1", "app_port": 8001}], "staging": [{"name": "staging", "app_port": 8003}]}
    app, lb = monitoring.jobs(apps, {"name": "lb", "app_port": 8080}, 8404)
    assert app.targets == (
        prometheus.Target("127.0.0.1:8001", {"host": "prod1", "env": "prod"}),
        prometheus.Target("127.0.0.1:8003", {"host": "staging", "env": "staging"}),
    )
    assert (lb.name, lb.targets) == ("haproxy", (prometheus.Target("127.0.0.1:8404", {"host": "lb"}),))
    assert [j.name for j in monitoring.jobs(apps)] == ["app"]


@pytest.mark.unit
def test_start_command_names_the_config_and_quotes_every_path():
    cmd = monitoring.start_command("/s b/mon/prometheus.yml", "/s b/mon/data", "/s b/mon/p.log", "/s b/mon/p.pid", 9090)
    assert "'--config.file=/s b/mon/prometheus.yml'" in cmd and "--web.listen-address=127.0.0.1:9090" in cmd
    assert cmd.startswith("setsid prometheus ") and cmd.endswith("& echo $! > '/s b/mon/p.pid'")


@pytest.mark.unit
def test_node_exporter_listens_on_loopback_with_the_filesystem_collector_and_a_pid_file(tmp_path):
    cmd = monitoring.node_exporter_command(LocalHost("prod1", tmp_path / "a b"), 9100)
    assert cmd.startswith("setsid prometheus-node-exporter --web.listen-address=127.0.0.1:9100 ")
    assert "--collector.disable-defaults --collector.filesystem" in cmd
    assert f"'--collector.textfile.directory={tmp_path}/a b/node-exporter'" in cmd
    assert cmd.endswith(f"& echo $! > '{tmp_path}/a b/node-exporter.pid'")
    assert monitoring.node_job([]).name == "node"


@pytest.mark.local
def test_local_sandbox_with_monitoring_records_it_scrapes_prod_and_leaves_nothing_running(tmp_path):
    box = sandbox.up(tmp_path / "box", monitoring=True)
    try:
        assert json.loads((box.dir / "state.json").read_text())["monitoring"] is True
        cfg = load_config(box.config_path)
        assert cfg.monitoring is not None and cfg.monitoring.host.name == "mon"
        up = prometheus.query(prometheus.Prometheus(cfg.monitoring.url), "up")
        assert {(s.labels["job"], s.labels["host"], s.value) for s in up} == {
            ("app", "prod1", 1.0),
            *(("node", name, 1.0) for name in ("dev", "prod1", "mon")),
        }
        assert "hosts/mon/prometheus.pid" in sandbox.processes(box.dir)
        assert "hosts/dev/node-exporter.pid" in sandbox.processes(box.dir)
        with pytest.raises(LadderError, match="monitoring=True"):
            sandbox.up(box.dir)  # the same folder, built without monitoring, is refused
    finally:
        sandbox.down(box.dir)
    leftover = subprocess.run(["pgrep", "-f", str(box.dir)], capture_output=True, text=True).stdout
    assert leftover == "", f"processes left behind: {leftover}"
