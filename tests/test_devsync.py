"""ladder.app.devsync: a developer's changes put on their dev host, other dev edits saved first, the app reloaded."""

from __future__ import annotations

import sys

import pytest

from gitrepo import git
from ladder.app import devenv, devsync, page, service
from ladder.core.errors import HostError, PathOutside
from ladder.core.hosts import LocalHost
from ladder.sandbox.repo import seed_repo
from ladder.sandbox.sshd import free_port

pytestmark = pytest.mark.local


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    """A dev environment built and serving from a seeded app repo."""
    root = tmp_path_factory.mktemp("devsync")
    repo = seed_repo(root / "origin")
    (root / "dev").mkdir()
    host = LocalHost("dev", root / "dev")
    env = devenv.DevEnv(host.base, str(repo), sys.executable, free_port())
    devenv.build(host, env, dry_run=False)
    try:
        yield host, env, git(repo, "rev-parse", "master"), (repo / "app.py").read_text()
    finally:
        service.stop(host, env.layout.pid_file)


def home(host, env) -> str:
    return page.fetch_on(host, env.port, "/", python=env.venv_python).body


def test_sync_plans_then_puts_the_files_then_has_nothing_to_do(dev, tmp_path):
    host, env, base, app_py = dev
    files = {"app.py": app_py.replace("<h1>Items</h1>", "<h1>Ours</h1>")}
    plan = devsync.sync(host, env, files, base, tmp_path)
    assert [(c.operation, c.outcome) for c in plan] == [("file", "planned"), ("app server", "planned")]
    assert "<h1>Items</h1>" in home(host, env)
    done = devsync.sync(host, env, files, base, tmp_path, dry_run=False)
    assert [c.outcome for c in done] == ["changed", "changed"]
    assert "<h1>Ours</h1>" in page.fetch_on(host, env.port, "/", python=env.venv_python, want="Ours").body
    assert [c.outcome for c in devsync.sync(host, env, files, base, tmp_path, dry_run=False)] == ["ok"]


def test_dev_edits_that_are_not_these_changes_are_saved_then_undone(dev, tmp_path):
    host, env, base, app_py = dev
    (tmp_path / "mine").mkdir()
    with open(f"{env.layout.app}/README.md", "a") as f:
        f.write("my note on dev\n")
    open(f"{env.layout.app}/scratch.txt", "w").write("scratch\n")
    files = {"app.py": app_py.replace("<h1>Items</h1>", "<h1>Theirs</h1>")}
    done = devsync.sync(host, env, files, base, tmp_path / "mine", dry_run=False)
    assert done[0].operation == "other dev edits" and "README.md" in done[0].reason
    patch = (tmp_path / "mine" / devsync.SAVED / "dev.patch").read_text()
    assert "+my note on dev" in patch and "scratch.txt" in patch and "<h1>Ours</h1>" in patch
    assert git(env.layout.app, "status", "--porcelain") == "M app.py"
    assert "<h1>Theirs</h1>" in page.fetch_on(host, env.port, "/", python=env.venv_python, want="Theirs").body


def test_a_dev_checkout_on_another_commit_is_refused(dev, tmp_path):
    host, env, base, app_py = dev
    plan = devsync.sync(host, env, {"app.py": app_py}, "0" * 40, tmp_path)
    assert [c.outcome for c in plan] == ["planned"] and "once the dev checkout is at 0000000000" in plan[0].reason
    with pytest.raises(HostError, match="the dev checkout is at .* but the changes start from 0000000000"):
        devsync.sync(host, env, {"app.py": app_py}, "0" * 40, tmp_path, dry_run=False)


def test_without_a_dev_checkout_the_fix_is_named(tmp_path):
    host = LocalHost("dev", tmp_path)
    env = devenv.DevEnv(host.base, str(tmp_path / "origin"), sys.executable, free_port())
    with pytest.raises(HostError, match="is not a git checkout; build the dev environment first"):
        devsync.sync(host, env, {}, "0" * 40, tmp_path)


def test_a_host_name_that_leads_out_of_the_run_folder_is_refused_before_the_host_is_asked(dev, tmp_path):
    host, env, base, app_py = dev
    hostile = LocalHost("../../../../x", host.base)
    with open(f"{env.layout.app}/README.md", "a") as f:
        f.write("an edit that would be saved\n")
    with pytest.raises(PathOutside, match=r"host name '\.\./\.\./\.\./\.\./x\.patch'"):
        devsync.sync(hostile, env, {"app.py": app_py}, base, tmp_path / "run" / "a", dry_run=False)
    assert not list(tmp_path.rglob("*.patch"))
    git(env.layout.app, "checkout", "-q", "--", "README.md")
