"""Repository evidence: each check on small real repositories built here, plus the edge cases."""

from __future__ import annotations

import json
import subprocess

import pytest

from gitrepo import DAY, NOW, GitRepo
from ladder.app.history import median, parse_log
from ladder.assess import NotARepository, gather_repo_evidence
from ladder.assess.checks import registered
from ladder.assess.evidence import describe_repo, parse_from_lines, parse_routes
from ladder.core.errors import LadderError


def check(repo: GitRepo, check_id: str, **kw):
    """Run one repository check on a repo."""
    (res,) = gather_repo_evidence(repo.path, now=NOW, checks=[check_id], **kw)
    assert not res.reason.startswith("check error"), res.reason
    return res


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


# ---- rung 1 ----------------------------------------------------------------------------------


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


def test_env_separation_scores_zero_without_any_sign(repo):
    repo.commit({"app.py": "DEBUG = True\n"})
    res = check(repo, "env-separation")
    assert res.score == 0 and res.label == "inferred"


def test_secrets_are_found_and_never_echoed(repo):
    aws = "AKIA" + "Q7W3E9R1T5Y2U8I4"  # built at runtime so this file holds no key-shaped literal
    password = "s3cr3t-" + "Pa55word"
    repo.commit({"settings.py": f'AWS_KEY = "{aws}"\nDB_PASSWORD = "{password}"\n', ".env": "X=1\n"})
    res = check(repo, "config-out-of-code")
    rules = sorted(f["rule"] for f in res.evidence["findings"])
    assert rules == ["aws-access-key-id", "generic-secret-assignment", "secret-file"]
    assert res.score < 10
    text = json.dumps(res.to_dict())
    assert aws not in text and password not in text


def test_placeholders_and_env_lookups_are_not_secrets(repo):
    repo.commit(
        {
            "settings.py": 'PASSWORD = "changeme-please"\nSECRET_KEY = os.environ["SECRET_KEY"]\n'
            'SECRET_KEY_VAR = "APP_SECRET_KEY"\n',
            ".env.example": "SECRET_KEY=\n",
        }
    )
    res = check(repo, "config-out-of-code")
    assert res.score == 10 and res.evidence["findings"] == []


def test_dev_setup_from_make_target(repo):
    repo.commit({"Makefile": "dev:\n\tpython -m venv .venv\n"})
    res = check(repo, "dev-setup")
    assert res.score == 8 and res.evidence["found"] == ["target: dev"]


def test_one_step_deploy_from_fabfile(repo):
    repo.commit({"fabfile.py": "def deploy(c): ...\n"})
    assert check(repo, "one-step-deploy").score == 8
    repo2 = GitRepo(repo.path.parent / "none")
    repo2.commit({"README.md": "ssh in, git pull\n"})
    assert check(repo2, "one-step-deploy").score == 0


def test_versioned_routes_from_decorators(repo):
    repo.commit(
        {
            "app.py": '@app.route("/v1/items")\ndef a(): ...\n@app.get("/v2/users")\ndef b(): ...\n'
            '@app.get("/health")\ndef c(): ...\n'
        }
    )
    res = check(repo, "versioned-routes")
    assert res.score == 10


def test_unversioned_route_table_scores_zero(repo):
    repo.commit({"app.py": 'ROUTES = [("GET", "/", index), ("GET", "/items", items), ("POST", "/items", add)]\n'})
    res = check(repo, "versioned-routes")
    assert res.score == 0 and res.evidence["unversioned"] == ["/items"]


def test_versioned_routes_inconclusive_without_public_routes(repo):
    repo.commit({"app.py": '@app.get("/health")\ndef h(): ...\n'})
    assert check(repo, "versioned-routes").inconclusive


def test_openapi_spec_is_measured(repo):
    repo.commit({"openapi.yaml": "openapi: 3.0.0\npaths:\n  /v1/items:\n    get: {}\n  /items:\n    get: {}\n"})
    res = check(repo, "versioned-routes")
    assert res.score == 5 and res.label == "measured"


def test_parse_routes_handles_django_paths():
    assert parse_routes(['path("api/v1/items/", views.items)', 're_path(r"^v2/x$", v)']) == ["/api/v1/items/", "/v2/x$"]


# ---- rung 2 ----------------------------------------------------------------------------------


def test_stale_and_active_long_lived_branches(repo):
    repo.commit({"a.py": "1\n"}, days_ago=60)
    repo.branch("feature/stale")
    repo.commit({"b.py": "1\n"}, days_ago=50)
    repo.checkout("main")
    repo.branch("feature/active")
    repo.commit({"c.py": "1\n"}, days_ago=20)
    repo.commit({"c.py": "2\n"}, days_ago=1)
    repo.checkout("main")
    repo.branch("feature/merged")
    repo.commit({"d.py": "1\n"}, days_ago=40)
    repo.checkout("main")
    repo.merge("feature/merged", days_ago=39)
    res = check(repo, "long-lived-branches")
    rows = {r["branch"]: r for r in res.evidence["long_lived"]}
    assert set(rows) == {"feature/stale", "feature/active"}
    assert rows["feature/active"]["active"] and not rows["feature/stale"]["active"]
    assert rows["feature/stale"]["age_days"] == pytest.approx(50, abs=0.1)
    assert res.score == 10 - 4 - 2


def test_no_long_lived_branches_scores_ten(repo):
    repo.commit({"a.py": "1\n"}, days_ago=3)
    repo.branch("fix")
    repo.commit({"a.py": "2\n"}, days_ago=2)
    assert check(repo, "long-lived-branches").score == 10


def test_trunk_frequency_direct_commits(repo):
    repo.daily(20, start_days_ago=40)
    res = check(repo, "trunk-frequency")
    assert res.score == 10 and res.evidence["landings"] == 20


def test_trunk_frequency_work_kept_on_branches(repo):
    repo.commit({"a.py": "0\n"}, days_ago=80)
    for week in range(4):
        repo.branch(f"f{week}")
        for d in range(5):
            repo.commit({"a.py": f"{week}{d}\n"}, days_ago=70 - week * 7 - d)
        repo.checkout("main")
        repo.merge(f"f{week}", days_ago=70 - week * 7 - 5)
    res = check(repo, "trunk-frequency")
    # 5 landings (1 commit + 4 merges) over 25 active days (20 branch commits, 4 merges, 1 start)
    assert res.evidence["landings"] == 5 and res.evidence["active_days"] == 25
    assert res.score == pytest.approx(2.0)


def test_trunk_frequency_inconclusive_with_few_active_days(repo):
    repo.commit({"a.py": "1\n"}, days_ago=1)
    res = check(repo, "trunk-frequency")
    assert res.inconclusive and "active day" in res.reason


def test_change_size_small_and_large(repo):
    repo.daily(12, start_days_ago=30, lines=2)
    assert check(repo, "change-size").score == 10
    big = GitRepo(repo.path.parent / "big")
    for i in range(12):
        big.commit(
            {"a.py": "\n".join(f"x{j} = {i}" for j in range(1500)) + "\n", "package-lock.json": "{}\n" * (i + 1)},
            days_ago=20 - i,
        )
    res = check(big, "change-size")
    assert res.score == 0 and res.evidence["median_lines"] == 3000


def test_change_size_inconclusive_with_few_commits(repo):
    repo.commit({"a.py": "1\n"})
    assert check(repo, "change-size").inconclusive


def test_feature_flags_library_and_module(repo):
    repo.commit({"requirements.txt": "flask==3.0\nUnleashClient==5.0\n"})
    assert check(repo, "feature-flags").evidence["libraries"] == ["unleash"]
    other = GitRepo(repo.path.parent / "mod")
    other.commit({"app/flags.py": "NEW_UI = False\n"})
    assert check(other, "feature-flags").score == 10
    none = GitRepo(repo.path.parent / "none")
    none.commit({"app.py": "x = 1\n"})
    assert check(none, "feature-flags").score == 0


def test_tests_present_share(repo):
    repo.commit({"app.py": "x = 1\n" * 70, "tests/test_app.py": "y = 2\n" * 30})
    res = check(repo, "tests-present")
    assert res.evidence["test_share"] == pytest.approx(0.3)
    assert res.score == pytest.approx(10)
    no_tests = GitRepo(repo.path.parent / "nt")
    no_tests.commit({"app.py": "x = 1\n"})
    assert check(no_tests, "tests-present").score == 0
    no_code = GitRepo(repo.path.parent / "nc")
    no_code.commit({"README.md": "hi\n"})
    assert check(no_code, "tests-present").inconclusive


def test_tests_with_changes_share(repo):
    repo.daily(20, start_days_ago=40, tests_every=2)
    res = check(repo, "tests-with-changes")
    assert res.evidence["share"] == pytest.approx(0.5) and res.score == 10


# ---- rung 3a ---------------------------------------------------------------------------------


def test_packaging_recipe_and_pinned_dockerfile(repo):
    repo.commit(
        {
            "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n',
            "Dockerfile": "FROM python:3.11-slim AS build\nFROM build\n",
        }
    )
    res = check(repo, "packaging")
    assert res.score == 10 and res.evidence["recipes"] == ["pyproject.toml"]


def test_packaging_unpinned_docker_only(repo):
    repo.commit({"Dockerfile": "FROM python:latest\n", "pyproject.toml": "[tool.black]\n"})
    assert check(repo, "packaging").score == 4


def test_parse_from_lines_pins():
    text = (
        "ARG BASE=python\nFROM --platform=linux/amd64 python:3.12 AS base\nFROM base\nFROM ${BASE}:3\n"
        "FROM debian@sha256:abc\nFROM node\nFROM scratch\n"
    )
    assert parse_from_lines(text) == [
        ("python:3.12", True),
        ("${BASE}:3", False),
        ("debian@sha256:abc", True),
        ("node", False),
    ]


def test_release_tags(repo):
    repo.commit({"a": "1"}, days_ago=400)
    repo.tag("v1.0.0", days_ago=400)
    repo.tag("nightly", days_ago=400, annotated=False)
    assert check(repo, "release-tags").score == 5
    for i, ago in enumerate((30, 20, 10)):
        repo.commit({"a": str(i)}, days_ago=ago)
        repo.tag(f"v1.{i + 1}.0", days_ago=ago)
    res = check(repo, "release-tags")
    assert res.score == 10 and res.evidence["latest"] == "v1.3.0"


def test_no_release_tags(repo):
    repo.commit({"a": "1"})
    repo.tag("nightly")
    res = check(repo, "release-tags")
    assert res.score == 0 and res.evidence["other_tags"] == ["nightly"]


def test_committed_binaries_and_large_files(repo):
    repo.commit(
        {
            "dist/app-1.0-py3-none-any.whl": b"PK\x03\x04" + bytes(range(256)),
            "data/dump.bin": b"\0" * (11 * 1024 * 1024),
        }
    )
    res = check(repo, "no-binaries")
    assert res.evidence["artifacts"] == ["data/dump.bin", "dist/app-1.0-py3-none-any.whl"]
    assert [f["path"] for f in res.evidence["large_files"]] == ["data/dump.bin"]
    assert res.score == 10 - 6 - 2


def test_binaries_only_in_history(repo):
    repo.commit({"app.zip": b"PK\x03\x04\0\0"})
    repo.commit(remove=["app.zip"])
    res = check(repo, "no-binaries")
    assert res.score == 9 and res.evidence["history_artifacts"] == ["app.zip"]


# ---- rung 3b, 4 ------------------------------------------------------------------------------

WORKFLOW = """name: ci
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pytest -q
"""


def test_github_actions_on_push_and_pull_request(repo):
    repo.commit({".github/workflows/ci.yml": WORKFLOW})
    res = check(repo, "ci-tests")
    assert res.score == 10 and res.label == "measured"


def test_github_actions_push_only(repo):
    repo.commit({".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    steps:\n      - run: tox\n"})
    assert check(repo, "ci-tests").score == 7


def test_gitlab_ci_with_merge_requests(repo):
    repo.commit(
        {
            ".gitlab-ci.yml": "test:\n  script: [pytest]\n  rules:\n"
            "    - if: $CI_PIPELINE_SOURCE == 'merge_request_event'\n    - if: $CI_COMMIT_BRANCH\n"
        }
    )
    assert check(repo, "ci-tests").score == 10


def test_ci_script_without_server_config_is_inferred(repo):
    repo.commit({".ci/run": "#!/bin/sh\nmake test\n"})
    res = check(repo, "ci-tests")
    assert res.score == 6 and res.label == "inferred"


def test_no_ci(repo):
    repo.commit({"app.py": "x = 1\n"})
    assert check(repo, "ci-tests").score == 0


def test_deploy_pipeline_from_main(repo):
    wf = WORKFLOW + "  deploy:\n    needs: test\n    environment: production\n    steps:\n      - run: ./deploy.sh\n"
    repo.commit({".github/workflows/ci.yml": wf})
    assert check(repo, "deploy-pipeline").score == 10
    other = GitRepo(repo.path.parent / "o")
    other.commit(
        {
            ".github/workflows/d.yml": "on: workflow_dispatch\njobs:\n  deploy:\n    steps:\n"
            "      - run: kubectl apply -f k8s/\n"
        }
    )
    assert check(other, "deploy-pipeline").score == 6


def test_smoke_canary_rollback_in_deploy_files(repo):
    repo.commit(
        {
            "deploy/rollout.yaml": "kind: Rollout\nstrategy:\n  canary:\n    steps: []\n",
            "scripts/rollback.sh": "#!/bin/sh\n",
            ".github/workflows/cd.yml": "on: push\njobs:\n  d:\n    steps:\n      - run: curl -f https://x/health\n",
        }
    )
    assert check(repo, "smoke-test").score == 10
    assert check(repo, "canary").score == 10
    assert check(repo, "rollback-tooling").evidence["files"][0] == "scripts/rollback.sh"


def test_canary_in_docs_does_not_count(repo):
    repo.commit({"docs/canary.md": "We should try canary deploys.\n"})
    assert check(repo, "canary").score == 0


# ---- rung 5, all -----------------------------------------------------------------------------


def test_observability_libraries_and_config(repo):
    repo.commit({"requirements.txt": "structlog\nsentry-sdk\n", "prometheus.yml": "scrape_configs: []\n"})
    res = check(repo, "observability")
    assert res.score == 10 and res.evidence["libraries"] == ["sentry-sdk", "structlog"]


def test_migrations_folder_and_pipeline_step(repo):
    repo.commit(
        {
            "alembic.ini": "[alembic]\n",
            "alembic/versions/1_init.py": "revision = '1'\n",
            ".gitlab-ci.yml": "deploy:\n  script: [alembic upgrade head, pytest]\n",
        }
    )
    assert check(repo, "migrations").score == 10


def test_migrations_missing_for_database_app(repo):
    repo.commit({"app.py": "import sqlite3\n"})
    assert check(repo, "migrations").score == 0
    nodb = GitRepo(repo.path.parent / "nodb")
    nodb.commit({"app.py": "print(1)\n"})
    assert check(nodb, "migrations").inconclusive


def test_dependency_updates(repo):
    repo.commit({".github/dependabot.yml": "version: 2\n"})
    assert check(repo, "dependency-updates").score == 10


# ---- history parsing (pure) ------------------------------------------------------------------

RECORDED_LOG = (
    b"\x1e1700000000 aaa\n\n3\t1\tapp.py\n2\t0\ttests/test_app.py\n"
    b"\x1e1700000100 bbb ccc\n"
    b"\x1e1700000200 ddd\n\n-\t-\tdist/app.whl\n100\t0\tpackage-lock.json\n4\t4\tapp.py\n"
    b"\x1e1700000300\n\n1\t1\t\xff\xfe-latin.py\n"
)


def test_parse_log_folds_commits():
    s = parse_log(iter(RECORDED_LOG.splitlines(keepends=True)), since=1700000150)
    assert (s.commits, s.merges, s.changed, s.touched_tests) == (3, 1, 3, 1)
    assert dict(s.sizes) == {6: 1, 8: 1, 2: 1}  # lock file and binary not counted
    assert (s.recent_commits, s.recent_changed) == (2, 2)
    assert s.artifact_samples == ["dist/app.whl"] and s.binary_changes == 1


def test_parse_log_memory_does_not_grow_with_commits():
    def lines(n):
        for i in range(n):
            yield b"\x1e%d p\n" % (1700000000 + i)
            yield b"\n"
            yield b"%d\t1\tsrc/m%d.py\n" % (i % 7, i % 50)

    s = parse_log(lines(50_000), since=0)
    assert s.commits == 50_000
    assert len(s.sizes) == 7  # one counter slot per distinct size, not per commit


def test_median_of_counts():
    from collections import Counter

    assert median(Counter({1: 1, 3: 1})) == 2
    assert median(Counter({5: 3, 100: 1})) == 5
    assert median(Counter()) is None


# ---- edge cases ------------------------------------------------------------------------------


def _no_errors(results):
    assert len(results) == len(registered("repo"))
    for r in results:
        assert not r.reason.startswith("check error"), (r.id, r.reason)


def test_empty_repository_is_inconclusive_everywhere(repo):
    results = gather_repo_evidence(repo.path, now=NOW)
    _no_errors(results)
    assert all(r.inconclusive and r.reason == "the repository has no commits" for r in results)
    assert describe_repo(repo.path)["empty"] is True


def test_shallow_clone(repo, tmp_path):
    repo.daily(15, start_days_ago=30, tests_every=3)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    results = {r.id: r for r in gather_repo_evidence(clone, now=NOW)}
    _no_errors(results.values())
    assert results["change-size"].inconclusive and results["change-size"].evidence["shallow_clone"] is True
    assert results["tests-present"].score is not None
    assert describe_repo(clone)["shallow"] is True


def test_no_main_or_master_branch(tmp_path):
    repo = GitRepo(tmp_path / "r", branch="develop")
    repo.daily(12, start_days_ago=20)
    repo.branch("feature")
    repo.commit({"b.py": "1\n"})
    results = {r.id: r for r in gather_repo_evidence(repo.path, now=NOW)}
    _no_errors(results.values())
    assert results["long-lived-branches"].inconclusive
    assert "no main or master" in results["trunk-frequency"].reason
    assert results["change-size"].evidence["history_of"] == "HEAD (no main or master branch)"
    assert results["change-size"].score is not None


def test_detached_head(repo):
    first = repo.commit({"a.py": "1\n"}, days_ago=5)
    repo.daily(12, start_days_ago=4)
    repo.checkout(first)
    assert describe_repo(repo.path)["detached_head"] is True
    results = {r.id: r for r in gather_repo_evidence(repo.path, now=NOW)}
    _no_errors(results.values())
    assert results["change-size"].evidence["history_of"] == "main"


def test_non_utf8_commit_messages_and_paths(repo):
    repo.git("config", "i18n.commitEncoding", "ISO-8859-1")
    (repo.path / "caf\xe9.py").write_text("x = 1\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-F", "-", input="caf\xe9 cr\xe8me \xff\n".encode("latin-1"), when=NOW - DAY)
    tree = repo.git("write-tree")
    raw = subprocess.run(
        ["git", "commit-tree", tree, "-p", "HEAD"],
        cwd=repo.path,
        input=b"bad \xff\xfe bytes\n",
        stdout=subprocess.PIPE,
        check=True,
        env={
            "GIT_AUTHOR_NAME": "D",
            "GIT_AUTHOR_EMAIL": "d@x",
            "GIT_COMMITTER_NAME": "D",
            "GIT_COMMITTER_EMAIL": "d@x",
            "PATH": "/usr/bin:/bin",
        },
    ).stdout
    repo.git("update-ref", "refs/heads/main", raw.decode().strip())
    _no_errors(gather_repo_evidence(repo.path, now=NOW))


def test_binary_and_very_large_files(repo):
    repo.commit(
        {
            "img/logo.png": bytes(range(256)) * 64,
            "big.txt": ("password = 'x'\n" * 900_000),
            "blob.bin": bytes(range(256)) * 50_000,
        }
    )
    results = {r.id: r for r in gather_repo_evidence(repo.path, now=NOW)}
    _no_errors(results.values())
    assert results["no-binaries"].evidence["large_files"][0]["path"] == "big.txt"


def test_not_a_repository(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotARepository) as err:
        gather_repo_evidence(tmp_path / "plain")
    assert isinstance(err.value, LadderError) and "not a git repository" in str(err.value)
    with pytest.raises(NotARepository, match="no such folder"):
        gather_repo_evidence(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotARepository, match="a file"):
        gather_repo_evidence(tmp_path / "file.txt")


def test_subfolder_of_a_repository_is_refused(repo):
    repo.commit({"sub/a.py": "1\n"})
    with pytest.raises(NotARepository, match="pass .*repo instead"):
        gather_repo_evidence(repo.path / "sub")


def test_every_result_is_plain_json(repo):
    repo.daily(12, start_days_ago=20, tests_every=2)
    for r in gather_repo_evidence(repo.path, now=NOW):
        json.dumps(r.to_dict())
        assert r.label in ("measured", "inferred", "inconclusive")
        assert r.score is None or 0 <= r.score <= 10
