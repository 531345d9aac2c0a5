"""ladder.app.deploy: the deploy script on prod moves it to a ref, is idempotent, and fails safe."""

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from gitrepo import git
from ladder import load_config
from ladder.app import checkout, deploy, health, service
from ladder.core.errors import HostError, RefError
from ladder.core.hosts import environment_hosts
from tree import snapshot

pytestmark = pytest.mark.local


@pytest.fixture
def prod(local_sandbox):
    cfg = load_config(local_sandbox.config_path)
    [host] = environment_hosts(cfg, "prod")
    hc = cfg.host_config(host.name)
    target = deploy.Target(host.base, hc.python, cfg.app_port(hc))
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
    text = deploy.script(target)
    assert text == deploy.script(target)
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    path = tmp_path / "deploy"
    path.write_text(text)
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_the_script_uses_the_one_git_prefix_and_patch_logic(prod):
    _, target, _ = prod
    text = deploy.script(target)
    assert f"\nGIT={shlex.quote(checkout.GIT)}\n" in text
    assert checkout.patch_command(git="$GIT") in text


def test_the_script_keeps_the_patch_save_edits_saved_even_for_utf8_names(prod, tmp_path):
    host, target, box = prod
    app = Path(target.layout.app)
    (box.repo / "café.txt").write_text("one\n")
    git(box.repo, "add", "café.txt")
    git(box.repo, "commit", "-q", "-m", "a file named in UTF-8")
    deploy.install(host, target, dry_run=False)
    first = checkout.save_edits(host, str(app), tmp_path / "first")
    deploy.deploy(host, target, "master", saved=first, dry_run=False)
    (app / "café.txt").write_text("two\n")
    (app / "naïve.txt").write_text("new\n")
    saved = checkout.save_edits(host, str(app), tmp_path / "second")
    deploy.deploy(host, target, "master", saved=saved, dry_run=False)
    kept = [(Path(target.layout.edits) / name).read_text() for name in os.listdir(target.layout.edits)]
    assert saved.path.read_text() in kept
    assert "a/café.txt" in saved.path.read_text()


def test_install_and_deploy_without_the_flag_only_plan(prod):
    host, target, box = prod
    before = snapshot(host.base)
    changes = deploy.install(host, target)
    change = deploy.deploy(host, target, "master")
    assert all(c.changed and not c.applied for c in changes + [change])
    assert change.commands == (f"{target.layout.deploy_script} master",)
    assert "discard in-place edits: app.py, app.py.bak" in change.reason
    assert snapshot(host.base) == before


def test_unsaved_edits_are_never_discarded(prod):
    host, target, _ = prod
    deploy.install(host, target, dry_run=False)
    with pytest.raises(HostError, match="not saved"):
        deploy.deploy(host, target, "master", saved=None, dry_run=False)
    assert checkout.get_status(host, target.layout.app).edited == ("app.py", "app.py.bak")


def test_deploy_moves_prod_to_the_ref_then_changes_nothing(prod, tmp_path):
    host, target, box = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    master = new_commit(box.repo)
    installed = deploy.install(host, target, dry_run=False)
    assert os.stat(target.layout.deploy_script).st_mode & 0o777 == 0o755
    change = deploy.deploy(host, target, "master", saved=saved, dry_run=False)
    assert change.changed and change.applied
    status = checkout.get_status(host, target.layout.app)
    assert status.head == master and status.clean
    assert "HOTFIX" not in open(os.path.join(target.layout.app, "app.py")).read()
    assert serving(host, target, deploy.version_of(master)).ok
    # The script kept its own copy of the discarded edits on the host, too.
    [kept] = os.listdir(target.layout.edits)
    assert open(os.path.join(target.layout.edits, kept)).read() == saved.path.read_text()
    again = deploy.install(host, target, dry_run=False) + [deploy.deploy(host, target, "master", dry_run=False)]
    assert not any(c.changed for c in again) and installed[1].changed


def test_a_new_commit_is_reloaded_and_served(prod, tmp_path):
    host, target, box = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    deploy.install(host, target, dry_run=False)
    deploy.deploy(host, target, "master", saved=saved, dry_run=False)
    pid = service.get_process(host, target.layout.pid_file).pid
    second = new_commit(box.repo, "v3")
    plan = deploy.deploy(host, target, "master", dry_run=True)
    assert plan.changed and plan.reason.endswith(f"-> {deploy.version_of(second)}")
    deploy.deploy(host, target, "master", dry_run=False)
    assert serving(host, target, deploy.version_of(second)).ok
    assert service.get_process(host, target.layout.pid_file).pid == pid  # reloaded, not restarted


def test_bad_ref_is_refused_before_touching_prod(prod, tmp_path):
    host, target, _ = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    deploy.install(host, target, dry_run=False)
    before = snapshot(target.layout.app)
    with pytest.raises(HostError, match="'no-such-branch' is not a branch or tag on origin"):
        deploy.deploy(host, target, "no-such-branch", saved=saved, dry_run=False)
    with pytest.raises(RefError, match="not a branch, tag or commit name"):
        deploy.deploy(host, target, "--upload-pack=x", saved=saved, dry_run=False)
    assert snapshot(target.layout.app) == before


def test_the_script_fails_safe(prod, tmp_path):
    """Run on the host by hand with a bad ref, or with origin gone: the last good code keeps serving."""
    host, target, box = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    deploy.install(host, target, dry_run=False)
    deploy.deploy(host, target, "master", saved=saved, dry_run=False)
    good = checkout.get_status(host, target.layout.app).head
    version = deploy.version_of(good)
    new_commit(box.repo, "never deployed")

    bad = host.run(f"{target.layout.deploy_script} no-such-ref", warn=True)
    assert bad.exited == 4 and f"still serving {version}" in bad.stderr
    weird = host.run(f"{target.layout.deploy_script} '-x'", warn=True)
    assert weird.exited == 2

    os.rename(box.repo, str(box.repo) + ".moved")
    try:
        gone = host.run(f"{target.layout.deploy_script} master", warn=True)
    finally:
        os.rename(str(box.repo) + ".moved", box.repo)
    assert gone.exited == 3 and "git fetch failed" in gone.stderr
    assert checkout.get_status(host, target.layout.app).head == good
    assert serving(host, target, version).ok


def test_a_commit_that_does_not_load_is_checked_out_back_and_the_old_code_keeps_serving(prod, tmp_path):
    host, target, box = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    deploy.install(host, target, dry_run=False)
    deploy.deploy(host, target, "master", saved=saved, dry_run=False)
    good = checkout.get_status(host, target.layout.app).head
    pid = service.get_process(host, target.layout.pid_file).pid
    module = target.wsgi.partition(":")[0]
    with (box.repo / f"{module}.py").open("a") as f:
        f.write("\nraise ImportError('no module named shop_settings')\n")
    git(box.repo, "commit", "-qam", "a broken commit")
    with pytest.raises(HostError, match="(?s)exited 5.*no module named shop_settings.*nothing was reloaded"):
        deploy.deploy(host, target, "master", dry_run=False)
    bad = host.run(f"{target.layout.deploy_script} master", warn=True)
    assert bad.exited == 5 and "no module named shop_settings" in bad.stderr and "does not load" in bad.stderr
    assert checkout.get_status(host, target.layout.app).head == good
    assert checkout.get_status(host, target.layout.app).clean
    assert serving(host, target, deploy.version_of(good)).ok
    assert service.get_process(host, target.layout.pid_file).pid == pid  # never reloaded, so never down


def test_a_stopped_app_server_is_started_by_the_deploy(prod, tmp_path):
    host, target, _ = prod
    saved = checkout.save_edits(host, target.layout.app, tmp_path)
    deploy.install(host, target, dry_run=False)
    deploy.deploy(host, target, "master", saved=saved, dry_run=False)
    service.stop(host, target.layout.pid_file)
    change = deploy.deploy(host, target, "master", dry_run=False)
    assert change.changed and "app server not running" in change.reason
    assert serving(host, target).ok
