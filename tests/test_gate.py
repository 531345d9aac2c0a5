"""`ladder gate coverage|load` and `ladder db migrate` on the command line: exit codes and what they print."""

from __future__ import annotations

import json

import pytest

from ladder import cli
from ladder.core.config import load_config
from ladder.engine import journal


@pytest.mark.unit
def test_bad_bounds_exit_2_before_any_host(capsys):
    assert cli.main(["gate", "load", "--version", "v0.1.0", "--users", "0", "--config", "missing.yml"]) == 2
    assert "load users 0 refused" in capsys.readouterr().err
    assert cli.main(["db", "migrate", "--env", "staging", "--version", "v0.1.0", "--keep-backups", "0"]) == 2


@pytest.mark.local
def test_a_coverage_drop_exits_1_naming_trunks_figure(local_sandbox, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))  # a journal of this test's builds only

    def gate(percent: float, version: str) -> int:
        report = tmp_path / f"{version}.json"
        report.write_text(json.dumps({"totals": {"percent_covered": percent, "covered_lines": 1, "num_statements": 2}}))
        argv = ["gate", "coverage", "--report", str(report), "--version", version, "--sha", "a" * 40]
        return cli.main([*argv, "--config", str(local_sandbox.config_path)])

    assert gate(74.0, "v0.1.3") == 0
    assert "coverage gate: passed: coverage 74.0%: the first figure, recorded" in capsys.readouterr().out
    cfg = load_config(local_sandbox.config_path)  # v0.1.3 reaches prod: the release later builds are held to
    journal.add(journal.journal_path(cfg.runs_dir), run_id=journal.new_run_id(), kind="deploy", status="ok",
                params={"environment": "prod", "version": "v0.1.3"})  # fmt: skip
    assert gate(71.2, "v0.1.4") == 1
    assert capsys.readouterr().err.strip() == "coverage gate: FAILED: coverage 71.2% < trunk's 74.0% (v0.1.3)"
