"""The pipeline's gates on a real sandbox: the coverage ratchet over journaled builds, locust against the app."""

from __future__ import annotations

import json

import pytest

from ladder.app import http_smoke, load_gate, routes
from ladder.app.load_gate import Limits
from ladder.core.config import load_config
from ladder.engine import journal
from ladder.rungs import gates, pipeline


def _report(path, percent: float) -> str:
    path.write_text(json.dumps({"totals": {"percent_covered": percent, "covered_lines": 1, "num_statements": 2}}))
    return str(path)


def _shipped(cfg, version: str) -> None:
    """A prod deploy of version, as the pipeline's deploy step journals it."""
    journal.add(journal.journal_path(cfg.runs_dir), run_id=journal.new_run_id(), kind="deploy", status="ok",
                params={"environment": "prod", "version": version})  # fmt: skip


@pytest.mark.local
def test_the_ratchet_holds_each_build_to_the_last_release_and_journals_every_figure(
    local_sandbox, tmp_path, monkeypatch
):
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))  # a journal of this test's builds only
    cfg = load_config(local_sandbox.config_path)
    first = gates.coverage(cfg, _report(tmp_path / "a.json", 74.04), "v0.1.3", "a" * 40)
    assert first.ok and "first figure" in first.reason
    _shipped(cfg, "v0.1.3")
    dropped = gates.coverage(cfg, _report(tmp_path / "b.json", 71.23), "v0.1.4", "b" * 40)
    assert not dropped.ok and dropped.reason == "coverage 71.2% < trunk's 74.0% (v0.1.3)"
    # The failed build does not lower the bar: the next one is held to v0.1.3 still.
    assert gates.coverage(cfg, _report(tmp_path / "c.json", 74.0), "v0.1.5", "c" * 40).ok
    # Nor does one that passed the gate and stopped later (the smoke suite): it never shipped, so no baseline.
    assert gates.coverage(cfg, _report(tmp_path / "d.json", 80.0), "v0.1.6", "d" * 40).ok
    fix = gates.coverage(cfg, _report(tmp_path / "e.json", 74.0), "v0.1.7", "e" * 40)
    assert fix.ok and fix.baseline_version == "v0.1.3"
    rows = journal.history(journal.journal_path(cfg.runs_dir), kind="coverage")
    assert [(r["params"]["version"], r["params"]["percent"], r["status"]) for r in rows] == [
        ("v0.1.3", 74.0, "ok"), ("v0.1.4", 71.2, "failed"), ("v0.1.5", 74.0, "ok"), ("v0.1.6", 80.0, "ok"),
        ("v0.1.7", 74.0, "ok")]  # fmt: skip
    assert rows[1]["error"] == dropped.reason and rows[2]["params"]["baseline_version"] == "v0.1.3"


@pytest.mark.local
def test_locust_loads_the_sandbox_app_on_loopback_and_the_gate_reads_its_figures(local_sandbox):
    cfg = load_config(local_sandbox.config_path)
    host = cfg.environment("prod").hosts[0]
    url = f"http://{pipeline.http_address(host.address)}:{cfg.app_port(host)}"
    requests = http_smoke.requests_for(routes.scan(local_sandbox.repo))
    figures, failures = gates.run_locust(url, requests, Limits(users=2, duration=5))
    assert figures.requests > 0 and figures.failures == len(failures) == 0, failures
    assert figures.p99_ms is not None
    verdict = load_gate.judge(figures, Limits(), None, None)
    assert verdict.ok and f"{figures.requests} requests" in verdict.reason
    with pytest.raises(Exception, match="loopback"):
        gates.run_locust("http://192.0.2.1:80", requests, Limits(users=1, duration=1))
