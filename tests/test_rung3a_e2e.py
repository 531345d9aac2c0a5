"""Rung 3a end to end: the runbook through the real runner on sshd hosts behind a real HAProxy, after rung 1.

Two prod hosts serve uWSGI under supervisor, as the story's team does. The first apply moves each off rung 1's
checkout (one restart, drained) while a loop of real HTTP requests goes through HAProxy; none may fail.
"""

import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import require_sshd

from gitrepo import git
from ladder import load_config, sandbox
from ladder.app import health
from ladder.assess import assess, load_assessment, write_assessment
from ladder.engine import runner

RUNBOOKS = Path(__file__).resolve().parent.parent / "runbooks"
RUNG1 = RUNBOOKS / "1-separate-dev-and-prod.ipynb"
RUNG3A = RUNBOOKS / "3a-packaged-artifacts.ipynb"


class Load:
    """Real requests through the balancer's frontend, one after another, until stopped: counts and failures."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/health"
        self.sent = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sent += 1
            try:
                with urllib.request.urlopen(self.url, timeout=10) as resp:
                    resp.read()
            except (urllib.error.URLError, OSError) as exc:
                self.failed.append(str(exc))

    def __enter__(self) -> "Load":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@pytest.fixture
def balanced(tmp_path):
    """Two sshd prod hosts (uWSGI under supervisor) behind HAProxy, as `ladder sandbox up --ssh --hosts 2` makes."""
    require_sshd()
    box = sandbox.up(tmp_path / "sandbox", ssh=True, hosts=2, server="uwsgi", manager="supervisor", balancer=True)
    yield box
    sandbox.down(box.dir)


def versions(cfg) -> dict[str, str | None]:
    """The version each prod host reports over HTTP."""
    return {
        hc.name: health.check(f"http://127.0.0.1:{cfg.app_port(hc)}{cfg.app.health_path}").version
        for hc in cfg.environment("prod").hosts
    }


@pytest.mark.e2e
def test_rung3a_builds_once_deploys_without_a_failed_request_and_scores_3a(balanced, tmp_path):
    box = balanced
    runs = tmp_path / "runs"
    cfg = load_config(box.config_path)
    rung1 = runner.run(RUNG1, config=box.config_path, apply=True, out_dir=runs)
    assert rung1.ok, rung1.error and rung1.error.describe()

    dry = runner.run(RUNG3A, config=box.config_path, out_dir=runs)
    assert dry.ok, dry.error and dry.error.describe()
    assert not any((box.dir / "hosts" / h / "releases").exists() for h in ("prod1", "prod2"))
    assert git(box.repo, "tag", "--list") == ""  # a dry run tags nothing

    with Load(cfg.balancer.port) as load:
        first = runner.run(RUNG3A, config=box.config_path, apply=True, out_dir=runs)
    assert first.ok, first.error and first.error.describe()
    print(f"drained move through HAProxy: {load.sent} requests, {len(load.failed)} failed")
    assert load.sent > 10 and load.failed == []
    assert git(box.repo, "tag", "--list", "v*") == "v0.1.0"
    assert versions(cfg) == {"prod1": "0.1.0", "prod2": "0.1.0"}
    figures = first.summary["figures"]
    assert figures["version"] == "0.1.0" and figures["artifact"] == "built" and figures["prod hosts on version"] == 2
    print(f"per-host switch time, first move (drained restart): slowest {figures['slowest switch (s)']} s")
    matrix = first.summary["matrix"]
    assert matrix["repository"]["packaging recipe"] == "changed" and matrix["repository"]["release tag"] == "changed"
    assert {matrix[h]["switch"] for h in ("prod1", "prod2")} == {"changed"}

    # A new commit is the next release: tagged v0.1.1, built, switched by a reload; v0.1.0 is kept for rollback.
    (box.repo / "NOTES.md").write_text("the next release\n")
    git(box.repo, "add", "NOTES.md")
    git(box.repo, "commit", "-qm", "Notes for the next release")
    second = runner.run(RUNG3A, config=box.config_path, apply=True, out_dir=runs)
    assert second.ok, second.error and second.error.describe()
    assert versions(cfg) == {"prod1": "0.1.1", "prod2": "0.1.1"}
    assert sorted(p.name for p in (box.dir / "hosts" / "prod1" / "releases").iterdir()) == ["0.1.0", "0.1.1"]
    print(f"per-host switch time, reload: slowest {second.summary['figures']['slowest switch (s)']} s")

    again = runner.run(RUNG3A, config=box.config_path, apply=True, out_dir=runs)
    assert again.ok, again.error and again.error.describe()
    assert again.summary["changes"] == 0 and again.summary["figures"]["artifact"] == "reused"

    doc = load_assessment(write_assessment(assess(box.repo, config=box.config_path), tmp_path / "assessment.json"))
    scores = {c["id"]: c["score"] for c in doc["checks"]}
    assert scores["prod-runs-release"] == 10 and scores["releases-kept"] == 7, scores
    assert scores["packaging"] >= 8 and scores["release-tags"] >= 8, scores
