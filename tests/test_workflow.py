"""ladder.app.workflow: the CI workflow rendered from a repository's files passes actionlint, scores as CI, lands once."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest
import yaml

from gitrepo import GitRepo, git
from ladder.app import smoke, workflow
from ladder.assess.ci import ci_score, parse_ci
from ladder.core.config import load_config
from ladder.core.errors import LadderError
from ladder.rungs import landing
from ladder.sandbox.app import app_files

HOST_PYTHON = platform.python_version()
PYPROJECT = """[build-system]
requires = ["setuptools>=68", "setuptools-scm>=8"]
build-backend = "setuptools.build_meta"

[project]
name = "shop"
dynamic = ["version"]
requires-python = ">=3.12"
"""


def sandbox_app() -> dict[str, str]:
    """The story's app after rung 2: its files plus the smoke suite and the dev lock rung 2 lands."""
    files = app_files()
    return {**files, **smoke.suite_files(files, [], "app:application")}


SHAPES = {
    # name: (files, trunk, the jobs the workflow must have)
    "sandbox app": (sandbox_app(), "master", ("lint", "test")),
    "pyproject, src layout, main": (
        {
            "pyproject.toml": PYPROJECT,
            ".python-version": "3.12.4\n",
            "src/shop/__init__.py": "",
            "tests/test_shop.py": "def test_ok():\n    assert True\n",
            "requirements.txt": "flask==3.1.0\n",
        },
        "main",
        ("lint", "test", "build"),
    ),
    "requirements only, master": (
        {
            "app.py": "application = None\n",
            "requirements.txt": "gunicorn==23.0.0\n",
            "test_app.py": "def test(): pass\n",
        },
        "master",
        ("lint", "test"),
    ),
    "setup.py, no tests, trunk": ({"setup.py": "from setuptools import setup\nsetup()\n"}, "trunk", ("lint", "build")),
}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("files", "fallback", "python"),
    [
        ({".python-version": "3.12.4\n"}, "3.11.7", "3.12"),
        ({".python-version": "3.13\n", "pyproject.toml": PYPROJECT}, "", "3.13"),
        ({"pyproject.toml": PYPROJECT}, "3.11.7", "3.12"),
        ({"pyproject.toml": '[project]\nname = "x"\n'}, "3.11.7", "3.11"),
        ({}, "3.10.14", "3.10"),
    ],
)
def test_the_python_comes_from_the_repository_before_the_dev_host(files, fallback, python):
    assert workflow.python_of(files, fallback) == python


@pytest.mark.unit
def test_no_python_anywhere_is_refused_with_the_fix():
    with pytest.raises(LadderError, match=r"\.python-version"):
        workflow.python_of({}, "")


@pytest.mark.unit
@pytest.mark.parametrize("name", SHAPES)
def test_a_render_has_the_triggers_pins_permissions_and_timeouts(name):
    files, trunk, jobs = SHAPES[name]
    text = workflow.render(workflow.shape_of(files, trunk, HOST_PYTHON))
    doc = yaml.safe_load(text)
    on = doc[True]  # YAML 1.1 reads the bare key `on` as true
    assert on["push"] == {"branches": [trunk]} and "pull_request" in on and "merge_group" in on
    assert doc["permissions"] == {"contents": "read"}
    assert tuple(doc["jobs"]) == jobs
    for job in doc["jobs"].values():
        assert job["timeout-minutes"] > 0
        for step in job["steps"]:
            if "uses" in step:
                ref = step["uses"].split("@")[1]
                assert len(ref) == 40 and int(ref, 16) >= 0, step["uses"]
    assert all(f"@{u.split('@')[1]}" in text for u in (workflow.CHECKOUT, workflow.SETUP_PYTHON))
    assert "# v" in text.split(workflow.CHECKOUT.split(" ")[0])[1].splitlines()[0]  # the version comment
    assert text == workflow.render(workflow.shape_of(files, trunk, HOST_PYTHON))  # deterministic


@pytest.mark.unit
def test_the_build_job_makes_the_wheel_and_the_wheelhouse_after_the_checks():
    files, trunk, _ = SHAPES["pyproject, src layout, main"]
    build = yaml.safe_load(workflow.render(workflow.shape_of(files, trunk)))["jobs"]["build"]
    runs = "\n".join(s.get("run", "") for s in build["steps"])
    assert "python -m build --wheel --outdir wheelhouse" in runs
    assert "pip wheel -r requirements.txt -w wheelhouse" in runs
    assert build["needs"] == ["lint", "test"]
    assert build["steps"][0]["with"]["fetch-depth"] == 0  # the version comes from git
    upload = build["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["with"]["path"] == "wheelhouse/"


@pytest.mark.local
@pytest.mark.parametrize("name", SHAPES)
def test_actionlint_finds_nothing_in_what_is_rendered(name):
    files, trunk, _ = SHAPES[name]
    text = workflow.render(workflow.shape_of(files, trunk, HOST_PYTHON))
    assert workflow.lint(text) == []
    assert workflow.checked(text) == text


@pytest.mark.local
def test_actionlint_catches_a_broken_workflow():
    files, trunk, _ = SHAPES["sandbox app"]
    text = workflow.render(workflow.shape_of(files, trunk, HOST_PYTHON))
    broken = text.replace("timeout-minutes: 10", "timeout-minutes: ten")
    broken += "      - run: echo ${{ github.event.pull_request.title }}\n"
    found = workflow.lint(broken)
    assert {f.rule for f in found} >= {"syntax-check", "expression"}
    assert all(f.file == workflow.PATH and f.line > 0 and f.message for f in found)
    with pytest.raises(LadderError, match="fails actionlint"):
        workflow.checked(broken)


@pytest.mark.unit
@pytest.mark.parametrize("name", SHAPES)
def test_the_assessment_scores_the_rendered_workflow_as_ci_on_push_and_pr(name):
    files, trunk, jobs = SHAPES[name]
    found = parse_ci(workflow.PATH, workflow.render(workflow.shape_of(files, trunk, HOST_PYTHON)))
    assert found is not None and found.provider == "github-actions"
    assert found.push and found.pull_request and not found.deploys
    if "test" in jobs:
        assert found.runs_tests and ci_score(found) == 10
    else:
        assert not found.runs_tests  # a repository without tests has nothing for CI to run yet


@pytest.mark.local
def test_the_workflow_lands_on_trunk_once_planned_first(tmp_path: Path):
    files, _, _ = SHAPES["sandbox app"]
    work = GitRepo(tmp_path / "work", branch="master")
    work.commit(dict(files), "the app")
    bare = tmp_path / "shared.git"
    git(tmp_path, "clone", "-q", "--bare", str(work.path), str(bare))
    (tmp_path / "ladder.yml").write_text(
        f"app:\n  name: items\n  repo: {bare}\nenvironments:\n  dev:\n    hosts:\n"
        "      - {name: dev, address: local, base: hosts/dev}\n"
    )
    cfg = load_config(tmp_path / "ladder.yml")

    def land(dry_run: bool) -> landing.Landing:
        make = lambda got, path: workflow.files_to_land(got, path, HOST_PYTHON)  # noqa: E731
        return landing.land(cfg, "ci workflow", "Run the tests on every push and pull request", make, dry_run=dry_run)

    planned = land(True)
    assert planned.files == (workflow.PATH,) and planned.commit == ""
    assert git(bare, "ls-tree", "--name-only", "-r", "master", ".github") == ""  # the plan changed nothing
    made = land(False)
    assert made.commit and made.files == (workflow.PATH,)
    landed = git(bare, "show", f"master:{workflow.PATH}")
    assert landed + "\n" == workflow.render(workflow.shape_of(files, "master", HOST_PYTHON))
    again = land(False)
    assert again.files == () and again.commit == ""  # the second apply makes 0 changes
    assert git(bare, "rev-parse", "master") == made.commit


@pytest.mark.local
def test_the_deploy_jobs_go_to_staging_then_production_and_pass_actionlint():
    shape = workflow.Shape("main", "3.12", True, True, True, True)
    text = workflow.checked(workflow.render(shape, deploy=True))
    jobs = yaml.safe_load(text)["jobs"]
    assert jobs["staging"]["environment"] == "staging" and jobs["staging"]["needs"] == ["build"]
    assert jobs["production"]["environment"] == "production" and jobs["production"]["needs"] == ["staging"]
    runs = [s.get("run", "") for s in jobs["staging"]["steps"]]
    assert any("ladder smoke --env staging" in r for r in runs) and any("artifact build" in r for r in runs)
    # Rung 5c's migration runs before each switch, as in the Buildbot pipeline.
    prod_runs = [s.get("run", "") for s in jobs["production"]["steps"]]
    for env, steps in (("staging", runs), ("prod", prod_runs)):
        migrate = next(i for i, r in enumerate(steps) if r.startswith(f"ladder db migrate --env {env} "))
        assert steps[migrate + 1].startswith(f"ladder deploy --env {env} ")
    assert "refs/heads/main" in jobs["production"]["if"]
    assert "staging" not in workflow.render(shape)  # rung 3b's workflow stays as it was
    with pytest.raises(LadderError, match="packaging recipe"):
        workflow.render(workflow.Shape("main", "3.12", True, True, True, False), deploy=True)
