"""Rung 4's checks: a deploy pipeline from main, a smoke test, prod's health over HTTP."""

from __future__ import annotations

import pytest

from assessing import WORKFLOW, by_id, check, closed_port, health_server
from gitrepo import GitRepo
from ladder.assess.evidence import assess_hosts
from ladder.core.hosts import LocalHost

pytestmark = pytest.mark.local


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def health_port():
    with health_server() as port:
        yield port


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


def test_smoke_test_in_the_pipeline(repo):
    repo.commit(
        {".github/workflows/cd.yml": "on: push\njobs:\n  d:\n    steps:\n      - run: curl -f https://x/health\n"}
    )
    assert check(repo, "smoke-test").score == 10
    none = GitRepo(repo.path.parent / "none")
    none.commit({".github/workflows/cd.yml": "on: push\njobs:\n  d:\n    steps:\n      - run: ./deploy.sh\n"})
    res = check(none, "smoke-test")  # the deploy the repository shows checks nothing afterwards
    assert res.score == 0 and res.evidence["deploys"] == [".github/workflows/cd.yml"]
    platform = GitRepo(repo.path.parent / "platform")
    platform.commit({"app.py": "X = 1\n"})  # deployed by a platform, perhaps: nothing to judge here
    res = check(platform, "smoke-test")
    assert res.score is None and "outside the repository" in res.reason


def test_health_over_http(health_port, tmp_path):
    (tmp_path / "p").mkdir()
    prod = LocalHost("prod1", tmp_path / "p")
    ok = by_id(assess_hosts({"prod": [prod]}, health_urls={"prod1": f"http://127.0.0.1:{health_port}/health"}))
    assert ok["app-health"].inconclusive and "does not show that deploys are smoke tested" in ok["app-health"].reason
    bad = by_id(assess_hosts({"prod": [prod]}, health_urls={"prod1": f"http://127.0.0.1:{health_port}/x"}))
    assert bad["app-health"].score == 2
    down = by_id(assess_hosts({"prod": [prod]}, health_urls={"prod1": f"http://127.0.0.1:{closed_port()}/health"}))
    assert down["app-health"].score == 0 and "did not answer" in down["app-health"].reason
    malformed = by_id(assess_hosts({"prod": [prod]}, health_urls={"prod1": "not a url"}))
    assert malformed["app-health"].score == 0 and not malformed["prod-runs-release"].evidence["errors"]


def test_waiting_for_docker_is_no_smoke_test_and_a_test_environment_is_no_deploy(repo):
    wf = (
        "on: [pull_request]\njobs:\n  wait-for-docker:\n    steps:\n      - run: docker compose up -d\n"
        "  e2e:\n    needs: wait-for-docker\n    steps:\n      - name: Deploy E2E Test Environment\n"
        "        run: docker compose -f e2e.yml up -d\n      - run: npx playwright test\n"
    )
    repo.commit({".github/workflows/e2e.yml": wf})
    assert check(repo, "smoke-test").score is None
    assert check(repo, "deploy-pipeline").score is None
    assert check(repo, "ci-tests").score == 7
