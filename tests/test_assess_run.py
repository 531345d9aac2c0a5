"""The whole assessment in one call, against the local sandbox: real repo, real hosts, real gunicorn."""

from __future__ import annotations

import json

from ladder.assess import assess, write_assessment
from ladder.core.config import load_config


def test_sandbox_at_start(local_sandbox, tmp_path):
    config = load_config(local_sandbox.config_path)
    a = assess(local_sandbox.repo, config=config)
    assert a.level == "0"
    first = a.next_steps[0]
    assert first.rung == "1" and first.runbook == "runbooks/1-separate-dev-and-prod.ipynb"
    checks = {c.id: c for c in a.checks}
    assert checks["app-health"].score == 10  # gunicorn answers /health over HTTP
    assert checks["prod-unmodified"].score == 0  # the edit made in place on prod
    assert checks["prod-runs-release"].score == 0
    assert checks["separate-hosts"].score is not None
    assert a.practice("prod-unmodified").label == "measured"
    doc = json.loads(write_assessment(a, tmp_path / "assessment.json").read_text())
    assert doc["repo"]["trunk"] == "master" and doc["level"] == "0"
    env = (local_sandbox.dir / "hosts" / "prod1" / "app.env").read_text()
    secret = next(line.split("=", 1)[1] for line in env.splitlines() if line.startswith("APP_SECRET_KEY="))
    assert len(secret) >= 16 and secret not in json.dumps(doc)


def test_sandbox_before_and_after_rung_one(local_sandbox, tmp_path):
    from pathlib import Path

    from ladder.assess import changes_since, journal_history, record_assessment
    from ladder.engine import runner

    runbook = Path(__file__).resolve().parent.parent / "runbooks" / "1-separate-dev-and-prod.ipynb"
    config = load_config(local_sandbox.config_path)
    journal = tmp_path / "runs" / "journal.sqlite"
    before = assess(local_sandbox.repo, config=config, journal=journal)
    record_assessment(before, journal)
    outcome = runner.run(runbook, config=local_sandbox.config_path, apply=True, out_dir=tmp_path / "runs")
    assert outcome.status == "ok", outcome.error
    after = assess(local_sandbox.repo, config=config, journal=journal)
    record_assessment(after, journal)
    assert (before.level, after.level) == ("0", "1")
    assert after.rung("1").met and after.next_steps[0].rung == "1+"
    assert after.practice("one-step-deploy").score == 10  # the deploy script and the journal's deploy
    history = journal_history(journal)
    assert [d["level"] for d in history] == ["0", "1"]
    assert changes_since(history[0], history[1])[0]["note"] == "level 0 -> 1"
