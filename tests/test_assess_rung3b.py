"""Rung 3b's check: CI that runs the tests on push and pull request."""

from __future__ import annotations

import pytest

from assessing import WORKFLOW, check
from gitrepo import GitRepo

pytestmark = pytest.mark.local


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


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
