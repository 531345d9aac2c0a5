"""ladder.assess.ci_follow: what a CI command runs in the repository's own Makefile, Taskfile and scripts."""

from __future__ import annotations

import pytest

from ladder.assess.ci_follow import followed, make_target, own_test_runner, taskfile_task, templates

pytestmark = pytest.mark.unit


def reader(files: dict[str, str]):
    """A repository's files read by path, "" for one it does not hold."""
    return lambda path: files.get(path, "")


MAKEFILE = """\
PY ?= python
.PHONY: test lint
test: lint unit
\t@echo done
lint:
\truff check .
unit integration:
\t$(PY) -m pytest
"""


def test_a_make_target_brings_its_recipe_and_its_prerequisites_recipes():
    assert make_target(MAKEFILE, "test") == ["@echo done", "ruff check .", "$(PY) -m pytest"]
    assert make_target(MAKEFILE, "integration") == ["$(PY) -m pytest"]
    assert make_target(MAKEFILE, "absent") == []


def test_a_taskfile_task_brings_its_commands_and_those_of_the_tasks_it_calls():
    text = "version: '3'\ntasks:\n  ci:\n    deps: [lint]\n    cmds:\n      - cmd: pytest\n      - task: e2e\n"
    text += "  lint: ruff check\n  e2e:\n    cmds: [npx playwright test]\n"
    assert taskfile_task(text, "ci") == ["pytest", "npx playwright test", "ruff check"]
    assert taskfile_task("not: [yaml", "ci") == []


def test_a_command_is_followed_into_scripts_make_and_taskfile_one_level():
    files = {
        "scripts/t.sh": "# tests\nset -e\npytest\n",
        "Makefile": MAKEFILE,
        "Taskfile.yml": "tasks:\n  t: go test\n",
    }
    got = followed("cd app && bash ./scripts/t.sh && make lint; task t", reader(files))
    assert got == [
        ("scripts/t.sh", "set -e"),
        ("scripts/t.sh", "pytest"),
        ("Makefile lint", "ruff check ."),
        ("Taskfile t", "go test"),
    ]
    assert followed("bash scripts/missing.sh", reader(files)) == []


def test_azure_templates_are_read_beside_the_file_or_from_the_root():
    files = {"ci/steps.yml": "steps:\n  - script: pytest\n", "jobs.yml": "jobs: []\n"}
    got = templates("stages:\n- template: steps.yml\n- template: /jobs.yml\n", "ci/azure.yml", reader(files))
    assert got == [("ci/steps.yml", "steps:"), ("ci/steps.yml", "- script: pytest"), ("jobs.yml", "jobs: []")]


@pytest.mark.parametrize(
    ("command", "runner"),
    [
        ('- bash: ci/scripts/run-tests.sh "$(entryPoint)" units', "ci/scripts/run-tests.sh"),
        ("COVERAGE=1 kettle-test units --python 3.12", "kettle-test"),
        ("python runtests.py --parallel", "runtests.py"),
        ("cd src && bin/test -v", "bin/test"),
        ("script: tools/check_test smoke", "tools/check_test"),
    ],
)
def test_the_projects_own_test_runner_is_recognised(command, runner):
    files = {
        "ci/scripts/run-tests.sh": "#!/bin/sh\n",
        "runtests.py": "import sys\n",
        "bin/test": "#!/bin/sh\n",
        "tools/check_test": "#!/bin/sh\n",
        "pyproject.toml": "[project]\nname = 'kettle'\n[project.scripts]\nkettle-test = 'kettle.testing:main'\n",
    }
    assert own_test_runner(command, reader(files)) == runner
    assert own_test_runner("- template: t.yml  # (kettle-test in containers)", reader(files)) is None


@pytest.mark.parametrize(
    "command",
    [
        "kettle-test units",
        "./run-tests.sh",
        "test -f setup.cfg && echo ok",
        "docker run --rm img ab_test",
    ],
)
def test_a_runner_name_that_is_not_the_projects_own_is_not_a_test_command(command):
    assert own_test_runner(command, reader({"pyproject.toml": "[project]\nname = 'kettle'\n"})) is None
