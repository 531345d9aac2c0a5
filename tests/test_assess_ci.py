"""ladder.assess.ci: one CI file read into what it shows, on recorded files of four providers."""

from __future__ import annotations

import pytest

from ladder.assess.ci import ci_score, parse_ci, provider_of

pytestmark = pytest.mark.unit


def reader(files: dict[str, str]):
    """A repository's files read by path, "" for one it does not hold."""
    return lambda path: files.get(path, "")


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


def workflow(*steps: str, job: str = "build", on: str = "[push, pull_request]") -> str:
    """A one-job GitHub workflow whose steps are the given YAML lines."""
    return f"on: {on}\njobs:\n  {job}:\n    runs-on: ubuntu-latest\n    steps:\n" + "".join(
        f"      - {s}\n" for s in steps
    )


@pytest.mark.parametrize(
    "command",
    ["uv run pytest -q", "tox -e py312", "nox -s tests", "make test", "task py:test", "npx playwright test"],
)
def test_a_test_command_of_any_common_runner_is_found(command):
    ci = parse_ci(".github/workflows/ci.yml", workflow("uses: actions/checkout@v4", f"run: {command}"))
    assert ci is not None and ci.runs_tests and ci.job == "build" and command in (ci.evidence or "")


def test_a_task_runner_target_that_only_ends_in_test_letters_is_no_test():
    ci = parse_ci(".github/workflows/ci.yml", workflow("run: make latest", "run: uv run ruff check"))
    assert ci is not None and not ci.runs_tests


def test_a_script_of_the_repository_is_followed_one_level():
    files = {"scripts/tests-start.sh": "#!/bin/bash\nset -e\npython -m pytest tests\n"}
    ci = parse_ci(".github/workflows/ci.yml", workflow("run: bash scripts/tests-start.sh"), reader(files))
    assert ci is not None and ci.runs_tests
    assert ci.evidence == "job build: scripts/tests-start.sh: python -m pytest tests"
    alone = parse_ci(".github/workflows/ci.yml", workflow("run: bash scripts/tests-start.sh"))
    assert alone is not None and not alone.runs_tests


def test_a_make_target_and_a_taskfile_task_are_followed():
    files = {
        "Makefile": "ci: lint unit\nlint:\n\truff check .\nunit:\n\tpython -m pytest -x\n",
        "Taskfile.yml": "version: '3'\ntasks:\n  ci:\n    cmds:\n      - task: check\n  check:\n    cmds:\n"
        "      - go test ./...\n",
    }
    made = parse_ci(".github/workflows/ci.yml", workflow("run: make ci"), reader(files))
    assert made is not None and made.evidence == "job build: Makefile ci: python -m pytest -x"
    tasked = parse_ci(".github/workflows/ci.yml", workflow("run: task ci"), reader(files))
    assert tasked is not None and tasked.evidence == "job build: Taskfile ci: go test ./..."


def test_a_job_or_step_named_test_runs_tests_but_a_test_environment_deploy_does_not():
    named = parse_ci(".github/workflows/ci.yml", workflow("run: ./ci.sh", job="test"))
    assert named is not None and named.runs_tests and named.evidence == "job test: job: test"
    e2e = parse_ci(
        ".github/workflows/e2e.yml",
        workflow("name: Deploy E2E Test Environment\n        run: ./scripts/up.sh", job="up", on="[pull_request]"),
    )
    assert e2e is not None and not e2e.deploys and not e2e.runs_tests


def test_a_local_reusable_workflow_is_followed():
    called = workflow("run: pytest -q", job="unit", on="workflow_call")
    caller = "on: [push, pull_request]\njobs:\n  checks:\n    uses: ./.github/workflows/_tests.yml\n"
    ci = parse_ci(".github/workflows/ci.yml", caller, reader({".github/workflows/_tests.yml": called}))
    assert ci is not None and ci.runs_tests and ci_score(ci) == 10.0
    assert ci.evidence == "job checks: .github/workflows/_tests.yml job unit, run: pytest -q"
    reusable = parse_ci(".github/workflows/_tests.yml", called)
    assert reusable is not None and (reusable.push, reusable.pull_request) == (None, None)


def test_waiting_for_docker_is_no_smoke_test():
    ci = parse_ci(".github/workflows/ci.yml", workflow("run: ./up.sh", job="wait-for-docker"))
    assert ci is not None and not ci.smoke_test
    health = parse_ci(".github/workflows/ci.yml", workflow("run: wait-for-it --url https://x/health"))
    assert health is not None and health.smoke_test


def test_a_coverage_upload_named_smokeshow_is_no_smoke_test_and_a_smoke_step_is():
    upload = parse_ci(".github/workflows/smokeshow.yml", workflow("run: smokeshow upload htmlcov", job="smokeshow"))
    assert upload is not None and not upload.smoke_test
    smoke = parse_ci(".github/workflows/cd.yml", workflow("name: Smoke-test staging", "run: ./check.sh"))
    assert smoke is not None and smoke.smoke_test


def test_azure_pipelines_templates_of_the_repository_are_followed():
    main = "trigger: [main]\npr: [main]\nstages:\n  - template: ci/templates/test.yml\n"
    files = {"ci/templates/test.yml": "steps:\n  - task: DotNetCoreCLI@2\n    inputs:\n      command: test\n"}
    ci = parse_ci("azure-pipelines.yml", main, reader(files))
    assert ci is not None and ci.runs_tests and ci.evidence == "ci/templates/test.yml: command: test"
    assert ci_score(ci) == 10.0


def test_a_workflow_yaml_cannot_read_is_still_searched_line_by_line():
    ci = parse_ci(".github/workflows/ci.yml", "on: [push\njobs:\n  t:\n    steps:\n      - run: pytest\n")
    assert ci is not None and ci.runs_tests and ci.evidence == ".github/workflows/ci.yml: - run: pytest"


TOX_INI = """[tox]
envlist = py312, lint

[testenv]
deps = pytest
commands = pytest {posargs}

[testenv:lint]
commands = ruff check .

[testenv:docs]
commands = sphinx-build docs html
"""

NOXFILE = """import nox


@nox.session(python=["3.12"])
def tests(session):
    session.install(".")
    session.run("pytest")


@nox.session(name="docs")
def build_docs(session):
    session.run("sphinx-build", "docs", "html")
"""


@pytest.mark.parametrize(
    ("command", "tests"),
    [
        ("tox", True),  # envlist: py312 runs [testenv]'s pytest
        ("tox -e py312", True),
        ("tox -e lint,docs", False),
        ("nox -s tests", True),
        ("nox --session=docs", False),
        ("nox", True),
    ],
)
def test_tox_and_nox_count_by_what_their_environments_run(command, tests):
    files = {"tox.ini": TOX_INI, "noxfile.py": NOXFILE}
    ci = parse_ci(".github/workflows/ci.yml", workflow(f"run: {command}"), reader(files))
    assert ci is not None and ci.runs_tests is tests


def test_without_their_config_tox_and_nox_are_judged_by_the_names_of_their_environments():
    named = parse_ci(".github/workflows/ci.yml", workflow("run: tox -e typing"))
    assert named is not None and not named.runs_tests
    tests = parse_ci(".github/workflows/ci.yml", workflow("run: nox -s unit-3.12"))
    assert tests is not None and tests.runs_tests


def test_a_gitlab_pipeline_s_local_includes_are_followed():
    main = "include:\n  - local: /ci/test.yml\n  - project: group/templates\n    file: x.yml\nstages: [test]\n"
    files = {"ci/test.yml": "unit:\n  stage: test\n  script:\n    - python -m pytest -q\n"}
    ci = parse_ci(".gitlab-ci.yml", main, reader(files))
    assert ci is not None and ci.runs_tests and ci.evidence == "ci/test.yml: - python -m pytest -q"
    alone = parse_ci(".gitlab-ci.yml", main)
    assert alone is not None and not alone.runs_tests


@pytest.mark.parametrize(
    "steps",
    [
        ("name: Deploy to GitHub Pages", "uses: actions/deploy-pages@v4"),
        ("run: mkdocs gh-deploy --force",),
        ("uses: peaceiris/actions-gh-pages@v3", "run: echo deploy the site"),
        ("run: npx netlify deploy --dir docs/_build --prod",),
    ],
)
def test_publishing_documentation_is_not_a_deploy(steps):
    docs = parse_ci(".github/workflows/docs.yml", workflow(*steps, job="deploy", on="{push: {branches: [main]}}"))
    assert docs is not None and not docs.deploys
    app = workflow("run: mkdocs build", job="docs") + "  ship:\n    runs-on: ubuntu-latest\n    steps:\n"
    both = parse_ci(".github/workflows/cd.yml", app + "      - run: ./deploy.sh\n")
    assert both is not None and both.deploys and both.deploy_evidence == "job ship: run: ./deploy.sh"


def test_containers_run_for_tests_and_a_deploy_flag_are_not_a_deploy():
    files = {"tests/in_docker.sh": "docker compose up -d\ndocker compose run web deploy\n"}
    ci = parse_ci(".github/workflows/ci.yml", workflow("run: sh tests/in_docker.sh"), reader(files))
    assert ci is not None and not ci.deploys
    flag = parse_ci(".github/workflows/ci.yml", workflow("run: python manage.py check --deploy --fail-level WARNING"))
    assert flag is not None and not flag.deploys
