"""ladder.app.devenv: one call builds a working dev environment; planning is the default and changes nothing."""

import os
import sys

import pytest

from gitrepo import git
from ladder.app import devenv, service
from ladder.core.errors import HostError
from ladder.core.hosts import LocalHost
from ladder.sandbox.repo import seed_repo
from ladder.sandbox.sshd import free_port


@pytest.mark.unit
def test_parse_requirements_and_unmet():
    text = "# locked\ngunicorn==22.0.0\nFlask[async] == 3.0.3 ; python_version > '3.8'\nrequests\n-r other.txt\n\n"
    wanted = devenv.parse_requirements(text)
    assert wanted == {"gunicorn": "22.0.0", "flask": "3.0.3", "requests": None}
    assert devenv.unmet(wanted, {"gunicorn": "22.0.0", "flask": "3.0.2"}) == ["flask==3.0.3", "requests"]
    assert devenv.unmet(wanted, {"gunicorn": "22.0.0", "flask": "3.0.3", "requests": "2.0"}) == []


@pytest.mark.unit
def test_env_file_text_has_the_dev_settings():
    env = devenv.DevEnv("/srv/shop", "/repo")
    text = devenv.env_file_text(env, "k" * 8)
    assert text.splitlines() == [
        "APP_ENV=dev",
        "APP_DB_PATH=/srv/shop/data/app.db",
        "APP_LOG_FILE=/srv/shop/logs/app.log",
        "PROMETHEUS_MULTIPROC_DIR=/srv/shop/data/metrics",
        "APP_SECRET_KEY=kkkkkkkk",
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A dev environment built once from a seeded app repo, for the tests that look at it."""
    root = tmp_path_factory.mktemp("devenv")
    repo = seed_repo(root / "origin")
    (root / "dev").mkdir()
    host = LocalHost("dev", root / "dev")
    env = devenv.DevEnv(host.base, str(repo), sys.executable, free_port())
    try:
        plan = devenv.build(host, env)  # no flag: a plan
        planned_tree = sorted(os.listdir(host.base))
        applied = devenv.build(host, env, dry_run=False)
        yield host, env, repo, plan, planned_tree, applied
    finally:
        service.stop(host, env.layout.pid_file)


@pytest.mark.local
def test_a_build_without_the_flag_lists_every_step_and_changes_nothing(built):
    _, _, _, plan, planned_tree, _ = built
    assert planned_tree == []
    assert [c.operation for c in plan] == [
        "checkout",
        "directory",
        "directory",
        "venv",
        "requirements",
        "app.env",
        "app server",
    ]
    assert all(c.changed and not c.applied and c.commands for c in plan)


@pytest.mark.local
def test_apply_builds_a_working_dev_environment(built):
    host, env, repo, plan, _, applied = built
    assert [c.commands for c in applied] == [c.commands for c in plan]
    assert all(c.applied for c in applied)
    assert git(env.layout.app, "rev-parse", "HEAD") == git(repo, "rev-parse", "master")
    result = devenv.check(host, env)
    assert result.ok and result.status == 200 and result.body["status"] == "ok"
    proc = service.get_process(host, env.layout.pid_file)
    assert proc.python == env.venv_python  # served from the dev venv, not the host's interpreter
    assert os.stat(env.layout.env_file).st_mode & 0o777 == 0o600


@pytest.mark.local
def test_the_secret_never_appears_in_changes(built):
    _, env, _, plan, _, applied = built
    secret = open(env.layout.env_file).read().split("APP_SECRET_KEY=")[1].strip()
    assert len(secret) == 64
    assert secret not in repr(plan) + repr(applied)


@pytest.mark.local
def test_second_apply_changes_nothing(built):
    host, env, *_ = built
    again = devenv.build(host, env, dry_run=False)
    assert [c.changed for c in again] == [False] * 7, [c.reason for c in again if c.changed]


@pytest.mark.local
def test_new_commits_are_pulled_and_reloaded(built):
    host, env, repo, *_ = built
    (repo / "NOTES.md").write_text("new\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-q", "-m", "notes")
    plan = {c.operation: c for c in devenv.build(host, env, dry_run=True)}
    assert plan["checkout"].changed and "fast-forward" in plan["checkout"].reason
    assert plan["app server"].reason == "code or packages changed: reload"
    pid = service.get_process(host, env.layout.pid_file).pid
    devenv.build(host, env, dry_run=False)
    assert git(env.layout.app, "rev-parse", "HEAD") == git(repo, "rev-parse", "master")
    assert service.get_process(host, env.layout.pid_file).pid == pid
    assert devenv.check(host, env).ok


@pytest.mark.local
def test_changed_settings_are_rewritten_and_the_server_restarted(built):
    host, env, *_ = built
    text = open(env.layout.env_file).read().replace("APP_ENV=dev", "APP_ENV=prod")
    open(env.layout.env_file, "w").write(text)
    pid = service.get_process(host, env.layout.pid_file).pid
    changes = {c.operation: c for c in devenv.build(host, env, dry_run=False)}
    assert changes["app.env"].reason == "dev settings differ"
    assert changes["app server"].reason == "settings changed: restart"
    assert "APP_ENV=dev" in open(env.layout.env_file).read().splitlines()
    assert service.get_process(host, env.layout.pid_file).pid != pid
    assert devenv.check(host, env).ok


@pytest.mark.local
def test_local_work_in_the_dev_checkout_is_kept(built):
    host, env, *_ = built
    readme = os.path.join(env.layout.app, "README.md")
    original = open(readme).read()
    open(readme, "a").write("my local note\n")
    try:
        [first, *_] = devenv.build(host, env, dry_run=False)
        assert not first.changed and first.reason == "local edits kept, not updated: README.md"
        assert open(readme).read().endswith("my local note\n")
    finally:
        open(readme, "w").write(original)


@pytest.mark.local
def test_each_part_of_the_build_only_plans_without_the_flag(tmp_path):
    repo = seed_repo(tmp_path / "origin")
    (tmp_path / "dev").mkdir()
    host = LocalHost("dev", tmp_path / "dev")
    env = devenv.DevEnv(host.base, str(repo), sys.executable, free_port())
    parts = (devenv._checkout, devenv._venv, devenv._requirements, devenv._env_file, devenv._server)
    changes = [part(host, env) for part in parts]
    assert [c.outcome for c in changes] == ["planned"] * len(parts)
    assert os.listdir(host.base) == []


@pytest.mark.local
def test_a_folder_in_the_way_is_a_clear_error(tmp_path):
    (tmp_path / "app").mkdir()
    host = LocalHost("dev", tmp_path)
    env = devenv.DevEnv(host.base, str(tmp_path / "origin"), sys.executable, free_port())
    with pytest.raises(HostError, match="exists but is not a git checkout; move it away"):
        devenv.build(host, env, dry_run=True)
