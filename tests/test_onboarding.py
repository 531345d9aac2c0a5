"""ladder.rungs.onboarding: a new developer's first hour on the sandbox, step by step, and the notebook headless."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrepo import git
from ladder import load_config
from ladder.app import page, testsuite
from ladder.app.health import HealthResult
from ladder.core.errors import ParameterError
from ladder.core.hosts import LocalHost
from ladder.engine import runner
from ladder.rungs import onboarding, workfolder
from tree import snapshot

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "onboarding.ipynb"


def shared(box) -> tuple[str, str]:
    """The team's repository as the other developers see it: master and its work tree's status."""
    return git(box.repo, "rev-parse", "master"), git(box.repo, "status", "--porcelain")


def prod_page(cfg, box, path: str = "/") -> page.Page:
    """A page of prod, fetched on prod1 itself."""
    prod = cfg.host_config("prod1")
    return page.fetch_on(LocalHost("prod1", box.dir / prod.base), cfg.app_port(prod), path, timeout=5)


def first_hour(start: onboarding.Start, change: str = "greeting") -> tuple:
    """Every step of the notebook up to the push, for real on the working folder and the dev host."""
    folder = onboarding.get_code(start, dry_run=False)
    onboarding.build_dev(start, "dev", dry_run=False)
    checked = onboarding.run_app_and_tests(start, "dev", dry_run=False)
    made = workfolder.make_change(folder, change, dry_run=False)
    tried = onboarding.see_in_dev(start, "dev", folder, change, dry_run=False)
    return folder, checked, made, tried


@pytest.mark.unit
def test_the_tried_page_says_before_and_after_in_plain_words():
    edit = workfolder.CHANGES["greeting"]
    before = page.Page("http://127.0.0.1:9/", 200, "<html>\n<h1>Items</h1>\n</html>", host="dev")
    after = page.Page("http://127.0.0.1:9/", 200, "<html>\n<h1>Items, kept by the whole team</h1>\n</html>", host="dev")
    tried = onboarding.Tried(edit, before, after)
    assert tried.shown and tried.summary() == "dev shows your change: greet visitors on the home page."
    assert tried.table()["the page shows"].tolist() == ["<h1>Items</h1>", "<h1>Items, kept by the whole team</h1>"]
    planned = onboarding.Tried(edit, before, None)
    assert not planned.shown and "Dry run" in planned.summary()
    assert planned.table()["the page shows"].tolist() == ["<h1>Items</h1>", "not tried: dry run"]


@pytest.mark.unit
def test_no_tests_is_said_plainly_and_points_at_rung_2():
    healthy = HealthResult("http://127.0.0.1:9/health", True, 200, {"version": "abc"}, host="dev")
    none = onboarding.AppCheck(healthy, testsuite.SuiteRun("dev", ()))
    app, tests = none.summary()
    assert app == "The app answers on dev: http://127.0.0.1:9/health gives HTTP 200, version abc."
    assert tests.startswith("No tests yet") and "rung 2" in tests and onboarding.RUNG2_RUNBOOK in tests
    failing = onboarding.AppCheck(healthy, testsuite.SuiteRun("dev", ("tests/test_app.py",), "pytest", 1, "1 failed"))
    assert failing.summary()[1] == "1 test files, run with pytest on dev: they FAIL (exit 1)."
    assert "1 failed" in failing._repr_html_()


@pytest.mark.local
def test_bad_parameters_are_refused_before_any_host_is_touched(local_sandbox, tmp_path):
    before = snapshot(local_sandbox.dir)
    with pytest.raises(ParameterError, match="dev_host 'nope' is not a dev host .*use one of: dev"):
        onboarding.setup(local_sandbox.config_path, dev_host="nope")
    with pytest.raises(ParameterError, match="change 'typo' is not on offer; use one of: greeting, not-found"):
        onboarding.setup(local_sandbox.config_path, change="typo")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ParameterError, match=r"workdir .*busy is in use \(not a clone\); pass a new folder"):
        onboarding.setup(local_sandbox.config_path, str(tmp_path / "busy"))
    assert snapshot(local_sandbox.dir) == before


@pytest.mark.local
def test_without_the_flag_every_step_only_plans(local_sandbox, tmp_path):
    box = local_sandbox
    before = snapshot(box.dir)
    start = onboarding.setup(box.config_path, str(tmp_path / "work"), run_dir=str(tmp_path / "run"))
    folder = onboarding.get_code(start)
    assert not folder.exists and not (tmp_path / "work").exists()
    assert all(c.outcome == "planned" for c in onboarding.build_dev(start, "dev"))
    checked = onboarding.run_app_and_tests(start, "dev")
    assert not checked.health.ok and checked.tests is None
    made = workfolder.make_change(folder, "greeting")
    assert made.change.outcome == "planned" and "+<h1>Items, kept by the whole team</h1>" in made.diff
    tried = onboarding.see_in_dev(start, "dev", folder, "greeting")
    assert tried.after is None and not tried.before.answered
    assert onboarding.push_change(folder).outcome == "planned"
    path = onboarding.ship(start, folder)
    assert [state for _, state in path.stages][2] == "planned: prod1"
    assert snapshot(box.dir) == before


@pytest.mark.local
def test_the_first_hour_then_again_then_another_change(local_sandbox, tmp_path):
    box = local_sandbox
    cfg = load_config(box.config_path)
    team, prod = shared(box), snapshot(box.dir / "hosts" / "prod1")
    start = onboarding.setup(box.config_path, str(tmp_path / "work"), run_dir=str(tmp_path / "run"))
    folder, checked, made, tried = first_hour(start)

    assert folder.exists and git(folder.path, "rev-parse", "origin/master") == team[0]
    assert checked.health.ok and checked.tests is not None and not checked.tests.found
    assert made.commit and folder.ahead() == [f"{made.commit} Greet visitors on the home page"]
    assert tried.before.status == 200 and "<h1>Items</h1>" in tried.before.body
    assert tried.shown and "<h1>Items, kept by the whole team</h1>" in tried.after.body
    assert [c.operation for c in tried.changes] == ["file", "app server"]
    assert onboarding.figures(folder, checked, made, tried, onboarding.push_change(folder)) == {
        "working folder": str(tmp_path / "work"),
        "change": "Greet visitors on the home page",
        "dev shows the change": "yes",
        "tests": "none yet",
        "pushed": "no",
    }

    # Again on the same working folder: nothing left to do anywhere.
    again = onboarding.setup(box.config_path, str(tmp_path / "work"), run_dir=str(tmp_path / "run2"))
    folder, checked, made, tried = first_hour(again)
    assert made.change.outcome == "ok" and len(folder.ahead()) == 1
    assert all(c.outcome == "ok" for c in tried.changes) and tried.shown

    # Another change from a fresh working folder: dev's earlier edit is saved, then replaced.
    other = onboarding.setup(box.config_path, str(tmp_path / "work2"), run_dir=str(tmp_path / "run3"))
    folder, checked, made, tried = first_hour(other, "not-found")
    assert tried.before.status == 404 and tried.before.excerpt("no item") == '{"error": "no item 0"}'
    assert tried.after.excerpt("no item") == '{"error": "no item 0; the list is at /items"}'
    patch = tmp_path / "run3" / "dev-edits" / "dev.patch"
    assert "+<h1>Items, kept by the whole team</h1>" in patch.read_text()
    dev_app = (box.dir / "hosts" / "dev" / "app" / "app.py").read_text()
    assert "kept by the whole team" not in dev_app and "the list is at /items" in dev_app

    # Nobody else saw any of it: the team's repository and prod are as they were.
    assert (
        onboarding.ship(other, folder)
        .stages[0][1]
        .endswith("not pushed (push = False), so prod gets what the team's repository has")
    )
    assert shared(box) == team and snapshot(box.dir / "hosts" / "prod1") == prod
    assert "kept by the whole team" not in prod_page(cfg, box).body


@pytest.mark.local
def test_pushed_and_shipped_the_change_reaches_prod(local_sandbox, tmp_path):
    box = local_sandbox
    cfg = load_config(box.config_path)
    start = onboarding.setup(box.config_path, str(tmp_path / "work"), run_dir=str(tmp_path / "run"))
    folder, *_ = first_hour(start)
    pushed = onboarding.push_change(folder, dry_run=False)
    assert pushed.applied and git(box.repo, "rev-parse", "master") == git(folder.path, "rev-parse", "HEAD")
    assert "kept by the whole team" in (box.repo / "app.py").read_text()  # the shared checkout followed the push
    assert onboarding.push_change(folder, dry_run=False).outcome == "ok"

    path = onboarding.ship(start, folder, dry_run=False)
    assert [state for _, state in path.stages] == [
        "in the team's repository",
        "saved: prod1",
        "changed: prod1",
        "prod1: healthy, serving master",
    ]
    assert "kept by the whole team" in prod_page(cfg, box).body
    assert "HOTFIX (edited on prod)" in (tmp_path / "run" / "prod-edits" / "prod1.patch").read_text()


@pytest.mark.local
def test_a_repository_with_tests_has_them_run_on_dev(local_sandbox, tmp_path):
    box = local_sandbox
    test = "import unittest\n\n\nclass AppTest(unittest.TestCase):\n    def test_home(self):\n        import app\n\n        self.assertTrue(app.INDEX_HTML)\n"
    (box.repo / "test_app.py").write_text(test)
    git(box.repo, "add", "test_app.py")
    git(box.repo, "commit", "-q", "-m", "first test")
    start = onboarding.setup(box.config_path, str(tmp_path / "work"))
    onboarding.build_dev(start, "dev", dry_run=False)
    checked = onboarding.run_app_and_tests(start, "dev", dry_run=False)
    assert checked.tests.files == ("test_app.py",) and checked.tests.passed
    assert checked.summary()[1].startswith("1 test files, run with ") and checked.summary()[1].endswith("they pass.")


@pytest.mark.ssh
def test_the_first_hour_on_a_dev_host_over_ssh(ssh_sandbox, tmp_path):
    box = ssh_sandbox
    assert load_config(box.config_path).host_config("dev").address == "127.0.0.1"
    team = shared(box)
    start = onboarding.setup(box.config_path, str(tmp_path / "work"), run_dir=str(tmp_path / "run"))
    folder, checked, made, tried = first_hour(start)
    assert checked.health.ok and not checked.tests.found
    assert "<h1>Items</h1>" in tried.before.body and tried.shown
    again = onboarding.see_in_dev(start, "dev", folder, "greeting", dry_run=False)
    assert all(c.outcome == "ok" for c in again.changes)
    assert onboarding.ship(start, folder).stages[2][1] == "planned: prod1"
    assert shared(box) == team


@pytest.mark.e2e
def test_the_notebook_headless_through_the_runner(local_sandbox, tmp_path, monkeypatch):
    # Its own runs home: the level it reports reads the journal, which other tests in this process write to.
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    box = local_sandbox
    team, prod = shared(box), snapshot(box.dir / "hosts" / "prod1")
    out = runner.run(NOTEBOOK, config=box.config_path, out_dir=tmp_path / "runs")
    assert out.ok, out.error and out.error.describe()
    assert out.summary["matrix"] == {
        "local": {"get the code": "changed", "your change": "changed", "push": "planned"},
        "dev": {"dev environment": "changed", "try it on dev": "changed"},
        "prod1": {"prod edits": "ok", "deploy step": "planned"},
    }
    assert out.summary["figures"] == {
        "working folder": str(out.run_dir / "shop"),
        "change": "Greet visitors on the home page",
        "dev shows the change": "yes",
        "tests": "none yet",
        "pushed": "no",
    }
    report = out.report.read_text()
    for text in ("dev shows your change", "No tests yet", "Level 0: not yet on the ladder.", "bin/deploy master"):
        assert text in report, text
    assert "kept by the whole team" in (box.dir / "hosts" / "dev" / "app" / "app.py").read_text()
    assert shared(box) == team and snapshot(box.dir / "hosts" / "prod1") == prod
