"""ladder.assess.ci: one CI file read into what it shows, on recorded files of four providers."""

from __future__ import annotations

import pytest

from ladder.assess.ci import ci_score, parse_ci, provider_of

pytestmark = pytest.mark.unit

GITHUB = """\
name: ci
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pip install -e . && pytest
  deploy:
    if: github.ref == 'refs/heads/main'
    environment: production
    steps:
      - run: ./deploy.sh && curl -f https://shop.example/health
      - run: alembic upgrade head
"""


def test_the_provider_is_known_from_the_path():
    assert provider_of(".github/workflows/ci.yml") == "github-actions"
    assert provider_of(".gitlab-ci.yml") == "gitlab-ci"
    assert provider_of("src/app.py") is None


def test_a_github_workflow_shows_tests_triggers_deploy_smoke_and_migrations():
    ci = parse_ci(".github/workflows/ci.yml", GITHUB)
    assert ci is not None and ci.certain
    assert (ci.runs_tests, ci.push, ci.pull_request) == (True, True, True)
    assert ci.deploys and ci.deploys_from_main_or_tags and ci.smoke_test and ci.migrates
    assert ci_score(ci) == 10.0


def test_a_push_only_workflow_loses_the_pull_request_points():
    ci = parse_ci(".github/workflows/ci.yml", "on: [push]\njobs:\n  t:\n    steps:\n      - run: pytest\n")
    assert ci is not None and (ci.push, ci.pull_request, ci.deploys) == (True, False, False)
    assert ci_score(ci) == 7.0


def test_a_file_that_runs_no_tests_scores_low_and_a_non_ci_file_is_none():
    ci = parse_ci(".gitlab-ci.yml", "build:\n  script: make wheel\n")
    assert ci is not None and not ci.runs_tests and ci_score(ci) == 2.0
    assert parse_ci("docs/ci.md", GITHUB) is None


def test_what_it_shows_is_plain_json():
    ci = parse_ci(".github/workflows/ci.yml", GITHUB)
    assert ci is not None and ci.to_dict()["provider"] == "github-actions"
    assert set(ci.to_dict()) >= {"runs_tests", "push", "pull_request", "deploys", "smoke_test", "migrates"}
