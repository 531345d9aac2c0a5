"""Rung 2 end to end: the runbook through the real runner, on real sshd hosts from the sandbox, after rung 1."""

import subprocess
import urllib.request
from pathlib import Path

import pytest

from gitrepo import git
from ladder import cli, load_config
from ladder.app import deploy
from ladder.assess import assess, load_assessment, write_assessment
from ladder.engine import runner
from ladder.rungs.flagged_app import REDESIGN_MARK
from ladder.sandbox.repo import STALE_BRANCH
from tree import snapshot

RUNBOOKS = Path(__file__).resolve().parent.parent / "runbooks"
RUNG1 = RUNBOOKS / "1-separate-dev-and-prod.ipynb"
RUNG2 = RUNBOOKS / "2-trunk-based-development.ipynb"

pytestmark = pytest.mark.ssh


def refs(repo: Path) -> dict[str, str]:
    """Every ref of a repository and the object it points to."""
    return dict(line.split()[::-1] for line in git(repo, "show-ref").splitlines())


def state(box) -> tuple:
    """The shared repository's refs, head tree and status, and every host's files (git's index aside)."""
    hosts = {p: v for p, v in snapshot(box.dir / "hosts").items() if not p.endswith("/.git/index")}
    return refs(box.repo), git(box.repo, "rev-parse", "HEAD^{tree}"), git(box.repo, "status", "--porcelain"), hosts


def home(cfg, host: str) -> str:
    """The home page of a host's app, over HTTP."""
    url = f"http://127.0.0.1:{cfg.app_port(cfg.host_config(host))}/"
    with urllib.request.urlopen(url, timeout=10) as page:
        return page.read().decode()


def test_rung2_dry_run_then_apply_then_apply_again_then_assess(served_sandbox, tmp_path):
    box, _server, _manager = served_sandbox
    runs = tmp_path / "runs"
    cfg = load_config(box.config_path)
    rung1 = runner.run(RUNG1, config=box.config_path, apply=True, out_dir=runs)
    assert rung1.ok, rung1.error and rung1.error.describe()
    stale_tip = git(box.repo, "rev-parse", STALE_BRANCH)
    tips_before = refs(box.repo)
    before = state(box)

    dry = runner.run(RUNG2, config=box.config_path, out_dir=runs)
    assert dry.ok, dry.error and dry.error.describe()
    assert state(box) == before
    assert set(dry.summary["hosts"].values()) <= {"planned", "ok"} and dry.summary["hosts"]["repo"] == "planned"

    applied = runner.run(RUNG2, config=box.config_path, apply=True, out_dir=runs)
    assert applied.ok, applied.error and applied.error.describe()
    matrix = applied.summary["matrix"]
    assert matrix["repo"] == {"branches": "changed", "tests": "changed", "flags code": "changed"}
    assert matrix["prod1"]["deploy step"] == "changed" and matrix["prod1"]["verify"] == "ok"

    # The stale branch is archived, then deleted; every tip from before the run is still reachable.
    assert STALE_BRANCH not in git(box.repo, "branch", "--format=%(refname:short)").split()
    assert git(box.repo, "rev-parse", f"refs/tags/archive/{STALE_BRANCH}") == stale_tip
    for ref, commit in tips_before.items():
        assert git(box.repo, "for-each-ref", f"--contains={commit}", "--count=1"), f"{ref} lost"
    # Two small commits on trunk (tests, then flags), and prod serves trunk's head.
    master = git(box.repo, "rev-parse", "master")
    assert git(box.repo, "rev-list", "--count", f"{tips_before['refs/heads/master']}..master") == "2"
    landed = git(box.repo, "show", "--name-only", "--format=", "master^").split()
    assert "tests/test_routes.py" in landed and "tests/test_metrics.py" in landed  # the app exports metrics
    assert "flags.py" in git(box.repo, "show", "--name-only", "--format=", "master")
    with urllib.request.urlopen(f"http://127.0.0.1:{cfg.app_port(cfg.host_config('prod1'))}/health", timeout=10) as h:
        assert deploy.version_of(master) in h.read().decode()
    # The suite ran on dev and passed; the flag shows the redesign in dev only.
    figures = applied.summary["figures"]
    assert figures["tests passed"] >= 6 and figures["tests failed"] == 0 and figures["branches archived"] == 1
    assert REDESIGN_MARK in home(cfg, "dev") and REDESIGN_MARK not in home(cfg, "prod1")

    # The pre-push hook on dev refuses a push whose tests fail; the shared repository stays as it was.
    dev_app = box.dir / "hosts" / "dev" / "app"
    shared = refs(box.repo)
    git(dev_app, "checkout", "-q", "-B", "work", "origin/master")
    (dev_app / "tests" / "test_broken.py").write_text("def test_broken():\n    assert False\n")
    git(dev_app, "add", "tests/test_broken.py")
    git(dev_app, "commit", "-q", "-m", "A broken test")
    push = subprocess.run(["git", "-C", str(dev_app), "push", "origin", "HEAD:master"], capture_output=True, text=True)
    assert push.returncode != 0 and "tests failed; the push is refused" in push.stderr
    assert refs(box.repo) == shared
    git(dev_app, "checkout", "-q", "master")
    git(dev_app, "branch", "-q", "-D", "work")

    again = runner.run(RUNG2, config=box.config_path, apply=True, out_dir=runs)
    assert again.ok, again.error and again.error.describe()
    assert again.summary["changes"] == 0
    assert refs(box.repo) == shared

    # A flip in prod through the runbook's flip step, without a deploy: the redesign shows there too, journaled.
    flipped = runner.run(RUNG2, {"flip_env": "prod"}, config=box.config_path, apply=True, out_dir=runs)
    assert flipped.ok, flipped.error and flipped.error.describe()
    assert flipped.summary["matrix"]["prod1"]["flag flip"] == "changed" and flipped.summary["changes"] == 1
    assert REDESIGN_MARK in home(cfg, "prod1") and git(box.repo, "rev-parse", "master") == master
    assert cli.main(["flags", "list", "--env", "prod", "--config", str(box.config_path)]) == 0

    assessed = write_assessment(assess(box.repo, config=box.config_path), tmp_path / "assessment.json")
    doc = load_assessment(assessed)
    rung2 = next(r for r in doc["rungs"] if r["id"] == "2")
    assert rung2["met"], rung2
    assert doc["level"] >= "2", doc["level"]
