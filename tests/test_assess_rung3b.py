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


BOARD_BOT = """name: add to project
on:
  issues:
    types: [opened]
jobs:
  add-to-project:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/add-to-project@v1
"""


def test_the_workflow_that_runs_the_tests_is_reported_over_a_project_board_bot(repo):
    ci = "on: [push, pull_request]\njobs:\n  checks:\n    steps:\n      - run: bash scripts/tests-start.sh\n"
    repo.commit(
        {
            ".github/workflows/a-board.yml": BOARD_BOT,
            ".github/workflows/z-ci.yml": ci,
            "scripts/tests-start.sh": "#!/bin/bash\npytest --cov\n",
        }
    )
    res = check(repo, "ci-tests")
    assert res.score == 10 and res.label == "measured"
    assert "z-ci.yml" in res.reason and "job checks: scripts/tests-start.sh: pytest --cov" in res.reason
