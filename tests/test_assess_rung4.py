"""Rung 4's checks: a deploy pipeline from main, a smoke test, prod's health over HTTP."""

from __future__ import annotations

import pytest

from assessing import WORKFLOW, by_id, check, closed_port, health_server
from gitrepo import GitRepo
from ladder.assess import rung4
from ladder.assess.deploys import JournalRun
from ladder.assess.dora import DoraReport
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


def _rollout(env: str, version: str, at: float, status: str = "ok", changes: int = 1) -> JournalRun:
    params = {"environment": env, "version": version}
    return JournalRun(f"r{at}", "", "4", params, at, at + 1, status, changes, kind="deploy")


def test_staged_deploys_count_the_prod_deploys_that_went_to_staging_first():
    report = DoraReport([], "journal", 90)
    assert rung4.staged_deploys(report).inconclusive  # no deploy to prod: the question settles it
    report.rollouts = [
        _rollout("staging", "1.0", 1), _rollout("prod", "1.0", 2),  # through staging
        _rollout("staging", "1.1", 3),  # stopped at staging (its smoke test failed): not a prod deploy
        _rollout("prod", "1.2", 4),  # straight to prod
        _rollout("staging", "1.3", 5, status="failed"), _rollout("prod", "1.3", 6),  # staging failed: not staged
        _rollout("prod", "1.0", 7, changes=0),  # nothing changed: no deploy
    ]  # fmt: skip
    found = rung4.staged_deploys(report)
    assert round(found.score, 2) == 3.33 and found.evidence["versions"] == ["1.0", "1.2", "1.3"]
    assert found.reason == "1 of 3 deploy(s) to prod in the journal went to staging first"
