"""ladder.gitdeploy: the deploy script on prod moves it to a ref, is idempotent, and fails safe."""
import os
import subprocess

import pytest

from gitrepo import git
from ladder import checkout, gitdeploy, health, load_config, service
from ladder.errors import HostError
from tree import snapshot


@pytest.fixture
def prod(local_sandbox):
    cfg = load_config(local_sandbox.config_path)
    [host] = cfg.hosts("prod")
    hc = cfg.host_config(host.name)
    target = gitdeploy.Target(host.base, hc.python, cfg.app_port(hc))
    return host, target, local_sandbox


def serving(host, target, version=None, timeout=20):
    return health.check_on(host, target.port, "/health", python=target.python, version=version, timeout=timeout)


def new_commit(repo, text="v2"):
    (repo / "NOTES.md").write_text(f"{text}\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-q", "-m", f"notes {text}")
    return git(repo, "rev-parse", "HEAD")


def test_script_is_deterministic_and_valid_bash(prod, tmp_path):
    host, target, _ = prod
    text = gitdeploy.script(target)
    assert text == gitdeploy.script(target)
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    path = tmp_path / "deploy"
    path.write_text(text)
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_plan_changes_nothing(prod):
    host, target, box = prod
    before = snapshot(host.base)
    changes = gitdeploy.install(host, target, apply=False)
    change = gitdeploy.deploy(host, target, "master", apply=False)
    assert all(c.changed and not c.applied for c in changes + [change])
    assert change.commands == [f"{target.script} master"]
    assert "discard in-place edits: app.py, app.py.bak" in change.reason
    assert snapshot(host.base) == before


def test_unsaved_edits_are_never_discarded(prod):
    host, target, _ = prod
    gitdeploy.install(host, target)
    with pytest.raises(HostError, match="not saved"):
        gitdeploy.deploy(host, target, "master", saved=None)
    assert checkout.get_status(host, target.layout.app).edited == ("app.py", "app.py.bak")


def test_deploy_moves_prod_to_the_ref_then_changes_nothing(prod, tmp_path):
    host, target, box = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    master = new_commit(box.repo)
    installed = gitdeploy.install(host, target)
    assert os.stat(target.script).st_mode & 0o777 == 0o755
    change = gitdeploy.deploy(host, target, "master", saved=saved)
    assert change.changed and change.applied
    status = checkout.get_status(host, target.layout.app)
    assert status.head == master and status.clean
    assert "HOTFIX" not in open(os.path.join(target.layout.app, "app.py")).read()
    assert serving(host, target, gitdeploy.version_of(master)).ok
    # The script kept its own copy of the discarded edits on the host, too.
    [kept] = os.listdir(target.edits)
    assert open(os.path.join(target.edits, kept)).read() == saved.path.read_text()
    again = gitdeploy.install(host, target) + [gitdeploy.deploy(host, target, "master")]
    assert not any(c.changed for c in again) and installed[1].changed


def test_a_new_commit_is_reloaded_and_served(prod, tmp_path):
    host, target, box = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    gitdeploy.install(host, target)
    gitdeploy.deploy(host, target, "master", saved=saved)
    pid = service.get_process(host, target.layout.pid_file).pid
    second = new_commit(box.repo, "v3")
    plan = gitdeploy.deploy(host, target, "master", apply=False)
    assert plan.changed and plan.reason.endswith(f"-> {gitdeploy.version_of(second)}")
    gitdeploy.deploy(host, target, "master")
    assert serving(host, target, gitdeploy.version_of(second)).ok
    assert service.get_process(host, target.layout.pid_file).pid == pid  # reloaded, not restarted


def test_bad_ref_is_refused_before_touching_prod(prod, tmp_path):
    host, target, _ = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    gitdeploy.install(host, target)
    before = snapshot(target.layout.app)
    with pytest.raises(HostError, match="'no-such-branch' is not a branch or tag on origin"):
        gitdeploy.deploy(host, target, "no-such-branch", saved=saved)
    with pytest.raises(ValueError, match="not a branch, tag or commit name"):
        gitdeploy.deploy(host, target, "--upload-pack=x", saved=saved)
    assert snapshot(target.layout.app) == before


def test_the_script_fails_safe(prod, tmp_path):
    """Run on the host by hand with a bad ref, or with origin gone: the last good code keeps serving."""
    host, target, box = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    gitdeploy.install(host, target)
    gitdeploy.deploy(host, target, "master", saved=saved)
    good = checkout.get_status(host, target.layout.app).head
    version = gitdeploy.version_of(good)
    new_commit(box.repo, "never deployed")

    bad = host.run(f"{target.script} no-such-ref", warn=True)
    assert bad.exited == 4 and f"still serving {version}" in bad.stderr
    weird = host.run(f"{target.script} '-x'", warn=True)
    assert weird.exited == 2

    os.rename(box.repo, str(box.repo) + ".moved")
    try:
        gone = host.run(f"{target.script} master", warn=True)
    finally:
        os.rename(str(box.repo) + ".moved", box.repo)
    assert gone.exited == 3 and "git fetch failed" in gone.stderr
    assert checkout.get_status(host, target.layout.app).head == good
    assert serving(host, target, version).ok


def test_a_stopped_app_server_is_started_by_the_deploy(prod, tmp_path):
    host, target, _ = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    gitdeploy.install(host, target)
    gitdeploy.deploy(host, target, "master", saved=saved)
    service.stop(host, target.layout.pid_file)
    change = gitdeploy.deploy(host, target, "master")
    assert change.changed and "app server not running" in change.reason
    assert serving(host, target).ok
