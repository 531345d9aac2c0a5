"""Rung 1's checks: per-environment settings, no committed secrets, one-command setup and deploy, separate hosts, prod unedited, parity."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assessing import by_id, check, make_checkout_host, make_origin, make_release_host
from gitrepo import GitRepo
from ladder.assess.evidence import assess_hosts
from ladder.core.hosts import LocalHost

pytestmark = pytest.mark.local


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def origin(tmp_path) -> Path:
    return make_origin(tmp_path / "origin")


# ---- the repository ----------------------------------------------------------------------


def test_env_separation_finds_example_env_and_per_environment_config(repo):
    repo.commit(
        {
            ".env.example": "APP_ENV=dev\n",
            "config/production.py": "DEBUG = False\n",
            "docker-compose.override.yml": "services: {}\n",
        }
    )
    res = check(repo, "env-separation")
    assert res.score == 10
    assert res.evidence["example_env_files"] == [".env.example"]
    assert res.evidence["environment_config"] == ["config/production.py"]


def test_env_separation_without_any_sign_is_inconclusive_not_zero(repo):
    # Settings may come from the servers or a platform alone: no sign in the repository is no evidence of sharing.
    repo.commit({"app.py": "DEBUG = True\n"})
    res = check(repo, "env-separation")
    assert res.score is None and "outside the repository" in res.reason


def test_env_separation_one_sign_is_enough_to_pass(repo):
    repo.commit({"app.py": "import os\nDEBUG = os.environ.get('DEBUG')\n"})
    res = check(repo, "env-separation")
    assert res.score == 7 and res.label == "inferred" and res.evidence["env_var_reads"] == ["app.py"]


def test_dev_setup_from_make_target(repo):
    repo.commit({"Makefile": "dev:\n\tpython -m venv .venv\n"})
    res = check(repo, "dev-setup")
    assert res.score == 8 and res.evidence["found"] == ["target: dev"]


@pytest.mark.parametrize("path", ["docker/docker-compose.yml", "deploy/compose.yaml", "ops/dev/compose.dev.yml"])
def test_dev_setup_from_a_compose_file_in_a_subfolder(repo, path):
    repo.commit({path: "services:\n  web:\n    build: .\n"})
    res = check(repo, "dev-setup")
    assert res.score == 8 and res.evidence["found"] == [path]


def test_a_compose_file_among_the_tests_is_a_fixture(repo):
    repo.commit({"tests/fixtures/docker-compose.yml": "services: {}\n"})
    res = check(repo, "dev-setup")  # nothing else: a dev setup lives in the repository, so none is measured low
    assert res.score == 2 and res.label == "measured" and "no one-command dev setup" in res.reason


@pytest.mark.parametrize(
    "files, found",
    [
        ({"Pipfile": "[packages]\n", "Pipfile.lock": "{}\n"}, "Pipfile.lock"),
        ({"package.json": '{"name": "x"}\n', "package-lock.json": "{}\n"}, "lock file: package-lock.json"),
        ({"pyproject.toml": "[project]\nname = 'x'\n", "uv.lock": "version = 1\n"}, "lock file: uv.lock"),
        ({"pyproject.toml": "[tool.hatch.envs.default]\n"}, "dev dependencies: pyproject.toml"),
        ({"docker/docker-compose.override.yml": "services: {}\n"}, "docker/docker-compose.override.yml"),
        ({"justfile": "bootstrap:\n    uv sync\n"}, "target: bootstrap"),
    ],
)
def test_dev_setup_from_lock_files_env_managers_and_task_runners(repo, files, found):
    repo.commit(files)
    res = check(repo, "dev-setup")
    assert res.score == 8 and res.evidence["found"] == [found]


def test_a_project_templates_dev_setup_is_its_users_not_its_own(repo):
    repo.commit({"cookiecutter.json": "{}\n", "{{cookiecutter.slug}}/.devcontainer/devcontainer.json": "{}\n"})
    assert check(repo, "dev-setup").score == 2


def test_a_lock_file_without_its_manifest_is_no_dev_setup(repo):
    repo.commit({"vendor/yarn.lock": "x\n", "uv.lock": "version = 1\n"})
    assert check(repo, "dev-setup").score == 2


def test_dev_dependencies_in_the_manifest_are_a_one_command_setup(repo):
    repo.commit(
        {
            "pyproject.toml": "[project]\nname = 'x'\n[project.optional-dependencies]\ndocs = ['sphinx']\ndev = ['pytest']\n",
            "scripts/install": "pip install -e .[dev]\n",
        }
    )
    res = check(repo, "dev-setup")
    assert res.score == 10 and res.evidence["found"] == ["scripts/install", "dev dependencies: pyproject.toml"]


def test_one_step_deploy_from_fabfile(repo):
    repo.commit({"fabfile.py": "def deploy(c): ...\n"})
    assert check(repo, "one-step-deploy").score == 8
    repo2 = GitRepo(repo.path.parent / "none")
    repo2.commit({"README.md": "ssh in, git pull\n"})
    res = check(repo2, "one-step-deploy")  # a platform may deploy it: the question settles it, never a 0
    assert res.score is None and "outside the repository" in res.reason


# ---- the hosts ------------------------------------------------------------------------------


def test_a_release_matching_its_checksums_is_unmodified(tmp_path):
    prod = make_release_host(tmp_path / "prod")
    (tmp_path / "dev" / "app").mkdir(parents=True)  # a developer's copy of the app
    got = by_id(assess_hosts({"dev": [LocalHost("dev", tmp_path / "dev")], "prod": [prod]}))
    assert got["prod-unmodified"].score == 10 and "SHA256SUMS" in got["prod-unmodified"].reason
    assert got["separate-hosts"].score == 8  # separate folders, same machine


def test_a_dev_host_without_the_app_separates_nothing(tmp_path):
    prod = make_release_host(tmp_path / "prod")
    (tmp_path / "dev").mkdir()
    got = by_id(assess_hosts({"dev": [LocalHost("dev", tmp_path / "dev")], "prod": [prod]}))
    assert got["separate-hosts"].score == 0 and "no dev host holds the app yet" in got["separate-hosts"].reason


def test_release_edited_in_place_is_caught_by_checksums(tmp_path):
    prod = make_release_host(tmp_path / "prod")
    (tmp_path / "prod" / "releases" / "v3" / "app.py").write_text("VERSION = 'hacked'\n")
    got = by_id(assess_hosts({"prod": [prod]}))
    assert got["prod-unmodified"].score == 0
    assert got["prod-unmodified"].evidence["hosts"][0]["modified"] == ["app.py"]


def test_checkout_with_edits_like_the_sandbox(tmp_path, origin):
    prod = make_checkout_host(tmp_path / "prod", origin)
    got = by_id(assess_hosts({"prod": [prod]}))
    assert got["prod-unmodified"].score == 0 and "edited in place" in got["prod-unmodified"].reason
    assert got["separate-hosts"].inconclusive and "no dev environment" in got["separate-hosts"].reason


def test_nothing_deployed_is_inconclusive(tmp_path):
    (tmp_path / "prod").mkdir()
    got = by_id(assess_hosts({"prod": [LocalHost("prod1", tmp_path / "prod")]}))
    assert got["prod-unmodified"].inconclusive
    assert got["prod-unmodified"].reason == f"neither {tmp_path}/prod/current nor a checkout at {tmp_path}/prod/app"


def test_dev_and_prod_in_one_folder(tmp_path):
    (tmp_path / "same" / "app").mkdir(parents=True)
    hosts = {"dev": [LocalHost("dev", tmp_path / "same")], "prod": [LocalHost("prod1", tmp_path / "same")]}
    got = by_id(assess_hosts(hosts))["separate-hosts"]
    assert got.score == 0 and "share a folder" in got.reason


SAME = {"same": 1, "different": 0}


def test_parity_compares_config_names_never_values(tmp_path):
    for name, text in (
        ("dev", "APP_ENV=dev\nAPP_SECRET_KEY=devsecretvalue123\n"),
        ("prod", "APP_ENV=prod\nexport APP_SECRET_KEY=prodsecretvalue456\nAPP_DB_PATH=/x\n"),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.env").write_text(text)
    hosts = {"dev": [LocalHost("dev", tmp_path / "dev")], "prod": [LocalHost("prod1", tmp_path / "prod")]}
    got = by_id(assess_hosts(hosts, python={"dev": sys.executable, "prod1": sys.executable}))
    parity = got["dev-prod-parity"]
    assert parity.evidence["differences"] == ["env var APP_DB_PATH: dev —, prod1 set"]
    kinds = parity.evidence["kinds"]
    # Neither host has an app environment, so there are no packages to compare.
    assert kinds == {"os": SAME, "python": SAME, "env var": {"same": 2, "different": 1}}
    assert parity.score == pytest.approx(10 * (1 + 1 + 2 / 3) / 3, abs=0.01)
    assert parity.reason == "1 of 5 items differ: config names 1 of 3"
    text = json.dumps(parity.to_dict())
    assert "devsecretvalue123" not in text and "prodsecretvalue456" not in text


def test_dev_environment_and_deploy_step(tmp_path, origin):
    dev_base = tmp_path / "dev"
    dev_base.mkdir()
    subprocess.run(["git", "clone", "-q", str(origin), str(dev_base / "app")], check=True)
    prod = make_checkout_host(tmp_path / "prod", origin)
    hosts = {"dev": [LocalHost("dev", dev_base)], "prod": [prod]}
    got = by_id(assess_hosts(hosts))
    assert got["dev-environment"].score == 5 and "without a virtualenv" in got["dev-environment"].reason
    assert got["deploy-step"].score == 0
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dev_base / "venv")], check=True)
    script = tmp_path / "prod" / "bin" / "deploy"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    got = by_id(assess_hosts(hosts))
    assert got["dev-environment"].score == 10
    assert got["deploy-step"].score == 10 and got["deploy-step"].evidence["hosts"][0]["scripts"] == [str(script)]
    empty = tmp_path / "empty-dev"
    empty.mkdir()
    assert by_id(assess_hosts({"dev": [LocalHost("dev", empty)]}))["dev-environment"].score == 0
